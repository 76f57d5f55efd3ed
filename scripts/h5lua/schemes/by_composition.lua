--- by_composition: one bucket per chemical formula in Hill order, computed
-- from the atoms (occupancy-weighted): carbon first, then hydrogen, then the
-- other elements alphabetically; without carbon, all alphabetically.
-- Counts of 1 are left out, fractional counts keep up to two decimals:
-- L-alanine's atoms give "C3H7NO2".
local organize = require "h5lua.organize"

local function count_text(n)
  if math.abs(n - 1) < 1e-6 then return "" end
  local r = math.floor(n + 0.5)
  if math.abs(n - r) < 1e-6 then return string.format("%d", r) end
  return (string.format("%.2f", n):gsub("0+$", ""):gsub("%.$", ""))
end

--- The Hill formula of element counts ({C=3, H=7, N=1, O=2} -> "C3H7NO2").
local function hill(counts)
  local symbols = {}
  for sym in pairs(counts) do
    if counts[sym] > 0 then symbols[#symbols + 1] = sym end
  end
  local carbon = counts.C and counts.C > 0
  table.sort(symbols, function(a, b)
    if carbon then
      if a == "C" or b == "C" then return a == "C" and b ~= "C" end
      if a == "H" or b == "H" then return a == "H" and b ~= "H" end
    end
    return a < b
  end)
  local parts = {}
  for i, sym in ipairs(symbols) do parts[i] = sym .. count_text(counts[sym]) end
  return table.concat(parts)
end

return {
  name = "by_composition",
  description = "One bucket per Hill-order formula computed from the atoms (C3H7NO2).",
  hill = hill,
  key = function(structure)
    local counts, err = organize.element_counts(structure)
    if not counts then return nil, err end
    local formula = hill(counts)
    if formula == "" then return nil, "no atoms" end
    return formula
  end,
}
