/*
 * main.c -- the h5lua executable: Lua state, package paths, arguments,
 * script runner and exit codes.  Shaped like Lua's own lua.c; no HDF5 calls
 * here (the `h5` module is registered in package.preload).
 *
 *   h5lua                        REPL
 *   h5lua FILE.h5                REPL with `f` bound to the file (read-only)
 *   h5lua script.lua [args...]   run a script; `arg` as lua sets it
 *   h5lua -e CODE, -l MOD, -i, -v, -E, -, --traceback
 *   h5lua <command> [options]    scripts/h5lua/commands/<command>.lua
 *
 * Exit codes: 0 success, 1 the job ran and found problems (or the script
 * raised an error), 2 usage or environment error.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "host.h"

#ifndef H5LUA_DATADIR
#define H5LUA_DATADIR "/usr/local/share/h5lua"
#endif

#define EXIT_PROBLEMS 1
#define EXIT_USAGE 2

int luaopen_h5(lua_State *L);
extern const char *volatile h5_operation;  /* bindings: HDF5 call under way */
extern volatile int h5_watchdog_enabled;   /* bindings: arm alarms around quick calls */
int h5_watchdog_expired(void);

static const char *progname = "h5lua";
static int show_traceback = 0;
static lua_State *globalL = NULL;

/* {====================================================================
 * Running chunks (lua.c's docall/msghandler/report)
 * ===================================================================== */

static void lstop(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

/* The signal handler only sets a hook; the hook raises at a safe point. */
static void laction(int sig) {
  int flag = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
  signal(sig, SIG_DFL);  /* a second Ctrl-C kills the process */
  lua_sethook(globalL, lstop, flag, 1);
}

static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  if (show_traceback) luaL_traceback(L, L, msg, 1);
  return 1;
}

int host_docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  globalL = L;
  signal(SIGINT, laction);
  int status = lua_pcall(L, narg, nres, base);
  signal(SIGINT, SIG_DFL);
  lua_remove(L, base);
  return status;
}

/* require's "module 'm' not found:" lists every place it looked, one line
 * each (~20): without --traceback, say how many instead, so that a script's
 * failed require is one line as every other error. */
static void shorten_not_found(lua_State *L) {
  static const char tail[] = "' not found:\n\t";
  const char *msg = lua_tostring(L, -1);
  const char *end = msg ? strstr(msg, tail) : NULL;
  if (!end || show_traceback || !strstr(msg, "module '")) return;
  int places = 0;
  for (const char *p = strstr(end, "\n\t"); p; p = strstr(p + 2, "\n\t")) places++;
  lua_pushlstring(L, msg, (size_t)(end - msg) + strlen("' not found"));
  lua_pushfstring(L, "%s (searched %d place%s; --traceback lists %s)", lua_tostring(L, -1),
                  places, places == 1 ? "" : "s", places == 1 ? "it" : "them");
  lua_replace(L, -3);
  lua_pop(L, 1);
}

int host_report(lua_State *L, int status) {
  if (status != LUA_OK) {
    shorten_not_found(L);
    const char *msg = lua_tostring(L, -1);
    if (msg == NULL) msg = "(error object is not a string)";
    fprintf(stderr, "%s: %s\n", progname, msg);
    fflush(stderr);
    lua_pop(L, 1);
  }
  return status;
}

static int dochunk(lua_State *L, int status) {
  if (status == LUA_OK) status = host_docall(L, 0, 0);
  return host_report(L, status);
}

