-- h5lua find FILE PATTERN [--path PATH] (#cli).
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

describe("h5lua find #cli", function()
  local file
  setup(function()
    file = helper.tmpfile("demo.h5")
    make(file)
  end)
  teardown(helper.cleanup)

  it("prints the paths that match a Lua pattern", function()
    local r = helper.h5lua({ "find", file, "^/structures/AL" })
    assert.equal("", r.stderr)
    assert.equal(0, r.code)
    assert.equal("/structures/ALANIN\n/structures/ALANIN/raw_json\n/structures/ALANIN01\n"
      .. "/structures/ALANIN01/raw_json\n", r.stdout)
  end)

  it("searches below --path only", function()
    local r = helper.h5lua({ "find", file, "json$", "--path", "/structures/BENZEN" })
    assert.equal("/structures/BENZEN/raw_json\n", r.stdout)
  end)

  it("prints nothing and exits 0 when nothing matches", function()
    local r = helper.h5lua({ "find", file, "xyz" })
    assert.equal(0, r.code)
    assert.equal("", r.stdout)
  end)

  it("rejects a malformed pattern with exit 2", function()
    local r = helper.h5lua({ "find", file, "[a" })
    assert.equal(2, r.code)
    assert.equal("h5lua: bad pattern '[a': malformed pattern (missing ']')\n", r.stderr)
  end)

  describe("on every file of ../shared/data/hdf5-samples", function()
    it("ends cleanly", function()
      local dir, files = samples()
      if not dir then
        pending("../shared/data is absent")
        return
      end
      for _, file in ipairs(files) do
        local r = run_on(dir, file, { "find", "FILE", "." })
        assert_clean(r, file)
      end
    end)
  end)
end)
