--- by_element: one bucket per element present in the atoms; a structure
-- sits in the bucket of every element it contains.
local organize = require "h5lua.organize"

return {
  name = "by_element",
  description = "One bucket per element present (a structure sits in several).",
  key = function(structure)
    local counts, err = organize.element_counts(structure)
    if not counts then return nil, err end
    local list = {}
    for sym, n in pairs(counts) do
      if n > 0 then list[#list + 1] = sym end
    end
    if #list == 0 then return nil, "no atoms" end
    table.sort(list)
    return list
  end,
}
