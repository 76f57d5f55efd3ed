/*
 * h5.c -- the `h5` module: handle lifetime, shared helpers, luaopen_h5.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5_internal.h"

const char *volatile h5_operation = NULL;
volatile int h5_watchdog_enabled = 0;

/* The alarm is armed lazily, not around each call: two alarm() calls cost
 * 3 us, a third of a scalar string read.  Each guarded call counts itself
 * (watch_seq) and says it is running; the alarm, once set, stays set.
 * When it fires, the call that was running when it was set is a hang if it
 * is still running; a newer call gets a fresh alarm of its own limit; with
 * no call running the watchdog goes idle.  So a call is stopped no sooner
 * than its limit after it began. */
static volatile sig_atomic_t watch_running = 0, watch_armed = 0;
static volatile sig_atomic_t watch_seq = 0, watch_armed_seq = 0;
static volatile unsigned watch_seconds = 10;

/* The limit of a small guarded call: H5LUA_HANG_SECONDS (1..86400; tests
 * use a short one to spend less time on files that loop), else 10 s. */
static unsigned hang_base_seconds(void) {
  static unsigned base = 0;
  if (!base) {
    const char *s = getenv("H5LUA_HANG_SECONDS");
    long v = s ? strtol(s, NULL, 10) : 0;
    base = v >= 1 && v <= 86400 ? (unsigned)v : 10;
  }
  return base;
}

void h5_watchdog_arm(unsigned extra_seconds) {
  if (!h5_watchdog_enabled) return;
  unsigned seconds = hang_base_seconds() + extra_seconds;
  watch_seconds = seconds;
  watch_seq = (sig_atomic_t)((unsigned)watch_seq + 1u);  /* wraps, never overflows */
  watch_running = 1;
  if (!watch_armed) {
    watch_armed = 1;
    watch_armed_seq = watch_seq;
    alarm(seconds);
  }
}

void h5_watchdog_disarm(void) {
  watch_running = 0;
}

int h5_watchdog_expired(void) {
  if (watch_running && watch_seq == watch_armed_seq) return 1;
  if (watch_running) {
    watch_armed_seq = watch_seq;
    alarm(watch_seconds);
  } else {
    watch_armed = 0;
  }
  return 0;
}

/* {====================================================================
 * Handles
 * ===================================================================== */

static const char *kind_label(int kind) {
  switch (kind) {
    case H5K_FILE: return "File";
    case H5K_GROUP: return "Group";
    case H5K_DATASET: return "Dataset";
    default: return "Datatype";
  }
}

int h5_is_open(const h5_handle *h) {
  return h->id >= 0 && H5Iis_valid(h->id) > 0;
}

/* Files whose H5Fclose failed (its flush could not write: disk full).
 * libhdf5 1.10 frees such a file but keeps its id, and closing that id again
 * -- its own atexit H5close does -- crashes in H5F__close_cb.  So the library
 * is told not to clean up at exit, and close_at_exit does it instead, leaving
 * these ids alone. */
#define MAX_FAILED_CLOSES 64
static hid_t failed_closes[MAX_FAILED_CLOSES];
static int nfailed_closes;

static int close_failed(hid_t id) {
  for (int i = 0; i < nfailed_closes; i++)
    if (failed_closes[i] == id) return 1;
  return 0;
}

static void close_at_exit(void) {
  if (nfailed_closes == 0) {
    H5close();  /* what HDF5's own atexit handler would have done */
    return;
  }
  ssize_t n = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE);
  if (n <= 0) return;
  hid_t *ids = malloc((size_t)n * sizeof *ids);
  if (!ids) return;
  n = H5Fget_obj_ids(H5F_OBJ_ALL, H5F_OBJ_FILE, (size_t)n, ids);
  for (ssize_t i = 0; i < n; i++)
    if (!close_failed(ids[i])) H5Fclose(ids[i]);
  free(ids);
}

