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
-- 3. The original is kept as a backup (`<name>.h5.backup`, or `.1`, `.2`,
--    ... when that exists: an older backup is never overwritten), and the
--    temporary file is renamed over the original (atomic on POSIX).
--
-- @module h5lua.repair

local h5 = require "h5"
local organize = require "h5lua.organize"

local repair = {}

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

-- Open the original; for a truncated file, a zero-padded scratch copy.
-- Returns file, scratch_path_or_nil, note_or_nil; or nil, message.
local function open_source(path)
  local ok, f = pcall(h5.open, path, "r")
  if ok then return f end
  local stored = tostring(f):match("stored_eof = (%d+)")
  if not stored then return nil, errmsg(f) end
  local scratch = path .. ".repair-src"
  copy_bytes(path, scratch)
  local fh = assert(io.open(scratch, "r+b"))
  local size = fh:seek("end")
  local want = math.tointeger(tonumber(stored))
  if want > size then
    fh:seek("set", want - 1)
    fh:write("\0")
  end
  fh:close()
  local ok2, f2 = pcall(h5.open, scratch, "r")
  if not ok2 then
    os.remove(scratch)
    return nil, errmsg(f)
  end
  return f2, scratch, string.format("file truncated at %d of %d bytes; the missing part "
    .. "was read as zeros", size, want)
end

---------------------------------------------------------------------------
-- Scanning: is a subtree healthy enough for one H5Ocopy?
---------------------------------------------------------------------------

local function property(obj, key)
  local ok, v = pcall(function() return obj[key] end)
  if ok then return v end
  return nil
end

-- Read a dataset whole; returns true, value or false, message.
local function read_all(d)
  local ok, v = pcall(d.read, d)
  if ok then return true, v end
  return false, errmsg(v)
end

local STRUCTURE_JSON = "^/structures/[^/]+/raw_json$"

-- Returns healthy (boolean) and counts {groups=, datasets=, links=}; records
-- notes for readable raw_json that is not JSON.
local function scan(g, path, result, counts)
  counts = counts or { groups = 1, datasets = 0, links = 0 }
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
          local h = scan(obj, p, result, counts)
          healthy = healthy and h
        elseif obj.kind == "dataset" then
          counts.datasets = counts.datasets + 1
          local rok, v = read_all(obj)
          if not rok then
            healthy = false
          elseif type(v) == "string" and p:match(STRUCTURE_JSON) then
            local s, why = organize.decode(v)
            if not s and not result.noted[p] then
              result.noted[p] = true
              result.notes[#result.notes + 1] = { path = p,
                message = "kept as is, but " .. why:gsub("^invalid JSON", "it is not valid JSON") }
            end
          end
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

local function copy_attrs(src, dst, path, result)
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
      result.counts.attributes = (result.counts.attributes or 0) + 1
    else
      lose(result, path .. " (attribute '" .. name .. "')", errmsg(rok and werr or v))
    end
  end
end

-- Recreate a dataset that fails to read whole, block by block.
local function copy_blocks(d, dst_group, name, path, result, first_err)
  local shape, dtype = property(d, "shape"), property(d, "dtype")
  if type(shape) ~= "table" or #shape == 0 or dtype == nil then
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
      if v ~= nil then opts[k] = v end
    end
  end
  local cok, out = pcall(dst_group.create_dataset, dst_group, name, opts)
  if not cok then
    lose(result, path, first_err .. "; cannot recreate it: " .. errmsg(out))
    return
  end
  local step = type(chunks) == "table" and chunks[1] or 1
  local bad, good = {}, 0
  for first = 1, shape[1], step do
    local last = math.min(first + step - 1, shape[1])
    local sel = { { first, last } }
    for k = 2, #shape do sel[k] = { 1, shape[k] } end
    local rok, block = pcall(d.read, d, sel)
    if rok and pcall(out.write, out, block, sel) then
      good = good + 1
    else
      bad[#bad + 1] = string.format("%d-%d", first, last)
    end
  end
  copy_attrs(d, out, path, result)
  out:close()
  if good == 0 then
    pcall(dst_group.delete, dst_group, name)
    lose(result, path, first_err)
  else
    result.partial[#result.partial + 1] = { path = path, lost_rows = bad,
      message = string.format("rows %s lost (%s)", table.concat(bad, ", "), first_err) }
    result.counts.datasets = (result.counts.datasets or 0) + 1
  end
end

local copy_group

local function copy_member(src, dst, name, path, result)
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
      result.counts.links = (result.counts.links or 0) + 1
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
    local healthy, counts = scan(obj, path, result)
    if healthy and pcall(src.copy, src, name, dst, name) then
      add_counts(result, counts)
    else
      local cok, child = pcall(dst.create_group, dst, name)
      if cok then
        result.counts.groups = (result.counts.groups or 0) + 1
        copy_group(obj, child, path, result)
        child:close()
      else
        lose(result, path, "group cannot be recreated: " .. errmsg(child))
      end
    end
  elseif obj.kind == "dataset" then
    local rok, err = read_all(obj)
    if rok then
      local cok, cerr = pcall(src.copy, src, name, dst, name)
      if cok then
        result.counts.datasets = (result.counts.datasets or 0) + 1
      else
        lose(result, path, "dataset cannot be copied: " .. errmsg(cerr))
      end
    else
      copy_blocks(obj, dst, name, path, result, err)
    end
  else
    local cok, cerr = pcall(src.copy, src, name, dst, name)
    if not cok then lose(result, path, errmsg(cerr)) end
  end
  pcall(obj.close, obj)
end

copy_group = function(src, dst, path, result)
  copy_attrs(src, dst, path, result)
  local ok, keys = pcall(src.keys, src)
  if not ok then
    lose(result, path, "members cannot be listed: " .. errmsg(keys))
    return
  end
  for _, name in ipairs(keys) do copy_member(src, dst, name, join(path, name), result) end
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
  local src, scratch, note = open_source(path)
  if not src then
    result.message = string.format("cannot repair '%s': %s", path, scratch)
    return result
  end
  if note then result.notes[#result.notes + 1] = { path = "/", message = note } end
  local tmp = path .. ".repair-tmp"
  local ok, err = pcall(function()
    local dst = h5.open(tmp, "w")
    local cok, cerr = pcall(copy_group, src, dst, "/", result)
    dst:close()
    if not cok then error(cerr, 0) end
  end)
  src:close()
  if scratch then os.remove(scratch) end
  result.noted = nil
  if not ok then
    os.remove(tmp)
    result.message = string.format("cannot repair '%s': %s", path, errmsg(err))
    return result
  end
  if opts.backup ~= false then
    local backup = repair.backup_path(path)
    -- A hard link keeps the original under the backup name at no cost; a
    -- copy where the file system has no hard links.
    if not os.execute("ln " .. quote(path) .. " " .. quote(backup) .. " 2>/dev/null") then
      copy_bytes(path, backup)
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
  line("  Salvaged: %d groups, %d datasets, %d links, %d attributes", c.groups, c.datasets,
    c.links, c.attributes)
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
