--- h5lua repair FILE: salvage what is readable from a damaged file.
local repair = require "h5lua.repair"

return {
  description = "Copy everything readable into a new file that replaces the original.",
  setup = function(parser)
    parser:argument("file", "The damaged HDF5 file.")
    parser:flag("--no-backup", "Do not keep the original as <name>.h5.backup.")
  end,
  run = function(args)
    local result = repair.file(args.file, { backup = not args.no_backup })
    if not result.ok then return nil, result.message, 1 end
    io.write(repair.format(result))
    return repair.lost_anything(result) and 1 or 0
  end,
}
