-- h5lua show FILE [PATH] (#cli).
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

describe("h5lua show #cli", function()
  local file
  setup(function()
    file = helper.tmpfile("demo.h5")
    make(file)
    local f = h5.open(file, "r+")
    f:soft_link("/nowhere", "broken")
    f:close()
  end)
  teardown(helper.cleanup)

  it("shows a dataset's properties and attributes", function()
    local r = helper.h5lua({ "show", file, "/x" })
    assert.equal("", r.stderr)
    assert.equal(0, r.code)
    assert.equal('<dataset "/x": shape {2, 3}, float64>\n' ..
      "  path         /x\n" ..
      "  dtype        float64\n" ..
      "  shape        {2, 3}\n" ..
      "  maxshape     {2, 3}\n" ..
      "  elements     6\n" ..
      "  layout       contiguous\n" ..
      "  filters      none\n" ..
      "  fill value   0.0\n" ..
      "  data size    48 B (48 bytes)\n" ..
      "  stored       48 B (48 bytes), ratio 1.00\n" ..
      "  attributes   1\n" ..
      '    units = "m"\n', r.stdout)
  end)

  it("shows chunks, filters and the compression ratio", function()
    local r = helper.h5lua({ "show", file, "z" })
    assert.truthy(r.stdout:find("\n  layout       chunked {10}\n  filters      shuffle, gzip 6\n",
      1, true), r.stdout)
    assert.truthy(r.stdout:match("\n  stored       %d+ B %(%d+ bytes%), ratio %d+%.%d%d\n"),
      r.stdout)
  end)

  it("shows a group", function()
    local r = helper.h5lua({ "show", file, "/structures" })
    assert.equal('<group "/structures" (3 members)>\n  path         /structures\n'
      .. "  members      3\n  attributes   0\n", r.stdout)
  end)

  it("shows the file without a path", function()
    local r = helper.h5lua({ "show", file })
    assert.equal("  file         " .. file, r.stdout:match("\n([^\n]*)"))
    assert.truthy(r.stdout:find('\n    title = "demo"\n$'), r.stdout)
  end)

  it("fails with exit 1 for a dangling link", function()
    local r = helper.h5lua({ "show", file, "/broken" })
    assert.equal(1, r.code)
    assert.equal("h5lua: " .. file .. ": /broken: dangling soft link to '/nowhere'\n", r.stderr)
  end)

  describe("on every file of ../shared/data/hdf5-samples", function()
    it("ends cleanly", function()
      local dir, files = samples()
      if not dir then
        pending("../shared/data is absent")
        return
      end
      for _, file in ipairs(files) do
        local r = run_on(dir, file, { "show", "FILE" })
        assert_clean(r, file)
      end
    end)
  end)
end)
