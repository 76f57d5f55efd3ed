/*
 * array.c -- h5.Array: typed numeric arrays in one Lua-owned block.
 *
 * Numbers read from a dataset travel as an h5.Array: a header (type, shape)
 * followed by the elements, row-major, in the same userdata (as lua-hdf5's
 * buffer did).  No malloc and no __gc: Lua owns and frees the memory.
 * Indexing is 1-based: a[i] is flat, a:get(i, j, ...) per dimension.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "h5_internal.h"

/* Arrays from this size up ask for transparent huge pages, as numpy does:
 * HDF5 gathers chunks from strided rows, which is TLB-bound on 4 KiB pages
 * (gzip+shuffle writes of 256 MiB ran ~30% slower than numpy's without). */
#define HUGE_ARRAY (4u << 20)

static void advise_huge(void *p, size_t len) {
#ifdef MADV_HUGEPAGE
  if (len < HUGE_ARRAY) return;
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t start = ((uintptr_t)p + page - 1) & ~(page - 1);
  uintptr_t end = ((uintptr_t)p + len) & ~(page - 1);
  if (end > start) madvise((void *)start, end - start, MADV_HUGEPAGE);  /* advice only */
#else
  (void)p;
  (void)len;
#endif
}

/* {====================================================================
 * Element types
 * ===================================================================== */

static const struct {
  const char *name;
  size_t size;
} atypes[H5A_NTYPES] = {
  {"int8", 1}, {"uint8", 1}, {"int16", 2}, {"uint16", 2}, {"int32", 4}, {"uint32", 4},
  {"int64", 8}, {"uint64", 8}, {"float32", 4}, {"float64", 8}, {"bool", 1},
};

size_t h5_atype_size(int atype) { return atypes[atype].size; }
const char *h5_atype_name(int atype) { return atypes[atype].name; }

int h5_atype_from_name(const char *name) {
  for (int i = 0; i < H5A_NTYPES; i++)
    if (strcmp(atypes[i].name, name) == 0) return i;
  return -1;
}

hid_t h5_atype_mem_type(int atype) {
  static const hid_t *const natives[] = {
    &H5T_NATIVE_INT8_g, &H5T_NATIVE_UINT8_g, &H5T_NATIVE_INT16_g, &H5T_NATIVE_UINT16_g,
    &H5T_NATIVE_INT32_g, &H5T_NATIVE_UINT32_g, &H5T_NATIVE_INT64_g, &H5T_NATIVE_UINT64_g,
    &H5T_NATIVE_FLOAT_g, &H5T_NATIVE_DOUBLE_g,
  };
  if (atype == H5A_BOOL) return h5_bool_type();
  return H5Tcopy(*natives[atype]);
}

/* Integer and float HDF5 types map to the array type of the same width
 * (half floats and long doubles to the nearest native float); h5py's bool
 * enum maps to bool; everything else is not a plain number. */
int h5_atype_of(hid_t type) {
  size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_INTEGER: {
      int u = H5Tget_sign(type) == H5T_SGN_NONE;
      switch (size) {
        case 1: return u ? H5A_UINT8 : H5A_INT8;
        case 2: return u ? H5A_UINT16 : H5A_INT16;
        case 4: return u ? H5A_UINT32 : H5A_INT32;
        case 8: return u ? H5A_UINT64 : H5A_INT64;
        default: return -1;
      }
    }
    case H5T_FLOAT:
      return size <= 4 ? H5A_FLOAT32 : H5A_FLOAT64;
    case H5T_ENUM: {
      hid_t b = h5_bool_type();
      /* h5py's bool: exactly FALSE=0, TRUE=1 over a 1-byte integer */
      int is_bool = H5Tget_size(type) == 1 && H5Tget_nmembers(type) == 2;
      if (is_bool) {
        char *n0 = H5Tget_member_name(type, 0), *n1 = H5Tget_member_name(type, 1);
        int8_t v0 = -1, v1 = -1;
        H5Tget_member_value(type, 0, &v0);
        H5Tget_member_value(type, 1, &v1);
        is_bool = n0 && n1 && strcmp(n0, "FALSE") == 0 && strcmp(n1, "TRUE") == 0 &&
                  v0 == 0 && v1 == 1;
        H5free_memory(n0);
        H5free_memory(n1);
      }
      H5Tclose(b);
      return is_bool ? H5A_BOOL : -1;
    }
    default:
      return -1;
  }
}

/* {====================================================================
 * Construction
 * ===================================================================== */

h5_array *h5_array_alloc(lua_State *L, int atype, int ndim, const hsize_t *shape) {
  size_t n = 1, esize = h5_atype_size(atype);
  for (int i = 0; i < ndim; i++) {
    if (shape[i] && n > (SIZE_MAX / 4) / esize / (size_t)shape[i])
      luaL_error(L, "h5: array too large");
    n *= (size_t)shape[i];
  }
  h5_array *a = lua_newuserdatauv(L, sizeof(h5_array) + n * esize, 0);
  advise_huge(a->data, n * esize);
  a->atype = atype;
  a->ndim = ndim;
  a->n = n;
  memset(a->shape, 0, sizeof a->shape);
  if (ndim) memcpy(a->shape, shape, (size_t)ndim * sizeof *shape);
  luaL_setmetatable(L, H5_ARRAY);
  return a;
}

