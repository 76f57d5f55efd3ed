-- h5lua organize FILE [SCHEME]: output, exit codes, user schemes, options.

local helper = require "helper"

local FIXTURES = helper.root .. "/tests/fixtures/plugins/"

local function make_store(entries)
  local store = require "h5lua.store"
  local path = helper.tmpfile()
  local s = store.open(path, { validate = false })
  for _, e in ipairs(entries) do s:write(e[1], e[2]) end
  s:close()
  return path
end

local ENTRIES = {
  { "ALANIN", '{"identifier":"ALANIN","space_group":"P 21 21 21","atoms":[{"symbol":"C"}]}' },
  { "BAD", '{"identifier":' },
  { "NACL", '{"identifier":"NACL","space_group":"F m -3 m","atoms":[{"symbol":"Na"},'
    .. '{"symbol":"Cl"}]}' },
  { "SLASH", '{"identifier":"SLASH","space_group":"P 21/c","atoms":[]}' },
}

describe("h5lua organize #cli", function()
  if not package.searchpath("h5lua.store", package.path) then
    pending("h5lua.store has not landed yet")
    return
  end

  local organize = require "h5lua.organize"

  after_each(function()
    helper.cleanup()
  end)

  it("builds the index and lists the structures it skipped", function()
    local path = make_store(ENTRIES)
    local r = helper.h5lua({ "organize", path, "by_space_group" })
    assert.equal("", r.stderr)
    assert.equal(0, r.code)
    assert.equal("Organized 3 of 4 structures into 3 buckets in /by_space_group\n"
      .. "Skipped 1 structure:\n"
      .. "  BAD: invalid JSON: Expected value but found T_END at character 15\n", r.stdout)
    assert.same({ "F m -3 m", "P 21 21 21", "P 21/c" }, organize.buckets(path, "by_space_group"))
  end)

  it("exits with status 1 for skipped structures under --strict", function()
    local path = make_store(ENTRIES)
    local r = helper.h5lua({ "organize", path, "by_space_group", "--strict" })
    assert.equal(1, r.code)
    assert.equal("h5lua: 1 structures skipped\n", r.stderr)
  end)

  it("adds links with --links", function()
    local path = make_store(ENTRIES)
    assert.equal(0, helper.h5lua({ "organize", path, "by_element", "--links" }).code)
    local h5 = require "h5"
    local f = h5.open(path, "r")
    assert.equal("/structures/NACL", f:get("by_element/Na"):link_info("NACL").target)
    f:close()
  end)

  it("passes --option values to the scheme", function()
    local path = make_store(ENTRIES)
    local r = helper.h5lua({ "organize", path, "by_size", "--option", "edges=0,1" })
    assert.equal(0, r.code)
    assert.same({ "0-0", "1-1", "2+" }, organize.buckets(path, "by_size"))
    r = helper.h5lua({ "organize", path, "by_size", "--option", "edges" })
    assert.equal(2, r.code)
    assert.equal("h5lua: option 'edges' is not KEY=VALUE\n", r.stderr)
  end)

  it("runs a user's scheme found through H5LUA_PATH", function()
    local dir = helper.tmpdir()
    os.execute("mkdir -p " .. dir .. "/schemes")
    helper.write_file(dir .. "/schemes/by_first_letter.lua",
      helper.read_file(FIXTURES .. "by_first_letter.lua"))
    local path = make_store(ENTRIES)
    local r = helper.h5lua({ "organize", path, "by_first_letter" }, { env = { H5LUA_PATH = dir } })
    assert.equal("", r.stderr)
    assert.equal("Organized 3 of 4 structures into 3 buckets in /by_first_letter\n"
      .. "Skipped 1 structure:\n"
      .. "  BAD: invalid JSON: Expected value but found T_END at character 15\n", r.stdout)
    assert.same({ "A", "N", "S" }, organize.buckets(path, "by_first_letter"))
  end)

  it("runs a user's scheme found in ~/.config/h5lua/schemes/", function()
    local home = helper.tmpdir()
    os.execute("mkdir -p " .. home .. "/.config/h5lua/schemes")
    helper.write_file(home .. "/.config/h5lua/schemes/x.lua",
      helper.read_file(FIXTURES .. "by_first_letter.lua"))
    local path = make_store(ENTRIES)
    local env = { HOME = home, H5LUA_PATH = "" }
    local r = helper.h5lua({ "organize", path, "by_first_letter" }, { env = env })
    assert.equal("", r.stderr)
    assert.equal(0, r.code)
    assert.same({ "A", "N", "S" }, organize.buckets(path, "by_first_letter"))
    r = helper.h5lua({ "schemes" }, { env = env })
    assert.truthy(r.stdout:find("  by_first_letter    One bucket per first letter of the "
      .. "refcode. [" .. home .. "/.config/h5lua/schemes/x.lua]\n", 1, true), r.stdout)
  end)

  it("runs a user's scheme given with --scheme FILE, its name optional", function()
    local file = helper.tmpdir() .. "/letters.lua"
    helper.write_file(file, helper.read_file(FIXTURES .. "by_first_letter.lua"))
    local path = make_store(ENTRIES)
    local r = helper.h5lua({ "organize", path, "--scheme", file })
    assert.equal("", r.stderr)
    assert.equal(0, r.code)
    assert.same({ "A", "N", "S" }, organize.buckets(path, "by_first_letter"))
    r = helper.h5lua({ "organize", path, "by_first_letter", "--scheme", file })
    assert.equal(0, r.code)
  end)

  it("exits with status 2 for an unknown scheme or a scheme file that fails", function()
    local path = make_store(ENTRIES)
    local r = helper.h5lua({ "organize", path, "nope" })
    assert.equal(2, r.code)
    assert.equal("h5lua: unknown scheme 'nope' (run 'h5lua schemes' for the list)\n", r.stderr)
    local bad = helper.tmpdir() .. "/broken.lua"
    helper.write_file(bad, helper.read_file(FIXTURES .. "broken.lua"))
    r = helper.h5lua({ "organize", path, "--scheme", bad })
    assert.equal(2, r.code)
    assert.equal(string.format("h5lua: cannot load '%s': %s:3: unexpected symbol near <eof>\n",
      bad, bad), r.stderr)
    r = helper.h5lua({ "organize", path })
    assert.equal(2, r.code)
    assert.equal("h5lua: name the scheme to run (see 'h5lua schemes')\n", r.stderr)
  end)

  it("leaves the index as it was when the scheme raises, exiting with status 2", function()
    local path = make_store(ENTRIES)
    helper.h5lua({ "organize", path, "by_space_group" })
    local file = helper.tmpdir() .. "/buggy.lua"
    helper.write_file(file, [[return { name = "by_space_group",
      key = function(s, r) if r == "NACL" then error("boom", 0) end return "X" end }]])
    local r = helper.h5lua({ "organize", path, "--scheme", file })
    assert.equal(2, r.code)
    assert.equal("h5lua: scheme 'by_space_group' failed on 'NACL': boom\n", r.stderr)
    assert.same({ "F m -3 m", "P 21 21 21", "P 21/c" }, organize.buckets(path, "by_space_group"))
  end)

  it("shows its help", function()
    local r = helper.h5lua({ "organize", "--help" })
    assert.equal(0, r.code)
    assert.truthy(r.stdout:find("Usage: h5lua organize", 1, true))
    assert.truthy(r.stdout:find("--links", 1, true))
  end)
end)
