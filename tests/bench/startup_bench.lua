-- Start-up time: `h5lua -e ""` against `python3 -c "import h5py"` and a
-- plain C program that initialises libhdf5, in one run (median of N runs).
local benchlib = require "benchlib"

local RUNS = 30

local function median_ms(cmd)
  local times = {}
  for i = 1, RUNS do
    local t0 = benchlib.now()
    assert(os.execute(cmd .. " >/dev/null 2>&1"), "failed: " .. cmd)
    times[i] = (benchlib.now() - t0) * 1000
  end
  table.sort(times)
  return times[(RUNS + 1) // 2]
end

-- The clock itself costs a process start (date): measure and subtract it.
local overhead = median_ms("true")
local c_bin = benchlib.compile_c("startup")
local rows = {
  { "plain C (H5open)", median_ms(c_bin) - overhead },
  { "h5lua -e ''", median_ms(benchlib.root .. "/build/h5lua -e ''") - overhead },
  { "h5lua -e 'require \"h5\"'",
    median_ms(benchlib.root .. "/build/h5lua -e 'require \"h5\"'") - overhead },
  { "python3 -c 'import h5py'", median_ms(benchlib.python .. " -c 'import h5py'") - overhead },
}
print(string.format("%-28s %10s %10s", "start-up (median of " .. RUNS .. ")", "ms", "vs C"))
for _, row in ipairs(rows) do
  print(string.format("%-28s %10.1f %10s", row[1], row[2], benchlib.ratio(row[2], rows[1][2])))
end
print(string.format("h5py / h5lua: %s (target: h5lua under 10 ms)",
  benchlib.ratio(rows[4][2], rows[3][2])))
