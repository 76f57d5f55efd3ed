--- A progress bar on stderr for long jobs: items done, items/s and ETA,
-- redrawn in place at most every `interval` seconds, and only when the
-- stream is a terminal (silent otherwise, so logs and pipes stay clean).
--
--   local bar = progress.new{ total = #items, label = "writing" }
--   for i, item in ipairs(items) do ...; bar:update(i) end
--   bar:finish()
local perf = require "h5lua.perf"

local progress = {}

local format = string.format

-- lua-term's isatty (a dependency of busted, Debian lua-term) when present;
-- else ask the shell, which only knows about stdin/stdout/stderr.
local isatty_fn
do
  local ok, term = pcall(require, "term")
  if ok and type(term) == "table" and term.isatty then
    isatty_fn = function(stream)
      local good, yes = pcall(term.isatty, stream)
      return good and yes == true
    end
  else
    isatty_fn = function(stream)
      local fd = (stream == io.stdin and 0) or (stream == io.stdout and 1)
        or (stream == io.stderr and 2)
      if not fd then return false end
      return os.execute("test -t " .. fd) == true
    end
  end
end

--- Is the stream (a Lua file) a terminal?
-- @tparam file stream
-- @treturn boolean
function progress.isatty(stream)
  return isatty_fn(stream)
end

-- 1234567 -> "1,234,567"
local function thousands(n)
  local s = format("%d", math.floor(n))
  local sign, digits = s:match("^(-?)(%d+)$")
  digits = digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return sign .. digits
end

-- 75 -> "1:15", 3725 -> "1:02:05"
local function clock_text(s)
  if s ~= s or s == math.huge or s < 0 then return "?" end
  s = math.floor(s + 0.5)
  local h, m, sec = s // 3600, (s % 3600) // 60, s % 60
  if h > 0 then return format("%d:%02d:%02d", h, m, sec) end
  return format("%d:%02d", m, sec)
end

local function rate_text(r)
  if r >= 100 then return thousands(r) end
  return format("%.1f", r)
end

--- One line of the bar (no carriage return, no newline).
-- @tparam number done items done
-- @tparam[opt] number total items in all (nil when unknown)
-- @tparam number elapsed seconds since the start
-- @tparam[opt=80] number width columns available
-- @tparam[opt] string label
-- @treturn string e.g. "writing [#####.....] 5,000/10,000 50% 2,500/s ETA 0:02"
function progress.format(done, total, elapsed, width, label)
  width = width or 80
  local rate = elapsed > 0 and done / elapsed or 0
  local head = label and label ~= "" and (label .. " ") or ""
  if not total or total <= 0 then
    return format("%s%s items  %s/s  %s", head, thousands(done), rate_text(rate),
      clock_text(elapsed))
  end
  local frac = math.min(1, done / total)
  local eta = rate > 0 and (total - done) / rate or math.huge
  local tail = format(" %s/%s %3d%% %s/s ETA %s", thousands(done), thousands(total),
    math.floor(frac * 100), rate_text(rate), done >= total and "0:00" or clock_text(eta))
  local barw = width - #head - #tail - 3
  if barw < 5 then return head .. tail:sub(2) end
  barw = math.min(barw, 40)
  local fill = math.floor(frac * barw + 0.5)
  return format("%s[%s%s]%s", head, ("#"):rep(fill), ("."):rep(barw - fill), tail)
end

local Bar = {}
Bar.__index = Bar

--- A new bar.
-- @tparam[opt] table opts total (items, nil when unknown), label, stream
--   (default io.stderr), enabled (default: whether stream is a terminal),
--   interval (seconds between redraws, default 0.2), width (default $COLUMNS
--   or 80), clock (a function returning seconds, for tests)
-- @treturn table bar with update(done), add(n), finish([message])
function progress.new(opts)
  opts = opts or {}
  local stream = opts.stream or io.stderr
  local enabled = opts.enabled
  if enabled == nil then enabled = isatty_fn(stream) end
  local clock = opts.clock or perf.clock
  local self = setmetatable({
    total = opts.total, label = opts.label, stream = stream, enabled = enabled and true or false,
    interval = opts.interval or 0.2, clock = clock,
    width = opts.width or tonumber(os.getenv("COLUMNS") or "") or 80,
    done = 0, drawn = false,
  }, Bar)
  self.start = clock()
  self.last = -math.huge
  return self
end

function Bar:draw()
  local line = progress.format(self.done, self.total, self.clock() - self.start, self.width - 1,
    self.label)
  -- \r and clear to end of line, so a shorter line leaves nothing behind
  self.stream:write("\r", line, "\27[K")
  self.stream:flush()
  self.drawn = true
end

--- Set the number of items done; redraws when enabled and due.
-- @tparam number done
function Bar:update(done)
  self.done = done
  if not self.enabled then return end
  local now = self.clock()
  if now - self.last >= self.interval then
    self.last = now
    self:draw()
  end
end

--- Add n (default 1) items done.
function Bar:add(n)
  self:update(self.done + (n or 1))
end

--- Draw the final state and end the line (nothing when disabled).
-- @tparam[opt] string message printed after the bar, on the same line
function Bar:finish(message)
  if not self.enabled then return end
  self:draw()
  if message then self.stream:write("  ", message) end
  self.stream:write("\n")
  self.stream:flush()
end

return progress
