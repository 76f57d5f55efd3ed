-- h5.json_check and h5.json_members (bindings/json.c on bindings/json_scan.c):
-- the JSON scanner the store checks text with and organization schemes read
-- single fields with.
local h5 = require "h5"
local cjson = require "cjson"

describe("h5.json_check", function()
  local GOOD = {
    "{}", " { } ", '{"a": 1}', '\t\r\n{"a":[]}\n',
    '{"n": [0, -0, 1.5, -2.25e-3, 1E10, 3e+2, 0.0]}',
    '{"s": "plain \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00"}',
    '{"t": true, "f": false, "z": null, "o": {"p": {"q": [[], {}]}}}',
    '{"x": NaN, "y": Infinity, "w": -Infinity}',           -- as Python's json writes
    '{"u": "é Ωμέγα 中文 😀 \u{7f} \u{80} \u{7ff} \u{800} \u{ffff} \u{10000} \u{10ffff}"}',
    '{"a": 1, "a": 2}',                                     -- duplicate keys: valid JSON
  }
  local BAD = {
    { "", 1, "not an object" }, { "   ", 4, "not an object" },
    { "[1]", 1, "not an object" }, { '"s"', 1, "not an object" }, { "1", 1, "not an object" },
    { "{", 2, "expected a string key" }, { '{"a"}', 5, "expected ':'" },
    { '{"a":}', 6, "unexpected character" }, { '{"a":1,}', 8, "expected a string key" },
    { '{"a":1 "b":2}', 8, "expected ',' or '}'" }, { '{"a":[1,]}', 9, "unexpected character" },
    { '{"a":[1 2]}', 9, "expected ',' or ']'" }, { '{"a":1}}', 8, "text after the JSON value" },
    { '{"a":01}', 7, "expected ',' or '}'" }, { '{"a":1.}', 8, "invalid number" },
    { '{"a":.5}', 6, "unexpected character" }, { '{"a":1e}', 8, "invalid number" },
    { '{"a":+1}', 6, "unexpected character" }, { '{"a":-}', 7, "invalid number" },
    { '{"a":tru}', 6, "unexpected character" }, { '{"a":nan}', 6, "unexpected character" },
    { '{"a":"\\x"}', 7, "invalid escape" }, { '{"a":"\\u12"}', 7, "invalid \\u escape" },
    { '{"a":"x', 8, "unterminated string" }, { '{"a":"\\', 7, "unterminated string" },
    { '{"a":"\0"}', 7, "NUL byte in a string" }, { '{"a":"\t"}', 7, "control character in a string" },
    { '{"a":"\255"}', 7, "invalid UTF-8" }, { '{"a":"caf\233"}', 10, "invalid UTF-8" },
    { '{"a":"\192\175"}', 7, "invalid UTF-8" },             -- overlong
    { '{"a":"\224\128\175"}', 7, "invalid UTF-8" },          -- overlong, 3 bytes
    { '{"a":"\237\160\128"}', 7, "invalid UTF-8" },          -- a surrogate
    { '{"a":"\244\144\128\128"}', 7, "invalid UTF-8" },      -- past U+10FFFF
    { '{"a":"\226\130"}', 7, "invalid UTF-8" },              -- truncated
    { '{"a\255":1}', 4, "invalid UTF-8" },                    -- in a key too
    { "{\"a\":" .. ("["):rep(1000) .. ("]"):rep(1000) .. "}", 1005, "nested too deep" },
  }

  it("accepts JSON objects (with NaN and Infinity) in UTF-8", function()
    for _, text in ipairs(GOOD) do
      assert.is_true(h5.json_check(text), text)
    end
  end)

  it("refuses anything else, saying where and why", function()
    for _, case in ipairs(BAD) do
      local ok, at, why = h5.json_check(case[1])
      assert.same({ false, case[2], case[3] }, { ok, at, why }, case[1])
    end
  end)

  it("agrees with cjson on syntax for every valid text it accepts", function()
    for _, text in ipairs(GOOD) do
      assert.is_table(cjson.decode(text), text)
    end
  end)

  -- The scanner stops at the NUL that ends every Lua string instead of
  -- comparing positions with the end (json_scan.c): each cut must still be
  -- refused at or before the cut, with no read past it (the ASan pass).
  it("refuses every proper prefix of a valid text, at or before its end", function()
    local text = '{"a": [0, -1.5e-3, 2E+7, true, false, null, NaN, -Infinity], '
      .. '"s": "x\\u00e9\\n é€😀", "o": {"p": {}}}'
    assert.is_true(h5.json_check(text))
    for cut = 0, #text - 1 do
      local prefix = text:sub(1, cut)
      local ok, at, why = h5.json_check(prefix)
      assert.is_false(ok, prefix)
      assert.is_true(at <= cut + 1, prefix .. ": position " .. tostring(at))
      assert.is_string(why)
    end
  end)

  it("nests 999 levels below the object", function()
    local text = "{\"a\":" .. ("["):rep(999) .. ("]"):rep(999) .. "}"
    assert.is_true(h5.json_check(text))
  end)
end)

describe("h5.json_members", function()
  it("locates the top-level members without decoding them", function()
    local text = ' {"a" : [1, {"b": 2}] , "c\\"d":"x", "e": null, "f": -1.5e3}  '
    local list = h5.json_members(text)
    assert.equal(12, #list)
    assert.same({ '"a"', '"c\\"d"', '"e"', '"f"' }, { list[1], list[4], list[7], list[10] })
    assert.equal(9, list[2])
    assert.same({ '[1, {"b": 2}]', '"x"', "null", "-1.5e3" }, {
      text:sub(list[2], list[3] - 1), text:sub(list[5], list[6] - 1),
      text:sub(list[8], list[9] - 1), text:sub(list[11], list[12] - 1) })
  end)

  it("gives an empty list for an empty object", function()
    assert.same({}, h5.json_members(" {} "))
  end)

  it("checks the whole text, as json_check does", function()
    assert.same({ false, 11, "unexpected character" }, { h5.json_members('{"a": [1, x]}') })
    assert.same({ false, 10, "text after the JSON value" }, { h5.json_members('{"a": 1} 2') })
    assert.same({ false, 1, "not an object" }, { h5.json_members("[1]") })
    assert.same({ false, 8, "invalid UTF-8" }, { h5.json_members('{"a": "\255"}') })
  end)
end)
