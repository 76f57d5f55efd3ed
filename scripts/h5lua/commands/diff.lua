--- h5lua diff A B [PATH] [--delta X]: compare two files like h5diff.
local explore = require "h5lua.explore"

return {
  description = "Compare two files (structure, attributes, values); exit 1 when they differ.",
  setup = function(parser)
    parser:argument("a", "The first file."):argname("<A>")
    parser:argument("b", "The second file."):argname("<B>")
    parser:argument("path", "Compare only this object of both files (default /)."):args("?")
    parser:option("--delta", "Numbers closer than X count as equal."):argname("<X>")
      :convert(function(s)
        local x = tonumber(s)
        if not x or x < 0 then return nil, "--delta must be a non-negative number" end
        return x
      end)
    parser:flag("-q --quiet", "Print nothing; only the exit status tells.")
  end,
  run = function(args)
    local fb, err = explore.open(args.b, "r")
    if not fb then return nil, err, 1 end
    local objb, why = fb, nil
    if args.path and args.path ~= "" and args.path ~= "/" then
      objb, why = explore.resolve(fb, args.path)
    end
    local count = 0
    local ok, msg, code = explore.with_file(args.a, args.path, function(_, obja)
      if not objb then error(string.format("%s: %s", args.b, why), 0) end
      local emit = args.quiet and function() end or explore.printer()
      local note = function(s) io.stderr:write("h5lua: note: ", s, "\n") end
      local _, n = explore.diff(obja, objb, { delta = args.delta, emit = emit, note = note })
      count = n
    end, args.traceback)
    pcall(fb.close, fb)
    if not ok then return nil, msg, code end
    if count > 0 then
      if not args.quiet then
        io.write(string.format("%d difference%s found\n", count, count == 1 and "" or "s"))
      end
      return false, nil, 1
    end
    return true
  end,
}
