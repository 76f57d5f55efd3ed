--- Shared bench helpers: timing, peak memory of child processes, compiling
-- the plain-C comparison programs in tests/bench/c/, running h5py.
local benchlib = {}

local helper = require "helper"

benchlib.root = helper.root
benchlib.python = helper.python
benchlib.quote = helper.quote

--- Wall-clock seconds (via date +%s.%N: os.clock measures CPU of this process only).
function benchlib.now()
  local p = io.popen("date +%s.%N")
  local t = tonumber(p:read("l"))
  p:close()
  return t
end

--- Run a shell command under /usr/bin/time; returns seconds, peak RSS in MiB, output.
function benchlib.measure(cmd)
  local tmp = os.tmpname()
  local p = io.popen(string.format("/usr/bin/time -f '%%e %%M' -o %s sh -c %s 2>&1",
    tmp, helper.quote(cmd)))
  local out = p:read("a")
  local ok = p:close()
  local f = io.open(tmp)
  local line = f and f:read("a") or ""
  if f then f:close() end
  os.remove(tmp)
  local secs, kb = line:match("([%d%.]+)%s+(%d+)%s*$")
  if not ok or not secs then error("bench command failed: " .. cmd .. "\n" .. out .. line) end
  return tonumber(secs), tonumber(kb) / 1024, out
end

--- Compile tests/bench/c/NAME.c into build/bench/NAME (once); returns the path.
-- extra: more C sources, relative to the root (e.g. "bindings/json_scan.c").
function benchlib.compile_c(name, extra)
  local out = benchlib.root .. "/build/bench/" .. name
  local src = benchlib.root .. "/tests/bench/c/" .. name .. ".c"
  for _, e in ipairs(extra or {}) do src = src .. " " .. benchlib.root .. "/" .. e end
  os.execute("mkdir -p " .. benchlib.root .. "/build/bench")
  local cmd = string.format("cc -O2 -I%s/bindings -o %s %s $(pkg-config --cflags --libs hdf5) "
    .. "-llzf -lm", benchlib.root, out, src)
  assert(os.execute(cmd), "cannot compile " .. src)
  return out
end

--- A ratio formatted for the report ("1.07x").
function benchlib.ratio(a, b)
  return string.format("%.2fx", a / b)
end

return benchlib
