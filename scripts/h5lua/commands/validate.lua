--- h5lua validate FILE: check a structure file against the validation rules.
local validate = require "h5lua.validate"

return {
  description = "Check a structure file; exit status 0 when valid, 1 when not.",
  setup = function(parser)
    parser:argument("file", "The HDF5 file (opened read-only).")
    parser:flag("--json", "Print the report as JSON.")
    parser:option("--rules", "Load more rules from a Lua FILE."):argname("<FILE>"):count("*")
    parser:option("--only", "Run only this rule (repeatable)."):argname("<RULE>"):count("*")
    parser:option("--sample", "Check only the first N structures."):argname("<N>")
      :convert(function(s)
        local n = math.tointeger(tonumber(s))
        if not n or n < 0 then return nil, "--sample must be a non-negative integer" end
        return n
      end)
  end,
  run = function(args)
    local only
    for _, path in ipairs(args.rules) do
      local list, err = validate.rules:load_file(path)
      if not list then return nil, err, 2 end
    end
    if #args.only > 0 then only = args.only end
    for _, name in ipairs(only or {}) do
      local _, err = validate.rules:get(name)
      if err then return nil, err, 2 end
    end
    local report = validate.file(args.file, { sample = args.sample, rules = only })
    if args.json then
      io.write(validate.to_json(report), "\n")
    else
      io.write(validate.format(report))
    end
    return report.is_valid and 0 or 1
  end,
}
