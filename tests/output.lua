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

  -- After every spec file: no HDF5 identifier it opened may still be open,
  -- so that no spec can forget the check (an error here fails the run,
  -- named after the file).  Counted against the file's start, so that one
  -- leak is reported once, by the spec that made it.
  local ok_h5, h5 = pcall(require, "h5")
  if ok_h5 then
    local open_at_start = 0
    local function open_ids()
      collectgarbage()
      collectgarbage()
      return h5.open_ids()
    end
    busted.subscribe({ "file", "start" }, function()
      open_at_start = open_ids()
      return nil, true
    end)
    busted.subscribe({ "file", "end" }, function(file)
      local n, by_kind = open_ids()
      if n > open_at_start then
        error(string.format("%s left %d HDF5 identifiers open (now open: files %d, groups %d, "
          .. "datasets %d, datatypes %d, attributes %d)", file.name, n - open_at_start,
          by_kind.file, by_kind.group, by_kind.dataset, by_kind.datatype, by_kind.attribute), 0)
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
