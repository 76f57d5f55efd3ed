--- h5lua repack SRC DST: copy a whole file into a fresh, compact one,
-- optionally re-compressing every dataset. The work is `h5lua.copy.file`.
local copy = require "h5lua.copy"

local COMPRESSIONS = { keep = true, none = true, gzip = true, lzf = true, szip = true }

return {
  description = "Copy a file into a fresh one (reclaims deleted space; can re-compress).",
  setup = function(parser)
    parser:argument("src", "The HDF5 file to copy.")
    parser:argument("dst", "The new file.")
    parser:option("-c --compression",
      "keep (each dataset's own filters), none, gzip, lzf or szip.", "keep")
    parser:option("-l --level", "gzip level 0-9 (with --compression gzip)."):convert(tonumber)
    parser:flag("--no-shuffle", "Do not add the shuffle filter when re-compressing.")
    parser:option("--block-size", "MiB of data moved per block.", "4"):convert(tonumber)
    parser:option("--libver", "Format of the new file: earliest, v108, v110 or latest "
      .. "(default: the source's).")
    parser:flag("-f --force", "Replace DST if it exists.")
  end,
  run = function(args)
    if not COMPRESSIONS[args.compression] then
      return nil, string.format("unknown compression '%s' (keep, none, gzip, lzf or szip)",
        args.compression), 2
    end
    if args.level and args.compression ~= "gzip" then
      return nil, "--level goes with --compression gzip", 2
    end
    if not args.block_size or args.block_size <= 0 then
      return nil, "--block-size must be a positive number of MiB", 2
    end
    local f = io.open(args.src, "rb")
    if not f then return nil, string.format("cannot open '%s': no such file", args.src), 2 end
    f:close()
    f = io.open(args.dst, "rb")
    if f then
      f:close()
      if not args.force then
        return nil, string.format("'%s' exists (use --force to replace it)", args.dst), 2
      end
    end
    local result = copy.file(args.src, args.dst, {
      compression = args.compression, compression_opts = args.level,
      shuffle = not args.no_shuffle, block_bytes = math.floor(args.block_size * 1024 * 1024),
      libver = args.libver, overwrite = true,
    })
    io.write(string.format("%s -> %s: %s\n", args.src, args.dst, copy.summary(result)))
    for _, s in ipairs(result.skipped) do
      io.write(string.format("  not copied: %s (%s)\n", s.path, s.reason))
    end
    return #result.skipped == 0 and 0 or 1
  end,
}
