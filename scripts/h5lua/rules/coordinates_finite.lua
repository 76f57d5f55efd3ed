--- coordinates_finite: every atom has three finite coordinates.
-- x - x is 0 for every finite number, NaN for NaN and the infinities.
local function finite(x) return type(x) == "number" and x - x == 0 end

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
      if type(c) ~= "table" or #c ~= 3 or not (finite(c[1]) and finite(c[2]) and finite(c[3]))
      then
        local label = type(atom) == "table" and atom.label
        report(string.format("Structure %s: atom %d%s has no three finite coordinates", refcode,
          i, type(label) == "string" and " (" .. label .. ")" or ""))
      end
    end
  end,
}
