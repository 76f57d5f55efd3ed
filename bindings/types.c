/*
 * types.c -- Lua values <-> HDF5 types, as h5py writes them.
 *
 * Lua integer <-> int64, float <-> float64, string <-> variable-length UTF-8
 * string, boolean <-> h5py's bool (int8 enum FALSE=0/TRUE=1).  Reading goes
 * through one recursive element decoder, so every type class HDF5 has
 * (compound, array, vlen, enum, opaque, reference) either decodes to a Lua
 * value or yields an error naming the type.
 */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "h5_internal.h"

/* {====================================================================
 * Predefined types of the module
 * ===================================================================== */

hid_t h5_bool_type(void) {
  hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
  int8_t v = 0;
  H5Tenum_insert(t, "FALSE", &v);
  v = 1;
  H5Tenum_insert(t, "TRUE", &v);
  return t;
}

hid_t h5_vlen_str_type(void) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

/* Is t an enum that h5py reads as numpy bool? */
static int is_bool_enum(hid_t t) {
  if (H5Tget_class(t) != H5T_ENUM || H5Tget_nmembers(t) != 2) return 0;
  char *a = H5Tget_member_name(t, 0), *b = H5Tget_member_name(t, 1);
  int ok = a && b && strcmp(a, "FALSE") == 0 && strcmp(b, "TRUE") == 0;
  H5free_memory(a);
  H5free_memory(b);
  return ok;
}

/* {====================================================================
 * Encoding (Lua -> HDF5)
 * ===================================================================== */

typedef enum { EL_NONE, EL_INT, EL_FLOAT, EL_BOOL, EL_STRING } elem_kind;

/* Rank and dims of a nested table, read along its first elements (the rest
 * is verified by the caller).  Shared with h5.array.from. */
const char *h5_table_shape(lua_State *L, int idx, hsize_t *dims, int *rank) {
  int depth = 0;
  lua_pushvalue(L, idx);
  for (;;) {
    if (depth >= H5S_MAX_RANK) {
      lua_pop(L, 1);
      return "table nested too deeply (more than 32 dimensions)";
    }
    dims[depth++] = (hsize_t)lua_rawlen(L, -1);
    if (lua_rawgeti(L, -1, 1) != LUA_TTABLE) break;
    lua_remove(L, -2);
  }
  lua_pop(L, 2);
  *rank = depth;
  return NULL;
}

/* Check that the table at idx has exactly the measured shape below depth,
 * and find the widest element kind.  Returns NULL or an error message. */
static const char *scan(lua_State *L, int idx, int depth, const hsize_t *dims, int rank,
                        elem_kind *kind) {
  if ((hsize_t)lua_rawlen(L, idx) != dims[depth])
    return "nested tables are not rectangular (rows differ in length)";
  for (lua_Integer i = 1; i <= (lua_Integer)dims[depth]; i++) {
    int t = lua_rawgeti(L, idx, i);
    const char *err = NULL;
    elem_kind k = EL_NONE;
    if (depth + 1 < rank) {
      if (t == LUA_TTABLE) err = scan(L, lua_absindex(L, -1), depth + 1, dims, rank, kind);
      else err = "nested tables are not rectangular (a row is not a table)";
    } else if (t == LUA_TNUMBER) {
      k = lua_isinteger(L, -1) ? EL_INT : EL_FLOAT;
    } else if (t == LUA_TBOOLEAN) {
      k = EL_BOOL;
    } else if (t == LUA_TSTRING) {
      k = EL_STRING;
    } else if (t == LUA_TTABLE) {
      err = "nested tables are not rectangular (a row holds a table)";
    } else {
      err = "arrays can only hold numbers, booleans and strings";
    }
    lua_pop(L, 1);
    if (err) return err;
    if (k != EL_NONE) {
      if (*kind == EL_NONE) *kind = k;
      else if ((*kind == EL_INT && k == EL_FLOAT) || (*kind == EL_FLOAT && k == EL_INT))
        *kind = EL_FLOAT;
      else if (*kind != k)
        return "array mixes values of different types";
    }
  }
  return NULL;
}

/* Flatten the nested table at idx into buf (row-major). */
static void flatten(lua_State *L, int idx, int depth, int rank, elem_kind kind,
                    char **cursor) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    if (depth + 1 < rank) {
      flatten(L, lua_absindex(L, -1), depth + 1, rank, kind, cursor);
    } else {
      switch (kind) {
        case EL_INT: *(int64_t *)*cursor = (int64_t)lua_tointeger(L, -1);
                     *cursor += 8; break;
        case EL_FLOAT: *(double *)*cursor = lua_tonumber(L, -1); *cursor += 8; break;
        case EL_BOOL: *(int8_t *)*cursor = (int8_t)lua_toboolean(L, -1); *cursor += 1; break;
        case EL_STRING: *(const char **)*cursor = lua_tostring(L, -1);
                        *cursor += sizeof(char *); break;
        default: break;
      }
    }
    lua_pop(L, 1);
  }
}

static hid_t type_for_kind(elem_kind kind) {
  switch (kind) {
    case EL_INT: return H5Tcopy(H5T_STD_I64LE);
    case EL_BOOL: return h5_bool_type();
    case EL_STRING: return h5_vlen_str_type();
    default: return H5Tcopy(H5T_IEEE_F64LE);
  }
}

static size_t size_for_kind(elem_kind kind) {
  switch (kind) {
    case EL_BOOL: return 1;
    case EL_STRING: return sizeof(char *);
    default: return 8;
  }
}

/* Strings with NUL bytes cannot be stored as C strings without loss. */
static const char *check_string(lua_State *L, int idx) {
  size_t len;
  const char *s = lua_tolstring(L, idx, &len);
  if (strlen(s) != len) return "string contains a NUL byte (HDF5 strings cannot hold one)";
  return NULL;
}

static const char *check_strings(lua_State *L, int idx) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
  for (lua_Integer i = 1; i <= n; i++) {
    const char *err = NULL;
    int t = lua_rawgeti(L, idx, i);
    if (t == LUA_TTABLE) err = check_strings(L, lua_absindex(L, -1));
    else if (t == LUA_TSTRING) err = check_string(L, -1);
    lua_pop(L, 1);
    if (err) return err;
  }
  return NULL;
}

