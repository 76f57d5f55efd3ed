--- identifier_matches: a structure's identifier is its refcode.
return {
  name = "identifier_matches",
  severity = "warning",
  description = "A structure's identifier equals its refcode.",
  structure = function(structure, refcode, report)
    local id = structure.identifier
    if id ~= nil and id ~= refcode then
      report(string.format("Structure %s has identifier '%s'", refcode, tostring(id)))
    end
  end,
}
