-- Organize by space group, then validate with a full scan, on stores of
-- 10,000 and 100,000 structures: h5lua (`h5lua organize`, `h5lua
-- validate` with the seed's four checks -- the work the other two do --, and
-- again with every built-in rule), the seed's Python code on h5py (its
-- organize_by_space_group and validate_hdf5_file, the latter scanning every
-- structure instead of the first ten), and plain C on the HDF5 API
-- (tests/bench/c/organize.c), in one run.
--
-- Plain C runs twice: "plain C" parses each JSON text into a tree as the
-- seed's json.loads does; "plain C scan" does h5lua's work (the text checked
-- by h5lua's JSON scanner, bindings/json_scan.c, and only the space_group
-- member decoded), so its ratio compares like with like.
--
-- Targets: h5lua within 1.5x of plain C doing the same work (scan), and at
-- least 3x faster than h5py; the ratio to tree-building C is printed too.
-- Wall-clock seconds are what the targets are about; CPU seconds (user +
-- system) are printed too, as they vary less on a busy machine.
--
-- The input stores are written by the C program's `gen` (h5py's layout:
-- /structures/<refcode>/raw_json scalar UTF-8 strings, /metadata), the
-- fastest writer available; each tool works on its own copy.
-- Usage: build/h5lua tests/bench/run.lua tests/bench/organize_bench.lua [N ...]
local benchlib = require "benchlib"

