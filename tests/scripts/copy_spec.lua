-- Specs of scripts/h5lua/copy.lua: memory-bounded copies of whole files.

local h5 = require "h5"
local helper = require "helper"
local copy = require "h5lua.copy"

-- A file with a bit of everything; returns its path.
local function sample_file()
  local path = helper.tmpfile("src.h5")
  local f = h5.open(path, "w")
  f.attrs.title = "sample"
  local g = f:create_group("a/b")
  g.attrs.count = 3
  g.attrs.cell = { 5.784, 12.133, 5.955 }
  f:create_dataset("scalar", 2.5):close()
  f:create_dataset("text", "α-quartz"):close()
  local cube = h5.array.new("float64", { 20, 30, 40 })
  for i = 1, #cube do cube[i] = i / 7 end
  local d = g:create_dataset("cube", { data = cube, chunks = { 5, 10, 40 }, compression = "gzip",
    shuffle = true })
  d.attrs.units = "angstrom"
  d:close()
  local names = {}
  for i = 1, 5000 do names[i] = string.format("REF%05d", i) end
  f:create_dataset("names", { data = names }):close()
  f:create_dataset("grow", { data = { 1, 2, 3 }, maxshape = { h5.UNLIMITED } }):close()
  f:create_dataset("nothing", { dtype = "int32" }):close()
  f:soft_link("/a/b/cube", "cube_link")
  f:external_link("other.h5", "/x", "ext")
  f:close()
  return path
end

local function same_content(path_a, path_b)
  local a, b = h5.open(path_a), h5.open(path_b)
  assert.same(a:keys(), b:keys())
  assert.equal("sample", b.attrs.title)
  assert.equal(3, b:get("a/b").attrs.count)
  assert.same({ 5.784, 12.133, 5.955 }, b:get("a/b").attrs.cell)
  assert.equal(2.5, b:get("scalar"):read())
  assert.equal("α-quartz", b:get("text"):read())
  assert.equal(a:get("a/b/cube"):read(), b:get("a/b/cube"):read())
  assert.equal("angstrom", b:get("a/b/cube").attrs.units)
  assert.same(a:get("names"):read(), b:get("names"):read())
  assert.same({ h5.UNLIMITED }, b:get("grow").maxshape)
  assert.same({ kind = "soft", target = "/a/b/cube", dangling = false }, b:link_info("cube_link"))
  assert.same({ kind = "external", file = "other.h5", target = "/x", dangling = true },
    b:link_info("ext"))
  assert.is_nil(b:get("nothing").shape)
  a:close()
  b:close()
end

