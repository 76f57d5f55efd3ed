-- Hostile input with a defined outcome each: malformed JSON and non-UTF-8
-- bytes given to the store, malformed CIF given to `h5lua import`, very long
-- names, names made of every byte, and a group with 10^5 members. (A group
-- of 10^6 structures is too slow for CI: tests/bench/wide_group_bench.lua.)
local helper = require "helper"
local cjson = require "cjson"
local h5 = require "h5"
local store = require "h5lua.store"

local function findings(path)
  local r = helper.h5lua({ "validate", "--json", path })
  local out = {}
  for _, f in ipairs(cjson.decode(r.stdout).findings) do out[#out + 1] = f.message end
  return out
end

-- A valid structure record for refcode (identifier = refcode, so validation
-- has nothing to say).
local function record(refcode)
  return store.encode_json({ identifier = refcode, cell_lengths = { 5.0, 5.0, 5.0 },
    cell_angles = { 90.0, 90.0, 90.0 } })
end

describe("hostile input", function()
  after_each(function()
    helper.assert_no_open_ids()
    helper.cleanup()
  end)

  describe("malformed JSON and non-UTF-8 bytes given to the store", function()
    local BAD = {
      { "{", "invalid JSON: Expected object key string but found T_END at character 2" },
      { '{"a": 1,}', "invalid JSON: Expected object key string but found T_OBJ_END at "
        .. "character 9" },
      { "[1, 2]", "JSON text is not an object" },
      { '"text"', "JSON text is not an object" },
      { "", "invalid JSON: Expected value but found T_END at character 1" },
      { '{"a": 1} trailing', "invalid JSON: Expected the end but found invalid token at "
        .. "character 10" },
      { "{a: 1}", "invalid JSON: Expected object key string but found invalid token at "
        .. "character 2" },
      { '{"a": "\\u12"}', "invalid JSON: Expected value but found invalid unicode escape code "
        .. "at character 8" },
      { '{"a": 01}', "invalid JSON: expected ',' or '}' at character 8" },
      { '{"a": "\255\254"}', "JSON text is not valid UTF-8" },
      { '{"a": "caf\233"}', "JSON text is not valid UTF-8" },                -- Latin-1
      { '{"a": "\237\160\128"}', "JSON text is not valid UTF-8" },           -- a surrogate
      { '{"a": "\192\175"}', "JSON text is not valid UTF-8" },               -- overlong '/'
      { '{"a": "x\0y"}', "JSON text contains a NUL byte" },
      { ("["):rep(2000) .. ("]"):rep(2000), "invalid JSON: Found too many nested data "
        .. "structures (1001) at character 1001" },
    }

    it("refuses each malformed text with its reason and leaves the store unchanged", function()
      local path = helper.tmpfile()
      local s = store.open(path, { mode = "w" })
      for _, case in ipairs(BAD) do
        assert.has_error(function() s:write("R", case[1]) end,
          "cannot write structure 'R': " .. case[2])
      end
      assert.equal(0, s:count())
      -- numbers Python's json writes, and every valid UTF-8 sequence, pass
      s:write("OK", '{"identifier": "OK", "x": NaN, "y": -Infinity, "name": "Ωμέγα 😀"}')
      assert.equal('{"identifier": "OK", "x": NaN, "y": -Infinity, "name": "Ωμέγα 😀"}',
        s:read("OK"))
      s:close()
    end)

    it("refuses refcodes that cannot be group names or are not UTF-8", function()
      local s = store.open(helper.tmpfile(), { mode = "w" })
      for _, case in ipairs({
        { "\255x", "cannot write structure '\255x': refcode is not valid UTF-8" },
        { "a/b", "cannot write structure 'a/b': refcode 'a/b' must not contain '/'" },
        { ".", "cannot write structure '.': refcode '.' is not a valid group name" },
        { "", "cannot write structure '': refcode must not be empty" },
        { "a\0b", "cannot write structure 'a\0b': refcode must not contain a NUL byte" },
        { 5, "cannot write structure 5: refcode must be a string, got number" },
      }) do
        assert.has_error(function() s:write(case[1], "{}") end, case[2])
      end
      assert.equal(0, s:count())
      s:close()
    end)

    it("write_many collects bad items with their reasons and writes the others", function()
      local path = helper.tmpfile()
      local s = store.open(path, { mode = "w" })
      local r = s:write_many({ { "A", record("A") }, { "B", "{bad" }, { "\255", "{}" },
        { "C", '{"x": "\255"}' }, { "D", record("D") } }, { on_error = "collect" })
      assert.equal(2, r.written)
      assert.same({
        { refcode = "B", error = "invalid JSON: Expected object key string but found invalid "
          .. "token at character 2" },
        { refcode = "\255", error = "refcode is not valid UTF-8" },
        { refcode = "C", error = "JSON text is not valid UTF-8" },
      }, r.failed)
      assert.same({ "A", "D" }, s:refcodes())
      s:close()
      assert.same({}, findings(path))
    end)

    it("write_many of a JSON Lines file fails bad lines by their line numbers", function()
      local dir = helper.tmpdir()
      local lines = dir .. "/in.jsonl"
      helper.write_file(lines, record("A") .. "\n{oops\n[1]\n" .. '{"refcode": "B\255"}\n'
        .. '{"no": "refcode"}\n\n' .. record("C") .. "\n")
      local path = dir .. "/s.h5"
      local s = store.open(path, { mode = "w" })
      local r = s:write_many(lines, { on_error = "collect" })
      s:close()
      assert.equal(2, r.written)
      assert.same({
        { refcode = lines .. ":2", error = "invalid JSON: Expected object key string but found "
          .. "invalid token at character 2" },
        { refcode = lines .. ":3", error = "no refcode or identifier field" },
        { refcode = "B\255", error = "refcode is not valid UTF-8" },
        { refcode = lines .. ":5", error = "no refcode or identifier field" },
      }, r.failed)
      assert.same({}, findings(path))
    end)
  end)

  describe("malformed CIF given to h5lua import", function()
    it("fails each bad file in one line naming it, and imports the rest", function()
      local dir = helper.tmpdir()
      local function put(name, text) helper.write_file(dir .. "/" .. name, text) end
      local cell = "_cell_length_a 5\n_cell_length_b 5\n_cell_length_c 5\n"
        .. "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n"
      local atoms = "loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n"
        .. "_atom_site_fract_y\n_atom_site_fract_z\nNa1 Na 0 0 0\n"
      put("good.cif", "data_good\n" .. cell .. atoms)
      -- Latin-1 text is read as Latin-1 (stored as UTF-8)
      put("latin1.cif", "data_latin\n" .. cell .. atoms:gsub("Na1", "Na\233"))
      put("syntax.cif", 'data_x\n_cell_length_a 5.0\n_cell_length_b "unterminated\n')
      put("text_field.cif", "data_x\n_cell_length_a 5.0\n;\nnever closed\n")
      put("binary.cif", "\0\1\2\27[2J\255\254garbage")
      put("empty.cif", "")
      put("nocell.cif", 'data_nocell\n_chemical_formula_sum "Na Cl"\n')
      put("truncated_loop.cif", "data_t\n" .. cell .. "loop_\n_atom_site_label\n"
        .. "_atom_site_fract_x\n_atom_site_fract_y\nNa1 0.0\n")
      put("nul.cif", "data_n\n_cell_length_a 5\0\n")
      put("bad.json", '{"identifier": "J1", "cell_lengths": [1.0')
      put("nonutf8.json", '{"identifier": "J2", "name": "\255\254"}')
      local r = helper.h5lua({ "import", "s.h5", "." }, { cwd = dir })
      assert.equal(1, r.code)
      assert.equal("h5lua: 9 failures (listed above)\n", r.stderr)
      local out = r.stdout:gsub("in [%d.]+ s\n$", "in T s\n")
      assert.equal(table.concat({
        "11 files read: 2 imported, 0 unchanged, 0 skipped (duplicates), 9 failed",
        "failed:",
        "  ./bad.json: invalid JSON: Expected comma or array end but found T_END at character "
          .. "42",
        "  ./binary.cif:1: data_ block header expected, found value '\\x00\\x01\\x02\\x1B[2J"
          .. "\\xFF\\xFEgarbage'",
        "  ./empty.cif: no data block",
        "  ./nocell.cif:1: data_nocell: no unit cell (_cell_length_a, _b, _c)",
        "  ./nul.cif:2: data_n: cell length _cell_length_a is not a number: '5\\x00'",
        "  ./syntax.cif:3: unterminated quoted string: closing \" expected before end of line",
        "  ./text_field.cif:4: unterminated text field starting at line 3",
        "  ./truncated_loop.cif:8: loop has 2 values for its 3 tags (expected a multiple of 3)",
        "  ./nonutf8.json: J2: JSON text is not valid UTF-8",
        "s.h5: 2 structures in T s",
        "" }, "\n"), out)
      local s = store.open(dir .. "/s.h5", { mode = "r" })
      assert.same({ "good", "latin" }, s:refcodes())
      assert.equal("Naé", s:get("latin").atoms[1].label)
      s:close()
    end)
  end)

  describe("very long names", function()
    local SIZES = { 1000, 10000, 65536, 100000 }

    it("keeps group names of 1,000 to 100,000 bytes in old- and new-style groups", function()
      local dir = helper.tmpdir()
      for _, libver in ipairs({ "earliest", "v108" }) do
        local path = dir .. "/" .. libver .. ".h5"
        local f = h5.open(path, "w", { libver = libver })
        for _, n in ipairs(SIZES) do
          f:create_group(("n"):rep(n - 1) .. "z"):close()
        end
        f:close()
        f = h5.open(path, "r")
        local lengths = {}
        for _, k in ipairs(f:keys()) do
          lengths[#lengths + 1] = #k
          assert.equal("z", k:sub(-1))
          assert.is_true(f:exists(k))
        end
        f:close()
        table.sort(lengths)
        assert.same(SIZES, lengths)
        local py = helper.python_run(string.format([[
import h5py
with h5py.File(%q, "r") as f:
    print(" ".join(str(len(k)) for k in sorted(f.keys(), key=len)))
]], path))
        assert.equal(0, py.code, py.stderr)
        assert.equal("1000 10000 65536 100000\n", py.stdout)
      end
    end)

    it("stores, reads and validates refcodes of 1,000 to 100,000 bytes", function()
      local path = helper.tmpfile()
      local s = store.open(path, { mode = "w" })
      for _, n in ipairs(SIZES) do s:write(("R"):rep(n), record(("R"):rep(n))) end
      for _, n in ipairs(SIZES) do
        assert.equal(("R"):rep(n), s:get(("R"):rep(n)).identifier)
      end
      assert.equal(#SIZES, s:count())
      s:close()
      assert.same({}, findings(path))
    end)
  end)

  describe("names with every special character", function()
    it("takes each byte 1..255 except '/' in a group name, alone and all together", function()
      local path = helper.tmpfile()
      local f = h5.open(path, "w")
      local names, all = {}, {}
      for b = 1, 255 do
        if b ~= 47 then
          all[#all + 1] = string.char(b)
          names[#names + 1] = "c" .. string.char(b)
          if b ~= 46 then names[#names + 1] = string.char(b) end
        end
      end
      names[#names + 1] = table.concat(all)
      names[#names + 1] = ".."
      for _, n in ipairs(names) do f:create_group(n):close() end
      -- "." names the group itself
      assert.has_error(function() f:create_group(".") end,
        "h5: cannot create group '/.': name already exists")
      table.sort(names)
      assert.same(names, f:keys())
      for _, n in ipairs(names) do assert.is_true(f:exists(n), n) end
      f:close()
      -- h5py lists the same bytes
      local py = helper.python_run(string.format([[
import h5py
with h5py.File(%q, "r") as f:
    for k in f.keys():  # bytes for names that are not UTF-8
        print((k if isinstance(k, bytes) else k.encode("utf-8")).hex())
]], path))
      assert.equal(0, py.code, py.stderr)
      local hex = {}
      for _, n in ipairs(names) do
        hex[#hex + 1] = (n:gsub(".", function(c) return string.format("%02x", c:byte()) end))
      end
      local got = {}
      for line in py.stdout:gmatch("[^\n]+") do got[#got + 1] = line end
      table.sort(hex)
      table.sort(got)
      assert.same(hex, got)
    end)

    it("applies the refcode rule to each byte: UTF-8 text without '/' or NUL", function()
      local path = helper.tmpfile()
      local s = store.open(path, { mode = "w" })
      local accepted, refused = 0, 0
      for b = 1, 255 do
        local refcode = "A" .. string.char(b) .. "Z"
        local ok, err = pcall(s.write, s, refcode, b < 128 and record(refcode) or "{}")
        if b == 47 then
          assert.equal("cannot write structure 'A/Z': refcode 'A/Z' must not contain '/'", err)
          refused = refused + 1
        elseif b >= 128 then
          assert.equal("cannot write structure '" .. refcode .. "': refcode is not valid UTF-8",
            err)
          refused = refused + 1
        else
          assert.is_true(ok, err)
          assert.equal(refcode, s:get(refcode).identifier)
          accepted = accepted + 1
        end
      end
      for _, refcode in ipairs({ "é", "Ωμέγα", "😀", "..", " ", "\t" }) do
        s:write(refcode, record(refcode))
        accepted = accepted + 1
      end
      assert.equal(126 + 6, accepted)
      assert.equal(129, refused)
      assert.equal(accepted, s:count())
      s:close()
      assert.same({}, findings(path))
    end)
  end)

  describe("a group with 10^5 members", function()
    it("creates, counts, lists and looks up 100,000 empty groups", function()
      local perf = require "h5lua.perf"
      local t0 = perf.clock()
      local f = h5.open(helper.tmpfile(), "w", { libver = "v108" })
      local g = f:create_group("g")
      for i = 1, 100000 do g:create_group(string.format("G%06d", i)):close() end
      local created = perf.clock() - t0
      assert.equal(100000, #g)
      local keys = g:keys()
      assert.equal(100000, #keys)
      assert.equal("G000001", keys[1])
      assert.equal("G100000", keys[100000])
      for i = 1, 100000, 997 do
        local name = string.format("G%06d", i)
        local c = g:get(name)
        assert.equal("/g/" .. name, c.name)
        c:close()
      end
      assert.is_nil(g:get("G100001"))
      g:close()
      f:close()
      io.write(string.format("\n10^5 groups: created in %.1f s, all checks in %.1f s\n",
        created, perf.clock() - t0))
    end)
  end)
end)
