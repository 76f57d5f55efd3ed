-- Specs of scripts/h5lua/organize.lua and the built-in schemes.

local h5 = require "h5"
local helper = require "helper"
local organize = require "h5lua.organize"

if not package.searchpath("h5lua.store", package.path) then
  describe("h5lua.organize", function()
    pending("h5lua.store has not landed yet")
  end)
  return
end

local store = require "h5lua.store"

local here = debug.getinfo(1, "S").source:match("^@(.*)[/\\]") or "."
local FIXTURES = here .. "/../fixtures/plugins/"

local function atoms(list)
  local out = {}
  for i, sym in ipairs(list) do
    out[i] = string.format('{"label":"%s%d","symbol":"%s","coords":[0.1,0.2,0.3]}', sym, i, sym)
  end
  return "[" .. table.concat(out, ",") .. "]"
end

local function structure(refcode, sg, elements, extra)
  return string.format('{"identifier":"%s",%s"cell_lengths":[5.0,6.0,7.0],'
    .. '"cell_angles":[90.0,100.0,90.0],"atoms":%s%s}', refcode,
    sg and string.format('"space_group":"%s",', sg) or "", atoms(elements), extra or "")
end

local ALANINE = { "C", "C", "C", "H", "H", "H", "H", "H", "H", "H", "N", "O", "O" }

-- refcode -> JSON of the standard test store.
local STRUCTURES = {
  { "ALANIN", structure("ALANIN", "P 21 21 21", ALANINE) },
  { "NACL", structure("NACL", "F m -3 m", { "Na", "Cl" }) },
  { "QUARTZ", structure("QUARTZ", "P 32 2 1", { "Si", "O", "O" }) },
  { "SLASH", structure("SLASH", "P 21/c", { "C", "O" }) },
  { "SLASH2", structure("SLASH2", "  P  21/c ", { "C", "O", "Fe" }) },
}

local function make_store(entries)
  local path = helper.tmpfile()
  local s = store.open(path, { validate = false })
  for _, e in ipairs(entries or STRUCTURES) do s:write(e[1], e[2]) end
  s:close()
  return path
end

