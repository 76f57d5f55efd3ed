/*
 * dataset.c -- h5.Dataset: creation, reading, writing, resizing, properties.
 *
 * Creation follows h5py's create_dataset (same keywords, same defaults, same
 * chunk guess, track_times off), so files match what h5py writes.  Numbers
 * travel as h5.Array (read straight into the userdata block); strings,
 * records and other types as Lua values.  Every HDF5 id taken here is held
 * in a to-be-closed holder, so any error releases them; scratch buffers
 * are Lua userdata, so an error never leaks them either.
 *
 * Bytes (blobs such as gzip-compressed JSON) live in 1-D uint8 datasets:
 *   g:create_dataset("json_gz", {data = h5.array.frombytes(s), chunks = true,
 *                                maxshape = {h5.UNLIMITED}})   -- store
 *   d:read_bytes() -> s                                         -- one string
 *   d:write_bytes(s)               -- replace (resizes when maxshape allows)
 * h5py reads them as numpy uint8 arrays (np.frombuffer(..., 'u1') writes them).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "h5_internal.h"

/* Type-conversion buffer bounds for one H5Dread/H5Dwrite (see make_dxpl). */
#define TCONV_MIN (4u << 10)
#define TCONV_MAX (1u << 20)

#define UNLIMITED (-1)  /* h5.UNLIMITED, as H5S_UNLIMITED reads in a signed integer */

/* {====================================================================
 * Helpers
 * ===================================================================== */

/* The HDF5 ids one operation holds (types, spaces, property lists), kept in
 * a to-be-closed userdata: whatever raises -- an argument check, a memory
 * error, an HDF5 failure -- they are closed when the C function unwinds or
 * returns, and never twice. */
#define IDS_MAX 12
#define IDS_TNAME "h5.ids"

typedef struct {
  int n;
  hid_t id[IDS_MAX];
} ids_t;

static int ids_release(lua_State *L) {
  ids_t *r = luaL_checkudata(L, 1, IDS_TNAME);
  while (r->n > 0) {
    hid_t id = r->id[--r->n];
    switch (H5Iget_type(id)) {
      case H5I_DATATYPE: H5Tclose(id); break;
      case H5I_DATASPACE: H5Sclose(id); break;
      case H5I_GENPROP_LST: H5Pclose(id); break;
      default: break;
    }
  }
  return 0;
}

/* Push a new, empty holder as a to-be-closed slot. */
static ids_t *ids_new(lua_State *L) {
  ids_t *r = lua_newuserdatauv(L, sizeof *r, 0);
  r->n = 0;
  luaL_setmetatable(L, IDS_TNAME);
  lua_toclose(L, -1);
  return r;
}

/* Hold id (if valid) until the operation ends; returns it. */
static hid_t hold(ids_t *r, hid_t id) {
  if (id >= 0 && r->n < IDS_MAX) r->id[r->n++] = id;
  return id;
}

