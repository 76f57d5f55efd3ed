/*
 * repl.c -- the interactive loop: readline editing and history, multi-line
 * input, completion and printing delegated to Lua (h5lua.repl), Ctrl-C.
 *
 * As lua.c: a line is first tried as "return <line>"; an incomplete chunk
 * (error ending in <eof>) keeps reading with the continuation prompt.
 * Ctrl-C while typing drops the pending input; while running, the statement
 * is interrupted by host_docall's hook.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include <lauxlib.h>
#include <lua.h>

#include "host.h"

#define PROMPT "> "
#define PROMPT2 ">> "
#define EOFMARK "<eof>"
#define HISTORY_MAX 1000

static lua_State *replL = NULL;
static sigjmp_buf input_jump;
static volatile sig_atomic_t jump_armed = 0;

/* Ctrl-C while reading a line: leave readline and drop the pending input. */
static void input_interrupt(int sig) {
  (void)sig;
  if (jump_armed) siglongjmp(input_jump, 1);
}

/* {====================================================================
 * Completion (delegated to Lua, under lua_pcall)
 * ===================================================================== */

static char **completion_list = NULL;

static char *completion_generator(const char *text, int state) {
  static size_t next;
  (void)text;
  if (state == 0) next = 0;
  if (!completion_list || !completion_list[next]) return NULL;
  return strdup(completion_list[next++]);
}

static void free_completion_list(void) {
  if (!completion_list) return;
  for (size_t i = 0; completion_list[i]; i++) free(completion_list[i]);
  free(completion_list);
  completion_list = NULL;
}

/* h5lua.repl.complete(text, line, start) -> {candidates...}: pcall'd so a
 * failing completer never unwinds through readline. */
static int call_completer(lua_State *L) {
  const char *text = lua_tostring(L, 1);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "h5lua.repl");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "complete");
  lua_pushstring(L, text);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  lua_call(L, 3, 1);
  return 1;
}

static char **attempt_completion(const char *text, int start, int end) {
  (void)end;
  rl_attempted_completion_over = 1;  /* never fall back to file names */
  free_completion_list();
  lua_State *L = replL;
  int top = lua_gettop(L);
  lua_pushcfunction(L, call_completer);
  lua_pushstring(L, text);
  lua_pushstring(L, rl_line_buffer);
  lua_pushinteger(L, start);
  if (lua_pcall(L, 3, 1, 0) == LUA_OK && lua_istable(L, -1)) {
    size_t n = (size_t)lua_rawlen(L, -1);
    completion_list = calloc(n + 1, sizeof *completion_list);
    size_t k = 0;
    for (size_t i = 1; completion_list && i <= n; i++) {
      if (lua_rawgeti(L, -1, (lua_Integer)i) == LUA_TSTRING)
        completion_list[k++] = strdup(lua_tostring(L, -1));
      lua_pop(L, 1);
    }
  }
  lua_settop(L, top);
  if (!completion_list || !completion_list[0]) return NULL;
  /* no space after a completion that ends in '.', ':', '/' or '(' */
  rl_completion_append_character = '\0';
  return rl_completion_matches(text, completion_generator);
}

/* {====================================================================
 * Reading and evaluating
 * ===================================================================== */

static char *history_path(void) {
  const char *home = getenv("HOME");
  if (!home || !*home) return NULL;
  size_t n = strlen(home) + 32;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/.h5lua_history", home);
  return p;
}

/* Read one line (without its newline); NULL at end of input.  *cancelled is
 * set when Ctrl-C dropped the line. */
static char *read_line(const char *prompt, int *cancelled) {
  *cancelled = 0;
  if (!isatty(0)) {
    char buf[4096];
    size_t cap = 0, len = 0;
    char *line = NULL;
    while (fgets(buf, sizeof buf, stdin)) {
      size_t n = strlen(buf);
      char *grown = realloc(line, cap = len + n + 1);
      if (!grown) break;
      line = grown;
      memcpy(line + len, buf, n + 1);
      len += n;
      if (len && line[len - 1] == '\n') {
        line[--len] = '\0';
        return line;
      }
    }
    (void)cap;
    return line;
  }
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = input_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old);
  char *line = NULL;
  if (sigsetjmp(input_jump, 1) != 0) {
    jump_armed = 0;
    rl_free_line_state();
    rl_cleanup_after_signal();
    fputs("^C\n", stdout);
    fflush(stdout);
    *cancelled = 1;
    sigaction(SIGINT, &old, NULL);
    return NULL;
  }
  jump_armed = 1;
  line = readline(prompt);
  jump_armed = 0;
  sigaction(SIGINT, &old, NULL);
  return line;
}

