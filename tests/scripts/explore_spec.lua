-- The shared logic of the REPL helpers and the exploring commands
-- (scripts/h5lua/explore.lua): descriptions, listings, trees, show, find,
-- dump, stats, diff, and their bounds on wide groups.
local explore = require "h5lua.explore"
local h5 = require "h5"
local helper = require "helper"

-- Under valgrind everything runs ~50 times slower: fewer members there.
-- How fast listing wide groups is, is measured by `make bench`
-- (tests/bench/wide_group_bench.lua), not here.
local VALGRIND = os.getenv("H5LUA_VALGRIND") ~= nil
local WIDE = VALGRIND and 10000 or 100000

-- Reading datasets needs the Dataset bindings (issue 3).
local HAS_DATASETS = type(h5.array) == "table"
local it_data = HAS_DATASETS and it or pending

-- A file of groups, attributes and links only (no datasets).
local function make_groups(path)
  local f = h5.open(path, "w")
  f.attrs.title = "groups"
  local s = f:create_group("structures")
  s.attrs.count = 3
  for _, name in ipairs { "ALANIN", "ALANIN01", "BENZEN" } do
    s:create_group(name):create_group("cell")
  end
  f:create_group("empty")
  f:soft_link("/structures", "alias")
  f:soft_link("/nowhere", "broken")
  f:external_link("other.h5", "/x", "ext")
  f:close()
end

-- A file with datasets, written by h5py.
local function make_datasets(path)
  local r = helper.python_run(string.format([[
import h5py, numpy as np
with h5py.File(%q, "w") as f:
    f["x"] = np.arange(300.0).reshape(100, 3)
    f.create_dataset("z", data=np.arange(10, dtype="i4"), chunks=(5,), compression="gzip",
                     compression_opts=6, shuffle=True)
    f["s"] = "hello"
    f["nan"] = np.array([1.0, np.nan, np.inf])
    f["g/y"] = np.arange(5, dtype="u1")
    f["x"].attrs["units"] = "m"
    f.create_dataset("big", shape=(2000,), dtype="f8", fillvalue=0.5)
]], path))
  assert(r.code == 0, r.stderr)
end

-- Open path, run fn(f), close the file even when fn fails.
local function with(path, fn)
  local f = h5.open(path)
  local ok, err = pcall(fn, f)
  f:close()
  if not ok then error(err, 0) end
end