static h5_handle *check_dataset(lua_State *L, int idx) {
  return h5_check(L, idx, H5_DATASET);
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
  hsize_t total = 1;
  for (int i = 0; i < rank; i++) {
    int isint;
    lua_rawgeti(L, idx, i + 1);
    lua_Integer n = lua_tointegerx(L, -1, &isint);
    lua_pop(L, 1);
    if (!isint || (n < 0 && !(allow_unlimited && n == UNLIMITED))) goto bad;
    dims[i] = n == UNLIMITED && allow_unlimited ? H5S_UNLIMITED : (hsize_t)n;
    /* HDF5 1.10 takes a shape whose element count wraps around 2^64 (its
     * size then reads 0 and writes fail with "addr undefined") */
    if (!allow_unlimited && total != 0 && dims[i] != 0) {
      if (total > ((hsize_t)1 << 62) / dims[i]) {
        lua_pushliteral(L, "more than 2^62 elements");
        return -1;
      }
      total *= dims[i];
    } else if (dims[i] == 0) {
      total = 0;
    }
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
  hid_t mtype;        /* held by the operation's ids_t */
  const void *buf;
  int rank;           /* shape of the data as given (0: one value) */
  hsize_t dims[H5S_MAX_RANK];
  hsize_t n;
} mem_data;

/* Depth of tables that make up one element of mt (arrays, vlens). */
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
 * keeps md->buf alive (1 or 2 values); the memory type is held by r.
 * Returns NULL, or an error message (pushed). */
static const char *prepare_data(lua_State *L, int idx, hid_t ft, mem_data *md, ids_t *r) {
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
    md->mtype = hold(r, h5_atype_mem_type(a->atype));
    md->buf = a->data;
    md->rank = a->ndim;
    memcpy(md->dims, a->shape, sizeof md->dims);
    md->n = a->n;
    return NULL;
  }
  /* any other type: encode element by element into a Lua-owned buffer */
  md->mtype = hold(r, h5_mem_type_for(L, ft));
  if (md->mtype < 0) return lua_tostring(L, -1);
  md->rank = data_shape(L, idx, md->mtype, md->dims);
  md->n = 1;
  for (int i = 0; i < md->rank; i++) md->n *= md->dims[i];
  size_t size = H5Tget_size(md->mtype);
  if (md->n && size > SIZE_MAX / 4 / md->n) return lua_pushstring(L, "data too large");
  void *buf = lua_newuserdatauv(L, (size_t)md->n * size + 1, 0);
  memset(buf, 0, (size_t)md->n * size + 1);
  const char *err = h5_encode_into(L, idx, md->mtype, buf, md->rank, md->dims);
  if (err) return err;
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
  "exact", "fillvalue", "fletcher32", "maxshape", "scaleoffset", "shape", "shuffle",
  "track_order", "track_times", NULL
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

/* Set the fill value of dcpl from opts.fillvalue (a Lua value for type ft).
 * Returns NULL or an error message (left on the stack). */
static const char *set_fill(lua_State *L, int opts, hid_t dcpl, hid_t ft, ids_t *r) {
  lua_getfield(L, opts, "fillvalue");
  if (lua_isnil(L, -1)) return NULL;
  mem_data md;
  const char *err = prepare_data(L, -1, ft, &md, r);
  if (err) return lua_pushfstring(L, "fillvalue: %s", err);
  if (md.rank != 0) return "fillvalue must be a single value";
  if (H5Pset_fill_value(dcpl, md.mtype, md.buf) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return "fillvalue does not convert to the dataset's type";
  }
  return NULL;
}

/* g:create_dataset(name, opts) -> Dataset
 * g:create_dataset(name, value) -> Dataset   (value: not a table; as {data = value})
 * opts (h5py's keywords): data, shape, dtype, maxshape ({n, h5.UNLIMITED} or
 * true), chunks (true | {c1, ...} | false), compression ("gzip" | "lzf" |
 * "szip" | filter id), compression_opts, shuffle, fletcher32, scaleoffset,
 * fillvalue, track_times (false), track_order, allow_unknown_filter.
 * data: a Lua value, a (nested) table, an h5.Array, or h5.EMPTY.
 * Raises "bad argument #2" for bad options, "h5: cannot create dataset
 * '<path>': <reason>" for bad data and HDF5 failures. */
/* The ids every scalar-string creation shares, made once: a variable-length
 * UTF-8 string type, a scalar space, h5py's creation properties (no
 * timestamps) and a small conversion buffer.  Creating and closing these per
 * call cost as much as the creation itself. */
static struct {
  hid_t type, space, dcpl, dxpl;
} scalar_string;

static int scalar_string_ids(void) {
  if (scalar_string.type > 0 && H5Iis_valid(scalar_string.type) > 0) return 1;
  scalar_string.type = h5_vlen_str_type();
  scalar_string.space = H5Screate(H5S_SCALAR);
  scalar_string.dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_obj_track_times(scalar_string.dcpl, 0);
  scalar_string.dxpl = make_dxpl(1, scalar_string.type, scalar_string.type);
  return scalar_string.type >= 0 && scalar_string.space >= 0 && scalar_string.dcpl >= 0 &&
         scalar_string.dxpl >= 0;
}

int h5_cached_datatypes(void) {
  return scalar_string.type > 0 && H5Iis_valid(scalar_string.type) > 0;
}

/* Push the first of name's parent groups ("a", "a/b" for "a/b/c") that does
 * not exist yet and return 1, or push nothing and return 0. */
static int push_first_missing_parent(lua_State *L, hid_t loc, const char *name) {
  for (const char *p = strchr(name + 1, '/'); p; p = strchr(p + 1, '/')) {
    lua_pushlstring(L, name, (size_t)(p - name));
    if (!h5_link_exists(loc, lua_tostring(L, -1))) {
      H5Eclear2(H5E_DEFAULT);
      return 1;
    }
    lua_pop(L, 1);
  }
  H5Eclear2(H5E_DEFAULT);
  return 0;
}

/* g:create_dataset(name, "text"): a scalar string, as h5py writes a str --
 * the store writes one per structure, "<refcode>/raw_json", so this path
 * does only what that needs: for a one-level parent it creates the group
 * first and opens it only when it exists (no lookup before a new one), and
 * builds paths for messages only on failure.  All or nothing: a failure
 * removes the groups this call created. */
static int create_scalar_string(lua_State *L, h5_handle *loc, const char *name,
                                int want_handle) {
  if (!h5_is_writable(loc))
    h5_check_writable(L, 1, lua_pushfstring(L, "create dataset '%s'", h5_push_path(L, loc->id, name)));
  if (!scalar_string_ids()) return luaL_error(L, "h5: cannot create string dataset types");
  size_t len;
  const char *text = lua_tolstring(L, 3, &len);
  if (strlen(text) != len) {
    lua_pushfstring(L, "h5: cannot create dataset '%s': string contains a NUL byte (HDF5 "
                    "strings cannot hold one)", h5_push_path(L, loc->id, name));
    return lua_error(L);
  }
  lua_settop(L, 3);
  if (want_handle) h5_new_handle(L, H5_DATASET, H5K_DATASET, 1);  /* 4: dataset (closed) */
  int made_idx = lua_gettop(L) + 1;  /* the outermost group this call created, when made */
  hid_t parent = loc->id;
  const char *leaf = name;
  int made = 0;
  const char *slash = strchr(name, '/');
  if (slash && slash != name && slash[1] && !strchr(slash + 1, '/')) {
    const char *pname = lua_pushlstring(L, name, (size_t)(slash - name));  /* made_idx */
    leaf = slash + 1;
    parent = H5Gcreate2(loc->id, pname, h5_lcpl(pname), H5P_DEFAULT, H5P_DEFAULT);
    made = parent >= 0;
    if (!made) {
      H5Eclear2(H5E_DEFAULT);
      parent = H5Gopen2(loc->id, pname, H5P_DEFAULT);
      if (parent < 0) {
        h5_push_create_error(L, loc->id, name, "dataset");
        return lua_error(L);
      }
    }
  } else if (slash) {
    made = push_first_missing_parent(L, loc->id, name);
  }
  hid_t id = H5Dcreate2(parent, leaf, scalar_string.type, scalar_string.space, h5_lcpl(leaf),
                        scalar_string.dcpl, H5P_DEFAULT);
  int failed = id < 0;
  if (failed) {
    h5_push_create_error(L, loc->id, name, "dataset");
  } else {
    if (want_handle) h5_set_id(L, 4, id);
    if (H5Dwrite(id, scalar_string.type, H5S_ALL, H5S_ALL, scalar_string.dxpl, &text) < 0) {
      h5_push_error(L, "cannot write dataset '%s'", h5_push_path(L, loc->id, name));
      if (!made) H5Ldelete(parent, leaf, H5P_DEFAULT);  /* never leave a half-made dataset */
      failed = 1;
    }
    if (failed && want_handle) h5_close_handle(lua_touserdata(L, 4));
    else if (!want_handle) H5Dclose(id);
  }
  if (parent != loc->id) H5Gclose(parent);
  if (failed) {
    if (made) H5Ldelete(loc->id, lua_tostring(L, made_idx), H5P_DEFAULT);
    H5Eclear2(H5E_DEFAULT);
    return lua_error(L);
  }
  lua_settop(L, want_handle ? 4 : 3);
  return want_handle;
}

static int dset_create(lua_State *L) {
  h5_handle *loc = h5_check_location(L, 1);
  const char *name = h5_check_path(L, 2);
  luaL_checkany(L, 3);
  lua_settop(L, 3);
  if (lua_type(L, 3) == LUA_TSTRING) return create_scalar_string(L, loc, name, 1);
  if (!lua_istable(L, 3)) {  /* shorthand: the value itself */
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, 3);
    lua_setfield(L, -2, "data");
    lua_replace(L, 3);
  } else {
    check_option_keys(L, 3);
  }
  const char *path = h5_push_path(L, loc->id, name);  /* 4: path */
  h5_check_writable(L, 1, lua_pushfstring(L, "create dataset '%s'", path));
  lua_pop(L, 1);
  if (h5_link_exists(loc->id, name))
    return luaL_error(L, "h5: cannot create dataset '%s': name already exists", path);
  H5Eclear2(H5E_DEFAULT);
  ids_t *r = ids_new(L);  /* 5 */
  lua_getfield(L, 3, "data");  /* 6: data */
  int data = lua_isnil(L, 6) ? 0 : 6;
  lua_getfield(L, LUA_REGISTRYINDEX, "h5.EMPTY");
  int empty = data && lua_rawequal(L, -1, data);
  lua_pop(L, 1);
  if (empty) data = 0;

  int data_err;
  hid_t ftype = hold(r, new_file_type(L, 3, data, &data_err));
  if (ftype < 0 && data_err)
    return luaL_error(L, "h5: cannot create dataset '%s': %s", path, lua_tostring(L, -1));
  if (ftype < 0) return luaL_argerror(L, 3, lua_tostring(L, -1));

  /* the data in memory, and its shape */
  mem_data md;
  memset(&md, 0, sizeof md);
  md.mtype = H5I_INVALID_HID;
  if (data) {
    const char *err = prepare_data(L, data, ftype, &md, r);
    if (err) return luaL_error(L, "h5: cannot create dataset '%s': %s", path, err);
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
        bad = lua_pushfstring(L, "shape does not match the data (%I elements for %I)",
                              (LUAI_UACINT)md.n, (LUAI_UACINT)n);
    }
    rank = srank;
    memcpy(dims, sdims, sizeof dims);
  } else if (!data && !empty) {
    lua_getfield(L, 3, "dtype");
    if (lua_isnil(L, -1)) bad = "one of data, shape or dtype must be given";
    rank = 0;  /* h5py: dtype alone makes an empty (null) dataset */
    empty = 1;
  }
  if (bad) return luaL_argerror(L, 3, bad);
  int has_max = 0;
  lua_getfield(L, 3, "maxshape");
  if (lua_isboolean(L, -1) && lua_toboolean(L, -1)) {
    has_max = 1;
    for (int i = 0; i < rank; i++) maxdims[i] = H5S_UNLIMITED;
  } else if (!lua_isnil(L, -1) && !lua_isboolean(L, -1)) {
    int mrank = read_shape(L, -1, maxdims, 1);
    if (mrank < 0) bad = lua_pushfstring(L, "maxshape: %s", lua_tostring(L, -1));
    else if (mrank != rank) bad = "maxshape must have the same rank as the shape";
    for (int i = 0; !bad && i < rank; i++)
      if (maxdims[i] != H5S_UNLIMITED && maxdims[i] < dims[i])
        bad = "maxshape is smaller than the shape";
    has_max = 1;
  }
  if (bad) return luaL_argerror(L, 3, bad);

  /* chunks: given, or guessed as h5py does when filters or maxshape need them */
  int chunked = 0;
  hsize_t chunks[H5S_MAX_RANK];
  int wants_filters = h5_wants_filters(L, 3);
  lua_getfield(L, 3, "chunks");
  int ch = lua_gettop(L);
  int chunks_on = lua_istable(L, ch) || (lua_isboolean(L, ch) && lua_toboolean(L, ch));
  if ((rank == 0 || empty) && (wants_filters || has_max || chunks_on)) {
    bad = empty ? "empty datasets don't support chunk/filter options"
                : "scalar datasets don't support chunk/filter options";
  } else if (lua_istable(L, ch)) {
    int crank = read_shape(L, ch, chunks, 0);
    if (crank < 0) bad = "chunks must be true, false or a list of sizes";
    else if (crank != rank) bad = "chunks must have the same rank as the shape";
    for (int i = 0; !bad && i < rank; i++) {
      hsize_t limit = has_max ? maxdims[i] : dims[i];
      if (chunks[i] == 0) bad = "chunk sizes must be positive";
      else if (limit != H5S_UNLIMITED && chunks[i] > limit)
        bad = "chunk shape must not be greater than the data shape in any dimension";
    }
    chunked = 1;
  } else if (!lua_isnil(L, ch) && !lua_isboolean(L, ch)) {
    bad = "chunks must be true, false or a list of sizes";
  } else if (lua_isboolean(L, ch) && !lua_toboolean(L, ch)) {
    if (wants_filters || has_max) bad = "chunked layout required for the given storage options";
  } else if (chunks_on || wants_filters || has_max) {
    guess_chunk(rank, dims, H5Tget_size(ftype), chunks);
    chunked = 1;
  }
  if (bad) return luaL_argerror(L, 3, bad);

  /* the creation property list */
  hid_t dcpl = hold(r, H5Pcreate(H5P_DATASET_CREATE));
  if (chunked) {
    H5Pset_chunk(dcpl, rank, chunks);
    H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC);  /* as h5py: no resize glitch */
  }
  bad = h5_apply_filters(L, 3, dcpl, ftype);
  if (!bad) bad = set_fill(L, 3, dcpl, ftype, r);
  if (bad) return luaL_argerror(L, 3, bad);
  lua_getfield(L, 3, "track_times");
  H5Pset_obj_track_times(dcpl, (hbool_t)lua_toboolean(L, -1));
  lua_getfield(L, 3, "track_order");
  if (lua_toboolean(L, -1))
    H5Pset_attr_creation_order(dcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  lua_settop(L, top);

  /* create, write, wrap */
  hid_t fspace;
  if (empty) fspace = H5Screate(H5S_NULL);
  else if (rank == 0) fspace = H5Screate(H5S_SCALAR);
  else fspace = H5Screate_simple(rank, dims, has_max ? maxdims : NULL);
  hold(r, fspace);
  hid_t lcpl = h5_lcpl(name);
  h5_new_handle(L, H5_DATASET, H5K_DATASET, 1);  /* ..., dataset (closed) */
  hid_t id = H5Dcreate2(loc->id, name, ftype, fspace, lcpl, dcpl, H5P_DEFAULT);
  if (id < 0) {
    h5_push_create_error(L, loc->id, name, "dataset");
    return lua_error(L);
  }
  h5_set_id(L, -1, id);
  hsize_t npoints = md.n;
  if (data && npoints) {
    hid_t dxpl = hold(r, make_dxpl(npoints, md.mtype, ftype));
    /* the buffer holds the elements in the dataset's own order: H5S_ALL for
     * memory too lets HDF5 copy whole chunks instead of mapping points */
    if (H5Dwrite(id, md.mtype, H5S_ALL, H5S_ALL, dxpl, md.buf) < 0) {
      h5_push_error(L, "cannot write dataset '%s'", path);
      /* never leave a half-made dataset behind */
      h5_close_handle(lua_touserdata(L, -2));
      H5Ldelete(loc->id, name, H5P_DEFAULT);
      H5Eclear2(H5E_DEFAULT);
      return lua_error(L);
    }
  }
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

typedef struct {
  int atype;  /* -1: a plain buffer of size bytes */
  int ndim;
  const hsize_t *shape;
  size_t size;
  void *data;
} alloc_args;

static int alloc_thunk(lua_State *L) {
  alloc_args *a = lua_touserdata(L, 1);
  if (a->atype >= 0) {
    h5_array *arr = h5_array_alloc(L, a->atype, a->ndim, a->shape);
    a->data = arr->data;
  } else {
    a->data = lua_newuserdatauv(L, a->size, 0);
    memset(a->data, 0, a->size);  /* vlen reclaim must see NULLs where nothing was read */
  }
  return 1;
}

/* Push a read buffer (an h5.Array when atype >= 0); NULL when there is not
 * enough memory (nothing pushed), so the caller can say what it was reading. */
static void *alloc_buffer(lua_State *L, int atype, int ndim, const hsize_t *shape, size_t size) {
  alloc_args a = {atype, ndim, shape, size, NULL};
  lua_pushcfunction(L, alloc_thunk);
  lua_pushlightuserdata(L, &a);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    lua_pop(L, 1);
    return NULL;
  }
  return a.data;
}