const char *h5_encode_value(lua_State *L, int idx, h5_encoded *enc) {
  idx = lua_absindex(L, idx);
  memset(enc, 0, sizeof *enc);
  enc->type = enc->space = H5I_INVALID_HID;
  hsize_t dims[H5S_MAX_RANK];
  int rank = 0;
  elem_kind kind = EL_NONE;
  switch (lua_type(L, idx)) {
    case LUA_TNUMBER: kind = lua_isinteger(L, idx) ? EL_INT : EL_FLOAT; break;
    case LUA_TBOOLEAN: kind = EL_BOOL; break;
    case LUA_TSTRING: {
      const char *err = check_string(L, idx);
      if (err) return err;
      kind = EL_STRING;
      break;
    }
    case LUA_TTABLE: {
      if (lua_rawlen(L, idx) == 0) {  /* {} is an empty list; {x = 1} is not a list */
        lua_pushnil(L);
        if (lua_next(L, idx)) {
          lua_pop(L, 2);
          return "cannot store a table whose keys are not 1..n (a record or a sparse list)";
        }
      }
      const char *err = h5_table_shape(L, idx, dims, &rank);
      if (!err) err = scan(L, idx, 0, dims, rank, &kind);
      if (err) return err;
      if (kind == EL_NONE) kind = EL_FLOAT;  /* empty: h5py stores float64 */
      if (kind == EL_STRING && (err = check_strings(L, idx))) return err;
      break;
    }
    default:
      return lua_pushfstring(L, "cannot store a %s value", luaL_typename(L, idx));
  }
  hsize_t count = 1;
  for (int i = 0; i < rank; i++) count *= dims[i];
  size_t esize = size_for_kind(kind);
  enc->nbytes = (size_t)count * esize;
  enc->buf = malloc(enc->nbytes ? enc->nbytes : 1);
  if (!enc->buf) return "out of memory";
  if (rank == 0) {
    char *cursor = enc->buf;
    switch (kind) {
      case EL_INT: *(int64_t *)cursor = (int64_t)lua_tointeger(L, idx); break;
      case EL_FLOAT: *(double *)cursor = lua_tonumber(L, idx); break;
      case EL_BOOL: *(int8_t *)cursor = (int8_t)lua_toboolean(L, idx); break;
      default: *(const char **)cursor = lua_tostring(L, idx); break;
    }
    enc->space = H5Screate(H5S_SCALAR);
  } else {
    char *cursor = enc->buf;
    flatten(L, idx, 0, rank, kind, &cursor);
    enc->space = H5Screate_simple(rank, dims, NULL);
  }
  enc->type = type_for_kind(kind);
  if (enc->space < 0 || enc->type < 0) {
    h5_encoded_free(enc);
    return "cannot create the HDF5 type or dataspace";
  }
  return NULL;
}

void h5_encoded_free(h5_encoded *enc) {
  if (enc->type >= 0) H5Tclose(enc->type);
  if (enc->space >= 0) H5Sclose(enc->space);
  free(enc->buf);
  enc->type = enc->space = H5I_INVALID_HID;
  enc->buf = NULL;
}

/* {====================================================================
 * Decoding (HDF5 -> Lua)
 * ===================================================================== */

/* Push one element of memory type t at p.  Returns NULL or an error message
 * (then nothing is pushed).  loc resolves references. */
static const char *push_element(lua_State *L, hid_t t, const char *p);

static void push_integer(lua_State *L, hid_t t, const char *p) {
  size_t size = H5Tget_size(t);
  int is_signed = H5Tget_sign(t) == H5T_SGN_2;
  if (is_signed) {
    int64_t v = 0;
    switch (size) {
      case 1: v = *(const int8_t *)p; break;
      case 2: { int16_t x; memcpy(&x, p, 2); v = x; break; }
      case 4: { int32_t x; memcpy(&x, p, 4); v = x; break; }
      default: memcpy(&v, p, 8); break;
    }
    lua_pushinteger(L, (lua_Integer)v);
  } else {
    uint64_t v = 0;
    switch (size) {
      case 1: v = *(const uint8_t *)p; break;
      case 2: { uint16_t x; memcpy(&x, p, 2); v = x; break; }
      case 4: { uint32_t x; memcpy(&x, p, 4); v = x; break; }
      default: memcpy(&v, p, 8); break;
    }
    if (v > (uint64_t)INT64_MAX) lua_pushnumber(L, (lua_Number)v);
    else lua_pushinteger(L, (lua_Integer)v);
  }
}

static void push_fixed_string(lua_State *L, hid_t t, const char *p) {
  size_t size = H5Tget_size(t);
  size_t n = 0;
  H5T_str_t pad = H5Tget_strpad(t);
  if (pad == H5T_STR_NULLTERM) {
    while (n < size && p[n]) n++;
  } else {
    n = size;
    char fill = pad == H5T_STR_SPACEPAD ? ' ' : '\0';
    while (n > 0 && p[n - 1] == fill) n--;
    if (pad == H5T_STR_NULLPAD) {  /* stop at an embedded NUL as numpy does */
      size_t k = 0;
      while (k < n && p[k]) k++;
      n = k;
    }
  }
  lua_pushlstring(L, p, n);
}

static const char *push_enum(lua_State *L, hid_t t, const char *p) {
  if (is_bool_enum(t)) {
    hid_t base = H5Tget_super(t);
    push_integer(L, base, p);
    H5Tclose(base);
    lua_pushboolean(L, lua_tointeger(L, -1) != 0);
    lua_remove(L, -2);
    return NULL;
  }
  char name[256];
  if (H5Tenum_nameof(t, p, name, sizeof name) >= 0) {
    lua_pushstring(L, name);
  } else {  /* a value with no name: keep the number */
    H5Eclear2(H5E_DEFAULT);
    hid_t base = H5Tget_super(t);
    push_integer(L, base, p);
    H5Tclose(base);
  }
  return NULL;
}

static const char *push_compound(lua_State *L, hid_t t, const char *p) {
  int n = H5Tget_nmembers(t);
  lua_createtable(L, 0, n);
  for (int i = 0; i < n; i++) {
    char *name = H5Tget_member_name(t, (unsigned)i);
    hid_t mt = H5Tget_member_type(t, (unsigned)i);
    size_t off = H5Tget_member_offset(t, (unsigned)i);
    const char *err = push_element(L, mt, p + off);
    H5Tclose(mt);
    if (err) {
      H5free_memory(name);
      lua_pop(L, 1);
      return err;
    }
    lua_setfield(L, -2, name);
    H5free_memory(name);
  }
  return NULL;
}

