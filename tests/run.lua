-- Runs the busted suite inside h5lua, so specs exercise the real host and
-- bindings (Neovim runs its tests inside nvim the same way).
-- Usage: build/h5lua tests/run.lua [busted options] [spec files]
local root = arg[0]:match("^(.*)/tests/run%.lua$") or "."

-- Debian ships busted itself for 5.1 only; it is pure Lua and runs on 5.4,
-- with its dependencies (penlight, luassert, ...) found in the 5.4 tree first.
package.path = table.concat({
  root .. "/tests/?.lua",
  package.path,
  "/usr/share/lua/5.1/?.lua",
  "/usr/share/lua/5.1/?/init.lua",
}, ";")

local busted_args = { [0] = "busted" }
for i = 1, #arg do busted_args[#busted_args + 1] = arg[i] end
-- busted reads its command line from the global `arg`.
arg = busted_args -- luacheck: ignore

require "busted.runner" { standalone = false }
