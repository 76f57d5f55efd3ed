--- h5lua schemes: the organization schemes known here.
local organize = require "h5lua.organize"

return {
  description = "List the organization schemes (built-in and user ones).",
  setup = function(parser)
    parser:option("--scheme", "Also load schemes from a Lua FILE.")
      :argname("<FILE>"):target("scheme_file"):count("*")
  end,
  run = function(args)
    for _, path in ipairs(args.scheme_file) do
      local list, err = organize.schemes:load_file(path)
      if not list then return nil, err, 2 end
    end
    local list = organize.list()
    local width = 10
    for _, s in ipairs(list) do width = math.max(width, #s.name) end
    for _, s in ipairs(list) do
      local src = organize.schemes:source(s.name)
      io.write(string.format("  %-" .. width .. "s  %s%s\n", s.name, s.description or "",
        src == "built-in" and "" or string.format(" [%s]", src)))
    end
    for _, p in ipairs(organize.schemes:problems()) do
      io.stderr:write("h5lua: warning: ", p.message, "\n")
    end
    return true
  end,
}
