--- The structure store: one HDF5 file holding crystal structures as JSON.
--
--   /structures/<refcode>/raw_json   scalar variable-length UTF-8 string
--                                    (or, with json_storage = "compressed",
--                                    a chunked gzip-compressed uint8 dataset)
--   /metadata                        attributes: creation_date, csa_version,
--                                    total_structures, processing_stage, ...
--   /processing_log                  1-D extendable dataset of UTF-8 strings,
--                                    one JSON object per entry
--
-- The layout is the seed's (`hdf5_utils.initialize_hdf5_file` and
-- `write_structure_group`), byte-compatible with h5py: with
-- `libver = "earliest"` a store written here is byte-identical to the one
-- the seed's h5py code writes for the same input (see STORE.md).
--
-- raw_json is stored byte-for-byte as given: text is checked to be a JSON
-- object (without building a table) but never decoded and re-encoded.
--
--   local store = require "h5lua.store"
--   local s = store.open("structures.h5")
--   s:write("ALANIN", '{"identifier": "ALANIN", ...}')
--   print(s:get("ALANIN").identifier)
--   s:close()
local h5 = require "h5"
local cjson = require "cjson"
local perf = require "h5lua.perf"
local progress = require "h5lua.progress"

local store = {}

local format = string.format

--- libver of new stores. Measured (STORE.md): "v108" gives new-style groups
-- (a /structures group of 10^6 members takes a third of the space of
-- old-style groups, and writes are as fast or faster), object headers that
-- survive a killed writer when flushed (old-style files did not), and no
-- superblock-v3 "open for write" flag that would make a killed writer's
-- file unreadable until `h5clear` (as v110 and latest do).
store.DEFAULT_LIBVER = "v108"

--- Batch writes flush after this many items ...
store.FLUSH_EVERY = 1000
--- ... or after this many seconds, whichever comes first.
store.FLUSH_SECONDS = 5

--- Largest size of HDF5's metadata cache for a store's file, in bytes.
-- Measured (tests/bench/store_bench.lua): reading 10,000 structures back
-- peaks at 88 MiB with HDF5's default (which grows to 32 MiB of cached
-- global heaps and object headers), 35 MiB with 4 MiB, and is no slower;
-- writing 100,000 is 10% faster.
store.META_CACHE = 4 * 1024 * 1024

--- Name of the dataset holding each structure's JSON.
store.RAW_JSON = "raw_json"

-- A private cjson instance: settings changed here never leak to other users.
local json = cjson.new()
json.decode_max_depth(1000)

--- The value cjson decodes JSON null to (write it inside tables to get null).
store.null = cjson.null

---------------------------------------------------------------------------
-- Refcodes
---------------------------------------------------------------------------

local function quoted(v)
  if type(v) == "string" then return "'" .. v .. "'" end
  return tostring(v)
end

--- Is refcode usable as a structure's group name?
-- Refused: non-strings, "", names containing "/" or a NUL byte, ".", and
-- text that is not UTF-8 (HDF5 link names are UTF-8 here, as in h5py).
-- @param refcode
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] string the reason
function store.check_refcode(refcode)
  if type(refcode) ~= "string" then
    return nil, "refcode must be a string, got " .. type(refcode)
  end
  if refcode == "" then return nil, "refcode must not be empty" end
  if refcode:find("/", 1, true) then
    return nil, format("refcode '%s' must not contain '/'", refcode)
  end
  if refcode == "." then return nil, "refcode '.' is not a valid group name" end
  if refcode:find("\0", 1, true) then return nil, "refcode must not contain a NUL byte" end
  if not utf8.len(refcode) then return nil, "refcode is not valid UTF-8" end
  return true
end

---------------------------------------------------------------------------
-- JSON: checking text, encoding tables
---------------------------------------------------------------------------

