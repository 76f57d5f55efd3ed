-- Specs of scripts/h5lua/perf.lua: clocks, timed wrappers, the monitor decorator.

local perf = require "h5lua.perf"

-- A stream that keeps what is written to it.
local function buffer()
  local b = { text = "" }
  function b:write(...)
    for _, s in ipairs({ ... }) do self.text = self.text .. s end
    return self
  end
  return b
end

describe("h5lua.perf", function()
  before_each(function() perf.reset() end)

  it("has a monotonic clock with sub-millisecond steps", function()
    local a = perf.clock()
    local b = perf.clock()
    assert.is_true(b >= a)
    assert.is_true(b - a < 0.5)
    assert.is_not.equal(math.floor(a), a)
  end)

  it("writes ISO-8601 timestamps as Python's isoformat does", function()
    local t = os.time({ year = 2024, month = 5, day = 1, hour = 12, min = 34, sec = 56 })
    assert.equal("2024-05-01T12:34:56.250000", perf.isotime(t + 0.25))
    assert.equal("2024-05-01T12:34:56", perf.isotime(t))
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d", perf.isotime())
  end)

  it("times every call of a wrapped function and passes results and errors through", function()
    local add = perf.timed("add", function(a, b) return a + b, "extra" end)
    assert.same({ 3, "extra" }, { add(1, 2) })
    assert.same({ 7, "extra" }, { add(3, 4) })
    local boom = perf.timed("boom", function() error("bad", 0) end)
    assert.has_error(boom, "bad")
    local stats = perf.stats()
    assert.equal(2, #stats)
    assert.equal("add", stats[1].name)
    assert.equal(2, stats[1].calls)
    assert.is_true(stats[1].total >= 0 and stats[1].min <= stats[1].max)
    assert.equal("boom", stats[2].name)
    assert.equal(1, stats[2].calls)
  end)

  it("reports one line per name", function()
    perf.measure("load", function() end)
    perf.measure("load", function() end)
    local report = perf.report()
    assert.matches("^load%s+2 calls  total [%d.]+ [mu]?s +mean [%d.]+ [mu]?s", report)
    assert.equal(1, select(2, report:gsub("\n", "")))
    perf.reset()
    assert.equal("", perf.report())
  end)

  it("keeps separate registries apart", function()
    local r = perf.registry()
    r:measure("x", function() end)
    assert.equal(1, #r:stats())
    assert.equal(0, #perf.stats())
  end)

  it("prints '<name> completed in X.XX seconds' as the seed's monitor decorator", function()
    local out = buffer()
    local f = perf.monitor(function(x) return x * 2 end, "write_large_dataset", out)
    assert.equal(42, f(21))
    assert.matches("^write_large_dataset completed in %d+%.%d%d seconds\n$", out.text)
  end)

  it("refuses what is not a function", function()
    assert.has_error(function() perf.timed("x", 42) end, "perf.timed: fn must be a function")
    assert.has_error(function() perf.monitor(nil) end, "perf.monitor: fn must be a function")
  end)
end)
