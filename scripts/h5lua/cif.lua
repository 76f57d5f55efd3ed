--- CIF 1.1 reader: parses crystallographic information files as they are
-- written in the wild and turns their data blocks into the store's
-- structure records.
--
-- Parsed representation (what `cif.parse` returns):
--
--     blocks = {                       -- list, in file order
--       { name   = "ALANIN",           -- text after data_, case kept
--         line   = 1,                  -- line of the data_ header
--         tags   = { ["_cell_length_a"] = "5.784(2)", ... },
--                                      -- non-looped items, tags lower-cased
--         loops  = { { tags  = { "_atom_site_label", ... },  -- lower-cased
--                      index = { ["_atom_site_label"] = 1, ... },
--                      rows  = { { "C1", "0.1", ... }, ... },
--                      line  = 12 } },
--         looped = { ["_atom_site_label"] = <the loop holding it>, ... },
--         tag_pos = { ["_cell_length_a"] = 312, ... },
--                                      -- byte offset of each non-looped tag
--         line_of = <function(offset) -> line number>,
--         frames = { <save_ frames: { name, line, tags, loops, looped }> },
--       },
--       ...,
--       global = <the global_ block, when the file has one>,
--     }
--
-- Every value is a string (quotes and text-field delimiters removed) or one
-- of the two markers `cif.UNKNOWN` (an unquoted `?`) and `cif.INAPPLICABLE`
-- (an unquoted `.`); a quoted '?' stays the string "?". Helpers that
-- convert values (`cif.number`, `cif.value`, `cif.to_structure`) turn the
-- markers into nil.
--
-- Lexical rules follow CIF 1.1: a quoted string closes only at a matching
-- quote followed by whitespace or the end of the file ('a'b' is "a'b");
-- a text field opens and closes with `;` at the start of a line; `#`
-- starts a comment at the start of a token; CR LF and lone CR end lines
-- like LF. A tag given more than once in a block, alone or in loops, takes
-- its last value (`looped` points at the last loop holding it); `global_`
-- and `save_` frames are kept apart from the data items (`blocks.global`,
-- `block.frames`). Syntax errors raise a one-line message
-- "<filename>:<line>: <what was expected>".
--
-- @module h5lua.cif

local find, sub, byte, lower, upper, match, gsub, format =
  string.find, string.sub, string.byte, string.lower, string.upper,
  string.match, string.gsub, string.format
local tonumber, tostring, type, error, setmetatable, ipairs, pairs =
  tonumber, tostring, type, error, setmetatable, ipairs, pairs

local spacegroups = require "h5lua.spacegroups"

local cif = {}

local function marker(text, what)
  return setmetatable({}, {
    __tostring = function() return text end,
    __name = "cif." .. what,
  })
end

--- Marker for an unquoted `?` (value unknown).
cif.UNKNOWN = marker("?", "UNKNOWN")
--- Marker for an unquoted `.` (value not applicable).
cif.INAPPLICABLE = marker(".", "INAPPLICABLE")

local UNKNOWN, INAPPLICABLE = cif.UNKNOWN, cif.INAPPLICABLE

--- Whether `v` is one of the markers `cif.UNKNOWN` or `cif.INAPPLICABLE`.
-- @param v any parsed value
-- @treturn boolean
function cif.is_marker(v)
  return v == UNKNOWN or v == INAPPLICABLE
end

---------------------------------------------------------------------------
-- Lexer and parser
---------------------------------------------------------------------------

local B_SEMI, B_HASH, B_SQ, B_DQ, B_NL, B_US =
  byte(";"), byte("#"), byte("'"), byte('"'), byte("\n"), byte("_")

-- First bytes of data_, loop_, save_, stop_ in either case.
local RESERVED_START = {}
for ch in ("dDlLsS"):gmatch(".") do RESERVED_START[byte(ch)] = true end
local B_G = byte("G")

-- Token kinds.
local T_VALUE, T_TAG, T_DATA, T_LOOP, T_SAVE, T_GLOBAL, T_STOP, T_EOF =
  1, 2, 3, 4, 5, 6, 7, 8

-- Returns line_at(pos), the line number of a position in text. Positions
-- mostly grow, so counting goes on from the last answer: linear overall.
local function line_counter(text)
  local from, line = 1, 1
  return function(pos)
    if pos < from then from, line = 1, 1 end
    while true do
      local nl = find(text, "\n", from, true)
      if not nl or nl >= pos then return line end
      from, line = nl + 1, line + 1
    end
  end
end

local function describe(kind, value)
  if kind == T_EOF then return "end of file"
  elseif kind == T_TAG then return "tag " .. value
  elseif kind == T_DATA then return "data_ block header"
  elseif kind == T_LOOP then return "loop_"
  elseif kind == T_SAVE then return "save_ frame header"
  elseif kind == T_GLOBAL then return "global_"
  elseif kind == T_STOP then return "stop_"
  end
  if type(value) ~= "string" then value = tostring(value) end
  if #value > 40 then value = sub(value, 1, 37) .. "..." end
  value = gsub(value, "\n.*", "...")
  return "value '" .. value .. "'"
end

-- Returns a function that yields (kind, value, position) for each token.
local function lexer(text, fail, line_at)
  local pos, len = 1, #text

  return function()
    local s, c
    while true do
      s = find(text, "[^ \t\n\f\v]", pos)
      if not s then
        pos = len + 1
        return T_EOF, nil, len + 1
      end
      c = byte(text, s)
      if c ~= B_HASH then break end
      pos = find(text, "\n", s + 1, true) or len + 1
    end

    if c == B_SEMI and (s == 1 or byte(text, s - 1) == B_NL) then
      local e = find(text, "\n;", s + 1, true)
      if not e then
        local start = line_at(s)
        fail(len, format("unterminated text field starting at line %d",
          start))
      end
      local first = s + 1
      -- A bare opening line contributes no line break of its own.
      local lead = find(text, "^[ \t]*\n", first)
      if lead then first = find(text, "\n", first, true) + 1 end
      pos = e + 2
      return T_VALUE, first <= e - 1 and sub(text, first, e - 1) or "", s
    end

    if c == B_SQ or c == B_DQ then
      local q = c == B_SQ and "'" or '"'
      local eol = find(text, "\n", s + 1, true) or len + 1
      local e = find(text, q .. "[ \t\n\f\v]", s + 1)
      if not e and eol == len + 1 and len > s and byte(text, len) == c then
        e = len
      end
      if not e or e > eol then
        fail(s, format("unterminated quoted string: closing %s expected "
          .. "before end of line", q))
      end
      pos = e + 1
      return T_VALUE, sub(text, s + 1, e - 1), s
    end

    local e = find(text, "[ \t\n\f\v]", s) or len + 1
    pos = e
    local word = sub(text, s, e - 1)
    if c == B_US then return T_TAG, lower(word), s end
    if word == "?" then return T_VALUE, UNKNOWN, s end
    if word == "." then return T_VALUE, INAPPLICABLE, s end
    if RESERVED_START[c] and byte(word, 5) == B_US then
      local head = lower(sub(word, 1, 5))
      if head == "data_" then return T_DATA, sub(word, 6), s end
      if head == "loop_" and #word == 5 then return T_LOOP, nil, s end
      if head == "save_" then return T_SAVE, sub(word, 6), s end
      if head == "stop_" and #word == 5 then return T_STOP, nil, s end
    elseif (c == B_G or c == B_G + 32) and lower(word) == "global_" then
      return T_GLOBAL, nil, s
    end
    return T_VALUE, word, s
  end
end

local function new_container(name, line, line_at)
  return { name = name, line = line, tags = {}, loops = {}, looped = {},
           tag_pos = {}, line_of = line_at }
end

--- Parses CIF text.
-- @tparam string text the file's contents
-- @tparam[opt="(string)"] string filename used in error messages
-- @treturn table list of data blocks (see the module header), with the
--   `global_` block, if any, as field `global`
-- @raise "<filename>:<line>: <what was expected>" on a syntax error
function cif.parse(text, filename)
  if type(text) ~= "string" then
    error("cif.parse: text must be a string, got " .. type(text), 2)
  end
  filename = filename or "(string)"
  if find(text, "\r", 1, true) then
    text = gsub(gsub(text, "\r\n", "\n"), "\r", "\n")
  end
  -- A DOS end-of-file mark (Ctrl-Z) after the last data is not content.
  text = gsub(text, "\26[%s\26]*$", "\n")

  local line_at = line_counter(text)
  local function fail(at, what)
    error(format("%s:%d: %s", filename, line_at(at), what), 0)
  end

  local next_token = lexer(text, fail, line_at)
  local blocks = {}
  local block, current, frame_pos

  local kind, value, pos = next_token()
  while kind ~= T_EOF do
    if kind == T_DATA then
      block = new_container(value, line_at(pos), line_at)
      block.frames = {}
      blocks[#blocks + 1] = block
      current, frame_pos = block, nil
      kind, value, pos = next_token()

    elseif kind == T_GLOBAL then
      block = new_container("global_", line_at(pos), line_at)
      block.frames = {}
      blocks.global = block
      current, frame_pos = block, nil
      kind, value, pos = next_token()

    elseif not current then
      fail(pos, "data_ block header expected, found " .. describe(kind, value))

    elseif kind == T_SAVE then
      if value ~= "" then
        if frame_pos then
          fail(pos, format("save_ expected to close the frame started at "
            .. "line %d, found save_%s", line_at(frame_pos), value))
        end
        local frame = new_container(value, line_at(pos), line_at)
        block.frames[#block.frames + 1] = frame
        current, frame_pos = frame, pos
      elseif frame_pos then
        current, frame_pos = block, nil
      else
        fail(pos, "save_ closes no frame")
      end
      kind, value, pos = next_token()

    elseif kind == T_TAG then
      local tag, tag_pos = value, pos
      kind, value, pos = next_token()
      if kind ~= T_VALUE then
        fail(kind == T_EOF and tag_pos or pos, format(
          "value expected for %s, found %s", tag, describe(kind, value)))
      end
      current.tags[tag] = value
      current.tag_pos[tag] = tag_pos
      current.looped[tag] = nil
      kind, value, pos = next_token()

    elseif kind == T_LOOP then
      local loop_pos = pos
      local tags, index = {}, {}
      kind, value, pos = next_token()
      while kind == T_TAG do
        if index[value] then
          fail(pos, "duplicate tag " .. value .. " in loop")
        end
        tags[#tags + 1] = value
        index[value] = #tags
        kind, value, pos = next_token()
      end
      if #tags == 0 then
        fail(pos, "tag expected after loop_, found " .. describe(kind, value))
      end
      local ntags = #tags
      local rows, row, col = {}, nil, ntags
      while kind == T_VALUE do
        if col == ntags then
          row, col = {}, 0
          rows[#rows + 1] = row
        end
        col = col + 1
        row[col] = value
        kind, value, pos = next_token()
      end
      if col ~= ntags then
        fail(loop_pos, format("loop has %d values for its %d tags (expected "
          .. "a multiple of %d)", (#rows - 1) * ntags + col, ntags, ntags))
      end
      if kind == T_STOP then kind, value, pos = next_token() end
      local loop = { tags = tags, index = index, rows = rows,
                     line = line_at(loop_pos) }
      current.loops[#current.loops + 1] = loop
      for _, tag in ipairs(tags) do
        current.tags[tag] = nil
        current.tag_pos[tag] = nil
        current.looped[tag] = loop
      end

    elseif kind == T_STOP then
      kind, value, pos = next_token()

    else -- a value without a tag
      fail(pos, "tag expected, found " .. describe(kind, value))
    end
  end
  return blocks
end

--- Reads and parses a CIF file.
-- @tparam string path
-- @treturn table blocks as from `cif.parse`
-- @raise "cannot open <path>: <reason>" when the file cannot be read, and
--   the syntax errors of `cif.parse`
function cif.parse_file(path)
  local f, err = io.open(path, "rb")
  if not f then error("cannot open " .. err, 0) end
  local text = f:read("a")
  f:close()
  return cif.parse(text, path)
end

---------------------------------------------------------------------------
-- Values
---------------------------------------------------------------------------

--- Converts a CIF numeric value, with its standard uncertainty.
-- `"5.784(2)"` gives 5.784, 0.002; `"1.2e3(4)"` gives 1200.0, 400.0;
-- `"12"` gives 12 (an integer).
-- @param s a parsed value (string, marker or nil) or a number
-- @treturn[1] number the value
-- @treturn[1] number|nil its standard uncertainty, when written
-- @treturn[2] nil for markers, nil and anything that is not a number
function cif.number(s)
  if type(s) == "number" then return s end
  if type(s) ~= "string" then return nil end
  local mant, rest = match(s, "^%s*([+-]?[%d.]+)(.-)%s*$")
  if not mant or not find(mant, "%d") or find(mant, "%..*%.") then
    return nil
  end
  local exp, su = "", nil
  if rest ~= "" then
    local e, r = match(rest, "^([eE][+-]?%d+)(.*)$")
    if e then exp, rest = e, r end
    if rest ~= "" then
      su = match(rest, "^%((%d+)%)$")
      if not su then return nil end
    end
  end
  local v = tonumber(mant .. exp)
  if not v then return nil end
  if su then
    local dot = find(mant, ".", 1, true)
    local decimals = dot and #mant - dot or 0
    local e10 = exp ~= "" and tonumber(sub(exp, 2)) or 0
    return v, tonumber(su .. "e" .. (e10 - decimals))
  end
  return v
end

-- Whitespace-normalised string value, or nil for markers / absent / empty.
local function text_value(v)
  if type(v) ~= "string" then return nil end
  v = gsub(gsub(v, "%s+", " "), "^ ", "")
  v = gsub(v, " $", "")
  if v == "" then return nil end
  return v
end

--- Finds the column of values of a tag.
-- A non-looped item gives a list of one value.
-- @tparam table block a data block or save frame
-- @tparam string tag case-insensitive
-- @treturn table|nil list of values (markers kept), nil when absent
-- @treturn table|nil the loop holding the tag
function cif.column(block, tag)
  tag = lower(tag)
  local loop = block.looped[tag]
  if loop then
    local col, out = loop.index[tag], {}
    for i, row in ipairs(loop.rows) do out[i] = row[col] end
    return out, loop
  end
  local v = block.tags[tag]
  if v ~= nil then return { v } end
  return nil
end

--- The single value of a tag as a string, or nil.
-- Markers, absent tags and loops of more than one row give nil.
-- @tparam table block
-- @tparam string tag case-insensitive
-- @treturn string|nil
function cif.value(block, tag)
  tag = lower(tag)
  local v = block.tags[tag]
  if v == nil then
    local loop = block.looped[tag]
    if loop and #loop.rows == 1 then v = loop.rows[1][loop.index[tag]] end
  end
  if type(v) == "string" then return v end
  return nil
end

---------------------------------------------------------------------------
-- Element symbols
---------------------------------------------------------------------------

local ELEMENTS = {}
for sym in ([[
  H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co
  Ni Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb
  Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os
  Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm
  Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og D]]):gmatch("%a+") do
  ELEMENTS[sym] = true
end

-- Two-letter elements that an upper-case label may mean even when its
-- first letter is H, C, N or O (where "HO1", "CA", "NB" usually name a
-- hydrogen, an alpha carbon, a beta nitrogen).
local ORGANIC_SAFE = { Cl = true, Cu = true }

-- The element of a symbol or label; `two_first` reads an ambiguous
-- upper-case pair as the two-letter element (type symbols: "CA" is
-- calcium) instead of the one letter (labels: "CA" is an alpha carbon).
local function element(s, present, two_first)
  if type(s) ~= "string" then return nil end
  local letters = match(s, "^%a+")
  if not letters then return nil end
  local one = upper(sub(letters, 1, 1))
  if #letters >= 2 then
    local second = sub(letters, 2, 2)
    local two = one .. lower(second)
    if ELEMENTS[two] then
      if second ~= upper(second) then return two end -- "Hg1", "Ca"
      if present then
        if present[two] then return two end
        if present[one] then return one end
      end
      if two_first or ORGANIC_SAFE[two] or not ELEMENTS[one]
          or not find("HCNO", one, 1, true) then
        return two
      end
    end
  end
  if ELEMENTS[one] then return one end
  return nil
end

--- Element symbol of an atom site label.
-- The leading letters are read: "C12A" gives "C", "Cl1" and "CL1" give
-- "Cl", "OW1" gives "O", "Hg1" gives "Hg" (a lower-case second letter
-- always makes a two-letter element when there is one). An upper-case
-- pair is read as `present` (the elements of the formula) says: the
-- two-letter element when it is listed, else the one letter when that is.
-- Without that help, a pair that starts with H, C, N or O ("HG1", "HO2",
-- "CA", "NB") is read as the one letter (a hydrogen, an alpha carbon,
-- ...), except Cl and Cu.
-- @tparam string label
-- @tparam[opt] table present set of element symbols of the structure,
--   e.g. `{C=true, H=true, Hg=true}`
-- @treturn string|nil symbol, nil when no element can be read
function cif.element(label, present)
  return element(label, present, false)
end

--- Element symbol of an atom type symbol (`_atom_site_type_symbol`).
-- Charges and digits are dropped: "O2-" gives "O", "Fe3+" gives "Fe",
-- "CA" gives "Ca" unless `present` lists C but not Ca.
-- @tparam string symbol
-- @tparam[opt] table present as for `cif.element`
-- @treturn string|nil
function cif.type_element(symbol, present)
  return element(symbol, present, true)
end

-- Set of the element symbols of a formula such as "C6 H12 O6", "Cl2 Hg"
-- or "C.49 NA4 O7.51".
local function formula_elements(formula)
  if not formula then return nil end
  local set, any = {}, false
  for word in formula:gmatch("%a+") do
    local sym = upper(sub(word, 1, 1)) .. lower(sub(word, 2))
    if ELEMENTS[sym] then
      set[sym], any = true, true
    else
      for part in word:gmatch("%u%l?") do
        if ELEMENTS[part] then set[part], any = true, true end
      end
    end
  end
  return any and set or nil
end

---------------------------------------------------------------------------
-- Structure records
---------------------------------------------------------------------------

-- Alternative spellings, first found wins (tags compared after folding
-- the DDL2/DDLm '.' separator to '_').
local SPACE_GROUP_HM = {
  "_space_group_name_h-m_alt", "_symmetry_space_group_name_h-m",
  "_space_group_name_h-m", "_space_group_name_h-m_full",
}
local SPACE_GROUP_HALL = {
  "_space_group_name_hall", "_symmetry_space_group_name_hall",
}
local SPACE_GROUP_NUMBER = {
  "_space_group_it_number", "_symmetry_int_tables_number",
  "_space_group_number",
}
local CRYSTAL_SYSTEM = {
  "_space_group_crystal_system", "_symmetry_cell_setting",
}

-- A lookup view of a block in which "_cell.length_a" and "_cell_length_a"
-- are the same tag.
local function view(block)
  local flat = {}
  for tag in pairs(block.tags) do flat[gsub(tag, "%.", "_")] = tag end
  for tag in pairs(block.looped) do flat[gsub(tag, "%.", "_")] = tag end
  local v = {}
  function v.tag(name)
    return flat[name]
  end
  function v.value(name)
    local tag = flat[name]
    return tag and cif.value(block, tag)
  end
  function v.first(names)
    for _, name in ipairs(names) do
      local s = v.value(name)
      if s and text_value(s) then return s, name end
    end
    return nil
  end
  return v
end

-- Crystal system of a space-group number (International Tables).
local function system_of(number)
  if not number or number < 1 or number > 230 then return nil end
  if number <= 2 then return "triclinic"
  elseif number <= 15 then return "monoclinic"
  elseif number <= 74 then return "orthorhombic"
  elseif number <= 142 then return "tetragonal"
  elseif number <= 167 then return "trigonal"
  elseif number <= 194 then return "hexagonal"
  end
  return "cubic"
end

-- The cell angles that the crystal system fixes, for blocks that leave
-- some out (the core dictionary's default is 90; older CIFs omit the 90s
-- of monoclinic cells). nil when the system does not fix the missing ones.
local function implied_angles(system, given, lengths)
  if system == "cubic" or system == "tetragonal"
      or system == "orthorhombic" then
    return { 90.0, 90.0, 90.0 }
  elseif system == "hexagonal"
      or (system == "trigonal" and lengths[1] == lengths[2]
          and lengths[3] ~= lengths[1]) then
    return { 90.0, 90.0, 120.0 }
  elseif system == "monoclinic" then
    -- The unique angle must be among the given ones.
    for i = 1, 3 do
      if given[i] and given[i] ~= 90 then return { 90.0, 90.0, 90.0 } end
    end
  end
  return nil
end

-- The line a tag of a block is on (its loop's line when looped), else the
-- line of the block's header; nil for a block not made by `cif.parse`.
local function line_of(block, tag)
  local loop = tag and block.looped[tag]
  if loop and loop.line then return loop.line end
  local pos = tag and block.tag_pos and block.tag_pos[tag]
  if pos and block.line_of then return block.line_of(pos) end
  return block.line
end

-- "<filename>:<line>: data_<name>: <what>", the line being the offending
-- tag's (`tag`, as spelt in the block) or else the block header's.
local function fail_reason(filename, block, what, tag)
  local line = line_of(block, tag)
  if line then
    return format("%s:%d: data_%s: %s", filename or "(string)", line, block.name, what)
  end
  return format("%s: data_%s: %s", filename or "(string)", block.name, what)
end

--- Converts a data block to the store's structure record.
-- The record is a plain table ready for cjson: `identifier`,
-- `cell_lengths` {a,b,c}, `cell_angles` {alpha,beta,gamma} (each with
-- `*_su` lists when any uncertainty is written, 0 for the others; an
-- angle left out or `?` is taken from the crystal system when that fixes
-- it, e.g. the 90s of an orthorhombic cell; the system is the one written,
-- else that of the space-group number, else that of the H-M symbol),
-- `cell_volume`, `space_group` (H-M symbol as written, whitespace
-- normalised), `space_group_hall`, `space_group_number`,
-- `crystal_system` (lower case), `formula`, `z` and `atoms`, a list of
-- `{label=, symbol=, coords={x,y,z}, occupancy=}` with fractional
-- coordinates (uncertainties dropped). Optional fields are left out when
-- the block does not give them; an atom whose coordinates are not all
-- numbers has no `coords`.
-- @tparam table block a block from `cif.parse`
-- @tparam[opt] string filename used in the reason
-- @treturn[1] table the structure record
-- @treturn[2] nil when the block is not a structure
-- @treturn[2] string the reason, "<filename>:<line>: data_<name>: no ...",
--   the line being the offending tag's or else the block header's
function cif.to_structure(block, filename)
  local v = view(block)

  local lengths, lengths_su, angles, angles_su = {}, {}, {}, {}
  local any_su_l, any_su_a = false, false
  for i, axis in ipairs({ "a", "b", "c" }) do
    local raw = v.value("_cell_length_" .. axis)
    local x, su = cif.number(raw)
    if not x then
      local what
      if raw and text_value(raw) then
        what = format("cell length _cell_length_%s is not a number: '%s'",
                      axis, raw)
      elseif i == 1 and not v.tag("_cell_length_b")
          and not v.tag("_cell_length_c") then
        what = "no unit cell (_cell_length_a, _b, _c)"
      else
        what = format("no cell length _cell_length_%s", axis)
      end
      return nil, fail_reason(filename, block, what, v.tag("_cell_length_" .. axis))
    end
    lengths[i], lengths_su[i] = x, su or 0
    any_su_l = any_su_l or su ~= nil
  end
  local system = text_value((v.first(CRYSTAL_SYSTEM)))
  system = system and lower(system)
  local number = cif.number((v.first(SPACE_GROUP_NUMBER)))
  if number and math.type(number) ~= "integer" then number = nil end
  local hm = text_value((v.first(SPACE_GROUP_HM)))
  local implied
  for i, name in ipairs({ "alpha", "beta", "gamma" }) do
    local raw = v.value("_cell_angle_" .. name)
    local x, su = cif.number(raw)
    if not x and raw and text_value(raw) then
      return nil, fail_reason(filename, block, format(
        "cell angle _cell_angle_%s is not a number: '%s'", name, raw),
        v.tag("_cell_angle_" .. name))
    end
    angles[i], angles_su[i] = x, su or 0
    any_su_a = any_su_a or su ~= nil
  end
  for i, name in ipairs({ "alpha", "beta", "gamma" }) do
    if not angles[i] then
      -- The crystal system as written, else from the number, else from
      -- the H-M symbol ('F m -3 m' alone fixes a cubic cell's 90s).
      implied = implied or implied_angles(system or system_of(number)
        or (hm and spacegroups.crystal_system(hm)), angles, lengths)
      if not implied then
        return nil, fail_reason(filename, block, format(
          "no cell angle _cell_angle_%s", name))
      end
      angles[i] = implied[i]
    end
  end

  -- Atom sites: fractional coordinates are what makes a structure.
  local xs_tag = v.tag("_atom_site_fract_x")
  if not xs_tag then
    return nil, fail_reason(filename, block,
      "no atom sites (_atom_site_fract_x, _y, _z)")
  end
  local function col(name)
    local tag = v.tag(name)
    return tag and cif.column(block, tag) or nil
  end
  local xs, ys, zs = col("_atom_site_fract_x"), col("_atom_site_fract_y"),
                     col("_atom_site_fract_z")
  if not (ys and zs) or #ys ~= #xs or #zs ~= #xs then
    return nil, fail_reason(filename, block,
      "atom sites lack _atom_site_fract_y or _atom_site_fract_z", xs_tag)
  end
  local labels = col("_atom_site_label")
  local types = col("_atom_site_type_symbol")
  local occs = col("_atom_site_occupancy")
  if (labels and #labels ~= #xs) then labels = nil end
  if (types and #types ~= #xs) then types = nil end
  if (occs and #occs ~= #xs) then occs = nil end

  local formula = text_value(v.value("_chemical_formula_sum"))
  local present = formula_elements(formula)

  local atoms = {}
  for i = 1, #xs do
    local atom = {}
    local label = labels and labels[i]
    if type(label) == "string" then atom.label = label end
    local t = types and types[i]
    atom.symbol = element(t, present, true)
      or element(atom.label, present, false)
    local x, y, z = cif.number(xs[i]), cif.number(ys[i]), cif.number(zs[i])
    if x and y and z then atom.coords = { x, y, z } end
    local occ = occs and cif.number(occs[i])
    if occ then atom.occupancy = occ end
    atoms[i] = atom
  end
  if #atoms == 0 then
    return nil, fail_reason(filename, block, "no atom sites (empty loop)", xs_tag)
  end

  local s = {
    identifier = block.name,
    cell_lengths = lengths,
    cell_angles = angles,
    atoms = atoms,
  }
  if any_su_l then s.cell_lengths_su = lengths_su end
  if any_su_a then s.cell_angles_su = angles_su end
  s.cell_volume = cif.number(v.value("_cell_volume"))
  s.space_group = hm
  s.space_group_hall = text_value((v.first(SPACE_GROUP_HALL)))
  s.space_group_number = number
  s.crystal_system = system
  s.formula = formula
  s.z = cif.number(v.value("_cell_formula_units_z"))
  return s
end

--- Reads every structure of a CIF file.
-- @tparam string path
-- @treturn table list of structure records (see `cif.to_structure`)
-- @treturn table list of skipped blocks, `{ name=, reason= }`
-- @raise the errors of `cif.parse_file`, "<path>:<line>: ..." for syntax
function cif.read_structures(path)
  local blocks = cif.parse_file(path)
  local structures, skipped = {}, {}
  for _, block in ipairs(blocks) do
    local s, why = cif.to_structure(block, path)
    if s then
      structures[#structures + 1] = s
    else
      skipped[#skipped + 1] = { name = block.name, reason = why }
    end
  end
  return structures, skipped
end

return cif
