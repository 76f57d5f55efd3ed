/*
 * json.c -- h5.json_check and h5.json_members on the scanner of json_scan.c.
 * Decoding stays with lua-cjson.
 */
#include "h5_internal.h"
#include "json_scan.h"

/* json_members: each member adds its key and value range to the table at
 * the top of the stack. */
typedef struct {
  lua_State *L;
  lua_Integer n;
} member_list;

static void add_member(void *ud, const char *key, size_t key_len, size_t first, size_t stop) {
  member_list *list = ud;
  lua_pushlstring(list->L, key, key_len);
  lua_rawseti(list->L, -2, ++list->n);
  lua_pushinteger(list->L, (lua_Integer)first + 1);
  lua_rawseti(list->L, -2, ++list->n);
  lua_pushinteger(list->L, (lua_Integer)stop + 1);
  lua_rawseti(list->L, -2, ++list->n);
}

/* Push false, the 1-based byte position where scanning stopped, the reason. */
static int push_failure(lua_State *L, const json_scanner *sc) {
  lua_pushboolean(L, 0);
  lua_pushinteger(L, (lua_Integer)(sc->p - sc->s) + 1);
  lua_pushstring(L, sc->why ? sc->why : "invalid JSON");
  return 3;
}

/* h5.json_check(text) -> true | false, position, reason
 * Is text one JSON object (UTF-8 throughout)? */
static int json_check(lua_State *L) {
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  json_scanner sc;
  sc.on_member = NULL;
  if (!json_scan_object(&sc, text, len)) return push_failure(L, &sc);
  lua_pushboolean(L, 1);
  return 1;
}

/* h5.json_members(text) -> {key1, first1, stop1, key2, ...} | false, position, reason
 * The top-level members of a JSON object text, located without decoding:
 * each key as written (with its quotes and escapes), and its value's first
 * byte and the byte after it (1-based: text:sub(first, stop - 1) is the
 * value's JSON).  The whole text is checked as json_check does. */
static int json_members(lua_State *L) {
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  member_list list = {L, 0};
  json_scanner sc;
  sc.on_member = add_member;
  sc.ud = &list;
  lua_createtable(L, 3 * 16, 0);
  if (!json_scan_object(&sc, text, len)) return push_failure(L, &sc);
  return 1;
}

static const luaL_Reg json_funcs[] = {
  {"json_check", json_check},
  {"json_members", json_members},
  {NULL, NULL}
};

/* Add the functions to the module table at the top of the stack. */
void h5_open_json(lua_State *L) {
  luaL_setfuncs(L, json_funcs, 0);
}
