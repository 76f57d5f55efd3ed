--- Importing structures into a store: CIF files, directories of them
-- (searched recursively), JSON files and JSON Lines files.
--
-- The flow is: inputs (paths) -> files -> one reading per file (a list of
-- items `{refcode, json}`, plus failures) -> duplicate handling -> the
-- store's batch writer (`s:write_many`), fed by an iterator so memory stays
-- bounded however many files there are.
--
-- What a file gives:
--
-- * `.cif`: one item per data block that holds a structure (h5lua.cif),
--   refcode = the block name, JSON = the structure record encoded once by
--   `import.encode` (keys in a fixed order, so the same CIF always gives the
--   same bytes). Blocks without a structure are ignored when the file has
--   others; a file without any structure fails with the first reason.
-- * `.json`: one structure object (refcode: its `refcode` field, else its
--   `identifier`, else the file name), a list of structure objects, or an
--   object mapping refcodes to structure objects (the seed's
--   `structures_data`). The JSON text is stored byte-for-byte as written.
-- * `.jsonl`, `.ndjson`: one structure object per line, refcode from its
--   `refcode` or `identifier` field; a line `{"refcode": ..., "raw_json":
--   "..."}` stores the string `raw_json`. A bad line fails alone.
-- * anything else named explicitly is read as CIF (the CIF reader says
--   clearly when it is not); inside directories only the extensions above
--   are picked up (case-insensitive), hidden entries skipped.
--
-- Duplicates: a record whose JSON is byte-identical to what the store
-- already holds under its refcode is "unchanged" and not written again, so
-- re-importing the same inputs changes nothing. A refcode that the store
-- (or an earlier input of the same run) holds with different content is a
-- duplicate, handled by `on_duplicate`: "replace" (the default: the later
-- one wins, as writing a refcode does everywhere in the store), "skip"
-- (the first one stays) or "rename" (the newcomer becomes REFCODE_2,
-- REFCODE_3, ...; an identical record already under one of those names is
-- unchanged, so renaming is idempotent too). When two inputs of one run
-- give the same refcode different contents, "replace" keeps the last; a
-- replacement of a refcode the store held before the run is held back
-- until the readings end, so that when the last input gives back the
-- stored content nothing is written: re-importing such inputs changes
-- nothing either (up to `PENDING_MAX_BYTES` of held-back JSON).
--
-- Parallel parsing: with `jobs` > 1, enough CIF text to pay for it
-- (`PARALLEL_MIN_BYTES` per job) and that many idle CPUs (CPUs less the load
-- average), the files are cut into batches that child `h5lua` processes
-- read (see `import.worker`, `import.worker_count`); the parent writes
-- their results in input order, so the outcome is the same as with one job.
--
-- @module h5lua.import

local cjson = require "cjson"
local cif = require "h5lua.cif"
local progress = require "h5lua.progress"
local lfs = require "lfs"

local format, concat = string.format, table.concat

local import = {}

--- The `on_duplicate` modes.
import.DUPLICATE_MODES = { "replace", "skip", "rename" }

--- Minimum amount of CIF text (bytes) per job before parallel parsing is
-- used: below it, starting child processes costs more than it saves.
-- Measured on 2 CPUs with 2 jobs, reading only: 0.8 MB of CIF (301 small
-- files) 0.16 s alone, 0.18 s in parallel; 1.6 MB 0.43 s -> 0.30 s;
-- 4.2 MB 1.07 s -> 0.64 s; the 10.5 MB of ../shared/data/cif 2.5 s -> 1.6 s
-- (a whole import there: 3.1-3.7 s -> 1.7-1.9 s). Parsing is ~93 % of an
-- import's CPU time, writing the store the rest.
import.PARALLEL_MIN_BYTES = 512 * 1024

--- Most JSON text (bytes) of replacements held back at once in replace
-- mode (see `import.run`): beyond it the oldest are written at once, and a
-- later input giving their refcode back its old content rewrites it.
import.PENDING_MAX_BYTES = 16 * 1024 * 1024

---------------------------------------------------------------------------
-- Small helpers
---------------------------------------------------------------------------

local ok_system, system = pcall(require, "system")

