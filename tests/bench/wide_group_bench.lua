-- wide_group_bench: 10^6 structures in one group (/structures), the store's
-- way: time and peak memory to write them with s:write_many (flushes and the
-- journal included), to count and list them, and to open one by name; the
-- same listing and lookup with h5py on the file h5lua wrote. Too slow for
-- CI (tests/reliability/hostile_input_spec.lua does 10^5 empty groups).
-- WIDE_N=<n> changes the count.
local benchlib = require "benchlib"
local helper = require "helper"

local N = tonumber(os.getenv("WIDE_N") or "") or 1000000
local dir = helper.tmpdir()
local path = dir .. "/wide.h5"
local quote = benchlib.quote
local h5lua = quote(benchlib.root .. "/build/h5lua")

local function script(name, text)
  local p = dir .. "/" .. name
  helper.write_file(p, text)
  return p
end

local write = script("write.lua", string.format([[
local store = require "h5lua.store"
local s = store.open(%q, { mode = "w" })
local i, n = 0, %d
local r = s:write_many(function()
  i = i + 1
  if i > n then return nil end
  local refcode = string.format("W%%07d", i)
  return refcode, '{"identifier": "' .. refcode .. '"}'
end, { progress = false, log = false })
s:close()
assert(r.written == n and #r.failed == 0)
]], path, N))

local list = script("list.lua", string.format([[
local store = require "h5lua.store"
local s = store.open(%q, { mode = "r" })
local n, names = s:count(), s:refcodes()
assert(n == %d and #names == n and names[n] == string.format("W%%07d", n))
s:close()
]], path, N))

local middle = string.format("W%07d", N // 2)
local lookup = script("lookup.lua", string.format([[
local store = require "h5lua.store"
local s = store.open(%q, { mode = "r" })
assert(s:get(%q).identifier == %q)
s:close()
]], path, middle, middle))

-- The explorer on the same group: the first 50 members of ls, and REPL
-- completion of a prefix all members share, first and cached (the unit
-- specs check what these return, this measures how long they take).
local explore_first = script("explore_first.lua", string.format([[
local h5, explore = require "h5", require "h5lua.explore"
local f = h5.open(%q)
assert(#explore.ls(f.structures, { limit = 50 }) == 51)
f:close()
]], path))
local complete = script("complete.lua", string.format([[
local h5, repl = require "h5", require "h5lua.repl"
local clock = require("h5lua.perf").clock
rawset(_G, "f", h5.open(%q))
local t = clock()
assert(#repl.complete("f.structures.W") == repl.completion.limit + 1)
local first = clock() - t
t = clock()
assert(#repl.complete("f.structures.W00001") == 100)
io.write(string.format("%%.3f %%.3f\n", first, clock() - t))
]], path))

local function row(what, secs, mib)
  io.write(string.format("  %-34s %9.2f s %9.1f MiB\n", what, secs, mib))
end

io.write(string.format("%d structures in one group (%s)\n", N, path))
local secs, mib = benchlib.measure(h5lua .. " " .. quote(write))
row("h5lua write_many", secs, mib)
io.write(string.format("  %-34s %9.1f MiB  (%.0f bytes per structure)\n", "file size",
  (io.open(path, "rb"):seek("end")) / 2 ^ 20, (io.open(path, "rb"):seek("end")) / N))
io.write(string.format("  %-34s %9.0f structures/s\n", "write rate", N / secs))
secs, mib = benchlib.measure(h5lua .. " " .. quote(list))
row("h5lua open, count, list refcodes", secs, mib)
secs, mib = benchlib.measure(h5lua .. " " .. quote(lookup))
row("h5lua open, read one by name", secs, mib)
secs, mib = benchlib.measure(h5lua .. " ls " .. quote(path .. ":/structures") .. " >/dev/null")
row("h5lua ls FILE:/structures (all)", secs, mib)
secs, mib = benchlib.measure(h5lua .. " " .. quote(explore_first))
row("h5lua explore.ls, first 50", secs, mib)
local p = io.popen(h5lua .. " " .. quote(complete))
local first, cached = p:read("n", "n")
p:close()
io.write(string.format("  %-34s %9.3f s (first) %9.3f s (cached)\n",
  string.format("REPL completion, %d members", N), first or -1, cached or -1))

local py_list = script("list.py", string.format([[
import h5py
with h5py.File(%q, "r") as f:
    names = list(f["structures"])
    assert len(names) == %d
]], path, N))
local py_lookup = script("lookup.py", string.format([[
import h5py, json
with h5py.File(%q, "r") as f:
    assert json.loads(f["structures/%s/raw_json"][()])["identifier"] == "%s"
]], path, middle, middle))
local ok, s2, m2 = pcall(benchlib.measure, quote(benchlib.python) .. " " .. quote(py_list))
if ok then row("h5py open, list keys", s2, m2) end
ok, s2, m2 = pcall(benchlib.measure, quote(benchlib.python) .. " " .. quote(py_lookup))
if ok then row("h5py open, read one by name", s2, m2) end
helper.cleanup()
