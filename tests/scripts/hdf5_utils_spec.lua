-- Specs of scripts/hdf5_utils.lua: each documented example of the seed
-- (../shared/seed/hdf5_utils.rst), translated to Lua, with its documented
-- outcome; then the seed's mistakes that this port fixes.

local h5 = require "h5"
local cjson = require "cjson"
local helper = require "helper"
local hu = require "hdf5_utils"
local store = require "h5lua.store"

-- Collects what the facade prints (the seed's print calls).
local function capture()
  local b = { text = "" }
  function b:write(...)
    for _, s in ipairs({ ... }) do self.text = self.text .. s end
    return self
  end
  hu.output = b
  return b
end

-- The seed's ALANIN example structure.
local function alanin()
  return {
    identifier = "ALANIN",
    cell_lengths = { 5.784, 12.133, 5.955 },
    cell_angles = { 90.0, 90.0, 90.0 },
    space_group = "P n a 21",
    atoms = {
      { label = "N1", symbol = "N", coords = { 0.1, 0.2, 0.3 } },
      { label = "C1", symbol = "C", coords = { 0.15, 0.25, 0.35 } },
    },
  }
end

local function structure(refcode, sg, n)
  local atoms = {}
  for i = 1, n or 2 do atoms[i] = { label = "C" .. i, symbol = "C", coords = { 0.1, 0.2, i / 10 } } end
  return { identifier = refcode, cell_lengths = { 5.0, 6.0, 7.0 }, cell_angles = { 90.0, 90.0, 90.0 },
           space_group = sg, atoms = atoms }
end

describe("hdf5_utils", function()
  before_each(function() capture() end)
  after_each(function()
    hu.output = io.stdout
    helper.assert_no_open_ids()
    helper.cleanup()
  end)

  describe("the seed's documented examples", function()
    it("initialize_hdf5_file: a new file's groups are exactly structures", function()
      local hdf5_path = helper.tmpfile("structures_raw.h5")
      local h5_file = hu.initialize_hdf5_file(hdf5_path, "gzip", 32)
      -- print("Available groups:", list(h5_file.keys()))  # Expected: ['structures']
      assert.same({ "structures" }, h5_file:keys())
      h5_file:close()
    end)

    it("initialize_hdf5_file: the advanced configurations (lzf/128, gzip/16) work alike",
      function()
        local large = hu.initialize_hdf5_file(helper.tmpfile("large_structures.h5"), "lzf", 128)
        local compressed = hu.initialize_hdf5_file(helper.tmpfile("compressed_structures.h5"),
          "gzip", 16)
        assert.same({ "structures" }, large:keys())
        assert.same({ "structures" }, compressed:keys())
        large:close()
        compressed:close()
      end)

    it("initialize_hdf5_file: failing to create the file raises an error to handle", function()
      local ok, err = pcall(hu.initialize_hdf5_file, "/nonexistent-dir/structures.h5")
      assert.is_false(ok)
      assert.matches("^h5: cannot open '/nonexistent%-dir/structures%.h5'", err)
    end)

    it("write_structure_group: ALANIN round-trips through the seed's reading pattern", function()
      local raw_json = store.encode_json(alanin(), { indent = 2 })
      do
        local h5_file <close> = hu.initialize_hdf5_file(helper.tmpfile("structures.h5"))
        hu.write_structure_group(h5_file, "ALANIN", raw_json)
        -- stored_data = h5_file['/structures/ALANIN/raw_json'][()].decode()
        local stored_data = h5_file:get("/structures/ALANIN/raw_json"):read()
        local restored_structure = cjson.decode(stored_data)
        assert.equal(raw_json, stored_data)
        assert.equal("ALANIN", restored_structure.identifier)
        assert.same({ 5.784, 12.133, 5.955 }, restored_structure.cell_lengths)
      end
    end)

    it("write_structure_group: replaces an existing structure", function()
      local f = hu.initialize_hdf5_file(helper.tmpfile())
      hu.write_structure_group(f, "ALANIN", '{"v": 1}')
      hu.write_structure_group(f, "ALANIN", '{"v": 2}')
      assert.equal('{"v": 2}', f:get("structures/ALANIN/raw_json"):read())
      f:close()
    end)

    it("the batch writing pattern stores every structure as compact JSON", function()
      local out = capture()
      -- def write_multiple_structures(h5_file, structure_dict): ...
      local function write_multiple_structures(h5_file, structure_dict)
        local n = 0
        for refcode, structure_data in pairs(structure_dict) do
          local raw_json = store.encode_json(structure_data)  -- separators=(',', ':')
          hu.write_structure_group(h5_file, refcode, raw_json)
          hu.output:write("✓ Stored ", refcode, "\n")
          n = n + 1
        end
        hu.output:write(string.format("Successfully stored %d structures\n", n))
      end
      local f = hu.initialize_hdf5_file(helper.tmpfile())
      write_multiple_structures(f, { AAA = structure("AAA", "P 1"), BBB = structure("BBB", "P -1") })
      assert.same({ "AAA", "BBB" }, f:get("structures"):keys())
      assert.equal(store.encode_json(structure("BBB", "P -1")),
        f:get("structures/BBB/raw_json"):read())
      assert.matches("Successfully stored 2 structures\n$", out.text)
      f:close()
    end)

    it("robust_structure_writing rejects the documented bad inputs and writes good ones",
      function()
        local out = capture()
        -- The seed's robust_structure_writing, translated.
        local function robust_structure_writing(h5_file, refcode, structure_data)
          local ok, err = pcall(function()
            if not refcode or type(refcode) ~= "string" or refcode == "" then
              error("Invalid refcode: must be non-empty string", 0)
            end
            if type(structure_data) ~= "table" then
              error("Structure data must be a dictionary", 0)
            end
            for _, field in ipairs({ "identifier", "cell_lengths", "cell_angles" }) do
              if structure_data[field] == nil then error("Missing required field: " .. field, 0) end
            end
            local raw_json = store.encode_json(structure_data, { indent = 2,
              ensure_ascii = false })
            hu.write_structure_group(h5_file, refcode, raw_json)
          end)
          if not ok then
            hu.output:write(string.format("Error writing structure %s: %s\n", tostring(refcode),
              err))
            return false
          end
          return true
        end
        local f = hu.initialize_hdf5_file(helper.tmpfile())
        assert.is_false(robust_structure_writing(f, "", alanin()))
        assert.is_false(robust_structure_writing(f, 42, alanin()))
        assert.is_false(robust_structure_writing(f, "X", "not a dict"))
        assert.is_false(robust_structure_writing(f, "X", { identifier = "X" }))
        assert.is_true(robust_structure_writing(f, "ALANIN", alanin()))
        assert.equal("Error writing structure : Invalid refcode: must be non-empty string\n"
          .. "Error writing structure 42: Invalid refcode: must be non-empty string\n"
          .. "Error writing structure X: Structure data must be a dictionary\n"
          .. "Error writing structure X: Missing required field: cell_lengths\n", out.text)
        assert.same({ "ALANIN" }, f:get("structures"):keys())
        f:close()
      end)

    it("add_file_metadata and read_file_metadata keep the standard and custom keys", function()
      local out = capture()
      local f = hu.initialize_hdf5_file(helper.tmpfile())
      assert.same({}, hu.read_file_metadata(f))
      hu.add_file_metadata(f, { csa_version = "1.0.0", total_structures = 2,
        stage = "raw_extraction", data_source = "CSD_2024" })
      local m = hu.read_file_metadata(f)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d", m.creation_date)
      assert.equal("1.0.0", m.csa_version)
      assert.equal(2, m.total_structures)
      assert.equal("raw_extraction", m.processing_stage)
      assert.equal("CSD_2024", m.data_source)
      assert.equal("raw_extraction", m.stage)  -- the seed writes 'stage' as a custom key too
      assert.equal(string.format("Added metadata to HDF5 file: {'creation_date': '%s', "
        .. "'csa_version': '1.0.0', 'data_source': 'CSD_2024', 'processing_stage': "
        .. "'raw_extraction', 'stage': 'raw_extraction', 'total_structures': 2}\n",
        m.creation_date), out.text)
      hu.add_file_metadata(f, {})
      assert.equal("unknown", hu.read_file_metadata(f).csa_version)
      assert.equal(0, hu.read_file_metadata(f).total_structures)
      assert.equal("raw", hu.read_file_metadata(f).processing_stage)
      f:close()
    end)

    it("optimize_hdf5_compression gives the seed's strategy table", function()
      local s = hu.optimize_hdf5_compression(nil)
      assert.same({ compression = "gzip", compression_opts = 6, shuffle = true, scaleoffset = 3 },
        s.float64)
      assert.equal(9, hu.optimize_hdf5_compression(nil, 9).string.compression_opts)
    end)

    it("create_compressed_dataset compresses arrays and stores a string plainly", function()
      local f = hu.initialize_hdf5_file(helper.tmpfile())
      local d = hu.create_compressed_dataset(f, "ints", h5.array.from({ 1, 2, 3 }, "int32"))
      assert.equal("int32", d.dtype)
      assert.equal("gzip", d.compression)
      local s = hu.create_compressed_dataset(f, "json", '{"a": 1}')
      assert.equal('{"a": 1}', s:read())
      d:close()
      s:close()
      f:close()
    end)

    it("validate_hdf5_file reports a good store as valid with the seed's fields", function()
      local path = helper.tmpfile()
      local f = hu.create_and_populate_hdf5_file({ AAA = structure("AAA", "P 1"),
        BBB = structure("BBB", "P 21/c") }, path)
      f:close()
      local report = hu.validate_hdf5_file(path)
      assert.is_true(report.is_valid)
      assert.same({}, report.errors)
      assert.equal(2, report.structure_count)
      assert.same({ "AAA", "BBB" }, report.groups)
      assert.is_number(report.file_size_mb)
    end)

    it("validate_hdf5_file reports the seed's errors", function()
      local empty = helper.tmpfile("empty.h5")
      h5.open(empty, "w"):close()
      local report = hu.validate_hdf5_file(empty)
      assert.is_false(report.is_valid)
      assert.same({ "Missing required 'structures' group" }, report.errors)
      local bad = helper.tmpfile("bad.h5")
      helper.write_file(bad, "not hdf5")
      report = hu.validate_hdf5_file(bad)
      assert.is_false(report.is_valid)
      assert.same({ "Failed to open file: h5: cannot open '" .. bad .. "' for reading: not an "
        .. "HDF5 file (file signature not found)" }, report.errors)
    end)

    it("repair_hdf5_file backs up, repacks and reports success", function()
      local out = capture()
      local path = helper.tmpfile("store.h5")
      hu.create_and_populate_hdf5_file({ AAA = structure("AAA", "P 1") }, path):close()
      out.text = ""
      assert.is_true(hu.repair_hdf5_file(path))
      assert.equal("Created backup: " .. path .. ".backup\nSuccessfully repaired " .. path .. "\n",
        out.text)
      assert.is_true(hu.validate_hdf5_file(path).is_valid)
    end)

    it("organize_hdf5_structure indexes by space group and refuses unknown schemes", function()
      local out = capture()
      local path = helper.tmpfile()
      local f = hu.create_and_populate_hdf5_file({ AAA = structure("AAA", "P 21/c"),
        BBB = structure("BBB", "P 21/c"), CCC = structure("CCC", "P -1") }, path)
      out.text = ""
      hu.organize_hdf5_structure(f)
      assert.equal("Organized 3 structures into 2 buckets\n", out.text)
      assert.has_error(function() hu.organize_hdf5_structure(f, "by_colour") end,
        "Unknown organization scheme: by_colour")
      f:close()
    end)

    it("calculate_optimal_chunks follows the seed for float32 data", function()
      assert.is_nil(hu.calculate_optimal_chunks({ 1000, 3 }))
      assert.same({ 262144 }, hu.calculate_optimal_chunks({ 1000000 }))
      assert.same({ 87381, 3 }, hu.calculate_optimal_chunks({ 1000000, 3 }))
      assert.same({ 1, 512, 512 }, hu.calculate_optimal_chunks({ 100, 512, 512 }))
    end)

    it("write_large_dataset is monitored and creates an optimized dataset", function()
      local out = capture()
      local f = hu.initialize_hdf5_file(helper.tmpfile())
      local d = hu.write_large_dataset(f, "big", h5.array.new("float32", { 300000, 3 }))
      assert.equal("gzip", d.compression)
      assert.is_true(d.fletcher32)
      assert.same({ 87381, 3 }, d.chunks)
      assert.matches("^write_large_dataset completed in %d+%.%d%d seconds\n$", out.text)
      d:close()
      f:close()
    end)

    it("memory_efficient_hdf5_copy copies every dataset in blocks, gzip-compressed", function()
      local src = helper.tmpfile("src.h5")
      local f = h5.open(src, "w")
      local a = h5.array.new("float64", { 2500, 4 })
      for i = 1, #a do a[i] = i end
      f:create_group("g"):create_dataset("data", { data = a }):close()
      f:close()
      local dst = helper.tmpfile("dst.h5")
      local r = hu.memory_efficient_hdf5_copy(src, dst, 1000)
      assert.equal(1, r.datasets)
      f = h5.open(dst)
      assert.equal("gzip", f:get("g/data").compression)
      assert.equal(a, f:get("g/data"):read())
      f:close()
    end)

    it("create_and_populate_hdf5_file writes everything and records the counts", function()
      local out = capture()
      local path = helper.tmpfile()
      local data = { ALANIN = alanin(), ["BAD/1"] = structure("BAD", "P 1") }
      local f = hu.create_and_populate_hdf5_file(data, path)
      local meta = hu.read_file_metadata(f)
      assert.equal(1, meta.successful_writes)
      assert.equal(1, meta.failed_writes)
      assert.equal(2, meta.total_structures)
      assert.equal("raw_extraction", meta.processing_stage)
      assert.equal(store.encode_json(alanin(), { indent = 2 }),
        f:get("structures/ALANIN/raw_json"):read())
      assert.matches("Successfully wrote 1 structures\nFailed to write 1 structures:\n"
        .. "  BAD/1: refcode 'BAD/1' must not contain '/'\n$", out.text)
      f:close()
    end)

    it("validate_and_repair_if_needed prints the report and returns validity", function()
      local out = capture()
      local path = helper.tmpfile()
      hu.create_and_populate_hdf5_file({ AAA = structure("AAA", "P 1") }, path):close()
      out.text = ""
      assert.is_true(hu.validate_and_repair_if_needed(path))
      assert.matches("^Validation Report:\n  Valid: True\n  Structures: 1\n  File size: [%d.]+ MB\n",
        out.text)
      local empty = helper.tmpfile("empty.h5")
      h5.open(empty, "w"):close()
      out.text = ""
      assert.is_false(hu.validate_and_repair_if_needed(empty))
      assert.matches("  Errors:\n    %- Missing required 'structures' group\n", out.text)
      assert.matches("Attempting to repair file%.%.%.\n", out.text)
    end)
  end)

  describe("the seed's mistakes, fixed", function()
    it("refuses text that is not JSON (the seed stored anything)", function()
      local f = hu.initialize_hdf5_file(helper.tmpfile())
      assert.has_error(function() hu.write_structure_group(f, "X", "not json") end,
        "cannot write structure 'X': invalid JSON: Expected value but found invalid token at "
        .. "character 1")
      assert.same({}, f:get("structures"):keys())
      f:close()
    end)

    it("chunks use the real item size and never exceed the data", function()
      assert.same({ 131072 }, hu.calculate_optimal_chunks({ 1000000 }, 1.0, "float64"))
      assert.same({ 1, 262144 }, hu.calculate_optimal_chunks({ 3, 1000000 }))
    end)

    it("organizing twice gives the same index, and space groups with '/' work", function()
      local out = capture()
      local path = helper.tmpfile()
      local f = hu.create_and_populate_hdf5_file({ AAA = structure("AAA", "P 21/c"),
        BBB = structure("BBB", "P n a 21") }, path)
      hu.organize_by_space_group(f)
      hu.organize_by_space_group(f)
      assert.matches("Organized 2 structures into 2 space groups\nOrganized 2 structures into 2 "
        .. "space groups\n$", out.text)
      local organize = require "h5lua.organize"
      assert.same({ "P 21/c", "P n a 21" }, organize.buckets(f, "by_space_group"))
      f:close()
    end)

    it("validation checks every structure, not only the first ten", function()
      local path = helper.tmpfile()
      local s = store.open(path, { validate = false })
      for i = 1, 12 do s:write(string.format("R%02d", i), store.encode_json(structure("R", "P 1"))) end
      s:write("R99", '{"broken": ')
      s:close()
      local report = hu.validate_hdf5_file(path)
      assert.is_false(report.is_valid)
      assert.equal(13, report.structure_count)
      assert.equal(10, #report.groups)
      assert.matches("^Invalid JSON in R99", report.errors[1])
    end)

    it("repair never overwrites an earlier backup", function()
      local path = helper.tmpfile("store.h5")
      hu.create_and_populate_hdf5_file({ AAA = structure("AAA", "P 1") }, path):close()
      assert.is_true(hu.repair_hdf5_file(path))
      local first = helper.read_file(path .. ".backup")
      assert.is_true(hu.repair_hdf5_file(path))
      assert.equal(first, helper.read_file(path .. ".backup"))
      assert.is_true(h5.is_hdf5(path .. ".backup.1"))
    end)

    it("memory_efficient_hdf5_copy keeps group attributes, scalars and links", function()
      local src = helper.tmpfile("src.h5")
      local f = h5.open(src, "w")
      f:create_group("metadata").attrs.csa_version = "1.0.0"
      f:create_dataset("scalar", 7):close()
      f:create_dataset("cube", { data = h5.array.new("int32", { 4, 5, 6 }) }):close()
      f:soft_link("/cube", "link")
      f:close()
      local dst = helper.tmpfile("dst.h5")
      hu.memory_efficient_hdf5_copy(src, dst)
      f = h5.open(dst)
      assert.equal("1.0.0", f:get("metadata").attrs.csa_version)
      assert.equal(7, f:get("scalar"):read())
      assert.same({ 4, 5, 6 }, f:get("cube").shape)
      assert.equal("soft", f:link_info("link").kind)
      f:close()
    end)
  end)
end)
