--- Organization schemes: index groups that sort the structures of a store
-- into buckets (by space group, composition, size, ...).
--
-- A scheme is a table:
--
--     { name = "by_space_group",                -- the index group: /by_space_group
--       description = "one line",
--       options = { ... },                       -- optional defaults for key
--       fields = { "space_group" },              -- optional: the top-level fields
--                                                -- key reads (only those decoded)
--       key = function(structure, refcode, options)
--         return "P 21/c"                        -- a bucket, a list of buckets,
--       end }                                    -- or nil[, reason] to skip
--
-- `organize.run` reads every structure, asks the key for its buckets, then
-- writes
--
--     /<scheme>                   attrs: scheme, description, bucket_count,
--                                        structure_count, skipped_count
--     /<scheme>/<bucket>          attrs: bucket_name (the name as the key gave it),
--                                        structure_count
--     /<scheme>/<bucket>/refcodes 1-D variable-length UTF-8 strings (h5py's
--                                 string dtype), in store order
--     /<scheme>/<bucket>/<refcode> soft links to /structures/<refcode> (links=true)
--
-- The whole index is built under a temporary name and swapped in at the
-- end, so an error midway (a key function that raises, an HDF5 failure)
-- leaves the previous index as it was; running twice gives the same index.
-- Bucket names HDF5 cannot hold are escaped reversibly (`organize.escape`).
--
-- @module h5lua.organize

local cjson = require "cjson"
local plugins = require "h5lua.plugins"

local organize = {}

-- Top-level groups an index must never replace.
local RESERVED = { structures = true, metadata = true, processing_log = true }

local decode = cjson.decode

---------------------------------------------------------------------------
-- Bucket names
---------------------------------------------------------------------------

local function hex(c) return string.format("%%%02X", c:byte()) end

--- The link name of a bucket: '%', '/' and NUL percent-encoded, a leading
-- '.' encoded as "%2E", the empty name as "%". Reversible by `unescape`.
-- @tparam string name
-- @treturn string
function organize.escape(name)
  if name == "" then return "%" end
  local s = name:gsub("[%%/%z]", hex)
  if s:sub(1, 1) == "." then s = "%2E" .. s:sub(2) end
  return s
end