static int dostring(lua_State *L, const char *s, const char *name) {
  return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

/* -l [g=]mod: require mod and store it in global g (default: mod).
 * Returns an exit code: a module that is not there is a usage error. */
static int dolibrary(lua_State *L, char *spec) {
  char *eq = strchr(spec, '=');
  const char *glob = spec, *mod = spec;
  if (eq) {
    *eq = '\0';
    mod = eq + 1;
  }
  lua_getglobal(L, "require");
  lua_pushstring(L, mod);
  int status = host_docall(L, 1, 1);
  if (status == LUA_OK) {
    lua_setglobal(L, glob);
    return 0;
  }
  const char *msg = lua_tostring(L, -1);
  const char *head = lua_pushfstring(L, "module '%s' not found", mod);
  int missing = msg && strncmp(msg, head, strlen(head)) == 0;
  lua_pop(L, 1);
  host_report(L, status);
  return missing ? EXIT_USAGE : EXIT_PROBLEMS;
}

/* {====================================================================
 * Arguments
 * ===================================================================== */

static void print_usage(const char *badoption) {
  if (badoption) {
    if (badoption[1] == 'e' || badoption[1] == 'l')
      fprintf(stderr, "%s: '%s' needs an argument\n", progname, badoption);
    else
      fprintf(stderr, "%s: unrecognized option '%s'\n", progname, badoption);
  }
  fprintf(stderr,
          "usage: %s [options] [script [args]] | %s FILE.h5 | %s <command> [options]\n"
          "Options:\n"
          "  -e stat      execute string 'stat'\n"
          "  -i           enter interactive mode after running the script\n"
          "  -l mod       require library 'mod' into global 'mod' (-l g=mod: into g)\n"
          "  -v           show version information\n"
          "  -E           ignore environment variables\n"
          "  -w, --write  open FILE.h5 for writing (r+) in the REPL\n"
          "  --traceback  show the Lua traceback of errors\n"
          "  --           stop handling options\n"
          "  -            run stdin as a script and stop handling options\n"
          "Commands: run '%s help' for the list.\n",
          progname, progname, progname, progname);
}

enum { HAS_ERROR = 1, HAS_I = 2, HAS_V = 4, HAS_E = 8, HAS_EXEC = 16, HAS_W = 32 };

/* First pass over argv (lua.c's collectargs): flags, and the index of the
 * script or command (argc when there is none, -1 on a bad option). */
static int collect_args(char **argv, int *first) {
  int args = 0;
  int i;
  for (i = 1; argv[i] != NULL; i++) {
    *first = i;
    if (argv[i][0] != '-') return args;
    if (strcmp(argv[i], "--traceback") == 0) {
      show_traceback = 1;
      continue;
    }
    if (strcmp(argv[i], "--write") == 0) {
      args |= HAS_W;
      continue;
    }
    switch (argv[i][1]) {
      case '-':
        if (argv[i][2] != '\0') return HAS_ERROR;
        *first = i + 1;
        return args;
      case '\0': return args;  /* "-": stdin */
      case 'E': if (argv[i][2]) return HAS_ERROR; args |= HAS_E; break;
      case 'w': if (argv[i][2]) return HAS_ERROR; args |= HAS_W; break;
      case 'i': if (argv[i][2]) return HAS_ERROR; args |= HAS_I | HAS_V; break;
      case 'v': if (argv[i][2]) return HAS_ERROR; args |= HAS_V; break;
      case 'e':
        args |= HAS_EXEC;
        /* fallthrough */
      case 'l':
        if (argv[i][2] == '\0') {
          i++;
          if (argv[i] == NULL || argv[i][0] == '-') return HAS_ERROR;
        }
        break;
      default: return HAS_ERROR;
    }
  }
  *first = i;
  return args;
}

/* Second pass: run -e and -l in order.  Returns 0, or the exit code of the
 * first that failed. */
static int run_args(lua_State *L, char **argv, int n) {
  for (int i = 1; i < n; i++) {
    int option = argv[i][1];
    if (argv[i][0] != '-' || (option != 'e' && option != 'l')) continue;
    char *extra = argv[i] + 2;
    if (*extra == '\0') extra = argv[++i];
    int code = option == 'l' ? dolibrary(L, extra)
               : dostring(L, extra, "=(command line)") == LUA_OK ? 0 : EXIT_PROBLEMS;
    if (code != 0) return code;
  }
  return 0;
}

/* arg: script at 0, its arguments at 1..n, interpreter and options below 0 */
static void create_arg_table(lua_State *L, char **argv, int argc, int script) {
  if (script == argc) script = 0;
  lua_createtable(L, argc - script, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int push_script_args(lua_State *L) {
  if (lua_getglobal(L, "arg") != LUA_TTABLE) luaL_error(L, "'arg' is not a table");
  int n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  for (int i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
  lua_remove(L, -n - 1);
  return n;
}

/* {====================================================================
 * Paths and the h5lua.host module
 * ===================================================================== */

static int is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The Lua scripts: in-tree scripts/ next to build/, else PREFIX/share/h5lua. */
static void find_scripts_dir(char *out, size_t len) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    char candidate[PATH_MAX + 32];
    snprintf(candidate, sizeof candidate, "%s/../scripts/h5lua", exe);
    if (is_dir(candidate)) {
      snprintf(out, len, "%.*s/../scripts", (int)(len - 16), exe);
      return;
    }
    snprintf(candidate, sizeof candidate, "%s/../share/h5lua", exe);
    if (is_dir(candidate)) {
      snprintf(out, len, "%.*s/../share/h5lua", (int)(len - 16), exe);
      return;
    }
  }
  snprintf(out, len, "%s", H5LUA_DATADIR);
}

/* package.path: scripts/, then H5LUA_PATH's directories, then
 * ~/.config/h5lua/, then Lua's default.  The directory list is also handed
 * to Lua (h5lua.host.user_dirs) for scheme and rule discovery. */
static void setup_paths(lua_State *L, int ignore_env) {
  char scripts[PATH_MAX + 64];
  find_scripts_dir(scripts, sizeof scripts);
  char *real = realpath(scripts, NULL);
  if (real) {
    snprintf(scripts, sizeof scripts, "%s", real);
    free(real);
  }
  lua_newtable(L);  /* dirs */
  int ndirs = 0;
  const char *user_path = ignore_env ? NULL : getenv("H5LUA_PATH");
  for (const char *p = user_path ? user_path : ""; *p;) {
    size_t n = strcspn(p, ":");
    if (n > 0) {
      lua_pushlstring(L, p, n);
      lua_rawseti(L, -2, ++ndirs);
    }
    p += n;
    if (*p == ':') p++;
  }
  const char *home = getenv("HOME");
  if (home && *home && !ignore_env) {
    lua_pushfstring(L, "%s/.config/h5lua", home);
    lua_rawseti(L, -2, ++ndirs);
  }
  int dirs = lua_gettop(L);
  lua_getglobal(L, "package");  /* dirs, package */
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", scripts, scripts);
  luaL_addvalue(&b);
  for (int i = 1; i <= ndirs; i++) {
    lua_rawgeti(L, dirs, i);
    const char *dir = lua_tostring(L, -1);
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", dir, dir);
    lua_remove(L, -2);
    luaL_addvalue(&b);
  }
  lua_getfield(L, dirs + 1, "path");
  luaL_addvalue(&b);
  luaL_pushresult(&b);  /* dirs, package, path */
  lua_setfield(L, -2, "path");  /* dirs, package */
  /* h5lua.host: facts about this executable for the Lua layer */
  lua_createtable(L, 0, 4);  /* dirs, package, host */
  lua_pushvalue(L, dirs);
  lua_setfield(L, -2, "user_dirs");
  lua_pushstring(L, scripts);
  lua_setfield(L, -2, "scripts_dir");
  lua_pushboolean(L, show_traceback);
  lua_setfield(L, -2, "traceback");
  lua_pushstring(L, progname);
  lua_setfield(L, -2, "progname");
  lua_getfield(L, -2, "loaded");  /* dirs, package, host, loaded */
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "h5lua.host");
  lua_pop(L, 4);
  /* require "h5" is the same everywhere: the built-in module */
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_h5);
  lua_setfield(L, -2, "h5");
  lua_pop(L, 1);
}

