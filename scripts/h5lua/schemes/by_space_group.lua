--- by_space_group: one bucket per space-group symbol, as the structure
-- writes it (surrounding spaces trimmed, inner runs of spaces collapsed):
-- "P 21/c" and "P 1 21/c 1" stay apart, as in the seed's
-- organize_by_space_group. With the option `canonical = true`, symbols are
-- resolved (h5lua.spacegroups) and bucketed by short symbol ("P21/c"), and
-- unrecognised symbols are skipped.
return {
  name = "by_space_group",
  description = "One bucket per space-group symbol (as written; canonical=true resolves it).",
  options = { canonical = false },
  fields = { "space_group" },
  key = function(structure, _, options)
    local sg = structure.space_group
    if type(sg) ~= "string" or not sg:find("%S") then
      return nil, "missing field 'space_group'"
    end
    if options and options.canonical then
      local short, err = require("h5lua.spacegroups").short(sg)
      if not short then return nil, err end
      return short
    end
    return (sg:gsub("^%s+", ""):gsub("%s+$", ""):gsub("%s+", " "))
  end,
}