static int incomplete(lua_State *L, int status) {
  if (status == LUA_ERRSYNTAX) {
    size_t lmsg;
    const char *msg = lua_tolstring(L, -1, &lmsg);
    size_t lmark = sizeof(EOFMARK) - 1;
    if (lmsg >= lmark && strcmp(msg + lmsg - lmark, EOFMARK) == 0) {
      lua_pop(L, 1);
      return 1;
    }
  }
  return 0;
}

/* Compile "return <text>" or, failing that, text as statements, reading
 * continuation lines while the chunk is incomplete.  Returns LUA_OK with the
 * function pushed, another status with the message pushed, or -1 at end of
 * input, -2 when Ctrl-C dropped the input. */
static int load_input(lua_State *L, char **full) {
  int cancelled;
  char *line = read_line(PROMPT, &cancelled);
  if (!line) return cancelled ? -2 : -1;
  size_t len = strlen(line);
  char *buf = malloc(len + 1);
  memcpy(buf, line, len + 1);
  free(line);
  const char *code = buf[0] == '=' ? buf + 1 : buf;  /* "= expr" as in Lua 5.1 */
  const char *retline = lua_pushfstring(L, "return %s;", code);
  int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
  lua_remove(L, -2);
  if (status == LUA_OK) {
    *full = buf;
    return status;
  }
  lua_pop(L, 1);
  for (;;) {
    status = luaL_loadbuffer(L, buf, strlen(buf), "=stdin");
    if (!incomplete(L, status)) break;
    char *more = read_line(PROMPT2, &cancelled);
    if (!more) {
      free(buf);
      return cancelled ? -2 : -1;
    }
    size_t a = strlen(buf), m = strlen(more);
    char *grown = realloc(buf, a + m + 2);
    if (!grown) {
      free(more);
      break;
    }
    buf = grown;
    buf[a] = '\n';
    memcpy(buf + a + 1, more, m + 1);
    free(more);
  }
  *full = buf;
  return status;
}

/* Print results through h5lua.repl.print_results when it loads, else print. */
static void print_results(lua_State *L) {
  int n = lua_gettop(L);
  if (n == 0) return;
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
  lua_getglobal(L, "require");
  lua_pushliteral(L, "h5lua.repl");
  if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1)) {
    lua_getfield(L, -1, "print_results");
    lua_remove(L, -2);
  } else {
    lua_pop(L, 1);
    lua_getglobal(L, "print");
  }
  lua_insert(L, 1);
  if (host_docall(L, n, 0) != LUA_OK) host_report(L, LUA_ERRRUN);
}

void host_repl(lua_State *L) {
  replL = L;
  int tty = isatty(0);
  char *hist = NULL;
  if (tty) {
    rl_readline_name = "h5lua";
    rl_catch_signals = 0;  /* our handler drops the line */
    rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{(,+-*/%^~#";
    rl_attempted_completion_function = attempt_completion;
    using_history();
    stifle_history(HISTORY_MAX);
    hist = history_path();
    if (hist) read_history(hist);
  }
  lua_settop(L, 0);
  for (;;) {
    char *input = NULL;
    int status = load_input(L, &input);
    if (status == -1) break;
    if (status == -2) {
      lua_settop(L, 0);
      continue;
    }
    if (tty && input && *input) add_history(input);
    free(input);
    if (status == LUA_OK) status = host_docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK) print_results(L);
    else host_report(L, status);
    lua_settop(L, 0);
  }
  if (tty) {
    putchar('\n');
    if (hist) {
      write_history(hist);
      free(hist);
    }
  }
  free_completion_list();
  fflush(stdout);
}
