-- Datasets written by h5lua read back identically in h5py and h5dump, and
-- datasets written by h5py read back identically in h5lua: every dtype and
-- every filter, both ways.
local h5 = require "h5"
local cjson = require "cjson"
local helper = require "helper"

-- Run python code that prints one JSON document; return it decoded.
local function python_json(code)
  local r = helper.python_run(code)
  assert.equal(0, r.code, r.stderr)
  return cjson.decode(r.stdout)
end

-- The cases written both ways: name, h5lua options, numpy/h5py creation code
-- (d = data), expected h5py dtype string.  Values are small and exact.
local CASES = {
  { "i8", { data = { -128, 127 }, dtype = "int8" }, "np.array([-128, 127], 'i1')", "int8" },
  { "u8", { data = { 0, 255 }, dtype = "uint8" }, "np.array([0, 255], 'u1')", "uint8" },
  { "i16", { data = { -32768, 32767 }, dtype = "int16" }, "np.array([-32768, 32767], 'i2')",
    "int16" },
  { "u16", { data = { 0, 65535 }, dtype = "uint16" }, "np.array([0, 65535], 'u2')", "uint16" },
  { "i32", { data = { -5, 7 }, dtype = "int32" }, "np.array([-5, 7], 'i4')", "int32" },
  { "u32", { data = { 0, 4294967295 }, dtype = "uint32" }, "np.array([0, 4294967295], 'u4')",
    "uint32" },
  { "i64", { data = { math.mininteger, math.maxinteger } },
    "np.array([-2**63, 2**63 - 1], 'i8')", "int64" },
  { "u64", { data = { 0, 123 }, dtype = "uint64" }, "np.array([0, 123], 'u8')", "uint64" },
  { "f16", { data = { 0.5, -2 }, dtype = "float16" }, "np.array([0.5, -2], 'f2')", "float16" },
  { "f32", { data = { 1.5, -0.25 }, dtype = "float32" }, "np.array([1.5, -0.25], 'f4')",
    "float32" },
  { "f64", { data = { { 1.5, 2 }, { 3, 0.1 } } }, "np.array([[1.5, 2], [3, 0.1]])", "float64" },
  { "be32", { data = { 1, -2 }, dtype = ">i4" }, "np.array([1, -2], '>i4')", ">i4" },
  { "bef64", { data = { 2.5 }, dtype = ">f8" }, "np.array([2.5], '>f8')", ">f8" },
  { "bool", { data = { true, false } }, "np.array([True, False])", "bool" },
  { "scalar_int", { data = 42 }, "np.int64(42)", "int64" },
  { "scalar_float", { data = 2.5 }, "np.float64(2.5)", "float64" },
  { "scalar_bool", { data = true }, "np.bool_(True)", "bool" },
  { "raw_json", { data = '{"a": [1, 2.5, "é"]}' }, "'{\"a\": [1, 2.5, \"é\"]}'", "object" },
  { "strings", { data = { "ALANIN", "Grüße", "" } }, "['ALANIN', 'Grüße', '']", "object" },
  { "ascii_var", { data = { "a", "bc" }, dtype = "string(ascii, variable)" },
    "np.array([b'a', b'bc'], dtype=h5py.string_dtype('ascii'))", "object" },
  { "fixed", { data = { "ab", "cde" }, dtype = "string(ascii, 4)" }, "np.array([b'ab', b'cde'], 'S4')",
    "|S4" },
  { "compound", { data = { { x = 1, y = 2.5 }, { x = -3, y = 0.5 } },
      dtype = "compound{x: int32, y: float64}" },
    "np.array([(1, 2.5), (-3, 0.5)], dtype=[('x', 'i4'), ('y', 'f8')])",
    "[('x', '<i4'), ('y', '<f8')]" },
  { "enum", { data = { "RED", "BLUE" }, dtype = "enum(uint8){RED=0, GREEN=1, BLUE=2}" },
    "np.array([0, 2], dtype=h5py.enum_dtype({'RED': 0, 'GREEN': 1, 'BLUE': 2}, 'u1'))",
    "uint8" },
  { "array", { data = { { 1, 2, 3 }, { 4, 5, 6 } }, dtype = "array{int16, 3}" },
    "[[1, 2, 3], [4, 5, 6]]", "('<i2', (3,))" },
  { "vlen", { data = { { 1, 2 }, { 3 } }, dtype = "vlen{int32}" },
    "vl([[1, 2], [3]])", "object" },
}

