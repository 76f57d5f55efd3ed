-- Printing values (scripts/h5lua/pretty.lua): strings, numbers, tables,
-- arrays and colour, each bounded whatever the size of the value.
local pretty = require "h5lua.pretty"
local h5 = require "h5"
local helper = require "helper"

-- h5.array arrives with the Dataset bindings (issue 3).
local HAS_ARRAYS = type(h5.array) == "table"
local it_arrays = HAS_ARRAYS and it or pending

describe("h5lua.pretty", function()
  teardown(helper.cleanup)

  describe(".string()", function()
    it("quotes a short string", function()
      assert.equal('"abc"', pretty.string("abc"))
    end)

    it("uses single quotes when the text holds double quotes", function()
      assert.equal([['{"a": 1}']], pretty.string('{"a": 1}'))
    end)

    it("escapes control characters, backslashes and the quote", function()
      assert.equal([["a\nb\t\\"]], pretty.string("a\nb\t\\"))
      assert.equal([["\"'"]], pretty.string([["']]))
      assert.equal([["\1\0"]], pretty.string("\1\0"))
    end)

    it("truncates a long string and gives its byte count", function()
      local s = string.rep("x", 500)
      assert.equal('"' .. string.rep("x", 200) .. '"... (500 bytes)', pretty.string(s))
      assert.equal('"xxxxx"... (500 bytes)', pretty.string(s, { string = 5 }))
    end)

    it("shows more of a string printed on its own", function()
      local s = string.rep("x", 5000)
      assert.equal('"' .. string.rep("x", 1000) .. '"... (5000 bytes)', pretty.format(s))
      assert.equal('{\n  "' .. string.rep("x", 200) .. '"... (5000 bytes)\n}', pretty.format({ s }))
    end)

    it("never cuts a UTF-8 character in two", function()
      local s = "aé" .. string.rep("b", 10) -- é is 2 bytes: cutting at 2 would split it
      assert.equal('"a"... (13 bytes)', pretty.string(s, { string = 2 }))
    end)
  end)

  describe(".number()", function()
    it("prints integers as they are", function()
      assert.equal("42", pretty.number(42))
      assert.equal("-9223372036854775808", pretty.number(math.mininteger))
    end)

    it("keeps floats recognisable and exact", function()
      assert.equal("3.0", pretty.number(3.0))
      assert.equal("0.1", pretty.number(0.1))
      assert.equal("0.30000000000000004", pretty.number(0.1 + 0.2))
      assert.equal("1e+300", pretty.number(1e300))
    end)

    it("shortens floats to a number of digits when asked", function()
      assert.equal("3.1415927", pretty.number(math.pi, 8))
    end)

    it("names NaN and the infinities", function()
      assert.equal("nan", pretty.number(0 / 0))
      assert.equal("inf", pretty.number(math.huge))
      assert.equal("-inf", pretty.number(-math.huge))
    end)
  end)

  describe(".format() of tables", function()
    it("prints a nested literal with the list part first", function()
      assert.equal('{1, 2, {a = 1, b = "x"}}', pretty.format({ 1, 2, { a = 1, b = "x" } }))
    end)

    it("brackets keys that are not identifiers", function()
      assert.equal('{[10] = 3, ["a b"] = 1, ["end"] = 2}',
        pretty.format({ ["a b"] = 1, ["end"] = 2, [10] = 3 }))
    end)

    it("stops at the depth limit", function()
      assert.equal("{{{{...}}}}", pretty.format({ { { { 1 } } } }))
      assert.equal("{{{{1}}}}", pretty.format({ { { { 1 } } } }, { depth = 5 }))
    end)

    it("stops at the length limit and counts the rest", function()
      local t = {}
      for i = 1, 100 do t[i] = i end
      assert.equal("{1, 2, 3, ...97 more}", pretty.format(t, { items = 3 }))
    end)

    it("counts the rest of the hash part exactly", function()
      local t = {}
      for i = 1, 50 do t["k" .. i] = i end
      local s = pretty.format(t, { items = 2 })
      assert.equal("...48 more}", s:match("%.%.%.%d+ more}$"))
    end)

    it("marks cycles instead of following them", function()
      local t = { 1 }
      t.self = t
      assert.equal("{1, self = <cycle>}", pretty.format(t))
    end)

    it("breaks a table that is too wide into lines", function()
      local t = { alpha = string.rep("a", 30), beta = string.rep("b", 30), gamma = 1 }
      assert.equal('{\n  alpha = "' .. string.rep("a", 30) .. '",\n  beta = "' ..
        string.rep("b", 30) .. '",\n  gamma = 1\n}', pretty.format(t, { width = 40 }))
    end)

    it("prints an empty table as {}", function()
      assert.equal("{}", pretty.format({}))
    end)

    it("uses a table's own __tostring", function()
      local t = setmetatable({}, { __tostring = function() return "<mine>" end })
      assert.equal("<mine>", pretty.format(t))
    end)
  end)

  describe(".format() of other values", function()
    it("prints nil, booleans and numbers", function()
      assert.equal("nil", pretty.format(nil))
      assert.equal("true", pretty.format(true))
      assert.equal("1.5", pretty.format(1.5))
    end)

    it("says where a Lua function was defined", function()
      local function f() end
      local line = debug.getinfo(f, "S").linedefined
      assert.equal(string.format("<function %s:%d>", debug.getinfo(1, "S").short_src, line),
        pretty.format(f))
      assert.equal("<builtin function>", pretty.format(print))
    end)
  end)

  describe(".nd()", function()
    local function getter(n)
      return function(k) return k <= n and k or nil end
    end

    it("shows the ends of a long dimension around an ellipsis", function()
      assert.equal("[1, 2, 3, ..., 98, 99, 100]", pretty.nd(getter(100), { 100 }))
    end)

    it("shows short dimensions whole", function()
      assert.equal("[1, 2, 3, 4, 5, 6, 7]", pretty.nd(getter(7), { 7 }))
    end)

    it("prints one row per line for two dimensions", function()
      assert.equal("[[1, 2, 3],\n [4, 5, 6]]", pretty.nd(getter(6), { 2, 3 }))
    end)

    it("marks the dimensions a block was cut from", function()
      assert.equal("[[1, 2, ...],\n [3, 4, ...],\n ...]",
        pretty.nd(getter(4), { 2, 2 }, { 100, 3 }))
    end)

    it("prints records on one line each when a row gets too wide", function()
      local rec = { { x = 1.5, name = "alpha" }, { x = 1 / 3, name = "beta" } }
      assert.equal('[{name = "alpha", x = 1.5}, {name = "beta", x = 0.33333333}]',
        pretty.nd(function(k) return rec[k] end, { 2 }))
      assert.equal('[{name = "alpha", x = 1.5},\n {name = "beta", x = 0.33333333}]',
        pretty.nd(function(k) return rec[k] end, { 2 }, nil, { width = 40 }))
    end)

    it("prints a scalar block as its element", function()
      assert.equal('"x"', pretty.nd(function() return "x" end, {}))
    end)
  end)

  describe(".bytes()", function()
    it("uses decimal units", function()
      assert.equal("512 B", pretty.bytes(512))
      assert.equal("9.60 KB", pretty.bytes(9600))
      assert.equal("80.6 MB", pretty.bytes(80550608))
      assert.equal("123 GB", pretty.bytes(123e9))
    end)
  end)

  describe("colour", function()
    it("paints only when asked", function()
      assert.equal("x", pretty.paint("x", "group", false))
      assert.equal("\27[1;34mx\27[0m", pretty.paint("x", "group", true))
      assert.equal("x", pretty.strip(pretty.paint("x", "group", true)))
    end)

    it("is off when the output is not a terminal", function()
      local r = helper.h5lua({ "-e",
        "io.write(tostring(require('h5lua.pretty').color_wanted(1)))" })
      assert.equal("false", r.stdout)
    end)

    it("is off with NO_COLOR set", function()
      local r = helper.sh("script -qec " .. helper.quote(helper.quote(helper.bin) ..
        " -e \"io.write(tostring(require('h5lua.pretty').color_wanted(1)))\"") .. " /dev/null",
        { env = { NO_COLOR = "1" } })
      assert.equal("false", r.stdout)
    end)

    it("is on for a terminal", function()
      local r = helper.sh("script -qec " .. helper.quote(helper.quote(helper.bin) ..
        " -e \"io.write(tostring(require('h5lua.pretty').color_wanted(1)))\"") .. " /dev/null",
        { env = { TERM = "xterm" } })
      assert.equal("true", r.stdout)
    end)
  end)

  describe("h5.array", function()
    it_arrays("prints like numpy, with the first and last elements", function()
      local a = h5.array.from({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 })
      assert.equal("array([1, 2, 3, ..., 8, 9, 10], int64)", pretty.format(a))
    end)

    it_arrays("prints floats with a decimal point", function()
      local a = h5.array.from({ 1.0, 2.5 })
      assert.equal("array([1.0, 2.5], float64)", pretty.format(a))
    end)

    it_arrays("prints 2-D arrays one row per line, with the shape", function()
      local a = h5.array.from({ { 1, 2 }, { 3, 4 } })
      assert.equal("array([[1, 2],\n       [3, 4]], int64, shape {2, 2})", pretty.format(a))
    end)

    it_arrays("stays short for a million elements", function()
      local a = h5.array.new("float64", { 1000, 1000 }, 0)
      local s = pretty.format(a)
      assert.is_true(#s < 400, s)
      assert.truthy(s:find("shape {1000, 1000}", 1, true))
    end)
  end)
end)
