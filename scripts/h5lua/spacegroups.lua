--- Space groups: Hermann-Mauguin symbols as people write them, resolved to
-- their International Tables number and crystal system.
--
-- The table below lists, for each of the 230 groups, its short symbol and
-- the settings of the International Tables (monoclinic unique axes and cell
-- choices, orthorhombic axis permutations, origin choices, rhombohedral and
-- hexagonal axes): "P 1 21/c 1", "P 21/n", "P 21/a", "P b n m" all resolve.
-- It was generated from gemmi 0.5.7's space-group table (python3-gemmi).
--
-- Matching ignores spaces, underscores, CIF subscript markers (`~`) and the
-- parentheses of "P2(1)/c"; the lattice letter is upper case and every other
-- letter lower case in H-M symbols, so case is folded that way. Suffixes
-- naming an origin or axes choice (":1", ":H", " S", "(origin choice 2)",
-- "{...}") are dropped, full symbols ("P 21/n 21/m 21/a") are shortened,
-- and the older spellings "Fm3m" (for Fm-3m) and "Cmca" (for Cmce) resolve.
--
-- @module h5lua.spacegroups

local spacegroups = {}

-- Index = space-group number; first entry the short symbol, then settings.
local GROUPS = {
  { "P1", "A 1", "B 1", "C 1", "F 1", "I 1" }, -- 1
  { "P-1", "A -1", "B -1", "C -1", "F -1", "I -1" }, -- 2
  { "P2", "P 1 2 1", "P 1 1 2", "P 2 1 1", "C 1 1 2" }, -- 3
  { "P21", "P 1 21 1", "P 1 1 21", "P 21 1 1", "C 1 1 21" }, -- 4
  { "C2", "C 1 2 1", "A 1 2 1", "A2", "I 1 2 1", "I2", "A 1 1 2", "B 1 1 2", "I 1 1 2",
    "B 2 1 1", "C 2 1 1", "I 2 1 1", "I 1 21 1", "I21", "C 1 21 1", "C21" }, -- 5
  { "Pm", "P 1 m 1", "P 1 1 m", "P m 1 1" }, -- 6
  { "Pc", "P 1 c 1", "P 1 n 1", "Pn", "P 1 a 1", "Pa", "P 1 1 a", "P 1 1 n", "P 1 1 b",
    "P b 1 1", "P n 1 1", "P c 1 1" }, -- 7
  { "Cm", "C 1 m 1", "A 1 m 1", "Am", "I 1 m 1", "Im", "A 1 1 m", "B 1 1 m", "I 1 1 m",
    "B m 1 1", "C m 1 1", "I m 1 1" }, -- 8
  { "Cc", "C 1 c 1", "A 1 n 1", "An", "I 1 a 1", "Ia", "A 1 a 1", "Aa", "C 1 n 1", "Cn",
    "I 1 c 1", "Ic", "A 1 1 a", "B 1 1 n", "I 1 1 b", "B 1 1 b", "A 1 1 n", "I 1 1 a", "B b 1 1",
    "C n 1 1", "I c 1 1", "C c 1 1", "B n 1 1", "I b 1 1" }, -- 9
  { "P2/m", "P 1 2/m 1", "P 1 1 2/m", "P 2/m 1 1" }, -- 10
  { "P21/m", "P 1 21/m 1", "P 1 1 21/m", "P 21/m 1 1" }, -- 11
  { "C2/m", "C 1 2/m 1", "A 1 2/m 1", "A2/m", "I 1 2/m 1", "I2/m", "A 1 1 2/m", "B 1 1 2/m",
    "I 1 1 2/m", "B 2/m 1 1", "C 2/m 1 1", "I 2/m 1 1", "F 1 2/m 1", "F2/m" }, -- 12
  { "P2/c", "P 1 2/c 1", "P 1 2/n 1", "P2/n", "P 1 2/a 1", "P2/a", "P 1 1 2/a", "P 1 1 2/n",
    "P 1 1 2/b", "P 2/b 1 1", "P 2/n 1 1", "P 2/c 1 1" }, -- 13
  { "P21/c", "P 1 21/c 1", "P 1 21/n 1", "P21/n", "P 1 21/a 1", "P21/a", "P 1 1 21/a",
    "P 1 1 21/n", "P 1 1 21/b", "P 21/b 1 1", "P 21/n 1 1", "P 21/c 1 1" }, -- 14
  { "C2/c", "C 1 2/c 1", "A 1 2/n 1", "A2/n", "I 1 2/a 1", "I2/a", "A 1 2/a 1", "A2/a",
    "C 1 2/n 1", "C2/n", "I 1 2/c 1", "I2/c", "A 1 1 2/a", "B 1 1 2/n", "I 1 1 2/b", "B 1 1 2/b",
    "A 1 1 2/n", "I 1 1 2/a", "B 2/b 1 1", "C 2/n 1 1", "I 2/c 1 1", "C 2/c 1 1", "B 2/n 1 1",
    "I 2/b 1 1" }, -- 15
  { "P222" }, -- 16
  { "P2221", "P 21 2 2", "P 2 21 2" }, -- 17
  { "P21212", "P 2 21 21", "P 21 2 21", "P 21212(a)" }, -- 18
  { "P212121" }, -- 19
  { "C2221", "A 21 2 2", "B 2 21 2", "C 2 2 21a)" }, -- 20
  { "C222", "A 2 2 2", "B 2 2 2", "C 2 2 2a" }, -- 21
  { "F222", "F 2 2 2a" }, -- 22
  { "I222", "I 2 2 2a" }, -- 23
  { "I212121" }, -- 24
  { "Pmm2", "P 2 m m", "P m 2 m" }, -- 25
  { "Pmc21", "P c m 21", "P 21 m a", "P 21 a m", "P b 21 m", "P m 21 b" }, -- 26
  { "Pcc2", "P 2 a a", "P b 2 b" }, -- 27
  { "Pma2", "P b m 2", "P 2 m b", "P 2 c m", "P c 2 m", "P m 2 a" }, -- 28
  { "Pca21", "P b c 21", "P 21 a b", "P 21 c a", "P c 21 b", "P b 21 a" }, -- 29
  { "Pnc2", "P c n 2", "P 2 n a", "P 2 a n", "P b 2 n", "P n 2 b" }, -- 30
  { "Pmn21", "P n m 21", "P 21 m n", "P 21 n m", "P n 21 m", "P m 21 n" }, -- 31
  { "Pba2", "P 2 c b", "P c 2 a" }, -- 32
  { "Pna21", "P b n 21", "P 21 n b", "P 21 c n", "P c 21 n", "P n 21 a" }, -- 33
  { "Pnn2", "P 2 n n", "P n 2 n" }, -- 34
  { "Cmm2", "A 2 m m", "B m 2 m" }, -- 35
  { "Cmc21", "C c m 21", "A 21 m a", "A 21 a m", "B b 21 m", "B m 21 b" }, -- 36
  { "Ccc2", "A 2 a a", "B b 2 b" }, -- 37
  { "Amm2", "B m m 2", "B 2 m m", "C 2 m m", "C m 2 m", "A m 2 m" }, -- 38
  { "Abm2", "B m a 2", "B 2 c m", "C 2 m b", "C m 2 a", "A c 2 m" }, -- 39
  { "Ama2", "B b m 2", "B 2 m b", "C 2 c m", "C c 2 m", "A m 2 a" }, -- 40
  { "Aba2", "B b a 2", "B 2 c b", "C 2 c b", "C c 2 a", "A c 2 a" }, -- 41
  { "Fmm2", "F 2 m m", "F m 2 m" }, -- 42
  { "Fdd2", "F 2 d d", "F d 2 d" }, -- 43
  { "Imm2", "I 2 m m", "I m 2 m" }, -- 44
  { "Iba2", "I 2 c b", "I c 2 a" }, -- 45
  { "Ima2", "I b m 2", "I 2 m b", "I 2 c m", "I c 2 m", "I m 2 a" }, -- 46
  { "Pmmm" }, -- 47
  { "Pnnn" }, -- 48
  { "Pccm", "P m a a", "P b m b" }, -- 49
  { "Pban", "P n c b", "P c n a" }, -- 50
  { "Pmma", "P m m b", "P b m m", "P c m m", "P m c m", "P m a m" }, -- 51
  { "Pnna", "P n n b", "P b n n", "P c n n", "P n c n", "P n a n" }, -- 52
  { "Pmna", "P n m b", "P b m n", "P c n m", "P n c m", "P m a n" }, -- 53
  { "Pcca", "P c c b", "P b a a", "P c a a", "P b c b", "P b a b" }, -- 54
  { "Pbam", "P m c b", "P c m a" }, -- 55
  { "Pccn", "P n a a", "P b n b" }, -- 56
  { "Pbcm", "P c a m", "P m c a", "P m a b", "P b m a", "P c m b" }, -- 57
  { "Pnnm", "P m n n", "P n m n" }, -- 58
  { "Pmmn", "P n m m", "P m n m" }, -- 59
  { "Pbcn", "P c a n", "P n c a", "P n a b", "P b n a", "P c n b" }, -- 60
  { "Pbca", "P c a b" }, -- 61
  { "Pnma", "P m n b", "P b n m", "P c m n", "P m c n", "P n a m" }, -- 62
  { "Cmcm", "C c m m", "A m m a", "A m a m", "B b m m", "B m m b" }, -- 63
  { "Cmca", "C c m b", "A b m a", "A c a m", "B b c m", "B m a b", "A b a m" }, -- 64
  { "Cmmm", "A m m m", "B m m m" }, -- 65
  { "Cccm", "A m a a", "B b m b" }, -- 66
  { "Cmma", "C m m b", "A b m m", "A c m m", "B m c m", "B m a m" }, -- 67
  { "Ccca", "C c c b", "A b a a", "A c a a", "B b c b", "B b a b" }, -- 68
  { "Fmmm" }, -- 69
  { "Fddd" }, -- 70
  { "Immm" }, -- 71
  { "Ibam", "I m c b", "I c m a" }, -- 72
  { "Ibca", "I c a b" }, -- 73
  { "Imma", "I m m b", "I b m m", "I c m m", "I m c m", "I m a m" }, -- 74
  { "P4" }, -- 75
  { "P41" }, -- 76
  { "P42" }, -- 77
  { "P43" }, -- 78
  { "I4" }, -- 79
  { "I41" }, -- 80
  { "P-4" }, -- 81
  { "I-4" }, -- 82
  { "P4/m" }, -- 83
  { "P42/m" }, -- 84
  { "P4/n" }, -- 85
  { "P42/n" }, -- 86
  { "I4/m" }, -- 87
  { "I41/a" }, -- 88
  { "P422", "C 4 2 2" }, -- 89
  { "P4212", "C 4 2 21" }, -- 90
  { "P4122" }, -- 91
  { "P41212" }, -- 92
  { "P4222" }, -- 93
  { "P42212", "P 42 21 2a" }, -- 94
  { "P4322" }, -- 95
  { "P43212" }, -- 96
  { "I422", "F 4 2 2" }, -- 97
  { "I4122" }, -- 98
  { "P4mm" }, -- 99
  { "P4bm" }, -- 100
  { "P42cm" }, -- 101
  { "P42nm" }, -- 102
  { "P4cc" }, -- 103
  { "P4nc" }, -- 104
  { "P42mc" }, -- 105
  { "P42bc" }, -- 106
  { "I4mm" }, -- 107
  { "I4cm" }, -- 108
  { "I41md" }, -- 109
  { "I41cd" }, -- 110
  { "P-42m" }, -- 111
  { "P-42c" }, -- 112
  { "P-421m" }, -- 113
  { "P-421c" }, -- 114
  { "P-4m2", "C -4 2 m" }, -- 115
  { "P-4c2" }, -- 116
  { "P-4b2", "C -4 2 b" }, -- 117
  { "P-4n2" }, -- 118
  { "I-4m2" }, -- 119
  { "I-4c2" }, -- 120
  { "I-42m" }, -- 121
  { "I-42d" }, -- 122
  { "P4/mmm" }, -- 123
  { "P4/mcc" }, -- 124
  { "P4/nbm" }, -- 125
  { "P4/nnc" }, -- 126
  { "P4/mbm" }, -- 127
  { "P4/mnc" }, -- 128
  { "P4/nmm" }, -- 129
  { "P4/ncc" }, -- 130
  { "P42/mmc" }, -- 131
  { "P42/mcm" }, -- 132
  { "P42/nbc" }, -- 133
  { "P42/nnm" }, -- 134
  { "P42/mbc" }, -- 135
  { "P42/mnm" }, -- 136
  { "P42/nmc" }, -- 137
  { "P42/ncm" }, -- 138
  { "I4/mmm", "F 4/m m m" }, -- 139
  { "I4/mcm" }, -- 140
  { "I41/amd" }, -- 141
  { "I41/acd" }, -- 142
  { "P3" }, -- 143
  { "P31" }, -- 144
  { "P32" }, -- 145
  { "H3", "R 3" }, -- 146
  { "P-3" }, -- 147
  { "H-3", "R -3" }, -- 148
  { "P312" }, -- 149
  { "P321" }, -- 150
  { "P3112" }, -- 151
  { "P3121" }, -- 152
  { "P3212" }, -- 153
  { "P3221" }, -- 154
  { "H32", "R 3 2" }, -- 155
  { "P3m1" }, -- 156
  { "P31m" }, -- 157
  { "P3c1" }, -- 158
  { "P31c" }, -- 159
  { "H3m", "R 3 m" }, -- 160
  { "H3c", "R 3 c" }, -- 161
  { "P-31m" }, -- 162
  { "P-31c" }, -- 163
  { "P-3m1" }, -- 164
  { "P-3c1" }, -- 165
  { "H-3m", "R -3 m" }, -- 166
  { "H-3c", "R -3 c" }, -- 167
  { "P6" }, -- 168
  { "P61" }, -- 169
  { "P65" }, -- 170
  { "P62" }, -- 171
  { "P64" }, -- 172
  { "P63" }, -- 173
  { "P-6" }, -- 174
  { "P6/m" }, -- 175
  { "P63/m" }, -- 176
  { "P622" }, -- 177
  { "P6122" }, -- 178
  { "P6522" }, -- 179
  { "P6222" }, -- 180
  { "P6422" }, -- 181
  { "P6322" }, -- 182
  { "P6mm" }, -- 183
  { "P6cc" }, -- 184
  { "P63cm" }, -- 185
  { "P63mc" }, -- 186
  { "P-6m2" }, -- 187
  { "P-6c2" }, -- 188
  { "P-62m" }, -- 189
  { "P-62c" }, -- 190
  { "P6/mmm" }, -- 191
  { "P6/mcc" }, -- 192
  { "P63/mcm" }, -- 193
  { "P63/mmc" }, -- 194
  { "P23" }, -- 195
  { "F23" }, -- 196
  { "I23", "I 2 3a" }, -- 197
  { "P213" }, -- 198
  { "I213" }, -- 199
  { "Pm-3" }, -- 200
  { "Pn-3" }, -- 201
  { "Fm-3" }, -- 202
  { "Fd-3" }, -- 203
  { "Im-3" }, -- 204
  { "Pa-3" }, -- 205
  { "Ia-3" }, -- 206
  { "P432" }, -- 207
  { "P4232" }, -- 208
  { "F432" }, -- 209
  { "F4132" }, -- 210
  { "I432" }, -- 211
  { "P4332" }, -- 212
  { "P4132" }, -- 213
  { "I4132" }, -- 214
  { "P-43m" }, -- 215
  { "F-43m" }, -- 216
  { "I-43m" }, -- 217
  { "P-43n" }, -- 218
  { "F-43c" }, -- 219
  { "I-43d" }, -- 220
  { "Pm-3m" }, -- 221
  { "Pn-3n" }, -- 222
  { "Pm-3n" }, -- 223
  { "Pn-3m" }, -- 224
  { "Fm-3m" }, -- 225
  { "Fm-3c" }, -- 226
  { "Fd-3m" }, -- 227
  { "Fd-3c" }, -- 228
  { "Im-3m" }, -- 229
  { "Ia-3d" }, -- 230
}