static int handle_init(lua_State *L) {
  const char *name = "=H5LUA_INIT";
  const char *init = getenv("H5LUA_INIT");
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return dochunk(L, luaL_loadfile(L, init + 1));
  return dostring(L, init, name);
}

/* {====================================================================
 * Dispatch
 * ===================================================================== */

/* HDF5 files start with a signature at 0, 512, 1024, 2048, ... */
static int looks_like_hdf5(const char *path) {
  static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  int found = 0;
  for (long off = 0; off <= (1L << 20) && !found; off = off ? off * 2 : 512) {
    unsigned char buf[8];
    if (fseek(f, off, SEEK_SET) != 0 || fread(buf, 1, 8, f) != 8) break;
    found = memcmp(buf, sig, 8) == 0;
  }
  fclose(f);
  return found;
}

/* Names that say "HDF5 data": such a file is never run as a script. */
static int has_hdf5_suffix(const char *path) {
  static const char *const suffixes[] = {".h5", ".hdf5", ".he5", ".nxs", NULL};
  size_t len = strlen(path);
  for (int i = 0; suffixes[i]; i++) {
    size_t n = strlen(suffixes[i]);
    if (len > n && strcasecmp(path + len - n, suffixes[i]) == 0) return 1;
  }
  return 0;
}

