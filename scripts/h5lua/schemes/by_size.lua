--- by_size: buckets of atom-site counts. The option `edges` lists the
-- upper bounds of the ranges, increasing: the default {10, 25, 50, 100,
-- 250, 500, 1000} gives "0-10", "11-25", ..., "501-1000" and "1001+".
return {
  name = "by_size",
  description = "Buckets of atom counts (0-10, 11-25, ...; option edges={...}).",
  options = { edges = { 10, 25, 50, 100, 250, 500, 1000 } },
  key = function(structure, _, options)
    local atoms = structure.atoms
    if type(atoms) ~= "table" then return nil, "missing field 'atoms'" end
    local edges = options and options.edges or { 10, 25, 50, 100, 250, 500, 1000 }
    if type(edges) == "number" then edges = { edges } end  -- --option edges=10
    if type(edges) ~= "table" then
      error("option 'edges' must be increasing non-negative numbers", 0)
    end
    for i, edge in ipairs(edges) do
      if type(edge) ~= "number" or edge < 0 or (i > 1 and edge <= edges[i - 1]) then
        error("option 'edges' must be increasing non-negative numbers", 0)
      end
    end
    local n, low = #atoms, 0
    for _, edge in ipairs(edges) do
      if n <= edge then return string.format("%d-%d", low, edge) end
      low = math.floor(edge) + 1
    end
    return string.format("%d+", low)
  end,
}
