--- The main job: from a folder of CIF files to an organized, validated
-- HDF5 store, in four steps. `make run` runs it:
--
--   build/h5lua scripts/examples/pipeline.lua [STORE] [INPUT...]
--
-- STORE defaults to build/pipeline.h5 (made anew on each run), INPUT to
-- the sample CIFs in scripts/examples/samples/. The store it leaves is an
-- ordinary HDF5 file: open it with `build/h5lua build/pipeline.h5` or h5py.
-- Exit code 0 when every input imported and the store is valid, else 1.
local h5 = require "h5"
local store = require "h5lua.store"
local import = require "h5lua.import"
local organize = require "h5lua.organize"
local validate = require "h5lua.validate"
local explore = require "h5lua.explore"

local here = arg[0]:match("^(.*)/[^/]*$") or "."
local root = here:match("^(.-)scripts/examples$") or (here .. "/../../")
local path = arg[1] or (root .. "build/pipeline.h5")
local inputs = { table.unpack(arg, 2) }
if #inputs == 0 then inputs = { here .. "/samples" } end

local function heading(text) print("\n== " .. text) end

-- 1. Import: every CIF (and JSON) file under the inputs becomes
--    /structures/<refcode>/raw_json. Bad files are listed, not fatal.
heading("Import " .. table.concat(inputs, " "))
os.remove(path)
local imported = import.run(path, inputs)
io.write(import.summary_text(imported))

-- 2. Organize: index groups /by_space_group/<symbol> and
--    /by_composition/<formula>, each bucket holding its refcodes.
local s = store.open(path)
s:set_metadata({ processing_stage = "organized", data_source = table.concat(inputs, " ") })
for _, scheme in ipairs({ "by_space_group", "by_composition" }) do
  heading("Organize " .. scheme)
  local result = organize.run(s.file, scheme)
  print(string.format("%d structures in %d buckets", result.placed, result.buckets))
  -- The five largest buckets, with their members.
  local buckets = {}
  for _, name in ipairs(organize.buckets(s.file, scheme)) do
    buckets[#buckets + 1] = { name = name, refcodes = organize.members(s.file, scheme, name) }
  end
  table.sort(buckets, function(a, b)
    if #a.refcodes ~= #b.refcodes then return #a.refcodes > #b.refcodes end
    return a.name < b.name
  end)
  for i = 1, math.min(5, #buckets) do
    print(string.format("  %-14s %s", buckets[i].name, table.concat(buckets[i].refcodes, " ")))
  end
  if #buckets > 5 then print(string.format("  ... and %d more buckets", #buckets - 5)) end
end
s:close()

-- 3. Validate: every rule (built-in, plus any in ~/.config/h5lua/rules/)
--    over every structure; the seed's report with each finding's path.
heading("Validate")
local report = validate.file(path)
io.write(validate.format(report))

-- 4. The file as it now stands: the top level (wide groups folded), then
--    one structure and one bucket in full.
heading("Tree of " .. path)
local f = h5.open(path, "r")
explore.tree(f, { depth = 2, fold = 10, emit = print })
for _, group in ipairs({ "/structures/ACSALA", "/by_space_group/" .. organize.escape("P 21/c") }) do
  local g = f:get(group)
  if g then
    explore.tree(g, { emit = print })
    g:close()
  end
end
f:close()

print(string.format("\nExplore it: %s %s   (ls(), tree(), show(), help())",
  root .. "build/h5lua", path))
os.exit(report.is_valid and imported.failed == 0 and 0 or 1, true)
