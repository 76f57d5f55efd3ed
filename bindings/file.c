/*
 * file.c -- h5.open and the h5.File object.
 *
 * A File is also the root group, as in h5py: every Group method works on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5_internal.h"

static const char *const option_keys[] = {
  "backing_store", "driver", "journal", "libver", "locking", "meta_cache", "track_order", NULL
};

/* Raise "bad argument" unless every key of the opts table is an option:
 * a misspelt one (libvr) must not pass unnoticed. */
static void check_option_keys(lua_State *L, int opts) {
  if (lua_isnoneornil(L, opts)) return;
  luaL_checktype(L, opts, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, opts)) {
    lua_pop(L, 1);
    const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    int i = 0;
    while (k && option_keys[i] && strcmp(option_keys[i], k) != 0) i++;
    if (!k || !option_keys[i])
      luaL_argerror(L, opts, lua_pushfstring(L, "unknown option '%s'",
                                             luaL_tolstring(L, -1, NULL)));
  }
}

/* Read the opts table's libver/driver/locking/journal/track_order into property lists.
 * Returns NULL or an error message for a bad option value. */
static const char *apply_options(lua_State *L, int opts, hid_t fapl, hid_t fcpl) {
  if (lua_isnoneornil(L, opts)) return NULL;
  if (lua_getfield(L, opts, "libver") != LUA_TNIL) {
    static const char *const names[] = {"earliest", "v108", "v110", "latest", NULL};
    static const H5F_libver_t lows[] = {H5F_LIBVER_EARLIEST, H5F_LIBVER_V18,
                                        H5F_LIBVER_V110, H5F_LIBVER_LATEST};
    const char *v = lua_tostring(L, -1);
    int i = 0;
    while (v && names[i] && strcmp(names[i], v) != 0) i++;
    if (!v || !names[i])
      return "option 'libver' must be one of 'earliest', 'v108', 'v110', 'latest'";
    H5Pset_libver_bounds(fapl, lows[i], H5F_LIBVER_LATEST);
  }
  lua_pop(L, 1);
  int backing_type = lua_getfield(L, opts, "backing_store");
  if (backing_type != LUA_TNIL && backing_type != LUA_TBOOLEAN)
    return "option 'backing_store' must be a boolean";
  hbool_t backing = backing_type == LUA_TNIL || lua_toboolean(L, -1);  /* default: written */
  lua_pop(L, 1);
  int core = 0;
  if (lua_getfield(L, opts, "driver") != LUA_TNIL) {
    const char *v = lua_tostring(L, -1);
    if (v && strcmp(v, "core") == 0) {
      core = 1;
      H5Pset_fapl_core(fapl, 1 << 16, backing);
    } else if (v && strcmp(v, "sec2") == 0) {
      H5Pset_fapl_sec2(fapl);
    } else {
      return "option 'driver' must be 'sec2' or 'core'";
    }
  }
  lua_pop(L, 1);
  if (backing_type != LUA_TNIL && !core) return "option 'backing_store' needs driver = 'core'";
  if (lua_getfield(L, opts, "locking") != LUA_TNIL) {
    if (!lua_isboolean(L, -1)) return "option 'locking' must be a boolean";
    /* ignore_when_disabled: a file system without locks is not an error */
    H5Pset_file_locking(fapl, (hbool_t)lua_toboolean(L, -1), 1);
  }
  lua_pop(L, 1);
  if (lua_getfield(L, opts, "journal") != LUA_TNIL) {
    if (!lua_isboolean(L, -1)) return "option 'journal' must be a boolean";
    if (lua_toboolean(L, -1)) {
      lua_getfield(L, opts, "driver");
      int other = !lua_isnil(L, -1);
      lua_pop(L, 1);
      if (other) return "option 'journal' cannot be combined with option 'driver'";
      if (h5_journal_use(fapl) < 0) return "cannot set up the journal driver";
    }
  }
  lua_pop(L, 1);
  if (lua_getfield(L, opts, "meta_cache") != LUA_TNIL) {
    /* HDF5's metadata cache grows to 32 MiB on a scan of many small
     * objects (each string's global heap collection stays cached); a
     * smaller cap bounds the memory of long scans and does not slow them */
    lua_Integer max = lua_tointeger(L, -1);
    if (!lua_isinteger(L, -1) || max < 1024 || max > (128 << 20))
      return "option 'meta_cache' must be a size in bytes from 1024 to 134217728 (128 MiB)";
    H5AC_cache_config_t c;
    memset(&c, 0, sizeof c);
    c.version = H5AC__CURR_CACHE_CONFIG_VERSION;
    if (H5Pget_mdc_config(fapl, &c) < 0) return "cannot read the metadata cache settings";
    c.max_size = (size_t)max;
    c.min_size = c.max_size < (1 << 20) ? c.max_size : (1 << 20);
    c.set_initial_size = 1;
    c.initial_size = c.max_size < (2 << 20) ? c.max_size : (2 << 20);
    if (c.max_decrement > c.max_size) c.max_decrement = c.max_size;
    if (H5Pset_mdc_config(fapl, &c) < 0) return "cannot set the metadata cache size";
  }
  lua_pop(L, 1);
  if (lua_getfield(L, opts, "track_order") != LUA_TNIL) {
    if (!lua_isboolean(L, -1)) return "option 'track_order' must be a boolean";
    if (lua_toboolean(L, -1)) {
      H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
      H5Pset_attr_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
    }
  }
  lua_pop(L, 1);
  return NULL;
}