/* Rank and dims of a dataset's space; cls is H5S_NULL for empty datasets.
 * Returns -1 when HDF5 fails (error stack kept for h5_raise). */
static int dataset_extent(hid_t id, hsize_t *dims, hsize_t *maxdims, H5S_class_t *cls) {
  hid_t space = H5Dget_space(id);
  if (space < 0) return -1;
  *cls = H5Sget_simple_extent_type(space);
  int rank = H5Sget_simple_extent_dims(space, dims, maxdims);
  H5Sclose(space);
  return rank;
}

/* Raise the error of a failed H5Dread, naming a filter that is missing
 * rather than HDF5's "can't open directory" of its plugin search. */
static int raise_read_error(lua_State *L, hid_t id, const char *path) {
  h5_push_error(L, "cannot read '%s'", path);
  hid_t dcpl = H5Dget_create_plist(id);
  int n = dcpl >= 0 ? H5Pget_nfilters(dcpl) : 0;
  for (int i = 0; i < n; i++) {
    unsigned flags;
    size_t nvals = 0;
    char name[64] = "";
    H5Z_filter_t f = H5Pget_filter2(dcpl, (unsigned)i, &flags, &nvals, NULL, sizeof name, name,
                                    NULL);
    if (f >= 0 && H5Zfilter_avail(f) <= 0) {
      lua_pushfstring(L, "h5: cannot read '%s': filter %d%s%s%s is not available (install "
                         "its plugin and set HDF5_PLUGIN_PATH)", path, (int)f,
                      name[0] ? " (" : "", name, name[0] ? ")" : "");
      break;
    }
  }
  if (dcpl >= 0) H5Pclose(dcpl);
  H5Eclear2(H5E_DEFAULT);
  return lua_error(L);
}

