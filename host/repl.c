/*
 * repl.c -- the interactive loop: readline editing and history, multi-line
 * input, completion and printing delegated to Lua (h5lua.repl), Ctrl-C.
 *
 * As lua.c: a line is first tried as "return <line>"; an incomplete chunk
 * (error ending in <eof>) keeps reading with the continuation prompt.
 *
 * Lines are read through readline's callback interface (rl_callback_*):
 * the SIGINT handler only sets a flag, which interrupts select(); the loop
 * then drops the pending input and restores the terminal.  No longjmp out
 * of readline (readline's own documentation recommends this shape for
 * applications that handle signals).  While a statement runs, Ctrl-C is
 * host_docall's hook ("interrupted!").
 *
 * History: one entry per complete input (multi-line ones included, stored
 * with timestamps so they read back whole), appended to ~/.h5lua_history as
 * soon as it is entered, so os.exit() or a kill loses nothing.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
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
#define DISPLAY_MAX 200 /* completion candidates listed at most */
#define WORD_BREAKS " \t\n\"\\'`@$><=;|&{(,+-*%^~#"

static lua_State *replL = NULL;
static volatile sig_atomic_t got_sigint = 0;

static void on_sigint(int sig) {
  (void)sig;
  got_sigint = 1;
}

/* Call require("h5lua.repl")[fn] with the nargs values on top of the stack,
 * under lua_pcall; leaves nres results, or returns the error status with
 * the message on top. */
static int call_repl(lua_State *L, const char *fn, int nargs, int nres) {
  int base = lua_gettop(L) - nargs;
  lua_getglobal(L, "require");  /* args, require */
  lua_pushliteral(L, "h5lua.repl");
  int status = lua_pcall(L, 1, 1, 0);  /* args, module */
  if (status == LUA_OK && !lua_istable(L, -1)) {
    lua_pop(L, 1);
    lua_pushliteral(L, "h5lua.repl is not a module table");
    status = LUA_ERRRUN;
  }
  if (status != LUA_OK) {
    lua_insert(L, base + 1);  /* msg, args */
    lua_settop(L, base + 1);  /* msg */
    return status;
  }
  lua_getfield(L, -1, fn);  /* args, module, fn */
  lua_remove(L, -2);  /* args, fn */
  lua_insert(L, base + 1);  /* fn, args */
  return lua_pcall(L, nargs, nres, 0);
}

/* {====================================================================
 * Completion (delegated to Lua, under lua_pcall)
 * ===================================================================== */

static char **completion_list = NULL;
/* From h5lua.repl.complete: how many names match in all (the list may stop
 * at a limit) and how many leading entries of the list are real candidates;
 * the ones after them only hold readline's common prefix back and are not
 * listed. */
static lua_Integer completion_total = 0;
static size_t completion_listed = 0;

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

/* h5lua.repl.complete(text, line, start) -> {candidates...}, total, listed */
static char **attempt_completion(const char *text, int start, int end) {
  (void)end;
  rl_attempted_completion_over = 1;  /* never fall back to file names */
  free_completion_list();
  completion_total = 0;
  completion_listed = 0;
  lua_State *L = replL;
  int top = lua_gettop(L);
  lua_pushstring(L, text);
  lua_pushstring(L, rl_line_buffer);
  lua_pushinteger(L, start);
  if (call_repl(L, "complete", 3, 3) == LUA_OK && lua_istable(L, -3)) {
    size_t n = (size_t)lua_rawlen(L, -3);
    lua_Integer listed = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : (lua_Integer)n;
    completion_total = lua_isinteger(L, -2) ? lua_tointeger(L, -2) : (lua_Integer)n;
    lua_pop(L, 2);
    completion_list = calloc(n + 1, sizeof *completion_list);
    size_t k = 0;
    for (size_t i = 1; completion_list && i <= n; i++) {
      if (lua_rawgeti(L, -1, (lua_Integer)i) == LUA_TSTRING) {
        char *copy = strdup(lua_tostring(L, -1));
        if (copy) completion_list[k++] = copy;
        if (copy && (lua_Integer)i <= listed) completion_listed = k;
      }
      lua_pop(L, 1);
    }
  }
  lua_settop(L, top);
  if (!completion_list || !completion_list[0]) return NULL;
  /* no space after a completion: "f.structures" may go on with "." */
  rl_completion_append_character = '\0';
  return rl_completion_matches(text, completion_generator);
}

static int is_separator(char c) {
  return c == '.' || c == ':' || c == '/' || c == '[';
}

/* Is s one of the entries that only hold the common prefix back (and not
 * also a real candidate)? */
static int is_placeholder(const char *s) {
  if (!completion_list) return 0;
  for (size_t i = 0; i < completion_listed; i++)
    if (strcmp(completion_list[i], s) == 0) return 0;
  for (size_t i = completion_listed; completion_list[i]; i++)
    if (strcmp(completion_list[i], s) == 0) return 1;
  return 0;
}

/* List candidates without the expression they share: "ALANIN", not
 * "f.structures.ALANIN" (as readline shows file names without their
 * directory).  matches[0] is the common prefix, matches[1..num] the list;
 * placeholders are left out, and "... and N more" counts every name that
 * matches, not only the ones complete() returned. */