static int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static int is_directory(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Whether HDF5 will lock files opened with fapl: HDF5_USE_FILE_LOCKING wins
 * over the property list, as in libhdf5 1.10's own parsing of it. */
static int locking_on(hid_t fapl) {
  const char *env = getenv("HDF5_USE_FILE_LOCKING");
  if (env && (strcmp(env, "FALSE") == 0 || strcmp(env, "0") == 0)) return 0;
  if (env && (strcmp(env, "TRUE") == 0 || strcmp(env, "1") == 0 ||
              strcmp(env, "BEST_EFFORT") == 0))
    return 1;
  hbool_t use = 1, ignore = 0;
  if (H5Pget_file_locking(fapl, &use, &ignore) < 0) H5Eclear2(H5E_DEFAULT);
  return use;
}

/* Whether this process already has the file at st open in HDF5: then HDF5
 * refuses to truncate it by itself, with no harm done. */
static int open_in_this_process(const struct stat *st) {
  ssize_t n = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE);
  if (n <= 0) return 0;
  hid_t *ids = malloc((size_t)n * sizeof *ids);
  if (!ids) return 0;
  n = H5Fget_obj_ids(H5F_OBJ_ALL, H5F_OBJ_FILE, (size_t)n, ids);
  int found = 0;
  for (ssize_t i = 0; i < n && !found; i++) {
    char name[4096];
    struct stat other;
    ssize_t len = H5Fget_name(ids[i], name, sizeof name);
    found = len > 0 && (size_t)len < sizeof name && stat(name, &other) == 0 &&
            other.st_dev == st->st_dev && other.st_ino == st->st_ino;
  }
  free(ids);
  H5Eclear2(H5E_DEFAULT);
  return found;
}

/* libhdf5 1.10 (and h5py with it) opens a file with O_TRUNC first and locks
 * it after, so mode 'w' on a file another process holds empties that file
 * and only then fails.  Ask first for the lock HDF5 takes (flock(2),
 * exclusive: it conflicts with any writer's or reader's), then let it go for
 * HDF5 to take.  Returns -1 with an HDF5 error pushed, which h5_push_error
 * turns into the usual "the file is locked" message, when the file is held. */