local quote = benchlib.quote
local SIZES = { 10000, 100000 }
if os.getenv("ORGANIZE_BENCH_SIZES") then
  SIZES = {}
  for n in os.getenv("ORGANIZE_BENCH_SIZES"):gmatch("%d+") do SIZES[#SIZES + 1] = tonumber(n) end
end

local PY = [[
import json, os, sys
import h5py

def escape(name):
    # as h5lua.organize.escape, so "P 21/c" stays one group (the seed's
    # create_group(space_group) would make "P 21" / "c")
    if name == "":
        return "%"
    s = name.replace("%", "%25").replace("/", "%2F")
    return "%2E" + s[1:] if s.startswith(".") else s

def organize_by_space_group(h5_file):
    if 'structures' not in h5_file:
        return
    structures = h5_file['structures']
    space_group_map = {}
    for refcode in structures.keys():
        try:
            raw_data = structures[refcode]['raw_json'][()].decode()
            structure_data = json.loads(raw_data)
            space_group = structure_data.get('space_group', 'unknown')
            if space_group not in space_group_map:
                space_group_map[space_group] = []
            space_group_map[space_group].append(refcode)
        except Exception as e:
            print(f"Warning: Could not process {refcode}: {e}")
    if 'by_space_group' not in h5_file:
        sg_group = h5_file.create_group('by_space_group')
    else:
        sg_group = h5_file['by_space_group']
    for space_group, refcodes in space_group_map.items():
        sg_subgroup = sg_group.create_group(escape(space_group))
        sg_subgroup.attrs['structure_count'] = len(refcodes)
        sg_subgroup.attrs['bucket_name'] = space_group
        sg_subgroup.create_dataset('refcodes', data=refcodes, dtype=h5py.string_dtype())
    print(f"Organized {len(structures)} structures into {len(space_group_map)} space groups")

def validate_hdf5_file(h5_file_path):
    validation_report = {'is_valid': True, 'errors': [], 'warnings': [], 'structure_count': 0,
                         'groups': [], 'file_size_mb': 0}
    try:
        with h5py.File(h5_file_path, 'r') as h5_file:
            file_size = os.path.getsize(h5_file_path) / (1024 * 1024)
            validation_report['file_size_mb'] = round(file_size, 2)
            if 'structures' not in h5_file:
                validation_report['errors'].append("Missing required 'structures' group")
                validation_report['is_valid'] = False
            else:
                structures_group = h5_file['structures']
                structure_keys = list(structures_group.keys())
                validation_report['structure_count'] = len(structure_keys)
                validation_report['groups'].extend(structure_keys[:10])
                for refcode in structure_keys:  # every structure, not the first ten
                    structure_group = structures_group[refcode]
                    if 'raw_json' not in structure_group:
                        validation_report['warnings'].append(f"Structure {refcode} missing raw_json")
                    else:
                        try:
                            raw_data = structure_group['raw_json'][()].decode()
                            json.loads(raw_data)
                        except Exception as e:
                            validation_report['errors'].append(f"Invalid JSON in {refcode}: {e}")
                            validation_report['is_valid'] = False
            if 'metadata' in h5_file:
                metadata = dict(h5_file['metadata'].attrs)
                if 'creation_date' not in metadata:
                    validation_report['warnings'].append("Missing creation_date in metadata")
    except Exception as e:
        validation_report['errors'].append(f"Failed to open file: {e}")
        validation_report['is_valid'] = False
    return validation_report

if sys.argv[1] == "organize":
    with h5py.File(sys.argv[2], "a") as f:
        organize_by_space_group(f)
else:
    r = validate_hdf5_file(sys.argv[2])
    print(r['is_valid'], r['structure_count'], len(r['errors']), len(r['warnings']))
    sys.exit(0 if r['is_valid'] else 1)
]]

-- Run cmd under /usr/bin/time: wall seconds, CPU seconds, peak MiB.
local function measure(cmd)
  local tmp = os.tmpname()
  local p = io.popen(string.format("/usr/bin/time -f '%%e %%U %%S %%M' -o %s sh -c %s 2>&1",
    tmp, quote(cmd)))
  local out = p:read("a")
  local ok = p:close()
  local f = io.open(tmp)
  local line = f and f:read("a") or ""
  if f then f:close() end
  os.remove(tmp)
  local wall, user, sys, kb = line:match("([%d.]+) ([%d.]+) ([%d.]+) (%d+)%s*$")
  if not ok or not wall then error("bench command failed: " .. cmd .. "\n" .. out .. line) end
  return { wall = tonumber(wall), cpu = tonumber(user) + tonumber(sys), mib = tonumber(kb) / 1024,
    out = out }
end

local function sh(cmd)
  assert(os.execute(cmd), "failed: " .. cmd)
end

local c_bin = benchlib.compile_c("organize", { "bindings/json_scan.c" })
local h5lua = os.getenv("H5LUA_BIN") or (benchlib.root .. "/build/h5lua")
local dir = os.tmpname()
os.remove(dir)
sh("mkdir -p " .. quote(dir))
local py = dir .. "/seed.py"
local fpy = assert(io.open(py, "w"))
fpy:write(PY)
fpy:close()

local tools = {
  { name = "plain C", organize = function(file) return c_bin .. " organize " .. quote(file) end,
    validate = function(file) return c_bin .. " validate " .. quote(file) end },
  { name = "plain C scan", organize = function(file) return c_bin .. " organize " .. quote(file)
      .. " scan" end,
    validate = function(file) return c_bin .. " validate " .. quote(file) .. " scan" end },
  { name = "h5lua", organize = function(file)
      return h5lua .. " organize " .. quote(file) .. " by_space_group"
    end,
    -- the seed's four checks: the same work as the other two tools
    validate = function(file) return h5lua .. " validate " .. quote(file)
      .. " --only structures_group --only raw_json_present --only json_parses"
      .. " --only metadata_creation_date" end },
  { name = "h5lua all", validate = function(file) return h5lua .. " validate " .. quote(file) end },
  { name = "h5py (seed)", organize = function(file)
      return benchlib.python .. " " .. quote(py) .. " organize " .. quote(file)
    end,
    validate = function(file) return benchlib.python .. " " .. quote(py) .. " validate "
      .. quote(file) end },
}

local misses = 0
local function verdict(ok) if not ok then misses = misses + 1 end return ok and "ok" or "MISSED" end

print(string.format("%-8s %-9s %-12s %9s %9s %9s %11s %11s", "N", "job", "tool", "wall s",
  "cpu s", "peak MiB", "wall vs C", "cpu vs C"))
for _, n in ipairs(SIZES) do
  local base = dir .. "/base.h5"
  local t0 = benchlib.now()
  sh(string.format("%s gen %s %d", c_bin, quote(base), n))
  io.stderr:write(string.format("(generated %d structures in %.1f s)\n", n, benchlib.now() - t0))
  local results = {}
  for _, tool in ipairs(tools) do
    local file = dir .. "/work.h5"
    sh("cp " .. quote(base) .. " " .. quote(file))
    results[tool.name] = { organize = tool.organize and measure(tool.organize(file)),
      validate = measure(tool.validate(file)) }
    os.remove(file)
  end
  for _, job in ipairs({ "organize", "validate" }) do
    local c = results["plain C"][job]
    for _, tool in ipairs(tools) do
      local r = results[tool.name][job]
      if r then print(string.format("%-8d %-9s %-12s %9.2f %9.2f %9.1f %11s %11s", n, job, tool.name,
        r.wall, r.cpu, r.mib, benchlib.ratio(r.wall, c.wall), benchlib.ratio(r.cpu, c.cpu))) end
    end
    local l, p = results["h5lua"][job], results["h5py (seed)"][job]
    local cs = results["plain C scan"][job]
    print(string.format("%-8d %-9s h5lua/C same work (scan) %s wall, %s cpu (target <= 1.50x: "
      .. "%s); h5lua/C building trees %s wall, %s cpu", n, job,
      benchlib.ratio(l.wall, cs.wall), benchlib.ratio(l.cpu, cs.cpu),
      verdict(l.wall <= 1.5 * cs.wall), benchlib.ratio(l.wall, c.wall),
      benchlib.ratio(l.cpu, c.cpu)))
    print(string.format("%-8d %-9s h5py/h5lua %s wall, %s cpu (target >= 3x: %s)", n, job,
      benchlib.ratio(p.wall, l.wall), benchlib.ratio(p.cpu, l.cpu), verdict(p.wall >= 3 * l.wall)))
    if job == "validate" then
      local a = results["h5lua all"].validate
      print(string.format("%-8d %-9s every built-in rule (12, not the seed's 4): h5lua/C scan %s "
        .. "wall; h5py/h5lua %s wall (not a target: more work than the others do)", n, job,
        benchlib.ratio(a.wall, cs.wall), benchlib.ratio(p.wall, a.wall)))
    end
  end
  os.remove(base)
end
sh("rm -rf " .. quote(dir))
print(misses == 0 and "all targets met" or string.format("%d targets missed", misses))
