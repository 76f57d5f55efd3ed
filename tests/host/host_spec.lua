local helper = require "helper"

local run = helper.h5lua

local function script(body)
  local path = helper.tmpfile("script.lua")
  helper.write_file(path, body)
  return path
end

describe("h5lua #cli", function()
  teardown(helper.cleanup)

  describe("running a script", function()
    it("sets arg as the lua interpreter does", function()
      local path = script([[
print(arg[0], arg[1], arg[2], #arg, select("#", ...), ...)
print(arg[-1] ~= nil)
]])
      local r = run({ path, "a", "b c" })
      assert.equal(0, r.code, r.stderr)
      assert.equal(path .. "\ta\tb c\t2\t2\ta\tb c\ntrue\n", r.stdout)
    end)

    it("puts options at negative indices", function()
      local path = script("print(arg[-1], arg[-2] ~= nil)")
      local r = run({ "-e", "x=1", path })
      assert.equal("x=1\ttrue\n", r.stdout)
    end)

    it("reads the script from stdin with '-'", function()
      local r = run({ "-", "q" }, { stdin = "print('from stdin', arg[1])" })
      assert.equal(0, r.code, r.stderr)
      assert.equal("from stdin\tq\n", r.stdout)
    end)

    it("runs stdin when it is not a terminal and no script is given", function()
      local r = run({}, { stdin = "print(1 + 1)" })
      assert.equal(0, r.code)
      assert.equal("2\n", r.stdout)
    end)

    it("runs a script named like a command after --", function()
      local dir = helper.tmpdir()
      helper.write_file(dir .. "/ls", "print('script, not command')")
      local r = run({ "--", "ls" }, { cwd = dir })
      assert.equal("script, not command\n", r.stdout)
    end)
  end)

  describe("options", function()
    it("executes -e in order with -l", function()
      local r = run({ "-l", "cjson", "-e", "print(type(cjson.encode))", "-e", "print(2)" })
      assert.equal(0, r.code, r.stderr)
      assert.equal("function\n2\n", r.stdout)
    end)

    it("loads a library into a named global with -l g=mod", function()
      local r = run({ "-l", "J=cjson", "-e", "print(J.encode({1}))" })
      assert.equal("[1]\n", r.stdout)
    end)

    it("prints the version with -v", function()
      local r = run({ "-v" })
      assert.equal(0, r.code)
      assert.matches("^h5lua %d+%.%d+%.%d+ %(Lua 5%.4%.%d+%)\n$", r.stdout)
    end)

    it("enters the REPL after the script with -i", function()
      local path = script("answer = 42")
      local r = run({ "-i", path }, { stdin = "answer + 1\n" })
      assert.equal(0, r.code, r.stderr)
      assert.matches("43", r.stdout)
    end)

    it("rejects unknown options with usage and exit code 2", function()
      local r = run({ "-z" })
      assert.equal(2, r.code)
      assert.matches("^h5lua: unrecognized option '%-z'\nusage: h5lua", r.stderr)
      r = run({ "-e" })
      assert.equal(2, r.code)
      assert.matches("^h5lua: '%-e' needs an argument\n", r.stderr)
    end)

    it("ignores H5LUA_INIT with -E and runs it otherwise", function()
      local env = { H5LUA_INIT = "print('init ran')" }
      assert.equal("init ran\nx\n", run({ "-e", "print('x')" }, { env = env }).stdout)
      assert.equal("x\n", run({ "-E", "-e", "print('x')" }, { env = env }).stdout)
    end)
  end)

  describe("errors and exit codes", function()
    it("prints one line and exits 1 when the script raises", function()
      local path = script("local h5 = require 'h5'\nh5.open('/nonexistent/x.h5')\n")
      local r = run({ path })
      assert.equal(1, r.code)
      assert.equal("h5lua: h5: cannot open '/nonexistent/x.h5' for reading: "
        .. "no such file or directory\n", r.stderr)
    end)

    it("shows the traceback only with --traceback", function()
      local path = script("local function inner() error('boom') end\ninner()\n")
      local r = run({ path })
      assert.equal("h5lua: " .. path .. ":1: boom\n", r.stderr)
      r = run({ "--traceback", path })
      assert.equal(1, r.code)
      assert.matches("^h5lua: " .. path:gsub("%p", "%%%0") .. ":1: boom\nstack traceback:\n",
        r.stderr)
      assert.matches("in local 'inner'", r.stderr)
    end)

    it("exits 2 when the script cannot be loaded", function()
      local r = run({ "/nonexistent/script.lua" })
      assert.equal(2, r.code)
      assert.equal("h5lua: cannot open /nonexistent/script.lua: No such file or directory\n",
        r.stderr)
      local bad = script("x = = 1")
      r = run({ bad })
      assert.equal(2, r.code)
      assert.matches("^h5lua: .*: unexpected symbol near '='\n$", r.stderr)
    end)

    it("says a data file's name that is not HDF5 is not an HDF5 file, exit 2", function()
      for _, name in ipairs { "junk.h5", "junk.hdf5", "junk.he5", "junk.nxs", "JUNK.H5" } do
        local path = helper.tmpfile(name)
        helper.write_file(path, "just text\n")
        local r = run({ path })
        assert.equal(2, r.code)
        assert.equal("h5lua: " .. path .. ": not an HDF5 file\n", r.stderr)
        assert.equal("", r.stdout)
      end
      local lua_named = script("print('ran')")  -- other names still run as scripts
      assert.equal("ran\n", run({ lua_named }).stdout)
    end)

    it("says in one line, exit 2, that a -l module is missing; --traceback lists where",
      function()
      local r = run({ "-l", "nosuchmod", "-e", "print('not reached')" })
      assert.equal(2, r.code)
      assert.matches("^h5lua: module 'nosuchmod' not found %(searched %d+ places; "
        .. "%-%-traceback lists them%)\n$", r.stderr)
      assert.equal("", r.stdout)
      r = run({ "--traceback", "-l", "nosuchmod" })
      assert.equal(2, r.code)
      assert.matches("^h5lua: module 'nosuchmod' not found:\n\tno field "
        .. "package.preload%['nosuchmod'%]\n", r.stderr)
      assert.matches("\n\tno file '[^\n]*/scripts/nosuchmod.lua'\n", r.stderr)
      -- a module that is there but fails is the job's error: exit 1, its own message
      local dir = helper.tmpdir()
      helper.write_file(dir .. "/broken.lua", "error('broken on load', 0)\n")
      r = run({ "-l", "broken" }, { env = { H5LUA_PATH = dir } })
      assert.equal(1, r.code)
      assert.equal("h5lua: broken on load\n", r.stderr)
    end)

    it("says in one line that a script's require found nothing; --traceback lists where",
      function()
      local path = script("local m = require 'nosuchmod'\nprint('not reached')")
      local r = run({ path })
      assert.equal(1, r.code)
      assert.matches("^h5lua: [^\n]+:1: module 'nosuchmod' not found %(searched %d+ places; "
        .. "%-%-traceback lists them%)\n$", r.stderr)
      r = run({ "--traceback", path })
      assert.matches("\n\tno file '[^\n]*/scripts/nosuchmod.lua'\n", r.stderr)
      assert.matches("stack traceback:", r.stderr, 1, true)
    end)

    it("exits with os.exit's code", function()
      assert.equal(1, run({ "-e", "os.exit(1)" }).code)
      assert.equal(0, run({ "-e", "os.exit(true)" }).code)
    end)

    it("exits 2 on an unknown command", function()
      local r = run({ "frobnicate" })
      assert.equal(2, r.code)
      assert.equal("h5lua: unknown command 'frobnicate' (run 'h5lua help' for the list)\n",
        r.stderr)
    end)

    it("closes open files at exit so their data is on disk", function()
      local path = helper.tmpfile()
      local r = run({ "-e", string.format(
        "F = require('h5').open(%q, 'w'); F:create_group('kept')", path) })
      assert.equal(0, r.code, r.stderr)
      r = run({ "-e", string.format("print(require('h5').open(%q):keys()[1])", path) })
      assert.equal("kept\n", r.stdout)
    end)
  end)

  describe("module paths", function()
    it("finds h5, cjson, argparse and the in-tree scripts with no setup", function()
      local r = run({ "-E", "-e", [[
print(type(require "h5".open), type(require "cjson".decode),
      type(require "argparse" "x".parse), type(require "h5lua.cli".main))]] })
      assert.equal(0, r.code, r.stderr)
      assert.equal("function\tfunction\tfunction\tfunction\n", r.stdout)
    end)

    it("searches H5LUA_PATH directories and ~/.config/h5lua", function()
      local dir = helper.tmpdir()
      helper.write_file(dir .. "/mymod.lua", "return 'from H5LUA_PATH'")
      local home = helper.tmpdir()
      os.execute("mkdir -p " .. home .. "/.config/h5lua")
      helper.write_file(home .. "/.config/h5lua/homemod.lua", "return 'from home'")
      local r = run({ "-e", "print((require 'mymod'), (require 'homemod'))" },
        { env = { H5LUA_PATH = dir, HOME = home } })
      assert.equal(0, r.code, r.stderr)
      assert.equal("from H5LUA_PATH\tfrom home\n", r.stdout)
      local host = run({ "-e", "print(table.concat(require('h5lua.host').user_dirs, ','))" },
        { env = { H5LUA_PATH = dir .. ":/x", HOME = home } })
      assert.equal(dir .. ",/x," .. home .. "/.config/h5lua\n", host.stdout)
    end)

    it("finds its scripts when installed under any prefix", function()
      local prefix = helper.tmpdir() .. "/prefix"
      local r = helper.sh("make --no-print-directory install PREFIX=" .. helper.quote(prefix))
      assert.equal(0, r.code, r.stderr)
      r = helper.sh(helper.quote(prefix .. "/bin/h5lua") .. " -E -e " .. helper.quote(
        "print(require('h5lua.host').scripts_dir, type(require('h5lua.cli').main))"),
        { cwd = "/" })
      assert.equal(0, r.code, r.stderr)
      assert.equal(prefix .. "/share/h5lua\tfunction\n", r.stdout)
    end)

    it("loads the h5.so module into a plain lua5.4", function()
      local r = helper.sh("lua5.4 -e 'package.cpath=\"build/?.so;\"..package.cpath; "
        .. "print(require(\"h5\").version.hdf5)'")
      if r.code == 127 then pending("lua5.4 is not installed") return end
      assert.equal(0, r.code, r.stderr)
      assert.matches("^1%.10%.%d+\n$", r.stdout)
    end)
  end)

  describe("the REPL on a pipe", function()
    it("prints expression values without '='", function()
      local r = run({ "-i" }, { stdin = "1 + 2\n'x', 4\n" })
      assert.equal(0, r.code, r.stderr)
      assert.matches('3\n"?x"?\t4\n', r.stdout)  -- h5lua.repl may quote strings
    end)

    it("continues incomplete statements over several lines", function()
      local r = run({ "-i" }, { stdin = "function sq(x)\nreturn x * x\nend\nsq(7)\n" })
      assert.matches("49\n", r.stdout)
    end)

    it("reports an error and goes on", function()
      local r = run({ "-i" }, { stdin = "error('bad')\n5\n" })
      assert.matches("h5lua: stdin:1: bad\n", r.stderr)
      assert.matches("5\n", r.stdout)
    end)
  end)
end)
