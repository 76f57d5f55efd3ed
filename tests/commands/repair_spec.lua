-- h5lua repair FILE: the printed result, backups and exit codes.

local helper = require "helper"

describe("h5lua repair #cli", function()
  if not package.searchpath("h5lua.store", package.path) then
    pending("h5lua.store has not landed yet")
    return
  end

  local h5 = require "h5"

  after_each(function()
    helper.cleanup()
  end)

  local function make_store()
    local store = require "h5lua.store"
    local path = helper.tmpfile()
    local s = store.open(path)
    s:write("AAA", '{"identifier":"AAA"}')
    s:close()
    return path
  end

  it("repairs a sound file, keeps a backup and exits with status 0", function()
    local path = make_store()
    local r = helper.h5lua({ "repair", path })
    assert.equal("", r.stderr)
    assert.equal(0, r.code)
    assert.truthy(r.stdout:find("^Repaired " .. path:gsub("%p", "%%%0") .. " %(backup: "))
    assert.truthy(r.stdout:find("\n  Lost: nothing\n", 1, true))
    assert.truthy(io.open(path .. ".backup")):close()
  end)

  it("exits with status 1 when something was lost", function()
    local path = make_store()
    local f = h5.open(path, "r+")
    f:external_link("missing.h5", "/x", "gone")
    f:close()
    local r = helper.h5lua({ "repair", path, "--no-backup" })
    assert.equal(1, r.code)
    assert.truthy(r.stdout:find("(no backup)", 1, true))
    assert.truthy(r.stdout:find("\n  Lost: 1\n    - /gone: dangling external link to "
      .. "'missing.h5:/x'\n", 1, true))
    assert.is_nil(io.open(path .. ".backup"))
  end)

  it("exits with status 1 and one line for a file it cannot read", function()
    local path = helper.tmpfile("x.h5")
    helper.write_file(path, "hello\n")
    local r = helper.h5lua({ "repair", path })
    assert.equal(1, r.code)
    assert.equal("", r.stdout)
    assert.truthy(r.stderr:find("^h5lua: cannot repair '" .. path:gsub("%p", "%%%0")
      .. "': cannot open"))
    assert.equal(1, select(2, r.stderr:gsub("\n", "")))
  end)

  it("shows its help", function()
    local r = helper.h5lua({ "repair", "--help" })
    assert.equal(0, r.code)
    assert.truthy(r.stdout:find("--no-backup", 1, true))
  end)
end)
