-- The structure store both ways with h5py (Debian python3-h5py 3.7): stores
-- written by the seed's Python code open, read and validate in h5lua; stores
-- written by h5lua read with the seed's Python reading pattern; and with
-- libver "earliest" the two are byte-identical for the same input.
local h5 = require "h5"
local cjson = require "cjson"
local helper = require "helper"
local store = require "h5lua.store"
local validate = require "h5lua.validate"

-- The seed's hdf5_utils functions on h5py. initialize_hdf5_file and
-- write_structure_group are documented by behaviour only (autofunction);
-- this is the straightforward h5py code for that behaviour (STORE.md);
-- add_file_metadata and read_file_metadata are the seed's own code.
local SEED = [[
import datetime, json, sys
import h5py

def initialize_hdf5_file(hdf5_path, compression="gzip", chunk_size=64):
    h5_file = h5py.File(hdf5_path, "a")
    if "structures" not in h5_file:
        h5_file.create_group("structures")
    return h5_file

def write_structure_group(h5, refcode, raw_json):
    group = h5["structures"].require_group(refcode)
    if "raw_json" in group:
        del group["raw_json"]
    group.create_dataset("raw_json", data=raw_json, dtype=h5py.string_dtype(encoding="utf-8"))

def add_file_metadata(h5_file, metadata_dict):
    if 'metadata' not in h5_file:
        meta_group = h5_file.create_group('metadata')
    else:
        meta_group = h5_file['metadata']
    meta_group.attrs['creation_date'] = datetime.datetime.now().isoformat()
    meta_group.attrs['csa_version'] = metadata_dict.get('csa_version', 'unknown')
    meta_group.attrs['total_structures'] = metadata_dict.get('total_structures', 0)
    meta_group.attrs['processing_stage'] = metadata_dict.get('stage', 'raw')
    for key, value in metadata_dict.items():
        if key not in ['creation_date', 'csa_version', 'total_structures', 'processing_stage']:
            meta_group.attrs[key] = value

def read_file_metadata(h5_file):
    if 'metadata' in h5_file:
        return dict(h5_file['metadata'].attrs)
    return {}
]]

-- Structures with non-ASCII text, escapes and exact floats: refcode -> JSON.
local CELL = '"cell_lengths": [4.9, 4.9, 5.4], "cell_angles": [90.0, 90.0, 120.0]'
local STRUCTURES = {
  { "ALANIN", '{\n  "identifier": "ALANIN",\n  "cell_lengths": [5.784, 12.133, 5.955],\n'
    .. '  "cell_angles": [90.0, 90.0, 90.0],\n  "space_group": "P n a 21"\n}' },
  { "QUARTZ", '{"identifier": "QUARTZ", "name": "α-quartz — SiO₂", "space_group": "P 32 2 1", '
    .. CELL .. '}' },
  { "ESCAPE", '{"identifier": "ESCAPE", "note": "tab\\there \\"quoted\\" \\u00e9", '
    .. '"x": 0.1000000000000000055511151231257827, ' .. CELL .. '}' },
  { "DIAMOND", '{"identifier": "DIAMOND", "gem": "💎", "space_group": "F d -3 m", ' .. CELL
    .. '}' },
}

-- Python source of a list of [refcode, json] pairs.
local function py_structures()
  local parts = {}
  for i, s in ipairs(STRUCTURES) do
    parts[i] = string.format("[%s, %s]", cjson.encode(s[1]), cjson.encode(s[2]))
  end
  return "[" .. table.concat(parts, ", ") .. "]"
end

local function python(code)
  local r = helper.python_run(SEED .. "\n" .. code)
  assert.equal("", r.stderr)
  assert.equal(0, r.code)
  return r.stdout
end

