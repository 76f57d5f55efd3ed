--- Exploring HDF5 files: the shared logic of the REPL helpers (ls, tree,
-- show, find) and of the commands ls, tree, show, dump, stats, diff, find.
--
-- Everything here is bounded for wide groups (10^5 members): listings stop
-- at a limit and say how many more there are, trees fold wide groups into
-- `{N members}`, previews read only a small block of a dataset.
--
-- Functions that produce text take `opts.emit` (a function called with each
-- line); without it they return the list of lines.
local h5 = require "h5"
local pretty = require "h5lua.pretty"

local explore = {}

--- Default limits.
-- members: group members listed in REPL previews and `ls()`;
-- fold: groups with more members than this fold in trees;
-- max_depth: how deep an unlimited tree or dump goes, and max_entries how
-- many lines a tree prints (both guard against hard-link cycles);
-- preview: dataset elements read for a preview; dump: elements dumped
-- without `all` (per dataset or attribute), dump_bytes: bytes of a string
-- dumped without `all`; diff_block: elements compared per read.
explore.defaults = {
  members = 20,
  fold = 100,
  max_depth = 32,
  max_entries = 10000,
  preview = 60,
  dump = 1000,
  dump_bytes = 1000,
  diff_block = 1 << 20,
  diff_report = 10,
  diff_virtual = 1e7,
  largest = 10,
}

-- Plain functions for pcall (no closure per call: listings of 10^5
-- members call these a million times).
local function index(obj, key) return obj[key] end
local function length(obj) return #obj end
local function close(obj) return obj:close() end

--- An error message without the "file.lua:line: " Lua puts before it.
function explore.clean_error(e)
  return (tostring(e):gsub("^[^\n]-%.lua:%d+: ", ""))
end
local clean_error = explore.clean_error

local function opt(opts, key)
  if opts and opts[key] ~= nil then return opts[key] end
  return explore.defaults[key]
end

