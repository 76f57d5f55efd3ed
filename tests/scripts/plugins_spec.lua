-- Specs of scripts/h5lua/plugins.lua: finding, loading and registering
-- user schemes and rules.

local plugins = require "h5lua.plugins"
local helper = require "helper"

local here = debug.getinfo(1, "S").source:match("^@(.*)[/\\]") or "."
local FIXTURES = here .. "/../fixtures/plugins/"

-- Copy a fixture into dir (created as needed); returns the new path.
local function install(fixture, dir, as)
  os.execute("mkdir -p " .. helper.quote(dir))
  local path = dir .. "/" .. (as or fixture)
  helper.write_file(path, helper.read_file(FIXTURES .. fixture))
  return path
end

local function scheme_registry(user_dirs)
  return plugins.registry({
    kind = "schemes", singular = "scheme", user_dirs = user_dirs,
    check = function(t)
      if type(t.key) ~= "function" then return nil, "'key' must be a function" end
      return true
    end,
  })
end

describe("h5lua.plugins", function()

  after_each(helper.cleanup)



  describe("dirs()", function()

    it("appends the kind to every user directory, in order", function()
      assert.same({ "/a/schemes", "/b/schemes" }, plugins.dirs("schemes", { "/a", "/b" }))
    end)

    it("uses the host's H5LUA_PATH directories and ~/.config/h5lua", function()
      local dir = helper.tmpdir()
      local r = helper.h5lua({ "-e", "for _, d in ipairs(require('h5lua.plugins')"
        .. ".dirs('rules')) do print(d) end" }, { env = { H5LUA_PATH = dir .. ":/x",
        HOME = "/home/u" } })
      assert.equal(0, r.code)
      assert.equal(dir .. "/rules\n/x/rules\n/home/u/.config/h5lua/rules\n", r.stdout)
    end)
  end)

  describe("lua_files()", function()

    it("lists the .lua files of a directory, sorted, skipping hidden ones", function()
      local dir = helper.tmpdir()
      for _, name in ipairs({ "b.lua", "a.lua", ".hidden.lua", "notes.txt" }) do
        helper.write_file(dir .. "/" .. name, "return {}")
      end
      assert.same({ dir .. "/a.lua", dir .. "/b.lua" }, plugins.lua_files(dir))
    end)

    it("returns an empty list for a missing directory", function()
      assert.same({}, plugins.lua_files(helper.tmpdir() .. "/missing"))
    end)
  end)

  describe("load()", function()

    it("names a table without a name after its file", function()
      local path = helper.tmpdir() .. "/my_rule.lua"
      helper.write_file(path, "return { severity = 'warning' }")
      local list = assert(plugins.load(path))
      assert.equal(1, #list)
      assert.equal("my_rule", list[1].name)
    end)

    it("returns every table of a file that returns a list", function()
      local list = assert(plugins.load(FIXTURES .. "two_rules.lua"))
      assert.same({ "always_warns", "always_raises" }, { list[1].name, list[2].name })
    end)

    it("returns nil and a message for a file that does not load", function()
      local path = install("broken.lua", helper.tmpdir())
      local list, err = plugins.load(path)
      assert.is_nil(list)
      assert.equal(string.format("cannot load '%s': %s:3: unexpected symbol near <eof>",
        path, path), err)
    end)

    it("returns nil and a message for a file that raises or returns no table", function()
      local dir = helper.tmpdir()
      helper.write_file(dir .. "/raises.lua", "error('nope', 0)")
      helper.write_file(dir .. "/number.lua", "return 42")
      assert.same({ nil, "cannot load '" .. dir .. "/raises.lua': nope" },
        { plugins.load(dir .. "/raises.lua") })
      assert.same({ nil, "cannot load '" .. dir
        .. "/number.lua': it returned number, not a table" },
        { plugins.load(dir .. "/number.lua") })
    end)
  end)

  describe("registry", function()

    it("finds the built-ins beside the module", function()
      local reg = scheme_registry({})
      assert.is_table((reg:get("by_space_group")))
      assert.equal("built-in", reg:source("by_space_group"))
    end)

    it("finds a user file in <dir>/schemes/", function()
      local dir = helper.tmpdir()
      local path = install("by_first_letter.lua", dir .. "/schemes")
      local reg = scheme_registry({ dir })
      local s = assert(reg:get("by_first_letter"))
      assert.equal("A", s.key({}, "ALANIN"))
      assert.equal(path, reg:source("by_first_letter"))
    end)

    it("lets the first user directory win over later ones and over built-ins", function()
      local first, second = helper.tmpdir(), helper.tmpdir()
      os.execute("mkdir -p " .. first .. "/schemes " .. second .. "/schemes")
      helper.write_file(first .. "/schemes/a.lua",
        "return { name = 'by_space_group', key = function() return 'first' end }")
      helper.write_file(second .. "/schemes/b.lua",
        "return { name = 'by_space_group', key = function() return 'second' end }")
      local reg = scheme_registry({ first, second })
      assert.equal("first", reg:get("by_space_group").key())
      assert.equal(first .. "/schemes/a.lua", reg:source("by_space_group"))
    end)

    it("lets registered tables and named files win over everything", function()
      local dir = helper.tmpdir()
      local reg = scheme_registry({})
      reg:register({ name = "by_space_group", key = function() return "mine" end })
      assert.equal("mine", reg:get("by_space_group").key())
      assert.equal("registered", reg:source("by_space_group"))
      local path = install("by_first_letter.lua", dir, "letters.lua")
      local list = assert(reg:load_file(path))
      assert.equal("by_first_letter", list[1].name)
      assert.equal(path, reg:source("by_first_letter"))
    end)

    it("lists every table once, sorted by name", function()
      local dir = helper.tmpdir()
      install("by_first_letter.lua", dir .. "/schemes")
      local names = {}
      for _, s in ipairs(scheme_registry({ dir }):list()) do names[#names + 1] = s.name end
      assert.same({ "by_composition", "by_crystal_system", "by_element", "by_first_letter",
        "by_size", "by_space_group" }, names)
    end)

    it("reports files that fail to load without losing the others", function()
      local dir = helper.tmpdir()
      local bad = install("broken.lua", dir .. "/schemes")
      install("by_first_letter.lua", dir .. "/schemes")
      local reg = scheme_registry({ dir })
      assert.is_table((reg:get("by_first_letter")))
      local problems = reg:problems()
      assert.equal(1, #problems)
      assert.equal(bad, problems[1].path)
      assert.equal(string.format("cannot load '%s': %s:3: unexpected symbol near <eof>",
        bad, bad), problems[1].message)
    end)

    it("rejects an invalid table with the registry's own reason", function()
      local reg = scheme_registry({})
      assert.has_error(function() reg:register({ name = "x" }) end,
        "scheme 'x' registered: 'key' must be a function")
      assert.has_error(function() reg:register({ key = print }) end,
        "scheme registered: 'name' must be a non-empty string")
      local path = helper.tmpdir() .. "/bad.lua"
      helper.write_file(path, "return { name = 'bad' }")
      assert.same({ nil, "scheme 'bad' in '" .. path .. "': 'key' must be a function" },
        { reg:load_file(path) })
    end)

    it("returns nil and a message for an unknown name", function()
      assert.same({ nil, "unknown scheme 'nope' (run 'h5lua schemes' for the list)" },
        { scheme_registry({}):get("nope") })
    end)

    it("forgets registrations on reset()", function()
      local reg = scheme_registry({})
      reg:register({ name = "mine", key = print })
      reg:reset()
      assert.is_nil((reg:get("mine")))
    end)
  end)
end)
