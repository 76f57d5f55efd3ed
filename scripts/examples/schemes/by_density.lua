--- by_density: an example organization scheme. Buckets structures by
-- their calculated density, rho = Z * M / (V * N_A), from the formula,
-- Z and the cell: molecular crystals land in "1.0-1.5 g/cm3", minerals
-- in "2.5-3.0 g/cm3" and up, metals near the top.
--
-- Use it from a script:
--   require("h5lua.organize").run(store, dofile("scripts/examples/schemes/by_density.lua"))
-- or from the command line: h5lua organize STORE --scheme scripts/examples/schemes/by_density.lua
-- (or copy it into ~/.config/h5lua/schemes/ to make "by_density" a known name).

-- Atomic masses (g/mol) of the elements this example knows; a formula with
-- any other element is skipped with a reason.
local MASS = {
  H = 1.008, Li = 6.94, B = 10.81, C = 12.011, N = 14.007, O = 15.999,
  F = 18.998, Na = 22.990, Mg = 24.305, Al = 26.982, Si = 28.085, P = 30.974,
  S = 32.06, Cl = 35.45, K = 39.098, Ca = 40.078, Ti = 47.867, Cr = 51.996,
  Mn = 54.938, Fe = 55.845, Co = 58.933, Ni = 58.693, Cu = 63.546,
  Zn = 65.38, Br = 79.904, Sr = 87.62, Ag = 107.87, I = 126.90, Cs = 132.91,
  Ba = 137.33, Pt = 195.08, Au = 196.97, Pb = 207.2,
}
local AVOGADRO_A3 = 0.60221 -- N_A in mol^-1, scaled for g/cm3 from Å^3

-- Formula mass of "C9 H8 O4", or nil, reason.
local function formula_mass(formula)
  local mass, any = 0, false
  for symbol, count in formula:gmatch("(%u%l?)([%d.]*)") do
    if not MASS[symbol] then return nil, "no mass known for " .. symbol end
    mass, any = mass + MASS[symbol] * (tonumber(count) or 1), true
  end
  if not any then return nil, "formula '" .. formula .. "' names no element" end
  return mass
end

-- Cell volume from a, b, c and the angles (degrees), for records without one.
local function cell_volume(l, a)
  local ca, cb, cg = math.cos(math.rad(a[1])), math.cos(math.rad(a[2])), math.cos(math.rad(a[3]))
  return l[1] * l[2] * l[3] * math.sqrt(1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg)
end

return {
  name = "by_density",
  description = "Buckets of calculated density, 0.5 g/cm3 wide (from formula, Z and cell).",
  key = function(s)
    if type(s.formula) ~= "string" or type(s.z) ~= "number" then
      return nil, "needs formula and z"
    end
    local mass, why = formula_mass(s.formula)
    if not mass then return nil, why end
    local volume = s.cell_volume or cell_volume(s.cell_lengths, s.cell_angles)
    local rho = s.z * mass / (volume * AVOGADRO_A3)
    local low = math.floor(rho * 2) / 2 -- 0.5-wide bins: 1.0, 1.5, 2.0, ...
    return string.format("%.1f-%.1f g/cm3", low, low + 0.5)
  end,
}
