-- Damaged files never crash h5lua: each is walked (tests/fuzz/walk.lua, the
-- path `ls -r` and `validate` take) in a child process, which must end with
-- exit code 0, or with the crash guard's one-line message and exit code 2
-- when libhdf5 itself faults (a known 1.10 bug with 1.12 references).
local helper = require "helper"

local GUARD = "^h5lua: fatal: [%a ]+ in the HDF5 library while [%a ]+: the file is damaged "
  .. "or uses a feature this libhdf5 cannot read\n$"
local HANG = "^h5lua: fatal: the HDF5 library stopped responding while [%a ]+: the file is "
  .. "damaged %(its global heap loops%)\n$"

-- Seconds a command may take on one small damaged file: the watchdog ends a
-- looping libhdf5 after 10 s (valgrind and ASan are slower).
local LIMIT = os.getenv("H5LUA_VALGRIND") and 600 or 60

-- The watchdog's limit for these runs: the looping files need it to fire,
-- and 10 s a run made this spec take minutes (valgrind is slower).
local HANG_SECONDS = os.getenv("H5LUA_VALGRIND") and "10" or "2"
local HANG_ENV = { H5LUA_HANG_SECONDS = HANG_SECONDS }

-- Run h5lua with args under LIMIT; a hang is exit 124 (or 137).
local function run(args)
  local parts = { "timeout -k 5", LIMIT, helper.quote(helper.bin) }
  for _, a in ipairs(args) do parts[#parts + 1] = helper.quote(a) end
  if os.getenv("H5LUA_VALGRIND") then return helper.h5lua(args, { env = HANG_ENV }) end
  return helper.sh(table.concat(parts, " "), { env = HANG_ENV })
end

-- Ended cleanly: exit 0; or exit 1 with one `h5lua: ...` line (a command
-- that met a damaged object); or the crash guard's or watchdog's one line
-- (exit 2); or, for a known libhdf5 fault, the sanitizer's report of it.
local function check_result(path, what, r, one_line_error)
  -- under ASan, LeakSanitizer lists the suppressions it used after the line
  local stderr = r.stderr:gsub("%-%-%-+\nSuppressions used:.*$", "")
  local ok = r.code == 0 or (r.code == 2 and (stderr:match(GUARD) or stderr:match(HANG)))
    or (one_line_error and r.code == 1 and stderr:match("^h5lua: [^\n]+\n$"))
    or (helper.known_libhdf5_fault(path) and helper.libhdf5_fault(r))
  assert(ok, string.format("%s %s: exit %s%s\n%s", what, path, tostring(r.code),
    (r.code == 124 or r.code == 137) and string.format(" (still running after %d s)", LIMIT)
    or "", r.stderr))
end

local function check(path)
  check_result(path, "walk", run({ helper.root .. "/tests/fuzz/walk.lua", path }), false)
end

-- The commands people point at unknown files, as they run them.
local function check_commands(path)
  local r = run({ "dump", path })
  check_result(path, "dump", r, true)
  if path:match("hdf5%-hang%-global%-heap%-dataset") then  -- the loop is in H5Dread
    assert.equal(2, r.code, path .. ": " .. r.stderr)
    assert.matches(HANG, r.stderr)
    assert.matches("while reading a dataset", r.stderr, 1, true)
  end
  check_result(path, "ls -r", run({ "ls", "-r", path }), true)
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
  local function fixtures()
    local list = {}
    local p = io.popen("ls " .. helper.root .. "/tests/fixtures/fuzz/*.h5 2>/dev/null")
    for path in p:lines() do list[#list + 1] = path end
    p:close()
    return list
  end

  it("end cleanly for every fuzzing reproducer kept in tests/fixtures/fuzz", function()
    local list = fixtures()
    assert.is_true(#list >= 11, "fixtures missing: " .. #list)
    for _, path in ipairs(list) do check(path) end
  end)

  -- dump reads every dataset (the global-heap loops were in H5Dread of
  -- variable-length data, which only the attribute reads were guarded for).
  it("end `h5lua dump` and `h5lua ls -r` cleanly for every fuzzing reproducer", function()
    for _, path in ipairs(fixtures()) do check_commands(path) end
  end)

  -- A damaged global heap collection claims 4 GiB: libhdf5 allocates it
  -- (36 s and 4.2 GB for an 8 KB file).  Where memory is limited, the
  -- allocation fails and validate reports the structure unreadable.
  it("end validate cleanly when a damaged heap asks for 4 GiB under ulimit -v", function()
    if helper.asan then return pending("ASan needs more address space than ulimit -v leaves") end
    if os.getenv("H5LUA_VALGRIND") then return pending("valgrind ignores ulimit -v") end
    local path = helper.root .. "/tests/fixtures/fuzz/memory/hdf5-alloc-4gib-global-heap.h5"
    local r = helper.sh(string.format("ulimit -v 1500000; timeout -k 5 %d %s validate %s", LIMIT,
      helper.quote(helper.bin), helper.quote(path)))
    assert.equal(1, r.code, r.stdout .. r.stderr)
    assert.equal("", r.stderr)
    assert.matches("INVALID: %d+ errors", r.stdout)
    assert.matches("REF00%d cannot be read: [^\n]*memory allocation failed", r.stdout)
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
      helper.root .. "/tests/fixtures/fuzz/hdf5-hang-global-heap.h5"), { env = HANG_ENV })
    assert.equal(0, r.code, r.stderr)
    local code, stderr = r.stdout:match("^exit (%d+)\n(.*)$")
    assert(code, "h5lua did not end: " .. r.stdout)
    assert.equal("2", code)
    assert.matches(HANG, stderr)
  end)

  -- libhdf5's element count wraps past 2^63 (negative: the fuzzer's UBSan
  -- report of nbytes overflowing) or at 2^64 (0: a wrong size, silently).
  it("say when a dataset's element count does not fit 64 bits", function()
    local path = helper.tmpfile("huge.h5")
    local r = helper.python_run(string.format([[
import h5py
with h5py.File(%q, "w") as f:
    f.create_dataset("wraps_negative", shape=(3 * 2**31, 2**32), chunks=(1, 1), dtype="f4")
    f.create_dataset("wraps_zero", shape=(2**62, 4), chunks=(1, 1), dtype="f4")
    f.create_dataset("fits", shape=(2**40, 2**20), chunks=(1, 1), dtype="f4")
]], path))
    assert.equal(0, r.code, r.stderr)
    local h5 = require "h5"
    local f = h5.open(path, "r")
    for _, name in ipairs { "wraps_negative", "wraps_zero" } do
      local d = f[name]
      for _, key in ipairs { "size", "nbytes" } do
        local ok, err = pcall(function() return d[key] end)
        assert.is_false(ok, name .. "." .. key)
        assert.matches("h5: cannot count the " .. key .. " of '/" .. name .. "': its shape "
          .. "holds more elements than a 64%-bit integer counts", err)
      end
      d:close()
    end
    local d = f.fits
    assert.equal(1 << 60, d.size)
    assert.equal(1 << 62, d.nbytes)
    d:close()
    f:close()
    r = helper.h5lua({ "ls", "-r", path })
    assert.equal(0, r.code, r.stderr)
  end)

  -- The watchdog's alarm is set lazily and outlives the reads that set it:
  -- many quick guarded reads for longer than its limit (2 s here) must not
  -- be taken for a hang, and its stray alarms must not break other calls.
  it("let quick variable-length reads run past the watchdog's limit", function()
    local path = helper.tmpfile("strings.h5")
    local script = helper.tmpfile("reads.lua")
    helper.write_file(script, string.format([[
      local h5 = require "h5"
      local f = h5.open(%q, "w")
      f:create_dataset("s", { data = "text" })
      f.attrs.a = "attribute"
      local d, n, t0 = f.s, 0, os.time()
      while os.time() - t0 < 2 * %s + 1 do
        for _ = 1, 1000 do assert(d:read() == "text" and f.attrs.a == "attribute") end
        local p = io.popen("echo child")  -- a stray alarm must not break this
        assert(p:read("l") == "child")
        p:close()
        n = n + 1000
      end
      d:close()
      f:close()
      print("reads " .. n)
    ]], path, HANG_SECONDS))
    local r = helper.h5lua({ script }, { env = HANG_ENV })
    assert.equal(0, r.code, r.stderr)
    assert.matches("^reads %d+\n$", r.stdout)
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