static int is_regular_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A bare word that is not a file names a subcommand. */
static int is_command_name(const char *s) {
  if (!(*s >= 'a' && *s <= 'z') || access(s, F_OK) == 0) return 0;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
      return 0;
  return 1;
}

/* Call require(mod)[fn](args...) and turn its result into an exit code. */
static int call_lua_entry(lua_State *L, const char *mod, const char *fn, int nargs) {
  lua_getglobal(L, "require");
  lua_pushstring(L, mod);
  int status = host_docall(L, 1, 1);
  if (status != LUA_OK) {
    lua_pop(L, nargs);
    host_report(L, status);
    return EXIT_USAGE;
  }
  lua_getfield(L, -1, fn);
  lua_remove(L, -2);
  lua_insert(L, -nargs - 1);
  status = host_docall(L, nargs, 1);
  if (status != LUA_OK) {
    host_report(L, status);
    return EXIT_USAGE;
  }
  int code = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : 0;
  lua_pop(L, 1);
  return code;
}

/* fname NULL: stdin */
static int run_script(lua_State *L, const char *fname) {
  int status = luaL_loadfile(L, fname);
  if (status != LUA_OK) {
    host_report(L, status);
    return EXIT_USAGE;
  }
  int n = push_script_args(L);
  status = host_docall(L, n, 0);
  host_report(L, status);
  return status == LUA_OK ? 0 : EXIT_PROBLEMS;
}

static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  int script = argc;
  int args = collect_args(argv, &script);
  int code = 0;
  luaL_checkversion(L);
  if (argv[0] && argv[0][0]) progname = "h5lua";
  if (args == HAS_ERROR) {
    print_usage(argv[script]);
    lua_pushinteger(L, EXIT_USAGE);
    return 1;
  }
  if (args & HAS_V) printf("h5lua 0.1.0 (%s)\n", LUA_RELEASE);
  if (args & HAS_E) {
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  setup_paths(L, args & HAS_E);
  create_arg_table(L, argv, argc, script);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCGEN, 0, 0);
  if (!(args & HAS_E) && handle_init(L) != LUA_OK) {
    lua_pushinteger(L, EXIT_USAGE);
    return 1;
  }
  code = run_args(L, argv, script);
  if (code != 0) {
    lua_pushinteger(L, code);
    return 1;
  }
  if (script < argc) {
    const char *target = argv[script];
    int after_dashdash = script > 1 && strcmp(argv[script - 1], "--") == 0;
    if (!after_dashdash && is_command_name(target)) {
      /* h5lua <command> args... -> h5lua.cli.main(command, args...) */
      lua_pushstring(L, target);
      int n = push_script_args(L);
      code = call_lua_entry(L, "h5lua.cli", "main", n + 1);
    } else if (strcmp(target, "-") != 0 && looks_like_hdf5(target)) {
      lua_pushstring(L, target);
      lua_pushboolean(L, (args & HAS_W) != 0);
      code = call_lua_entry(L, "h5lua.repl", "open_file", 2);
      if (code == 0) host_repl(L);
    } else if (strcmp(target, "-") != 0 && has_hdf5_suffix(target) && is_regular_file(target)) {
      /* not Lua either: its "syntax error near <eof>" would only puzzle */
      fprintf(stderr, "%s: %s: not an HDF5 file\n", progname, target);
      code = EXIT_USAGE;
    } else {
      code = run_script(L, strcmp(target, "-") == 0 && !after_dashdash ? NULL : target);
    }
    if (args & HAS_I) host_repl(L);
  } else if (args & HAS_I) {
    host_repl(L);
  } else if (!(args & (HAS_EXEC | HAS_V))) {
    if (isatty(0)) {
      printf("h5lua 0.1.0 (%s) -- ls(), help() for HDF5 exploration\n", LUA_RELEASE);
      host_repl(L);
    } else {
      code = run_script(L, NULL);  /* stdin */
    }
  }
  lua_pushinteger(L, code);
  return 1;
}

