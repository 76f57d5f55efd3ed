--- The seed's `hdf5_utils` in Lua: every function of
-- ../shared/seed/hdf5_utils.rst under its name and argument order, with the
-- seed's results as Lua values. The work is done by the h5lua modules
-- (store, layout, copy, perf, validate, repair, organize); this file only
-- maps the seed's names onto them and prints what the seed prints.
--
--   local hu = require "hdf5_utils"
--   local f <close> = hu.initialize_hdf5_file("structures.h5")
--   hu.write_structure_group(f, "ALANIN", raw_json)
--
-- Differences from the seed, all deliberate (STORE.md lists them): JSON is
-- checked before it is stored; new files use new-style groups (libver v108)
-- unless `{libver = "earliest"}` is passed; chunk sizes use the real item
-- size; organizing can run twice and handles space groups with '/';
-- validation scans every structure; repair never overwrites a backup;
-- memory_efficient_hdf5_copy copies every rank, group attributes and links.
--
-- Messages the seed prints go to `hdf5_utils.output` (io.stdout; set it to
-- any object with a write method, or false for silence).
local h5 = require "h5"
local store = require "h5lua.store"
local layout = require "h5lua.layout"
local perf = require "h5lua.perf"

local hdf5_utils = {}

local format = string.format

hdf5_utils.output = io.stdout

local function say(fmt, ...)
  local out = hdf5_utils.output
  if out then out:write(format(fmt, ...), "\n") end
end

-- Python's repr of a value, for the messages the seed prints.
local function repr(v)
  local t = type(v)
  if t == "string" then return "'" .. v:gsub("\\", "\\\\"):gsub("'", "\\'") .. "'" end
  if t == "boolean" then return v and "True" or "False" end
  if t == "number" then
    if math.type(v) == "integer" then return format("%d", v) end
    if v == math.floor(v) and math.abs(v) < 1e16 then return format("%.1f", v) end
    return format("%.17g", v):gsub("(%.%d-)0+$", "%1")
  end
  if t == "table" then
    if #v > 0 then
      local parts = {}
      for i, x in ipairs(v) do parts[i] = repr(x) end
      return "[" .. table.concat(parts, ", ") .. "]"
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    local parts = {}
    for i, k in ipairs(keys) do parts[i] = repr(k) .. ": " .. repr(v[k]) end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return tostring(v)
end
hdf5_utils.repr = repr

local function is_file(v)
  local mt = type(v) == "userdata" and getmetatable(v)
  return type(mt) == "table" and mt.__name == "h5.File"
end

local function as_path(p)
  if type(p) ~= "string" then error("expected a path (string), got " .. type(p), 3) end
  return p
end

---------------------------------------------------------------------------
-- Core functions
---------------------------------------------------------------------------

local COMPRESSIONS = { gzip = true, lzf = true, szip = true }

--- Create or open a store file in append mode with its /structures group.
-- compression and chunk_size are the seed's suggestions for datasets made
-- later; they are checked, and (as in the seed) leave the file unchanged.
-- @tparam string hdf5_path
-- @tparam[opt="gzip"] string compression "gzip", "lzf" or "szip"
-- @tparam[opt=64] integer chunk_size
-- @tparam[opt] table opts for store.open (libver, ...)
-- @treturn h5.File open for writing (close it, or use `local f <close> = ...`)
-- @raise "h5: cannot open ..." when the file cannot be created or opened
function hdf5_utils.initialize_hdf5_file(hdf5_path, compression, chunk_size, opts)
  as_path(hdf5_path)
  compression = compression or "gzip"
  chunk_size = chunk_size or 64
  if not COMPRESSIONS[compression] then
    error(format("initialize_hdf5_file: unknown compression '%s'", tostring(compression)), 2)
  end
  if math.type(chunk_size) ~= "integer" or chunk_size <= 0 then
    error("initialize_hdf5_file: chunk_size must be a positive integer", 2)
  end
  local o = { mode = "a" }
  for k, v in pairs(opts or {}) do o[k] = v end
  local s = store.open(hdf5_path, o)
  local f = s.file
  s.owns = false
  s:close()
  return f
end

--- Write /structures/<refcode>/raw_json (replacing it), byte for byte.
-- @tparam h5.File h5_file
-- @tparam string refcode
-- @tparam string raw_json
-- @raise "cannot write structure ..." for a bad refcode or JSON
function hdf5_utils.write_structure_group(h5_file, refcode, raw_json)
  if not is_file(h5_file) then error("write_structure_group: expected an h5.File", 2) end
  local s = store.open(h5_file)
  local ok, err = pcall(s.write, s, refcode, raw_json)
  s:close()
  if not ok then error(err, 0) end
end

---------------------------------------------------------------------------
-- Metadata
---------------------------------------------------------------------------

local STANDARD = { creation_date = true, csa_version = true, total_structures = true,
                   processing_stage = true }

