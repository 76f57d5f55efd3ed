-- busted output handler: busted's plain terminal output, then the plain
-- closing line "N passed, N failed" that CI reads (skipped tests, when any,
-- are counted on the line before it: CI wants the last line plain).
return function(options)
  local busted = require "busted"
  local handler = require "busted.outputHandlers.plainTerminal"(options)

  -- H5LUA_TEST_TRACE=FILE: the test now running is written there, so that a
  -- pass stopped by its time limit can say which test hung.
  local trace = os.getenv("H5LUA_TEST_TRACE")
  if trace then
    busted.subscribe({ "test", "start" }, function(element)
      local f = io.open(trace, "w")
      if f then
        f:write(element.trace and element.trace.short_src or "?", ":",
          tostring(element.trace and element.trace.currentline or "?"), ": ",
          handler.getFullName(element), "\n")
        f:close()
      end
      return nil, true
    end)
  end

  busted.subscribe({ "exit" }, function()
    local failed = handler.failuresCount + handler.errorsCount
    io.write("\n")
    if handler.pendingsCount > 0 then
      io.write(string.format("%d skipped\n", handler.pendingsCount))
    end
    io.write(string.format("%d passed, %d failed\n", handler.successesCount, failed))
    io.flush()
    return nil, true
  end)

  return handler
end
