/*
 * dataset.c -- h5.Dataset: creation, reading, writing, resizing, properties.
 *
 * Creation follows h5py's create_dataset (same keywords, same defaults, same
 * chunk guess, track_times off), so files match what h5py writes.  Numbers
 * travel as h5.Array (read straight into the userdata block); strings,
 * records and other types as Lua values.  Every HDF5 id taken here is held
 * in a small struct and released before any error is raised; scratch
 * buffers are Lua userdata, so an error never leaks them.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "h5_internal.h"

/* Type-conversion buffer bounds for one H5Dread/H5Dwrite (see make_dxpl). */
#define TCONV_MIN (4u << 10)
#define TCONV_MAX (1u << 20)

#define UNLIMITED (-1)  /* h5.UNLIMITED, as H5S_UNLIMITED reads in a signed integer */

/* {====================================================================
 * Helpers
 * ===================================================================== */

/* Ids held by one operation; closed together (never raises). */
typedef struct {
  hid_t ftype, mtype, fspace, mspace, dcpl, dxpl, lcpl;
} ids_t;

static void ids_init(ids_t *r) {
  r->ftype = r->mtype = r->fspace = r->mspace = r->dcpl = r->dxpl = r->lcpl = H5I_INVALID_HID;
}

static void ids_close(ids_t *r) {
  if (r->ftype >= 0) H5Tclose(r->ftype);
  if (r->mtype >= 0) H5Tclose(r->mtype);
  if (r->fspace >= 0) H5Sclose(r->fspace);
  if (r->mspace >= 0) H5Sclose(r->mspace);
  if (r->dcpl >= 0) H5Pclose(r->dcpl);
  if (r->dxpl >= 0) H5Pclose(r->dxpl);
  if (r->lcpl >= 0) H5Pclose(r->lcpl);
  ids_init(r);
}

/* Raise the message on top of the stack after releasing r. */
static int ids_fail(lua_State *L, ids_t *r) {
  ids_close(r);
  H5Eclear2(H5E_DEFAULT);
  return lua_error(L);
}

static h5_handle *check_dataset(lua_State *L, int idx) {
  return h5_check(L, idx, H5_DATASET);
}

/* Push "<location path>/<name>" (name itself when absolute). */
static const char *push_path(lua_State *L, hid_t loc, const char *name) {
  if (name[0] == '/') return lua_pushstring(L, name);
  h5_push_name(L, loc);
  const char *base = lua_tostring(L, -1);
  size_t len = strlen(base);
  lua_pushfstring(L, "%s%s%s", base, len && base[len - 1] == '/' ? "" : "/", name);
  lua_remove(L, -2);
  return lua_tostring(L, -1);
}

static const char *push_dset_name(lua_State *L, hid_t id) {
  h5_push_name(L, id);
  return lua_tostring(L, -1);
}

static void push_dims(lua_State *L, int rank, const hsize_t *dims, int unlimited) {
  lua_createtable(L, rank, 0);
  for (int i = 0; i < rank; i++) {
    if (unlimited && dims[i] == H5S_UNLIMITED) lua_pushinteger(L, UNLIMITED);
    else lua_pushinteger(L, (lua_Integer)dims[i]);
    lua_rawseti(L, -2, i + 1);
  }
}

/* "{3, 4}" for messages. */
static const char *push_dims_text(lua_State *L, int rank, const hsize_t *dims) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '{');
  for (int i = 0; i < rank; i++) {
    lua_pushfstring(L, i ? ", %I" : "%I", (LUAI_UACINT)dims[i]);
    luaL_addvalue(&b);
  }
  luaL_addchar(&b, '}');
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

/* A transfer property list whose conversion buffer fits the data.  HDF5 1.10
 * allocates (and clears) the whole default 1 MiB buffer on every converting
 * H5Dread/H5Dwrite, which dominates small writes such as one short string. */
static hid_t make_dxpl(hsize_t npoints, hid_t mt, hid_t ft) {
  hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
  if (dxpl < 0) return dxpl;
  size_t ms = H5Tget_size(mt), fs = H5Tget_size(ft);
  size_t es = ms > fs ? ms : fs;
  double want = (double)npoints * (double)es;
  size_t size = want > TCONV_MAX ? TCONV_MAX : (size_t)want;
  if (size < TCONV_MIN) size = TCONV_MIN;
  if (size < es) size = es;
  H5Pset_buffer(dxpl, size, NULL, NULL);
  return dxpl;
}

/* Does the Lua value at idx read as a shape ({n1, n2, ...} or n)?
 * Fills dims; returns rank, or -1 with a message pushed. */
static int read_shape(lua_State *L, int idx, hsize_t *dims, int allow_unlimited) {
  if (lua_isinteger(L, idx)) {
    lua_Integer n = lua_tointeger(L, idx);
    if (n < 0 && !(allow_unlimited && n == UNLIMITED)) goto bad;
    dims[0] = n == UNLIMITED && allow_unlimited ? H5S_UNLIMITED : (hsize_t)n;
    return 1;
  }
  if (!lua_istable(L, idx)) goto bad;
  int rank = (int)lua_rawlen(L, idx);
  if (rank > H5S_MAX_RANK) {
    lua_pushliteral(L, "more than 32 dimensions");
    return -1;
  }
  for (int i = 0; i < rank; i++) {
    int isint;
    lua_rawgeti(L, idx, i + 1);
    lua_Integer n = lua_tointegerx(L, -1, &isint);
    lua_pop(L, 1);
    if (!isint || (n < 0 && !(allow_unlimited && n == UNLIMITED))) goto bad;
    dims[i] = n == UNLIMITED && allow_unlimited ? H5S_UNLIMITED : (hsize_t)n;
  }
  return rank;
bad:
  lua_pushstring(L, allow_unlimited ? "expected a list of sizes (h5.UNLIMITED allowed)"
                                    : "expected a list of non-negative sizes");
  return -1;
}

/* {====================================================================
 * Lua data -> a memory buffer for writing
 * ===================================================================== */

/* What write and create hand to H5Dwrite. */
typedef struct {
  hid_t mtype;        /* owned by the caller's ids_t once set */
  const void *buf;
  int rank;           /* shape of the data as given (0: one value) */
  hsize_t dims[H5S_MAX_RANK];
  hsize_t n;
} mem_data;

/* Depth of tables that make up one element of mt (records, arrays, vlens). */
static int leaf_depth(hid_t mt) {
  switch (H5Tget_class(mt)) {
    case H5T_ARRAY: return H5Tget_array_ndims(mt);
    case H5T_VLEN: return 1;
    default: return 0;
  }
}

