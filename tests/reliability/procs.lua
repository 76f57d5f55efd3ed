--- Helpers shared by the reliability specs: killing a process at a chosen
-- moment, injecting a write failure, comparing files.
local helper = require "helper"

local procs = {}

local quote = helper.quote

--- Seed of the random kill points: H5LUA_KILL_SEED=<n> reruns a failure.
procs.seed = tonumber(os.getenv("H5LUA_KILL_SEED") or "") or os.time()
math.randomseed(procs.seed)

--- Wall-clock seconds.
function procs.now()
  local p = io.popen("date +%s.%N")
  local t = tonumber(p:read("l"))
  p:close()
  return t
end

function procs.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

--- Are two files byte-identical?
function procs.same_bytes(a, b)
  return os.execute("cmp -s " .. quote(a) .. " " .. quote(b)) == true
end

--- Kill points: one random moment in each of n equal slices of `duration`
-- (a little past it, so a few land after the end).
function procs.delays(n, duration)
  local out = {}
  for i = 1, n do out[i] = (i - 1 + math.random()) / n * duration * 1.1 end
  return out
end

--- An h5lua command line that writes its pid to pidfile, then becomes h5lua.
function procs.h5lua_cmd(args, pidfile)
  local parts = { "echo $$ >", quote(pidfile), "; exec", quote(helper.bin) }
  for _, a in ipairs(args) do parts[#parts + 1] = quote(a) end
  return "sh -c " .. quote(table.concat(parts, " "))
end

--- Run cmd in the background and kill -9 the pid it wrote to pidfile after
-- `delay` seconds (if it is still running then); wait for it.
function procs.run_and_kill(cmd, pidfile, delay)
  os.remove(pidfile)
  return helper.sh(string.format([[(
%s &
bg=$!
sleep %.3f
while [ ! -s %s ] && kill -0 $bg 2>/dev/null; do sleep 0.01; done
[ -s %s ] && kill -9 "$(cat %s)" 2>/dev/null
wait $bg
exit 0)]], cmd, delay, quote(pidfile), quote(pidfile), quote(pidfile)))
end

--- Progress counts to kill at: one random count in each of n equal slices
-- of 1 .. last, where last is the last count the progress output showed
-- before the end in an uninterrupted run (output counts only flushed work,
-- in steps): each kill then lands while the writer is writing.  A fixed
-- delay missed: 9 of 14 import kills landed after the import had finished.
function procs.counts(n, last)
  local out = {}
  for i = 1, n do
    out[i] = math.max(1, math.min(last, math.floor((i - 1 + math.random()) / n * last) + 1))
  end
  return out
end

--- Run cmd in the background and kill -9 the pid it wrote to pidfile
-- `delay` seconds after the shell command `count_cmd` (polled every 10 ms)
-- first prints a number >= target, or never if it ends first; wait for it.
function procs.run_and_kill_at(cmd, pidfile, count_cmd, target, delay)
  os.remove(pidfile)
  return helper.sh(string.format([[(
%s &
bg=$!
while kill -0 $bg 2>/dev/null; do
  n=$(%s)
  [ "${n:-0}" -ge %d ] 2>/dev/null && break
  sleep 0.01
done
sleep %.3f
while [ ! -s %s ] && kill -0 $bg 2>/dev/null; do sleep 0.01; done
[ -s %s ] && kill -9 "$(cat %s)" 2>/dev/null
wait $bg
exit 0)]], cmd, count_cmd, target, delay or 0, quote(pidfile), quote(pidfile), quote(pidfile)))
end

--- Run h5lua with args where no file may grow past `kib` KiB: writes past it
-- fail with EFBIG ("file too large"), as on a full disk.
function procs.h5lua_limited(args, kib)
  local parts = { quote(helper.bin) }
  for _, a in ipairs(args) do parts[#parts + 1] = quote(a) end
  return helper.sh(string.format("(ulimit -f %d; trap '' XFSZ; %s)", kib,
    table.concat(parts, " ")))
end

--- Time one uninterrupted run of h5lua with args (seconds, result).
function procs.timed(args)
  local t0 = procs.now()
  local r = helper.h5lua(args)
  return procs.now() - t0, r
end

return procs
