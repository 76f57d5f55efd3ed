--- h5lua stats FILE: counts, types, filters and space of a file.
local explore = require "h5lua.explore"
local pretty = require "h5lua.pretty"

return {
  description = "Count objects by kind, dtype and filter; total, stored and unaccounted bytes.",
  setup = function(parser)
    parser:argument("file", "The HDF5 file.")
    parser:argument("path", "Only the objects below this group (default /)."):args("?")
  end,
  run = function(args)
    return explore.with_file(args.file, args.path, function(_, obj)
      local st = explore.stats(obj)
      explore.stats_lines(st, { color = pretty.color_wanted(1), emit = explore.printer() })
    end, args.traceback)
  end,
}
