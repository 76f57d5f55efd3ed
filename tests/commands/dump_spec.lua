-- h5lua dump FILE [PATH] [--json] [--all] [--limit N] (#cli).
local h5 = require "h5"
local helper = require "helper"

local command_files = require "command_files"
local make = command_files.make
local run_on, assert_clean = command_files.run_on, command_files.assert_clean

describe("h5lua dump #cli", function()
  local file
  setup(function()
    file = helper.tmpfile("demo.h5")
    make(file)
  end)
  teardown(helper.cleanup)

  it("prints a dataset's attributes and values", function()
    local r = helper.h5lua({ "dump", file, "/x" })
    assert.equal("", r.stderr)
    assert.equal(0, r.code)
    assert.equal('<dataset "/x": shape {2, 3}, float64>\n  @units = "m"\n'
      .. "  [[1.5, 2.5, 3.5],\n   [4.5, 5.5, 6.5]]\n", r.stdout)
  end)

  it("prints a group and everything below it", function()
    local r = helper.h5lua({ "dump", file, "/structures/BENZEN" })
    assert.equal('<group "/structures/BENZEN" (1 member)>\n'
      .. '  <dataset "/structures/BENZEN/raw_json": scalar, string(utf-8, variable)>\n'
      .. "    '{\"refcode\": \"BENZEN\"}'\n", r.stdout)
  end)

  it("prints JSON with --json, truncating past --limit", function()
    local r = helper.h5lua({ "dump", file, "/z", "--json", "--limit", "5" })
    assert.equal(0, r.code)
    assert.equal('{\n  "data": [0, 1, 2, 3, 4],\n  "dtype": "int32",\n'
      .. '  "filters": ["shuffle", "gzip 6"],\n  "kind": "dataset",\n  "path": "/z",\n'
      .. '  "shape": [100],\n  "truncated": true\n}\n', r.stdout)
  end)

  it("prints everything with --all", function()
    local r = helper.h5lua({ "dump", file, "/z", "--json", "--limit", "5", "--all" })
    local v = require("cjson").decode(r.stdout)
    assert.equal(100, #v.data)
    assert.equal(99, v.data[100])
    assert.is_nil(v.truncated)
  end)

  describe("bounds attributes and strings as it bounds data", function()
    local big
    setup(function()
      big = helper.tmpfile("big.h5")
      local f = h5.open(big, "w", { libver = "latest" }) -- dense attributes: no 64 KB cap
      f.attrs.many = h5.array.range(1, 100000):totable()
      f.attrs.grid = { { 1, 2, 3 }, { 4, 5, 6 }, { 7, 8, 9 } }
      f.attrs.note = string.rep("é", 100000) -- 200 KB of two-byte characters
      f.attrs.small = { 1, 2 }
      f:create_dataset("text", { data = string.rep("y", 300000) })
      f:close()
    end)

    it("with --json: at most --limit elements and 1000 bytes, saying what was cut", function()
      local r = helper.h5lua({ "dump", big, "--json", "--limit", "5" })
      assert.equal("", r.stderr)
      assert.equal(0, r.code)
      assert(#r.stdout < 5000, #r.stdout)
      local v = require("cjson").decode(r.stdout)
      assert.same({ 1, 2, 3, 4, 5 }, v.attributes.many)
      assert.same({ { 1, 2 }, { 4, 5 } }, v.attributes.grid) -- a block, as datasets
      assert.equal(string.rep("é", 500), v.attributes.note) -- cut between characters
      assert.same({ 1, 2 }, v.attributes.small)
      assert.same({ many = { shape = { 100000 } }, grid = { shape = { 3, 3 } },
        note = { bytes = 200000 } }, v.truncated_attributes)
      local text = v.members.text
      assert.equal(string.rep("y", 1000), text.data)
      assert.is_true(text.truncated)
      assert.equal(300000, text.bytes)
    end)

    it("with --json --all: everything, whole", function()
      local r = helper.h5lua({ "dump", big, "--json", "--limit", "5", "--all" })
      local v = require("cjson").decode(r.stdout)
      assert.equal(100000, #v.attributes.many)
      assert.equal(100000, v.attributes.many[100000])
      assert.equal(string.rep("é", 100000), v.attributes.note)
      assert.is_nil(v.truncated_attributes)
      assert.equal(300000, #v.members.text.data)
      assert.is_nil(v.members.text.truncated)
    end)

    it("as text: bounded values, whole with --all", function()
      local r = helper.h5lua({ "dump", big })
      assert.equal(0, r.code)
      assert(#r.stdout < 5000, #r.stdout)
      assert.truthy(r.stdout:find("@many = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ...99990 more}\n", 1,
        true), r.stdout)
      r = helper.h5lua({ "dump", big, "--all" })
      assert.truthy(r.stdout:find(", 99999, 100000}\n", 1, true))
      assert.truthy(r.stdout:find('@note = "' .. string.rep("é", 100000) .. '"\n', 1, true))
    end)
  end)

  it("bounds the member list of a wide group", function()
    local wide = helper.tmpfile("wide.h5")
    local f = h5.open(wide, "w", { libver = "latest" })
    local g = f:create_group("wide")
    for i = 1, 2000 do g:create_group(string.format("m%04d", i)) end
    f:close()
    local r = helper.h5lua({ "dump", wide, "/wide", "--limit", "5" })
    assert.equal(0, r.code)
    assert.equal('<group "/wide" (2000 members)>\n'
      .. '  <group "/wide/m0001" (0 members)>\n  <group "/wide/m0002" (0 members)>\n'
      .. '  <group "/wide/m0003" (0 members)>\n  <group "/wide/m0004" (0 members)>\n'
      .. '  <group "/wide/m0005" (0 members)>\n  ... 1995 more (2000 members)\n', r.stdout)
    r = helper.h5lua({ "dump", wide, "/wide", "--json" }) -- the default limit: 1000
    local v = require("cjson").decode(r.stdout)
    assert.is_true(v.truncated)
    assert.equal(2000, v.member_count)
    local n = 0
    for _ in pairs(v.members) do n = n + 1 end
    assert.equal(1000, n)
  end)

  it("prints a whole file as JSON that h5lua and Python read back", function()
    local r = helper.h5lua({ "dump", file, "--json" })
    local v = require("cjson").decode(r.stdout)
    assert.equal("file", v.kind)
    assert.equal("demo", v.attributes.title)
    assert.same({ link = "soft", target = "/structures" }, v.members.alias)
    assert.equal('{"refcode": "ALANIN"}', v.members.structures.members.ALANIN.members.raw_json.data)
    local path = helper.tmpfile("dump.json")
    helper.write_file(path, r.stdout)
    local py = helper.python_run(string.format("import json; print(json.load(open(%q))['members']"
      .. "['x']['data'])", path))
    assert.equal("[[1.5, 2.5, 3.5], [4.5, 5.5, 6.5]]\n", py.stdout)
  end)

  it("fails with exit 1 for a missing path", function()
    local r = helper.h5lua({ "dump", file, "/nope", "--json" })
    assert.equal(1, r.code)
    assert.equal("", r.stdout)
    assert.equal("h5lua: " .. file .. ": /nope: no such object\n", r.stderr)
  end)

  it("colours on a terminal only, never into a pipe", function()
    command_files.assert_colour_only_on_tty({ "dump", file, "/x" })
  end)

  describe("on every file of ../shared/data/hdf5-samples", function()
    it("ends cleanly, with JSON that parses", function()
      command_files.for_each_sample(function(dir, file)
        local r = run_on(dir, file, { "dump", "FILE", "--json" })
        assert_clean(r, file)
        if r.code == 0 then
          assert(pcall(require("cjson").decode, r.stdout), file .. ": JSON does not parse")
        end
        assert_clean(run_on(dir, file, { "dump", "FILE" }), file)
      end)
    end)
  end)
end)