/* n elements of type base laid out from p, as a (nested) table of dims. */
static const char *push_block(lua_State *L, hid_t base, const char *p, int rank,
                              const hsize_t *dims, size_t esize) {
  lua_createtable(L, (int)dims[0], 0);
  size_t stride = esize;
  for (int k = 1; k < rank; k++) stride *= (size_t)dims[k];
  for (hsize_t i = 0; i < dims[0]; i++) {
    const char *err;
    if (rank > 1) err = push_block(L, base, p + i * stride, rank - 1, dims + 1, esize);
    else err = push_element(L, base, p + i * esize);
    if (err) {
      lua_pop(L, 1);
      return err;
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return NULL;
}

static const char *push_array(lua_State *L, hid_t t, const char *p) {
  int rank = H5Tget_array_ndims(t);
  hsize_t dims[H5S_MAX_RANK];
  H5Tget_array_dims2(t, dims);
  hid_t base = H5Tget_super(t);
  const char *err = push_block(L, base, p, rank, dims, H5Tget_size(base));
  H5Tclose(base);
  return err;
}

static const char *push_vlen(lua_State *L, hid_t t, const char *p) {
  hvl_t v;
  memcpy(&v, p, sizeof v);
  hid_t base = H5Tget_super(t);
  hsize_t dims[1] = {(hsize_t)v.len};
  const char *err;
  if (v.len == 0) {
    lua_newtable(L);
    err = NULL;
  } else {
    err = push_block(L, base, v.p, 1, dims, H5Tget_size(base));
  }
  H5Tclose(base);
  return err;
}

static const char *push_element(lua_State *L, hid_t t, const char *p) {
  switch (H5Tget_class(t)) {
    case H5T_INTEGER:
    case H5T_BITFIELD:
      push_integer(L, t, p);
      return NULL;
    case H5T_FLOAT: {
      size_t size = H5Tget_size(t);
      if (size == sizeof(double)) { double d; memcpy(&d, p, sizeof d); lua_pushnumber(L, d); }
      else if (size == sizeof(float)) { float f; memcpy(&f, p, sizeof f); lua_pushnumber(L, f); }
      else { long double d; memcpy(&d, p, sizeof d); lua_pushnumber(L, (lua_Number)d); }
      return NULL;
    }
    case H5T_STRING:
      if (H5Tis_variable_str(t) > 0) {
        const char *s;
        memcpy(&s, p, sizeof s);
        lua_pushstring(L, s ? s : "");
      } else {
        push_fixed_string(L, t, p);
      }
      return NULL;
    case H5T_ENUM: return push_enum(L, t, p);
    case H5T_COMPOUND: return push_compound(L, t, p);
    case H5T_ARRAY: return push_array(L, t, p);
    case H5T_VLEN: return push_vlen(L, t, p);
    case H5T_OPAQUE:
      lua_pushlstring(L, p, H5Tget_size(t));
      return NULL;
    case H5T_REFERENCE:
      return "unsupported type: reference (read references with the object API)";
    default:
      return "unsupported type";
  }
}

int h5_push_decoded(lua_State *L, hid_t mem_type, hid_t space, const void *buf) {
  const char *err = NULL;
  H5S_class_t cls = H5Sget_simple_extent_type(space);
  if (cls == H5S_NULL) {
    lua_getfield(L, LUA_REGISTRYINDEX, "h5.EMPTY");
    return 1;
  }
  if (cls == H5S_SCALAR) {
    err = push_element(L, mem_type, buf);
  } else {
    int rank = H5Sget_simple_extent_ndims(space);
    hsize_t dims[H5S_MAX_RANK];
    H5Sget_simple_extent_dims(space, dims, NULL);
    hsize_t count = 1;
    for (int i = 0; i < rank; i++) count *= dims[i];
    if (count == 0) {
      lua_newtable(L);
    } else {
      err = push_block(L, mem_type, buf, rank, dims, H5Tget_size(mem_type));
    }
  }
  if (err) {
    lua_pushstring(L, err);
    return 0;
  }
  return 1;
}

/* {====================================================================
 * Type names
 * ===================================================================== */

/* Is float type t laid out as IEEE 754 binary16/32/64 (numpy's f2/f4/f8)? */
static int is_ieee_float(hid_t t) {
  static const struct { size_t size, esize, msize, ebias; } ieee[] = {
    {2, 5, 10, 15}, {4, 8, 23, 127}, {8, 11, 52, 1023},
  };
  size_t size = H5Tget_size(t), spos, epos, esize, mpos, msize;
  if (H5Tget_fields(t, &spos, &epos, &esize, &mpos, &msize) < 0) return 0;
  for (size_t i = 0; i < sizeof ieee / sizeof ieee[0]; i++)
    if (size == ieee[i].size && H5Tget_precision(t) == size * 8 && H5Tget_offset(t) == 0 &&
        spos == size * 8 - 1 && epos == ieee[i].msize && esize == ieee[i].esize && mpos == 0 &&
        msize == ieee[i].msize && H5Tget_ebias(t) == ieee[i].ebias &&
        H5Tget_norm(t) == H5T_NORM_IMPLIED)
      return 1;
  return 0;
}

static void add_type_name(luaL_Buffer *b, hid_t t) {
  lua_State *L = b->L;
  size_t size = H5Tget_size(t);
  switch (H5Tget_class(t)) {
    case H5T_INTEGER:
      lua_pushfstring(L, "%sint%d", H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "",
                      (int)(size * 8));
      luaL_addvalue(b);
      if (size > 1 && H5Tget_order(t) == H5T_ORDER_BE) luaL_addstring(b, " (big-endian)");
      break;
    case H5T_FLOAT:
      if (is_ieee_float(t)) {
        lua_pushfstring(L, "float%d", (int)(size * 8));
      } else {  /* e.g. bfloat16 or x87's 80-bit long double: not float16/float128 */
        size_t spos, epos, esize, mpos, msize;
        H5Tget_fields(t, &spos, &epos, &esize, &mpos, &msize);
        lua_pushfstring(L, "float(%d bits, %d-bit exponent)", (int)H5Tget_precision(t),
                        (int)esize);
      }
      luaL_addvalue(b);
      if (H5Tget_order(t) == H5T_ORDER_BE) luaL_addstring(b, " (big-endian)");
      break;
    case H5T_STRING: {
      int utf8 = H5Tget_cset(t) == H5T_CSET_UTF8;
      if (H5Tis_variable_str(t) > 0)
        lua_pushfstring(L, "string(%s, variable)", utf8 ? "utf-8" : "ascii");
      else
        lua_pushfstring(L, "string(%s, %d)", utf8 ? "utf-8" : "ascii", (int)size);
      luaL_addvalue(b);
      break;
    }
    case H5T_ENUM: {
      if (is_bool_enum(t)) {
        luaL_addstring(b, "bool");
        break;
      }
      /* enum(<base>){NAME=value, ...}: exact, and parsed back by h5_parse_dtype */
      hid_t base = H5Tget_super(t);
      luaL_addstring(b, "enum(");
      add_type_name(b, base);
      luaL_addstring(b, "){");
      int n = H5Tget_nmembers(t);
      for (int i = 0; i < n; i++) {
        char *name = H5Tget_member_name(t, (unsigned)i);
        long long v[2] = {0, 0};  /* room for any integer base, converted in place */
        H5Tget_member_value(t, (unsigned)i, v);
        H5Tconvert(base, H5T_NATIVE_LLONG, 1, v, NULL, H5P_DEFAULT);
        if (i) luaL_addstring(b, ", ");
        luaL_addstring(b, name ? name : "?");
        lua_pushfstring(L, "=%I", (LUAI_UACINT)v[0]);
        luaL_addvalue(b);
        H5free_memory(name);
      }
      H5Tclose(base);
      luaL_addstring(b, "}");
      break;
    }
    case H5T_COMPOUND: {
      luaL_addstring(b, "compound{");
      int n = H5Tget_nmembers(t);
      for (int i = 0; i < n; i++) {
        char *name = H5Tget_member_name(t, (unsigned)i);
        hid_t mt = H5Tget_member_type(t, (unsigned)i);
        if (i) luaL_addstring(b, ", ");
        luaL_addstring(b, name ? name : "?");
        luaL_addstring(b, ": ");
        add_type_name(b, mt);
        H5Tclose(mt);
        H5free_memory(name);
      }
      luaL_addstring(b, "}");
      break;
    }
    case H5T_ARRAY: {
      int rank = H5Tget_array_ndims(t);
      hsize_t dims[H5S_MAX_RANK];
      H5Tget_array_dims2(t, dims);
      hid_t base = H5Tget_super(t);
      luaL_addstring(b, "array{");
      add_type_name(b, base);
      luaL_addstring(b, ", ");
      for (int i = 0; i < rank; i++) {
        lua_pushfstring(L, i ? "x%d" : "%d", (int)dims[i]);
        luaL_addvalue(b);
      }
      luaL_addstring(b, "}");
      H5Tclose(base);
      break;
    }
    case H5T_VLEN: {
      hid_t base = H5Tget_super(t);
      luaL_addstring(b, "vlen{");
      add_type_name(b, base);
      luaL_addstring(b, "}");
      H5Tclose(base);
      break;
    }
    case H5T_OPAQUE: {
      char *tag = H5Tget_tag(t);
      lua_pushfstring(L, "opaque(%d%s%s)", (int)size, tag && *tag ? ", " : "", tag ? tag : "");
      luaL_addvalue(b);
      H5free_memory(tag);
      break;
    }
    case H5T_BITFIELD:
      lua_pushfstring(L, "bitfield%d", (int)(size * 8));
      luaL_addvalue(b);
      break;
    case H5T_REFERENCE:
      luaL_addstring(b, H5Tequal(t, H5T_STD_REF_OBJ) > 0 ? "reference(object)"
                                                         : "reference(region)");
      break;
    case H5T_TIME: luaL_addstring(b, "time"); break;
    default: luaL_addstring(b, "unknown"); break;
  }
}

void h5_push_type_name(lua_State *L, hid_t type) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  add_type_name(&b, type);
  luaL_pushresult(&b);
}

/* {====================================================================
 * dtype strings -> HDF5 types
 * ===================================================================== */

/* A small recursive-descent parser over the text of a dtype.  It reads back
 * every name h5_push_type_name writes, plus short numpy-style codes ("<f8",
 * "i4", "u1") and aliases ("int" = int64, "float" = float64, "str"). */
typedef struct {
  lua_State *L;
  const char *s, *p;
  char err[200];  /* first error; becomes a Lua string at the end */
} dparser;

static void dp_space(dparser *d) {
  while (*d->p == ' ' || *d->p == '\t') d->p++;
}

static int dp_accept(dparser *d, const char *tok) {
  dp_space(d);
  size_t n = strlen(tok);
  if (strncmp(d->p, tok, n) != 0) return 0;
  d->p += n;
  return 1;
}

static hid_t dp_fail(dparser *d, const char *what) {
  if (!d->err[0]) {
    if (*d->p) snprintf(d->err, sizeof d->err, "%s at '%.40s'", what, d->p);
    else snprintf(d->err, sizeof d->err, "%s at the end", what);
  }
  return H5I_INVALID_HID;
}

static int dp_expect(dparser *d, const char *tok) {
  if (dp_accept(d, tok)) return 1;
  char what[32];
  snprintf(what, sizeof what, "expected '%s'", tok);
  dp_fail(d, what);
  return 0;
}

/* An unsigned decimal number. */
static int dp_number(dparser *d, long long *out) {
  dp_space(d);
  const char *p = d->p;
  int neg = 0;
  if (*p == '-') neg = 1, p++;
  if (*p < '0' || *p > '9') return 0;
  long long v = 0;
  while (*p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
  d->p = p;
  *out = neg ? -v : v;
  return 1;
}

/* A word: letters, digits, '_' (member and enum names allow more, below). */
static size_t dp_word(dparser *d, char *buf, size_t len) {
  dp_space(d);
  size_t n = 0;
  while ((d->p[n] >= 'a' && d->p[n] <= 'z') || (d->p[n] >= 'A' && d->p[n] <= 'Z') ||
         (d->p[n] >= '0' && d->p[n] <= '9') || d->p[n] == '_' || d->p[n] == '-') {
    if (n + 1 < len) buf[n] = d->p[n];
    n++;
  }
  if (n >= len) n = len - 1;
  buf[n] = '\0';
  d->p += n;
  return n;
}

/* A member name: everything up to stop (':' or ',' or '}' or '='), trimmed. */
static size_t dp_name(dparser *d, char *buf, size_t len, const char *stops) {
  dp_space(d);
  size_t n = 0;
  while (d->p[n] && !strchr(stops, d->p[n])) n++;
  size_t m = n;
  while (m > 0 && d->p[m - 1] == ' ') m--;
  if (m >= len) m = len - 1;
  memcpy(buf, d->p, m);
  buf[m] = '\0';
  d->p += n;
  return m;
}

/* Optional " (big-endian)" / " (little-endian)" after a number type. */
static void dp_order(dparser *d, hid_t t) {
  const char *save = d->p;
  if (dp_accept(d, "(big-endian)")) H5Tset_order(t, H5T_ORDER_BE);
  else if (dp_accept(d, "(little-endian)")) H5Tset_order(t, H5T_ORDER_LE);
  else d->p = save;
}

static hid_t dp_type(dparser *d);

/* Integer and float names: int8..uint64, float16/32/64, and numpy codes. */
static hid_t dp_numeric(dparser *d, const char *w) {
  static const struct { const char *name; const hid_t *type; } named[] = {
    {"int8", &H5T_STD_I8LE_g}, {"uint8", &H5T_STD_U8LE_g}, {"int16", &H5T_STD_I16LE_g},
    {"uint16", &H5T_STD_U16LE_g}, {"int32", &H5T_STD_I32LE_g}, {"uint32", &H5T_STD_U32LE_g},
    {"int64", &H5T_STD_I64LE_g}, {"uint64", &H5T_STD_U64LE_g}, {"float32", &H5T_IEEE_F32LE_g},
    {"float64", &H5T_IEEE_F64LE_g}, {"int", &H5T_STD_I64LE_g}, {"float", &H5T_IEEE_F64LE_g},
    {"double", &H5T_IEEE_F64LE_g}, {"byte", &H5T_STD_I8LE_g}, {"ubyte", &H5T_STD_U8LE_g},
  };
  for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
    if (strcmp(w, named[i].name) == 0) {
      hid_t t = H5Tcopy(*named[i].type);
      dp_order(d, t);
      return t;
    }
  if (strcmp(w, "float16") == 0) {  /* IEEE half, as numpy's f2 */
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(t, 15, 10, 5, 0, 10);
    H5Tset_size(t, 2);
    H5Tset_ebias(t, 15);
    dp_order(d, t);
    return t;
  }
  /* numpy codes: optional byte order, kind, size ("<f8", "i4", "|u1") */
  const char *c = w;
  H5T_order_t order = H5T_ORDER_LE;
  if (*c == '<' || *c == '=' || *c == '|') c++;
  else if (*c == '>') order = H5T_ORDER_BE, c++;
  if (c[0] == 'S' && c[1] >= '1' && c[1] <= '9') {  /* numpy's fixed bytes: "S5" */
    char *end;
    unsigned long n = strtoul(c + 1, &end, 10);
    if (!*end && n > 0 && n < ((size_t)1 << 31)) {
      hid_t t = H5Tcopy(H5T_C_S1);
      H5Tset_size(t, (size_t)n);
      H5Tset_strpad(t, H5T_STR_NULLPAD);  /* as "string(ascii, n)" and h5py */
      return t;
    }
  }
  if (strcmp(c, "b1") == 0) return h5_bool_type();  /* numpy's bool */
  if ((c[0] == 'i' || c[0] == 'u' || c[0] == 'f') && c[1] >= '1' && c[1] <= '8' && !c[2]) {
    int size = c[1] - '0';
    hid_t base = H5I_INVALID_HID;
    if (c[0] == 'f') {
      if (size == 4) base = H5T_IEEE_F32LE;
      else if (size == 8) base = H5T_IEEE_F64LE;
    } else {
      int u = c[0] == 'u';
      switch (size) {
        case 1: base = u ? H5T_STD_U8LE : H5T_STD_I8LE; break;
        case 2: base = u ? H5T_STD_U16LE : H5T_STD_I16LE; break;
        case 4: base = u ? H5T_STD_U32LE : H5T_STD_I32LE; break;
        case 8: base = u ? H5T_STD_U64LE : H5T_STD_I64LE; break;
        default: break;
      }
    }
    if (base >= 0) {
      hid_t t = H5Tcopy(base);
      H5Tset_order(t, order);
      return t;
    }
  }
  return H5I_INVALID_HID;
}

static hid_t dp_string(dparser *d) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (!dp_accept(d, "(")) {  /* plain "string": h5py's str */
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
  }
  char cs[16];
  dp_word(d, cs, sizeof cs);
  if (strcmp(cs, "utf-8") == 0 || strcmp(cs, "utf8") == 0) H5Tset_cset(t, H5T_CSET_UTF8);
  else if (strcmp(cs, "ascii") != 0) {
    H5Tclose(t);
    return dp_fail(d, "expected 'ascii' or 'utf-8'");
  }
  if (!dp_expect(d, ",")) return H5Tclose(t), H5I_INVALID_HID;
  long long n;
  if (dp_accept(d, "variable")) {
    H5Tset_size(t, H5T_VARIABLE);
  } else if (dp_number(d, &n) && n > 0) {
    H5Tset_size(t, (size_t)n);
    H5Tset_strpad(t, H5T_STR_NULLPAD);  /* numpy's fixed-length bytes, as h5py writes */
  } else {
    H5Tclose(t);
    return dp_fail(d, "expected a positive length or 'variable'");
  }
  if (!dp_expect(d, ")")) return H5Tclose(t), H5I_INVALID_HID;
  return t;
}

static hid_t dp_compound(dparser *d) {
  /* members are packed without padding, as numpy (and so h5py) lays them out */
  hid_t members[256];
  char names[256][64];
  int n = 0;
  size_t total = 0;
  hid_t t = H5I_INVALID_HID;
  if (!dp_expect(d, "{")) return H5I_INVALID_HID;
  while (!dp_accept(d, "}")) {
    if (n && !dp_expect(d, ",")) goto done;
    if (n == 256) { dp_fail(d, "too many members"); goto done; }
    if (!dp_name(d, names[n], sizeof names[n], ":,}")) { dp_fail(d, "expected a member name"); goto done; }
    if (!dp_expect(d, ":")) goto done;
    members[n] = dp_type(d);
    if (members[n] < 0) goto done;
    total += H5Tget_size(members[n]);
    n++;
  }
  if (n == 0) { dp_fail(d, "a compound needs members"); goto done; }
  t = H5Tcreate(H5T_COMPOUND, total);
  size_t off = 0;
  for (int i = 0; i < n; i++) {
    if (H5Tinsert(t, names[i], off, members[i]) < 0) {
      H5Eclear2(H5E_DEFAULT);
      H5Tclose(t);
      t = dp_fail(d, "duplicate member name");
      break;
    }
    off += H5Tget_size(members[i]);
  }
done:
  for (int i = 0; i < n; i++) H5Tclose(members[i]);
  return t;
}

static hid_t dp_enum(dparser *d) {
  hid_t base = H5I_INVALID_HID;
  if (dp_accept(d, "(")) {
    char w[32];
    dp_word(d, w, sizeof w);
    base = dp_numeric(d, w);
    if (base < 0 || H5Tget_class(base) != H5T_INTEGER) {
      if (base >= 0) H5Tclose(base);
      return dp_fail(d, "expected an integer base type");
    }
    if (!dp_expect(d, ")")) return H5Tclose(base), H5I_INVALID_HID;
  }
  if (!dp_expect(d, "{")) {
    if (base >= 0) H5Tclose(base);
    return H5I_INVALID_HID;
  }
  char names[256][64];
  long long values[256];
  int n = 0;
  long long next = 0, lo = 0, hi = 0;
  while (!dp_accept(d, "}")) {
    if ((n && !dp_expect(d, ",")) || n == 256 ||
        !dp_name(d, names[n], sizeof names[n], "=,}")) {
      if (base >= 0) H5Tclose(base);
      return dp_fail(d, "expected an enum member name");
    }
    if (dp_accept(d, "=") && !dp_number(d, &next)) {
      if (base >= 0) H5Tclose(base);
      return dp_fail(d, "expected an integer value");
    }
    values[n++] = next;
    if (next < lo) lo = next;
    if (next > hi) hi = next;
    next++;
  }
  if (n == 0) {
    if (base >= 0) H5Tclose(base);
    return dp_fail(d, "an enum needs members");
  }
  if (base < 0)  /* h5py's enum_dtype default is uint8 */
    base = H5Tcopy(lo >= 0 && hi <= 255 ? H5T_STD_U8LE : H5T_STD_I32LE);
  hid_t t = H5Tenum_create(base);
  for (int i = 0; i < n; i++) {
    unsigned char v[8] = {0};
    long long x = values[i];
    /* the value in the base type's layout, converted from a native long long */
    memcpy(v, &x, sizeof x);
    H5Tconvert(H5T_NATIVE_LLONG, base, 1, v, NULL, H5P_DEFAULT);
    if (H5Tenum_insert(t, names[i], v) < 0) {
      H5Eclear2(H5E_DEFAULT);
      H5Tclose(t);
      t = dp_fail(d, "duplicate enum name or value");
      break;
    }
  }
  H5Tclose(base);
  return t;
}

static hid_t dp_array(dparser *d) {
  if (!dp_expect(d, "{")) return H5I_INVALID_HID;
  hid_t base = dp_type(d);
  if (base < 0) return base;
  hsize_t dims[H5S_MAX_RANK];
  int rank = 0;
  long long n;
  if (!dp_expect(d, ",")) return H5Tclose(base), H5I_INVALID_HID;
  do {
    if (rank == H5S_MAX_RANK || !dp_number(d, &n) || n <= 0) {
      H5Tclose(base);
      return dp_fail(d, "expected array dimensions such as 3x4");
    }
    dims[rank++] = (hsize_t)n;
  } while (dp_accept(d, "x"));
  if (!dp_expect(d, "}")) return H5Tclose(base), H5I_INVALID_HID;
  hid_t t = H5Tarray_create2(base, (unsigned)rank, dims);
  H5Tclose(base);
  return t;
}

static hid_t dp_type(dparser *d) {
  char w[32];
  dp_space(d);
  const char *start = d->p;
  /* numpy codes start with a byte-order character */
  if (*d->p == '<' || *d->p == '>' || *d->p == '=' || *d->p == '|') {
    w[0] = *d->p++;
    dp_word(d, w + 1, sizeof w - 1);
  } else {
    dp_word(d, w, sizeof w);
  }
  if (!w[0] && *d->p != '?') return dp_fail(d, "expected a type name");
  if (strcmp(w, "bool") == 0 || strcmp(w, "boolean") == 0) return h5_bool_type();
  if (!w[0] && *d->p == '?') return d->p++, h5_bool_type();  /* numpy's bool code */
  if (strcmp(w, "string") == 0 || strcmp(w, "str") == 0) return dp_string(d);
  if (strcmp(w, "compound") == 0) return dp_compound(d);
  if (strcmp(w, "enum") == 0) return dp_enum(d);
  if (strcmp(w, "array") == 0) return dp_array(d);
  if (strcmp(w, "vlen") == 0) {
    if (!dp_expect(d, "{")) return H5I_INVALID_HID;
    hid_t base = dp_type(d);
    if (base < 0) return base;
    if (!dp_expect(d, "}")) return H5Tclose(base), H5I_INVALID_HID;
    hid_t t = H5Tvlen_create(base);
    H5Tclose(base);
    return t;
  }
  if (strcmp(w, "opaque") == 0) {
    long long n;
    if (!dp_expect(d, "(") || !dp_number(d, &n) || n <= 0)
      return dp_fail(d, "expected opaque(size[, tag])");
    hid_t t = H5Tcreate(H5T_OPAQUE, (size_t)n);
    if (dp_accept(d, ",")) {
      char tag[256];
      dp_name(d, tag, sizeof tag, ")");
      H5Tset_tag(t, tag);
    }
    if (!dp_expect(d, ")")) return H5Tclose(t), H5I_INVALID_HID;
    return t;
  }
  if (strncmp(w, "bitfield", 8) == 0) {
    int bits = atoi(w + 8);
    const hid_t src = bits == 8 ? H5T_STD_B8LE : bits == 16 ? H5T_STD_B16LE
                    : bits == 32 ? H5T_STD_B32LE : bits == 64 ? H5T_STD_B64LE : -1;
    if (src < 0) return dp_fail(d, "expected bitfield8, 16, 32 or 64");
    hid_t t = H5Tcopy(src);
    dp_order(d, t);
    return t;
  }
  if (strcmp(w, "float") == 0 && *d->p == '(')  /* a name add_type_name gives odd floats */
    return dp_fail(d, "h5lua creates only IEEE float16, float32 and float64");
  hid_t t = dp_numeric(d, w);
  if (t >= 0) return t;
  d->p = start;
  /* a width h5lua has no type for ("int24", "float128"): say which widths exist */
  int bits;
  char tail;
  if (sscanf(w, "int%d%c", &bits, &tail) == 1 || sscanf(w, "uint%d%c", &bits, &tail) == 1)
    return dp_fail(d, "integers are 8, 16, 32 or 64 bits");
  if (sscanf(w, "float%d%c", &bits, &tail) == 1)
    return dp_fail(d, "floats are 16, 32 or 64 bits");
  return dp_fail(d, "unknown type name");
}

hid_t h5_parse_dtype(lua_State *L, const char *text) {
  dparser d;
  d.L = L;
  d.s = d.p = text;
  d.err[0] = '\0';
  hid_t t = dp_type(&d);
  if (t >= 0) {
    dp_space(&d);
    if (*d.p) {
      H5Tclose(t);
      t = dp_fail(&d, "unexpected text");
    }
  }
  if (t < 0) lua_pushfstring(L, "invalid dtype '%s': %s", text, d.err[0] ? d.err : "?");
  return t;
}

/* {====================================================================
 * Memory types for reading
 * ===================================================================== */

/* Variable-length strings count as H5T_STRING for H5Tdetect_class; reclaiming
 * a buffer of fixed strings is a harmless no-op. */
int h5_type_has_vlen(hid_t t) {
  return H5Tdetect_class(t, H5T_VLEN) > 0 || H5Tdetect_class(t, H5T_STRING) > 0;
}

hid_t h5_mem_type_for(lua_State *L, hid_t ft) {
  static const H5T_class_t unsupported[] = {H5T_REFERENCE, H5T_TIME};
  for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
    if (H5Tdetect_class(ft, unsupported[i]) > 0) {
      lua_pushliteral(L, "unsupported type: ");
      h5_push_type_name(L, ft);
      lua_concat(L, 2);
      return H5I_INVALID_HID;
    }
  }
  hid_t mt;
  switch (H5Tget_class(ft)) {
    case H5T_STRING:
    case H5T_OPAQUE:
      mt = H5Tcopy(ft);  /* byte strings need no conversion */
      break;
    default:
      mt = H5Tget_native_type(ft, H5T_DIR_ASCEND);
      break;
  }
  if (mt < 0) {
    H5Eclear2(H5E_DEFAULT);
    lua_pushliteral(L, "unsupported type: ");
    h5_push_type_name(L, ft);
    lua_concat(L, 2);
  }
  return mt;
}

