/*
 * errors.c -- the one translator from HDF5's error stack to Lua errors.
 *
 * Messages read "h5: <operation> '<path>': <innermost reason>".  The
 * innermost record says what really went wrong ("file signature not found");
 * the outer ones only say which API call failed.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5_internal.h"

typedef struct {
  char desc[512];  /* innermost description */
  char api[128];   /* outermost function name, for generic reasons */
  int count;
} walk_state;

static herr_t walk_cb(unsigned n, const H5E_error2_t *err, void *data) {
  walk_state *st = data;
  if (n == 0) {
    const char *d = err->desc && *err->desc ? err->desc : NULL;
    char minor[256] = "";
    if (!d && H5Eget_msg(err->min_num, NULL, minor, sizeof minor) > 0) d = minor;
    snprintf(st->desc, sizeof st->desc, "%s", d ? d : "");
  }
  if (err->func_name) snprintf(st->api, sizeof st->api, "%s", err->func_name);
  st->count++;
  return 0;
}

static void walk(walk_state *st) {
  memset(st, 0, sizeof *st);
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, st);
}

int h5_error_errno(void) {
  walk_state st;
  walk(&st);
  const char *p = strstr(st.desc, "errno = ");
  return p ? atoi(p + 8) : 0;
}

/* Turn HDF5's raw innermost text into a reason a person can act on. */
static void humanise(const walk_state *st, char *out, size_t len) {
  const char *d = st->desc;
  const char *e = strstr(d, "errno = ");
  if (e) {
    int err = atoi(e + 8);
    if (err == EAGAIN || err == EWOULDBLOCK)
      snprintf(out, len, "the file is locked by another process that has it open "
                         "(close it there, or open with locking=false / "
                         "HDF5_USE_FILE_LOCKING=FALSE to read it anyway)");
    else {
      snprintf(out, len, "%s", strerror(err));
      if (out[0]) out[0] = (char)tolower((unsigned char)out[0]);
    }
    return;
  }
  if (strstr(d, "slist already enabled")) {  /* 1.10: any flush after one that failed */
    snprintf(out, len, "an earlier write to the file failed, and libhdf5 cannot flush it "
                       "again");
    return;
  }
  if (strstr(d, "file signature not found")) {
    snprintf(out, len, "not an HDF5 file (file signature not found)");
    return;
  }
  if (d[0] == '\0') {
    snprintf(out, len, "%s failed", st->api[0] ? st->api : "HDF5 call");
    return;
  }
  snprintf(out, len, "%s", d);
}

void h5_error_reason(char *buf, size_t len) {
  walk_state st;
  walk(&st);
  if (st.count == 0) {
    buf[0] = '\0';
    return;
  }
  humanise(&st, buf, len);
}

static const char *vpush_error(lua_State *L, const char *fmt, va_list ap) {
  char reason[768];
  h5_error_reason(reason, sizeof reason);  /* before anything else touches HDF5 */
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "h5: ");
  lua_pushvfstring(L, fmt, ap);
  luaL_addvalue(&b);
  if (reason[0]) {
    luaL_addstring(&b, ": ");
    luaL_addstring(&b, reason);
  }
  luaL_pushresult(&b);
  H5Eclear2(H5E_DEFAULT);
  return lua_tostring(L, -1);
}

const char *h5_push_error(lua_State *L, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const char *msg = vpush_error(L, fmt, ap);
  va_end(ap);
  return msg;
}

int h5_raise(lua_State *L, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vpush_error(L, fmt, ap);
  va_end(ap);
  return lua_error(L);
}
