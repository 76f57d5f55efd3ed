-- h5lua ls FILE[:PATH] [-r] (#cli), and ls -r against h5py's visit on
-- every file of ../shared/data/hdf5-samples/.
local h5 = require "h5"
local helper = require "helper"

-- Under valgrind everything runs ~50 times slower: fewer members there.
-- How fast ls is on wide groups is measured by `make bench`
-- (tests/bench/wide_group_bench.lua), not here.
local VALGRIND = os.getenv("H5LUA_VALGRIND") ~= nil
local WIDE = VALGRIND and 10000 or 100000

local command_files = require "command_files"
local make, samples = command_files.make, command_files.samples
local run_on, assert_clean = command_files.run_on, command_files.assert_clean

describe("h5lua ls #cli", function()
  local file
  setup(function()
    file = helper.tmpfile("demo.h5")
    make(file)
  end)
  teardown(helper.cleanup)

  it("lists the members of the root group", function()
    local r = helper.h5lua({ "ls", file })
    assert.equal("", r.stderr)
    assert.equal(0, r.code)
    assert.equal(
      "alias        soft link -> /structures (group (3 members))\n" ..
      "structures/  group (3 members)\n" ..
      "x            dataset {2, 3} float64\n" ..
      "z            dataset {100} int32, shuffle, gzip 6\n", r.stdout)
  end)

  it("lists a group named after a colon", function()
    local r = helper.h5lua({ "ls", file .. ":/structures" })
    assert.equal("ALANIN/    group (1 member)\nALANIN01/  group (1 member)\n"
      .. "BENZEN/    group (1 member)\n", r.stdout)
  end)

  it("lists every object below a group with -r", function()
    local r = helper.h5lua({ "ls", "-r", file .. ":structures" })
    assert.equal(0, r.code)
    assert.equal(
      "ALANIN/            group (1 member)\n" ..
      "ALANIN/raw_json    dataset scalar string(utf-8, variable)\n" ..
      "ALANIN01/          group (1 member)\n" ..
      "ALANIN01/raw_json  dataset scalar string(utf-8, variable)\n" ..
      "BENZEN/            group (1 member)\n" ..
      "BENZEN/raw_json    dataset scalar string(utf-8, variable)\n", r.stdout)
  end)

  it("describes a dataset named instead of a group", function()
    local r = helper.h5lua({ "ls", file .. ":/z" })
    assert.equal("/z  dataset {100} int32, shuffle, gzip 6\n", r.stdout)
  end)

  it("prints no colour into a pipe", function()
    local r = helper.h5lua({ "ls", file }, { env = { TERM = "xterm" } })
    assert.falsy(r.stdout:find("\27", 1, true))
  end)

  it("fails with exit 1 and one line for a missing path", function()
    local r = helper.h5lua({ "ls", file .. ":/nope" })
    assert.equal(1, r.code)
    assert.equal("", r.stdout)
    assert.equal("h5lua: " .. file .. ": /nope: no such object\n", r.stderr)
  end)

  it("fails with exit 1 and one line for a file that is not HDF5", function()
    local bad = helper.tmpfile("bad.h5")
    helper.write_file(bad, "hello")
    local r = helper.h5lua({ "ls", bad })
    assert.equal(1, r.code)
    assert.equal("h5lua: h5: cannot open '" .. bad .. "' for reading: not an HDF5 file "
      .. "(file signature not found)\n", r.stderr)
  end)

  it("fails with exit 1 for a missing file", function()
    local r = helper.h5lua({ "ls", "/nonexistent/x.h5" })
    assert.equal(1, r.code)
    assert.equal("h5lua: h5: cannot open '/nonexistent/x.h5' for reading: no such file or "
      .. "directory\n", r.stderr)
  end)

  it("fails with exit 2 on a usage error", function()
    local r = helper.h5lua({ "ls" })
    assert.equal(2, r.code)
    assert.equal("h5lua: missing argument 'target'\n", r.stderr:match("[^\n]*\n$"))
  end)

  it("lists every member of a group of 10^5 members", function()
    local wide = helper.tmpfile("wide.h5")
    local f = h5.open(wide, "w", { libver = "latest" })
    f:create_group("t")
    local g = f:create_group("structures")
    for i = 1, WIDE do g:link("/t", string.format("R%06d", i)) end
    f:close()
    local r = helper.sh(helper.quote(helper.bin) .. " ls " .. helper.quote(wide .. ":/structures"))
    assert.equal(0, r.code, r.stderr)
    local _, n = r.stdout:gsub("\n", "")
    assert.equal(WIDE, n)
    assert.equal("R000001/", r.stdout:match("^R000001/"))
  end)

  describe("on every file of ../shared/data/hdf5-samples", function()
    it("ends cleanly and lists the same paths as h5py's visit with -r", function()
      local dir, files = samples()
      if not dir then
        pending("../shared/data is absent")
        return
      end
      local quoted = {}
      for _, f in ipairs(files) do quoted[#quoted + 1] = string.format("%q", f) end
      local py = helper.python_run(string.format([[
import h5py, json, os
os.chdir(%q)
out = {}
for path in [%s]:
    try:
        with h5py.File(path, "r") as f:
            names = []
            f.visit(names.append)
            out[path] = names
    except Exception:
        out[path] = None
print(json.dumps(out))
]], dir, table.concat(quoted, ", ")))
      assert.equal(0, py.code, py.stderr)
      local visited = require("cjson").decode(py.stdout)
      local compared = 0
      for _, file in ipairs(files) do
        local r = run_on(dir, file, { "ls", "-r", "FILE" })
        assert_clean(r, "ls -r " .. file)
        local names = visited[file]
        if r.code == 0 and type(names) == "table" then
          -- Each line is the path, a "/" for groups, then spaces and the description.
          local got = {}
          for line in r.stdout:gmatch("[^\n]+") do
            local path = line:match("^(.-)/?  ") or line
            got[#got + 1] = path
          end
          table.sort(got)
          table.sort(names)
          assert.same(names, got, file)
          compared = compared + 1
        end
      end
      assert.is_true(compared >= 45, compared .. " files compared")
    end)
  end)
end)
