--- Dataset layout: chunk shapes and compression strategies, as the seed's
-- `calculate_optimal_chunks`, `optimize_hdf5_compression`,
-- `create_compressed_dataset` and `create_optimized_dataset`, with the
-- seed's mistakes fixed (see STORE.md):
--
-- * chunk sizes use the data's real item size, not 4 bytes for everything;
-- * a chunk never exceeds the data in any dimension, nor (beyond one
--   element per dimension) the target size: 3-D and higher data stack
--   whole trailing slices up to the target instead of the seed's fixed
--   (1, d1, d2, ...), which made tiny chunks for small slices and
--   oversized ones for big slices;
-- * integers of every width get the integer strategy (the seed's table
--   only knew 'int32', so NumPy's default int64 raised KeyError);
-- * scalars (a single string or number) are stored without filters, which
--   HDF5 cannot apply to them (the seed's string path failed in h5py).
--
--   local layout = require "h5lua.layout"
--   layout.calculate_optimal_chunks({1000000, 3}, 1.0, "float64")  --> {43690, 3}
--   layout.create_optimized_dataset(f, "coords", h5.array.new("float64", {1e6, 3}))
local layout = {}

local format = string.format

--- Bytes per element of the array dtypes (strings count as a pointer-sized
-- heap reference, 16 bytes in the file).
layout.ITEMSIZE = {
  int8 = 1, uint8 = 1, int16 = 2, uint16 = 2, int32 = 4, uint32 = 4, int64 = 8, uint64 = 8,
  float16 = 2, float32 = 4, float64 = 8, bool = 1, string = 16,
}

--- Item size in bytes of a dtype name ("float64", "int32", "string(...)"), or nil.
-- @tparam string dtype
-- @treturn integer|nil
function layout.itemsize(dtype)
  if type(dtype) ~= "string" then return nil end
  if dtype:find("^string") then return layout.ITEMSIZE.string end
  return layout.ITEMSIZE[dtype]
end

local function product(t, first, last)
  local p = 1
  for i = first or 1, last or #t do p = p * t[i] end
  return p
end

--- The seed's calculate_optimal_chunks, fixed: a chunk shape of about
-- target_chunk_size_mb for data of the given shape, or nil when the whole
-- data is smaller than that (no chunking needed).
-- Leading dimensions are cut first; trailing ones are kept whole as long as
-- they fit, so rows (2-D) and slices (3-D+) stay together.
-- @tparam {integer,...} data_shape
-- @tparam[opt=1.0] number target_chunk_size_mb
-- @tparam[opt=4] integer|string itemsize bytes per element, or a dtype name
--   (the seed assumed 4 bytes for everything)
-- @treturn {integer,...}|nil
function layout.calculate_optimal_chunks(data_shape, target_chunk_size_mb, itemsize)
  if type(data_shape) ~= "table" then
    error("calculate_optimal_chunks: data_shape must be a list of sizes", 2)
  end
  target_chunk_size_mb = target_chunk_size_mb or 1.0
  if type(itemsize) == "string" then
    local n = layout.itemsize(itemsize)
    if not n then error(format("calculate_optimal_chunks: unknown dtype '%s'", itemsize), 2) end
    itemsize = n
  end
  itemsize = itemsize or 4
  if type(target_chunk_size_mb) ~= "number" or target_chunk_size_mb <= 0 then
    error("calculate_optimal_chunks: target_chunk_size_mb must be a positive number", 2)
  end
  local rank = #data_shape
  if rank == 0 then return nil end
  for i = 1, rank do
    local d = data_shape[i]
    if type(d) ~= "number" or d ~= math.floor(d) or d < 0 then
      error("calculate_optimal_chunks: data_shape must be a list of sizes", 2)
    end
  end
  local target_bytes = target_chunk_size_mb * 1024 * 1024
  if product(data_shape) * itemsize <= target_bytes then return nil end
  local target = math.max(1, math.floor(target_bytes / itemsize))  -- elements per chunk
  local chunks = {}
  for i = 1, rank do chunks[i] = math.max(1, math.floor(data_shape[i])) end
  for i = 1, rank do
    local rest = product(chunks, i + 1)
    if chunks[i] * rest <= target then break end
    chunks[i] = math.max(1, math.min(chunks[i], target // rest))
    if rest <= target then break end
  end
  return chunks
end

--- The seed's compression strategies per dtype (optimize_hdf5_compression).
-- Note: the float strategies use the scale-offset filter with 2 (float32)
-- or 3 (float64) decimal digits, which is lossy, as in the seed.
-- @tparam[opt=6] integer compression_level gzip level 0-9
-- @treturn table dtype -> create_dataset options
function layout.compression_strategies(compression_level)
  local level = compression_level or 6
  return {
    float32 = { compression = "gzip", compression_opts = level, shuffle = true, scaleoffset = 2 },
    float64 = { compression = "gzip", compression_opts = level, shuffle = true, scaleoffset = 3 },
    int32 = { compression = "gzip", compression_opts = level, shuffle = true },
    string = { compression = "gzip", compression_opts = level },
  }
end

--- The strategy for a dtype name: the seed's entry, integers of any width
-- (and bool) as int32, float16 as float32, strings as string.
-- @tparam string dtype
-- @tparam[opt=6] integer compression_level
-- @treturn[1] table options (a fresh copy)
-- @treturn[2] nil
-- @treturn[2] string "no compression strategy for dtype 'X'"
function layout.strategy_for(dtype, compression_level)
  local strategies = layout.compression_strategies(compression_level)
  local key
  if type(dtype) == "string" then
    if dtype:find("^string") then key = "string"
    elseif dtype:find("^u?int%d+$") or dtype == "bool" then key = "int32"
    elseif dtype == "float16" or dtype == "float32" then key = "float32"
    elseif dtype == "float64" then key = "float64"
    end
  end
  if not key then return nil, format("no compression strategy for dtype '%s'", tostring(dtype)) end
  local out = {}
  for k, v in pairs(strategies[key]) do out[k] = v end
  return out
end

-- Shape and dtype of Lua data as create_dataset stores it: an h5.Array,
-- a (nested) table of numbers, strings or booleans, or a single value.
local function describe(data)
  local t = type(data)
  if t == "userdata" then
    local mt = getmetatable(data)
    if type(mt) == "table" and mt.__name == "h5.Array" then return data.shape, data.dtype end
    error("expected data as an h5.Array, a table or a value, got an " .. tostring(data), 3)
  end
  if t == "string" then return {}, "string" end
  if t == "boolean" then return {}, "bool" end
  if t == "number" then return {}, math.type(data) == "integer" and "int64" or "float64" end
  if t ~= "table" then error("expected data as an h5.Array, a table or a value, got " .. t, 3) end
  local shape, v = {}, data
  while type(v) == "table" do
    shape[#shape + 1] = #v
    v = v[1]
  end
  -- the element type: any float makes float64, as create_dataset does
  local dtype = "int64"
  local function scan(x)
    local tx = type(x)
    if tx == "table" then
      for i = 1, #x do scan(x[i]) end
    elseif tx == "string" then dtype = "string"
    elseif tx == "boolean" then if dtype == "int64" then dtype = "bool" end
    elseif tx == "number" and math.type(x) == "float" and dtype ~= "string" then
      dtype = "float64"
    end
  end
  scan(data)
  return shape, dtype
end
layout.describe = describe

--- The seed's create_compressed_dataset: the compression strategy of the
-- data's dtype (or dtype_hint). A single value (scalar) is stored without
-- filters, which HDF5 cannot apply to scalars.
-- @tparam h5.Group group (or File)
-- @tparam string name
-- @param data h5.Array, (nested) table, string or number
-- @tparam[opt] string dtype_hint a key of the strategy table ("float32", ...)
-- @treturn h5.Dataset
function layout.create_compressed_dataset(group, name, data, dtype_hint)
  local shape, dtype = describe(data)
  local key = dtype_hint or dtype
  local opts, why = layout.strategy_for(key)
  if not opts then error(why, 2) end
  opts.data = data
  if #shape == 0 then
    return group:create_dataset(name, { data = data })
  end
  if dtype_hint and layout.ITEMSIZE[dtype_hint] and dtype ~= "string" then
    opts.dtype = dtype_hint
  end
  if dtype == "string" then opts.scaleoffset = nil end
  return group:create_dataset(name, opts)
end

--- The seed's create_optimized_dataset: gzip level 6, shuffle, fletcher32,
-- and chunks from calculate_optimal_chunks with the data's real item size
-- (HDF5's guess, as h5py's, when the data is smaller than one chunk).
-- A scalar is stored plainly.
-- @tparam h5.Group group (or File)
-- @tparam string name
-- @param data h5.Array, (nested) table, string or number
-- @tparam[opt=1.0] number chunk_size_mb
-- @treturn h5.Dataset
function layout.create_optimized_dataset(group, name, data, chunk_size_mb)
  local shape, dtype = describe(data)
  if #shape == 0 then return group:create_dataset(name, { data = data }) end
  local chunks = layout.calculate_optimal_chunks(shape, chunk_size_mb or 1.0,
    layout.itemsize(dtype) or 8)
  return group:create_dataset(name, { data = data, chunks = chunks, compression = "gzip",
    compression_opts = 6, shuffle = true, fletcher32 = true })
end

return layout
