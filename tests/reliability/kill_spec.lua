-- kill -9 at random moments: a real `h5lua import` (its progress bar on a
-- pseudo-terminal says what is written) and a write_many script (its
-- on_flush says what is written). After each kill the file must open,
-- validate with no finding at all, hold every structure that had been
-- reported written, and hold nothing half-written: every structure present
-- reads back byte for byte as its source. A file that was never reported
-- anything may be absent (killed before its first flush).
--
-- Kill times are spread evenly over the length of an uninterrupted run
-- (one random point in each of N equal slices), so the start, the flushes,
-- the end (metadata, log, close) all get hit. The seed is printed with
-- every failure: H5LUA_KILL_SEED=<seed> reruns the same points.
local helper = require "helper"
local cjson = require "cjson"
local store = require "h5lua.store"
local procs = require "reliability.procs"

local quote = helper.quote
local seed, now, exists, run_and_kill = procs.seed, procs.now, procs.exists, procs.run_and_kill

local IMPORT_RUNS = 14
local WRITER_RUNS = 10
local FILES = 2500

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

    -- one uninterrupted run: how long an import takes
    local t0 = now()
    local full = dir .. "/full.h5"
    local r = helper.h5lua({ "import", full, inputs })
    local duration = now() - t0
    assert.equal(0, r.code, r.stderr)
    assert.equal(FILES, check_killed(full, {}, source, "uninterrupted"))

    local hits = {}
    local delays = procs.delays(IMPORT_RUNS, duration)
    for run = 1, IMPORT_RUNS do
      local delay = delays[run]
      local path = string.format("%s/import%d.h5", dir, run)
      local pidfile, out = path .. ".pid", path .. ".out"
      run_and_kill(import_cmd(path, pidfile, out), pidfile, delay)
      local n = counted(out)
      local reported = {}
      for i = 1, n do reported[i] = string.format("K%05d", i) end
      local what = string.format("import run %d (kill after %.2f s, seed %d)", run, delay, seed)
      local present = check_killed(path, reported, source, what)
      hits[#hits + 1] = string.format("%d/%d", n, present)
    end
    summary[#summary + 1] = string.format("import %d kills, bar/present: %s", IMPORT_RUNS,
      table.concat(hits, " "))

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
      end, { flush_every = 250, on_flush = function(info)
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

    local t0 = now()
    local full = dir .. "/wfull.h5"
    local r = helper.sh(writer_cmd(full, full .. ".report", "string", full .. ".pid"))
    local duration = now() - t0
    assert.equal(0, r.code, r.stderr)
    assert.equal(FILES, #reported_of(full .. ".report"))
    assert.equal(FILES, check_killed(full, {}, source, "uninterrupted writer"))

    local hits = {}
    local delays = procs.delays(WRITER_RUNS, duration)
    for run = 1, WRITER_RUNS do
      local delay = delays[run]
      local storage = run % 3 == 0 and "compressed" or "string"
      local path = string.format("%s/writer%d.h5", dir, run)
      local report, pidfile = path .. ".report", path .. ".pid"
      run_and_kill(writer_cmd(path, report, storage, pidfile), pidfile, delay)
      local reported = reported_of(report)
      local what = string.format("writer run %d (%s, kill after %.2f s, seed %d)", run, storage,
        delay, seed)
      local present = check_killed(path, reported, source, what)
      hits[#hits + 1] = string.format("%d/%d", #reported, present)
    end
    summary[#summary + 1] = string.format("write_many %d kills, reported/present: %s",
      WRITER_RUNS, table.concat(hits, " "))
  end)
end)
