/*
 * attrs.c -- h5.Attributes: the `obj.attrs` proxy of files, groups, datasets.
 *
 * The proxy holds no HDF5 id of its own: its user value is the owning
 * object, and it is open exactly while that object is open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5_internal.h"

/* HDF5's object-header limit for one compact attribute's data. */
#define COMPACT_ATTR_LIMIT 65535

void h5_push_attrs(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  lua_newuserdatauv(L, 0, 1);
  luaL_setmetatable(L, H5_ATTRS);
  lua_pushvalue(L, idx);
  lua_setiuservalue(L, -2, 1);
}

/* The owner's id; raises when the proxy or its owner is closed. */
static hid_t check_attrs(lua_State *L, int idx) {
  luaL_checkudata(L, idx, H5_ATTRS);
  lua_getiuservalue(L, idx, 1);
  h5_handle *owner = h5_test_object(L, -1);
  lua_pop(L, 1);
  if (!owner || !h5_is_open(owner))
    luaL_error(L, "h5: attempt to use a closed Attributes (its object is closed)");
  return owner->id;
}

static const char *check_attr_name(lua_State *L, int idx) {
  size_t len;
  const char *name = luaL_checklstring(L, idx, &len);
  if (len == 0) luaL_argerror(L, idx, "empty attribute name");
  if (strlen(name) != len) luaL_argerror(L, idx, "attribute name contains a NUL byte");
  return name;
}

static void push_owner_name(lua_State *L, int idx) {
  lua_getiuservalue(L, idx, 1);
  h5_handle *owner = h5_test_object(L, -1);
  lua_pop(L, 1);
  h5_push_name(L, owner->id);
}

/* {====================================================================
 * Reading
 * ===================================================================== */

/* Push the value of attribute name of loc.  Returns 1, or 0 with an error
 * message pushed. */
static int read_attr(lua_State *L, hid_t loc, const char *name) {
  H5_OPERATION("reading an attribute");
  hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
  if (attr < 0) {
    h5_push_error(L, "cannot open attribute '%s'", name);
    return 0;
  }
  hid_t ftype = H5Aget_type(attr);
  hid_t space = H5Aget_space(attr);
  hid_t mtype = H5I_INVALID_HID;
  void *buf = NULL;
  int ok = 0;
  if (ftype < 0 || space < 0) {
    h5_push_error(L, "cannot read attribute '%s'", name);
    goto done;
  }
  H5T_class_t cls = H5Tget_class(ftype);
  if (cls == H5T_REFERENCE) {  /* never handed to H5Aread: 1.12 refs crash 1.10 */
    lua_pushfstring(L, "h5: cannot read attribute '%s': unsupported type: reference", name);
    goto done;
  }
  if (H5Sget_simple_extent_type(space) == H5S_NULL) {
    ok = h5_push_decoded(L, ftype, space, NULL);
    goto done;
  }
  mtype = H5Tget_native_type(ftype, H5T_DIR_ASCEND);
  if (mtype < 0) {
    H5Eclear2(H5E_DEFAULT);
    lua_pushfstring(L, "h5: cannot read attribute '%s': unsupported type", name);
    goto done;
  }
  hssize_t n = H5Sget_simple_extent_npoints(space);
  size_t size = H5Tget_size(mtype);
  buf = calloc(n > 0 ? (size_t)n : 1, size ? size : 1);
  if (!buf) {
    lua_pushfstring(L, "h5: out of memory reading attribute '%s'", name);
    goto done;
  }
  h5_watchdog_arm(0);  /* an attribute read is small: 10 s mean a hang */
  herr_t read_status = H5Aread(attr, mtype, buf);
  h5_watchdog_disarm();
  if (read_status < 0) {
    h5_push_error(L, "cannot read attribute '%s'", name);
    free(buf);
    buf = NULL;
    goto done;
  }
  ok = h5_push_decoded(L, mtype, space, buf);
  if (!ok) {
    const char *why = lua_tostring(L, -1);
    lua_pushfstring(L, "h5: cannot read attribute '%s': %s", name, why);
    lua_remove(L, -2);
  }
  H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, buf);
