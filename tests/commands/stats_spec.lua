-- h5lua stats FILE [PATH] (#cli).
local h5 = require "h5"
local helper = require "helper"

local command_files = require "command_files"
local make = command_files.make
local run_on, assert_clean = command_files.run_on, command_files.assert_clean

describe("h5lua stats #cli", function()
  local file
  setup(function()
    file = helper.tmpfile("demo.h5")
    make(file)
  end)
  teardown(helper.cleanup)

  it("counts objects, links, dtypes, filters and layouts", function()
    local r = helper.h5lua({ "stats", file })
    assert.equal("", r.stderr)
    assert.equal(0, r.code)
    assert.equal("objects\n  groups       5\n  datasets     5\n  datatypes    0\n"
      .. "links\n  hard         9\n  soft         1\n  external     0\n  user         0\n"
      .. "datasets by dtype\n       3  string(utf-8, variable)\n       1  float64\n"
      .. "       1  int32\n"
      .. "datasets by filter\n       4  none\n       1  gzip\n       1  shuffle\n"
      .. "datasets by layout\n       4  contiguous\n       1  chunked\n",
      r.stdout:match("^(.-)space\n"))
  end)

  it("sums the bytes and names the largest datasets", function()
    local f = h5.open(file)
    local size, zs = f.size, f.z.storage_size
    f:close()
    local r = helper.h5lua({ "stats", file })
    local space = r.stdout:match("\nspace\n(.-)largest datasets\n")
    local stored = zs + 48 + 3 * 16
    assert.equal(string.format("  file size    %s (%d bytes)\n",
      require("h5lua.pretty").bytes(size), size), space:match("^[^\n]*\n"))
    assert.truthy(space:find(string.format("\n  data         472 B (472 bytes)\n  stored       "
      .. "%d B (%d bytes)\n", stored, stored), 1, true), space)
    assert.truthy(space:find("\n  free         0 B (0 bytes)\n", 1, true), space)
    assert.truthy(space:find(string.format("\n  unaccounted  [^\n]+ %%(%d bytes%%)\n$",
      size - stored)), space)
    assert.equal(string.format("  %10s  /z  {100} int32", zs .. " B"),
      r.stdout:match("largest datasets\n([^\n]*)"))
  end)

  it("reports the free space HDF5 tracks, as h5stat does", function()
    local path = helper.tmpfile("freed.h5")
    -- a persistent free-space manager keeps what a deleted dataset held
    local py = helper.python_run(string.format([[
import h5py, numpy
with h5py.File(%q, "w", fs_strategy="fsm", fs_persist=True) as f:
    f["big"] = numpy.zeros(100000)
    f["small"] = numpy.arange(10)
with h5py.File(%q, "r+") as f:
    del f["big"]
]], path, path))
    assert.equal(0, py.code, py.stderr)
    local h5stat = helper.sh("h5stat -S " .. helper.quote(path))
    local free = tonumber(h5stat.stdout:match("tracked free space: (%d+) bytes"))
    assert(free and free >= 800000, h5stat.stdout)
    local f = h5.open(path)
    local size = f.size
    f:close()
    local r = helper.h5lua({ "stats", path })
    assert.equal("", r.stderr)
    local space = r.stdout:match("\nspace\n(.-)largest datasets\n")
    assert.truthy(space:find(string.format("\n  free         %s (%d bytes)\n",
      require("h5lua.pretty").bytes(free), free), 1, true), space)
    assert.truthy(space:find(string.format("\n  unaccounted  [^\n]+ %%(%d bytes%%)\n$",
      size - 80 - free)), space)
  end)

  it("reads the free space of a file whose root has a member named freespace", function()
    local path = helper.tmpfile("named.h5")
    local f = h5.open(path, "w")
    f:create_group("freespace")
    f:create_dataset("size", { data = { 1, 2, 3 } })
    f:close()
    local r = helper.h5lua({ "stats", path })
    assert.equal("", r.stderr)
    assert.equal(0, r.code)
    assert.truthy(r.stdout:find("\n  free         0 B (0 bytes)\n", 1, true), r.stdout)
  end)

  it("fails with exit 1 for a missing file", function()
    local r = helper.h5lua({ "stats", file .. ".missing" })
    assert.equal(1, r.code)
    assert.equal("h5lua: h5: cannot open '" .. file .. ".missing' for reading: no such file or "
      .. "directory\n", r.stderr)
  end)

  it("colours on a terminal only, never into a pipe", function()
    command_files.assert_colour_only_on_tty({ "stats", file })
  end)

  describe("on every file of ../shared/data/hdf5-samples", function()
    it("ends cleanly", function()
      command_files.for_each_sample(function(dir, file)
        local r = run_on(dir, file, { "stats", "FILE" })
        assert_clean(r, file)
      end)
    end)
  end)
end)
