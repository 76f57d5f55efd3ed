--- Timing helpers: a wall clock, timed wrappers that accumulate statistics,
-- and the seed's `monitor_hdf5_performance` decorator.
--
--   local perf = require "h5lua.perf"
--   local write = perf.timed("write", function(s, r, j) return s:write(r, j) end)
--   ... write(s, "ALANIN", json) ...
--   io.write(perf.report())        -- one line per name: calls, total, mean, min, max
--
-- Timings live in a registry (a plain table) so several modules can feed one
-- report; `perf.registry()` makes a separate one when that is not wanted.
local perf = {}

local format = string.format

-- luasystem's monotonic clock when present (a dependency of busted, Debian
-- lua-system); os.time() otherwise, which only has whole seconds.
local clock_fn
do
  local ok, system = pcall(require, "system")
  if ok and type(system) == "table" and system.monotime then
    clock_fn = system.monotime
  else
    clock_fn = function() return os.time() + 0.0 end
  end
end

--- Seconds from an arbitrary origin, monotonic, sub-millisecond when
-- luasystem is installed.
-- @treturn number
function perf.clock()
  return clock_fn()
end

-- Wall-clock time of day as seconds since the epoch, with fractions.
local walltime_fn
do
  local ok, system = pcall(require, "system")
  if ok and type(system) == "table" and system.gettime then
    walltime_fn = system.gettime
  else
    walltime_fn = function() return os.time() + 0.0 end
  end
end

--- Seconds since the epoch with fractions (for timestamps).
-- @treturn number
function perf.walltime()
  return walltime_fn()
end

--- ISO-8601 local time with microseconds, as Python's
-- `datetime.datetime.now().isoformat()` writes it ("2024-05-01T12:34:56.123456").
-- @tparam[opt] number t seconds since the epoch (default: now)
-- @treturn string
function perf.isotime(t)
  t = t or walltime_fn()
  local secs = math.floor(t)
  local micros = math.floor((t - secs) * 1e6 + 0.5)
  if micros >= 1000000 then
    secs, micros = secs + 1, 0
  end
  local base = os.date("%Y-%m-%dT%H:%M:%S", secs)
  if micros == 0 then return base end
  return format("%s.%06d", base, micros)
end

---------------------------------------------------------------------------
-- Registries of accumulated timings
---------------------------------------------------------------------------

local Registry = {}
Registry.__index = Registry

--- A new, empty registry of timings (perf.timed etc. use a shared default).
-- @treturn table registry with the methods timed, measure, add, stats, report, reset
function perf.registry()
  return setmetatable({ entries = {}, order = {} }, Registry)
end

--- Record one timing of `seconds` under `name`.
function Registry:add(name, seconds)
  local e = self.entries[name]
  if not e then
    e = { name = name, calls = 0, total = 0.0, min = math.huge, max = 0.0 }
    self.entries[name] = e
    self.order[#self.order + 1] = name
  end
  e.calls = e.calls + 1
  e.total = e.total + seconds
  if seconds < e.min then e.min = seconds end
  if seconds > e.max then e.max = seconds end
end

-- Call fn(...), record its time under name (also when it raises), return
-- its results or re-raise its error.
local function run_timed(reg, name, fn, ...)
  local t0 = clock_fn()
  local results = table.pack(pcall(fn, ...))
  reg:add(name, clock_fn() - t0)
  if not results[1] then error(results[2], 0) end
  return table.unpack(results, 2, results.n)
end

--- Wrap fn so that every call is timed under name.
-- @tparam string name
-- @tparam function fn
-- @treturn function the wrapper (same arguments and results as fn)
function Registry:timed(name, fn)
  if type(name) ~= "string" then error("perf.timed: name must be a string", 2) end
  if type(fn) ~= "function" then error("perf.timed: fn must be a function", 2) end
  return function(...) return run_timed(self, name, fn, ...) end
end

--- Call fn(...) once, timed under name; returns fn's results.
function Registry:measure(name, fn, ...)
  if type(fn) ~= "function" then error("perf.measure: fn must be a function", 2) end
  return run_timed(self, name, fn, ...)
end

--- The statistics: a list of {name=, calls=, total=, mean=, min=, max=} in
-- the order the names were first seen.
function Registry:stats()
  local out = {}
  for i, name in ipairs(self.order) do
    local e = self.entries[name]
    out[i] = { name = name, calls = e.calls, total = e.total, mean = e.total / e.calls,
               min = e.min, max = e.max }
  end
  return out
end

-- "1.23 s", "12.3 ms", "45.6 us"
local function seconds_text(s)
  if s >= 1 then return format("%.2f s", s) end
  if s >= 1e-3 then return format("%.1f ms", s * 1e3) end
  return format("%.1f us", s * 1e6)
end
perf.seconds_text = seconds_text

--- A text report, one line per name ("" when nothing was timed).
function Registry:report()
  local lines = {}
  for _, e in ipairs(self:stats()) do
    lines[#lines + 1] = format("%-24s %8d calls  total %-10s mean %-10s min %-10s max %s",
      e.name, e.calls, seconds_text(e.total), seconds_text(e.mean), seconds_text(e.min),
      seconds_text(e.max))
  end
  if #lines == 0 then return "" end
  return table.concat(lines, "\n") .. "\n"
end

--- Forget every timing.
function Registry:reset()
  self.entries, self.order = {}, {}
end

local default = perf.registry()

--- Wrap fn so that each call is timed under name in the shared registry.
-- @tparam string name
-- @tparam function fn
-- @treturn function
function perf.timed(name, fn) return default:timed(name, fn) end

--- Run fn(...) once, timed under name in the shared registry.
function perf.measure(name, fn, ...) return default:measure(name, fn, ...) end

--- Statistics of the shared registry (see Registry:stats).
function perf.stats() return default:stats() end

--- Text report of the shared registry.
function perf.report() return default:report() end

--- Clear the shared registry.
function perf.reset() default:reset() end

--- The seed's `monitor_hdf5_performance` decorator: a wrapper of fn that
-- prints "<name> completed in <s> seconds" after each call (also recorded
-- in the shared registry). Lua functions have no names, so pass one.
-- @tparam function fn
-- @tparam[opt="function"] string name
-- @tparam[opt=io.stdout] file out where to print
-- @treturn function
function perf.monitor(fn, name, out)
  if type(fn) ~= "function" then error("perf.monitor: fn must be a function", 2) end
  name = name or "function"
  return function(...)
    local t0 = clock_fn()
    local results = table.pack(pcall(fn, ...))
    local dt = clock_fn() - t0
    default:add(name, dt)
    if not results[1] then error(results[2], 0) end
    local stream = out or io.stdout
    stream:write(format("%s completed in %.2f seconds\n", name, dt))
    return table.unpack(results, 2, results.n)
  end
end

return perf