--- The seed's add_file_metadata: /metadata attributes creation_date (now),
-- csa_version, total_structures, processing_stage (from `stage`), and every
-- other key as given. Prints "Added metadata to HDF5 file: {...}".
-- @tparam h5.File h5_file
-- @tparam table metadata_dict
function hdf5_utils.add_file_metadata(h5_file, metadata_dict)
  if not is_file(h5_file) then error("add_file_metadata: expected an h5.File", 2) end
  metadata_dict = metadata_dict or {}
  local g = h5_file:require_group("metadata")
  local attrs = g.attrs
  attrs.creation_date = perf.isotime()
  attrs.csa_version = metadata_dict.csa_version or "unknown"
  attrs.total_structures = metadata_dict.total_structures or 0
  attrs.processing_stage = metadata_dict.stage or "raw"
  local keys = {}
  for k in pairs(metadata_dict) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    if not STANDARD[k] then attrs[k] = metadata_dict[k] end
  end
  local all = {}
  for k, v in pairs(attrs) do all[k] = v end
  g:close()
  say("Added metadata to HDF5 file: %s", repr(all))
end

--- The attributes of /metadata ({} without it).
-- @tparam h5.File h5_file
-- @treturn table
function hdf5_utils.read_file_metadata(h5_file)
  if not is_file(h5_file) then error("read_file_metadata: expected an h5.File", 2) end
  local g = h5_file:get("metadata")
  if not g then return {} end
  local out = {}
  for k, v in pairs(g.attrs) do out[k] = v end
  g:close()
  return out
end

---------------------------------------------------------------------------
-- Compression and layout
---------------------------------------------------------------------------

--- The seed's compression strategies per dtype (the path is unused, as in
-- the seed).
-- @param h5_file_path ignored
-- @tparam[opt=6] integer compression_level
-- @treturn table dtype -> options
function hdf5_utils.optimize_hdf5_compression(h5_file_path, compression_level) -- luacheck: ignore
  return layout.compression_strategies(compression_level or 6)
end

--- See layout.create_compressed_dataset.
function hdf5_utils.create_compressed_dataset(h5_group, name, data, dtype_hint)
  return layout.create_compressed_dataset(h5_group, name, data, dtype_hint)
end

