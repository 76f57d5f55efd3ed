-- h5lua schemes: the list of organization schemes.

local helper = require "helper"

local FIXTURES = helper.root .. "/tests/fixtures/plugins/"

describe("h5lua schemes #cli", function()

  after_each(function()
    helper.cleanup()
  end)

  it("lists the built-in schemes with their descriptions", function()
    local r = helper.h5lua({ "schemes" }, { env = { H5LUA_PATH = helper.tmpdir(),
      HOME = helper.tmpdir() } })
    assert.equal("", r.stderr)
    assert.equal(0, r.code)
    local names = {}
    for name in r.stdout:gmatch("%f[^\n%z]  (%S+)") do names[#names + 1] = name end
    assert.same({ "by_composition", "by_crystal_system", "by_element", "by_size",
      "by_space_group" }, names)
    assert.truthy(r.stdout:find("  by_composition     One bucket per Hill-order formula: the "
      .. "record's formula, else counted from the atoms (C9H8O4).\n", 1, true))
  end)

  it("lists a user's scheme with where it comes from", function()
    local dir = helper.tmpdir()
    os.execute("mkdir -p " .. dir .. "/schemes")
    local file = dir .. "/schemes/by_first_letter.lua"
    helper.write_file(file, helper.read_file(FIXTURES .. "by_first_letter.lua"))
    local r = helper.h5lua({ "schemes" }, { env = { H5LUA_PATH = dir } })
    assert.truthy(r.stdout:find("  by_first_letter    One bucket per first letter of the "
      .. "refcode. [" .. file .. "]\n", 1, true))
    local other = helper.tmpdir() .. "/x.lua"
    helper.write_file(other, helper.read_file(FIXTURES .. "by_first_letter.lua"))
    r = helper.h5lua({ "schemes", "--scheme", other })
    assert.truthy(r.stdout:find("[" .. other .. "]", 1, true))
  end)

  it("warns about a user file that fails to load and lists the rest", function()
    local dir = helper.tmpdir()
    os.execute("mkdir -p " .. dir .. "/schemes")
    local bad = dir .. "/schemes/broken.lua"
    helper.write_file(bad, helper.read_file(FIXTURES .. "broken.lua"))
    local r = helper.h5lua({ "schemes" }, { env = { H5LUA_PATH = dir } })
    assert.equal(0, r.code)
    assert.equal(string.format("h5lua: warning: cannot load '%s': %s:3: unexpected symbol near "
      .. "<eof>\n", bad, bad), r.stderr)
    assert.truthy(r.stdout:find("by_space_group", 1, true))
  end)

  it("shows its help", function()
    local r = helper.h5lua({ "schemes", "--help" })
    assert.equal(0, r.code)
    assert.truthy(r.stdout:find("Usage: h5lua schemes", 1, true))
  end)
end)
