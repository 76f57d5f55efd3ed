-- Opens one (possibly damaged) HDF5 file and touches everything in it the
-- way `h5lua ls -r` and `h5lua validate` do, catching Lua errors: for the
-- fuzzer and for the damaged-file regression specs.  Prints nothing.
local path = ...
local h5 = require "h5"

local function try(fn, ...) return pcall(fn, ...) end

-- The commands' own code paths, when those modules are present.
local explore_ok, explore = pcall(require, "h5lua.explore")
local validate_ok, validate = pcall(require, "h5lua.validate")

local ok, f = pcall(h5.open, path, "r")
if not ok then return end

local function touch_attrs(obj)
  local ok_keys, keys = try(function() return obj.attrs:keys() end)
  if not ok_keys then return end
  for _, k in ipairs(keys) do try(function() return obj.attrs[k] end) end
end

local function touch(obj)
  if not obj then return end
  try(tostring, obj)
  touch_attrs(obj)
  if obj.kind == "dataset" then
    for _, prop in ipairs { "shape", "dtype", "chunks", "compression", "fillvalue" } do
      try(function() return obj[prop] end)
    end
    try(function() return obj:read() end)
  end
end

touch(f)
try(function() f:visit(function(_, obj) touch(obj) end) end)
try(function()
  for _, name in ipairs(f:keys()) do try(f.link_info, f, name) end
end)
f:close()

if explore_ok and type(explore) == "table" and explore.walk then
  try(explore.walk, path)
end
if validate_ok and type(validate) == "table" and validate.file then
  try(validate.file, path)
end
