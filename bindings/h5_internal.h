/*
 * h5_internal.h -- the one header shared by the files of the `h5` module.
 *
 * Every HDF5 object the module hands to Lua is an h5_handle userdata.  An
 * invalid id is the closed state.  Lifetime links live in the userdata's
 * first user value:
 *   - a File's user value is a weak-keyed table of its open children, so
 *     f:close() can close them first (h5py's File.close);
 *   - a child's user value is its File userdata, which keeps the file alive
 *     as long as any child is reachable.
 */
#ifndef H5_INTERNAL_H
#define H5_INTERNAL_H

#include <hdf5.h>
#include <lua.h>
#include <lauxlib.h>

#define H5LUA_VERSION "0.1.0"

/* Metatable names: luaL_checkudata shows them to users. */
#define H5_FILE "h5.File"
#define H5_GROUP "h5.Group"
#define H5_DATASET "h5.Dataset"
#define H5_DATATYPE "h5.Datatype"
#define H5_ATTRS "h5.Attributes"
#define H5_ARRAY "h5.Array"

typedef enum { H5K_FILE, H5K_GROUP, H5K_DATASET, H5K_DATATYPE } h5_kind;

typedef struct h5_handle {
  hid_t id;   /* H5I_INVALID_HID once closed */
  int kind;   /* h5_kind */
  int mode;   /* files only: h5_filemode */
  int writable;  /* -1 not asked yet, else whether its file is open for writing */
} h5_handle;

/* File modes as h5py names them; stored so f.mode reads back. */
typedef enum { H5M_R, H5M_RW, H5M_W, H5M_X, H5M_A } h5_filemode;

/* The HDF5 operation under way, for the host's crash report: a few damaged
 * or newer files crash libhdf5 1.10 itself (1.12 references in attributes
 * make H5Aiterate2 fault), where no check before the call can help. */
extern const char *volatile h5_operation;
#define H5_OPERATION(what) (h5_operation = (what))
/* Watchdog for reads that can meet the global heap (attributes, variable-
 * length data): a damaged global heap makes libhdf5 1.10 loop forever.
 * Active only when the host installed a SIGALRM handler
 * (h5_watchdog_enabled), which asks h5_watchdog_expired() -- async-signal-
 * safe -- whether the call between arm and disarm has run past its limit
 * (then it reports and exits) or the alarm was only a lazy one (it returns). */
extern volatile int h5_watchdog_enabled;
/* Guard the call that follows for H5LUA_HANG_SECONDS (default 10) plus
 * extra_seconds. */
void h5_watchdog_arm(unsigned extra_seconds);
void h5_watchdog_disarm(void);
int h5_watchdog_expired(void);

/* ---- errors.c ---------------------------------------------------------- */

/* Raise "h5: <formatted text>: <innermost HDF5 reason>".  Call it right after
 * the failing HDF5 call, before any other HDF5 call resets the error stack. */
int h5_raise(lua_State *L, const char *fmt, ...);
/* Push (without raising) the same message h5_raise would raise. */
const char *h5_push_error(lua_State *L, const char *fmt, ...);
/* Innermost HDF5 reason into buf (empty string when the stack is empty). */
void h5_error_reason(char *buf, size_t len);
/* errno recorded in the innermost reason, or 0 (file locking diagnosis). */
int h5_error_errno(void);

/* ---- journal.c: atomic flushes for writers --------------------------------- */

/* Make fapl use the undo-journal driver (sec2 plus "<file>.journal").
 * Returns 0, or -1 with an HDF5 error pushed. */
int h5_journal_use(hid_t fapl);
/* After H5Fflush succeeded: the file on disk becomes the state a killed
 * writer rolls back to.  0 (also for other drivers), or -1 with errno. */
int h5_journal_commit(hid_t fid);
/* Before opening path: roll back what a killed journaled writer left.
 * 1 restored, 2 removed (never committed), 0 nothing to do (or in use),
 * -1 I/O error with errno. */
int h5_journal_recover(const char *path);

