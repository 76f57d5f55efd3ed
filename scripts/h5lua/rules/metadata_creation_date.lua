--- metadata_creation_date: /metadata, when present, records its creation
-- date (seed check).
return {
  name = "metadata_creation_date",
  severity = "warning",
  description = "/metadata, when present, has a creation_date attribute.",
  file = function(file, report)
    local m = file:get("metadata")
    if m then
      if m.attrs.creation_date == nil then
        report("Missing creation_date in metadata", "/metadata")
      end
      m:close()
    end
  end,
}