-- Wall-clock seconds (os.clock would count only this process's CPU time).
local function now()
  if ok_system and system.gettime then return system.gettime() end
  return os.time()
end

local function slurp(path)
  local f, err = io.open(path, "rb")
  if not f then error("cannot open " .. err, 0) end
  local text = f:read("a")
  f:close()
  return text
end

-- One line: errors must never spill tracebacks or newlines into a summary.
local function one_line(msg)
  msg = tostring(msg)
  return (msg:gsub("%s*\n.*$", ""))
end

-- Bytes a terminal would act on (control characters, escape sequences) and
-- bytes that are not UTF-8, as \xHH: a failure quotes text from a damaged
-- file, and printing it raw can garble the terminal.
local function printable(msg)
  local out, i, n = {}, 1, #msg
  while i <= n do
    local c = msg:byte(i)
    local seq = c >= 0x80 and msg:match("^" .. utf8.charpattern, i)
    if c >= 0x80 and seq and utf8.len(seq) then
      out[#out + 1] = seq
      i = i + #seq
    else
      out[#out + 1] = (c < 0x20 or c == 0x7f or c >= 0x80) and format("\\x%02X", c)
        or string.char(c)
      i = i + 1
    end
  end
  return concat(out)
end

local function basename(path)
  return path:match("([^/]+)/*$") or path
end

---------------------------------------------------------------------------
-- JSON encoding of structure records
---------------------------------------------------------------------------

-- Keys come out in this order (a reader sees the identity first, the atoms
-- last); any other key follows, sorted. Lua's table order is not stable
-- from one process to the next, and the same input must give the same
-- bytes for re-imports to change nothing.
local KEY_ORDER = {
  "identifier", "refcode", "formula", "space_group", "space_group_number",
  "space_group_hall", "crystal_system", "cell_lengths", "cell_lengths_su",
  "cell_angles", "cell_angles_su", "cell_volume", "z", "atoms",
  "label", "symbol", "coords", "occupancy",
}
local RANK = {}
for i, k in ipairs(KEY_ORDER) do RANK[k] = i end

local ESCAPES = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}

-- Latin-1 bytes to UTF-8: CIFs that are not UTF-8 are nearly always
-- Latin-1 (or its Windows superset), and HDF5 strings here are UTF-8.
local function latin1_to_utf8(s)
  return (s:gsub("[\128-\255]", function(c) return utf8.char(c:byte()) end))
end

local function encode_string(s)
  if not s:find('[%c"\\\128-\255]') then return '"' .. s .. '"' end
  if not utf8.len(s) then s = latin1_to_utf8(s) end
  s = s:gsub('[%c"\\]', function(c)
    return ESCAPES[c] or format("\\u%04x", c:byte())
  end)
  return '"' .. s .. '"'
end

-- The shortest decimal form that reads back as the same double; floats
-- keep a ".0" so they stay floats in Python (90.0, not 90).
local function encode_number(x)
  if math.type(x) == "integer" then return format("%d", x) end
  if x ~= x or x == math.huge or x == -math.huge then return "null" end
  local s = tostring(x) -- "%.14g" plus ".0": nearly always exact already
  if tonumber(s) == x then return s end
  for digits = 15, 17 do
    s = format("%." .. digits .. "g", x)
    if tonumber(s) == x then break end
  end
  if not s:find("[.eEn]") then s = s .. ".0" end
  return s
end

local function is_array(t)
  return t[1] ~= nil or next(t) == nil
end

local function key_before(a, b)
  local ra, rb = RANK[a], RANK[b]
  if ra and rb then return ra < rb end
  if ra or rb then return ra ~= nil end
  return a < b
end

local function encode_value(v, out)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = encode_string(v)
  elseif t == "number" then
    out[#out + 1] = encode_number(v)
  elseif t == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif t == "nil" or v == cjson.null then
    out[#out + 1] = "null"
  elseif t == "table" then
    if is_array(v) then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = ", " end
        encode_value(v[i], out)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do
        if type(k) ~= "string" then
          error(format("cannot encode a table with a %s key as JSON", type(k)), 0)
        end
        keys[#keys + 1] = k
      end
      table.sort(keys, key_before)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = ", " end
        out[#out + 1] = encode_string(k)
        out[#out + 1] = ": "
        encode_value(v[k], out)
      end
      out[#out + 1] = "}"
    end
  else
    error(format("cannot encode a %s as JSON", t), 0)
  end
end

--- Encode a structure record as JSON, deterministically.
-- Keys in a fixed order (identifier, formula, space group, cell, atoms,
-- then any other key sorted); numbers in their shortest exact form, floats
-- with a decimal point; strings that are not UTF-8 read as Latin-1.
-- @tparam table record
-- @treturn string JSON text
-- @raise "cannot encode a <type> as JSON" for functions, userdata, ...
function import.encode(record)
  local out = {}
  encode_value(record, out)
  return concat(out)
end

---------------------------------------------------------------------------
-- Raw JSON spans: the text of each element of a top-level array or object,
-- so that a list of structures is stored byte-for-byte, not re-encoded.
---------------------------------------------------------------------------

-- Position just after the JSON string that opens at i.
local function skip_string(text, i)
  local j = i + 1
  while true do
    local q = text:find('["\\]', j)
    if not q then return #text + 1 end
    if text:byte(q) == 92 then j = q + 2 else return q + 1 end
  end
end

-- Position just after the JSON value that starts at i (text is valid JSON).
local function skip_value(text, i)
  local c = text:sub(i, i)
  if c == '"' then return skip_string(text, i) end
  if c == "{" or c == "[" then
    local depth, j = 0, i
    while true do
      local k = text:find('[][{}"]', j)
      if not k then return #text + 1 end
      local ch = text:sub(k, k)
      if ch == '"' then
        j = skip_string(text, k)
      else
        depth = depth + ((ch == "{" or ch == "[") and 1 or -1)
        j = k + 1
        if depth == 0 then return j end
      end
    end
  end
  return text:find("[%s,%]}]", i) or #text + 1
end

local function skip_space(text, i)
  return text:find("[^ \t\r\n]", i) or #text + 1
end

-- Elements of the top-level container of valid JSON text: a list of
-- { key = <decoded key or nil>, text = <raw value text> }.
local function json_elements(text)
  local out = {}
  local i = skip_space(text, 1)
  local open = text:sub(i, i)
  local object = open == "{"
  i = skip_space(text, i + 1)
  while i <= #text and not text:find("^[%]}]", i) do
    local key
    if object then
      local e = skip_string(text, i)
      key = cjson.decode(text:sub(i, e - 1))
      i = skip_space(text, e)
      i = skip_space(text, i + 1) -- past ':'
    end
    local e = skip_value(text, i)
    out[#out + 1] = { key = key, text = text:sub(i, e - 1) }
    i = skip_space(text, e)
    if text:sub(i, i) == "," then i = skip_space(text, i + 1) end
  end
  return out
end

---------------------------------------------------------------------------
-- Reading one file
---------------------------------------------------------------------------

local KINDS = { cif = "cif", json = "json", jsonl = "jsonl", ndjson = "jsonl" }

local function kind_of(path)
  local ext = path:match("%.(%w+)$")
  return ext and KINDS[ext:lower()]
end

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- The refcode a decoded JSON object names: `refcode`, else `identifier`.
local function refcode_field(v)
  if type(v) ~= "table" then return nil end
  for _, k in ipairs({ "refcode", "identifier" }) do
    if type(v[k]) == "string" and v[k] ~= "" then return v[k] end
  end
  return nil
end

local function cjson_reason(err)
  return (one_line(err):gsub("^.-:%d+: ", ""))
end

-- Fields of a CIF record that are real numbers: written as floats (90.0,
-- not 90) whatever the CIF wrote, so that every record has the same types.
local FLOAT_LISTS = { cell_lengths = true, cell_lengths_su = true, cell_angles = true,
                      cell_angles_su = true }

local function floats(record)
  for k in pairs(FLOAT_LISTS) do
    local list = record[k]
    if list then for i, x in ipairs(list) do list[i] = x + 0.0 end end
  end
  if record.cell_volume then record.cell_volume = record.cell_volume + 0.0 end
  for _, atom in ipairs(record.atoms or {}) do
    if atom.coords then
      for i, x in ipairs(atom.coords) do atom.coords[i] = x + 0.0 end
    end
    if atom.occupancy then atom.occupancy = atom.occupancy + 0.0 end
  end
  return record
end

local READERS = {}

function READERS.cif(path, res)
  local structures, skipped = cif.read_structures(path)
  for _, s in ipairs(structures) do
    res.items[#res.items + 1] = { refcode = s.identifier, json = import.encode(floats(s)),
                                  where = "data_" .. s.identifier }
  end
  if #structures > 0 then
    for _, skip in ipairs(skipped) do
      res.ignored[#res.ignored + 1] = { name = skip.name, reason = skip.reason }
    end
  elseif #skipped == 0 then
    res.failures[#res.failures + 1] = path .. ": no data block"
  else
    -- The block that came closest to a structure tells most: one that had
    -- a unit cell, when there is one.
    local msg = skipped[1].reason
    for _, skip in ipairs(skipped) do
      if not skip.reason:find(": no unit cell (", 1, true) then
        msg = skip.reason
        break
      end
    end
    if #skipped > 1 then
      msg = msg .. format(" (and %d more data block%s without a structure)", #skipped - 1,
        #skipped > 2 and "s" or "")
    end
    res.failures[#res.failures + 1] = msg
  end
end

function READERS.json(path, res)
  local text = slurp(path)
  local ok, v = pcall(cjson.decode, text)
  if not ok then
    res.failures[#res.failures + 1] = path .. ": invalid JSON: " .. cjson_reason(v)
    return
  end
  if type(v) ~= "table" then
    res.failures[#res.failures + 1] = path .. ": expected a structure object, a list of "
      .. "them or an object of them by refcode, found a JSON " .. type(v)
    return
  end
  local elements = json_elements(text)
  -- An object whose every member is an object maps refcodes to structures;
  -- any other object is one structure.
  local mapping = elements[1] ~= nil and elements[1].key ~= nil
  for _, e in ipairs(elements) do
    if e.key == nil or e.text:sub(1, 1) ~= "{" then mapping = false end
  end
  if elements[1] == nil or (elements[1].key ~= nil and not mapping) then
    if v.raw_json ~= nil and type(v.raw_json) == "string" and refcode_field(v) then
      res.items[1] = { refcode = refcode_field(v), json = v.raw_json, where = "raw_json" }
    else
      local name = basename(path):gsub("%.[^.]*$", "")
      res.items[1] = { refcode = refcode_field(v) or name, json = trim(text) }
    end
    return
  end
  for i, e in ipairs(elements) do
    local where = mapping and format("member '%s'", e.key) or format("item %d", i)
    if e.text:sub(1, 1) ~= "{" then
      res.failures[#res.failures + 1] = format("%s: %s: expected a structure object", path, where)
    else
      local refcode = mapping and e.key or refcode_field(v[i])
      if refcode then
        res.items[#res.items + 1] = { refcode = refcode, json = e.text, where = where }
      else
        res.failures[#res.failures + 1] = format(
          "%s: %s: no refcode (a 'refcode' or 'identifier' field)", path, where)
      end
    end
  end
end

function READERS.jsonl(path, res)
  local n = 0
  for line in io.lines(path) do
    n = n + 1
    line = trim(line)
    if line ~= "" then
      local ok, v = pcall(cjson.decode, line)
      local where = format("%s:%d", path, n)
      if not ok then
        res.failures[#res.failures + 1] = where .. ": invalid JSON: " .. cjson_reason(v)
      elseif type(v) ~= "table" or line:sub(1, 1) ~= "{" then
        res.failures[#res.failures + 1] = where .. ": expected a structure object"
      elseif not refcode_field(v) then
        res.failures[#res.failures + 1] = where
          .. ": no refcode (a 'refcode' or 'identifier' field)"
      elseif type(v.raw_json) == "string" then
        res.items[#res.items + 1] = { refcode = refcode_field(v), json = v.raw_json,
                                      where = "line " .. n }
      else
        res.items[#res.items + 1] = { refcode = refcode_field(v), json = line,
                                      where = "line " .. n }
      end
    end
  end
end

--- Read one input file into items, without touching any store.
-- @tparam table input `{path=, kind=}` as from `import.inputs` (kind "cif",
--   "json" or "jsonl"; nil reads the file as CIF)
-- @treturn table `{file=, items={{refcode=, json=, where=}}, failures={msg},
--   ignored={{name=, reason=}}}`; every failure is one line starting with
--   the file's path (CIF syntax errors: "<path>:<line>: ..."). Never raises.
function import.read_file(input)
  local path = input.path
  local res = { file = path, items = {}, failures = {}, ignored = {} }
  local ok, err = pcall(READERS[input.kind or "cif"], path, res)
  if not ok then
    err = one_line(err)
    -- Messages that do not name the file yet ("cannot open ..." does).
    if err:sub(1, #path) ~= path and not err:find(path, 1, true) then
      err = path .. ": " .. err
    end
    res.items, res.ignored = {}, {}
    res.failures[#res.failures + 1] = err
  end
  return res
end

---------------------------------------------------------------------------
-- Inputs
---------------------------------------------------------------------------

--- Expand input paths into the list of files to read.
-- Directories are searched recursively, in sorted order, for `.cif`,
-- `.json`, `.jsonl` and `.ndjson` files (hidden entries skipped, symbolic
-- links followed once); files named explicitly are read whatever their
-- extension (as CIF when it is not a JSON one). A file reached twice is
-- read once.
-- @tparam table paths list of paths
-- @treturn table list of `{path=, kind=, size=}`
-- @treturn table list of failures `{file=, error=}` (missing paths,
--   directories without any input file)
function import.inputs(paths)
  local files, failures, seen_file, seen_dir = {}, {}, {}, {}
  local function add(path, attr, kind)
    local id = attr.dev .. ":" .. attr.ino
    if seen_file[id] then return end
    seen_file[id] = true
    files[#files + 1] = { path = path, kind = kind, size = attr.size }
  end
  local function walk(dir)
    local attr = lfs.attributes(dir)
    local id = attr.dev .. ":" .. attr.ino
    if seen_dir[id] then return seen_dir[id] end
    seen_dir[id] = 0 -- while walking it: a link back to it adds nothing
    local names = {}
    local ok, iter, state = pcall(lfs.dir, dir)
    if not ok then
      failures[#failures + 1] = { file = dir, error = dir .. ": " .. one_line(iter) }
      return 0
    end
    for name in iter, state do
      if name:sub(1, 1) ~= "." then names[#names + 1] = name end
    end
    table.sort(names)
    local found = 0
    for _, name in ipairs(names) do
      local path = (dir:sub(-1) == "/" and dir or dir .. "/") .. name
      local a = lfs.attributes(path)
      if a and a.mode == "directory" then
        found = found + walk(path)
      elseif a and a.mode == "file" and kind_of(name) then
        add(path, a, kind_of(name))
        found = found + 1
      end
    end
    seen_dir[id] = found
    return found
  end
  for _, path in ipairs(paths) do
    local a, err = lfs.attributes(path)
    if not a then
      failures[#failures + 1] = { file = path, error = path .. ": "
        .. (err and err:match(": (.*)$") or err or "no such file or directory") }
    elseif a.mode == "directory" then
      if walk(path) == 0 then
        failures[#failures + 1] = { file = path, error = path
          .. ": no CIF, JSON or JSON Lines file in this directory" }
      end
    else
      add(path, a, kind_of(path) or "cif")
    end
  end
  return files, failures
end

---------------------------------------------------------------------------
-- Reading files, serially or in child processes
---------------------------------------------------------------------------

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- The h5lua executable running this code (to start workers).
-- @treturn string path
function import.executable()
  local exe = lfs.symlinkattributes("/proc/self/exe", "target")
  if exe and exe:match("/h5lua[^/]*$") then return exe end
  local ok, host = pcall(require, "h5lua.host")
  if ok and type(host) == "table" and host.scripts_dir then
    return host.scripts_dir .. "/../build/h5lua"
  end
  return "h5lua"
end

--- Worker entry point: read the inputs listed (JSON) in `list_path` and
-- write one JSON line per file result (`import.read_file`) to `out_path`.
-- Run by `import.run` in child processes as
-- `h5lua -e "require('h5lua.import').worker(LIST, OUT)"`.
-- @tparam string list_path
-- @tparam string out_path
function import.worker(list_path, out_path)
  local inputs = cjson.decode(slurp(list_path))
  local out = assert(io.open(out_path, "wb"))
  for _, input in ipairs(inputs) do
    out:write(cjson.encode(import.read_file(input)), "\n")
  end
  assert(out:close())
end

-- Cut files into about `n` contiguous batches of similar byte size.
local function batches_of(files, n)
  local total = 0
  for _, f in ipairs(files) do total = total + (f.size or 0) end
  local target = math.max(1, total / n)
  local out, cur, size = {}, {}, 0
  for _, f in ipairs(files) do
    cur[#cur + 1] = f
    size = size + (f.size or 0)
    if size >= target then
      out[#out + 1], cur, size = cur, {}, 0
    end
  end
  if #cur > 0 then out[#out + 1] = cur end
  return out
end

-- Iterator over file results in input order, read by `jobs` child
-- processes (batches handed out in order, at most `jobs` running), and a
-- closing value that waits for the children still running and removes the
-- temporary files when the loop ends early or raises.
local function parallel_results(files, jobs)
  local exe = import.executable()
  local prefix = os.tmpname()
  local batches = batches_of(files, jobs * 4)
  local running, next_batch = {}, 1

  local function remove(job)
    for _, path in ipairs({ job.list, job.out, job.err }) do os.remove(path) end
  end
  local function cleanup()
    for _, job in ipairs(running) do
      pcall(job.p.close, job.p)
      remove(job)
    end
    running = {}
    if prefix then os.remove(prefix) end
    prefix = nil
  end

  local function launch(i)
    local job = { i = i, list = prefix .. "." .. i .. ".list", out = prefix .. "." .. i .. ".out",
                  err = prefix .. "." .. i .. ".err" }
    local plain = {}
    for k, input in ipairs(batches[i]) do plain[k] = { path = input.path, kind = input.kind } end
    local f = assert(io.open(job.list, "wb"))
    f:write(cjson.encode(plain))
    f:close()
    local code = format("require('h5lua.import').worker(%q, %q)", job.list, job.out)
    job.p = assert(io.popen(format("%s -e %s 2>%s", quote(exe), quote(code), quote(job.err))))
    running[#running + 1] = job
  end

  -- The results of the oldest running batch, once its worker is done.
  local function collect()
    local job = table.remove(running, 1)
    job.p:read("a")
    local exited = job.p:close()
    local results = {}
    if exited then
      for line in io.lines(job.out) do results[#results + 1] = cjson.decode(line) end
    end
    remove(job)
    if #results ~= #batches[job.i] then
      -- A worker that died: read its batch here instead.
      results = {}
      for k, input in ipairs(batches[job.i]) do results[k] = import.read_file(input) end
    end
    return results
  end

  local iter = coroutine.wrap(function()
    while next_batch <= #batches or #running > 0 do
      while #running < jobs and next_batch <= #batches do
        launch(next_batch)
        next_batch = next_batch + 1
      end
      for _, r in ipairs(collect()) do coroutine.yield(r) end
    end
    cleanup()
  end)
  return iter, setmetatable({}, { __close = cleanup, __gc = cleanup })
end

--- Whether reading these files in `jobs` child processes pays off: more
-- than one job, at least two files per job, and `PARALLEL_MIN_BYTES` of CIF
-- text per job (JSON is quick to read: splitting it gains nothing).
-- @tparam table files list from `import.inputs`
-- @tparam integer jobs
-- @treturn boolean
function import.parallel_pays(files, jobs)
  if jobs <= 1 or #files < 2 * jobs then return false end
  local cif_bytes = 0
  for _, f in ipairs(files) do
    if f.kind == "cif" then cif_bytes = cif_bytes + (f.size or 0) end
  end
  return cif_bytes >= import.PARALLEL_MIN_BYTES * jobs
end

local cpu_count -- CPUs this process may run on (nproc), once known

--- CPUs left idle by the rest of the machine: the CPUs this process may use
-- (`nproc`) less the 1-minute load average (/proc/loadavg).
-- @treturn number|nil nil where either is unknown (not Linux)
function import.idle_cpus()
  if cpu_count == nil then
    local p = io.popen("nproc 2>/dev/null")
    cpu_count = p and tonumber(p:read("a"):match("%d+")) or false
    if p then p:close() end
  end
  local f = io.open("/proc/loadavg", "r")
  local load = f and tonumber(f:read("l"):match("^%S+"))
  if f then f:close() end
  if not (cpu_count and load) then return nil end
  return cpu_count - load
end

--- How many processes to read these files with: `jobs`, fewer when the
-- machine has not that many idle CPUs (a child on a busy CPU only queues:
-- measured on 2 CPUs at load 7-8, importing ../shared/data/cif took
-- 5.0-8.6 s with one job and 6.0-7.5 s with two, the same CPU time either
-- way), and 1 (no child process) unless `import.parallel_pays` for that
-- many.
-- @tparam table files list from `import.inputs`
-- @tparam integer jobs the most wanted
-- @treturn integer 1 (read in this process) or the number of children
function import.worker_count(files, jobs)
  if jobs <= 1 then return 1 end
  local idle = import.idle_cpus()
  if idle then jobs = math.min(jobs, math.max(1, math.floor(idle + 0.5))) end
  if import.parallel_pays(files, jobs) then return jobs end
  return 1
end

local function readings_with(files, workers)
  if workers > 1 then
    local iter, closer = parallel_results(files, workers)
    return iter, nil, nil, closer
  end
  local i = 0
  return function()
    i = i + 1
    if files[i] then return import.read_file(files[i]) end
  end
end

--- Iterate over the readings of files (`import.read_file` results), in
-- input order: `for reading in import.readings(files, jobs) do ... end`.
-- @tparam table files list from `import.inputs`
-- @tparam[opt=1] integer jobs child processes to read with at most (see
--   `import.worker_count`)
-- @treturn function iterator giving one result table per file
-- @return nil, nil and a closing value (for a generic `for`: leaving the
--   loop early waits for the children and removes their temporary files)
function import.readings(files, jobs)
  return readings_with(files, import.worker_count(files, jobs or 1))
end

---------------------------------------------------------------------------
-- Importing into a store
---------------------------------------------------------------------------

local function check_mode(mode)
  for _, m in ipairs(import.DUPLICATE_MODES) do
    if m == mode then return true end
  end
  return false
end

--- Import files into a store.
-- @tparam string|table target a store path (created when missing), an open
--   store (`h5lua.store`) or an open h5 File
-- @tparam string|table paths an input path or a list of them
-- @tparam[opt] table opts
--   `on_duplicate` ("replace" | "skip" | "rename", default "replace"),
--   `jobs` (child processes for parsing, default 1),
--   `progress` (true/false; default: on a terminal),
--   `on_file = function(result)` (called after each file is read)
-- @treturn table summary: `files` (count read), `imported` (written: new,
--   replaced and renamed), `replaced`, `renamed`, `unchanged`, `skipped`
--   (duplicates kept out), `failed` (count), `failures` (list of
--   `{file=, error=}`, each error one line naming the file), `duplicates`
--   (list of `{refcode=, file=, other=, action=, as=}`, `other` being the
--   earlier input file or "the store"), `ignored` (data blocks without a
--   structure in files that had others: `{file=, name=, reason=}`),
--   `refcodes` (`{[file] = {refcode, ...}}`: where each file's structures
--   are in the store), `total` (structures in the store afterwards),
--   `parallel` (whether workers were used), `elapsed` (seconds)
-- @raise for a bad `on_duplicate` or `jobs`, and when the store cannot be
--   opened or written
function import.run(target, paths, opts)
  opts = opts or {}
  if type(paths) == "string" then paths = { paths } end
  local mode = opts.on_duplicate or "replace"
  if not check_mode(mode) then
    error(format("on_duplicate must be one of %s, got '%s'",
      concat(import.DUPLICATE_MODES, ", "), tostring(mode)), 2)
  end
  local jobs = opts.jobs or 1
  if math.type(jobs) ~= "integer" or jobs < 1 then
    error(format("jobs must be a positive integer, got %s", tostring(jobs)), 2)
  end
  local t0 = now()
  local store = require "h5lua.store"

  local summary = {
    files = 0, imported = 0, replaced = 0, renamed = 0, unchanged = 0, skipped = 0,
    failed = 0, failures = {}, duplicates = {}, ignored = {}, refcodes = {},
    parallel = false,
  }
  local function fail(file, msg)
    summary.failed = summary.failed + 1
    summary.failures[#summary.failures + 1] = { file = file, error = printable(msg) }
  end

  local files, input_failures = import.inputs(paths)
  for _, f in ipairs(input_failures) do fail(f.file, f.error) end

  local st, owned
  if type(target) == "table" and target.write_many then
    st, owned = target, false
  else
    st, owned = store.open(target, { mode = "a" }), true
  end

  local ok, err = pcall(function()
    -- What is in the store: refcodes from before, and refcode -> file for
    -- what this run put there ("the store" for a stored one it kept). Only
    -- names are kept in memory; contents are compared by reading the store
    -- back (write_many writes each item before asking for the next).
    local existing, taken, special = {}, {}, {}
    local settled = 0 -- files whose every item the writer has taken
    for _, r in ipairs(st:refcodes()) do existing[r] = true end

    local function stored_json(refcode)
      if existing[refcode] or taken[refcode] then return (st:read(refcode)) end
      return nil
    end

    local function place(refcode, file)
      local list = summary.refcodes[file]
      if not list then
        list = {}
        summary.refcodes[file] = list
      end
      list[#list + 1] = refcode
    end

    local function unplace(refcode, file)
      local list = summary.refcodes[file] or {}
      for i = #list, 1, -1 do
        if list[i] == refcode then table.remove(list, i) end
      end
    end

    local function duplicate(refcode, file, action, as, other)
      other = other or taken[refcode] or "the store"
      summary.duplicates[#summary.duplicates + 1] = { refcode = refcode, file = file,
        other = other, action = action, as = as }
    end

    -- Replacements of stored refcodes held back (replace mode): an input
    -- later in the run may give the refcode again, and when the last one
    -- gives back what the store held before the run, nothing is written
    -- (re-importing inputs that share refcodes changes nothing). refcode
    -- -> { json=, file=, index= (files read when it came) }; written when
    -- the readings end, or the oldest first once they hold more than
    -- PENDING_MAX_BYTES.
    local pending, pending_order, pending_head, pending_bytes = {}, {}, 1, 0

    -- Writes (yields to the batch writer) a held-back replacement, unless
    -- it is what the store holds.
    local function release(refcode)
      local entry = pending[refcode]
      pending[refcode] = nil
      pending_bytes = pending_bytes - #entry.json
      if st:read(refcode) == entry.json then
        summary.unchanged = summary.unchanged + 1
        return
      end
      duplicate(refcode, entry.file, "replaced", nil, "the store")
      summary.imported = summary.imported + 1
      summary.replaced = summary.replaced + 1
      special[refcode] = "replaced"
      taken[refcode] = entry.file
      coroutine.yield(refcode, entry.json)
    end

    local function release_oldest()
      while pending_head <= #pending_order do
        local refcode = pending_order[pending_head]
        pending_order[pending_head] = nil
        pending_head = pending_head + 1
        if pending[refcode] then return release(refcode) end
      end
    end

    local function hold(refcode, json, file)
      local entry = pending[refcode]
      if entry then
        pending_bytes = pending_bytes - #entry.json
        entry.json, entry.file, entry.index = json, file, summary.files
      else
        pending[refcode] = { json = json, file = file, index = summary.files }
        pending_order[#pending_order + 1] = refcode
      end
      pending_bytes = pending_bytes + #json
      taken[refcode] = file
      place(refcode, file)
      while pending_bytes > import.PENDING_MAX_BYTES do release_oldest() end
    end

    -- Files whose every item is in the store (for the progress bar): those
    -- before the first file with a held-back replacement.
    local function settled_files()
      local n = settled
      for _, entry in pairs(pending) do
        if entry.index - 1 < n then n = entry.index - 1 end
      end
      return n
    end

    -- Hands the writer what an item needs written (a coroutine.yield of
    -- refcode and JSON), or counts it as unchanged, skipped or failed.
    local function resolve(item, file)
      local refcode, json = item.refcode, item.json
      local good, why = store.check_refcode(refcode)
      if not good then
        fail(file, format("%s: %s: cannot be a refcode: %s", file, item.where or refcode, why))
        return nil
      end
      local held = pending[refcode]
      if held then
        if held.json == json then
          summary.unchanged = summary.unchanged + 1
          place(refcode, file)
        else
          duplicate(refcode, file, "replaced")
          unplace(refcode, held.file)
          hold(refcode, json, file)
        end
        return nil
      end
      local current = stored_json(refcode)
      if current ~= nil and current ~= json and mode == "replace" and existing[refcode]
          and not taken[refcode] then
        hold(refcode, json, file)
        return nil
      end
      if current == json then
        summary.unchanged = summary.unchanged + 1
        taken[refcode] = taken[refcode] or file
        place(refcode, file)
        return nil
      elseif current ~= nil and mode == "skip" then
        summary.skipped = summary.skipped + 1
        duplicate(refcode, file, "skipped")
        taken[refcode] = taken[refcode] or "the store"
        return nil
      elseif current ~= nil and mode == "replace" then
        duplicate(refcode, file, "replaced")
        if taken[refcode] then unplace(refcode, taken[refcode]) end
        special[refcode] = "replaced"
      elseif current ~= nil then -- rename
        local n, name = 2, nil
        while true do
          name = refcode .. "_" .. n
          local there = stored_json(name)
          if there == nil then break end
          if there == json then
            summary.unchanged = summary.unchanged + 1
            taken[name] = taken[name] or file
            place(name, file)
            return nil
          end
          n = n + 1
        end
        duplicate(refcode, file, "renamed", name)
        taken[refcode] = taken[refcode] or "the store"
        special[name] = "renamed"
        refcode = name
      end
      summary.imported = summary.imported + 1
      local action = special[refcode]
      if action then summary[action] = summary[action] + 1 end
      taken[refcode] = file
      place(refcode, file)
      coroutine.yield(refcode, json)
    end

    -- Progress over files (the writer's own bar would count items of an
    -- unknown total). It counts only files whose structures a flush has
    -- made durable: what the bar shows survives a kill -9.
    local bar = progress.new({ total = #files, label = "importing", enabled = opts.progress })
    local workers = import.worker_count(files, jobs)
    summary.parallel = workers > 1
    -- The source of (refcode, json) pairs for the batch writer. A coroutine
    -- we can close: if the writer raises, closing it ends the readings loop
    -- (waiting for any child process and removing its files).
    local co = coroutine.create(function()
      for res in readings_with(files, workers) do
        summary.files = summary.files + 1
        for _, msg in ipairs(res.failures) do fail(res.file, msg) end
        for _, ig in ipairs(res.ignored) do
          summary.ignored[#summary.ignored + 1] = { file = res.file, name = ig.name,
                                                    reason = ig.reason }
        end
        for _, item in ipairs(res.items) do resolve(item, res.file) end
        settled = summary.files
        if opts.on_file then opts.on_file(res) end
      end
      while next(pending) do release_oldest() end
    end)
    local function source()
      local cok, refcode, json = coroutine.resume(co)
      if not cok then error(refcode, 0) end
      return refcode, json
    end

    local wok, result = pcall(st.write_many, st, source,
      { on_error = "collect", progress = false, log = false,
        on_flush = function() bar:update(settled_files()) end })
    if coroutine.status(co) == "suspended" then coroutine.close(co) end
    if not wok then
      bar:finish()
      error(result, 0)
    end
    bar:update(summary.files) -- write_many has flushed everything
    bar:finish(format("%d files, %d imported", summary.files, summary.imported))

    for _, f in ipairs(result.failed) do
      local file = taken[f.refcode] or "?"
      fail(file, format("%s: %s: %s", file, f.refcode, one_line(f.error)))
      summary.imported = summary.imported - 1
      local action = special[f.refcode]
      if action then summary[action] = summary[action] - 1 end
      unplace(f.refcode, file)
    end

    summary.total = st:count()
    if summary.imported > 0 then
      st:set_metadata({ total_structures = summary.total })
      st:log("import", format("imported %d structures from %d files", summary.imported,
        summary.files), {
          imported = summary.imported, replaced = summary.replaced, renamed = summary.renamed,
          unchanged = summary.unchanged, skipped = summary.skipped, failed = summary.failed,
          on_duplicate = mode,
        })
    end
  end)
  if owned then
    if ok then st:close() else pcall(st.close, st) end -- the first error tells most
  end
  if not ok then error(err, 0) end
  summary.elapsed = now() - t0
  return summary
end

---------------------------------------------------------------------------
-- Summary text
---------------------------------------------------------------------------

local function plural(n, word)
  return format("%d %s%s", n, word, n == 1 and "" or "s")
end

--- The summary of an import as text, one line per point.
-- @tparam table summary from `import.run`
-- @tparam[opt] table opts `limit` (failures and duplicates listed, default
--   all), `ignored` (list ignored data blocks too)
-- @treturn string ending with a newline
function import.summary_text(summary, opts)
  opts = opts or {}
  local lines = {}
  local extra = {}
  if summary.replaced > 0 then extra[#extra + 1] = summary.replaced .. " replaced" end
  if summary.renamed > 0 then extra[#extra + 1] = summary.renamed .. " renamed" end
  lines[1] = format("%s read: %d imported%s, %d unchanged, %d skipped (duplicates), %d failed",
    plural(summary.files, "file"), summary.imported,
    #extra > 0 and " (" .. concat(extra, ", ") .. ")" or "",
    summary.unchanged, summary.skipped, summary.failed)
  local limit = opts.limit or math.huge
  local function list(title, items, render)
    if #items == 0 then return end
    lines[#lines + 1] = title
    for i, item in ipairs(items) do
      if i > limit then
        lines[#lines + 1] = format("  ... and %d more", #items - limit)
        break
      end
      lines[#lines + 1] = "  " .. render(item)
    end
  end
  list("failed:", summary.failures, function(f) return f.error end)
  list("duplicates:", summary.duplicates, function(d)
    if d.action == "renamed" then
      return format("%s in %s (also in %s): renamed %s", d.refcode, d.file, d.other, d.as)
    elseif d.action == "replaced" then
      return format("%s in %s replaced the one from %s", d.refcode, d.file, d.other)
    end
    return format("%s in %s skipped (kept the one from %s)", d.refcode, d.file, d.other)
  end)
  if opts.ignored then
    list("data blocks without a structure:", summary.ignored, function(g) return g.reason end)
  elseif #summary.ignored > 0 then
    lines[#lines + 1] = format("%s without a structure ignored",
      plural(#summary.ignored, "data block"))
  end
  return concat(lines, "\n") .. "\n"
end

return import