static int push_string_thunk(lua_State *L) {
  lua_pushstring(L, lua_touserdata(L, 1));
  return 1;
}

/* Variable-length data (strings, vlens) live in the global heap, whose
 * parser loops forever on some damaged files (libhdf5 1.10): such reads run
 * under the host's watchdog, which ends h5lua with one line.  The limit (10 s)
 * grows with the element count (10,000 a second is far below any real read);
 * reads of fixed-size types skip the two alarm() calls. */
static herr_t read_watched(hid_t dset, hid_t mtype, hid_t mspace, hid_t fspace, hid_t dxpl,
                           void *buf, hsize_t npoints) {
  H5_OPERATION("reading a dataset");
  if (!h5_type_has_vlen(mtype)) return H5Dread(dset, mtype, mspace, fspace, dxpl, buf);
  hsize_t extra = npoints / 10000;
  h5_watchdog_arm((unsigned)(extra < 86400 ? extra : 86400));
  herr_t status = H5Dread(dset, mtype, mspace, fspace, dxpl, buf);
  h5_watchdog_disarm();
  return status;
}

/* d:read() of a scalar variable-length UTF-8 string (h5py's str, the
 * store's raw_json): straight into a Lua string, without the general path's
 * selection and buffer set-up.  Returns 0 (nothing pushed) for anything else
 * and on failure, leaving it to the general path and its messages. */
