-- Specs of scripts/h5lua/validate.lua and the built-in rules.

local h5 = require "h5"
local cjson = require "cjson"
local helper = require "helper"
local validate = require "h5lua.validate"
local organize = require "h5lua.organize"

if not package.searchpath("h5lua.store", package.path) then
  describe("h5lua.validate", function()
    pending("h5lua.store has not landed yet")
  end)
  return
end

local store = require "h5lua.store"

local here = debug.getinfo(1, "S").source:match("^@(.*)[/\\]") or "."
local FIXTURES = here .. "/../fixtures/plugins/"

local function good(refcode, sg)
  return string.format('{"identifier":"%s","space_group":"%s","cell_lengths":[5.0,6.0,7.0],'
    .. '"cell_angles":[90.0,100.0,90.0],"atoms":[{"label":"C1","symbol":"C",'
    .. '"coords":[0.1,0.2,0.3]},{"label":"O1","symbol":"O","coords":[0.4,0.5,0.6]}]}',
    refcode, sg or "P 21/c")
end

-- A store of the given {refcode, json} entries (default: three good ones).
local function make_store(entries)
  local path = helper.tmpfile()
  local s = store.open(path, { validate = false })
  for _, e in ipairs(entries or { { "AAA", good("AAA") }, { "BBB", good("BBB", "P -1") },
                                  { "CCC", good("CCC", "F m -3 m") } }) do
    s:write(e[1], e[2])
  end
  s:close()
  return path
end

