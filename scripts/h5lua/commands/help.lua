--- h5lua help [COMMAND]: the list of commands, or one command's help.
local cli = require "h5lua.cli"

return {
  description = "List the commands, or show the help of one.",
  setup = function(parser)
    parser:argument("command", "A command to describe."):args("?")
  end,
  run = function(args)
    if args.command then
      local command, err = cli.load(args.command)
      if not command then return nil, err, 2 end
      io.write(cli.parser(args.command, command):get_help(), "\n")
      return true
    end
    io.write("usage: h5lua <command> [options]   (h5lua <command> --help for details)\n\n")
    for _, name in ipairs(cli.commands()) do
      local ok, command = pcall(cli.load, name)
      local what = ok and command and command.description or "(fails to load)"
      io.write(string.format("  %-10s %s\n", name, what))
    end
    io.write("\nh5lua FILE.h5 opens the REPL on a file; h5lua script.lua runs a script.\n")
    return true
  end,
}
