/* A monotonic wall clock for the h5lua side of tests/bench/datasets_bench.lua:
 *   require("datasets_clock").now() -> seconds (CLOCK_MONOTONIC)
 * The bench first timed h5lua with io.popen("date +%s.%N"), which forks the
 * 256 MiB process inside the timed region (tens of ms on a loaded machine);
 * C and h5py read the clock in-process, so h5lua must too. */
#include <lauxlib.h>
#include <lua.h>
#include <time.h>

static int clock_now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

int luaopen_datasets_clock(lua_State *L);
int luaopen_datasets_clock(lua_State *L) {
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, clock_now);
  lua_setfield(L, -2, "now");
  return 1;
}