done:
  free(buf);
  if (mtype >= 0) H5Tclose(mtype);
  if (ftype >= 0) H5Tclose(ftype);
  if (space >= 0) H5Sclose(space);
  H5Aclose(attr);
  return ok;
}

/* attrs:get(name) -> value | nil  (nil when there is no such attribute) */
static int attrs_get(lua_State *L) {
  hid_t loc = check_attrs(L, 1);
  const char *name = check_attr_name(L, 2);
  htri_t exists = H5Aexists(loc, name);
  if (exists < 0) return h5_raise(L, "cannot look up attribute '%s'", name);
  if (!exists) {
    lua_pushnil(L);
    return 1;
  }
  if (!read_attr(L, loc, name)) return lua_error(L);
  return 1;
}

/* {====================================================================
 * Writing
 * ===================================================================== */

static int write_attr(lua_State *L, hid_t loc, const char *name, int value_idx) {
  h5_encoded enc;
  const char *bad = h5_encode_value(L, value_idx, &enc);
  if (bad) return luaL_error(L, "h5: cannot write attribute '%s': %s", name, bad);
  htri_t exists = H5Aexists(loc, name);
  /* Replace through a temporary name so a failed write keeps the old value. */
  const char *target = name;
  char tmpname[64];
  if (exists > 0) {
    snprintf(tmpname, sizeof tmpname, "__h5lua_tmp_attr_%p", (void *)&enc);
    target = tmpname;
  }
  hid_t acpl = H5Pcreate(H5P_ATTRIBUTE_CREATE);
  H5Pset_char_encoding(acpl, H5T_CSET_UTF8);
  hid_t attr = H5Acreate2(loc, target, enc.type, enc.space, acpl, H5P_DEFAULT);
  H5Pclose(acpl);
  herr_t r = attr < 0 ? -1 : H5Awrite(attr, enc.type, enc.buf);
  if (attr >= 0) H5Aclose(attr);
  if (r >= 0 && exists > 0) {
    r = H5Adelete(loc, name);
    if (r >= 0) r = H5Arename(loc, tmpname, name);
  }
  if (r < 0) {
    if (enc.nbytes > COMPACT_ATTR_LIMIT - 1024) {
      H5Eclear2(H5E_DEFAULT);
      lua_pushfstring(L, "h5: cannot write attribute '%s': %d bytes is too large for an "
                         "attribute in this file (64 KiB limit); store it as a dataset, or "
                         "create the file with libver='v108' or later", name, (int)enc.nbytes);
    } else {
      h5_push_error(L, "cannot write attribute '%s'", name);
    }
    if (exists > 0 && H5Aexists(loc, tmpname) > 0) H5Adelete(loc, tmpname);
    H5Eclear2(H5E_DEFAULT);
    h5_encoded_free(&enc);
    return lua_error(L);
  }
  h5_encoded_free(&enc);
  return 0;
}

static int delete_attr(lua_State *L, hid_t loc, const char *name, int must_exist) {
  htri_t exists = H5Aexists(loc, name);
  if (exists < 0) return h5_raise(L, "cannot look up attribute '%s'", name);
  if (!exists) {
    if (must_exist) return luaL_error(L, "h5: cannot delete attribute '%s': no such attribute",
                                      name);
    return 0;
  }
  if (H5Adelete(loc, name) < 0) return h5_raise(L, "cannot delete attribute '%s'", name);
  return 0;
}

/* doing: "write" or "delete", for the read-only message */
static void check_attrs_writable(lua_State *L, int idx, const char *doing, const char *name) {
  lua_getiuservalue(L, idx, 1);
  int owner = lua_gettop(L);
  const char *what = lua_pushfstring(L, "%s attribute '%s'", doing, name);
  h5_check_writable(L, owner, what);
  lua_pop(L, 2);
}

/* attrs:set(name, value)  Same as attrs[name] = value. */
static int attrs_set(lua_State *L) {
  hid_t loc = check_attrs(L, 1);
  const char *name = check_attr_name(L, 2);
  luaL_checkany(L, 3);
  check_attrs_writable(L, 1, lua_isnil(L, 3) ? "delete" : "write", name);
  if (lua_isnil(L, 3)) return delete_attr(L, loc, name, 0);
  return write_attr(L, loc, name, 3);
}

