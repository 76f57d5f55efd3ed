-- STYLE: Lua modules return tables and define no globals.  Every module
-- under scripts/ is loaded afresh and must leave _G as it found it.
local helper = require "helper"

local function modules()
  local list = {}
  local p = io.popen("cd " .. helper.quote(helper.root .. "/scripts")
    .. " && find . -name '*.lua' ! -path './examples/*' | sort")
  for path in p:lines() do
    local name = path:gsub("^%./", ""):gsub("%.lua$", ""):gsub("/", ".")
    list[#list + 1] = name
  end
  p:close()
  return list
end

describe("the modules under scripts/", function()
  for _, name in ipairs(modules()) do
    it(name .. " returns a table and defines no globals", function()
      local before = {}
      for k in pairs(_G) do before[k] = true end
      local saved = package.loaded[name]
      package.loaded[name] = nil
      local ok, mod = pcall(require, name)
      package.loaded[name] = saved
      assert(ok, tostring(mod))
      assert.is_table(mod)
      for k in pairs(_G) do assert.is_true(before[k], "new global: " .. tostring(k)) end
    end)
  end
end)
