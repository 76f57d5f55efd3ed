--- Test helpers (LuaRocks' test_env): temp files, running h5lua and python
-- as subprocesses, shared data paths, open-identifier checks.
local helper = {}

local h5 = require "h5"

--- Absolute path of the repository root (the directory holding tests/).
helper.root = (function()
  local src = debug.getinfo(1, "S").source:sub(2)
  local dir = src:match("^(.*)/tests/helper%.lua$") or "."
  local p = io.popen("cd '" .. dir .. "' && pwd")
  local abs = p:read("l")
  p:close()
  return abs
end)()

--- The h5lua binary under test (H5LUA_BIN overrides, e.g. the ASan build).
helper.bin = os.getenv("H5LUA_BIN") or (helper.root .. "/build/h5lua")

--- Debian's python3: the one python3-h5py is installed for.
helper.python = "/usr/bin/python3"

--- ../shared/data beside the checkout, or nil when it is absent.
helper.data = (function()
  local dir = helper.root .. "/../shared/data"
  local f = io.open(dir .. "/README.md")
  if f then
    f:close()
    return dir
  end
  return nil
end)()

--- Quote a string for /bin/sh.
function helper.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local tmp_root
--- A fresh temporary directory (removed by helper.cleanup()).
function helper.tmpdir()
  if not tmp_root then
    local p = io.popen("mktemp -d /tmp/h5lua-test.XXXXXX")
    tmp_root = p:read("l")
    p:close()
  end
  local p = io.popen("mktemp -d " .. tmp_root .. "/d.XXXXXX")
  local dir = p:read("l")
  p:close()
  return dir
end

--- A path for a new file inside a fresh temporary directory.
function helper.tmpfile(name)
  return helper.tmpdir() .. "/" .. (name or "test.h5")
end

function helper.cleanup()
  if tmp_root then
    os.execute("rm -rf " .. helper.quote(tmp_root))
    tmp_root = nil
  end
end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

function helper.read_file(path) return slurp(path) end

function helper.write_file(path, content)
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
end

--- The names in dir, hidden ones too (a test's check for stray files).
function helper.ls(dir)
  local p = io.popen("ls -A " .. helper.quote(dir))
  local names = {}
  for name in p:lines() do names[#names + 1] = name end
  p:close()
  return names
end

--- Invert byte k (1-based) of the first occurrence of needle in the file at
--- path, in place (damage a chunk whose bytes the test knows).
function helper.flip_byte(path, needle, k)
  local at = assert(helper.read_file(path):find(needle, 1, true), "bytes not found in " .. path)
  local fh = assert(io.open(path, "r+b"))
  fh:seek("set", at + k - 2)
  local b = fh:read(1):byte()
  fh:seek("set", at + k - 2)
  fh:write(string.char(b ~ 0xFF))
  fh:close()
end

-- Seconds any one child process of a test may run (valgrind is ~30x slower).
local CHILD_LIMIT = os.getenv("H5LUA_VALGRIND") and 3600 or 600

--- The exit code of a child whose sanitizer (ASan, UBSan, LSan) reported:
-- ASan's default is 1, the same as "validation found problems", so that a
-- report in a child would pass any test expecting exit code 1.
helper.SANITIZER_EXIT = 86

-- ASAN_OPTIONS and UBSAN_OPTIONS for children: as inherited (tests/suite.sh,
-- make asan set them), with exitcode=86 added when they do not say.
local function sanitizer_env()
  local env = ""
  for _, name in ipairs { "ASAN_OPTIONS", "UBSAN_OPTIONS" } do
    local v = os.getenv(name) or ""
    if not v:match("exitcode=") then
      v = (v == "" and "" or v .. ":") .. "exitcode=" .. helper.SANITIZER_EXIT
      env = env .. "export " .. name .. "=" .. helper.quote(v) .. "; "
    end
  end
  return env
end

--- Run a shell command; returns {code=, stdout=, stderr=}.
-- opts.stdin: text fed to standard input; opts.env: {NAME=value}.
-- Raises (failing the test) when the child exits with SANITIZER_EXIT,
-- unless helper.libhdf5_fault accepts the report as a fault inside libhdf5
-- (files known to crash it); opts.sanitizer_ok lets a test inspect it.
function helper.sh(cmd, opts)
  opts = opts or {}
  local dir = helper.tmpdir()
  local exports = sanitizer_env()  -- exported: cmd may be a list of commands
  local env = ""
  for k, v in pairs(opts.env or {}) do env = env .. k .. "=" .. helper.quote(v) .. " " end
  local input = "/dev/null"
  if opts.stdin then
    input = dir .. "/stdin"
    helper.write_file(input, opts.stdin)
  end
  -- A child that never ends fails its test after CHILD_LIMIT seconds
  -- instead of stalling the suite past CI's clock.
  local full = string.format("cd %s && timeout -k 10 %d sh -c %s <%s >%s 2>%s; echo $?",
    helper.quote(opts.cwd or helper.root), CHILD_LIMIT, helper.quote(exports .. env .. cmd), input,
    dir .. "/out", dir .. "/err")
  local started = os.time()
  local p = io.popen(full)
  local code = tonumber(p:read("a"):match("(%d+)%s*$"))
  p:close()
  local r = { code = code, stdout = slurp(dir .. "/out"), stderr = slurp(dir .. "/err") }
  if (code == 124 or code == 137) and os.time() - started >= CHILD_LIMIT then
    r.stderr = r.stderr .. string.format("\n(test helper: killed after its %d s time limit: %s)\n",
      CHILD_LIMIT, cmd)
  end
  if code == helper.SANITIZER_EXIT and not opts.sanitizer_ok and not helper.libhdf5_fault(r) then
    error(string.format("sanitizer report (exit %d) from: %s\n%s", code, cmd, r.stderr), 2)
  end
  return r
end

-- Under `make valgrind`, child h5lua processes run under valgrind too, with
-- the command line tests/valgrind.sh puts in H5LUA_VALGRIND: an error or
-- definite leak turns their exit code into 99.
local valgrind_prefix = os.getenv("H5LUA_VALGRIND") and os.getenv("H5LUA_VALGRIND") .. " " or ""

--- Run h5lua with the given arguments (a list of strings).
function helper.h5lua(args, opts)
  local parts = { valgrind_prefix .. helper.quote(helper.bin) }
  for _, a in ipairs(args or {}) do parts[#parts + 1] = helper.quote(a) end
  return helper.sh(table.concat(parts, " "), opts)
end

--- Run a Python snippet with Debian's python3 (h5py available).
function helper.python_run(code, opts)
  local dir = helper.tmpdir()
  helper.write_file(dir .. "/snippet.py", code)
  return helper.sh(helper.python .. " " .. helper.quote(dir .. "/snippet.py"), opts)
end

-- Is the first frame of ours or of libhdf5 in a report's stack (frames
-- matching frame_pattern) a libhdf5 one?
local function libhdf5_frame_first(report, frame_pattern)
  for frame in report:gmatch(frame_pattern) do
    if frame:match("libhdf5") then return true end
    if frame:match("bindings/") or frame:match("host/") or frame:match("liblua") then
      return false
    end
  end
  return false
end

--- Did a child h5lua end the way a file that crashes libhdf5 itself must?
-- Either the host's one-line crash guard or watchdog report (exit 2), or,
-- under ASan (whose handler replaces the guard), a sanitizer report in which
-- a libhdf5 frame comes before any frame of ours; under valgrind, a report
-- whose first frame is in libhdf5.  For files known to fault
-- inside libhdf5 1.10 (../shared/data damaged/h5diff_attr1.h5, fuzzing
-- reproducers in tests/fixtures/fuzz/hdf5-*.h5).
function helper.libhdf5_fault(r)
  if r.code == 2 and (r.stderr:match("^h5lua: fatal: [%a ]+ in the HDF5 library while ")
      or r.stderr:match("^h5lua: fatal: the HDF5 library stopped responding while ")) then
    return true
  end
  -- under make valgrind: libhdf5 before any frame of ours.  The exit code is
  -- valgrind's 99, or 1 when libhdf5's stray writes went on to break
  -- valgrind's own heap bookkeeping and valgrind stopped on an assertion
  -- (hdf5-crash-global-heap-memcpy-dataset.h5).
  if r.code == 99 or (r.code == 1 and r.stderr:match("\nvalgrind: m_mallocfree%.c:")) then
    return libhdf5_frame_first(r.stderr, "==%d+==    [ab][ty] 0x%x+: [^\n]*")
  end
  if not r.stderr:match("ERROR: AddressSanitizer: ") then return false end
  return libhdf5_frame_first(r.stderr, "\n    #%d+ [^\n]*")
end

--- Files known to fault inside libhdf5 1.10 (see helper.libhdf5_fault).
function helper.known_libhdf5_fault(path)
  local name = path:match("[^/]+$")
  return name == "h5diff_attr1.h5" or name:match("^hdf5%-crash%-") ~= nil
    or name:match("^hdf5%-hang%-") ~= nil
end

--- Running under the ASan build (memory figures are not meaningful there).
helper.asan = (os.getenv("H5LUA_BIN") or ""):match("build%-asan") ~= nil

--- Fail unless no HDF5 identifier is open (every spec cleans up after itself).
function helper.assert_no_open_ids()
  collectgarbage()
  collectgarbage()
  local n, by_kind = h5.open_ids()
  if n ~= 0 then
    error(string.format("%d HDF5 identifiers left open (files %d, groups %d, datasets %d, "
      .. "datatypes %d, attributes %d)", n, by_kind.file, by_kind.group, by_kind.dataset,
      by_kind.datatype, by_kind.attribute), 2)
  end
end

return helper