/* attrs:delete(name)  Raises when there is no such attribute. */
static int attrs_delete(lua_State *L) {
  hid_t loc = check_attrs(L, 1);
  const char *name = check_attr_name(L, 2);
  check_attrs_writable(L, 1, "delete", name);
  return delete_attr(L, loc, name, 1);
}

/* attrs:exists(name) -> boolean */
static int attrs_exists(lua_State *L) {
  hid_t loc = check_attrs(L, 1);
  const char *name = check_attr_name(L, 2);
  htri_t exists = H5Aexists(loc, name);
  if (exists < 0) return h5_raise(L, "cannot look up attribute '%s'", name);
  lua_pushboolean(L, exists > 0);
  return 1;
}

/* {====================================================================
 * Listing
 * ===================================================================== */

typedef struct {
  char **names;
  size_t n, cap;
  int failed;
} attr_names;

static herr_t collect_attr(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
  (void)loc;
  (void)info;
  attr_names *an = data;
  if (an->n == an->cap) {
    size_t cap = an->cap ? an->cap * 2 : 16;
    char **p = realloc(an->names, cap * sizeof *p);
    if (!p) return an->failed = 1, -1;
    an->names = p;
    an->cap = cap;
  }
  if (!(an->names[an->n] = strdup(name))) return an->failed = 1, -1;
  an->n++;
  return 0;
}

/* The index to list the object at loc by: creation order when its creation
 * property list tracks it (h5py's track_order=True), as h5py lists then, else
 * name.  links: 1 for the links of a group, 0 for attributes. */
H5_index_t h5_listing_index(hid_t loc, int links) {
  unsigned flags = 0;
  hid_t obj = -1, cpl = -1;
  H5E_BEGIN_TRY {
    obj = H5Oopen(loc, ".", H5P_DEFAULT);  /* a file id opens its root group */
    if (obj >= 0) {
      switch (H5Iget_type(obj)) {
        case H5I_GROUP: cpl = H5Gget_create_plist(obj); break;
        case H5I_DATASET: cpl = H5Dget_create_plist(obj); break;
        case H5I_DATATYPE: cpl = H5Tget_create_plist(obj); break;
        default: break;
      }
    }
    if (cpl >= 0 && (links ? H5Pget_link_creation_order(cpl, &flags)
                           : H5Pget_attr_creation_order(cpl, &flags)) < 0)
      flags = 0;
    if (cpl >= 0) H5Pclose(cpl);
    if (obj >= 0) H5Oclose(obj);
  } H5E_END_TRY;
  return (flags & H5P_CRT_ORDER_TRACKED) ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
}

/* attrs:keys() -> {name, ...} in creation order if the object tracks it, else
 * in name order */
