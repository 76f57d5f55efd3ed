--- by_composition: one bucket per chemical formula in Hill order: carbon
-- first, then hydrogen, then the other elements alphabetically; without
-- carbon, all alphabetically. Counts of 1 are left out, fractional counts
-- keep up to two decimals: aspirin gives "C9H8O4", corundum "Al2O3".
--
-- The record's `formula` (a CIF's _chemical_formula_sum: "C9 H8 O4",
-- "Al2 O3") is used when it can be read: the listed atoms are only the
-- asymmetric unit, so counting them gives corundum as AlO and aspirin
-- without its hydroxyl and methyl hydrogens. Without a readable formula
-- the atoms are counted (occupancy-weighted), the best there is.
local organize = require "h5lua.organize"
local cif = require "h5lua.cif"

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

-- The element a run of letters names exactly ("Na", "NA", "CL"), or nil.
local function element_named(letters)
  local sym = letters:sub(1, 1):upper() .. letters:sub(2):lower()
  if cif.type_element(sym) == sym then return sym end
  return nil
end

-- The elements of a run of letters: split by case when every part is an
-- element ("CuSO" -> Cu S O, "CO" -> C O), else the run as one element
-- written in capitals ("NA" -> Na); nil when neither reads.
local function run_elements(letters)
  local parts = {}
  if letters:match("^[%u%l]+$") and letters:match("^%u") then
    for part in letters:gmatch("%u%l*") do
      if element_named(part) ~= part then parts = nil break end
      parts[#parts + 1] = part
    end
    if parts then return parts end
  end
  local sym = element_named(letters)
  return sym and { sym } or nil
end

-- Element counts of a formula: "C9 H8 O4", "Al2O3", "C.49 NA4 O7.51",
-- "Ca(OH)2", "[Cu(H2O)4]"; a count after a bracket multiplies what is
-- inside. Returns counts, or nil when the text is not such a formula.
local function parse_formula(text)
  local pos, n = 1, #text
  local function number()
    local num = text:match("^%d*%.?%d+", pos)
    if not num then return 1 end
    pos = pos + #num
    return tonumber(num)
  end
  local function group(closing)
    local counts = {}
    while true do
      pos = text:match("^%s*()", pos)
      local c = text:sub(pos, pos)
      if pos > n or c == closing then
        if (pos > n) ~= (closing == nil) then return nil end  -- unbalanced
        pos = pos + 1
        return counts
      end
      local inner
      if c == "(" or c == "[" then
        pos = pos + 1
        inner = group(c == "(" and ")" or "]")
        if not inner then return nil end
        local times = number()
        for sym, k in pairs(inner) do counts[sym] = (counts[sym] or 0) + k * times end
      else
        local letters = text:match("^%a+", pos)
        if not letters then return nil end
        pos = pos + #letters
        local syms = run_elements(letters)
        if not syms then return nil end
        local last = number()
        for i, sym in ipairs(syms) do
          counts[sym] = (counts[sym] or 0) + (i == #syms and last or 1)
        end
      end
    end
  end
  local counts = group(nil)
  if not counts or next(counts) == nil then return nil end
  return counts
end

return {
  name = "by_composition",
  description = "One bucket per Hill-order formula: the record's formula, else counted "
    .. "from the atoms (C9H8O4).",
  hill = hill,
  parse_formula = parse_formula,
  key = function(structure)
    local formula = structure.formula
    local readable = type(formula) == "string" and parse_formula(formula)
    if readable then return hill(readable) end
    local counts, err = organize.element_counts(structure)
    if not counts then
      if type(formula) == "string" then
        return nil, string.format("formula '%s' cannot be read and %s", formula, err)
      end
      if err == "missing field 'atoms'" then return nil, "neither a formula nor atoms" end
      return nil, err
    end
    local text = hill(counts)
    if text == "" then return nil, "no atoms" end
    return text
  end,
}
