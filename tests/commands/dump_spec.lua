-- h5lua dump FILE [PATH] [--json] [--all] [--limit N] (#cli).
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
