-- h5lua rules: the list of validation rules.

local helper = require "helper"

local FIXTURES = helper.root .. "/tests/fixtures/plugins/"

describe("h5lua rules #cli", function()

  after_each(function()
    helper.cleanup()
  end)

  it("lists the built-in rules with severity and description", function()
    local r = helper.h5lua({ "rules" }, { env = { H5LUA_PATH = helper.tmpdir(),
      HOME = helper.tmpdir() } })
    assert.equal("", r.stderr)
    assert.equal(0, r.code)
    local names = {}
    for name in r.stdout:gmatch("%f[^\n%z]  (%S+)") do names[#names + 1] = name end
    assert.same({ "cell_valid", "coordinates_finite", "fletcher32", "identifier_matches",
      "index_consistency", "json_parses", "metadata_creation_date", "raw_json_present",
      "raw_json_readable",
      "required_fields", "space_group_recognised", "structures_group" }, names)
    assert.truthy(r.stdout:find("  json_parses             error    Every raw_json parses as a "
      .. "JSON object.\n", 1, true))
  end)

  it("lists user rules from H5LUA_PATH and from --rules FILE", function()
    local dir = helper.tmpdir()
    os.execute("mkdir -p " .. dir .. "/rules")
    local file = dir .. "/rules/small_cell.lua"
    helper.write_file(file, helper.read_file(FIXTURES .. "small_cell.lua"))
    local two = helper.tmpdir() .. "/two.lua"
    helper.write_file(two, helper.read_file(FIXTURES .. "two_rules.lua"))
    local r = helper.h5lua({ "rules", "--rules", two }, { env = { H5LUA_PATH = dir } })
    assert.equal(0, r.code)
    assert.truthy(r.stdout:find("  small_cell              warning  The cell is at least 50 "
      .. "cubic angstroms. [" .. file .. "]\n", 1, true))
    assert.truthy(r.stdout:find("  always_raises           warning  Its check raises. [" .. two
      .. "]\n", 1, true))
    assert.truthy(r.stdout:find("  always_warns ", 1, true))
  end)

  it("lists and runs a user's rule found in ~/.config/h5lua/rules/", function()
    local home = helper.tmpdir()
    os.execute("mkdir -p " .. home .. "/.config/h5lua/rules")
    local file = home .. "/.config/h5lua/rules/x.lua"
    helper.write_file(file, helper.read_file(FIXTURES .. "small_cell.lua"))
    local env = { HOME = home, H5LUA_PATH = "" }
    local r = helper.h5lua({ "rules" }, { env = env })
    assert.equal(0, r.code)
    assert.truthy(r.stdout:find("  small_cell              warning  The cell is at least 50 "
      .. "cubic angstroms. [" .. file .. "]\n", 1, true))
    local store = require "h5lua.store"
    local path = helper.tmpfile()
    local s = store.open(path, { validate = false })
    s:write("TINY", '{"identifier":"TINY","cell_lengths":[1,2,3],"cell_angles":[90,90,90]}')
    s:close()
    r = helper.h5lua({ "validate", path }, { env = env })
    assert.equal(0, r.code)
    assert.truthy(r.stdout:find("    - [small_cell] /structures/TINY: Structure TINY has a tiny "
      .. "cell\n", 1, true))
  end)

  it("exits with status 2 for a rules file that fails to load", function()
    local bad = helper.tmpdir() .. "/broken.lua"
    helper.write_file(bad, helper.read_file(FIXTURES .. "broken.lua"))
    local r = helper.h5lua({ "rules", "--rules", bad })
    assert.equal(2, r.code)
    assert.equal(string.format("h5lua: cannot load '%s': %s:3: unexpected symbol near <eof>\n",
      bad, bad), r.stderr)
  end)

  it("shows its help", function()
    local r = helper.h5lua({ "rules", "--help" })
    assert.equal(0, r.code)
    assert.truthy(r.stdout:find("Usage: h5lua rules", 1, true))
  end)
end)