h5_array *h5_array_new(lua_State *L, int atype, int ndim, const hsize_t *shape) {
  h5_array *a = h5_array_alloc(L, atype, ndim, shape);
  memset(a->data, 0, a->n * h5_atype_size(atype));
  return a;
}

h5_array *h5_array_test(lua_State *L, int idx) {
  return luaL_testudata(L, idx, H5_ARRAY);
}

h5_array *h5_array_check(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, H5_ARRAY);
}

static int check_atype(lua_State *L, int idx) {
  const char *name = luaL_checkstring(L, idx);
  int t = h5_atype_from_name(name);
  if (t < 0)
    luaL_argerror(L, idx, lua_pushfstring(L, "unknown array dtype '%s' (expected int8, "
                                             "uint8, ..., int64, uint64, float32, float64 "
                                             "or bool)", name));
  return t;
}

/* A shape argument: an integer n ({n}) or a table of sizes ({} = scalar). */
static int check_shape(lua_State *L, int idx, hsize_t *shape) {
  if (lua_isinteger(L, idx)) {
    lua_Integer n = lua_tointeger(L, idx);
    if (n < 0) luaL_argerror(L, idx, "negative dimension size");
    shape[0] = (hsize_t)n;
    return 1;
  }
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_Integer rank = (lua_Integer)lua_rawlen(L, idx);
  if (rank > H5S_MAX_RANK) luaL_argerror(L, idx, "more than 32 dimensions");
  for (lua_Integer i = 1; i <= rank; i++) {
    int isint;
    lua_rawgeti(L, idx, i);
    lua_Integer n = lua_tointegerx(L, -1, &isint);
    lua_pop(L, 1);
    if (!isint || n < 0)
      luaL_argerror(L, idx, "shape must list non-negative integers");
    shape[i - 1] = (hsize_t)n;
  }
  return (int)rank;
}

/* {====================================================================
 * Element access
 * ===================================================================== */

static void push_elem(lua_State *L, const h5_array *a, size_t i) {
  const char *p = (const char *)a->data + i * h5_atype_size(a->atype);
  switch (a->atype) {
    case H5A_INT8: lua_pushinteger(L, *(const int8_t *)p); break;
    case H5A_UINT8: lua_pushinteger(L, *(const uint8_t *)p); break;
    case H5A_INT16: lua_pushinteger(L, *(const int16_t *)p); break;
    case H5A_UINT16: lua_pushinteger(L, *(const uint16_t *)p); break;
    case H5A_INT32: lua_pushinteger(L, *(const int32_t *)p); break;
    case H5A_UINT32: lua_pushinteger(L, *(const uint32_t *)p); break;
    case H5A_INT64: lua_pushinteger(L, *(const int64_t *)p); break;
    case H5A_UINT64: {
      uint64_t v = *(const uint64_t *)p;
      if (v > (uint64_t)INT64_MAX) lua_pushnumber(L, (lua_Number)v);
      else lua_pushinteger(L, (lua_Integer)v);
      break;
    }
    case H5A_FLOAT32: lua_pushnumber(L, *(const float *)p); break;
    case H5A_FLOAT64: lua_pushnumber(L, *(const double *)p); break;
    default: lua_pushboolean(L, *(const int8_t *)p != 0); break;
  }
}

/* Element i as a double (for min/max/sum/mean). */
static double elem_double(const h5_array *a, size_t i) {
  const char *p = (const char *)a->data + i * h5_atype_size(a->atype);
  switch (a->atype) {
    case H5A_INT8: case H5A_BOOL: return *(const int8_t *)p;
    case H5A_UINT8: return *(const uint8_t *)p;
    case H5A_INT16: return *(const int16_t *)p;
    case H5A_UINT16: return *(const uint16_t *)p;
    case H5A_INT32: return *(const int32_t *)p;
    case H5A_UINT32: return *(const uint32_t *)p;
    case H5A_INT64: return (double)*(const int64_t *)p;
    case H5A_UINT64: return (double)*(const uint64_t *)p;
    case H5A_FLOAT32: return *(const float *)p;
    default: return *(const double *)p;
  }
}

static int is_integer_type(int atype) { return atype <= H5A_UINT64; }