local SYSTEM_BOUNDS = {
  { 2, "triclinic" }, { 15, "monoclinic" }, { 74, "orthorhombic" }, { 142, "tetragonal" },
  { 167, "trigonal" }, { 194, "hexagonal" }, { 230, "cubic" },
}

-- The 'e' glide symbols of 1992 and the letters they replaced.
local E_GLIDES = {
  { 39, "Aem2", "Abm2" }, { 41, "Aea2", "Aba2" }, { 64, "Cmce", "Cmca" },
  { 67, "Cmme", "Cmma" }, { 68, "Ccce", "Ccca" },
}

--- Fold a symbol to its matching key: no spaces, lattice letter upper case,
-- the rest lower case, origin and axes suffixes removed.
-- @tparam string symbol
-- @treturn string the key ("" when nothing is left)
function spacegroups.key(symbol)
  local s = symbol:gsub("%b{}", ""):gsub("%([^)]*%a[^)]*%)", "")  -- {..}, (origin choice 2)
  s = s:gsub(":.*$", "")                                           -- :1, :2, :H, :R
  s = s:gsub("^%s+", ""):gsub("%s+$", "")
  s = s:gsub("%s+[SZHR]$", "")                                     -- "I -4 2 d S"
  s = s:gsub("[%s_~()]", "")
  if s == "" then return s end
  return s:sub(1, 1):upper() .. s:sub(2):lower()
