--- h5lua rules: the validation rules known here.
local validate = require "h5lua.validate"

return {
  description = "List the validation rules (built-in and user ones).",
  setup = function(parser)
    parser:option("--rules", "Also load rules from a Lua FILE."):argname("<FILE>"):count("*")
  end,
  run = function(args)
    for _, path in ipairs(args.rules) do
      local list, err = validate.rules:load_file(path)
      if not list then return nil, err, 2 end
    end
    local list = validate.list()
    local width = 10
    for _, r in ipairs(list) do width = math.max(width, #r.name) end
    for _, r in ipairs(list) do
      local src = validate.rules:source(r.name)
      io.write(string.format("  %-" .. width .. "s  %-7s  %s%s\n", r.name, r.severity,
        r.description or "", src == "built-in" and "" or string.format(" [%s]", src)))
    end
    for _, p in ipairs(validate.rules:problems()) do
      io.stderr:write("h5lua: warning: ", p.message, "\n")
    end
    return true
  end,
}
