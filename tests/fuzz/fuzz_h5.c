/*
 * fuzz_h5.c -- libFuzzer target: each input is written to a file and opened
 * through the same Lua code path as `h5lua ls -r` and `h5lua validate`
 * (tests/fuzz/walk.lua), with the real `h5` bindings, under ASan/UBSan.
 * Lua errors are expected outcomes for damaged files; only crashes,
 * sanitizer reports and hangs are findings.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

int luaopen_h5(lua_State *L);
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char input_path[64];
static char walk_script[4096];
static char scripts_path[4096];

/* A Lua state with the real `h5` bindings and scripts/ on package.path. */
static lua_State *new_state(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_h5);
  lua_setfield(L, -2, "h5");
  lua_pop(L, 1);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  lua_pushstring(L, scripts_path);
  lua_insert(L, -2);
  lua_concat(L, 2);
  lua_setfield(L, -2, "path");
  lua_pop(L, 1);
  return L;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  const char *root = getenv("H5LUA_ROOT");
  if (!root) root = ".";
  snprintf(walk_script, sizeof walk_script, "%s/tests/fuzz/walk.lua", root);
  snprintf(scripts_path, sizeof scripts_path, "%s/scripts/?.lua;%s/scripts/?/init.lua;",
           root, root);
  snprintf(input_path, sizeof input_path, "/tmp/h5lua-fuzz-%d.h5", (int)getpid());
  /* walk.lua without a file checks that the commands' code paths exist: a
   * harness that cannot reach them must stop, not fuzz less than it says */
  lua_State *L = new_state();
  if (luaL_loadfile(L, walk_script) != LUA_OK || lua_pcall(L, 0, 0, 0) != LUA_OK) {
    fprintf(stderr, "fuzz_h5: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_close(L);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FILE *f = fopen(input_path, "wb");
  if (!f) return 0;
  fwrite(data, 1, size, f);
  fclose(f);
  lua_State *L = new_state();
  if (luaL_loadfile(L, walk_script) != LUA_OK) {
    fprintf(stderr, "fuzz_h5: %s\n", lua_tostring(L, -1));
    abort();  /* a broken harness is not a finding about the input */
  }
  lua_pushstring(L, input_path);
  lua_pcall(L, 1, 0, 0);  /* errors are expected for damaged input */
  lua_close(L);
  unlink(input_path);
  return 0;
}