/* Shape of the Lua value at idx as data of element type mt. */
static int data_shape(lua_State *L, int idx, hid_t mt, hsize_t *dims) {
  if (!lua_istable(L, idx)) return 0;
  int is_compound = H5Tget_class(mt) == H5T_COMPOUND;
  if (is_compound && h5_is_record(L, idx)) return 0;
  int depth = 0;
  lua_pushvalue(L, idx);
  for (;;) {
    dims[depth++] = (hsize_t)lua_rawlen(L, -1);
    if (depth == H5S_MAX_RANK || lua_rawgeti(L, -1, 1) != LUA_TTABLE ||
        (is_compound && h5_is_record(L, -1)))
      break;
    lua_remove(L, -2);
  }
  lua_pop(L, 2);
  if (dims[0] == 0) return 1;
  depth -= leaf_depth(mt);
  return depth > 0 ? depth : 0;
}

/* Convert the Lua value at idx into memory for file type ft.  Pushes what
 * keeps md->buf alive (1 or 2 values).  Returns NULL, or an error message
 * (pushed; md->mtype is then closed). */
static const char *prepare_data(lua_State *L, int idx, hid_t ft, mem_data *md) {
  idx = lua_absindex(L, idx);
  memset(md, 0, sizeof *md);
  md->mtype = H5I_INVALID_HID;
  h5_array *a = h5_array_test(L, idx);
  int atype = h5_atype_of(ft);
  if (!a && atype >= 0 && H5Tget_class(ft) != H5T_ENUM && lua_istable(L, idx)) {
    const char *err = h5_array_from_table(L, idx, atype);
    if (err) return lua_pushstring(L, err);
    a = lua_touserdata(L, -1);
  } else if (!a && atype >= 0 && (lua_type(L, idx) == LUA_TNUMBER ||
                                  lua_type(L, idx) == LUA_TBOOLEAN)) {
    a = h5_array_new(L, atype, 0, NULL);
    const char *err = h5_array_store(L, a, 0, idx);
    if (err) return lua_pushstring(L, err);
  } else if (a) {
    lua_pushvalue(L, idx);
  }
  if (a) {
    md->mtype = h5_atype_mem_type(a->atype);
    md->buf = a->data;
    md->rank = a->ndim;
    memcpy(md->dims, a->shape, sizeof md->dims);
    md->n = a->n;
    return NULL;
  }
  /* any other type: encode element by element into a Lua-owned buffer */
  md->mtype = h5_mem_type_for(L, ft);
  if (md->mtype < 0) return lua_tostring(L, -1);
  md->rank = data_shape(L, idx, md->mtype, md->dims);
  md->n = 1;
  for (int i = 0; i < md->rank; i++) md->n *= md->dims[i];
  size_t size = H5Tget_size(md->mtype);
  if (md->n && size > SIZE_MAX / 2 / md->n) {
    H5Tclose(md->mtype);
    md->mtype = H5I_INVALID_HID;
    return lua_pushstring(L, "data too large");
  }
  void *buf = lua_newuserdatauv(L, (size_t)md->n * size + 1, 0);
  memset(buf, 0, (size_t)md->n * size + 1);
  const char *err = h5_encode_into(L, idx, md->mtype, buf, md->rank, md->dims);
  if (err) {
    H5Tclose(md->mtype);
    md->mtype = H5I_INVALID_HID;
    return err;
  }
  md->buf = buf;
  return NULL;
}

/* Repeat a single value n times (writing one value into a selection). */
static void broadcast(lua_State *L, mem_data *md, hsize_t n) {
  size_t size = H5Tget_size(md->mtype);
  char *buf = lua_newuserdatauv(L, (size_t)n * size + 1, 0);
  for (hsize_t i = 0; i < n; i++) memcpy(buf + i * size, md->buf, size);
  md->buf = buf;
  md->n = n;
}

/* {====================================================================
 * Creation
 * ===================================================================== */

/* h5py's guess_chunk: about 16 KiB to 1 MiB chunks, halving each axis in
 * turn (PyTables' rule), so chunked files match h5py's. */
static void guess_chunk(int rank, const hsize_t *shape, size_t typesize, hsize_t *chunks) {
  double c[H5S_MAX_RANK], prod = 1;
  for (int i = 0; i < rank; i++) {
    c[i] = shape[i] ? (double)shape[i] : 1024;
    prod *= c[i];
  }
  double dset_size = prod * (double)typesize;
  double target = 16 * 1024 * pow(2, log10(dset_size / (1024.0 * 1024)));
  if (target > 1024 * 1024) target = 1024 * 1024;
  else if (target < 8 * 1024) target = 8 * 1024;
  for (int idx = 0;; idx++) {
    prod = 1;
    for (int i = 0; i < rank; i++) prod *= c[i];
    double bytes = prod * (double)typesize;
    if ((bytes < target || fabs(bytes - target) / target < 0.5) && bytes < 1024 * 1024) break;
    if (prod == 1) break;
    c[idx % rank] = ceil(c[idx % rank] / 2.0);
  }
  for (int i = 0; i < rank; i++) chunks[i] = (hsize_t)c[i];
}

static const char *const create_keys[] = {
  "allow_unknown_filter", "chunks", "compression", "compression_opts", "data", "dtype",
  "exact", "fillvalue", "fletcher32", "maxshape", "scaleoffset", "shape", "shuffle", "track_order",
  "track_times", NULL
};

/* Raise unless every key of the options table at idx is known. */
static void check_option_keys(lua_State *L, int idx) {
  if (lua_rawgeti(L, idx, 1) != LUA_TNIL)
    luaL_argerror(L, idx, "options table expected; pass data as {data = ...}");
  lua_pop(L, 1);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    int i = 0;
    while (k && create_keys[i] && strcmp(create_keys[i], k) != 0) i++;
    if (!k || !create_keys[i])
      luaL_argerror(L, idx, lua_pushfstring(L, "unknown option '%s'",
                                            luaL_tolstring(L, -1, NULL)));
  }
}

/* The file type of a new dataset: dtype, else from the data, else float32
 * (h5py's default).  Returns the type, or -1 with a message pushed and
 * *data_err set when the data (not the dtype option) is at fault. */