/* Store the Lua value at idx into element i; returns NULL or an error. */
static const char *store_elem(lua_State *L, h5_array *a, size_t i, int idx) {
  char *p = (char *)a->data + i * h5_atype_size(a->atype);
  if (a->atype == H5A_BOOL) {
    if (lua_isboolean(L, idx)) *(int8_t *)p = (int8_t)lua_toboolean(L, idx);
    else if (lua_isinteger(L, idx) && (lua_tointeger(L, idx) & ~(lua_Integer)1) == 0)
      *(int8_t *)p = (int8_t)lua_tointeger(L, idx);
    else return "bool arrays hold booleans";
    return NULL;
  }
  if (lua_type(L, idx) != LUA_TNUMBER) return "arrays hold numbers";
  if (a->atype == H5A_FLOAT64) { *(double *)p = lua_tonumber(L, idx); return NULL; }
  if (a->atype == H5A_FLOAT32) { *(float *)p = (float)lua_tonumber(L, idx); return NULL; }
  if (a->atype == H5A_UINT64 && !lua_isinteger(L, idx)) {
    lua_Number d = lua_tonumber(L, idx);
    if (!(d >= 0 && d < 18446744073709551616.0) || d != floor(d))
      return "number out of range for uint64";
    *(uint64_t *)p = (uint64_t)d;
    return NULL;
  }
  int isint;
  lua_Integer v = lua_tointegerx(L, idx, &isint);
  if (!isint) return "number has no integer representation";
  static const lua_Integer lo[] = {INT8_MIN, 0, INT16_MIN, 0, INT32_MIN, 0, INT64_MIN, 0};
  static const lua_Integer hi[] = {INT8_MAX, UINT8_MAX, INT16_MAX, UINT16_MAX, INT32_MAX,
                                   UINT32_MAX, INT64_MAX, INT64_MAX};
  static const char *const range_msg[] = {
    "value out of range for int8", "value out of range for uint8",
    "value out of range for int16", "value out of range for uint16",
    "value out of range for int32", "value out of range for uint32",
    "value out of range for int64", "value out of range for uint64"};
  if (v < lo[a->atype] || v > hi[a->atype]) return range_msg[a->atype];
  switch (a->atype) {
    case H5A_INT8: *(int8_t *)p = (int8_t)v; break;
    case H5A_UINT8: *(uint8_t *)p = (uint8_t)v; break;
    case H5A_INT16: *(int16_t *)p = (int16_t)v; break;
    case H5A_UINT16: *(uint16_t *)p = (uint16_t)v; break;
    case H5A_INT32: *(int32_t *)p = (int32_t)v; break;
    case H5A_UINT32: *(uint32_t *)p = (uint32_t)v; break;
    case H5A_INT64: *(int64_t *)p = (int64_t)v; break;
    default: *(uint64_t *)p = (uint64_t)v; break;
  }
  return NULL;
}

const char *h5_array_store(lua_State *L, h5_array *a, size_t i, int idx) {
  return store_elem(L, a, i, idx);
}

/* Flat 1-based index at idx (negative counts from the end) -> 0-based. */
static size_t check_flat_index(lua_State *L, const h5_array *a, int idx) {
  int isint;
  lua_Integer i = lua_tointegerx(L, idx, &isint), n = (lua_Integer)a->n;
  if (!isint) luaL_error(L, "h5: array index must be an integer");
  lua_Integer j = i < 0 ? i + n + 1 : i;
  if (j < 1 || j > n)
    luaL_error(L, "h5: array index %I out of range (%I elements)", (LUAI_UACINT)i,
               (LUAI_UACINT)n);
  return (size_t)(j - 1);
}

/* Indices i, j, ... (one per dimension) starting at stack idx -> flat. */
static size_t check_indices(lua_State *L, const h5_array *a, int idx, int nidx) {
  if (a->ndim == 0 && nidx == 0) return 0;
  if (nidx != a->ndim)
    luaL_error(L, "h5: array has %d dimensions, got %d indices", a->ndim, nidx);
  size_t flat = 0;
  for (int d = 0; d < a->ndim; d++) {
    lua_Integer i = luaL_checkinteger(L, idx + d);
    lua_Integer n = (lua_Integer)a->shape[d];
    if (i < 0) i += n + 1;
    if (i < 1 || i > n)
      luaL_argerror(L, idx + d, lua_pushfstring(L, "index %I out of range for dimension %d "
                                                   "(size %I)", (LUAI_UACINT)lua_tointeger(L, idx + d),
                                                d + 1, (LUAI_UACINT)n));
    flat = flat * (size_t)n + (size_t)(i - 1);
  }
  return flat;
}

/* {====================================================================
 * Tables -> arrays
 * ===================================================================== */

/* Walk the nested table at idx: check it is rectangular and either find the
 * widest element type (*infer) or store elements into a (a != NULL). */
