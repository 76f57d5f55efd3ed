--- raw_json_present: every structure has its raw_json (seed check).
return {
  name = "raw_json_present",
  severity = "warning",
  description = "Every /structures/<refcode> has a raw_json dataset.",
  decoded = false,
  raw = function(raw, refcode, report, _, why)
    if raw == nil and why == "missing raw_json" then
      report(string.format("Structure %s missing raw_json", refcode))
    end
  end,
}
