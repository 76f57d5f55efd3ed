local h5 = require "h5"
local helper = require "helper"

describe("selections", function()
  local f, d
  before_each(function()
    f = h5.open(helper.tmpfile(), "w")
    -- 3 x 4: row r, column c holds 10 * r + c
    d = f:create_dataset("m", { data = { { 11, 12, 13, 14 }, { 21, 22, 23, 24 },
      { 31, 32, 33, 34 } }, dtype = "int32" })
  end)
  after_each(function()
    f:close()
    helper.assert_no_open_ids()
  end)
  teardown(helper.cleanup)

  describe("in :read()", function()
    it("reads everything without a selection", function()
      assert.same({ 3, 4 }, d:read().shape)
    end)

    it("drops a dimension indexed by an integer", function()
      local row = d:read(2)
      assert.same({ 4 }, row.shape)
      assert.same({ 21, 22, 23, 24 }, row:totable())
      assert.same({ 12, 22, 32 }, d:read(nil, 2):totable())
    end)

    it("reads one element as a Lua value", function()
      assert.equal(23, d:read(2, 3))
      assert.equal("integer", math.type(d:read(2, 3)))
    end)

    it("reads inclusive ranges, keeping the dimension", function()
      assert.same({ { 12, 13 }, { 22, 23 } }, d:read({ 1, 2 }, { 2, 3 }):totable())
      assert.same({ { 21, 22, 23, 24 } }, d:read({ 2, 2 }):totable())
    end)

    it("reads ranges with a step", function()
      assert.same({ 11, 13 }, d:read(1, { 1, 4, 2 }):totable())
      assert.same({ 11, 31 }, d:read({ 1, 3, 2 }, 1):totable())
    end)

    it("counts negative numbers from the end", function()
      assert.equal(34, d:read(-1, -1))
      assert.same({ 23, 24 }, d:read(-2, { -2, -1 }):totable())
    end)

    it("runs {first} to the end and {} over everything", function()
      assert.same({ 13, 14 }, d:read(1, { 3 }):totable())
      assert.same({ 3 }, d:read({}, 1).shape)
    end)

    it("treats true as the whole dimension", function()
      assert.same({ 14, 24, 34 }, d:read(true, 4):totable())
    end)

    it("selects nothing with an empty range", function()
      local a = d:read({ 2, 1 })
      assert.same({ 0, 4 }, a.shape)
      assert.equal(0, #a)
    end)

    it("selects in string datasets too", function()
      local s = f:create_dataset("s", { data = { "a", "b", "c", "d" } })
      assert.same({ "b", "c" }, s:read({ 2, 3 }))
      assert.equal("d", s:read(-1))
    end)

    it("rejects an index out of range", function()
      assert.has_error(function() d:read(4) end,
        "bad argument #1 to 'read' (index 4 out of range for dimension 1 (size 3))")
      assert.has_error(function() d:read(1, 0) end,
        "bad argument #2 to 'read' (index 0 out of range for dimension 2 (size 4))")
    end)

    it("rejects ranges out of range and bad steps", function()
      assert.has_error(function() d:read({ 1, 5 }) end,
        "bad argument #1 to 'read' (last index 5 out of range for dimension 1 (size 3))")
      assert.has_error(function() d:read({ 1, 3, 0 }) end,
        "bad argument #1 to 'read' (selection step must be positive)")
    end)

    it("rejects more entries than dimensions", function()
      assert.has_error(function() d:read(1, 1, 1) end,
        "bad argument #3 to 'read' (too many selection entries (3 for 2 dimensions))")
      local s = f:create_dataset("x", 1.5)
      assert.has_error(function() s:read(1) end,
        "bad argument #1 to 'read' (a scalar dataset takes no selection)")
    end)

    it("rejects entries of other types", function()
      assert.has_error(function() d:read("1") end,
        "bad argument #1 to 'read' (selection entry must be an integer or {first, last[, step]}, "
          .. "not string)")
    end)
  end)

  describe("in :write()", function()
    it("writes one element", function()
      d:write(99, 2, 3)
      assert.equal(99, d:read(2, 3))
    end)

    it("writes a row from a table", function()
      d:write({ 1, 2, 3, 4 }, 3)
      assert.same({ 1, 2, 3, 4 }, d:read(3):totable())
    end)

    it("writes a block from an h5.Array", function()
      d:write(h5.array.from({ { 0, 0 }, { 0, 0 } }), { 2, 3 }, { 3, 4 })
      assert.same({ { 11, 12, 13, 14 }, { 21, 22, 0, 0 }, { 31, 32, 0, 0 } }, d:read():totable())
    end)

    it("fills a strided selection with one value", function()
      d:write(-1, true, { 1, 4, 3 })
      assert.same({ -1, 12, 13, -1 }, d:read(1):totable())
    end)

    it("refuses data of the wrong size for the selection", function()
      assert.has_error(function() d:write({ 1, 2, 3 }, 1) end,
        "h5: cannot write '/m': 3 values for a selection of 4 elements")
    end)

    it("writes strings into a selection", function()
      local s = f:create_dataset("s", { data = { "a", "b", "c" } })
      s:write({ "x", "y" }, { 2, 3 })
      assert.same({ "a", "x", "y" }, s:read())
    end)
  end)
end)
