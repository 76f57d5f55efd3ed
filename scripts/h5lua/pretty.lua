--- Printing values helpfully, and always within bounds.
--
-- Strings are quoted and truncated with their byte count, tables print as
-- nested literals with depth and length limits, `h5.array` prints like
-- numpy (first and last elements, an ellipsis in the middle), and HDF5
-- objects print as a header line plus a short listing or a preview of their
-- first values (the HDF5 part lives in h5lua.explore, loaded on first use).
-- Colour is an option that callers turn on only for a terminal.
local pretty = {}

--- Default limits (callers pass their own in `opts`).
-- depth: table nesting shown; items: entries per table; string: bytes of a
-- string shown; edge: array elements shown at each end of a dimension;
-- width: the line width tables try to fit; members: group members listed.
pretty.defaults = {
  depth = 3,
  items = 20,
  string = 200,
  edge = 3,
  width = 100,
  members = 20,
  color = false,
}

--- A string printed on its own (not inside a table) shows up to this many
-- bytes: a raw_json read at the prompt is worth more than a glance.
pretty.defaults.top_string = 1000

-- Merge opts over the defaults (opts may be nil).
local function options(opts)
  if opts and opts._merged then return opts end
  local o = { _merged = true }
  for k, v in pairs(pretty.defaults) do o[k] = v end
  for k, v in pairs(opts or {}) do o[k] = v end
  return o
end
pretty.options = options

