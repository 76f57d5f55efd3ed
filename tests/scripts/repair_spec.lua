-- Specs of scripts/h5lua/repair.lua, on damaged files the specs make.

local h5 = require "h5"
local helper = require "helper"
local repair = require "h5lua.repair"

if not package.searchpath("h5lua.store", package.path) then
  describe("h5lua.repair", function()
    pending("h5lua.store has not landed yet")
  end)
  return
end

local store = require "h5lua.store"

local function json(refcode)
  return string.format('{"identifier":"%s","space_group":"P 21/c","cell_lengths":[5,6,7],'
    .. '"cell_angles":[90,100,90],"atoms":[],"note":"%s"}', refcode, string.rep("x", 300))
end

-- A store with structures S01..Sn; returns path and {refcode = json}.
local function make_store(n, path)
  path = path or helper.tmpfile()
  local s = store.open(path)
  local all = {}
  for i = 1, n do
    local r = string.format("S%02d", i)
    all[r] = json(r)
    s:write(r, all[r])
  end
  s:close()
  return path, all
end

local function raw_jsons(path)
  local out = {}
  local s = store.open(path, { mode = "r" })
  for r, raw in s:each() do out[r] = raw end
  s:close()
  return out
end

local function plural(n, word) return string.format("%d %s%s", n, word, n == 1 and "" or "s") end

local function dir_of(path) return path:match("^(.*)/[^/]*$") end

local function add_big(path, n)
  local f = h5.open(path, "r+")
  local data = {}
  for i = 1, n do data[i] = i end
  f:create_dataset("big", { data = h5.array.from(data, "int64") }):close()
  f:close()
end

local function truncate(path, keep)
  local bytes = helper.read_file(path)
  helper.write_file(path, bytes:sub(1, keep))
  return #bytes
end