-- The whole index group as a plain table: {attrs=..., buckets={link={attrs, refcodes}}}.
local function dump_index(path, name)
  local f = h5.open(path, "r")
  local g = f:get(name)
  local out
  if g then
    out = { attrs = {}, buckets = {} }
    for k, v in pairs(g.attrs) do out.attrs[k] = v end
    for _, link in ipairs(g:keys()) do
      local b = g:get(link)
      local entry = { attrs = {}, members = b:keys() }
      for k, v in pairs(b.attrs) do entry.attrs[k] = v end
      local d = b:get("refcodes")
      entry.refcodes = d:read()
      d:close()
      b:close()
      out.buckets[link] = entry
    end
    g:close()
  end
  -- the file's top-level names, less the store's processing log
  local keys = {}
  for _, k in ipairs(f:keys()) do
    if k ~= "processing_log" then keys[#keys + 1] = k end
  end
  f:close()
  return out, keys
end

describe("h5lua.organize", function()

  after_each(function()
    organize.schemes:reset()
    helper.assert_no_open_ids()
    helper.cleanup()
  end)


  describe("escape() and unescape()", function()

    it("encode the names HDF5 cannot hold", function()
      assert.equal("P 21%2Fc", organize.escape("P 21/c"))
      assert.equal("%2E", organize.escape("."))
      assert.equal("%", organize.escape(""))
      assert.equal("50%25", organize.escape("50%"))
      assert.equal("%2Ehidden", organize.escape(".hidden"))
      assert.equal("a%00b", organize.escape("a\0b"))
      assert.equal("P 21 21 21", organize.escape("P 21 21 21"))
    end)

    it("restore every name they encode", function()
      for _, name in ipairs({ "P 21/c", ".", "", "50%", ".x/%2F", "%", "%%", "a\0b", "..",
                              "R -3 m:H", "%2E" }) do
        assert.equal(name, organize.unescape(organize.escape(name)))
      end
    end)
  end)

  describe("decode() and decode_fields()", function()

    it("decode a JSON object, or say why not", function()
      assert.same({ a = 1 }, organize.decode('{"a": 1}'))
      assert.same({ nil, "missing raw_json" }, { organize.decode(nil) })
      assert.same({ nil, "missing raw_json" },
        { organize.decode(nil, "structure 'X' has no raw_json") })
      assert.same({ nil, "cannot be read: cannot read '/x'" },
        { organize.decode(nil, "h5: cannot read '/x'") })
      assert.same({ nil, "JSON is not an object" }, { organize.decode("[1]") })
      assert.same({ nil, "invalid JSON: Expected value but found T_END at character 6" },
        { organize.decode('{"a":') })
    end)

    it("decode only the fields asked for, checking the whole text", function()
      local text = '{"atoms": [{"x": [1, 2]}], "space_group": "P 21/c", "n": 3, '
        .. '"sp\\u0061ce": true}'
      assert.same({ space_group = "P 21/c", n = 3 },
        organize.decode_fields(text, { "space_group", "n", "absent" }))
      assert.same({ space = true }, organize.decode_fields(text, { "space" }))
      assert.same({ nil, "invalid JSON: Expected comma or array end but found T_OBJ_END at "
        .. "character 31" }, { organize.decode_fields('{"space_group": "P 1", "a": [1}',
        { "space_group" }) })
      assert.same({ nil, "JSON is not an object" }, { organize.decode_fields("[1]", { "a" }) })
      assert.same({ nil, "missing raw_json" }, { organize.decode_fields(nil, { "a" }) })
    end)
  end)

  describe("run()", function()

    it("builds /<scheme>/<bucket>/refcodes with counts and original names", function()
      local path = make_store()
      local summary = organize.run(path, "by_space_group")
      assert.same({ scheme = "by_space_group", group = "/by_space_group", structures = 5,
        placed = 5, memberships = 5, buckets = 4, skipped = {} }, summary)
      local index = dump_index(path, "by_space_group")
      assert.same({ "F m -3 m", "P 21 21 21", "P 21%2Fc", "P 32 2 1" },
        (function() local k = {} for n in pairs(index.buckets) do k[#k + 1] = n end
          table.sort(k) return k end)())
      assert.same({ bucket_name = "P 21/c", structure_count = 2 },
        index.buckets["P 21%2Fc"].attrs)
      assert.same({ "SLASH", "SLASH2" }, index.buckets["P 21%2Fc"].refcodes)
      assert.same({ "refcodes" }, index.buckets["P 21%2Fc"].members)
      assert.same({ scheme = "by_space_group", description = organize.get("by_space_group")
        .description, bucket_count = 4, structure_count = 5, skipped_count = 0 }, index.attrs)
    end)

    it("writes refcodes that h5py reads as its variable-length string dtype", function()
      local path = make_store()
      organize.run(path, "by_space_group")
      local r = helper.python_run(string.format([[
import h5py
with h5py.File(%q, "r") as f:
    d = f["by_space_group/P 21%%2Fc/refcodes"]
    print(h5py.check_string_dtype(d.dtype).encoding, d.shape, d.asstr()[()].tolist())
    g = f["by_space_group/P 21%%2Fc"]
    print(g.attrs["bucket_name"], int(g.attrs["structure_count"]))
]], path))
      assert.equal("", r.stderr)
      assert.equal("utf-8 (2,) ['SLASH', 'SLASH2']\nP 21/c 2\n", r.stdout)
    end)

    it("reports and skips structures whose JSON fails or lacks the key's field", function()
      local entries = { STRUCTURES[1],
        { "BAD", '{"identifier": "BAD", ' },
        { "LIST", '[1, 2]' },
        { "NOSG", structure("NOSG", nil, { "C" }) } }
      local path = make_store(entries)
      local summary = organize.run(path, "by_space_group")
      assert.equal(1, summary.placed)
      assert.same({
        { refcode = "BAD", reason = "invalid JSON: Expected object key string but found T_END "
          .. "at character 23" },
        { refcode = "LIST", reason = "JSON is not an object" },
        { refcode = "NOSG", reason = "missing field 'space_group'" },
      }, summary.skipped)
      assert.same({ "P 21 21 21" }, organize.buckets(path, "by_space_group"))
    end)

    it("gives the same index when run twice", function()
      local path = make_store()
      organize.run(path, "by_element", { links = true })
      local first, keys1 = dump_index(path, "by_element")
      organize.run(path, "by_element", { links = true })
      local second, keys2 = dump_index(path, "by_element")
      assert.same(first, second)
      assert.same(keys1, keys2)
      assert.same({ "by_element", "structures" }, keys2)
    end)

    it("replaces the previous index completely", function()
      local path = make_store()
      organize.run(path, "by_space_group")
      local s = store.open(path)
      s.file:get("structures"):delete("NACL")
      s:close()
      organize.run(path, "by_space_group")
      assert.same({ "P 21 21 21", "P 21/c", "P 32 2 1" }, organize.buckets(path, "by_space_group"))
    end)

    it("leaves the previous index intact when the key function raises midway", function()
      local path = make_store()
      organize.run(path, "by_space_group")
      local before, keys = dump_index(path, "by_space_group")
      local seen = 0
      local buggy = { name = "by_space_group", key = function(s, refcode)
        seen = seen + 1
        if refcode == "QUARTZ" then error("boom", 0) end
        return "X" .. s.space_group
      end }
      local ok, err = pcall(organize.run, path, buggy)
      assert.is_false(ok)
      assert.equal("scheme 'by_space_group' failed on 'QUARTZ': boom", err)
      assert.equal(3, seen)
      local after, keys_after = dump_index(path, "by_space_group")
      assert.same(before, after)
      assert.same(keys, keys_after)
    end)

    it("leaves the previous index intact when writing fails midway", function()
      local path = make_store()
      organize.run(path, "by_space_group")
      local before, keys = dump_index(path, "by_space_group")
      local written = 0
      local ok, err = pcall(organize.run, path, "by_space_group", { links = true,
        on_bucket = function()
          written = written + 1
          if written == 2 then error("disk full", 0) end
        end })
      assert.is_false(ok)
      assert.equal("disk full", err)
      local after, keys_after = dump_index(path, "by_space_group")
      assert.same(before, after)
      assert.same(keys, keys_after)
    end)

    it("keeps the previous index when the process dies midway, and recovers next run", function()
      local path = make_store()
      organize.run(path, "by_space_group")
      local before = dump_index(path, "by_space_group")
      local r = helper.h5lua({ "-e", string.format([[
        local organize = require "h5lua.organize"
        organize.run(%q, "by_space_group", { links = true,
          on_bucket = function(name) if name == "P 21/c" then os.exit(3) end end })
      ]], path) })
      assert.equal(3, r.code)
      local after, keys = dump_index(path, "by_space_group")
      assert.same(before, after)
      assert.same({ ".organize-by_space_group-new", "by_space_group", "structures" }, keys)
      organize.run(path, "by_space_group")
      local again, keys_again = dump_index(path, "by_space_group")
      assert.same(before, again)
      assert.same({ "by_space_group", "structures" }, keys_again)
    end)

    it("puts back an index left aside by a run that died between its two moves", function()
      local path = make_store()
      organize.run(path, "by_space_group")
      local f = h5.open(path, "r+")
      f:move("by_space_group", ".organize-by_space_group-old")
      f:close()
      organize.run(path, "by_space_group")
      local _, keys = dump_index(path, "by_space_group")
      assert.same({ "by_space_group", "structures" }, keys)
    end)

    it("links each member to /structures/<refcode> when links is true", function()
      local path = make_store()
      organize.run(path, "by_space_group", { links = true })
      local f = h5.open(path, "r")
      local b = f:get("by_space_group/P 21%2Fc")
      assert.same({ "SLASH", "SLASH2", "refcodes" }, b:keys())
      local info = b:link_info("SLASH")
      assert.equal("soft", info.kind)
      assert.equal("/structures/SLASH", info.target)
      assert.is_false(info.dangling)
      b:close()
      f:close()
    end)

    it("passes the scheme's options to the key, overridden by the caller's", function()
      local path = make_store()
      organize.run(path, "by_size")
      assert.same({ "0-10", "11-25" }, organize.buckets(path, "by_size"))
      organize.run(path, "by_size", { options = { edges = { 2, 5 } } })
      assert.same({ "0-2", "3-5", "6+" }, organize.buckets(path, "by_size"))
    end)

    it("uses an open File and leaves it open", function()
      local path = make_store()
      local f = h5.open(path, "r+")
      organize.run(f, "by_space_group")
      assert.is_true(f:is_open())
      assert.is_true(f:exists("by_space_group/P 21%2Fc/refcodes"))
      f:close()
    end)

    it("raises for an unknown scheme or a missing file", function()
      local path = make_store()
      assert.has_error(function() organize.run(path, "nope") end,
        "unknown scheme 'nope' (run 'h5lua schemes' for the list)")
      local missing = helper.tmpdir() .. "/none.h5"
      assert.has_error(function() organize.run(missing, "by_size") end,
        "cannot organize '" .. missing .. "': no such file")
    end)

    it("raises when a key gives something that is not a bucket", function()
      local path = make_store()
      local ok, err = pcall(organize.run, path, { name = "odd", key = function() return true end })
      assert.is_false(ok)
      assert.equal("scheme 'odd' gave a boolean as bucket of 'ALANIN' (expected a string, a "
        .. "number or a list of them)", err)
      assert.is_nil((organize.buckets(path, "odd")))
    end)

    it("refuses a bucket name with a NUL byte, naming the scheme and the refcode", function()
      local path = make_store()
      organize.run(path, "by_space_group")
      local before, keys = dump_index(path, "by_space_group")
      local nul = { name = "by_space_group", key = function(_, r)
        return r == "QUARTZ" and "P 1\0x" or { "ok", "fine" }
      end }
      local ok, err = pcall(organize.run, path, nul)
      assert.is_false(ok)
      assert.equal("scheme 'by_space_group' gave a bucket name with a NUL byte for 'QUARTZ' "
        .. "(\"P 1\\0x\")", err)
      local after, keys_after = dump_index(path, "by_space_group")
      assert.same(before, after)
      assert.same(keys, keys_after)
    end)

    it("escapes bucket names HDF5 cannot hold and keeps numbers as text", function()
      local path = make_store()
      local names = { ALANIN = ".", NACL = "", QUARTZ = "a/b", SLASH = 7, SLASH2 = 2.5 }
      organize.run(path, { name = "odd", key = function(_, r) return names[r] end })
      assert.same({ "", ".", "2.5", "7", "a/b" }, organize.buckets(path, "odd"))
      assert.same({ "NACL" }, organize.members(path, "odd", ""))
      assert.same({ "ALANIN" }, organize.members(path, "odd", "."))
      assert.same({ "QUARTZ" }, organize.members(path, "odd", "a/b"))
    end)

    it("skips a structure whose key gives nil, with the key's reason or a default", function()
      local path = make_store({ STRUCTURES[1], STRUCTURES[2] })
      local summary = organize.run(path, { name = "picky", key = function(_, r)
        if r == "NACL" then return nil, "not my kind" end
        return nil
      end })
      assert.same({ { refcode = "ALANIN", reason = "the key gave no bucket" },
        { refcode = "NACL", reason = "not my kind" } }, summary.skipped)
    end)
  end)

  describe("buckets() and members()", function()

    it("return nil and a message for a missing index or bucket", function()
      local path = make_store()
      assert.same({ nil, "no index '/by_size' in the file (run 'h5lua organize FILE by_size')" },
        { organize.buckets(path, "by_size") })
      organize.run(path, "by_size")
      assert.same({ nil, "no bucket '99' in '/by_size'" },
        { organize.members(path, "by_size", "99") })
    end)
  end)

  describe("register() and list()", function()

    it("make a scheme runnable by name", function()
      local path = make_store()
      organize.register({ name = "by_initial", key = function(_, r) return r:sub(1, 1) end })
      local names = {}
      for _, s in ipairs(organize.list()) do names[#names + 1] = s.name end
      assert.same({ "by_composition", "by_crystal_system", "by_element", "by_initial",
        "by_size", "by_space_group" }, names)
      organize.run(path, "by_initial")
      assert.same({ "A", "N", "Q", "S" }, organize.buckets(path, "by_initial"))
    end)

    it("refuse schemes that would replace the store's own groups", function()
      assert.has_error(function()
        organize.register({ name = "structures", key = print })
      end, "scheme 'structures' registered: its name is reserved for the store's own group")
      assert.has_error(function()
        organize.register({ name = "a/b", key = print })
      end, "scheme 'a/b' registered: its name must not contain '/' or start with '.'")
    end)

    it("find a user's scheme file through H5LUA_PATH", function()
      local dir = helper.tmpdir()
      os.execute("mkdir -p " .. dir .. "/schemes")
      helper.write_file(dir .. "/schemes/by_first_letter.lua",
        helper.read_file(FIXTURES .. "by_first_letter.lua"))
      local path = make_store()
      local r = helper.h5lua({ "-e", string.format([[
        local organize = require "h5lua.organize"
        organize.run(%q, "by_first_letter")
        print(table.concat(organize.buckets(%q, "by_first_letter"), ","))
      ]], path, path) }, { env = { H5LUA_PATH = dir } })
      assert.equal("", r.stderr)
      assert.equal("A,N,Q,S\n", r.stdout)
    end)
  end)

  describe("built-in scheme", function()

    local function key(name, json, options)
      local s = organize.get(name)
      local merged = {}
      for k, v in pairs(s.options or {}) do merged[k] = v end
      for k, v in pairs(options or {}) do merged[k] = v end
      return s.key(assert(organize.decode(json)), "X", merged)
    end

    describe("by_space_group", function()

      it("buckets by the symbol as written, spaces tidied", function()
        assert.equal("P 21/c", key("by_space_group", '{"space_group": " P  21/c "}'))
        assert.equal("P 1 21/c 1", key("by_space_group", '{"space_group": "P 1 21/c 1"}'))
        assert.same({ nil, "missing field 'space_group'" },
          { key("by_space_group", '{"space_group": "  "}') })
      end)

      it("resolves the symbol with canonical=true", function()
        assert.equal("P21/c", key("by_space_group", '{"space_group": "P 1 21/n 1"}',
          { canonical = true }))
        assert.same({ nil, "not a space group symbol: 'Q'" },
          { key("by_space_group", '{"space_group": "Q"}', { canonical = true }) })
      end)
    end)

    describe("by_composition", function()

      it("computes the Hill formula from the atoms", function()
        assert.equal("C3H7NO2", key("by_composition", structure("A", nil, ALANINE)))
        assert.equal("ClNa", key("by_composition", structure("A", nil, { "Na", "Cl" })))
        assert.equal("HO2S", key("by_composition", structure("A", nil, { "S", "O", "O", "H" })))
        assert.equal("CCl4", key("by_composition", structure("A", nil, { "Cl", "C", "Cl", "Cl",
          "Cl" })))
      end)

      it("weights by occupancy and reads elements from labels", function()
        assert.equal("Fe0.5O", key("by_composition",
          '{"atoms":[{"label":"Fe1","occupancy":0.5},{"label":"O1"}]}'))
        assert.equal("ClH", key("by_composition",
          '{"atoms":[{"label":"CL1"},{"symbol":"H1+"}]}'))
      end)

      it("takes the record's formula over the atoms, which are only the asymmetric unit",
        function()
        -- corundum lists one Al and one O site; its formula is Al2 O3
        assert.equal("Al2O3", key("by_composition", '{"formula":"Al2 O3","atoms":'
          .. '[{"symbol":"Al"},{"symbol":"O"}]}'))
        assert.equal("C9H8O4", key("by_composition", '{"formula":"C9 H8 O4"}'))
        assert.equal("H2O", key("by_composition", '{"formula":"H2 O","atoms":[{"symbol":"O"},'
          .. '{"symbol":"H"}]}'))
      end)

      it("reads formulas spaced or not, in capitals, with decimals and brackets", function()
        local parse = require("h5lua.schemes.by_composition").parse_formula
        local hill = require("h5lua.schemes.by_composition").hill
        local function formula(text)
          local counts = parse(text)
          return counts and hill(counts)
        end
        assert.equal("Al2O3", formula("Al2O3"))
        assert.equal("CO", formula("CO"))
        assert.equal("Co", formula("Co"))
        assert.equal("CuO4S", formula("CuSO4"))
        assert.equal("C0.49Na4O7.51", formula("C.49 NA4 O7.51"))
        assert.equal("CaH2O2", formula("Ca(OH)2"))
        assert.equal("CuH8O4", formula("[Cu(H2O)4]"))
        assert.equal("C12H12", formula("(C6 H6)2"))
        for _, bad in ipairs({ "", "?", "Xx2", "(C6H6", "C6H6)", "C6-H6" }) do
          assert.is_nil(formula(bad), bad)
        end
      end)

      it("counts the atoms when the formula cannot be read", function()
        assert.equal("ClNa", key("by_composition", '{"formula":"?","atoms":[{"symbol":"Na"},'
          .. '{"symbol":"Cl"}]}'))
        assert.same({ nil, "formula '?' cannot be read and missing field 'atoms'" },
          { key("by_composition", '{"formula":"?"}') })
      end)

      it("skips structures without usable atoms", function()
        assert.same({ nil, "neither a formula nor atoms" }, { key("by_composition", '{}') })
        assert.same({ nil, "no atoms" }, { key("by_composition", '{"atoms":[]}') })
        assert.same({ nil, "atom 2 has no element symbol" },
          { key("by_composition", '{"atoms":[{"symbol":"C"},{"label":"??"}]}') })
      end)
    end)

    describe("by_size", function()

      it("buckets atom counts by the edges", function()
        assert.equal("11-25", key("by_size", structure("A", nil, ALANINE)))
        assert.equal("0-10", key("by_size", '{"atoms":[]}'))
        assert.equal("3-5", key("by_size", structure("A", nil, { "C", "C", "C" }),
          { edges = { 2, 5, 20 } }))
        assert.equal("13+", key("by_size", structure("A", nil, ALANINE), { edges = { 2, 5, 12 } }))
        assert.equal("0-20", key("by_size", structure("A", nil, ALANINE), { edges = 20 }))
        assert.same({ nil, "missing field 'atoms'" }, { key("by_size", '{}') })
      end)

      it("raises for edges that do not increase", function()
        assert.has_error(function() key("by_size", '{"atoms":[]}', { edges = { 5, 2 } }) end,
          "option 'edges' must be increasing non-negative numbers")
      end)
    end)

    describe("by_crystal_system", function()

      it("reads the system from the space group, its number, the declared one, the cell", function()
        assert.equal("monoclinic", key("by_crystal_system", '{"space_group":"P 1 21/n 1"}'))
        assert.equal("cubic", key("by_crystal_system", '{"space_group_number":225}'))
        assert.equal("trigonal", key("by_crystal_system", '{"crystal_system":"Trigonal"}'))
        assert.equal("tetragonal", key("by_crystal_system",
          '{"space_group":"??","cell_lengths":[4,4,6],"cell_angles":[90,90,90]}'))
      end)

      it("skips structures with neither a known space group nor a cell", function()
        assert.same({ nil, "space group '??' not recognised and no usable cell" },
          { key("by_crystal_system", '{"space_group":"??"}') })
        assert.same({ nil, "missing field 'space_group' and no usable cell" },
          { key("by_crystal_system", '{}') })
      end)
    end)

    describe("by_element", function()

      it("puts a structure in the bucket of each of its elements", function()
        assert.same({ "C", "H", "N", "O" }, key("by_element", structure("A", nil, ALANINE)))
        local path = make_store()
        local summary = organize.run(path, "by_element")
        assert.equal(5, summary.placed)
        assert.equal(13, summary.memberships)
        assert.same({ "ALANIN", "SLASH", "SLASH2" }, organize.members(path, "by_element", "C"))
        assert.same({ "SLASH2" }, organize.members(path, "by_element", "Fe"))
      end)
    end)
  end)
end)
