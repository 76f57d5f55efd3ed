-- h5lua import STORE INPUT...: the summary, exit codes and options.

local helper = require "helper"

local FIX = helper.root .. "/tests/fixtures/import/"
local SAMPLES = helper.root .. "/scripts/examples/samples"

-- stdout without the last line's timing ("... in 0.12 s").
local function untimed(out)
  return (out:gsub(" in %d+%.%d+ s\n$", " in T s\n"))
end

describe("h5lua import #cli", function()
  if not package.searchpath("h5lua.store", package.path) then
    pending("h5lua.store has not landed yet")
    return
  end

  after_each(function()
    helper.cleanup()
  end)

  it("imports a folder of CIFs and prints one summary", function()
    local store = helper.tmpfile()
    local res = helper.h5lua({ "import", store, SAMPLES })
    assert.equal("", res.stderr)
    assert.equal(0, res.code)
    assert.equal("30 files read: 37 imported, 0 unchanged, 0 skipped (duplicates), 0 failed\n"
      .. store .. ": 37 structures in T s\n", untimed(res.stdout))
  end)

  it("draws a progress bar on a terminal, and none in a pipe", function()
    if not helper.sh("command -v script").stdout:find("script") then
      pending("script (util-linux) is absent: no terminal to run under")
      return
    end
    local store = helper.tmpfile()
    -- script(1) runs the import on a pseudo-terminal (stdout and stderr).
    local cmd = helper.quote(helper.bin) .. " import " .. helper.quote(store) .. " "
      .. helper.quote(SAMPLES)
    local res = helper.sh("script -qfec " .. helper.quote(cmd) .. " /dev/null")
    assert.equal(0, res.code, res.stdout .. res.stderr)
    assert.truthy(res.stdout:find("\rimporting [" .. ("#"):rep(10), 1, true), res.stdout)
    assert.truthy(res.stdout:find(" 30/30 100%", 1, true), res.stdout)
    assert.truthy(res.stdout:find("30 files read: 37 imported", 1, true), res.stdout)
    local piped = helper.h5lua({ "import", helper.tmpfile(), SAMPLES })
    assert.equal(0, piped.code)
    assert.is_nil((piped.stdout .. piped.stderr):find("importing [", 1, true))
    assert.equal("", piped.stderr)
  end)

  it("changes nothing when run again on the same inputs", function()
    local store = helper.tmpfile()
    helper.h5lua({ "import", store, SAMPLES })
    local res = helper.h5lua({ "import", store, SAMPLES, "--jobs", "2" })
    assert.equal(0, res.code)
    assert.equal("30 files read: 0 imported, 37 unchanged, 0 skipped (duplicates), 0 failed\n"
      .. store .. ": 37 structures in T s\n", untimed(res.stdout))
  end)

  it("lists each failure with its file and reason and exits 1", function()
    local store = helper.tmpfile()
    local res = helper.h5lua({ "import", store, FIX .. "syntax_error.cif", FIX .. "empty.cif",
      FIX .. "mixed/sub/copper.cif" })
    assert.equal(1, res.code)
    assert.equal("3 files read: 1 imported, 0 unchanged, 0 skipped (duplicates), 2 failed\n"
      .. "failed:\n"
      .. "  " .. FIX .. "syntax_error.cif:2: unterminated quoted string: closing ' expected "
      .. "before end of line\n"
      .. "  " .. FIX .. "empty.cif: no data block\n"
      .. store .. ": 1 structure in T s\n", untimed(res.stdout))
    assert.equal("h5lua: 2 failures (listed above)\n", res.stderr)
  end)

  it("skips or renames duplicates as --on-duplicate says", function()
    local dir = helper.tmpdir()
    local cu = helper.read_file(FIX .. "mixed/sub/copper.cif")
    helper.write_file(dir .. "/a.cif", cu)
    helper.write_file(dir .. "/b.cif", (cu:gsub("3%.6149", "3.7")))
    local store = helper.tmpfile()
    local res = helper.h5lua({ "import", store, dir, "--on-duplicate", "skip" })
    assert.equal(0, res.code)
    assert.equal("2 files read: 1 imported, 0 unchanged, 1 skipped (duplicates), 0 failed\n"
      .. "duplicates:\n"
      .. "  CU01 in " .. dir .. "/b.cif skipped (kept the one from " .. dir .. "/a.cif)\n"
      .. store .. ": 1 structure in T s\n", untimed(res.stdout))
    res = helper.h5lua({ "import", store, dir, "--on-duplicate", "rename" })
    assert.equal(0, res.code)
    assert.equal("2 files read: 1 imported (1 renamed), 1 unchanged, 0 skipped (duplicates), "
      .. "0 failed\n"
      .. "duplicates:\n"
      .. "  CU01 in " .. dir .. "/b.cif (also in " .. dir .. "/a.cif): renamed CU01_2\n"
      .. store .. ": 2 structures in T s\n", untimed(res.stdout))
  end)

  it("lists the data blocks without a structure with --verbose", function()
    local res = helper.h5lua({ "import", helper.tmpfile(), FIX .. "mixed/two_blocks.cif", "-v" })
    assert.equal(0, res.code)
    assert.truthy(res.stdout:find("data blocks without a structure:\n  " .. FIX
      .. "mixed/two_blocks.cif:2: data_publication: no unit cell (_cell_length_a, _b, _c)\n", 1,
      true))
  end)

  it("exits 2 with one line when the store cannot be opened", function()
    local notes = helper.tmpdir() .. "/notes.h5"
    helper.write_file(notes, "not HDF5\n")
    local res = helper.h5lua({ "import", notes, SAMPLES })
    assert.equal(2, res.code)
    assert.equal("", res.stdout)
    assert.equal("h5lua: h5: cannot open '" .. notes .. "' for writing: not an HDF5 file "
      .. "(file signature not found)\n", res.stderr)
  end)

  it("rejects a bad --jobs or --on-duplicate with exit code 2", function()
    local res = helper.h5lua({ "import", helper.tmpfile(), SAMPLES, "--jobs", "0" })
    assert.equal(2, res.code)
    assert.equal("h5lua: --jobs must be a positive integer, got '0'",
      res.stderr:match("[^\n]*\n$"):sub(1, -2))
    res = helper.h5lua({ "import", helper.tmpfile(), SAMPLES, "--on-duplicate", "merge" })
    assert.equal(2, res.code)
    assert.equal("h5lua: argument for option '--on-duplicate' must be one of 'replace', "
      .. "'skip', 'rename'", res.stderr:match("[^\n]*\n$"):sub(1, -2))
  end)
end)
