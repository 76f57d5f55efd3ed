-- h5lua repack SRC DST: the summary, exit codes and options.

local h5 = require "h5"
local helper = require "helper"

-- A file with a deleted 8 MB dataset, a kept one and a group attribute.
local function wasteful_file()
  local path = helper.tmpfile("src.h5")
  local f = h5.open(path, "w")
  f:create_dataset("big", { data = h5.array.new("float64", { 1000000 }) }):close()
  local g = f:create_group("kept")
  g.attrs.note = "kept"
  local a = h5.array.new("float64", { 1000, 100 })
  for i = 1, #a do a[i] = i % 17 end
  g:create_dataset("data", { data = a }):close()
  g:close()
  f:delete("big")
  f:close()
  return path
end

describe("h5lua repack #cli", function()
  after_each(function()
    helper.cleanup()
  end)

  it("copies a file into a compact new one and prints one summary line", function()
    local src = wasteful_file()
    local dst = helper.tmpfile("dst.h5")
    local r = helper.h5lua({ "repack", src, dst })
    assert.equal("", r.stderr)
    assert.equal(0, r.code)
    assert.equal(src .. " -> " .. dst .. ": 1 groups, 1 datasets, 0 links, 1 attributes; "
      .. "8.4 MiB -> 0.8 MiB\n", r.stdout)
    local f = h5.open(dst)
    assert.equal("kept", f:get("kept").attrs.note)
    assert.equal(100000 % 17, f:get("kept/data"):read(1000, 100))
    f:close()
  end)

  it("re-compresses every dataset with --compression gzip --level 9", function()
    local src = wasteful_file()
    local dst = helper.tmpfile("dst.h5")
    local r = helper.h5lua({ "repack", "-c", "gzip", "--level", "9", src, dst })
    assert.equal(0, r.code)
    assert.matches("8%.4 MiB %-> 0%.0 MiB\n$", r.stdout)
    local f = h5.open(dst)
    local d = f:get("kept/data")
    assert.equal("gzip", d.compression)
    assert.equal(9, d.compression_opts)
    assert.is_true(d.shuffle)
    d:close()
    f:close()
  end)

  it("refuses to replace DST without --force", function()
    local src = wasteful_file()
    local dst = helper.tmpfile("dst.h5")
    helper.write_file(dst, "precious")
    local r = helper.h5lua({ "repack", src, dst })
    assert.equal(2, r.code)
    assert.equal("h5lua: '" .. dst .. "' exists (use --force to replace it)\n", r.stderr)
    assert.equal("precious", helper.read_file(dst))
    r = helper.h5lua({ "repack", "--force", src, dst })
    assert.equal(0, r.code)
    assert.is_true(h5.is_hdf5(dst))
  end)

  it("exits 2 for a missing source, a bad compression or a bad level", function()
    local dst = helper.tmpfile("dst.h5")
    local r = helper.h5lua({ "repack", "/nonexistent.h5", dst })
    assert.equal(2, r.code)
    assert.equal("h5lua: cannot open '/nonexistent.h5': no such file\n", r.stderr)
    local src = wasteful_file()
    r = helper.h5lua({ "repack", "-c", "zstd", src, dst })
    assert.equal(2, r.code)
    assert.equal("h5lua: unknown compression 'zstd' (keep, none, gzip, lzf or szip)\n", r.stderr)
    r = helper.h5lua({ "repack", "-c", "lzf", "--level", "3", src, dst })
    assert.equal(2, r.code)
    assert.equal("h5lua: --level goes with --compression gzip\n", r.stderr)
  end)

  it("exits 1 and names what it could not copy", function()
    if not helper.data then return pending("no ../shared/data") end
    local dst = helper.tmpfile("dst.h5")
    local src = helper.data .. "/hdf5-samples/hdfgroup/tall.h5"
    local r = helper.h5lua({ "repack", src, dst })
    assert.equal(1, r.code)
    assert.matches("  not copied: /g2/udlink %(user%-defined link%)\n$", r.stdout)
  end)
end)
