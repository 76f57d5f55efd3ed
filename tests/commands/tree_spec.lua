-- h5lua tree FILE [PATH] [--depth N] [--fold N] (#cli).
local helper = require "helper"

local command_files = require "command_files"
local make = command_files.make
local run_on, assert_clean = command_files.run_on, command_files.assert_clean

describe("h5lua tree #cli", function()
  local file
  setup(function()
    file = helper.tmpfile("demo.h5")
    make(file)
  end)
  teardown(helper.cleanup)

  it("draws the whole file", function()
    local r = helper.h5lua({ "tree", file })
    assert.equal("", r.stderr)
    assert.equal(0, r.code)
    assert.equal(file .. "  (4 members)\n" ..
      "├── alias  soft link -> /structures (group (3 members))\n" ..
      "├── structures/\n" ..
      "│   ├── ALANIN/\n" ..
      "│   │   └── raw_json  dataset scalar string(utf-8, variable)\n" ..
      "│   ├── ALANIN01/\n" ..
      "│   │   └── raw_json  dataset scalar string(utf-8, variable)\n" ..
      "│   └── BENZEN/\n" ..
      "│       └── raw_json  dataset scalar string(utf-8, variable)\n" ..
      "├── x  dataset {2, 3} float64\n" ..
      "└── z  dataset {100} int32, shuffle, gzip 6\n", r.stdout)
  end)

  it("starts from a group and stops at --depth", function()
    local r = helper.h5lua({ "tree", file, "/structures", "--depth", "1" })
    assert.equal("/structures  (3 members)\n├── ALANIN/  {1 member}\n├── ALANIN01/  {1 member}\n"
      .. "└── BENZEN/  {1 member}\n", r.stdout)
  end)

  it("folds groups wider than --fold", function()
    local r = helper.h5lua({ "tree", file, "--fold", "2" })
    assert.truthy(r.stdout:find("\n├── structures/  {3 members}\n", 1, true), r.stdout)
  end)

  it("describes a dataset given as the start", function()
    local r = helper.h5lua({ "tree", file, "/x" })
    assert.equal("/x  dataset {2, 3} float64\n", r.stdout)
  end)

  it("fails with exit 1 for a missing path", function()
    local r = helper.h5lua({ "tree", file, "/nope" })
    assert.equal(1, r.code)
    assert.equal("h5lua: " .. file .. ": /nope: no such object\n", r.stderr)
  end)

  it("rejects a negative depth", function()
    local r = helper.h5lua({ "tree", file, "--depth=-1" })
    assert.equal(2, r.code)
    assert.equal("h5lua: --depth must be a non-negative integer\n", r.stderr:match("[^\n]*\n$"))
  end)

  it("colours on a terminal only, never into a pipe", function()
    command_files.assert_colour_only_on_tty({ "tree", file })
  end)

  describe("on every file of ../shared/data/hdf5-samples", function()
    it("ends cleanly", function()
      command_files.for_each_sample(function(dir, file)
        local r = run_on(dir, file, { "tree", "FILE" })
        assert_clean(r, file)
      end)
    end)
  end)
end)
