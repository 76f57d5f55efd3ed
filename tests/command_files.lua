--- Shared by the command specs (tests/commands/*_spec.lua): a small demo
-- file, the shared HDF5 samples, running a command in a sample's folder, and
-- the clean-exit check every command must pass on every sample.
local h5 = require "h5"
local helper = require "helper"

local command_files = {}

function command_files.make(path)
  local f = h5.open(path, "w")
  local s = f:create_group("structures")
  for _, name in ipairs { "ALANIN", "ALANIN01", "BENZEN" } do
    s:create_group(name):create_dataset("raw_json", { data = '{"refcode": "' .. name .. '"}' })
  end
  f:create_dataset("x", { data = { { 1.5, 2.5, 3.5 }, { 4.5, 5.5, 6.5 } } })
  f:create_dataset("z", { data = h5.array.range(0, 99), dtype = "int32", chunks = { 10 },
    compression = "gzip", compression_opts = 6, shuffle = true })
  f:soft_link("/structures", "alias")
  f.attrs.title = "demo"
  f.x.attrs.units = "m"
  f:close()
end

-- The sample files (paths relative to the samples folder), or nil.
function command_files.samples()
  if not helper.data then return nil end
  local dir = helper.data .. "/hdf5-samples"
  -- (helper.sh redirects the last command's input: keep the pipe inside sh -c)
  local r = helper.sh("sh -c 'find . -type f ! -name INDEX.tsv ! -name MANIFEST | sort'",
    { cwd = dir })
  local list = {}
  for line in r.stdout:gmatch("[^\n]+") do list[#list + 1] = line:sub(3) end
  return dir, list
end

-- Run `h5lua args...` in the file's folder (external links resolve there).
function command_files.run_on(dir, file, args)
  local folder, name = (dir .. "/" .. file):match("^(.*)/([^/]+)$")
  local argv = {}
  for _, a in ipairs(args) do argv[#argv + 1] = a == "FILE" and name or a end
  return helper.h5lua(argv, { cwd = folder })
end

-- Known faults the commands steer clear of: damaged/h5diff_attr1.h5 crashes
-- libhdf5 1.10 only once its attributes are listed, which explore does not
-- do without first checking they decode (explore.attribute_names).
local AVOIDED = { ["h5diff_attr1.h5"] = true }

-- The few files known to fault inside libhdf5 1.10 end through the crash guard
-- (or, under ASan or valgrind, with their report of a fault in libhdf5).
local function known_hdf5_crash(r, what)
  return not AVOIDED[what:match("[^/]+$")] and helper.known_libhdf5_fault(what)
    and helper.libhdf5_fault(r)
end

-- Exit 0, or 1 with one "h5lua: ..." line; never a signal.
function command_files.assert_clean(r, what)
  local ok = r.code == 0 or (r.code == 1 and r.stderr:match("^h5lua: [^\n]+\n$"))
    or known_hdf5_crash(r, what)
  assert(ok, string.format("%s: exit %s\n%s", what, tostring(r.code), r.stderr))
end

local HAS_SCRIPT = helper.sh("command -v script").code == 0

--- Check that `h5lua args...` prints no colour into a pipe, and (unless
-- plain: a command that never colours) colours on a terminal when
-- util-linux's script can provide one; TERM=xterm and NO_COLOR unset both times.
function command_files.assert_colour_only_on_tty(args, plain)
  local env = { TERM = "xterm", NO_COLOR = "" }
  local r = helper.h5lua(args, { env = env })
  assert(r.code == 0 or r.code == 1, r.stderr)
  assert(r.stdout ~= "", "no output")
  assert(not r.stdout:find("\27", 1, true), "colour in a pipe:\n" .. r.stdout)
  if plain or not HAS_SCRIPT then return end
  local parts = { helper.quote(helper.bin) }
  for _, a in ipairs(args) do parts[#parts + 1] = helper.quote(a) end
  local tty = helper.sh("script -qec " .. helper.quote(table.concat(parts, " ")) .. " /dev/null",
    { env = env })
  assert(tty.stdout:find("\27[", 1, true), "no colour on a terminal:\n" .. tty.stdout)
end

--- Call fn(dir, file) for every shared sample file; the test is pending
-- (skipped, with the reason) when ../shared/data is absent.
function command_files.for_each_sample(fn)
  local dir, files = command_files.samples()
  if not dir then
    pending("../shared/data is absent")
    return
  end
  for _, file in ipairs(files) do fn(dir, file) end
end

return command_files
