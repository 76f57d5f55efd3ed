--- Validation reports: rules that check a structure store, one Lua table
-- each, and the engine that runs them over a file.
--
-- A rule is a table:
--
--     { name = "cell_valid", severity = "error",     -- or "warning"
--       description = "one line",
--       file      = function(file, report) end,      -- once per file
--       structure = function(structure, refcode, report) end,  -- each decoded structure
--       raw       = function(raw_json, refcode, report, structure, why) end,
--                   -- each structure's JSON text (nil when it has none), with
--                   -- the decoded table or nil and the reason it did not decode
--       decoded   = false,  -- optional: the raw check never looks at the
--                   -- table (structure is then nil; why still says whether
--                   -- and why the text does not decode)
--       dataset   = function(dataset, report) end }  -- each dataset but the
--                   -- structures' raw_json (the structure pass reads those)
--
-- `report(message[, path])` records a finding `{rule=, severity=, path=,
-- message=}`; path defaults to the object being checked ("/" for file
-- checks, "/structures/<refcode>", the dataset's path). A check that raises
-- becomes an error finding "rule '<name>' failed: <message>" and the scan
-- goes on.
--
-- The report keeps the seed's fields (is_valid, errors, warnings,
-- structure_count, groups = the first ten refcodes, file_size_mb) and adds
-- `findings`, `path`, `scanned` (structures checked) and `rules` (names run).
--
-- @module h5lua.validate

local h5 = require "h5"
local plugins = require "h5lua.plugins"
local organize = require "h5lua.organize"

local json_check = h5.json_check