void h5_close_handle(h5_handle *h) {
  hid_t id = h->id;
  h->id = H5I_INVALID_HID;  /* cleared first: a failing close cannot leave it half-open */
  if (id < 0 || H5Iis_valid(id) <= 0) return;
  switch (h->kind) {
    case H5K_FILE:
      if (H5Fclose(id) < 0 && nfailed_closes < MAX_FAILED_CLOSES)
        failed_closes[nfailed_closes++] = id;
      break;
    case H5K_GROUP: H5Gclose(id); break;
    case H5K_DATASET: H5Dclose(id); break;
    default: H5Tclose(id); break;
  }
}

h5_handle *h5_test_object(lua_State *L, int idx) {
  static const char *const names[] = {H5_FILE, H5_GROUP, H5_DATASET, H5_DATATYPE};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    h5_handle *h = luaL_testudata(L, idx, names[i]);
    if (h) return h;
  }
  return NULL;
}

/* Close every open child of the File at idx (its user value lists them). */
static void close_children(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_getiuservalue(L, idx, 1) != LUA_TTABLE) {  /* children */
    lua_pop(L, 1);
    return;
  }
  lua_pushnil(L);  /* children, key */
  while (lua_next(L, -2)) {
    h5_handle *child = h5_test_object(L, -2);
    if (child) h5_close_handle(child);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

int h5_close_file(lua_State *L, int idx) {
  h5_handle *h = luaL_checkudata(L, idx, H5_FILE);
  close_children(L, idx);
  hid_t id = h->id;
  h->id = H5I_INVALID_HID;
  if (id < 0 || H5Iis_valid(id) <= 0) return 0;
  if (H5Fclose(id) >= 0) return 0;
  if (nfailed_closes < MAX_FAILED_CLOSES) failed_closes[nfailed_closes++] = id;
  return -1;
}

/* __gc and __close: never raises (5.4 turns finalizer errors into warnings). */
int h5_handle_gc(lua_State *L) {
  h5_handle *h = h5_test_object(L, 1);
  if (!h) return 0;
  if (h->kind == H5K_FILE) close_children(L, 1);
  h5_close_handle(h);
  return 0;
}

h5_handle *h5_new_handle(lua_State *L, const char *tname, int kind, int file_idx) {
  if (file_idx) file_idx = lua_absindex(L, file_idx);
  h5_handle *h = lua_newuserdatauv(L, sizeof(h5_handle), 1);
  h->id = H5I_INVALID_HID;
  h->kind = kind;
  h->mode = H5M_R;
  h->writable = -1;
  luaL_setmetatable(L, tname);
  if (kind == H5K_FILE) {
    lua_newtable(L);  /* ud, children */
    lua_newtable(L);  /* ud, children, mt */
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_setiuservalue(L, -2, 1);  /* ud */
  } else {
    h5_push_file(L, file_idx);  /* ud, file */
    if (lua_getiuservalue(L, -1, 1) == LUA_TTABLE) {  /* ud, file, children */
      lua_pushvalue(L, -3);
      lua_pushboolean(L, 1);
      lua_rawset(L, -3);
    }
    lua_pop(L, 1);  /* ud, file */
    lua_setiuservalue(L, -2, 1);  /* ud */
  }
  return h;
}

void h5_set_id(lua_State *L, int idx, hid_t id) {
  h5_handle *h = lua_touserdata(L, idx);
  h->id = id;
}

void h5_push_file(lua_State *L, int idx) {
  h5_handle *h = h5_test_object(L, idx);
  if (h && h->kind == H5K_FILE)
    lua_pushvalue(L, idx);
  else
    lua_getiuservalue(L, idx, 1);
}

static int closed_error(lua_State *L, int kind) {
  return luaL_error(L, "h5: attempt to use a closed %s", kind_label(kind));
}

h5_handle *h5_check(lua_State *L, int idx, const char *tname) {
  h5_handle *h = luaL_checkudata(L, idx, tname);
  if (!h5_is_open(h)) closed_error(L, h->kind);
  return h;
}

h5_handle *h5_check_location(lua_State *L, int idx) {
  h5_handle *h = luaL_testudata(L, idx, H5_GROUP);
  if (!h) h = luaL_testudata(L, idx, H5_FILE);
  if (!h) luaL_typeerror(L, idx, "h5.Group or h5.File");
  if (!h5_is_open(h)) closed_error(L, h->kind);
  return h;
}

h5_handle *h5_check_object(lua_State *L, int idx) {
  h5_handle *h = h5_test_object(L, idx);
  if (!h) luaL_typeerror(L, idx, "h5 object");
  if (!h5_is_open(h)) closed_error(L, h->kind);
  return h;
}

void h5_push_object(lua_State *L, hid_t id, int file_idx) {
  const char *tname;
  int kind;
  file_idx = lua_absindex(L, file_idx);
  switch (H5Iget_type(id)) {
    case H5I_GROUP: tname = H5_GROUP; kind = H5K_GROUP; break;
    case H5I_DATASET: tname = H5_DATASET; kind = H5K_DATASET; break;
    case H5I_DATATYPE: tname = H5_DATATYPE; kind = H5K_DATATYPE; break;
    default:
      H5Oclose(id);
      luaL_error(L, "h5: unexpected kind of object");
      return;
  }
  h5_new_handle(L, tname, kind, file_idx);
  h5_set_id(L, -1, id);
}

const char *h5_push_path(lua_State *L, hid_t loc, const char *path) {
  if (path[0] == '/') return lua_pushstring(L, path);
  h5_push_name(L, loc);
  const char *base = lua_tostring(L, -1);
  size_t len = strlen(base);
  const char *full = lua_pushfstring(L, "%s%s%s", base, len && base[len - 1] == '/' ? "" : "/",
                                     path);
  lua_remove(L, -2);
  return full;
}

void h5_push_name(lua_State *L, hid_t id) {
  char small[256];
  ssize_t n = H5Iget_name(id, small, sizeof small);
  if (n <= 0) {
    lua_pushliteral(L, "/");
  } else if ((size_t)n < sizeof small) {
    lua_pushlstring(L, small, (size_t)n);
  } else {
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, (size_t)n + 1);
    H5Iget_name(id, p, (size_t)n + 1);
    luaL_pushresultsize(&b, (size_t)n);
  }
}