/* {====================================================================
 * Generic encoding (Lua values -> any memory type)
 * ===================================================================== */

int h5_is_record(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE) return 0;
  if (lua_rawgeti(L, idx, 1) != LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pop(L, 1);
  lua_pushnil(L);
  if (!lua_next(L, idx)) return 0;
  int r = lua_type(L, -2) == LUA_TSTRING;
  lua_pop(L, 2);
  return r;
}

static const char *encode_elem(lua_State *L, int v, hid_t mt, char *p, int anchor);

/* n elements of base type from the (nested) table at v of the given dims. */
static const char *encode_block(lua_State *L, int v, hid_t base, char *p, int rank,
                                const hsize_t *dims, int anchor) {
  if (lua_type(L, v) != LUA_TTABLE) return "expected a table for an array value";
  if ((hsize_t)lua_rawlen(L, v) != dims[0]) {
    return lua_pushfstring(L, "expected %d values, got %d", (int)dims[0],
                           (int)lua_rawlen(L, v));  /* stays on the stack with the anchor */
  }
  size_t esize = H5Tget_size(base), stride = esize;
  for (int k = 1; k < rank; k++) stride *= (size_t)dims[k];
  for (hsize_t i = 0; i < dims[0]; i++) {
    lua_rawgeti(L, v, (lua_Integer)i + 1);
    const char *err = rank > 1 ? encode_block(L, lua_gettop(L), base, p + i * stride, rank - 1,
                                              dims + 1, anchor)
                               : encode_elem(L, lua_gettop(L), base, p + i * esize, anchor);
    if (err) return err;  /* the stack is dropped by the caller */
    lua_pop(L, 1);
  }
  return NULL;
}

