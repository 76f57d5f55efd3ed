--- required_fields: the fields every structure record needs.
local REQUIRED = { "identifier", "cell_lengths", "cell_angles" }

return {
  name = "required_fields",
  severity = "error",
  description = "Every structure has identifier, cell_lengths and cell_angles.",
  fields = REQUIRED,
  structure = function(structure, refcode, report)
    for _, field in ipairs(REQUIRED) do
      if structure[field] == nil then
        report(string.format("Structure %s missing required field '%s'", refcode, field))
      end
    end
  end,
}