describe("structure store interop with h5py #interop", function()
  after_each(function()
    helper.assert_no_open_ids()
    helper.cleanup()
  end)

  it("opens, reads and validates a store the seed's h5py code wrote", function()
    local path = helper.tmpfile("seed.h5")
    python(string.format([[
h5_file = initialize_hdf5_file(%q)
for refcode, raw in %s:
    write_structure_group(h5_file, refcode, raw)
add_file_metadata(h5_file, {'csa_version': '1.0.0', 'total_structures': 4,
                            'stage': 'raw_extraction', 'data_source': 'CSD_2024'})
h5_file.close()
]], path, py_structures()))
    local s = store.open(path, { mode = "r" })
    assert.equal(4, s:count())
    assert.same({ "ALANIN", "DIAMOND", "ESCAPE", "QUARTZ" }, s:refcodes())
    for _, e in ipairs(STRUCTURES) do assert.equal(e[2], s:read(e[1])) end
    assert.equal("α-quartz — SiO₂", s:get("QUARTZ").name)
    local m = s:metadata()
    assert.equal("1.0.0", m.csa_version)
    assert.equal(4, m.total_structures)
    assert.equal("raw_extraction", m.processing_stage)
    assert.equal("CSD_2024", m.data_source)
    s:close()
    local report = validate.file(path)
    assert.is_true(report.is_valid)
    assert.same({}, report.errors)
    assert.equal(4, report.structure_count)
    -- and h5lua keeps writing into it
    s = store.open(path)
    s:write("NEW", '{"identifier": "NEW"}')
    s:close()
    assert.equal("NEW 5\n", python(string.format([[
with h5py.File(%q, "r") as f:
    print(json.loads(f['/structures/NEW/raw_json'][()].decode())['identifier'],
          len(f['structures']))
]], path)))
  end)

  it("is read by the seed's Python pattern with identical content, non-ASCII included",
    function()
      local path = helper.tmpfile("lua.h5")
      local s = store.open(path)
      s:write_many(STRUCTURES)
      s:set_metadata({ csa_version = "1.0.0", stage = "raw_extraction" })
      s:close()
      local out = python(string.format([[
with h5py.File(%q, "r") as f:
    result = {}
    for refcode, expected in %s:
        raw_data = f['/structures/%%s/raw_json' %% refcode][()].decode()
        assert raw_data == expected, (refcode, raw_data)
        assert json.loads(raw_data) == json.loads(expected)
        result[refcode] = json.loads(raw_data)
    meta = read_file_metadata(f)
    print(json.dumps([result['QUARTZ']['name'], result['DIAMOND']['gem'],
                      result['ESCAPE']['x'], meta['csa_version'], meta['processing_stage'],
                      int(meta['total_structures'])], ensure_ascii=False))
]], path, py_structures()))
      assert.equal('["α-quartz — SiO₂", "💎", 0.1, "1.0.0", "raw_extraction", 4]\n', out)
    end)

  it("writes, with libver earliest, the very bytes the seed's h5py code writes", function()
    local py_path, lua_path = helper.tmpfile("py.h5"), helper.tmpfile("lua.h5")
    local many_path = helper.tmpfile("many.h5")
    local list = {}
    for i = 1, 300 do
      list[i] = { string.format("REF%04d", i),
        string.format('{"identifier": "REF%04d", "n": %d, "text": "%s"}', i, i,
          ("é"):rep(i % 40)) }
    end
    for _, e in ipairs(STRUCTURES) do list[#list + 1] = e end
    local refs, texts = {}, {}
    for i, e in ipairs(list) do refs[i], texts[i] = e[1], e[2] end
    local inputs = helper.tmpdir()
    helper.write_file(inputs .. "/list.json", cjson.encode({ refs, texts }))
    python(string.format([[
refs, texts = json.load(open(%q, encoding="utf-8"))
h5_file = initialize_hdf5_file(%q)
for refcode, raw in zip(refs, texts):
    write_structure_group(h5_file, refcode, raw)
h5_file.close()
]], inputs .. "/list.json", py_path))
    -- one write at a time
    local s = store.open(lua_path, { libver = "earliest" })
    for _, e in ipairs(list) do s:write(e[1], e[2]) end
    s:close()
    -- a batch without intermediate flushes or log entry
    s = store.open(many_path, { libver = "earliest" })
    s:write_many(list, { flush_every = false, flush_seconds = false, log = false })
    s:close()
    local expected = helper.read_file(py_path)
    assert.is_true(#expected > 100000)
    assert.is_true(helper.read_file(lua_path) == expected, "s:write differs from h5py")
    assert.is_true(helper.read_file(many_path) == expected, "write_many differs from h5py")
    assert.equal(0, helper.sh("cmp " .. helper.quote(py_path) .. " " .. helper.quote(lua_path)).code)
  end)

  it("keeps compressed JSON where h5py reads it as bytes", function()
    local path = helper.tmpfile("packed.h5")
    local s = store.open(path, { json_storage = "compressed" })
    s:write_many(STRUCTURES, { log = false })
    s:close()
    local out = python(string.format([[
with h5py.File(%q, "r") as f:
    assert f['structures'].attrs['json_storage'] == 'compressed'
    for refcode, expected in %s:
        d = f['/structures/%%s/raw_json' %% refcode]
        assert d.dtype == 'uint8' and d.compression == 'gzip'
        raw_data = d[()].tobytes().decode()
        assert raw_data == expected, refcode
    print("ok")
]], path, py_structures()))
    assert.equal("ok\n", out)
  end)

  it("keeps a processing log h5py reads as JSON lines", function()
    local path = helper.tmpfile("log.h5")
    local s = store.open(path)
    s:write_many(STRUCTURES)
    s:log("organize", "by_space_group: 4 structures in 4 buckets", { buckets = 4 })
    s:close()
    local out = python(string.format([==[
with h5py.File(%q, "r") as f:
    log = f['processing_log']
    entries = [json.loads(e) for e in log.asstr()[()]]
    print(log.maxshape, [(e['stage'], e['message']) for e in entries],
          entries[1]['fields'], entries[0]['time'][:2])
]==], path))
    assert.equal("(None,) [('write_many', 'wrote 4 structures, 0 failed'), ('organize', "
      .. "'by_space_group: 4 structures in 4 buckets')] {'buckets': 4} 20\n", out)
  end)

  it("leaves the same store when h5py reads while nothing is open for writing", function()
    -- a new-style (v108) store, h5py's default reader, HDF5 1.8-compatible format
    local path = helper.tmpfile("v108.h5")
    local s = store.open(path)
    s:write("ALANIN", STRUCTURES[1][2])
    s:close()
    local out = python(string.format([[
with h5py.File(%q, "r") as f:
    print(f['structures'].id.get_create_plist().get_link_creation_order(),
          f.id.get_create_plist().get_version()[0],
          f['/structures/ALANIN/raw_json'][()].decode() == %s)
]], path, cjson.encode(STRUCTURES[1][2])))
    assert.equal("0 2 True\n", out)
    assert.is_true(h5.is_hdf5(path))
  end)
end)