static int read_scalar_string(lua_State *L, h5_handle *h) {
  hid_t ftype = H5Dget_type(h->id);
  if (ftype < 0) return 0;
  int fits = H5Tget_class(ftype) == H5T_STRING && H5Tis_variable_str(ftype) > 0 &&
             H5Tget_cset(ftype) == H5T_CSET_UTF8;
  H5Tclose(ftype);
  if (!fits) return 0;
  hid_t space = H5Dget_space(h->id);
  fits = space >= 0 && H5Sget_simple_extent_type(space) == H5S_SCALAR;
  if (space >= 0) H5Sclose(space);
  if (!fits || !scalar_string_ids()) return 0;
  char *text = NULL;
  if (read_watched(h->id, scalar_string.type, H5S_ALL, H5S_ALL, scalar_string.dxpl, &text, 1) <
      0) {
    H5Eclear2(H5E_DEFAULT);
    return 0;
  }
  /* pushed under pcall: HDF5's copy is freed even when Lua runs out of memory */
  lua_pushcfunction(L, push_string_thunk);
  lua_pushlightuserdata(L, text ? text : (char *)"");
  int status = lua_pcall(L, 1, 1, 0);
  if (text) H5free_memory(text);
  if (status != LUA_OK) return lua_error(L);
  return 1;
}

/* d:read([sel1, sel2, ...]) -> value | Array | table | h5.EMPTY
 * Scalars (and selections of one element) read as Lua values, numbers as an
 * h5.Array, strings, records and other types as (nested) tables.  Each sel
 * is an index, {first, last[, step]}, or nil for a whole dimension (1-based,
 * negative from the end).  Raises "h5: cannot read '<path>': <reason>". */
static int dset_read(lua_State *L) {
  h5_handle *h = check_dataset(L, 1);
  int nsel = lua_gettop(L) - 1;
  if (nsel == 0 && read_scalar_string(L, h)) return 1;
  const char *path = push_dset_name(L, h->id);
  hsize_t dims[H5S_MAX_RANK];
  H5S_class_t cls;
  int rank = dataset_extent(h->id, dims, NULL, &cls);
  if (rank < 0) return h5_raise(L, "cannot read '%s'", path);
  if (cls == H5S_NULL) {
    if (nsel) return luaL_argerror(L, 2, "an empty dataset takes no selection");
    lua_getfield(L, LUA_REGISTRYINDEX, "h5.EMPTY");
    return 1;
  }
  h5_selection sel;
  h5_check_selection(L, 2, nsel, rank, dims, &sel);
  ids_t *r = ids_new(L);
  hid_t ftype = hold(r, H5Dget_type(h->id));
  hid_t fspace = hold(r, H5Dget_space(h->id));
  if (ftype < 0 || fspace < 0) return h5_raise(L, "cannot read '%s'", path);
  hid_t mtype = hold(r, h5_mem_type_for(L, ftype));
  if (mtype < 0) return luaL_error(L, "h5: cannot read '%s': %s", path, lua_tostring(L, -1));
  if (h5_select(fspace, &sel) < 0) return h5_raise(L, "cannot select in '%s'", path);
  hid_t mspace = hold(r, sel.out_rank ? H5Screate_simple(sel.out_rank, sel.out_shape, NULL)
                                      : H5Screate(H5S_SCALAR));
  int atype = sel.out_rank > 0 ? h5_atype_of(ftype) : -1;
  if (atype >= 0) mtype = hold(r, h5_atype_mem_type(atype));  /* numbers: into an h5.Array */
  size_t size = H5Tget_size(mtype);
  /* more than the machine's memory cannot work: say so before trying */
  double want = (double)sel.npoints * (double)size;
  double phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
  if (want > (double)(SIZE_MAX / 4) || (phys > 0 && want > phys))
    return luaL_error(L, "h5: cannot read '%s': %I MiB is more than this machine's memory "
                         "(read a selection)", path, (LUAI_UACINT)(want / 1048576));
  void *buf = alloc_buffer(L, atype, sel.out_rank, sel.out_shape, (size_t)sel.npoints * size + 1);
  if (!buf)
    return luaL_error(L, "h5: cannot read '%s': not enough memory for %I MiB (read a "
                         "selection)", path, (LUAI_UACINT)(sel.npoints * size >> 20));
  int result = lua_gettop(L);
  hid_t dxpl = hold(r, make_dxpl(sel.npoints, mtype, ftype));
  if (sel.npoints && read_watched(h->id, mtype, mspace, fspace, dxpl, buf, sel.npoints) < 0)
    return raise_read_error(L, h->id, path);
  if (atype >= 0) return 1;  /* the array */
  /* decode under pcall: HDF5's vlen memory must be reclaimed whatever happens */
  decode_args args = {mtype, mspace, buf};
  lua_pushcfunction(L, decode_thunk);
  lua_pushlightuserdata(L, &args);
  int status = lua_pcall(L, 1, 1, 0);
  if (sel.npoints && h5_type_has_vlen(mtype)) H5Dvlen_reclaim(mtype, mspace, H5P_DEFAULT, buf);
  if (status != LUA_OK)
    return luaL_error(L, "h5: cannot read '%s': %s", path, lua_tostring(L, -1));
  lua_remove(L, result);  /* the scratch buffer */
  return 1;
}