static hid_t new_file_type(lua_State *L, int opts, int data, int *data_err) {
  *data_err = 0;
  lua_getfield(L, opts, "dtype");
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING) {
      lua_pop(L, 1);
      lua_pushliteral(L, "dtype must be a string such as 'float64'");
      return H5I_INVALID_HID;
    }
    hid_t t = h5_parse_dtype(L, lua_tostring(L, -1));  /* dtype[, message] */
    if (t < 0) lua_remove(L, -2);
    else lua_pop(L, 1);
    return t;
  }
  lua_pop(L, 1);
  h5_array *a = data ? h5_array_test(L, data) : NULL;
  if (a) {
    static const hid_t *const std[] = {
      &H5T_STD_I8LE_g, &H5T_STD_U8LE_g, &H5T_STD_I16LE_g, &H5T_STD_U16LE_g, &H5T_STD_I32LE_g,
      &H5T_STD_U32LE_g, &H5T_STD_I64LE_g, &H5T_STD_U64LE_g, &H5T_IEEE_F32LE_g,
      &H5T_IEEE_F64LE_g};
    return a->atype == H5A_BOOL ? h5_bool_type() : H5Tcopy(*std[a->atype]);
  }
  if (!data) return H5Tcopy(H5T_IEEE_F32LE);
  *data_err = 1;
  /* Lua values: the first leaf decides (tables are checked when encoded) */
  lua_pushvalue(L, data);
  while (lua_istable(L, -1)) {
    if (h5_is_record(L, -1)) {
      lua_pop(L, 1);
      lua_pushliteral(L, "records need a dtype such as 'compound{x: float64, y: int32}'");
      return H5I_INVALID_HID;
    }
    lua_rawgeti(L, -1, 1);
    lua_remove(L, -2);
  }
  int t = lua_type(L, -1);
  lua_pop(L, 1);
  switch (t) {
    case LUA_TNIL:  /* an empty table */
    case LUA_TNUMBER:
      if (lua_istable(L, data)) {  /* int64 only when every number is an integer */
        const char *err = h5_array_from_table(L, data, -1);
        if (err) {
          lua_pushstring(L, err);
          return H5I_INVALID_HID;
        }
        a = lua_touserdata(L, -1);
        hid_t r = a->atype == H5A_INT64 ? H5Tcopy(H5T_STD_I64LE)
                : a->atype == H5A_BOOL ? h5_bool_type() : H5Tcopy(H5T_IEEE_F64LE);
        lua_pop(L, 1);
        return r;
      }
      return H5Tcopy(lua_isinteger(L, data) ? H5T_STD_I64LE : H5T_IEEE_F64LE);
    case LUA_TBOOLEAN: return h5_bool_type();
    case LUA_TSTRING: return h5_vlen_str_type();
    default:
      lua_pushfstring(L, "cannot store a %s value", lua_typename(L, t));
      return H5I_INVALID_HID;
  }
}

/* Set the fill value of dcpl from opts.fillvalue (Lua value for type ft). */
static const char *set_fill(lua_State *L, int opts, hid_t dcpl, hid_t ft) {
  lua_getfield(L, opts, "fillvalue");
  int v = lua_gettop(L);
  if (lua_isnil(L, v)) {
    lua_pop(L, 1);
    return NULL;
  }
  mem_data md;
  const char *err = prepare_data(L, v, ft, &md);
  if (!err && md.rank != 0) err = "fillvalue must be a single value";
  if (!err && H5Pset_fill_value(dcpl, md.mtype, md.buf) < 0) {
    H5Eclear2(H5E_DEFAULT);
    err = "fillvalue does not convert to the dataset's type";
  }
  if (md.mtype >= 0) H5Tclose(md.mtype);
  if (err) {
    lua_pushstring(L, err);
    lua_replace(L, v);
    lua_settop(L, v);
    return lua_tostring(L, v);
  }
  lua_settop(L, v - 1);
  return NULL;
}

/* Write md into the whole dataset (npoints elements). */
static herr_t write_all(hid_t dset, hid_t ft, const mem_data *md, hsize_t npoints) {
  if (npoints == 0) return 0;
  hid_t dxpl = make_dxpl(npoints, md->mtype, ft);
  hid_t mspace = H5Screate_simple(1, &npoints, NULL);
  herr_t r = H5Dwrite(dset, md->mtype, mspace, H5S_ALL, dxpl, md->buf);
  H5Sclose(mspace);
  H5Pclose(dxpl);
  return r;
}

/* g:create_dataset(name, opts) -> Dataset
 * g:create_dataset(name, value) -> Dataset   (value: not a table; as {data = value})
 * opts (h5py's keywords): data, shape, dtype, maxshape ({n, h5.UNLIMITED} or
 * true), chunks (true | {c1, ...} | false), compression ("gzip" | "lzf" |
 * "szip" | filter id), compression_opts, shuffle, fletcher32, scaleoffset,
 * fillvalue, track_times (false), track_order, allow_unknown_filter.
 * data: a Lua value, a (nested) table, an h5.Array, or h5.EMPTY.
 * Raises on bad options (bad argument #2) and HDF5 failures. */
