--- reasonable_volume: an example validation rule. Two checks a
-- crystallographer does by eye:
--   * the stated cell volume agrees (within 1 %) with the one computed from
--     the cell lengths and angles;
--   * the volume per atom of the cell contents (Z times the formula's
--     atoms) lies between 5 and 60 cubic ångströms; outside that range Z,
--     the formula or the cell is probably wrong.
--
-- Use it from a script:
--   require("h5lua.validate").file(path, { extra_rules = { dofile(".../reasonable_volume.lua") } })
-- or copy it into ~/.config/h5lua/rules/ to have it run with the others.

local MIN_PER_ATOM, MAX_PER_ATOM, TOLERANCE = 5, 60, 0.01

local function cell_volume(l, a)
  local ca, cb, cg = math.cos(math.rad(a[1])), math.cos(math.rad(a[2])), math.cos(math.rad(a[3]))
  return l[1] * l[2] * l[3] * math.sqrt(1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg)
end

-- Atoms in one formula unit: "C9 H8 O4" has 21.
local function formula_atoms(formula)
  local n = 0
  for count in formula:gmatch("%u%l?([%d.]*)") do n = n + (tonumber(count) or 1) end
  return n
end

return {
  name = "reasonable_volume",
  severity = "warning",
  description = "Stated cell volume matches the cell; 5-60 Å^3 per atom of the cell contents.",
  structure = function(s, refcode, report)
    if type(s.cell_lengths) ~= "table" or type(s.cell_angles) ~= "table" then return end
    local volume = cell_volume(s.cell_lengths, s.cell_angles)
    if volume ~= volume then -- NaN: angles that close no cell; cell_valid's business
      return
    end
    if type(s.cell_volume) == "number"
        and math.abs(s.cell_volume - volume) > TOLERANCE * volume then
      report(string.format("Structure %s: stated cell volume %.1f differs from %.1f computed "
        .. "from the cell", refcode, s.cell_volume, volume))
    end
    if type(s.formula) == "string" and type(s.z) == "number" and s.z > 0 then
      local atoms = s.z * formula_atoms(s.formula)
      local per_atom = atoms > 0 and volume / atoms
      if per_atom and (per_atom < MIN_PER_ATOM or per_atom > MAX_PER_ATOM) then
        report(string.format("Structure %s: %.1f Å^3 per atom (Z=%g, %s) is outside %d-%d",
          refcode, per_atom, s.z, s.formula, MIN_PER_ATOM, MAX_PER_ATOM))
      end
    end
  end,
}
