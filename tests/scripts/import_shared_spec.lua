-- Every CIF in ../shared/data/cif/ imported into one store (h5lua.import):
-- each file imports or fails with a clear per-file message, never a crash;
-- for the files that gemmi reads as a structure (INDEX.tsv), the record in
-- the store has gemmi's space group and atom count, or the import said why
-- that data block is not a structure. Skips cleanly when the folder is
-- absent. (tests/scripts/cif_shared_spec.lua checks the parser alone; this
-- checks what lands in the store.)

local helper = require "helper"
local cjson = require "cjson"

local ROOT = helper.data and (helper.data .. "/cif/")
local function exists(path)
  local f = path and io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

if not exists(ROOT and ROOT .. "INDEX.tsv") then
  describe("h5lua.import on ../shared/data/cif", function()
    pending("../shared/data/cif/INDEX.tsv is absent: nothing to import")
  end)
  return
end
if not package.searchpath("h5lua.store", package.path) then
  describe("h5lua.import on ../shared/data/cif", function()
    pending("h5lua.store has not landed yet")
  end)
  return
end

local import = require "h5lua.import"
local store = require "h5lua.store"

-- INDEX.tsv as a list of rows { column = value }.
local function read_index(path)
  local rows, header = {}, nil
  for line in io.lines(path) do
    local cols = {}
    for c in (line .. "\t"):gmatch("([^\t]*)\t") do cols[#cols + 1] = c end
    if not header then
      header = cols
    else
      local row = {}
      for i, name in ipairs(header) do row[name] = cols[i] end
      rows[#rows + 1] = row
    end
  end
  return rows
end

local function squash(s)
  return s and (s:lower():gsub("%s+", "")) or ""
end

local NOT_A_STRUCTURE = { nostructure = true, unknown = true, malformed = true }

local files = import.inputs({ ROOT })
local index = read_index(ROOT .. "INDEX.tsv")

-- One import for all the specs below, made on first use.
local state
local function imported()
  if not state then
    local path = helper.tmpdir() .. "/shared.h5"
    local ok, summary = pcall(import.run, path, { ROOT }, { on_duplicate = "rename", jobs = 2 })
    assert(ok, summary)
    local failures, ignored = {}, {}
    for _, f in ipairs(summary.failures) do
      failures[f.file] = failures[f.file] or {}
      table.insert(failures[f.file], f.error)
    end
    for _, g in ipairs(summary.ignored) do
      ignored[g.file] = ignored[g.file] or {}
      table.insert(ignored[g.file], g.reason)
    end
    -- The records of each file, by data block name.
    local records = {}
    local s = store.open(path, { mode = "r" })
    for file, refcodes in pairs(summary.refcodes) do
      records[file] = {}
      for _, refcode in ipairs(refcodes) do
        local record = cjson.decode((s:read(refcode)))
        records[file][record.identifier] = record
      end
    end
    s:close()
    state = { summary = summary, failures = failures, ignored = ignored, records = records }
  end
  return state
end

describe("h5lua.import on ../shared/data/cif", function()

  teardown(function()
    if state then
      local s = state.summary
      io.stderr:write(string.format("\nimport_shared: %d files: %d structures imported "
        .. "(%d renamed), %d unchanged duplicates, %d failed, %d blocks ignored, %.1f s\n",
        s.files, s.imported, s.renamed, s.unchanged, s.failed, #s.ignored, s.elapsed))
    end
    helper.cleanup()
  end)

  it("reads every file", function()
    assert.equal(#files, imported().summary.files)
  end)

  for _, input in ipairs(files) do
    local path = input.path
    it("imports or cleanly rejects " .. path:sub(#ROOT + 1), function()
      local st = imported()
      local failures = st.failures[path] or {}
      local refcodes = st.summary.refcodes[path] or {}
      assert.is_true(#refcodes + #failures > 0, "neither imported nor rejected")
      for _, msg in ipairs(failures) do
        assert.is_nil(msg:find("\n"), "not one line: " .. msg)
        assert.equal(path, msg:sub(1, #path), "does not name the file: " .. msg)
        assert.truthy(msg:sub(#path + 1):match("^:%d*:? ?%S"), "no reason: " .. msg)
      end
      for _, msg in ipairs(st.ignored[path] or {}) do
        assert.equal(path, msg:sub(1, #path))
        assert.truthy(msg:sub(#path + 1):match("^:%d+: data_"),
          "does not name the file, line and block: " .. msg)
      end
    end)
  end

  for _, row in ipairs(index) do
    if row["gemmi_0.5.7_parse"] == "ok" and not NOT_A_STRUCTURE[row.crystal_system_or_category]
        and (tonumber(row.n_atom_sites) or 0) > 0 then
      local path, block = ROOT .. row.file, row.structure_block
      it("stores data_" .. block .. " of " .. row.file .. " as gemmi reads it, or says why not",
        function()
          local st = imported()
          local record = (st.records[path] or {})[block]
          if record then
            assert.equal(tonumber(row.n_atom_sites), #record.atoms)
            assert.equal(squash(row["space_group_H-M"]), squash(record.space_group))
          else
            -- "<path>:<line>: data_<block>: <why>"
            local want = ": data_" .. block .. ": "
            local said = false
            for _, list in ipairs({ st.failures[path] or {}, st.ignored[path] or {} }) do
              for _, msg in ipairs(list) do
                local rest = msg:sub(1, #path) == path and msg:sub(#path + 1):match("^:%d+(.*)$")
                if rest and rest:sub(1, #want) == want then said = true end
              end
            end
            assert.is_true(said, "data_" .. block .. " is neither in the store nor explained")
          end
        end)
    end
  end
end)
