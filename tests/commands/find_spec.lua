-- h5lua find FILE PATTERN [--path PATH] (#cli).
local helper = require "helper"

local command_files = require "command_files"
local make = command_files.make
local run_on, assert_clean = command_files.run_on, command_files.assert_clean

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

  it("prints no colour into a pipe", function()
    command_files.assert_colour_only_on_tty({ "find", file, "AL" }, true)
  end)

  describe("on every file of ../shared/data/hdf5-samples", function()
    it("ends cleanly", function()
      command_files.for_each_sample(function(dir, file)
        local r = run_on(dir, file, { "find", "FILE", "." })
        assert_clean(r, file)
      end)
    end)
  end)
end)