/* ---- h5.c: handles, lifetime, shared helpers ---------------------------- */

/* Push a new closed handle of metatable tname; for children, file_idx is the
 * stack index of any object of the owning file (0 for a File itself). */
h5_handle *h5_new_handle(lua_State *L, const char *tname, int kind, int file_idx);
/* Set the id of a handle made by h5_new_handle (the object is now open). */
void h5_set_id(lua_State *L, int idx, hid_t id);
/* Type check, then open check; raises "h5: attempt to use a closed <Kind>". */
h5_handle *h5_check(lua_State *L, int idx, const char *tname);
/* A File or a Group (anything that is a location for links). */
h5_handle *h5_check_location(lua_State *L, int idx);
/* Any h5 object with an id: File, Group, Dataset, Datatype. */
h5_handle *h5_check_object(lua_State *L, int idx);
/* Non-raising: the handle at idx if it is an h5 object userdata, else NULL. */
h5_handle *h5_test_object(lua_State *L, int idx);
/* 1 if the handle is open: our id is valid and HDF5 agrees. */
int h5_is_open(const h5_handle *h);
/* Close one handle (idempotent; never raises). */
void h5_close_handle(h5_handle *h);
/* Push the File userdata owning the object at idx. */
void h5_push_file(lua_State *L, int idx);
/* Wrap an opened object id (group, dataset or named datatype) in the right
 * userdata, owned by the file of the object at file_idx.  Takes ownership of
 * id: it is closed if wrapping fails. */
void h5_push_object(lua_State *L, hid_t id, int file_idx);
/* Push the object's absolute path (or "/" for files). */
void h5_push_name(lua_State *L, hid_t id);
/* The name property: h5_push_name, or nil for an object deleted while open. */
void h5_push_object_name(lua_State *L, hid_t id);
/* Push "<loc's path>/<path>" (or path when absolute): for messages. */
const char *h5_push_path(lua_State *L, hid_t loc, const char *path);
/* Does path resolve to an object from loc? (walks each component, so a
 * missing parent is "no", never an HDF5 error) */
int h5_path_exists(hid_t loc, const char *path);
/* Does the last link of path exist (dangling links count)? */
int h5_link_exists(hid_t loc, const char *path);
/* Reject paths HDF5 cannot name ("" and NUL bytes). */
const char *h5_check_path(lua_State *L, int idx);
/* Close the File at idx and its children; -1 when H5Fclose failed (its
 * final flush could not write), with HDF5's error stack left for h5_raise. */
int h5_close_file(lua_State *L, int idx);
/* Shared __gc/__close for every handle kind. */
int h5_handle_gc(lua_State *L);
/* Register a metatable: methods, then properties via getter, then fallback.
 * index_fn becomes __index.  */
void h5_new_metatable(lua_State *L, const char *tname, const luaL_Reg *meta,
                      const luaL_Reg *methods);
/* Look key (at stack top-1... see h5.c) in the methods table of tname;
 * pushes the method and returns 1, or returns 0 and pushes nothing. */
int h5_get_method(lua_State *L, const char *tname, int key_idx);
/* The write check shared by all mutating methods (read-only files). */
void h5_check_writable(lua_State *L, int obj_idx, const char *what);
/* Is the object's file open for writing?  (h5_check_writable without the
 * message, for paths that build it only when needed.) */
int h5_is_writable(h5_handle *h);

/* The shared link creation property list for name (UTF-8 when the name is
 * not ASCII, as h5py; missing parents created).  Never close it. */
hid_t h5_lcpl(const char *name);
int h5_is_ascii(const char *name);
/* Why path cannot be created from loc when one of its parents is not a
 * group: pushes "'/d' is a dataset, not a group" and returns it; else
 * pushes nothing and returns NULL. */
const char *h5_push_parent_problem(lua_State *L, hid_t loc, const char *path);
/* Right after a failed creation of kind ("group", "dataset") name under
 * loc: push "h5: cannot create <kind> '<path>': <why>" -- name already
 * exists, a parent is not a group, or HDF5's reason -- and return it. */
