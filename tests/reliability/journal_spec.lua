-- h5.open(path, mode, {journal = true}): a writer killed at any moment
-- leaves its file exactly as its last flush did (bindings/journal.c).
local helper = require "helper"
local h5 = require "h5"
local procs = require "reliability.procs"

local quote = helper.quote

-- Run a Lua snippet in a child h5lua that writes "ready" to a marker file
-- when it reaches that point, then spins until kill -9.
local function run_until_killed(dir, code)
  local script, marker = dir .. "/child.lua", dir .. "/ready"
  helper.write_file(script, code .. string.format([[

local m = assert(io.open(%q, "w"))
m:write("ready")
m:close()
while true do end
]], marker))
  local r = helper.sh(string.format([[(
%s %s &
pid=$!
while [ ! -s %s ] && kill -0 $pid 2>/dev/null; do sleep 0.01; done
kill -9 $pid 2>/dev/null
wait $pid
exit 0)]], quote(helper.bin), quote(script), quote(marker)))
  assert.is_true(procs.exists(marker), "child failed: " .. r.stdout .. r.stderr)
end

describe("h5.open with journal = true", function()
  after_each(function()
    helper.assert_no_open_ids()
    helper.cleanup()
  end)

  it("keeps a journal beside the file while it is open, and none after close", function()
    local path = helper.tmpfile()
    local f = h5.open(path, "w", { journal = true })
    assert.is_true(procs.exists(path .. ".journal"))
    f:create_group("a")
    f:close()
    assert.is_false(procs.exists(path .. ".journal"))
    f = h5.open(path, "r")
    assert.same({ "a" }, f:keys())
    f:close()
    -- a plain HDF5 file for everyone else
    local py = helper.python_run(string.format([[
import h5py
with h5py.File(%q, "r") as f:
    print(list(f.keys()))
]], path))
    assert.equal("['a']\n", py.stdout, py.stderr)
  end)

  it("rolls a killed writer's file back to its last flush, byte for byte", function()
    local dir = helper.tmpdir()
    local path = dir .. "/f.h5"
    run_until_killed(dir, string.format([[
      local h5 = require "h5"
      local f = h5.open(%q, "w", { journal = true, libver = "v108" })
      local g = f:create_group("kept")
      for i = 1, 2000 do g:create_group(string.format("k%%05d", i)):close() end
      g.attrs.note = "flushed"
      g:close()
      f:flush()
      os.execute("cp %s %s")
      -- after the flush: new objects, changed old ones, big data that the
      -- metadata cache writes back before any flush
      local g2 = f:get("kept")
      for i = 1, 2000 do g2:create_group(string.format("z%%05d", i)):close() end
      g2.attrs.note = "not flushed"
      g2:delete("k00001")
      f:create_dataset("big", { data = h5.array.new("float64", { 1000000 }, 1.5) })
      for i = 1, 300 do f:create_dataset(string.format("s%%03d", i), ("x"):rep(20000)) end
      g2:close()
    ]], path, path, dir .. "/flushed.h5"))
    assert.is_true(procs.exists(path .. ".journal"))
    local f = h5.open(path, "r")  -- any open rolls back first
    assert.is_false(procs.exists(path .. ".journal"))
    assert.same({ "kept" }, f:keys())
    local g = f:get("kept")
    assert.equal(2000, #g)
    assert.equal("flushed", g.attrs.note)
    g:close()
    f:close()
    assert.is_true(procs.same_bytes(path, dir .. "/flushed.h5"))
  end)

  it("removes a new file whose writer died before its first flush", function()
    local dir = helper.tmpdir()
    local path = dir .. "/new.h5"
    run_until_killed(dir, string.format([[
      local h5 = require "h5"
      local f = h5.open(%q, "w", { journal = true })
      f:create_group("never")
    ]], path))
    assert.is_true(procs.exists(path))
    assert.has_error(function() h5.open(path, "r") end,
      "h5: cannot open '" .. path .. "': its writer was killed before its first flush, "
      .. "so it never held anything; the partial file was removed")
    assert.is_false(procs.exists(path))
    assert.is_false(procs.exists(path .. ".journal"))
    -- and mode "a" starts afresh
    local f = h5.open(path, "a", { journal = true })
    f:close()
  end)

  it("does not let a second writer touch the journal of a live one", function()
    local path = helper.tmpfile()
    local f = h5.open(path, "w", { journal = true })
    f:create_group("a")
    f:flush()
    f:create_group("b")
    local before = helper.read_file(path .. ".journal")
    local r = helper.h5lua({ "-e", string.format(
      "require('h5').open(%q, 'r+', {journal = true})", path) })
    assert.equal(1, r.code)
    assert.equal("h5lua: h5: cannot open '" .. path .. "' for writing: the file is locked by "
      .. "another process that has it open (close it there, or open with locking=false / "
      .. "HDF5_USE_FILE_LOCKING=FALSE to read it anyway)\n", r.stderr)
    -- a reader that skips the lock does not roll the live writer back
    r = helper.h5lua({ "-e", string.format(
      "local f = require('h5').open(%q, 'r', {locking = false}) print(#f)", path) })
    assert.equal(0, r.code, r.stderr)
    assert.equal(before, helper.read_file(path .. ".journal"))
    f:close()
    f = h5.open(path, "r")
    assert.same({ "a", "b" }, f:keys())
    f:close()
  end)

  it("is refused with a driver, and must be a boolean", function()
    local path = helper.tmpfile()
    assert.has_error(function() h5.open(path, "w", { journal = true, driver = "core" }) end,
      "h5: cannot open '" .. path .. "': option 'journal' cannot be combined with option "
      .. "'driver'")
    assert.has_error(function() h5.open(path, "w", { journal = "yes" }) end,
      "h5: cannot open '" .. path .. "': option 'journal' must be a boolean")
  end)
end)
