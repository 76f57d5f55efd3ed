--- by_crystal_system: triclinic, monoclinic, orthorhombic, tetragonal,
-- trigonal, hexagonal or cubic, from the space group (symbol, else
-- space_group_number), else a declared crystal_system, else the cell's
-- metric (h5lua.spacegroups.system_of_cell).
local spacegroups = require "h5lua.spacegroups"

local SYSTEMS = {
  triclinic = true, monoclinic = true, orthorhombic = true, tetragonal = true,
  trigonal = true, hexagonal = true, cubic = true,
}

return {
  name = "by_crystal_system",
  description = "One bucket per crystal system, from the space group or else the cell.",
  fields = { "space_group", "space_group_number", "crystal_system", "cell_lengths",
    "cell_angles" },
  key = function(structure)
    local sg, number = structure.space_group, structure.space_group_number
    if type(sg) == "string" and sg:find("%S") then
      local system = spacegroups.crystal_system(sg)
      if system then return system end
    end
    if type(number) == "number" then
      local system = spacegroups.crystal_system(number)
      if system then return system end
    end
    local declared = type(structure.crystal_system) == "string"
      and structure.crystal_system:lower()
    if declared and SYSTEMS[declared] then return declared end
    local system = spacegroups.system_of_cell(structure.cell_lengths, structure.cell_angles)
    if system then return system end
    if type(sg) == "string" and sg:find("%S") then
      return nil, string.format("space group '%s' not recognised and no usable cell", sg)
    end
    return nil, "missing field 'space_group' and no usable cell"
  end,
}
