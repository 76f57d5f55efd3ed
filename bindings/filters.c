/*
 * filters.c -- compression and other filters of chunked datasets.
 *
 * deflate (gzip), shuffle, fletcher32, scaleoffset, nbit and szip are built
 * in to HDF5.  LZF (filter 32000) is registered here, byte-compatible with
 * h5py's own LZF filter, so files compressed by either read in the other
 * without a plugin.  Any other filter HDF5 can load (HDF5_PLUGIN_PATH) is
 * usable by its id.  Option names and defaults follow h5py's create_dataset.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <liblzf/lzf.h>

#include "h5_internal.h"

#define FILTER_LZF 32000
#define LZF_FILTER_VERSION 4          /* what h5py stores in cd_values[0] */
#define LZF_MAX_BUF (100u << 20)      /* refuse absurd decompression sizes */
#define GZIP_DEFAULT_LEVEL 4          /* h5py's DEFAULT_GZIP */

/* {====================================================================
 * LZF (h5py-compatible)
 * ===================================================================== */

/* cd_values are {filter version, liblzf API version, chunk size in bytes};
 * the chunk size sizes the decompression buffer. */
static herr_t lzf_set_local(hid_t dcpl, hid_t type, hid_t space) {
  (void)space;
  unsigned flags;
  size_t n = 8;
  unsigned values[8] = {0};
  if (H5Pget_filter_by_id2(dcpl, FILTER_LZF, &flags, &n, values, 0, NULL, NULL) < 0) return -1;
  if (n < 3) n = 3;
  values[0] = LZF_FILTER_VERSION;
  values[1] = LZF_VERSION;
  hsize_t dims[H5S_MAX_RANK];
  int rank = H5Pget_chunk(dcpl, H5S_MAX_RANK, dims);
  if (rank < 0) return -1;
  size_t size = H5Tget_size(type);
  if (size == 0) return -1;
  for (int i = 0; i < rank; i++) size *= (size_t)dims[i];
  values[2] = (unsigned)size;
  return H5Pmodify_filter(dcpl, FILTER_LZF, flags, n, values);
}

static size_t lzf_filter(unsigned flags, size_t cd_nelmts, const unsigned cd_values[],
                         size_t nbytes, size_t *buf_size, void **buf) {
  void *out = NULL;
  size_t out_size, n = 0;
  if (!(flags & H5Z_FLAG_REVERSE)) {
    /* Compress into a buffer the size of the input: data that does not
     * shrink fails, and HDF5 stores the chunk raw (the filter is optional). */
    out_size = nbytes;
    if (!(out = malloc(out_size ? out_size : 1))) return 0;
    n = lzf_compress(*buf, (unsigned)nbytes, out, (unsigned)out_size);
  } else {
    out_size = cd_nelmts >= 3 && cd_values[2] ? cd_values[2] : *buf_size;
    for (;;) {
      if (!(out = malloc(out_size))) return 0;
      n = lzf_decompress(*buf, (unsigned)nbytes, out, (unsigned)out_size);
      if (n) break;
      free(out);
      out = NULL;
      if (errno != E2BIG || out_size >= LZF_MAX_BUF) {
        H5Epush2(H5E_DEFAULT, __FILE__, "lzf_filter", __LINE__, H5E_ERR_CLS, H5E_PLINE,
                 H5E_READERROR, errno == E2BIG ? "LZF chunk too large"
                                               : "invalid data for LZF decompression");
        return 0;
      }
      out_size += *buf_size;  /* the guess was too small: grow and retry */
    }
  }
  if (!n) {
    free(out);
    return 0;
  }
  free(*buf);
  *buf = out;
  *buf_size = out_size;
  return n;
}

static const H5Z_class2_t lzf_class = {
  H5Z_CLASS_T_VERS, (H5Z_filter_t)FILTER_LZF, 1, 1, "lzf", NULL, lzf_set_local,
  (H5Z_func_t)lzf_filter,
};

/* {====================================================================
 * Creation options -> dcpl
 * ===================================================================== */

static const char *const filter_keys[] = {"compression", "compression_opts", "shuffle",
                                          "fletcher32", "scaleoffset", NULL};

int h5_wants_filters(lua_State *L, int opts) {
  if (lua_type(L, opts) != LUA_TTABLE) return 0;
  int any = 0;
  for (int i = 0; filter_keys[i] && !any; i++) {
    lua_getfield(L, opts, filter_keys[i]);
    any = !lua_isnil(L, -1) && !(lua_isboolean(L, -1) && !lua_toboolean(L, -1));
    lua_pop(L, 1);
  }
  return any;
}

