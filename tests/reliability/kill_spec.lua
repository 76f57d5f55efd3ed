-- kill -9 at random moments: a real `h5lua import` (its progress bar on a
-- pseudo-terminal says what is written) and a write_many script (its
-- on_flush says what is written). After each kill the file must open,
-- validate with no finding at all, hold every structure that had been
-- reported written, and hold nothing half-written: every structure present
-- reads back byte for byte as its source. A file that was never reported
-- anything may be absent (killed before its first flush).
--
-- Each kill lands when the progress output reaches a random count (one in
-- each of N equal slices of the total), not after a fixed delay: delays
-- scaled from an uninterrupted run landed after the end on a loaded
-- machine. Most kills must land mid-write (0 < reported < total), or the
-- test would prove nothing. The seed is printed with every failure:
-- H5LUA_KILL_SEED=<seed> reruns the same points.
local helper = require "helper"
local cjson = require "cjson"
local store = require "h5lua.store"
local procs = require "reliability.procs"

local quote = helper.quote
local seed, exists = procs.seed, procs.exists

local IMPORT_RUNS = 14
local WRITER_RUNS = 10
local FILES = 2500
local FLUSH_EVERY = 250  -- the write_many script's
-- Of the kills of each kind, at least this share must land mid-write.
local MID_WRITE_SHARE = 0.75

-- Assert that most kills landed mid-write; `reported` lists each kill's
-- count of structures reported written.
local function assert_mid_write(what, reported, runs)
  local mid = 0
  for _, n in ipairs(reported) do
    if n > 0 and n < FILES then mid = mid + 1 end
  end
  assert(mid >= math.ceil(MID_WRITE_SHARE * runs), string.format("%s: only %d of %d kills "
    .. "landed mid-write (reported counts: %s, seed %d)", what, mid, runs,
    table.concat(reported, " "), seed))
  return mid
end

-- A structure record; every 10th is large (20 KB) so the metadata cache
-- has to write entries back between flushes.
local function record(refcode, i)
  local pad = (i % 10 == 0) and 20000 or (i % 97) * 20
  return string.format('{"identifier": "%s", "cell_lengths": [%d.5, 2.0, 3.0], '
    .. '"cell_angles": [90.0, 90.0, 90.0], "pad": "%s"}', refcode, i, ("x"):rep(pad))
end