/* A 1-byte integer dataset (uint8 or int8), for the byte methods. */
static hsize_t check_byte_dataset(lua_State *L, h5_handle *h, const char *what,
                                  const char *path) {
  hid_t ft = H5Dget_type(h->id), space = H5Dget_space(h->id);
  int ok = ft >= 0 && space >= 0 && H5Tget_class(ft) == H5T_INTEGER && H5Tget_size(ft) == 1 &&
           H5Sget_simple_extent_type(space) == H5S_SIMPLE;
  hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : 0;
  if (ft >= 0) H5Tclose(ft);
  if (space >= 0) H5Sclose(space);
  H5Eclear2(H5E_DEFAULT);
  if (!ok) luaL_error(L, "h5: cannot %s '%s': not a uint8 or int8 array dataset", what, path);
  return (hsize_t)n;
}

/* d:read_bytes() -> string
 * The whole of a uint8 (or int8) dataset as one Lua string: the way to keep
 * compressed JSON or any other blob in a (chunked, compressed) uint8 dataset.
 * Pair with d:write_bytes(s) or create_dataset(name, {data =
 * h5.array.frombytes(s), ...}). */
static int dset_read_bytes(lua_State *L) {
  h5_handle *h = check_dataset(L, 1);
  const char *path = push_dset_name(L, h->id);
  hsize_t n = check_byte_dataset(L, h, "read bytes from", path);
  luaL_Buffer b;
  char *p = luaL_buffinitsize(L, &b, (size_t)n);
  if (n && H5Dread(h->id, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, p) < 0)
    return h5_raise(L, "cannot read '%s'", path);
  luaL_pushresultsize(&b, (size_t)n);
  return 1;
}

/* {====================================================================
 * Writing
 * ===================================================================== */

/* Equal shapes once dimensions of size 1 are left out ({1, 5} fits {5}). */
static int same_squeezed(int ra, const hsize_t *a, int rb, const hsize_t *b) {
  int i = 0, j = 0;
  for (;;) {
    while (i < ra && a[i] == 1) i++;
    while (j < rb && b[j] == 1) j++;
    if (i == ra || j == rb) return i == ra && j == rb;
    if (a[i++] != b[j++]) return 0;
  }
}

/* Push "{d1, d2, ...}". */
static void push_shape(lua_State *L, int rank, const hsize_t *dims) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '{');
  for (int i = 0; i < rank; i++) {
    if (i) luaL_addstring(&b, ", ");
    lua_pushfstring(L, "%I", (LUAI_UACINT)dims[i]);
    luaL_addvalue(&b);
  }
  luaL_addchar(&b, '}');
  luaL_pushresult(&b);
}

/* d:write(data[, sel1, sel2, ...])
 * Writes data into the selection (the whole dataset by default).  data is a
 * Lua value, a (nested) table or an h5.Array with as many elements as the
 * selection; a single value fills the whole selection.
 * Raises "h5: cannot write '<path>': <reason>". */
