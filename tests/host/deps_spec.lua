-- `make deps` against a pretend dpkg: which packages it counts as missing,
-- and that it stays silent when none is. dpkg-query, apt-get and sudo are
-- stand-ins on PATH that log their calls, so nothing is installed.
local helper = require "helper"

local HAS_MAKE = helper.sh("command -v make").code == 0

-- Run `make deps` where dpkg-query answers status[pkg] (a missing key: a
-- package dpkg never heard of). Returns the result and the apt-get calls.
local function make_deps(status)
  local dir = helper.tmpdir()
  local lines = {}
  for pkg, st in pairs(status) do lines[#lines + 1] = pkg .. "\t" .. st end
  helper.write_file(dir .. "/status", table.concat(lines, "\n") .. "\n")
  helper.write_file(dir .. "/dpkg-query", string.format([[#!/bin/sh
# dpkg-query -W -f='${Status}' PKG
for pkg; do :; done
st=$(awk -F '\t' -v p="$pkg" '$1 == p { print $2 }' %s)
[ -n "$st" ] || { echo "dpkg-query: no packages found matching $pkg" >&2; exit 1; }
printf '%%s' "$st"
]], helper.quote(dir .. "/status")))
  helper.write_file(dir .. "/apt-get", string.format("#!/bin/sh\necho \"$*\" >> %s\n",
    helper.quote(dir .. "/apt.log")))
  helper.write_file(dir .. "/sudo", "#!/bin/sh\nexec \"$@\"\n")
  helper.sh("chmod +x " .. table.concat({ "dpkg-query", "apt-get", "sudo" }, " "), { cwd = dir })
  local r = helper.sh("make -s deps", { env = { PATH = dir .. ":" .. os.getenv("PATH") } })
  local log = io.open(dir .. "/apt.log")
  local calls = log and log:read("a") or ""
  if log then log:close() end
  return r, calls
end

-- The Makefile's package list, read from the Makefile itself.
local function deb_packages()
  local text = helper.read_file(helper.root .. "/Makefile")
  local list = text:match("\nDEB_PACKAGES%s*=%s*(.-[^\\])\n")
  local pkgs = {}
  for p in list:gsub("\\\n", " "):gmatch("%S+") do pkgs[#pkgs + 1] = p end
  return pkgs
end

describe("make deps #build", function()
  teardown(helper.cleanup)
  local it_make = HAS_MAKE and it or pending

  it_make("does nothing, silently, when every package is installed", function()
    local status = {}
    for _, p in ipairs(deb_packages()) do status[p] = "install ok installed" end
    local r, calls = make_deps(status)
    assert.equal(0, r.code, r.stderr)
    assert.equal("", r.stdout)
    assert.equal("", r.stderr)
    assert.equal("", calls)
  end)

  it_make("installs a package removed but not purged, or never installed", function()
    local pkgs = deb_packages()
    local status = {}
    for _, p in ipairs(pkgs) do status[p] = "install ok installed" end
    status[pkgs[2]] = "deinstall ok config-files"  -- `dpkg -s` exits 0 for this one
    status[pkgs[3]] = nil
    local r, calls = make_deps(status)
    assert.equal(0, r.code, r.stderr)
    local wanted = " " .. pkgs[2] .. " " .. pkgs[3]
    assert.equal("installing:" .. wanted .. "\ninstalled:" .. wanted .. "\n", r.stdout)
    assert.equal("update -qq\ninstall -y -qq" .. wanted .. "\n", calls)
  end)
end)
