-- Specs of scripts/h5lua/progress.lua: the progress bar.

local helper = require "helper"
local progress = require "h5lua.progress"

local function buffer()
  local b = { text = "" }
  function b:write(...)
    for _, s in ipairs({ ... }) do self.text = self.text .. s end
    return self
  end
  function b:flush() end
  return b
end

-- A clock that advances by hand.
local function fake_clock()
  local t = 0
  return function() return t end, function(dt) t = t + dt end
end

describe("h5lua.progress", function()
  after_each(function() helper.cleanup() end)

  it("formats items, rate and ETA with a bar when the total is known", function()
    assert.equal("writing [#################.................] 5,000/10,000  50% 2,500/s ETA 0:02",
      progress.format(5000, 10000, 2, 80, "writing"))
    assert.equal("[###############################] 10/10 100% 5.0/s ETA 0:00",
      progress.format(10, 10, 2, 60))
  end)

  it("formats items, rate and elapsed time when the total is unknown", function()
    assert.equal("reading 1,234 items  617/s  0:02", progress.format(1234, nil, 2, 80, "reading"))
    assert.equal("0 items  0.0/s  0:00", progress.format(0, nil, 0))
  end)

  it("drops the bar on narrow terminals and shows hours in long ETAs", function()
    assert.equal("1/10,000   0% 0.1/s ETA 27:46:30", progress.format(1, 10000, 10, 20))
  end)

  it("redraws at most once per interval and ends the line on finish", function()
    local out = buffer()
    local clock, advance = fake_clock()
    local bar = progress.new({ total = 4, stream = out, enabled = true, clock = clock,
      interval = 1, width = 61 })
    bar:update(1)
    bar:update(2)
    advance(2)
    bar:update(3)
    bar:add()
    bar:finish("done")
    local lines = {}
    for l in out.text:gmatch("\r([^\r]*)") do lines[#lines + 1] = l end
    assert.equal(3, #lines)
    assert.equal("[#########...........................] 1/4  25% 0.0/s ETA ?\27[K", lines[1])
    assert.equal("[#########################........] 3/4  75% 1.5/s ETA 0:01\27[K", lines[2])
    assert.equal("[#################################] 4/4 100% 2.0/s ETA 0:00\27[K  done\n", lines[3])
  end)

  it("writes nothing when disabled", function()
    local out = buffer()
    local bar = progress.new({ total = 3, stream = out, enabled = false })
    bar:update(1)
    bar:finish("done")
    assert.equal("", out.text)
  end)

  it("is off by default when stderr is not a terminal", function()
    local r = helper.h5lua({ "-e", [[
      local progress = require "h5lua.progress"
      local bar = progress.new({ total = 2 })
      bar:update(2)
      bar:finish()
      io.write(tostring(bar.enabled), " ", tostring(progress.isatty(io.stderr)))
    ]] })
    assert.equal("false false", r.stdout)
    assert.equal("", r.stderr)
  end)
end)
