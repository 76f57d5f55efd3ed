-- make bench: runs every tests/bench/*_bench.lua (or those named on the
-- command line) inside this h5lua, one after the other.  Each bench compares
-- h5lua with h5py and with plain C in the same run and prints ratios.
local root = arg[0]:match("^(.*)/tests/bench/run%.lua$") or "."
package.path = root .. "/tests/?.lua;" .. root .. "/tests/bench/?.lua;" .. package.path

local names = {}
if #arg > 0 then
  for i = 1, #arg do names[#names + 1] = arg[i] end
else
  local p = io.popen("ls " .. root .. "/tests/bench/*_bench.lua 2>/dev/null")
  for line in p:lines() do names[#names + 1] = line end
  p:close()
end

local failed = 0
for _, path in ipairs(names) do
  io.write(("\n=== %s\n"):format(path:match("[^/]+$")))
  io.flush()
  local ok, err = pcall(dofile, path)
  if not ok then
    failed = failed + 1
    io.stderr:write("bench failed: ", tostring(err), "\n")
  end
end
os.exit(failed == 0 and 0 or 1, true)