static const char *encode_integer(lua_State *L, int v, hid_t mt, char *p) {
  size_t size = H5Tget_size(mt);
  int is_signed = H5Tget_sign(mt) == H5T_SGN_2;
  if (lua_type(L, v) != LUA_TNUMBER) return "expected an integer";
  int isint;
  lua_Integer x = lua_tointegerx(L, v, &isint);
  if (!isint) {
    if (!is_signed && size == 8 && lua_tonumber(L, v) >= 0 &&
        lua_tonumber(L, v) < 18446744073709551616.0 &&
        lua_tonumber(L, v) == floor(lua_tonumber(L, v))) {
      uint64_t u = (uint64_t)lua_tonumber(L, v);
      memcpy(p, &u, 8);
      return NULL;
    }
    return "number has no integer representation";
  }
  if (size < 8) {
    lua_Integer lo = is_signed ? -((lua_Integer)1 << (size * 8 - 1)) : 0;
    lua_Integer hi = is_signed ? ((lua_Integer)1 << (size * 8 - 1)) - 1
                               : ((lua_Integer)1 << (size * 8)) - 1;
    if (x < lo || x > hi) return "integer out of range for the dataset's type";
  } else if (!is_signed && x < 0) {
    return "integer out of range for the dataset's type";
  }
  switch (size) {
    case 1: { int8_t y = (int8_t)x; memcpy(p, &y, 1); break; }
    case 2: { int16_t y = (int16_t)x; memcpy(p, &y, 2); break; }
    case 4: { int32_t y = (int32_t)x; memcpy(p, &y, 4); break; }
    default: { int64_t y = (int64_t)x; memcpy(p, &y, 8); break; }
  }
  return NULL;
}