static const char *walk_table(lua_State *L, int idx, int depth, int ndim, const hsize_t *shape,
                              int *infer, h5_array *a, size_t *pos) {
  if ((hsize_t)lua_rawlen(L, idx) != shape[depth])
    return "nested tables are not rectangular (rows differ in length)";
  for (lua_Integer i = 1; i <= (lua_Integer)shape[depth]; i++) {
    int t = lua_rawgeti(L, idx, i);
    const char *err = NULL;
    if (depth + 1 < ndim) {
      if (t == LUA_TTABLE)
        err = walk_table(L, lua_absindex(L, -1), depth + 1, ndim, shape, infer, a, pos);
      else
        err = "nested tables are not rectangular (a row is not a table)";
    } else if (a) {
      err = store_elem(L, a, (*pos)++, -1);
    } else if (t == LUA_TNUMBER) {
      int k = lua_isinteger(L, -1) ? H5A_INT64 : H5A_FLOAT64;
      if (*infer == H5A_BOOL) err = "array mixes booleans and numbers";
      else if (*infer < 0 || k == H5A_FLOAT64) *infer = k;
    } else if (t == LUA_TBOOLEAN) {
      if (*infer >= 0 && *infer != H5A_BOOL) err = "array mixes booleans and numbers";
      *infer = H5A_BOOL;
    } else if (t == LUA_TTABLE) {
      err = "nested tables are not rectangular (a row holds a table)";
    } else {
      err = "arrays hold numbers or booleans";
    }
    lua_pop(L, 1);
    if (err) return err;
  }
  return NULL;
}

const char *h5_array_from_table(lua_State *L, int idx, int atype) {
  idx = lua_absindex(L, idx);
  int ndim;
  hsize_t shape[H5S_MAX_RANK];
  const char *err = h5_table_shape(L, idx, shape, &ndim);
  int infer = -1;
  if (!err) err = walk_table(L, idx, 0, ndim, shape, &infer, NULL, NULL);
  if (err) return err;
  if (atype < 0) atype = infer < 0 ? H5A_FLOAT64 : infer;  /* empty: float64, as numpy */
  h5_array *a = h5_array_new(L, atype, ndim, shape);
  size_t pos = 0;
  err = walk_table(L, idx, 0, ndim, shape, &infer, a, &pos);
  if (err) {
    lua_pop(L, 1);
    return err;
  }
  return NULL;
}

/* {====================================================================
 * Module functions: h5.array.*
 * ===================================================================== */

/* h5.array.new(dtype, shape[, fill]) -> Array
 * shape: integer or {n1, n2, ...} ({} is a single value).  Elements are 0
 * (false) unless fill is given. */
static int array_new(lua_State *L) {
  lua_settop(L, 3);
  int atype = check_atype(L, 1);
  hsize_t shape[H5S_MAX_RANK];
  int ndim = check_shape(L, 2, shape);
  h5_array *a = h5_array_new(L, atype, ndim, shape);
  if (!lua_isnoneornil(L, 3) && a->n) {
    const char *err = store_elem(L, a, 0, 3);
    if (err) return luaL_argerror(L, 3, err);
    size_t es = h5_atype_size(atype);
    for (size_t i = 1; i < a->n; i++) memcpy((char *)a->data + i * es, a->data, es);
  }
  return 1;
}

/* h5.array.from(table[, dtype]) -> Array
 * From a (nested, rectangular) table of numbers or booleans; the dtype is
 * int64 when every number is an integer, float64 otherwise, bool for booleans.
 * An Array argument is copied (converted to dtype when given). */
static int array_from(lua_State *L);

/* h5.array.frombytes(s[, dtype]) -> Array   1-D, the bytes of s (uint8) */
static int array_frombytes(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  int atype = lua_isnoneornil(L, 2) ? H5A_UINT8 : check_atype(L, 2);
  size_t es = h5_atype_size(atype);
  if (len % es)
    return luaL_argerror(L, 1, lua_pushfstring(L, "length %d is not a multiple of the %s "
                                                  "size (%d)", (int)len, h5_atype_name(atype),
                                               (int)es));
  hsize_t n = len / es;
  h5_array *a = h5_array_new(L, atype, 1, &n);
  memcpy(a->data, s, len);
  return 1;
}

/* h5.array.range(first, last[, step[, dtype]]) -> Array
 * 1-D: first, first+step, ... up to last inclusive (as Lua's numeric for).
 * int64 when all arguments are integers, else float64. */
