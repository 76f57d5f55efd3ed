-- h5lua stats FILE [PATH] (#cli).
local h5 = require "h5"
local helper = require "helper"

local function make(path)
  local f = h5.open(path, "w")
  local s = f:create_group("structures")
  for _, name in ipairs { "ALANIN", "ALANIN01", "BENZEN" } do
    s:create_group(name):create_dataset("raw_json", { data = '{"refcode": "' .. name .. '"}' })
  end
  f:create_dataset("x", { data = { { 1.5, 2.5, 3.5 }, { 4.5, 5.5, 6.5 } } })
  f:create_dataset("z", { data = h5.array.range(0, 99), dtype = "int32", chunks = { 10 },
    compression = "gzip", compression_opts = 6, shuffle = true })
  f:soft_link("/structures", "alias")
  f.attrs.title = "demo"
  f.x.attrs.units = "m"
  f:close()
end

-- The sample files (paths relative to the samples folder), or nil.
local function samples()
  if not helper.data then return nil end
  local dir = helper.data .. "/hdf5-samples"
  -- (helper.sh redirects the last command's input: keep the pipe inside sh -c)
  local r = helper.sh("sh -c 'find . -type f ! -name INDEX.tsv ! -name MANIFEST | sort'",
    { cwd = dir })
  local list = {}
  for line in r.stdout:gmatch("[^\n]+") do list[#list + 1] = line:sub(3) end
  return dir, list
end

-- Run `h5lua args...` in the file's folder (external links resolve there).
local function run_on(dir, file, args)
  local folder, name = (dir .. "/" .. file):match("^(.*)/([^/]+)$")
  local argv = {}
  for _, a in ipairs(args) do argv[#argv + 1] = a == "FILE" and name or a end
  return helper.h5lua(argv, { cwd = folder })
end

-- The few files known to fault inside libhdf5 1.10 end through the crash guard
-- (or, under ASan or valgrind, with their report of a fault in libhdf5).
local function known_hdf5_crash(r, what)
  return helper.known_libhdf5_fault(what) and helper.libhdf5_fault(r)
end

-- Exit 0, or 1 with one "h5lua: ..." line; never a signal.
local function assert_clean(r, what)
  local ok = r.code == 0 or (r.code == 1 and r.stderr:match("^h5lua: [^\n]+\n$"))
    or known_hdf5_crash(r, what)
  assert(ok, string.format("%s: exit %s\n%s", what, tostring(r.code), r.stderr))
end

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
    assert.truthy(space:find(string.format("\n  unaccounted  [^\n]+ %%(%d bytes%%)\n$",
      size - stored)), space)
    assert.equal(string.format("  %10s  /z  {100} int32", zs .. " B"),
      r.stdout:match("largest datasets\n([^\n]*)"))
  end)

  it("fails with exit 1 for a missing file", function()
    local r = helper.h5lua({ "stats", file .. ".missing" })
    assert.equal(1, r.code)
    assert.equal("h5lua: h5: cannot open '" .. file .. ".missing' for reading: no such file or "
      .. "directory\n", r.stderr)
  end)

  describe("on every file of ../shared/data/hdf5-samples", function()
    it("ends cleanly", function()
      local dir, files = samples()
      if not dir then
        pending("../shared/data is absent")
        return
      end
      for _, file in ipairs(files) do
        local r = run_on(dir, file, { "stats", "FILE" })
        assert_clean(r, file)
      end
    end)
  end)
end)