static int dset_create(lua_State *L) {
  h5_handle *loc = h5_check_location(L, 1);
  const char *name = h5_check_path(L, 2);
  luaL_checkany(L, 3);
  lua_settop(L, 3);
  if (!lua_istable(L, 3)) {  /* shorthand: the value itself */
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, 3);
    lua_setfield(L, -2, "data");
    lua_replace(L, 3);
  } else {
    check_option_keys(L, 3);
  }
  const char *path = push_path(L, loc->id, name);  /* 4: path */
  h5_check_writable(L, 1, lua_pushfstring(L, "create dataset '%s'", path));
  lua_pop(L, 1);
  if (h5_link_exists(loc->id, name))
    return luaL_error(L, "h5: cannot create dataset '%s': name already exists", path);
  H5Eclear2(H5E_DEFAULT);

  lua_getfield(L, 3, "data");  /* 5: data */
  int data = lua_isnil(L, 5) ? 0 : 5;
  lua_getfield(L, LUA_REGISTRYINDEX, "h5.EMPTY");
  int empty = data && lua_rawequal(L, -1, data);
  lua_pop(L, 1);
  if (empty) data = 0;

  ids_t r;
  ids_init(&r);
  int data_err;
  r.ftype = new_file_type(L, 3, data, &data_err);
  if (r.ftype < 0 && data_err)
    return luaL_error(L, "h5: cannot create dataset '%s': %s", path, lua_tostring(L, -1));
  if (r.ftype < 0) return luaL_argerror(L, 3, lua_tostring(L, -1));

  /* the data in memory, and its shape */
  mem_data md;
  memset(&md, 0, sizeof md);
  md.mtype = H5I_INVALID_HID;
  if (data) {
    const char *err = prepare_data(L, data, r.ftype, &md);
    if (err) {
      lua_pushfstring(L, "h5: cannot create dataset '%s': %s", path, err);
      return ids_fail(L, &r);
    }
    r.mtype = md.mtype;
  }
  int top = lua_gettop(L);  /* everything up to here stays alive until the write */

  /* shape and maxshape */
  int rank = md.rank;
  hsize_t dims[H5S_MAX_RANK], maxdims[H5S_MAX_RANK];
  memcpy(dims, md.dims, sizeof dims);
  const char *bad = NULL;
  lua_getfield(L, 3, "shape");
  if (!lua_isnil(L, -1)) {
    hsize_t sdims[H5S_MAX_RANK];
    int srank = read_shape(L, -1, sdims, 0);
    if (srank < 0) bad = lua_pushfstring(L, "shape: %s", lua_tostring(L, -1));
    else if (data) {
      hsize_t n = 1;
      for (int i = 0; i < srank; i++) n *= sdims[i];
      if (n != md.n)
        bad = lua_pushfstring(L, "shape does not match the data (%d elements for %d)",
                              (int)md.n, (int)n);
    }
    if (!bad) {
      rank = srank;
      memcpy(dims, sdims, sizeof dims);
    }
  } else if (!data && !empty) {
    lua_getfield(L, 3, "dtype");
    if (lua_isnil(L, -1))
      bad = "one of data, shape or dtype must be given";
    rank = 0;  /* h5py: dtype alone makes an empty (null) dataset */
    empty = !bad;
    lua_pop(L, 1);
  }
  if (bad) {
    lua_pushstring(L, bad);
    ids_close(&r);
    return luaL_argerror(L, 3, lua_tostring(L, -1));
  }
  int has_max = 0;
  lua_getfield(L, 3, "maxshape");
  if (lua_isboolean(L, -1) && lua_toboolean(L, -1)) {
    has_max = 1;
    for (int i = 0; i < rank; i++) maxdims[i] = H5S_UNLIMITED;
  } else if (!lua_isnil(L, -1) && !(lua_isboolean(L, -1))) {
    int mrank = read_shape(L, -1, maxdims, 1);
    if (mrank < 0) bad = lua_pushfstring(L, "maxshape: %s", lua_tostring(L, -1));
    else if (mrank != rank) bad = "maxshape must have the same rank as the shape";
    for (int i = 0; !bad && i < rank; i++)
      if (maxdims[i] != H5S_UNLIMITED && maxdims[i] < dims[i])
        bad = "maxshape is smaller than the shape";
    has_max = 1;
  }
  if (bad) {
    lua_pushstring(L, bad);
    ids_close(&r);
    return luaL_argerror(L, 3, lua_tostring(L, -1));
  }

  /* chunks */
  int chunked = 0;
  hsize_t chunks[H5S_MAX_RANK];
  int wants_filters = h5_wants_filters(L, 3);
  lua_getfield(L, 3, "chunks");
  int chunks_idx = lua_gettop(L);
  if ((rank == 0 || empty) &&
      (wants_filters || has_max || (!lua_isnil(L, chunks_idx) && lua_toboolean(L, chunks_idx))))
    bad = empty ? "empty datasets don't support chunk/filter options"
                : "scalar datasets don't support chunk/filter options";
  else if (lua_istable(L, chunks_idx)) {
    int crank = read_shape(L, chunks_idx, chunks, 0);
    if (crank < 0) bad = "chunks must be true, false or a list of sizes";
    else if (crank != rank) bad = "chunks must have the same rank as the shape";
    for (int i = 0; !bad && i < rank; i++) {
      hsize_t limit = has_max ? maxdims[i] : dims[i];
      if (chunks[i] == 0) bad = "chunk sizes must be positive";
      else if (limit != H5S_UNLIMITED && chunks[i] > limit)
        bad = "chunk shape must not be greater than the data shape in any dimension";
    }
    chunked = 1;
  } else if (lua_isboolean(L, chunks_idx) && !lua_toboolean(L, chunks_idx)) {
    if (wants_filters || has_max) bad = "chunked layout required for the given storage options";
  } else if (!lua_isnil(L, chunks_idx) && !lua_isboolean(L, chunks_idx)) {
    bad = "chunks must be true, false or a list of sizes";
  } else if (lua_toboolean(L, chunks_idx) || wants_filters || has_max) {
    guess_chunk(rank, has_max ? dims : dims, H5Tget_size(r.ftype), chunks);
    chunked = 1;
  }
  if (bad) {
    ids_close(&r);
    return luaL_argerror(L, 3, bad);
  }

  /* the creation property list */
  r.dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (chunked) {
    H5Pset_chunk(r.dcpl, rank, chunks);
    H5Pset_fill_time(r.dcpl, H5D_FILL_TIME_ALLOC);  /* as h5py: no resize glitch */
  }
  bad = h5_apply_filters(L, 3, r.dcpl, r.ftype);
  if (!bad) bad = set_fill(L, 3, r.dcpl, r.ftype);
  if (bad) {
    ids_close(&r);
    return luaL_argerror(L, 3, bad);
  }
  lua_getfield(L, 3, "track_times");
  H5Pset_obj_track_times(r.dcpl, (hbool_t)lua_toboolean(L, -1));
  lua_getfield(L, 3, "track_order");
  if (lua_toboolean(L, -1))
    H5Pset_attr_creation_order(r.dcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  lua_settop(L, top);

  /* create, write, wrap */
  if (empty) r.fspace = H5Screate(H5S_NULL);
  else if (rank == 0) r.fspace = H5Screate(H5S_SCALAR);
  else r.fspace = H5Screate_simple(rank, dims, has_max ? maxdims : NULL);
  r.lcpl = h5_lcpl(1, name);
  h5_new_handle(L, H5_DATASET, H5K_DATASET, 1);  /* ..., dataset (closed) */
  hid_t id = H5Dcreate2(loc->id, name, r.ftype, r.fspace, r.lcpl, r.dcpl, H5P_DEFAULT);
  if (id < 0) {
    h5_push_error(L, "cannot create dataset '%s'", path);
    return ids_fail(L, &r);
  }
  h5_set_id(L, -1, id);
  if (data) {
    hsize_t npoints = 1;
    for (int i = 0; i < rank; i++) npoints *= dims[i];
    if (write_all(id, r.ftype, &md, npoints) < 0) {
      h5_push_error(L, "cannot write dataset '%s'", path);
      /* never leave a half-made dataset behind */
      h5_close_handle(lua_touserdata(L, -2));
      H5Ldelete(loc->id, name, H5P_DEFAULT);
      return ids_fail(L, &r);
    }
  }
  ids_close(&r);
  return 1;
}

/* {====================================================================
 * Reading
 * ===================================================================== */

typedef struct {
  hid_t mtype, mspace;
  const void *buf;
} decode_args;

static int decode_thunk(lua_State *L) {
  decode_args *a = lua_touserdata(L, 1);
  if (!h5_push_decoded(L, a->mtype, a->mspace, a->buf)) return lua_error(L);
  return 1;
}