static int array_range(lua_State *L) {
  luaL_checknumber(L, 1);
  luaL_checknumber(L, 2);
  int all_int = lua_isinteger(L, 1) && lua_isinteger(L, 2) &&
                (lua_isnoneornil(L, 3) || lua_isinteger(L, 3));
  int atype = lua_isnoneornil(L, 4) ? (all_int ? H5A_INT64 : H5A_FLOAT64) : check_atype(L, 4);
  hsize_t n;
  if (all_int) {
    lua_Integer first = lua_tointeger(L, 1), last = lua_tointeger(L, 2);
    lua_Integer step = luaL_optinteger(L, 3, 1);
    if (step == 0) return luaL_argerror(L, 3, "step is zero");
    /* unsigned: last - first may not fit in a lua_Integer */
    if (step > 0 ? last < first : last > first) {
      n = 0;
    } else {
      lua_Unsigned span = step > 0 ? (lua_Unsigned)last - (lua_Unsigned)first
                                   : (lua_Unsigned)first - (lua_Unsigned)last;
      lua_Unsigned ustep = step > 0 ? (lua_Unsigned)step : 0u - (lua_Unsigned)step;
      if (span / ustep >= ((lua_Unsigned)1 << 48)) return luaL_error(L, "h5: array too large");
      n = (hsize_t)(span / ustep) + 1;
    }
    h5_array *a = h5_array_new(L, atype, 1, &n);
    for (hsize_t i = 0; i < n; i++) {
      lua_pushinteger(L, first + (lua_Integer)i * step);
      const char *err = store_elem(L, a, (size_t)i, -1);
      lua_pop(L, 1);
      if (err) return luaL_error(L, "h5: %s", err);
    }
    return 1;
  }
  lua_Number first = lua_tonumber(L, 1), last = lua_tonumber(L, 2);
  lua_Number step = luaL_optnumber(L, 3, 1);
  if (step == 0) return luaL_argerror(L, 3, "step is zero");
  for (int i = 1; i <= 3; i++) {
    lua_Number x = i == 1 ? first : i == 2 ? last : step;
    if (!isfinite(x)) return luaL_argerror(L, i, "not a finite number");
  }
  lua_Number cnt = floor((last - first) / step + 1e-9) + 1;
  if (cnt >= (lua_Number)((hsize_t)1 << 48)) return luaL_error(L, "h5: array too large");
  n = (hsize_t)(cnt > 0 ? cnt : 0);
  h5_array *a = atype == H5A_FLOAT64 ? h5_array_alloc(L, atype, 1, &n)  /* all written below */
                                     : h5_array_new(L, atype, 1, &n);
  if (atype == H5A_FLOAT64) {  /* the common case, without a Lua value per element */
    for (hsize_t i = 0; i < n; i++) a->data[i] = first + (lua_Number)i * step;
    return 1;
  }
  for (hsize_t i = 0; i < n; i++) {
    lua_pushnumber(L, first + (lua_Number)i * step);
    const char *err = store_elem(L, a, (size_t)i, -1);
    lua_pop(L, 1);
    if (err) return luaL_error(L, "h5: %s", err);
  }
  return 1;
}

/* {====================================================================
 * Methods
 * ===================================================================== */

/* a:get(i, j, ...) -> value   (one 1-based index per dimension) */
static int array_get(lua_State *L) {
  h5_array *a = h5_array_check(L, 1);
  push_elem(L, a, check_indices(L, a, 2, lua_gettop(L) - 1));
  return 1;
}

/* a:set(value, i, j, ...)   (one 1-based index per dimension; value first, as
 * the index list has a variable length) */
static int array_set(lua_State *L) {
  h5_array *a = h5_array_check(L, 1);
  int top = lua_gettop(L);
  if (top < 2) return luaL_error(L, "h5: a:set(value, i, ...) needs a value");
  size_t i = check_indices(L, a, 3, top - 2);
  const char *err = store_elem(L, a, i, 2);
  if (err) return luaL_argerror(L, 2, err);
  return 0;
}

