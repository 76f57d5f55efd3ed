--- fletcher32: datasets written with the Fletcher-32 filter read back
-- without checksum errors. A dataset that fails as a whole is read again
-- chunk row by chunk row to name the blocks that fail.
local function property(d, key)
  local ok, v = pcall(function() return d[key] end)
  if ok then return v end
  return nil
end

local function uses_fletcher32(d)
  local v = property(d, "fletcher32")
  if v ~= nil then return v == true end
  local filters = property(d, "filters")
  if type(filters) == "table" then
    for _, f in ipairs(filters) do
      if f == "fletcher32" or (type(f) == "table" and (f.name == "fletcher32" or f.id == 3)) then
        return true
      end
    end
  end
  return false
end

-- 1-based inclusive ranges of chunk rows along the first dimension that
-- fail to read, as "first-last" strings.
local function bad_blocks(d)
  local shape, chunks = property(d, "shape"), property(d, "chunks")
  if type(shape) ~= "table" or type(chunks) ~= "table" or #shape == 0 then return nil end
  local bad = {}
  local step = chunks[1]
  for first = 1, shape[1], step do
    local last = math.min(first + step - 1, shape[1])
    local sel = { { first, last } }
    for k = 2, #shape do sel[k] = { 1, shape[k] } end
    if not pcall(d.read, d, table.unpack(sel)) then
      bad[#bad + 1] = string.format("%d-%d", first, last)
    end
  end
  return bad
end

return {
  name = "fletcher32",
  severity = "error",
  description = "Datasets with Fletcher-32 checksums read back without checksum errors.",
  dataset = function(d, report)
    if not uses_fletcher32(d) then return end
    local ok, err = pcall(d.read, d)
    if ok then return end
    local bad = bad_blocks(d)
    if bad and #bad > 0 then
      report(string.format("Dataset '%s' fails its checksum in rows %s: %s", d.name,
        table.concat(bad, ", "), tostring(err)))
    else
      report(string.format("Dataset '%s' cannot be read: %s", d.name, tostring(err)))
    end
  end,
}