-- The checks every killed file gets. `reported` lists refcodes reported
-- written; `source(refcode)` gives the bytes each structure must hold.
-- Returns the number of structures in the file (or -1 when there is none).
local function check_killed(path, reported, source, what)
  local function missing()
    assert.equal(0, #reported, what .. ": file missing, but " .. #reported
      .. " structures were reported written")
    assert.is_false(exists(path .. ".journal"), what .. ": journal left without its file")
    return -1
  end
  if not exists(path) then return missing() end
  local v = helper.h5lua({ "validate", "--json", path })
  -- a writer killed before its first flush leaves a file that opening removes
  if not exists(path) then
    assert.matches("killed before its first flush", v.stdout .. v.stderr, 1, true)
    return missing()
  end
  assert.equal(0, v.code, what .. ": validate failed: " .. v.stdout .. v.stderr)
  local report = cjson.decode(v.stdout)
  assert.equal(0, #report.findings, what .. ": findings: " .. v.stdout)
  assert.is_false(exists(path .. ".journal"), what .. ": journal not rolled back")
  local s = store.open(path, { mode = "r" })
  local present = {}
  for refcode, text, why in s:each() do
    assert.equal(source(refcode), text, what .. ": " .. refcode .. " differs: "
      .. tostring(why))
    present[refcode] = true
  end
  local n = s:count()
  s:close()
  for _, refcode in ipairs(reported) do
    assert.is_true(present[refcode] == true, what .. ": " .. refcode
      .. " was reported written and is missing")
  end
  helper.assert_no_open_ids()
  return n
end

describe("a writer killed with SIGKILL (" .. IMPORT_RUNS + WRITER_RUNS .. " kills, seed "
  .. seed .. ")", function()
  local dir, inputs, texts
  local summary = {}

  lazy_setup(function()
    dir = helper.tmpdir()
    inputs = dir .. "/inputs"
    os.execute("mkdir " .. quote(inputs))
    texts = {}
    for i = 1, FILES do
      local refcode = string.format("K%05d", i)
      texts[refcode] = record(refcode, i)
      helper.write_file(inputs .. "/" .. refcode .. ".json", texts[refcode])
    end
  end)

  lazy_teardown(function()
    io.write("\nkill test (seed " .. seed .. "): " .. table.concat(summary, "; ") .. "\n")
    helper.cleanup()
  end)

  it("h5lua import: keeps every file its progress bar counted", function()
    local function source(refcode) return texts[refcode] end
    -- `script` gives the import a terminal, so it draws its bar
    local function import_cmd(path, pidfile, out)
      local inner = dir .. "/import.sh"
      helper.write_file(inner, string.format("echo $$ > %s\nexec %s import %s %s\n",
        quote(pidfile), quote(helper.bin), quote(path), quote(inputs)))
      return string.format("script -qfec %s /dev/null > %s 2>&1",
        quote("sh " .. quote(inner)), quote(out))
    end
    -- files the last bar drawn counted (the inputs are read in sorted order)
    local function counted(out)
      local text = helper.read_file(out)
      if text:find("structures in [%d.]+ s") then return FILES end
      local n = 0
      for done in text:gmatch("importing %[[#.]*%] ([%d,]+)/") do
        n = math.max(n, tonumber((done:gsub(",", ""))))
      end
      return n
    end

    -- the count the bar shows now, for the shell that waits to kill
    local function bar_count_cmd(out)
      return string.format("grep -ao 'importing \\[[#.]*\\] [0-9,]*/' %s | tail -n 1 "
        .. "| tr -cd 0-9", quote(out))
    end

    -- one uninterrupted run: the counts its bar shows (it counts flushed
    -- files, in steps) and the time between them
    local full = dir .. "/full.h5"
    local t0 = procs.now()
    local r = helper.sh(import_cmd(full, full .. ".pid", full .. ".out"))
    local duration = procs.now() - t0
    assert.equal(0, r.code, r.stderr)
    assert.equal(FILES, check_killed(full, {}, source, "uninterrupted"))
    local last, shortest = 0, FILES
    for done in helper.read_file(full .. ".out"):gmatch("importing %[[#.]*%] ([%d,]+)/") do
      local n = tonumber((done:gsub(",", "")))
      if n < FILES and n > last then last, shortest = n, math.min(shortest, n - last) end
    end
    assert(last > 0, "the import's bar showed no count before the end")
    -- seconds of the shortest step between counts (the last one is short)
    local step_time = math.min(shortest, FILES - last) * duration / FILES

    local hits, counts = {}, {}
    local targets = procs.counts(IMPORT_RUNS, last)
    for run = 1, IMPORT_RUNS do
      local target = targets[run]
      local path = string.format("%s/import%d.h5", dir, run)
      local pidfile, out = path .. ".pid", path .. ".out"
      -- somewhere inside the batch after the count
      local delay = math.random() * 0.7 * step_time
      procs.run_and_kill_at(import_cmd(path, pidfile, out), pidfile, bar_count_cmd(out), target,
        delay)
      local n = counted(out)
      local reported = {}
      for i = 1, n do reported[i] = string.format("K%05d", i) end
      local what = string.format("import run %d (kill at bar %d, seed %d)", run, target, seed)
      local present = check_killed(path, reported, source, what)
      hits[#hits + 1] = string.format("%d/%d", n, present)
      counts[run] = n
    end
    local mid = assert_mid_write("import", counts, IMPORT_RUNS)
    summary[#summary + 1] = string.format("import %d kills (%d mid-write), bar/present: %s",
      IMPORT_RUNS, mid, table.concat(hits, " "))

    -- a killed store takes the rest of the import
    local last = string.format("%s/import%d.h5", dir, IMPORT_RUNS)
    r = helper.h5lua({ "import", last, inputs })
    assert.equal(0, r.code, r.stderr)
    assert.equal(FILES, check_killed(last, {}, source, "resumed import"))
  end)

  it("write_many: keeps every structure on_flush reported", function()
    local function source(refcode)
      return record(refcode, tonumber(refcode:match("%d+")))
    end
    local writer = dir .. "/writer.lua"
    helper.write_file(writer, [[
      local store = require "h5lua.store"
      local path, report, storage = ...
      local out = io.open(report, "w")
      local s = store.open(path, { json_storage = storage })
      local i = 0
      local r = s:write_many(function()
        i = i + 1
        if i > ]] .. FILES .. [[ then return nil end
        local refcode = string.format("W%05d", i)
        local pad = (i % 10 == 0) and 20000 or (i % 97) * 20
        return refcode, string.format('{"identifier": "%s", "cell_lengths": [%d.5, 2.0, 3.0], '
          .. '"cell_angles": [90.0, 90.0, 90.0], "pad": "%s"}', refcode, i, ("x"):rep(pad))
      end, { flush_every = ]] .. FLUSH_EVERY .. [[, on_flush = function(info)
        out:write(table.concat(info.refcodes, "\n"), "\n")
        out:flush()
      end })
      s:close()
      out:write("done ", r.written, "\n")
      out:close()
    ]])
    -- the shell knows the pid for sure: it writes it before exec
    local function writer_cmd(path, report, storage, pidfile)
      return string.format("sh -c %s", quote(string.format("echo $$ > %s; exec %s %s %s %s %s",
        quote(pidfile), quote(helper.bin), quote(writer), quote(path), quote(report), storage)))
    end
    local function reported_of(report)
      local list = {}
      if not exists(report) then return list end
      for line in io.lines(report) do
        if line:match("^W%d+$") then list[#list + 1] = line end
      end
      return list
    end

    local full = dir .. "/wfull.h5"
    local t0 = procs.now()
    local r = helper.sh(writer_cmd(full, full .. ".report", "string", full .. ".pid"))
    local duration = procs.now() - t0
    assert.equal(0, r.code, r.stderr)
    assert.equal(FILES, #reported_of(full .. ".report"))
    assert.equal(FILES, check_killed(full, {}, source, "uninterrupted writer"))

    -- on_flush reports every 250 structures: kill when a random number of
    -- them has been reported (the report has one refcode a line)
    local hits, counts = {}, {}
    local steps = FILES // FLUSH_EVERY
    local targets = procs.counts(WRITER_RUNS, FILES - FLUSH_EVERY)
    for run = 1, WRITER_RUNS do
      local target = targets[run]
      local storage = run % 3 == 0 and "compressed" or "string"
      local path = string.format("%s/writer%d.h5", dir, run)
      local report, pidfile = path .. ".report", path .. ".pid"
      local delay = math.random() * 0.8 * duration / steps
      procs.run_and_kill_at(writer_cmd(path, report, storage, pidfile), pidfile,
        string.format("cat %s 2>/dev/null | wc -l", quote(report)), target, delay)
      local reported = reported_of(report)
      local what = string.format("writer run %d (%s, kill at %d reported, seed %d)", run,
        storage, target, seed)
      local present = check_killed(path, reported, source, what)
      hits[#hits + 1] = string.format("%d/%d", #reported, present)
      counts[run] = #reported
    end
    local mid = assert_mid_write("write_many", counts, WRITER_RUNS)
    summary[#summary + 1] = string.format("write_many %d kills (%d mid-write), "
      .. "reported/present: %s", WRITER_RUNS, mid, table.concat(hits, " "))
  end)
end)
