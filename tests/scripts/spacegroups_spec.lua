-- Specs of scripts/h5lua/spacegroups.lua: H-M symbols -> number -> system.

local sg = require "h5lua.spacegroups"
local helper = require "helper"

describe("h5lua.spacegroups", function()


  describe("number()", function()

    it("resolves the common settings of P21/c", function()
      for _, s in ipairs({ "P 21/c", "P21/c", "P 1 21/c 1", "P 21/n", "P 1 21/n 1", "P21/a",
                           "P 1 21/a 1", "P 1 1 21/b", "P 21/b 1 1" }) do
        assert.equal(14, sg.number(s), s)
      end
    end)

    it("resolves every listed setting of all 230 groups to its own number", function()
      for n = 1, 230 do
        for _, s in ipairs(sg.settings(n)) do assert.equal(n, sg.number(s), s) end
      end
    end)

    it("ignores spacing, case after the lattice letter and CIF subscript marks", function()
      assert.equal(14, sg.number("  P  21/C "))
      assert.equal(14, sg.number("p 21/c"))
      assert.equal(14, sg.number("P2(1)/c"))
      assert.equal(14, sg.number("P 2~1~/c"))
      assert.equal(19, sg.number("P 21 21 21"))
      assert.equal(19, sg.number("P2_12_12_1"))
    end)

    it("drops origin and axes choices", function()
      assert.equal(166, sg.number("R -3 m:H"))
      assert.equal(166, sg.number("R -3 m :R"))
      assert.equal(227, sg.number("F d -3 m:2"))
      assert.equal(129, sg.number("P 4/n m m (origin choice 2)"))
      assert.equal(122, sg.number("I -4 2 d S"))
      assert.equal(227, sg.number("F d -3 m {origin @ centre (-3m)}"))
    end)

    it("reads older spellings and full symbols", function()
      assert.equal(225, sg.number("Fm3m"))
      assert.equal(230, sg.number("Ia3d"))
      assert.equal(64, sg.number("Cmca"))
      assert.equal(64, sg.number("C m c e"))
      assert.equal(39, sg.number("A e m 2"))
      assert.equal(62, sg.number("P 21/n 21/m 21/a"))
      assert.equal(72, sg.number("I 2/b 2/a 2/m"))
      assert.equal(123, sg.number("P 4/m 2/m 2/m"))
      assert.equal(225, sg.number("F 4/m -3 2/m"))
      assert.equal(194, sg.number("P 63/m 2/m 2/c"))
      assert.equal(10, sg.number("P 1 2/m 1"))
    end)

    it("accepts numbers and numeric strings", function()
      assert.equal(14, sg.number(14))
      assert.equal(230, sg.number("230"))
      assert.same({ nil, "not a space group number: 231" }, { sg.number(231) })
      assert.same({ nil, "not a space group number: 0" }, { sg.number("0") })
      assert.same({ nil, "not a space group number: 1.5" }, { sg.number(1.5) })
    end)

    it("returns nil and a message for what is not a symbol", function()
      assert.same({ nil, "not a space group symbol: 'X 99'" }, { sg.number("X 99") })
      assert.same({ nil, "not a space group symbol: ''" }, { sg.number("") })
      assert.same({ nil, "not a space group symbol: a table" }, { sg.number({}) })
    end)
  end)

  describe("crystal_system()", function()

    it("follows the number ranges of the International Tables", function()
      local cases = {
        [1] = "triclinic", [2] = "triclinic", [3] = "monoclinic", [15] = "monoclinic",
        [16] = "orthorhombic", [74] = "orthorhombic", [75] = "tetragonal",
        [142] = "tetragonal", [143] = "trigonal", [167] = "trigonal", [168] = "hexagonal",
        [194] = "hexagonal", [195] = "cubic", [230] = "cubic",
      }
      for n, system in pairs(cases) do assert.equal(system, sg.crystal_system(n), n) end
    end)

    it("resolves symbols first", function()
      assert.equal("monoclinic", sg.crystal_system("P 21/n"))
      assert.equal("trigonal", sg.crystal_system("R -3 m:H"))
      assert.equal("cubic", sg.crystal_system("Fm3m"))
      assert.same({ nil, "not a space group symbol: 'Q'" }, { sg.crystal_system("Q") })
    end)
  end)

  describe("short()", function()

    it("gives the short symbol of any setting", function()
      assert.equal("P21/c", sg.short("P 1 21/n 1"))
      assert.equal("Fm-3m", sg.short(225))
      assert.same({ nil, "not a space group symbol: 'Q'" }, { sg.short("Q") })
    end)
  end)

  describe("settings()", function()

    it("returns a fresh list and raises for a bad number", function()
      local list = sg.settings(14)
      assert.equal("P21/c", list[1])
      list[1] = "changed"
      assert.equal("P21/c", sg.settings(14)[1])
      assert.has_error(function() sg.settings(0) end, "not a space group number: 0")
    end)
  end)

  describe("system_of_cell()", function()

    it("reads the system a cell's metric allows", function()
      local cases = {
        { { 5, 5, 5 }, { 90, 90, 90 }, "cubic" },
        { { 5, 5, 7 }, { 90, 90, 90 }, "tetragonal" },
        { { 5, 6, 7 }, { 90, 90, 90 }, "orthorhombic" },
        { { 4.9, 4.9, 5.4 }, { 90, 90, 120 }, "hexagonal" },
        { { 5, 5, 5 }, { 80, 80, 80 }, "trigonal" },
        { { 5, 6, 7 }, { 90, 101.5, 90 }, "monoclinic" },
        { { 5, 6, 7 }, { 80, 85, 95 }, "triclinic" },
      }
      for _, c in ipairs(cases) do
        assert.equal(c[3], sg.system_of_cell(c[1], c[2]))
      end
    end)

    it("returns nil and a message for an unusable cell", function()
      local msg = "cell lengths and angles must be lists of three positive numbers"
      assert.same({ nil, msg }, { sg.system_of_cell({ 5, 5 }, { 90, 90, 90 }) })
      assert.same({ nil, msg }, { sg.system_of_cell({ 5, -5, 5 }, { 90, 90, 90 }) })
      assert.same({ nil, msg }, { sg.system_of_cell(nil, { 90, 90, 90 }) })
      assert.same({ nil, msg }, { sg.system_of_cell({ 5, 5, 0 / 0 }, { 90, 90, 90 }) })
    end)
  end)

  describe("on the shared CIF collection", function()

    it("agrees with gemmi on every symbol it resolves", function()
      if not helper.data then
        pending("../shared/data is absent")
        return
      end
      -- Known differences: B-centred monoclinic cells are not in the
      -- International Tables' list; one file declares 'P m' with number 8.
      local unresolved_ok = { ["B 1 21 1"] = true, ["B1211"] = true }
      local disagree_ok = { ["P m"] = true }
      local f = assert(io.open(helper.data .. "/cif/INDEX.tsv"))
      local header = f:read("l")
      local col = {}
      local i = 0
      for name in (header .. "\t"):gmatch("([^\t]*)\t") do
        i = i + 1
        col[name] = i
      end
      local checked = 0
      for line in f:lines() do
        local fields = {}
        for v in (line .. "\t"):gmatch("([^\t]*)\t") do fields[#fields + 1] = v end
        local hm = fields[col["space_group_H-M"]]
        local resolved = tonumber(fields[col["space_group_number_resolved"]])
        if hm ~= "" and resolved and resolved > 0 then
          local n = sg.number(hm)
          if n == nil then
            assert.is_true(unresolved_ok[hm] ~= nil, "not resolved: " .. hm)
          elseif not disagree_ok[hm] then
            assert.equal(resolved, n, hm)
            checked = checked + 1
          end
        end
      end
      f:close()
      assert.is_true(checked > 700)
    end)
  end)
end)