static const char *encode_elem(lua_State *L, int v, hid_t mt, char *p, int anchor) {
  switch (H5Tget_class(mt)) {
    case H5T_INTEGER:
      return encode_integer(L, v, mt, p);
    case H5T_FLOAT: {
      if (lua_type(L, v) != LUA_TNUMBER) return "expected a number";
      if (H5Tget_size(mt) == sizeof(float)) {
        float f = (float)lua_tonumber(L, v);
        memcpy(p, &f, sizeof f);
      } else {
        double x = lua_tonumber(L, v);
        memcpy(p, &x, sizeof x);
      }
      return NULL;
    }
    case H5T_ENUM: {
      hid_t base = H5Tget_super(mt);
      const char *err = NULL;
      if (is_bool_enum(mt)) {
        if (!lua_isboolean(L, v)) err = "expected a boolean";
        else {
          lua_pushinteger(L, lua_toboolean(L, v));
          err = encode_integer(L, lua_gettop(L), base, p);
          lua_pop(L, 1);
        }
      } else if (lua_type(L, v) == LUA_TSTRING) {
        if (H5Tenum_valueof(mt, lua_tostring(L, v), p) < 0) {
          H5Eclear2(H5E_DEFAULT);
          err = lua_pushfstring(L, "'%s' is not a member of the enum", lua_tostring(L, v));
        }
      } else {
        err = encode_integer(L, v, base, p);
      }
      H5Tclose(base);
      return err;
    }
    case H5T_STRING: {
      if (lua_type(L, v) != LUA_TSTRING) return "expected a string";
      size_t len;
      const char *s = lua_tolstring(L, v, &len);
      if (H5Tis_variable_str(mt) > 0) {
        if (strlen(s) != len) return "string contains a NUL byte (HDF5 strings cannot hold one)";
        lua_pushvalue(L, v);  /* anchor the string while buf points at it */
        lua_rawseti(L, anchor, (lua_Integer)lua_rawlen(L, anchor) + 1);
        memcpy(p, &s, sizeof s);
        return NULL;
      }
      size_t size = H5Tget_size(mt);
      H5T_str_t pad = H5Tget_strpad(mt);
      if (len > size || (pad == H5T_STR_NULLTERM && len == size && size > 0))
        return lua_pushfstring(L, "string of %d bytes does not fit in %d bytes", (int)len,
                               (int)size);
      memcpy(p, s, len);
      memset(p + len, pad == H5T_STR_SPACEPAD ? ' ' : 0, size - len);
      return NULL;
    }
    case H5T_OPAQUE: {
      size_t len, size = H5Tget_size(mt);
      const char *s = lua_tolstring(L, v, &len);
      if (lua_type(L, v) != LUA_TSTRING || len != size)
        return lua_pushfstring(L, "expected a string of %d bytes for an opaque value", (int)size);
      memcpy(p, s, size);
      return NULL;
    }
    case H5T_COMPOUND: {
      if (lua_type(L, v) != LUA_TTABLE) return "expected a table (record) for a compound value";
      int n = H5Tget_nmembers(mt);
      for (int i = 0; i < n; i++) {
        char *name = H5Tget_member_name(mt, (unsigned)i);
        hid_t st = H5Tget_member_type(mt, (unsigned)i);
        size_t off = H5Tget_member_offset(mt, (unsigned)i);
        const char *err = NULL;
        if (lua_getfield(L, v, name) == LUA_TNIL) {
          err = lua_pushfstring(L, "record has no field '%s'", name);
        } else {
          err = encode_elem(L, lua_gettop(L), st, p + off, anchor);
          if (!err) lua_pop(L, 1);
        }
        H5Tclose(st);
        H5free_memory(name);
        if (err) return err;
      }
      return NULL;
    }
    case H5T_ARRAY: {
      int rank = H5Tget_array_ndims(mt);
      hsize_t dims[H5S_MAX_RANK];
      H5Tget_array_dims2(mt, dims);
      hid_t base = H5Tget_super(mt);
      const char *err = encode_block(L, v, base, p, rank, dims, anchor);
      H5Tclose(base);
      return err;
    }
    case H5T_VLEN: {
      if (lua_type(L, v) != LUA_TTABLE) return "expected a table for a vlen value";
      hid_t base = H5Tget_super(mt);
      hsize_t n = (hsize_t)lua_rawlen(L, v);
      size_t esize = H5Tget_size(base);
      /* the sequence lives in Lua-owned memory, anchored until the write is done */
      char *seq = lua_newuserdatauv(L, (size_t)n * esize + 1, 0);
      memset(seq, 0, (size_t)n * esize + 1);
      lua_rawseti(L, anchor, (lua_Integer)lua_rawlen(L, anchor) + 1);
      const char *err = n ? encode_block(L, v, base, seq, 1, &n, anchor) : NULL;
      H5Tclose(base);
      if (!err) {
        hvl_t h = {(size_t)n, seq};
        memcpy(p, &h, sizeof h);
      }
      return err;
    }
    default:
      return "cannot write values of this type";
  }
}