describe("h5lua.explore", function()
  local groups, data
  setup(function()
    groups = helper.tmpfile("groups.h5")
    make_groups(groups)
    data = helper.tmpfile("data.h5")
    make_datasets(data)
  end)
  after_each(helper.assert_no_open_ids)
  teardown(helper.cleanup)

  describe(".split_target()", function()
    it("splits FILE:PATH at the colon after an existing file", function()
      assert.same({ groups, "/structures" }, { explore.split_target(groups .. ":/structures") })
    end)

    it("takes the whole argument when it names a file", function()
      assert.same({ groups }, { explore.split_target(groups) })
    end)

    it("keeps colons that belong to the file name", function()
      local odd = helper.tmpdir() .. "/a:b.h5"
      helper.write_file(odd, "")
      assert.same({ odd, "x" }, { explore.split_target(odd .. ":x") })
      assert.same({ odd }, { explore.split_target(odd) })
    end)
  end)

  describe(".prop()", function()
    it("reads properties, never a member that has a property's name or another", function()
      local path = helper.tmpfile("props.h5")
      local f = h5.open(path, "w")
      f:create_group("freespace")
      f:create_group("g"):create_group("size")
      f:create_dataset("nosuch", { data = { 1 } })
      assert.equal("integer", math.type(explore.prop(f, "freespace")))
      assert.equal(f.size, explore.prop(f, "size"))
      assert.is_nil(explore.prop(f, "nosuch"))
      assert.is_nil(explore.prop(f.g, "size"))
      assert.equal("/g", explore.prop(f.g, "name"))
      assert.same({ 1 }, explore.prop(f.nosuch, "shape"))
      f:close()
    end)
  end)

  describe(".attribute_names()", function()
    it("lists the names sorted", function()
      with(groups, function(f)
        assert.same({ "title" }, explore.attribute_names(f.attrs))
        assert.same({}, explore.attribute_names(f.empty.attrs))
      end)
    end)

    it("refuses attributes that do not decode, before libhdf5 lists them", function()
      if not helper.data then return pending("../shared/data is absent") end
      with(helper.data .. "/hdf5-samples/damaged/h5diff_attr1.h5", function(f)
        for _, obj in ipairs({ f, f.dset, f.g1 }) do
          assert.same({ nil, "cannot list attributes: bad version number for datatype message" },
            { explore.attribute_names(obj.attrs) })
        end
      end)
    end)
  end)

  describe(".resolve()", function()
    it("finds an object by absolute or relative path", function()
      with(groups, function(f)
        assert.equal("/structures/BENZEN", explore.resolve(f, "/structures/BENZEN").name)
        assert.equal("/structures/BENZEN", explore.resolve(f.structures, "BENZEN").name)
        assert.equal(f, explore.resolve(f, "/"))
      end)
    end)

    it("says why a path does not resolve", function()
      with(groups, function(f)
        assert.same({ nil, "/nope: no such object" }, { explore.resolve(f, "/nope") })
        assert.same({ nil, "/structures/nope: no such object" },
          { explore.resolve(f.structures, "nope") })
        assert.same({ nil, "/broken: dangling soft link to '/nowhere'" },
          { explore.resolve(f, "broken") })
      end)
    end)
  end)

  describe(".describe() and .header()", function()
    it("describe groups with their member count", function()
      with(groups, function(f)
        assert.equal("group (3 members)", explore.describe(f.structures))
        assert.equal("group (1 member)", explore.describe(f.structures.BENZEN))
        assert.equal('<group "/structures" (3 members)>', explore.header(f.structures))
        assert.equal(string.format('<file "%s" (r, %s): 5 members>', groups,
          require("h5lua.pretty").bytes(f.size)), explore.header(f))
      end)
    end)

    it_data("describe datasets with shape, dtype and filters", function()
      with(data, function(f)
        assert.equal("dataset {100, 3} float64", explore.describe(f.x))
        assert.equal("dataset {10} int32, shuffle, gzip 6", explore.describe(f.z))
        assert.equal("dataset scalar string(utf-8, variable)", explore.describe(f.s))
        assert.equal('<dataset "/x": shape {100, 3}, float64>', explore.header(f.x))
        assert.equal('<dataset "/z": shape {10}, int32, shuffle, gzip 6>', explore.header(f.z))
        assert.equal('<dataset "/s": scalar, string(utf-8, variable)>', explore.header(f.s))
      end)
    end)
  end)

  describe(".filters()", function()
    it("lists the pipeline in order, with levels", function()
      assert.same({ "shuffle", "gzip 4", "fletcher32" }, explore.filters({ filters = {
        { id = 2, name = "shuffle", values = {} },
        { id = 1, name = "gzip", values = { 4 } },
        { id = 3, name = "fletcher32", values = {} },
      } }))
    end)

    it("names third-party filters with their id", function()
      assert.same({ "blosc (filter 32001)" }, explore.filters({ filters = {
        { id = 32001, name = "blosc", values = { 2, 2, 4 } } } }))
      assert.same({ "filter 307" }, explore.filters({ filters = { { id = 307, name = "" } } }))
    end)

    it("falls back to the compression properties", function()
      assert.same({ "gzip 9", "shuffle", "fletcher32" }, explore.filters({
        compression = "gzip", compression_opts = 9, shuffle = true, fletcher32 = true }))
      assert.same({}, explore.filters({ shuffle = false }))
    end)
  end)

  describe(".head_selection()", function()
    it("keeps whole short rows and cuts the first dimension", function()
      assert.same({ { { 1, 6 }, { 1, 3 } }, { 6, 3 } },
        { explore.head_selection({ 100, 3 }, 60, { rows = 6, cols = 10 }) })
    end)

    it("cuts long rows too", function()
      assert.same({ { { 1, 6 }, { 1, 10 } }, { 6, 10 } },
        { explore.head_selection({ 10, 1000 }, 60, { rows = 6, cols = 10 }) })
      assert.same({ { { 1, 2 }, { 1, 500 } }, { 2, 500 } },
        { explore.head_selection({ 10, 1000 }, 1000) })
    end)

    it("reads one-dimensional data up to the limit", function()
      assert.same({ { { 1, 60 } }, { 60 } }, { explore.head_selection({ 1000 }, 60) })
      assert.same({ { { 1, 7 } }, { 7 } }, { explore.head_selection({ 7 }, 60) })
    end)

    it("needs no selection for a scalar", function()
      assert.same({ nil, {} }, { explore.head_selection({}, 60) })
    end)

    it("stays within the limit for many dimensions", function()
      local _, block = explore.head_selection({ 50, 50, 50, 50 }, 100)
      local n = 1
      for _, b in ipairs(block) do n = n * b end
      assert.is_true(n <= 100 and n >= 1)
    end)
  end)

  describe(".ls()", function()
    it("lists members with what they are, links included", function()
      with(groups, function(f)
        assert.same({
          "alias        soft link -> /structures (group (3 members))",
          "broken       soft link -> /nowhere (dangling)",
          "empty/       group (0 members)",
          "ext          external link -> other.h5:/x (dangling)",
          "structures/  group (3 members)",
        }, explore.ls(f))
      end)
    end)

    it("lists every object below a group with recursive", function()
      with(groups, function(f)
        assert.same({
          "ALANIN/         group (1 member)",
          "ALANIN/cell/    group (0 members)",
          "ALANIN01/       group (1 member)",
          "ALANIN01/cell/  group (0 members)",
          "BENZEN/         group (1 member)",
          "BENZEN/cell/    group (0 members)",
        }, explore.ls(f.structures, { recursive = true }))
      end)
    end)

    it("stops at a limit and counts the rest", function()
      with(groups, function(f)
        assert.same({
          "ALANIN/    group (1 member)",
          "ALANIN01/  group (1 member)",
          "... 1 more (3 members)",
        }, explore.ls(f.structures, { limit = 2 }))
      end)
    end)

    it("passes lines to emit when given", function()
      with(groups, function(f)
        local got = {}
        local ret = explore.ls(f.structures.BENZEN, { emit = function(l) got[#got + 1] = l end })
        assert.same({}, ret)
        assert.same({ "cell/  group (0 members)" }, got)
      end)
    end)

    it_data("describes a dataset given instead of a group", function()
      with(data, function(f)
        assert.same({ "/z  dataset {10} int32, shuffle, gzip 6" }, explore.ls(f.z))
      end)
    end)
  end)

  describe(".tree()", function()
    it("draws groups, datasets and links", function()
      with(groups, function(f)
        assert.same({
          "/structures  (3 members)",
          "├── ALANIN/",
          "│   └── cell/",
          "├── ALANIN01/",
          "│   └── cell/",
          "└── BENZEN/",
          "    └── cell/",
        }, explore.tree(f.structures))
        local lines = explore.tree(f)
        assert.equal(groups .. "  (5 members)", lines[1])
        assert.equal("├── alias  soft link -> /structures (group (3 members))", lines[2])
        assert.equal("├── ext  external link -> other.h5:/x (dangling)", lines[5])
      end)
    end)

    it("stops at the depth asked for, with member counts", function()
      with(groups, function(f)
        assert.same({
          "/structures  (3 members)",
          "├── ALANIN/  {1 member}",
          "├── ALANIN01/  {1 member}",
          "└── BENZEN/  {1 member}",
        }, explore.tree(f.structures, { depth = 1 }))
      end)
    end)

    it("folds groups wider than fold", function()
      local path = helper.tmpfile()
      local f = h5.open(path, "w")
      local g = f:create_group("wide")
      for i = 1, 12 do g:create_group(string.format("m%02d", i)) end
      f:create_group("narrow/a")
      assert.same({
        path .. "  (2 members)",
        "├── narrow/",
        "│   └── a/",
        "└── wide/  {12 members}",
      }, explore.tree(f, { fold = 10 }))
      local lines = explore.tree(f.wide, { fold = 10 })
      assert.equal(12, #lines)
      assert.equal("└── ... 2 more (12 members)", lines[12])
      assert.equal(13, #explore.tree(f.wide, { fold = 10, all = true }))
      f:close()
    end)

    it("ends on a hard-link cycle", function()
      local path = helper.tmpfile()
      local f = h5.open(path, "w")
      f:create_group("a/b")
      f:link("/a", "a/b/up") -- /a/b/up is /a again
      local lines = explore.tree(f, { max_depth = 8 })
      assert.equal(1 + 8, #lines)
      lines = explore.tree(f, { max_entries = 5 })
      assert.equal(7, #lines)
      assert.equal("... stopped after 5 lines (--depth, --fold or --all)", lines[7])
      f:close()
    end)
  end)

  describe(".show()", function()
    it("shows a group's members and attributes", function()
      with(groups, function(f)
        assert.same({
          '<group "/structures" (3 members)>',
          "  path         /structures",
          "  members      3",
          "  attributes   1",
          "    count = 3",
        }, explore.show(f.structures))
      end)
    end)

    it("shows a file's name, mode and size", function()
      with(groups, function(f)
        local lines = explore.show(f)
        assert.equal("  file         " .. groups, lines[2])
        assert.equal("  mode         r", lines[3])
        assert.equal(string.format("  size         %s (%d bytes)",
          require("h5lua.pretty").bytes(f.size), f.size), lines[4])
        assert.equal('    title = "groups"', lines[#lines])
      end)
    end)

    it_data("shows a dataset's layout, filters, sizes and ratio", function()
      with(data, function(f)
        local lines = explore.show(f.z)
        assert.same({
          '<dataset "/z": shape {10}, int32, shuffle, gzip 6>',
          "  path         /z",
          "  dtype        int32",
          "  shape        {10}",
          "  maxshape     {10}",
          "  elements     10",
          "  layout       chunked {5}",
          "  filters      shuffle, gzip 6",
          "  fill value   0",
          "  data size    40 B (40 bytes)",
        }, { table.unpack(lines, 1, 10) })
        assert.truthy(lines[11]:match("^  stored       %d+ B %(%d+ bytes%), ratio %d%.%d%d$"),
          lines[11])
        assert.equal("  attributes   0", lines[12])
        assert.equal('    units = "m"', explore.show(f.x)[#explore.show(f.x)])
      end)
    end)
  end)

  describe(".find()", function()
    it("returns the absolute paths matching a Lua pattern", function()
      with(groups, function(f)
        assert.same({ "/structures/ALANIN", "/structures/ALANIN01" },
          explore.find(f, "ALANIN%d*$"))
        assert.same({ "/structures/BENZEN/cell" }, explore.find(f.structures, "BENZEN/"))
        assert.same({}, explore.find(f, "xyz"))
      end)
    end)

    it("rejects a malformed pattern with a clear message", function()
      with(groups, function(f)
        assert.has_error(function() explore.find(f, "[a") end,
          "find: bad pattern '[a': malformed pattern (missing ']')")
      end)
    end)
  end)

  describe(".json", function()
    it("encodes values exactly, arrays and objects sorted", function()
      local j = explore.json.encode
      assert.equal('{"a": [1, 2.5, true], "b": "x\\"y\\n"}',
        j({ b = 'x"y\n', a = { 1, 2.5, true } }))
      assert.equal("0.1", j(0.1))
      assert.equal('["NaN", "Infinity", "-Infinity"]', j({ 0 / 0, math.huge, -math.huge }))
      assert.equal("[]", j({}))
      assert.equal('"\\u00e9"', j("\233")) -- not UTF-8: kept as Latin-1
      assert.equal('"é"', j("é"))
    end)
  end)

  describe(".dump_value()", function()
    it("describes a group tree with attributes and links", function()
      with(groups, function(f)
        local v = explore.dump_value(f)
        assert.equal("file", v.kind)
        assert.same({ title = "groups" }, v.attributes)
        assert.same({ link = "soft", target = "/structures" }, v.members.alias)
        assert.same({ link = "soft", target = "/nowhere", dangling = true }, v.members.broken)
        assert.same({ link = "external", target = "/x", file = "other.h5", dangling = true },
          v.members.ext)
        assert.same({ path = "/structures/BENZEN/cell", kind = "group", members = {} },
          v.members.structures.members.BENZEN.members.cell)
      end)
    end)

    it_data("includes data, truncated beyond the limit unless all", function()
      with(data, function(f)
        local v = explore.dump_value(f.z, { limit = 4 })
        assert.same({ 0, 1, 2, 3 }, v.data)
        assert.is_true(v.truncated)
        assert.same({ 10 }, v.shape)
        v = explore.dump_value(f.z, { limit = 4, all = true })
        assert.equal(10, #v.data)
        assert.is_nil(v.truncated)
        assert.equal("hello", explore.dump_value(f.s).data)
        assert.equal('{"data": [1.0, "NaN", "Infinity"], "dtype": "float64", "kind": "dataset", '
          .. '"path": "/nan", "shape": [3]}', explore.json.encode(explore.dump_value(f.nan)))
      end)
    end)
  end)

  describe(".stats()", function()
    it("counts objects and links by kind", function()
      with(groups, function(f)
        local st = explore.stats(f)
        assert.same({ group = 9, dataset = 0, datatype = 0 }, st.kinds)
        assert.same({ hard = 8, soft = 2, external = 1, user = 0 }, st.links)
        assert.equal(f.size, st.file_size)
      end)
    end)

    it_data("counts datasets by dtype, filter and layout, and sums their bytes", function()
      with(data, function(f)
        local st = explore.stats(f)
        assert.equal(6, st.kinds.dataset)
        assert.equal(3, st.dtypes.float64)
        assert.equal(1, st.filters.gzip)
        assert.equal(1, st.layouts.chunked)
        local sum = 0
        for _, name in ipairs { "x", "z", "s", "nan", "g/y", "big" } do
          sum = sum + f:get(name).nbytes
        end
        assert.equal(sum, st.nbytes)
        assert.equal("/x", st.largest[1].path)
        local text = table.concat(explore.stats_lines(st), "\n")
        assert.truthy(text:find("\n  datasets     6\n", 1, true), text)
      end)
    end)
  end)

  describe(".diff()", function()
    it("finds nothing between a file and itself", function()
      with(groups, function(a)
        with(groups, function(b)
          assert.same({ {}, 0 }, { explore.diff(a, b) })
        end)
      end)
    end)

    it("reports structure, link and attribute differences", function()
      local other = helper.tmpfile()
      make_groups(other)
      local f = h5.open(other, "r+")
      f.structures.attrs.count = 4
      f.structures:delete("BENZEN")
      f:create_group("extra")
      f:delete("alias")
      f:soft_link("/empty", "alias")
      f:close()
      with(groups, function(a)
        with(other, function(b)
          local lines, n = explore.diff(a, b)
          assert.same({
            "only in A: /structures/BENZEN (group)",
            "only in A: /structures/BENZEN/cell (group)",
            "only in B: /extra (group)",
            "/alias: soft link to /structures in A, soft link to /empty in B",
            "/structures: attribute 'count': 3 in A, 4 in B",
          }, lines)
          assert.equal(5, n)
        end)
      end)
    end)

    it_data("compares values, within delta when given", function()
      local other = helper.tmpfile()
      local r = helper.python_run(string.format([[
import h5py, numpy as np
import shutil
shutil.copy(%q, %q)
with h5py.File(%q, "r+") as f:
    x = f["x"][...]
    x[5, 1] += 0.25
    x[7, 2] += 0.5
    f["x"][...] = x
    f["z"][3] = 100
]], data, other, other))
      assert.equal(0, r.code, r.stderr)
      with(data, function(a)
        with(other, function(b)
          local lines, n = explore.diff(a, b)
          assert.same({
            "/x: 2 of 300 values differ (largest difference 0.5)",
            "  /x[6, 2] 16.0 in A, 16.25 in B",
            "  /x[8, 3] 23.0 in A, 23.5 in B",
            "/z: 1 of 10 values differ (largest difference 97)",
            "  /z[4] 3 in A, 100 in B",
          }, lines)
          assert.equal(2, n)
          lines, n = explore.diff(a, b, { delta = 0.3 })
          assert.equal("/x: 1 of 300 values differ (largest difference 0.5)", lines[1])
          assert.equal(2, n)
        end)
      end)
    end)
  end)

  describe("on a group of 10^5 members", function()
    local wide
    setup(function()
      wide = helper.tmpfile("wide.h5")
      local f = h5.open(wide, "w", { libver = "latest" })
      f:create_group("target")
      local g = f:create_group("structures")
      for i = 1, WIDE do g:link("/target", string.format("R%06d", i)) end
      f:close()
    end)

    it("lists the first members and counts the rest", function()
      with(wide, function(f)
        local lines = explore.ls(f.structures, { limit = 50 })
        assert.equal(51, #lines)
        assert.equal("R000001/  group (0 members)", lines[1])
        assert.equal(string.format("... %d more (%d members)", WIDE - 50, WIDE), lines[51])
      end)
    end)

    it("folds in a tree", function()
      with(wide, function(f)
        local lines = explore.tree(f)
        assert.same({ wide .. "  (2 members)", "├── structures/  {" .. WIDE .. " members}",
          "└── target/" }, lines)
      end)
    end)

    it("previews in a bounded number of lines", function()
      with(wide, function(f)
        local text = explore.preview(f.structures, {})
        local _, n = text:gsub("\n", "")
        assert.equal(21, n)
        local last = string.format("\n  ... %d more (%d members)", WIDE - 20, WIDE)
        assert.equal(last, text:sub(-#last))
      end)
    end)

    it("counts objects within a budget", function()
      with(wide, function(f)
        local n, more = explore.quick_count(f, 1000)
        assert.is_true(more)
        assert.is_true(n > 1000)
      end)
    end)
  end)
end)