describe("h5lua.repair", function()

  after_each(function()
    helper.assert_no_open_ids()
    helper.cleanup()
  end)


  describe("backup_path()", function()

    it("replaces the extension with .h5.backup, as the seed's with_suffix", function()
      assert.equal("/d/x.h5.backup", repair.backup_path("/d/x.h5"))
      assert.equal("/d/x.h5.backup", repair.backup_path("/d/x.hdf5"))
      assert.equal("data.h5.backup", repair.backup_path("data"))
    end)

    it("numbers the backup rather than overwrite an older one", function()
      local dir = helper.tmpdir()
      helper.write_file(dir .. "/x.h5.backup", "old")
      assert.equal(dir .. "/x.h5.backup.1", repair.backup_path(dir .. "/x.h5"))
      helper.write_file(dir .. "/x.h5.backup.1", "older")
      assert.equal(dir .. "/x.h5.backup.2", repair.backup_path(dir .. "/x.h5"))
    end)
  end)

  describe("file()", function()

    it("copies a sound file whole, keeping a byte-identical backup", function()
      local path, all = make_store(3)
      local f = h5.open(path, "r+")
      f.attrs.title = "crystals"
      f:soft_link("/structures/S01", "first")
      f:close()
      local original = helper.read_file(path)
      local result = repair.file(path)
      assert.is_true(result.ok)
      assert.same({}, result.lost)
      assert.same({}, result.partial)
      assert.equal(path:gsub("%.h5$", ".h5.backup"), result.backup)
      assert.equal(original, helper.read_file(result.backup))
      assert.same(all, raw_jsons(path))
      f = h5.open(path, "r")
      assert.equal("crystals", f.attrs.title)
      assert.equal("/structures/S01", f:link_info("first").target)
      f:close()
      assert.same({ "test.h5", "test.h5.backup" }, helper.ls(dir_of(path)))
      assert.equal(table.concat({
        "Repaired " .. path .. " (backup: " .. result.backup .. ")",
        string.format("  Salvaged: %s, %s, 1 link, %s", plural(result.counts.groups, "group"),
          plural(result.counts.datasets, "dataset"),
          plural(result.counts.attributes, "attribute")),
        "  Partly salvaged: none",
        "  Lost: nothing",
      }, "\n") .. "\n", repair.format(result))
    end)

    it("counts the attributes of subtrees it copies whole", function()
      local path = make_store(2)
      local f = h5.open(path, "r+")
      f.structures.S01.attrs.source = "csd"
      f.structures.S01.attrs.year = 1999
      f.structures.S02.raw_json.attrs.checked = true
      f:close()
      -- every attribute in the file, counted by walking it
      local function count(obj)
        local n = #obj.attrs:keys()
        if obj.kind == "group" or obj.kind == "file" then
          for _, name in ipairs(obj:keys()) do
            local child = obj:get(name)
            n = n + count(child)
            child:close()
          end
        end
        return n
      end
      f = h5.open(path, "r")
      local want = count(f)
      f:close()
      local result = repair.file(path, { backup = false })
      assert.same({}, result.lost)
      assert.is_true(want >= 3)
      assert.equal(want, result.counts.attributes)
    end)

    it("never overwrites an older backup", function()
      local path = make_store(1)
      local first = repair.file(path)
      local older = helper.read_file(first.backup)
      local second = repair.file(path)
      assert.equal(path .. ".backup.1", second.backup)
      assert.equal(older, helper.read_file(first.backup))
    end)

    it("keeps no backup when asked not to", function()
      local path = make_store(1)
      local result = repair.file(path, { backup = false })
      assert.is_true(result.ok)
      assert.is_nil(result.backup)
      assert.same({ "test.h5" }, helper.ls(dir_of(path)))
    end)

    it("salvages a truncated file and names the rows cut off", function()
      local path, all = make_store(5)
      add_big(path, 20000)  -- 160000 bytes of int64, written last
      local size = truncate(path, nil)
      truncate(path, size - 100000)
      local result = repair.file(path)
      assert.is_true(result.ok)
      assert.same(all, raw_jsons(path))
      assert.same({ { path = "/big", lost_rows = { "7501-20000" },
        message = "rows 7501-20000 of 20000 lost (its data lay past the end of the truncated "
          .. "file)" } }, result.partial)
      assert.same({ { path = "/", message = string.format("file truncated at %d of %d bytes: "
        .. "whatever lay past the cut is lost", size - 100000, size) } }, result.notes)
      local f = h5.open(path, "r")
      local big = f.big:read()
      assert.same({ 1, 7500, 0, 0 }, { big[1], big[7500], big[7501], big[20000] })
      f:close()
      assert.same({ "test.h5", "test.h5.backup" }, helper.ls(dir_of(path)))
    end)

    it("keeps the structures that lie before the cut of a truncated file", function()
      local path = helper.tmpfile()
      h5.open(path, "w"):close()
      add_big(path, 2000)
      local _, all = make_store(40, path)
      local size = #helper.read_file(path)
      truncate(path, size - 6000)
      local result = repair.file(path)
      assert.is_true(result.ok)
      local kept = raw_jsons(path)
      local lost = {}
      for _, l in ipairs(result.lost) do lost[#lost + 1] = l.path end
      for _, p in ipairs(result.partial) do lost[#lost + 1] = p.path end
      assert.is_true(#lost > 0)
      local n = 0
      for r, raw in pairs(kept) do
        n = n + 1
        assert.equal(all[r], raw)
      end
      assert.is_true(n >= 30, "only " .. n .. " structures kept")
      local f = h5.open(path, "r")
      assert.equal(2000, f.big:read()[2000])
      f:close()
    end)

    it("recovers the good chunks of a dataset whose Fletcher-32 checksums fail", function()
      local path, all = make_store(2)
      local f = h5.open(path, "r+")
      local data = {}
      for i = 1, 1000 do data[i] = i end
      local d = f:create_dataset("x", { data = h5.array.from(data, "int64"), chunks = { 100 },
        fletcher32 = true })
      d.attrs.units = "counts"
      d:close()
      f:close()
      helper.flip_byte(path, string.pack("<i8i8", 101, 102), 4)
      f = h5.open(path, "r")
      local _, err = pcall(f.x.read, f.x)
      f:close()
      local result = repair.file(path)
      assert.same({ { path = "/x", lost_rows = { "101-200" },
        message = "rows 101-200 of 1000 lost (" .. err:gsub("^h5: ", "") .. ")" } },
        result.partial)
      assert.same({}, result.lost)
      assert.same(all, raw_jsons(path))
      f = h5.open(path, "r")
      d = f.x
      assert.is_true(d.fletcher32)
      assert.same({ 100 }, d.chunks)
      assert.equal("counts", d.attrs.units)
      local x = d:read()
      assert.same({ 100, 0, 0, 201, 1000 }, { x[100], x[101], x[200], x[201], x[1000] })
      f:close()
    end)

    it("drops dangling links, keeps good ones, and says so", function()
      local path = make_store(1)
      local other = dir_of(path) .. "/other.h5"
      local o = h5.open(other, "w")
      o:create_group("g"):close()
      o:close()
      local f = h5.open(path, "r+")
      f:external_link("missing.h5", "/x", "gone")
      f:external_link(other, "/g", "there")
      f:soft_link("/nowhere", "lost_soft")
      f:close()
      local result = repair.file(path)
      assert.same({
        { path = "/gone", reason = "dangling external link to 'missing.h5:/x'" },
        { path = "/lost_soft", reason = "dangling soft link to '/nowhere'" },
      }, result.lost)
      f = h5.open(path, "r")
      assert.same({ "structures", "there" }, f:keys())
      assert.equal("external", f:link_info("there").kind)
      f:close()
    end)

    it("keeps a structure with invalid JSON byte for byte and notes it", function()
      local path = make_store(1)
      local s = store.open(path, { validate = false })
      s:write("BAD", '{"identifier": "BAD", ')
      s:close()
      local result = repair.file(path)
      assert.same({}, result.lost)
      assert.same({ { path = "/structures/BAD/raw_json", message = "kept as is, but it is not "
        .. "valid JSON: Expected object key string but found T_END at character 23" } },
        result.notes)
      assert.equal('{"identifier": "BAD", ', raw_jsons(path).BAD)
      assert.truthy(repair.format(result):find("  Notes: 1\n    - /structures/BAD/raw_json: "
        .. "kept as is, but it is not valid JSON", 1, true))
    end)

    it("leaves a file it cannot read untouched", function()
      local path = helper.tmpfile("notes.h5")
      helper.write_file(path, "not an HDF5 file\n")
      local _, err = pcall(h5.open, path, "r")
      local result = repair.file(path)
      assert.is_false(result.ok)
      assert.equal(string.format("cannot repair '%s': %s", path, err:gsub("^h5: ", "")),
        result.message)
      assert.equal("not an HDF5 file\n", helper.read_file(path))
      assert.same({ "notes.h5" }, helper.ls(dir_of(path)))
      assert.equal("Repair failed: " .. result.message .. "\n", repair.format(result))
    end)

    it("says so for a missing file", function()
      local path = helper.tmpdir() .. "/none.h5"
      assert.equal(string.format("cannot repair '%s': no such file", path),
        repair.file(path).message)
    end)
  end)
end)
