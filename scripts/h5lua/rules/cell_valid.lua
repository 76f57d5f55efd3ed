--- cell_valid: three positive finite cell lengths, three angles in (0, 180).
local function finite(x) return type(x) == "number" and x == x and x > -math.huge
  and x < math.huge end

-- Numbers as people write them: 180 rather than cjson's 180.0.
local function show(v)
  if type(v) == "number" and v == v and v == math.floor(v) and math.abs(v) < 2 ^ 53 then
    return string.format("%d", v)
  end
  if type(v) == "number" then return string.format("%.14g", v) end
  return tostring(v)
end

return {
  name = "cell_valid",
  severity = "error",
  description = "Cell lengths are positive and angles lie in (0, 180) degrees.",
  structure = function(structure, refcode, report)
    local lengths, angles = structure.cell_lengths, structure.cell_angles
    if lengths ~= nil then
      if type(lengths) ~= "table" or #lengths ~= 3 then
        report(string.format("Structure %s: cell_lengths is not a list of three numbers",
          refcode))
      else
        for i, v in ipairs(lengths) do
          if not finite(v) or v <= 0 then
            report(string.format("Structure %s: cell length %d is %s, not a positive number",
              refcode, i, show(v)))
          end
        end
      end
    end
    if angles ~= nil then
      if type(angles) ~= "table" or #angles ~= 3 then
        report(string.format("Structure %s: cell_angles is not a list of three numbers",
          refcode))
      else
        for i, v in ipairs(angles) do
          if not finite(v) or v <= 0 or v >= 180 then
            report(string.format("Structure %s: cell angle %d is %s, not in (0, 180)",
              refcode, i, show(v)))
          end
        end
      end
    end
  end,
}
