local h5 = require "h5"
local helper = require "helper"

-- Asserts that fn raises exactly msg (after the "file:line: " position that
-- luaL_error adds, as luassert's has_error strips it).
local function raises(msg, fn)
  assert.has_error(fn, msg)
end

describe("h5.Dataset", function()
  local f, path
  before_each(function()
    path = helper.tmpfile()
    f = h5.open(path, "w")
  end)
  after_each(function()
    f:close()
    helper.assert_no_open_ids()
  end)
  teardown(helper.cleanup)

  it("has no name once deleted while open, as h5py's (\"anonymous\")", function()
    local d = f:create_dataset("d", { data = { 1, 2 } })
    f:create_dataset("e", { data = { 3 } })
    f:delete("d")
    assert.is_nil(d.name)
    assert.equal("<h5.Dataset (anonymous): shape {2}, int64>", tostring(d):match("^[^\n]*"))
    assert.same({ 1, 2 }, d:read():totable())  -- still readable until closed
    assert.equal("/e", f.e.name)
    d:close()
  end)

  describe("create_dataset() with data", function()
    local scalars = {
      { "an integer", 42, "int64" },
      { "the largest integer", math.maxinteger, "int64" },
      { "a float", 2.5, "float64" },
      { "true", true, "bool" },
      { "false", false, "bool" },
      { "a string", "ALANIN", "string(utf-8, variable)" },
      { "a UTF-8 string", "Grüße, 结构", "string(utf-8, variable)" },
      { "an empty string", "", "string(utf-8, variable)" },
    }
    for _, case in ipairs(scalars) do
      it("stores " .. case[1] .. " as a scalar " .. case[3] .. " dataset", function()
        local d = f:create_dataset("v", { data = case[2] })
        assert.same({}, d.shape)
        assert.equal(0, d.ndim)
        assert.equal(1, d.size)
        assert.equal(case[3], d.dtype)
        assert.equal(case[2], d:read())
        assert.equal(math.type(case[2]), math.type(d:read()))
      end)
    end

    it("accepts the value itself in place of an options table", function()
      local d = f:create_dataset("raw_json", '{"a": 1}')
      assert.equal('{"a": 1}', d:read())
      assert.equal("string(utf-8, variable)", d.dtype)
    end)

    it("keeps JSON text byte for byte", function()
      local json = '{"x": 0.1000000000000000055511151231257827, "s": "\\u00e9\\n", "k": [1,2]}'
      f:create_dataset("raw_json", json)
      assert.equal(json, f.raw_json:read())
    end)

    it("reads a table of integers back as an int64 h5.Array", function()
      local d = f:create_dataset("v", { data = { 1, 2, 3 } })
      assert.same({ 3 }, d.shape)
      assert.equal("int64", d.dtype)
      local a = d:read()
      assert.equal("h5.Array", getmetatable(a).__name)
      assert.equal("int64", a.dtype)
      assert.same({ 1, 2, 3 }, a:totable())
    end)

    it("widens a table mixing integers and floats to float64", function()
      local d = f:create_dataset("v", { data = { 1, 2.5 } })
      assert.equal("float64", d.dtype)
      assert.same({ 1.0, 2.5 }, d:read():totable())
    end)

    it("stores nested tables as a 2-D dataset", function()
      local d = f:create_dataset("v", { data = { { 1, 2, 3 }, { 4, 5, 6 } } })
      assert.same({ 2, 3 }, d.shape)
      assert.equal(2, d.ndim)
      assert.equal(6, d.size)
      assert.equal(48, d.nbytes)
      assert.same({ { 1, 2, 3 }, { 4, 5, 6 } }, d:read():totable())
    end)

    it("reads a table of strings back as a table", function()
      local d = f:create_dataset("v", { data = { "a", "bc", "" } })
      assert.equal("string(utf-8, variable)", d.dtype)
      assert.same({ "a", "bc", "" }, d:read())
    end)

    it("reads a table of booleans back as a bool h5.Array", function()
      local d = f:create_dataset("v", { data = { true, false } })
      assert.equal("bool", d.dtype)
      assert.same({ true, false }, d:read():totable())
    end)

    it("stores an h5.Array with its dtype and shape", function()
      local a = h5.array.new("int16", { 2, 2 }, 7)
      local d = f:create_dataset("v", { data = a })
      assert.equal("int16", d.dtype)
      assert.same({ 2, 2 }, d.shape)
      assert.equal(a, d:read())
    end)

    it("converts data to the given dtype", function()
      local d = f:create_dataset("v", { data = { 1, 2, 3 }, dtype = "int32" })
      assert.equal("int32", d.dtype)
      assert.equal("int32", d:read().dtype)
      assert.same({ 1, 2, 3 }, d:read():totable())
    end)

    it("reshapes data to the given shape", function()
      local d = f:create_dataset("v", { data = { 1, 2, 3, 4, 5, 6 }, shape = { 3, 2 } })
      assert.same({ 3, 2 }, d.shape)
      assert.same({ { 1, 2 }, { 3, 4 }, { 5, 6 } }, d:read():totable())
    end)

    it("creates missing parent groups", function()
      local d = f:create_dataset("structures/ALANIN/raw_json", "{}")
      assert.equal("/structures/ALANIN/raw_json", d.name)
      assert.equal("group", f.structures.kind)
    end)

    it("creates a scalar string's missing parents, or uses the group there", function()
      f:create_dataset("new/s", "one")
      f:create_dataset("a/b/c/s", "two")
      f:create_group("g"):create_dataset("h/s", "three")
      f:create_dataset("g/t", "four")
      assert.same({ "one", "two", "three", "four" },
        { f.new.s:read(), f.a.b.c.s:read(), f.g.h.s:read(), f.g.t:read() })
      assert.same({ "h", "t" }, f.g:keys())
    end)

    it("removes the parents a failed scalar-string creation made", function()
      raises("h5: cannot create dataset '/new/.': name already exists",
        function() f:create_dataset("new/.", "x") end)
      raises("h5: cannot create dataset '/a/b/c/.': name already exists",
        function() f:create_dataset("a/b/c/.", "x") end)
      f:create_group("a")
      raises("h5: cannot create dataset '/a/b/c/.': name already exists",
        function() f:create_dataset("a/b/c/.", "x") end)
      assert.same({ "a" }, f:keys())
      assert.same({}, f.a:keys())
    end)
  end)

  describe("g[name] = value", function()
    it("creates a dataset as create_dataset does, keeping no handle", function()
      local before = h5.open_ids()
      f.s = "text"
      f["a/b"] = "deep"
      f.n = 3.5
      f.v = { data = { 1, 2, 3 }, dtype = "int16" }
      assert.equal(before, h5.open_ids())
      assert.same({ "text", "deep", 3.5 }, { f.s:read(), f.a.b:read(), f.n:read() })
      assert.equal("string(utf-8, variable)", f.s.dtype)
      assert.equal("int16", f.v.dtype)
      assert.same({ 1, 2, 3 }, f.v:read():totable())
      local g = f.a
      g.c = "in a group"
      assert.equal("in a group", f.a.c:read())
    end)

    it("links an existing group or dataset, as h5py does", function()
      f.s = "text"
      f.alias = f.s
      f.group = f:create_group("g")
      assert.equal("text", f.alias:read())
      assert.equal("group", f.group.kind)
    end)

    it("refuses what create_dataset refuses, and nil", function()
      f.s = "text"
      raises("h5: cannot create dataset '/s': name already exists", function() f.s = "again" end)
      raises("h5: cannot assign nil to '/s' (remove it with :delete)", function() f.s = nil end)
      raises("h5: cannot create dataset '/x': string contains a NUL byte (HDF5 strings cannot "
        .. "hold one)", function() f.x = "a\0b" end)
      local g = f:create_group("g")
      g:close()
      raises("h5: cannot link a closed object", function() f.y = g end)
      -- a number key would make "1", which f[1] (nil, as for ipairs) cannot read back
      raises("bad argument #2 to 'newindex' (string expected, got number)",
        function() f[1] = { data = { 1 } } end)
      raises("bad argument #2 to 'newindex' (string expected, got boolean)",
        function() f[true] = "t" end)
      assert.is_nil(f[1])
      assert.equal("text", f.s:read())
      assert.same({ "g", "s" }, f:keys())
      f:close()
      f = h5.open(path, "r")
      raises("h5: cannot create '/y': the file is open read-only (open it with mode 'r+' or "
        .. "'a')", function() f.y = "z" end)
    end)
  end)

  describe("create_dataset() without data", function()
    it("makes a float32 dataset of zeros from a shape, as h5py", function()
      local d = f:create_dataset("v", { shape = { 2, 3 } })
      assert.equal("float32", d.dtype)
      assert.same({ { 0, 0, 0 }, { 0, 0, 0 } }, d:read():totable())
    end)

    it("uses the given dtype", function()
      local d = f:create_dataset("v", { shape = 4, dtype = "uint8" })
      assert.equal("uint8", d.dtype)
      assert.same({ 4 }, d.shape)
    end)
  end)

  describe("create_dataset() errors", function()
    it("refuses an existing name", function()
      f:create_dataset("v", 1)
      raises("h5: cannot create dataset '/v': name already exists", function()
        f:create_dataset("v", 2)
      end)
    end)

    it("refuses a read-only file", function()
      f:close()
      f = h5.open(path, "r")
      raises("h5: cannot create dataset '/v': the file is open read-only (open it with mode "
        .. "'r+' or 'a')", function() f:create_dataset("v", 1) end)
    end)

    it("rejects unknown options", function()
      raises("bad argument #2 to 'create_dataset' (unknown option 'compresion')", function()
        f:create_dataset("v", { data = { 1 }, compresion = "gzip" })
      end)
    end)

    it("rejects a plain table of values in place of options", function()
      raises("bad argument #2 to 'create_dataset' (options table expected; pass data as "
        .. "{data = ...})", function() f:create_dataset("v", { 1, 2, 3 }) end)
    end)

    it("rejects an unknown dtype", function()
      raises("bad argument #2 to 'create_dataset' (invalid dtype 'float65': floats are 16, 32 "
        .. "or 64 bits at 'float65')", function() f:create_dataset("v", { shape = 1, dtype = "float65" }) end)
      raises("bad argument #2 to 'create_dataset' (invalid dtype 'flaot64': unknown type name "
        .. "at 'flaot64')", function() f:create_dataset("v", { shape = 1, dtype = "flaot64" }) end)
    end)

    it("rejects values that do not fit the dtype", function()
      raises("h5: cannot create dataset '/v': value out of range for uint8", function()
        f:create_dataset("v", { data = { 1, 256 }, dtype = "uint8" })
      end)
      assert.is_nil(f:get("v"))
    end)

    it("rejects ragged tables", function()
      raises("h5: cannot create dataset '/v': nested tables are not rectangular (rows differ "
        .. "in length)", function() f:create_dataset("v", { data = { { 1, 2 }, { 3 } } }) end)
    end)

    it("rejects a shape that does not match the data", function()
      raises("bad argument #2 to 'create_dataset' (shape does not match the data (3 elements "
        .. "for 4))", function() f:create_dataset("v", { data = { 1, 2, 3 }, shape = { 2, 2 } }) end)
    end)

    it("rejects chunks on a scalar dataset", function()
      raises("bad argument #2 to 'create_dataset' (scalar datasets don't support chunk/filter "
        .. "options)", function() f:create_dataset("v", { data = 1, compression = "gzip" }) end)
    end)

    it("names the parent that is not a group", function()
      f:create_dataset("d", 1)
      raises("h5: cannot create dataset '/d/v': '/d' is a dataset, not a group",
        function() f:create_dataset("d/v", { data = { 1, 2 } }) end)
      raises("h5: cannot create dataset '/d/v': '/d' is a dataset, not a group",
        function() f:create_dataset("d/v", "text") end)
      raises("h5: cannot create dataset '/d/v/w': '/d' is a dataset, not a group",
        function() f:create_dataset("d/v/w", "text") end)
    end)

    it("rejects strings with NUL bytes", function()
      raises("h5: cannot create dataset '/v': string contains a NUL byte (HDF5 strings cannot "
        .. "hold one)", function() f:create_dataset("v", "a\0b") end)
    end)
  end)

  describe("chunks and compression", function()
    it("stores chunked gzip data with shuffle and reads the options back", function()
      local d = f:create_dataset("v", { data = h5.array.range(1, 1000), chunks = { 100 },
        compression = "gzip", compression_opts = 6, shuffle = true })
      assert.same({ 100 }, d.chunks)
      assert.equal("gzip", d.compression)
      assert.equal(6, d.compression_opts)
      assert.is_true(d.shuffle)
      assert.is_false(d.fletcher32)
      assert.is_true(d.storage_size < d.nbytes)
      assert.equal(500500, d:read():sum())
    end)

    it("guesses chunks as h5py does when compression is asked for", function()
      local d = f:create_dataset("v", { shape = { 1000, 3 }, dtype = "float64",
        compression = "gzip" })
      assert.same({ 500, 3 }, d.chunks)
      assert.equal(4, d.compression_opts)
    end)

    it("reports contiguous datasets without chunks or compression", function()
      local d = f:create_dataset("v", { data = { 1, 2 } })
      assert.is_nil(d.chunks)
      assert.is_nil(d.compression)
      assert.is_nil(d.compression_opts)
      assert.is_false(d.shuffle)
      assert.equal("contiguous", d.layout)
    end)

    it("does not track times, as h5py", function()
      local d = f:create_dataset("v", 1)
      assert.is_false(d.track_times)
      assert.is_true(f:create_dataset("w", { data = 1, track_times = true }).track_times)
    end)
  end)

  describe("bytes", function()
    it("stores a Lua string as uint8 and reads it back with read_bytes()", function()
      local blob = string.rep("\0\1\2\255gzip", 1000)
      local d = f:create_dataset("blob", { data = h5.array.frombytes(blob), chunks = true,
        compression = "gzip" })
      assert.equal("uint8", d.dtype)
      assert.same({ #blob }, d.shape)
      assert.equal(blob, d:read_bytes())
    end)

    it("replaces the bytes with write_bytes(), growing a resizable dataset", function()
      local d = f:create_dataset("blob", { data = h5.array.frombytes("abc"),
        maxshape = { h5.UNLIMITED } })
      d:write_bytes("hello world")
      assert.same({ 11 }, d.shape)
      assert.equal("hello world", d:read_bytes())
      d:write_bytes("")
      assert.equal("", d:read_bytes())
    end)

    it("refuses write_bytes() of another size on a fixed-size dataset", function()
      local d = f:create_dataset("blob", { data = h5.array.frombytes("abc") })
      raises("h5: cannot write '/blob': 5 bytes for a dataset of 3 (and it cannot grow)",
        function() d:write_bytes("hello") end)
    end)

    it("refuses read_bytes() on a dataset that is not of bytes", function()
      local d = f:create_dataset("v", { data = { 1.5 } })
      raises("h5: cannot read bytes from '/v': not a uint8 or int8 array dataset",
        function() d:read_bytes() end)
    end)
  end)

  describe(":write()", function()
    it("replaces the whole dataset", function()
      local d = f:create_dataset("v", { data = { 1, 2, 3 } })
      d:write({ 4, 5, 6 })
      assert.same({ 4, 5, 6 }, d:read():totable())
      d:write(h5.array.from({ 7, 8, 9 }))
      assert.same({ 7, 8, 9 }, d:read():totable())
    end)

    it("replaces a scalar string", function()
      local d = f:create_dataset("v", "old")
      d:write("new")
      assert.equal("new", d:read())
    end)

    it("fills the dataset with a single value", function()
      local d = f:create_dataset("v", { shape = { 2, 2 }, dtype = "int32" })
      d:write(5)
      assert.same({ { 5, 5 }, { 5, 5 } }, d:read():totable())
    end)

    it("refuses data of the wrong size", function()
      local d = f:create_dataset("v", { data = { 1, 2, 3 } })
      raises("h5: cannot write '/v': 2 values for a selection of 3 elements",
        function() d:write({ 1, 2 }) end)
    end)
  end)

  describe("maxshape and :resize()", function()
    it("grows and shrinks within maxshape, filling new elements", function()
      local d = f:create_dataset("v", { data = { 1, 2, 3 }, maxshape = { 5 }, fillvalue = -1 })
      assert.same({ 5 }, d.maxshape)
      assert.same({ 3 }, d.chunks)
      d:resize({ 5 })
      assert.same({ 1, 2, 3, -1, -1 }, d:read():totable())
      d:resize(2, 1)
      assert.same({ 1, 2 }, d:read():totable())
    end)

    it("grows without limit along h5.UNLIMITED dimensions", function()
      local d = f:create_dataset("log", { shape = { 0, 2 }, maxshape = { h5.UNLIMITED, 2 },
        dtype = "int32" })
      assert.same({ h5.UNLIMITED, 2 }, d.maxshape)
      assert.same({ 1024, 2 }, d.chunks)
      for i = 1, 3 do
        d:resize(i, 1)
        d:write({ i, 10 * i }, i)
      end
      assert.same({ { 1, 10 }, { 2, 20 }, { 3, 30 } }, d:read():totable())
    end)

    it("makes every dimension unlimited with maxshape = true", function()
      local d = f:create_dataset("v", { shape = { 2, 2 }, maxshape = true })
      assert.same({ h5.UNLIMITED, h5.UNLIMITED }, d.maxshape)
    end)

    it("refuses to grow past maxshape or a fixed shape", function()
      local d = f:create_dataset("v", { data = { 1, 2, 3 }, maxshape = { 4 } })
      assert.has_error(function() d:resize({ 5 }) end,
        "h5: cannot resize '/v': dimension 1 would exceed maxshape (4)")
      local c = f:create_dataset("c", { data = { 1, 2, 3 } })
      assert.has_error(function() c:resize({ 4 }) end,
        "h5: cannot resize '/c': dimension 1 would exceed maxshape (3)")
      assert.has_error(function() d:resize(2, 2) end,
        "bad argument #2 to 'resize' (axis must be between 1 and 1)")
    end)

    it("rejects a maxshape smaller than the shape", function()
      assert.has_error(function() f:create_dataset("v", { data = { 1, 2 }, maxshape = { 1 } }) end,
        "bad argument #2 to 'create_dataset' (maxshape is smaller than the shape)")
    end)
  end)

  describe("fillvalue", function()
    it("is 0 by default and fills unwritten elements", function()
      local d = f:create_dataset("v", { shape = 3, dtype = "int32" })
      assert.equal(0, d.fillvalue)
      local g = f:create_dataset("w", { shape = 3, dtype = "int32", fillvalue = 7 })
      assert.equal(7, g.fillvalue)
      assert.same({ 7, 7, 7 }, g:read():totable())
    end)

    it("works for strings and records", function()
      assert.equal("", f:create_dataset("s0", { shape = 2, dtype = "string" }).fillvalue)
      local s = f:create_dataset("s", { shape = 2, dtype = "string(ascii, 3)", fillvalue = "ab" })
      assert.same({ "ab", "ab" }, s:read())
      local r = f:create_dataset("r", { shape = 1, dtype = "compound{a: int8, b: float32}",
        fillvalue = { a = 1, b = 2 } })
      assert.same({ a = 1, b = 2.0 }, r.fillvalue)
    end)

    it("must fit the dtype", function()
      assert.has_error(function()
        f:create_dataset("v", { shape = 2, dtype = "uint8", fillvalue = -1 })
      end, "bad argument #2 to 'create_dataset' (fillvalue: value out of range for uint8)")
    end)
  end)

  describe("require_dataset()", function()
    it("returns the existing dataset when shape and dtype match", function()
      f:create_dataset("v", { data = { 1, 2, 3 } })
      local d = f:require_dataset("v", { shape = { 3 }, dtype = "int64" })
      assert.same({ 1, 2, 3 }, d:read():totable())
      assert.equal("/v", f:require_dataset("v", { data = { 7, 8, 9 } }).name)
    end)

    it("accepts a dtype of the same kind unless exact is asked for", function()
      f:create_dataset("v", { data = { 1, 2, 3 } })
      assert.equal("int64", f:require_dataset("v", { shape = 3, dtype = "int32" }).dtype)
      assert.has_error(function()
        f:require_dataset("v", { shape = 3, dtype = "int32", exact = true })
      end, "h5: cannot require dataset '/v': it has dtype int64, not int32")
    end)

    it("creates the dataset when it is missing", function()
      local d = f:require_dataset("a/b", { shape = { 2 }, dtype = "int8" })
      assert.equal("/a/b", d.name)
      assert.equal("int8", d.dtype)
    end)

    it("raises when the shape differs or something else is there", function()
      f:create_dataset("v", { data = { 1, 2, 3 } })
      f:create_group("g")
      assert.has_error(function() f:require_dataset("v", { shape = { 4 } }) end,
        "h5: cannot require dataset '/v': it has shape {3}, not {4}")
      assert.has_error(function() f:require_dataset("v", { shape = 3, dtype = "string" }) end,
        "h5: cannot require dataset '/v': it has dtype int64, not string")
      assert.has_error(function() f:require_dataset("g", { shape = 3 }) end,
        "h5: cannot require dataset '/g': a group is there")
    end)
  end)

  describe("properties", function()
    it("reads name, file, kind and a one-line summary", function()
      local d = f:create_dataset("g/x", { shape = { 100, 3 }, dtype = "float64" })
      assert.equal("/g/x", d.name)
      assert.equal(f, d.file)
      assert.equal("dataset", d.kind)
      assert.equal('<h5.Dataset "/g/x": shape {100, 3}, float64>', tostring(d))
      assert.equal(100, #d)
    end)

    it("raises for the length of a scalar dataset", function()
      local d = f:create_dataset("v", 1)
      raises("h5: cannot take the length of '/v': it is a scalar or empty dataset",
        function() return #d end)
    end)

    it("returns nil for unknown keys", function()
      assert.is_nil(f:create_dataset("v", 1).nothing)
    end)

    it("has attributes", function()
      local d = f:create_dataset("v", { data = { 1, 2 } })
      d.attrs.units = "angstrom"
      assert.equal("angstrom", d.attrs.units)
      assert.same({ "units" }, d.attrs:keys())
    end)

    it("is found by path lookup as a Dataset", function()
      f:create_dataset("g/v", { data = { 1, 2 } })
      assert.equal("h5.Dataset", getmetatable(f.g.v).__name)
      assert.same({ 1, 2 }, f["g/v"]:read():totable())
    end)
  end)

  describe("lifetime", function()
    it("raises when used after close", function()
      local d = f:create_dataset("v", { data = { 1 } })
      d:close()
      assert.is_false(d:is_open())
      assert.equal("<closed h5.Dataset>", tostring(d))
      raises("h5: attempt to use a closed Dataset", function() return d.shape end)
      raises("h5: attempt to use a closed Dataset", function() d:read() end)
      d:close()
    end)

    it("is closed by closing its file", function()
      local d = f:create_dataset("v", { data = { 1 } })
      f:close()
      raises("h5: attempt to use a closed Dataset", function() d:read() end)
    end)

    it("is released by __close and __gc", function()
      do
        local d <close> = f:create_dataset("v", { data = { 1 } })
        assert.is_true(d:is_open())
      end
      f:create_dataset("w", 1)
      f.w:read()
      collectgarbage()
      collectgarbage()
      local _, by_kind = h5.open_ids()
      assert.equal(0, by_kind.dataset)
    end)
  end)
end)
