-- A sanitizer report in a child process fails the test that ran it: ASan
-- and UBSan exit with helper.SANITIZER_EXIT (86, not ASan's default 1,
-- which is also "validation found problems"), and helper.sh raises on it
-- unless the report is a known fault inside libhdf5.
local helper = require "helper"

-- Build a tiny C program with the given sanitizer flags; nil without a
-- compiler that has the sanitizer runtimes.
local function build(name, flags, source)
  local dir = helper.tmpdir()
  helper.write_file(dir .. "/" .. name .. ".c", source)
  local exe = dir .. "/" .. name
  local r = helper.sh(string.format("cc -g %s -o %s %s", flags, helper.quote(exe),
    helper.quote(dir .. "/" .. name .. ".c")))
  if r.code ~= 0 then return nil end
  return exe
end

local OVERFLOW = [[
#include <stdlib.h>
int main(int argc, char **argv) {
  (void)argv;
  char *p = malloc(8);
  p[8 + argc] = 1;  /* one past the end (argc is 1) */
  free(p);
  return 0;
}
]]

local SIGNED = [[
#include <limits.h>
int main(int argc, char **argv) {
  (void)argv;
  int big = INT_MAX - 1 + argc;  /* INT_MAX */
  return big + argc > 0 ? 0 : 3;  /* overflows */
}
]]

describe("sanitizer reports in children #reliability", function()
  teardown(helper.cleanup)

  it("fail the test for an ASan report (heap overflow)", function()
    local exe = build("overflow", "-fsanitize=address", OVERFLOW)
    if not exe then return pending("cc cannot build with -fsanitize=address") end
    local ok, err = pcall(helper.sh, helper.quote(exe))
    assert.is_false(ok)
    assert.matches("sanitizer report %(exit 86%)", err)
    assert.matches("heap%-buffer%-overflow", err)
    local r = helper.sh(helper.quote(exe), { sanitizer_ok = true })
    assert.equal(helper.SANITIZER_EXIT, r.code)
  end)

  it("fail the test for a UBSan report (signed overflow)", function()
    local exe = build("signed", "-fsanitize=undefined -fno-sanitize-recover=undefined", SIGNED)
    if not exe then return pending("cc cannot build with -fsanitize=undefined") end
    local ok, err = pcall(helper.sh, helper.quote(exe))
    assert.is_false(ok)
    assert.matches("sanitizer report %(exit 86%)", err)
    assert.matches("signed integer overflow", err)
  end)

  it("keep a caller's explicit exit code (no report, no error)", function()
    local r = helper.sh("exit 1")
    assert.equal(1, r.code)
  end)

  -- A fault inside libhdf5 itself (a fuzzing reproducer) under the ASan
  -- build: its report names libhdf5 first, so it is accepted.
  it("accept a fault inside libhdf5 under the ASan build", function()
    local asan_bin = helper.root .. "/build-asan/h5lua"
    if not io.open(asan_bin) then return pending("build-asan/h5lua is absent") end
    local r = helper.sh(string.format("%s %s %s", helper.quote(asan_bin),
      helper.quote(helper.root .. "/tests/fuzz/walk.lua"),
      helper.quote(helper.root .. "/tests/fixtures/fuzz/hdf5-crash-global-heap-protect-vlen.h5")),
      { env = { ASAN_OPTIONS = "detect_leaks=0:exitcode=86" } })
    assert.equal(helper.SANITIZER_EXIT, r.code, r.stderr)
    assert.is_true(helper.libhdf5_fault(r))
  end)
end)
