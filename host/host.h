/*
 * host.h -- what main.c and repl.c share.
 */
#ifndef H5LUA_HOST_H
#define H5LUA_HOST_H

#include <lua.h>

/* Run the function at the top of the stack (below its narg arguments) under
 * the message handler, with Ctrl-C turned into a Lua error for its duration. */
int host_docall(lua_State *L, int narg, int nres);
/* Print a failed call's message on stderr as one "h5lua: ..." line. */
int host_report(lua_State *L, int status);
/* The interactive loop; returns when the user ends input. */
void host_repl(lua_State *L);

#endif
