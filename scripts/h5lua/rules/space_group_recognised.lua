--- space_group_recognised: the space-group symbol names one of the 230
-- groups (any common setting, see h5lua.spacegroups), and agrees with
-- space_group_number when both are given.
local spacegroups = require "h5lua.spacegroups"

return {
  name = "space_group_recognised",
  severity = "warning",
  description = "The space-group symbol is one of the 230 groups (any setting).",
  structure = function(structure, refcode, report)
    local sg, number = structure.space_group, structure.space_group_number
    if sg == nil then return end
    if type(sg) ~= "string" then
      report(string.format("Structure %s: space_group is a %s, not a symbol", refcode, type(sg)))
      return
    end
    local n = spacegroups.number(sg)
    if not n then
      report(string.format("Structure %s: space group '%s' not recognised", refcode, sg))
    elseif type(number) == "number" and number ~= n then
      local given = tostring(number)
      if number == math.floor(number) and math.abs(number) < 2 ^ 53 then
        given = string.format("%d", number)
      end
      report(string.format("Structure %s: space group '%s' is number %d, not %s", refcode, sg, n,
        given))
    end
  end,
}
