--- The REPL's Lua side: opening the file of `h5lua FILE.h5`, printing
-- results, tab completion, and the exploration helpers.
--
-- The host (host/repl.c) calls open_file, print_results, complete and
-- start. This is the one place where h5lua sets globals on purpose: `f`
-- (the file), `h5`, and the helpers ls, cd, pwd, tree, show, find, help.
local h5 = require "h5"
local pretty = require "h5lua.pretty"
local explore = require "h5lua.explore"

local repl = {}

--- Limits of completion: at most `limit` candidates are returned; group
-- member lists are cached for `cache_seconds` by `clock` (a TAB on a
-- 10^5-member group lists it once, not on every key press), and forgotten
-- after every input the host evaluates (repl.after_input).
repl.completion = { limit = 500, cache_seconds = 5, kinds_below = 40, clock = os.time }

-- The REPL's state: the file the helpers work on, and their current group.
local state = { file = nil, cwd = "/" }

local function color()
  return pretty.color_wanted(1)
end

local function out(s)
  io.stdout:write(s, "\n")
end

-- {=====================================================================
-- Helpers (REPL globals)
-- ======================================================================

-- The file the helpers work on: the one open_file opened, else a global
-- `f` the user bound to an open file.
local function current_file()
  local f = state.file
  if f and explore.prop(f, "name") then return f end
  local g = rawget(_G, "f")
  if pretty.h5type(g) == "h5.File" and explore.prop(g, "name") then
    if state.file ~= g then
      state.file, state.cwd = g, "/"
    end
    return g
  end
  error("no file open: start h5lua FILE.h5, or bind one with f = h5.open(path)", 3)
end

--- Normalise an HDF5 path relative to cwd ("..", "." and repeated "/").
function repl.normalize(path, cwd)
  if path:sub(1, 1) ~= "/" then path = (cwd or "/") .. "/" .. path end
  local parts = {}
  for part in path:gmatch("[^/]+") do
    if part == ".." then
      parts[#parts] = nil
    elseif part ~= "." then
      parts[#parts + 1] = part
    end
  end
  return "/" .. table.concat(parts, "/")
end

-- An object from a helper argument: an h5 object as is, or a path
-- relative to the current group (nil: the current group).
local function target(arg)
  if type(arg) == "userdata" and explore.kind(arg) then return arg end
  local f = current_file()
  if arg ~= nil and type(arg) ~= "string" then
    error("expected a path or an h5 object, got " .. type(arg), 3)
  end
  local path = repl.normalize(arg or ".", state.cwd)
  if path == "/" then return f end
  local obj, why = f:get(path)
  if not obj then error(string.format("%s: %s", path, why or "no such object"), 3) end
  return obj
end

local helpers = {}

--- ls([path|obj[, opts]]): list a group's members (the first 50; opts.all
-- for all of them, opts.recursive for every object below).
function helpers.ls(arg, opts)
  if type(arg) == "table" and opts == nil then arg, opts = nil, arg end
  opts = opts or {}
  local obj = target(arg)
  explore.ls(obj, { color = color(), recursive = opts.recursive or opts.r,
    limit = not opts.all and (opts.limit or 50) or nil, emit = out })
end

--- cd([path]): change the helpers' current group ("/" without a path).
function helpers.cd(path)
  local f = current_file()
  local p = repl.normalize(path or "/", state.cwd)
  if p ~= "/" then
    local obj, why = f:get(p)
    if not obj then error(string.format("%s: %s", p, why or "no such object"), 2) end
    local k = explore.kind(obj)
    explore.release(obj)
    if k ~= "group" then error(string.format("%s: not a group (a %s)", p, k or "object"), 2) end
  end
  state.cwd = p
end

--- pwd(): the helpers' current group.
function helpers.pwd()
  current_file()
  return state.cwd
end

--- tree([path|obj[, depth]]): the tree below a group (wide groups fold).
function helpers.tree(arg, depth)
  if type(arg) == "number" and depth == nil then arg, depth = nil, arg end
  local obj = target(arg)
  explore.tree(obj, { color = color(), depth = depth, emit = out, max_entries = 500,
    hint = "tree(path, depth) shows less" })
end

--- show([path|obj]): every property of an object and its attributes.
function helpers.show(arg)
  local obj = target(arg)
  explore.show(obj, { color = color(), emit = out })
end

local PathList = {}
PathList.__index = PathList
PathList.__tostring = function(list)
  local lines = {}
  local shown = math.min(#list, 100)
  for i = 1, shown do lines[i] = list[i] end
  if #list > shown then lines[#lines + 1] = string.format("... %d more (%d paths)",
    #list - shown, #list) end
  if #list == 0 then return "(no match)" end
  return table.concat(lines, "\n")
end

--- find(pattern[, path|obj]): the paths of the objects whose absolute path
-- matches a Lua pattern; prints as a list, usable as a table.
function helpers.find(pattern, arg)
  if type(pattern) ~= "string" then error("find(pattern): pattern must be a string", 2) end
  local obj = target(arg)
  local ok, paths = pcall(explore.find, obj, pattern)
  if not ok then error(paths, 2) end
  return setmetatable(paths, PathList)
end

local HELP = [[
h5lua REPL: Lua 5.4 with the h5 module. The file is `f`; values print
as previews (datasets show their first values, groups their members).

  ls([path, {all=, recursive=}])   members of a group (or describe an object)
  cd(path)   pwd()                 move around; paths are relative to pwd()
  tree([path, depth])              the tree below a group; wide groups fold
  show([path|obj])                 dtype, shape, chunks, filters, attributes, sizes
  find(pattern)                    objects whose path matches a Lua pattern
  f.structures.ALANIN              children by name (f["a/b"] for any path)
  d:read({1, 10})                  data of a dataset (1-based, inclusive)
  obj.attrs.name                   attributes; pairs(obj.attrs) to list

TAB completes globals, fields, methods and HDF5 member names (also inside
f["..."]). Ctrl-C cancels the line, or interrupts a running statement.
Ctrl-D quits. History is kept in ~/.h5lua_history.]]

--- help(): what the REPL offers.
function helpers.help()
  out(HELP)
end

repl.helpers = helpers

--- Install the helpers (and `h5`) as globals, unless the user has already
-- defined globals of those names.
function repl.start()
  if rawget(_G, "h5") == nil then rawset(_G, "h5", h5) end
  for name, fn in pairs(helpers) do
    if rawget(_G, name) == nil then rawset(_G, name, fn) end
  end
  return 0
end

-- {=====================================================================
-- Opening the file (h5lua FILE.h5)
-- ======================================================================

--- Open path for the REPL (read-only, or r+ when write is true), bind it
-- to the global `f`, install the helpers and print a one-line banner:
-- file, size, object count. Returns 0, or 1 when the file cannot be opened
-- (the reason is printed on stderr).
function repl.open_file(path, write)
  local ok, f = pcall(h5.open, path, write and "r+" or "r")
  if not ok then
    io.stderr:write("h5lua: ", tostring(f), "\n")
    return 1
  end
  rawset(_G, "f", f)
  state.file, state.cwd = f, "/"
  repl.start()
  io.stdout:write(repl.banner(f, write), "\n")
  io.stdout:flush()
  return 0
end

--- The banner line: `tall.h5: 9.6 KB, 19 objects, read-only. ls(), tree(), help()`.
-- Counting is bounded: big files say "at least N objects".
function repl.banner(f, write)
  local size = explore.prop(f, "size") or 0
  local n, more
  if size <= 4e6 then
    n = 0
    local ok = pcall(f.visit, f, function(_, o)
      n = n + 1
      explore.release(o)
    end)
    if not ok then n, more = explore.quick_count(f) end
  else
    n, more = explore.quick_count(f)
  end
  local name = explore.prop(f, "filename") or "?"
  return string.format("%s: %s, %s%d object%s, %s. ls(), tree(), help()", name,
    pretty.bytes(size), more and "at least " or "", n, n == 1 and "" or "s",
    write and "read-write" or "read-only")
end

-- {=====================================================================
-- Printing results
-- ======================================================================

--- Print the results of an evaluated line (the host calls this).
function repl.print_results(...)
  local n = select("#", ...)
  local o = { color = color() }
  local parts = {}
  for i = 1, n do
    local v = select(i, ...)
    local ok, s = pcall(pretty.format, v, o)
    parts[i] = ok and s or tostring(v)
  end
  local sep = "\t"
  for _, s in ipairs(parts) do
    if s:find("\n", 1, true) then sep = "\n" break end
  end
  io.stdout:write(table.concat(parts, sep), "\n")
  io.stdout:flush()
end

-- {=====================================================================
-- Completion
-- ======================================================================

local PROPS = {
  ["h5.File"] = explore.properties.file,
  ["h5.Group"] = explore.properties.group,
  ["h5.Dataset"] = explore.properties.dataset,
  ["h5.Datatype"] = explore.properties.datatype,
  ["h5.Array"] = explore.properties.array,
}

local key_cache = {}

-- Sorted member names of a location, cached for a few seconds.
local function member_names(g)
  local file = explore.prop(g, "file")
  local key = tostring(file and explore.prop(file, "filename")) .. "\0" ..
    tostring(explore.prop(g, "name"))
  local now = repl.completion.clock()
  local c = key_cache[key]
  if c and now - c.time <= repl.completion.cache_seconds then return c.names end
  local ok, names = pcall(g.keys, g)
  if not ok then return {} end
  key_cache = { [key] = { time = now, names = names } }
  return names
end

--- Called by the host after every evaluated input: the statement may have
-- created, deleted or renamed members, so completion lists them again.
function repl.after_input()
  key_cache = {}
end

local function common_prefix(list)
  if #list == 0 then return "" end
  local p = list[1]
  for i = 2, #list do
    local s = list[i]
    local n = 0
    while n < #p and n < #s and p:byte(n + 1) == s:byte(n + 1) do n = n + 1 end
    p = p:sub(1, n)
    if p == "" then break end
  end
  return p
end

-- The names of a sorted list that start with prefix (binary search); also
-- returns their count and the prefix they all share.
local function with_prefix(sorted, prefix, into, limit)
  local lo, hi = 1, #sorted + 1
  while lo < hi do
    local mid = (lo + hi) // 2
    if sorted[mid] < prefix then lo = mid + 1 else hi = mid end
  end
  local total = 0
  for i = lo, #sorted do
    local s = sorted[i]
    if s:sub(1, #prefix) ~= prefix then break end
    total = total + 1
    if #into < limit then into[#into + 1] = s end
  end
  -- What every match shares: the common prefix of the first and the last.
  local shared = total > 0 and common_prefix({ sorted[lo], sorted[lo + total - 1] }) or prefix
  return total, shared
end

-- Keys of a table and of its __index chain that start with prefix.
local function table_fields(t, prefix, want_functions, into)
  local seen = {}
  local depth = 0
  while type(t) == "table" and depth < 5 do
    for k, v in next, t do
      if type(k) == "string" and not seen[k] and k:sub(1, #prefix) == prefix
          and (not want_functions or type(v) == "function") then
        seen[k] = true
        into[#into + 1] = k
      end
    end
    local mt = getmetatable(t)
    t = type(mt) == "table" and rawget(mt, "__index") or nil
    depth = depth + 1
  end
end

-- Resolve a simple expression (Name, then .Name, ["str"] or [int]) to its
-- value without calling anything but index metamethods.
local function resolve(expr)
  local name, rest = expr:match("^([%a_][%w_]*)(.*)$")
  if not name then return nil, false end
  local v = rawget(_G, name)
  if v == nil then return nil, false end
  while rest ~= "" do
    local key, after = rest:match("^%.([%a_][%w_]*)(.*)$")
    if not key then
      local q, k2, a2 = rest:match("^%[%s*([\"'])(.-)%1%s*%](.*)$")
      if q then key, after = k2, a2
      else
        local num, a3 = rest:match("^%[%s*(%-?%d+)%s*%](.*)$")
        if not num then return nil, false end
        key, after = math.tointeger(tonumber(num)), a3
      end
    end
    local ok, nv = pcall(function() return v[key] end)
    if not ok or nv == nil then return nil, false end
    v, rest = nv, after
  end
  return v, true
end

-- The expression that ends at position stop of line: identifiers, dots,
-- colons and bracketed keys, scanning backwards.
local function expression_before(line, stop)
  local i, depth = stop, 0
  while i >= 1 do
    local c = line:sub(i, i)
    if c == "]" then
      depth = depth + 1
    elseif c == "[" then
      if depth == 0 then break end
      depth = depth - 1
    elseif depth == 0 and not c:match("[%w_%.:]") then
      break
    end
    i = i - 1
  end
  return line:sub(i + 1, stop)
end

-- Candidates for "<value><sep><partial>": full strings starting with head
-- (the text before partial). Returns the candidates, how many names match
-- in all, and, when the list stops short, a placeholder: the prefix all
-- matches share, which keeps readline from completing past it.
local function member_candidates(v, sep, partial, head, limit)
  local names = {}
  local total, placeholder = 0, nil
  local h5t = pretty.h5type(v)
  if sep == ":" then
    if h5t then
      local mt = getmetatable(v)
      table_fields(rawget(mt, "__methods") or {}, partial, true, names)
    elseif type(v) == "table" then
      table_fields(v, partial, true, names)
    else
      -- strings, io files and other userdata: the methods of their metatable
      local mt = getmetatable(v)
      local methods = type(mt) == "table" and rawget(mt, "__index")
      if type(methods) == "table" then table_fields(methods, partial, true, names) end
    end
    table.sort(names)
    local out = {}
    for i, n in ipairs(names) do out[i] = head .. n end
    return out, #out
  end
  if h5t == "h5.File" or h5t == "h5.Group" then
    local members = {}
    local shared
    total, shared = with_prefix(member_names(v), partial, members, limit)
    local base = head:sub(1, -2) -- without the "."
    local function bracket(m) return base .. '["' .. m:gsub('[\\"]', "\\%0") .. '"]' end
    local plain = true
    for _, m in ipairs(members) do
      if not pretty.is_identifier(m) then plain = false end
    end
    -- (no placeholder when a member is the shared prefix itself)
    local short = total > #members and members[1] ~= shared
    if plain or #members == 1 then
      for _, m in ipairs(members) do
        names[#names + 1] = pretty.is_identifier(m) and head .. m or bracket(m)
      end
      if short then placeholder = head .. shared end
    else
      -- A name that is no identifier among several: all in brackets, so that
      -- readline's common prefix (f["g) keeps what was typed.
      for _, m in ipairs(members) do names[#names + 1] = bracket(m) end
      return names, total, short and base .. '["' .. shared or nil
    end
  elseif h5t == "h5.Attributes" then
    local keys = explore.attribute_names(v)
    if keys then
      local members = {}
      total = with_prefix(keys, partial, members, limit)
      for _, m in ipairs(members) do
        if pretty.is_identifier(m) then names[#names + 1] = head .. m end
      end
    end
  elseif type(v) == "table" then
    local fields = {}
    table_fields(v, partial, false, fields)
    table.sort(fields)
    for _, k in ipairs(fields) do
      if pretty.is_identifier(k) then names[#names + 1] = head .. k end
    end
    total = #names
  end
  for _, p in ipairs(PROPS[h5t] or {}) do
    if p:sub(1, #partial) == partial then
      names[#names + 1] = head .. p
      total = total + 1
    end
  end
  return names, total, placeholder
end

-- HDF5 path candidates inside a string: text is the path typed so far.
local function path_candidates(base, text, limit)
  local dir, partial = text:match("^(.*/)([^/]*)$")
  if not dir then dir, partial = "", text end
  local loc = base
  if dir:sub(1, 1) == "/" then
    loc = explore.prop(base, "file") or base
  end
  local rel = dir:gsub("^/+", "")
  if rel ~= "" then
    local ok, obj = pcall(loc.get, loc, rel)
    if not ok or not obj or not explore.is_location(obj) then return {}, 0 end
    loc = obj
  end
  local members = {}
  local total, shared = with_prefix(member_names(loc), partial, members, limit)
  local out = {}
  for i, m in ipairs(members) do out[i] = dir .. m end
  if total > #members then
    return out, total, members[1] ~= shared and dir .. shared or nil
  end
  if #members <= repl.completion.kinds_below then
    -- Few enough to look at: groups get a "/" to keep going.
    for i, m in ipairs(members) do
      local ok, obj = pcall(loc.get, loc, m)
      if ok and obj and explore.is_location(obj) then out[i] = out[i] .. "/" end
      if ok then explore.release(obj) end
    end
  end
  return out, total
end

local PATH_METHODS = { get = true, exists = true, delete = true, link_info = true, move = true,
  require_group = true, create_group = true, create_dataset = true, require_dataset = true,
  copy = true, link = true, soft_link = true }
local PATH_HELPERS = { ls = true, cd = true, tree = true, show = true }

-- Completion inside a string literal that starts right before text.
local function string_candidates(line, start, text, limit)
  local before = line:sub(1, start - 1) -- up to, without, the quote
  local base
  local expr = before:match("([%w_%.:%[%]\"']*)%[%s*$")
  if expr and expr ~= "" then
    base = resolve(expr)
  else
    local obj_expr, method = before:match("([%w_%.%[%]\"']+):([%a_][%w_]*)%s*%(%s*$")
    if obj_expr and PATH_METHODS[method] then
      base = resolve(obj_expr)
    else
      local fn = before:match("([%a_][%w_]*)%s*%(%s*$")
      if fn and PATH_HELPERS[fn] and rawget(_G, fn) == helpers[fn] then
        local ok, f = pcall(current_file)
        if ok then
          local got, g = pcall(f.get, f, state.cwd)
          base = state.cwd == "/" and f or (got and g) or nil
        end
      end
    end
  end
  if not explore.is_location(base) then return {}, 0 end
  return path_candidates(base, text, limit)
end

local function global_candidates(partial, limit)
  local names = {}
  table_fields(_G, partial, false, names)
  for k in pairs(pretty.keywords) do
    if k:sub(1, #partial) == partial then names[#names + 1] = k end
  end
  table.sort(names)
  local out = {}
  for i = 1, math.min(#names, limit) do out[i] = names[i] end
  return out, #names
end

-- Position of the quote that opens the string literal `before` ends
-- inside, or nil when it does not end inside one.
local function open_quote(before)
  local quote, pos, i = nil, nil, 1
  while i <= #before do
    local c = before:sub(i, i)
    if quote then
      if c == "\\" then i = i + 1
      elseif c == quote then quote = nil end
    elseif c == '"' or c == "'" then
      quote, pos = c, i
    elseif before:sub(i, i + 1) == "--" then
      return nil
    end
    i = i + 1
  end
  return quote and pos or nil
end

--- Completion candidates for readline: text is the word being completed,
-- line the whole line, start the 0-based offset of text in line. Returns
-- a list of strings that replace text, how many names match in all, and
-- how many entries at the front of the list are candidates. At most
-- repl.completion.limit candidates; when there are more, the list ends with
-- their common prefix (not a candidate: the host does not list it) so that
-- readline still completes only what all of them share.
function repl.complete(text, line, start)
  local limit = repl.completion.limit
  start = (start or 0) + 1 -- 1-based position of text
  line = line or text
  local cands, total, placeholder
  local q = line:sub(start - 1, start - 1)
  if (q == '"' or q == "'") and open_quote(line:sub(1, start - 1)) == start - 1 then
    cands, total, placeholder = string_candidates(line, start - 1, text, limit)
  else
    local stop = start + #text - 1
    local expr = expression_before(line, stop)
    local head, sep, partial = expr:match("^(.-)([%.:])([%w_]*)$")
    if not head then
      cands, total = global_candidates(expr, limit)
    elseif head == "" then
      return {}, 0, 0
    else
      local v, ok = resolve(head)
      if not ok then return {}, 0, 0 end
      cands, total, placeholder = member_candidates(v, sep, partial, head .. sep, limit)
    end
    -- The candidates start with the whole expression; readline replaces
    -- only text, so drop what lies before it.
    local cut = #expr - #text
    if cut > 0 then
      local trimmed = {}
      for _, c in ipairs(cands) do
        if #c > cut then trimmed[#trimmed + 1] = c:sub(cut + 1) end
      end
      cands = trimmed
      placeholder = placeholder and #placeholder > cut and placeholder:sub(cut + 1) or nil
    end
  end
  local listed = #cands
  if placeholder then cands[#cands + 1] = placeholder end
  return cands, math.max(total or 0, listed), listed
end

return repl
