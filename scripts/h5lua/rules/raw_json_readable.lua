--- raw_json_readable: every structure's raw_json reads back (a damaged
-- dataset, such as one whose Fletcher-32 checksum fails, does not).
return {
  name = "raw_json_readable",
  severity = "error",
  description = "Every raw_json reads back without an HDF5 error.",
  decoded = false,
  raw = function(raw, refcode, report, _, why)
    if raw == nil and why and why:find("^cannot be read: ") then
      report(string.format("Structure %s %s", refcode, why), "/structures/" .. refcode
        .. "/raw_json")
    end
  end,
}
