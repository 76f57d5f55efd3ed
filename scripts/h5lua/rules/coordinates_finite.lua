--- coordinates_finite: every atom has three finite coordinates.
-- x - x is 0 for every finite number, NaN for NaN and the infinities.
local math_type = math.type

return {
  name = "coordinates_finite",
  severity = "error",
  description = "Every atom has three finite coordinates.",
  structure = function(structure, refcode, report)
    local atoms = structure.atoms
    if type(atoms) ~= "table" then return end
    for i = 1, #atoms do
      local atom = atoms[i]
      local c = type(atom) == "table" and atom.coords
      -- math.type is nil for anything but a number (strings included, which
      -- arithmetic would coerce); x - x is 0 only for finite numbers
      local x, y, z
      if type(c) == "table" and c[4] == nil then x, y, z = c[1], c[2], c[3] end
      if not (math_type(x) and math_type(y) and math_type(z) and x - x == 0 and y - y == 0
          and z - z == 0) then
        local label = type(atom) == "table" and atom.label
        report(string.format("Structure %s: atom %d%s has no three finite coordinates", refcode,
          i, type(label) == "string" and " (" .. label .. ")" or ""))
      end
    end
  end,
}