const char *h5_push_create_error(lua_State *L, hid_t loc, const char *name, const char *kind);

/* ---- types.c: Lua values <-> HDF5 types and buffers --------------------- */

/* h5py's boolean: int8 enum FALSE=0, TRUE=1.  Caller closes. */
hid_t h5_bool_type(void);
/* Variable-length UTF-8 string, as h5py writes str.  Caller closes. */
hid_t h5_vlen_str_type(void);
/* A value encoded for writing: type, space and buffer, all owned here. */
typedef struct h5_encoded {
  hid_t type;
  hid_t space;
  void *buf;
  size_t nbytes;
  int nstrings;  /* strings are borrowed from Lua values on the stack */
} h5_encoded;
/* Encode the Lua value at idx (number, integer, boolean, string, or a table
 * of one of those) as h5py would write it.  Returns NULL on success, or an
 * error message (nothing allocated then).  The value must stay on the stack
 * while enc is in use (strings are borrowed). */
const char *h5_encode_value(lua_State *L, int idx, h5_encoded *enc);
void h5_encoded_free(h5_encoded *enc);
/* Rank and dims of the nested table at idx, read along its first elements;
 * NULL or an error message (more than H5S_MAX_RANK levels). */
const char *h5_table_shape(lua_State *L, int idx, hsize_t *dims, int *rank);
/* Push the Lua value of an attribute or small dataset that is in memory:
 * scalars as values, arrays as (nested) tables.  Returns 1 on success, or 0
 * with an error message pushed instead. */
int h5_push_decoded(lua_State *L, hid_t mem_type, hid_t space, const void *buf);
/* A readable description of a type ("float64", "string(utf-8, variable)").
 * Pushes it. */
void h5_push_type_name(lua_State *L, hid_t type);

/* ---- register functions, one per kind file ------------------------------ */
void h5_open_file(lua_State *L);
void h5_open_group(lua_State *L);
void h5_open_attrs(lua_State *L);
/* Push the Attributes proxy of the object at idx. */
void h5_push_attrs(lua_State *L, int idx);
/* H5_INDEX_CRT_ORDER if the object at loc tracks link (links=1) or attribute
 * creation order, else H5_INDEX_NAME */
H5_index_t h5_listing_index(hid_t loc, int links);
/* Group methods shared with File (File is the root group, as in h5py). */
extern const luaL_Reg h5_group_methods[];
/* Add methods to both Group and File (root group), e.g. create_dataset. */
void h5_add_location_methods(lua_State *L, const luaL_Reg *methods);
/* Child lookup used by File's and Group's __index: pushes object or nil. */
int h5_group_lookup(lua_State *L, int loc_idx, const char *path);

/* ---- datasets, typed arrays, selections, filters ------------------------ */

/* Element types an h5.Array can hold (numbers only; bool is stored as int8). */
typedef enum {
  H5A_INT8, H5A_UINT8, H5A_INT16, H5A_UINT16, H5A_INT32, H5A_UINT32,
  H5A_INT64, H5A_UINT64, H5A_FLOAT32, H5A_FLOAT64, H5A_BOOL, H5A_NTYPES
} h5_atype;

/* The h5.Array userdata: this header, then the elements (row-major) in the
 * same Lua-owned block.  No malloc, no __gc. */
typedef struct h5_array {
  int atype;                     /* h5_atype */
  int ndim;                      /* 0 for a single value */
  size_t n;                      /* number of elements */
  hsize_t shape[H5S_MAX_RANK];
  double data[];                 /* really atype elements; double for alignment */
} h5_array;