--- See layout.calculate_optimal_chunks (itemsize is this port's addition).
function hdf5_utils.calculate_optimal_chunks(data_shape, target_chunk_size_mb, itemsize)
  return layout.calculate_optimal_chunks(data_shape, target_chunk_size_mb, itemsize)
end

--- See layout.create_optimized_dataset.
function hdf5_utils.create_optimized_dataset(h5_group, name, data, chunk_size_mb)
  return layout.create_optimized_dataset(h5_group, name, data, chunk_size_mb)
end

--- The seed's monitor decorator: fn wrapped to print "<name> completed in
-- X.XX seconds" (Lua functions have no names: pass one).
-- @tparam function func
-- @tparam[opt="function"] string name
-- @treturn function
function hdf5_utils.monitor_hdf5_performance(func, name)
  return perf.monitor(func, name, {
    write = function(_, ...)
      local out = hdf5_utils.output
      if out then out:write(...) end
    end,
  })
end

--- The seed's write_large_dataset: create_optimized_dataset, monitored.
function hdf5_utils.write_large_dataset(h5_file, dataset_name, data)
  return hdf5_utils.monitor_hdf5_performance(function()
    return layout.create_optimized_dataset(h5_file, dataset_name, data)
  end, "write_large_dataset")()
end

--- Copy a file block by block (chunk_size rows at most per block), every
-- dataset re-created with gzip as in the seed; see h5lua.copy.
-- @tparam string source_path
-- @tparam string dest_path
-- @tparam[opt=1000] integer chunk_size rows per block
-- @treturn table the copy's result (counts)
function hdf5_utils.memory_efficient_hdf5_copy(source_path, dest_path, chunk_size)
  local copy = require "h5lua.copy"
  return copy.file(as_path(source_path), as_path(dest_path), {
    block_rows = chunk_size or 1000, compression = "gzip", overwrite = true })
end

---------------------------------------------------------------------------
-- Validation, repair, organization (their own modules)
---------------------------------------------------------------------------

--- The seed's validation report: is_valid, errors, warnings,
-- structure_count, groups (first ten refcodes), file_size_mb; every
-- structure is checked (the seed looked at ten). See h5lua.validate.
-- @tparam string h5_file_path
-- @treturn table report
function hdf5_utils.validate_hdf5_file(h5_file_path)
  local validate = require "h5lua.validate"
  return validate.file(as_path(h5_file_path))
end

--- Repair a file in place, keeping a backup that never overwrites an
-- earlier one; prints what the seed prints. See h5lua.repair.
-- @tparam string h5_file_path
-- @tparam[opt=true] boolean backup
-- @treturn boolean whether the file was repaired
function hdf5_utils.repair_hdf5_file(h5_file_path, backup)
  local repair = require "h5lua.repair"
  local result = repair.file(as_path(h5_file_path), { backup = backup ~= false })
  if result.backup then say("Created backup: %s", result.backup) end
  if result.ok then
    say("Successfully repaired %s", h5_file_path)
  else
    say("Failed to repair file: %s", result.message or "unknown error")
  end
  return result.ok and true or false
end

local function organize_with(h5_file, scheme, what)
  local organize = require "h5lua.organize"
  if is_file(h5_file) and not h5_file:exists("structures") then return nil end
  local summary = organize.run(h5_file, scheme)
  say("Organized %d structures into %d %s", summary.structures, summary.buckets, what)
  return summary
end

--- Build the index of a scheme ("by_space_group", "by_composition",
-- "by_size", or any registered scheme).
-- @tparam h5.File|string h5_file
-- @tparam[opt="by_space_group"] string organization_scheme
-- @treturn table organize's summary (nil when there is no /structures)
-- @raise "Unknown organization scheme: X"
function hdf5_utils.organize_hdf5_structure(h5_file, organization_scheme)
  local organize = require "h5lua.organize"
  organization_scheme = organization_scheme or "by_space_group"
  if not organize.get(organization_scheme) then
    error("Unknown organization scheme: " .. tostring(organization_scheme), 2)
  end
  return organize_with(h5_file, organization_scheme, "buckets")
end

--- /by_space_group index (space groups with '/' work; runs twice fine).
function hdf5_utils.organize_by_space_group(h5_file)
  return organize_with(h5_file, "by_space_group", "space groups")
end

--- /by_composition index.
function hdf5_utils.organize_by_composition(h5_file)
  return organize_with(h5_file, "by_composition", "compositions")
end

--- /by_size index.
function hdf5_utils.organize_by_size(h5_file)
  return organize_with(h5_file, "by_size", "size classes")
end

---------------------------------------------------------------------------
-- Integration examples
---------------------------------------------------------------------------

--- The seed's pipeline: initialize, metadata, write every structure
-- (JSON with indent 2, as the seed's json.dumps), record successful_writes
-- and failed_writes, print a summary.
-- @tparam table structures_data refcode -> structure table (or JSON text)
-- @tparam string output_path
-- @tparam[opt] table opts for store.open (libver, ...)
-- @treturn h5.File the open file (close it)
function hdf5_utils.create_and_populate_hdf5_file(structures_data, output_path, opts)
  local f = hdf5_utils.initialize_hdf5_file(output_path, "gzip", nil, opts)
  local ok, err = pcall(function()
    local n = 0
    for _ in pairs(structures_data) do n = n + 1 end
    hdf5_utils.add_file_metadata(f, { csa_version = "1.0.0", total_structures = n,
      stage = "raw_extraction", data_source = "CSD_2024" })
    local items = {}
    for refcode, data in pairs(structures_data) do
      local text = data
      if type(data) == "table" then
        local eok, encoded = pcall(store.encode_json, data, { indent = 2 })
        text = eok and encoded or data
      end
      items[#items + 1] = { refcode, text }
    end
    table.sort(items, function(a, b) return tostring(a[1]) < tostring(b[1]) end)
    local s = store.open(f)
    local wok, result = pcall(s.write_many, s, items, { on_error = "collect", log = false })
    s:close()
    if not wok then error(result, 0) end
    local meta = f:get("metadata")
    meta.attrs.successful_writes = result.written
    meta.attrs.failed_writes = #result.failed
    meta:close()
    say("Successfully wrote %d structures", result.written)
    if #result.failed > 0 then
      say("Failed to write %d structures:", #result.failed)
      for i = 1, math.min(5, #result.failed) do
        local e = result.failed[i]
        say("  %s: %s", tostring(e.refcode), e.error)
      end
    end
  end)
  if not ok then
    f:close()
    error(err, 0)
  end
  return f
end

--- Validate, print the report, repair when invalid, and validate again.
-- @tparam string h5_file_path
-- @treturn boolean whether the file was valid at first
function hdf5_utils.validate_and_repair_if_needed(h5_file_path)
  local report = hdf5_utils.validate_hdf5_file(h5_file_path)
  say("Validation Report:")
  say("  Valid: %s", report.is_valid and "True" or "False")
  say("  Structures: %d", report.structure_count)
  say("  File size: %s MB", repr(report.file_size_mb))
  if #report.errors > 0 then
    say("  Errors:")
    for _, e in ipairs(report.errors) do say("    - %s", e) end
  end
  if #report.warnings > 0 then
    say("  Warnings:")
    for _, w in ipairs(report.warnings) do say("    - %s", w) end
  end
  if not report.is_valid then
    say("\nAttempting to repair file...")
    if hdf5_utils.repair_hdf5_file(h5_file_path) then
      local again = hdf5_utils.validate_hdf5_file(h5_file_path)
      if again.is_valid then
        say("File successfully repaired and validated")
      else
        say("Repair attempt failed")
      end
    else
      say("Could not repair file")
    end
  end
  return report.is_valid
end

hdf5_utils.h5 = h5

return hdf5_utils