/* Read the selection of dataset h into a Lua value at the top. */
static int read_selection(lua_State *L, h5_handle *h, int first, int nsel) {
  ids_t r;
  ids_init(&r);
  r.ftype = H5Dget_type(h->id);
  r.fspace = H5Dget_space(h->id);
  if (r.ftype < 0 || r.fspace < 0) {
    h5_push_error(L, "cannot read '%s'", push_dset_name(L, h->id));
    return ids_fail(L, &r);
  }
  H5S_class_t cls = H5Sget_simple_extent_type(r.fspace);
  if (cls == H5S_NULL) {
    ids_close(&r);
    if (nsel) return luaL_argerror(L, first, "an empty dataset takes no selection");
    lua_getfield(L, LUA_REGISTRYINDEX, "h5.EMPTY");
    return 1;
  }
  int rank = H5Sget_simple_extent_ndims(r.fspace);
  hsize_t dims[H5S_MAX_RANK];
  H5Sget_simple_extent_dims(r.fspace, dims, NULL);
  h5_selection sel;
  if (nsel > rank) ids_close(&r);  /* h5_check_selection raises then */
  h5_check_selection(L, first, nsel, rank, dims, &sel);
  r.mtype = h5_mem_type_for(L, r.ftype);
  if (r.mtype < 0) {
    lua_pushfstring(L, "h5: cannot read '%s': %s", push_dset_name(L, h->id),
                    lua_tostring(L, -1));
    return ids_fail(L, &r);
  }
  if (h5_select(r.fspace, &sel) < 0) {
    h5_push_error(L, "cannot select in '%s'", push_dset_name(L, h->id));
    return ids_fail(L, &r);
  }
  r.mspace = sel.out_rank ? H5Screate_simple(sel.out_rank, sel.out_shape, NULL)
                          : H5Screate(H5S_SCALAR);
  int atype = h5_atype_of(r.ftype);
  void *buf;
  if (atype >= 0 && sel.out_rank > 0) {  /* numbers: straight into an h5.Array */
    H5Tclose(r.mtype);
    r.mtype = h5_atype_mem_type(atype);
    h5_array *a = h5_array_new(L, atype, sel.out_rank, sel.out_shape);
    buf = a->data;
  } else {
    size_t size = H5Tget_size(r.mtype);
    buf = lua_newuserdatauv(L, (size_t)sel.npoints * size + 1, 0);
    memset(buf, 0, (size_t)sel.npoints * size + 1);  /* vlen reclaim must see NULLs */
  }
  int result = lua_gettop(L);
  r.dxpl = make_dxpl(sel.npoints, r.mtype, r.ftype);
  if (sel.npoints && H5Dread(h->id, r.mtype, r.mspace, r.fspace, r.dxpl, buf) < 0) {
    h5_push_error(L, "cannot read '%s'", push_dset_name(L, h->id));
    return ids_fail(L, &r);
  }
  if (atype >= 0 && sel.out_rank > 0) {
    ids_close(&r);
    return 1;  /* the array */
  }
  /* decode under pcall: HDF5 owns the vlen memory until reclaimed */
  decode_args args = {r.mtype, r.mspace, buf};
  lua_pushcfunction(L, decode_thunk);
  lua_pushlightuserdata(L, &args);
  int status = lua_pcall(L, 1, 1, 0);
  if (sel.npoints && h5_type_has_vlen(r.mtype))
    H5Dvlen_reclaim(r.mtype, r.mspace, H5P_DEFAULT, buf);
  if (status != LUA_OK) {
    lua_pushfstring(L, "h5: cannot read '%s': %s", push_dset_name(L, h->id),
                    lua_tostring(L, -1));
    return ids_fail(L, &r);
  }
  lua_remove(L, result);  /* the scratch buffer */
  ids_close(&r);
  return 1;
}

/* d:read([sel1, sel2, ...]) -> value | Array | table | h5.EMPTY
 * Scalars (and selections of one element) read as Lua values, numbers as an
 * h5.Array, strings, records and other types as (nested) tables.  Each sel
 * is an index, {first, last[, step]}, or nil for a whole dimension (1-based,
 * negative from the end).  Raises "h5: cannot read '<path>': <reason>". */
static int dset_read(lua_State *L) {
  h5_handle *h = check_dataset(L, 1);
  return read_selection(L, h, 2, lua_gettop(L) - 1);
}

/* A 1-byte integer dataset (uint8 or int8), for the byte methods. */
static hsize_t check_byte_dataset(lua_State *L, h5_handle *h, const char *what) {
  hid_t ft = H5Dget_type(h->id), space = H5Dget_space(h->id);
  int ok = ft >= 0 && space >= 0 && H5Tget_class(ft) == H5T_INTEGER && H5Tget_size(ft) == 1 &&
           H5Sget_simple_extent_type(space) == H5S_SIMPLE;
  hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : 0;
  if (ft >= 0) H5Tclose(ft);
  if (space >= 0) H5Sclose(space);
  H5Eclear2(H5E_DEFAULT);
  if (!ok)
    luaL_error(L, "h5: cannot %s '%s': not a uint8 or int8 array dataset", what,
               push_dset_name(L, h->id));
  return (hsize_t)n;
}

/* d:read_bytes() -> string
 * The whole of a uint8 (or int8) dataset as one Lua string, read in place:
 * the way to keep compressed JSON or any blob in a chunked uint8 dataset. */
static int dset_read_bytes(lua_State *L) {
  h5_handle *h = check_dataset(L, 1);
  hsize_t n = check_byte_dataset(L, h, "read bytes from");
  luaL_Buffer b;
  char *p = luaL_buffinitsize(L, &b, (size_t)n);
  if (n && H5Dread(h->id, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, p) < 0)
    return h5_raise(L, "cannot read '%s'", push_dset_name(L, h->id));
  luaL_pushresultsize(&b, (size_t)n);
  return 1;
}

/* {====================================================================
 * Writing
 * ===================================================================== */

/* d:write(data[, sel1, sel2, ...])
 * Writes data into the selection (the whole dataset by default).  data is a
 * Lua value, a (nested) table or an h5.Array with as many elements as the
 * selection; a single value fills the whole selection.
 * Raises "h5: cannot write '<path>': <reason>". */