static int encoder_available(H5Z_filter_t id) {
  unsigned info = 0;
  if (H5Zfilter_avail(id) <= 0 || H5Zget_filter_info(id, &info) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return 0;
  }
  return (info & H5Z_FILTER_CONFIG_ENCODE_ENABLED) != 0;
}

/* szip options: {"nn" | "ec", pixels_per_block (even, 2..32)} */
static const char *szip_options(lua_State *L, int idx, unsigned *mask, unsigned *pixels) {
  *mask = H5_SZIP_NN_OPTION_MASK;
  *pixels = 8;  /* h5py's DEFAULT_SZIP ('nn', 8) */
  if (lua_isnil(L, idx)) return NULL;
  static const char *const bad = "szip options must be {'ec' | 'nn', even integer 2-32}";
  if (!lua_istable(L, idx)) return bad;
  lua_rawgeti(L, idx, 1);
  lua_rawgeti(L, idx, 2);
  const char *m = lua_tostring(L, -2);
  int isint;
  lua_Integer px = lua_tointegerx(L, -1, &isint);
  lua_pop(L, 2);
  if (!m || (strcmp(m, "nn") != 0 && strcmp(m, "ec") != 0) || !isint || px <= 0 || px > 32 ||
      px % 2)
    return bad;
  *mask = strcmp(m, "nn") == 0 ? H5_SZIP_NN_OPTION_MASK : H5_SZIP_EC_OPTION_MASK;
  *pixels = (unsigned)px;
  return NULL;
}

/* A plugin's cd_values: an integer or a list of non-negative integers. */
static const char *cd_values(lua_State *L, int idx, unsigned *vals, size_t *n) {
  *n = 0;
  if (lua_isnil(L, idx)) return NULL;
  static const char *const bad = "compression_opts for a filter id must be a list of "
                                 "non-negative integers";
  if (lua_isinteger(L, idx)) {
    if (lua_tointeger(L, idx) < 0) return bad;
    vals[(*n)++] = (unsigned)lua_tointeger(L, idx);
    return NULL;
  }
  if (!lua_istable(L, idx)) return bad;
  size_t len = lua_rawlen(L, idx);
  if (len > 32) return "at most 32 compression_opts values";
  for (size_t i = 1; i <= len; i++) {
    int isint;
    lua_rawgeti(L, idx, (lua_Integer)i);
    lua_Integer v = lua_tointegerx(L, -1, &isint);
    lua_pop(L, 1);
    if (!isint || v < 0 || v > 0xFFFFFFFFll) return bad;
    vals[(*n)++] = (unsigned)v;
  }
  return NULL;
}