-- Why raw (the store's text, or nil and read_why) does not decode, or nil
-- when it does, without building the table: h5.json_check settles the
-- common case at a tenth of the cost of decoding; text it refuses gets
-- cjson's verdict, so the outcome is the same as decoding's.
local function decode_why(raw, read_why)
  if raw ~= nil and json_check(raw) then return nil end
  local _, why = organize.decode(raw, read_why)
  return why
end

local validate = {}

local CHECKS = { "file", "raw", "structure", "dataset" }

local function check_rule(t)
  if t.severity ~= "error" and t.severity ~= "warning" then
    return nil, "'severity' must be \"error\" or \"warning\""
  end
  local any = false
  for _, k in ipairs(CHECKS) do
    if t[k] ~= nil then
      if type(t[k]) ~= "function" then return nil, string.format("'%s' must be a function", k) end
      any = true
    end
  end
  if not any then return nil, "it has no check (file, structure, raw or dataset)" end
  if t.decoded ~= nil and type(t.decoded) ~= "boolean" then
    return nil, "'decoded' must be a boolean"
  end
  if t.description ~= nil and type(t.description) ~= "string" then
    return nil, "'description' must be a string"
  end
  return true
end

--- The rule registry (see `h5lua.plugins`): built-ins from
-- scripts/h5lua/rules/, user files from `<dir>/rules/`.
validate.rules = plugins.registry({
  kind = "rules", singular = "rule", check = check_rule, list_command = "h5lua rules",
})

--- Register a rule table; it wins over a built-in or file of the same name.
-- @tparam table rule
-- @treturn table rule
-- @raise when the table is not a valid rule
function validate.register(rule)
  local ok, err = pcall(validate.rules.register, validate.rules, rule)
  if not ok then error(err, 2) end
  return rule
end

--- Every known rule, sorted by name.
-- @treturn table list of rule tables
function validate.list()
  return validate.rules:list()
end

local function resolve_rules(spec)
  if spec == nil then return validate.list() end
  local out = {}
  for _, r in ipairs(spec) do
    if type(r) == "table" then
      if type(r.name) ~= "string" or r.name == "" then
        error("rule: 'name' must be a non-empty string", 3)
      end
      local ok, why = check_rule(r)
      if not ok then error(string.format("rule '%s': %s", r.name, why), 3) end
      out[#out + 1] = r
    else
      local rule, err = validate.rules:get(r)
      if not rule then error(err, 3) end
      out[#out + 1] = rule
    end
  end
  return out
end

-- Lists that must encode as JSON arrays even when empty.
local LIST = { __name = "list" }
local function list() return setmetatable({}, LIST) end

local function file_size(path, f)
  if path then
    local fh = io.open(path, "rb")
    if fh then
      local size = fh:seek("end")
      fh:close()
      return size
    end
  end
  if f then
    local ok, size = pcall(function() return f.size end)
    if ok then return size end
  end
  return 0
end

local function round2(x) return math.floor(x * 100 + 0.5) / 100 end

--- Validate a file.
-- @tparam string|File file a path (opened read-only) or an open File
-- @tparam[opt] table opts `sample` (check at most this many structures;
--   all by default), `rules` (list of rule names or tables; all known rules
--   by default), `extra_rules` (tables added to those)
-- @treturn table the report (see the module's description)
-- @raise for an unknown rule name
function validate.file(file, opts)
  opts = opts or {}
  local rules = resolve_rules(opts.rules)
  for _, r in ipairs(opts.extra_rules or {}) do rules[#rules + 1] = r end
  local sample = opts.sample and math.tointeger(opts.sample)
  if opts.sample ~= nil and (not sample or sample < 0) then
    error("option 'sample' must be a non-negative integer", 2)
  end

  local path = type(file) == "string" and file or nil
  local report = {
    path = path, is_valid = true, errors = list(), warnings = list(), structure_count = 0,
    groups = list(), file_size_mb = 0, findings = list(), scanned = 0, rules = list(),
  }
  for i, r in ipairs(rules) do report.rules[i] = r.name end
  local findings = report.findings

  local function add(rule_name, severity, where, message)
    findings[#findings + 1] = { rule = rule_name, severity = severity, path = where,
      message = message }
  end

  -- One reporter per rule; the engine sets `current` before each check.
  local current = "/"
  local reporters = {}
  for i, r in ipairs(rules) do
    local name, severity = r.name, r.severity
    reporters[i] = function(message, where)
      add(name, severity, where ~= nil and tostring(where) or current, tostring(message))
    end
  end
  local function run_check(i, fn, ...)
    local ok, err = pcall(fn, ...)
    if not ok then
      add(rules[i].name, "error", current,
        string.format("rule '%s' failed: %s", rules[i].name, tostring(err)))
    end
  end

  local f, owned = nil, false
  if path then
    report.file_size_mb = round2(file_size(path) / (1024 * 1024))
    local ok, opened = pcall(h5.open, path, "r", { meta_cache = require("h5lua.store").META_CACHE })
    if not ok then
      add("open", "error", "/", "Failed to open file: " .. tostring(opened))
    else
      f, owned = opened, true
    end
  else
    f = file
    report.path = file.filename
    report.file_size_mb = round2(file_size(nil, file) / (1024 * 1024))
  end

  if f then
    local ok, err = pcall(function()
      -- file checks
      for i, r in ipairs(rules) do
        if r.file then
          current = "/"
          run_check(i, r.file, f, reporters[i])
        end
      end
      -- structure checks
      local want_raw, want_structure = {}, {}
      for i, r in ipairs(rules) do
        if r.raw then want_raw[#want_raw + 1] = i end
        if r.structure then want_structure[#want_structure + 1] = i end
      end
      if f:exists("structures") then
        local store = require "h5lua.store"
        local st = store.open(f, { mode = "r" })
        report.structure_count = st:count()
        local names = st:refcodes()
        for i = 1, math.min(10, #names) do report.groups[i] = names[i] end
        if (#want_raw > 0 or #want_structure > 0) and sample ~= 0 then
          local decode = organize.decode
          -- decode only when some check looks at the table
          local need_table = #want_structure > 0
          for _, i in ipairs(want_raw) do
            if rules[i].decoded ~= false then need_table = true end
          end
          local scanned = 0
          local function check(refcode, raw, read_why)
            scanned = scanned + 1
            current = "/structures/" .. refcode
            local structure, why
            if need_table then
              structure, why = decode(raw, read_why)
            else
              why = decode_why(raw, read_why)
            end
            for _, i in ipairs(want_raw) do
              run_check(i, rules[i].raw, raw, refcode, reporters[i], structure, why)
            end
            if structure then
              for _, i in ipairs(want_structure) do
                run_check(i, rules[i].structure, structure, refcode, reporters[i])
              end
            end
            return sample and scanned >= sample
          end
          -- The store's iterator gives nil and a reason for a structure it
          -- cannot read; should the iterator itself fail, the scan goes on
          -- from the next refcode one by one.
          local eok = pcall(function()
            for refcode, raw, why in st:each() do
              if check(refcode, raw, why) then return end
            end
          end)
          if not eok then
            while (not sample or scanned < sample) and scanned < #names do
              local refcode = names[scanned + 1]
              local rok, raw, why = pcall(st.read, st, refcode)
              if not rok then raw, why = nil, raw end
              check(refcode, raw, why)
            end
          end
          report.scanned = scanned
        end
        st:close()
      end
      -- dataset checks
      local want_dataset = {}
      for i, r in ipairs(rules) do
        if r.dataset then want_dataset[#want_dataset + 1] = i end
      end
      if #want_dataset > 0 then
        -- Every dataset but the structures' raw_json (the structure pass
        -- has read those in full), group by group, through hard links only
        -- (soft links may loop); 64 levels at most. Other datasets under
        -- /structures (a structure's coords, say) are checked like any.
        local function walk(g, path, depth)
          local in_structure = path:match("^/structures/[^/]+$") ~= nil
          for _, name in ipairs(g:keys()) do
            local p = (path == "/" and "" or path) .. "/" .. name
            local info = not (in_structure and name == "raw_json") and g:link_info(name)
            local obj = info and info.kind == "hard" and g:get(name) or nil
            if obj then
              if obj.kind == "group" then
                if depth < 64 then walk(obj, p, depth + 1) end
              elseif obj.kind == "dataset" then
                current = p
                for _, i in ipairs(want_dataset) do
                  run_check(i, rules[i].dataset, obj, reporters[i])
                end
              end
              obj:close()
            end
          end
        end
        walk(f, "/", 1)
      end
    end)
    if not ok then
      add("scan", "error", current, "Validation stopped: " .. tostring(err))
    end
    if owned then f:close() end
  end

  for _, x in ipairs(findings) do
    if x.severity == "error" then
      report.errors[#report.errors + 1] = x.message
      report.is_valid = false
    else
      report.warnings[#report.warnings + 1] = x.message
    end
  end
  return report
end

---------------------------------------------------------------------------
-- Output
---------------------------------------------------------------------------

local function plural(n, word) return string.format("%d %s%s", n, word, n == 1 and "" or "s") end

--- The report as text for people.
-- @tparam table report from `validate.file`
-- @treturn string lines ending in "\n"
function validate.format(report)
  local out = {}
  local function line(...) out[#out + 1] = string.format(...) end
  line("Validation report for %s", report.path or "?")
  line("  Valid: %s", report.is_valid and "yes" or "no")
  line("  Structures: %d (%d scanned)", report.structure_count, report.scanned)
  line("  File size: %.2f MB", report.file_size_mb)
  line("  Rules: %d run", #report.rules)
  for _, sev in ipairs({ "error", "warning" }) do
    local these = {}
    for _, x in ipairs(report.findings) do
      if x.severity == sev then these[#these + 1] = x end
    end
    line("  %s:%s", sev == "error" and "Errors" or "Warnings",
      #these == 0 and " none" or string.format(" %d", #these))
    for _, x in ipairs(these) do line("    - [%s] %s: %s", x.rule, x.path, x.message) end
  end
  line("%s: %s, %s", report.is_valid and "VALID" or "INVALID", plural(#report.errors, "error"),
    plural(#report.warnings, "warning"))
  return table.concat(out, "\n") .. "\n"
end

local cjson = require "cjson"

local function encode(v, out)
  local t = type(v)
  if t == "table" then
    if getmetatable(v) == LIST or (v[1] ~= nil) then
      out[#out + 1] = "["
      for i, x in ipairs(v) do
        if i > 1 then out[#out + 1] = "," end
        encode(x, out)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = cjson.encode(k)
        out[#out + 1] = ":"
        encode(v[k], out)
      end
      out[#out + 1] = "}"
    end
  elseif t == "number" and (v ~= v or v == math.huge or v == -math.huge) then
    out[#out + 1] = "null"
  elseif t == "string" or t == "number" or t == "boolean" then
    out[#out + 1] = cjson.encode(v)
  else
    out[#out + 1] = "null"
  end
end

--- The report as JSON for machines (keys sorted; lists as arrays).
-- @tparam table report from `validate.file`
-- @treturn string one line of JSON
function validate.to_json(report)
  local out = {}
  encode(report, out)
  return table.concat(out)
end

return validate