const char *h5_encode_into(lua_State *L, int idx, hid_t mt, void *buf, int rank,
                           const hsize_t *dims) {
  idx = lua_absindex(L, idx);
  lua_newtable(L);  /* anchor: strings and sequences buf points into */
  int anchor = lua_gettop(L);
  const char *err;
  if (rank == 0) err = encode_elem(L, idx, mt, buf, anchor);
  else err = encode_block(L, idx, mt, buf, rank, dims, anchor);
  if (err) {  /* keep the message (it may live on the stack), drop the anchor */
    lua_pushstring(L, err);
    lua_replace(L, anchor);
    lua_settop(L, anchor);
    return lua_tostring(L, -1);
  }
  lua_settop(L, anchor);
  return NULL;
}

/* {====================================================================
 * h5.Datatype: named (committed) datatypes found in files
 * ===================================================================== */

static int dtype_close(lua_State *L) {
  luaL_checkudata(L, 1, H5_DATATYPE);
  return h5_handle_gc(L);
}

static int dtype_is_open(lua_State *L) {
  h5_handle *h = luaL_checkudata(L, 1, H5_DATATYPE);
  lua_pushboolean(L, h5_is_open(h));
  return 1;
}

/* <h5.Datatype "/name": compound{...}> */
static int dtype_tostring(lua_State *L) {
  h5_handle *h = luaL_checkudata(L, 1, H5_DATATYPE);
  if (!h5_is_open(h)) {
    lua_pushliteral(L, "<closed h5.Datatype>");
    return 1;
  }
  h5_push_name(L, h->id);
  h5_push_type_name(L, h->id);
  lua_pushfstring(L, "<h5.Datatype \"%s\": %s>", lua_tostring(L, -2), lua_tostring(L, -1));
  return 1;
}