-- Findings of one rule, as {path, message} pairs.
local function of_rule(report, rule)
  local out = {}
  for _, x in ipairs(report.findings) do
    if x.rule == rule then out[#out + 1] = { x.path, x.message } end
  end
  return out
end

local function only(path, rule, opts)
  opts = opts or {}
  opts.rules = { rule }
  return validate.file(path, opts)
end

-- Write a 1000-row int64 dataset /x with Fletcher-32 checksums in 100-row
-- chunks and flip one byte in its second chunk; returns the read error.
local function flip_fletcher32(path)
  local f = h5.open(path, "r+")
  local data = {}
  for i = 1, 1000 do data[i] = i end
  f:create_dataset("x", { data = h5.array.from(data, "int64"), chunks = { 100 },
    fletcher32 = true }):close()
  f:close()
  helper.flip_byte(path, string.pack("<i8i8", 101, 102), 4)
  f = h5.open(path, "r")
  local d = f.x
  local _, err = pcall(d.read, d)
  f:close()
  return err
end

describe("h5lua.validate", function()

  after_each(function()
    validate.rules:reset()
    helper.assert_no_open_ids()
    helper.cleanup()
  end)


  describe("file()", function()

    it("returns the seed's fields plus findings for a sound store", function()
      local path = make_store()
      local report = validate.file(path)
      assert.is_true(report.is_valid)
      assert.same({}, report.errors)
      assert.same({}, report.warnings)
      assert.same({}, report.findings)
      assert.equal(3, report.structure_count)
      assert.equal(3, report.scanned)
      assert.same({ "AAA", "BBB", "CCC" }, report.groups)
      assert.equal(path, report.path)
      local size = #helper.read_file(path)
      assert.equal(math.floor(size / 1048576 * 100 + 0.5) / 100, report.file_size_mb)
      local names = {}
      for _, r in ipairs(validate.list()) do names[#names + 1] = r.name end
      assert.same(names, report.rules)
    end)

    it("lists the first ten refcodes as the seed's groups", function()
      local entries = {}
      for i = 1, 12 do
        local r = string.format("R%02d", i)
        entries[i] = { r, good(r) }
      end
      local report = validate.file(make_store(entries))
      assert.same({ "R01", "R02", "R03", "R04", "R05", "R06", "R07", "R08", "R09", "R10" },
        report.groups)
    end)

    it("scans every structure by default, and only the first N with sample=N", function()
      local entries = {}
      for i = 1, 12 do
        local r = string.format("R%02d", i)
        entries[i] = { r, good(r) }
      end
      entries[12][2] = "{oops"
      local path = make_store(entries)
      local full = validate.file(path)
      assert.is_false(full.is_valid)
      assert.equal(12, full.scanned)
      assert.same({ "Invalid JSON in R12: Expected object key string but found invalid token at "
        .. "character 2" }, full.errors)
      local sampled = validate.file(path, { sample = 10 })
      assert.is_true(sampled.is_valid)
      assert.equal(10, sampled.scanned)
      assert.equal(12, sampled.structure_count)
    end)

    it("reports a file that does not open", function()
      local path = helper.tmpfile("notes.h5")
      helper.write_file(path, "not an HDF5 file\n")
      local report = validate.file(path)
      assert.is_false(report.is_valid)
      local _, err = pcall(h5.open, path, "r")
      assert.same({ { rule = "open", severity = "error", path = "/",
        message = "Failed to open file: " .. err } }, report.findings)
      assert.same({ "Failed to open file: " .. err }, report.errors)
    end)

    it("accepts an open File and leaves it open", function()
      local path = make_store()
      local f = h5.open(path, "r")
      local report = validate.file(f)
      assert.is_true(report.is_valid)
      assert.equal(path, report.path)
      assert.is_true(f:is_open())
      f:close()
    end)

    it("turns a check that raises into an error finding and goes on", function()
      local path = make_store()
      local calls = 0
      local rule = { name = "fragile", severity = "warning", structure = function(_, refcode)
        calls = calls + 1
        if refcode == "BBB" then error("boom", 0) end
      end }
      local report = validate.file(path, { rules = { rule, "structures_group" } })
      assert.equal(3, calls)
      assert.same({ { rule = "fragile", severity = "error", path = "/structures/BBB",
        message = "rule 'fragile' failed: boom" } }, report.findings)
      assert.is_false(report.is_valid)
    end)

    it("runs extra rules after the chosen ones", function()
      local path = make_store()
      local report = validate.file(path, { rules = { "structures_group" }, extra_rules = {
        { name = "note", severity = "warning", file = function(_, report) report("hello") end } } })
      assert.same({ "structures_group", "note" }, report.rules)
      assert.same({ "hello" }, report.warnings)
      assert.is_true(report.is_valid)
    end)

    it("raises for an unknown rule or a bad sample", function()
      local path = make_store()
      assert.has_error(function() validate.file(path, { rules = { "nope" } }) end,
        "unknown rule 'nope' (run 'h5lua rules' for the list)")
      assert.has_error(function() validate.file(path, { sample = -1 }) end,
        "option 'sample' must be a non-negative integer")
    end)
  end)

  describe("built-in rule", function()

    it("structures_group reports a file without /structures", function()
      local path = helper.tmpfile()
      h5.open(path, "w"):close()
      local report = validate.file(path)
      assert.same({ { "/structures", "Missing required 'structures' group" } },
        of_rule(report, "structures_group"))
      assert.equal(0, report.structure_count)
      assert.is_false(report.is_valid)
    end)

    it("raw_json_present warns about a structure group without raw_json", function()
      local path = make_store()
      local f = h5.open(path, "r+")
      f:create_group("structures/NORAW"):close()
      f:close()
      local report = validate.file(path)
      assert.same({ { "/structures/NORAW", "Structure NORAW missing raw_json" } },
        of_rule(report, "raw_json_present"))
      assert.same({ "Structure NORAW missing raw_json" }, report.warnings)
      assert.is_true(report.is_valid)
    end)

    it("raw_json_readable reports a raw_json that fails to read, and the scan goes on", function()
      local path = make_store()
      -- BBB's JSON as checksummed uint8 chunks, one of them then damaged
      local digits = {}
      for i = 1, 400 do digits[i] = string.format("%05d", i) end
      local text = '{"identifier":"BBB","pad":"' .. table.concat(digits) .. '"}'
      local f = h5.open(path, "r+")
      local g = f:get("structures/BBB")
      g:delete("raw_json")
      g:create_dataset("raw_json", { data = h5.array.frombytes(text), chunks = { 256 },
        fletcher32 = true }):close()
      g:close()
      f:close()
      local bytes = helper.read_file(path)
      local at = assert(bytes:find("0020100202", 1, true))
      local fh = assert(io.open(path, "r+b"))
      fh:seek("set", at)
      fh:write("X")
      fh:close()
      local s = store.open(path, { mode = "r" })
      local raw, err = s:read("BBB")
      s:close()
      assert.is_nil(raw)
      local report = validate.file(path)
      assert.equal(3, report.scanned)
      assert.same({ { "/structures/BBB/raw_json", "Structure BBB cannot be read: "
        .. tostring(err):gsub("^h5: ", "") } }, of_rule(report, "raw_json_readable"))
      assert.same({}, of_rule(report, "raw_json_present"))
      assert.is_false(report.is_valid)
    end)

    it("json_parses reports text that is not a JSON object", function()
      local path = make_store({ { "BAD", '{"identifier": ' }, { "LIST", "[1]" },
        { "OK", good("OK") } })
      assert.same({
        { "/structures/BAD/raw_json", "Invalid JSON in BAD: Expected value but found T_END at "
          .. "character 16" },
        { "/structures/LIST/raw_json", "Invalid JSON in LIST: JSON is not an object" },
      }, of_rule(only(path, "json_parses"), "json_parses"))
    end)

    it("json_parses gives the same findings with or without decoding the tables", function()
      -- alone it only checks syntax (h5.json_check, cjson for what that refuses); next to
      -- a structure check every text is decoded
      local path = make_store({ { "BAD", '{"identifier": ' }, { "LIST", "[1]" },
        { "CTRL", '{"a": "x\1y"}' }, { "DEEP", "{\"a\":" .. ("["):rep(1200) .. ("]"):rep(1200) .. "}" },
        { "LATIN", '{"a": "caf\233"}' }, { "OK", good("OK") } })
      local alone = of_rule(only(path, "json_parses"), "json_parses")
      local along = of_rule(validate.file(path, { rules = { "json_parses", "required_fields" } }),
        "json_parses")
      assert.same(along, alone)
      assert.equal(3, #alone)  -- BAD, LIST, DEEP: not OK, nor LATIN and CTRL, which cjson reads
    end)

    it("hands raw checks the decoded table unless they say decoded = false", function()
      local path = make_store()
      local seen = {}
      validate.file(path, { rules = { "json_parses" }, extra_rules = {
        { name = "wants", severity = "warning",
          raw = function(_, refcode, _, structure) seen[refcode] = type(structure) end },
      } })
      assert.same({ AAA = "table", BBB = "table", CCC = "table" }, seen)
      seen = {}
      validate.file(path, { rules = { "json_parses" }, extra_rules = {
        { name = "skips", severity = "warning", decoded = false,
          raw = function(_, refcode, _, structure) seen[refcode] = type(structure) end },
      } })
      assert.same({ AAA = "nil", BBB = "nil", CCC = "nil" }, seen)
    end)

    it("metadata_creation_date warns about /metadata without creation_date", function()
      local path = make_store()
      local f = h5.open(path, "r+")
      local m = f:require_group("metadata")
      m.attrs.creation_date = nil
      m:close()
      f:close()
      assert.same({ { "/metadata", "Missing creation_date in metadata" } },
        of_rule(only(path, "metadata_creation_date"), "metadata_creation_date"))
      f = h5.open(path, "r+")
      f.metadata.attrs.creation_date = "2024-05-01T12:00:00"
      f:close()
      assert.same({}, only(path, "metadata_creation_date").findings)
    end)

    it("required_fields reports each missing field", function()
      local path = make_store({ { "NOCELL", '{"identifier":"NOCELL"}' } })
      assert.same({
        { "/structures/NOCELL", "Structure NOCELL missing required field 'cell_lengths'" },
        { "/structures/NOCELL", "Structure NOCELL missing required field 'cell_angles'" },
      }, of_rule(only(path, "required_fields"), "required_fields"))
    end)

    it("identifier_matches warns when the identifier is not the refcode", function()
      local path = make_store({ { "AAA", good("ZZZ") } })
      assert.same({ { "/structures/AAA", "Structure AAA has identifier 'ZZZ'" } },
        of_rule(only(path, "identifier_matches"), "identifier_matches"))
    end)

    it("cell_valid reports non-positive lengths and angles outside (0, 180)", function()
      local path = make_store({
        { "NEG", '{"cell_lengths":[5,-1,7],"cell_angles":[90,180,0]}' },
        { "SHORT", '{"cell_lengths":[5,6],"cell_angles":"x"}' },
      })
      assert.same({
        { "/structures/NEG", "Structure NEG: cell length 2 is -1, not a positive number" },
        { "/structures/NEG", "Structure NEG: cell angle 2 is 180, not in (0, 180)" },
        { "/structures/NEG", "Structure NEG: cell angle 3 is 0, not in (0, 180)" },
        { "/structures/SHORT", "Structure SHORT: cell_lengths is not a list of three numbers" },
        { "/structures/SHORT", "Structure SHORT: cell_angles is not a list of three numbers" },
      }, of_rule(only(path, "cell_valid"), "cell_valid"))
    end)

    it("coordinates_finite reports atoms without three finite coordinates", function()
      local path = make_store({ { "NAN", '{"atoms":[{"label":"C1","coords":[0.1,NaN,0.3]},'
        .. '{"label":"C2","coords":[0,0]},{"coords":[1,2,Infinity]},{"label":"C4",'
        .. '"coords":[0,0,0]}]}' } })
      assert.same({
        { "/structures/NAN", "Structure NAN: atom 1 (C1) has no three finite coordinates" },
        { "/structures/NAN", "Structure NAN: atom 2 (C2) has no three finite coordinates" },
        { "/structures/NAN", "Structure NAN: atom 3 has no three finite coordinates" },
      }, of_rule(only(path, "coordinates_finite"), "coordinates_finite"))
    end)

    it("space_group_recognised warns about unknown symbols and mismatched numbers", function()
      local path = make_store({
        { "ODD", good("ODD", "P 99") },
        { "SETTING", good("SETTING", "P 1 21/n 1") },
        { "MISMATCH", '{"space_group":"P 21/c","space_group_number":15}' },
      })
      assert.same({
        { "/structures/MISMATCH", "Structure MISMATCH: space group 'P 21/c' is number 14, not 15" },
        { "/structures/ODD", "Structure ODD: space group 'P 99' not recognised" },
      }, of_rule(only(path, "space_group_recognised"), "space_group_recognised"))
    end)

    it("index_consistency reports stale and missing members and wrong counts", function()
      local path = make_store()
      organize.run(path, "by_space_group")
      assert.same({}, only(path, "index_consistency").findings)
      local s = store.open(path)
      s:write("DDD", good("DDD"))
      s.file:get("structures"):delete("AAA")
      local b = s.file:get("by_space_group/F m -3 m")
      b.attrs.structure_count = 5
      b:get("refcodes"):close()
      b:close()
      s:close()
      assert.same({
        { "/by_space_group/F m -3 m", "Index bucket '/by_space_group/F m -3 m' has "
          .. "structure_count 5 but 1 refcodes" },
        { "/by_space_group/P 21%2Fc", "Index bucket '/by_space_group/P 21%2Fc' lists 1 refcode "
          .. "not in /structures: AAA" },
        { "/by_space_group", "Index '/by_space_group' misses 1 of the 3 structures (0 skipped "
          .. "when built): DDD" },
      }, of_rule(only(path, "index_consistency"), "index_consistency"))
    end)

    it("index_consistency counts the structures the index skipped as expected", function()
      local path = make_store({ { "AAA", good("AAA") }, { "NOSG", '{"identifier":"NOSG"}' } })
      organize.run(path, "by_space_group")
      assert.same({}, only(path, "index_consistency").findings)
      local f = h5.open(path, "r+")
      f:get("by_space_group/P 21%2Fc"):delete("refcodes")
      f:close()
      assert.same({
        { "/by_space_group/P 21%2Fc", "Index bucket '/by_space_group/P 21%2Fc' has no refcodes "
          .. "dataset" },
        { "/by_space_group", "Index '/by_space_group' misses 1 of the 2 structures (1 skipped "
          .. "when built): AAA, NOSG" },
      }, of_rule(only(path, "index_consistency"), "index_consistency"))
    end)

    it("fletcher32 names the rows whose checksums fail", function()
      local path = make_store()
      assert.same({}, only(path, "fletcher32").findings)
      local err = flip_fletcher32(path)
      local report = only(path, "fletcher32")
      assert.same({ { rule = "fletcher32", severity = "error", path = "/x",
        message = "Dataset '/x' fails its checksum in rows 101-200: " .. err } }, report.findings)
      assert.is_false(report.is_valid)
    end)
  end)

  describe("user rules", function()

    it("register() adds a rule that runs by default", function()
      local path = make_store({ { "TINY", '{"identifier":"TINY","cell_lengths":[1,2,3],'
        .. '"cell_angles":[90,90,90]}' } })
      validate.register(dofile(FIXTURES .. "small_cell.lua"))
      local report = validate.file(path)
      assert.same({ { "/structures/TINY", "Structure TINY has a tiny cell" } },
        of_rule(report, "small_cell"))
    end)

    it("register() refuses a rule without checks or with a bad severity", function()
      assert.has_error(function()
        validate.register({ name = "x", severity = "error" })
      end, "rule 'x' registered: it has no check (file, structure, raw or dataset)")
      assert.has_error(function()
        validate.register({ name = "x", severity = "fatal", file = print })
      end, "rule 'x' registered: 'severity' must be \"error\" or \"warning\"")
    end)

    it("are found in <dir>/rules/ on H5LUA_PATH", function()
      local dir = helper.tmpdir()
      os.execute("mkdir -p " .. dir .. "/rules")
      helper.write_file(dir .. "/rules/small_cell.lua",
        helper.read_file(FIXTURES .. "small_cell.lua"))
      local path = make_store({ { "TINY", '{"identifier":"TINY","cell_lengths":[1,2,3],'
        .. '"cell_angles":[90,90,90]}' } })
      local r = helper.h5lua({ "-e", string.format([[
        local v = require "h5lua.validate"
        print(v.rules:source("small_cell"))
        for _, w in ipairs(v.file(%q).warnings) do print(w) end
      ]], path) }, { env = { H5LUA_PATH = dir } })
      assert.equal("", r.stderr)
      assert.equal(dir .. "/rules/small_cell.lua\nStructure TINY has a tiny cell\n", r.stdout)
    end)
  end)

  describe("format() and to_json()", function()

    it("print the same findings as text and as JSON", function()
      local path = make_store({ { "AAA", good("ZZZ") }, { "BAD", "{" } })
      local report = validate.file(path)
      local text = validate.format(report)
      local json = cjson.decode(validate.to_json(report))
      assert.same({ "errors", "file_size_mb", "findings", "groups", "is_valid", "path", "rules",
        "scanned", "structure_count", "warnings" },
        (function() local k = {} for n in pairs(json) do k[#k + 1] = n end table.sort(k)
          return k end)())
      assert.equal(report.is_valid, json.is_valid)
      assert.same(report.errors, json.errors)
      assert.same(report.warnings, json.warnings)
      assert.equal(#report.findings, #json.findings)
      for _, x in ipairs(json.findings) do
        local line = string.format("    - [%s] %s: %s\n", x.rule, x.path, x.message)
        assert.truthy(text:find(line, 1, true), line)
      end
      assert.equal(table.concat({
        "Validation report for " .. path,
        "  Valid: no",
        "  Structures: 2 (2 scanned)",
        string.format("  File size: %.2f MB", report.file_size_mb),
        "  Rules: 12 run",
        "  Errors: 1",
        "    - [json_parses] /structures/BAD/raw_json: Invalid JSON in BAD: Expected object key "
          .. "string but found T_END at character 2",
        "  Warnings: 1",
        "    - [identifier_matches] /structures/AAA: Structure AAA has identifier 'ZZZ'",
        "INVALID: 1 error, 1 warning",
      }, "\n") .. "\n", text)
    end)

    it("write empty lists as JSON arrays", function()
      local json = validate.to_json(validate.file(make_store()))
      assert.truthy(json:find('"errors":[]', 1, true))
      assert.truthy(json:find('"findings":[]', 1, true))
      assert.truthy(json:find('"is_valid":true', 1, true))
    end)
  end)
end)
