--- h5lua show FILE PATH: every property of one object and its attributes.
local explore = require "h5lua.explore"
local pretty = require "h5lua.pretty"

return {
  description = "Show an object's properties: dtype, shape, layout, filters, sizes, attributes.",
  setup = function(parser)
    parser:argument("file", "The HDF5 file.")
    parser:argument("path", "The object (default /)."):args("?")
  end,
  run = function(args)
    return explore.with_file(args.file, args.path, function(_, obj)
      explore.show(obj, { color = pretty.color_wanted(1), emit = explore.printer() })
    end, args.traceback)
  end,
}
