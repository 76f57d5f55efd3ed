local h5 = require "h5"
local helper = require "helper"

describe("dataset types", function()
  local f
  before_each(function() f = h5.open(helper.tmpfile(), "w") end)
  after_each(function()
    f:close()
    helper.assert_no_open_ids()
  end)
  teardown(helper.cleanup)

  describe("dtype strings", function()
    -- dtype given -> the name the dataset reports
    local names = {
      { "int8", "int8" }, { "uint8", "uint8" }, { "int16", "int16" }, { "uint16", "uint16" },
      { "int32", "int32" }, { "uint32", "uint32" }, { "int64", "int64" }, { "uint64", "uint64" },
      { "float16", "float16" }, { "float32", "float32" }, { "float64", "float64" },
      { "bool", "bool" },
      { "int", "int64" }, { "float", "float64" }, { "double", "float64" },
      { "<f8", "float64" }, { ">i4", "int32 (big-endian)" }, { "u1", "uint8" }, { "|u1", "uint8" },
      { "float64 (big-endian)", "float64 (big-endian)" },
      { "string", "string(utf-8, variable)" }, { "str", "string(utf-8, variable)" },
      { "string(utf-8, variable)", "string(utf-8, variable)" },
      { "string(ascii, variable)", "string(ascii, variable)" },
      { "string(ascii, 10)", "string(ascii, 10)" }, { "string(utf-8, 3)", "string(utf-8, 3)" },
      { "compound{x: float64, y: int32}", "compound{x: float64, y: int32}" },
      { "compound{xyz: array{float32, 3}, label: string}",
        "compound{xyz: array{float32, 3}, label: string(utf-8, variable)}" },
      { "enum{RED, GREEN, BLUE}", "enum(uint8){RED=0, GREEN=1, BLUE=2}" },
      { "enum(int16){A=-1, B=7}", "enum(int16){A=-1, B=7}" },
      { "array{int16, 2x3}", "array{int16, 2x3}" },
      { "vlen{float64}", "vlen{float64}" },
      { "opaque(16)", "opaque(16)" }, { "opaque(4, tag)", "opaque(4, tag)" },
      { "bitfield8", "bitfield8" },
      { "S5", "string(ascii, 5)" }, { "|S3", "string(ascii, 3)" }, { "?", "bool" },
      { "b1", "bool" },
    }
    for _, case in ipairs(names) do
      it("reads '" .. case[1] .. "' as " .. case[2], function()
        local d = f:create_dataset("v", { shape = { 2 }, dtype = case[1] })
        assert.equal(case[2], d.dtype)
        -- every reported name is itself a valid dtype for the same type
        assert.equal(case[2], f:create_dataset("w", { shape = { 2 }, dtype = d.dtype }).dtype)
      end)
    end

    local bad = {
      { "float65", "invalid dtype 'float65': floats are 16, 32 or 64 bits at 'float65'" },
      { "string(latin1, 3)", "invalid dtype 'string(latin1, 3)': expected 'ascii' or 'utf-8' at "
        .. "', 3)'" },
      { "compound{x float64}", "invalid dtype 'compound{x float64}': expected ':' at '}'" },
      { "compound{x: float64, x: int8}", "invalid dtype 'compound{x: float64, x: int8}': "
        .. "duplicate member name at the end" },
      { "int32 junk", "invalid dtype 'int32 junk': unexpected text at 'junk'" },
      { "array{int8, 0}", "invalid dtype 'array{int8, 0}': expected array dimensions such as 3x4 "
        .. "at '}'" },
      { "int24", "invalid dtype 'int24': integers are 8, 16, 32 or 64 bits at 'int24'" },
      { "uint12", "invalid dtype 'uint12': integers are 8, 16, 32 or 64 bits at 'uint12'" },
      { "float128", "invalid dtype 'float128': floats are 16, 32 or 64 bits at 'float128'" },
      { "float(16 bits, 8-bit exponent)", "invalid dtype 'float(16 bits, 8-bit exponent)': "
        .. "h5lua creates only IEEE float16, float32 and float64 at '(16 bits, 8-bit exponent)'" },
      { "S0", "invalid dtype 'S0': unknown type name at 'S0'" },
    }
    for _, case in ipairs(bad) do
      it("rejects '" .. case[1] .. "'", function()
        assert.has_error(function() f:create_dataset("v", { shape = 1, dtype = case[1] }) end,
          "bad argument #2 to 'create_dataset' (" .. case[2] .. ")")
      end)
    end
  end)

  describe("values", function()
    it("round-trips every integer width at its limits", function()
      for _, c in ipairs {
        { "int8", -128, 127 }, { "uint8", 0, 255 }, { "int16", -32768, 32767 },
        { "uint16", 0, 65535 }, { "int32", -2147483648, 2147483647 },
        { "uint32", 0, 4294967295 }, { "int64", math.mininteger, math.maxinteger },
      } do
        local d = f:create_dataset(c[1], { data = { c[2], c[3] }, dtype = c[1] })
        local a = d:read()
        assert.equal(c[1], a.dtype)
        assert.same({ c[2], c[3] }, a:totable())
      end
    end)

    it("reads uint64 values beyond the Lua integer range as floats", function()
      local d = f:create_dataset("u", { data = { 1, 2 ^ 63 }, dtype = "uint64" })
      local a = d:read()
      assert.equal(1, a[1])
      assert.equal(2 ^ 63, a[2])
    end)

    it("keeps float32 precision", function()
      local a = f:create_dataset("x", { data = { 0.1 }, dtype = "float32" }):read()
      assert.equal("float32", a.dtype)
      assert.not_equal(0.1, a[1])
      assert.near(0.1, a[1], 1e-7)
    end)

    it("converts big-endian data on reading", function()
      local d = f:create_dataset("be", { data = { 1.5, -2 }, dtype = ">f8" })
      assert.equal("float64 (big-endian)", d.dtype)
      assert.same({ 1.5, -2.0 }, d:read():totable())
      assert.equal("float64", d:read().dtype)
    end)

    it("writes and reads records of a compound type", function()
      local d = f:create_dataset("atoms", {
        dtype = "compound{label: string, xyz: array{float64, 3}, occ: float32}",
        data = { { label = "C1", xyz = { 0.1, 0.2, 0.3 }, occ = 1 },
                 { label = "O1", xyz = { 0.5, 0.5, 0.5 }, occ = 0.5 } },
      })
      assert.same({ 2 }, d.shape)
      local rows = d:read()
      assert.equal("O1", rows[2].label)
      assert.same({ 0.1, 0.2, 0.3 }, rows[1].xyz)
      assert.equal(0.5, rows[2].occ)
      assert.same({ label = "C1", xyz = { 0.1, 0.2, 0.3 }, occ = 1.0 }, d:read(1))
    end)

    it("writes one record as a scalar compound dataset", function()
      local d = f:create_dataset("cell", { dtype = "compound{a: float64, b: float64}",
        data = { a = 5.5, b = 6.5 } })
      assert.same({}, d.shape)
      assert.same({ a = 5.5, b = 6.5 }, d:read())
    end)

    it("names a missing record field", function()
      assert.has_error(function()
        f:create_dataset("c", { dtype = "compound{a: int8, b: int8}", data = { { a = 1 } } })
      end, "h5: cannot create dataset '/c': record has no field 'b'")
    end)

    it("asks for a dtype for records", function()
      assert.has_error(function() f:create_dataset("c", { data = { { a = 1 } } }) end,
        "h5: cannot create dataset '/c': records need a dtype such as 'compound{x: float64, "
          .. "y: int32}'")
    end)

    it("writes enums by name or value and reads names", function()
      local d = f:create_dataset("e", { dtype = "enum{RED, GREEN, BLUE}",
        data = { "RED", "BLUE", 1 } })
      assert.same({ "RED", "BLUE", "GREEN" }, d:read())
      assert.has_error(function() d:write("PINK", 1) end,
        "h5: cannot write '/e': 'PINK' is not a member of the enum")
    end)

    it("writes and reads arrays of a fixed size per element", function()
      local d = f:create_dataset("a", { dtype = "array{int32, 2x2}",
        data = { { { 1, 2 }, { 3, 4 } }, { { 5, 6 }, { 7, 8 } } } })
      assert.same({ 2 }, d.shape)
      assert.same({ { 5, 6 }, { 7, 8 } }, d:read(2))
    end)

    it("writes and reads variable-length sequences", function()
      local d = f:create_dataset("v", { dtype = "vlen{int32}", data = { { 1, 2, 3 }, {}, { 4 } } })
      assert.same({ 3 }, d.shape)
      assert.same({ { 1, 2, 3 }, {}, { 4 } }, d:read())
    end)

    it("pads fixed-length strings and refuses ones too long", function()
      local d = f:create_dataset("s", { dtype = "string(ascii, 4)", data = { "ab", "abcd" } })
      assert.same({ "ab", "abcd" }, d:read())
      assert.has_error(function() d:write("abcde", 1) end,
        "h5: cannot write '/s': string of 5 bytes does not fit in 4 bytes")
    end)

    it("stores opaque values as byte strings of the type's size", function()
      local d = f:create_dataset("o", { dtype = "opaque(3, raw)", data = { "a\0b", "xyz" } })
      assert.same({ "a\0b", "xyz" }, d:read())
      assert.has_error(function() d:write("ab", 1) end,
        "h5: cannot write '/o': expected a string of 3 bytes for an opaque value")
    end)

    it("rejects values of the wrong kind", function()
      local d = f:create_dataset("i", { shape = 2, dtype = "int8" })
      assert.has_error(function() d:write({ 1, 2.5 }) end,
        "h5: cannot write '/i': number has no integer representation")
      assert.has_error(function() d:write({ "a", "b" }) end,
        "h5: cannot write '/i': arrays hold numbers or booleans")
    end)
  end)

  describe("empty and scalar datasets", function()
    it("makes an empty (null dataspace) dataset from h5.EMPTY or a dtype alone", function()
      for _, d in ipairs {
        f:create_dataset("e1", { data = h5.EMPTY, dtype = "int32" }),
        f:create_dataset("e2", { dtype = "float64" }),
      } do
        assert.equal(h5.EMPTY, d:read())
        assert.is_nil(d.shape)
        assert.equal(0, d.size)
        assert.equal(0, d.ndim)
        assert.matches("^<h5.Dataset \"/e%d\": empty, ", tostring(d))
      end
      assert.has_error(function() f.e1:write(1) end,
        "h5: cannot write '/e1': the dataset is empty (null dataspace)")
    end)

    it("tells a scalar from a one-element array", function()
      local s = f:create_dataset("s", 5)
      local a = f:create_dataset("a", { data = { 5 } })
      assert.same({}, s.shape)
      assert.same({ 1 }, a.shape)
      assert.equal(5, s:read())
      assert.same({ 5 }, a:read():totable())
    end)
  end)

  describe("files written by h5py", function()
    local path
    setup(function()
      path = helper.tmpfile("types.h5")
      local r = helper.python_run(string.format([[
import h5py, numpy as np
with h5py.File(%q, "w") as f:
    f["target"] = 1
    ref = f.create_dataset("ref", (2,), dtype=h5py.ref_dtype)
    ref[0] = f["target"].ref
    f.create_dataset("regref", (1,), dtype=h5py.regionref_dtype)
    f.create_dataset("rec_ref", (1,), dtype=np.dtype([("a", "i4"), ("r", h5py.ref_dtype)]))
    f["be"] = np.array([1, 2, 3], dtype=">i2")
    f["half"] = np.array([0.5, 1.5], dtype="f2")
    f["spad"] = np.array([b"ab", b"c"], dtype="S4")
    f.create_dataset("empty", data=h5py.Empty("f4"))
    f["bools"] = np.array([True, False])
    f.create_dataset("fill", (3,), dtype="i4", fillvalue=7)
    f["nested"] = np.array([(1, (2.5, 3))], dtype=[("a", "u1"), ("b", [("x", "f8"), ("y", "i8")])])
    bf16 = h5py.h5t.IEEE_F32LE.copy()  # bfloat16: 2 bytes, but not IEEE half
    bf16.set_fields(15, 7, 8, 0, 7)
    bf16.set_size(2)
    bf16.set_ebias(127)
    d = h5py.h5d.create(f.id, b"bf16", bf16, h5py.h5s.create_simple((3,)))
    d.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array([1.5, -2, 0.25], "f4"), mtype=h5py.h5t.NATIVE_FLOAT)
    f["longdouble"] = np.array([1.5, -2.25], np.longdouble)
]], path))
      assert.equal(0, r.code, r.stderr)
    end)

    it("refuses to read references, naming the type", function()
      local g = h5.open(path)
      assert.has_error(function() g.ref:read() end,
        "h5: cannot read '/ref': unsupported type: reference(object)")
      assert.has_error(function() g.regref:read() end,
        "h5: cannot read '/regref': unsupported type: reference(region)")
      assert.has_error(function() g.rec_ref:read() end,
        "h5: cannot read '/rec_ref': unsupported type: compound{a: int32, r: reference(object)}")
      assert.equal("reference(object)", g.ref.dtype)
      g:close()
    end)

    it("names floats that are not IEEE half, single or double by their layout", function()
      local g = h5.open(path)
      assert.equal("float(16 bits, 8-bit exponent)", g.bf16.dtype)
      assert.same({ 1.5, -2, 0.25 }, g.bf16:read():totable())
      assert.equal("float(80 bits, 15-bit exponent)", g.longdouble.dtype)
      assert.same({ 1.5, -2.25 }, g.longdouble:read():totable())
      assert.equal("float16", g.half.dtype)
      g:close()
    end)

    it("reads numpy's types", function()
      local g = h5.open(path)
      assert.equal("int16 (big-endian)", g.be.dtype)
      assert.same({ 1, 2, 3 }, g.be:read():totable())
      assert.same({ 0.5, 1.5 }, g.half:read():totable())
      assert.same({ "ab", "c" }, g.spad:read())
      assert.equal(h5.EMPTY, g.empty:read())
      assert.same({ true, false }, g.bools:read():totable())
      assert.equal(7, g.fill.fillvalue)
      assert.same({ 7, 7, 7 }, g.fill:read():totable())
      assert.same({ { a = 1, b = { x = 2.5, y = 3 } } }, g.nested:read())
      g:close()
    end)
  end)
end)