-- Collect lines, or pass them on to opts.emit.
local function sink(opts)
  local lines = {}
  local emit = opts and opts.emit or function(line) lines[#lines + 1] = line end
  return emit, lines
end

-- {=====================================================================
-- Objects and their properties
-- ======================================================================

local KINDS = {
  ["h5.File"] = "file",
  ["h5.Group"] = "group",
  ["h5.Dataset"] = "dataset",
  ["h5.Datatype"] = "datatype",
  ["h5.Attributes"] = "attributes",
  ["h5.Array"] = "array",
}

--- The kind of an h5 value: "file", "group", "dataset", "datatype",
-- "attributes", "array", or nil for anything else. Never raises.
function explore.kind(v)
  local t = pretty.h5type(v)
  if t then return KINDS[t] end
  if type(v) == "userdata" then
    -- An HDF5 object whose kind has no bindings yet.
    local ok, k = pcall(index, v, "kind")
    if ok and type(k) == "string" then return k end
  end
  return nil
end

--- Is v a File or a Group (something with members)?
function explore.is_location(v)
  local k = explore.kind(v)
  return k == "file" or k == "group"
end

--- The properties of each kind of h5 object (what obj.key reads that is
-- not a method). On files and groups, any other key is a member's name.
explore.properties = {
  file = { "attrs", "file", "filename", "freespace", "kind", "libver", "meta_cache", "mode",
    "name", "size" },
  group = { "attrs", "file", "kind", "name" },
  dataset = { "attrs", "chunks", "compression", "compression_opts", "dtype", "file",
    "fillvalue", "filters", "fletcher32", "kind", "layout", "maxshape", "name", "nbytes",
    "ndim", "scaleoffset", "shape", "shuffle", "size", "storage_size" },
  datatype = { "attrs", "dtype", "file", "kind", "name" },
  array = { "dtype", "shape" },
}
local LOCATION_PROPS = {}
for _, k in ipairs({ "file", "group" }) do
  LOCATION_PROPS[k] = {}
  for _, p in ipairs(explore.properties[k]) do LOCATION_PROPS[k][p] = true end
end

--- Read property key of obj, or nil when it is missing or fails. On a file
-- or group, a key that is no property is nil, never the member of that name.
function explore.prop(obj, key)
  local props = LOCATION_PROPS[explore.kind(obj)]
  if props and not props[key] then return nil end
  local ok, v = pcall(index, obj, key)
  if ok then return v end
  return nil
end

--- Close an object we opened for a look (never raises).
function explore.release(obj)
  if type(obj) == "userdata" then
    pcall(close, obj)
  end
end

--- Number of members of a File or Group (nil when it cannot be counted).
function explore.count(g)
  local ok, n = pcall(length, g)
  if ok then return n end
  return nil
end

local DATASET_PROPS = {
  "shape", "dtype", "maxshape", "chunks", "compression", "compression_opts", "shuffle",
  "fletcher32", "scaleoffset", "fillvalue", "size", "nbytes", "storage_size", "layout",
  "filters",
}

--- The creation properties of a dataset, each read under pcall (a property
-- that fails or does not exist is simply absent).
-- @treturn table {shape=, dtype=, maxshape=, chunks=, compression=, ...}
function explore.dataset_props(d)
  local p = {}
  for _, k in ipairs(DATASET_PROPS) do p[k] = explore.prop(d, k) end
  if type(p.dtype) ~= "string" then p.dtype = p.dtype and tostring(p.dtype) or "?" end
  return p
end

-- One filter of the pipeline (h5's d.filters) as a short string.
local function filter_text(fl)
  local name, v = fl.name, fl.values or {}
  if name == "gzip" then return v[1] and ("gzip " .. v[1]) or "gzip" end
  if name == "scaleoffset" then return "scaleoffset " .. tostring(v[2] or 0) end
  if name == "shuffle" or name == "fletcher32" or name == "szip" or name == "lzf"
      or name == "nbit" then
    return name
  end
  if name and name ~= "" then return string.format("%s (filter %d)", name, fl.id or -1) end
  return "filter " .. tostring(fl.id)
end

--- The filters of a dataset as short strings, in pipeline order:
-- {"shuffle", "gzip 6"}; from the properties read by dataset_props.
function explore.filters(p)
  local list = {}
  if type(p.filters) == "table" then
    for i, fl in ipairs(p.filters) do list[i] = filter_text(fl) end
    return list
  end
  local c = p.compression
  if c ~= nil and c ~= false then
    local s = type(c) == "number" and ("filter " .. math.tointeger(c)) or tostring(c)
    local o = p.compression_opts
    if type(o) == "number" then
      s = s .. " " .. pretty.number(o)
    elseif type(o) == "table" and #o > 0 then
      local parts = {}
      for i, v in ipairs(o) do parts[i] = tostring(v) end
      s = s .. " " .. table.concat(parts, " ")
    end
    list[#list + 1] = s
  end
  if p.shuffle == true then list[#list + 1] = "shuffle" end
  if p.fletcher32 == true then list[#list + 1] = "fletcher32" end
  if type(p.scaleoffset) == "number" then
    list[#list + 1] = "scaleoffset " .. math.tointeger(p.scaleoffset)
  elseif p.scaleoffset == true then
    list[#list + 1] = "scaleoffset"
  end
  return list
end

local function is_unlimited(v)
  return v == h5.UNLIMITED or v == -1 or v == math.huge or v == "unlimited"
end

--- A shape for display: "{100, 3}", "scalar", "empty" (null dataspace).
function explore.shape_text(shape)
  if shape == nil or shape == h5.EMPTY then return "empty" end
  if type(shape) ~= "table" then return tostring(shape) end
  if #shape == 0 then return "scalar" end
  local parts = {}
  for i, n in ipairs(shape) do parts[i] = is_unlimited(n) and "unlimited" or tostring(n) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function product(shape)
  local n = 1
  for _, v in ipairs(shape) do n = n * v end
  return n
end

--- One-line description of an object, without its name:
-- "group (3 members)", "dataset {100, 3} float64, gzip 6", "datatype int32".
function explore.describe(obj)
  local k = explore.kind(obj)
  if k == "group" or k == "file" then
    local n = explore.count(obj)
    if not n then return "group (members unknown)" end
    return string.format("group (%d member%s)", n, n == 1 and "" or "s")
  elseif k == "dataset" then
    local p = explore.dataset_props(obj)
    local s = "dataset " .. explore.shape_text(p.shape) .. " " .. p.dtype
    local filters = explore.filters(p)
    if #filters > 0 then s = s .. ", " .. table.concat(filters, ", ") end
    return s
  elseif k == "datatype" then
    local dt = explore.prop(obj, "dtype")
    return "datatype" .. (dt and (" " .. tostring(dt)) or "")
  end
  return k or "object"
end

--- The header line of an object, as the REPL prints it:
-- `<dataset "/x": shape {100, 3}, float64, gzip 6>`, `<group "/g" (3 members)>`,
-- `<file "x.h5" (r, 9.6 KB): 3 members>`.
local function header(obj)
  local k = explore.kind(obj)
  local ok, name = pcall(index, obj, "name")
  if not ok then return tostring(obj) end
  if k == "file" then
    local n = explore.count(obj) or 0
    return string.format('<file "%s" (%s, %s): %d member%s>', explore.prop(obj, "filename") or "?",
      explore.prop(obj, "mode") or "?", pretty.bytes(explore.prop(obj, "size")), n,
      n == 1 and "" or "s")
  elseif k == "group" then
    local n = explore.count(obj) or 0
    return string.format('<group "%s" (%d member%s)>', name, n, n == 1 and "" or "s")
  elseif k == "dataset" then
    local p = explore.dataset_props(obj)
    local parts = { (p.shape == nil or #p.shape == 0) and explore.shape_text(p.shape)
      or ("shape " .. explore.shape_text(p.shape)), p.dtype }
    for _, f in ipairs(explore.filters(p)) do parts[#parts + 1] = f end
    return string.format('<dataset "%s": %s>', name, table.concat(parts, ", "))
  elseif k == "datatype" then
    return string.format('<datatype "%s": %s>', name, tostring(explore.prop(obj, "dtype") or "?"))
  end
  return tostring(obj)
end

--- The header line of an object (control characters escaped).
function explore.header(obj)
  return explore.visible(header(obj))
end

-- {=====================================================================
-- Reading previews
-- ======================================================================

--- A bounded block at the start of a dataset: the selection to read and
-- the block's shape. Keeps at most `limit` elements (at least one along
-- each dimension): the last dimension first, then the middle ones, then
-- as many rows as fit. caps.rows and caps.cols bound the first and the last
-- dimension further (previews keep them short).
-- @treturn table|nil selection, one {1, n} per dimension (nil for a scalar)
-- @treturn table the block's shape
function explore.head_selection(shape, limit, caps)
  local rank = #shape
  if rank == 0 then return nil, {} end
  caps = caps or {}
  local block = {}
  local function after(d)
    local n = 1
    for i = d + 1, rank do n = n * block[i] end
    return n
  end
  if rank >= 2 then
    block[rank] = math.min(shape[rank], math.max(1, limit // 2), caps.cols or math.huge)
    for d = rank - 1, 2, -1 do
      block[d] = math.min(shape[d], math.max(1, (limit // after(d)) // 2), caps.cols or math.huge)
    end
  end
  block[1] = math.min(shape[1], math.max(1, limit // after(1)), caps.rows or math.huge)
  local sel = {}
  for i = 1, rank do
    block[i] = math.max(block[i], 0)
    sel[i] = { 1, math.max(block[i], 1) }
  end
  return sel, block
end

-- Flatten nested tables of a block (row-major), up to n elements.
local function flatten(v, rank, n)
  local out = {}
  local function rec(t, d)
    if #out >= n then return end
    if d > rank or type(t) ~= "table" then
      out[#out + 1] = t
      return
    end
    for i = 1, #t do rec(t[i], d + 1) end
  end
  rec(v, 1)
  return out
end

--- Element access on a value read from a dataset: an h5.array, a nested
-- table, or a single value. Returns get(k) for flat, 1-based k.
function explore.accessor(v, rank, n)
  if pretty.h5type(v) == "h5.Array" then return function(k) return v[k] end end
  if type(v) == "table" and rank > 0 then
    local flat = flatten(v, rank, n)
    return function(k) return flat[k] end
  end
  return function() return v end
end

--- Read a bounded block from the start of dataset d.
-- @treturn value|nil the data read (nil when it cannot be read)
-- @treturn table|string the block shape, or the reason it could not be read
function explore.read_head(d, limit, caps)
  local shape = explore.prop(d, "shape")
  if shape == nil or shape == h5.EMPTY then return nil, "empty" end
  if product(shape) == 0 then return nil, "no elements" end
  local sel, block = explore.head_selection(shape, limit, caps)
  local ok, v = pcall(function()
    if sel then return d:read(table.unpack(sel)) end
    return d:read()
  end)
  if not ok then return nil, clean_error(v) end
  return v, block
end

--- The first values of a dataset, formatted (one or more lines).
function explore.preview_values(d, opts)
  local o = pretty.options(opts)
  local shape = explore.prop(d, "shape")
  local v, block = explore.read_head(d, opt(opts, "preview"), { rows = 6, cols = 10 })
  if v == nil and type(block) == "string" then
    if block == "empty" or block == "no elements" then
      return pretty.paint("(" .. block .. ")", "dim", o.color)
    end
    return pretty.paint("(cannot read: " .. block .. ")", "error", o.color)
  end
  if #block == 0 then
    if pretty.h5type(v) == "h5.Array" then v = v[1] end
    return pretty.inline(v, o)
  end
  local get = explore.accessor(v, #block, product(block))
  return pretty.nd(get, block, shape, o, pretty.array_elem(o))
end

-- {=====================================================================
-- Members of a group
-- ======================================================================

--- Describe the link `name` in group g: a table {name=, kind=, link=,
-- target=, dangling=, desc=} where kind is the object's kind ("group",
-- "dataset", ...; nil when the link dangles or is not followed) and link is
-- "hard", "soft", "external" or "user". External links are not followed.
function explore.entry(g, name)
  local e = { name = name, link = "hard" }
  local ok, info = pcall(g.link_info, g, name)
  if ok and info then
    e.link = info.kind
    e.target = info.target
    e.file = info.file
    e.dangling = info.dangling
  end
  if e.link == "external" or e.link == "user" or e.dangling then
    return e
  end
  local got, obj = pcall(g.get, g, name)
  if got and obj then
    e.kind = explore.kind(obj) or "object"
    e.desc = explore.describe(obj)
    if e.kind == "group" then e.members = explore.count(obj) end
    explore.release(obj)
  elseif not got then
    e.error = clean_error(obj)
  else
    e.dangling = true
  end
  return e
end

--- The names of g's members, and their total count; at most limit names
-- (all of them without a limit).
function explore.names(g, limit)
  local names = g:keys()
  local total = #names
  if limit and total > limit then
    local first = {}
    for i = 1, limit do first[i] = names[i] end
    names = first
  end
  return names, total
end

--- s with control characters escaped ("\n"), for one-line output.
function explore.visible(s)
  s = tostring(s)
  if not s:find("%c") then return s end
  return (s:gsub("%c", function(c)
    local map = { ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r" }
    return map[c] or string.format("\\%03d", c:byte())
  end))
end

-- The name an entry shows: groups (hard links to them) end with "/".
local function display_name(e)
  local name = explore.visible(e.name)
  if e.kind == "group" and e.link == "hard" then name = name .. "/" end
  return name
end

-- The column width for a list of entries (at most 40).
local function entries_width(entries)
  local w = 0
  for _, e in ipairs(entries) do w = math.max(w, #display_name(e)) end
  return math.min(w, 40)
end

--- Format one member entry as a line: name (groups end with "/"), padded
-- to width, then what it is.
function explore.entry_line(e, width, color)
  local name = display_name(e)
  local style = e.kind == "group" and "group" or e.kind == "datatype" and "datatype" or "dataset"
  if e.link == "soft" or e.link == "external" then style = "link" end
  if e.dangling or e.error then style = "dangling" end
  local desc
  if e.link == "soft" then
    desc = "soft link -> " .. tostring(e.target)
    if e.dangling then desc = desc .. " (dangling)"
    elseif e.desc then desc = desc .. " (" .. e.desc .. ")" end
  elseif e.link == "external" then
    desc = string.format("external link -> %s:%s", tostring(e.file), tostring(e.target))
    if e.dangling then desc = desc .. " (dangling)" end
  elseif e.link == "user" then
    desc = "user-defined link"
  elseif e.error then
    desc = "unreadable: " .. e.error
  elseif e.dangling then
    desc = "dangling link"
  else
    desc = e.desc or "?"
  end
  local pad = string.rep(" ", math.max(0, width - #name))
  return pretty.paint(name, style, color) .. pad .. "  " ..
    pretty.paint(explore.visible(desc), "dim", color)
end


--- A short listing of a group for previews: up to opts.members entries,
-- then "... N more".
function explore.listing(g, opts)
  local o = pretty.options(opts)
  local limit = opt(opts, "members")
  local names, total = explore.names(g, limit)
  local lines, entries = {}, {}
  for i, name in ipairs(names) do entries[i] = explore.entry(g, name) end
  local width = entries_width(entries)
  for _, e in ipairs(entries) do
    lines[#lines + 1] = "  " .. explore.entry_line(e, width, o.color)
  end
  if total > #names then
    lines[#lines + 1] = pretty.paint(string.format("  ... %d more (%d members)", total - #names,
      total), "dim", o.color)
  end
  return lines
end

--- A value as the REPL prints it at top level: the header of an object
-- plus a listing (groups) or a preview of the first values (datasets).
function explore.preview(obj, opts)
  local o = pretty.options(opts)
  local k = explore.kind(obj)
  local ok, text = pcall(function()
    local head = pretty.paint(explore.header(obj), "header", o.color)
    if k == "file" or k == "group" then
      local lines = explore.listing(obj, o)
      if #lines == 0 then return head end
      return head .. "\n" .. table.concat(lines, "\n")
    elseif k == "dataset" then
      return head .. "\n" .. explore.preview_values(obj, o)
    elseif k == "attributes" then
      return explore.attributes_text(obj, o)
    end
    return head
  end)
  if ok then return text end
  return tostring(obj) .. " " .. pretty.paint("(" .. tostring(text) .. ")", "error", o.color)
end

--- One line for an h5 value nested in a table.
function explore.inline(obj, opts)
  local ok, s = pcall(explore.header, obj)
  if ok then return s end
  return tostring(obj)
end

-- {=====================================================================
-- Attributes
-- ======================================================================

local function keys(obj) return obj:keys() end

--- The names of the attributes in attrs (an h5.Attributes), sorted; or nil
-- and why they cannot be listed (attributes that do not decode: the binding
-- refuses them before libhdf5 lists them, see attrs.c).
function explore.attribute_names(attrs)
  local got, names = pcall(keys, attrs)
  if not got then
    local why = tostring(names):match("^h5: cannot list attributes of '.-': (.*)$")
    return nil, why and "cannot list attributes: " .. why or clean_error(names)
  end
  table.sort(names)
  return names
end

--- The attributes of obj as a sorted list of {name=, value=} or
-- {name=, error=} (an attribute that cannot be read does not stop the rest).
function explore.attributes(obj)
  local attrs = explore.prop(obj, "attrs")
  if not attrs then return {} end
  local names, why = explore.attribute_names(attrs)
  if not names then return { { name = "?", error = why } } end
  local list = {}
  for _, name in ipairs(names) do
    local got, v = pcall(attrs.get, attrs, name)
    if got then list[#list + 1] = { name = name, value = v }
    else list[#list + 1] = { name = name, error = clean_error(v) } end
  end
  return list
end

--- Attribute lines "name = value", values bounded (unless opts.all).
function explore.attribute_lines(obj, opts, indent)
  local o = pretty.options(opts)
  local all = opts and opts.all
  local lines = {}
  indent = indent or ""
  for _, a in ipairs(explore.attributes(obj)) do
    local value
    if a.error then
      value = pretty.paint("(cannot read: " .. a.error .. ")", "error", o.color)
    elseif a.value == h5.EMPTY then
      value = pretty.paint("(empty)", "dim", o.color)
    else
      value = pretty.inline(a.value, { color = o.color, string = all and math.huge or 80,
        items = all and math.huge or 10, depth = all and math.huge or 2,
        width = all and math.huge or 80, edge = all and math.huge or 3 })
      value = value:gsub("\n%s*", " ")
    end
    lines[#lines + 1] = indent .. pretty.paint(a.name, "key", o.color) .. " = " .. value
  end
  return lines
end

function explore.attributes_text(attrs, opts)
  local o = pretty.options(opts)
  local names = explore.attribute_names(attrs)
  if not names then return tostring(attrs) end
  local head = string.format("<attributes: %d>", #names)
  local lines = { head }
  for i, name in ipairs(names) do
    if i > o.items then
      lines[#lines + 1] = string.format("  ... %d more", #names - o.items)
      break
    end
    local got, v = pcall(attrs.get, attrs, name)
    local value = got and pretty.inline(v, { color = o.color, string = 80, items = 10, depth = 2 })
      or pretty.paint("(cannot read: " .. tostring(v) .. ")", "error", o.color)
    lines[#lines + 1] = "  " .. name .. " = " .. value:gsub("\n%s*", " ")
  end
  return table.concat(lines, "\n")
end

-- {=====================================================================
-- Opening files and paths
-- ======================================================================

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then
    f:close()
    return true
  end
  return false
end

--- Split "FILE[:PATH]": the file part is the longest prefix that names an
-- existing file (file names may hold ':').
-- @treturn string file
-- @treturn string|nil path inside the file
function explore.split_target(spec)
  if file_exists(spec) then return spec, nil end
  local pos = #spec
  while true do
    local i = spec:sub(1, pos):match(".*():")
    if not i then break end
    local file = spec:sub(1, i - 1)
    if file ~= "" and file_exists(file) then return file, spec:sub(i + 1) end
    pos = i - 1
  end
  return spec, nil
end

--- Open an HDF5 file read-only for a command.
-- @treturn File|nil
-- @treturn string the error message (as h5 raised it)
function explore.open(path, mode)
  local ok, f = pcall(h5.open, path, mode or "r")
  if not ok then return nil, tostring(f) end
  return f
end

--- Resolve path (absolute, or relative to base) to an object.
-- @treturn object|nil
-- @treturn string why not
function explore.resolve(base, path)
  if path == nil or path == "" or path == "." then return base end
  if path:match("^/+$") then return explore.prop(base, "file") or base end
  local ok, obj, why = pcall(base.get, base, path)
  if not ok then return nil, tostring(obj) end
  if obj == nil then
    local name = path
    if path:sub(1, 1) ~= "/" then
      local bn = explore.prop(base, "name") or "/"
      name = (bn == "/" and "/" or bn .. "/") .. path
    end
    return nil, string.format("%s: %s", name, why or "no such object")
  end
  return obj
end

--- Join a group path and a member name.
function explore.join(base, name)
  if base == "" or base == "/" then return "/" .. name end
  return base .. "/" .. name
end


--- Run a command's job on a file opened read-only: job(file, object) where
-- object is path resolved in the file (the file itself without a path);
-- traceback adds the Lua traceback to a failure's message.
-- Problems with the file (cannot open it, no such path, a read that fails)
-- become (nil, message, 1), so that every command exits 0 or 1 on any
-- input file, with one clear line; the file is closed in all cases.
-- @treturn true|nil
-- @treturn string|nil message
-- @treturn integer|nil exit code
function explore.with_file(path, objpath, job, traceback)
  if traceback == nil then
    local ok, host = pcall(require, "h5lua.host")
    traceback = ok and type(host) == "table" and host.traceback
  end
  local f, err = explore.open(path, "r")
  if not f then return nil, err, 1 end
  local obj, why = f, nil
  if objpath and objpath ~= "" and objpath ~= "/" then
    obj, why = explore.resolve(f, objpath)
  end
  local results
  if obj then
    results = table.pack(xpcall(job, function(e)
      if traceback then return debug.traceback(clean_error(e), 2) end
      return clean_error(e)
    end, f, obj))
  end
  pcall(f.close, f)
  if not obj then return nil, string.format("%s: %s", path, why), 1 end
  if not results[1] then return nil, results[2], 1 end
  if results[2] == nil then return true end
  return table.unpack(results, 2, results.n)
end

--- Write lines to stdout as they come (for opts.emit).
function explore.printer(stream)
  stream = stream or io.stdout
  return function(line) stream:write(line, "\n") end
end

-- {=====================================================================
-- ls
-- ======================================================================

--- List a group (one line per member) or describe a single object;
-- recursively (every object below, as h5py's visit) with opts.recursive.
-- opts.limit bounds the number of members listed (the rest is counted).
-- @treturn table|nil the lines, when opts.emit is not given
function explore.ls(obj, opts)
  opts = opts or {}
  local emit, lines = sink(opts)
  local color = opts.color
  if not explore.is_location(obj) then
    local name = explore.prop(obj, "name") or "?"
    emit(explore.entry_line({ name = name, kind = explore.kind(obj),
      desc = explore.describe(obj), link = "hard" }, #name, color))
    return lines
  end
  if opts.recursive then
    local paths = {}
    obj:visit(function(path, o)
      local e = { name = path, link = "hard" }
      if o then
        e.kind = explore.kind(o) or "object"
        e.desc = explore.describe(o)
        explore.release(o)
      else
        e.dangling = true
      end
      paths[#paths + 1] = e
      if #paths >= 1000 then
        local w = entries_width(paths)
        for _, x in ipairs(paths) do emit(explore.entry_line(x, w, color)) end
        paths = {}
      end
    end)
    local w = entries_width(paths)
    for _, x in ipairs(paths) do emit(explore.entry_line(x, w, color)) end
    return lines
  end
  local names, total = explore.names(obj, opts.limit)
  -- Entries in batches: aligned within a batch, streamed for wide groups.
  local i = 1
  while i <= #names do
    local batch = {}
    for k = i, math.min(#names, i + 999) do batch[#batch + 1] = explore.entry(obj, names[k]) end
    local width = entries_width(batch)
    for _, e in ipairs(batch) do emit(explore.entry_line(e, width, color)) end
    i = i + #batch
  end
  if total > #names then
    emit(pretty.paint(string.format("... %d more (%d members)", total - #names, total), "dim",
      color))
  end
  return lines
end

-- {=====================================================================
-- tree
-- ======================================================================

--- Draw the tree below obj. opts.depth limits the levels shown (nil: no
-- limit, but never deeper than max_depth); groups with more than opts.fold
-- members show `{N members}` instead of their members, and the top group
-- lists at most opts.fold members; at most max_entries lines follow the
-- first. The depth and line limits stop hard-link cycles (a group that
-- contains its ancestor), which the h5 bindings cannot tell from Lua.
-- opts.all lifts the fold and line limits; opts.hint says how, in the
-- line that tells the tree was cut.
function explore.tree(obj, opts)
  opts = opts or {}
  local emit, lines = sink(opts)
  local color = opts.color
  local fold = opts.all and math.huge or opt(opts, "fold")
  local depth = opts.depth or opt(opts, "max_depth")
  local budget = opts.all and math.huge or opt(opts, "max_entries")
  local stopped = false
  local function put(line)
    if budget <= 0 then
      stopped = true
      return
    end
    budget = budget - 1
    emit(line)
  end
  local top = explore.prop(obj, "name") or "/"
  if explore.kind(obj) == "file" then top = explore.prop(obj, "filename") or "/" end
  if not explore.is_location(obj) then
    emit(pretty.paint(top, "dataset", color) .. "  " .. pretty.paint(explore.describe(obj), "dim",
      color))
    return lines
  end
  local n = explore.count(obj) or 0
  emit(pretty.paint(top, "group", color) .. pretty.paint(string.format("  (%d member%s)", n,
    n == 1 and "" or "s"), "dim", color))
  local function walk(g, prefix, level, limit)
    local names, total = explore.names(g, limit)
    for i, name in ipairs(names) do
      if stopped then return end
      local last = i == #names and total <= #names
      local branch = last and "└── " or "├── "
      local e = explore.entry(g, name)
      local label
      if e.kind == "group" and e.link == "hard" then
        label = pretty.paint(name .. "/", "group", color)
        local m = e.members or 0
        local expand = level < depth and m > 0 and m <= fold
        if not expand and m > 0 then
          label = label .. "  " .. pretty.paint(string.format("{%d member%s}", m,
            m == 1 and "" or "s"), "dim", color)
        end
        put(prefix .. branch .. label)
        if expand then
          local child = g:get(name)
          walk(child, prefix .. (last and "    " or "│   "), level + 1, nil)
          explore.release(child)
        end
      else
        local line = explore.entry_line(e, 0, color)
        put(prefix .. branch .. line)
      end
    end
    if total > #names and not stopped then
      put(prefix .. "└── " .. pretty.paint(string.format("... %d more (%d members)",
        total - #names, total), "dim", color))
    end
  end
  if depth > 0 then walk(obj, "", 1, fold) end
  if stopped then
    emit(pretty.paint(string.format("... stopped after %d lines (%s)", opt(opts, "max_entries"),
      opts.hint or "--depth, --fold or --all"), "dim", color))
  end
  return lines
end

-- {=====================================================================
-- show
-- ======================================================================

local function ratio(stored, nbytes)
  if type(stored) ~= "number" or type(nbytes) ~= "number" or stored == 0 then return nil end
  return nbytes / stored
end

--- Every property of an object, one per line: kind and path, then for
-- datasets dtype, shape, max shape, layout and chunks, filters, fill value,
-- sizes and compression ratio; for groups the member count; for files the
-- file name, mode and size; then all attributes.
function explore.show(obj, opts)
  opts = opts or {}
  local emit, lines = sink(opts)
  local color = opts.color
  local k = explore.kind(obj) or "object"
  local function field(name, value)
    emit(string.format("  %-12s %s", name, value))
  end
  emit(pretty.paint(explore.header(obj), "header", color))
  if k == "file" then
    field("file", tostring(explore.prop(obj, "filename")))
    field("mode", tostring(explore.prop(obj, "mode")))
    field("size", pretty.bytes(explore.prop(obj, "size")) .. string.format(" (%s bytes)",
      tostring(explore.prop(obj, "size"))))
    local lv = explore.prop(obj, "libver")
    if lv then field("libver", tostring(lv)) end
    field("members", tostring(explore.count(obj)))
  elseif k == "group" then
    field("path", tostring(explore.prop(obj, "name")))
    field("members", tostring(explore.count(obj)))
  elseif k == "dataset" then
    local p = explore.dataset_props(obj)
    field("path", tostring(explore.prop(obj, "name")))
    field("dtype", p.dtype)
    field("shape", explore.shape_text(p.shape))
    if type(p.maxshape) == "table" then field("maxshape", explore.shape_text(p.maxshape)) end
    if type(p.size) == "number" then field("elements", tostring(p.size)) end
    local layout = p.layout
    if type(p.chunks) == "table" then
      field("layout", "chunked " .. explore.shape_text(p.chunks))
    elseif layout then
      field("layout", tostring(layout))
    else
      field("layout", "contiguous")
    end
    local filters = explore.filters(p)
    field("filters", #filters > 0 and table.concat(filters, ", ") or "none")
    if p.fillvalue ~= nil then field("fill value", pretty.inline(p.fillvalue, { string = 60 })) end
    if type(p.nbytes) == "number" then
      field("data size", pretty.bytes(p.nbytes) .. string.format(" (%d bytes)", p.nbytes))
    end
    if type(p.storage_size) == "number" then
      local r = ratio(p.storage_size, p.nbytes)
      field("stored", pretty.bytes(p.storage_size) .. string.format(" (%d bytes)", p.storage_size)
        .. (r and string.format(", ratio %.2f", r) or ""))
    end
  elseif k == "datatype" then
    field("path", tostring(explore.prop(obj, "name")))
    field("dtype", tostring(explore.prop(obj, "dtype")))
  end
  local attrs = explore.attribute_lines(obj, { color = color }, "    ")
  emit(string.format("  attributes   %d", #attrs))
  for _, line in ipairs(attrs) do emit(line) end
  return lines
end

-- {=====================================================================
-- find
-- ======================================================================

--- Absolute paths of the objects below obj (obj itself included) whose
-- path matches the Lua pattern; each object once, as h5py's visit.
-- @raise on a malformed pattern ("find: bad pattern '...': ...")
function explore.find(obj, pattern, opts)
  local ok, err = pcall(string.find, "", pattern)
  if not ok then
    local why = tostring(err):gsub("^.-:%d+: ", "")
    error(string.format("find: bad pattern '%s': %s", pattern, why), 0)
  end
  opts = opts or {}
  local emit, lines = sink(opts)
  local base = explore.prop(obj, "name") or "/"
  if base:find(pattern) then emit(base) end
  if explore.is_location(obj) then
    obj:visit(function(path, o)
      explore.release(o)
      local full = explore.join(base, path)
      if full:find(pattern) then emit(full) end
    end)
  end
  return lines
end

-- {=====================================================================
-- JSON (dump)
-- ======================================================================

-- Our own encoder rather than lua-cjson: dump must keep every digit of a
-- float (cjson keeps 14), tell 3.0 from 3, write NaN and infinities in a
-- form JSON parsers accept, print {} as [] and sort keys (stable output).
local json = {}

local function json_string(s)
  -- Bytes that are not valid UTF-8 are kept as U+0000..U+00FF (Latin-1).
  local valid = utf8.len(s) ~= nil
  local out = s:gsub('[%c"\\\128-\255]', function(c)
    local b = c:byte()
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    if c == "\n" then return "\\n" end
    if c == "\t" then return "\\t" end
    if c == "\r" then return "\\r" end
    if b < 32 or b == 127 then return string.format("\\u%04x", b) end
    if valid then return c end
    return string.format("\\u%04x", b)
  end)
  return '"' .. out .. '"'
end

--- Encode a Lua value as JSON (numbers exactly, NaN and infinities as the
-- strings "NaN", "Infinity", "-Infinity"; tables with 1..n as arrays).
function json.encode(v, indent, level)
  level = level or 0
  local t = type(v)
  if v == nil or v == h5.EMPTY then return "null" end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    if v ~= v then return '"NaN"' end
    if v == math.huge then return '"Infinity"' end
    if v == -math.huge then return '"-Infinity"' end
    local s = pretty.number(v)
    return s
  end
  if t == "string" then return json_string(v) end
  if pretty.h5type(v) == "h5.Array" then
    local shape = v.shape
    local get = function(k) return v[k] end
    return json.encode(explore.nested(get, shape), indent, level)
  end
  if t ~= "table" then return json_string(tostring(v)) end
  local nl, pad, pad_in = "", "", ""
  if indent then
    nl = "\n"
    pad = string.rep(indent, level)
    pad_in = string.rep(indent, level + 1)
  end
  local n = #v
  local is_array = n > 0 or next(v) == nil
  if is_array then
    for k in pairs(v) do
      if math.type(k) ~= "integer" or k < 1 or k > n then
        is_array = false
        break
      end
    end
  end
  if is_array then
    if n == 0 then return "[]" end
    local parts = {}
    local flat = true
    for i = 1, n do
      parts[i] = json.encode(v[i], indent, level + 1)
      if type(v[i]) == "table" then flat = false end
    end
    if flat or not indent then return "[" .. table.concat(parts, ", ") .. "]" end
    return "[" .. nl .. pad_in .. table.concat(parts, "," .. nl .. pad_in) .. nl .. pad .. "]"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do
    parts[#parts + 1] = json_string(tostring(k)) .. ": " .. json.encode(v[k], indent, level + 1)
  end
  if not indent then return "{" .. table.concat(parts, ", ") .. "}" end
  return "{" .. nl .. pad_in .. table.concat(parts, "," .. nl .. pad_in) .. nl .. pad .. "}"
end
explore.json = json

--- Nested Lua tables of a block given element access get(k) and its shape.
function explore.nested(get, shape)
  local rank = #shape
  if rank == 0 then return get(1) end
  local strides, s = {}, 1
  for d = rank, 1, -1 do
    strides[d] = s
    s = s * shape[d]
  end
  local function rec(d, offset)
    local t = {}
    for i = 1, shape[d] do
      if d == rank then t[i] = get(offset + i)
      else t[i] = rec(d + 1, offset + (i - 1) * strides[d]) end
    end
    return t
  end
  return rec(1, 0)
end

-- A dataset's data as a JSON-ready value, bounded unless all.
local function dataset_data(d, all, limit)
  local shape = explore.prop(d, "shape")
  if shape == nil or shape == h5.EMPTY then return nil, false end
  local total = product(shape)
  local v, block
  if all or total <= limit then
    local ok, r = pcall(d.read, d)
    if not ok then return nil, false, clean_error(r) end
    v, block = r, shape
  else
    v, block = explore.read_head(d, limit)
    if v == nil then return nil, false, block end
  end
  if #block == 0 then
    if pretty.h5type(v) == "h5.Array" then v = v[1] end
    return v, false
  end
  local get = explore.accessor(v, #block, product(block))
  local data = explore.nested(get, block)
  return data, product(block) < total
end

--- A value read from a dataset or an attribute (nested tables, strings),
-- bounded for a dump: at most limit elements (a block from the start, as
-- read_head takes of a dataset) and strings at most max_bytes long.
-- Returns the value and, when something was left out, what: {shape = the
-- full shape} when elements were, {bytes = the full length} when a lone
-- string was cut, {strings = how many} when strings inside were.
function explore.bounded(v, limit, max_bytes)
  local strings_cut = 0
  local function leaf(x)
    if type(x) == "string" then
      if #x <= max_bytes then return x end
      strings_cut = strings_cut + 1
      return pretty.utf8_cut(x, max_bytes)
    elseif type(x) == "table" then -- compound fields, ragged rows
      local t = {}
      for key, e in pairs(x) do t[key] = leaf(e) end
      return t
    end
    return x
  end
  if type(v) == "string" then
    if #v <= max_bytes then return v, nil end
    return pretty.utf8_cut(v, max_bytes), { bytes = #v }
  end
  local info = {}
  local dims, t = {}, v
  while type(t) == "table" and t[1] ~= nil do
    dims[#dims + 1] = #t
    t = t[1]
  end
  if #dims > 0 and product(dims) > limit then
    local _, block = explore.head_selection(dims, limit)
    local function rec(x, d)
      if type(x) ~= "table" then return leaf(x) end
      local part = {}
      for i = 1, math.min(block[d], #x) do
        part[i] = d == #dims and leaf(x[i]) or rec(x[i], d + 1)
      end
      return part
    end
    v = rec(v, 1)
    info.shape = dims
  else
    v = leaf(v)
  end
  if strings_cut > 0 then info.strings = strings_cut end
  return v, next(info) and info or nil
end

--- A JSON-ready description of an object and what is below it: kind,
-- path, attributes, and for datasets shape, dtype and data. Unless
-- opts.all, data and attribute values keep at most opts.limit elements and
-- strings at most 1000 bytes: "truncated": true says a dataset's data was
-- cut ("bytes": the length of a scalar string), "truncated_attributes"
-- what was cut of which attribute ({"shape": [...]}, {"bytes": n} or
-- {"strings": how many}).
function explore.dump_value(obj, opts, level)
  opts = opts or {}
  level = level or 0
  local limit = opts.limit or explore.defaults.dump
  local max_bytes = opt(opts, "dump_bytes")
  local k = explore.kind(obj) or "object"
  local out = { path = explore.prop(obj, "name"), kind = k }
  local attrs, cut = {}, {}
  for _, a in ipairs(explore.attributes(obj)) do
    if a.error then attrs[a.name] = { error = a.error }
    elseif opts.all then attrs[a.name] = a.value
    else attrs[a.name], cut[a.name] = explore.bounded(a.value, limit, max_bytes) end
  end
  if next(attrs) then out.attributes = attrs end
  if next(cut) then out.truncated_attributes = cut end
  if k == "dataset" then
    local p = explore.dataset_props(obj)
    out.dtype = p.dtype
    out.shape = p.shape
    local filters = explore.filters(p)
    if #filters > 0 then out.filters = filters end
    local data, truncated, err = dataset_data(obj, opts.all, limit)
    if err then out.error = err
    else
      local cut_info
      if not opts.all then data, cut_info = explore.bounded(data, math.huge, max_bytes) end
      out.data = data
      if truncated or cut_info then out.truncated = true end
      if cut_info then out.bytes, out.strings_cut = cut_info.bytes, cut_info.strings end
    end
  elseif k == "group" or k == "file" then
    local members = {}
    local names, total = explore.names(obj, not opts.all and limit or nil)
    for _, name in ipairs(names) do
      local e = explore.entry(obj, name)
      if e.link == "hard" and e.kind then
        local child = obj:get(name)
        if opts.recurse == false or level >= opt(opts, "max_depth") then
          members[name] = { kind = e.kind, path = explore.prop(child, "name") }
        else
          members[name] = explore.dump_value(child, opts, level + 1)
        end
        explore.release(child)
      else
        members[name] = { link = e.link, target = e.target, file = e.file,
          dangling = e.dangling or nil, error = e.error }
      end
    end
    out.members = members
    if total > #names then
      out.truncated = true
      out.member_count = total
    end
  end
  return out
end

--- Dump an object as text (values formatted for reading) or JSON.
function explore.dump(obj, opts)
  opts = opts or {}
  local emit, lines = sink(opts)
  if opts.json then
    emit(json.encode(explore.dump_value(obj, opts), "  "))
    return lines
  end
  local limit = opts.limit or explore.defaults.dump
  local function rec(o, level)
    local pad = string.rep("  ", level)
    local k = explore.kind(o)
    emit(pad .. pretty.paint(explore.header(o), "header", opts.color))
    for _, line in ipairs(explore.attribute_lines(o, { color = opts.color, all = opts.all },
        pad .. "  @")) do
      emit(line)
    end
    if k == "dataset" then
      local data, truncated, err = dataset_data(o, opts.all, limit)
      if err then
        emit(pad .. "  " .. pretty.paint("(cannot read: " .. err .. ")", "error", opts.color))
      elseif data ~= nil then
        local shape = explore.prop(o, "shape")
        local text
        if type(data) == "table" and #shape > 0 then
          local block = {}
          local t = data
          for d = 1, #shape do
            block[d] = type(t) == "table" and #t or 0
            t = type(t) == "table" and t[1] or nil
          end
          local flat = flatten(data, #shape, math.huge)
          text = pretty.nd(function(i) return flat[i] end, block, truncated and shape or block,
            { color = opts.color, string = opts.all and math.huge or 200, depth = 4,
              indent = #pad + 2 }, pretty.array_elem(pretty.options({ color = opts.color })))
        else
          text = pretty.inline(data, { color = opts.color,
            string = opts.all and math.huge or 1000 })
        end
        emit(pad .. "  " .. text)
      end
    elseif k == "group" or k == "file" then
      local names, total = explore.names(o, not opts.all and limit or nil)
      for _, name in ipairs(names) do
        local e = explore.entry(o, name)
        if e.link == "hard" and e.kind and level < (opts.depth or opt(opts, "max_depth")) then
          local child = o:get(name)
          rec(child, level + 1)
          explore.release(child)
        else
          emit(pad .. "  " .. explore.entry_line(e, 0, opts.color))
        end
      end
      if total > #names then
        emit(pad .. "  " .. string.format("... %d more (%d members)", total - #names, total))
      end
    end
  end
  rec(obj, 0)
  return lines
end

-- {=====================================================================
-- stats
-- ======================================================================

--- Statistics of a file (or of everything below a group): object counts
-- by kind, link counts by kind, datasets by dtype and by filter, total
-- logical and stored bytes, file size, free space when known, space not
-- accounted for by dataset storage, and the largest datasets.
-- @treturn table
function explore.stats(obj, opts)
  local largest = opt(opts, "largest")
  local st = {
    kinds = { group = 0, dataset = 0, datatype = 0 },
    links = { hard = 0, soft = 0, external = 0, user = 0 },
    dtypes = {}, filters = {}, layouts = {}, nbytes = 0, stored = 0, virtual = 0,
    largest = {}, errors = 0,
  }
  local root_kind = explore.kind(obj)
  if root_kind == "file" or root_kind == "group" then st.kinds.group = 1 end
  local function count_links(g)
    local ok, names = pcall(g.keys, g)
    if not ok then
      st.errors = st.errors + 1
      return
    end
    for _, name in ipairs(names) do
      local got, info = pcall(g.link_info, g, name)
      local kind = got and info and info.kind or "hard"
      st.links[kind] = (st.links[kind] or 0) + 1
    end
  end
  local function add(o)
    local k = explore.kind(o) or "object"
    st.kinds[k] = (st.kinds[k] or 0) + 1
    if k == "group" then
      count_links(o)
    elseif k == "dataset" then
      local p = explore.dataset_props(o)
      st.dtypes[p.dtype] = (st.dtypes[p.dtype] or 0) + 1
      local filters = explore.filters(p)
      if #filters == 0 then filters = { "none" } end
      for _, f in ipairs(filters) do
        local name = f:match("^(%S+)")
        if name == "filter" then name = f end
        st.filters[name] = (st.filters[name] or 0) + 1
      end
      local layout = p.layout or (p.chunks and "chunked") or "contiguous"
      st.layouts[layout] = (st.layouts[layout] or 0) + 1
      local nb = type(p.nbytes) == "number" and p.nbytes or 0
      local sb = type(p.storage_size) == "number" and p.storage_size or 0
      if layout == "virtual" then
        -- Data of virtual datasets lives in other files.
        st.virtual = st.virtual + nb
        nb = 0
      end
      st.nbytes = st.nbytes + nb
      st.stored = st.stored + sb
      local entry = { path = explore.prop(o, "name"), nbytes = nb, stored = sb, dtype = p.dtype,
        shape = explore.shape_text(p.shape) }
      local list = st.largest
      list[#list + 1] = entry
      if #list > largest * 4 then
        table.sort(list, function(a, b) return a.stored > b.stored end)
        for i = #list, largest + 1, -1 do list[i] = nil end
      end
    end
  end
  if explore.is_location(obj) then
    count_links(obj)
    obj:visit(function(_, o)
      if o then
        add(o)
        explore.release(o)
      end
    end)
  else
    add(obj)
  end
  table.sort(st.largest, function(a, b)
    if a.stored ~= b.stored then return a.stored > b.stored end
    return a.path < b.path
  end)
  for i = #st.largest, largest + 1, -1 do st.largest[i] = nil end
  local file = explore.prop(obj, "file")
  st.file_size = file and explore.prop(file, "size")
  st.free = file and explore.prop(file, "freespace")
  if st.file_size then st.unaccounted = st.file_size - st.stored - (st.free or 0) end
  return st
end

local function sorted_counts(t)
  local keys = {}
  for k, n in pairs(t) do if n > 0 then keys[#keys + 1] = k end end
  table.sort(keys, function(a, b)
    if t[a] ~= t[b] then return t[a] > t[b] end
    return a < b
  end)
  return keys
end

--- The stats table as lines of text.
function explore.stats_lines(st, opts)
  opts = opts or {}
  local emit, lines = sink(opts)
  local color = opts.color
  local function section(title) emit(pretty.paint(title, "header", color)) end
  section("objects")
  for _, k in ipairs({ "group", "dataset", "datatype" }) do
    emit(string.format("  %-12s %d", k .. "s", st.kinds[k] or 0))
  end
  for _, k in ipairs(sorted_counts(st.kinds)) do
    if k ~= "group" and k ~= "dataset" and k ~= "datatype" then
      emit(string.format("  %-12s %d", k, st.kinds[k]))
    end
  end
  section("links")
  for _, k in ipairs({ "hard", "soft", "external", "user" }) do
    emit(string.format("  %-12s %d", k, st.links[k] or 0))
  end
  if next(st.dtypes) then
    section("datasets by dtype")
    for _, k in ipairs(sorted_counts(st.dtypes)) do
      emit(string.format("  %6d  %s", st.dtypes[k], k))
    end
    section("datasets by filter")
    for _, k in ipairs(sorted_counts(st.filters)) do
      emit(string.format("  %6d  %s", st.filters[k], k))
    end
    section("datasets by layout")
    for _, k in ipairs(sorted_counts(st.layouts)) do
      emit(string.format("  %6d  %s", st.layouts[k], k))
    end
  end
  section("space")
  local function bytes(label, n)
    if n then emit(string.format("  %-12s %s (%d bytes)", label, pretty.bytes(n), n)) end
  end
  bytes("file size", st.file_size)
  bytes("data", st.nbytes)
  bytes("stored", st.stored)
  if st.stored > 0 then emit(string.format("  %-12s %.2f", "ratio", st.nbytes / st.stored)) end
  if st.virtual > 0 then bytes("virtual", st.virtual) end
  if st.free then bytes("free", st.free) end
  if st.unaccounted then bytes("unaccounted", st.unaccounted) end
  if #st.largest > 0 then
    section("largest datasets")
    for _, e in ipairs(st.largest) do
      emit(string.format("  %10s  %s  %s %s", pretty.bytes(e.stored), e.path, e.shape, e.dtype))
    end
  end
  if st.errors > 0 then emit(string.format("%d objects could not be read", st.errors)) end
  return lines
end

-- {=====================================================================
-- diff
-- ======================================================================

local function deep_equal(a, b, delta)
  if a == b then return true end
  local ta, tb = type(a), type(b)
  if ta == "number" and tb == "number" then
    if a ~= a and b ~= b then return true end  -- NaN matches NaN, as h5diff
    return delta ~= nil and math.abs(a - b) <= delta
  end
  if pretty.h5type(a) == "h5.Array" and pretty.h5type(b) == "h5.Array" then
    if #a ~= #b then return false end
    for i = 1, #a do
      if not deep_equal(a[i], b[i], delta) then return false end
    end
    return true
  end
  if ta ~= "table" or tb ~= "table" then return false end
  for k, v in pairs(a) do
    if not deep_equal(v, b[k], delta) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end
explore.deep_equal = deep_equal

local function same_shape(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

-- Multi-index text "[i, j]" of flat index k (1-based) in shape.
local function index_text(k, shape)
  local idx = {}
  k = k - 1
  for d = #shape, 1, -1 do
    idx[d] = k % shape[d] + 1
    k = k // shape[d]
  end
  local parts = {}
  for i, v in ipairs(idx) do parts[i] = tostring(v) end
  return "[" .. table.concat(parts, ", ") .. "]"
end

-- Are two h5.arrays of the same dtype byte for byte equal? (a fast path:
-- a memcmp instead of one Lua comparison per element)
local function same_bytes(a, b)
  if pretty.h5type(a) ~= "h5.Array" or pretty.h5type(b) ~= "h5.Array" then return false end
  if a.dtype ~= b.dtype then return false end
  local ok, eq = pcall(function() return a:tobytes() == b:tobytes() end)
  return ok and eq
end

-- Compare the values of two datasets of the same shape, block by block
-- along the first dimension. Returns the number of differing elements, up
-- to `report` examples, the largest numeric difference, or an error.
local function compare_data(da, db, shape, delta, block_limit, report)
  if #shape == 0 then
    local ok1, va = pcall(da.read, da)
    local ok2, vb = pcall(db.read, db)
    if not ok1 then return nil, nil, nil, clean_error(va) end
    if not ok2 then return nil, nil, nil, clean_error(vb) end
    if deep_equal(va, vb, delta) then return 0, {} end
    return 1, { { index = "", a = va, b = vb } }
  end
  local row = product(shape) // math.max(shape[1], 1)
  local rows = math.max(1, block_limit // math.max(row, 1))
  local count, examples, maxdiff = 0, {}, nil
  local first = 1
  while first <= shape[1] do
    local last = math.min(shape[1], first + rows - 1)
    local sel = { { first, last } }
    for d = 2, #shape do sel[d] = { 1, shape[d] } end
    local ok1, va = pcall(da.read, da, table.unpack(sel))
    local ok2, vb = pcall(db.read, db, table.unpack(sel))
    if not ok1 then return nil, nil, nil, clean_error(va) end
    if not ok2 then return nil, nil, nil, clean_error(vb) end
    local n = (last - first + 1) * row
    if same_bytes(va, vb) then goto next_block end
    do
    local ga = explore.accessor(va, #shape, n)
    local gb = explore.accessor(vb, #shape, n)
    local offset = (first - 1) * row
    for k = 1, n do
      local x, y = ga(k), gb(k)
      if x ~= y and not deep_equal(x, y, delta) then
        count = count + 1
        if type(x) == "number" and type(y) == "number" then
          local dd = math.abs(x - y)
          if not maxdiff or dd > maxdiff then maxdiff = dd end
        end
        if #examples < report then
          examples[#examples + 1] = { index = index_text(offset + k, shape), a = x, b = y }
        end
      end
    end
    end
    ::next_block::
    first = last + 1
  end
  return count, examples, maxdiff
end

-- The objects below a location by path ("" is the location itself).
local function object_paths(obj)
  local map, order = { [""] = explore.kind(obj) or "object" }, { "" }
  if explore.is_location(obj) then
    obj:visit(function(path, o)
      map[path] = o and (explore.kind(o) or "object") or "dangling"
      order[#order + 1] = path
      explore.release(o)
    end)
  end
  return map, order
end

local function attr_map(obj)
  local m = {}
  for _, a in ipairs(explore.attributes(obj)) do m[a.name] = a end
  return m
end

-- The keys of two tables, each once, sorted.
local function union_keys(x, y)
  local keys = {}
  for k in pairs(x) do keys[#keys + 1] = k end
  for k in pairs(y) do if x[k] == nil then keys[#keys + 1] = k end end
  table.sort(keys)
  return keys
end

-- The soft, external and user-defined links of a group, by name.
local function other_links(g)
  local links = {}
  local ok, names = pcall(g.keys, g)
  for _, n in ipairs(ok and names or {}) do
    local got, info = pcall(g.link_info, g, n)
    if got and info and info.kind ~= "hard" then links[n] = info end
  end
  return links
end

local function link_text(info)
  if info.kind == "external" then
    return string.format("external link to %s:%s", tostring(info.file), tostring(info.target))
  end
  return info.kind .. " link to " .. tostring(info.target)
end

local function is_numeric(dtype)
  return dtype:match("^u?int") ~= nil or dtype:match("^float") ~= nil
end

local function short(v)
  local s = pretty.inline(v, { string = 40, items = 6, depth = 2, width = 60 })
  return (s:gsub("\n%s*", " "))
end

--- Compare two objects (files, groups or datasets) like h5diff: the
-- structure below them, object kinds, attributes, dtypes, shapes, and the
-- values of datasets (numbers within opts.delta count as equal, NaN equals
-- NaN). Returns the list of differences, each a one-line string, and
-- their count; remarks that are not differences (values left uncompared)
-- go to opts.note, or among the lines as "note: ...".
function explore.diff(a, b, opts)
  opts = opts or {}
  local delta = opts.delta
  local emit, lines = sink(opts)
  local note = opts.note or function(s) emit("note: " .. s) end
  local count = 0
  local function differ(fmt, ...)
    count = count + 1
    emit(string.format(fmt, ...))
  end

  -- Attributes of two objects at the same path.
  local function compare_attributes(name, oa, ob)
    local aa, ab = attr_map(oa), attr_map(ob)
    for _, n in ipairs(union_keys(aa, ab)) do
      local x, y = aa[n], ab[n]
      if not y then
        differ("%s: attribute '%s' only in A", name, n)
      elseif not x then
        differ("%s: attribute '%s' only in B", name, n)
      elseif x.error or y.error then
        if (x.error or "") ~= (y.error or "") then
          differ("%s: attribute '%s' cannot be compared: %s", name, n, x.error or y.error)
        end
      elseif not deep_equal(x.value, y.value, delta) then
        differ("%s: attribute '%s': %s in A, %s in B", name, n, short(x.value), short(y.value))
      end
    end
  end

  -- Soft and external links of two groups (visit sees objects, not these).
  local function compare_links(name, ga, gb)
    local la, lb = other_links(ga), other_links(gb)
    for _, n in ipairs(union_keys(la, lb)) do
      local x, y = la[n], lb[n]
      local path = explore.join(name, n)
      if not y then
        differ("only in A: %s (%s)", path, link_text(x))
      elseif not x then
        differ("only in B: %s (%s)", path, link_text(y))
      elseif x.kind ~= y.kind or x.target ~= y.target or x.file ~= y.file then
        differ("%s: %s in A, %s in B", path, link_text(x), link_text(y))
      end
    end
  end

  -- Type, shape and values of two datasets.
  local function compare_datasets(name, da, db)
    local pa, pb = explore.dataset_props(da), explore.dataset_props(db)
    if pa.dtype ~= pb.dtype then differ("%s: dtype %s in A, %s in B", name, pa.dtype, pb.dtype) end
    if not same_shape(pa.shape, pb.shape) then
      differ("%s: shape %s in A, %s in B", name, explore.shape_text(pa.shape),
        explore.shape_text(pb.shape))
      return
    end
    if type(pa.shape) ~= "table" then return end -- both empty
    local virtual = pa.layout == "virtual" or pb.layout == "virtual"
    if virtual and product(pa.shape) > opt(opts, "diff_virtual") then
      -- Virtual datasets map other files, often huge or absent ones.
      note(string.format("%s: values not compared (virtual dataset of %d elements)", name,
        product(pa.shape)))
      return
    end
    if not virtual and pa.storage_size == 0 and pb.storage_size == 0
        and deep_equal(pa.fillvalue, pb.fillvalue) then
      return -- nothing written on either side: both read as the same fill value
    end
    if pa.dtype ~= pb.dtype and not (is_numeric(pa.dtype) and is_numeric(pb.dtype)) then
      return -- values of different kinds: the dtype line said it
    end
    local n, examples, maxdiff, err = compare_data(da, db, pa.shape, delta,
      opt(opts, "diff_block"), opt(opts, "diff_report"))
    if err then
      differ("%s: values cannot be compared: %s", name, err)
    elseif n > 0 then
      differ("%s: %d of %d values differ%s", name, n, math.max(product(pa.shape), 1),
        maxdiff and string.format(" (largest difference %s)", pretty.number(maxdiff, 8)) or "")
      for _, e in ipairs(examples) do
        emit(string.format("  %s%s %s in A, %s in B", name, e.index, short(e.a), short(e.b)))
      end
    end
  end

  local base = explore.prop(a, "name") or "/"
  local function full(path)
    if path == "" then return base end
    return explore.join(base, path)
  end
  local function get(root, path)
    if path == "" then return root end
    return root:get(path)
  end
  local map_a, order_a = object_paths(a)
  local map_b, order_b = object_paths(b)
  for _, p in ipairs(order_a) do
    if map_b[p] == nil then differ("only in A: %s (%s)", full(p), map_a[p]) end
  end
  for _, p in ipairs(order_b) do
    if map_a[p] == nil then differ("only in B: %s (%s)", full(p), map_b[p]) end
  end
  for _, p in ipairs(order_a) do
    local ka, kb = map_a[p], map_b[p]
    if kb ~= nil and ka ~= kb then
      differ("%s: %s in A, %s in B", full(p), ka, kb)
    elseif kb ~= nil then
      local oa, ob = get(a, p), get(b, p)
      if oa and ob then
        compare_attributes(full(p), oa, ob)
        if ka == "group" or ka == "file" then compare_links(full(p), oa, ob)
        elseif ka == "dataset" then compare_datasets(full(p), oa, ob) end
      end
      if p ~= "" then
        explore.release(oa)
        explore.release(ob)
      end
    end
  end
  return lines, count
end

-- {=====================================================================
-- Counting objects for banners, within a budget
-- ======================================================================

--- Count the objects below a location, opening at most budget of them.
-- @treturn integer the count
-- @treturn boolean true when the budget ran out (the count is a lower bound)
function explore.quick_count(g, budget)
  budget = budget or 2000
  local seen = 0
  local queue, qi = { g }, 1
  local exceeded = false
  while qi <= #queue do
    local grp = queue[qi]
    qi = qi + 1
    local n = explore.count(grp) or 0
    if seen + n > budget then
      seen = seen + n
      exceeded = true
      break
    end
    local ok, names = pcall(grp.keys, grp)
    if ok then
      for _, name in ipairs(names) do
        local got, child = pcall(grp.get, grp, name)
        if got and child then
          seen = seen + 1
          if explore.is_location(child) then queue[#queue + 1] = child
          else explore.release(child) end
        end
      end
    end
    if qi > 1 and grp ~= g then explore.release(grp) end
  end
  for i = qi, #queue do if queue[i] ~= g then explore.release(queue[i]) end end
  if not exceeded then
    -- Small enough: count exactly, each object once (hard links, cycles).
    local exact = 0
    local ok = pcall(g.visit, g, function(_, o)
      exact = exact + 1
      explore.release(o)
    end)
    if ok then return exact, false end
  end
  return seen, exceeded
end

return explore
