--- A custom batch writer: import only the structures that contain a given
-- element.
--
--   build/h5lua scripts/examples/filtered_writer.lua STORE ELEMENT INPUT...
--   build/h5lua scripts/examples/filtered_writer.lua build/oxides.h5 O scripts/examples/samples
--
-- The store's batch writer, s:write_many, takes any iterator of
-- (refcode, json). This one reads the inputs with h5lua.import (CIF, JSON,
-- JSON Lines, directories) and yields only the records that pass `keep`:
-- change `keep` to filter on anything in the record.
local import = require "h5lua.import"
local store = require "h5lua.store"
local cjson = require "cjson"

local path, element = arg[1], arg[2]
local inputs = table.move(arg, 3, #arg, 1, {})
if not path or not element or #inputs == 0 then
  io.stderr:write("usage: h5lua filtered_writer.lua STORE ELEMENT INPUT...\n")
  os.exit(2)
end

-- The filter: does the record have an atom of the element?
local function keep(record)
  for _, atom in ipairs(record.atoms or {}) do
    if atom.symbol == element then return true end
  end
  return false
end

-- The source: (refcode, json) pairs of the records kept, file after file.
local seen = 0
local function matching()
  return coroutine.wrap(function()
    for reading in import.readings((import.inputs(inputs))) do
      for _, failure in ipairs(reading.failures) do
        io.stderr:write("not read: ", failure, "\n")
      end
      for _, item in ipairs(reading.items) do
        seen = seen + 1
        if keep(cjson.decode(item.json)) then coroutine.yield(item.refcode, item.json) end
      end
    end
  end)
end

local s = store.open(path)
local result = s:write_many(matching(), { on_error = "collect" })
s:close()
print(string.format("wrote %d of %d structures containing %s to %s", result.written, seen,
  element, path))
