-- Datasets: write and read a 256 MiB float64 2-D dataset (8192 x 4096),
-- contiguous and chunked gzip+shuffle, with h5lua, h5py+numpy and plain C
-- (tests/bench/c/datasets.c), in one run.  Each phase runs in its own child
-- process; the child times its own file work (data generation excluded:
-- wall clock and CPU time) and /usr/bin/time gives its peak RSS.  Each
-- measurement is the best of RUNS (the machine is shared; single runs vary).
-- Targets: h5lua within 1.1x of C and not slower than h5py; peak memory <=
-- 1.2x the data size.
--
-- As a child: build/h5lua tests/bench/datasets_bench.lua child write|read contig|gzip PATH
local ROWS, COLS = 8192, 4096
local MIB = ROWS * COLS * 8 / 2 ^ 20
local RUNS = tonumber(os.getenv("BENCH_RUNS") or "") or 3

if arg and arg[1] == "child" then
  local h5 = require "h5"
  local mode, layout, path = arg[2], arg[3], arg[4]
  local clock = function()
    local p = io.popen("date +%s.%N")
    local t = tonumber(p:read("l"))
    p:close()
    return t
  end
  local a, t0, t1, c0, c1
  if mode == "write" then
    a = h5.array.range(0.0, ROWS * COLS - 1.0)
    local opts = { data = a, shape = { ROWS, COLS } }
    if layout == "gzip" then
      opts.chunks, opts.compression, opts.shuffle = { 128, 64 }, "gzip", true
    end
    t0, c0 = clock(), os.clock()
    local f = h5.open(path, "w")
    f:create_dataset("data", opts)
    f:close()
    t1, c1 = clock(), os.clock()
  else
    t0, c0 = clock(), os.clock()
    local f = h5.open(path, "r")
    a = f.data:read()
    f:close()
    t1, c1 = clock(), os.clock()
  end
  print(string.format("%.6f %.6f %.17g", t1 - t0, c1 - c0, a[#a]))
  return
end

local benchlib = require "benchlib"
local helper = require "helper"

-- Files go to tmpfs when there is one: the bench measures the library, not
-- the disk's write-back (which made single runs vary by 5x on /tmp).
local dir = helper.tmpdir()
local shm = io.popen("mktemp -d /dev/shm/h5lua-bench.XXXXXX 2>/dev/null")
local shm_dir = shm:read("l")
shm:close()
local data_dir = shm_dir or dir
local c_bin = benchlib.compile_c("datasets")
local this = benchlib.root .. "/tests/bench/datasets_bench.lua"
local h5lua = benchlib.root .. "/build/h5lua"
local py = dir .. "/bench.py"
helper.write_file(py, string.format([[
import sys, time, h5py, numpy as np
mode, layout, path = sys.argv[1:4]
if mode == "write":
    a = np.arange(%d * %d, dtype="f8").reshape(%d, %d)
    kw = dict(chunks=(128, 64), compression="gzip", shuffle=True) if layout == "gzip" else {}
    t0, c0 = time.monotonic(), time.process_time()
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=a, **kw)
    t1, c1 = time.monotonic(), time.process_time()
else:
    t0, c0 = time.monotonic(), time.process_time()
    with h5py.File(path, "r") as f:
        a = f["data"][()]
    t1, c1 = time.monotonic(), time.process_time()
print("%%.6f %%.6f %%.17g" %% (t1 - t0, c1 - c0, a.flat[-1]))
]], ROWS, COLS, ROWS, COLS))

local tools = {
  { "plain C", function(mode, layout, path)
      return string.format("%s %s %s %s %d %d", c_bin, mode, layout, path, ROWS, COLS) end },
  { "h5lua", function(mode, layout, path)
      return string.format("%s %s child %s %s %s", h5lua, this, mode, layout, path) end },
  { "h5py", function(mode, layout, path)
      return string.format("%s %s %s %s %s", benchlib.python, py, mode, layout, path) end },
}

local expected = string.format("%.17g", ROWS * COLS - 1.0)
local results = {}  -- results[layout][mode][tool] = {wall, cpu, rss}: best of RUNS
for _, layout in ipairs { "contig", "gzip" } do
  results[layout] = { write = {}, read = {} }
  for _ = 1, RUNS do
    for _, tool in ipairs(tools) do  -- tools interleaved, so load changes hit all alike
      local path = string.format("%s/%s-%s.h5", data_dir, tool[1]:gsub("%W", ""), layout)
      for _, mode in ipairs { "write", "read" } do
        local _, rss, out = benchlib.measure(tool[2](mode, layout, path))
        local wall, cpu, last = out:match("([%d%.]+) ([%d%.]+) (%S+)")
        assert(last == expected, tool[1] .. " " .. mode .. " " .. layout .. ": wrong data: " .. out)
        local best = results[layout][mode][tool[1]] or { math.huge, math.huge, 0 }
        results[layout][mode][tool[1]] = { math.min(best[1], tonumber(wall)),
          math.min(best[2], tonumber(cpu)), math.max(best[3], rss) }
      end
      os.remove(path)
    end
  end
end

print(string.format("%d x %d float64 = %d MiB, files in %s, best of %d runs", ROWS, COLS, MIB,
  shm_dir and "tmpfs" or dir, RUNS))
print("per tool: wall s / CPU s of the file work, peak RSS as a multiple of the data size")
print(string.format("%-13s %-6s %-22s %-22s %-22s %-13s %-13s", "layout", "phase", "plain C",
  "h5lua", "h5py", "h5lua/C", "h5lua/h5py"))
local worst = { c = 0, py = 0, mem = 0 }
for _, layout in ipairs { "contig", "gzip" } do
  for _, mode in ipairs { "write", "read" } do
    local r = results[layout][mode]
    local cells = {}
    for _, name in ipairs { "plain C", "h5lua", "h5py" } do
      cells[#cells + 1] = string.format("%6.3f / %6.3f %5.2fx", r[name][1], r[name][2],
        r[name][3] / MIB)
    end
    local c, p, l = r["plain C"], r.h5py, r.h5lua
    worst.c = math.max(worst.c, l[1] / c[1])
    worst.py = math.max(worst.py, l[1] / p[1])
    worst.mem = math.max(worst.mem, l[3] / MIB)
    print(string.format("%-13s %-6s %-22s %-22s %-22s %-13s %-13s",
      layout == "gzip" and "gzip+shuffle" or "contiguous", mode, cells[1], cells[2], cells[3],
      benchlib.ratio(l[1], c[1]) .. " / " .. benchlib.ratio(l[2], c[2]),
      benchlib.ratio(l[1], p[1]) .. " / " .. benchlib.ratio(l[2], p[2])))
  end
end
print(string.format("worst wall ratios: h5lua/C %.2fx (target <= 1.10), h5lua/h5py %.2fx "
  .. "(target <= 1.00); h5lua peak RSS %.2fx the data (target <= 1.20)", worst.c, worst.py,
  worst.mem))
if shm_dir then os.execute("rm -rf " .. helper.quote(shm_dir)) end
helper.cleanup()
