local h5 = require "h5"
local cjson = require "cjson"
local helper = require "helper"

describe("groups and attributes #interop", function()
  after_each(helper.assert_no_open_ids)
  teardown(helper.cleanup)

  it("written by h5lua read back identically in h5py, with h5py's dtypes", function()
    local path = helper.tmpfile()
    local f = h5.open(path, "w")
    local g = f:create_group("structures/ALANIN")
    f:create_group("metadata")
    g.attrs.count = 12
    g.attrs.ratio = 0.25
    g.attrs.ok = true
    g.attrs.name = "L-alanine, α form"
    g.attrs.cell = { 5.784, 12.133, 5.955 }
    g.attrs.z = { 4, 4 }
    g.attrs.labels = { "N1", "C1", "O1" }
    g.attrs.grid = { { 1, 2 }, { 3, 4 } }
    f.metadata.attrs.creation_date = "2026-11-23T10:00:00"
    f:close()
    local r = helper.python_run(string.format([[
import h5py, json
out = {}
with h5py.File(%q, "r") as f:
    out["keys"] = sorted(f.keys())
    out["sub"] = sorted(f["structures"].keys())
    a = f["structures/ALANIN"].attrs
    for k in sorted(a.keys()):
        v = a[k]
        dt = h5py.check_string_dtype(a.get_id(k).dtype)
        out[k] = {
            "dtype": "str" if dt else str(a.get_id(k).dtype),
            "value": v.tolist() if hasattr(v, "tolist") else v,
        }
        if isinstance(out[k]["value"], bytes):
            out[k]["value"] = out[k]["value"].decode()
    out["date"] = f["metadata"].attrs["creation_date"]
print(json.dumps(out, sort_keys=True))
]], path))
    assert.equal(0, r.code, r.stderr)
    local got = cjson.decode(r.stdout)
    assert.same({ "metadata", "structures" }, got.keys)
    assert.same({ "ALANIN" }, got.sub)
    assert.same({ dtype = "int64", value = 12 }, got.count)
    assert.same({ dtype = "float64", value = 0.25 }, got.ratio)
    assert.same({ dtype = "bool", value = true }, got.ok)
    assert.same({ dtype = "str", value = "L-alanine, α form" }, got.name)
    assert.same({ dtype = "float64", value = { 5.784, 12.133, 5.955 } }, got.cell)
    assert.same({ dtype = "int64", value = { 4, 4 } }, got.z)
    assert.same({ dtype = "str", value = { "N1", "C1", "O1" } }, got.labels)
    assert.same({ dtype = "int64", value = { { 1, 2 }, { 3, 4 } } }, got.grid)
    assert.equal("2026-11-23T10:00:00", got.date)
  end)

  it("written by h5py read identically in h5lua", function()
    local path = helper.tmpfile()
    local r = helper.python_run(string.format([[
import h5py, numpy as np
with h5py.File(%q, "w") as f:
    g = f.create_group("structures/GLYCIN")
    f.create_group("by_space_group/P 21%%2Fn")
    g.attrs["i8"] = np.int8(-5)
    g.attrs["u16"] = np.uint16(65000)
    g.attrs["i32"] = np.int32(7)
    g.attrs["f32"] = np.float32(0.5)
    g.attrs["f64"] = 1.25
    g.attrs["flag"] = np.bool_(False)
    g.attrs["text"] = "glycine ✓"
    g.attrs["bytes"] = np.bytes_(b"fixed")
    g.attrs["floats"] = np.array([1.0, 2.0, 3.5])
    g.attrs["matrix"] = np.arange(6, dtype="i4").reshape(2, 3)
    g.attrs["strs"] = ["a", "b"]
    g.attrs["bools"] = np.array([True, False])
]], path))
    assert.equal(0, r.code, r.stderr)
    local f = h5.open(path)
    assert.same({ "by_space_group", "structures" }, f:keys())
    assert.same({ "P 21%2Fn" }, f.by_space_group:keys())
    local a = f.structures.GLYCIN.attrs
    assert.equal(-5, a.i8)
    assert.equal(65000, a.u16)
    assert.equal(7, a.i32)
    assert.equal(0.5, a.f32)
    assert.equal(1.25, a.f64)
    assert.is_false(a.flag)
    assert.equal("glycine ✓", a.text)
    assert.equal("fixed", a.bytes)
    assert.same({ 1.0, 2.0, 3.5 }, a.floats)
    assert.same({ { 0, 1, 2 }, { 3, 4, 5 } }, a.matrix)
    assert.same({ "a", "b" }, a.strs)
    assert.same({ true, false }, a.bools)
    assert.same({ "bools", "bytes", "f32", "f64", "flag", "floats", "i32", "i8", "matrix",
      "strs", "text", "u16" }, a:keys())
    f:close()
  end)

  it("agrees with h5dump on what h5lua wrote", function()
    local path = helper.tmpfile()
    local f = h5.open(path, "w")
    local g = f:create_group("a/b")
    g.attrs.n = 3
    g.attrs.s = "x"
    f:soft_link("/a/b", "link")
    f:close()
    local r = helper.sh("h5dump -A " .. helper.quote(path))
    assert.equal(0, r.code, r.stderr)
    local expected = [[
HDF5 "%s" {
GROUP "/" {
   GROUP "a" {
      GROUP "b" {
         ATTRIBUTE "n" {
            DATATYPE  H5T_STD_I64LE
            DATASPACE  SCALAR
            DATA {
            (0): 3
            }
         }
         ATTRIBUTE "s" {
            DATATYPE  H5T_STRING {
               STRSIZE H5T_VARIABLE;
               STRPAD H5T_STR_NULLTERM;
               CSET H5T_CSET_UTF8;
               CTYPE H5T_C_S1;
            }
            DATASPACE  SCALAR
            DATA {
            (0): "x"
            }
         }
      }
   }
   SOFTLINK "link" {
      LINKTARGET "/a/b"
   }
}
}
]]
    assert.equal(expected:format(path), r.stdout)
  end)

  it("lists the same paths as h5py's visit", function()
    local path = helper.tmpfile()
    local f = h5.open(path, "w")
    f:create_group("z/y/x")
    f:create_group("a")
    f:create_group("m/n")
    local ours = {}
    f:visit(function(p) ours[#ours + 1] = p end)
    f:close()
    local r = helper.python_run(string.format([[
import h5py
names = []
with h5py.File(%q, "r") as f:
    f.visit(names.append)
print("\n".join(names))
]], path))
    assert.equal(0, r.code, r.stderr)
    assert.equal(r.stdout, table.concat(ours, "\n") .. "\n")
  end)
end)