/* obj.name: nil once the object has no path left (deleted while open), as
 * in h5py, where HDF5 gives it no name -- "/" would pass for the root. */
void h5_push_object_name(lua_State *L, hid_t id) {
  if (H5Iget_name(id, NULL, 0) > 0) {
    h5_push_name(L, id);
  } else {
    H5Eclear2(H5E_DEFAULT);
    lua_pushnil(L);
  }
}

/* {====================================================================
 * Paths
 * ===================================================================== */

const char *h5_check_path(lua_State *L, int idx) {
  size_t len;
  const char *path = luaL_checklstring(L, idx, &len);
  if (len == 0) luaL_argerror(L, idx, "empty path");
  if (strlen(path) != len) luaL_argerror(L, idx, "path contains a NUL byte");
  return path;
}

/* Walk path one component at a time so that a missing parent answers "no"
 * instead of raising inside HDF5.  want_object: the last link must resolve. */
static int walk_path(hid_t loc, const char *path, int want_object) {
  size_t len = strlen(path);
  char stackbuf[512];
  char *buf = len < sizeof stackbuf ? stackbuf : malloc(len + 1);
  if (!buf) return 0;
  memcpy(buf, path, len + 1);
  int ok = 1;
  size_t i = 0;
  if (buf[0] == '/') i = 1;
  while (buf[i] == '/') i++;
  if (buf[i] == '\0') {  /* "/" or "" */
    ok = 1;
    goto done;
  }
  for (;;) {
    size_t end = i;
    while (buf[end] && buf[end] != '/') end++;
    int last = 1;
    for (size_t k = end; buf[k]; k++)
      if (buf[k] != '/') { last = 0; break; }
    char saved = buf[end];
    buf[end] = '\0';
    if (strcmp(buf + i, ".") != 0) {
      if (H5Lexists(loc, buf, H5P_DEFAULT) <= 0) { ok = 0; goto done; }
      if (!last || want_object) {
        if (H5Oexists_by_name(loc, buf, H5P_DEFAULT) <= 0) { ok = 0; goto done; }
      }
    }
    if (last) break;
    buf[end] = saved;
    i = end;
    while (buf[i] == '/') i++;
  }
done:
  if (buf != stackbuf) free(buf);
  return ok;
}

