--- h5lua find FILE PATTERN: the objects whose path matches a Lua pattern.
local explore = require "h5lua.explore"

return {
  description = "Print the paths of the objects whose absolute path matches a Lua pattern.",
  setup = function(parser)
    parser:argument("file", "The HDF5 file.")
    parser:argument("pattern", "A Lua pattern, e.g. '^/structures/AL' or 'raw_json$'.")
    parser:option("--path", "Search below this group only (default /)."):argname("<PATH>")
  end,
  run = function(args)
    local ok, err = pcall(string.find, "", args.pattern)
    if not ok then
      return nil, string.format("bad pattern '%s': %s", args.pattern,
        (tostring(err):gsub("^.-:%d+: ", ""))), 2
    end
    return explore.with_file(args.file, args.path, function(_, obj)
      explore.find(obj, args.pattern, { emit = explore.printer() })
    end, args.traceback)
  end,
}
