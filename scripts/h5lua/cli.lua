--- h5lua's subcommand runner (LuaRocks' shape): one file per command in
-- h5lua/commands/, each returning
--   { description = "one line", setup = function(parser) ... end,
--     run = function(args) return true | nil, message[, exit_code] end }
-- A returned failure prints "h5lua: message" and exits with its code (1 by
-- default); a raised error prints one line (the traceback with --traceback)
-- and exits 2; usage errors exit 2.
local argparse = require "argparse"

local cli = {}

local EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

local function host()
  local ok, h = pcall(require, "h5lua.host")
  return ok and h or { traceback = false, scripts_dir = "scripts", user_dirs = {} }
end

local function errline(msg)
  io.stderr:write("h5lua: ", tostring(msg), "\n")
  io.stderr:flush()
end

--- Names of the available commands, sorted.
function cli.commands()
  local names, seen = {}, {}
  for template in package.path:gmatch("[^;]+") do
    local dir = template:match("^(.*)/%?%.lua$")
    if dir then
      local p = io.popen('ls "' .. dir .. '/h5lua/commands" 2>/dev/null')
      if p then
        for file in p:lines() do
          local name = file:match("^([%w_%-]+)%.lua$")
          if name and not seen[name] then
            seen[name] = true
            names[#names + 1] = name
          end
        end
        p:close()
      end
    end
  end
  table.sort(names)
  return names
end

--- Load a command module, or nil and a message.
function cli.load(name)
  local modname = "h5lua.commands." .. name:gsub("%-", "_")
  if not package.searchpath(modname, package.path) then
    return nil, string.format("unknown command '%s' (run 'h5lua help' for the list)", name)
  end
  return require(modname)
end

-- argparse's pparse turns any non-parse error into a string: mark ours.
local HELP_SHOWN = "h5lua-help-shown"

--- Build the argparse parser of a command.
function cli.parser(name, command)
  local parser = argparse("h5lua " .. name, command.description)
  parser:add_help({ action = function()
    io.stdout:write(parser:get_help(), "\n")
    error(HELP_SHOWN, 0)
  end })
  parser:flag("--traceback", "Show the Lua traceback of errors.")
  if command.setup then command.setup(parser) end
  return parser
end

--- Run command `name` with the argument list; returns the exit code.
function cli.main(name, ...)
  local argv = { ... }
  local command, err = cli.load(name)
  if not command then
    errline(err)
    return EXIT_USAGE
  end
  local parser = cli.parser(name, command)
  local ok, parsed_ok, parsed = pcall(parser.pparse, parser, argv)
  if not ok then
    if tostring(parsed_ok):find(HELP_SHOWN, 1, true) == 1 then return EXIT_OK end
    error(parsed_ok, 0)
  end
  if not parsed_ok then
    io.stderr:write(parser:get_usage(), "\n")
    errline(parsed)
    return EXIT_USAGE
  end
  local traceback = host().traceback or parsed.traceback
  local handler = function(e)
    if traceback then return debug.traceback(tostring(e), 2) end
    return e
  end
  local results = table.pack(xpcall(command.run, handler, parsed))
  if not results[1] then
    errline(results[2])
    return EXIT_USAGE
  end
  if results[2] == nil or results[2] == false then
    if results[3] then errline(results[3]) end
    return math.tointeger(results[4]) or EXIT_PROBLEMS
  end
  return math.tointeger(results[2]) or EXIT_OK
end

return cli