static void push_nested(lua_State *L, const h5_array *a, int d, size_t *pos) {
  lua_createtable(L, (int)a->shape[d], 0);
  for (hsize_t i = 0; i < a->shape[d]; i++) {
    if (d + 1 < a->ndim) push_nested(L, a, d + 1, pos);
    else push_elem(L, a, (*pos)++);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/* a:totable() -> nested table (a single value for a 0-dimensional array) */
static int array_totable(lua_State *L) {
  h5_array *a = h5_array_check(L, 1);
  if (a->ndim == 0) {
    push_elem(L, a, 0);
    return 1;
  }
  size_t pos = 0;
  push_nested(L, a, 0, &pos);
  return 1;
}

/* a:tobytes() -> string   (the raw elements, native byte order) */
static int array_tobytes(lua_State *L) {
  h5_array *a = h5_array_check(L, 1);
  lua_pushlstring(L, (const char *)a->data, a->n * h5_atype_size(a->atype));
  return 1;
}

/* a:reshape(shape) -> Array   A copy with the same elements; one size may be -1. */
static int array_reshape(lua_State *L) {
  h5_array *a = h5_array_check(L, 1);
  hsize_t shape[H5S_MAX_RANK];
  int ndim, unknown = -1;
  size_t known = 1;
  if (lua_isinteger(L, 2)) {
    lua_Integer n = lua_tointeger(L, 2);
    ndim = 1;
    if (n == -1) unknown = 0, shape[0] = 0;
    else if (n < 0) return luaL_argerror(L, 2, "negative dimension size");
    else shape[0] = (hsize_t)n, known = (size_t)n;
  } else {
    luaL_checktype(L, 2, LUA_TTABLE);
    ndim = (int)lua_rawlen(L, 2);
    if (ndim > H5S_MAX_RANK) return luaL_argerror(L, 2, "more than 32 dimensions");
    for (int i = 0; i < ndim; i++) {
      int isint;
      lua_rawgeti(L, 2, i + 1);
      lua_Integer n = lua_tointegerx(L, -1, &isint);
      lua_pop(L, 1);
      if (isint && n == -1 && unknown < 0) {
        unknown = i;
        shape[i] = 0;
      } else if (!isint || n < 0) {
        return luaL_argerror(L, 2, "shape must list non-negative integers (one may be -1)");
      } else {
        shape[i] = (hsize_t)n;
        known *= (size_t)n;
      }
    }
  }
  if (unknown >= 0 && known) shape[unknown] = a->n / known;
  size_t n = 1;
  for (int i = 0; i < ndim; i++) n *= (size_t)shape[i];
  if (n != a->n)
    return luaL_argerror(L, 2, lua_pushfstring(L, "cannot reshape %d elements into %d",
                                               (int)a->n, (int)n));
  h5_array *b = h5_array_new(L, a->atype, ndim, shape);
  memcpy(b->data, a->data, a->n * h5_atype_size(a->atype));
  return 1;
}

/* a:copy() -> Array */
static int array_copy(lua_State *L) {
  h5_array *a = h5_array_check(L, 1);
  h5_array *b = h5_array_new(L, a->atype, a->ndim, a->shape);
  memcpy(b->data, a->data, a->n * h5_atype_size(a->atype));
  return 1;
}

/* Convert a's elements into b (same count) with HDF5's converter, which
 * handles every pair of numeric types (out-of-range values are clamped, as
 * HDF5 does when it converts while reading). */
typedef struct conv_trap {
  int except;        /* the H5T_conv_except_t that stopped the conversion, or 0 */
  int to_integer;    /* NaN and infinities are out of range only for integers */
  int from_float64;
} conv_trap;

static H5T_conv_ret_t conv_except(H5T_conv_except_t e, hid_t src, hid_t dst, void *src_buf,
                                  void *dst_buf, void *data) {
  (void)src, (void)dst, (void)src_buf, (void)dst_buf;
  conv_trap *trap = data;
  if (e == H5T_CONV_EXCEPT_TRUNCATE || e == H5T_CONV_EXCEPT_PRECISION) return H5T_CONV_UNHANDLED;
  if (!trap->to_integer) {
    /* float64 -> float32: infinities and NaN stay what they are */
    double v = 0;
    if (trap->from_float64 && src_buf) memcpy(&v, src_buf, sizeof v);
    if (e == H5T_CONV_EXCEPT_NAN || e == H5T_CONV_EXCEPT_PINF || e == H5T_CONV_EXCEPT_NINF ||
        !isfinite(v))
      return H5T_CONV_UNHANDLED;
  }
  trap->except = (int)e;
  return H5T_CONV_ABORT;
}

static const char *convert_into(lua_State *L, const h5_array *a, h5_array *b) {
  size_t as = h5_atype_size(a->atype), bs = h5_atype_size(b->atype);
  if (a->atype == b->atype) {
    memcpy(b->data, a->data, a->n * as);
    return NULL;
  }
  if (b->atype == H5A_BOOL) {
    for (size_t i = 0; i < a->n; i++) ((int8_t *)b->data)[i] = elem_double(a, i) != 0;
    return NULL;
  }
  int src = a->atype == H5A_BOOL ? H5A_INT8 : a->atype;
  size_t big = as > bs ? as : bs;
  char *scratch = lua_newuserdatauv(L, a->n * big + 1, 0);  /* Lua-owned */
  memcpy(scratch, a->data, a->n * as);
  hid_t st = h5_atype_mem_type(src), dt = h5_atype_mem_type(b->atype);
  /* HDF5 clips out-of-range values silently; stop at the first one instead
   * (truncating a fraction stays allowed, as in numpy) */
  conv_trap trap = {0, H5Tget_class(dt) == H5T_INTEGER, src == H5A_FLOAT64};
  if (trap.to_integer && (src == H5A_FLOAT64 || src == H5A_FLOAT32)) {
    for (size_t i = 0; i < a->n; i++)  /* HDF5 turns NaN into INT_MIN without a word */
      if (isnan(elem_double(a, i))) {
        H5Tclose(st);
        H5Tclose(dt);
        lua_pop(L, 1);  /* scratch */
        return "NaN has no integer representation";
      }
  }
  hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_type_conv_cb(dxpl, conv_except, &trap);
  herr_t r = H5Tconvert(st, dt, a->n, scratch, NULL, dxpl);
  H5Pclose(dxpl);
  H5Tclose(st);
  H5Tclose(dt);
  if (r >= 0) memcpy(b->data, scratch, a->n * bs);
  lua_pop(L, 1);  /* scratch */
  if (r < 0) {
    H5Eclear2(H5E_DEFAULT);
    switch (trap.except) {
      case H5T_CONV_EXCEPT_RANGE_HI:
      case H5T_CONV_EXCEPT_RANGE_LOW:
        return lua_pushfstring(L, "value out of range for %s", h5_atype_name(b->atype));
      case H5T_CONV_EXCEPT_NAN: return "NaN has no integer representation";
      case H5T_CONV_EXCEPT_PINF:
      case H5T_CONV_EXCEPT_NINF: return "infinity has no integer representation";
      default: return "conversion failed";
    }
  }
  return NULL;
}

/* a:astype(dtype) -> Array   A converted copy (errors on values out of range). */
static int array_astype(lua_State *L) {
  h5_array *a = h5_array_check(L, 1);
  int atype = check_atype(L, 2);
  h5_array *b = h5_array_new(L, atype, a->ndim, a->shape);
  const char *err = convert_into(L, a, b);
  if (err) return luaL_error(L, "h5: cannot convert %s to %s: %s", h5_atype_name(a->atype),
                             h5_atype_name(atype), err);
  return 1;
}

static int array_from(lua_State *L) {
  int atype = lua_isnoneornil(L, 2) ? -1 : check_atype(L, 2);
  h5_array *src = h5_array_test(L, 1);
  if (src) {
    if (atype < 0) return array_copy(L);
    lua_settop(L, 2);
    return array_astype(L);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  if (lua_rawlen(L, 1) == 0) {  /* {} is an empty list; {x = 1} is not a list */
    lua_pushnil(L);
    if (lua_next(L, 1))
      return luaL_argerror(L, 1, "a table whose keys are not 1..n is not a list of numbers");
  }
  const char *err = h5_array_from_table(L, 1, atype);
  if (err) return luaL_argerror(L, 1, err);
  return 1;
}

/* a:fill(value) -> a   Sets every element. */
static int array_fill(lua_State *L) {
  h5_array *a = h5_array_check(L, 1);
  luaL_checkany(L, 2);
  if (a->n == 0) return lua_settop(L, 1), 1;
  const char *err = store_elem(L, a, 0, 2);
  if (err) return luaL_argerror(L, 2, err);
  size_t es = h5_atype_size(a->atype);
  for (size_t i = 1; i < a->n; i++) memcpy((char *)a->data + i * es, a->data, es);
  lua_settop(L, 1);
  return 1;
}

/* a:min(), a:max() -> value | nil (empty array); NaN wins as in numpy. */
static int minmax(lua_State *L, int want_max) {
  h5_array *a = h5_array_check(L, 1);
  if (a->n == 0) return lua_pushnil(L), 1;
  size_t best = 0;
  double bv = elem_double(a, 0);
  int exact64 = a->atype == H5A_INT64 || a->atype == H5A_UINT64;
  for (size_t i = 1; i < a->n && bv == bv; i++) {
    double v = elem_double(a, i);
    int better;
    if (exact64) {  /* compare 64-bit integers exactly, not through double */
      if (a->atype == H5A_INT64) {
        int64_t x = ((const int64_t *)a->data)[i], y = ((const int64_t *)a->data)[best];
        better = want_max ? x > y : x < y;
      } else {
        uint64_t x = ((const uint64_t *)a->data)[i], y = ((const uint64_t *)a->data)[best];
        better = want_max ? x > y : x < y;
      }
    } else {
      better = v != v || (want_max ? v > bv : v < bv);
    }
    if (better) best = i, bv = v;
  }
  push_elem(L, a, best);
  return 1;
}

static int array_min(lua_State *L) { return minmax(L, 0); }
static int array_max(lua_State *L) { return minmax(L, 1); }

/* a:sum() -> number  (integer for integer and bool arrays, wrapping as Lua) */
static int array_sum(lua_State *L) {
  h5_array *a = h5_array_check(L, 1);
  if (is_integer_type(a->atype) || a->atype == H5A_BOOL) {
    lua_Unsigned s = 0;
    for (size_t i = 0; i < a->n; i++) {
      if (a->atype == H5A_INT64) s += (lua_Unsigned)((const int64_t *)a->data)[i];
      else if (a->atype == H5A_UINT64) s += (lua_Unsigned)((const uint64_t *)a->data)[i];
      else s += (lua_Unsigned)(lua_Integer)elem_double(a, i);
    }
    lua_pushinteger(L, (lua_Integer)s);
    return 1;
  }
  double s = 0;
  for (size_t i = 0; i < a->n; i++) s += elem_double(a, i);
  lua_pushnumber(L, s);
  return 1;
}

/* a:mean() -> float | nil (empty array) */
static int array_mean(lua_State *L) {
  h5_array *a = h5_array_check(L, 1);
  if (a->n == 0) return lua_pushnil(L), 1;
  double s = 0;
  for (size_t i = 0; i < a->n; i++) s += elem_double(a, i);
  lua_pushnumber(L, s / (double)a->n);
  return 1;
}

/* {====================================================================
 * Metamethods and properties
 * ===================================================================== */

static void push_shape(lua_State *L, const h5_array *a) {
  lua_createtable(L, a->ndim, 0);
  for (int i = 0; i < a->ndim; i++) {
    lua_pushinteger(L, (lua_Integer)a->shape[i]);
    lua_rawseti(L, -2, i + 1);
  }
}

/* __index: a[i] (flat, 1-based), then methods, then properties
 * (shape, dtype, ndim, size, nbytes). */
static int array_index(lua_State *L) {
  h5_array *a = h5_array_check(L, 1);
  if (lua_type(L, 2) == LUA_TNUMBER) {
    push_elem(L, a, check_flat_index(L, a, 2));
    return 1;
  }
  if (h5_get_method(L, H5_ARRAY, 2)) return 1;
  const char *key = lua_tostring(L, 2);
  if (!key) return 0;
  if (strcmp(key, "shape") == 0) push_shape(L, a);
  else if (strcmp(key, "dtype") == 0) lua_pushstring(L, h5_atype_name(a->atype));
  else if (strcmp(key, "ndim") == 0) lua_pushinteger(L, a->ndim);
  else if (strcmp(key, "size") == 0) lua_pushinteger(L, (lua_Integer)a->n);
  else if (strcmp(key, "nbytes") == 0)
    lua_pushinteger(L, (lua_Integer)(a->n * h5_atype_size(a->atype)));
  else return 0;
  return 1;
}

/* a[i] = v  (flat, 1-based) */
static int array_newindex(lua_State *L) {
  h5_array *a = h5_array_check(L, 1);
  if (lua_type(L, 2) != LUA_TNUMBER)
    return luaL_error(L, "h5: cannot set field '%s' of an h5.Array (use a[i] = v)",
                      luaL_tolstring(L, 2, NULL));
  size_t i = check_flat_index(L, a, 2);
  const char *err = store_elem(L, a, i, 3);
  if (err)
    return luaL_error(L, "h5: cannot set array element %I: %s", (LUAI_UACINT)(i + 1), err);
  return 0;
}

/* #a -> number of elements (so that `for i = 1, #a` visits a[i]) */
static int array_len(lua_State *L) {
  h5_array *a = h5_array_check(L, 1);
  lua_pushinteger(L, (lua_Integer)a->n);
  return 1;
}

/* a == b: same shape and equal elements (any dtypes). */
static int array_eq(lua_State *L) {
  h5_array *a = h5_array_test(L, 1), *b = h5_array_test(L, 2);
  int eq = a && b && a->ndim == b->ndim && a->n == b->n &&
           memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof(hsize_t)) == 0;
  for (size_t i = 0; eq && i < a->n; i++) {
    push_elem(L, a, i);
    push_elem(L, b, i);
    eq = lua_compare(L, -1, -2, LUA_OPEQ);
    lua_pop(L, 2);
  }
  lua_pushboolean(L, eq);
  return 1;
}

/* <h5.Array float64 {2, 3}: 1.0, 2.0, 3.0, 4.0, 5.0, 6.0> (first 6 elements) */
static int array_tostring(lua_State *L) {
  h5_array *a = h5_array_check(L, 1);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  lua_pushfstring(L, "<h5.Array %s {", h5_atype_name(a->atype));
  luaL_addvalue(&b);
  for (int i = 0; i < a->ndim; i++) {
    lua_pushfstring(L, i ? ", %I" : "%I", (LUAI_UACINT)a->shape[i]);
    luaL_addvalue(&b);
  }
  luaL_addstring(&b, "}");
  for (size_t i = 0; i < a->n && i < 6; i++) {
    luaL_addstring(&b, i ? ", " : ": ");
    push_elem(L, a, i);
    luaL_tolstring(L, -1, NULL);
    lua_remove(L, -2);
    luaL_addvalue(&b);
  }
  if (a->n > 6) luaL_addstring(&b, ", ...");
  luaL_addstring(&b, ">");
  luaL_pushresult(&b);
  return 1;
}

static const luaL_Reg array_meta[] = {
  {"__eq", array_eq},
  {"__index", array_index},
  {"__len", array_len},
  {"__newindex", array_newindex},
  {"__tostring", array_tostring},
  {NULL, NULL}
};

static const luaL_Reg array_methods[] = {
  {"astype", array_astype},
  {"copy", array_copy},
  {"fill", array_fill},
  {"get", array_get},
  {"max", array_max},
  {"mean", array_mean},
  {"min", array_min},
  {"reshape", array_reshape},
  {"set", array_set},
  {"sum", array_sum},
  {"tobytes", array_tobytes},
  {"totable", array_totable},
  {NULL, NULL}
};

static const luaL_Reg array_funcs[] = {
  {"from", array_from},
  {"frombytes", array_frombytes},
  {"new", array_new},
  {"range", array_range},
  {NULL, NULL}
};

/* h5.array(dtype, shape[, fill]): the table itself is callable, same as new */
static int array_call(lua_State *L) {
  lua_remove(L, 1);  /* the h5.array table */
  return array_new(L);
}

void h5_open_array(lua_State *L) {
  h5_new_metatable(L, H5_ARRAY, array_meta, array_methods);
  luaL_newlib(L, array_funcs);  /* h5, array */
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, array_call);
  lua_setfield(L, -2, "__call");
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "array");
}
