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

/* Rank and dims of a nested table, read along its first elements. */
static const char *measure(lua_State *L, int idx, hsize_t *dims, int *rank) {
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
      const char *err = measure(L, idx, dims, &rank);
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
      lua_pushfstring(L, "float%d", (int)(size * 8));
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
      luaL_addstring(b, "enum{");
      int n = H5Tget_nmembers(t);
      for (int i = 0; i < n; i++) {
        char *name = H5Tget_member_name(t, (unsigned)i);
        if (i) luaL_addstring(b, ", ");
        luaL_addstring(b, name ? name : "?");
        H5free_memory(name);
      }
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
