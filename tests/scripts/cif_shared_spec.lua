-- The CIF reader against the real-world files in ../shared/data/cif/ and
-- against gemmi's reading of them (INDEX.tsv). Skips cleanly when the
-- folder is absent.

local cif = require "h5lua.cif"

local ROOT = "../shared/data/cif/"

-- Blocks that gemmi reads as a structure and we deliberately do not turn
-- into a record, each with why. The spec checks that each is still
-- skipped with that reason, so the list cannot go stale.
local EXCEPTIONS = {
  -- Coordinates only Cartesian (macromolecular CIF / mmCIF): the record
  -- holds fractional coordinates, so these are not structures for us.
  ["iucr-ciftest/ciftbx/1crn.cif"] = "no atom sites",
  ["iucr-ciftest/ciftbx/1cro.cif"] = "no atom sites",
  ["iucr-ciftest/ciftbx/ADH041.cif"] = "no atom sites",
  ["iucr-ciftest/ciftbx/BDL001.cif"] = "no atom sites",
  ["iucr-ciftest/ciftbx/DDF040.cif"] = "no atom sites",
  ["cod-tools/4PR4-spoiled.cif"] = "no atom sites",
  ["cod-tools/cif_cod_check/missing_atom_Cartn_xz.cif"] = "no atom sites",
  -- Edited on purpose by cod-tools to lack data a record needs; gemmi
  -- still counts the atom rows.
  ["cod-tools/2100852-no-fract-coordinates.cif"] = "no atom sites",
  ["cod-tools/cif_cod_check/missing_atom_fract_x.cif"] = "no atom sites",
  ["cod-tools/cif_cod_check/missing_atom_fract_z.cif"] =
    "atom sites lack _atom_site_fract_y or _atom_site_fract_z",
  ["cod-tools/cif2json/4303187-multiple-underscores.cif"] = -- __atom_site..
    "atom sites lack _atom_site_fract_y or _atom_site_fract_z",
  ["cod-tools/cif_distances/no-cell-lengths.cif"] = "no unit cell",
  ["cod-tools/missing-cell-constants.cif"] =
    "no cell length _cell_length_b",
  ["cod-tools/2201319-numeric_field_w_non-numeric-value.cif"] =
    "cell length _cell_length_a is not a number: '1/4'",
}

-- Categories of INDEX.tsv's crystal-system column that are not structures.
local NOT_A_STRUCTURE = { nostructure = true, unknown = true, malformed = true }

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