static int attrs_keys(lua_State *L) {
  hid_t loc = check_attrs(L, 1);
  attr_names an = {NULL, 0, 0, 0};
  hsize_t idx = 0;
  H5_index_t order = h5_listing_index(loc, 0);
  H5_OPERATION("listing attributes");
  /* Listing makes libhdf5 build a table of the attribute messages; when one
   * does not decode, libhdf5 1.10 frees the table's unset entries, which
   * corrupts its cache and crashes it later, at the latest when the file
   * closes (damaged/h5diff_attr1.h5).  Looking up an absent name first
   * decodes the same messages one by one and fails cleanly instead. */
  herr_t r = H5Aexists(loc, "\177h5lua: no such attribute") < 0
                 ? -1
                 : H5Aiterate2(loc, order, H5_ITER_INC, &idx, collect_attr, &an);
  if (r < 0 && !an.failed) {
    for (size_t i = 0; i < an.n; i++) free(an.names[i]);
    free(an.names);
    char reason[768];  /* taken before the owner's name, which clears the stack */
    h5_error_reason(reason, sizeof reason);
    push_owner_name(L, 1);
    lua_pushfstring(L, "h5: cannot list attributes of '%s'%s%s", lua_tostring(L, -1),
                    reason[0] ? ": " : "", reason);
    H5Eclear2(H5E_DEFAULT);
    return lua_error(L);
  }
  lua_createtable(L, (int)an.n, 0);
  for (size_t i = 0; i < an.n; i++) {
    lua_pushstring(L, an.names[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  for (size_t i = 0; i < an.n; i++) free(an.names[i]);
  free(an.names);
  if (an.failed) return luaL_error(L, "h5: out of memory listing attributes");
  return 1;
}

static int pairs_step(lua_State *L) {
  lua_Integer i = lua_tointeger(L, lua_upvalueindex(3)) + 1;
  if (lua_rawgeti(L, lua_upvalueindex(2), i) == LUA_TNIL) return 1;
  lua_pushinteger(L, i);
  lua_replace(L, lua_upvalueindex(3));
  hid_t loc = check_attrs(L, lua_upvalueindex(1));
  const char *name = lua_tostring(L, -1);
  if (!read_attr(L, loc, name)) return lua_error(L);
  return 2;
}

/* pairs(attrs) -> iterator of (name, value) in attrs:keys() order */
static int attrs_pairs(lua_State *L) {
  check_attrs(L, 1);
  lua_settop(L, 1);
  attrs_keys(L);  /* attrs, names */
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, pairs_step, 3);
  return 1;
}

static int attrs_len(lua_State *L) {
  hid_t loc = check_attrs(L, 1);
  H5O_info_t info;
  if (H5Oget_info2(loc, &info, H5O_INFO_NUM_ATTRS) < 0)
    return h5_raise(L, "cannot count attributes");
  lua_pushinteger(L, (lua_Integer)info.num_attrs);
  return 1;
}

static int attrs_tostring(lua_State *L) {
  luaL_checkudata(L, 1, H5_ATTRS);
  lua_getiuservalue(L, 1, 1);
  h5_handle *owner = h5_test_object(L, -1);
  if (!owner || !h5_is_open(owner)) {
    lua_pushliteral(L, "<closed h5.Attributes>");
    return 1;
  }
  H5O_info_t info;
  H5Oget_info2(owner->id, &info, H5O_INFO_NUM_ATTRS);
  h5_push_name(L, owner->id);
  lua_pushfstring(L, "<h5.Attributes of \"%s\" (%d)>", lua_tostring(L, -1), (int)info.num_attrs);
  return 1;
}

/* __index: methods first, then attribute lookup (nil when missing). */
static int attrs_index(lua_State *L) {
  if (h5_get_method(L, H5_ATTRS, 2)) return 1;
  if (lua_type(L, 2) != LUA_TSTRING) {
    check_attrs(L, 1);
    return 0;
  }
  return attrs_get(L);
}

/* attrs[name] = value; attrs[name] = nil deletes.  A number key is refused,
 * not turned into a name: attrs[1] reads nil (__index), so attrs[1] = v
 * would write what it cannot read back. */
static int attrs_newindex(lua_State *L) {
  if (lua_type(L, 2) != LUA_TSTRING) luaL_typeerror(L, 2, "string");
  return attrs_set(L);
}

static const luaL_Reg attrs_meta[] = {
  {"__index", attrs_index},
  {"__len", attrs_len},
  {"__newindex", attrs_newindex},
  {"__pairs", attrs_pairs},
  {"__tostring", attrs_tostring},
  {NULL, NULL}
};

static const luaL_Reg attrs_methods[] = {
  {"delete", attrs_delete},
  {"exists", attrs_exists},
  {"get", attrs_get},
  {"keys", attrs_keys},
  {"set", attrs_set},
  {NULL, NULL}
};

static int attrs_empty_tostring(lua_State *L) {
  lua_pushliteral(L, "h5.EMPTY");
  return 1;
}

void h5_open_attrs(lua_State *L) {
  h5_new_metatable(L, H5_ATTRS, attrs_meta, attrs_methods);
  /* h5.EMPTY: the value of an attribute with a null dataspace (h5py Empty) */
  lua_newtable(L);
  lua_newtable(L);
  lua_pushliteral(L, "h5.EMPTY");
  lua_setfield(L, -2, "__name");
  lua_pushcfunction(L, attrs_empty_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, "h5.EMPTY");
  lua_setfield(L, -2, "EMPTY");
}