/* {====================================================================
 * Crash guard
 * ===================================================================== */

static void write_str(const char *s) {
  ssize_t r = write(2, s, strlen(s));
  (void)r;
}

/* The bindings' watchdog fired: libhdf5 is looping on a damaged file (its
 * global heap parser never ends).  Only async-signal-safe calls here. */
static void hang_handler(int sig) {
  const char *op = h5_operation;
  (void)sig;
  if (!h5_watchdog_expired()) return;  /* a lazy alarm: no call ran too long */
  write_str("h5lua: fatal: the HDF5 library stopped responding while ");
  write_str(op ? op : "working");
  write_str(": the file is damaged (its global heap loops)\n");
  _exit(EXIT_USAGE);
}

#if !defined(__SANITIZE_ADDRESS__)
/* A few files make libhdf5 1.10 itself fault (damaged ones, and 1.12 files
 * with new-style references in attributes).  Say so in one line instead of
 * dumping core. */
static void crash_handler(int sig) {
  const char *op = h5_operation;
  write_str("h5lua: fatal: ");
  write_str(sig == SIGSEGV ? "segmentation fault" : sig == SIGBUS ? "bus error"
            : sig == SIGABRT ? "abort" : "arithmetic fault");
  if (op) {
    write_str(" in the HDF5 library while ");
    write_str(op);
    write_str(": the file is damaged or uses a feature this libhdf5 cannot read\n");
  } else {
    write_str("\n");
  }
  _exit(EXIT_USAGE);
}
#endif

static void install_crash_guard(void) {
  /* A blocked signal mask survives exec: a parent that blocks SIGALRM (some
   * CI runners do) would silence the watchdog and leave libhdf5 looping
   * forever, and a blocked SIGINT would make Ctrl-C do nothing. */
  sigset_t guarded;
  sigemptyset(&guarded);
  sigaddset(&guarded, SIGALRM);
  sigaddset(&guarded, SIGINT);
  sigaddset(&guarded, SIGSEGV);
  sigaddset(&guarded, SIGBUS);
  sigaddset(&guarded, SIGFPE);
  sigaddset(&guarded, SIGABRT);
  sigprocmask(SIG_UNBLOCK, &guarded, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = hang_handler;
  sa.sa_flags = SA_RESTART;  /* a lazy alarm may land in any system call */
  sigaction(SIGALRM, &sa, NULL);
  sa.sa_flags = 0;
  h5_watchdog_enabled = 1;
#if !defined(__SANITIZE_ADDRESS__)  /* under ASan, ASan reports faults itself */
  sa.sa_handler = crash_handler;
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGFPE, &sa, NULL);
  sigaction(SIGABRT, &sa, NULL);  /* glibc aborts on libhdf5's invalid frees */
#endif
}

int main(int argc, char **argv) {
  install_crash_guard();
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, "%s: cannot create state: not enough memory\n", progname);
    return EXIT_USAGE;
  }
  lua_gc(L, LUA_GCSTOP);
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  int status = lua_pcall(L, 2, 1, 0);
  int code = status == LUA_OK ? (int)lua_tointeger(L, -1) : EXIT_USAGE;
  host_report(L, status);
  lua_close(L);  /* runs every __gc: files are flushed and closed */
  return code;
}
