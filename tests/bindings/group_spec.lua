local h5 = require "h5"
local helper = require "helper"

describe("h5.Group", function()
  local f
  before_each(function() f = h5.open(helper.tmpfile(), "w") end)
  after_each(function()
    f:close()
    helper.assert_no_open_ids()
  end)
  teardown(helper.cleanup)

  describe(":create_group()", function()
    it("creates a group and its missing parents", function()
      local g = f:create_group("a/b/c")
      assert.equal("/a/b/c", g.name)
      assert.equal("group", g.kind)
      assert.is_true(f:exists("a/b"))
    end)

    it("fails when the name exists", function()
      f:create_group("a")
      assert.has_error(function() f:create_group("a") end,
        "h5: cannot create group '/a': name already exists")
      local a = f.a
      a:create_group("b")
      assert.has_error(function() a:create_group("b") end,
        "h5: cannot create group '/a/b': name already exists")
    end)

    it("names the parent that is not a group", function()
      f:create_dataset("d", 1)
      assert.has_error(function() f:create_group("d/x/y") end,
        "h5: cannot create group '/d/x/y': '/d' is a dataset, not a group")
    end)

    it("rejects empty names and wrong types", function()
      assert.has_error(function() f:create_group("") end,
        "bad argument #1 to 'create_group' (empty path)")
      assert.has_error(function() f:create_group({}) end,
        "bad argument #1 to 'create_group' (string expected, got table)")
      assert.has_error(function() f.create_group({}, "x") end,
        "bad argument #1 to 'create_group' (h5.Group or h5.File expected, got table)")
    end)

    it("keeps names with spaces, dots and non-ASCII letters", function()
      for _, name in ipairs { "P 21 21 21", "a.b", "Grüße", "x-y_z" } do
        f:create_group(name)
      end
      assert.same({ "Grüße", "P 21 21 21", "a.b", "x-y_z" }, f:keys())
    end)
  end)

  describe(":require_group()", function()
    it("returns an existing group", function()
      f:create_group("a").attrs.mark = 1
      assert.equal(1, f:require_group("a").attrs.mark)
    end)

    it("creates a missing group with its parents", function()
      assert.equal("/x/y", f:require_group("x/y").name)
    end)

    it("follows a link to a group, naming the group by that link as h5py does", function()
      f:soft_link("/a", "b")
      f:create_group("a")
      assert.equal("/b", f:require_group("b").name)
    end)

    it("fails when a dangling link holds the name", function()
      f:soft_link("/nowhere", "d")
      assert.has_error(function() f:require_group("d") end,
        "h5: cannot create group '/d': name already exists")
    end)
  end)

  describe("lookup", function()
    it("finds children by field, by path and with :get()", function()
      f:create_group("structures/ALANIN")
      assert.equal("/structures/ALANIN", f.structures.ALANIN.name)
      assert.equal("/structures/ALANIN", f["structures/ALANIN"].name)
      assert.equal("/structures/ALANIN", f:get("/structures/ALANIN").name)
      assert.equal("/structures/ALANIN", f.structures:get("ALANIN").name)
    end)

    it("lets methods and properties win over children", function()
      f:create_group("keys")
      f:create_group("name")
      assert.is_function(f.keys)
      assert.equal("/", f.name)
      assert.equal("/keys", f:get("keys").name)
    end)

    it("returns nil for missing children and missing parents", function()
      assert.is_nil(f.nothing)
      assert.is_nil(f["a/b/c"])
      assert.same({ nil, "no such object" }, { f:get("a/b/c") })
    end)

    it("returns nil and a reason for a dangling soft link", function()
      f:soft_link("/nowhere", "dangling")
      assert.same({ nil, "dangling soft link to '/nowhere'" }, { f:get("dangling") })
      assert.is_nil(f.dangling)
    end)

    it("answers :exists() without raising", function()
      f:create_group("a")
      assert.is_true(f:exists("a"))
      assert.is_true(f:exists("/a"))
      assert.is_true(f:exists("/"))
      assert.is_false(f:exists("b"))
      assert.is_false(f:exists("b/c/d"))
    end)
  end)

  describe("listing", function()
    it("lists keys sorted by name", function()
      for _, n in ipairs { "c", "a", "b" } do f:create_group(n) end
      assert.same({ "a", "b", "c" }, f:keys())
      assert.equal(3, #f)
      assert.equal(0, #f.a)
    end)

    it("iterates items in name order with their objects", function()
      f:create_group("b")
      f:create_group("a")
      f:soft_link("/none", "z")
      local seen = {}
      for name, obj in f:items() do
        seen[#seen + 1] = name .. "=" .. (obj and obj.name or "nil")
      end
      assert.same({ "a=/a", "b=/b", "z=nil" }, seen)
    end)

    it("has a one-line tostring", function()
      local g = f:create_group("g")
      g:create_group("x")
      assert.equal('<h5.Group "/g" (1 members)>', tostring(g))
    end)

    it("handles a group with many members", function()
      local g = f:create_group("many")
      for i = 1, 2000 do g:create_group(string.format("S%05d", i)) end
      local keys = g:keys()
      assert.equal(2000, #keys)
      assert.equal("S00001", keys[1])
      assert.equal("S02000", keys[2000])
    end)
  end)

  describe(":delete() and :move()", function()
    it("deletes a member", function()
      f:create_group("a/b")
      f:delete("a/b")
      assert.same({}, f.a:keys())
    end)

    it("leaves a group deleted while open without a name, as h5py does", function()
      local g = f:create_group("g1")
      local child = f:create_group("g1/c")
      f:create_group("g2")
      f:delete("g1")
      assert.is_nil(g.name)
      assert.is_nil(child.name)
      assert.equal("<h5.Group (anonymous) (1 members)>", tostring(g))
      assert.equal(1, #g)  -- still usable until closed
      assert.equal("/g2", f.g2.name)
      assert.equal("/", f.name)
    end)

    it("fails to delete what is not there", function()
      assert.has_error(function() f:delete("zz") end,
        "h5: cannot delete '/zz': no such object")
    end)

    it("moves a member, creating the destination's parents", function()
      f:create_group("a").attrs.v = 7
      f:move("a", "x/y/a2")
      assert.is_false(f:exists("a"))
      assert.equal(7, f["x/y/a2"].attrs.v)
    end)

    it("refuses to move onto an existing name or from a missing one", function()
      f:create_group("a")
      f:create_group("b")
      assert.has_error(function() f:move("a", "b") end,
        "h5: cannot move '/a' to '/b': destination exists")
      assert.has_error(function() f:move("q", "r") end,
        "h5: cannot move '/q': no such object")
    end)
  end)

  describe(":visit()", function()
    it("calls back with the path and object of every object below", function()
      f:create_group("a/b")
      f:create_group("c")
      local seen = {}
      assert.is_nil(f:visit(function(path, obj)
        seen[#seen + 1] = path .. ":" .. obj.kind
      end))
      assert.same({ "a:group", "a/b:group", "c:group" }, seen)
    end)

    it("stops at the first non-nil result and returns it", function()
      f:create_group("a")
      f:create_group("b")
      assert.equal("a", f:visit(function(path) return path end))
    end)

    it("visits an object reached by two hard links once", function()
      f:create_group("a")
      f:link("/a", "b")
      local n = 0
      f:visit(function() n = n + 1 end)
      assert.equal(1, n)
    end)

    it("lets errors of the callback through, leaking nothing", function()
      f:create_group("a")
      assert.has_error(function() f:visit(function() error("stop here", 0) end) end,
        "stop here")
    end)
  end)

  describe("links", function()
    it("makes hard, soft and external links and describes them", function()
      f:create_group("target")
      f:link("/target", "hard")
      f:soft_link("/target", "soft")
      f:external_link("other.h5", "/x", "ext")
      assert.same({ kind = "hard", dangling = false }, f:link_info("hard"))
      assert.same({ kind = "soft", target = "/target", dangling = false }, f:link_info("soft"))
      assert.same({ kind = "external", file = "other.h5", target = "/x", dangling = true },
        f:link_info("ext"))
      assert.same({ nil, "no such link" }, { f:link_info("none") })
      assert.equal("/hard", f.hard.name)
    end)

    it("lists dangling links but opens them as nil", function()
      f:external_link("missing.h5", "/x", "ext")
      assert.same({ "ext" }, f:keys())
      local obj, why = f:get("ext")
      assert.is_nil(obj)
      assert.equal("dangling link (its target does not exist or cannot be opened)", why)
    end)

    it("follows an external link into another file", function()
      local other_path = helper.tmpfile("other.h5")
      local other = h5.open(other_path, "w")
      other:create_group("inside").attrs.v = 42
      other:close()
      f:external_link(other_path, "/inside", "ext")
      assert.equal(42, f.ext.attrs.v)
    end)

    it("refuses a hard link to nothing and duplicate names", function()
      assert.has_error(function() f:link("/none", "x") end,
        "h5: cannot link '/x' to '/none': no such object")
      f:create_group("a")
      assert.has_error(function() f:soft_link("/q", "a") end,
        "h5: cannot create link '/a': name already exists")
    end)
  end)

  describe(":copy()", function()
    it("copies a group with its members and attributes within a file", function()
      local a = f:create_group("a")
      a.attrs.v = 1
      a:create_group("child")
      f:copy("a", f, "b")
      assert.equal(1, f.b.attrs.v)
      assert.same({ "child" }, f.b:keys())
    end)

    it("copies into another file, naming the copy after the source", function()
      local dst = h5.open(helper.tmpfile("dst.h5"), "w")
      f:create_group("g/h").attrs.x = "y"
      f:copy(f.g, dst)
      assert.equal("y", dst["g/h"].attrs.x)
      dst:close()
    end)

    it("copies into an existing group named by path", function()
      f:create_group("src")
      f:create_group("into")
      f:copy("src", "into")
      assert.is_true(f:exists("into/src"))
    end)

    it("refuses to overwrite", function()
      f:create_group("a")
      f:create_group("b")
      assert.has_error(function() f:copy("a", f, "b") end,
        "h5: cannot copy to 'b': name already exists")
    end)
  end)

  describe("lifetime", function()
    it("raises on use after close, never crashes", function()
      local g = f:create_group("g")
      g:close()
      assert.is_false(g:is_open())
      assert.equal("<closed h5.Group>", tostring(g))
      assert.has_error(function() g:keys() end, "h5: attempt to use a closed Group")
      assert.has_error(function() return g.attrs end, "h5: attempt to use a closed Group")
      assert.has_error(function() return #g end, "h5: attempt to use a closed Group")
      g:close()
    end)

    it("keeps its file alive while reachable", function()
      local path = helper.tmpfile()
      local g
      do
        local file = h5.open(path, "w")
        g = file:create_group("g")
      end
      collectgarbage()
      collectgarbage()
      assert.is_true(g:is_open())
      assert.equal(path, g.file.filename)
      g.file:close()
    end)

    it("is released by a to-be-closed variable", function()
      local outer
      do
        local g <close> = f:create_group("g")
        outer = g
      end
      assert.is_false(outer:is_open())
    end)
  end)
end)