static int check_not_held(const char *path, hid_t fapl) {
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || !locking_on(fapl)) return 0;
  if (H5Pget_driver(fapl) == H5FD_CORE) {
    size_t increment;
    hbool_t backing = 1;
    H5Pget_fapl_core(fapl, &increment, &backing);
    if (!backing) return 0;  /* the file on disk is never opened */
  }
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return 0;  /* H5Fcreate reports why */
  int held = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
  int err = errno;
  close(fd);  /* drops the lock */
  if (!held || open_in_this_process(&st)) return 0;
  H5Epush2(H5E_DEFAULT, __FILE__, __func__, __LINE__, H5E_ERR_CLS, H5E_VFL, H5E_CANTLOCKFILE,
           "unable to lock file, errno = %d, error message = '%s'", err, strerror(err));
  return -1;
}

/* h5.open(path[, mode[, opts]]) -> File
 * mode: "r" (default), "r+", "w", "w-" or "x", "a" -- h5py's semantics.
 * opts: libver, driver ("sec2" | "core", backing_store), locking, track_order,
 * meta_cache (the metadata cache's largest size in bytes), journal (writers:
 * a kill -9 rolls the file back to its last flush, see journal.c); any other
 * key is a bad argument.  Any mode first rolls back what a killed journaled
 * writer left.  Raises "h5: cannot open '<path>' ...: <reason>". */
static int file_open(lua_State *L) {
  const char *path = h5_check_path(L, 1);
  const char *mode = luaL_optstring(L, 2, "r");
  int m;
  if (strcmp(mode, "r") == 0) m = H5M_R;
  else if (strcmp(mode, "r+") == 0) m = H5M_RW;
  else if (strcmp(mode, "w") == 0) m = H5M_W;
  else if (strcmp(mode, "w-") == 0 || strcmp(mode, "x") == 0) m = H5M_X;
  else if (strcmp(mode, "a") == 0) m = H5M_A;
  else
    return luaL_argerror(L, 2, lua_pushfstring(L, "invalid mode '%s' (expected 'r', 'r+', "
                                                  "'w', 'w-', 'x' or 'a')", mode));
  check_option_keys(L, 3);
  lua_settop(L, 3);
  if (is_directory(path))
    return luaL_error(L, "h5: cannot open '%s': is a directory", path);
  int recovered = h5_journal_recover(path);
  if (recovered < 0)
    return luaL_error(L, "h5: cannot open '%s': rolling back an interrupted write failed: %s",
                      path, strerror(errno));
  if (recovered == 2 && (m == H5M_R || m == H5M_RW))
    return luaL_error(L, "h5: cannot open '%s': its writer was killed before its first "
                         "flush, so it never held anything; the partial file was removed", path);
  if (m == H5M_A) m = file_exists(path) ? H5M_RW : H5M_X;

  h5_handle *h = h5_new_handle(L, H5_FILE, H5K_FILE, 0);  /* closed until opened */
  h->mode = m;
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
  const char *bad = apply_options(L, 3, fapl, fcpl);
  if (bad) {
    H5Pclose(fapl);
    H5Pclose(fcpl);
    return luaL_error(L, "h5: cannot open '%s': %s", path, bad);
  }
  hid_t id;
  const char *doing;
  H5_OPERATION("opening a file");
  switch (m) {
    case H5M_R: id = H5Fopen(path, H5F_ACC_RDONLY, fapl); doing = "for reading"; break;
    case H5M_RW: id = H5Fopen(path, H5F_ACC_RDWR, fapl); doing = "for writing"; break;
    case H5M_W:
      id = check_not_held(path, fapl) < 0 ? H5I_INVALID_HID
                                          : H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
      doing = "for writing";
      break;
    default:
      if (file_exists(path)) {
        H5Pclose(fapl);
        H5Pclose(fcpl);
        return luaL_error(L, "h5: cannot create '%s': file exists (mode '%s' never "
                             "overwrites; use 'w' to truncate or 'a' to append)", path, mode);
      }
      id = H5Fcreate(path, H5F_ACC_EXCL, fcpl, fapl);
      doing = "for writing";
      break;
  }
  if (id < 0) {
    h5_push_error(L, "cannot open '%s' %s", path, doing);  /* before closing plists */
    H5Pclose(fapl);
    H5Pclose(fcpl);
    return lua_error(L);
  }
  H5Pclose(fapl);
  H5Pclose(fcpl);
  h->id = id;
  return 1;
}

