--- Repair: copy everything readable out of a damaged HDF5 file into a new
-- one, then put the new file in the original's place.
--
-- How it works:
--
-- 1. The original is opened read-only. A truncated file (HDF5 refuses it:
--    "truncated file: eof = ..., stored_eof = ...") is first copied to a
--    scratch file padded with zeros back to its recorded size, so that the
--    objects that still lie before the cut can be read.
-- 2. A temporary file is written beside the original (`<file>.repair-tmp`).
--    Each group is scanned first: a subtree whose datasets all read back
--    and whose links all resolve is copied whole with H5Ocopy (exact types,
--    filters and attributes); otherwise the group is recreated, its
--    attributes copied by value, and its members handled one by one. A
--    dataset that fails to read as a whole is recreated and copied block by
--    block (chunk rows along the first dimension): blocks that fail keep
--    the fill value and are reported. Dangling soft and external links,
--    unreadable objects and attributes are reported as lost. raw_json
--    texts that are not valid JSON are kept byte for byte and reported.
--    For a truncated file, structures whose group cannot be reached (the
--    cut took /structures' link index) are then recovered from the raw_json
--    texts that lie whole in the global heap before the cut.
-- 3. The original is kept as a backup (`<name>.h5.backup`, or `.1`, `.2`,
--    ... when that exists: an older backup is never overwritten), and the
--    temporary file is renamed over the original (atomic on POSIX).
--
-- @module h5lua.repair

local h5 = require "h5"
local organize = require "h5lua.organize"

local repair = {}

-- Files repair writes beside the original while it works.
local SCRATCH_SUFFIXES = { ".repair-src0", ".repair-src1", ".repair-tmp" }

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function join(base, name)
  if base == "/" then return "/" .. name end
  return base .. "/" .. name
end

local function errmsg(e)
  return (tostring(e):gsub("^h5: ", ""))
end

--- The backup path for a file: its name with the extension replaced by
-- ".h5.backup" (as the seed's `with_suffix`), then ".1", ".2", ... until a
-- free name is found.
-- @tparam string path
-- @treturn string
function repair.backup_path(path)
  local dir, base = path:match("^(.*/)([^/]*)$")
  if not dir then dir, base = "", path end
  local stem = base:match("^(.+)%.[^.]*$") or base
  local first = dir .. stem .. ".h5.backup"
  if not exists(first) then return first end
  local i = 1
  while exists(first .. "." .. i) do i = i + 1 end
  return first .. "." .. i
end

-- Copy a file byte for byte (Lua io, 1 MiB at a time).
local function copy_bytes(src, dst)
  local fin = assert(io.open(src, "rb"))
  local fout = assert(io.open(dst, "wb"))
  while true do
    local block = fin:read(1 << 20)
    if not block then break end
    fout:write(block)
  end
  fin:close()
  fout:close()
end

-- A copy of a truncated file padded back to `size` bytes with `byte`.
local function padded_copy(path, suffix, size, byte)
  local scratch = path .. suffix
  copy_bytes(path, scratch)
  local fh = assert(io.open(scratch, "r+b"))
  local have = fh:seek("end")
  local block = string.rep(byte, 1 << 16)
  while have < size do
    local n = math.min(#block, size - have)
    fh:write(n == #block and block or block:sub(1, n))
    have = have + n
  end
  fh:close()
  return scratch
end

-- Open the original. A truncated file is read from a copy padded with
-- zeros to its recorded size; a second copy padded with 0xFF bytes tells
-- which data lay past the cut (it reads differently in the two copies).
-- Returns {file=, twin=, scratch={paths}, note=} or nil, message.
local function open_source(path)
  local ok, f = pcall(h5.open, path, "r")
  if ok then return { file = f, scratch = {} } end
  local stored = tostring(f):match("truncated file: eof = %d+.-stored_eof = (%d+)")
  if not stored then return nil, errmsg(f) end
  local want = math.tointeger(tonumber(stored))
  local fh = assert(io.open(path, "rb"))
  local size = fh:seek("end")
  fh:close()
  local zeros = padded_copy(path, ".repair-src0", want, "\0")
  local ones = padded_copy(path, ".repair-src1", want, "\255")
  local src = { scratch = { zeros, ones }, note = string.format("file truncated at %d of %d "
    .. "bytes: whatever lay past the cut is lost", size, want) }
  local ok0, f0 = pcall(h5.open, zeros, "r")
  local ok1, f1 = pcall(h5.open, ones, "r")
  if not ok0 then
    if ok1 then f1:close() end
    for _, p in ipairs(src.scratch) do os.remove(p) end
    return nil, errmsg(f)
  end
  src.file = f0
  if ok1 then src.twin = f1 end
  return src
end

---------------------------------------------------------------------------
-- Scanning: is a subtree healthy enough for one H5Ocopy?
---------------------------------------------------------------------------

local function property(obj, key)
  local ok, v = pcall(function() return obj[key] end)
  if ok then return v end
  return nil
end

-- Whether two values read from a dataset are the same.
local function same(a, b)
  if a == b then return true end
  if type(a) ~= type(b) then return false end
  if type(a) == "userdata" then
    local ok, ta, tb = pcall(function() return a:tobytes(), b:tobytes() end)
    return ok and ta == tb
  end
  if type(a) ~= "table" then return a ~= a and b ~= b end  -- NaN
  for k, v in pairs(a) do
    if not same(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local PAST_CUT = "its data lay past the end of the truncated file"

-- Read (a selection of) a dataset; returns true, value or false, message.
-- With a twin (truncated file), data that reads differently there lay
-- past the cut and counts as unreadable.
local function read(ctx, d, ...)
  local ok, v = pcall(d.read, d, ...)
  if not ok then return false, errmsg(v) end
  if ctx.twin then
    local tw = ctx.twin:get(d.name)
    if tw then
      local tok, tv = pcall(tw.read, tw, ...)
      tw:close()
      if not tok or not same(v, tv) then return false, PAST_CUT end
    end
  end
  return true, v
end

local STRUCTURE_JSON = "^/structures/[^/]+/raw_json$"

-- Note a readable raw_json that is not valid JSON (kept byte for byte).
local function check_json(result, path, v)
  if type(v) ~= "string" or not path:match(STRUCTURE_JSON) or result.noted[path] then return end
  local s, why = organize.decode(v)
  if not s then
    result.noted[path] = true
    result.notes[#result.notes + 1] = { path = path,
      message = "kept as is, but " .. why:gsub("^invalid JSON", "it is not valid JSON") }
  end
end

-- Whether a subtree can be copied whole: every link resolves and every
-- dataset reads back. Returns healthy and counts {groups=, datasets=, links=}.
local MAX_DEPTH = 64  -- deeper than this is taken for a cycle of hard links

-- H5Ocopy copies attributes too: count them so the report's total is
-- the same whether a subtree went whole or object by object.
local function count_attrs(obj, counts)
  local ok, names = pcall(function() return obj.attrs:keys() end)
  if not ok then return false end
  counts.attributes = counts.attributes + #names
  return true
end

local function scan(result, g, path, counts, depth)
  counts = counts or { groups = 1, datasets = 0, links = 0, attributes = 0 }
  depth = depth or 1
  if depth > MAX_DEPTH then return false, counts end
  if not count_attrs(g, counts) then return false, counts end
  local ok, keys = pcall(g.keys, g)
  if not ok then return false, counts end
  local healthy = true
  for _, name in ipairs(keys) do
    local p = join(path, name)
    local iok, info = pcall(g.link_info, g, name)
    if not iok or not info then
      healthy = false
    elseif info.kind == "soft" or info.kind == "external" then
      counts.links = counts.links + 1
      if info.dangling then healthy = false end
    elseif info.kind ~= "hard" then
      healthy = false
    else
      local gok, obj = pcall(g.get, g, name)
      if not gok or not obj then
        healthy = false
      else
        if obj.kind == "group" then
          counts.groups = counts.groups + 1
          healthy = scan(result, obj, p, counts, depth + 1) and healthy
        elseif obj.kind == "dataset" then
          counts.datasets = counts.datasets + 1
          local rok, v = read(result, obj)
          if rok then check_json(result, p, v) else healthy = false end
          if not count_attrs(obj, counts) then healthy = false end
        end
        pcall(obj.close, obj)
      end
    end
  end
  return healthy, counts
end

---------------------------------------------------------------------------
-- Copying object by object
---------------------------------------------------------------------------

local function add_counts(result, counts)
  for k, v in pairs(counts) do result.counts[k] = (result.counts[k] or 0) + v end
end

local function lose(result, path, reason)
  result.lost[#result.lost + 1] = { path = path, reason = reason }
end

local function copy_attrs(result, src, dst, path)
  local ok, names = pcall(function() return src.attrs:keys() end)
  if not ok then
    lose(result, path, "attributes cannot be listed: " .. errmsg(names))
    return
  end
  for _, name in ipairs(names) do
    local rok, v = pcall(function() return src.attrs[name] end)
    local wok, werr = false, nil
    if rok then wok, werr = pcall(function() dst.attrs[name] = v end) end
    if rok and wok then
      result.counts.attributes = result.counts.attributes + 1
    else
      lose(result, path .. " (attribute '" .. name .. "')", errmsg(rok and werr or v))
    end
  end
end

-- Copy rows first..last of d into out; a block that fails is split in two
-- until it is one chunk row (chunked) or one row (contiguous). Appends
-- the row ranges lost to `bad`; returns the number of rows copied.
local function copy_rows(result, d, out, shape, unit, first, last, bad)
  local sel = { { first, last } }
  for k = 2, #shape do sel[k] = { 1, shape[k] } end
  local ok, block = read(result, d, table.unpack(sel))
  if ok and pcall(out.write, out, block, table.unpack(sel)) then return last - first + 1 end
  if last - first + 1 <= unit then
    local prev = bad[#bad]
    if prev and prev[2] == first - 1 then prev[2] = last else bad[#bad + 1] = { first, last } end
    return 0
  end
  -- split on a unit boundary
  local units = (last - first + 1 + unit - 1) // unit
  local mid = first + (units // 2) * unit - 1
  return copy_rows(result, d, out, shape, unit, first, mid, bad)
    + copy_rows(result, d, out, shape, unit, mid + 1, last, bad)
end

-- Recreate a dataset that fails to read whole, block by block.
local function copy_blocks(result, d, dst_group, name, path, first_err)
  local shape, dtype = property(d, "shape"), property(d, "dtype")
  if type(shape) ~= "table" or #shape == 0 or shape[1] == 0 or dtype == nil then
    lose(result, path, first_err)
    return
  end
  local chunks = property(d, "chunks")
  local opts = { shape = shape, dtype = dtype }
  if type(chunks) == "table" then
    opts.chunks = chunks
    for _, k in ipairs({ "compression", "compression_opts", "shuffle", "fletcher32",
                         "fillvalue", "maxshape" }) do
      local v = property(d, k)
      if v ~= nil and v ~= false then opts[k] = v end
    end
  end
  local cok, out = pcall(dst_group.create_dataset, dst_group, name, opts)
  if not cok then
    lose(result, path, first_err .. "; cannot recreate it: " .. errmsg(out))
    return
  end
  local unit = type(chunks) == "table" and chunks[1] or 1
  local bad = {}
  local good = copy_rows(result, d, out, shape, unit, 1, shape[1], bad)
  copy_attrs(result, d, out, path)
  out:close()
  if good == 0 then
    pcall(dst_group.delete, dst_group, name)
    lose(result, path, first_err)
    return
  end
  local ranges = {}
  for i, r in ipairs(bad) do ranges[i] = string.format("%d-%d", r[1], r[2]) end
  result.partial[#result.partial + 1] = { path = path, lost_rows = ranges,
    message = string.format("rows %s of %d lost (%s)", table.concat(ranges, ", "), shape[1],
      first_err) }
  result.counts.datasets = result.counts.datasets + 1
end

local copy_group

local function copy_member(result, src, dst, name, path)
  local iok, info = pcall(src.link_info, src, name)
  if not iok or not info then
    lose(result, path, "link cannot be read: " .. errmsg(info))
    return
  end
  if info.kind == "soft" or info.kind == "external" then
    local target = info.kind == "external"
      and string.format("'%s:%s'", tostring(info.file), tostring(info.target))
      or string.format("'%s'", tostring(info.target))
    if info.dangling then
      lose(result, path, string.format("dangling %s link to %s", info.kind, target))
      return
    end
    local ok, err
    if info.kind == "soft" then
      ok, err = pcall(dst.soft_link, dst, info.target, name)
    else
      ok, err = pcall(dst.external_link, dst, info.file, info.target, name)
    end
    if ok then
      result.counts.links = result.counts.links + 1
    else
      lose(result, path, "link cannot be recreated: " .. errmsg(err))
    end
    return
  end
  if info.kind ~= "hard" then
    lose(result, path, "user-defined link class " .. tostring(info.link_class))
    return
  end
  local gok, obj = pcall(src.get, src, name)
  if not gok or not obj then
    lose(result, path, "object cannot be opened: " .. errmsg(obj))
    return
  end
  if obj.kind == "group" then
    local healthy, counts = scan(result, obj, path)
    if healthy and pcall(src.copy, src, name, dst, name) then
      add_counts(result, counts)
    else
      pcall(dst.delete, dst, name)  -- a copy that failed halfway
      local cok, child = pcall(dst.create_group, dst, name)
      if cok then
        result.counts.groups = result.counts.groups + 1
        copy_group(result, obj, child, path)
        child:close()
      else
        lose(result, path, "group cannot be recreated: " .. errmsg(child))
      end
    end
  elseif obj.kind == "dataset" then
    local rok, v = read(result, obj)
    if rok then
      check_json(result, path, v)
      local cok, cerr = pcall(src.copy, src, name, dst, name)
      if cok then
        result.counts.datasets = result.counts.datasets + 1
        local counts = { attributes = 0 }
        count_attrs(obj, counts)
        result.counts.attributes = result.counts.attributes + counts.attributes
      else
        lose(result, path, "dataset cannot be copied: " .. errmsg(cerr))
      end
    else
      copy_blocks(result, obj, dst, name, path, v)
    end
  else
    local cok, cerr = pcall(src.copy, src, name, dst, name)
    if not cok then lose(result, path, errmsg(cerr)) end
  end
  pcall(obj.close, obj)
end

copy_group = function(result, src, dst, path)
  local depth = select(2, path:gsub("/", "/"))
  if depth > MAX_DEPTH then
    lose(result, path, "nested too deep (a cycle of hard links?)")
    return
  end
  copy_attrs(result, src, dst, path)
  local ok, keys = pcall(src.keys, src)
  if not ok then
    lose(result, path, "members cannot be listed: " .. errmsg(keys))
    return
  end
  for _, name in ipairs(keys) do copy_member(result, src, dst, name, join(path, name)) end
end

---------------------------------------------------------------------------
-- Structures recovered from the bytes of a truncated file
---------------------------------------------------------------------------

-- Texts of the variable-length strings that lie whole in the bytes: HDF5
-- keeps them in global heap collections ("GCOL", version 1, a length, then
-- objects: index, reference count, reserved, size, data padded to 8 bytes;
-- index 0 starts the free space). Lengths are 8 bytes, HDF5's default.
-- Returns a list of {text=, offset=} in file order.
local function heap_texts(bytes)
  local texts = {}
  local pos = 1
  while true do
    local at = bytes:find("GCOL\1", pos, true)
    if not at then break end
    pos = at + 5
    if at + 15 <= #bytes then
      local size = string.unpack("<I8", bytes, at + 8)
      local stop = math.min(at + size, #bytes + 1)  -- an object must end before this
      local p = at + 16
      while p + 16 <= stop do
        local index, _, _, osize = string.unpack("<I2I2I4I8", bytes, p)
        if index == 0 or osize < 0 or osize > stop - p - 16 then break end  -- garbage
        texts[#texts + 1] = { text = bytes:sub(p + 16, p + 15 + osize), offset = p - 1 }
        p = p + 16 + (osize + 7) // 8 * 8
      end
    end
  end
  return texts
end

-- A truncated file's /structures may have lost its link index (a dense
-- group's fractal heap and B-tree are written as it grows and when it is
-- closed, often last), leaving every structure unreachable through HDF5
-- while their raw_json texts still lie whole before the cut. Each such text
-- that is a JSON object with a usable "identifier" and is missing from the
-- copy is kept as /structures/<identifier>/raw_json; a refcode seen twice
-- keeps its last text in the file (older versions may linger in the heap).
local function recover_from_bytes(result, path, dst)
  local fh = io.open(path, "rb")
  if not fh then return end
  local bytes = fh:read("a")
  fh:close()
  local store = require "h5lua.store"
  local found, order, seen = {}, {}, {}
  for _, t in ipairs(heap_texts(bytes)) do
    if t.text:find("^%s*{") and t.text:find('"identifier"', 1, true) then
      local s = organize.decode(t.text)
      local refcode = s and s.identifier
      if type(refcode) == "string" and store.check_refcode(refcode) then
        if not found[refcode] then order[#order + 1] = refcode end
        seen[refcode] = (seen[refcode] or 0) + 1
        found[refcode] = t.text
      end
    end
  end
  if #order == 0 then return end
  local structures = dst:get("structures") or dst:create_group("structures")
  local added, twice = 0, {}
  table.sort(order)
  for _, refcode in ipairs(order) do
    if not structures:link_info(refcode) then
      local g = structures:create_group(refcode)
      g:create_dataset("raw_json", found[refcode]):close()
      g:close()
      added = added + 1
      result.counts.groups = result.counts.groups + 1
      result.counts.datasets = result.counts.datasets + 1
      if seen[refcode] > 1 then twice[#twice + 1] = refcode end
    end
  end
  structures:close()
  if added > 0 then
    local message = string.format("%d structure%s recovered from the file's bytes (unreachable "
      .. "through their groups), each named by its JSON identifier", added, added == 1 and "" or "s")
    if #twice > 0 then
      message = message .. "; found more than once, the last text kept: " .. table.concat(twice, ", ")
    end
    result.notes[#result.notes + 1] = { path = "/structures", message = message }
  end
end

-- Whether something at or below path, or the root's listing, was lost
-- (the bytes are read, all of them at once, only then).
local function lost_under(result, path)
  for _, l in ipairs(result.lost) do
    if l.path == "/" or l.path == path or l.path:sub(1, #path + 1) == path .. "/" then
      return true
    end
  end
  return false
end

--- Repair a file in place.
-- @tparam string path
-- @tparam[opt] table opts `backup` (default true: keep the original as
--   `<name>.h5.backup[.N]`)
-- @treturn table result: `ok` (the file was replaced), `path`, `backup`
--   (path or nil), `counts` (groups, datasets, links, attributes salvaged),
--   `partial` ({path=, lost_rows=, message=}), `lost` ({path=, reason=}),
--   `notes` ({path=, message=}: kept but suspect), `message` (why repair was
--   impossible, when `ok` is false)
function repair.file(path, opts)
  opts = opts or {}
  local result = {
    ok = false, path = path, counts = { groups = 0, datasets = 0, links = 0, attributes = 0 },
    partial = {}, lost = {}, notes = {}, noted = {},
  }
  if not exists(path) then
    result.message = string.format("cannot repair '%s': no such file", path)
    return result
  end
  -- Scratch files left by an earlier run that died (libhdf5 can fault on
  -- a damaged file, killing the process before it cleans up) would make
  -- this run fail or mix old bytes in: remove them first.
  for _, suffix in ipairs(SCRATCH_SUFFIXES) do os.remove(path .. suffix) end
  local ook, src, err = pcall(open_source, path)
  if not ook then src, err = nil, tostring(src) end
  if not src then
    for _, suffix in ipairs(SCRATCH_SUFFIXES) do os.remove(path .. suffix) end
    result.message = string.format("cannot repair '%s': %s", path, err)
    return result
  end
  if src.note then result.notes[#result.notes + 1] = { path = "/", message = src.note } end
  result.twin = src.twin
  local tmp = path .. ".repair-tmp"
  local ok, cerr = pcall(function()
    local dst = h5.open(tmp, "w")
    local cok, e = pcall(copy_group, result, src.file, dst, "/")
    if cok and src.note and lost_under(result, "/structures") then
      local rok, rerr = pcall(recover_from_bytes, result, path, dst)
      if not rok then
        result.notes[#result.notes + 1] = { path = "/structures", message = "recovering "
          .. "structures from the file's bytes failed: " .. errmsg(rerr) }
      end
    end
    dst:close()
    if not cok then error(e, 0) end
  end)
  src.file:close()
  if src.twin then src.twin:close() end
  for _, p in ipairs(src.scratch) do os.remove(p) end
  result.noted, result.twin = nil, nil
  if not ok then
    os.remove(tmp)
    result.message = string.format("cannot repair '%s': %s", path, errmsg(cerr))
    return result
  end
  if opts.backup ~= false then
    local backup = repair.backup_path(path)
    -- A hard link keeps the original under the backup name at no cost; a
    -- copy where the file system has no hard links.
    local bok, berr = true, nil
    if not os.execute("ln " .. quote(path) .. " " .. quote(backup) .. " 2>/dev/null") then
      bok, berr = pcall(copy_bytes, path, backup)
    end
    if not bok then
      os.remove(tmp)
      os.remove(backup)
      result.message = string.format("cannot keep a backup of '%s': %s", path, tostring(berr))
      return result
    end
    result.backup = backup
  end
  local rok, rerr = os.rename(tmp, path)
  if not rok then
    os.remove(tmp)
    result.message = string.format("cannot replace '%s': %s", path, tostring(rerr))
    return result
  end
  result.ok = true
  return result
end

--- Whether the repair lost anything (whole objects or blocks).
-- @tparam table result from `repair.file`
-- @treturn boolean
function repair.lost_anything(result)
  return #result.lost > 0 or #result.partial > 0
end

local function plural(n, word) return string.format("%d %s%s", n, word, n == 1 and "" or "s") end

--- The result as text for people.
-- @tparam table result from `repair.file`
-- @treturn string lines ending in "\n"
function repair.format(result)
  local out = {}
  local function line(...) out[#out + 1] = string.format(...) end
  if not result.ok then
    line("Repair failed: %s", result.message or "?")
    return table.concat(out, "\n") .. "\n"
  end
  line("Repaired %s%s", result.path,
    result.backup and string.format(" (backup: %s)", result.backup) or " (no backup)")
  local c = result.counts
  line("  Salvaged: %s, %s, %s, %s", plural(c.groups, "group"), plural(c.datasets, "dataset"),
    plural(c.links, "link"), plural(c.attributes, "attribute"))
  line("  Partly salvaged:%s", #result.partial == 0 and " none" or " " .. #result.partial)
  for _, p in ipairs(result.partial) do line("    - %s: %s", p.path, p.message) end
  line("  Lost:%s", #result.lost == 0 and " nothing" or " " .. #result.lost)
  for _, l in ipairs(result.lost) do line("    - %s: %s", l.path, l.reason) end
  if #result.notes > 0 then
    line("  Notes: %d", #result.notes)
    for _, n in ipairs(result.notes) do line("    - %s: %s", n.path, n.message) end
  end
  return table.concat(out, "\n") .. "\n"
end

return repair