/* array.c */
void h5_open_array(lua_State *L);
/* Push a new array (elements zeroed); raises on a too large request. */
h5_array *h5_array_new(lua_State *L, int atype, int ndim, const hsize_t *shape);
/* The same without clearing the elements (they are about to be read). */
h5_array *h5_array_alloc(lua_State *L, int atype, int ndim, const hsize_t *shape);
h5_array *h5_array_test(lua_State *L, int idx);
h5_array *h5_array_check(lua_State *L, int idx);
size_t h5_atype_size(int atype);
const char *h5_atype_name(int atype);
/* The array type a numeric HDF5 type reads into (-1: not a plain number). */
int h5_atype_of(hid_t type);
/* The native memory type of an array type (a copy: caller closes). */
hid_t h5_atype_mem_type(int atype);
/* Array type from a name ("float64", "uint8", "bool", ...), or -1. */
int h5_atype_from_name(const char *name);
/* Store the Lua value at idx as element i (0-based); NULL or an error. */
const char *h5_array_store(lua_State *L, h5_array *a, size_t i, int idx);
/* Fill an array of the given type from the (nested) table at idx; pushes it.
 * Returns NULL, or an error message (nothing pushed). */
const char *h5_array_from_table(lua_State *L, int idx, int atype);

/* types.c: dtype strings and generic encoding */
/* Parse a dtype description ("float64", "string(ascii, 10)", "compound{x:
 * int32, y: float64}", "<f4", ...) into a new HDF5 type (caller closes).
 * Returns the type, or -1 with an error message pushed. */
hid_t h5_parse_dtype(lua_State *L, const char *text);
/* The memory type to read file type ft into (caller closes), or -1 with an
 * error message pushed ("unsupported type: reference(object)"). */
hid_t h5_mem_type_for(lua_State *L, hid_t ft);
/* Does the type contain something that needs H5Dvlen_reclaim? */
int h5_type_has_vlen(hid_t t);
/* Encode the Lua value at idx -- a table nested rank levels deep with the
 * given dims, or one value when rank is 0 -- into buf of memory type mt.
 * Pushes one value: on success the anchor table that keeps the strings and
 * vlen sequences buf points into alive (pop it after the write), else the
 * error message, which is also returned (NULL on success). */
const char *h5_encode_into(lua_State *L, int idx, hid_t mt, void *buf, int rank,
                           const hsize_t *dims);
/* The h5.Datatype metatable (named datatypes: name, file, kind, dtype, attrs). */
void h5_open_datatype(lua_State *L);
/* Does a table look like an h5py-style record (string keys, no [1])? */
int h5_is_record(lua_State *L, int idx);

/* select.c: 1-based selections */
typedef struct h5_selection {
  int rank;
  hsize_t start[H5S_MAX_RANK], stride[H5S_MAX_RANK], count[H5S_MAX_RANK];
  int out_rank;                  /* dimensions kept (integer entries drop) */
  hsize_t out_shape[H5S_MAX_RANK];
  hsize_t npoints;
  int all;                       /* no entries: the whole dataspace */
} h5_selection;
/* Read nsel selection entries starting at stack index first against dims.
 * Raises luaL_argerror with fname's argument numbers on misuse. */
void h5_check_selection(lua_State *L, int first, int nsel, int rank, const hsize_t *dims,
                        h5_selection *sel);
/* Select sel in space (a copy of the dataset's space). */
herr_t h5_select(hid_t space, const h5_selection *sel);

/* filters.c */
void h5_open_filters(lua_State *L);
/* Apply compression/compression_opts/shuffle/fletcher32/scaleoffset of the
 * option table at opts to dcpl for a dataset of file type ft.  Returns NULL
 * or an error message (argument misuse). */
const char *h5_apply_filters(lua_State *L, int opts, hid_t dcpl, hid_t ft);
/* Push the filter property (compression, compression_opts, shuffle,
 * fletcher32, scaleoffset, filters) key of dcpl; returns 0 if key is not one. */
int h5_push_filter_property(lua_State *L, hid_t dcpl, const char *key);
/* Are any filter options set in the option table at opts? */
int h5_wants_filters(lua_State *L, int opts);

/* dataset.c */
void h5_open_dataset(lua_State *L);
/* How many datatype ids the module keeps open for its own reuse (not leaks). */
int h5_cached_datatypes(void);

/* json.c: json_check and json_members in the module table on the stack top */
void h5_open_json(lua_State *L);

#endif
