--- h5lua import STORE INPUT...: CIF files, directories of them, JSON and
-- JSON Lines files into a structure store. The work is `h5lua.import.run`;
-- this prints its summary and turns failures into exit code 1.
local import = require "h5lua.import"

return {
  description = "Import CIF, JSON and JSON Lines files (or directories of them) into a store.",
  setup = function(parser)
    parser:argument("store", "The store (an HDF5 file, created when missing).")
    parser:argument("inputs", "CIF, JSON or JSON Lines files, or directories (searched "
      .. "recursively)."):args("+")
    parser:option("-j --jobs", "Parse in up to N child processes (used when there is enough "
      .. "CIF text to pay off, and no more than the idle CPUs).", "1"):argname("N"):convert(function(s)
        local n = math.tointeger(tonumber(s))
        if not n or n < 1 then return nil, "--jobs must be a positive integer, got '" .. s .. "'" end
        return n
      end)
    parser:option("--on-duplicate", "What to do with a refcode already present with other "
      .. "content: replace it, skip the newcomer, or rename it REFCODE_2.", "replace")
      :choices(import.DUPLICATE_MODES)
    parser:flag("--no-progress", "No progress bar, even on a terminal.")
    parser:flag("-v --verbose", "Also list data blocks that hold no structure.")
  end,
  run = function(args)
    local progress = nil -- a bar when stderr is a terminal
    if args.no_progress then progress = false end
    local summary = import.run(args.store, args.inputs, {
      jobs = args.jobs, on_duplicate = args.on_duplicate, progress = progress,
    })
    io.write(import.summary_text(summary, { ignored = args.verbose }))
    local total = summary.total or 0
    io.write(string.format("%s: %d structure%s in %.2f s\n", args.store, total,
      total == 1 and "" or "s", summary.elapsed))
    if summary.failed > 0 then
      return nil, string.format("%d failure%s (listed above)", summary.failed,
        summary.failed == 1 and "" or "s"), 1
    end
    return true
  end,
}
