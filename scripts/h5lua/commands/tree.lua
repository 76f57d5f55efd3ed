--- h5lua tree FILE [PATH] [--depth N]: the tree of groups and datasets.
local explore = require "h5lua.explore"
local pretty = require "h5lua.pretty"

local function count(name)
  return function(s)
    local n = math.tointeger(tonumber(s))
    if not n or n < 0 then return nil, name .. " must be a non-negative integer" end
    return n
  end
end

return {
  description = "Draw the tree below a group; groups wider than --fold members fold.",
  setup = function(parser)
    parser:argument("file", "The HDF5 file.")
    parser:argument("path", "The group to start from (default /)."):args("?")
    parser:option("--depth", "Show at most N levels."):argname("<N>"):convert(count("--depth"))
    parser:option("--fold", "Fold groups with more than N members (default "
      .. explore.defaults.fold .. ")."):argname("<N>"):convert(count("--fold"))
  end,
  run = function(args)
    return explore.with_file(args.file, args.path, function(_, obj)
      explore.tree(obj, { depth = args.depth, fold = args.fold, color = pretty.color_wanted(1),
        emit = explore.printer() })
    end, args.traceback)
  end,
}
