-- Operations that rewrite a file, interrupted: `h5lua organize` (in place,
-- through the store's journal), `h5lua repair` (a temporary file renamed
-- over the original) and `h5lua repack` (the same, onto an existing file or
-- onto the source itself through another spelling of its path). Each is
-- killed with SIGKILL at moments spread over an uninterrupted run, and made
-- to fail by a write error (a file size limit: writes fail with EFBIG as on
-- a full disk). Afterwards the original must be intact: byte for byte where
-- the operation never writes to it (repair, repack), or as the same
-- structures, index and log where it does (organize: either the old state
-- or the finished one, never a mix).
--
-- Injected errors from the key function or a bucket callback, and a script
-- that exits midway, are in tests/scripts/organize_spec.lua.
local helper = require "helper"
local cjson = require "cjson"
local h5 = require "h5"
local store = require "h5lua.store"
local organize = require "h5lua.organize"
local procs = require "reliability.procs"

local KILLS = 8
local SCHEME = "by_space_group"

local SPACE_GROUPS = { "P 21/c", "P -1", "C 2/c", "P 21 21 21", "F m -3 m", "P 63/m m c" }

local function record(refcode, i)
  return string.format('{"identifier": "%s", "space_group": "%s", "cell_lengths": [%d.5, 2.0, '
    .. '3.0], "cell_angles": [90.0, 90.0, 90.0], "atoms": [{"label": "C1", "symbol": "C", '
    .. '"coords": [0.1, 0.2, 0.3], "occupancy": 1.0}]}', refcode, SPACE_GROUPS[i % 6 + 1], i)
end

-- Write records S<first>..S<last> into the store s, and close it.
local function write_records(s, first, last)
  local items = {}
  for i = first, last do
    local r = string.format("S%05d", i)
    items[r] = record(r, i)
  end
  s:write_many(items)
  s:close()
end

-- What a store holds, as plain tables: structures (refcode -> raw JSON),
-- root members, the number of log entries, the index (bucket -> refcodes).
local function state(path)
  local s = store.open(path, { mode = "r" })
  local structures = {}
  for refcode, text, why in s:each() do structures[refcode] = text or ("? " .. tostring(why)) end
  local log = #s:history()
  s:close()
  local f = h5.open(path, "r")
  local keys = f:keys()
  f:close()
  local index = {}
  for _, b in ipairs(organize.buckets(path, SCHEME) or {}) do
    index[b] = organize.members(path, SCHEME, b)
  end
  helper.assert_no_open_ids()
  return { structures = structures, keys = keys, log = log, index = index }
end

