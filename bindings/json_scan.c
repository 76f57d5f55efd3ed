/*
 * json_scan.c -- a JSON syntax scanner that builds nothing (json_scan.h).
 *
 * The store checks every structure's JSON text before writing it, and
 * organization schemes often need one or two top-level fields of each
 * structure; both only need to *recognise* JSON, not build tables.  This
 * scanner does that, about 10x as fast as the LPeg grammars it replaced and
 * as cjson.decode.  It reads RFC 8259 plus NaN, Infinity and -Infinity
 * (which Python's json reads and writes), and checks that strings are UTF-8
 * (no overlong forms, no surrogates).  Plain C without Lua: the benchmark's
 * C baseline does the same check with it.
 *
 * Speed: the text ends with a NUL byte (Lua strings always do), and NUL is
 * valid nowhere in JSON, so every loop stops at it without comparing the
 * position with the end; the end is consulted only to word an error.  Hot
 * loops keep the position in a local (a store through sc->p on every byte
 * cannot be optimised away: byte reads may alias it).  Measured on the
 * store bench's structures: 2.6 vs 5.0 us for a 4.7 KB structure.
 */
#include <string.h>

#include "json_scan.h"

enum { WS = 1, DIGIT = 2, PLAIN = 4, HEX = 8 };

/* Character classes; PLAIN: printable ASCII other than '"' and '\\', what
 * most of a string is. */
static unsigned char cls[256];

static void init_classes(void) {
  for (int c = 0x20; c < 0x80; c++)
    if (c != '"' && c != '\\') cls[c] |= PLAIN;
  cls[' '] |= WS;
  cls['\t'] |= WS;
  cls['\n'] |= WS;
  cls['\r'] |= WS;
  for (int c = '0'; c <= '9'; c++) cls[c] |= DIGIT | HEX;
  for (int c = 'a'; c <= 'f'; c++) cls[c] |= HEX;
  for (int c = 'A'; c <= 'F'; c++) cls[c] |= HEX;
}

static int fail(json_scanner *sc, const char *why) {
  if (!sc->why) sc->why = why;
  return 0;
}

/* At the terminating NUL (not a NUL inside the text)? */
#define AT_END(sc, q) ((q) >= (sc)->end)

static void skip_ws(json_scanner *sc) {
  const unsigned char *p = sc->p;
  while (cls[*p] & WS) p++;
  sc->p = p;
}

static int literal(json_scanner *sc, const char *word) {
  size_t i = 0;
  while (word[i] && sc->p[i] == (unsigned char)word[i]) i++;
  if (word[i]) return fail(sc, "unexpected character");
  sc->p += i;
  return 1;
}

/* One UTF-8 sequence starting at a byte >= 0x80 (RFC 3629's table).  Each
 * byte is read only after the one before it was a valid non-NUL byte, so
 * reading never passes the terminating NUL. */
static int utf8_sequence(json_scanner *sc) {
  const unsigned char *p = sc->p;
  unsigned char c = p[0];
  int n;
  unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c == 0xE0) n = 3, lo = 0xA0;
  else if (c == 0xED) n = 3, hi = 0x9F; /* no surrogates */
  else if (c >= 0xE1 && c <= 0xEF) n = 3;
  else if (c == 0xF0) n = 4, lo = 0x90;
  else if (c >= 0xF1 && c <= 0xF3) n = 4;
  else if (c == 0xF4) n = 4, hi = 0x8F;
  else return fail(sc, "invalid UTF-8");
  if (p[1] < lo || p[1] > hi) return fail(sc, "invalid UTF-8");
  for (int i = 2; i < n; i++)
    if (p[i] < 0x80 || p[i] > 0xBF) return fail(sc, "invalid UTF-8");
  sc->p += n;
  return 1;
}

static int string(json_scanner *sc) {
  const unsigned char *p = sc->p + 1; /* after the opening quote */
  for (;;) {
    /* the common run of plain ASCII characters, four at a time (measured:
     * a third faster than one at a time); && never reads past a NUL */
    while ((cls[p[0]] & PLAIN) && (cls[p[1]] & PLAIN) && (cls[p[2]] & PLAIN) &&
           (cls[p[3]] & PLAIN))
      p += 4;
    while (cls[*p] & PLAIN) p++;
    unsigned char c = *p;
    if (c == '"') {
      sc->p = p + 1;
      return 1;
    }
    sc->p = p;
    if (c == '\\') {
      unsigned char e = p[1];
      if (e == 'u') {
        if (!(cls[p[2]] & HEX) || !(cls[p[3]] & HEX) || !(cls[p[4]] & HEX) ||
            !(cls[p[5]] & HEX))
          return fail(sc, "invalid \\u escape");
        p += 6;
      } else if (e && strchr("\"\\/bfnrt", e)) {
        p += 2;
      } else {
        return fail(sc, AT_END(sc, p + 1) ? "unterminated string" : "invalid escape");
      }
    } else if (c < 0x20) {
      if (AT_END(sc, p)) return fail(sc, "unterminated string");
      return fail(sc, c == 0 ? "NUL byte in a string" : "control character in a string");
    } else {
      if (!utf8_sequence(sc)) return 0;
      p = sc->p;
    }
  }
}

