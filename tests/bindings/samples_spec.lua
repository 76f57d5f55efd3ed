-- Every file of ../shared/data/hdf5-samples is opened, walked and read in a
-- child build/h5lua process: each object opens, each attribute and dataset
-- gives its data or an "h5: ..." error, and nothing crashes.  A fault inside
-- libhdf5 itself ends the child; the crash guard's one-line message (or,
-- under ASan, a report whose faulting frame is in libhdf5) is accepted for
-- the recorded reproducers only.
local helper = require "helper"

local WALKER = helper.root .. "/tests/fixtures/read_everything.lua"

local function samples()
  local dir = helper.data .. "/hdf5-samples"
  local p = io.popen("cd " .. helper.quote(dir) .. " && find . -type f ! -name MANIFEST "
    .. "! -name INDEX.tsv ! -name '*.bin' | sort")
  local files = {}
  for name in p:lines() do files[#files + 1] = name:sub(3) end
  p:close()
  return dir, files
end

-- Run the walker on one file from its own directory (external links and
-- VDS sources are found relative to it).  Returns code, lines, stderr.
local function walk(dir, name)
  local subdir, base = name:match("^(.*)/([^/]+)$")
  local r = helper.h5lua({ WALKER, base or name }, { cwd = dir .. "/" .. (subdir or "") })
  local items = {}
  for l in r.stdout:gmatch("[^\n]+") do items[#items + 1] = l end
  return r.code, items, r.stderr
end

local function errors_of(items)
  local out = {}
  for _, l in ipairs(items) do
    local what, msg = l:match("^error\t([^\t]*)\t(.*)$")
    if what then out[what] = msg end
  end
  return out
end

describe("the shared HDF5 samples", function()
  teardown(helper.cleanup)

  if not helper.data then
    it("are absent (../shared/data): nothing to read", function()
      pending("../shared/data is absent")
    end)
    return
  end

  local dir, files = samples()
  local walked = {}

  for _, name in ipairs(files) do
    it("read every object of " .. name .. " or say why", function()
      local code, items, stderr = walk(dir, name)
      walked[name] = items
      local base = name:match("[^/]+$")
      if helper.known_libhdf5_fault(base) and code ~= 0 then
        assert(helper.libhdf5_fault({ code = code, stderr = stderr }), name .. ": " .. stderr)
        return
      end
      assert.equal(0, code, name .. ": " .. stderr)
      assert.equal("done", items[#items], name .. ": the walk did not finish")
      for what, msg in pairs(errors_of(items)) do
        assert(msg:match("^h5: "), name .. ": " .. what .. ": not an h5 error: " .. msg)
      end
    end)
  end

  describe("give the exact reason", function()
    local function errors(name)
      return errors_of(walked[name] or select(2, walk(dir, name)))
    end

    it("for datasets of references", function()
      assert.equal("h5: cannot read '/Dataset3': unsupported type: reference(object)",
        errors("hdfgroup/tobjref.h5")["Dataset3 read"])
      assert.equal("h5: cannot read '/Dataset1': unsupported type: reference(region)",
        errors("hdfgroup/tdatareg.h5")["Dataset1 read"])
    end)

    it("for a filter without its plugin", function()
      assert.equal("h5: cannot read '/DS1': filter 32001 (HDF5 blosc filter; see "
        .. "http://www.hdfgroup.org/services/contrib) is not available (install its plugin and "
        .. "set HDF5_PLUGIN_PATH)", errors("hdfgroup/h5ex_d_blosc.h5")["DS1 read"])
    end)

    it("for external raw data that is not there", function()
      assert.equal("h5: cannot read '/external': unable to open external raw data file",
        errors("hdfgroup/h5repack_ext.h5")["external read"])
    end)
  end)

  describe("read the right values", function()
    local h5 = require "h5"
    after_each(helper.assert_no_open_ids)

    it("from big-endian, szip and scaleoffset data written on another machine", function()
      local f = h5.open(dir .. "/hdfgroup/be_data.h5")
      local seen = 0
      f:visit(function(_, obj)
        if obj.kind == "dataset" and obj.dtype:match("big%-endian") then
          local a = obj:read()
          if getmetatable(a).__name == "h5.Array" then seen = seen + 1 end
        end
      end)
      f:close()
      assert.is_true(seen > 0)
    end)

    it("from compound, enum, opaque and variable-length datasets", function()
      local f = h5.open(dir .. "/hdfgroup/tcompound.h5")
      local rows = f.dset1:read()
      assert.same({ a_name = 0, b_name = 0.0, c_name = 1.0 }, rows[1])
      f:close()
      f = h5.open(dir .. "/hdfgroup/tenum.h5")
      assert.equal("RED", f.table:read()[1])
      f:close()
      f = h5.open(dir .. "/hdfgroup/tvldtypes1.h5")
      assert.same({ 10, 11 }, f["Dataset1.0"]:read()[2])
      assert.equal(37, #f["Dataset3.0"]:read())  -- a scalar sequence reads as one table
      f:close()
    end)

    it("from special float values", function()
      local f = h5.open(dir .. "/jhdf/float_special_values_latest.hdf5")
      local found = false
      f:visit(function(_, obj)
        if obj.kind == "dataset" and getmetatable(obj:read()).__name == "h5.Array" then
          local a = obj:read()
          for i = 1, #a do
            if a[i] ~= a[i] then found = true end
          end
        end
      end)
      f:close()
      assert.is_true(found, "no NaN read")
    end)
  end)
end)