static void display_matches(char **matches, int num, int max_length) {
  (void)max_length;
  size_t cut = 0;
  for (size_t i = 0; matches[0] && matches[0][i]; i++)
    if (is_separator(matches[0][i])) cut = i + 1;
  char **list = calloc((size_t)(num > DISPLAY_MAX ? DISPLAY_MAX : num) + 2, sizeof *list);
  if (!list) return;
  int width = 0, shown = 0;
  list[0] = matches[0];
  for (int i = 1; i <= num && shown < DISPLAY_MAX; i++) {
    if (is_placeholder(matches[i])) continue;
    size_t len = strlen(matches[i]);
    list[++shown] = matches[i] + (len >= cut ? cut : len);
    int w = (int)strlen(list[shown]);
    if (w > width) width = w;
  }
  rl_display_match_list(list, shown, width);
  lua_Integer more = completion_total - shown;
  if (more > 0) fprintf(rl_outstream, "... and %lld more\n", (long long)more);
  free(list);
  rl_forced_update_display();
}

/* {====================================================================
 * Reading lines
 * ===================================================================== */

static char *history_path(void) {
  const char *home = getenv("HOME");
  if (!home || !*home) return NULL;
  size_t n = strlen(home) + 32;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/.h5lua_history", home);
  return p;
}

/* Without a terminal: one line from stdin, without its newline. */
static char *read_plain_line(void) {
  char buf[4096];
  size_t len = 0;
  char *line = NULL;
  while (fgets(buf, sizeof buf, stdin)) {
    size_t n = strlen(buf);
    char *grown = realloc(line, len + n + 1);
    if (!grown) break;
    line = grown;
    memcpy(line + len, buf, n + 1);
    len += n;
    if (len && line[len - 1] == '\n') {
      line[--len] = '\0';
      return line;
    }
  }
  return line;
}

static char *cb_line = NULL;
static int cb_done = 0;

static void on_line(char *line) {
  cb_line = line;
  cb_done = 1;
  rl_callback_handler_remove();  /* one line per install */
}

/* Read one line (without its newline); NULL at end of input.  *cancelled is
 * set when Ctrl-C dropped the line. */
static char *read_line(const char *prompt, int *cancelled) {
  *cancelled = 0;
  if (!isatty(0)) return read_plain_line();
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  /* no SA_RESTART: select() must return on Ctrl-C */
  sigaction(SIGINT, &sa, &old);
  got_sigint = 0;
  cb_line = NULL;
  cb_done = 0;
  fflush(stdout);
  rl_callback_handler_install(prompt, on_line);
  int fd = fileno(rl_instream ? rl_instream : stdin);
  while (!cb_done) {
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(fd, &fds);
    int r = select(fd + 1, &fds, NULL, NULL, NULL);
    if (got_sigint) {
      FILE *out = rl_outstream ? rl_outstream : stdout;
      got_sigint = 0;
      rl_point = rl_end;  /* "^C" after what was typed, as a shell shows it */
      rl_redisplay();
      fputs("^C", out);
      rl_free_line_state();
      rl_callback_sigcleanup();
      rl_callback_handler_remove();  /* restores the terminal (may output "\r") */
      fputs("\n", out);
      fflush(out);
      *cancelled = 1;
      break;
    }
    if (r < 0) {
      if (errno == EINTR) continue;
      rl_callback_handler_remove();
      break;  /* end of input */
    }
    if (r > 0) rl_callback_read_char();
  }
  sigaction(SIGINT, &old, NULL);
  return cb_line;
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
 * input, -2 when Ctrl-C dropped the input.  *full receives the whole input
 * (for the history) unless the result is -1 or -2. */
static int load_input(lua_State *L, char **full) {
  int cancelled;
  char *buf = read_line(PROMPT, &cancelled);
  if (!buf) return cancelled ? -2 : -1;
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

/* Remember one complete input, in memory and at the end of the file. */
static void remember(const char *input, const char *hist) {
  if (!input || !*input || strspn(input, " \t\n") == strlen(input)) return;
  HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
  if (last && strcmp(last->line, input) == 0) return;  /* no repeats */
  add_history(input);
  if (hist && append_history(1, hist) != 0) write_history(hist);
}

void host_repl(lua_State *L) {
  replL = L;
  int tty = isatty(0);
  char *hist = NULL;
  /* The helpers (ls, cd, tree, ...) as globals; a failing module only
   * costs the helpers, not the REPL. */
  int top = lua_gettop(L);
  if (call_repl(L, "start", 0, 0) != LUA_OK) lua_settop(L, top);
  if (tty) {
    rl_readline_name = "h5lua";
    rl_catch_signals = 0;  /* Ctrl-C is ours (read_line) */
    /* Lua's operators break words, "." ":" "[" "]" and "/" do not: the
     * completer sees "f.structures.AL" whole, and inside f["structures/AL"
     * the text after the quote.  Quotes are plain break characters: no
     * closing quote is added (a path may go on). */
    rl_basic_word_break_characters = WORD_BREAKS;
    rl_completer_word_break_characters = WORD_BREAKS;
    rl_completer_quote_characters = NULL;
    rl_basic_quote_characters = "";  /* else a quote before the word is re-added after it */
    rl_attempted_completion_function = attempt_completion;
    rl_completion_display_matches_hook = display_matches;
    using_history();
    stifle_history(HISTORY_MAX);
    history_comment_char = '#';  /* entries start with "#<time>" lines... */
    history_write_timestamps = 1;
    history_multiline_entries = 1;  /* ...so multi-line ones read back whole */
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
    if (tty) remember(input, hist);
    free(input);
    if (status == LUA_OK) status = host_docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK) print_results(L);
    else host_report(L, status);
    lua_settop(L, 0);
    /* the statement may have changed the file: completion lists again */
    if (call_repl(L, "after_input", 0, 0) != LUA_OK) lua_settop(L, 0);
  }
  if (tty) {
    putchar('\n');
    if (hist) {
      history_truncate_file(hist, HISTORY_MAX);
      free(hist);
    }
  }
  free_completion_list();
  fflush(stdout);
}