static int dset_write(lua_State *L) {
  h5_handle *h = check_dataset(L, 1);
  luaL_checkany(L, 2);
  int top = lua_gettop(L);
  const char *path = push_dset_name(L, h->id);  /* top+1 */
  h5_check_writable(L, 1, lua_pushfstring(L, "write '%s'", path));
  lua_pop(L, 1);
  ids_t r;
  ids_init(&r);
  r.ftype = H5Dget_type(h->id);
  r.fspace = H5Dget_space(h->id);
  if (r.ftype < 0 || r.fspace < 0) {
    h5_push_error(L, "cannot write '%s'", path);
    return ids_fail(L, &r);
  }
  if (H5Sget_simple_extent_type(r.fspace) == H5S_NULL) {
    ids_close(&r);
    return luaL_error(L, "h5: cannot write '%s': the dataset is empty (null dataspace)", path);
  }
  int rank = H5Sget_simple_extent_ndims(r.fspace);
  hsize_t dims[H5S_MAX_RANK];
  H5Sget_simple_extent_dims(r.fspace, dims, NULL);
  h5_selection sel;
  if (top - 2 > rank) ids_close(&r);
  h5_check_selection(L, 3, top - 2, rank, dims, &sel);
  mem_data md;
  const char *err = prepare_data(L, 2, r.ftype, &md);
  if (err) {
    lua_pushfstring(L, "h5: cannot write '%s': %s", path, err);
    return ids_fail(L, &r);
  }
  r.mtype = md.mtype;
  if (md.n != sel.npoints) {
    if (md.rank == 0 && !lua_istable(L, 2) && !h5_array_test(L, 2)) {
      broadcast(L, &md, sel.npoints);
    } else {
      lua_pushfstring(L, "h5: cannot write '%s': %d values for a selection of %d elements",
                      path, (int)md.n, (int)sel.npoints);
      return ids_fail(L, &r);
    }
  }
  if (sel.npoints == 0) {
    ids_close(&r);
    return 0;
  }
  if (h5_select(r.fspace, &sel) < 0) {
    h5_push_error(L, "cannot select in '%s'", path);
    return ids_fail(L, &r);
  }
  r.mspace = H5Screate_simple(1, &sel.npoints, NULL);
  r.dxpl = make_dxpl(sel.npoints, r.mtype, r.ftype);
  if (H5Dwrite(h->id, r.mtype, r.mspace, r.fspace, r.dxpl, md.buf) < 0) {
    h5_push_error(L, "cannot write '%s'", path);
    return ids_fail(L, &r);
  }
  ids_close(&r);
  return 0;
}

/* d:write_bytes(s)
 * Replaces the whole of a uint8 (or int8) dataset with the bytes of s.  A
 * dataset that can grow (maxshape) is resized to #s first; otherwise #s
 * must equal its size. */
static int dset_write_bytes(lua_State *L) {
  h5_handle *h = check_dataset(L, 1);
  size_t len;
  const char *s = luaL_checklstring(L, 2, &len);
  const char *path = push_dset_name(L, h->id);
  h5_check_writable(L, 1, lua_pushfstring(L, "write '%s'", path));
  hsize_t n = check_byte_dataset(L, h, "write bytes to");
  if (n != len) {
    hid_t space = H5Dget_space(h->id);
    int rank = H5Sget_simple_extent_ndims(space);
    hsize_t maxdims[H5S_MAX_RANK];
    H5Sget_simple_extent_dims(space, NULL, maxdims);
    H5Sclose(space);
    if (rank != 1 || (maxdims[0] != H5S_UNLIMITED && maxdims[0] < len))
      return luaL_error(L, "h5: cannot write '%s': %d bytes for a dataset of %d (and it "
                           "cannot grow)", path, (int)len, (int)n);
    hsize_t newdims[1] = {len};
    if (H5Dset_extent(h->id, newdims) < 0) return h5_raise(L, "cannot resize '%s'", path);
  }
  if (len && H5Dwrite(h->id, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) < 0)
    return h5_raise(L, "cannot write '%s'", path);
  return 0;
}

/* {====================================================================
 * Resizing
 * ===================================================================== */

/* d:resize(shape)  or  d:resize(size, axis)
 * Changes the shape within maxshape (chunked datasets only), as h5py. */
static int dset_resize(lua_State *L) {
  h5_handle *h = check_dataset(L, 1);
  const char *path = push_dset_name(L, h->id);
  int nameidx = lua_gettop(L);
  hid_t space = H5Dget_space(h->id);
  int rank = H5Sget_simple_extent_ndims(space);
  hsize_t dims[H5S_MAX_RANK], maxdims[H5S_MAX_RANK];
  H5Sget_simple_extent_dims(space, dims, maxdims);
  H5Sclose(space);
  if (!lua_isnoneornil(L, 3)) {
    lua_Integer size = luaL_checkinteger(L, 2);
    lua_Integer axis = luaL_checkinteger(L, 3);
    if (axis < 1 || axis > rank)
      return luaL_argerror(L, 3, lua_pushfstring(L, "axis must be between 1 and %d", rank));
    if (size < 0) return luaL_argerror(L, 2, "size must be non-negative");
    dims[axis - 1] = (hsize_t)size;
  } else {
    hsize_t nd[H5S_MAX_RANK];
    lua_pushvalue(L, 2);
    int nrank = read_shape(L, -1, nd, 0);
    if (nrank < 0) return luaL_argerror(L, 2, lua_tostring(L, -1));
    if (nrank != rank)
      return luaL_argerror(L, 2, lua_pushfstring(L, "new shape must have %d dimensions", rank));
    memcpy(dims, nd, sizeof nd);
  }
  h5_check_writable(L, 1, lua_pushfstring(L, "resize '%s'", lua_tostring(L, nameidx)));
  for (int i = 0; i < rank; i++)
    if (maxdims[i] != H5S_UNLIMITED && dims[i] > maxdims[i])
      return luaL_error(L, "h5: cannot resize '%s': dimension %d would exceed maxshape (%d)",
                        path, i + 1, (int)maxdims[i]);
  if (H5Dset_extent(h->id, dims) < 0) return h5_raise(L, "cannot resize '%s'", path);
  return 0;
}

/* {====================================================================
 * Properties
 * ===================================================================== */

