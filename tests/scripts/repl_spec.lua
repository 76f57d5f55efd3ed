-- The REPL's Lua side (scripts/h5lua/repl.lua): opening the file, the
-- banner, printing results, the helpers and tab completion. The terminal
-- side is tests/host/repl_tty_spec.lua.
local repl = require "h5lua.repl"
local h5 = require "h5"
local helper = require "helper"

-- Under valgrind everything runs ~50 times slower: fewer members there.
-- How fast completion is on wide groups is measured by `make bench`
-- (tests/bench/wide_group_bench.lua), not here.
local VALGRIND = os.getenv("H5LUA_VALGRIND") ~= nil
local WIDE = VALGRIND and 10000 or 100000

local GLOBALS = { "f", "h5", "ls", "cd", "pwd", "tree", "show", "find", "help" }

-- Run fn with io.stdout and io.stderr captured; returns what was written.
local function capture(fn)
  local out, err = {}, {}
  local function sink(t)
    return { write = function(self, ...)
      for _, s in ipairs({ ... }) do t[#t + 1] = tostring(s) end
      return self
    end, flush = function() end }
  end
  local saved_out, saved_err = io.stdout, io.stderr
  io.stdout, io.stderr = sink(out), sink(err)
  local ok, r = pcall(fn)
  io.stdout, io.stderr = saved_out, saved_err
  if not ok then error(r, 0) end
  return table.concat(out), table.concat(err), r
end

local function make_file(path)
  local f = h5.open(path, "w")
  local s = f:create_group("structures")
  for _, name in ipairs { "ALANIN", "ALANIN01", "ALBEN", "BENZEN" } do
    s:create_group(name):create_dataset("raw_json", { data = '{"refcode": "' .. name .. '"}' })
  end
  f:create_group("g1.1")
  f:create_dataset("x", { data = { { 1.5, 2.5 }, { 3.5, 4.5 } } })
  f.attrs.title = "test"
  f.attrs.temperature = 293.0
  f:close()
end

describe("h5lua.repl", function()
  local path, saved
  setup(function()
    path = helper.tmpfile("repl.h5")
    make_file(path)
  end)
  before_each(function()
    saved = {}
    for _, k in ipairs(GLOBALS) do saved[k] = rawget(_G, k) end
  end)
  after_each(function()
    local f = rawget(_G, "f")
    if type(f) == "userdata" then f:close() end
    for _, k in ipairs(GLOBALS) do rawset(_G, k, saved[k]) end
    helper.assert_no_open_ids()
  end)
  teardown(helper.cleanup)

  local function open()
    local out, err, code = capture(function() return repl.open_file(path, false) end)
    assert.equal("", err)
    assert.equal(0, code)
    return out
  end

  describe(".open_file()", function()
    it("binds f read-only and prints a one-line banner", function()
      local out = open()
      local f = rawget(_G, "f")
      assert.equal("r", f.mode)
      assert.equal(string.format("%s: %s, 11 objects, read-only. ls(), tree(), help()\n", path,
        require("h5lua.pretty").bytes(f.size)), out)
    end)

    it("opens read-write when asked", function()
      local out = capture(function() return repl.open_file(path, true) end)
      assert.equal("r+", rawget(_G, "f").mode)
      assert.truthy(out:find(", read-write. ", 1, true))
    end)

    it("is what `h5lua FILE.h5` and `h5lua --write FILE.h5` run", function()
      local r = helper.h5lua({ path }, { stdin = "f.mode\nls('structures/ALBEN')\n" })
      assert.equal(0, r.code, r.stderr)
      assert.equal('"r"\nraw_json  dataset scalar string(utf-8, variable)\n',
        r.stdout:match("^[^\n]*\n(.*)$"))
      r = helper.h5lua({ "--write", path }, { stdin = "f.mode\n" })
      assert.equal('"r+"\n', r.stdout:match("^[^\n]*read%-write[^\n]*\n(.*)$"))
    end)

    it("installs the helpers and h5 as globals", function()
      open()
      for _, k in ipairs(GLOBALS) do assert.is_not_nil(rawget(_G, k), k) end
    end)

    it("returns 1 and says why when the file cannot be opened", function()
      local bad = helper.tmpfile("bad.h5")
      helper.write_file(bad, "not HDF5")
      local out, err, code = capture(function() return repl.open_file(bad, false) end)
      assert.equal(1, code)
      assert.equal("", out)
      assert.equal("h5lua: h5: cannot open '" .. bad .. "' for reading: not an HDF5 file "
        .. "(file signature not found)\n", err)
    end)
  end)

  describe(".start()", function()
    it("keeps globals the user already defined", function()
      local mine = function() end
      rawset(_G, "ls", mine)
      repl.start()
      assert.equal(mine, rawget(_G, "ls"))
      assert.equal(repl.helpers.tree, rawget(_G, "tree"))
    end)
  end)

  describe(".print_results()", function()
    it("prints a group as a header and a listing", function()
      open()
      local out = capture(function() repl.print_results(rawget(_G, "f").structures) end)
      assert.equal('<group "/structures" (4 members)>\n'
        .. "  ALANIN/    group (1 member)\n"
        .. "  ALANIN01/  group (1 member)\n"
        .. "  ALBEN/     group (1 member)\n"
        .. "  BENZEN/    group (1 member)\n", out)
    end)

    it("prints a dataset with a preview of its values", function()
      open()
      local out = capture(function() repl.print_results(rawget(_G, "f").x) end)
      assert.equal('<dataset "/x": shape {2, 2}, float64>\n[[1.5, 2.5],\n [3.5, 4.5]]\n', out)
    end)

    it("prints several results on one line, strings quoted", function()
      local out = capture(function() repl.print_results(1, "a", nil, { 2 }) end)
      assert.equal('1\t"a"\tnil\t{2}\n', out)
    end)

    it("puts multi-line results on lines of their own", function()
      local out = capture(function() repl.print_results({ string.rep("a", 60),
        string.rep("b", 60) }, 2) end)
      assert.equal('{\n  "' .. string.rep("a", 60) .. '",\n  "' .. string.rep("b", 60)
        .. '"\n}\n2\n', out)
    end)
  end)

  describe("helpers", function()
    it("ls lists the current group, or a path", function()
      open()
      local out = capture(function() rawget(_G, "ls")() end)
      assert.equal("g1.1/        group (0 members)\nstructures/  group (4 members)\n"
        .. "x            dataset {2, 2} float64\n", out)
      out = capture(function() rawget(_G, "ls")("structures/ALBEN") end)
      assert.equal("raw_json  dataset scalar string(utf-8, variable)\n", out)
    end)

    it("cd and pwd move around, relative paths included", function()
      open()
      local cd, pwd = rawget(_G, "cd"), rawget(_G, "pwd")
      assert.equal("/", pwd())
      cd("structures")
      assert.equal("/structures", pwd())
      cd("ALBEN/..//BENZEN")
      assert.equal("/structures/BENZEN", pwd())
      local out = capture(function() rawget(_G, "ls")() end)
      assert.equal("raw_json  dataset scalar string(utf-8, variable)\n", out)
      cd()
      assert.equal("/", pwd())
    end)

    it("cd refuses what is not a group", function()
      open()
      local cd = rawget(_G, "cd")
      assert.has_error(function() cd("nope") end, "/nope: no such object")
      assert.has_error(function() cd("x") end, "/x: not a group (a dataset)")
    end)

    it("tree and show print what explore draws", function()
      open()
      local out = capture(function() rawget(_G, "tree")("structures", 1) end)
      assert.equal("/structures  (4 members)\n├── ALANIN/  {1 member}\n├── ALANIN01/  {1 member}\n"
        .. "├── ALBEN/  {1 member}\n└── BENZEN/  {1 member}\n", out)
      out = capture(function() rawget(_G, "show")() end)
      assert.truthy(out:find("\n    temperature = 293.0\n    title = \"test\"\n$"), out)
    end)

    it("find returns the matching paths, printed one per line", function()
      open()
      local found = rawget(_G, "find")("AL")
      assert.same({ "/structures/ALANIN", "/structures/ALANIN/raw_json", "/structures/ALANIN01",
        "/structures/ALANIN01/raw_json", "/structures/ALBEN", "/structures/ALBEN/raw_json" },
        { table.unpack(found) })
      local out = capture(function() repl.print_results(rawget(_G, "find")("BENZEN$")) end)
      assert.equal("/structures/BENZEN\n", out)
      out = capture(function() repl.print_results(rawget(_G, "find")("nothing")) end)
      assert.equal("(no match)\n", out)
    end)

    it("work on a file the user binds to f", function()
      repl.start()
      rawset(_G, "f", nil)
      assert.has_error(function() rawget(_G, "pwd")() end,
        "no file open: start h5lua FILE.h5, or bind one with f = h5.open(path)")
      rawset(_G, "f", h5.open(path))
      assert.equal("/", rawget(_G, "pwd")())
    end)

    it("help lists the helpers", function()
      local out = capture(function() repl.helpers.help() end)
      for _, name in ipairs { "ls(", "cd(", "pwd()", "tree(", "show(", "find(" } do
        assert.truthy(out:find(name, 1, true), name)
      end
    end)
  end)

  describe(".normalize()", function()
    it("resolves '.', '..' and repeated slashes against the current group", function()
      assert.equal("/a/c", repl.normalize("b/../c", "/a"))
      assert.equal("/x", repl.normalize("/x/./", "/a"))
      assert.equal("/", repl.normalize("../..", "/a"))
    end)
  end)

  describe(".complete()", function()
    local function complete(line, text)
      text = text or line:match("[^ \t\n\"\\'`@$><=;|&{(,+%-*%%^~#]*$")
      return repl.complete(text, line, #line - #text)
    end

    it("completes globals and keywords", function()
      open()
      assert.same({ "print" }, complete("pri"))
      assert.same({ "repeat", "require", "return" }, complete("re"))
    end)

    it("completes table fields, and methods of strings and userdata", function()
      assert.same({ "string.format" }, complete("string.fo"))
      assert.same({ "x = string.format" }, { "x = " .. complete("x = string.fo")[1] })
      assert.same({ "io.stdout:write" }, complete("io.stdout:wr"))
      rawset(_G, "s", "text")
      assert.same({ "s:upper" }, complete("s:up"))
      rawset(_G, "s", nil)
    end)

    it("completes HDF5 members after a dot", function()
      open()
      assert.same({ "f.structures" }, complete("f.stru"))
      assert.same({ "f.structures.ALANIN", "f.structures.ALANIN01", "f.structures.ALBEN" },
        complete("f.structures.AL"))
    end)

    it("writes members that are not identifiers with brackets", function()
      open()
      assert.same({ 'f["g1.1"]' }, complete("f.g"))
      rawget(_G, "f"):close()
      local path2 = helper.tmpfile("names.h5")
      local f = h5.open(path2, "w")
      f:create_group("g1.1")
      f:create_group("g2")
      rawset(_G, "f", f)
      -- all in brackets, so that what they share (f["g) keeps what was typed
      assert.same({ 'f["g1.1"]', 'f["g2"]' }, complete("f.g"))
    end)

    it("completes properties and methods of h5 objects", function()
      open()
      assert.same({ "f.x.scaleoffset", "f.x.shape", "f.x.shuffle", "f.x.size", "f.x.storage_size" },
        complete("f.x.s"))
      assert.same({ "f:keys" }, complete("f:ke"))
      assert.same({ "f.attrs.temperature", "f.attrs.title" }, complete("f.attrs.t"))
    end)

    it("completes paths inside strings, groups ending in /", function()
      open()
      assert.same({ "structures/ALANIN/", "structures/ALANIN01/", "structures/ALBEN/" },
        complete('f["structures/AL', "structures/AL"))
      assert.same({ "/structures/BENZEN/" }, complete('ls("/structures/B', "/structures/B"))
      assert.same({ "structures/BENZEN/raw_json" },
        complete('f:get("structures/BENZEN/r', "structures/BENZEN/r"))
    end)

    it("completes after an index written with brackets", function()
      open()
      assert.same({ "].ALANIN", "].ALANIN01", "].ALBEN" }, complete('f["structures"].AL', "].AL"))
    end)

    it("offers nothing for what it cannot resolve, and calls nothing", function()
      open()
      local called = false
      rawset(_G, "sneaky", function() called = true return {} end)
      assert.same({}, complete("nope.x"))
      assert.same({}, complete("sneaky().x", ").x"))
      assert.same({}, complete('print("abc', "abc"))
      rawset(_G, "sneaky", nil)
      assert.is_false(called)
    end)

    describe("caches member lists", function()
      local saved_clock
      before_each(function() saved_clock = repl.completion.clock end)
      after_each(function()
        repl.completion.clock = saved_clock
        repl.after_input()
      end)

      -- Count the calls of File:keys while fn runs.
      local function counting_keys(fn)
        local methods = getmetatable(rawget(_G, "f")).__methods
        local keys, calls = methods.keys, 0
        methods.keys = function(...)
          calls = calls + 1
          return keys(...)
        end
        local ok, err = pcall(fn, function() return calls end)
        methods.keys = keys
        if not ok then error(err, 0) end
      end

      it("and lists a group once within the time they are kept", function()
        open()
        local now = 1000
        repl.completion.clock = function() return now end
        counting_keys(function(calls)
          assert.same({ "f.structures" }, complete("f.stru"))
          assert.same({ "f.structures" }, complete("f.str"))
          now = now + repl.completion.cache_seconds
          assert.same({ 'f["g1.1"]' }, complete("f.g"))
          assert.equal(1, calls())
        end)
      end)

      it("and lists it again once they expire", function()
        open()
        local now = 1000
        repl.completion.clock = function() return now end
        counting_keys(function(calls)
          complete("f.stru")
          now = now + repl.completion.cache_seconds + 1
          complete("f.stru")
          assert.equal(2, calls())
          complete("f.stru")
          assert.equal(2, calls())
        end)
      end)

      it("and forgets them after every input, so new members show at once", function()
        local path2 = helper.tmpfile("writable.h5")
        make_file(path2)
        capture(function() return repl.open_file(path2, true) end)
        local f = rawget(_G, "f")
        repl.completion.clock = function() return 1000 end -- never expires by itself
        assert.same({ 'f["g1.1"]' }, complete("f.g"))
        f:create_group("golf")
        -- (what the host calls after the statement)
        repl.after_input()
        assert.same({ 'f["g1.1"]', 'f["golf"]' }, complete("f.g"))
        f:delete("golf")
        repl.after_input()
        assert.same({ 'f["g1.1"]' }, complete("f.g"))
      end)
    end)

    describe("on a group of 10^5 members", function()
      local wide
      setup(function()
        wide = helper.tmpfile("wide.h5")
        local f = h5.open(wide, "w", { libver = "latest" })
        f:create_group("target")
        local g = f:create_group("structures")
        for i = 1, WIDE do g:link("/target", string.format("R%06d", i)) end
        f:close()
      end)

      it("stays bounded, keeping the prefix all matches share", function()
        rawset(_G, "f", h5.open(wide))
        local all, total, listed = complete("f.structures.R")
        assert.equal(repl.completion.limit + 1, #all)
        -- how many match in all, and that the last entry is no candidate
        assert.equal(WIDE, total)
        assert.equal(repl.completion.limit, listed)
        -- what all the names share (R000001 to R100000, or R010000 under valgrind)
        assert.equal(WIDE == 100000 and "f.structures.R" or "f.structures.R0", all[#all])
        assert.equal(100, #complete("f.structures.R0001"))
        assert.same({ "f.structures.R001234" }, complete("f.structures.R001234"))
      end)

      it("completes paths in strings the same way", function()
        rawset(_G, "f", h5.open(wide))
        local c = complete('f["structures/R00999', "structures/R00999")
        assert.same({ "structures/R009990/", "structures/R009991/", "structures/R009992/",
          "structures/R009993/", "structures/R009994/", "structures/R009995/", "structures/R009996/",
          "structures/R009997/", "structures/R009998/", "structures/R009999/" }, c)
      end)
    end)
  end)
end)
