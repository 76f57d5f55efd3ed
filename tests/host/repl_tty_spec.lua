-- The REPL on a real terminal: `h5lua FILE.h5` driven through tmux (a
-- pseudo-terminal), checking the banner, printing, tab completion, Ctrl-C,
-- multi-line input and the history file. Each test runs its own tmux
-- server on a private socket.
local h5 = require "h5"
local helper = require "helper"

local HAS_TMUX = helper.sh("command -v tmux").code == 0

local function make(path)
  local f = h5.open(path, "w")
  local s = f:create_group("structures")
  for _, name in ipairs { "ALANIN", "ALANIN01", "ALBEN", "BENZEN" } do
    s:create_group(name):create_dataset("raw_json", { data = '{"refcode": "' .. name .. '"}' })
  end
  f:create_dataset("x", { data = { { 1.5, 2.5, 3.5 }, { 4.5, 5.5, 6.5 } } })
  f:close()
end

-- A terminal running h5lua: start(args) then type, keys, wait_for, screen.
local Term = {}
Term.__index = Term

local function start(args, home)
  local t = setmetatable({ sock = helper.tmpdir() .. "/tmux.sock" }, Term)
  local parts = { helper.quote(helper.bin) }
  for _, a in ipairs(args) do parts[#parts + 1] = helper.quote(a) end
  local cmd = string.format("HOME=%s TERM=xterm %s; echo \"[exit $?]\"; sleep 60",
    helper.quote(home), table.concat(parts, " "))
  local r = helper.sh(string.format("tmux -S %s new-session -d -x 160 -y 50 %s",
    helper.quote(t.sock), helper.quote(cmd)))
  assert(r.code == 0, r.stderr)
  return t
end

function Term:tmux(args)
  return helper.sh("tmux -S " .. helper.quote(self.sock) .. " " .. args)
end

--- Type text literally (no key names).
function Term:type(text)
  self:tmux("send-keys -t 0 -l " .. helper.quote(text))
end

--- Press keys by tmux name: "Enter", "Tab", "C-c", "Up", ...
function Term:keys(...)
  self:tmux("send-keys -t 0 " .. table.concat({ ... }, " "))
end

--- The visible screen, trailing blank lines removed (-e: with colours).
function Term:screen(colours)
  local s = self:tmux("capture-pane -p " .. (colours and "-e " or "") .. "-t 0").stdout
  return (s:gsub("\n+$", ""))
end

--- Wait until the screen contains text (plain), up to 30 s (generous: a
-- loaded CI machine may be slow to start h5lua); returns the screen.
-- (tmux drops trailing spaces: a prompt shows as ">")
function Term:wait_for(text, colours)
  local screen
  for _ = 1, 600 do
    screen = self:screen(colours)
    if screen:find(text, 1, true) then return screen end
    os.execute("sleep 0.05")
  end
  error(string.format("timed out waiting for %q; the screen shows:\n%s", text, screen), 2)
end

function Term:stop()
  self:tmux("kill-server")
end

-- The prompt lines of the screen after the banner.
local function after_banner(screen)
  return screen:match("^[^\n]*\n(.*)$") or ""
end

describe("the REPL on a terminal #tty", function()
  local file, home, term
  before_each(function()
    if not HAS_TMUX then return end
    file = helper.tmpfile("demo.h5")
    make(file)
    home = helper.tmpdir()
  end)
  after_each(function()
    if term then term:stop() end
    term = nil
  end)
  teardown(helper.cleanup)

  local function open()
    term = start({ file }, home)
    return term:wait_for("help()\n>")
  end

  local it_tty = HAS_TMUX and it or pending

  it_tty("prints a one-line banner and binds f", function()
    local screen = open()
    local f = h5.open(file)
    local size = require("h5lua.pretty").bytes(f.size)
    f:close()
    assert.equal(string.format("%s: %s, 10 objects, read-only. ls(), tree(), help()\n>", file,
      size), screen)
  end)

  it_tty("starts with no arguments: banner line, then values of expressions", function()
    term = start({}, home)
    local screen = term:wait_for("exploration\n>")
    assert.matches("^h5lua %d+%.%d+%.%d+ %(Lua 5%.4%.%d+%) %-%- ls%(%), help%(%) for HDF5 "
      .. "exploration\n>$", screen)
    term:type("1+1")
    term:keys("Enter")
    assert.equal("> 1+1\n2\n>", after_banner(term:wait_for("\n2\n>")))
  end)

  it_tty("completes a member name on TAB", function()
    open()
    term:type("f.stru")
    term:keys("Tab")
    assert.equal("> f.structures", after_banner(term:wait_for("> f.structures")))
  end)

  it_tty("lists the matching members on a second TAB, without the expression", function()
    open()
    term:type("f.structures.AL")
    term:keys("Tab", "Tab")
    local screen = term:wait_for("ALBEN")
    assert.equal("> f.structures.AL\nALANIN    ALANIN01  ALBEN\n> f.structures.AL",
      after_banner(screen))
  end)

  it_tty("completes paths inside a string", function()
    open()
    term:type('f["structures/BEN')
    term:keys("Tab")
    assert.equal('> f["structures/BENZEN/', after_banner(term:wait_for("BENZEN/")))
    term:type('raw_json"]:read()')
    term:keys("Enter")
    local screen = term:wait_for("'{\"refcode\": \"BENZEN\"}'")
    assert.equal('> f["structures/BENZEN/raw_json"]:read()\n\'{"refcode": "BENZEN"}\'\n>',
      after_banner(screen))
  end)

  it_tty("lists a wide group's first matches and counts all the others", function()
    local f = h5.open(file, "r+")
    f:create_group("target")
    for i = 1, 2000 do f.structures:link("/target", string.format("R%04d", i)) end
    f:close()
    open()
    term:type("f.structures.R")
    term:keys("Tab", "Tab")
    local screen = term:wait_for("more\n>")
    -- 200 listed (R0001 to R0200), none of them the prefix readline keeps
    assert.truthy(screen:find("\nR0001 ", 1, true), screen)
    assert.truthy(screen:find(" R0200\n... and 1800 more\n> f.structures.R$"), screen)
    assert.falsy(screen:find("%f[%S]R%f[%s]"), screen)
  end)

  it_tty("completes a member created by the statement before, in --write mode", function()
    term = start({ "--write", file }, home)
    term:wait_for("help()\n>")
    term:type("f.g")
    term:keys("Tab") -- nothing yet; the root's member list is now cached
    term:keys("C-u")
    term:type('f:create_group("golf")')
    term:keys("Enter")
    term:wait_for('<group "/golf" (0 members)>\n>')
    term:type("f.g")
    term:keys("Tab")
    term:wait_for("> f.golf")
  end)

  it_tty("prints a dataset with a preview, and groups in colour", function()
    open()
    term:type("f.x")
    term:keys("Enter")
    local screen = term:wait_for("6.5]]")
    assert.equal('> f.x\n<dataset "/x": shape {2, 3}, float64>\n[[1.5, 2.5, 3.5],\n'
      .. " [4.5, 5.5, 6.5]]\n>", after_banner(screen))
    term:type("ls()")
    term:keys("Enter")
    local coloured = term:wait_for("structures/", true)
    -- (tmux writes bold blue back as two sequences)
    assert.truthy(coloured:find("\27[34mstructures/", 1, true), coloured)
  end)

  it_tty("drops the line being typed on Ctrl-C", function()
    open()
    term:type("abc def")
    term:wait_for("> abc def") -- typed keys still queued would be flushed by the signal
    term:keys("C-c")
    term:wait_for("abc def^C\n>")
    term:type("1 + 1")
    term:keys("Enter")
    assert.equal("> abc def^C\n> 1 + 1\n2\n>", after_banner(term:wait_for("\n2\n")))
  end)

  it_tty("interrupts a running statement on Ctrl-C", function()
    open()
    term:type("print('looping') while true do end")
    term:keys("Enter")
    term:wait_for("\nlooping") -- running, not waiting for input any more
    term:keys("C-c")
    term:wait_for("interrupted!")
    term:type("'still here'")
    term:keys("Enter")
    local screen = term:wait_for('"still here"')
    assert.truthy(screen:find("h5lua: interrupted!\n> 'still here'\n\"still here\"\n>", 1, true),
      screen)
  end)

  it_tty("reads multi-line statements, and Ctrl-C drops all of one", function()
    open()
    term:type("for i = 1, 2 do")
    term:keys("Enter")
    term:wait_for("do\n>>")
    term:type("print(i)")
    term:keys("Enter")
    term:type("end")
    term:keys("Enter")
    term:wait_for("\n2\n")
    term:type("if true then")
    term:keys("Enter")
    term:wait_for("if true then\n>>")
    term:keys("C-c")
    term:type("'next'")
    term:keys("Enter")
    local screen = term:wait_for('"next"')
    assert.equal("> for i = 1, 2 do\n>> print(i)\n>> end\n1\n2\n> if true then\n>> ^C\n"
      .. "> 'next'\n\"next\"\n>", after_banner(screen))
  end)

  it_tty("keeps the history in ~/.h5lua_history across sessions", function()
    open()
    term:type("x = 1")
    term:keys("Enter")
    term:type("for i = 1, 1 do")
    term:keys("Enter")
    term:type("x = x + i end")
    term:keys("Enter")
    term:wait_for(">> x = x + i end\n>")
    term:keys("C-d")
    term:wait_for("[exit 0]")
    term:stop()
    local hist = helper.read_file(home .. "/.h5lua_history")
    -- each entry after a "#<time>" line, so that multi-line ones read back whole
    assert.truthy(hist:match("^#%d+\nx = 1\n"), hist)
    assert.truthy(hist:match("\n#%d+\nfor i = 1, 1 do\nx = x %+ i end\n$"), hist)
    term = start({ file }, home)
    term:wait_for("help()\n>")
    term:keys("Up")
    term:wait_for("x = x + i end")
    term:keys("Up")
    term:wait_for("> x = 1")
  end)
end)