end

local BY_KEY = {}
for number, names in ipairs(GROUPS) do
  for _, name in ipairs(names) do BY_KEY[spacegroups.key(name)] = number end
end
for _, e in ipairs(E_GLIDES) do
  BY_KEY[spacegroups.key(e[2])] = e[1]
  BY_KEY[spacegroups.key(e[3])] = e[1]
end
-- Cubic groups written without the bar over 3 (Fm3m, Pn3m, Ia3d, Pa3).
for number = 195, 230 do
  for _, name in ipairs(GROUPS[number]) do
    local old = spacegroups.key(name):gsub("%-3", "3")
    if BY_KEY[old] == nil then BY_KEY[old] = number end
  end
end

-- A full symbol ("P 21/n 21/m 21/a", "P 4/m 2/m 2/m", "F 4/m -3 2/m") shortened
-- as the International Tables do, or nil when it is not one.
local function shorten_full(symbol)
  local lattice, rest = symbol:match("^%s*(%a)%s+(.-)%s*$")
  if not lattice then return nil end
  local parts = {}
  for part in rest:gmatch("%S+") do parts[#parts + 1] = part end
  if #parts ~= 3 then return nil end
  local cubic = parts[2]:match("^%-?3$") ~= nil
  local short, changed = {}, false
  for i, part in ipairs(parts) do
    local axis, plane = part:match("^(%d+)/(%a)$")
    -- The first position keeps its axis except in orthorhombic (2/m, 21/n)
    -- and cubic (4/m -3 2/m -> m -3 m) symbols.
    if axis and (i > 1 or cubic or axis:sub(1, 1) == "2") then
      short[i], changed = plane, true
    else
      short[i] = part
    end
  end
  return changed and lattice .. " " .. table.concat(short, " ") or nil
end

--- The number (1..230) of a space group given by H-M symbol or number.
-- @tparam string|number symbol e.g. "P 21/c", "P 1 21/n 1", "Fm-3m", "14", 14
-- @treturn[1] integer the International Tables number
-- @treturn[2] nil
-- @treturn[2] string why: "not a space group symbol: 'X'"
-- Numbers of symbols already looked up (a scan meets the same few dozen
-- symbols again and again); bounded, since symbols come from files.
local known, nknown = {}, 0

function spacegroups.number(symbol)
  local hit = known[symbol]
  if hit then return hit end
  local t = type(symbol)
  if t == "number" then
    local n = math.tointeger(symbol)
    if n and n >= 1 and n <= 230 then return n end
    return nil, string.format("not a space group number: %s", tostring(symbol))
  end
  if t ~= "string" then
    return nil, string.format("not a space group symbol: a %s", t)
  end
  local digits = symbol:match("^%s*(%d+)%s*$")
  if digits then return spacegroups.number(math.tointeger(tonumber(digits))) end
  local n = BY_KEY[spacegroups.key(symbol)]
  if not n then
    local short = shorten_full(symbol)
    n = short and BY_KEY[spacegroups.key(short)]
  end
  if n then
    if nknown >= 4096 then known, nknown = {}, 0 end
    known[symbol], nknown = n, nknown + 1
    return n
  end
  return nil, string.format("not a space group symbol: '%s'", symbol)
end

--- The crystal system of a space group number or symbol.
-- @tparam string|number symbol
-- @treturn[1] string "triclinic", "monoclinic", "orthorhombic", "tetragonal",
--   "trigonal", "hexagonal" or "cubic"
-- @treturn[2] nil
-- @treturn[2] string why (as `spacegroups.number`)
function spacegroups.crystal_system(symbol)
  local n, err = spacegroups.number(symbol)
  if not n then return nil, err end
  for _, b in ipairs(SYSTEM_BOUNDS) do
    if n <= b[1] then return b[2] end
  end
end

--- The short H-M symbol of a space group ("P21/c" for 14).
-- @tparam string|number symbol
-- @treturn[1] string
-- @treturn[2] nil
-- @treturn[2] string why (as `spacegroups.number`)
function spacegroups.short(symbol)
  local n, err = spacegroups.number(symbol)
  if not n then return nil, err end
  return GROUPS[n][1]
end

--- The symbols of a space group as listed in the table (short symbol first,
-- then the settings).
-- @tparam integer number 1..230
-- @treturn table a new list of strings
-- @raise "not a space group number: N"
function spacegroups.settings(number)
  local names = GROUPS[number]
  if not names then
    error(string.format("not a space group number: %s", tostring(number)), 2)
  end
  return table.move(names, 1, #names, 1, {})
end

--- The crystal system a cell's metric suggests: the fallback when no space
-- group is known. Lengths count as equal within 0.1 %, angles within 0.05°.
-- @tparam table lengths {a, b, c}
-- @tparam table angles {alpha, beta, gamma} in degrees
-- @treturn[1] string a crystal system name ("hexagonal" for any a = b,
--   gamma = 120 cell: the metric cannot tell trigonal from hexagonal)
-- @treturn[2] nil
-- @treturn[2] string "cell lengths and angles must be lists of three positive numbers"
function spacegroups.system_of_cell(lengths, angles)
  local bad = "cell lengths and angles must be lists of three positive numbers"
  if type(lengths) ~= "table" or type(angles) ~= "table" or #lengths ~= 3 or #angles ~= 3 then
    return nil, bad
  end
  local a, b, c = lengths[1], lengths[2], lengths[3]
  local al, be, ga = angles[1], angles[2], angles[3]
  for _, v in ipairs({ a, b, c, al, be, ga }) do
    if type(v) ~= "number" or v ~= v or v <= 0 or v == math.huge then return nil, bad end
  end
  local function eq(x, y) return math.abs(x - y) <= 1e-3 * math.max(x, y) end
  local function deg(x, y) return math.abs(x - y) <= 0.05 end
  local right = (deg(al, 90) and 1 or 0) + (deg(be, 90) and 1 or 0) + (deg(ga, 90) and 1 or 0)
  if right == 3 then
    if eq(a, b) and eq(b, c) then return "cubic" end
    if eq(a, b) or eq(b, c) or eq(a, c) then return "tetragonal" end
    return "orthorhombic"
  end
  if deg(al, 90) and deg(be, 90) and deg(ga, 120) and eq(a, b) then return "hexagonal" end
  if eq(a, b) and eq(b, c) and deg(al, be) and deg(be, ga) then return "trigonal" end
  if right == 2 then return "monoclinic" end
  return "triclinic"
end

return spacegroups