/* h5.is_hdf5(path) -> boolean.  Never raises for a missing or unreadable file. */
static int file_is_hdf5(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  if (!file_exists(path) || is_directory(path)) {
    lua_pushboolean(L, 0);
    return 1;
  }
  htri_t r = H5Fis_hdf5(path);
  H5Eclear2(H5E_DEFAULT);
  lua_pushboolean(L, r > 0);
  return 1;
}

static void push_filename(lua_State *L, hid_t id);

/* f:close()  Closes every object opened from the file, then the file.
 * Idempotent.  Raises "h5: cannot close '<path>': <reason>" when the last
 * flush fails (disk full): what was written since the last flush is then
 * not in the file.  (__gc and __close never raise.) */
static int file_close(lua_State *L) {
  h5_handle *h = luaL_checkudata(L, 1, H5_FILE);
  if (!h5_is_open(h)) return h5_handle_gc(L);
  push_filename(L, h->id);  /* the name, while the id still works */
  if (h5_close_file(L, 1) < 0) return h5_raise(L, "cannot close '%s'", lua_tostring(L, -1));
  return 0;
}

/* f:flush()  Writes buffered data to disk; with opts.journal, this state is
 * what a killed writer's file rolls back to. */
static int file_flush(lua_State *L) {
  h5_handle *h = h5_check(L, 1, H5_FILE);
  if (H5Fflush(h->id, H5F_SCOPE_GLOBAL) < 0) {
    return h5_raise(L, "cannot flush file");
  }
  if (h5_journal_commit(h->id) < 0)
    return luaL_error(L, "h5: cannot flush file: cannot empty the journal: %s", strerror(errno));
  return 0;
}

/* f:is_open() -> boolean (accepts closed files) */
static int file_is_open(lua_State *L) {
  h5_handle *h = luaL_checkudata(L, 1, H5_FILE);
  lua_pushboolean(L, h5_is_open(h));
  return 1;
}

static void push_filename(lua_State *L, hid_t id) {
  char small[512];
  ssize_t n = H5Fget_name(id, small, sizeof small);
  if (n < 0) {
    lua_pushnil(L);
  } else if ((size_t)n < sizeof small) {
    lua_pushlstring(L, small, (size_t)n);
  } else {
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, (size_t)n + 1);
    H5Fget_name(id, p, (size_t)n + 1);
    luaL_pushresultsize(&b, (size_t)n);
  }
}

static int file_tostring(lua_State *L) {
  h5_handle *h = luaL_checkudata(L, 1, H5_FILE);
  if (!h5_is_open(h)) {
    lua_pushliteral(L, "<closed h5.File>");
    return 1;
  }
  H5G_info_t info;
  H5Gget_info(h->id, &info);
  push_filename(L, h->id);
  lua_pushfstring(L, "<h5.File \"%s\" (mode %s, %d members)>", lua_tostring(L, -1),
                  h->mode == H5M_R ? "r" : "r+", (int)info.nlinks);
  return 1;
}

