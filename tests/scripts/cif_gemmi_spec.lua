-- The CIF reader against an independent reading: gemmi (python3-gemmi, run
-- here with Debian's python3, in one process for every file) reads every
-- data block of every CIF in ../shared/data/cif; for each block both read
-- as a structure, the atom-site count, the H-M symbol and the International
-- Tables number must agree, and a block gemmi finds atom sites in that we
-- skip must lack, in gemmi's reading too, what our reason says it lacks.
-- Pending when the folder is absent or python3 has no gemmi.

local helper = require "tests.helper"
local cif = require "h5lua.cif"
local cjson = require "cjson"

local ROOT = helper.data and helper.data .. "/cif"

-- gemmi's reading: one JSON line per data block ({file, block, sites, hm,
-- it, cell = the six cell numbers (null when absent or not a number), xyz
-- = how many values each of _atom_site_fract_x, _y, _z has}), or one line
-- {file, error} for a file gemmi cannot parse.
local GEMMI_READER = [[
import json, math, os, sys
import gemmi

root = os.environ["CIF_ROOT"]

def number(block, tags):
    for tag in tags:
        v = block.find_value(tag)
        if v is None or v in ("?", "."):
            continue
        x = gemmi.cif.as_number(v)
        return None if math.isnan(x) else x
    return None

paths = []
for dirpath, dirnames, filenames in os.walk(root):
    dirnames[:] = [d for d in dirnames if not d.startswith(".")]
    for name in filenames:
        if name.lower().endswith(".cif"):
            paths.append(os.path.relpath(os.path.join(dirpath, name), root))
for rel in sorted(paths):
    try:
        doc = gemmi.cif.read_file(os.path.join(root, rel))
    except Exception as e:
        print(json.dumps({"file": rel, "error": (str(e).splitlines() or ["?"])[0]}))
        continue
    for block in doc:
        row = {"file": rel, "block": block.name}
        try:
            ss = gemmi.make_small_structure_from_block(block)
            row["sites"] = len(ss.sites)
            row["hm"] = ss.spacegroup_hm
        except Exception as e:
            row["exc"] = str(e)
        it = number(block, ["_space_group_IT_number", "_symmetry_Int_Tables_number"])
        row["it"] = int(it) if it is not None and it == int(it) else None
        row["cell"] = [number(block, ["_cell_length_" + x]) for x in "abc"] + \
                      [number(block, ["_cell_angle_" + x]) for x in ("alpha", "beta", "gamma")]
        row["xyz"] = [len(block.find_values("_atom_site_fract_" + x)) for x in "xyz"]
        print(json.dumps(row))
]]

local function squash(s)
  return s and (s:lower():gsub("%s+", "")) or ""
end

local function is_dir(path)
  local ok, lfs = pcall(require, "lfs")
  if ok then return lfs.attributes(path, "mode") == "directory" end
  return os.execute("test -d " .. helper.quote(path)) == true
end

if not (ROOT and is_dir(ROOT)) then
  describe("h5lua.cif against gemmi", function()
    pending("../shared/data/cif is absent: nothing to compare")
  end)
  return
end

-- gemmi's reading of every file: files in order, and per file either
-- { error = msg } or { blocks = { row, ... } } in block order.
local run = helper.python_run(GEMMI_READER, { env = { CIF_ROOT = ROOT } })
if run.code ~= 0 and run.stderr:find("No module named 'gemmi", 1, true) then
  describe("h5lua.cif against gemmi", function()
    pending(helper.python .. " cannot import gemmi (python3-gemmi): nothing to compare")
  end)
  return