-- Every .cif under dir, as paths relative to dir, sorted.
local function list_cifs(dir)
  local found = {}
  local ok, lfs = pcall(require, "lfs")
  if ok then
    local function walk(rel)
      for name in lfs.dir(dir .. rel) do
        if name ~= "." and name ~= ".." then
          local path = rel .. name
          local mode = lfs.attributes(dir .. path, "mode")
          if mode == "directory" then
            walk(path .. "/")
          elseif mode == "file" and name:lower():match("%.cif$") then
            found[#found + 1] = path
          end
        end
      end
    end
    walk("")
  else
    local p = assert(io.popen("cd '" .. dir
      .. "' && find . -type f -iname '*.cif'"))
    for line in p:lines() do found[#found + 1] = line:gsub("^%./", "") end
    p:close()
  end
  table.sort(found)
  return found
end

-- INDEX.tsv as { [file] = { column = value } }.
local function read_index(path)
  local index, header = {}, nil
  for line in io.lines(path) do
    local cols = {}
    for c in (line .. "\t"):gmatch("([^\t]*)\t") do cols[#cols + 1] = c end
    if not header then
      header = cols
    else
      local row = {}
      for i, name in ipairs(header) do row[name] = cols[i] end
      index[row.file] = row
    end
  end
  return index
end

local function squash(s)
  return s and (s:lower():gsub("%s+", "")) or ""
end

if not exists(ROOT .. "INDEX.tsv") then
  describe("h5lua.cif on ../shared/data/cif", function()
    pending("../shared/data/cif/INDEX.tsv is absent: nothing to check")
  end)
  return
end

local files = list_cifs(ROOT)
local index = read_index(ROOT .. "INDEX.tsv")

-- One reading per file, shared by both describes.
local readings = {}
local function read(file)
  local r = readings[file]
  if not r then
    local ok, structures, skipped = pcall(cif.read_structures, ROOT .. file)
    if ok then
      r = { structures = structures, skipped = skipped }
    else
      r = { error = structures }
    end
    readings[file] = r
  end
  return r
end

local tally = { files = 0, with = 0, structures = 0, rejected = 0,
                compared = 0, excepted = 0 }

describe("h5lua.cif on ../shared/data/cif", function()

  teardown(function()
    io.stderr:write(string.format(
      "\ncif_shared: %d files: %d with structures (%d structures), "
      .. "%d rejected with a syntax error; %d compared with gemmi, "
      .. "%d accepted exceptions\n", tally.files, tally.with,
      tally.structures, tally.rejected, tally.compared, tally.excepted))
  end)

  describe("read_structures()", function()
    for _, file in ipairs(files) do
      it("reads or cleanly rejects " .. file, function()
        tally.files = tally.files + 1
        local r = read(file)
        local path = ROOT .. file
        if r.error then
          tally.rejected = tally.rejected + 1
          local msg = tostring(r.error)
          assert.is_nil(msg:find("\n"), "not one line: " .. msg)
          assert.equal(path .. ":", msg:sub(1, #path + 1),
            "not a syntax error of this file: " .. msg)
          assert.truthy(msg:sub(#path + 2):match("^%d+: %S"),
            "no line number: " .. msg)
          local row = index[file]
          assert.is_false(row ~= nil and row["gemmi_0.5.7_parse"] == "ok",
            "gemmi reads this file, we do not: " .. msg)
        else
          if #r.structures > 0 then tally.with = tally.with + 1 end
          tally.structures = tally.structures + #r.structures
          for _, s in ipairs(r.structures) do
            assert.is_string(s.identifier)
            assert.equal(3, #s.cell_lengths)
            assert.equal(3, #s.cell_angles)
            assert.is_true(#s.atoms > 0)
          end
          for _, skip in ipairs(r.skipped) do
            assert.equal(path, skip.reason:sub(1, #path))
            assert.truthy(skip.reason:sub(#path + 1):match("^:%d+: data_"),
              "does not name the file, line and block: " .. skip.reason)
            assert.is_nil(skip.reason:find("\n"))
          end
        end
      end)
    end
  end)

  describe("agreement with gemmi (INDEX.tsv)", function()
    for _, file in ipairs(files) do
      local row = index[file]
      if row and row["gemmi_0.5.7_parse"] == "ok"
          and not NOT_A_STRUCTURE[row.crystal_system_or_category]
          and (tonumber(row.n_atom_sites) or 0) > 0 then
        local block = row.structure_block
        if EXCEPTIONS[file] then
          it("skips " .. file .. " because of " .. EXCEPTIONS[file],
            function()
              tally.excepted = tally.excepted + 1
              local r = read(file)
              assert.is_nil(r.error)
              local reason
              for _, skip in ipairs(r.skipped) do
                if skip.name == block then reason = skip.reason end
              end
              -- "<file>:<line>: data_<block>: <why>"
              local want = ": data_" .. block .. ": " .. EXCEPTIONS[file]
              assert.is_string(reason)
              local line, rest = reason:sub(#ROOT + #file + 1):match("^:(%d+)(.*)$")
              assert.equal(ROOT .. file, reason:sub(1, #ROOT + #file))
              assert.is_string(line, "no line in: " .. reason)
              assert.equal(want, rest:sub(1, #want))
            end)
        else
          it("finds the atom sites and space group gemmi finds in " .. file,
            function()
              tally.compared = tally.compared + 1
              local r = read(file)
              assert.is_nil(r.error)
              local s
              for _, st in ipairs(r.structures) do
                if st.identifier == block then s = st end
              end
              assert.is_table(s, "no structure for data_" .. block)
              assert.equal(tonumber(row.n_atom_sites), #s.atoms)
              assert.equal(squash(row["space_group_H-M"]),
                squash(s.space_group))
            end)
        end
      end
    end
  end)
end)