const char *h5_apply_filters(lua_State *L, int opts, hid_t dcpl, hid_t ft) {
  if (lua_type(L, opts) != LUA_TTABLE) return NULL;
  opts = lua_absindex(L, opts);
  lua_getfield(L, opts, "compression");       /* c */
  lua_getfield(L, opts, "compression_opts");  /* c, copts */
  int c = lua_gettop(L) - 1, copts = c + 1;
  const char *err = NULL;
  H5T_class_t cls = H5Tget_class(ft);

  /* scaleoffset first, then shuffle, compression, fletcher32 (h5py's order) */
  lua_getfield(L, opts, "scaleoffset");
  int has_so = !lua_isnil(L, -1) && !(lua_isboolean(L, -1) && !lua_toboolean(L, -1));
  lua_getfield(L, opts, "fletcher32");
  int fletcher = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (has_so) {
    int isint;
    lua_Integer factor = lua_tointegerx(L, -1, &isint);
    int is_true = lua_isboolean(L, -1);
    if (cls != H5T_INTEGER && cls != H5T_FLOAT)
      err = "scaleoffset works on integer and floating-point data only";
    else if (is_true && cls == H5T_FLOAT)
      err = "scaleoffset for floating-point data needs a number of decimal digits";
    else if (!is_true && (!isint || factor < 0))
      err = "scaleoffset must be a non-negative integer (or true for integer data)";
    else if (fletcher)
      err = "fletcher32 cannot be combined with the lossy scaleoffset filter";
    else if (cls == H5T_INTEGER)
      H5Pset_scaleoffset(dcpl, H5Z_SO_INT, is_true ? H5Z_SO_INT_MINBITS_DEFAULT : (int)factor);
    else
      H5Pset_scaleoffset(dcpl, H5Z_SO_FLOAT_DSCALE, (int)factor);
  }
  lua_pop(L, 1);
  if (err) goto done;

  lua_getfield(L, opts, "shuffle");
  if (lua_toboolean(L, -1)) H5Pset_shuffle(dcpl);
  lua_pop(L, 1);

  if (lua_isboolean(L, c) && lua_toboolean(L, c)) {  /* h5py legacy: True is gzip */
    lua_pushliteral(L, "gzip");
    lua_replace(L, c);
  } else if (lua_isinteger(L, c) && lua_tointeger(L, c) >= 0 && lua_tointeger(L, c) <= 9) {
    if (!lua_isnil(L, copts)) {  /* h5py legacy: compression=N is gzip level N */
      err = "compression level given twice (compression=N means gzip level N)";
      goto done;
    }
    lua_pushvalue(L, c);
    lua_replace(L, copts);
    lua_pushliteral(L, "gzip");
    lua_replace(L, c);
  }
  if (lua_type(L, c) == LUA_TSTRING) {
    const char *name = lua_tostring(L, c);
    if (strcmp(name, "gzip") == 0 || strcmp(name, "deflate") == 0) {
      int isint;
      lua_Integer level = lua_isnil(L, copts) ? GZIP_DEFAULT_LEVEL
                                              : lua_tointegerx(L, copts, &isint);
      if (!lua_isnil(L, copts) && (!isint || level < 0 || level > 9)) {
        err = "gzip compression_opts must be an integer level from 0 to 9";
        goto done;
      }
      if (!encoder_available(H5Z_FILTER_DEFLATE)) {
        err = "gzip compression is not available in this HDF5 library";
        goto done;
      }
      H5Pset_deflate(dcpl, (unsigned)level);
    } else if (strcmp(name, "lzf") == 0) {
      if (!lua_isnil(L, copts)) {
        err = "lzf compression takes no compression_opts";
        goto done;
      }
      H5Pset_filter(dcpl, FILTER_LZF, H5Z_FLAG_OPTIONAL, 0, NULL);
    } else if (strcmp(name, "szip") == 0) {
      unsigned mask, pixels;
      if ((err = szip_options(L, copts, &mask, &pixels))) goto done;
      if (!encoder_available(H5Z_FILTER_SZIP)) {
        err = "szip compression is not available in this HDF5 library";
        goto done;
      }
      H5Pset_szip(dcpl, mask, pixels);
    } else {
      err = lua_pushfstring(L, "unknown compression '%s' (expected 'gzip', 'lzf', 'szip' or "
                               "a filter id)", name);
      goto done;
    }
  } else if (lua_isinteger(L, c)) {
    lua_Integer id = lua_tointeger(L, c);
    unsigned vals[32];
    size_t n;
    if (id < 0 || id > 65535) {
      err = "a filter id is between 0 and 65535";
      goto done;
    }
    if ((err = cd_values(L, copts, vals, &n))) goto done;
    lua_getfield(L, opts, "allow_unknown_filter");
    int allow = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (!allow && H5Zfilter_avail((H5Z_filter_t)id) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      err = lua_pushfstring(L, "filter %I is not available (no plugin in HDF5_PLUGIN_PATH; "
                               "pass allow_unknown_filter = true to write it anyway)",
                            (LUAI_UACINT)id);
      goto done;
    }
    if (H5Pset_filter(dcpl, (H5Z_filter_t)id, H5Z_FLAG_OPTIONAL, n, vals) < 0) {
      H5Eclear2(H5E_DEFAULT);
      err = lua_pushfstring(L, "cannot use filter %I", (LUAI_UACINT)id);
      goto done;
    }
  } else if (!lua_isnil(L, c) && !(lua_isboolean(L, c) && !lua_toboolean(L, c))) {
    err = "compression must be 'gzip', 'lzf', 'szip' or a filter id";
    goto done;
  } else if (!lua_isnil(L, copts)) {
    err = "compression_opts given without compression";
    goto done;
  }

  if (fletcher) H5Pset_fletcher32(dcpl);
done:
  if (err) {  /* keep the message alive above the popped values */
    lua_pushstring(L, err);
    lua_replace(L, c);
    lua_settop(L, c);
    return lua_tostring(L, c);
  }
  lua_settop(L, c - 1);
  return NULL;
}

