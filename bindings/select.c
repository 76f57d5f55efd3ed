/*
 * select.c -- 1-based selections of dataset elements.
 *
 * A selection lists one entry per dimension, as the user writes it after
 * the method's other arguments: d:read(i, {first, last}, {first, last, step}).
 *   integer            that index; the dimension drops from the result
 *   {first, last}      inclusive range; {first} runs to the end; {} is all
 *   {first, last, step}
 *   nil or true        the whole dimension
 * Negative numbers count from the end (-1 is the last).  Dimensions left
 * out are selected whole.  HDF5 sees one regular hyperslab.
 */
#include <string.h>

#include "h5_internal.h"

/* A 1-based index (negative from the end) -> 0-based, within [0, n] when
 * past_end is allowed (an empty range may start just past the end). */
static int normalize(lua_Integer i, hsize_t n, int past_end, lua_Integer *out) {
  lua_Integer len = (lua_Integer)n;
  if (i < 0) i += len + 1;
  if (i < 1 || i > len + (past_end ? 1 : 0)) return 0;
  *out = i - 1;
  return 1;
}

static lua_Integer field(lua_State *L, int t, int k, lua_Integer dflt, int arg, int *present) {
  int isint;
  lua_rawgeti(L, t, k);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    *present = 0;
    return dflt;
  }
  lua_Integer v = lua_tointegerx(L, -1, &isint);
  lua_pop(L, 1);
  if (!isint) luaL_argerror(L, arg, "selection ranges hold integers {first, last, step}");
  *present = 1;
  return v;
}

void h5_check_selection(lua_State *L, int first, int nsel, int rank, const hsize_t *dims,
                        h5_selection *sel) {
  memset(sel, 0, sizeof *sel);
  sel->rank = rank;
  sel->all = nsel == 0;
  if (nsel > rank) {
    if (rank == 0)
      luaL_argerror(L, first, "a scalar dataset takes no selection");
    luaL_argerror(L, first + rank, lua_pushfstring(L, "too many selection entries "
                                                      "(%d for %d dimensions)", nsel, rank));
  }
  sel->npoints = 1;
  for (int d = 0; d < rank; d++) {
    int arg = first + d;
    hsize_t n = dims[d];
    lua_Integer start = 0, count = (lua_Integer)n, step = 1;
    int keep = 1;
    int t = d < nsel ? lua_type(L, arg) : LUA_TNIL;
    if (t == LUA_TNIL || (t == LUA_TBOOLEAN && lua_toboolean(L, arg))) {
      /* whole dimension */
    } else if (t == LUA_TNUMBER) {
      int isint;
      lua_Integer i = lua_tointegerx(L, arg, &isint);
      if (!isint) luaL_argerror(L, arg, "selection index must be an integer");
      if (!normalize(i, n, 0, &start))
        luaL_argerror(L, arg, lua_pushfstring(L, "index %I out of range for dimension %d "
                                                 "(size %I)", (LUAI_UACINT)i, d + 1,
                                              (LUAI_UACINT)n));
      count = 1;
      keep = 0;
    } else if (t == LUA_TTABLE) {
      int has_first, has_last, has_step;
      if (lua_rawlen(L, arg) > 3)
        luaL_argerror(L, arg, "a selection range has at most 3 entries {first, last, step}");
      lua_Integer f = field(L, arg, 1, 1, arg, &has_first);
      lua_Integer l = field(L, arg, 2, -1, arg, &has_last);
      step = field(L, arg, 3, 1, arg, &has_step);
      if (step <= 0) luaL_argerror(L, arg, "selection step must be positive");
      lua_Integer f0 = 0, l0 = -1;
      if (!normalize(f, n, 1, &f0))
        luaL_argerror(L, arg, lua_pushfstring(L, "first index %I out of range for dimension "
                                                 "%d (size %I)", (LUAI_UACINT)f, d + 1,
                                              (LUAI_UACINT)n));
      if (n == 0 && !has_last) {
        l0 = -1;
      } else if (!normalize(l, n, 0, &l0)) {
        if (!(l == 0 && has_last))  /* {1, 0}: an empty range */
          luaL_argerror(L, arg, lua_pushfstring(L, "last index %I out of range for dimension "
                                                   "%d (size %I)", (LUAI_UACINT)l, d + 1,
                                                (LUAI_UACINT)n));
        l0 = -1;
      }
      start = f0;
      count = l0 >= f0 ? (l0 - f0) / step + 1 : 0;
    } else {
      luaL_argerror(L, arg, lua_pushfstring(L, "selection entry must be an integer or "
                                               "{first, last[, step]}, not %s",
                                            luaL_typename(L, arg)));
    }
    sel->start[d] = (hsize_t)start;
    sel->count[d] = (hsize_t)count;
    sel->stride[d] = (hsize_t)step;
    sel->npoints *= (hsize_t)count;
    if (keep) sel->out_shape[sel->out_rank++] = (hsize_t)count;
  }
}

herr_t h5_select(hid_t space, const h5_selection *sel) {
  if (sel->all || sel->rank == 0) return H5Sselect_all(space);
  if (sel->npoints == 0) return H5Sselect_none(space);
  return H5Sselect_hyperslab(space, H5S_SELECT_SET, sel->start, sel->stride, sel->count, NULL);
}
