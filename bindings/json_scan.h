/*
 * json_scan.h -- recognise one JSON object without building it.
 */
#ifndef H5LUA_JSON_SCAN_H
#define H5LUA_JSON_SCAN_H

#include <stddef.h>

#define JSON_MAX_DEPTH 1000 /* as the store's cjson instance */

typedef struct json_scanner {
  const unsigned char *s, *p, *end; /* the text, where scanning is, its end */
  const char *why;                  /* the first error, NULL while all is well */
  int depth;
  /* When set, called for each top-level member: its key as written (with
   * quotes and escapes) and its value's first byte and the byte after it
   * (0-based offsets into the text). */
  void (*on_member)(void *ud, const char *key, size_t key_len, size_t first, size_t stop);
  void *ud;
} json_scanner;

/* Is text one JSON object and nothing else (whitespace aside), UTF-8
 * throughout?  On failure sc->p is where scanning stopped and sc->why says
 * why.  Set (or clear) on_member and ud before the call.  text[len] must be
 * a NUL byte, as in every Lua string (the scanner's loops stop at it). */
int json_scan_object(json_scanner *sc, const char *text, size_t len);

/* Is text (len bytes, then a NUL) UTF-8, by the same rules as strings in JSON? */
int json_scan_utf8(const char *text, size_t len);

#endif
