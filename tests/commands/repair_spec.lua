-- h5lua repair FILE: the printed result, backups and exit codes.

local helper = require "helper"

describe("h5lua repair #cli", function()
  if not package.searchpath("h5lua.store", package.path) then
    pending("h5lua.store has not landed yet")
    return
  end

  local h5 = require "h5"

  after_each(function()
    helper.cleanup()
  end)

  local function make_store()
    local store = require "h5lua.store"
    local path = helper.tmpfile()
    local s = store.open(path)
    s:write("AAA", '{"identifier":"AAA"}')
    s:close()
    return path
  end

  it("repairs a sound file, keeps a backup and exits with status 0", function()
    local path = make_store()
    local r = helper.h5lua({ "repair", path })
    assert.equal("", r.stderr)
    assert.equal(0, r.code)
    assert.truthy(r.stdout:find("^Repaired " .. path:gsub("%p", "%%%0") .. " %(backup: "))
    assert.truthy(r.stdout:find("\n  Lost: nothing\n", 1, true))
    assert.truthy(io.open(path .. ".backup")):close()
  end)

  it("exits with status 1 when something was lost", function()
    local path = make_store()
    local f = h5.open(path, "r+")
    f:external_link("missing.h5", "/x", "gone")
    f:close()
    local r = helper.h5lua({ "repair", path, "--no-backup" })
    assert.equal(1, r.code)
    assert.truthy(r.stdout:find("(no backup)", 1, true))
    assert.truthy(r.stdout:find("\n  Lost: 1\n    - /gone: dangling external link to "
      .. "'missing.h5:/x'\n", 1, true))
    assert.is_nil(io.open(path .. ".backup"))
  end)

  it("exits with status 1 and one line for a file it cannot read", function()
    local path = helper.tmpfile("x.h5")
    helper.write_file(path, "hello\n")
    local r = helper.h5lua({ "repair", path })
    assert.equal(1, r.code)
    assert.equal("", r.stdout)
    assert.truthy(r.stderr:find("^h5lua: cannot repair '" .. path:gsub("%p", "%%%0")
      .. "': cannot open"))
    assert.equal(1, select(2, r.stderr:gsub("\n", "")))
  end)

  -- A store of n structures and a chunked, checksummed dataset written after
  -- it (as the audit's 200-structure store, smaller). Returns the path, the
  -- size the store had before the dataset and {refcode = json}.
  local function make_cut_store(n)
    local store = require "h5lua.store"
    local path = helper.tmpfile("tr.h5")
    local s = store.open(path)
    local all = {}
    for i = 1, n do
      local r = string.format("S%03d", i)
      all[r] = string.format('{"identifier":"%s","space_group":"P 21/c","cell_lengths":[5,6,7],'
        .. '"cell_angles":[90,100,90],"atoms":[{"symbol":"C","coords":[0,0,0]}],"pad":"%s"}',
        r, string.rep("y", 200))
      s:write(r, all[r])
    end
    s:close()
    local store_size = #helper.read_file(path)
    local f = h5.open(path, "r+")
    local data = {}
    for i = 1, 5000 do data[i] = i end
    f:create_dataset("x", { data = h5.array.from(data, "int64"), chunks = { 500 },
      fletcher32 = true }):close()
    f:close()
    return path, store_size, all
  end


  -- libhdf5 1.10 freed a half-built link table and died on most of these
  -- cuts ("segmentation fault ... while listing a group"), leaving its
  -- .repair-* files behind.
  it("survives a store cut anywhere, keeps what lies before the cut and leaves no scratch",
    function()
    local path, store_size, all = make_cut_store(60)
    local whole = helper.read_file(path)
    local dir = path:match("^(.*)/[^/]*$")
    local store = require "h5lua.store"
    local cuts = {}
    for i = 1, 12 do cuts[i] = math.floor(#whole * i / 13) end
    cuts[#cuts + 1] = store_size + 8  -- just into the trailing dataset
    for _, cut in ipairs(cuts) do
      local cut_bytes = whole:sub(1, cut)
      helper.write_file(path, cut_bytes)
      local r = helper.h5lua({ "repair", path })
      local where = string.format("cut at %d of %d: %s", cut, #whole, r.stderr)
      assert.is_true(r.code == 0 or r.code == 1, where)
      assert.is_nil(r.stderr:find("fatal", 1, true), where)
      assert.equal(cut_bytes, helper.read_file(path .. ".backup"), where)  -- original kept as is
      local names = helper.ls(dir)
      assert.same({ "tr.h5", "tr.h5.backup" }, names, where)
      -- What a cut must keep: every structure whose JSON text lies whole
      -- before it (through its group, or, when the cut took /structures'
      -- link index, from the global heap's bytes), byte for byte, and no
      -- other; after the store's own bytes, all of them.
      local s = store.open(path, { mode = "r" })
      local kept = {}
      for refcode, raw in s:each() do kept[refcode] = raw end
      s:close()
      local n = 0
      for refcode, text in pairs(all) do
        local at = whole:find(text, 1, true)
        if at + #text - 1 <= cut then
          n = n + 1
          assert.equal(text, kept[refcode], where .. refcode)
        end
      end
      for refcode, raw in pairs(kept) do assert.equal(all[refcode], raw, where) end
      if cut >= store_size then assert.equal(60, n, where) end
      if n < 60 then assert.truthy(r.stdout:find("\n  Lost: %d"), where) end
      os.remove(path .. ".backup")
    end
  end)

  it("removes the scratch files an earlier run that died left behind", function()
    local path = make_store()
    for _, suffix in ipairs({ ".repair-src0", ".repair-src1", ".repair-tmp" }) do
      helper.write_file(path .. suffix, "left by a run that died")
    end
    local r = helper.h5lua({ "repair", path, "--no-backup" })
    assert.equal(0, r.code)
    assert.same({ path:match("[^/]*$") }, helper.ls(path:match("^(.*)/[^/]*$")))
  end)

  it("shows its help", function()
    local r = helper.h5lua({ "repair", "--help" })
    assert.equal(0, r.code)
    assert.truthy(r.stdout:find("--no-backup", 1, true))
  end)
end)
