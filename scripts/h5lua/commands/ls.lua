--- h5lua ls FILE[:PATH] [-r]: the members of a group, one per line.
local explore = require "h5lua.explore"
local pretty = require "h5lua.pretty"

return {
  description = "List the members of a group (FILE[:PATH]); -r lists every object below it.",
  setup = function(parser)
    parser:argument("target", "The file, optionally followed by :PATH inside it.")
      :argname("<FILE[:PATH]>")
    parser:flag("-r --recursive", "List every object below the group (each once, as h5py's visit).")
  end,
  run = function(args)
    local file, path = explore.split_target(args.target)
    return explore.with_file(file, path, function(_, obj)
      explore.ls(obj, { recursive = args.recursive, color = pretty.color_wanted(1),
        emit = explore.printer() })
    end, args.traceback)
  end,
}