-- h5.json_check recognises one JSON object (RFC 8259, plus NaN, Infinity
-- and -Infinity, which Python's json reads and writes) in C, building
-- nothing, and checks that strings are UTF-8.
local json_check = h5.json_check

-- cjson's message without a "file:line:" prefix.
local function cjson_reason(text)
  local ok, err = pcall(json.decode, text)
  if ok then return nil end
  return (tostring(err):gsub("^.-:%d+: ", ""))
end

--- Check that text is one JSON object in UTF-8, without keeping a decoded
-- copy.
-- @tparam string text
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] string the reason ("invalid JSON: ...", "JSON text is not an
--   object", "JSON text is not valid UTF-8", "JSON text contains a NUL byte")
function store.check_json(text)
  if type(text) ~= "string" then
    return nil, "JSON must be a string or a table, got " .. type(text)
  end
  local good, at, reason = json_check(text)
  if good then return true end
  -- say why, as precisely as we can (in cjson's words when it objects too)
  if text:find("\0", 1, true) then return nil, "JSON text contains a NUL byte" end
  if not utf8.len(text) then return nil, "JSON text is not valid UTF-8" end
  local why = cjson_reason(text)
  if why then return nil, "invalid JSON: " .. why end
  if not text:find("^%s*{") then return nil, "JSON text is not an object" end
  return nil, format("invalid JSON: %s at character %d", reason, at)
end

-- Shortest "%.{15,16,17}g" that reads back as the same double; whole
-- numbers keep a ".0" as Python writes them.
local function float_text(x)
  if x ~= x then return "NaN" end
  if x == math.huge then return "Infinity" end
  if x == -math.huge then return "-Infinity" end
  if x == math.floor(x) and math.abs(x) < 1e16 then return format("%.1f", x) end
  for digits = 15, 17 do
    local s = format("%." .. digits .. "g", x)
    if tonumber(s) == x then return s end
  end
  return format("%.17g", x)
end

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
                  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
local function string_text(s, ascii)
  s = s:gsub('[%c"\\]', function(c)
    return escapes[c] or format("\\u%04x", c:byte())
  end)
  if ascii then
    s = s:gsub("[\194-\244][\128-\191]*", function(ch)
      local cp = utf8.codepoint(ch)
      if cp < 0x10000 then return format("\\u%04x", cp) end
      cp = cp - 0x10000
      return format("\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF))
    end)
  end
  return '"' .. s .. '"'
end

local encode_value

-- o: {indent = n or nil, ascii = bool}; level: current depth.
local function encode_table(t, out, depth, o)
  if depth > 1000 then error("cannot encode a table nested deeper than 1000 levels", 0) end
  local n, count = #t, 0
  for _ in pairs(t) do count = count + 1 end
  local nl, pad, inner, colon = "", "", "", ":"
  if o.indent then
    nl = "\n"
    pad = (" "):rep(o.indent * depth)
    inner = (" "):rep(o.indent * (depth + 1))
    colon = ": "
  end
  if n > 0 and count == n then
    out[#out + 1] = "["
    for i = 1, n do
      out[#out + 1] = (i > 1 and "," or "") .. nl .. inner
      encode_value(t[i], out, depth + 1, o)
    end
    out[#out + 1] = nl .. pad .. "]"
    return
  end
  if count == 0 then
    out[#out + 1] = "{}"
    return
  end
  local keys = {}
  for k in pairs(t) do
    local kt = type(k)
    if kt == "number" then
      keys[#keys + 1] = { math.tointeger(k) and format("%d", k) or float_text(k), k }
    elseif kt == "string" then
      keys[#keys + 1] = { k, k }
    else
      error(format("cannot encode a table with a %s key as JSON", kt), 0)
    end
  end
  table.sort(keys, function(a, b) return a[1] < b[1] end)
  out[#out + 1] = "{"
  for i, kv in ipairs(keys) do
    out[#out + 1] = (i > 1 and "," or "") .. nl .. inner
    out[#out + 1] = string_text(kv[1], o.ascii)
    out[#out + 1] = colon
    encode_value(t[kv[2]], out, depth + 1, o)
  end
  out[#out + 1] = nl .. pad .. "}"
end

encode_value = function(v, out, depth, o)
  local t = type(v)
  if t == "string" then
    if not utf8.len(v) then error("cannot encode a string that is not UTF-8 as JSON", 0) end
    out[#out + 1] = string_text(v, o.ascii)
  elseif t == "number" then
    out[#out + 1] = math.type(v) == "integer" and format("%d", v) or float_text(v)
  elseif t == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif v == cjson.null then
    out[#out + 1] = "null"
  elseif t == "table" then
    encode_table(v, out, depth, o)
  else
    error(format("cannot encode a %s as JSON", t), 0)
  end
end

--- Encode a Lua value as JSON: keys sorted (so the same table always gives
-- the same text), floats written with the fewest digits that read back
-- exactly (cjson keeps only 14), arrays for sequences, store.null for null.
-- Compact by default; with opts.indent = n, laid out as Python's
-- json.dumps(indent=n) (which also escapes non-ASCII, as Python's default
-- ensure_ascii does, unless opts.ensure_ascii is false).
-- @param v a table (or any JSON value)
-- @tparam[opt] table opts indent, ensure_ascii
-- @treturn string
function store.encode_json(v, opts)
  local o = { indent = opts and opts.indent }
  if o.indent then o.ascii = opts.ensure_ascii ~= false
  else o.ascii = opts and opts.ensure_ascii or false end
  local out = {}
  encode_value(v, out, 0, o)
  return table.concat(out)
end

--- Decode JSON text (cjson), or nil and the reason.
-- @tparam string text
-- @treturn[1] table
-- @treturn[2] nil
-- @treturn[2] string
function store.decode_json(text)
  local ok, v = pcall(json.decode, text)
  if not ok then return nil, "invalid JSON: " .. tostring(v):gsub("^.-:%d+: ", "") end
  return v
end

--- Decode only some top-level fields of JSON object text, checking the
-- whole text (h5.json_members, which builds nothing: a tenth of the cost of
-- decoding it all). Duplicate keys: the last one wins, as in cjson.
-- @tparam string text
-- @tparam table fields names of top-level fields
-- @treturn[1] table the fields found (others absent)
-- @treturn[2] nil when the scanner refuses the text or a field does not
--   decode: decode it whole (store.decode_json) to have cjson's verdict
function store.decode_fields(text, fields)
  local list = h5.json_members(text)
  if not list then return nil end
  local out = {}
  for i = 1, #list, 3 do
    local key = list[i]
    key = key:find("\\", 1, true) and json.decode(key) or key:sub(2, -2)
    for _, f in ipairs(fields) do
      if f == key then
        local ok, v = pcall(json.decode, text:sub(list[i + 1], list[i + 2] - 1))
        if not ok then return nil end
        out[key] = v
      end
    end
  end
  return out
end

---------------------------------------------------------------------------
-- Opening and closing
---------------------------------------------------------------------------

local Store = {}
Store.__index = Store

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then
    f:close()
    return true
  end
  return false
end

local JSON_STORAGE = { string = true, compressed = true }

local function is_file(v)
  local mt = type(v) == "userdata" and getmetatable(v)
  return type(mt) == "table" and mt.__name == "h5.File"
end

--- Open (or create) a store.
-- @tparam string|h5.File target a path, or an open h5.File (used as it is
--   and left open by s:close())
-- @tparam[opt] table opts
--   mode: as h5.open ("a" default; "r" read-only, "r+", "w", "w-"/"x");
--   libver: for new files (default store.DEFAULT_LIBVER; "earliest" gives
--     files byte-identical to the seed's h5py code);
--   json_storage: "string" (default) or "compressed" (gzip uint8 datasets);
--     recorded in the file and used for later writes;
--   compression ("gzip"), compression_opts (6), chunk_size (KiB per chunk,
--     64): settings of compressed JSON storage;
--   validate: check JSON text before writing (default true);
--   driver, locking: passed to h5.open;
--   meta_cache: largest metadata cache size in bytes (store.META_CACHE);
--   journal: a writable store opened by path journals its writes (default
--     true; see h5.open): a writer killed at any moment leaves the file as
--     its last flush did, which write_many reports through on_flush.
-- @treturn Store
-- @raise on a bad option or when the file cannot be opened
function store.open(target, opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("store.open: opts must be a table, got " .. type(opts), 2)
  end
  opts = opts or {}
  if opts.json_storage ~= nil and not JSON_STORAGE[opts.json_storage] then
    error(format("store.open: json_storage must be 'string' or 'compressed', got %s",
      quoted(opts.json_storage)), 2)
  end
  local file, owns, mode, journaled, creating
  if type(target) == "string" then
    mode = opts.mode or "a"
    creating = mode == "w" or mode == "w-" or mode == "x"
      or (mode == "a" and not file_exists(target))
    -- A writer journals (h5.open's `journal`): a kill -9 at any moment rolls
    -- the file back to its last flush, never to a half-written state.
    journaled = mode ~= "r" and opts.driver == nil and opts.journal ~= false
    local fopts = { driver = opts.driver, locking = opts.locking, journal = journaled or nil,
      meta_cache = opts.meta_cache or store.META_CACHE }
    if creating then
      fopts.libver = opts.libver or store.DEFAULT_LIBVER
    else
      fopts.libver = opts.libver
    end
    file = h5.open(target, mode, fopts)
    owns = true
  elseif is_file(target) then
    file, owns = target, false
    mode = opts.mode or file.mode
  else
    error("store.open: expected a path or an h5.File, got " .. type(target), 2)
  end

  local self = setmetatable({
    file = file, owns = owns, writable = mode ~= "r" and file.mode ~= "r",
    validate = opts.validate ~= false,
    compression = opts.compression or "gzip",
    compression_opts = opts.compression_opts,
    chunk_bytes = math.floor((opts.chunk_size or 64) * 1024),
  }, Store)
  if self.compression == "gzip" and self.compression_opts == nil then
    self.compression_opts = 6
  end

  -- Compressed JSON wants HDF5 1.10's single-chunk index (layout message
  -- v4): with it a one-chunk dataset costs no chunk B-tree, which makes the
  -- file 3x smaller than with 1.8's index. The file keeps its version-2
  -- superblock (created v108 below), so a killed writer's file still opens.
  if owns and self.writable and opts.libver == nil and file.libver ~= "v110"
      and file.libver ~= "latest" then
    local wanted = opts.json_storage
    if wanted == nil then
      local g = file:get("structures")
      wanted = g and g.kind == "group" and g.attrs.json_storage
      if g then g:close() end
    end
    if wanted == "compressed" then
      file:close()
      file = h5.open(target, "r+", { libver = "v110", driver = opts.driver,
        locking = opts.locking, journal = journaled or nil,
        meta_cache = opts.meta_cache or store.META_CACHE })
      self.file = file
    end
  end

  local ok, err = pcall(function()
    if self.writable then
      self.structures = file:require_group("structures")
    else
      local g = file:get("structures")
      if g and g.kind == "group" then self.structures = g end
    end
    local recorded = self.structures and self.structures.attrs.json_storage
    self.json_storage = opts.json_storage or recorded or "string"
    if self.json_storage ~= (recorded or "string") and self.writable then
      self.structures.attrs.json_storage = self.json_storage
    end
    -- a new store is complete on disk before anything is written to it
    -- (not with libver "earliest": that mode promises h5py's very bytes, and
    -- a flush moves later objects; see STORE.md)
    if creating and self.writable and (opts.libver or store.DEFAULT_LIBVER) ~= "earliest" then
      file:flush()
    end
  end)
  if not ok then
    if owns then pcall(file.close, file) end -- the first error tells most
    error(err, 0)
  end
  return self
end

--- Close the store (and its file when the store opened it). Idempotent.
function Store:close()
  if self.structures then
    self.structures:close()
    self.structures = nil
  end
  if self.owns and self.file then self.file:close() end
  self.closed = true
end

Store.__close = Store.close

function Store:__tostring()
  if self.closed then return "<h5lua.Store (closed)>" end
  return format("<h5lua.Store %s: %d structures>", self.file.filename, self:count())
end

local function check_open(self)
  if self.closed then error("attempt to use a closed store", 3) end
end

local function check_writable(self, what)
  check_open(self)
  if not self.writable then
    error(format("cannot %s: the store is open read-only", what), 3)
  end
end

---------------------------------------------------------------------------
-- Reading
---------------------------------------------------------------------------

--- Number of structures (members of /structures).
-- @treturn integer
function Store:count()
  check_open(self)
  if not self.structures then return 0 end
  return #self.structures
end

--- Refcodes in sorted order.
-- @treturn {string,...}
function Store:refcodes()
  check_open(self)
  if not self.structures then return {} end
  return self.structures:keys()
end

--- Does the structure exist?
-- @tparam string refcode
-- @treturn boolean
function Store:exists(refcode)
  check_open(self)
  if not self.structures or not store.check_refcode(refcode) then return false end
  return self.structures:exists(refcode)
end

-- raw_json text of an open dataset, or nil, reason.
local function dataset_text(ds, refcode)
  local ndim = ds.ndim
  if ndim == 0 then
    local v = ds:read()
    if type(v) == "string" then return v end
    return nil, format("raw_json of '%s' is a %s, not a string", refcode, ds.dtype)
  elseif ndim == 1 and (ds.dtype == "uint8" or ds.dtype == "int8") then
    return ds:read_bytes()
  end
  return nil, format("raw_json of '%s' is a %s dataset of %d dimensions, not a string",
    refcode, ds.dtype, ndim)
end

--- The raw JSON text of a structure, exactly as written (uncompressed when
-- it is stored compressed).
-- @tparam string refcode
-- @treturn[1] string
-- @treturn[2] nil
-- @treturn[2] string "no structure 'X'", "structure 'X' has no raw_json", ...
function Store:read(refcode)
  check_open(self)
  local good, why = store.check_refcode(refcode)
  if not good then return nil, why end
  local structures = self.structures
  local ds = structures and structures:get(refcode .. "/raw_json")
  if not ds then
    if not structures or not structures:exists(refcode) then
      return nil, format("no structure '%s'", refcode)
    end
    return nil, format("structure '%s' has no raw_json", refcode)
  end
  -- the common case in as few calls as possible: a scalar string
  if self.json_storage ~= "compressed" then
    local ok, v = pcall(ds.read, ds)
    if ok and type(v) == "string" then
      ds:close()
      return v
    end
  end
  if ds.kind ~= "dataset" then
    ds:close()
    return nil, format("raw_json of '%s' is a group, not a dataset", refcode)
  end
  local ok, text, err = pcall(dataset_text, ds, refcode)
  ds:close()
  if not ok then return nil, tostring(text) end
  if text == nil then return nil, err end
  return text
end

--- A structure decoded into a Lua table.
-- @tparam string refcode
-- @treturn[1] table
-- @treturn[2] nil
-- @treturn[2] string as Store:read, or "invalid JSON in 'X': ..."
function Store:get(refcode)
  local text, why = self:read(refcode)
  if not text then return nil, why end
  local v, err = store.decode_json(text)
  if v == nil then return nil, format("%s in '%s'", err, refcode) end
  return v
end

--- Iterate over the structures in refcode order: for refcode, raw_json, why
-- in s:each(). raw_json is nil (and why says why) for a structure whose
-- JSON cannot be read, so a scan can report it and go on.
-- @treturn function iterator
function Store:each()
  check_open(self)
  local names = self:refcodes()
  local i = 0
  return function()
    i = i + 1
    local refcode = names[i]
    if refcode == nil then return nil end
    local text, why = self:read(refcode)
    return refcode, text, why
  end
end

---------------------------------------------------------------------------
-- Writing
---------------------------------------------------------------------------

-- Create `name` in group g holding text as the store's storage mode wants.
local function create_json_dataset(self, g, name, text)
  if self.json_storage == "compressed" then
    local n = #text
    local chunk = math.max(1, math.min(n, self.chunk_bytes))
    local ds = g:create_dataset(name, { dtype = "uint8", shape = { n }, chunks = { chunk },
      compression = self.compression, compression_opts = self.compression_opts })
    local ok, err = pcall(ds.write_bytes, ds, text)
    ds:close()
    if not ok then error(err, 0) end
  else
    g:create_dataset(name, text):close()
  end
end

local TMP_NAME = ".raw_json.new"

-- Replace the raw_json of an existing structure group g: the new JSON goes
-- in beside the old under a temporary name, and takes the old one's place
-- only once it is complete.
local function replace(self, g, text)
  if g:link_info(TMP_NAME) then g:delete(TMP_NAME) end
  local wok, werr = pcall(create_json_dataset, self, g, TMP_NAME, text)
  if not wok then
    pcall(g.delete, g, TMP_NAME)
    error(werr, 0)
  end
  if g:link_info("raw_json") then g:delete("raw_json") end
  g:move(TMP_NAME, "raw_json")
end

local function assign(group, name, value) group[name] = value end

-- Write text (already checked) under refcode; all-or-nothing.
local function put(self, refcode, text)
  local structures = self.structures
  -- A new structure: one assignment creates its group, then the dataset in
  -- it, as h5py does (so files stay byte-identical), with no lookup of the
  -- big /structures group first and no handle kept; it fails "name already
  -- exists" when raw_json is there, and removes the group it made if the
  -- write fails.
  if self.json_storage ~= "compressed" then
    local created, err = pcall(assign, structures, refcode .. "/raw_json", text)
    if created then return end
    if not structures:link_info(refcode) then error(err, 0) end  -- a real failure
  else
    local created, g = pcall(structures.create_group, structures, refcode)
    if created then
      local ok, err = pcall(create_json_dataset, self, g, "raw_json", text)
      g:close()
      if not ok then
        pcall(structures.delete, structures, refcode)
        error(err, 0)
      end
      return
    end
    if not structures:link_info(refcode) then error(g, 0) end  -- a real failure
  end
  local g = structures:get(refcode)
  if not g then error(format("'/structures/%s' is a dangling link", refcode), 0) end
  local kind = g.kind
  if kind ~= "group" then
    g:close()
    error(format("'/structures/%s' is a %s, not a group", refcode, kind), 0)
  end
  local ok, err = pcall(replace, self, g, text)
  g:close()
  if not ok then error(err, 0) end
end

-- The JSON text to store for value, or nil, reason.
local function json_text(self, value)
  if type(value) == "table" then
    local ok, text = pcall(store.encode_json, value)
    if not ok then return nil, tostring(text) end
    return text
  end
  if type(value) ~= "string" then
    return nil, "JSON must be a string or a table, got " .. type(value)
  end
  if self.validate then
    local good, why = store.check_json(value)
    if not good then return nil, why end
  end
  return value
end

--- Write one structure, replacing any earlier one of the same refcode.
-- The text is stored byte-for-byte; a table is encoded once (store.encode_json).
-- @tparam string refcode
-- @tparam string|table value JSON text (one object) or a table
-- @raise "cannot write structure 'X': <reason>" for a bad refcode or bad
--   JSON (the file is then unchanged), and on HDF5 failures
function Store:write(refcode, value)
  check_writable(self, "write")
  local good, why = store.check_refcode(refcode)
  if not good then error(format("cannot write structure %s: %s", quoted(refcode), why), 0) end
  local text, jwhy = json_text(self, value)
  if not text then error(format("cannot write structure '%s': %s", refcode, jwhy), 0) end
  put(self, refcode, text)
end

--- Delete a structure.
-- @tparam string refcode
-- @treturn[1] boolean true
-- @treturn[2] nil
-- @treturn[2] string "no structure 'X'"
function Store:delete(refcode)
  check_writable(self, "delete")
  local good, why = store.check_refcode(refcode)
  if not good then return nil, why end
  if not self.structures:link_info(refcode) then
    return nil, format("no structure '%s'", refcode)
  end
  self.structures:delete(refcode)
  return true
end

--- Flush the file to disk.
function Store:flush()
  check_open(self)
  self.file:flush()
end

---------------------------------------------------------------------------
-- Batch writing
---------------------------------------------------------------------------

-- LuaFileSystem (Debian lua-filesystem, a dependency of busted) when present;
-- its loader also sets a global `lfs`, which we take back.
local lfs_ok, lfs
do
  local had = rawget(_G, "lfs")
  lfs_ok, lfs = pcall(require, "lfs")
  if had == nil then rawset(_G, "lfs", nil) end
end

local function is_directory(path)
  if lfs_ok then return lfs.attributes(path, "mode") == "directory" end
  return os.execute("test -d '" .. path:gsub("'", "'\\''") .. "'") == true
end

local function json_files(dir)
  local names = {}
  if lfs_ok then
    for name in lfs.dir(dir) do
      if name:match("%.json$") and lfs.attributes(dir .. "/" .. name, "mode") == "file" then
        names[#names + 1] = name
      end
    end
  else
    local p = io.popen("ls -1 '" .. dir:gsub("'", "'\\''") .. "'")
    for name in p:lines() do
      if name:match("%.json$") then names[#names + 1] = name end
    end
    p:close()
  end
  table.sort(names)
  return names
end

local function slurp(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("a")
  f:close()
  return s
end

-- Items come as (refcode, value, why): why set means the item is already
-- known to be bad (it is then reported as failed under refcode).
-- Returns iterator, total (or nil), closer.
local function make_source(source, opts)
  local st = type(source)
  if st == "function" then return source, opts.total end
  if st == "table" then
    local list = {}
    if source[1] ~= nil then
      for i, e in ipairs(source) do
        if type(e) ~= "table" then
          error(format("write_many: item %d of the list is a %s, not {refcode, json}", i,
            type(e)), 0)
        end
        list[i] = { e.refcode or e[1], e.json or e[2] }
      end
    else
      local keys = {}
      for k in pairs(source) do keys[#keys + 1] = k end
      table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
      for i, k in ipairs(keys) do list[i] = { k, source[k] } end
    end
    local i = 0
    return function()
      i = i + 1
      local e = list[i]
      if e then return e[1], e[2] end
    end, #list
  end
  if st == "string" then
    if is_directory(source) then
      local names = json_files(source)
      local i = 0
      return function()
        i = i + 1
        local name = names[i]
        if not name then return nil end
        local refcode = name:sub(1, -6)
        local text, err = slurp(source .. "/" .. name)
        if not text then return refcode, nil, "cannot read " .. err end
        return refcode, text
      end, #names
    end
    -- JSON Lines: one object per line, its refcode in a field
    local f, err = io.open(source, "rb")
    if not f then error("write_many: cannot open " .. err, 0) end
    local fields = opts.refcode_field and { opts.refcode_field } or { "refcode", "identifier" }
    local lineno = 0
    return function()
      while true do
        local line = f:read("l")
        if line == nil then return nil end
        lineno = lineno + 1
        line = line:gsub("\r$", "")
        if line:find("%S") then
          local where = format("%s:%d", source, lineno)
          -- the refcode fields alone are decoded; cjson judges the rest
          local v, why = store.decode_fields(line, fields)
          if not v then v, why = store.decode_json(line) end
          if type(v) ~= "table" then
            return where, nil, why or "JSON text is not an object"
          end
          local refcode
          for _, name in ipairs(fields) do
            if type(v[name]) == "string" then
              refcode = v[name]
              break
            end
          end
          if not refcode then
            return where, nil, format("no %s field", table.concat(fields, " or "))
          end
          return refcode, line
        end
      end
    end, nil, function() f:close() end
  end
  error("write_many: source must be a table, a function, or a path, got " .. st, 0)
end

--- Write many structures.
-- @param source a table (refcode -> JSON text or table, written in refcode
--   order; or a list of {refcode, json}), an iterator function returning
--   refcode, json until nil, the path of a JSON Lines file (one object per
--   line; refcode from opts.refcode_field, else the "refcode" or
--   "identifier" field) or of a directory of REFCODE.json files.
-- @tparam[opt] table opts
--   on_error: "raise" (default: stop at the first bad item, after flushing
--     what was written) or "collect" (record it and go on);
--   flush_every (default store.FLUSH_EVERY items), flush_seconds (default
--     store.FLUSH_SECONDS): the file is flushed when either is reached, and
--     at the end; false or 0 turns intermediate flushes off;
--   on_flush: function(info) called after each flush, info = {written=
--     (total so far), refcodes= (the items this flush made durable),
--     elapsed=}; an item counts as written only once flushed;
--   progress: nil (bar on stderr when it is a terminal), true, or false;
--   label: text of the progress bar (default "writing");
--   log: record the batch in /processing_log (default true);
--   total: number of items, for the progress bar of an iterator source.
-- @treturn table {written=, failed={{refcode=, error=}, ...}, elapsed=}
-- @raise with on_error = "raise", "write_many: <reason>" for the first bad item
function Store:write_many(source, opts)
  check_writable(self, "write")
  opts = opts or {}
  if type(opts) ~= "table" then error("write_many: opts must be a table", 2) end
  local on_error = opts.on_error or "raise"
  if on_error ~= "raise" and on_error ~= "collect" then
    error(format("write_many: on_error must be 'raise' or 'collect', got %s", quoted(on_error)),
      2)
  end
  local flush_every = opts.flush_every
  if flush_every == nil then flush_every = store.FLUSH_EVERY end
  if not flush_every or flush_every <= 0 then flush_every = math.huge end
  local flush_seconds = opts.flush_seconds
  if flush_seconds == nil then flush_seconds = store.FLUSH_SECONDS end
  if not flush_seconds or flush_seconds <= 0 then flush_seconds = math.huge end
  local clock = perf.clock

  local iter, total, closer = make_source(source, opts)
  local bar = progress.new({ total = total, label = opts.label or "writing",
    enabled = opts.progress })

  local t0 = clock()
  local result = { written = 0, failed = {}, elapsed = 0 }
  -- refcodes written since the last flush, kept only for on_flush: without
  -- flushes a list of every refcode would cost the collector a walk of
  -- 100,000 strings on each cycle (measured: 13% of a 100,000 write)
  local keep = opts.on_flush ~= nil
  local pending, npending = {}, 0
  local last_flush = t0
  local processed = 0

  local function commit()
    if npending == 0 then return end
    self.file:flush()
    result.written = result.written + npending
    local done = pending
    pending, npending = {}, 0
    last_flush = clock()
    if opts.on_flush then
      opts.on_flush({ written = result.written, refcodes = done, elapsed = last_flush - t0 })
    end
  end

  local function fail(refcode, why)
    if on_error == "raise" then
      commit()
      error(format("write_many: cannot write structure %s: %s", quoted(refcode), why), 0)
    end
    result.failed[#result.failed + 1] = { refcode = refcode, error = why }
  end

  local ok, err = pcall(function()
    while true do
      local refcode, value, bad = iter()
      if refcode == nil then break end
      processed = processed + 1
      if bad then
        fail(refcode, bad)
      else
        local good, why = store.check_refcode(refcode)
        local text
        if good then text, why = json_text(self, value) end
        if not text then
          fail(refcode, why)
        else
          local wok, werr = pcall(put, self, refcode, text)
          if wok then
            npending = npending + 1
            if keep then pending[npending] = refcode end
            if npending >= flush_every or clock() - last_flush >= flush_seconds then
              commit()
            end
          else
            fail(refcode, tostring(werr))
          end
        end
      end
      bar:update(processed)
    end
    commit()
  end)
  if closer then closer() end
  result.elapsed = clock() - t0
  if not ok then
    bar:finish()
    error(err, 0)
  end
  bar:finish(format("%d written, %d failed", result.written, #result.failed))
  if opts.log ~= false and processed > 0 then
    self:log("write_many", format("wrote %d structures, %d failed", result.written,
      #result.failed), { written = result.written, failed = #result.failed,
      elapsed = math.floor(result.elapsed * 1000 + 0.5) / 1000 })
    self.file:flush()
  end
  return result
end

---------------------------------------------------------------------------
-- Metadata
---------------------------------------------------------------------------

local STANDARD = { "creation_date", "csa_version", "total_structures", "processing_stage" }

--- Set attributes of /metadata (creating it). Keys given are written as
-- they are; the seed's standard keys get defaults when still missing:
-- creation_date (now, ISO-8601, set once), csa_version ("unknown"),
-- total_structures (the current count), processing_stage (opts `stage`, as
-- the seed names it, else "raw").
-- @tparam table t attribute name -> value (numbers, strings, booleans, lists)
function Store:set_metadata(t)
  check_writable(self, "set metadata")
  if type(t) ~= "table" then error("set_metadata: expected a table, got " .. type(t), 2) end
  local g = self.file:require_group("metadata")
  local ok, err = pcall(function()
    local attrs = g.attrs
    local values = {}
    for k, v in pairs(t) do
      if type(k) ~= "string" then error("set_metadata: attribute names must be strings", 0) end
      values[k] = v
    end
    if values.stage ~= nil and values.processing_stage == nil then
      values.processing_stage, values.stage = values.stage, nil
    end
    local defaults = {
      creation_date = function() return perf.isotime() end,
      csa_version = function() return "unknown" end,
      total_structures = function() return self:count() end,
      processing_stage = function() return "raw" end,
    }
    for _, k in ipairs(STANDARD) do
      if values[k] == nil and attrs[k] == nil then values[k] = defaults[k]() end
    end
    local names = {}
    for k in pairs(values) do names[#names + 1] = k end
    table.sort(names)
    for _, k in ipairs(names) do attrs[k] = values[k] end
  end)
  g:close()
  if not ok then error(err, 0) end
end

--- The attributes of /metadata as a table ({} when there is none).
-- @treturn table
function Store:metadata()
  check_open(self)
  local g = self.file:get("metadata")
  if not g then return {} end
  local out = {}
  for k, v in pairs(g.attrs) do out[k] = v end
  g:close()
  return out
end

---------------------------------------------------------------------------
-- Processing log
---------------------------------------------------------------------------

local LOG = "processing_log"

--- Append an entry to /processing_log, a 1-D extendable dataset of UTF-8
-- strings, each one JSON object {"time":, "stage":, "message":, "fields":}
-- (h5py: `[json.loads(e) for e in f["processing_log"].asstr()[()]]`).
-- @tparam string stage e.g. "import", "organize", "validate"
-- @tparam string message one line for people
-- @tparam[opt] table fields machine-readable details (JSON-encodable)
function Store:log(stage, message, fields)
  check_writable(self, "log")
  if type(stage) ~= "string" then error("log: stage must be a string", 2) end
  if type(message) ~= "string" then error("log: message must be a string", 2) end
  if fields ~= nil and type(fields) ~= "table" then error("log: fields must be a table", 2) end
  local entry = { time = perf.isotime(), stage = stage, message = message }
  if fields and next(fields) ~= nil then entry.fields = fields end
  local line = store.encode_json(entry)
  local ds = self.file:get(LOG)
  if ds and ds.kind ~= "dataset" then
    ds:close()
    error("cannot log: '/processing_log' exists and is not a dataset", 0)
  end
  if not ds then
    ds = self.file:create_dataset(LOG, { dtype = "string", shape = { 0 },
      maxshape = { h5.UNLIMITED }, chunks = { 64 } })
    ds.attrs.format = "one JSON object per entry: time, stage, message, fields"
  end
  local ok, err = pcall(function()
    local n = ds.shape[1]
    ds:resize(n + 1, 1)
    ds:write(line, n + 1)
  end)
  ds:close()
  if not ok then error(err, 0) end
end

--- The processing log, oldest first: a list of {time=, stage=, message=,
-- fields=} ({} when there is none). Entries that are not JSON (written by
-- another tool) come back as {message = text}.
-- @treturn table
function Store:history()
  check_open(self)
  local ds = self.file:get(LOG)
  if not ds then return {} end
  if ds.kind ~= "dataset" then
    ds:close()
    return {}
  end
  local ok, lines = pcall(ds.read, ds)
  ds:close()
  if not ok then error(lines, 0) end
  local out = {}
  if type(lines) ~= "table" then lines = { lines } end
  for i, line in ipairs(lines) do
    local v = type(line) == "string" and store.decode_json(line)
    if type(v) == "table" then
      out[i] = v
    else
      out[i] = { message = tostring(line) }
    end
  end
  return out
end

store.Store = Store

return store
