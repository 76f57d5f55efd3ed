-- The main job end to end (scripts/examples/pipeline.lua, what `make run`
-- runs): sample CIFs -> store -> two index schemes -> validation report,
-- then the store's content checked here and through h5py.

local helper = require "helper"
local cjson = require "cjson"

local PIPELINE = helper.root .. "/scripts/examples/pipeline.lua"

if not package.searchpath("h5lua.store", package.path) then
  describe("scripts/examples/pipeline.lua", function()
    pending("h5lua.store has not landed yet")
  end)
  return
end

local store = require "h5lua.store"
local organize = require "h5lua.organize"
local validate = require "h5lua.validate"

describe("scripts/examples/pipeline.lua", function()

  -- One run for the specs that only read its results.
  local path, run
  setup(function()
    path = helper.tmpdir() .. "/pipeline.h5"
    run = helper.h5lua({ PIPELINE, path })
  end)

  teardown(function()
    helper.cleanup()
  end)

  it("runs clean and prints the import summary, the report and the tree", function()
    assert.equal("", run.stderr)
    assert.equal(0, run.code)
    local out = run.stdout
    assert.truthy(out:find("\n30 files read: 37 imported, 0 unchanged, 0 skipped (duplicates), "
      .. "0 failed\n", 1, true))
    assert.truthy(out:find("\n== Organize by_space_group\n37 structures in 22 buckets\n"
      .. "  F m -3 m       copper fluorite griceite halite periclase sylvite villiaumite\n",
      1, true))
    assert.truthy(out:find("\n== Validate\nValidation report for " .. path .. "\n  Valid: yes\n"
      .. "  Structures: 37 (37 scanned)\n", 1, true))
    assert.truthy(out:find("\nVALID: 0 errors, ", 1, true))
    assert.truthy(out:find("\n/structures/ACSALA  (1 member)\n"
      .. "└── raw_json  dataset scalar string(utf-8, variable)\n", 1, true))
  end)

  it("leaves every sample structure in the store, as read from its CIF", function()
    local s = store.open(path, { mode = "r" })
    assert.equal(37, s:count())
    local aspirin = cjson.decode((s:read("ACSALA")))
    s:close()
    assert.same({ 11.43, 6.591, 11.395 }, aspirin.cell_lengths)
    assert.same({ 90, 95.68, 90 }, aspirin.cell_angles)
    assert.equal("P 21/c", aspirin.space_group)
    assert.equal(17, #aspirin.atoms)
    assert.same({ label = "C1", symbol = "C", coords = { 0.7852, 0.1744, 0.8322 } },
      aspirin.atoms[1])
  end)

  it("indexes the structures by space group and by composition", function()
    assert.same({ "ACSALA", "IBPRAC" }, organize.members(path, "by_space_group", "P 21/c"))
    assert.same({ "GLYCIN", "GLYCIN01", "GLYCIN02" },
      organize.members(path, "by_composition", "C2H5NO2"))
    -- the CIFs' formulas, not the asymmetric units' atoms (AlO, C9H4O4, HO)
    assert.same({ "corundum" }, organize.members(path, "by_composition", "Al2O3"))
    assert.same({ "ACSALA" }, organize.members(path, "by_composition", "C9H8O4"))
    assert.same({ "ice_Ih" }, organize.members(path, "by_composition", "H2O"))
    assert.is_nil(organize.members(path, "by_composition", "AlO"))
    assert.equal(22, #organize.buckets(path, "by_space_group"))
  end)

  it("leaves a store that validates without errors", function()
    local report = validate.file(path)
    assert.is_true(report.is_valid)
    assert.same({}, report.errors)
    assert.equal(37, report.structure_count)
  end)

  it("leaves a store h5py reads", function()
    local res = helper.python_run(string.format([=[
import h5py, json
with h5py.File(%q, "r") as f:
    s = json.loads(f["structures/ACSALA/raw_json"][()])
    refs = [r.decode() for r in f["by_space_group/P 21%%2Fc/refcodes"][()]]
    print(s["identifier"], s["space_group"], len(s["atoms"]), " ".join(refs))
]=], path))
    assert.equal("", res.stderr)
    assert.equal("ACSALA P 21/c 17 ACSALA IBPRAC\n", res.stdout)
  end)

  it("lists a bad input and exits 1, importing the rest", function()
    local out = helper.tmpdir() .. "/bad.h5"
    local empty = helper.root .. "/tests/fixtures/import/empty.cif"
    local res = helper.h5lua({ PIPELINE, out, helper.root .. "/scripts/examples/samples", empty })
    assert.equal(1, res.code)
    assert.truthy(res.stdout:find("31 files read: 37 imported, 0 unchanged, 0 skipped "
      .. "(duplicates), 1 failed\nfailed:\n  " .. empty .. ": no data block\n", 1, true))
  end)
end)
