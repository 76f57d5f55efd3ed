-- Opens one (possibly damaged) HDF5 file and touches everything in it the
-- way `h5lua ls -r` and `h5lua validate` do, catching Lua errors: for the
-- fuzzer and for the damaged-file regression specs.  Prints nothing.
--   walk.lua FILE   walk FILE
--   walk.lua        only check that the commands' code paths are present
-- The commands' modules and functions are required, not probed: a harness
-- that silently skips them fuzzes less than it claims (explore.walk never
-- existed, and a pcall hid that for three rounds).
local path = ...
local h5 = require "h5"
local explore = require "h5lua.explore"
local validate = require "h5lua.validate"

for name, fn in pairs {
  ["explore.with_file"] = explore.with_file, ["explore.ls"] = explore.ls,
  ["validate.file"] = validate.file, ["validate.format"] = validate.format,
} do
  if type(fn) ~= "function" then error("walk.lua: " .. name .. " is missing", 0) end
end
if path == nil then return end

local function try(fn, ...) return pcall(fn, ...) end

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

-- `h5lua ls -r FILE`: the command's own run(), output discarded.
try(explore.with_file, path, nil, function(_, obj)
  explore.ls(obj, { recursive = true, emit = function() end })
end, false)
-- `h5lua validate FILE`: the report, formatted as the command prints it.
try(function() return validate.format(validate.file(path)) end)