int h5_path_exists(hid_t loc, const char *path) { return walk_path(loc, path, 1); }

const char *h5_push_create_error(lua_State *L, hid_t loc, const char *name,
                                 const char *kind) {
  const char *full = h5_push_path(L, loc, name);
  h5_push_error(L, "cannot create %s '%s'", kind, full);  /* first: it reads HDF5's errors */
  const char *problem = NULL;
  if (h5_link_exists(loc, name))
    problem = lua_pushliteral(L, "name already exists");
  else
    problem = h5_push_parent_problem(L, loc, name);
  if (problem) {
    lua_pushfstring(L, "h5: cannot create %s '%s': %s", kind, full, problem);
    lua_replace(L, -3);
    lua_pop(L, 1);
  }
  H5Eclear2(H5E_DEFAULT);
  lua_remove(L, -2);  /* the path */
  return lua_tostring(L, -1);
}

const char *h5_push_parent_problem(lua_State *L, hid_t loc, const char *path) {
  for (const char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
    const char *prefix = lua_pushlstring(L, path, (size_t)(p - path));
    H5O_info_t info;
    if (!h5_path_exists(loc, prefix)) break;  /* missing: creation would make it */
    if (H5Oget_info_by_name2(loc, prefix, &info, H5O_INFO_BASIC, H5P_DEFAULT) >= 0 &&
        info.type != H5O_TYPE_GROUP) {
      const char *full = h5_push_path(L, loc, prefix);
      lua_pushfstring(L, "'%s' is a %s, not a group", full,
                      info.type == H5O_TYPE_DATASET ? "dataset" : "named datatype");
      lua_replace(L, -3);
      lua_pop(L, 1);
      H5Eclear2(H5E_DEFAULT);
      return lua_tostring(L, -1);
    }
    lua_pop(L, 1);
  }
  H5Eclear2(H5E_DEFAULT);
  return NULL;
}
int h5_link_exists(hid_t loc, const char *path) { return walk_path(loc, path, 0); }

int h5_is_ascii(const char *name) {
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    if (*p >= 0x80) return 0;
  return 1;
}

/* Link creation properties: parents created, and UTF-8 only for names that
 * need it, as h5py (an ASCII-flagged link keeps old-style groups, so files
 * stay byte-identical to h5py's).  Made once and shared -- every creation
 * needs one, and a property list per call costs as much as a small
 * creation; callers never close it. */
hid_t h5_lcpl(const char *name) {
  static hid_t lcpl[2] = { H5I_INVALID_HID, H5I_INVALID_HID };
  int utf8 = !h5_is_ascii(name);
  if (lcpl[utf8] > 0 && H5Iis_valid(lcpl[utf8]) > 0) return lcpl[utf8];
  lcpl[utf8] = H5Pcreate(H5P_LINK_CREATE);
  if (lcpl[utf8] < 0) return lcpl[utf8];
  if (utf8) H5Pset_char_encoding(lcpl[utf8], H5T_CSET_UTF8);
  H5Pset_create_intermediate_group(lcpl[utf8], 1);
  return lcpl[utf8];
}

/* Asked once per handle (an id's file and its intent never change), since
 * every creation asks: three HDF5 calls each time cost 1% of a store write. */
int h5_is_writable(h5_handle *h) {
  if (h->writable >= 0) return h->writable;
  unsigned intent = 0;
  hid_t fid = h->kind == H5K_FILE ? h->id : H5Iget_file_id(h->id);
  if (fid < 0) return 1;  /* HDF5 itself will say what is wrong */
  herr_t got = H5Fget_intent(fid, &intent);
  if (h->kind != H5K_FILE) H5Fclose(fid);
  if (got < 0) return 1;
  h->writable = (intent & H5F_ACC_RDWR) != 0;
  return h->writable;
}

