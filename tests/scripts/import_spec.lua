-- Unit tests of the importer (scripts/h5lua/import.lua): inputs, readers,
-- record encoding, parallel readings, and imports into a store.

local import = require "h5lua.import"
local cjson = require "cjson"
local helper = require "helper"

local here = debug.getinfo(1, "S").source:match("^@(.*)[/\\]") or "."
local FIX = here .. "/../fixtures/import/"
local SAMPLES = here .. "/../../scripts/examples/samples/"

-- The readings of every file under a path, by file name (no directory).
local function read_all(path, jobs)
  local files = import.inputs({ path })
  local out = {}
  for r in import.readings(files, jobs) do out[r.file:match("[^/]+$")] = r end
  return out
end

local function refcodes(items)
  local out = {}
  for i, item in ipairs(items) do out[i] = item.refcode end
  return out
end

describe("h5lua.import", function()

  after_each(function()
    helper.cleanup()
  end)

  describe("inputs()", function()
    it("finds CIF, JSON and JSON Lines files in directories recursively, sorted", function()
      local files, failures = import.inputs({ FIX .. "mixed" })
      local got = {}
      for i, f in ipairs(files) do got[i] = f.path:sub(#FIX + 1) .. " " .. f.kind end
      assert.same({
        "mixed/sub/copper.cif cif", "mixed/sub/lines.jsonl jsonl", "mixed/sub/one.json json",
        "mixed/two_blocks.cif cif",
      }, got)
      assert.same({}, failures)
    end)

    it("reads a file named explicitly whatever its extension, and each file once", function()
      local files = import.inputs({ FIX .. "mixed/notes.txt", FIX .. "mixed/sub/copper.cif",
        FIX .. "mixed/sub" })
      local got = {}
      for i, f in ipairs(files) do got[i] = f.path:sub(#FIX + 1) .. " " .. f.kind end
      assert.same({ "mixed/notes.txt cif", "mixed/sub/copper.cif cif",
        "mixed/sub/lines.jsonl jsonl", "mixed/sub/one.json json" }, got)
    end)

    it("follows a link back to a parent directory only once", function()
      local dir = helper.tmpdir()
      helper.write_file(dir .. "/a.cif", "data_a\n")
      os.execute("mkdir " .. helper.quote(dir .. "/sub") .. " && ln -s .. "
        .. helper.quote(dir .. "/sub/up"))
      helper.write_file(dir .. "/sub/b.cif", "data_b\n")
      local files, failures = import.inputs({ dir, dir .. "/sub" })
      local paths = {}
      for i, f in ipairs(files) do paths[i] = f.path end
      assert.same({ dir .. "/a.cif", dir .. "/sub/b.cif" }, paths)
      assert.same({}, failures)
    end)

    it("reports missing paths and directories without input files", function()
      local dir = helper.tmpdir()
      helper.write_file(dir .. "/notes.txt", "nothing to import\n")
      local files, failures = import.inputs({ dir .. "/missing.cif", dir })
      assert.same({}, files)
      assert.same({
        { file = dir .. "/missing.cif", error = dir .. "/missing.cif: No such file or directory" },
        { file = dir, error = dir .. ": no CIF, JSON or JSON Lines file in this directory" },
      }, failures)
    end)
  end)

  describe("read_file()", function()
    it("gives one item per CIF data block holding a structure", function()
      local r = read_all(FIX .. "mixed")["two_blocks.cif"]
      assert.same({ "NACL01", "KCL01" }, refcodes(r.items))
      assert.same({ "data_NACL01", "data_KCL01" }, { r.items[1].where, r.items[2].where })
      assert.same({}, r.failures)
      assert.same({ { name = "publication", reason = FIX .. "mixed/two_blocks.cif:2: "
        .. "data_publication: no unit cell (_cell_length_a, _b, _c)" } }, r.ignored)
    end)

    it("encodes CIF records with a fixed key order and floats for real numbers", function()
      local r = import.read_file({ path = FIX .. "mixed/sub/copper.cif", kind = "cif" })
      assert.equal('{"identifier": "CU01", "space_group": "F m -3 m", '
        .. '"cell_lengths": [3.6149, 3.6149, 3.6149], "cell_angles": [90.0, 90.0, 90.0], '
        .. '"atoms": [{"label": "Cu1", "symbol": "Cu", "coords": [0.0, 0.0, 0.0]}]}',
        r.items[1].json)
    end)

    it("gives the same bytes for the same CIF in another process", function()
      local path = SAMPLES .. "aspirin.cif"
      local mine = import.read_file({ path = path, kind = "cif" }).items[1].json
      local res = helper.h5lua({ "-e", "io.write(require('h5lua.import').read_file({path="
        .. string.format("%q", path) .. "}).items[1].json)" })
      assert.equal(0, res.code, res.stderr)
      assert.equal(mine, res.stdout)
    end)

    it("keeps a single JSON structure byte-for-byte, named by its identifier", function()
      local path = FIX .. "mixed/sub/one.json"
      local r = import.read_file({ path = path, kind = "json" })
      assert.same({ "JSON01" }, refcodes(r.items))
      assert.equal((helper.read_file(path):gsub("\n$", "")), r.items[1].json)
      assert.truthy(r.items[1].json:find("0.30000000000000004", 1, true))
    end)

    it("cuts an object of structures by refcode into their raw texts", function()
      local r = import.read_file({ path = FIX .. "map.json", kind = "json" })
      assert.same({ "MAP01", "MAP02" }, refcodes(r.items))
      assert.equal('{"identifier": "MAP02", "space_group": "P 21/c", '
        .. '"note": "a \\"quoted\\" }{ brace"}', r.items[2].json)
      assert.same({}, r.failures)
    end)

    it("reads a list of structures and fails the items it cannot name", function()
      local path = FIX .. "list.json"
      local r = import.read_file({ path = path, kind = "json" })
      assert.same({ "LIST01", "LIST02" }, refcodes(r.items))
      assert.equal('{"refcode": "LIST01", "x": [1, [2, 3]]}', r.items[1].json)
      assert.same({
        path .. ": item 3: expected a structure object",
        path .. ": item 4: no refcode (a 'refcode' or 'identifier' field)",
      }, r.failures)
    end)

    it("reads JSON Lines line by line, a bad line failing alone", function()
      local path = FIX .. "bad_lines.jsonl"
      local r = import.read_file({ path = path, kind = "jsonl" })
      assert.same({ "BAD01", "BAD02" }, refcodes(r.items))
      assert.same({
        path .. ":2: invalid JSON: Expected value but found invalid token at character 1",
        path .. ":3: expected a structure object",
        path .. ":4: no refcode (a 'refcode' or 'identifier' field)",
      }, r.failures)
    end)

    it("stores the raw_json string of a {refcode, raw_json} line", function()
      local r = import.read_file({ path = FIX .. "mixed/sub/lines.jsonl", kind = "jsonl" })
      assert.same({ "LINE01", "LINE02" }, refcodes(r.items))
      assert.equal('{"identifier": "LINE02"}', r.items[2].json)
    end)

    it("gives the reason of the block closest to a structure when none is one", function()
      local path = helper.tmpfile("blocks.cif")
      helper.write_file(path, "data_global\n_publ_section_title 'x'\ndata_S1\n"
        .. "_cell_length_a 5\n_cell_length_b 5\n_cell_length_c 5\n_cell_angle_alpha 90\n"
        .. "_cell_angle_beta 90\n_cell_angle_gamma 90\n")
      assert.same({ path .. ":3: data_S1: no atom sites (_atom_site_fract_x, _y, _z) "
        .. "(and 1 more data block without a structure)" },
        import.read_file({ path = path, kind = "cif" }).failures)
    end)

    it("fails a file with one line naming the file and the reason", function()
      local cases = {
        ["syntax_error.cif"] = ":2: unterminated quoted string: closing ' expected before end "
          .. "of line",
        ["no_structure.cif"] = ":1: data_notes: no unit cell (_cell_length_a, _b, _c)",
        ["empty.cif"] = ": no data block",
        ["broken.json"] = ": invalid JSON: Expected object key string but found T_END at "
          .. "character 21",
        ["missing.cif"] = ": No such file or directory",
      }
      for name, reason in pairs(cases) do
        local kind = name:match("%.json$") and "json" or "cif"
        local r = import.read_file({ path = FIX .. name, kind = kind })
        assert.same({}, r.items)
        local msg = r.failures[1]
        if name == "missing.cif" then
          assert.equal("cannot open " .. FIX .. name .. reason, msg)
        else
          assert.equal(FIX .. name .. reason, msg)
        end
      end
    end)
  end)

  describe("encode()", function()
    it("writes keys in record order, then the others sorted", function()
      assert.equal('{"identifier": "X", "space_group": "P 1", "atoms": [], "a": 1, "b": true}',
        import.encode({ b = true, atoms = {}, a = 1, space_group = "P 1", identifier = "X" }))
    end)

    it("writes numbers in their shortest exact form and non-finite ones as null", function()
      assert.equal("[1.5, 90.0, 0.1, 0.3333333333333333, 1e+300, 12, null, null]",
        import.encode({ 1.5, 90.0, 0.1, 1 / 3, 1e300, 12, 0 / 0, math.huge }))
    end)

    it("escapes strings as JSON and reads non-UTF-8 bytes as Latin-1", function()
      assert.equal('["P 21/c", "a\\"b\\\\c\\n\\u0001", "Å", "Å"]',
        import.encode({ "P 21/c", 'a"b\\c\n\1', "\xC5", "Å" }))
    end)

    it("raises on values JSON cannot hold", function()
      assert.has_error(function() import.encode({ f = print }) end,
        "cannot encode a function as JSON")
    end)
  end)

  describe("readings()", function()
    it("reads small inputs in this process", function()
      assert.is_false(import.parallel_pays(import.inputs({ SAMPLES }), 4))
    end)

    it("uses no more children than the machine has idle CPUs", function()
      local files = import.inputs({ SAMPLES, FIX })
      local saved, idle_cpus = import.PARALLEL_MIN_BYTES, import.idle_cpus
      import.PARALLEL_MIN_BYTES = 0
      local counts = {}
      for _, idle in ipairs({ -5.0, 0.3, 1.2, 1.8, 3.7, false }) do
        import.idle_cpus = function() return idle or nil end
        counts[#counts + 1] = import.worker_count(files, 2)
      end
      import.idle_cpus = function() return 8.0 end
      counts[#counts + 1] = import.worker_count(files, 1)
      import.PARALLEL_MIN_BYTES = saved
      counts[#counts + 1] = import.worker_count(files, 2) -- too little CIF text
      import.idle_cpus = idle_cpus
      assert.same({ 1, 1, 1, 2, 2, 2, 1, 1 }, counts)
      local idle = import.idle_cpus()
      assert.is_true(idle == nil or type(idle) == "number")
    end)

    it("gives the same results from child processes, in input order", function()
      local files = import.inputs({ SAMPLES, FIX })
      local saved, idle_cpus = import.PARALLEL_MIN_BYTES, import.idle_cpus
      import.PARALLEL_MIN_BYTES = 0
      import.idle_cpus = function() return nil end -- whatever the machine's load
      assert.is_true(import.parallel_pays(files, 2))
      local iter, _, _, closer = import.readings(files, 2)
      import.PARALLEL_MIN_BYTES, import.idle_cpus = saved, idle_cpus
      assert.is_not_nil(closer)
      local serial, i = {}, 0
      for r in import.readings(files, 1) do serial[#serial + 1] = r end
      for r in iter, nil, nil, closer do
        i = i + 1
        assert.same(serial[i], r)
      end
      assert.equal(#files, i)
    end)

    it("waits for the children and removes their files when a loop stops early", function()
      local files = import.inputs({ SAMPLES })
      local dir = helper.tmpdir()
      local saved, tmpname = import.PARALLEL_MIN_BYTES, os.tmpname
      import.PARALLEL_MIN_BYTES = 0
      os.tmpname = function() -- luacheck: ignore
        helper.write_file(dir .. "/prefix", "")
        return dir .. "/prefix"
      end
      local ok, err = pcall(function()
        for _ in import.readings(files, 2) do break end
      end)
      import.PARALLEL_MIN_BYTES, os.tmpname = saved, tmpname -- luacheck: ignore
      assert.is_true(ok, err)
      assert.equal("", helper.sh("ls -A " .. helper.quote(dir)).stdout)
    end)
  end)

  describe("worker()", function()
    it("writes one JSON line per file", function()
      local dir = helper.tmpdir()
      helper.write_file(dir .. "/list", cjson.encode({
        { path = FIX .. "mixed/sub/copper.cif", kind = "cif" },
        { path = FIX .. "empty.cif", kind = "cif" } }))
      import.worker(dir .. "/list", dir .. "/out")
      local lines = {}
      for line in io.lines(dir .. "/out") do lines[#lines + 1] = cjson.decode(line) end
      assert.equal(2, #lines)
      assert.same({ "CU01" }, refcodes(lines[1].items))
      assert.same({ FIX .. "empty.cif: no data block" }, lines[2].failures)
    end)
  end)

  describe("run()", function()
    if not package.searchpath("h5lua.store", package.path) then
      pending("h5lua.store has not landed yet")
      return
    end
    local store = require "h5lua.store"

    -- Every (refcode, raw_json) of a store.
    local function contents(path)
      local s = store.open(path, { mode = "r" })
      local out = {}
      for refcode, raw in s:each() do out[refcode] = raw end
      s:close()
      return out
    end

    -- Two CIFs giving refcode DUP with different cells, in a fresh directory.
    local function duplicates()
      local dir = helper.tmpdir()
      local cu = helper.read_file(FIX .. "mixed/sub/copper.cif")
      helper.write_file(dir .. "/a.cif", (cu:gsub("data_CU01", "data_DUP")))
      helper.write_file(dir .. "/b.cif", (cu:gsub("data_CU01", "data_DUP"):gsub("3%.6149", "3.7")))
      return dir
    end

    it("writes every structure of the inputs and reports the failures", function()
      local path = helper.tmpfile()
      local summary = import.run(path, { FIX })
      assert.same({ files = 11, imported = 12, replaced = 0, renamed = 0, unchanged = 0,
        skipped = 0, failed = 9, total = 12 },
        { files = summary.files, imported = summary.imported, replaced = summary.replaced,
          renamed = summary.renamed, unchanged = summary.unchanged, skipped = summary.skipped,
          failed = summary.failed, total = summary.total })
      assert.same({ file = FIX .. "syntax_error.cif", error = FIX .. "syntax_error.cif:2: "
        .. "unterminated quoted string: closing ' expected before end of line" },
        summary.failures[9])
      local got = contents(path)
      assert.equal(import.read_file({ path = FIX .. "mixed/two_blocks.cif" }).items[2].json,
        got.KCL01)
      assert.equal('{"identifier": "LINE02"}', got.LINE02)
      assert.same({ "NACL01", "KCL01" }, summary.refcodes[FIX .. "mixed/two_blocks.cif"])
    end)

    it("records the import in the processing log and the metadata", function()
      local path = helper.tmpfile()
      import.run(path, { SAMPLES })
      local s = store.open(path, { mode = "r" })
      local history, metadata = s:history(), s:metadata()
      s:close()
      assert.equal(1, #history)
      assert.same({ "import", "imported 37 structures from 30 files" },
        { history[1].stage, history[1].message })
      assert.same({ imported = 37, replaced = 0, renamed = 0, unchanged = 0, skipped = 0,
        failed = 0, on_duplicate = "replace" }, history[1].fields)
      assert.same({ 37, "raw" }, { metadata.total_structures, metadata.processing_stage })
    end)

    it("changes nothing when the same inputs are imported again", function()
      local path = helper.tmpfile()
      import.run(path, { SAMPLES })
      local before = contents(path)
      local s = store.open(path, { mode = "r" })
      local history, metadata = s:history(), s:metadata()
      s:close()
      local again = import.run(path, { SAMPLES })
      assert.same({ 0, 37, 0 }, { again.imported, again.unchanged, again.failed })
      assert.same(before, contents(path))
      s = store.open(path, { mode = "r" })
      assert.same(history, s:history())
      assert.same(metadata, s:metadata())
      s:close()
    end)

    it("replaces a duplicate by default, the later input winning", function()
      local dir = duplicates()
      local path = helper.tmpfile()
      local summary = import.run(path, { dir })
      assert.same({ 2, 1, 0 }, { summary.imported, summary.replaced, summary.skipped })
      assert.same({ { refcode = "DUP", file = dir .. "/b.cif", other = dir .. "/a.cif",
        action = "replaced" } }, summary.duplicates)
      assert.truthy(contents(path).DUP:find("3.7", 1, true))
      assert.equal("DUP in " .. dir .. "/b.cif replaced the one from " .. dir .. "/a.cif",
        import.summary_text(summary):match("duplicates:\n  ([^\n]*)"))
    end)

    it("changes nothing when inputs sharing a refcode are imported again", function()
      local dir = duplicates()
      local path = helper.tmpfile()
      import.run(path, { dir })
      local bytes = helper.read_file(path)
      local s = store.open(path, { mode = "r" })
      local history = s:history()
      s:close()
      local again = import.run(path, { dir })
      assert.same({ 0, 0, 1, 0 }, { again.imported, again.replaced, again.unchanged, again.failed })
      assert.same({ "DUP" }, again.refcodes[dir .. "/b.cif"])
      assert.same({}, again.refcodes[dir .. "/a.cif"])
      -- The inputs still disagree, and the summary says so.
      assert.same({ { refcode = "DUP", file = dir .. "/b.cif", other = dir .. "/a.cif",
        action = "replaced" } }, again.duplicates)
      assert.equal(bytes, helper.read_file(path))
      s = store.open(path, { mode = "r" })
      assert.same(history, s:history())
      s:close()
    end)

    it("writes a refcode replaced twice in one run once, with the last content", function()
      local dir = duplicates()
      local path = helper.tmpfile()
      local cu = helper.read_file(FIX .. "mixed/sub/copper.cif")
      local old = helper.tmpdir() .. "/old.cif"
      helper.write_file(old, (cu:gsub("data_CU01", "data_DUP"):gsub("3%.6149", "3.5")))
      import.run(path, { old })
      local summary = import.run(path, { dir })
      assert.same({ 1, 1, 0 }, { summary.imported, summary.replaced, summary.unchanged })
      assert.same({ { refcode = "DUP", file = dir .. "/b.cif", other = dir .. "/a.cif",
        action = "replaced" }, { refcode = "DUP", file = dir .. "/b.cif", other = "the store",
        action = "replaced" } }, summary.duplicates)
      assert.truthy(contents(path).DUP:find("3.7", 1, true))
      local s = store.open(path, { mode = "r" })
      assert.equal(2, #s:history())
      s:close()
    end)

    it("writes held-back replacements at once beyond PENDING_MAX_BYTES", function()
      local dir = duplicates()
      local path = helper.tmpfile()
      import.run(path, { dir })
      local limit = import.PENDING_MAX_BYTES
      import.PENDING_MAX_BYTES = 0
      local ok, again = pcall(import.run, path, { dir })
      import.PENDING_MAX_BYTES = limit
      assert.is_true(ok, again)
      -- a.cif's content was written before b.cif's gave the old one back.
      assert.same({ 2, 2, 0 }, { again.imported, again.replaced, again.unchanged })
      assert.truthy(contents(path).DUP:find("3.7", 1, true))
    end)

    it("keeps the first and counts the newcomer skipped with on_duplicate = skip", function()
      local dir = duplicates()
      local path = helper.tmpfile()
      import.run(path, { dir .. "/a.cif" })
      local summary = import.run(path, { dir }, { on_duplicate = "skip" })
      assert.same({ 0, 1, 1 }, { summary.imported, summary.unchanged, summary.skipped })
      assert.same({ { refcode = "DUP", file = dir .. "/b.cif", other = dir .. "/a.cif",
        action = "skipped" } }, summary.duplicates)
      assert.truthy(contents(path).DUP:find("3.6149", 1, true))
    end)

    it("renames the newcomer REFCODE_2, and renaming again changes nothing", function()
      local dir = duplicates()
      local path = helper.tmpfile()
      local summary = import.run(path, { dir }, { on_duplicate = "rename" })
      assert.same({ 2, 1 }, { summary.imported, summary.renamed })
      assert.same({ { refcode = "DUP", file = dir .. "/b.cif", other = dir .. "/a.cif",
        action = "renamed", as = "DUP_2" } }, summary.duplicates)
      assert.same({ "DUP_2" }, summary.refcodes[dir .. "/b.cif"])
      local before = contents(path)
      assert.truthy(before.DUP_2:find("3.7", 1, true))
      local again = import.run(path, { dir }, { on_duplicate = "rename" })
      assert.same({ 0, 2 }, { again.imported, again.unchanged })
      assert.same(before, contents(path))
    end)

    it("fails a data block whose name cannot be a refcode, naming file and block", function()
      local dir = helper.tmpdir()
      local cu = helper.read_file(FIX .. "mixed/sub/copper.cif")
      helper.write_file(dir .. "/slash.cif", (cu:gsub("data_CU01", "data_CU/01")))
      local _, why = store.check_refcode("CU/01")
      local summary = import.run(helper.tmpfile(), { dir })
      assert.same({ { file = dir .. "/slash.cif",
        error = dir .. "/slash.cif: data_CU/01: cannot be a refcode: " .. why } },
        summary.failures)
    end)

    it("writes the same store with child processes as without", function()
      local serial, parallel = helper.tmpfile(), helper.tmpfile()
      import.run(serial, { SAMPLES, FIX })
      local saved, idle_cpus = import.PARALLEL_MIN_BYTES, import.idle_cpus
      import.PARALLEL_MIN_BYTES = 0
      import.idle_cpus = function() return nil end -- whatever the machine's load
      local ok, summary = pcall(import.run, parallel, { SAMPLES, FIX }, { jobs = 2 })
      import.PARALLEL_MIN_BYTES, import.idle_cpus = saved, idle_cpus
      assert.is_true(ok, summary)
      assert.is_true(summary.parallel)
      assert.same(contents(serial), contents(parallel))
    end)

    it("raises on a bad on_duplicate or jobs", function()
      assert.has_error(function() import.run(helper.tmpfile(), {}, { on_duplicate = "merge" }) end,
        "on_duplicate must be one of replace, skip, rename, got 'merge'")
      assert.has_error(function() import.run(helper.tmpfile(), {}, { jobs = 0 }) end,
        "jobs must be a positive integer, got 0")
    end)
  end)
end)