--- The bucket name of a link name made by `escape`.
-- @tparam string link
-- @treturn string
function organize.unescape(link)
  if link == "%" then return "" end
  return (link:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

---------------------------------------------------------------------------
-- Registry
---------------------------------------------------------------------------

local function check_scheme(t)
  if type(t.key) ~= "function" then return nil, "'key' must be a function" end
  if t.name:find("/", 1, true) or t.name:sub(1, 1) == "." then
    return nil, "its name must not contain '/' or start with '.'"
  end
  if RESERVED[t.name] then return nil, "its name is reserved for the store's own group" end
  if t.description ~= nil and type(t.description) ~= "string" then
    return nil, "'description' must be a string"
  end
  if t.options ~= nil and type(t.options) ~= "table" then
    return nil, "'options' must be a table"
  end
  if t.fields ~= nil then
    if type(t.fields) ~= "table" then return nil, "'fields' must be a list of field names" end
    for _, f in ipairs(t.fields) do
      if type(f) ~= "string" then return nil, "'fields' must be a list of field names" end
    end
  end
  return true
end

--- The scheme registry (see `h5lua.plugins`): built-ins from
-- scripts/h5lua/schemes/, user files from `<dir>/schemes/`.
organize.schemes = plugins.registry({
  kind = "schemes", singular = "scheme", check = check_scheme,
  list_command = "h5lua schemes",
})

--- Register a scheme table; it wins over a built-in or file of the same name.
-- @tparam table scheme
-- @treturn table scheme
-- @raise when the table is not a valid scheme
function organize.register(scheme)
  local ok, err = pcall(organize.schemes.register, organize.schemes, scheme)
  if not ok then error(err, 2) end
  return scheme
end

--- Every known scheme, sorted by name.
-- @treturn table list of scheme tables
function organize.list()
  return organize.schemes:list()
end

--- The scheme of a name (a table passes through after checking).
-- @tparam string|table scheme
-- @treturn[1] table
-- @treturn[2] nil
-- @treturn[2] string why
function organize.get(scheme)
  if type(scheme) == "table" then
    if type(scheme.name) ~= "string" or scheme.name == "" then
      return nil, "scheme: 'name' must be a non-empty string"
    end
    local ok, why = check_scheme(scheme)
    if not ok then return nil, string.format("scheme '%s': %s", scheme.name, why) end
    return scheme
  end
  return organize.schemes:get(scheme)
end

---------------------------------------------------------------------------
-- Helpers for keys
---------------------------------------------------------------------------

local element_of, type_element_of
local function load_elements()
  local cif = require "h5lua.cif"
  element_of, type_element_of = cif.element, cif.type_element
end

--- Element counts of a structure's atoms, occupancy-weighted.
-- An atom's element is its `symbol` ("Fe", "FE", "Fe3+") or else read from
-- its `label` ("Cl1").
-- @tparam table structure a decoded structure
-- @treturn[1] table {symbol = count}
-- @treturn[2] nil
-- @treturn[2] string why ("missing field 'atoms'", "atom 3 has no element symbol")
function organize.element_counts(structure)
  local atoms = structure.atoms
  if type(atoms) ~= "table" then return nil, "missing field 'atoms'" end
  if not element_of then load_elements() end
  local counts = {}
  for i, atom in ipairs(atoms) do
    if type(atom) ~= "table" then return nil, string.format("atom %d is not an object", i) end
    local sym = type_element_of(atom.symbol) or element_of(atom.label)
    if not sym then return nil, string.format("atom %d has no element symbol", i) end
    local occ = tonumber(atom.occupancy) or 1
    counts[sym] = (counts[sym] or 0) + occ
  end
  return counts
end

---------------------------------------------------------------------------
-- Running a scheme
---------------------------------------------------------------------------

local store_loaded  -- required on first use: h5lua.store requires this module too
local function store_module()
  store_loaded = store_loaded or require "h5lua.store"
  return store_loaded
end

local function merged_options(scheme, opts)
  local out = {}
  for k, v in pairs(scheme.options or {}) do out[k] = v end
  for k, v in pairs(opts.options or {}) do out[k] = v end
  return out
end

local function bucket_string(b, scheme, refcode)
  local t = type(b)
  if t == "string" then
    -- The group name could be escaped, but the bucket_name attribute (an
    -- HDF5 string) cannot hold a NUL: refuse it before anything is written
    -- rather than fail midway or store a name cut short.
    if b:find("\0", 1, true) then
      error(string.format("scheme '%s' gave a bucket name with a NUL byte for '%s' (%q)",
        scheme.name, refcode, b), 0)
    end
    return b
  end
  if t == "number" then
    return math.tointeger(b) and string.format("%d", b) or tostring(b)
  end
  error(string.format("scheme '%s' gave a %s as bucket of '%s' (expected a string, a number "
    .. "or a list of them)", scheme.name, t, refcode), 0)
end

-- Buckets of one structure: a list of distinct strings, or nil, reason.
local function buckets_of(scheme, key, structure, refcode, options)
  local ok, b, reason = pcall(key, structure, refcode, options)
  if not ok then
    error(string.format("scheme '%s' failed on '%s': %s", scheme.name, refcode, tostring(b)), 0)
  end
  if b == nil then
    return nil, reason and tostring(reason) or "the key gave no bucket"
  end
  if type(b) ~= "table" then return { bucket_string(b, scheme, refcode) } end
  local list, seen = {}, {}
  for _, v in ipairs(b) do
    local s = bucket_string(v, scheme, refcode)
    if not seen[s] then
      seen[s] = true
      list[#list + 1] = s
    end
  end
  if #list == 0 then return nil, reason and tostring(reason) or "the key gave no bucket" end
  return list
end

--- Decode one structure's JSON as the store's iterator gives it; nil and
-- a reason when there is none or it is not a JSON object.
-- @tparam string|nil raw the JSON text
-- @tparam[opt] string why the store's reason when raw is nil
-- @treturn[1] table
-- @treturn[2] nil
-- @treturn[2] string "missing raw_json", "cannot be read: ...", "invalid JSON: ...",
--   "JSON is not an object"
function organize.decode(raw, why)
  if raw == nil then
    if why == nil or tostring(why):find("has no raw_json$") then return nil, "missing raw_json" end
    return nil, "cannot be read: " .. tostring(why):gsub("^h5: ", "")
  end
  local ok, v = pcall(decode, raw)
  if not ok then return nil, "invalid JSON: " .. tostring(v):gsub("^.-:%d+: ", "") end
  -- cjson gives tables for arrays too: look at the text's first character
  if type(v) ~= "table" or not raw:find("^%s*{") then return nil, "JSON is not an object" end
  return v
end

--- Decode only some top-level fields of a structure's JSON, checking the
-- whole text (store.decode_fields); falls back to `organize.decode` (the
-- whole table) when the text needs cjson's judgement.
-- @tparam string|nil raw
-- @tparam table fields names of top-level fields
-- @tparam[opt] string why the store's reason when raw is nil
-- @treturn[1] table the fields found (others absent)
-- @treturn[2] nil
-- @treturn[2] string as `organize.decode`
function organize.decode_fields(raw, fields, why)
  local out = raw ~= nil and store_module().decode_fields(raw, fields)
  if out then return out end
  return organize.decode(raw, why)
end

local function open_store(file, mode)
  local store = store_module()
  if type(file) == "string" then
    local fh = io.open(file, "rb")
    if not fh then error(string.format("cannot organize '%s': no such file", file), 0) end
    fh:close()
    return store.open(file, { mode = mode }), true
  end
  return store.open(file, { mode = mode }), false
end

local function temp_names(name)
  return ".organize-" .. name .. "-new", ".organize-" .. name .. "-old"
end

-- Write the buckets into a fresh group `tmp` at the root.
local function write_index(root, tmp, scheme, buckets, order, summary, opts)
  local g = root:create_group(tmp)
  g.attrs.scheme = scheme.name
  g.attrs.description = scheme.description or ""
  g.attrs.bucket_count = #order
  g.attrs.structure_count = summary.placed
  g.attrs.skipped_count = #summary.skipped
  for _, name in ipairs(order) do
    local refs = buckets[name]
    local b = g:create_group(organize.escape(name))
    b.attrs.bucket_name = name
    b.attrs.structure_count = #refs
    b:create_dataset("refcodes", { data = refs })
    if opts.links then
      for _, refcode in ipairs(refs) do
        -- a refcode named "refcodes" keeps the dataset; no link for it
        if refcode ~= "refcodes" then b:soft_link("/structures/" .. refcode, refcode) end
      end
    end
    b:close()
    if opts.on_bucket then opts.on_bucket(name, refs) end
  end
  g:close()
end

--- Build (or rebuild) the index of a scheme.
-- @tparam string|File file a path (opened in mode "a") or an open File
-- @tparam string|table scheme a scheme name or table
-- @tparam[opt] table opts `links` (soft links to the members), `options`
--   (override the scheme's options), `on_bucket = function(name, refcodes)`
--   (called after each bucket is written, e.g. for progress)
-- @treturn table summary: `scheme`, `group` ("/<name>"), `structures` (read),
--   `placed`, `memberships`, `buckets` (count), `skipped` (list of
--   `{refcode=, reason=}`)
-- @raise for an unknown scheme, a key function that raises or returns
--   something that is not a bucket, and h5 errors; the previous index is
--   then left as it was
function organize.run(file, scheme, opts)
  opts = opts or {}
  local s, err = organize.get(scheme)
  if not s then error(err, 2) end
  scheme = s
  local options = merged_options(scheme, opts)
  local key = scheme.key
  local fields = type(scheme.fields) == "table" and scheme.fields or nil

  local st, owned = open_store(file, "a")
  local ok, result = pcall(function()
    local buckets, order = {}, {}
    local summary = {
      scheme = scheme.name, group = "/" .. scheme.name, structures = 0, placed = 0,
      memberships = 0, buckets = 0, skipped = {},
    }
    local skipped = summary.skipped
    for refcode, raw, read_why in st:each() do
      summary.structures = summary.structures + 1
      local structure, why
      if fields then
        structure, why = organize.decode_fields(raw, fields, read_why)
      else
        structure, why = organize.decode(raw, read_why)
      end
      local list
      if structure then list, why = buckets_of(scheme, key, structure, refcode, options) end
      if list then
        summary.placed = summary.placed + 1
        summary.memberships = summary.memberships + #list
        for _, b in ipairs(list) do
          local refs = buckets[b]
          if not refs then
            refs = {}
            buckets[b] = refs
            order[#order + 1] = b
          end
          refs[#refs + 1] = refcode
        end
      else
        skipped[#skipped + 1] = { refcode = refcode, reason = why }
      end
    end
    table.sort(order)
    summary.buckets = #order

    local root = st.file
    local tmp, old = temp_names(scheme.name)
    if root:exists(tmp) or root:link_info(tmp) then root:delete(tmp) end  -- a crashed run
    if not root:exists(scheme.name) and root:exists(old) then
      root:move(old, scheme.name)  -- a run that crashed between the two moves
    end
    if root:link_info(old) then root:delete(old) end
    root:flush()  -- the previous index is on disk before anything changes
    local wok, werr = pcall(write_index, root, tmp, scheme, buckets, order, summary, opts)
    if not wok then
      pcall(root.delete, root, tmp)
      error(werr, 0)
    end
    if root:link_info(scheme.name) then root:move(scheme.name, old) end
    root:move(tmp, scheme.name)
    if root:link_info(old) then root:delete(old) end
    if st.log then
      st:log("organize", string.format("organized %d structures into %d buckets of '%s'",
        summary.placed, summary.buckets, scheme.name),
        { scheme = scheme.name, buckets = summary.buckets, placed = summary.placed,
          skipped = #summary.skipped })
    end
    root:flush()
    return summary
  end)
  if owned then
    if ok then st:close() else pcall(st.close, st) end -- the first error tells most
  end
  if not ok then error(result, 0) end
  return result
end

local function open_read(file)
  if type(file) == "string" then
    local h5 = require "h5"
    return h5.open(file, "r"), true
  end
  return file, false
end

local function index_group(f, scheme)
  local name = type(scheme) == "table" and scheme.name or scheme
  local g = f:get(name)
  if not g or g.kind ~= "group" then
    return nil, string.format("no index '/%s' in the file (run 'h5lua organize FILE %s')",
      tostring(name), tostring(name))
  end
  return g
end

--- Names of the buckets of an index, sorted (original names, unescaped).
-- @tparam string|File file
-- @tparam string|table scheme a scheme name or table (only its name is used)
-- @treturn[1] table list of bucket names
-- @treturn[2] nil
-- @treturn[2] string "no index '/x' in the file (...)"
function organize.buckets(file, scheme)
  local f, owned = open_read(file)
  local g, err = index_group(f, scheme)
  local names
  if g then
    names = {}
    for _, link in ipairs(g:keys()) do names[#names + 1] = organize.unescape(link) end
    table.sort(names)
    g:close()
  end
  if owned then f:close() end
  if not names then return nil, err end
  return names
end

--- Refcodes of one bucket of an index.
-- @tparam string|File file
-- @tparam string|table scheme
-- @tparam string bucket the bucket name as the key gave it ("P 21/c")
-- @treturn[1] table list of refcodes
-- @treturn[2] nil
-- @treturn[2] string why ("no bucket 'x' in '/scheme'")
function organize.members(file, scheme, bucket)
  local f, owned = open_read(file)
  local g, err = index_group(f, scheme)
  local refs
  if g then
    local b = g:get(organize.escape(bucket))
    local d = b and b:get("refcodes")
    if d then
      refs = d:read()
      d:close()
    else
      err = string.format("no bucket '%s' in '%s'", bucket, g.name)
    end
    if b then b:close() end
    g:close()
  end
  if owned then f:close() end
  if not refs then return nil, err end
  return refs
end

return organize
