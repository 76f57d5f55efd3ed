-- The extension examples in scripts/examples/: a scheme (by_density), a
-- validation rule (reasonable_volume) and a batch writer (filtered_writer).

local helper = require "helper"
local cjson = require "cjson"

local EXAMPLES = helper.root .. "/scripts/examples/"
local SAMPLES = EXAMPLES .. "samples"

if not package.searchpath("h5lua.store", package.path) then
  describe("scripts/examples", function()
    pending("h5lua.store has not landed yet")
  end)
  return
end

local store = require "h5lua.store"
local import = require "h5lua.import"
local organize = require "h5lua.organize"
local validate = require "h5lua.validate"

-- A store of the sample structures, made once per describe that asks.
local function sample_store()
  local path = helper.tmpfile()
  import.run(path, { SAMPLES })
  return path
end

describe("scripts/examples", function()

  after_each(function()
    helper.cleanup()
  end)

  describe("schemes/by_density.lua", function()
    local scheme = dofile(EXAMPLES .. "schemes/by_density.lua")

    it("buckets the samples by calculated density", function()
      local path = sample_store()
      local summary = organize.run(path, scheme)
      assert.same({ 37, 0 }, { summary.placed, #summary.skipped })
      assert.same({ "copper" }, organize.members(path, "by_density", "8.5-9.0 g/cm3"))
      assert.same({ "ice_Ih" }, organize.members(path, "by_density", "0.5-1.0 g/cm3"))
      assert.same({ "ACSALA", "ALANIN", "ANTCEN", "BENZEN", "HXACAN", "HXMTAM", "IBPRAC",
        "NAPHTA", "UREAXX" }, organize.members(path, "by_density", "1.0-1.5 g/cm3"))
    end)

    it("skips a structure it cannot weigh, saying why", function()
      assert.same({ nil, "no mass known for U" }, { scheme.key({ formula = "O2 U", z = 4,
        cell_lengths = { 5.47, 5.47, 5.47 }, cell_angles = { 90, 90, 90 } }) })
      assert.same({ nil, "needs formula and z" }, { scheme.key({ formula = "Cu" }) })
    end)
  end)

  describe("rules/reasonable_volume.lua", function()
    local rule = dofile(EXAMPLES .. "rules/reasonable_volume.lua")

    it("finds nothing to say about the samples", function()
      local report = validate.file(sample_store(), { rules = { rule } })
      assert.same({}, report.findings)
    end)

    it("warns about a stated volume that does not match the cell and an unlikely Z", function()
      local path = helper.tmpfile()
      local s = store.open(path)
      s:write("CUBAD", '{"identifier": "CUBAD", "formula": "Cu", "z": 40, '
        .. '"cell_lengths": [3.6149, 3.6149, 3.6149], "cell_angles": [90.0, 90.0, 90.0], '
        .. '"cell_volume": 50.0, "atoms": []}')
      s:close()
      local report = validate.file(path, { rules = { rule } })
      assert.same({
        { rule = "reasonable_volume", severity = "warning", path = "/structures/CUBAD",
          message = "Structure CUBAD: stated cell volume 50.0 differs from 47.2 computed from "
            .. "the cell" },
        { rule = "reasonable_volume", severity = "warning", path = "/structures/CUBAD",
          message = "Structure CUBAD: 1.2 Å^3 per atom (Z=40, Cu) is outside 5-60" },
      }, report.findings)
      assert.is_true(report.is_valid)
    end)
  end)

  describe("filtered_writer.lua", function()
    it("writes only the structures that contain the element", function()
      local path = helper.tmpfile()
      local res = helper.h5lua({ EXAMPLES .. "filtered_writer.lua", path, "O", SAMPLES })
      assert.equal("", res.stderr)
      assert.equal(0, res.code)
      assert.equal("wrote 20 of 37 structures containing O to " .. path .. "\n", res.stdout)
      local s = store.open(path, { mode = "r" })
      assert.equal(20, s:count())
      for refcode, raw in s:each() do
        local has = false
        for _, atom in ipairs(cjson.decode(raw).atoms) do has = has or atom.symbol == "O" end
        assert.is_true(has, refcode .. " has no O")
      end
      s:close()
    end)

    it("prints its usage and exits 2 without arguments", function()
      local res = helper.h5lua({ EXAMPLES .. "filtered_writer.lua" })
      assert.equal(2, res.code)
      assert.equal("usage: h5lua filtered_writer.lua STORE ELEMENT INPUT...\n", res.stderr)
    end)
  end)
end)
