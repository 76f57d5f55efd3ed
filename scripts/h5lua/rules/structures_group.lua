--- structures_group: the file has the store's /structures group (seed check).
return {
  name = "structures_group",
  severity = "error",
  description = "The file has a /structures group.",
  file = function(file, report)
    local g = file:get("structures")
    if not g then
      report("Missing required 'structures' group", "/structures")
    elseif g.kind ~= "group" then
      report("'/structures' is a " .. g.kind .. ", not a group", "/structures")
    end
    if g then g:close() end
  end,
}