static void push_fillvalue(lua_State *L, hid_t id) {
  hid_t dcpl = H5Dget_create_plist(id), ft = H5Dget_type(id);
  H5D_fill_value_t status = H5D_FILL_VALUE_UNDEFINED;
  H5Pfill_value_defined(dcpl, &status);
  hid_t mt = h5_mem_type_for(L, ft);  /* pushes a message on failure */
  if (mt < 0) {
    lua_pop(L, 1);
    lua_pushnil(L);
  } else if (status != H5D_FILL_VALUE_USER_DEFINED && h5_type_has_vlen(mt)) {
    /* the library default of a variable-length type: the empty value */
    if (H5Tget_class(mt) == H5T_STRING) lua_pushliteral(L, "");
    else lua_pushnil(L);
  } else {
    size_t size = H5Tget_size(mt);
    void *buf = lua_newuserdatauv(L, size + 1, 0);
    memset(buf, 0, size + 1);
    int ok = H5Pget_fill_value(dcpl, mt, buf) >= 0;
    hid_t scalar = H5Screate(H5S_SCALAR);
    if (ok) {
      decode_args args = {mt, scalar, buf};
      lua_pushcfunction(L, decode_thunk);
      lua_pushlightuserdata(L, &args);
      ok = lua_pcall(L, 1, 1, 0) == LUA_OK;
      if (h5_type_has_vlen(mt)) H5Dvlen_reclaim(mt, scalar, H5P_DEFAULT, buf);
      if (!ok) lua_pop(L, 1);
    }
    H5Sclose(scalar);
    if (ok) lua_remove(L, -2);
    else {
      lua_pop(L, 1);
      lua_pushnil(L);
    }
  }
  if (mt >= 0) H5Tclose(mt);
  H5Tclose(ft);
  H5Pclose(dcpl);
  H5Eclear2(H5E_DEFAULT);
}

/* Properties: name, file, kind, attrs, shape, ndim, dtype, maxshape, chunks,
 * compression, compression_opts, shuffle, fletcher32, scaleoffset, filters,
 * fillvalue, size, nbytes, storage_size, layout, track_times. */
static int dset_property(lua_State *L, h5_handle *h, const char *key) {
  if (strcmp(key, "name") == 0) {
    h5_push_name(L, h->id);
  } else if (strcmp(key, "file") == 0) {
    h5_push_file(L, 1);
  } else if (strcmp(key, "kind") == 0) {
    lua_pushliteral(L, "dataset");
  } else if (strcmp(key, "attrs") == 0) {
    h5_push_attrs(L, 1);
  } else if (strcmp(key, "dtype") == 0) {
    hid_t t = H5Dget_type(h->id);
    h5_push_type_name(L, t);
    H5Tclose(t);
  } else if (strcmp(key, "shape") == 0 || strcmp(key, "maxshape") == 0 ||
             strcmp(key, "ndim") == 0 || strcmp(key, "size") == 0 ||
             strcmp(key, "nbytes") == 0) {
    hid_t space = H5Dget_space(h->id);
    int rank = H5Sget_simple_extent_ndims(space);
    H5S_class_t cls = H5Sget_simple_extent_type(space);
    hsize_t dims[H5S_MAX_RANK], maxdims[H5S_MAX_RANK];
    H5Sget_simple_extent_dims(space, dims, maxdims);
    hssize_t n = cls == H5S_NULL ? 0 : H5Sget_simple_extent_npoints(space);
    H5Sclose(space);
    if (key[0] == 's' && key[1] == 'h') {
      if (cls == H5S_NULL) lua_pushnil(L);  /* h5py: shape of Empty is None */
      else push_dims(L, rank, dims, 0);
    } else if (key[0] == 'm') {
      if (cls == H5S_NULL) lua_pushnil(L);
      else push_dims(L, rank, maxdims, 1);
    } else if (key[0] == 'n' && key[1] == 'd') {
      lua_pushinteger(L, rank);
    } else if (key[0] == 's') {
      lua_pushinteger(L, (lua_Integer)n);
    } else {
      hid_t t = H5Dget_type(h->id);
      lua_pushinteger(L, (lua_Integer)n * (lua_Integer)H5Tget_size(t));
      H5Tclose(t);
    }
  } else if (strcmp(key, "storage_size") == 0) {
    lua_pushinteger(L, (lua_Integer)H5Dget_storage_size(h->id));
  } else if (strcmp(key, "chunks") == 0 || strcmp(key, "layout") == 0 ||
             strcmp(key, "track_times") == 0) {
    hid_t dcpl = H5Dget_create_plist(h->id);
    H5D_layout_t layout = H5Pget_layout(dcpl);
    if (key[0] == 't') {
      hbool_t tt = 0;
      H5Pget_obj_track_times(dcpl, &tt);
      lua_pushboolean(L, tt);
    } else if (key[0] == 'l') {
      static const char *const names[] = {"compact", "contiguous", "chunked", "virtual"};
      lua_pushstring(L, layout >= 0 && layout <= H5D_VIRTUAL ? names[layout] : "unknown");
    } else if (layout == H5D_CHUNKED) {
      hsize_t c[H5S_MAX_RANK];
      int rank = H5Pget_chunk(dcpl, H5S_MAX_RANK, c);
      push_dims(L, rank, c, 0);
    } else {
      lua_pushnil(L);
    }
    H5Pclose(dcpl);
  } else if (strcmp(key, "fillvalue") == 0) {
    push_fillvalue(L, h->id);
  } else {
    hid_t dcpl = H5Dget_create_plist(h->id);
    int found = h5_push_filter_property(L, dcpl, key);
    H5Pclose(dcpl);
    return found;
  }
  return 1;
}

/* {====================================================================
 * require_dataset
 * ===================================================================== */

/* g:require_dataset(name, opts) -> Dataset
 * The existing dataset when its shape (opts.shape or the data's) and dtype
 * match (exactly with opts.exact, else any type of the same kind), else a
 * new one as create_dataset.  Raises when something else is there. */