-- The Lua value h5lua reads for each case (what the h5py side wrote).
local EXPECT = {
  i8 = { -128, 127 }, u8 = { 0, 255 }, i16 = { -32768, 32767 }, u16 = { 0, 65535 },
  i32 = { -5, 7 }, u32 = { 0, 4294967295 }, i64 = { math.mininteger, math.maxinteger },
  u64 = { 0, 123 }, f16 = { 0.5, -2.0 }, f32 = { 1.5, -0.25 }, f64 = { { 1.5, 2.0 }, { 3.0, 0.1 } },
  be32 = { 1, -2 }, bef64 = { 2.5 }, bool = { true, false }, scalar_int = 42, scalar_float = 2.5,
  scalar_bool = true, raw_json = '{"a": [1, 2.5, "é"]}', strings = { "ALANIN", "Grüße", "" },
  ascii_var = { "a", "bc" }, fixed = { "ab", "cde" },
  compound = { { x = 1, y = 2.5 }, { x = -3, y = 0.5 } }, enum = { "RED", "BLUE" },
  array = { { 1, 2, 3 }, { 4, 5, 6 } }, vlen = { { 1, 2 }, { 3 } },
}

local function value_of(d)
  local v = d:read()
  if type(v) == "userdata" and getmetatable(v).__name == "h5.Array" then return v:totable() end
  return v
end

-- Python that turns every dataset of a file into JSON (values and settings).
local DUMP = [[
import h5py, json, numpy as np
def plain(v):
    if isinstance(v, bytes): return v.decode()
    if isinstance(v, np.ndarray):
        if v.dtype.names: return [plain(r) for r in v]
        return [plain(x) for x in v]
    if isinstance(v, np.void) and v.dtype.names: return {n: plain(v[n]) for n in v.dtype.names}
    if isinstance(v, (list, tuple)): return [plain(x) for x in v]
    if isinstance(v, np.generic): return plain(v.item())
    if isinstance(v, int) and abs(v) > 2**53: return str(v)  # JSON numbers are doubles
    return v
out = {}
with h5py.File(%q, "r") as f:
    def visit(name, d):
        if not isinstance(d, h5py.Dataset): return
        v = d[()]
        if h5py.check_string_dtype(d.dtype) and d.dtype.kind == "O":
            v = d.asstr()[()]
        out[name] = {"dtype": str(d.dtype), "value": plain(v), "shape": list(d.shape),
            "chunks": d.chunks and list(d.chunks), "compression": d.compression,
            "compression_opts": d.compression_opts, "shuffle": d.shuffle,
            "fletcher32": d.fletcher32, "scaleoffset": d.scaleoffset,
            "maxshape": d.maxshape and [m if m is not None else -1 for m in d.maxshape],
            "fillvalue": plain(d.fillvalue) if d.dtype.kind in "iufb" else None}
    f.visititems(visit)
print(json.dumps(out))
]]

