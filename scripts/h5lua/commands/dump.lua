--- h5lua dump FILE PATH [--json] [--all]: data and attributes of an object
-- and of everything below it.
local explore = require "h5lua.explore"
local pretty = require "h5lua.pretty"

return {
  description = "Print the data and attributes of an object and everything below it.",
  setup = function(parser)
    parser:argument("file", "The HDF5 file.")
    parser:argument("path", "The object (default /)."):args("?")
    parser:flag("--json", "Print JSON.")
    parser:flag("--all", "Print all of the data (large datasets are truncated otherwise).")
    parser:option("--limit", "Elements shown per dataset without --all (default "
      .. explore.defaults.dump .. ")."):argname("<N>"):convert(function(s)
        local n = math.tointeger(tonumber(s))
        if not n or n < 1 then return nil, "--limit must be a positive integer" end
        return n
      end)
  end,
  run = function(args)
    return explore.with_file(args.file, args.path, function(_, obj)
      explore.dump(obj, { json = args.json, all = args.all, limit = args.limit,
        color = not args.json and pretty.color_wanted(1), emit = explore.printer() })
    end, args.traceback)
  end,
}
