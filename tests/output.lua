-- busted output handler: busted's plain terminal output, then the plain
-- closing line "N passed, N failed[, N skipped]" that CI reads.
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
    local line = string.format("%d passed, %d failed", handler.successesCount, failed)
    if handler.pendingsCount > 0 then
      line = line .. string.format(", %d skipped", handler.pendingsCount)
    end
    io.write("\n", line, "\n")
    io.flush()
    return nil, true
  end)

  return handler
end