describe("datasets #interop", function()
  after_each(helper.assert_no_open_ids)
  teardown(helper.cleanup)

  it("written by h5lua read back in h5py with h5py's dtypes and values", function()
    local path = helper.tmpfile()
    local f = h5.open(path, "w")
    for _, c in ipairs(CASES) do f:create_dataset(c[1], c[2]) end
    f:close()
    local got = python_json(string.format(DUMP, path))
    for _, c in ipairs(CASES) do
      local d = got[c[1]]
      assert.is_table(d, c[1])
      assert.equal(c[4], d.dtype, c[1])
      if c[1] == "enum" then
        assert.same({ 0, 2 }, d.value)
      elseif c[1] == "i64" then
        assert.same({ tostring(math.mininteger), tostring(math.maxinteger) }, d.value)
      else
        assert.same(EXPECT[c[1]], d.value, c[1])
      end
    end
  end)

  it("written by h5py read back in h5lua with the same values", function()
    local path = helper.tmpfile()
    local lines = { "import h5py, numpy as np",
      "def vl(rows):",
      "    a = np.empty(len(rows), dtype=object)",
      "    for i, r in enumerate(rows): a[i] = np.array(r, 'i4')",
      "    return a",
      "def array_dataset(f, name, rows):  # an H5T_ARRAY element type, as h5lua writes",
      "    tid = h5py.h5t.array_create(h5py.h5t.STD_I16LE, (3,))",
      "    sid = h5py.h5s.create_simple((len(rows),))",
      "    d = h5py.h5d.create(f.id, name.encode(), tid, sid)",
      "    mt = h5py.h5t.array_create(h5py.h5t.NATIVE_INT16, (3,))",
      "    d.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array(rows, 'i2'), mtype=mt)",
      string.format("with h5py.File(%q, 'w') as f:", path) }
    for _, c in ipairs(CASES) do
      if c[1] == "array" then
        lines[#lines + 1] = string.format("    array_dataset(f, %q, %s)", c[1], c[3])
      elseif c[1] == "vlen" then
        lines[#lines + 1] = string.format("    f.create_dataset(%q, data=%s, dtype=h5py.vlen_dtype('i4'))",
          c[1], c[3])
      else
        lines[#lines + 1] = string.format("    f.create_dataset(%q, data=%s)", c[1], c[3])
      end
    end
    local r = helper.python_run(table.concat(lines, "\n") .. "\n")
    assert.equal(0, r.code, r.stderr)
    local f = h5.open(path)
    for _, c in ipairs(CASES) do
      assert.same(EXPECT[c[1]], value_of(f[c[1]]), c[1])
    end
    f:close()
  end)

  it("keep every filter setting both ways", function()
    local filters = {
      { "gzip", { compression = "gzip", compression_opts = 7, chunks = { 250 } },
        "compression='gzip', compression_opts=7, chunks=(250,)" },
      { "lzf", { compression = "lzf" }, "compression='lzf'" },
      { "szip", { compression = "szip", compression_opts = { "ec", 16 } },
        "compression='szip', compression_opts=('ec', 16)" },
      { "shuffle", { shuffle = true, compression = "gzip" }, "shuffle=True, compression='gzip'" },
      { "fletcher32", { fletcher32 = true }, "fletcher32=True" },
      { "scaleoffset", { scaleoffset = 0 }, "scaleoffset=0" },
      { "unlimited", { maxshape = { h5.UNLIMITED }, fillvalue = 3 },
        "maxshape=(None,), fillvalue=3" },
    }
    local lua_path, py_path = helper.tmpfile("lua.h5"), helper.tmpfile("py.h5")
    local f = h5.open(lua_path, "w")
    local py = { "import h5py, numpy as np",
      string.format("with h5py.File(%q, 'w') as f:", py_path) }
    for _, c in ipairs(filters) do
      c[2].data = h5.array.range(1, 1000)
      f:create_dataset(c[1], c[2])
      py[#py + 1] = string.format("    f.create_dataset(%q, data=np.arange(1, 1001), %s)",
        c[1], c[3])
    end
    f:close()
    local r = helper.python_run(table.concat(py, "\n") .. "\n")
    assert.equal(0, r.code, r.stderr)
    local from_lua = python_json(string.format(DUMP, lua_path))
    local from_py = python_json(string.format(DUMP, py_path))
    local g = h5.open(py_path)
    for _, c in ipairs(filters) do
      local a, b = from_lua[c[1]], from_py[c[1]]
      b.value = nil
      assert.equal(500500, a.value and (function(t)
        local s = 0
        for _, x in ipairs(t) do s = s + x end
        return s
      end)(a.value), c[1])
      a.value = nil
      assert.same(b, a, c[1])
      -- and h5lua reads h5py's file with the same settings
      local d = g[c[1]]
      assert.equal(500500, d:read():sum(), c[1])
      assert.same(b.chunks, d.chunks, c[1])
      local compression = b.compression
      if compression == cjson.null then compression = nil end
      assert.equal(compression, d.compression, c[1])
      assert.equal(b.shuffle, d.shuffle, c[1])
      assert.equal(b.fletcher32, d.fletcher32, c[1])
    end
    g:close()
  end)

  it("store LZF as h5dump shows h5py's: filter 32000 with {4, 261, chunk bytes}", function()
    local path = helper.tmpfile()
    local f = h5.open(path, "w")
    f:create_dataset("l", { data = h5.array.range(1.0, 1000.0), compression = "lzf" })
    f:close()
    local r = helper.sh("h5dump -p -H -d /l " .. helper.quote(path))
    assert.equal(0, r.code, r.stderr)
    assert.matches("FILTER_ID 32000", r.stdout)
    assert.matches("COMMENT lzf", r.stdout)
    assert.matches("PARAMS { 4 261 8000 }", r.stdout, 1, true)
    assert.matches("CHUNKED %( 1000 %)", r.stdout)
  end)

  it("write the seed's raw_json store byte for byte as h5py's create_dataset", function()
    local json = '{"refcode": "ALANIN", "cell": [5.784, 12.133, 5.955], "note": "α"}'
    local lua_path, py_path = helper.tmpfile("lua.h5"), helper.tmpfile("py.h5")
    local f = h5.open(lua_path, "w")
    for _, code in ipairs { "ALANIN", "BENZEN" } do
      f:create_group("structures/" .. code):create_dataset("raw_json", json)
    end
    f:close()
    local r = helper.python_run(string.format([[
import h5py
with h5py.File(%q, "w") as f:
    for code in ["ALANIN", "BENZEN"]:
        f.create_group("structures/" + code).create_dataset("raw_json", data=%q)
]], py_path, json))
    assert.equal(0, r.code, r.stderr)
    assert.equal(helper.read_file(py_path), helper.read_file(lua_path))
  end)

  it("read an uint8 blob that h5py compressed, as bytes", function()
    local path = helper.tmpfile()
    local r = helper.python_run(string.format([[
import h5py, numpy as np, gzip
blob = gzip.compress(b'{"a": 1}' * 100)
with h5py.File(%q, "w") as f:
    f.create_dataset("json_gz", data=np.frombuffer(blob, 'u1'), chunks=True, compression="gzip")
print(blob.hex())
]], path))
    assert.equal(0, r.code, r.stderr)
    local hex = r.stdout:match("%x+")
    local f = h5.open(path)
    local bytes = f.json_gz:read_bytes()
    f:close()
    assert.equal(hex, (bytes:gsub(".", function(ch) return string.format("%02x", ch:byte()) end)))
  end)

  it("list attributes and members in creation order under track_order, both ways", function()
    local lua_path, py_path = helper.tmpfile("lua.h5"), helper.tmpfile("py.h5")
    local f = h5.open(lua_path, "w")
    local d = f:create_dataset("d", { data = { 1, 2 }, track_order = true })
    local g = f:create_group("g", { track_order = true })
    local plain = f:create_group("plain")
    for _, name in ipairs { "z", "a", "m" } do
      d.attrs[name] = 1
      g.attrs[name] = 1
      plain.attrs[name] = 1
      g:create_group(name)
      plain:create_group(name)
    end
    f:close()
    local got = python_json(string.format([[
import h5py, json
with h5py.File(%q, "r") as f:
    print(json.dumps({"d": list(f["d"].attrs), "g": list(f["g"].attrs), "gm": list(f["g"]),
        "plain": list(f["plain"].attrs), "plainm": list(f["plain"])}))
]], lua_path))
    assert.same({ d = { "z", "a", "m" }, g = { "z", "a", "m" }, gm = { "z", "a", "m" },
      plain = { "a", "m", "z" }, plainm = { "a", "m", "z" } }, got)

    local r = helper.python_run(string.format([[
import h5py
with h5py.File(%q, "w") as f:
    d = f.create_dataset("d", data=[1, 2], track_order=True)
    g = f.create_group("g", track_order=True)
    for name in ["z", "a", "m"]:
        d.attrs[name] = 1
        g.attrs[name] = 1
        g.create_group(name)
]], py_path))
    assert.equal(0, r.code, r.stderr)
    f = h5.open(py_path)
    local function names(it)
      local t = {}
      for k in it do t[#t + 1] = k end
      return t
    end
    local creation = { "z", "a", "m" }
    assert.same(creation, f.d.attrs:keys())
    assert.same(creation, names(pairs(f.d.attrs)))
    assert.same(creation, f.g.attrs:keys())
    assert.same(creation, f.g:keys())
    assert.same(creation, names(f.g:items()))
    f:close()
  end)
end)
