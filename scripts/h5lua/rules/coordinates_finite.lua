--- coordinates_finite: every atom has three finite coordinates.
local function finite(x) return type(x) == "number" and x == x and x > -math.huge
  and x < math.huge end

return {
  name = "coordinates_finite",
  severity = "error",
  description = "Every atom has three finite coordinates.",
  structure = function(structure, refcode, report)
    local atoms = structure.atoms
    if type(atoms) ~= "table" then return end
    for i, atom in ipairs(atoms) do
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