local function findings(path)
  local r = helper.h5lua({ "validate", "--json", path })
  local report = cjson.decode(r.stdout)
  local out = {}
  for _, f in ipairs(report.findings) do out[#out + 1] = f.rule .. ": " .. f.message end
  table.sort(out)
  return out
end

local function copy_file(from, to)
  assert(os.execute("cp " .. helper.quote(from) .. " " .. helper.quote(to)))
end

describe("a file rewrite that is interrupted (seed " .. procs.seed .. ")", function()
  local dir, orig, before, done_state
  local outcomes = {}

  lazy_setup(function()
    dir = helper.tmpdir()
    orig = dir .. "/orig.h5"
    write_records(store.open(orig, { mode = "w" }), 1, 1500)
    organize.run(orig, SCHEME)
    -- 300 more: the index is stale, so a rebuild changes it
    write_records(store.open(orig), 1501, 1800)
    before = state(orig)
    before.findings = findings(orig)
  end)

  lazy_teardown(function()
    io.write("\ninterrupt test (seed " .. procs.seed .. "): " .. table.concat(outcomes, "; ")
      .. "\n")
    helper.cleanup()
  end)

  describe("h5lua organize (in place)", function()
    it("leaves the old index or the new one, never a mix, when killed", function()
      local full = dir .. "/organized.h5"
      copy_file(orig, full)
      local duration, r = procs.timed({ "organize", full, SCHEME })
      assert.equal(0, r.code, r.stderr)
      done_state = state(full)
      done_state.findings = findings(full)
      assert.same({}, done_state.findings)
      assert.are_not.same(before.index, done_state.index)

      local old, new = 0, 0
      for run, delay in ipairs(procs.delays(KILLS, duration)) do
        local path = string.format("%s/organize%d.h5", dir, run)
        copy_file(orig, path)
        procs.run_and_kill(procs.h5lua_cmd({ "organize", path, SCHEME }, path .. ".pid"),
          path .. ".pid", delay)
        local what = string.format("organize run %d (kill after %.3f s)", run, delay)
        local got = state(path)
        assert.is_false(procs.exists(path .. ".journal"), what .. ": journal left")
        got.findings = findings(path)
        assert.same(before.structures, got.structures, what)
        if got.log == before.log then
          old = old + 1
          assert.same(before, got, what .. ": not the state before")
        else
          new = new + 1
          assert.same(done_state, got, what .. ": not the finished state")
        end
      end
      outcomes[#outcomes + 1] = string.format("organize %d kills: %d old, %d finished", KILLS,
        old, new)
    end)

    it("leaves the store as it was when a write fails (disk full)", function()
      local path = dir .. "/organize-full.h5"
      copy_file(orig, path)
      local fh = assert(io.open(path, "rb"))
      local size = fh:seek("end")
      fh:close()
      local r = procs.h5lua_limited({ "organize", path, SCHEME }, size // 1024)
      assert.equal(2, r.code)
      assert.equal("h5lua: h5: cannot flush file: file too large\n", r.stderr)
      assert.is_true(procs.exists(path .. ".journal"))
      local got = state(path)
      assert.is_false(procs.exists(path .. ".journal"))
      got.findings = findings(path)
      assert.same(before, got)
    end)
  end)

  describe("h5lua repair (temporary file, then rename)", function()
    it("leaves the original byte for byte, or the repaired file and a backup, when killed",
      function()
        local full = dir .. "/repaired.h5"
        copy_file(orig, full)
        local duration, r = procs.timed({ "repair", full })
        assert.equal(0, r.code, r.stderr)
        local repaired = state(full)

        local untouched, replaced, stale = 0, 0, 0
        local last
        for run, delay in ipairs(procs.delays(KILLS, duration)) do
          local path = string.format("%s/repair%d.h5", dir, run)
          local backup = (path:gsub("%.h5$", ".h5.backup"))
          copy_file(orig, path)
          procs.run_and_kill(procs.h5lua_cmd({ "repair", path }, path .. ".pid"),
            path .. ".pid", delay)
          local what = string.format("repair run %d (kill after %.3f s)", run, delay)
          if procs.exists(backup) then
            assert.is_true(procs.same_bytes(backup, orig), what .. ": backup differs")
          end
          if procs.same_bytes(path, orig) then
            untouched = untouched + 1
            if procs.exists(path .. ".repair-tmp") then stale = stale + 1 end
          else
            replaced = replaced + 1
            assert.is_true(procs.exists(backup), what .. ": replaced without a backup")
            assert.is_false(procs.exists(path .. ".repair-tmp"), what)
            assert.same(repaired, state(path), what)
          end
          last = path
        end
        -- a stale temporary file does not stop the next repair
        r = helper.h5lua({ "repair", "--no-backup", last })
        assert.equal(0, r.code, r.stderr)
        assert.is_false(procs.exists(last .. ".repair-tmp"))
        assert.same(before.structures, state(last).structures)
        outcomes[#outcomes + 1] = string.format("repair %d kills: %d untouched (%d with a "
          .. "stale temporary file), %d replaced", KILLS, untouched, stale, replaced)
      end)

    it("leaves the original byte for byte and keeps no backup when a write fails", function()
      local path = dir .. "/repair-full.h5"
      copy_file(orig, path)
      local r = procs.h5lua_limited({ "repair", path }, 200)
      -- libhdf5 1.10 itself faults when a write fails inside H5Ocopy
      -- (H5T_close_real); the crash guard makes that one line (under ASan,
      -- whose handler replaces the guard, a report in libhdf5)
      if helper.asan then
        assert.is_true(helper.libhdf5_fault(r), r.stderr)
      else
        assert.equal(2, r.code)
        assert.equal("h5lua: fatal: segmentation fault in the HDF5 library while copying an "
          .. "object: the file is damaged or uses a feature this libhdf5 cannot read\n",
          r.stderr)
      end
      assert.is_true(procs.same_bytes(path, orig))
      assert.is_false(procs.exists((path:gsub("%.h5$", ".h5.backup"))))
    end)
  end)

  describe("h5lua repack --force (temporary file, then rename)", function()
    it("leaves the destination and the source byte for byte, or the finished copy, when "
      .. "killed", function()
        local src = dir .. "/src.h5"
        copy_file(orig, src)
        local other = dir .. "/other.h5"
        local f = h5.open(other, "w")
        f:create_group("unrelated")
        f:close()
        local full = dir .. "/repacked.h5"
        local duration, r = procs.timed({ "repack", src, full })
        assert.equal(0, r.code, r.stderr)
        local repacked = state(full)
        assert.same(before.structures, repacked.structures)

        local untouched, replaced = 0, 0
        for run, delay in ipairs(procs.delays(KILLS, duration)) do
          -- odd runs onto another file, even runs onto the source itself
          local sub = string.format("%s/repack%d", dir, run)
          os.execute("mkdir " .. helper.quote(sub))
          local s, d, was = sub .. "/src.h5", sub .. "/dst.h5", other
          copy_file(orig, s)
          if run % 2 == 0 then
            d, was = sub .. "/./src.h5", orig
          else
            copy_file(other, d)
          end
          procs.run_and_kill(procs.h5lua_cmd({ "repack", "--force", s, d }, sub .. "/pid"),
            sub .. "/pid", delay)
          local what = string.format("repack run %d (%s, kill after %.3f s)", run,
            run % 2 == 0 and "in place" or "onto another file", delay)
          if run % 2 == 1 then
            assert.is_true(procs.same_bytes(s, orig), what .. ": source changed")
          end
          if procs.same_bytes(d, was) then
            untouched = untouched + 1
          else
            replaced = replaced + 1
            assert.is_false(procs.exists(d .. ".copy-tmp"), what)
            assert.same(repacked, state(d), what)
          end
        end
        outcomes[#outcomes + 1] = string.format("repack %d kills: %d untouched, %d replaced",
          KILLS, untouched, replaced)
      end)

    it("leaves the destination byte for byte and removes its temporary file when a write "
      .. "fails", function()
        local src, dst, was = dir .. "/full-src.h5", dir .. "/full-dst.h5", dir .. "/was.h5"
        copy_file(orig, src)
        local f = h5.open(dst, "w")
        f:create_group("unrelated")
        f:close()
        copy_file(dst, was)
        local r = procs.h5lua_limited({ "repack", "--force", "-c", "none", src, dst }, 100)
        assert.equal(2, r.code)
        assert.equal("h5lua: h5: cannot close '" .. dst .. ".copy-tmp': file too large\n",
          r.stderr)
        assert.is_true(procs.same_bytes(dst, was))
        assert.is_true(procs.same_bytes(src, orig))
        assert.is_false(procs.exists(dst .. ".copy-tmp"))
      end)
  end)
end)
