local h5 = require "h5"
local helper = require "helper"

describe("h5.array", function()
  after_each(helper.assert_no_open_ids)
  teardown(helper.cleanup)

  describe("new()", function()
    it("makes an array of zeros with a dtype and a shape", function()
      local a = h5.array.new("float64", { 2, 3 })
      assert.equal("float64", a.dtype)
      assert.same({ 2, 3 }, a.shape)
      assert.equal(2, a.ndim)
      assert.equal(6, a.size)
      assert.equal(48, a.nbytes)
      assert.equal(6, #a)
      assert.same({ { 0, 0, 0 }, { 0, 0, 0 } }, a:totable())
    end)

    it("fills with a value and accepts an integer shape", function()
      assert.same({ 7, 7, 7 }, h5.array.new("int32", 3, 7):totable())
    end)

    it("makes a single value from an empty shape", function()
      local a = h5.array.new("uint8", {}, 5)
      assert.equal(0, a.ndim)
      assert.equal(1, #a)
      assert.equal(5, a:totable())
    end)

    it("is also reached by calling h5.array itself", function()
      local a = h5.array("int32", { 2, 2 }, 3)
      assert.equal("int32", a.dtype)
      assert.same({ { 3, 3 }, { 3, 3 } }, a:totable())
      assert.same({ 0, 0 }, h5.array("float64", 2):totable())
      assert.has_error(function() h5.array("float65", 1) end,
        "bad argument #1 to 'array' (unknown array dtype 'float65' (expected int8, uint8, ..., "
          .. "int64, uint64, float32, float64 or bool))")
    end)

    it("rejects unknown dtypes", function()
      assert.has_error(function() h5.array.new("float65", 1) end,
        "bad argument #1 to 'new' (unknown array dtype 'float65' (expected int8, uint8, ..., "
          .. "int64, uint64, float32, float64 or bool))")
    end)
  end)

  describe("from()", function()
    it("infers int64 from integers", function()
      local a = h5.array.from({ 1, 2, 3 })
      assert.equal("int64", a.dtype)
      assert.equal("integer", math.type(a[1]))
    end)

    it("infers float64 when any number is a float", function()
      assert.equal("float64", h5.array.from({ 1, 2.5 }).dtype)
    end)

    it("infers bool from booleans", function()
      local a = h5.array.from({ true, false })
      assert.equal("bool", a.dtype)
      assert.same({ true, false }, a:totable())
    end)

    it("takes the shape of nested tables", function()
      local a = h5.array.from({ { 1, 2 }, { 3, 4 }, { 5, 6 } })
      assert.same({ 3, 2 }, a.shape)
      assert.equal(4, a:get(2, 2))
    end)

    it("converts to a given dtype, checking the range", function()
      assert.equal("uint8", h5.array.from({ 1, 255 }, "uint8").dtype)
      assert.has_error(function() h5.array.from({ 1, 256 }, "uint8") end,
        "bad argument #1 to 'from' (value out of range for uint8)")
    end)

    it("rejects ragged tables and other values", function()
      assert.has_error(function() h5.array.from({ { 1, 2 }, { 3 } }) end,
        "bad argument #1 to 'from' (nested tables are not rectangular (rows differ in length))")
      assert.has_error(function() h5.array.from({ 1, "2" }) end,
        "bad argument #1 to 'from' (arrays hold numbers or booleans)")
    end)
  end)

  describe("bytes", function()
    it("round-trips a Lua string through frombytes() and tobytes()", function()
      local s = "\0\1\2\255abc"
      local a = h5.array.frombytes(s)
      assert.equal("uint8", a.dtype)
      assert.same({ 7 }, a.shape)
      assert.equal(255, a[4])
      assert.equal(s, a:tobytes())
    end)
  end)

  describe("indexing", function()
    it("reads and writes flat 1-based elements, negative from the end", function()
      local a = h5.array.from({ 10, 20, 30 })
      assert.equal(10, a[1])
      assert.equal(30, a[-1])
      a[2] = 25
      assert.equal(25, a[2])
    end)

    it("reads and writes by one index per dimension", function()
      local a = h5.array.new("int16", { 2, 3 })
      a:set(9, 2, 3)
      assert.equal(9, a:get(2, 3))
      assert.equal(9, a[6])
      a:set(7, -1, 1)  -- value first, then the indices, negative from the end
      assert.equal(7, a:get(2, 1))
      assert.equal(0, a:get(1, 1))
    end)

    it("raises for an index out of range", function()
      local a = h5.array.from({ 1, 2 })
      assert.has_error(function() return a[3] end,
        "h5: array index 3 out of range (2 elements)")
      assert.has_error(function() return a:get(0) end,
        "bad argument #1 to 'get' (index 0 out of range for dimension 1 (size 2))")
    end)
  end)

  describe("range()", function()
    it("counts inclusively like a numeric for", function()
      assert.same({ 1, 2, 3, 4 }, h5.array.range(1, 4):totable())
      assert.same({ 10, 7, 4, 1 }, h5.array.range(10, 0, -3):totable())
      assert.same({ 0.0, 0.5, 1.0 }, h5.array.range(0, 1, 0.5):totable())
      assert.equal(0, #h5.array.range(1, 0))
    end)

    it("takes a dtype", function()
      assert.equal("uint8", h5.array.range(0, 255, 1, "uint8").dtype)
    end)
  end)

  describe("methods", function()
    it("reshape() keeps the elements in order, one size may be -1", function()
      local a = h5.array.range(1, 6)
      assert.same({ { 1, 2, 3 }, { 4, 5, 6 } }, a:reshape({ 2, 3 }):totable())
      assert.same({ 3, 2 }, a:reshape({ -1, 2 }).shape)
      assert.has_error(function() a:reshape({ 4, 2 }) end,
        "bad argument #1 to 'reshape' (cannot reshape 6 elements into 8)")
    end)

    it("min(), max(), sum() and mean() summarise the elements", function()
      local a = h5.array.from({ { 3, -1 }, { 7, 2 } })
      assert.equal(-1, a:min())
      assert.equal(7, a:max())
      assert.equal(11, a:sum())
      assert.equal("integer", math.type(a:sum()))
      assert.equal(2.75, a:mean())
      local e = h5.array.new("float64", 0)
      assert.is_nil(e:min())
      assert.is_nil(e:mean())
      assert.equal(0.0, e:sum())
    end)

    it("min() and max() let NaN win, as numpy", function()
      local a = h5.array.from({ 1.0, 0 / 0, 3.0 })
      assert.is_true(a:max() ~= a:max())
    end)

    it("astype() converts, copy() copies and fill() sets every element", function()
      local a = h5.array.from({ 1.7, -2.2 })
      assert.same({ 1, -2 }, a:astype("int32"):totable())
      assert.same({ true, false }, h5.array.from({ 3, 0 }):astype("bool"):totable())
      local b = a:copy()
      b[1] = 9
      assert.equal(1.7, a[1])
      assert.same({ 5.0, 5.0 }, b:fill(5):totable())
    end)

    it("compares equal by shape and values", function()
      assert.equal(h5.array.from({ 1, 2 }), h5.array.from({ 1.0, 2.0 }))
      assert.not_equal(h5.array.from({ 1, 2 }), h5.array.from({ { 1, 2 } }))
    end)

    it("rejects values that do not fit the dtype", function()
      local a = h5.array.new("int8", 2)
      assert.has_error(function() a[1] = 200 end,
        "h5: cannot set array element 1: value out of range for int8")
      assert.has_error(function() a[1] = 1.5 end,
        "h5: cannot set array element 1: number has no integer representation")
      assert.has_error(function() a:set("x", 1) end,
        "bad argument #1 to 'set' (arrays hold numbers)")
    end)
  end)

  it("prints one line with dtype, shape and the first elements", function()
    assert.equal("<h5.Array int64 {3}: 1, 2, 3>", tostring(h5.array.from({ 1, 2, 3 })))
    assert.equal("<h5.Array float64 {8}: 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, ...>",
      tostring(h5.array.range(1.0, 8.0)))
  end)
end)
