-- Structure store: batch-write N generated structures (1-8 KB of JSON each,
-- a realistic space-group mix, CSD-like refcodes) and read them all back,
-- with h5lua (h5lua.store), the seed's Python loop on h5py, and plain C on
-- the HDF5 API (tests/bench/c/store.c), in one run, for N = 10,000 and
-- 100,000 (STORE_BENCH_SIZES="10000,100000" overrides).
--
-- Every writer reads the same two input files (refcodes, JSON Lines) inside
-- its loop; each child process times its own file work (wall and CPU) and
-- /usr/bin/time gives its peak RSS. Files live on tmpfs when there is one
-- (the bench measures the library, not the disk's write-back). 10,000 runs
-- are the best of BENCH_RUNS (default 5) rounds, 100,000 of BENCH_RUNS_LARGE
-- (default 2); h5lua/C ratios also come as the median of per-round ratios.
--
-- Writers compared (C: tests/bench/c/store.c; its refcode and JSON checks
-- use h5lua's own scanner, bindings/json_scan.c, so "checked" is the same
-- work in both):
--   C earliest      plain C, default (old-style) format, 64 KiB conversion
--                   buffer, refcodes and JSON checked
--   h5lua earliest  store.open{libver="earliest"}, write_many without
--                   intermediate flushes or log: must be byte-identical to h5py
--   h5py (seed)     initialize_hdf5_file + write_structure_group per item
--   C v108          plain C, new-style groups, nothing checked
--   C v108 store    plain C, new-style groups, checked and H5Fflush every
--                   1,000 items / 5 s: the work of write_many's defaults
--   h5lua default   store.open() (v108), write_many defaults: checked, flush
--                   (and undo-journal commit) every 1,000 items / 5 s, log entry
--   h5lua no check  as default with validate = false
--   h5lua packed    json_storage = "compressed" (size only matters)
-- Targets: h5lua within 1.3x of C, >= 6x faster than the h5py loop, peak
-- memory < 64 MiB, byte-identical to h5py with libver "earliest".
--
-- As a child: build/h5lua tests/bench/store_bench.lua child write|read VARIANT OUT REFS JSONL
--         or: build/h5lua tests/bench/store_bench.lua child generate N REFS JSONL
local RUNS = tonumber(os.getenv("BENCH_RUNS") or "") or 5
local RUNS_LARGE = tonumber(os.getenv("BENCH_RUNS_LARGE") or "") or 2

---------------------------------------------------------------------------
-- Input generation: deterministic, CSD-like
---------------------------------------------------------------------------

-- Space groups with roughly their share of the CSD.
local SPACE_GROUPS = {
  { "P 21/c", 34 }, { "P -1", 25 }, { "C 2/c", 8 }, { "P 21 21 21", 8 }, { "P 21", 5 },
  { "P b c a", 3 }, { "P n a 21", 2 }, { "C c", 1.5 }, { "P 1", 1 }, { "P c a 21", 1 },
  { "P b c n", 1 }, { "C 2", 1 }, { "P 2/c", 1 }, { "R -3", 1 }, { "P 21 21 2", 1 },
  { "F d d 2", 0.5 }, { "I 41/a", 0.5 }, { "P 43 21 2", 0.5 }, { "P 61", 0.5 },
  { "F m -3 m", 0.5 }, { "P 63/m m c", 0.5 }, { "I a -3", 0.5 },
}
local SYSTEMS = { ["P 21/c"] = "monoclinic", ["P -1"] = "triclinic", ["C 2/c"] = "monoclinic",
  ["P 21 21 21"] = "orthorhombic", ["P 21"] = "monoclinic", ["P 1"] = "triclinic",
  ["R -3"] = "trigonal", ["F m -3 m"] = "cubic", ["I a -3"] = "cubic",
  ["P 63/m m c"] = "hexagonal", ["P 61"] = "hexagonal", ["I 41/a"] = "tetragonal",
  ["P 43 21 2"] = "tetragonal" }
local ELEMENTS = { "C", "C", "C", "C", "H", "H", "H", "O", "O", "N", "S", "Cl", "F", "Br", "P",
  "Cu", "Zn", "Fe" }

local function pick_space_group(total)
  local x = math.random() * total
  for _, e in ipairs(SPACE_GROUPS) do
    x = x - e[2]
    if x <= 0 then return e[1] end
  end
  return SPACE_GROUPS[1][1]
end

-- Write N structures: refs.txt (one refcode a line) and data.jsonl.
local function generate(n, refs_path, jsonl_path)
  math.randomseed(20240501)
  local total = 0
  for _, e in ipairs(SPACE_GROUPS) do total = total + e[2] end
  local rf, df = assert(io.open(refs_path, "w")), assert(io.open(jsonl_path, "w"))
  local seen, bytes = {}, 0
  local A = string.byte("A")
  for _ = 1, n do
    local refcode
    repeat
      local letters = {}
      for k = 1, 6 do letters[k] = string.char(A + math.random(0, 25)) end
      refcode = table.concat(letters)
      if math.random() < 0.3 then refcode = refcode .. string.format("%02d", math.random(1, 12)) end
    until not seen[refcode]
    seen[refcode] = true
    local sg = pick_space_group(total)
    local natoms = math.random(8, 75)
    local atoms, counts = {}, {}
    for k = 1, natoms do
      local el = ELEMENTS[math.random(#ELEMENTS)]
      counts[el] = (counts[el] or 0) + 1
      atoms[k] = string.format('{"label": "%s%d", "symbol": "%s", "coords": [%.5f, %.5f, %.5f], '
        .. '"occupancy": 1.0, "uiso": %.4f}', el, counts[el], el, math.random(), math.random(),
        math.random(), 0.01 + math.random() * 0.05)
    end
    local formula = {}
    for el, c in pairs(counts) do formula[#formula + 1] = el .. (c > 1 and c or "") end
    table.sort(formula)
    local a, b, c = 4 + math.random() * 20, 4 + math.random() * 20, 4 + math.random() * 20
    local json = string.format('{"identifier": "%s", "formula": "%s", "space_group": "%s", '
      .. '"crystal_system": "%s", "cell_lengths": [%.4f, %.4f, %.4f], "cell_angles": '
      .. '[90.0, %.3f, 90.0], "cell_volume": %.2f, "z_value": %d, "temperature": %.1f, '
      .. '"r_factor": %.4f, "source": "CSD_2024", "atoms": [%s]}', refcode,
      table.concat(formula, " "), sg, SYSTEMS[sg] or "monoclinic", a, b, c,
      90 + math.random() * 25, a * b * c, math.random(1, 8), 100 + math.random() * 200,
      math.random() * 0.1, table.concat(atoms, ", "))
    rf:write(refcode, "\n")
    df:write(json, "\n")
    bytes = bytes + #json
  end
  rf:close()
  df:close()
  return bytes
end

if arg and arg[1] == "child" and arg[2] == "generate" then
  -- child generate N REFS JSONL: the bench's input, for other experiments
  print(generate(tonumber(arg[3]), arg[4], arg[5]))
  return
end

if arg and arg[1] == "child" then
  local store = require "h5lua.store"
  local perf = require "h5lua.perf"
  local mode, variant, out, refs, jsonl = arg[2], arg[3], arg[4], arg[5], arg[6]
  local t0, c0 = perf.clock(), os.clock()
  local n, bytes = 0, 0
  if mode == "write" then
    local opts, wopts = { mode = "w" }, { progress = false }
    if variant == "earliest" then
      opts.libver = "earliest"
      wopts.flush_every, wopts.flush_seconds, wopts.log = false, false, false
    elseif variant == "nocheck" then
      opts.validate = false
    elseif variant == "packed" then
      opts.json_storage = "compressed"
    end
    local s = store.open(out, opts)
    -- Lines are read in 64 KiB blocks and split with string.find (memchr):
    -- f:read("l") reads a character at a time, 14 us for a 4.7 KB line,
    -- where C's getline takes 1.
    local function lines_of(path)
      local f = assert(io.open(path, "rb"))
      local buf, pos = "", 1
      return function()
        while true do
          local nl = buf:find("\n", pos, true)
          if nl then
            local line = buf:sub(pos, nl - 1)
            pos = nl + 1
            return line
          end
          local more = f:read(65536)
          if not more then
            f:close()
            if pos <= #buf then
              local line = buf:sub(pos)
              buf, pos = "", 1
              return line
            end
            return nil
          end
          buf, pos = buf:sub(pos) .. more, 1
        end
      end
    end
    local next_ref, next_json = lines_of(refs), lines_of(jsonl)
    local result = s:write_many(function()
      local r = next_ref()
      if r then
        local j = next_json()
        bytes = bytes + #j
        return r, j
      end
    end, wopts)
    s:close()
    n = result.written
    assert(#result.failed == 0, result.failed[1] and result.failed[1].error)
  else
    local s = store.open(out, { mode = "r" })
    for _, raw in s:each() do
      n = n + 1
      bytes = bytes + #raw
    end
    s:close()
  end
  print(string.format("%.6f %.6f %d %d", perf.clock() - t0, os.clock() - c0, n, bytes))
  return
end

local benchlib = require "benchlib"
local helper = require "helper"

local SIZES = {}
for n in (os.getenv("STORE_BENCH_SIZES") or "10000,100000"):gmatch("%d+") do
  SIZES[#SIZES + 1] = tonumber(n)
end

local dir = helper.tmpdir()
local shm = io.popen("mktemp -d /dev/shm/h5lua-store-bench.XXXXXX 2>/dev/null")
local shm_dir = shm:read("l")
shm:close()
local data_dir = shm_dir or dir
local c_bin = benchlib.compile_c("store", { "bindings/json_scan.c" })
local this = benchlib.root .. "/tests/bench/store_bench.lua"
local h5lua = benchlib.root .. "/build/h5lua"
local py = dir .. "/seed_loop.py"

-- The seed's write loop (initialize_hdf5_file, write_structure_group) and
-- its reading pattern, on h5py.
helper.write_file(py, [[
import sys, time, h5py

def initialize_hdf5_file(hdf5_path, compression="gzip", chunk_size=64):
    h5_file = h5py.File(hdf5_path, "a")
    if "structures" not in h5_file:
        h5_file.create_group("structures")
    return h5_file

def write_structure_group(h5, refcode, raw_json):
    group = h5["structures"].require_group(refcode)
    if "raw_json" in group:
        del group["raw_json"]
    group.create_dataset("raw_json", data=raw_json, dtype=h5py.string_dtype(encoding="utf-8"))

mode, path, refs, jsonl = sys.argv[1:5]
t0, c0 = time.monotonic(), time.process_time()
n = nbytes = 0
if mode == "write":
    h5_file = initialize_hdf5_file(path)
    with open(refs, encoding="utf-8") as r, open(jsonl, encoding="utf-8") as d:
        for refcode, raw_json in zip(r, d):
            raw_json = raw_json.rstrip("\n")
            write_structure_group(h5_file, refcode.rstrip("\n"), raw_json)
            n += 1
            nbytes += len(raw_json.encode())
    h5_file.close()
else:
    with h5py.File(path, "r") as f, open(refs, encoding="utf-8") as r:
        for refcode in r:
            raw = f['/structures/%s/raw_json' % refcode.rstrip("\n")][()].decode()
            n += 1
            nbytes += len(raw.encode())
print("%.6f %.6f %d %d" % (time.monotonic() - t0, time.process_time() - c0, n, nbytes))
]])

---------------------------------------------------------------------------
-- Running
---------------------------------------------------------------------------

local function file_size(path)
  local f = io.open(path, "rb")
  if not f then return 0 end
  local n = f:seek("end")
  f:close()
  return n
end

local function run(cmd, expect_n)
  local _, rss, out = benchlib.measure(cmd)
  local wall, cpu, n = out:match("([%d%.]+) ([%d%.]+) (%d+)")
  assert(wall and tonumber(n) == expect_n, "bench child failed: " .. cmd .. "\n" .. out)
  return { tonumber(wall), tonumber(cpu), rss }
end

local function best(a, b)
  if not a then return b end
  return { math.min(a[1], b[1]), math.min(a[2], b[2]), math.max(a[3], b[3]) }
end

local WRITERS = {
  { "C earliest", function(p, r, j)
      return string.format("%s write %s %s %s earliest checked", c_bin, p, r, j) end,
    function(p, r) return string.format("%s read %s %s", c_bin, p, r) end },
  { "h5lua earliest", function(p, r, j)
      return string.format("%s %s child write earliest %s %s %s", h5lua, this, p, r, j) end,
    function(p, r, j) return string.format("%s %s child read earliest %s %s %s", h5lua, this, p, r, j) end },
  { "h5py (seed)", function(p, r, j) return string.format("%s %s write %s %s %s", benchlib.python, py, p, r, j) end,
    function(p, r, j) return string.format("%s %s read %s %s %s", benchlib.python, py, p, r, j) end },
  { "C v108", function(p, r, j) return string.format("%s write %s %s %s v108", c_bin, p, r, j) end,
    function(p, r) return string.format("%s read %s %s", c_bin, p, r) end },
  { "C v108 store", function(p, r, j)
      return string.format("%s write %s %s %s v108 store", c_bin, p, r, j) end },
  { "h5lua default", function(p, r, j)
      return string.format("%s %s child write default %s %s %s", h5lua, this, p, r, j) end,
    function(p, r, j) return string.format("%s %s child read default %s %s %s", h5lua, this, p, r, j) end,
    -- C reading the very file h5lua wrote: the same bytes to read
    function(p, r) return string.format("%s read %s %s", c_bin, p, r) end },
  { "h5lua no check", function(p, r, j)
      return string.format("%s %s child write nocheck %s %s %s", h5lua, this, p, r, j) end },
  { "h5lua packed", function(p, r, j)
      return string.format("%s %s child write packed %s %s %s", h5lua, this, p, r, j) end,
    function(p, r, j) return string.format("%s %s child read packed %s %s %s", h5lua, this, p, r, j) end },
}

local summary = {}
for _, n in ipairs(SIZES) do
  local refs, jsonl = data_dir .. "/refs.txt", data_dir .. "/data.jsonl"
  local t0 = benchlib.now()
  local json_bytes = generate(n, refs, jsonl)
  io.write(string.format("\n%d structures, %.1f MiB of JSON (%.1f KB each on average), "
    .. "generated in %.1f s; files in %s\n", n, json_bytes / 2 ^ 20, json_bytes / n / 1000,
    benchlib.now() - t0, shm_dir and "tmpfs" or dir))
  io.flush()
  local runs = n <= 20000 and RUNS or RUNS_LARGE
  local res = {}
  local identical
  for run_i = 1, runs do
    for _, w in ipairs(WRITERS) do
      -- the h5py loop is slow and steady: once is enough
      if not (w[1] == "h5py (seed)" and run_i > 1) then
        local path = string.format("%s/%s.h5", data_dir, w[1]:gsub("%W", ""))
        local r = res[w[1]] or {}
        local wr = run(w[2](path, refs, jsonl), n)
        r.write = best(r.write, wr)
        r.rounds = r.rounds or {}
        r.rounds[run_i] = wr[1]
        if w[3] then r.read = best(r.read, run(w[3](path, refs, jsonl), n)) end
        if w[4] then r.c_read = best(r.c_read, run(w[4](path, refs), n)) end
        r.size = file_size(path)
        res[w[1]] = r
        if w[1] == "h5py (seed)" then
          local lua_path = data_dir .. "/h5luaearliest.h5"
          identical = helper.sh("cmp -s " .. helper.quote(lua_path) .. " " .. helper.quote(path))
            .code == 0
        end
        if w[1] ~= "h5lua earliest" then os.remove(path) end
      end
    end
  end
  os.remove(data_dir .. "/h5luaearliest.h5")

  io.write(string.format("%-16s %22s %22s %10s\n", "writer", "write wall/CPU s, MiB",
    "read wall/CPU s, MiB", "file MiB"))
  for _, w in ipairs(WRITERS) do
    local r = res[w[1]]
    local rd = r.read and string.format("%7.2f /%6.2f %6.1f", r.read[1], r.read[2], r.read[3])
      or "-"
    io.write(string.format("%-16s %7.2f /%6.2f %6.1f  %22s %10.1f\n", w[1], r.write[1],
      r.write[2], r.write[3], rd, r.size / 2 ^ 20))
  end
  local function ratio(a, b, k, i) return res[a][k][i] / res[b][k][i] end
  -- Each round runs every writer once, one after the other, so a ratio
  -- within a round compares runs made close in time: on a shared machine
  -- whose speed drifts 10-20% between minutes, the median of these is
  -- steadier than the ratio of two best times taken in different rounds.
  local function paired(a, b)
    local rs = {}
    for i, t in pairs(res[a].rounds) do
      if res[b].rounds[i] then rs[#rs + 1] = t / res[b].rounds[i] end
    end
    table.sort(rs)
    local mid = #rs % 2 == 1 and rs[(#rs + 1) // 2] or (rs[#rs // 2] + rs[#rs // 2 + 1]) / 2
    return string.format("%.2fx wall (best of %d), %.2fx CPU; rounds: median %.2fx, %.2f-%.2f",
      ratio(a, b, "write", 1), runs, ratio(a, b, "write", 2), mid, rs[1], rs[#rs])
  end
  local lines = {
    "h5lua/C write, same format and work (earliest, checked, no flushes): "
      .. paired("h5lua earliest", "C earliest"),
    "h5lua/C write, same format and work (v108, checked, flushed; h5lua's journal on top): "
      .. paired("h5lua default", "C v108 store"),
    "h5lua default / C doing only the writes (v108, nothing checked or flushed): "
      .. paired("h5lua default", "C v108"),
    "h5lua without the JSON check / C doing only the writes: "
      .. paired("h5lua no check", "C v108"),
    string.format("C's own cost of the checks and flushes: C v108 store / C v108 %.2fx wall",
      ratio("C v108 store", "C v108", "write", 1)),
    string.format("h5py loop / h5lua write: %.1fx (earliest), %.1fx (default)",
      ratio("h5py (seed)", "h5lua earliest", "write", 1),
      ratio("h5py (seed)", "h5lua default", "write", 1)),
    string.format("read all back: h5lua/C %.2fx (each its own file), %.2fx (h5lua's file, "
      .. "s:each() by name vs C by input order), h5py/h5lua %.1fx",
      ratio("h5lua default", "C v108", "read", 1),
      res["h5lua default"].read[1] / res["h5lua default"].c_read[1],
      ratio("h5py (seed)", "h5lua earliest", "read", 1)),
    string.format("new-style (v108) vs earliest format, plain C: write %.2fx wall, %.2fx CPU, "
      .. "read %.2fx wall, file size %.2fx", ratio("C v108", "C earliest", "write", 1),
      ratio("C v108", "C earliest", "write", 2), ratio("C v108", "C earliest", "read", 1),
      res["C v108"].size / res["C earliest"].size),
    string.format("h5lua default (v108, flushes, log) vs h5lua earliest (no flushes): write "
      .. "%.2fx wall, %.2fx CPU, file size %.2fx", ratio("h5lua default", "h5lua earliest", "write", 1),
      ratio("h5lua default", "h5lua earliest", "write", 2),
      res["h5lua default"].size / res["h5lua earliest"].size),
    string.format("compressed JSON storage: file %.2fx the size of plain strings (%.1f MiB vs "
      .. "%.1f MiB)", res["h5lua packed"].size / res["h5lua default"].size,
      res["h5lua packed"].size / 2 ^ 20, res["h5lua default"].size / 2 ^ 20),
    string.format("h5lua peak RSS: %.1f MiB (target < 64)", math.max(res["h5lua default"].write[3],
      res["h5lua default"].read[3], res["h5lua earliest"].write[3])),
    string.format("byte-identical to h5py with libver earliest: %s", identical and "yes" or "NO"),
  }
  for _, l in ipairs(lines) do io.write("  ", l, "\n") end
  summary[#summary + 1] = { n = n, res = res, identical = identical }
  os.remove(refs)
  os.remove(jsonl)
end

if shm_dir then os.execute("rm -rf " .. helper.quote(shm_dir)) end
helper.cleanup()
