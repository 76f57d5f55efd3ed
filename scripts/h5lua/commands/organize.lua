--- h5lua organize FILE [SCHEME]: build an organization index.
local organize = require "h5lua.organize"

-- "edges=10,20,50" -> edges = {10, 20, 50}; numbers and booleans converted.
local function parse_value(v)
  if v == "true" then return true end
  if v == "false" then return false end
  if v:find(",", 1, true) then
    local list = {}
    for item in v:gmatch("[^,]+") do list[#list + 1] = parse_value(item) end
    return list
  end
  return tonumber(v) or v
end

return {
  description = "Build (or rebuild) an organization index of a structure file.",
  setup = function(parser)
    parser:argument("file", "The HDF5 file (opened for writing).")
    parser:argument("scheme", "Scheme name (see 'h5lua schemes'); optional when --scheme "
      .. "FILE defines exactly one."):args("?")
    parser:option("--scheme", "Load schemes from a Lua FILE."):argname("<FILE>")
      :target("scheme_file"):count("*")
    parser:flag("--links", "Add a soft link per member to /structures/<refcode>.")
    parser:option("--option", "Scheme option KEY=VALUE (lists: 10,20,50)."):count("*")
      :argname("<KEY=VALUE>")
    parser:flag("--strict", "Exit with status 1 when any structure was skipped.")
  end,
  run = function(args)
    local defined = {}
    for _, path in ipairs(args.scheme_file) do
      local list, err = organize.schemes:load_file(path)
      if not list then return nil, err, 2 end
      for _, s in ipairs(list) do defined[#defined + 1] = s.name end
    end
    local name = args.scheme
    if not name then
      if #defined ~= 1 then
        return nil, "name the scheme to run (see 'h5lua schemes')", 2
      end
      name = defined[1]
    end
    local scheme, err = organize.get(name)
    if not scheme then return nil, err, 2 end
    local options = {}
    for _, kv in ipairs(args.option) do
      local k, v = kv:match("^([%w_]+)=(.*)$")
      if not k then return nil, string.format("option '%s' is not KEY=VALUE", kv), 2 end
      options[k] = parse_value(v)
    end
    local summary = organize.run(args.file, scheme, { links = args.links, options = options })
    io.write(string.format("Organized %d of %d structures into %d buckets in %s\n",
      summary.placed, summary.structures, summary.buckets, summary.group))
    if #summary.skipped > 0 then
      io.write(string.format("Skipped %d structure%s:\n", #summary.skipped,
        #summary.skipped == 1 and "" or "s"))
      for _, s in ipairs(summary.skipped) do
        io.write(string.format("  %s: %s\n", s.refcode, s.reason))
      end
      if args.strict then
        return nil, string.format("%d structures skipped", #summary.skipped), 1
      end
    end
    return true
  end,
}