/* __index: methods, then name, file, kind ("datatype"), dtype, attrs. */
static int dtype_index(lua_State *L) {
  h5_handle *h = luaL_checkudata(L, 1, H5_DATATYPE);
  if (h5_get_method(L, H5_DATATYPE, 2)) return 1;
  const char *key = lua_tostring(L, 2);
  if (!key) return 0;
  if (!h5_is_open(h)) return luaL_error(L, "h5: attempt to use a closed Datatype");
  if (strcmp(key, "name") == 0) h5_push_object_name(L, h->id);
  else if (strcmp(key, "file") == 0) h5_push_file(L, 1);
  else if (strcmp(key, "kind") == 0) lua_pushliteral(L, "datatype");
  else if (strcmp(key, "dtype") == 0) h5_push_type_name(L, h->id);
  else if (strcmp(key, "attrs") == 0) h5_push_attrs(L, 1);
  else lua_pushnil(L);
  return 1;
}

static const luaL_Reg dtype_meta[] = {
  {"__close", h5_handle_gc},
  {"__gc", h5_handle_gc},
  {"__index", dtype_index},
  {"__tostring", dtype_tostring},
  {NULL, NULL}
};

static const luaL_Reg dtype_methods[] = {
  {"close", dtype_close},
  {"is_open", dtype_is_open},
  {NULL, NULL}
};

void h5_open_datatype(lua_State *L) {
  h5_new_metatable(L, H5_DATATYPE, dtype_meta, dtype_methods);
}
