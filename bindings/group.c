/*
 * group.c -- h5.Group: members, links, visiting and copying.
 *
 * HDF5 callbacks (H5Literate, H5Ovisit) only collect names into C memory;
 * Lua is called after HDF5 has returned, so no Lua error can longjmp
 * through the library.
 */
#include <stdlib.h>
#include <string.h>

#include "h5_internal.h"

/* {====================================================================
 * Name lists collected in C
 * ===================================================================== */

typedef struct name_list {
  char **names;
  size_t n, cap;
  int failed;  /* out of memory */
} name_list;

static int name_list_add(name_list *nl, const char *name) {
  if (nl->n == nl->cap) {
    size_t cap = nl->cap ? nl->cap * 2 : 64;
    char **p = realloc(nl->names, cap * sizeof *p);
    if (!p) return nl->failed = 1, -1;
    nl->names = p;
    nl->cap = cap;
  }
  char *copy = strdup(name);
  if (!copy) return nl->failed = 1, -1;
  nl->names[nl->n++] = copy;
  return 0;
}

static void name_list_free(name_list *nl) {
  for (size_t i = 0; i < nl->n; i++) free(nl->names[i]);
  free(nl->names);
  memset(nl, 0, sizeof *nl);
}

static herr_t collect_link(hid_t g, const char *name, const H5L_info_t *info, void *data) {
  (void)g;
  (void)info;
  return name_list_add(data, name) < 0 ? -1 : 0;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the links in the group at loc, in creation order if the group
 * tracks it, else sorted by name.  Returns 0 or -1 (HDF5 failure; the error
 * stack is left for h5_raise).
 * By name: native order, sorted here.  For a dense group (many links) an
 * increasing order makes libhdf5 1.10 build a table of every link first, and
 * on a damaged (truncated) file it frees that half-built table's garbage and
 * crashes; native order walks the name B-tree without a table, so a damaged
 * group fails with an error instead.  strcmp is HDF5's name order. */
static int list_links(hid_t loc, name_list *nl) {
  memset(nl, 0, sizeof *nl);
  hsize_t idx = 0;
  H5_index_t order = h5_listing_index(loc, 1);
  H5_OPERATION("listing a group");
  H5_iter_order_t iter = order == H5_INDEX_NAME ? H5_ITER_NATIVE : H5_ITER_INC;
  if (H5Literate(loc, order, iter, &idx, collect_link, nl) < 0) {
    if (nl->failed) H5Eclear2(H5E_DEFAULT);
    return -1;
  }
  if (order == H5_INDEX_NAME && nl->n > 1) qsort(nl->names, nl->n, sizeof *nl->names, compare_names);
  return 0;
}

/* Push a Lua array of the names, then free them. */
static void push_name_list(lua_State *L, name_list *nl) {
  lua_createtable(L, (int)nl->n, 0);
  for (size_t i = 0; i < nl->n; i++) {
    lua_pushstring(L, nl->names[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/* {====================================================================
 * Helpers
 * ===================================================================== */

static const char *object_kind_name(H5O_type_t t) {
  switch (t) {
    case H5O_TYPE_GROUP: return "group";
    case H5O_TYPE_DATASET: return "dataset";
    case H5O_TYPE_NAMED_DATATYPE: return "datatype";
    default: return "object";
  }
}

/* Open first: a hit (the common case: s.structures[refcode]) costs one HDF5
 * call; only a miss walks the path to tell "missing" (nil) from a failure. */
int h5_group_lookup(lua_State *L, int loc_idx, const char *path) {
  h5_handle *h = lua_touserdata(L, loc_idx);
  H5_OPERATION("opening an object");
  hid_t id = H5Oopen(h->id, path, H5P_DEFAULT);
  if (id >= 0) {
    h5_push_object(L, id, loc_idx);
    return 1;
  }
  const char *full = h5_push_path(L, h->id, path);
  h5_push_error(L, "cannot open '%s'", full);  /* before the walk resets the stack */
  if (!h5_path_exists(h->id, path)) {
    H5Eclear2(H5E_DEFAULT);
    lua_pop(L, 2);
    lua_pushnil(L);
    return 1;
  }
  return lua_error(L);
}

/* Why a path does not resolve: "no such object" or "dangling ... link". */
static const char *push_missing_reason(lua_State *L, hid_t loc, const char *path) {
  if (h5_link_exists(loc, path)) {
    H5L_info_t info;
    if (H5Lget_info(loc, path, &info, H5P_DEFAULT) >= 0 && info.type == H5L_TYPE_SOFT) {
      char *target = malloc(info.u.val_size + 1);
      if (target && H5Lget_val(loc, path, target, info.u.val_size + 1, H5P_DEFAULT) >= 0) {
        lua_pushfstring(L, "dangling soft link to '%s'", target);
        free(target);
        return lua_tostring(L, -1);
      }
      free(target);
    }
    H5Eclear2(H5E_DEFAULT);
    return lua_pushliteral(L, "dangling link (its target does not exist or cannot be opened)");
  }
  H5Eclear2(H5E_DEFAULT);
  return lua_pushliteral(L, "no such object");
}

/* {====================================================================
 * Members
 * ===================================================================== */

/* g:create_group(name[, {track_order=}]) -> Group
 * Creates missing parents; raises if name already exists. */
static int group_create_group(lua_State *L) {
  h5_handle *h = h5_check_location(L, 1);
  const char *name = h5_check_path(L, 2);
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  if (!h5_is_writable(h))
    h5_check_writable(L, 1, lua_pushfstring(L, "create group '%s'", h5_push_path(L, h->id, name)));
  int track = 0;
  if (lua_istable(L, 3)) {  /* a misspelt option must not pass unnoticed */
    lua_pushnil(L);
    while (lua_next(L, 3)) {
      lua_pop(L, 1);
      if (lua_type(L, -1) != LUA_TSTRING || strcmp(lua_tostring(L, -1), "track_order") != 0)
        return luaL_argerror(L, 3, lua_pushfstring(L, "unknown option '%s'",
                                                   luaL_tolstring(L, -1, NULL)));
    }
    lua_getfield(L, 3, "track_order");
    track = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  h5_new_handle(L, H5_GROUP, H5K_GROUP, 1);
  hid_t gcpl = H5P_DEFAULT;
  if (track) {
    gcpl = H5Pcreate(H5P_GROUP_CREATE);
    H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
    H5Pset_attr_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  }
  /* created first, asked why only on failure: a lookup before would cost a
   * second search of a big group (the store creates one group per structure) */
  hid_t id = H5Gcreate2(h->id, name, h5_lcpl(name), gcpl, H5P_DEFAULT);
  if (track) H5Pclose(gcpl);
  if (id < 0) {
    h5_push_create_error(L, h->id, name, "group");
    return lua_error(L);
  }
  h5_set_id(L, -1, id);
  return 1;
}

/* g:require_group(name) -> Group
 * Returns the existing group, or creates it and any missing parents.
 * Raises if something that is not a group is there. */
static int group_require_group(lua_State *L) {
  h5_handle *h = h5_check_location(L, 1);
  const char *name = h5_check_path(L, 2);
  if (h5_path_exists(h->id, name)) {
    H5O_info_t info;
    if (H5Oget_info_by_name2(h->id, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
      return h5_raise(L, "cannot open '%s'", h5_push_path(L, h->id, name));
    if (info.type != H5O_TYPE_GROUP)
      return luaL_error(L, "h5: cannot require group '%s': a %s is there",
                        h5_push_path(L, h->id, name), object_kind_name(info.type));
    return h5_group_lookup(L, 1, name);
  }
  H5Eclear2(H5E_DEFAULT);
  lua_settop(L, 2);
  return group_create_group(L);
}

/* g:get(path) -> object | nil, reason
 * nil for a missing path or a dangling link; raises only on real failures. */
static int group_get(lua_State *L) {
  h5_handle *h = h5_check_location(L, 1);
  const char *path = h5_check_path(L, 2);
  h5_group_lookup(L, 1, path);
  if (!lua_isnil(L, -1)) return 1;
  push_missing_reason(L, h->id, path);
  return 2;
}

/* g:exists(path) -> boolean  (true only when path resolves to an object) */
static int group_exists(lua_State *L) {
  h5_handle *h = h5_check_location(L, 1);
  const char *path = h5_check_path(L, 2);
  lua_pushboolean(L, h5_path_exists(h->id, path));
  H5Eclear2(H5E_DEFAULT);
  return 1;
}

/* g:keys() -> {name, ...} sorted by name (links, dangling ones included) */
static int group_keys(lua_State *L) {
  h5_handle *h = h5_check_location(L, 1);
  name_list nl;
  if (list_links(h->id, &nl) < 0) {
    if (nl.failed) {
      name_list_free(&nl);
      return luaL_error(L, "h5: out of memory listing a group");
    }
    name_list_free(&nl);
    h5_push_name(L, h->id);
    return h5_raise(L, "cannot list members of '%s'", lua_tostring(L, -1));
  }
  push_name_list(L, &nl);
  name_list_free(&nl);
  return 1;
}

static int items_step(lua_State *L) {
  lua_Integer i = lua_tointeger(L, lua_upvalueindex(3)) + 1;
  if (lua_rawgeti(L, lua_upvalueindex(2), i) == LUA_TNIL) return 1;  /* nil: done */
  lua_pushinteger(L, i);
  lua_replace(L, lua_upvalueindex(3));
  h5_handle *h = h5_check_location(L, lua_upvalueindex(1));
  const char *name = lua_tostring(L, -1);
  lua_pushvalue(L, lua_upvalueindex(1));
  int group_idx = lua_gettop(L);
  if (h5_path_exists(h->id, name)) {
    h5_group_lookup(L, group_idx, name);
  } else {
    H5Eclear2(H5E_DEFAULT);
    lua_pushnil(L);  /* dangling link: listed, no object */
  }
  lua_remove(L, group_idx);
  return 2;
}

/* g:items() -> iterator of (name, object|nil) in name order (creation order when the group tracks it) */
static int group_items(lua_State *L) {
  h5_check_location(L, 1);
  lua_settop(L, 1);
  group_keys(L);  /* group, names */
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, items_step, 3);
  return 1;
}

static int group_len(lua_State *L) {
  h5_handle *h = h5_check_location(L, 1);
  H5G_info_t info;
  if (H5Gget_info(h->id, &info) < 0) return h5_raise(L, "cannot count members");
  lua_pushinteger(L, (lua_Integer)info.nlinks);
  return 1;
}

/* g:delete(path)  Removes the link; raises if there is none. */
static int group_delete(lua_State *L) {
  h5_handle *h = h5_check_location(L, 1);
  const char *path = h5_check_path(L, 2);
  const char *full = h5_push_path(L, h->id, path);
  h5_check_writable(L, 1, lua_pushfstring(L, "delete '%s'", full));
  if (!h5_link_exists(h->id, path)) {
    H5Eclear2(H5E_DEFAULT);
    return luaL_error(L, "h5: cannot delete '%s': no such object", full);
  }
  if (H5Ldelete(h->id, path, H5P_DEFAULT) < 0) return h5_raise(L, "cannot delete '%s'", full);
  return 0;
}

/* Would moving the object at src to dst put it below itself?  (HDF5 does it
 * without a word, and the group and everything in it become unreachable.)
 * Compares src with each existing parent of dst by object address, so links
 * that alias src count too. */
static int moves_into_itself(hid_t loc, const char *src, const char *dst) {
  H5O_info_t info;
  if (H5Oget_info_by_name2(loc, src, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return 0;
  }
  if (info.type != H5O_TYPE_GROUP) return 0;
  haddr_t addr = info.addr;
  size_t n = strlen(dst);
  char *prefix = malloc(n + 1);
  if (!prefix) return 0;
  memcpy(prefix, dst, n + 1);
  int inside = 0;
  for (size_t i = 1; i < n && !inside; i++) {
    if (prefix[i] != '/') continue;
    prefix[i] = '\0';
    if (h5_path_exists(loc, prefix) &&
        H5Oget_info_by_name2(loc, prefix, &info, H5O_INFO_BASIC, H5P_DEFAULT) >= 0)
      inside = info.addr == addr;
    H5Eclear2(H5E_DEFAULT);
    prefix[i] = '/';
  }
  free(prefix);
  return inside;
}

/* g:move(src, dst)  Renames a link within the file (creating parents of dst).
 * Raises when dst is below src (the group would become unreachable). */
static int group_move(lua_State *L) {
  h5_handle *h = h5_check_location(L, 1);
  const char *src = h5_check_path(L, 2);
  const char *dst = h5_check_path(L, 3);
  const char *fsrc = h5_push_path(L, h->id, src);
  const char *fdst = h5_push_path(L, h->id, dst);
  h5_check_writable(L, 1, lua_pushfstring(L, "move '%s'", fsrc));
  if (!h5_link_exists(h->id, src))
    return luaL_error(L, "h5: cannot move '%s': no such object", fsrc);
  if (h5_link_exists(h->id, dst))
    return luaL_error(L, "h5: cannot move '%s' to '%s': destination exists", fsrc, fdst);
  if (moves_into_itself(h->id, src, dst))
    return luaL_error(L, "h5: cannot move '%s' to '%s': a group cannot go inside itself", fsrc,
                      fdst);
  H5Eclear2(H5E_DEFAULT);
  hid_t lcpl = h5_lcpl(dst);
  herr_t r = H5Lmove(h->id, src, h->id, dst, lcpl, H5P_DEFAULT);
  if (r < 0) h5_push_error(L, "cannot move '%s' to '%s'", fsrc, fdst);
  if (r < 0) return lua_error(L);
  return 0;
}

static herr_t collect_object(hid_t obj, const char *name, const H5O_info_t *info, void *data) {
  (void)obj;
  (void)info;
  if (strcmp(name, ".") == 0) return 0;
  return name_list_add(data, name) < 0 ? -1 : 0;
}

/* g:visit(fn) -> first non-nil value fn returned, or nil
 * Calls fn(path, object) for every object below g once (paths relative to g,
 * in name order), as h5py's visititems. */
static int group_visit(lua_State *L) {
  h5_handle *h = h5_check_location(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  name_list nl;
  memset(&nl, 0, sizeof nl);
  H5_OPERATION("visiting the objects of a group");
  if (H5Ovisit2(h->id, H5_INDEX_NAME, H5_ITER_INC, collect_object, &nl, H5O_INFO_BASIC) < 0) {
    int oom = nl.failed;
    name_list_free(&nl);
    if (oom) return luaL_error(L, "h5: out of memory visiting a group");
    h5_push_name(L, h->id);
    return h5_raise(L, "cannot visit '%s'", lua_tostring(L, -1));
  }
  /* Move the names into Lua first so a raising callback leaks nothing. */
  push_name_list(L, &nl);
  name_list_free(&nl);
  int names = lua_gettop(L);
  lua_Integer n = (lua_Integer)lua_rawlen(L, names);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_pushvalue(L, 2);
    lua_rawgeti(L, names, i);
    const char *path = lua_tostring(L, -1);
    h5_check_location(L, 1);  /* the callback may have closed the file */
    if (h5_path_exists(h->id, path)) h5_group_lookup(L, 1, path);
    else lua_pushnil(L);
    lua_call(L, 2, 1);
    if (!lua_isnil(L, -1)) return 1;
    lua_pop(L, 1);
  }
  return 0;
}

/* {====================================================================
 * Links
 * ===================================================================== */

/* g:link(target_path, name)  Hard link name -> existing object target_path. */
static int group_link(lua_State *L) {
  h5_handle *h = h5_check_location(L, 1);
  const char *target = h5_check_path(L, 2);
  const char *name = h5_check_path(L, 3);
  const char *full = h5_push_path(L, h->id, name);
  h5_check_writable(L, 1, lua_pushfstring(L, "create link '%s'", full));
  if (!h5_path_exists(h->id, target))
    return luaL_error(L, "h5: cannot link '%s' to '%s': no such object", full, target);
  if (h5_link_exists(h->id, name))
    return luaL_error(L, "h5: cannot create link '%s': name already exists", full);
  H5Eclear2(H5E_DEFAULT);
  hid_t lcpl = h5_lcpl(name);
  herr_t r = H5Lcreate_hard(h->id, target, h->id, name, lcpl, H5P_DEFAULT);
  if (r < 0) h5_push_error(L, "cannot create link '%s'", full);
  if (r < 0) return lua_error(L);
  return 0;
}

/* g:soft_link(target_path, name)  The target need not exist (yet). */
static int group_soft_link(lua_State *L) {
  h5_handle *h = h5_check_location(L, 1);
  const char *target = h5_check_path(L, 2);
  const char *name = h5_check_path(L, 3);
  const char *full = h5_push_path(L, h->id, name);
  h5_check_writable(L, 1, lua_pushfstring(L, "create link '%s'", full));
  if (h5_link_exists(h->id, name))
    return luaL_error(L, "h5: cannot create link '%s': name already exists", full);
  H5Eclear2(H5E_DEFAULT);
  hid_t lcpl = h5_lcpl(name);
  herr_t r = H5Lcreate_soft(target, h->id, name, lcpl, H5P_DEFAULT);
  if (r < 0) h5_push_error(L, "cannot create link '%s'", full);
  if (r < 0) return lua_error(L);
  return 0;
}

/* g:external_link(file, path, name)  A link to path inside another file. */
static int group_external_link(lua_State *L) {
  h5_handle *h = h5_check_location(L, 1);
  const char *file = h5_check_path(L, 2);
  const char *target = h5_check_path(L, 3);
  const char *name = h5_check_path(L, 4);
  const char *full = h5_push_path(L, h->id, name);
  h5_check_writable(L, 1, lua_pushfstring(L, "create link '%s'", full));
  if (h5_link_exists(h->id, name))
    return luaL_error(L, "h5: cannot create link '%s': name already exists", full);
  H5Eclear2(H5E_DEFAULT);
  hid_t lcpl = h5_lcpl(name);
  herr_t r = H5Lcreate_external(file, target, h->id, name, lcpl, H5P_DEFAULT);
  if (r < 0) h5_push_error(L, "cannot create link '%s'", full);
  if (r < 0) return lua_error(L);
  return 0;
}

/* g:link_info(name) -> {kind=, target=, file=, dangling=} | nil, reason
 * kind is "hard", "soft", "external" or "user"; target and file as stored. */
static int group_link_info(lua_State *L) {
  h5_handle *h = h5_check_location(L, 1);
  const char *name = h5_check_path(L, 2);
  H5L_info_t info;
  /* Ask first (one call for the common hit); on failure tell a missing link
   * (nil) from a real error by walking the path. */
  if (H5Lget_info(h->id, name, &info, H5P_DEFAULT) < 0) {
    const char *full = h5_push_path(L, h->id, name);
    h5_push_error(L, "cannot get link info of '%s'", full);
    if (!h5_link_exists(h->id, name)) {
      H5Eclear2(H5E_DEFAULT);
      lua_pop(L, 2);
      lua_pushnil(L);
      lua_pushliteral(L, "no such link");
      return 2;
    }
    return lua_error(L);
  }
  lua_createtable(L, 0, 4);
  if (info.type == H5L_TYPE_HARD) {
    lua_pushliteral(L, "hard");
    lua_setfield(L, -2, "kind");
  } else if (info.type == H5L_TYPE_SOFT || info.type == H5L_TYPE_EXTERNAL) {
    size_t size = info.u.val_size;
    char *val = malloc(size + 1);
    if (!val) return luaL_error(L, "h5: out of memory");
    if (H5Lget_val(h->id, name, val, size + 1, H5P_DEFAULT) < 0) {
      free(val);
      return h5_raise(L, "cannot read link '%s'", h5_push_path(L, h->id, name));
    }
    if (info.type == H5L_TYPE_SOFT) {
      lua_pushliteral(L, "soft");
      lua_setfield(L, -2, "kind");
      lua_pushstring(L, val);
      lua_setfield(L, -2, "target");
    } else {
      const char *fname = NULL, *path = NULL;
      unsigned flags;
      lua_pushliteral(L, "external");
      lua_setfield(L, -2, "kind");
      if (H5Lunpack_elink_val(val, size, &flags, &fname, &path) >= 0) {
        lua_pushstring(L, fname);
        lua_setfield(L, -2, "file");
        lua_pushstring(L, path);
        lua_setfield(L, -2, "target");
      }
    }
    free(val);
  } else {
    lua_pushliteral(L, "user");
    lua_setfield(L, -2, "kind");
    lua_pushinteger(L, (lua_Integer)info.type);
    lua_setfield(L, -2, "link_class");
  }
  /* a hard link always reaches its object: no need to resolve it */
  lua_pushboolean(L, info.type != H5L_TYPE_HARD && !h5_path_exists(h->id, name));
  H5Eclear2(H5E_DEFAULT);
  lua_setfield(L, -2, "dangling");
  return 1;
}

/* g:copy(src, dest[, name[, opts]])
 * src: a path below g or an object; dest: a Group/File (any file) or a path
 * below g; name defaults to src's last component.  opts: shallow,
 * expand_soft, expand_external, without_attrs (h5py's flags). H5Ocopy. */
static int group_copy(lua_State *L) {
  h5_handle *h = h5_check_location(L, 1);
  lua_settop(L, 5);  /* optional arguments stay at their positions */
  hid_t src_loc = h->id;
  const char *src_name;
  if (lua_type(L, 2) == LUA_TSTRING) {
    src_name = h5_check_path(L, 2);
    lua_pushvalue(L, 2);  /* basename source */
  } else {
    src_loc = h5_check_object(L, 2)->id;
    src_name = ".";
    h5_push_name(L, src_loc);
  }
  const char *src_base = strrchr(lua_tostring(L, -1), '/');
  src_base = src_base && src_base[1] ? src_base + 1 : lua_tostring(L, -1);
  const char *name = lua_isnoneornil(L, 4) ? NULL : h5_check_path(L, 4);
  if (!lua_isnoneornil(L, 5)) luaL_checktype(L, 5, LUA_TTABLE);
  hid_t dst_loc;
  const char *dst_name;
  if (lua_type(L, 3) == LUA_TSTRING) {  /* a path below g */
    const char *d = h5_check_path(L, 3);
    dst_loc = h->id;
    if (name) dst_name = lua_pushfstring(L, "%s/%s", d, name);
    else if (h5_path_exists(h->id, d)) dst_name = lua_pushfstring(L, "%s/%s", d, src_base);
    else dst_name = d;
    h5_check_writable(L, 1, "copy");
  } else {  /* a Group or File, possibly of another file */
    dst_loc = h5_check_location(L, 3)->id;
    dst_name = name ? name : src_base;
    h5_check_writable(L, 3, "copy into the destination");
  }
  if (!h5_path_exists(src_loc, src_name))
    return luaL_error(L, "h5: cannot copy '%s': no such object", src_name);
  if (h5_link_exists(dst_loc, dst_name))
    return luaL_error(L, "h5: cannot copy to '%s': name already exists", dst_name);
  H5Eclear2(H5E_DEFAULT);
  unsigned flags = 0;
  if (lua_istable(L, 5)) {
    static const struct { const char *key; unsigned flag; } opts[] = {
      {"shallow", H5O_COPY_SHALLOW_HIERARCHY_FLAG},
      {"expand_soft", H5O_COPY_EXPAND_SOFT_LINK_FLAG},
      {"expand_external", H5O_COPY_EXPAND_EXT_LINK_FLAG},
      {"without_attrs", H5O_COPY_WITHOUT_ATTR_FLAG},
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
      lua_getfield(L, 5, opts[i].key);
      if (lua_toboolean(L, -1)) flags |= opts[i].flag;
      lua_pop(L, 1);
    }
  }
  hid_t ocpypl = H5Pcreate(H5P_OBJECT_COPY);
  H5Pset_copy_object(ocpypl, flags);
  hid_t lcpl = h5_lcpl(dst_name);
  H5_OPERATION("copying an object");  /* libhdf5 1.10 faults when a write fails mid-copy */
  herr_t r = H5Ocopy(src_loc, src_name, dst_loc, dst_name, ocpypl, lcpl);
  if (r < 0) h5_push_error(L, "cannot copy '%s' to '%s'", src_name, dst_name);
  H5Pclose(ocpypl);
  if (r < 0) return lua_error(L);
  return 0;
}

/* {====================================================================
 * Metatable
 * ===================================================================== */

static int group_close(lua_State *L) {
  luaL_checkudata(L, 1, H5_GROUP);
  return h5_handle_gc(L);
}

static int group_is_open(lua_State *L) {
  h5_handle *h = luaL_checkudata(L, 1, H5_GROUP);
  lua_pushboolean(L, h5_is_open(h));
  return 1;
}

static int group_tostring(lua_State *L) {
  h5_handle *h = luaL_checkudata(L, 1, H5_GROUP);
  if (!h5_is_open(h)) {
    lua_pushliteral(L, "<closed h5.Group>");
    return 1;
  }
  H5G_info_t info;
  H5Gget_info(h->id, &info);
  h5_push_object_name(L, h->id);
  if (lua_isnil(L, -1))
    lua_pushfstring(L, "<h5.Group (anonymous) (%d members)>", (int)info.nlinks);
  else
    lua_pushfstring(L, "<h5.Group \"%s\" (%d members)>", lua_tostring(L, -1),
                    (int)info.nlinks);
  return 1;
}

/* __index: methods, then properties (name, file, kind, attrs), then children. */
static int group_index(lua_State *L) {
  h5_handle *h = luaL_checkudata(L, 1, H5_GROUP);
  if (h5_get_method(L, H5_GROUP, 2)) return 1;
  if (lua_type(L, 2) != LUA_TSTRING) return 0;
  const char *key = lua_tostring(L, 2);
  if (!h5_is_open(h)) return luaL_error(L, "h5: attempt to use a closed Group");
  if (strcmp(key, "name") == 0) h5_push_object_name(L, h->id);
  else if (strcmp(key, "file") == 0) h5_push_file(L, 1);
  else if (strcmp(key, "kind") == 0) lua_pushliteral(L, "group");
  else if (strcmp(key, "attrs") == 0) h5_push_attrs(L, 1);
  else return h5_group_lookup(L, 1, key);
  return 1;
}

static const luaL_Reg group_meta[] = {
  {"__close", h5_handle_gc},
  {"__gc", h5_handle_gc},
  {"__index", group_index},
  {"__len", group_len},
  {"__tostring", group_tostring},
  {NULL, NULL}
};

const luaL_Reg h5_group_methods[] = {
  {"copy", group_copy},
  {"create_group", group_create_group},
  {"delete", group_delete},
  {"exists", group_exists},
  {"external_link", group_external_link},
  {"get", group_get},
  {"items", group_items},
  {"keys", group_keys},
  {"link", group_link},
  {"link_info", group_link_info},
  {"move", group_move},
  {"require_group", group_require_group},
  {"soft_link", group_soft_link},
  {"visit", group_visit},
  {NULL, NULL}
};

static const luaL_Reg group_own_methods[] = {
  {"close", group_close},
  {"is_open", group_is_open},
  {NULL, NULL}
};

void h5_open_group(lua_State *L) {
  h5_new_metatable(L, H5_GROUP, group_meta, h5_group_methods);
  luaL_getmetatable(L, H5_GROUP);
  lua_getfield(L, -1, "__methods");
  luaL_setfuncs(L, group_own_methods, 0);
  lua_pop(L, 2);
}
