-- Damaged files never crash h5lua: each is walked (tests/fuzz/walk.lua, the
-- path `ls -r` and `validate` take) in a child process, which must end with
-- exit code 0, or with the crash guard's one-line message and exit code 2
-- when libhdf5 itself faults (a known 1.10 bug with 1.12 references).
local helper = require "helper"

local GUARD = "^h5lua: fatal: [%a ]+ in the HDF5 library while [%a ]+: the file is damaged "
  .. "or uses a feature this libhdf5 cannot read\n$"
local HANG = "^h5lua: fatal: the HDF5 library stopped responding while [%a ]+: the file is "
  .. "damaged %(its global heap loops%)\n$"

local function walk(path)
  return helper.h5lua({ helper.root .. "/tests/fuzz/walk.lua", path })
end

local function check(path)
  local r = walk(path)
  local ok = r.code == 0 or (r.code == 2 and (r.stderr:match(GUARD) or r.stderr:match(HANG)))
    or (helper.known_libhdf5_fault(path) and helper.libhdf5_fault(r))
  assert(ok, string.format("%s: exit %s\n%s", path, tostring(r.code), r.stderr))
end

describe("damaged files #cli", function()
  teardown(helper.cleanup)

  it("end cleanly when truncated at any of a range of points", function()
    local path = helper.tmpfile("whole.h5")
    local r = helper.h5lua({ helper.root .. "/tests/fuzz/seeds.lua", helper.tmpdir() })
    assert.equal(0, r.code, r.stderr)
    local src = r.stdout:match("seeds written to (%S+)") .. "/store_old.h5"
    local bytes = helper.read_file(src)
    for _, cut in ipairs { 8, 100, 512, 1000, 2000, #bytes // 2, #bytes - 10 } do
      helper.write_file(path, bytes:sub(1, cut))
      check(path)
    end
  end)

  it("end cleanly with bytes flipped across the file", function()
    local path = helper.tmpfile("flipped.h5")
    local r = helper.h5lua({ helper.root .. "/tests/fuzz/seeds.lua", helper.tmpdir() })
    local src = r.stdout:match("seeds written to (%S+)") .. "/groups_old.h5"
    local bytes = helper.read_file(src)
    for pos = 97, #bytes, math.max(1, #bytes // 24) do
      local b = bytes:byte(pos)
      helper.write_file(path, bytes:sub(1, pos - 1) .. string.char(b ~ 0xff) .. bytes:sub(pos + 1))
      check(path)
    end
  end)

  -- Each reproducer faults or loops inside libhdf5 1.10 (names say where);
  -- h5lua must end with its one-line report, never a core dump or a hang.
  it("end cleanly for every fuzzing reproducer kept in tests/fixtures/fuzz", function()
    local p = io.popen("ls " .. helper.root .. "/tests/fixtures/fuzz/*.h5 2>/dev/null")
    for path in p:lines() do check(path) end
    p:close()
  end)

  -- A blocked signal mask is inherited through exec; CI runners may start
  -- the suite with SIGALRM blocked, which silenced the watchdog (CI hung).
  it("end cleanly for a looping file when started with SIGALRM blocked", function()
    local r = helper.python_run(string.format([[
import os, signal, subprocess, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGINT})
try:
    p = subprocess.run([%q, %q, %q], capture_output=True, text=True, timeout=120)
    sys.stdout.write("exit %%d\n%%s" %% (p.returncode, p.stderr))
except subprocess.TimeoutExpired:
    sys.stdout.write("hung\n")
]], helper.bin, helper.root .. "/tests/fuzz/walk.lua",
      helper.root .. "/tests/fixtures/fuzz/hdf5-hang-global-heap.h5"))
    assert.equal(0, r.code, r.stderr)
    local code, stderr = r.stdout:match("^exit (%d+)\n(.*)$")
    assert(code, "h5lua did not end: " .. r.stdout)
    assert.equal("2", code)
    assert.matches(HANG, stderr)
  end)

  it("end cleanly for the damaged files of the shared data", function()
    if not helper.data then
      pending("../shared/data is absent")
      return
    end
    for _, name in ipairs { "cve_2020_10810.h5", "h5diff_attr1.h5", "notahdf5file.h5" } do
      check(helper.data .. "/hdf5-samples/damaged/" .. name)
    end
  end)
end)