/* {====================================================================
 * dcpl -> properties
 * ===================================================================== */

typedef struct {
  H5Z_filter_t id;
  unsigned flags;
  size_t n;
  unsigned vals[32];
  char name[64];
} filter_info;

static int get_filter(hid_t dcpl, int i, filter_info *fi) {
  fi->n = 32;
  fi->name[0] = '\0';
  fi->id = H5Pget_filter2(dcpl, (unsigned)i, &fi->flags, &fi->n, fi->vals, sizeof fi->name,
                          fi->name, NULL);
  if (fi->n > 32) fi->n = 32;
  return fi->id >= 0;
}

static const char *builtin_name(H5Z_filter_t id) {
  switch (id) {
    case H5Z_FILTER_DEFLATE: return "gzip";
    case H5Z_FILTER_SHUFFLE: return "shuffle";
    case H5Z_FILTER_FLETCHER32: return "fletcher32";
    case H5Z_FILTER_SZIP: return "szip";
    case H5Z_FILTER_NBIT: return "nbit";
    case H5Z_FILTER_SCALEOFFSET: return "scaleoffset";
    case FILTER_LZF: return "lzf";
    default: return NULL;
  }
}

static void push_cd_values(lua_State *L, const filter_info *fi) {
  lua_createtable(L, (int)fi->n, 0);
  for (size_t k = 0; k < fi->n; k++) {
    lua_pushinteger(L, fi->vals[k]);
    lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
}

static void push_compression_opts(lua_State *L, const filter_info *fi) {
  switch (fi->id) {
    case H5Z_FILTER_DEFLATE:
      if (fi->n) lua_pushinteger(L, fi->vals[0]);
      else lua_pushnil(L);
      break;
    case H5Z_FILTER_SZIP:
      lua_createtable(L, 2, 0);
      lua_pushstring(L, fi->n && (fi->vals[0] & H5_SZIP_EC_OPTION_MASK) ? "ec" : "nn");
      lua_rawseti(L, -2, 1);
      lua_pushinteger(L, fi->n > 1 ? fi->vals[1] : 0);
      lua_rawseti(L, -2, 2);
      break;
    case FILTER_LZF:
      lua_pushnil(L);
      break;
    default:
      if (fi->n) push_cd_values(L, fi);
      else lua_pushnil(L);
      break;
  }
}

/* Compression filters as h5py names them (others are pre- or post-filters). */
static int is_compression(H5Z_filter_t id) {
  return id == H5Z_FILTER_DEFLATE || id == H5Z_FILTER_SZIP || id == FILTER_LZF ||
         (id != H5Z_FILTER_SHUFFLE && id != H5Z_FILTER_FLETCHER32 && id != H5Z_FILTER_NBIT &&
          id != H5Z_FILTER_SCALEOFFSET);
}

int h5_push_filter_property(lua_State *L, hid_t dcpl, const char *key) {
  static const char *const keys[] = {"compression", "compression_opts", "shuffle", "fletcher32",
                                     "scaleoffset", "filters", NULL};
  int which = 0;
  while (keys[which] && strcmp(keys[which], key) != 0) which++;
  if (!keys[which]) return 0;
  int n = dcpl >= 0 ? H5Pget_nfilters(dcpl) : 0;
  filter_info fi;
  if (which == 5) {  /* filters: the whole pipeline, in order */
    lua_createtable(L, n > 0 ? n : 0, 0);
    for (int i = 0; i < n; i++) {
      if (!get_filter(dcpl, i, &fi)) continue;
      lua_createtable(L, 0, 4);
      lua_pushinteger(L, fi.id);
      lua_setfield(L, -2, "id");
      const char *bn = builtin_name(fi.id);
      lua_pushstring(L, bn ? bn : fi.name);
      lua_setfield(L, -2, "name");
      push_cd_values(L, &fi);
      lua_setfield(L, -2, "values");
      lua_pushboolean(L, (fi.flags & H5Z_FLAG_OPTIONAL) != 0);
      lua_setfield(L, -2, "optional");
      lua_rawseti(L, -2, i + 1);
    }
    H5Eclear2(H5E_DEFAULT);
    return 1;
  }
  for (int i = 0; i < n; i++) {
    if (!get_filter(dcpl, i, &fi)) continue;
    switch (which) {
      case 0:
        if (!is_compression(fi.id)) break;
        if (builtin_name(fi.id)) lua_pushstring(L, builtin_name(fi.id));
        else lua_pushinteger(L, fi.id);
        return 1;
      case 1:
        if (!is_compression(fi.id)) break;
        push_compression_opts(L, &fi);
        return 1;
      case 2:
        if (fi.id != H5Z_FILTER_SHUFFLE) break;
        lua_pushboolean(L, 1);
        return 1;
      case 3:
        if (fi.id != H5Z_FILTER_FLETCHER32) break;
        lua_pushboolean(L, 1);
        return 1;
      case 4:
        if (fi.id != H5Z_FILTER_SCALEOFFSET) break;
        lua_pushinteger(L, fi.n > 1 ? fi.vals[1] : 0);  /* h5py: the factor */
        return 1;
    }
  }
  H5Eclear2(H5E_DEFAULT);
  if (which == 2 || which == 3) lua_pushboolean(L, 0);
  else lua_pushnil(L);
  return 1;
}

/* {====================================================================
 * h5.filters
 * ===================================================================== */

/* h5.filters.available(name_or_id) -> boolean, can_encode
 * Whether HDF5 can decode (and encode) with the filter: "gzip", "lzf",
 * "szip", "shuffle", "fletcher32", "scaleoffset", "nbit" or an id. */
static int filters_available(lua_State *L) {
  static const struct { const char *name; H5Z_filter_t id; } names[] = {
    {"gzip", H5Z_FILTER_DEFLATE}, {"deflate", H5Z_FILTER_DEFLATE},
    {"shuffle", H5Z_FILTER_SHUFFLE}, {"fletcher32", H5Z_FILTER_FLETCHER32},
    {"szip", H5Z_FILTER_SZIP}, {"nbit", H5Z_FILTER_NBIT},
    {"scaleoffset", H5Z_FILTER_SCALEOFFSET}, {"lzf", FILTER_LZF},
  };
  H5Z_filter_t id = -1;
  if (lua_type(L, 1) == LUA_TSTRING) {
    const char *name = lua_tostring(L, 1);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
      if (strcmp(names[i].name, name) == 0) id = names[i].id;
    if (id < 0) return luaL_argerror(L, 1, lua_pushfstring(L, "unknown filter '%s'", name));
  } else {
    lua_Integer v = luaL_checkinteger(L, 1);
    if (v < 0 || v > 65535) return luaL_argerror(L, 1, "a filter id is between 0 and 65535");
    id = (H5Z_filter_t)v;
  }
  htri_t avail = H5Zfilter_avail(id);
  unsigned info = 0;
  if (avail > 0 && H5Zget_filter_info(id, &info) < 0) info = 0;
  H5Eclear2(H5E_DEFAULT);
  lua_pushboolean(L, avail > 0);
  lua_pushboolean(L, avail > 0 && (info & H5Z_FILTER_CONFIG_ENCODE_ENABLED));
  return 2;
}

static const luaL_Reg filters_funcs[] = {
  {"available", filters_available},
  {NULL, NULL}
};

void h5_open_filters(lua_State *L) {
#if defined(__GLIBC__) && defined(M_TRIM_THRESHOLD)
  /* HDF5's filter pipeline mallocs and frees a chunk-sized buffer for every
   * chunk.  With glibc's default trim threshold each free at the heap top
   * went back to the kernel, and the next chunk faulted fresh zeroed pages in:
   * 28,680 brk calls and ~1 s of system time for one 256 MiB gzip write.
   * Keeping up to 32 MiB of free heap makes that churn disappear. */
  mallopt(M_TRIM_THRESHOLD, 32 << 20);
#endif
  /* registered once per process; registering again just replaces it */
  if (H5Zregister(&lzf_class) < 0) H5Eclear2(H5E_DEFAULT);
  luaL_newlib(L, filters_funcs);  /* h5, filters */
  static const struct { const char *name; int id; } ids[] = {
    {"GZIP", H5Z_FILTER_DEFLATE}, {"SHUFFLE", H5Z_FILTER_SHUFFLE},
    {"FLETCHER32", H5Z_FILTER_FLETCHER32}, {"SZIP", H5Z_FILTER_SZIP},
    {"NBIT", H5Z_FILTER_NBIT}, {"SCALEOFFSET", H5Z_FILTER_SCALEOFFSET}, {"LZF", FILTER_LZF},
  };
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
    lua_pushinteger(L, ids[i].id);
    lua_setfield(L, -2, ids[i].name);
  }
  lua_setfield(L, -2, "filters");
}
