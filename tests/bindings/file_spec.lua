local h5 = require "h5"
local helper = require "helper"

describe("h5.File", function()
  after_each(helper.assert_no_open_ids)
  teardown(helper.cleanup)

  local function make_file(path)
    local f = h5.open(path, "w")
    f:create_group("kept")
    f:close()
  end

  describe("h5.open()", function()
    it("opens an existing file read-only by default", function()
      local path = helper.tmpfile()
      make_file(path)
      local f = h5.open(path)
      assert.equal("r", f.mode)
      assert.is_true(f:exists("kept"))
      f:close()
    end)

    it("fails in mode 'r' on a missing file", function()
      local path = helper.tmpfile("missing.h5")
      assert.has_error(function() h5.open(path, "r") end,
        "h5: cannot open '" .. path .. "' for reading: no such file or directory")
    end)

    it("fails in mode 'r+' on a missing file", function()
      local path = helper.tmpfile("missing.h5")
      assert.has_error(function() h5.open(path, "r+") end,
        "h5: cannot open '" .. path .. "' for writing: no such file or directory")
    end)

    it("opens read-write in mode 'r+' and keeps the content", function()
      local path = helper.tmpfile()
      make_file(path)
      local f = h5.open(path, "r+")
      assert.equal("r+", f.mode)
      assert.is_true(f:exists("kept"))
      f:create_group("added")
      f:close()
      f = h5.open(path)
      assert.same({ "added", "kept" }, f:keys())
      f:close()
    end)

    it("truncates an existing file in mode 'w'", function()
      local path = helper.tmpfile()
      make_file(path)
      local f = h5.open(path, "w")
      assert.same({}, f:keys())
      f:close()
    end)

    it("refuses to overwrite in mode 'w-' and its alias 'x'", function()
      local path = helper.tmpfile()
      make_file(path)
      for _, mode in ipairs { "w-", "x" } do
        assert.has_error(function() h5.open(path, mode) end,
          "h5: cannot create '" .. path .. "': file exists (mode '" .. mode
          .. "' never overwrites; use 'w' to truncate or 'a' to append)")
      end
    end)

    it("creates a new file in mode 'w-'", function()
      local path = helper.tmpfile()
      local f = h5.open(path, "w-")
      assert.equal("r+", f.mode)
      f:close()
      assert.is_true(h5.is_hdf5(path))
    end)

    it("creates a missing file in mode 'a' and appends to an existing one", function()
      local path = helper.tmpfile()
      local f = h5.open(path, "a")
      f:create_group("one")
      f:close()
      f = h5.open(path, "a")
      f:create_group("two")
      assert.same({ "one", "two" }, f:keys())
      f:close()
    end)

    it("rejects an unknown mode", function()
      assert.has_error(function() h5.open(helper.tmpfile(), "rw") end,
        "bad argument #2 to 'open' (invalid mode 'rw' (expected 'r', 'r+', 'w', 'w-', "
        .. "'x' or 'a'))")
    end)

    it("rejects a directory", function()
      local dir = helper.tmpdir()
      assert.has_error(function() h5.open(dir) end,
        "h5: cannot open '" .. dir .. "': is a directory")
    end)

    it("rejects a file that is not HDF5", function()
      local path = helper.tmpfile("text.h5")
      helper.write_file(path, "just some text, not HDF5\n")
      assert.has_error(function() h5.open(path) end,
        "h5: cannot open '" .. path .. "' for reading: not an HDF5 file "
        .. "(file signature not found)")
    end)

    it("rejects arguments of the wrong type", function()
      assert.has_error(function() h5.open() end,
        "bad argument #1 to 'open' (string expected, got no value)")
      assert.has_error(function() h5.open("x.h5", "r", 5) end,
        "bad argument #3 to 'open' (table expected, got number)")
      assert.has_error(function() h5.open("") end, "bad argument #1 to 'open' (empty path)")
    end)

    it("rejects bad option values", function()
      local path = helper.tmpfile()
      assert.has_error(function() h5.open(path, "w", { libver = "v200" }) end,
        "h5: cannot open '" .. path .. "': option 'libver' must be one of 'earliest', "
        .. "'v108', 'v110', 'latest'")
      assert.has_error(function() h5.open(path, "w", { driver = "mpio" }) end,
        "h5: cannot open '" .. path .. "': option 'driver' must be 'sec2' or 'core'")
      assert.has_error(function() h5.open(path, "w", { locking = "yes" }) end,
        "h5: cannot open '" .. path .. "': option 'locking' must be a boolean")
      assert.has_error(function() h5.open(path, "w", { track_order = "yes" }) end,
        "h5: cannot open '" .. path .. "': option 'track_order' must be a boolean")
      assert.has_error(function() h5.open(path, "w", { driver = "core", backing_store = 0 }) end,
        "h5: cannot open '" .. path .. "': option 'backing_store' must be a boolean")
      assert.has_error(function() h5.open(path, "w", { backing_store = false }) end,
        "h5: cannot open '" .. path .. "': option 'backing_store' needs driver = 'core'")
      assert.is_nil(io.open(path))  -- nothing was created
    end)

    it("rejects unknown option names", function()
      local path = helper.tmpfile()
      local function open_with(opts) return function() h5.open(path, "w", opts) end end
      assert.has_error(open_with { libvr = "latest" },
        "bad argument #3 to 'open' (unknown option 'libvr')")
      assert.has_error(open_with { "latest" }, "bad argument #3 to 'open' (unknown option '1')")
      assert.is_nil(io.open(path))
    end)

    it("sets the format's low bound with libver", function()
      for _, libver in ipairs { "earliest", "v108", "v110" } do
        local f = h5.open(helper.tmpfile(), "w", { libver = libver })
        assert.equal(libver, f.libver)
        f:close()
      end
      local f = h5.open(helper.tmpfile(), "w", { libver = "latest" })
      assert.equal("v110", f.libver)  -- 1.10's latest format is v110
      f:close()
    end)

    it("keeps a core-driver file in memory when backing_store is false", function()
      local path = helper.tmpfile("core.h5")
      local f = h5.open(path, "w", { driver = "core", backing_store = false })
      f:create_group("g")
      assert.is_true(f:exists("g"))
      f:close()
      assert.is_nil(io.open(path))
    end)

    it("writes a core-driver file to disk on close by default", function()
      local path = helper.tmpfile("core.h5")
      local f = h5.open(path, "w", { driver = "core" })
      f:create_group("g")
      f:close()
      f = h5.open(path)
      assert.is_true(f:exists("g"))
      f:close()
    end)

    it("caps the metadata cache with meta_cache", function()
      local path = helper.tmpfile()
      local f = h5.open(path, "w", { meta_cache = 4 * 1024 * 1024 })
      assert.equal(4 * 1024 * 1024, f.meta_cache)
      f:close()
      f = h5.open(path, "r", { meta_cache = 1024 })
      assert.equal(1024, f.meta_cache)
      f:close()
      f = h5.open(path)
      assert.equal(32 * 1024 * 1024, f.meta_cache)  -- HDF5's own default
      f:close()
    end)

    it("tracks creation order with track_order", function()
      local path = helper.tmpfile()
      local f = h5.open(path, "w", { track_order = true })
      f:create_group("b")
      f:create_group("a")
      f:close()
      -- h5py 3.7 lists the root group by name even then; ask for the flags
      local r = helper.python_run(string.format([[
import h5py
with h5py.File(%q, "r") as f:
    print(f["/"].id.get_create_plist().get_link_creation_order())
]], path))
      assert.equal(0, r.code, r.stderr)
      assert.equal("3\n", r.stdout)  -- tracked | indexed
    end)

    local function locked_open(path, mode, opts, env)
      return helper.h5lua({ "-e", string.format(
        "local f = require('h5').open(%q, %q, %s); print(#f)", path, mode, opts or "nil") },
        { env = env })
    end

    it("fails clearly when another process holds the file for writing", function()
      local path = helper.tmpfile()
      local f = h5.open(path, "w")
      local r = locked_open(path, "r+")
      f:close()
      assert.equal(1, r.code)
      assert.equal("h5lua: h5: cannot open '" .. path .. "' for writing: the file is locked "
        .. "by another process that has it open (close it there, or open with locking=false "
        .. "/ HDF5_USE_FILE_LOCKING=FALSE to read it anyway)\n", r.stderr)
    end)

    it("opens a locked file read-only with locking=false", function()
      local path = helper.tmpfile()
      local f = h5.open(path, "w")
      f:create_group("g")
      f:flush()
      local r = locked_open(path, "r", "{locking=false}")
      f:close()
      assert.equal(0, r.code, r.stderr)
      assert.equal("1\n", r.stdout)
    end)

    local function disk_size(path)
      local fh = assert(io.open(path, "rb"))
      local size = fh:seek("end")
      fh:close()
      return size
    end

    -- libhdf5 1.10 truncates before it locks: mode 'w' must ask first
    for _, holder_mode in ipairs { "a", "r" } do
      it("leaves a file held in mode '" .. holder_mode .. "' whole when another process "
        .. "opens it with 'w'", function()
        local path = helper.tmpfile()
        local w = h5.open(path, "w")
        w.attrs.answer = 42
        w:create_group("g/sub")
        w:close()
        local f = h5.open(path, holder_mode)
        if holder_mode == "a" then
          f.attrs.more = "written"
          f:flush()
        end
        local size = disk_size(path)
        local r = locked_open(path, "w")
        assert.equal(1, r.code)
        assert.equal("h5lua: h5: cannot open '" .. path .. "' for writing: the file is locked "
          .. "by another process that has it open (close it there, or open with locking=false "
          .. "/ HDF5_USE_FILE_LOCKING=FALSE to read it anyway)\n", r.stderr)
        assert.equal(size, disk_size(path))
        assert.equal(42, f.attrs.answer)
        f:close()
        f = h5.open(path)
        assert.equal(42, f.attrs.answer)
        assert.equal(holder_mode == "a" and "written" or nil, f.attrs.more)
        assert.is_true(f:exists("g/sub"))
        f:close()
      end)
    end

    it("still truncates with 'w' when no one holds the file, or locking is off", function()
      local path = helper.tmpfile()
      make_file(path)
      local r = locked_open(path, "w")
      assert.equal(0, r.code, r.stderr)
      assert.equal("0\n", r.stdout)
      make_file(path)
      local f = h5.open(path, "r")
      r = locked_open(path, "w", nil, { HDF5_USE_FILE_LOCKING = "FALSE" })
      f:close()
      assert.equal(0, r.code, r.stderr)
      assert.equal("0\n", r.stdout)
    end)

    it("honours HDF5_USE_FILE_LOCKING=FALSE", function()
      local path = helper.tmpfile()
      local f = h5.open(path, "w")
      f:create_group("g")
      f:flush()
      local r = locked_open(path, "r", nil, { HDF5_USE_FILE_LOCKING = "FALSE" })
      f:close()
      assert.equal(0, r.code, r.stderr)
      assert.equal("1\n", r.stdout)
    end)
  end)

  describe("properties", function()
    it("reports filename, mode, size, name and kind", function()
      local path = helper.tmpfile()
      local f = h5.open(path, "w")
      assert.equal(path, f.filename)
      assert.equal("r+", f.mode)
      assert.equal("/", f.name)
      assert.equal("file", f.kind)
      assert.equal(f, f.file)
      f:flush()
      assert.is_true(f.size > 0)
      assert.equal(f.size, #helper.read_file(path))
      f:close()
    end)

    it("has a one-line tostring", function()
      local path = helper.tmpfile()
      local f = h5.open(path, "w")
      f:create_group("g")
      assert.equal('<h5.File "' .. path .. '" (mode r+, 1 members)>', tostring(f))
      f:close()
      assert.equal("<closed h5.File>", tostring(f))
    end)
  end)

  describe("h5.is_hdf5()", function()
    it("tells HDF5 files from others without raising", function()
      local path = helper.tmpfile()
      make_file(path)
      assert.is_true(h5.is_hdf5(path))
      local text = helper.tmpfile("a.txt")
      helper.write_file(text, "hello")
      assert.is_false(h5.is_hdf5(text))
      assert.is_false(h5.is_hdf5(helper.tmpfile("missing.h5")))
      assert.is_false(h5.is_hdf5(helper.tmpdir()))
    end)
  end)

  describe("h5.version", function()
    it("names the HDF5, h5lua and Lua versions", function()
      assert.matches("^1%.10%.%d+$", h5.version.hdf5)
      assert.matches("^%d+%.%d+%.%d+$", h5.version.h5lua)
      assert.matches("^5%.4%.%d+$", h5.version.lua)
    end)
  end)

  describe(":close()", function()
    it("closes every object opened from the file", function()
      local f = h5.open(helper.tmpfile(), "w")
      local g = f:create_group("a/b")
      local a = f.a
      local attrs = g.attrs
      f:close()
      assert.is_false(g:is_open())
      assert.is_false(a:is_open())
      assert.has_error(function() return g.name end, "h5: attempt to use a closed Group")
      assert.has_error(function() g:keys() end, "h5: attempt to use a closed Group")
      assert.has_error(function() return attrs.x end,
        "h5: attempt to use a closed Attributes (its object is closed)")
      assert.has_error(function() f:keys() end, "h5: attempt to use a closed File")
      assert.has_error(function() return f.size end, "h5: attempt to use a closed File")
      assert.has_error(function() return #f end, "h5: attempt to use a closed File")
    end)

    it("is idempotent", function()
      local f = h5.open(helper.tmpfile(), "w")
      f:close()
      f:close()
      assert.is_false(f:is_open())
    end)

    it("leaves other File objects of the same file open", function()
      local path = helper.tmpfile()
      make_file(path)
      local f1 = h5.open(path)
      local f2 = h5.open(path)
      local g = f2.kept
      f1:close()
      assert.is_true(g:is_open())
      assert.equal("/kept", g.name)
      f2:close()
    end)

    it("runs through a to-be-closed variable", function()
      local f_outer
      do
        local f <close> = h5.open(helper.tmpfile(), "w")
        f_outer = f
        f:create_group("g")
      end
      assert.is_false(f_outer:is_open())
    end)

    it("is done by the garbage collector for unreachable files", function()
      do
        local f = h5.open(helper.tmpfile(), "w")
        f:create_group("g")
      end
      collectgarbage()
      collectgarbage()
      assert.equal(0, (h5.open_ids()))
    end)
  end)

  describe(":flush()", function()
    it("makes the data visible to another process", function()
      local path = helper.tmpfile()
      local f = h5.open(path, "w")
      f:create_group("flushed")
      f:flush()
      local r = helper.python_run(string.format([[
import h5py
with h5py.File(%q, "r", locking=False) as f:
    print(list(f.keys()))
]], path))
      f:close()
      assert.equal(0, r.code, r.stderr)
      assert.equal("['flushed']\n", r.stdout)
    end)
  end)

  describe("a read-only file", function()
    it("refuses every kind of write with a clear error", function()
      local path = helper.tmpfile()
      make_file(path)
      local f = h5.open(path, "r")
      local msg = "h5: cannot %s: the file is open read-only (open it with mode 'r+' or 'a')"
      assert.has_error(function() f:create_group("x") end,
        msg:format("create group '/x'"))
      assert.has_error(function() f:delete("kept") end, msg:format("delete '/kept'"))
      assert.has_error(function() f:move("kept", "moved") end, msg:format("move '/kept'"))
      assert.has_error(function() f.attrs.x = 1 end, msg:format("write attribute 'x'"))
      assert.has_error(function() f:soft_link("/kept", "s") end,
        msg:format("create link '/s'"))
      f:close()
    end)
  end)
end)