end
local files, by_file = {}, {}
if run.code == 0 then
  for line in run.stdout:gmatch("[^\n]+") do
    local row = cjson.decode(line)
    local entry = by_file[row.file]
    if not entry then
      entry = { blocks = {} }
      by_file[row.file] = entry
      files[#files + 1] = row.file
    end
    if row.error then entry.error = row.error else entry.blocks[#entry.blocks + 1] = row end
  end
end

local function number_or_nil(x)
  if x == nil or x == cjson.null then return nil end
  return x
end

-- Whether gemmi's reading of a block backs our reason for skipping it.
local AXES = { a = 1, b = 2, c = 3, alpha = 4, beta = 5, gamma = 6 }
local function gemmi_agrees(reason, row)
  local cell = {}
  for i = 1, 6 do cell[i] = number_or_nil(row.cell[i]) end
  if reason:find(": no unit cell (", 1, true) then
    return cell[1] == nil and cell[2] == nil and cell[3] == nil
  end
  local which = reason:match(": no cell length _cell_length_(%a+)$")
    or reason:match(": cell length _cell_length_(%a+) is not a number")
    or reason:match(": no cell angle _cell_angle_(%a+)$")
    or reason:match(": cell angle _cell_angle_(%a+) is not a number")
  if which then return AXES[which] ~= nil and cell[AXES[which]] == nil end
  local x, y, z = row.xyz[1], row.xyz[2], row.xyz[3]
  if reason:find(": atom sites lack _atom_site_fract_y or _atom_site_fract_z", 1, true) then
    return x > 0 and (y ~= x or z ~= x)
  end
  if reason:find(": no atom sites (_atom_site_fract_x, _y, _z)", 1, true) then
    return x == 0
  end
  return false
end

describe("h5lua.cif against gemmi (every block of ../shared/data/cif)", function()

  it("gets a reading of every CIF from gemmi", function()
    assert.equal(0, run.code, "gemmi reader failed: " .. run.stderr)
    assert.is_true(#files > 0, "gemmi read no file under " .. ROOT)
  end)

  for _, file in ipairs(files) do
    local entry = by_file[file]
    it("reads " .. file .. " as gemmi does", function()
      local path = ROOT .. "/" .. file
      local ok, structures, skipped = pcall(cif.read_structures, path)
      if not ok then
        assert.is_nil(structures:find("\n"), "not one line: " .. structures)
        assert.is_string(entry.error, "gemmi reads this file, we do not: " .. structures)
        return
      end
      if entry.error then return end -- gemmi is stricter; reading more is fine
      -- Pair blocks by name and occurrence (a name may repeat in a file).
      local ours, seen = {}, {}
      local function key(name)
        seen[name] = (seen[name] or 0) + 1
        return name .. "#" .. seen[name]
      end
      local ours_skipped = {}
      for _, s in ipairs(structures) do ours[key(s.identifier)] = s end
      seen = {}
      for _, skip in ipairs(skipped) do ours_skipped[key(skip.name)] = skip.reason end
      seen = {}
      local problems = {}
      for _, row in ipairs(entry.blocks) do
        local k = key(row.block)
        local s = ours[k]
        local where = "data_" .. row.block .. ": "
        if s then
          if row.sites and #s.atoms ~= row.sites then
            problems[#problems + 1] = where .. ("%d atom sites, gemmi %d"):format(#s.atoms,
              row.sites)
          end
          if row.hm and row.hm ~= "" and squash(row.hm) ~= squash(s.space_group) then
            problems[#problems + 1] = where .. ("space group '%s', gemmi '%s'"):format(
              tostring(s.space_group), row.hm)
          end
          local it = number_or_nil(row.it)
          if it and it ~= s.space_group_number then
            problems[#problems + 1] = where .. ("space group number %s, gemmi %d"):format(
              tostring(s.space_group_number), it)
          end
        elseif (row.sites or 0) > 0 then
          local reason = ours_skipped[k]
          if not reason then
            problems[#problems + 1] = where .. ("gemmi reads %d atom sites, we neither read "
              .. "nor skip the block"):format(row.sites)
          elseif not reason:sub(#path + 1):match("^:%d+: data_") then
            problems[#problems + 1] = where .. "reason does not name the file and line: "
              .. reason
          elseif not gemmi_agrees(reason, row) then
            problems[#problems + 1] = where .. ("gemmi reads %d atom sites, a cell of %s and "
              .. "%d/%d/%d fractional x/y/z, we skip it: %s"):format(row.sites,
              cjson.encode(row.cell), row.xyz[1], row.xyz[2], row.xyz[3], reason)
          end
        end
      end
      assert.equal("", table.concat(problems, "\n"))
    end)
  end
end)
