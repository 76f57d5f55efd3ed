local h5 = require "h5"
local helper = require "helper"

describe("filters", function()
  local f
  local numbers = h5.array.range(1, 10000)  -- sum 50005000
  before_each(function() f = h5.open(helper.tmpfile(), "w") end)
  after_each(function()
    f:close()
    helper.assert_no_open_ids()
  end)
  teardown(helper.cleanup)

  local function create(opts)
    opts.data = opts.data or numbers
    return f:create_dataset("v", opts)
  end

  describe("gzip", function()
    it("compresses at level 4 by default, as h5py", function()
      local d = create { compression = "gzip" }
      assert.equal("gzip", d.compression)
      assert.equal(4, d.compression_opts)
      assert.is_true(d.storage_size < d.nbytes)
      assert.equal(50005000, d:read():sum())
    end)

    it("takes a level in compression_opts, or as h5py's legacy compression=N", function()
      assert.equal(9, create({ compression = "gzip", compression_opts = 9 }).compression_opts)
      assert.equal(1, f:create_dataset("w", { data = numbers, compression = 1 }).compression_opts)
    end)

    it("rejects a level out of range", function()
      assert.has_error(function() create { compression = "gzip", compression_opts = 10 } end,
        "bad argument #2 to 'create_dataset' (gzip compression_opts must be an integer level "
          .. "from 0 to 9)")
    end)
  end)

  describe("lzf", function()
    it("round-trips and stores h5py's filter values", function()
      local d = create { compression = "lzf", chunks = { 1000 } }
      assert.equal("lzf", d.compression)
      assert.is_nil(d.compression_opts)
      assert.same({ { id = 32000, name = "lzf", values = { 4, 261, 8000 }, optional = true } },
        d.filters)
      assert.is_true(d.storage_size < d.nbytes)
      assert.equal(numbers, d:read())
    end)

    it("stores incompressible chunks raw", function()
      local noise = h5.array.new("uint8", 4096)
      local x = 12345
      for i = 1, #noise do
        x = (x * 1103515245 + 12345) % 2147483648
        noise[i] = x >> 16 & 255
      end
      local d = create { data = noise, compression = "lzf", chunks = { 4096 } }
      assert.equal(4096, d.storage_size)
      assert.equal(noise, d:read())
    end)

    it("takes no options", function()
      assert.has_error(function() create { compression = "lzf", compression_opts = 1 } end,
        "bad argument #2 to 'create_dataset' (lzf compression takes no compression_opts)")
    end)

    it("is usable by its id", function()
      local d = create { compression = h5.filters.LZF }
      assert.equal("lzf", d.compression)
      assert.equal(numbers, d:read())
    end)
  end)

  describe("szip", function()
    it("uses h5py's default ('nn', 8) and reads back", function()
      local d = create { compression = "szip" }
      assert.equal("szip", d.compression)
      assert.same({ "nn", 8 }, d.compression_opts)
      assert.equal(numbers, d:read())
    end)

    it("takes {'ec', pixels}", function()
      assert.same({ "ec", 16 }, create({ compression = "szip",
        compression_opts = { "ec", 16 } }).compression_opts)
    end)

    it("rejects bad options", function()
      assert.has_error(function() create { compression = "szip", compression_opts = { "xx", 8 } } end,
        "bad argument #2 to 'create_dataset' (szip options must be {'ec' | 'nn', even integer "
          .. "2-32})")
    end)
  end)

  describe("shuffle and fletcher32", function()
    it("are recorded and keep data intact", function()
      local d = create { shuffle = true, fletcher32 = true, compression = "gzip" }
      assert.is_true(d.shuffle)
      assert.is_true(d.fletcher32)
      local names = {}
      for i, filter in ipairs(d.filters) do names[i] = filter.name end
      assert.same({ "shuffle", "gzip", "fletcher32" }, names)
      assert.equal(numbers, d:read())
    end)

    it("make a chunked dataset on their own", function()
      assert.same({ 1250 }, create({ fletcher32 = true }).chunks)  -- h5py guesses the same
    end)
  end)

  describe("scaleoffset", function()
    it("keeps integers exactly with automatic bits", function()
      local d = create { scaleoffset = true }
      assert.equal(0, d.scaleoffset)
      assert.equal(numbers, d:read())
    end)

    it("keeps the given number of decimals of floats", function()
      local d = create { data = h5.array.from({ 1.234, 2.345, 3.456 }), scaleoffset = 2 }
      assert.equal(2, d.scaleoffset)
      local a = d:read()
      assert.near(1.23, a[1], 0.006)
      assert.near(3.46, a[3], 0.006)
    end)

    it("needs decimals for floats and refuses fletcher32", function()
      assert.has_error(function() create { data = { 1.5 }, scaleoffset = true } end,
        "bad argument #2 to 'create_dataset' (scaleoffset for floating-point data needs a number "
          .. "of decimal digits)")
      assert.has_error(function() create { scaleoffset = 0, fletcher32 = true } end,
        "bad argument #2 to 'create_dataset' (fletcher32 cannot be combined with the lossy "
          .. "scaleoffset filter)")
    end)
  end)

  describe("filters by id", function()
    it("refuses a filter HDF5 cannot load", function()
      assert.has_error(function() create { compression = 32001 } end,
        "bad argument #2 to 'create_dataset' (filter 32001 is not available (no plugin in "
          .. "HDF5_PLUGIN_PATH; pass allow_unknown_filter = true to write it anyway))")
    end)

    it("records an unknown optional filter with its values when allowed", function()
      local d = create { compression = 32001, compression_opts = { 1, 2, 3 },
        allow_unknown_filter = true }
      assert.equal(32001, d.compression)
      assert.same({ 1, 2, 3 }, d.compression_opts)
      assert.equal(numbers, d:read())
    end)

    it("rejects unknown compression names", function()
      assert.has_error(function() create { compression = "zstd" } end,
        "bad argument #2 to 'create_dataset' (unknown compression 'zstd' (expected 'gzip', "
          .. "'lzf', 'szip' or a filter id))")
    end)

    it("rejects compression_opts without compression", function()
      assert.has_error(function() create { compression_opts = 4 } end,
        "bad argument #2 to 'create_dataset' (compression_opts given without compression)")
    end)
  end)

  describe("h5.filters.available()", function()
    it("tells which filters can decode and encode", function()
      assert.same({ true, true }, { h5.filters.available("gzip") })
      assert.same({ true, true }, { h5.filters.available("lzf") })
      assert.same({ true, true }, { h5.filters.available(h5.filters.SZIP) })
      assert.same({ false, false }, { h5.filters.available(32001) })
    end)

    it("rejects unknown names", function()
      assert.has_error(function() h5.filters.available("zip") end,
        "bad argument #1 to 'available' (unknown filter 'zip')")
    end)
  end)
end)