static int dset_require(lua_State *L) {
  h5_handle *loc = h5_check_location(L, 1);
  const char *name = h5_check_path(L, 2);
  if (!lua_istable(L, 3)) return dset_create(L);
  lua_settop(L, 3);
  if (!h5_path_exists(loc->id, name)) {
    H5Eclear2(H5E_DEFAULT);
    return dset_create(L);
  }
  const char *path = push_path(L, loc->id, name);  /* 4 */
  H5O_info_t info;
  if (H5Oget_info_by_name2(loc->id, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
    return h5_raise(L, "cannot open '%s'", path);
  if (info.type != H5O_TYPE_DATASET)
    return luaL_error(L, "h5: cannot require dataset '%s': a %s is there", path,
                      info.type == H5O_TYPE_GROUP ? "group" : "named datatype");
  h5_group_lookup(L, 1, name);  /* 5: dataset */
  h5_handle *d = lua_touserdata(L, 5);
  lua_getfield(L, 3, "exact");
  int exact = lua_toboolean(L, -1);
  lua_pop(L, 1);
  /* the wanted shape: opts.shape, else the data's */
  lua_getfield(L, 3, "shape");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_getfield(L, 3, "data");
    h5_array *a = h5_array_test(L, -1);
    if (a) {
      push_dims(L, a->ndim, a->shape, 0);
      lua_remove(L, -2);
    } else if (lua_istable(L, -1)) {
      const char *err = h5_array_from_table(L, -1, -1);
      if (err) lua_pushnil(L);
      else {
        a = lua_touserdata(L, -1);
        push_dims(L, a->ndim, a->shape, 0);
        lua_remove(L, -2);
      }
      lua_remove(L, -2);
    } else if (!lua_isnil(L, -1)) {
      lua_pop(L, 1);
      lua_newtable(L);  /* a single value: scalar */
    }
  }
  if (!lua_isnil(L, -1)) {  /* wanted, have */
    hsize_t want[H5S_MAX_RANK];
    int wrank = read_shape(L, -1, want, 0);
    hid_t space = H5Dget_space(d->id);
    int rank = H5Sget_simple_extent_ndims(space);
    hsize_t dims[H5S_MAX_RANK];
    H5Sget_simple_extent_dims(space, dims, NULL);
    H5Sclose(space);
    int same = wrank == rank;
    for (int i = 0; same && i < rank; i++) same = want[i] == dims[i];
    if (!same)
      return luaL_error(L, "h5: cannot require dataset '%s': shape %s does not match %s", path,
                        push_dims_text(L, wrank > 0 ? wrank : 0, want),
                        push_dims_text(L, rank, dims));
  }
  lua_pop(L, 1);
  lua_getfield(L, 3, "dtype");
  if (lua_isstring(L, -1)) {
    hid_t want = h5_parse_dtype(L, lua_tostring(L, -1));
    if (want < 0) return luaL_argerror(L, 3, lua_tostring(L, -1));
    hid_t have = H5Dget_type(d->id);
    int ok = exact ? H5Tequal(want, have) > 0
                   : H5Tget_class(want) == H5Tget_class(have) ||
                         (h5_atype_of(want) >= 0 && h5_atype_of(have) >= 0);
    h5_push_type_name(L, have);
    H5Tclose(want);
    H5Tclose(have);
    if (!ok)
      return luaL_error(L, "h5: cannot require dataset '%s': dtype %s does not match %s", path,
                        lua_tostring(L, -1), lua_tostring(L, -2));
  }
  lua_settop(L, 5);
  return 1;
}

/* {====================================================================
 * Metatable
 * ===================================================================== */

/* d:close()  Idempotent; never raises. */
static int dset_close(lua_State *L) {
  luaL_checkudata(L, 1, H5_DATASET);
  return h5_handle_gc(L);
}

/* d:is_open() -> boolean */
static int dset_is_open(lua_State *L) {
  h5_handle *h = luaL_checkudata(L, 1, H5_DATASET);
  lua_pushboolean(L, h5_is_open(h));
  return 1;
}

/* d:flush()  Writes the dataset's buffered data and metadata to the file. */
static int dset_flush(lua_State *L) {
  h5_handle *h = check_dataset(L, 1);
  if (H5Dflush(h->id) < 0) return h5_raise(L, "cannot flush '%s'", push_dset_name(L, h->id));
  return 0;
}

/* #d -> size of the first dimension (raises for scalar and empty datasets) */
static int dset_len(lua_State *L) {
  h5_handle *h = check_dataset(L, 1);
  hid_t space = H5Dget_space(h->id);
  int rank = H5Sget_simple_extent_ndims(space);
  hsize_t dims[H5S_MAX_RANK];
  H5Sget_simple_extent_dims(space, dims, NULL);
  H5Sclose(space);
  if (rank <= 0)
    return luaL_error(L, "h5: cannot take the length of '%s': it is a scalar or empty dataset",
                      push_dset_name(L, h->id));
  lua_pushinteger(L, (lua_Integer)dims[0]);
  return 1;
}

/* <h5.Dataset "/x": shape {100, 3}, float64> */
static int dset_tostring(lua_State *L) {
  h5_handle *h = luaL_checkudata(L, 1, H5_DATASET);
  if (!h5_is_open(h)) {
    lua_pushliteral(L, "<closed h5.Dataset>");
    return 1;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "<h5.Dataset \"");
  h5_push_name(L, h->id);
  luaL_addvalue(&b);
  luaL_addstring(&b, "\": ");
  hid_t space = H5Dget_space(h->id);
  if (H5Sget_simple_extent_type(space) == H5S_NULL) {
    luaL_addstring(&b, "empty");
  } else {
    int rank = H5Sget_simple_extent_ndims(space);
    hsize_t dims[H5S_MAX_RANK];
    H5Sget_simple_extent_dims(space, dims, NULL);
    luaL_addstring(&b, "shape {");
    for (int i = 0; i < rank; i++) {
      lua_pushfstring(L, i ? ", %I" : "%I", (LUAI_UACINT)dims[i]);
      luaL_addvalue(&b);
    }
    luaL_addstring(&b, "}");
  }
  H5Sclose(space);
  luaL_addstring(&b, ", ");
  hid_t t = H5Dget_type(h->id);
  h5_push_type_name(L, t);
  H5Tclose(t);
  luaL_addvalue(&b);
  luaL_addstring(&b, ">");
  luaL_pushresult(&b);
  return 1;
}

/* __index: methods, then properties; other keys are nil. */
static int dset_index(lua_State *L) {
  h5_handle *h = luaL_checkudata(L, 1, H5_DATASET);
  if (h5_get_method(L, H5_DATASET, 2)) return 1;
  if (lua_type(L, 2) != LUA_TSTRING) return 0;
  if (!h5_is_open(h)) return luaL_error(L, "h5: attempt to use a closed Dataset");
  if (dset_property(L, h, lua_tostring(L, 2))) return 1;
  lua_pushnil(L);
  return 1;
}

static const luaL_Reg dset_meta[] = {
  {"__close", h5_handle_gc},
  {"__gc", h5_handle_gc},
  {"__index", dset_index},
  {"__len", dset_len},
  {"__tostring", dset_tostring},
  {NULL, NULL}
};

static const luaL_Reg dset_methods[] = {
  {"close", dset_close},
  {"flush", dset_flush},
  {"is_open", dset_is_open},
  {"read", dset_read},
  {"read_bytes", dset_read_bytes},
  {"resize", dset_resize},
  {"write", dset_write},
  {"write_bytes", dset_write_bytes},
  {NULL, NULL}
};

static const luaL_Reg location_methods[] = {
  {"create_dataset", dset_create},
  {"require_dataset", dset_require},
  {NULL, NULL}
};

void h5_open_dataset(lua_State *L) {
  h5_new_metatable(L, H5_DATASET, dset_meta, dset_methods);
  h5_add_location_methods(L, location_methods);
  lua_pushinteger(L, UNLIMITED);
  lua_setfield(L, -2, "UNLIMITED");
}
