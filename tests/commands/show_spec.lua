-- h5lua show FILE [PATH] (#cli).
local h5 = require "h5"
local helper = require "helper"

local command_files = require "command_files"
local make = command_files.make
local run_on, assert_clean = command_files.run_on, command_files.assert_clean

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

  it("colours on a terminal only, never into a pipe", function()
    command_files.assert_colour_only_on_tty({ "show", file, "/z" })
  end)

  describe("on every file of ../shared/data/hdf5-samples", function()
    it("ends cleanly", function()
      command_files.for_each_sample(function(dir, file)
        local r = run_on(dir, file, { "show", "FILE" })
        assert_clean(r, file)
      end)
    end)
  end)
end)