/* Properties: filename, mode, size, freespace, name, file, kind, attrs, meta_cache, libver. */
static int file_property(lua_State *L, h5_handle *h, const char *key) {
  if (strcmp(key, "filename") == 0) {
    push_filename(L, h->id);
  } else if (strcmp(key, "mode") == 0) {
    unsigned intent = 0;
    H5Fget_intent(h->id, &intent);
    lua_pushstring(L, (intent & H5F_ACC_RDWR) ? "r+" : "r");
  } else if (strcmp(key, "size") == 0) {
    hsize_t size = 0;
    if (H5Fget_filesize(h->id, &size) < 0) return h5_raise(L, "cannot get file size");
    lua_pushinteger(L, (lua_Integer)size);
  } else if (strcmp(key, "freespace") == 0) {
    /* what HDF5 tracks as free (h5stat's "tracked free space"); without a
     * persistent free-space strategy, only what this session freed */
    hssize_t free_bytes = H5Fget_freespace(h->id);
    if (free_bytes < 0) return h5_raise(L, "cannot get the free space");
    lua_pushinteger(L, (lua_Integer)free_bytes);
  } else if (strcmp(key, "name") == 0) {
    lua_pushliteral(L, "/");
  } else if (strcmp(key, "file") == 0) {
    lua_pushvalue(L, 1);
  } else if (strcmp(key, "kind") == 0) {
    lua_pushliteral(L, "file");
  } else if (strcmp(key, "attrs") == 0) {
    h5_push_attrs(L, 1);
  } else if (strcmp(key, "meta_cache") == 0) {
    H5AC_cache_config_t c;
    memset(&c, 0, sizeof c);
    c.version = H5AC__CURR_CACHE_CONFIG_VERSION;
    if (H5Fget_mdc_config(h->id, &c) < 0) return h5_raise(L, "cannot get the metadata cache size");
    lua_pushinteger(L, (lua_Integer)c.max_size);
  } else if (strcmp(key, "libver") == 0) {
    H5F_libver_t low, high;
    hid_t fapl = H5Fget_access_plist(h->id);
    H5Pget_libver_bounds(fapl, &low, &high);
    H5Pclose(fapl);
    lua_pushstring(L, low == H5F_LIBVER_EARLIEST ? "earliest"
                      : low == H5F_LIBVER_V18    ? "v108"
                                                 : "v110");
  } else {
    return 0;
  }
  return 1;
}

/* __index: methods, then properties, then child lookup (nil when missing). */
static int file_index(lua_State *L) {
  h5_handle *h = luaL_checkudata(L, 1, H5_FILE);
  if (h5_get_method(L, H5_FILE, 2)) return 1;
  if (lua_type(L, 2) != LUA_TSTRING) return 0;
  const char *key = lua_tostring(L, 2);
  if (!h5_is_open(h)) return luaL_error(L, "h5: attempt to use a closed File");
  if (file_property(L, h, key)) return 1;
  return h5_group_lookup(L, 1, key);
}

static int file_len(lua_State *L) {
  h5_handle *h = h5_check(L, 1, H5_FILE);
  H5G_info_t info;
  if (H5Gget_info(h->id, &info) < 0) return h5_raise(L, "cannot count members of '/'");
  lua_pushinteger(L, (lua_Integer)info.nlinks);
  return 1;
}

static const luaL_Reg file_meta[] = {
  {"__close", h5_handle_gc},
  {"__gc", h5_handle_gc},
  {"__index", file_index},
  {"__len", file_len},
  {"__tostring", file_tostring},
  {NULL, NULL}
};

static const luaL_Reg file_methods[] = {
  {"close", file_close},
  {"flush", file_flush},
  {"is_open", file_is_open},
  {NULL, NULL}
};

static const luaL_Reg module_funcs[] = {
  {"is_hdf5", file_is_hdf5},
  {"open", file_open},
  {NULL, NULL}
};

void h5_open_file(lua_State *L) {
  h5_new_metatable(L, H5_FILE, file_meta, file_methods);
  /* the root-group methods live on File too */
  luaL_getmetatable(L, H5_FILE);
  lua_getfield(L, -1, "__methods");
  luaL_setfuncs(L, h5_group_methods, 0);
  luaL_setfuncs(L, file_methods, 0);  /* File's own win over group ones */
  lua_pop(L, 2);
  luaL_setfuncs(L, module_funcs, 0);
}
