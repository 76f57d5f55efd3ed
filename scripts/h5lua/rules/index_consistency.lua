--- index_consistency: organization indexes (/<scheme>/<bucket>/refcodes)
-- agree with /structures: no bucket lists a refcode that is not there
-- (stale), no structure is missing from an index beyond those the index
-- says it skipped, and each bucket's structure_count matches its refcodes.
local RESERVED = { structures = true, metadata = true, processing_log = true }
local SHOW = 5

local function some(list)
  local shown = {}
  for i = 1, math.min(SHOW, #list) do shown[i] = list[i] end
  local s = table.concat(shown, ", ")
  if #list > SHOW then s = s .. string.format(", ... (%d more)", #list - SHOW) end
  return s
end

-- An index group: made by organize (attribute 'scheme'), or one whose
-- first member is a group holding a refcodes dataset (the seed's layout).
local function is_index(g)
  if g.attrs.scheme ~= nil then return true end
  local first = g:keys()[1]
  local child = first and g:get(first)
  local yes = child ~= nil and child.kind == "group" and child:exists("refcodes")
  if child then child:close() end
  return yes
end

local function check_index(g, present, n_present, report)
  local members, n_members = {}, 0
  for _, link in ipairs(g:keys()) do
    local b = g:get(link)
    local where = g.name .. "/" .. link
    if b and b.kind == "group" then
      local d = b:get("refcodes")
      if not d then
        report(string.format("Index bucket '%s' has no refcodes dataset", where), where)
      else
        local refs = d:read()
        d:close()
        if type(refs) == "string" then refs = { refs } end
        local stale = {}
        for _, r in ipairs(refs) do
          if not present[r] then stale[#stale + 1] = r end
          if not members[r] then
            members[r] = true
            n_members = n_members + 1
          end
        end
        if #stale > 0 then
          report(string.format("Index bucket '%s' lists %d refcode%s not in /structures: %s",
            where, #stale, #stale == 1 and "" or "s", some(stale)), where)
        end
        local count = b.attrs.structure_count
        if count ~= nil and count ~= #refs then
          report(string.format("Index bucket '%s' has structure_count %s but %d refcodes",
            where, tostring(count), #refs), where)
        end
      end
    end
    if b then b:close() end
  end
  local allowed = tonumber(g.attrs.skipped_count) or 0
  local missing = {}
  for r in pairs(present) do
    if not members[r] then missing[#missing + 1] = r end
  end
  if #missing > allowed then
    table.sort(missing)
    report(string.format("Index '%s' misses %d of the %d structures (%d skipped when built): %s",
      g.name, #missing - allowed, n_present, allowed, some(missing)), g.name)
  end
end

return {
  name = "index_consistency",
  severity = "warning",
  description = "Index groups list only refcodes of /structures, and all of them.",
  file = function(file, report)
    local s = file:get("structures")
    if not s or s.kind ~= "group" then
      if s then s:close() end
      return
    end
    local present, n = {}, 0
    for _, r in ipairs(s:keys()) do
      present[r] = true
      n = n + 1
    end
    s:close()
    for _, name in ipairs(file:keys()) do
      if not RESERVED[name] and name:sub(1, 1) ~= "." then
        local g = file:get(name)
        if g and g.kind == "group" and is_index(g) then check_index(g, present, n, report) end
        if g then g:close() end
      end
    end
  end,
}
