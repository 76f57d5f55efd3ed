-- Specs of scripts/h5lua/store.lua: the structure store.

local h5 = require "h5"
local helper = require "helper"
local store = require "h5lua.store"

local ALANIN = '{\n  "identifier": "ALANIN",\n  "cell_lengths": [5.784, 12.133, 5.955],\n'
  .. '  "cell_angles": [90.0, 90.0, 90.0],\n  "space_group": "P n a 21"\n}'

local function new_store(opts)
  local path = helper.tmpfile()
  return store.open(path, opts), path
end

local function file_bytes(path)
  return helper.read_file(path)
end

-- Replace a method of an h5 metatable for the duration of fn (fault injection).
local function with_method(tname, name, replacement, fn)
  local methods = debug.getregistry()[tname].__methods
  local real = methods[name]
  methods[name] = replacement(real)
  local ok, err = pcall(fn)
  methods[name] = real
  if not ok then error(err, 0) end
end

describe("h5lua.store", function()
  after_each(function()
    helper.assert_no_open_ids()
    helper.cleanup()
  end)

  describe("open()", function()
    it("creates a file whose only group is structures", function()
      local s, path = new_store()
      s:close()
      local f = h5.open(path)
      assert.same({ "structures" }, f:keys())
      f:close()
    end)

    it("creates new files with new-style groups (libver v108, superblock version 2)", function()
      local s, path = new_store()
      assert.equal("v108", s.file.libver)
      s:close()
      assert.equal(2, file_bytes(path):byte(9))
    end)

    it("creates old-style files with libver earliest (superblock version 0)", function()
      local s, path = new_store({ libver = "earliest" })
      s:close()
      assert.equal(0, file_bytes(path):byte(9))
    end)

    it("uses an open h5.File and leaves it open when the store is closed", function()
      local path = helper.tmpfile()
      local f = h5.open(path, "w")
      local s = store.open(f)
      s:write("ALANIN", ALANIN)
      s:close()
      assert.is_true(f:is_open())
      assert.equal(ALANIN, f:get("structures/ALANIN/raw_json"):read())
      f:close()
    end)

    it("opens read-only with mode r and then refuses to write", function()
      local s, path = new_store()
      s:write("ALANIN", ALANIN)
      s:close()
      s = store.open(path, { mode = "r" })
      assert.equal(ALANIN, s:read("ALANIN"))
      assert.has_error(function() s:write("X", "{}") end,
        "cannot write: the store is open read-only")
      assert.has_error(function() s:delete("ALANIN") end,
        "cannot delete: the store is open read-only")
      s:close()
    end)

    it("reads a file without /structures as an empty store", function()
      local path = helper.tmpfile()
      h5.open(path, "w"):close()
      local s = store.open(path, { mode = "r" })
      assert.equal(0, s:count())
      assert.same({}, s:refcodes())
      assert.same({ nil, "no structure 'X'" }, { s:read("X") })
      assert.is_nil(s:each()())
      s:close()
    end)

    it("refuses a bad json_storage option", function()
      assert.has_error(function() store.open(helper.tmpfile(), { json_storage = "zip" }) end,
        "store.open: json_storage must be 'string' or 'compressed', got 'zip'")
    end)

    it("refuses a target that is neither a path nor an h5.File", function()
      assert.has_error(function() store.open(42) end,
        "store.open: expected a path or an h5.File, got number")
    end)

    it("raises on use after close", function()
      local s = new_store()
      s:close()
      s:close()
      assert.has_error(function() s:count() end, "attempt to use a closed store")
    end)
  end)

  describe("check_refcode()", function()
    it("accepts CSD refcodes and any other UTF-8 group name", function()
      for _, r in ipairs({ "ALANIN", "ABEBUF01", "Fe2O3 (α)", "a.b", ".." }) do
        assert.is_true(store.check_refcode(r))
      end
    end)

    it("gives a reason for every name it refuses", function()
      local cases = {
        { 42, "refcode must be a string, got number" },
        { nil, "refcode must be a string, got nil" },
        { "", "refcode must not be empty" },
        { "A/B", "refcode 'A/B' must not contain '/'" },
        { ".", "refcode '.' is not a valid group name" },
        { "A\0B", "refcode must not contain a NUL byte" },
        { "A\255", "refcode is not valid UTF-8" },
      }
      for _, c in ipairs(cases) do
        assert.same({ nil, c[2] }, { store.check_refcode(c[1]) })
      end
    end)
  end)

  describe("write() and read()", function()
    it("store the JSON text byte for byte", function()
      local s = new_store()
      local texts = {
        ALANIN = ALANIN,
        DIGITS = '{"x": 0.1000000000000000055511151231257827, "big": 12345678901234567890}',
        SPACES = ' \t{ "a" :\r\n[ ] }\n',
        UNICODE = '{"name": "α-quartz — SiO₂", "escaped": "\\u00e9\\n\\"", "emoji": "💎"}',
        SPECIAL = '{"nan": NaN, "inf": -Infinity}',
      }
      for r, t in pairs(texts) do s:write(r, t) end
      for r, t in pairs(texts) do assert.equal(t, s:read(r)) end
      s:close()
    end)

    it("replace an existing structure and keep its other members", function()
      local s = new_store()
      s:write("ALANIN", '{"v": 1}')
      s.file:get("structures/ALANIN"):create_dataset("cif", "data_ALANIN"):close()
      s:write("ALANIN", '{"v": 2}')
      assert.equal('{"v": 2}', s:read("ALANIN"))
      assert.same({ "cif", "raw_json" }, s.file:get("structures/ALANIN"):keys())
      assert.equal(1, s:count())
      s:close()
    end)

    it("encode a table once, with sorted keys and floats that read back exactly", function()
      local s = new_store()
      s:write("T", { b = { 0.1, 5.784, 1 / 3, 1e300, 2.0, 7 }, a = "é\"\n", n = store.null,
        ok = true, nested = { x = {} } })
      assert.equal('{"a":"é\\"\\n","b":[0.1,5.784,0.3333333333333333,1e+300,2.0,7],'
        .. '"n":null,"nested":{"x":{}},"ok":true}', s:read("T"))
      assert.equal(1 / 3, s:get("T").b[3])
      s:close()
    end)

    it("refuse bad refcodes and leave the file unchanged", function()
      local s, path = new_store()
      s:write("ALANIN", ALANIN)
      s:close()
      local before = file_bytes(path)
      s = store.open(path)
      local cases = {
        { "", "cannot write structure '': refcode must not be empty" },
        { "A/B", "cannot write structure 'A/B': refcode 'A/B' must not contain '/'" },
        { ".", "cannot write structure '.': refcode '.' is not a valid group name" },
        { 7, "cannot write structure 7: refcode must be a string, got number" },
      }
      for _, c in ipairs(cases) do
        assert.has_error(function() s:write(c[1], ALANIN) end, c[2])
      end
      s:close()
      assert.equal(before, file_bytes(path))
    end)

    it("refuse text that is not one JSON object and leave the file unchanged", function()
      local s, path = new_store()
      s:write("ALANIN", ALANIN)
      s:close()
      local before = file_bytes(path)
      s = store.open(path)
      local cases = {
        { '{"a": ', "invalid JSON: Expected value but found T_END at character 7" },
        { '{"a": 1} x', "invalid JSON: Expected the end but found invalid token at character 10" },
        { "[1, 2]", "JSON text is not an object" },
        { '"text"', "JSON text is not an object" },
        { '{"a": "\255"}', "JSON text is not valid UTF-8" },
        { '{"a": 1}\0', "JSON text contains a NUL byte" },
        { "", "invalid JSON: Expected value but found T_END at character 1" },
      }
      for _, c in ipairs(cases) do
        assert.has_error(function() s:write("ALANIN", c[1]) end,
          "cannot write structure 'ALANIN': " .. c[2])
        assert.has_error(function() s:write("NEW", c[1]) end,
          "cannot write structure 'NEW': " .. c[2])
      end
      assert.has_error(function() s:write("NEW", 42) end,
        "cannot write structure 'NEW': JSON must be a string or a table, got number")
      assert.has_error(function() s:write("NEW", { f = print }) end,
        "cannot write structure 'NEW': cannot encode a function as JSON")
      assert.equal(ALANIN, s:read("ALANIN"))
      s:close()
      assert.equal(before, file_bytes(path))
    end)

    it("store any text with validate=false (to build damaged stores for tests)", function()
      local s = new_store({ validate = false })
      s:write("BAD", '{"a": ')
      assert.equal('{"a": ', s:read("BAD"))
      assert.same({ nil, "invalid JSON: Expected value but found T_END at character 7 in 'BAD'" },
        { s:get("BAD") })
      s:close()
    end)

    -- (plain storage makes group and dataset in one create_dataset call,
    -- which removes the group itself on failure: tests/bindings/dataset_spec)
    it("remove a new structure's group when writing its compressed dataset fails", function()
      local s = new_store({ json_storage = "compressed" })
      with_method("h5.Group", "create_dataset", function(real)
        return function(g, name, opts)
          real(g, name, opts):close()
          error("injected failure", 0)
        end
      end, function()
        assert.has_error(function() s:write("NEW", ALANIN) end, "injected failure")
      end)
      assert.same({}, s:refcodes())
      s:close()
    end)

    it("keep the old JSON when writing its replacement fails", function()
      local s = new_store()
      s:write("ALANIN", ALANIN)
      with_method("h5.Group", "create_dataset", function(real)
        return function(g, name, opts)
          real(g, name, opts):close()
          error("injected failure", 0)
        end
      end, function()
        assert.has_error(function() s:write("ALANIN", '{"v": 2}') end, "injected failure")
      end)
      assert.equal(ALANIN, s:read("ALANIN"))
      assert.same({ "raw_json" }, s.file:get("structures/ALANIN"):keys())
      s:close()
    end)

    it("refuse to write over something that is not a group", function()
      local s = new_store()
      s.file:get("structures"):create_dataset("DSET", 1):close()
      assert.has_error(function() s:write("DSET", ALANIN) end,
        "'/structures/DSET' is a dataset, not a group")
      s:close()
    end)
  end)

  describe("reading", function()
    it("gives nil and a reason for missing structures and missing raw_json", function()
      local s = new_store()
      s.file:get("structures"):create_group("EMPTY"):close()
      assert.same({ nil, "no structure 'NOPE'" }, { s:read("NOPE") })
      assert.same({ nil, "structure 'EMPTY' has no raw_json" }, { s:read("EMPTY") })
      assert.same({ nil, "no structure 'NOPE'" }, { s:get("NOPE") })
      assert.same({ nil, "refcode must not be empty" }, { s:read("") })
      s:close()
    end)

    it("decodes a structure with get()", function()
      local s = new_store()
      s:write("ALANIN", ALANIN)
      local t = s:get("ALANIN")
      assert.equal("ALANIN", t.identifier)
      assert.equal(12.133, t.cell_lengths[2])
      s:close()
    end)

    it("iterates in refcode order and reports unreadable structures", function()
      local s = new_store()
      s:write("C", '{"c": 3}')
      s:write("A", '{"a": 1}')
      s.file:get("structures"):create_group("B"):close()
      local seen = {}
      for refcode, raw, why in s:each() do seen[#seen + 1] = { refcode, raw, why } end
      assert.same({ { "A", '{"a": 1}' }, { "B", nil, "structure 'B' has no raw_json" },
        { "C", '{"c": 3}' } }, seen)
      assert.equal(3, s:count())
      assert.same({ "A", "B", "C" }, s:refcodes())
      s:close()
    end)

    it("deletes structures, and says when there is nothing to delete", function()
      local s = new_store()
      s:write("A", '{"a": 1}')
      assert.is_true(s:delete("A"))
      assert.same({ nil, "no structure 'A'" }, { s:delete("A") })
      assert.equal(0, s:count())
      s:close()
    end)
  end)

  describe("compressed JSON storage", function()
    it("keeps raw_json as a gzip-compressed uint8 dataset and reads the same text", function()
      local s = new_store({ json_storage = "compressed" })
      s:write("ALANIN", ALANIN)
      assert.equal(ALANIN, s:read("ALANIN"))
      local d = s.file:get("structures/ALANIN/raw_json")
      assert.equal("uint8", d.dtype)
      assert.same({ #ALANIN }, d.shape)
      assert.equal("gzip", d.compression)
      assert.equal(6, d.compression_opts)
      d:close()
      s:close()
    end)

    it("writes with HDF5 1.10's single-chunk index but keeps a version-2 superblock", function()
      local s, path = new_store({ json_storage = "compressed" })
      assert.equal("v110", s.file.libver)
      s:close()
      assert.equal(2, file_bytes(path):byte(9))
      s = store.open(path)
      assert.equal("v110", s.file.libver)
      s:close()
    end)

    it("records the mode in the file and keeps using it when reopened", function()
      local s, path = new_store({ json_storage = "compressed" })
      s:close()
      s = store.open(path)
      assert.equal("compressed", s.json_storage)
      assert.equal("compressed", s.file:get("structures").attrs.json_storage)
      s:write("X", '{"x": 1}')
      assert.equal("uint8", s.file:get("structures/X/raw_json").dtype)
      s:close()
    end)

    it("reads stores that hold both kinds", function()
      local s, path = new_store()
      s:write("PLAIN", '{"p": 1}')
      s:close()
      s = store.open(path, { json_storage = "compressed" })
      s:write("PACKED", '{"c": 2}')
      assert.same({ '{"c": 2}', '{"p": 1}' }, { s:read("PACKED"), s:read("PLAIN") })
      s:close()
    end)

    it("makes realistic JSON several times smaller", function()
      local plain, p1 = new_store()
      local packed, p2 = new_store({ json_storage = "compressed" })
      for i = 1, 60 do
        local atoms = {}
        for k = 1, 40 do
          atoms[k] = string.format('{"label": "C%d", "symbol": "C", "coords": [%.6f, %.6f, %.6f]}',
            k, (i * k % 97) / 97, (i + k) % 89 / 89, (i * 7 + k) % 83 / 83)
        end
        local text = string.format('{"identifier": "REF%03d", "space_group": "P 21/c", '
          .. '"atoms": [%s]}', i, table.concat(atoms, ", "))
        plain:write(string.format("REF%03d", i), text)
        packed:write(string.format("REF%03d", i), text)
      end
      plain:close()
      packed:close()
      local a, b = #file_bytes(p1), #file_bytes(p2)
      assert.is_true(b * 3 < a, string.format("compressed %d bytes vs %d", b, a))
    end)
  end)

  describe("write_many()", function()
    it("writes a table of refcode -> JSON in refcode order and logs the batch", function()
      local s = new_store()
      local r = s:write_many({ B = '{"b": 2}', A = { a = 1 } }, { progress = false })
      assert.equal(2, r.written)
      assert.same({}, r.failed)
      assert.is_number(r.elapsed)
      assert.same({ "A", "B" }, s:refcodes())
      assert.equal('{"a":1}', s:read("A"))
      local h = s:history()
      assert.equal(1, #h)
      assert.equal("write_many", h[1].stage)
      assert.equal("wrote 2 structures, 0 failed", h[1].message)
      assert.equal(2, h[1].fields.written)
      s:close()
    end)

    it("writes a list of {refcode, json} and an iterator of (refcode, json)", function()
      local s = new_store()
      s:write_many({ { "X", '{"x": 1}' }, { refcode = "Y", json = '{"y": 2}' } }, { log = false })
      local i = 0
      s:write_many(function()
        i = i + 1
        if i <= 3 then return "IT" .. i, string.format('{"i": %d}', i) end
      end, { log = false })
      assert.same({ "IT1", "IT2", "IT3", "X", "Y" }, s:refcodes())
      assert.equal(0, #s:history())
      s:close()
    end)

    it("reads JSON Lines files, taking the refcode from a field", function()
      local dir = helper.tmpdir()
      helper.write_file(dir .. "/in.jsonl", '{"identifier": "AAA", "v": 1}\n\n'
        .. '{"refcode": "BBB", "v": 2}\r\n{"v": 3}\n{broken\n')
      local s = new_store()
      local r = s:write_many(dir .. "/in.jsonl", { on_error = "collect" })
      assert.equal(2, r.written)
      assert.same({
        { refcode = dir .. "/in.jsonl:4", error = "no refcode or identifier field" },
        { refcode = dir .. "/in.jsonl:5",
          error = "invalid JSON: Expected object key string but found invalid token at character 2" },
      }, r.failed)
      assert.equal('{"identifier": "AAA", "v": 1}', s:read("AAA"))
      assert.equal('{"refcode": "BBB", "v": 2}', s:read("BBB"))
      s:close()
    end)

    it("finds the refcode field of a JSON line as cjson would read it", function()
      local dir = helper.tmpdir()
      helper.write_file(dir .. "/in.jsonl", table.concat({
        '{"ref\\u0063ode": "ESC", "v": 1}',              -- an escaped key
        '{"x": {"refcode": "NESTED"}, "identifier": "TOP"}', -- top level only
        '{"refcode": "FIRST", "refcode": "LAST"}',         -- the last one wins
        '{"refcode": 12}',                                 -- not a string
        '{"identifier": "CAF\xc3\x89"}',                 -- UTF-8 text
      }, "\n"))
      local s = new_store()
      local r = s:write_many(dir .. "/in.jsonl", { on_error = "collect" })
      assert.same({ { refcode = dir .. "/in.jsonl:4", error = "no refcode or identifier field" } },
        r.failed)
      assert.same({ "CAF\xc3\x89", "ESC", "LAST", "TOP" }, s:refcodes())
      s:close()
    end)

    it("reads a directory of REFCODE.json files byte for byte", function()
      local dir = helper.tmpdir()
      helper.write_file(dir .. "/QUARTZ.json", '{"q": 1}\n')
      helper.write_file(dir .. "/CALCITE.json", '{"c": 2}')
      helper.write_file(dir .. "/notes.txt", "not json")
      local s = new_store()
      local r = s:write_many(dir)
      assert.equal(2, r.written)
      assert.same({ "CALCITE", "QUARTZ" }, s:refcodes())
      assert.equal('{"q": 1}\n', s:read("QUARTZ"))
      s:close()
    end)

    it("stops at the first bad item by default, keeping what was written", function()
      local s = new_store()
      assert.has_error(function()
        s:write_many({ { "A", '{"a": 1}' }, { "B/1", '{"b": 2}' }, { "C", '{"c": 3}' } })
      end, "write_many: cannot write structure 'B/1': refcode 'B/1' must not contain '/'")
      assert.same({ "A" }, s:refcodes())
      s:close()
    end)

    it("collects bad items and goes on with on_error = 'collect'", function()
      local s = new_store()
      local r = s:write_many({ { "A", '{"a": 1}' }, { "", '{"b": 2}' }, { "C", "[3]" },
        { "D", '{"d": 4}' } }, { on_error = "collect" })
      assert.equal(2, r.written)
      assert.same({ { refcode = "", error = "refcode must not be empty" },
        { refcode = "C", error = "JSON text is not an object" } }, r.failed)
      assert.same({ "A", "D" }, s:refcodes())
      s:close()
    end)

    it("refuses an unknown on_error", function()
      local s = new_store()
      assert.has_error(function() s:write_many({}, { on_error = "ignore" }) end,
        "write_many: on_error must be 'raise' or 'collect', got 'ignore'")
      s:close()
    end)

    it("flushes every flush_every items and reports items only once flushed", function()
      local s = new_store()
      local flushes = {}
      local list = {}
      for i = 1, 5 do list[i] = { "R" .. i, string.format('{"i": %d}', i) } end
      local r = s:write_many(list, { flush_every = 2, on_flush = function(info)
        flushes[#flushes + 1] = { info.written, info.refcodes }
      end })
      assert.same({ { 2, { "R1", "R2" } }, { 4, { "R3", "R4" } }, { 5, { "R5" } } }, flushes)
      assert.equal(5, r.written)
      s:close()
    end)

    it("keeps every structure it reported written when the writer is killed", function()
      local dir = helper.tmpdir()
      local path, report = dir .. "/killed.h5", dir .. "/report.txt"
      helper.write_file(dir .. "/writer.lua", string.format([[
        local store = require "h5lua.store"
        local s = store.open(%q)
        local out = io.open(%q, "w")
        local i = 0
        s:write_many(function()
          i = i + 1
          return string.format("R%%07d", i), string.format('{"i": %%d, "pad": "%%s"}', i,
            ("x"):rep(i %% 500))
        end, { flush_every = 200, on_flush = function(info)
          for _, r in ipairs(info.refcodes) do out:write(r, "\n") end
          out:flush()
        end })
      ]], path, report))
      -- killed once it has reported two flushes (not after a fixed time,
      -- which a slow machine may spend starting up)
      helper.sh(string.format([[(%s %s & pid=$!
        n=0
        while [ "$(wc -l < %s 2>/dev/null || echo 0)" -lt 400 ] && [ $n -lt 3000 ]; do
          sleep 0.01; n=$((n + 1)); done
        kill -9 $pid; wait $pid) 2>/dev/null]],
        helper.quote(helper.bin), helper.quote(dir .. "/writer.lua"), helper.quote(report)))
      local reported = {}
      for line in io.lines(report) do reported[#reported + 1] = line end
      assert.is_true(#reported >= 200, "only " .. #reported .. " reported")
      local s = store.open(path, { mode = "r" })
      for _, r in ipairs(reported) do
        local text = s:read(r)
        assert.is_string(text, r)
      end
      s:close()
    end)

    it("is silent on stderr when it is not a terminal, and draws a bar when asked", function()
      local dir = helper.tmpdir()
      local script = dir .. "/w.lua"
      helper.write_file(script, string.format([[
        local store = require "h5lua.store"
        local s = store.open(%q)
        s:write_many({ A = '{"a": 1}', B = '{"b": 2}' }, { progress = (...) == "bar" or nil })
        s:close()
      ]], dir .. "/p.h5"))
      local quiet = helper.h5lua({ script })
      assert.equal(0, quiet.code)
      assert.equal("", quiet.stderr)
      local bar = helper.h5lua({ script, "bar" })
      assert.equal(0, bar.code)
      assert.matches("writing %[#+%] 2/2 100%% [%d.,]+/s ETA 0:00\27%[K  2 written, 0 failed\n$",
        bar.stderr)
    end)
  end)

  describe("metadata", function()
    it("sets the seed's standard keys with defaults, plus custom keys", function()
      local s = new_store()
      s:write("A", '{"a": 1}')
      s:set_metadata({ csa_version = "1.0.0", stage = "raw_extraction", data_source = "CSD_2024" })
      local m = s:metadata()
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d", m.creation_date)
      assert.equal("1.0.0", m.csa_version)
      assert.equal(1, m.total_structures)
      assert.equal("raw_extraction", m.processing_stage)
      assert.equal("CSD_2024", m.data_source)
      assert.is_nil(m.stage)
      s:close()
    end)

    it("keeps the creation date and other keys on later calls", function()
      local s = new_store()
      s:set_metadata({ csa_version = "1.0.0" })
      local first = s:metadata()
      s:set_metadata({ processing_stage = "organized", total_structures = 7 })
      local m = s:metadata()
      assert.equal(first.creation_date, m.creation_date)
      assert.equal("1.0.0", m.csa_version)
      assert.equal("organized", m.processing_stage)
      assert.equal(7, m.total_structures)
      s:close()
    end)

    it("is empty when there is no /metadata", function()
      local s = new_store()
      assert.same({}, s:metadata())
      s:close()
    end)
  end)

  describe("processing log", function()
    it("appends timestamped entries to an extendable dataset and reads them back", function()
      local s = new_store()
      s:log("import", "imported 2 structures", { imported = 2, source = "cif" })
      s:log("organize", "by_space_group")
      local h = s:history()
      assert.equal(2, #h)
      assert.equal("import", h[1].stage)
      assert.equal("imported 2 structures", h[1].message)
      assert.same({ imported = 2, source = "cif" }, h[1].fields)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d", h[1].time)
      assert.is_nil(h[2].fields)
      local d = s.file:get("processing_log")
      assert.same({ 2 }, d.shape)
      assert.same({ h5.UNLIMITED }, d.maxshape)
      d:close()
      s:close()
    end)

    it("refuses to log into a /processing_log that is a group", function()
      local s = new_store()
      s.file:create_group("processing_log"):close()
      assert.has_error(function() s:log("x", "y") end,
        "cannot log: '/processing_log' exists and is not a dataset")
      assert.same({}, s:history())
      s:close()
    end)
  end)

  describe("decode_fields()", function()
    it("decodes only the named top-level fields, the last of duplicates", function()
      assert.same({ a = { 1, 2 }, c = "x" }, store.decode_fields(
        '{"a": [1, 2], "b": {"a": 3}, "\\u0063": "y", "c": "x"}', { "a", "c", "z" }))
      assert.same({}, store.decode_fields('{"b": 1}', { "a" }))
    end)

    it("gives nil for text the scanner refuses, to be decoded whole", function()
      assert.is_nil(store.decode_fields('{"a": 1,}', { "a" }))
      assert.is_nil(store.decode_fields("[1]", { "a" }))
      assert.is_nil(store.decode_fields('{"a": "caf\233"}', { "a" }))
    end)
  end)

  describe("encode_json() and check_json()", function()
    it("round-trip the floats cjson would shorten", function()
      local x = 0.1 + 0.2
      assert.equal('{"x":0.30000000000000004}', store.encode_json({ x = x }))
    end)

    it("refuse keys that are not strings or numbers", function()
      assert.has_error(function() store.encode_json({ [true] = 1 }) end,
        "cannot encode a table with a boolean key as JSON")
    end)

    it("accept deeply nested objects", function()
      local text = ('{"a":'):rep(300) .. "1" .. ("}"):rep(300)
      assert.is_true(store.check_json(text))
    end)
  end)
end)
