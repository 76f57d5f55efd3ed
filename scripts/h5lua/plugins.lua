--- Finding and registering user extensions: organization schemes and
-- validation rules, one Lua file each.
--
-- A registry holds the tables of one kind ("schemes" or "rules"), gathered
-- from three places, later ones winning on a name clash:
--
-- 1. built-ins, one file each in scripts/h5lua/<kind>/;
-- 2. user files `<dir>/<kind>/*.lua` for every directory of `H5LUA_PATH`
--    and then `~/.config/h5lua` (the host's `user_dirs`; the first directory
--    that defines a name wins over later ones);
-- 3. tables given explicitly: `registry:register(t)` in a script, or
--    `registry:load_file(path)` for `--scheme FILE` / `--rules FILE`.
--
-- A file returns one table, or a list of tables; a table without `name`
-- takes the file's base name. A user file that fails to load does not stop
-- the others: `registry:problems()` lists it.
--
-- @module h5lua.plugins

local plugins = {}

local ok_lfs, lfs = pcall(require, "lfs")

-- Directory of this file: the built-ins sit beside it.
local HERE = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")) or "."

--- The host's user directories: H5LUA_PATH entries, then ~/.config/h5lua.
-- Outside the h5lua host, the same list is computed from the environment.
-- @treturn table list of directory paths
function plugins.user_dirs()
  local ok, host = pcall(require, "h5lua.host")
  if ok and type(host) == "table" and host.user_dirs then return host.user_dirs end
  local dirs = {}
  for dir in (os.getenv("H5LUA_PATH") or ""):gmatch("[^:]+") do dirs[#dirs + 1] = dir end
  local home = os.getenv("HOME")
  if home and home ~= "" then dirs[#dirs + 1] = home .. "/.config/h5lua" end
  return dirs
end

--- The directories searched for user files of a kind, in precedence order.
-- @tparam string kind "schemes" or "rules"
-- @tparam[opt] table user_dirs defaults to `plugins.user_dirs()`
-- @treturn table list of paths (`<dir>/<kind>`), existing or not
function plugins.dirs(kind, user_dirs)
  local out = {}
  for _, dir in ipairs(user_dirs or plugins.user_dirs()) do out[#out + 1] = dir .. "/" .. kind end
  return out
end

--- The `.lua` files directly inside a directory, sorted; {} when it is missing.
-- @tparam string dir
-- @treturn table list of full paths
function plugins.lua_files(dir)
  local names = {}
  if ok_lfs then
    if lfs.attributes(dir, "mode") ~= "directory" then return names end
    for name in lfs.dir(dir) do
      if name:match("^[^.].*%.lua$") then names[#names + 1] = name end
    end
  else
    local p = io.popen("ls -1 '" .. dir:gsub("'", "'\\''") .. "' 2>/dev/null")
    for name in p:lines() do
      if name:match("^[^.].*%.lua$") then names[#names + 1] = name end
    end
    p:close()
  end
  table.sort(names)
  for i, name in ipairs(names) do names[i] = dir .. "/" .. name end
  return names
end

--- Run a Lua file and return the tables it defines.
-- @tparam string path
-- @treturn[1] table list of tables (a file may return one table or a list)
-- @treturn[2] nil
-- @treturn[2] string "cannot load 'path': reason"
function plugins.load(path)
  local chunk, err = loadfile(path, "t")
  if not chunk then return nil, string.format("cannot load '%s': %s", path, err) end
  local ok, value = pcall(chunk)
  if not ok then return nil, string.format("cannot load '%s': %s", path, tostring(value)) end
  if type(value) ~= "table" then
    return nil, string.format("cannot load '%s': it returned %s, not a table", path, type(value))
  end
  local list = value
  if value.name ~= nil or value[1] == nil then list = { value } end
  local base = path:match("([^/]+)%.lua$") or path
  for _, t in ipairs(list) do
    if type(t) ~= "table" then
      return nil, string.format("cannot load '%s': its list holds a %s, not a table",
        path, type(t))
    end
    if t.name == nil and #list == 1 then t.name = base end
  end
  return list
end

local Registry = {}
Registry.__index = Registry

--- A registry of one kind of extension.
-- @tparam table spec `kind` ("schemes" | "rules"), `singular` ("scheme"),
--   `check = function(t) -> true | nil, why`, `list_command` (for messages),
--   optional `user_dirs` (instead of the host's) and `builtin_dir`
-- @treturn table the registry
function plugins.registry(spec)
  return setmetatable({
    kind = spec.kind,
    singular = spec.singular or spec.kind:gsub("s$", ""),
    check = spec.check or function() return true end,
    list_command = spec.list_command or ("h5lua " .. spec.kind),
    user_dirs = spec.user_dirs,
    builtin_dir = spec.builtin_dir or (HERE .. "/" .. spec.kind),
    explicit = {},      -- name -> table, registered or loaded from a named file
    explicit_src = {},  -- name -> "registered" | path
    scanned = nil,      -- name -> table from built-ins and user dirs (lazy)
    scanned_src = nil,
    failures = {},
  }, Registry)
end

local function checked(self, t, where)
  if type(t) ~= "table" then
    return nil, string.format("%s %s: a %s is not a %s table", self.singular, where, type(t),
      self.singular)
  end
  if type(t.name) ~= "string" or t.name == "" then
    return nil, string.format("%s %s: 'name' must be a non-empty string", self.singular, where)
  end
  local ok, why = self.check(t)
  if not ok then
    return nil, string.format("%s '%s' %s: %s", self.singular, t.name, where, why)
  end
  return t
end

-- Built-ins first, then user directories from the last to the first, so the
-- first directory of H5LUA_PATH has the last word.
function Registry:scan()
  self.scanned, self.scanned_src, self.failures = {}, {}, {}
  local sources = {}
  for _, path in ipairs(plugins.lua_files(self.builtin_dir)) do
    sources[#sources + 1] = { path = path, builtin = true }
  end
  local dirs = plugins.dirs(self.kind, self.user_dirs)
  for i = #dirs, 1, -1 do
    for _, path in ipairs(plugins.lua_files(dirs[i])) do sources[#sources + 1] = { path = path } end
  end
  for _, src in ipairs(sources) do
    local list, err = plugins.load(src.path)
    if not list then
      self.failures[#self.failures + 1] = { path = src.path, message = err }
    else
      for _, t in ipairs(list) do
        local good, why = checked(self, t, "in '" .. src.path .. "'")
        if good then
          self.scanned[t.name] = t
          self.scanned_src[t.name] = src.builtin and "built-in" or src.path
        else
          self.failures[#self.failures + 1] = { path = src.path, message = why }
        end
      end
    end
  end
end

local function ensure(self)
  if not self.scanned then self:scan() end
end

--- Add a table (it wins over built-ins and files of the same name).
-- @tparam table t
-- @treturn table t
-- @raise "<singular> '<name>' registered: <why>" when it is not a valid one
function Registry:register(t)
  local good, err = checked(self, t, "registered")
  if not good then error(err, 2) end
  self.explicit[t.name] = t
  self.explicit_src[t.name] = "registered"
  return t
end

--- Load a named file (`--scheme FILE`, `--rules FILE`) and register what it
-- defines.
-- @tparam string path
-- @treturn[1] table list of the tables it defined
-- @treturn[2] nil
-- @treturn[2] string why
function Registry:load_file(path)
  local list, err = plugins.load(path)
  if not list then return nil, err end
  for _, t in ipairs(list) do
    local good, why = checked(self, t, "in '" .. path .. "'")
    if not good then return nil, why end
  end
  for _, t in ipairs(list) do
    self.explicit[t.name] = t
    self.explicit_src[t.name] = path
  end
  return list
end

--- The table of a name.
-- @tparam string name
-- @treturn[1] table
-- @treturn[2] nil
-- @treturn[2] string "unknown scheme 'x' (run 'h5lua schemes' for the list)"
function Registry:get(name)
  if self.explicit[name] then return self.explicit[name] end
  ensure(self)
  if self.scanned[name] then return self.scanned[name] end
  return nil, string.format("unknown %s '%s' (run '%s' for the list)", self.singular,
    tostring(name), self.list_command)
end

--- Where a name comes from: "built-in", "registered" or a file path; nil if unknown.
-- @tparam string name
-- @treturn string|nil
function Registry:source(name)
  if self.explicit_src[name] then return self.explicit_src[name] end
  ensure(self)
  return self.scanned_src[name]
end

--- Every known table, sorted by name.
-- @treturn table list
function Registry:list()
  ensure(self)
  local by_name = {}
  for name, t in pairs(self.scanned) do by_name[name] = t end
  for name, t in pairs(self.explicit) do by_name[name] = t end
  local names = {}
  for name in pairs(by_name) do names[#names + 1] = name end
  table.sort(names)
  for i, name in ipairs(names) do names[i] = by_name[name] end
  return names
end

--- User files that failed to load or defined an invalid table.
-- @treturn table list of {path=, message=}
function Registry:problems()
  ensure(self)
  return self.failures
end

--- Forget explicit registrations and scan the directories again.
function Registry:reset()
  self.explicit, self.explicit_src, self.scanned = {}, {}, nil
end

return plugins
