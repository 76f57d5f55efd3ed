-- Specs of scripts/h5lua/layout.lua: chunk shapes and compression strategies.

local h5 = require "h5"
local helper = require "helper"
local layout = require "h5lua.layout"

describe("h5lua.layout", function()
  after_each(function()
    helper.assert_no_open_ids()
    helper.cleanup()
  end)

  describe("calculate_optimal_chunks()", function()
    it("needs no chunks for data smaller than the target", function()
      assert.is_nil(layout.calculate_optimal_chunks({ 100, 3 }, 1.0, "float64"))
      assert.is_nil(layout.calculate_optimal_chunks({ 0 }, 1.0, "float64"))
      assert.is_nil(layout.calculate_optimal_chunks({}, 1.0, "float64"))
    end)

    it("gives the seed's 1-D chunk when the item size is the seed's 4 bytes", function()
      assert.same({ 262144 }, layout.calculate_optimal_chunks({ 1000000 }, 1.0))
      assert.same({ 262144 }, layout.calculate_optimal_chunks({ 1000000 }, 1.0, "float32"))
    end)

    it("uses the real item size (half the elements for float64)", function()
      assert.same({ 131072 }, layout.calculate_optimal_chunks({ 1000000 }, 1.0, "float64"))
      assert.same({ 131072 }, layout.calculate_optimal_chunks({ 1000000 }, 1.0, 8))
      assert.same({ 43690, 3 }, layout.calculate_optimal_chunks({ 1000000, 3 }, 1.0, "float64"))
    end)

    it("never gives a chunk larger than the data", function()
      for _, shape in ipairs({ { 300000 }, { 70000, 2 }, { 5, 100000 }, { 3, 7, 20000 } }) do
        local c = layout.calculate_optimal_chunks(shape, 0.5, "float64")
        for i = 1, #shape do
          assert.is_true(c[i] >= 1 and c[i] <= shape[i], table.concat(c, ","))
        end
      end
    end)

    it("cuts a row that alone exceeds the target (the seed kept it whole)", function()
      assert.same({ 1, 131072 }, layout.calculate_optimal_chunks({ 10, 1000000 }, 1.0, "float64"))
    end)

    it("stacks whole slices of 3-D data up to the target (the seed used one)", function()
      assert.same({ 436, 100, 3 }, layout.calculate_optimal_chunks({ 100000, 100, 3 }, 1.0,
        "float64"))
      assert.same({ 1, 1024, 1024 }, layout.calculate_optimal_chunks({ 4, 1024, 1024 }, 1.0,
        "uint8"))
      assert.same({ 1, 1, 128, 1024 }, layout.calculate_optimal_chunks({ 2, 2, 1024, 1024 }, 1.0,
        "float64"))
    end)

    it("refuses a bad shape, size or dtype", function()
      assert.has_error(function() layout.calculate_optimal_chunks({ 1.5 }) end,
        "calculate_optimal_chunks: data_shape must be a list of sizes")
      assert.has_error(function() layout.calculate_optimal_chunks({ 10 }, 0) end,
        "calculate_optimal_chunks: target_chunk_size_mb must be a positive number")
      assert.has_error(function() layout.calculate_optimal_chunks({ 10 }, 1, "complex") end,
        "calculate_optimal_chunks: unknown dtype 'complex'")
    end)
  end)

  describe("compression strategies", function()
    it("are the seed's table", function()
      assert.same({
        float32 = { compression = "gzip", compression_opts = 6, shuffle = true, scaleoffset = 2 },
        float64 = { compression = "gzip", compression_opts = 6, shuffle = true, scaleoffset = 3 },
        int32 = { compression = "gzip", compression_opts = 6, shuffle = true },
        string = { compression = "gzip", compression_opts = 6 },
      }, layout.compression_strategies())
      assert.equal(9, layout.compression_strategies(9).int32.compression_opts)
    end)

    it("cover integers of every width, float16 and strings", function()
      assert.same(layout.compression_strategies().int32, layout.strategy_for("int64"))
      assert.same(layout.compression_strategies().int32, layout.strategy_for("uint8"))
      assert.same(layout.compression_strategies().float32, layout.strategy_for("float16"))
      assert.same(layout.compression_strategies().string,
        layout.strategy_for("string(utf-8, variable)"))
      assert.same({ nil, "no compression strategy for dtype 'compound{x: int8}'" },
        { layout.strategy_for("compound{x: int8}") })
    end)
  end)

  describe("creating datasets", function()
    it("compresses numbers with their strategy (lossy scale-offset for floats, as the seed)",
      function()
        local path = helper.tmpfile()
        local f = h5.open(path, "w")
        local ints = layout.create_compressed_dataset(f, "ints", { 1, 2, 3, 4 })
        assert.equal("int64", ints.dtype)
        assert.equal("gzip", ints.compression)
        assert.is_true(ints.shuffle)
        local floats = layout.create_compressed_dataset(f, "floats", { 0.12345, 1.5 })
        assert.equal(3, floats.scaleoffset)
        local f32 = layout.create_compressed_dataset(f, "f32", { 1.0, 2.0 }, "float32")
        assert.equal("float32", f32.dtype)
        assert.equal(2, f32.scaleoffset)
        local strings = layout.create_compressed_dataset(f, "strings", { "a", "b" })
        assert.equal("gzip", strings.compression)
        assert.is_nil(strings.scaleoffset)
        for _, d in ipairs({ ints, floats, f32, strings }) do d:close() end
        f:close()
        f = h5.open(path)
        -- 3 decimal digits kept, counted from the minimum (HDF5's D-scale)
        assert.near(1.50045, f:get("floats"):read()[2], 1e-12)
        f:close()
      end)

    it("stores a single string without filters, which HDF5 cannot apply to it", function()
      local path = helper.tmpfile()
      local f = h5.open(path, "w")
      local d = layout.create_compressed_dataset(f, "raw_json", '{"a": 1}')
      assert.same({}, d.shape)
      assert.is_nil(d.compression)
      assert.equal('{"a": 1}', d:read())
      d:close()
      f:close()
    end)

    it("create optimized datasets with gzip 6, shuffle, fletcher32 and computed chunks",
      function()
        local path = helper.tmpfile()
        local f = h5.open(path, "w")
        local a = h5.array.new("float64", { 200000, 3 })
        a:fill(0.5)
        local d = layout.create_optimized_dataset(f, "coords", a)
        assert.same({ 43690, 3 }, d.chunks)
        assert.equal("gzip", d.compression)
        assert.equal(6, d.compression_opts)
        assert.is_true(d.shuffle)
        assert.is_true(d.fletcher32)
        assert.equal(0.5, d:read(200000, 3))
        local small = layout.create_optimized_dataset(f, "small", { 1, 2, 3 })
        assert.same({ 3 }, small.chunks)
        assert.is_true(small.fletcher32)
        d:close()
        small:close()
        f:close()
      end)
  end)
end)
