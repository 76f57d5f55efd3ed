-- Writes small HDF5 files that exercise many features, as fuzzing seeds:
--   build/h5lua tests/fuzz/seeds.lua DIR
-- Dataset features are guarded with pcall so seeds can be made with any
-- stage of the bindings.
local h5 = require "h5"
local dir = assert(arg[1], "usage: seeds.lua DIR")
os.execute("mkdir -p '" .. dir .. "'")

local function seed(name, libver, build)
  local f = h5.open(dir .. "/" .. name .. ".h5", "w", { libver = libver })
  pcall(build, f)
  f:close()
end

local function structures(f)
  local s = f:create_group("structures")
  for i = 1, 5 do
    local g = s:create_group(string.format("REF%03d", i))
    pcall(g.create_dataset, g, "raw_json",
      { data = string.format('{"identifier":"REF%03d","space_group":"P 21/c"}', i) })
    g.attrs.index = i
  end
  local m = f:create_group("metadata")
  m.attrs.creation_date = "2026-11-23T00:00:00"
  m.attrs.total_structures = 5
end

seed("groups_old", "earliest", function(f)
  f:create_group("a/b/c").attrs.x = { 1, 2, 3 }
  f:soft_link("/a/b", "soft")
  f:external_link("other.h5", "/x", "ext")
  f.attrs.name = "root"
end)
seed("groups_new", "latest", function(f)
  local g = f:create_group("wide")
  for i = 1, 40 do g:create_group("member" .. i) end
  for i = 1, 20 do g.attrs["attr" .. i] = i * 1.5 end
end)
seed("store_old", "earliest", structures)
seed("store_new", "v108", structures)
seed("datasets", "latest", function(f)
  local variants = {
    { "plain", { data = { 1.5, 2.5, 3.5, 4.5 } } },
    { "ints", { data = { { 1, 2 }, { 3, 4 } } } },
    { "strings", { data = { "a", "bb", "ccc" } } },
    { "gzip", { data = { 1, 2, 3, 4, 5, 6, 7, 8 }, chunks = { 4 }, compression = "gzip",
                shuffle = true } },
    { "lzf", { data = { 1, 2, 3, 4, 5, 6, 7, 8 }, chunks = { 4 }, compression = "lzf" } },
    { "fletcher", { data = { 1, 2, 3, 4 }, chunks = { 2 }, fletcher32 = true } },
    { "scalar", { data = 42 } },
    { "unlimited", { shape = { 4 }, maxshape = { h5.UNLIMITED }, dtype = "int32",
                     chunks = { 2 } } },
  }
  for _, v in ipairs(variants) do pcall(f.create_dataset, f, v[1], v[2]) end
end)
print("seeds written to " .. dir)