static int dset_write(lua_State *L) {
  h5_handle *h = check_dataset(L, 1);
  luaL_checkany(L, 2);
  int nsel = lua_gettop(L) - 2;
  const char *path = push_dset_name(L, h->id);
  h5_check_writable(L, 1, lua_pushfstring(L, "write '%s'", path));
  lua_pop(L, 1);
  hsize_t dims[H5S_MAX_RANK];
  H5S_class_t cls;
  int rank = dataset_extent(h->id, dims, NULL, &cls);
  if (rank < 0) return h5_raise(L, "cannot write '%s'", path);
  if (cls == H5S_NULL)
    return luaL_error(L, "h5: cannot write '%s': the dataset is empty (null dataspace)", path);
  h5_selection sel;
  h5_check_selection(L, 3, nsel, rank, dims, &sel);
  ids_t *r = ids_new(L);
  hid_t ftype = hold(r, H5Dget_type(h->id));
  hid_t fspace = hold(r, H5Dget_space(h->id));
  if (ftype < 0 || fspace < 0) return h5_raise(L, "cannot write '%s'", path);
  mem_data md;
  const char *err = prepare_data(L, 2, ftype, &md, r);
  if (err) return luaL_error(L, "h5: cannot write '%s': %s", path, err);
  if (md.n != sel.npoints) {
    if (md.rank == 0 && !lua_istable(L, 2) && !h5_array_test(L, 2))
      broadcast(L, &md, sel.npoints);
    else
      return luaL_error(L, "h5: cannot write '%s': %I values for a selection of %I elements",
                        path, (LUAI_UACINT)md.n, (LUAI_UACINT)sel.npoints);
  }
  if (md.rank > 1 && !same_squeezed(md.rank, md.dims, sel.out_rank, sel.out_shape)) {
    /* the same count in another shape would land transposed or scrambled */
    push_shape(L, md.rank, md.dims);
    push_shape(L, sel.out_rank, sel.out_shape);
    return luaL_error(L, "h5: cannot write '%s': data of shape %s for a selection of shape %s",
                      path, lua_tostring(L, -2), lua_tostring(L, -1));
  }
  if (sel.npoints == 0) return 0;
  if (h5_select(fspace, &sel) < 0) return h5_raise(L, "cannot select in '%s'", path);
  /* memory is laid out like the selection (row-major), so give it the
   * selection's shape: HDF5 then copies runs instead of mapping points */
  hid_t mspace = hold(r, sel.all ? H5Scopy(fspace)
                                 : H5Screate_simple(rank, sel.count, NULL));
  hid_t dxpl = hold(r, make_dxpl(sel.npoints, md.mtype, ftype));
  if (H5Dwrite(h->id, md.mtype, mspace, fspace, dxpl, md.buf) < 0)
    return h5_raise(L, "cannot write '%s'", path);
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
  hsize_t n = check_byte_dataset(L, h, "write bytes to", path);
  if (n != len) {
    hid_t space = H5Dget_space(h->id);
    int rank = H5Sget_simple_extent_ndims(space);
    hsize_t maxdims[H5S_MAX_RANK];
    H5Sget_simple_extent_dims(space, NULL, maxdims);
    H5Sclose(space);
    hid_t dcpl = H5Dget_create_plist(h->id);
    int chunked = dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED;
    if (dcpl >= 0) H5Pclose(dcpl);
    if (rank != 1 || !chunked || (maxdims[0] != H5S_UNLIMITED && maxdims[0] < len))
      return luaL_error(L, "h5: cannot write '%s': %d bytes for a dataset of %d (and it "
                           "cannot %s)", path, (int)len, (int)n, len > n ? "grow" : "shrink");
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
  lua_settop(L, 3);
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

/* The fill value as a Lua value (nil when it cannot be represented). */
static void push_fillvalue(lua_State *L, hid_t id) {
  lua_pushnil(L);  /* the result's slot */
  int base = lua_gettop(L);
  ids_t *r = ids_new(L);
  hid_t dcpl = hold(r, H5Dget_create_plist(id)), ft = hold(r, H5Dget_type(id));
  H5D_fill_value_t status = H5D_FILL_VALUE_UNDEFINED;
  H5Pfill_value_defined(dcpl, &status);
  hid_t mt = hold(r, h5_mem_type_for(L, ft));  /* pushes a message on failure */
  if (mt < 0) {
    lua_pushnil(L);
  } else if (status != H5D_FILL_VALUE_USER_DEFINED && h5_type_has_vlen(mt)) {
    /* the library default of a variable-length type is the empty value (and
     * asking HDF5 for it crashes h5py) */
    if (H5Tget_class(mt) == H5T_STRING) lua_pushliteral(L, "");
    else lua_pushnil(L);
  } else {
    size_t size = H5Tget_size(mt);
    void *buf = lua_newuserdatauv(L, size + 1, 0);
    memset(buf, 0, size + 1);
    hid_t scalar = hold(r, H5Screate(H5S_SCALAR));
    if (H5Pget_fill_value(dcpl, mt, buf) < 0) {
      lua_pushnil(L);
    } else {
      decode_args args = {mt, scalar, buf};
      lua_pushcfunction(L, decode_thunk);
      lua_pushlightuserdata(L, &args);
      if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        lua_pop(L, 1);
        lua_pushnil(L);
      }
      if (h5_type_has_vlen(mt)) H5Dvlen_reclaim(mt, scalar, H5P_DEFAULT, buf);
    }
  }
  H5Eclear2(H5E_DEFAULT);
  lua_replace(L, base);
  /* Close the holder by itself: Lua 5.4.4's lua_settop keeps a pointer into
   * the stack across the __close call, which may move the stack (valgrind:
   * invalid read in the REPL's printing of a dataset); lua_closeslot does not. */
  lua_closeslot(L, base + 1);
  lua_settop(L, base);
}

/* Properties: name, file, kind, attrs, shape, ndim, dtype, maxshape, chunks,
 * compression, compression_opts, shuffle, fletcher32, scaleoffset, filters,
 * fillvalue, size, nbytes, storage_size, layout, track_times. */
static int dset_property(lua_State *L, h5_handle *h, const char *key) {
  if (strcmp(key, "name") == 0) {
    h5_push_object_name(L, h->id);
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
    } else {
      /* counted here: a dataspace (damaged, or 2^62 x 4) can hold more
       * elements than 64 bits count, and libhdf5's count then wraps
       * (negative or 0; UBSan found the product below overflowing) */
      lua_Integer count = cls == H5S_NULL ? 0 : 1, bytes;
      int overflow = n < 0;
      for (int i = 0; i < rank && cls != H5S_NULL; i++)
        overflow |= dims[i] > (hsize_t)LUA_MAXINTEGER ||
                    __builtin_mul_overflow(count, (lua_Integer)dims[i], &count);
      bytes = count;
      if (key[0] == 'n') {
        hid_t t = H5Dget_type(h->id);
        size_t tsize = t >= 0 ? H5Tget_size(t) : 0;
        if (t >= 0) H5Tclose(t);
        overflow |= __builtin_mul_overflow(count, (lua_Integer)tsize, &bytes);
      }
      if (overflow) {
        h5_push_name(L, h->id);
        return luaL_error(L, "h5: cannot count the %s of '%s': its shape holds more elements "
                             "than a 64-bit integer counts (or its dataspace is damaged)", key,
                          lua_tostring(L, -1));
      }
      lua_pushinteger(L, bytes);
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
  const char *path = h5_push_path(L, loc->id, name);  /* 4 */
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
    if (!same) {
      const char *have = push_dims_text(L, rank, dims);
      const char *wanted = push_dims_text(L, wrank > 0 ? wrank : 0, want);
      return luaL_error(L, "h5: cannot require dataset '%s': it has shape %s, not %s", path,
                        have, wanted);
    }
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
      return luaL_error(L, "h5: cannot require dataset '%s': it has dtype %s, not %s", path,
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
  const char *path = push_dset_name(L, h->id);
  if (H5Dflush(h->id) < 0) return h5_raise(L, "cannot flush '%s'", path);
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
  const char *name = (h5_push_object_name(L, h->id), lua_tostring(L, -1));
  luaL_Buffer b;
  luaL_buffinit(L, &b);  /* the name stays below the buffer */
  if (name) {
    luaL_addstring(&b, "<h5.Dataset \"");
    luaL_addstring(&b, name);
    luaL_addstring(&b, "\": ");
  } else {
    luaL_addstring(&b, "<h5.Dataset (anonymous): ");
  }
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

/* g[name] = value, as h5py's `g[name] = data`: a dataset made from value as
 * create_dataset(name, value) makes it, kept without a handle (a string: a
 * scalar string, the store's one-call write); an h5 Group or Dataset gets a
 * hard link.  nil is refused: removing is g:delete(name).  So is a number
 * key (as h5py refuses one): g[1] reads nil, so g[1] = v would make a "1"
 * it cannot read back. */
static int location_newindex(lua_State *L) {
  h5_handle *loc = h5_check_location(L, 1);
  if (lua_type(L, 2) != LUA_TSTRING) luaL_typeerror(L, 2, "string");
  const char *name = h5_check_path(L, 2);
  lua_settop(L, 3);
  if (lua_isnil(L, 3)) {
    lua_pushfstring(L, "h5: cannot assign nil to '%s' (remove it with :delete)",
                    h5_push_path(L, loc->id, name));
    return lua_error(L);
  }
  /* raised here, not by a callee: luaL_error would prefix the script's
   * position, which no other h5 message has */
  if (!h5_is_writable(loc)) {
    lua_pushfstring(L, "h5: cannot create '%s': the file is open read-only (open it with "
                    "mode 'r+' or 'a')", h5_push_path(L, loc->id, name));
    return lua_error(L);
  }
  if (lua_type(L, 3) == LUA_TSTRING) return create_scalar_string(L, loc, name, 0);
  h5_handle *obj = h5_test_object(L, 3);
  if (obj && (obj->kind == H5K_GROUP || obj->kind == H5K_DATASET)) {
    if (!h5_is_open(obj)) {
      lua_pushliteral(L, "h5: cannot link a closed object");
      return lua_error(L);
    }
    if (H5Olink(obj->id, loc->id, name, h5_lcpl(name), H5P_DEFAULT) < 0) {
      h5_push_error(L, "cannot create link '%s'", h5_push_path(L, loc->id, name));
      if (h5_link_exists(loc->id, name)) {
        lua_pushfstring(L, "h5: cannot create link '%s': name already exists",
                        h5_push_path(L, loc->id, name));
      }
      H5Eclear2(H5E_DEFAULT);
      return lua_error(L);
    }
    return 0;
  }
  dset_create(L);  /* in this frame, so argument errors name 'newindex' */
  h5_close_handle(lua_touserdata(L, -1));
  return 0;
}

static const luaL_Reg location_methods[] = {
  {"create_dataset", dset_create},
  {"require_dataset", dset_require},
  {NULL, NULL}
};

static const luaL_Reg ids_meta[] = {
  {"__close", ids_release},
  {"__gc", ids_release},
  {NULL, NULL}
};

void h5_open_dataset(lua_State *L) {
  luaL_newmetatable(L, IDS_TNAME);
  luaL_setfuncs(L, ids_meta, 0);
  lua_pop(L, 1);
  h5_new_metatable(L, H5_DATASET, dset_meta, dset_methods);
  h5_add_location_methods(L, location_methods);
  const char *locations[] = { H5_GROUP, H5_FILE };
  for (int i = 0; i < 2; i++) {
    luaL_getmetatable(L, locations[i]);
    lua_pushcfunction(L, location_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pop(L, 1);
  }
  lua_pushinteger(L, UNLIMITED);
  lua_setfield(L, -2, "UNLIMITED");
}