-- {=====================================================================
-- Colour
-- ======================================================================

local STYLES = {
  group = "1;34",     -- bold blue, as ls shows directories
  dataset = "0",
  datatype = "35",
  link = "36",
  dangling = "31",
  string = "32",
  number = "33",
  key = "0",
  dim = "2",
  header = "1",
  error = "31",
}

--- Wrap s in the ANSI colour of style when on is true.
-- @tparam string s the text
-- @tparam string style a name in pretty's style table ("group", "dim", ...)
-- @tparam boolean on whether to colour at all
-- @treturn string
function pretty.paint(s, style, on)
  if not on or not STYLES[style] or s == "" then return s end
  return "\27[" .. STYLES[style] .. "m" .. s .. "\27[0m"
end

--- Remove ANSI colour sequences from s.
function pretty.strip(s)
  return (s:gsub("\27%[[%d;]*m", ""))
end

local tty_cache = {}

--- Is file descriptor fd (1 or 2) a terminal? (asks the shell once)
-- @treturn boolean
function pretty.isatty(fd)
  fd = fd or 1
  if tty_cache[fd] == nil then
    local ok = os.execute(string.format("[ -t %d ]", fd))
    tty_cache[fd] = ok == true or ok == 0
  end
  return tty_cache[fd]
end

--- Should output to fd be coloured? Only on a terminal, never with NO_COLOR
-- set or TERM=dumb (https://no-color.org).
-- @treturn boolean
function pretty.color_wanted(fd)
  local no = os.getenv("NO_COLOR")
  if no and no ~= "" then return false end
  if os.getenv("TERM") == "dumb" then return false end
  return pretty.isatty(fd or 1)
end

-- {=====================================================================
-- Scalars
-- ======================================================================

--- Human-readable byte count: "512 B", "9.6 KB", "80.6 MB" (powers of 1000,
-- as ls -h --si and h5py's tools print).
function pretty.bytes(n)
  if type(n) ~= "number" then return "?" end
  if n < 1000 then return string.format("%d B", n) end
  local units = { "KB", "MB", "GB", "TB", "PB" }
  local v, i = n / 1000, 1
  while v >= 1000 and i < #units do
    v, i = v / 1000, i + 1
  end
  return string.format(v < 10 and "%.2f %s" or v < 100 and "%.1f %s" or "%.0f %s", v, units[i])
end

--- A number as Lua reads it back: integers as is, floats in the shortest
-- form that round-trips (always with a "." or exponent, so 3.0 stays a float).
-- @tparam number x
-- @tparam[opt] integer digits significant digits (shorter and lossy, for previews)
function pretty.number(x, digits)
  if math.type(x) == "integer" then return tostring(x) end
  if x ~= x then return "nan" end
  if x == math.huge then return "inf" end
  if x == -math.huge then return "-inf" end
  local s
  if digits then
    s = string.format("%." .. digits .. "g", x)
  else
    for d = 14, 17 do
      s = string.format("%." .. d .. "g", x)
      if tonumber(s) == x then break end
    end
  end
  if not s:find("[%.eEn]") then s = s .. ".0" end
  return s
end

local ESCAPES = { ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r", ["\\"] = "\\\\", ["\0"] = "\\0" }

-- Cut s at most n bytes in, backing off to a UTF-8 character boundary.
local function utf8_cut(s, n)
  if #s <= n then return s end
  local cut = n
  while cut > 0 and (s:byte(cut + 1) or 0) >= 0x80 and (s:byte(cut + 1) or 0) < 0xC0 do
    cut = cut - 1
  end
  return s:sub(1, cut)
end
pretty.utf8_cut = utf8_cut

--- A string as a quoted literal, truncated after opts.string bytes with the
-- full byte count: `"abc..." (12345 bytes)`. Uses single quotes when the
-- text holds double quotes and no single ones (JSON reads better that way).
function pretty.string(s, opts)
  local o = options(opts)
  local shown = utf8_cut(s, o.string)
  local q = '"'
  if shown:find('"', 1, true) and not shown:find("'", 1, true) then q = "'" end
  local body = shown:gsub("[%c\\" .. q .. "]", function(c)
    if c == q then return "\\" .. q end
    return ESCAPES[c] or string.format("\\%d", c:byte())
  end)
  local out = pretty.paint(q .. body .. q, "string", o.color)
  if #shown < #s then
    out = out .. pretty.paint(string.format("... (%d bytes)", #s), "dim", o.color)
  end
  return out
end

-- {=====================================================================
-- Tables
-- ======================================================================

local IDENT = "^[%a_][%w_]*$"
local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or
  repeat return then true until while]]):gmatch("%a+") do KEYWORDS[w] = true end
pretty.keywords = KEYWORDS

--- Is s usable as a field name after "." (an identifier, not a keyword)?
function pretty.is_identifier(s)
  return type(s) == "string" and s:match(IDENT) ~= nil and not KEYWORDS[s]
end

local format_value, element_options -- forward

-- Keys of t in print order: 1..n first, then the others sorted by type and
-- text; stops collecting after limit + 1 extra keys (the count is exact).
local function table_keys(t, limit)
  local n = #t
  local keys, others, count = {}, {}, 0
  for i = 1, math.min(n, limit) do keys[#keys + 1] = i end
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then
      count = count + 1
      if #others <= limit then others[#others + 1] = k end
    end
  end
  table.sort(others, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == "number" or ta == "string" then return a < b end
    return tostring(a) < tostring(b)
  end)
  for _, k in ipairs(others) do keys[#keys + 1] = k end
  return keys, n + count
end

local function format_table(t, o, indent, depth, seen)
  if seen[t] then return "<cycle>" end
  if next(t) == nil then return "{}" end
  if depth >= o.depth then return "{...}" end
  seen[t] = true
  local keys, total = table_keys(t, o.items)
  local parts = {}
  local n = #t
  for i, k in ipairs(keys) do
    if i > o.items then break end
    local v = format_value(t[k], o, indent + 2, depth + 1, seen)
    if math.type(k) == "integer" and k >= 1 and k <= n then
      parts[#parts + 1] = v
    elseif pretty.is_identifier(k) then
      parts[#parts + 1] = pretty.paint(k, "key", o.color) .. " = " .. v
    else
      local ks = type(k) == "string" and pretty.string(k, o) or
        type(k) == "number" and pretty.number(k) or tostring(k)
      parts[#parts + 1] = "[" .. ks .. "] = " .. v
    end
  end
  seen[t] = nil
  if total > #parts then
    parts[#parts + 1] = pretty.paint(string.format("...%d more", total - #parts), "dim", o.color)
  end
  local one = "{" .. table.concat(parts, ", ") .. "}"
  if #pretty.strip(one) + indent <= o.width and not one:find("\n", 1, true) then return one end
  local pad = string.rep(" ", indent + 2)
  return "{\n" .. pad .. table.concat(parts, ",\n" .. pad) .. "\n" .. string.rep(" ", indent) .. "}"
end

-- {=====================================================================
-- Arrays (h5.array and the values of dataset previews)
-- ======================================================================

--- Format an N-dimensional block like numpy.
-- get(k) returns the element at flat (1-based, row-major) index k of the
-- block; block is the block's shape; full, when given, is the shape the
-- block was cut from (an ellipsis marks each dimension the block cut short).
-- Without full, the block is the whole array and long dimensions show their
-- first and last opts.edge elements around an ellipsis.
-- @treturn string the nested list, one line per row for 2-D and more
function pretty.nd(get, block, full, opts, elem)
  local o = options(opts)
  if not elem then
    local eo = element_options(o)
    elem = function(v) return format_value(v, eo, 0, 0, {}) end
  end
  local rank = #block
  local strides = {}
  local s = 1
  for d = rank, 1, -1 do
    strides[d] = s
    s = s * block[d]
  end
  local function indices(d)
    local n = block[d]
    local list = {}
    if full then
      for i = 1, n do list[#list + 1] = i end
      if full[d] > n then list[#list + 1] = false end
    elseif n > 2 * o.edge + 1 then
      for i = 1, o.edge do list[#list + 1] = i end
      list[#list + 1] = false
      for i = n - o.edge + 1, n do list[#list + 1] = i end
    else
      for i = 1, n do list[#list + 1] = i end
    end
    return list
  end
  local function rec(d, offset, indent)
    if rank == 0 then return elem(get(1)) end
    local parts = {}
    for _, i in ipairs(indices(d)) do
      if i == false then
        parts[#parts + 1] = "..."
      elseif d == rank then
        parts[#parts + 1] = elem(get(offset + (i - 1) * strides[d] + 1))
      else
        parts[#parts + 1] = rec(d + 1, offset + (i - 1) * strides[d], indent + 1)
      end
    end
    if d == rank then
      local line = "[" .. table.concat(parts, ", ") .. "]"
      if #pretty.strip(line) + indent <= o.width then return line end
      -- Too wide (records, long strings): one element per line.
      return "[" .. table.concat(parts, ",\n" .. string.rep(" ", indent + 1)) .. "]"
    end
    local sep = "," .. string.rep("\n", rank - d) .. string.rep(" ", indent + 1)
    return "[" .. table.concat(parts, sep) .. "]"
  end
  return rec(1, 0, opts and opts.indent or 0)
end

-- Elements of numeric arrays: floats with 8 significant digits, as numpy.
-- Records and other table elements: one line, two levels, a few items.
function element_options(o)
  return { depth = 2, items = 8, string = math.min(o.string, 40), width = math.huge, digits = 8,
    color = o.color, edge = o.edge, members = o.members, _merged = true }
end

-- Elements of arrays: floats with 8 significant digits, as numpy; records
-- and other tables on one line.
local function array_elem(o)
  local eo = element_options(o)
  return function(v)
    if type(v) == "number" then return pretty.number(v, 8) end
    return format_value(v, eo, 0, 0, {})
  end
end
pretty.array_elem = array_elem

--- A shape as Lua writes it: "{100, 3}"; "{}" for a scalar.
function pretty.shape(shape)
  if type(shape) ~= "table" then return tostring(shape) end
  local parts = {}
  for i, n in ipairs(shape) do parts[i] = tostring(n) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function format_array(a, o)
  local shape = a.shape
  local dtype = a.dtype
  if #a == 0 then
    return string.format("array([], %s, shape %s)", dtype, pretty.shape(shape))
  end
  local body = pretty.nd(function(k) return a[k] end, shape, nil, {
    edge = o.edge, indent = 6, depth = o.depth, color = o.color, string = o.string,
    items = o.items, width = o.width,
  }, array_elem(o))
  if #shape <= 1 then return string.format("array(%s, %s)", body, dtype) end
  return string.format("array(%s, %s, shape %s)", body, dtype, pretty.shape(shape))
end

-- {=====================================================================
-- Dispatch
-- ======================================================================

--- The h5 class of a value ("h5.File", "h5.Group", "h5.Dataset",
-- "h5.Datatype", "h5.Attributes", "h5.Array"), or nil. Never raises.
function pretty.h5type(v)
  if type(v) ~= "userdata" then return nil end
  local mt = getmetatable(v)
  local name = type(mt) == "table" and rawget(mt, "__name")
  if type(name) == "string" and name:match("^h5%.") then return name end
  return nil
end

local function function_text(f)
  local info = debug.getinfo(f, "S")
  if info.what == "C" then return "<builtin function>" end
  return string.format("<function %s:%d>", info.short_src, info.linedefined)
end

function format_value(v, o, indent, depth, seen)
  local t = type(v)
  if t == "string" then return pretty.string(v, o) end
  if t == "number" then return pretty.paint(pretty.number(v, o.digits), "number", o.color) end
  if t == "table" then
    local mt = getmetatable(v)
    if mt and rawget(mt, "__tostring") then return tostring(v) end
    return format_table(v, o, indent, depth, seen)
  end
  if t == "function" then return function_text(v) end
  local h5t = pretty.h5type(v)
  if h5t then
    -- Nested h5 values print as one line; top level gets the full preview.
    return require("h5lua.explore").inline(v, o)
  end
  return tostring(v)
end

--- Format any value for display; bounded whatever its size.
-- Top-level HDF5 objects get a header line and a listing or preview;
-- nested ones a single line.
-- @param v the value
-- @tparam[opt] table opts limits and `color` (see pretty.defaults)
-- @treturn string possibly several lines, without a trailing newline
function pretty.format(v, opts)
  local o = options(opts)
  local h5t = pretty.h5type(v)
  if h5t == "h5.Array" then
    local ok, s = pcall(format_array, v, o)
    return ok and s or tostring(v)
  end
  if h5t then return require("h5lua.explore").preview(v, o) end
  if type(v) == "string" then
    return pretty.string(v, { string = math.max(o.string, o.top_string), color = o.color })
  end
  return format_value(v, o, 0, 0, {})
end

--- Format one value inline (nested form: one line for HDF5 objects).
function pretty.inline(v, opts)
  local o = options(opts)
  if pretty.h5type(v) == "h5.Array" then
    local ok, s = pcall(format_array, v, o)
    return ok and s or tostring(v)
  end
  return format_value(v, o, 0, 0, {})
end

return pretty
