-- Datasets written by h5lua read back identically in h5py and h5dump, and
-- datasets written by h5py read back identically in h5lua: every dtype and
-- every filter, both ways.
local h5 = require "h5"
local cjson = require "cjson"
local helper = require "helper"

-- Run python code that prints one JSON document; return it decoded.
local function python_json(code, opts)
  local r = helper.python_run(code, opts)
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

  -- h5dump's DATA block of each dataset, whitespace collapsed: h5dump reads
  -- the bytes through its own type handling, so this checks the stored values
  -- and types, not h5lua's reading of them.
  it("show in h5dump the values h5lua wrote, for every kind of dtype", function()
    local dumps = {
      { "i8", { data = { -128, 127 }, dtype = "int8" }, "(0): -128, 127" },
      { "u16", { data = { 0, 65535 }, dtype = "uint16" }, "(0): 0, 65535" },
      { "u32", { data = { 0, 4294967295 }, dtype = "uint32" }, "(0): 0, 4294967295" },
      { "i64", { data = { math.mininteger, math.maxinteger } },
        "(0): -9223372036854775808, 9223372036854775807" },
      { "u64", { data = { 0, 123 }, dtype = "uint64" }, "(0): 0, 123" },
      { "f16", { data = { 0.5, -2 }, dtype = "float16" }, "(0): 0.5, -2" },
      { "f32", { data = { 1.5, -0.25 }, dtype = "float32" }, "(0): 1.5, -0.25" },
      { "f64", { data = { { 1.5, 2 }, { 3, 0.1 } } }, "(0,0): 1.5, 2, (1,0): 3, 0.1" },
      { "be32", { data = { 1, -2 }, dtype = ">i4" }, "(0): 1, -2" },
      { "bool", { data = { true, false } }, "(0): TRUE, FALSE" },
      { "scalar_int", { data = 42 }, "(0): 42" },
      { "scalar_string", { data = '{"a": 1}' }, '(0): "{"a": 1}"' },
      { "strings", { data = { "ALANIN", "BENZEN", "" } }, '(0): "ALANIN", "BENZEN", ""' },
      { "ascii_var", { data = { "a", "bc" }, dtype = "string(ascii, variable)" },
        '(0): "a", "bc"' },
      { "fixed", { data = { "ab", "cde" }, dtype = "string(ascii, 4)" },
        [[(0): "ab\000\000", "cde\000"]] },
      { "compound", { data = { { x = 1, y = 2.5 }, { x = -3, y = 0.5 } },
          dtype = "compound{x: int32, y: float64}" }, "(0): { 1, 2.5 }, (1): { -3, 0.5 }" },
      { "enum", { data = { "RED", "BLUE" }, dtype = "enum(uint8){RED=0, GREEN=1, BLUE=2}" },
        "(0): RED, BLUE" },
      { "array", { data = { { 1, 2, 3 }, { 4, 5, 6 } }, dtype = "array{int16, 3}" },
        "(0): [ 1, 2, 3 ], [ 4, 5, 6 ]" },
      { "vlen", { data = { { 1, 2 }, { 3 } }, dtype = "vlen{int32}" }, "(0): (1, 2), (3)" },
      { "rank3", { data = { { { 1, 2 }, { 3, 4 } }, { { 5, 6 }, { 7, 8 } } }, dtype = "int16" },
        "(0,0,0): 1, 2, (0,1,0): 3, 4, (1,0,0): 5, 6, (1,1,0): 7, 8" },
    }
    local path = helper.tmpfile()
    local f = h5.open(path, "w")
    for _, c in ipairs(dumps) do f:create_dataset(c[1], c[2]) end
    f:close()
    for _, c in ipairs(dumps) do
      local r = helper.sh("h5dump -d /" .. c[1] .. " " .. helper.quote(path))
      assert.equal(0, r.code, r.stderr)
      local _, data = r.stdout:match("\n(%s*)DATA {(.-)\n%1}")  -- to DATA's own closing brace
      assert.is_string(data, c[1] .. ": no DATA block in\n" .. r.stdout)
      assert.equal(c[3], (data:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")), c[1])
    end
  end)

  it("round-trip rank 3 and rank 4, chunked and contiguous, also through h5py", function()
    local path = helper.tmpfile()
    local f = h5.open(path, "w")
    local shapes = { r3 = { 3, 4, 5 }, r4 = { 2, 3, 4, 5 } }
    for name, shape in pairs(shapes) do
      local n = 1
      for _, k in ipairs(shape) do n = n * k end
      local a = h5.array.range(0, n - 1):astype("int32"):reshape(shape)
      local chunks = {}
      for i, k in ipairs(shape) do chunks[i] = math.max(1, k // 2) end
      f:create_dataset(name .. "_contig", { data = a })
      f:create_dataset(name .. "_chunked", { data = a, chunks = chunks, compression = "gzip" })
      for _, layout in ipairs { "_contig", "_chunked" } do
        local d = f[name .. layout]
        assert.same(shape, d.shape, name .. layout)
        local back = d:read()
        assert.same(shape, back.shape)
        assert.same(a:totable(), back:totable(), name .. layout)
        -- a per-dimension element and a stepped selection
        local last = {}
        for i, k in ipairs(shape) do last[i] = k end
        assert.equal(n - 1, back:get(table.unpack(last)))
        assert.equal(n - 1, d:read(table.unpack(last)))
      end
      assert.is_nil(f[name .. "_contig"].chunks)
      assert.same(chunks, f[name .. "_chunked"].chunks)
    end
    f:close()
    local got = python_json(string.format([[
import h5py, json, numpy as np
out = {}
with h5py.File(%q, "r") as f:
    for name in f:
        d = f[name]
        n = int(np.prod(d.shape))
        out[name] = {"shape": list(d.shape), "chunks": d.chunks and list(d.chunks),
            "same": bool((d[()] == np.arange(n, dtype="i4").reshape(d.shape)).all()),
            "dtype": str(d.dtype)}
print(json.dumps(out))
]], path))
    assert.same({ shape = { 3, 4, 5 }, chunks = cjson.null, same = true, dtype = "int32" },
      got.r3_contig)
    assert.same({ shape = { 3, 4, 5 }, chunks = { 1, 2, 2 }, same = true, dtype = "int32" },
      got.r3_chunked)
    assert.same({ shape = { 2, 3, 4, 5 }, chunks = cjson.null, same = true, dtype = "int32" },
      got.r4_contig)
    assert.same({ shape = { 2, 3, 4, 5 }, chunks = { 1, 1, 2, 2 }, same = true, dtype = "int32" },
      got.r4_chunked)
  end)

  it("read a compact dataset h5py made with the low-level API", function()
    local path = helper.tmpfile()
    local r = helper.python_run(string.format([=[
import h5py, numpy as np
with h5py.File(%q, "w") as f:
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.COMPACT)
    space = h5py.h5s.create_simple((2, 3))
    d = h5py.h5d.create(f.id, b"compact", h5py.h5t.IEEE_F64LE, space, dcpl=dcpl)
    d.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array([[1.5, 2, 3], [4, 5, -6.25]]))
    assert f["compact"].id.get_create_plist().get_layout() == h5py.h5d.COMPACT
]=], path))
    assert.equal(0, r.code, r.stderr)
    local f = h5.open(path)
    local d = f.compact
    assert.same({ 2, 3 }, d.shape)
    assert.equal("float64", d.dtype)
    assert.is_nil(d.chunks)
    assert.same({ { 1.5, 2, 3 }, { 4, 5, -6.25 } }, d:read():totable())
    assert.same({ 3, -6.25 }, d:read(nil, -1):totable())
    f:close()
  end)

  it("fail a read of a fletcher32 chunk with one byte flipped, naming the checksum", function()
    local path = helper.tmpfile()
    local f = h5.open(path, "w")
    f:create_dataset("d", { data = h5.array.range(1000001, 1000100):astype("int32"),
      chunks = { 100 }, fletcher32 = true })
    f:close()
    local bytes = helper.read_file(path)
    -- the chunk is stored raw (no compression): find its first values
    local at = bytes:find(string.pack("<i4i4", 1000001, 1000002), 1, true)
    assert.is_number(at)
    assert.is_nil(bytes:find(string.pack("<i4i4", 1000001, 1000002), at + 1, true))
    helper.write_file(path, bytes:sub(1, at + 4) .. string.char(bytes:byte(at + 5) ~ 0x01)
      .. bytes:sub(at + 6))
    f = h5.open(path)
    local ok, err = pcall(function() return f.d:read() end)
    f:close()
    assert.is_false(ok)
    assert.equal("h5: cannot read '/d': data error detected by Fletcher32 checksum", err)
  end)

  it("use a filter plugin by its id through HDF5_PLUGIN_PATH, both ways", function()
    if not os.execute("command -v cc >/dev/null 2>&1") then
      pending("no C compiler (cc) to build the test plugin")
      return
    end
    local dir = helper.tmpdir()
    -- filter 32123: XOR of every byte with 0x5a, its own inverse
    helper.write_file(dir .. "/xor.c", [[
#include <hdf5.h>
#include <H5PLextern.h>
static size_t xor_filter(unsigned flags, size_t nvals, const unsigned vals[], size_t nbytes,
                         size_t *size, void **buf) {
  (void)flags; (void)nvals; (void)vals; (void)size;
  unsigned char *p = *buf;
  for (size_t i = 0; i < nbytes; i++) p[i] ^= 0x5a;
  return nbytes;
}
static const H5Z_class2_t XOR_CLASS = {H5Z_CLASS_T_VERS, 32123, 1, 1, "xor test filter",
                                       NULL, NULL, xor_filter};
H5PL_type_t H5PLget_plugin_type(void) { return H5PL_TYPE_FILTER; }
const void *H5PLget_plugin_info(void) { return &XOR_CLASS; }
]])
    local plugins = dir .. "/plugins"
    local r = helper.sh(string.format("mkdir -p %s && cc -shared -fPIC -o %s/libxor_filter.so "
      .. "%s/xor.c $(pkg-config --cflags hdf5)", helper.quote(plugins), helper.quote(plugins),
      helper.quote(dir)))
    assert.equal(0, r.code, r.stderr)
    local lua_path, py_path = helper.tmpfile("lua.h5"), helper.tmpfile("py.h5")
    helper.write_file(dir .. "/write.lua", string.format([[
local h5 = require "h5"
local f = h5.open(%q, "w")
local d = f:create_dataset("x", { data = h5.array.range(1, 1000), compression = 32123 })
assert(d.compression == 32123, tostring(d.compression))
local sum = d:read():sum()
f:close()
f = h5.open(%q)
print(sum, f.py:read():sum())
f:close()
]], lua_path, py_path))
    r = helper.python_run(string.format([[
import h5py, numpy as np
with h5py.File(%q, "w") as f:
    f.create_dataset("py", data=np.arange(1, 1001), chunks=(100,), compression=32123)
]], py_path), { env = { HDF5_PLUGIN_PATH = plugins } })
    assert.equal(0, r.code, r.stderr)
    r = helper.h5lua({ dir .. "/write.lua" }, { env = { HDF5_PLUGIN_PATH = plugins } })
    assert.equal(0, r.code, r.stderr)
    assert.equal("500500\t500500", r.stdout:match("[^\n]+"))
    local got = python_json(string.format([[
import h5py, json
with h5py.File(%q, "r") as f:
    d = f["x"]
    print(json.dumps({"sum": int(d[()].sum()), "filters": sorted(d._filters)}))
]], lua_path), { env = { HDF5_PLUGIN_PATH = plugins } })
    assert.same({ sum = 500500, filters = { "32123" } }, got)
    -- the filter really transforms the bytes: the raw values are not in the file
    assert.is_nil(helper.read_file(lua_path):find(string.pack("<i8i8", 1, 2), 1, true))
  end)

  it("copy a dataset with its attributes and filters into another file", function()
    local src_path, dst_path = helper.tmpfile("src.h5"), helper.tmpfile("dst.h5")
    local src = h5.open(src_path, "w")
    local d = src:create_dataset("g/d", { data = h5.array.range(1, 1000), chunks = { 100 },
      compression = "gzip", compression_opts = 7, shuffle = true, fletcher32 = true })
    d.attrs.units = "K"
    d.attrs.scale = { 1.5, 2 }
    local dst = h5.open(dst_path, "w")
    dst:create_group("into")
    src:copy("g/d", dst.into, "copy")
    src:close()
    local c = dst["into/copy"]
    assert.equal(500500, c:read():sum())
    assert.same({ 100 }, c.chunks)
    assert.equal("gzip", c.compression)
    assert.equal(7, c.compression_opts)
    assert.is_true(c.shuffle)
    assert.is_true(c.fletcher32)
    assert.equal("K", c.attrs.units)
    assert.same({ 1.5, 2 }, c.attrs.scale)
    dst:close()
    local got = python_json(string.format([[
import h5py, json
with h5py.File(%q, "r") as f:
    d = f["into/copy"]
    print(json.dumps({"sum": int(d[()].sum()), "compression": d.compression,
        "opts": d.compression_opts, "shuffle": d.shuffle, "fletcher32": d.fletcher32,
        "units": d.attrs["units"], "scale": d.attrs["scale"].tolist()}))
]], dst_path))
    assert.same({ sum = 500500, compression = "gzip", opts = 7, shuffle = true,
      fletcher32 = true, units = "K", scale = { 1.5, 2 } }, got)
  end)
end)