static int number(json_scanner *sc) {
  const unsigned char *p = sc->p;
  if (*p == '-') {
    p++;
    if (*p == 'I') {
      sc->p = p;
      return literal(sc, "Infinity");
    }
  }
  if (*p == '0') {
    p++;
  } else if (cls[*p] & DIGIT) {
    while (cls[*p] & DIGIT) p++;
  } else {
    sc->p = p;
    return fail(sc, "invalid number");
  }
  if (*p == '.') {
    p++;
    if (!(cls[*p] & DIGIT)) {
      sc->p = p;
      return fail(sc, "invalid number");
    }
    while (cls[*p] & DIGIT) p++;
  }
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-') p++;
    if (!(cls[*p] & DIGIT)) {
      sc->p = p;
      return fail(sc, "invalid number");
    }
    while (cls[*p] & DIGIT) p++;
  }
  sc->p = p;
  return 1;
}

static int value(json_scanner *sc);

/* A container after its opening bracket; close is ']' or '}'. */
static int container(json_scanner *sc, unsigned char close) {
  if (++sc->depth > JSON_MAX_DEPTH) return fail(sc, "nested too deep");
  sc->p++;
  skip_ws(sc);
  if (*sc->p == close) {
    sc->p++;
    sc->depth--;
    return 1;
  }
  int recording = sc->on_member && sc->depth == 1;
  for (;;) {
    const unsigned char *key = NULL, *first;
    size_t key_len = 0;
    if (close == '}') {
      if (*sc->p != '"') return fail(sc, "expected a string key");
      key = sc->p;
      if (!string(sc)) return 0;
      key_len = (size_t)(sc->p - key);
      skip_ws(sc);
      if (*sc->p != ':') return fail(sc, "expected ':'");
      sc->p++;
      skip_ws(sc);
    }
    first = sc->p;
    if (!value(sc)) return 0;
    if (recording)
      sc->on_member(sc->ud, (const char *)key, key_len, (size_t)(first - sc->s),
                    (size_t)(sc->p - sc->s));
    skip_ws(sc);
    if (*sc->p == ',') {
      sc->p++;
      skip_ws(sc);
    } else if (*sc->p == close) {
      sc->p++;
      sc->depth--;
      return 1;
    } else if (AT_END(sc, sc->p)) {
      return fail(sc, "unexpected end of text");
    } else {
      return fail(sc, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
  }
}

static int value(json_scanner *sc) {
  switch (*sc->p) {
    case '{': return container(sc, '}');
    case '[': return container(sc, ']');
    case '"': return string(sc);
    case 't': return literal(sc, "true");
    case 'f': return literal(sc, "false");
    case 'n': return literal(sc, "null");
    case 'N': return literal(sc, "NaN");
    case 'I': return literal(sc, "Infinity");
    default:
      if (*sc->p == '-' || (cls[*sc->p] & DIGIT)) return number(sc);
      return fail(sc, AT_END(sc, sc->p) ? "unexpected end of text" : "unexpected character");
  }
}

int json_scan_object(json_scanner *sc, const char *text, size_t len) {
  if (!cls[' ']) init_classes();
  sc->s = sc->p = (const unsigned char *)text;
  sc->end = sc->s + len;
  sc->why = NULL;
  sc->depth = 0;
  skip_ws(sc);
  if (*sc->p != '{') return fail(sc, "not an object");
  if (!container(sc, '}')) return 0;
  skip_ws(sc);
  return sc->p == sc->end ? 1 : fail(sc, "text after the JSON value");
}

int json_scan_utf8(const char *text, size_t len) {
  json_scanner sc;
  sc.s = sc.p = (const unsigned char *)text;
  sc.end = sc.s + len;
  sc.why = NULL;
  while (sc.p < sc.end) {
    if (*sc.p < 0x80) sc.p++;
    else if (!utf8_sequence(&sc)) return 0;
  }
  return 1;
}