describe("h5lua.copy", function()
  after_each(function()
    helper.assert_no_open_ids()
    helper.cleanup()
  end)

  it("copies groups, datasets of every rank, attributes and links (H5Ocopy by default)",
    function()
      local src = sample_file()
      local dst = helper.tmpfile("dst.h5")
      local r = copy.file(src, dst)
      same_content(src, dst)
      assert.equal(2, r.groups)
      assert.equal(6, r.datasets)
      assert.equal(6, r.whole)
      assert.equal(2, r.links)
      assert.equal(4, r.attributes)
      assert.same({}, r.skipped)
      local f = h5.open(dst)
      assert.equal("gzip", f:get("a/b/cube").compression)
      f:close()
    end)

  it("copies block by block, exactly, datasets much larger than the block", function()
    local src = sample_file()
    local dst = helper.tmpfile("dst.h5")
    local r = copy.file(src, dst, { method = "blocks", block_bytes = 8192 })
    same_content(src, dst)
    assert.equal(6, r.by_blocks)
    local f = h5.open(dst)
    assert.same({ 5, 10, 40 }, f:get("a/b/cube").chunks)
    assert.equal("gzip", f:get("a/b/cube").compression)
    f:close()
  end)

  it("re-compresses every dataset it can when asked", function()
    local src = sample_file()
    local dst = helper.tmpfile("dst.h5")
    copy.file(src, dst, { compression = "gzip", compression_opts = 9 })
    same_content(src, dst)
    local f = h5.open(dst)
    for _, name in ipairs({ "a/b/cube", "names", "grow" }) do
      local d = f:get(name)
      assert.equal("gzip", d.compression, name)
      assert.equal(9, d.compression_opts, name)
      d:close()
    end
    assert.is_true(f:get("a/b/cube").shuffle)
    assert.is_nil(f:get("names").shuffle or nil)
    assert.is_nil(f:get("scalar").compression)
    f:close()
  end)

  it("gives back the space deletions left behind", function()
    local src = helper.tmpfile("src.h5")
    local f = h5.open(src, "w")
    local big = h5.array.new("float64", { 1000000 })
    f:create_dataset("big", { data = big }):close()
    f:create_dataset("keep", { data = { 1, 2, 3 } }):close()
    f:delete("big")
    f:close()
    local dst = helper.tmpfile("dst.h5")
    local r = copy.file(src, dst)
    assert.is_true(r.src_size > 8000000)
    assert.is_true(r.dst_size < 10000, tostring(r.dst_size))
  end)

  it("copies an object with two names twice and lists the second name", function()
    local src = helper.tmpfile("src.h5")
    local f = h5.open(src, "w")
    f:create_group("g"):create_dataset("d", { data = { 1, 2 } }):close()
    f:link("/g", "g/loop")  -- a cycle: g contains itself
    f:link("/g/d", "alias")
    f:close()
    local dst = helper.tmpfile("dst.h5")
    local r = copy.file(src, dst)
    -- "alias" comes first in name order: the dataset is copied there first
    assert.same({ "/g/d", "/g/loop" }, r.aliases)
    f = h5.open(dst)
    assert.same({ "alias", "g" }, f:keys())
    assert.equal(f:get("g/d"):read(), f:get("alias"):read())
    f:close()
  end)

  it("keeps the source's format family", function()
    local src = helper.tmpfile("src.h5")
    h5.open(src, "w", { libver = "v108" }):close()
    local dst = helper.tmpfile("dst.h5")
    copy.file(src, dst)
    assert.equal("v108", copy.file_libver(dst))
    assert.equal("earliest", copy.file_libver(sample_file()))
  end)

  it("refuses to replace an existing file unless asked, and bad options", function()
    local src = sample_file()
    local dst = helper.tmpfile("dst.h5")
    helper.write_file(dst, "x")
    assert.has_error(function() copy.file(src, dst) end,
      string.format("copy.file: '%s' exists (pass overwrite = true to replace it)", dst))
    assert.has_error(function() copy.file(src, dst, { overwrite = true, compression = "zip" }) end,
      "copy.file: compression must be 'keep', 'none', 'gzip', 'lzf', 'szip' or a filter id, "
      .. "got 'zip'")
    assert.has_error(function() copy.file(src, src) end,
      "copy.file: source and destination are the same file")
    copy.file(src, dst, { overwrite = true })
    same_content(src, dst)
  end)

  it("removes its temporary file when the source cannot be read", function()
    local dir = helper.tmpdir()
    helper.write_file(dir .. "/bad.h5", "not hdf5")
    assert.has_error(function() copy.file(dir .. "/bad.h5", dir .. "/out.h5") end)
    local p = io.popen("ls " .. helper.quote(dir))
    local listing = p:read("a")
    p:close()
    assert.equal("bad.h5\n", listing)
  end)

  it("falls back to H5Ocopy for references, and says so", function()
    if not helper.data then return pending("no ../shared/data") end
    local dst = helper.tmpfile("dst.h5")
    local r = copy.file(helper.data .. "/hdf5-samples/hdfgroup/tobjref.h5", dst,
      { method = "blocks" })
    assert.equal(3, r.datasets)
    assert.equal("/Dataset3", r.h5ocopy[1].path)
    assert.matches("reference%(object%)", r.h5ocopy[1].reason)
  end)

  it("keeps peak memory independent of the dataset size", function()
    if helper.asan then
      -- ASan's quarantine and shadow memory make peak RSS meaningless; the
      -- normal pass of make test checks this
      pending("memory bounds are checked in the normal build")
      return
    end
    local dir = helper.tmpdir()
    -- two files of 16 MB and 128 MB, written in a child process
    helper.write_file(dir .. "/make.lua", string.format([[
      local h5 = require "h5"
      for _, spec in ipairs({ { "small.h5", 2 }, { "large.h5", 16 } }) do
        local f = h5.open(%q .. "/" .. spec[1], "w")
        local total = spec[2] * 1024  -- rows of 8 KiB
        local d = f:create_dataset("x", { dtype = "float64", shape = { total, 1024 } })
        local rows = 128
        local a = h5.array.new("float64", { rows, 1024 })
        for i = 1, total, rows do
          a:fill(i)
          d:write(a, { i, i + rows - 1 })
        end
        f:close()
      end
    ]], dir))
    assert.equal(0, helper.h5lua({ dir .. "/make.lua" }).code)
    local function peak(name, method)
      local r = helper.sh(string.format("/usr/bin/time -f %%M -o %s %s -e %s",
        helper.quote(dir .. "/time.txt"), helper.quote(helper.bin), helper.quote(string.format(
          "require('h5lua.copy').file(%q, %q, { method = %q, block_bytes = 1048576, "
          .. "overwrite = true })", dir .. "/" .. name, dir .. "/out.h5", method))))
      assert.equal(0, r.code, r.stderr)
      return tonumber(helper.read_file(dir .. "/time.txt"):match("(%d+)%s*$")) / 1024
    end
    for _, method in ipairs({ "blocks", "h5ocopy" }) do
      local small, large = peak("small.h5", method), peak("large.h5", method)
      -- 128 MiB of data copied within a few MiB of what 16 MiB needs
      assert.is_true(large < 48, string.format("%s: %.1f MiB peak", method, large))
      assert.is_true(large - small < 8,
        string.format("%s: %.1f MiB for 16 MiB, %.1f MiB for 128 MiB", method, small, large))
    end
  end)
end)