void h5_check_writable(lua_State *L, int obj_idx, const char *what) {
  if (!h5_is_writable(h5_check_object(L, obj_idx)))
    luaL_error(L, "h5: cannot %s: the file is open read-only (open it with mode 'r+' or 'a')",
               what);
}

/* {====================================================================
 * Metatables
 * ===================================================================== */

void h5_new_metatable(lua_State *L, const char *tname, const luaL_Reg *meta,
                      const luaL_Reg *methods) {
  luaL_newmetatable(L, tname);  /* mt */
  luaL_setfuncs(L, meta, 0);
  lua_newtable(L);  /* mt, methods */
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__methods");  /* mt */
  lua_pushstring(L, tname);
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
}

int h5_get_method(lua_State *L, const char *tname, int key_idx) {
  key_idx = lua_absindex(L, key_idx);
  luaL_getmetatable(L, tname);  /* mt */
  lua_getfield(L, -1, "__methods");  /* mt, methods */
  lua_pushvalue(L, key_idx);
  lua_rawget(L, -2);  /* mt, methods, method? */
  lua_remove(L, -2);
  lua_remove(L, -2);  /* method? */
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}

void h5_add_location_methods(lua_State *L, const luaL_Reg *methods) {
  static const char *const kinds[] = {H5_GROUP, H5_FILE};
  for (int i = 0; i < 2; i++) {
    luaL_getmetatable(L, kinds[i]);
    lua_getfield(L, -1, "__methods");
    luaL_setfuncs(L, methods, 0);
    lua_pop(L, 2);
  }
}

/* {====================================================================
 * Module functions
 * ===================================================================== */

/* h5.open_ids() -> count, {file=, group=, dataset=, datatype=, attribute=}
 * Counts HDF5 identifiers open in the whole library (for leak checks), less
 * the ones the module keeps for reuse. */
static int h5_open_ids(lua_State *L) {
  ssize_t all = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  int cached = h5_cached_datatypes();
  lua_pushinteger(L, (lua_Integer)(all - cached));
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, (lua_Integer)H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE));
  lua_setfield(L, -2, "file");
  lua_pushinteger(L, (lua_Integer)H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_GROUP));
  lua_setfield(L, -2, "group");
  lua_pushinteger(L, (lua_Integer)H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_DATASET));
  lua_setfield(L, -2, "dataset");
  lua_pushinteger(L, (lua_Integer)(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_DATATYPE) - cached));
  lua_setfield(L, -2, "datatype");
  lua_pushinteger(L, (lua_Integer)H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ATTR));
  lua_setfield(L, -2, "attribute");
  return 2;
}

static void push_version(lua_State *L) {
  unsigned maj, min, rel;
  H5get_libversion(&maj, &min, &rel);
  lua_createtable(L, 0, 3);
  lua_pushfstring(L, "%d.%d.%d", (int)maj, (int)min, (int)rel);
  lua_setfield(L, -2, "hdf5");
  lua_pushliteral(L, H5LUA_VERSION);
  lua_setfield(L, -2, "h5lua");
  lua_pushliteral(L, LUA_VERSION_MAJOR "." LUA_VERSION_MINOR "." LUA_VERSION_RELEASE);
  lua_setfield(L, -2, "lua");
}

static const luaL_Reg module_funcs[] = {
  {"open_ids", h5_open_ids},
  {NULL, NULL}
};

int luaopen_h5(lua_State *L);
int luaopen_h5(lua_State *L) {
  luaL_checkversion(L);
  static int exit_hook;
  if (!exit_hook) {  /* before the library starts: see close_at_exit */
    exit_hook = H5dont_atexit() >= 0 && atexit(close_at_exit) == 0;
  }
  if (H5open() < 0) return luaL_error(L, "h5: cannot initialise the HDF5 library");
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);  /* errors become Lua errors, not stderr noise */
  luaL_newlib(L, module_funcs);  /* h5 */
  push_version(L);
  lua_setfield(L, -2, "version");
  h5_open_file(L);
  h5_open_group(L);
  h5_open_attrs(L);
  h5_open_array(L);
  h5_open_filters(L);
  h5_open_dataset(L);
  h5_open_datatype(L);
  h5_open_json(L);
  return 1;
}
