/*
 * organize.c -- the plain-C side of tests/bench/organize_bench.lua.
 *
 *   organize gen FILE N [LIBVER]  write N random structures as h5py lays them
 *                              out (/structures/<refcode>/raw_json, scalar
 *                              variable-length UTF-8 strings) + /metadata;
 *                              LIBVER "v108" gives new-style groups, as the
 *                              store writes by default ("earliest": h5py's)
 *   organize organize FILE [scan]  the seed's organize_by_space_group, on
 *                              the HDF5 C API: /by_space_group/<bucket>/refcodes
 *   organize validate FILE [scan]  the seed's validate_hdf5_file scanning
 *                              every structure
 *
 * By default JSON is parsed into a tree (objects, arrays, unescaped strings,
 * numbers through strtod), as json.loads in the seed does, then the field is
 * looked up. With "scan", the work h5lua does: the text is only checked to
 * be one JSON object by h5lua's own scanner (bindings/json_scan.c), which
 * also hands over the space_group member's value (h5lua's
 * store.decode_fields); a value with escapes is unescaped as in tree mode.
 */
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_scan.h"

static int scan_mode; /* "scan" given: check the JSON, build no tree */

/* {====================================================================
 * JSON: parsed into a tree, as json.loads and cjson.decode do
 * ===================================================================== */

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct node {
  int type;
  double num;           /* J_NUM, J_BOOL */
  char *str;            /* J_STR (unescaped, NUL-terminated) */
  size_t n, cap;        /* J_ARR, J_OBJ */
  struct node **items;
  char **keys;          /* J_OBJ */
} node;

typedef struct {
  const char *p, *end;
  int depth;
} json_t;

static void node_free(node *v) {
  if (!v) return;
  free(v->str);
  for (size_t i = 0; i < v->n; i++) {
    node_free(v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v);
}

static void ws(json_t *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r'))
    j->p++;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* A JSON string, unescaped into a new buffer (UTF-8; \u escapes encoded). */
static char *string(json_t *j) {
  if (j->p >= j->end || *j->p != '"') return NULL;
  const char *s = ++j->p;
  const char *q = s;
  while (q < j->end && *q != '"') q += (*q == '\\') ? 2 : 1;
  if (q >= j->end) return NULL;
  char *out = malloc((size_t)(q - s) + 1), *o = out;
  while (j->p < j->end && *j->p != '"') {
    unsigned char c = (unsigned char)*j->p;
    if (c < 0x20) goto bad;
    if (c != '\\') {
      *o++ = (char)c;
      j->p++;
      continue;
    }
    j->p++;
    if (j->p >= j->end) goto bad;
    switch (*j->p) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '/': *o++ = '/'; break;
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'n': *o++ = '\n'; break;
      case 'r': *o++ = '\r'; break;
      case 't': *o++ = '\t'; break;
      case 'u': {
        unsigned cp = 0;
        for (int i = 0; i < 4; i++) {
          j->p++;
          int h = j->p < j->end ? hexval(*j->p) : -1;
          if (h < 0) goto bad;
          cp = cp * 16 + (unsigned)h;
        }
        if (cp < 0x80) *o++ = (char)cp;
        else if (cp < 0x800) { *o++ = (char)(0xC0 | cp >> 6); *o++ = (char)(0x80 | (cp & 63)); }
        else {
          *o++ = (char)(0xE0 | cp >> 12);
          *o++ = (char)(0x80 | ((cp >> 6) & 63));
          *o++ = (char)(0x80 | (cp & 63));
        }
        break;
      }
      default: goto bad;
    }
    j->p++;
  }
  *o = '\0';
  j->p++;
  return out;
bad:
  free(out);
  return NULL;
}

static node *new_node(int type) {
  node *v = calloc(1, sizeof *v);
  v->type = type;
  return v;
}

static node *value(json_t *j);

static int push(node *v, node *item, char *key) {
  if (v->n == v->cap) {
    v->cap = v->cap ? v->cap * 2 : 4;
    v->items = realloc(v->items, v->cap * sizeof *v->items);
    if (v->type == J_OBJ) v->keys = realloc(v->keys, v->cap * sizeof *v->keys);
  }
  v->items[v->n] = item;
  if (v->type == J_OBJ) v->keys[v->n] = key;
  v->n++;
  return 1;
}

static node *container(json_t *j, int type) {
  char close = type == J_OBJ ? '}' : ']';
  node *v = new_node(type);
  j->p++;
  ws(j);
  if (j->p < j->end && *j->p == close) {
    j->p++;
    return v;
  }
  for (;;) {
    char *key = NULL;
    ws(j);
    if (type == J_OBJ) {
      if (!(key = string(j))) goto bad;
      ws(j);
      if (j->p >= j->end || *j->p != ':') { free(key); goto bad; }
      j->p++;
      ws(j);
    }
    node *item = value(j);
    if (!item) { free(key); goto bad; }
    push(v, item, key);
    ws(j);
    if (j->p < j->end && *j->p == ',') { j->p++; continue; }
    if (j->p < j->end && *j->p == close) { j->p++; return v; }
    goto bad;
  }
bad:
  node_free(v);
  return NULL;
}

static node *number(json_t *j) {
  const char *s = j->p;
  if (j->p < j->end && *j->p == '-') j->p++;
  if (j->p >= j->end) return NULL;
  if (*j->p == '0') j->p++;
  else if (*j->p >= '1' && *j->p <= '9') while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  else return NULL;
  if (j->p < j->end && *j->p == '.') {
    j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') return NULL;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  }
  if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
    j->p++;
    if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') return NULL;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  }
  node *v = new_node(J_NUM);
  v->num = strtod(s, NULL);
  return v;
}

static node *literal(json_t *j, const char *word, int type, double num) {
  size_t n = strlen(word);
  if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0) return NULL;
  j->p += n;
  node *v = new_node(type);
  v->num = num;
  return v;
}

static node *value(json_t *j) {
  if (j->p >= j->end || ++j->depth > 1000) return NULL;
  node *v;
  switch (*j->p) {
    case '{': v = container(j, J_OBJ); break;
    case '[': v = container(j, J_ARR); break;
    case '"': {
      char *s = string(j);
      v = s ? new_node(J_STR) : NULL;
      if (v) v->str = s;
      break;
    }
    case 't': v = literal(j, "true", J_BOOL, 1); break;
    case 'f': v = literal(j, "false", J_BOOL, 0); break;
    case 'n': v = literal(j, "null", J_NULL, 0); break;
    default: v = number(j); break;
  }
  j->depth--;
  return v;
}

/* The object a text holds, or NULL when it is not exactly one JSON object. */
static node *parse(const char *text) {
  json_t j = {text, text + strlen(text), 0};
  ws(&j);
  if (j.p >= j.end || *j.p != '{') return NULL;
  node *v = value(&j);
  ws(&j);
  if (v && j.p != j.end) {
    node_free(v);
    return NULL;
  }
  return v;
}

/* obj[key] or NULL. */
static node *field(node *obj, const char *key) {
  for (size_t i = 0; i < obj->n; i++)
    if (strcmp(obj->keys[i], key) == 0) return obj->items[i];
  return NULL;
}

/* The space_group member's value range, reported by the scanner. */
typedef struct {
  size_t first, stop;
  int found;
} member_t;

static void on_member(void *ud, const char *key, size_t key_len, size_t first, size_t stop) {
  member_t *m = ud;
  if (key_len == 13 && memcmp(key, "\"space_group\"", 13) == 0) {
    m->first = first;
    m->stop = stop;
    m->found = 1;
  }
}

/* Scan mode: the space group of a text into out (as tree mode's lookup
 * gives it); 0 when the text is not one JSON object or has no string
 * space_group. */
static int scan_space_group(const char *text, char *out, size_t cap) {
  json_scanner sc;
  member_t m = {0, 0, 0};
  sc.on_member = on_member;
  sc.ud = &m;
  if (!json_scan_object(&sc, text, strlen(text)) || !m.found || text[m.first] != '"') return 0;
  const char *v = text + m.first + 1;
  size_t n = m.stop - m.first - 2;
  if (!memchr(v, '\\', n)) {
    snprintf(out, cap, "%.*s", (int)n, v);
    return 1;
  }
  json_t j = {text + m.first, text + m.stop, 0};
  char *s = string(&j);
  if (!s) return 0;
  snprintf(out, cap, "%s", s);
  free(s);
  return 1;
}

/* Scan mode's validity check: is text one JSON object? */
static int scan_ok(const char *text) {
  json_scanner sc;
  sc.on_member = NULL;
  sc.ud = NULL;
  return json_scan_object(&sc, text, strlen(text));
}

/* {====================================================================
 * Names
 * ===================================================================== */

typedef struct {
  char **v;
  size_t n, cap;
} names_t;

static void names_add(names_t *l, const char *s) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 64;
    l->v = realloc(l->v, l->cap * sizeof *l->v);
  }
  l->v[l->n++] = strdup(s);
}

static herr_t collect(hid_t g, const char *name, const H5L_info_t *info, void *data) {
  (void)g;
  (void)info;
  names_add(data, name);
  return 0;
}

static hid_t vlen_str(void) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

/* Read /structures/<ref>/raw_json into a malloc'd string (NULL when absent). */
static char *read_json(hid_t structures, const char *ref, hid_t str_t) {
  char path[512];
  snprintf(path, sizeof path, "%s/raw_json", ref);
  if (H5Lexists(structures, path, H5P_DEFAULT) <= 0) return NULL;
  hid_t d = H5Dopen2(structures, path, H5P_DEFAULT);
  if (d < 0) return NULL;
  char *s = NULL;
  if (H5Dread(d, str_t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s) < 0) s = NULL;
  H5Dclose(d);
  return s;
}

/* {====================================================================
 * gen
 * ===================================================================== */

static uint64_t rng = 88172645463325252ull;
static double rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

static int gen(const char *path, long n, const char *libver) {
  static const char *sgs[] = {"P 21/c", "P -1", "P 21 21 21", "C 2/c", "P 1 21/n 1", "P b c a",
                              "P 1", "F m -3 m", "R -3 m:H", "P 63/m m c", "I 41/a", "P 21/n"};
  static const char *els[] = {"C", "H", "N", "O", "S", "Cl", "Fe", "Cu", "P", "Na"};
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (libver && strcmp(libver, "v108") == 0)  /* the store's default: new-style groups */
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (f < 0) return 1;
  hid_t g = H5Gcreate2(f, "structures", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hid_t t = vlen_str(), sp = H5Screate(H5S_SCALAR);
  size_t cap = 1 << 16;
  char *buf = malloc(cap);
  for (long i = 0; i < n; i++) {
    char ref[32];
    snprintf(ref, sizeof ref, "REF%07ld", i);
    int natoms = 5 + (int)(rnd() * 36);
    size_t len = (size_t)snprintf(buf, cap,
      "{\"identifier\": \"%s\", \"cell_lengths\": [%.6f, %.6f, %.6f], \"cell_angles\": "
      "[90.0, %.6f, 90.0], \"space_group\": \"%s\", \"atoms\": [", ref, 3 + 27 * rnd(),
      3 + 27 * rnd(), 3 + 27 * rnd(), 90 + 30 * rnd(), sgs[(int)(rnd() * 12)]);
    for (int k = 0; k < natoms; k++) {
      const char *e = els[(int)(rnd() * 10)];
      len += (size_t)snprintf(buf + len, cap - len,
        "%s{\"label\": \"%s%d\", \"symbol\": \"%s\", \"coords\": [%.15g, %.15g, %.15g]}",
        k ? ", " : "", e, k, e, rnd(), rnd(), rnd());
    }
    snprintf(buf + len, cap - len, "]}");
    hid_t sg = H5Gcreate2(g, ref, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t d = H5Dcreate2(sg, "raw_json", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const char *p = buf;
    H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &p);
    H5Dclose(d);
    H5Gclose(sg);
  }
  hid_t m = H5Gcreate2(f, "metadata", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hid_t a = H5Acreate2(m, "creation_date", t, sp, H5P_DEFAULT, H5P_DEFAULT);
  const char *date = "2024-01-01T00:00:00";
  H5Awrite(a, t, &date);
  H5Aclose(a);
  H5Gclose(m);
  free(buf);
  H5Sclose(sp);
  H5Tclose(t);
  H5Gclose(g);
  return H5Fclose(f) < 0;
}

/* {====================================================================
 * organize
 * ===================================================================== */

typedef struct {
  char *name;
  names_t refs;
} bucket_t;

static int cmp_bucket(const void *a, const void *b) {
  return strcmp(((const bucket_t *)a)->name, ((const bucket_t *)b)->name);
}

/* '%', '/' percent-encoded, a leading '.' as %2E (as h5lua.organize). */
static void escape(const char *in, char *out, size_t cap) {
  size_t n = 0;
  if (!*in) { snprintf(out, cap, "%%"); return; }
  for (const char *p = in; *p && n + 4 < cap; p++) {
    if (*p == '%' || *p == '/' || (p == in && *p == '.')) n += (size_t)snprintf(out + n, cap - n, "%%%02X", (unsigned char)*p);
    else out[n++] = *p;
  }
  out[n] = '\0';
}

static int organize(const char *path) {
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  if (f < 0) return 1;
  hid_t s = H5Gopen2(f, "structures", H5P_DEFAULT);
  names_t refs = {0};
  hsize_t idx = 0;
  H5Literate(s, H5_INDEX_NAME, H5_ITER_INC, &idx, collect, &refs);
  hid_t str_t = vlen_str();
  bucket_t *b = NULL;
  size_t nb = 0, skipped = 0;
  for (size_t i = 0; i < refs.n; i++) {
    char *text = read_json(s, refs.v[i], str_t);
    char sg[256];
    if (scan_mode) {
      int ok = text && scan_space_group(text, sg, sizeof sg);
      free(text);
      if (!ok) {
        skipped++;
        continue;
      }
    } else {
      node *doc = text ? parse(text) : NULL;
      free(text);
      node *sgv = doc ? field(doc, "space_group") : NULL;
      if (!sgv || sgv->type != J_STR) {
        skipped++;
        node_free(doc);
        continue;
      }
      snprintf(sg, sizeof sg, "%s", sgv->str);
      node_free(doc);
    }
    size_t k = 0;
    while (k < nb && strcmp(b[k].name, sg) != 0) k++;
    if (k == nb) {
      b = realloc(b, (nb + 1) * sizeof *b);
      b[nb].name = strdup(sg);
      memset(&b[nb].refs, 0, sizeof b[nb].refs);
      nb++;
    }
    names_add(&b[k].refs, refs.v[i]);
  }
  qsort(b, nb, sizeof *b, cmp_bucket);
  if (H5Lexists(f, "by_space_group", H5P_DEFAULT) > 0) H5Ldelete(f, "by_space_group", H5P_DEFAULT);
  hid_t idxg = H5Gcreate2(f, "by_space_group", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hid_t scalar = H5Screate(H5S_SCALAR);
  for (size_t k = 0; k < nb; k++) {
    char name[600];
    escape(b[k].name, name, sizeof name);
    hid_t g = H5Gcreate2(idxg, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int64_t count = (int64_t)b[k].refs.n;
    hid_t a = H5Acreate2(g, "structure_count", H5T_STD_I64LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT64, &count);
    H5Aclose(a);
    a = H5Acreate2(g, "bucket_name", str_t, scalar, H5P_DEFAULT, H5P_DEFAULT);
    const char *bn = b[k].name;
    H5Awrite(a, str_t, &bn);
    H5Aclose(a);
    hsize_t dims[1] = {b[k].refs.n};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t d = H5Dcreate2(g, "refcodes", str_t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, str_t, H5S_ALL, H5S_ALL, H5P_DEFAULT, b[k].refs.v);
    H5Dclose(d);
    H5Sclose(sp);
    H5Gclose(g);
    for (size_t i = 0; i < b[k].refs.n; i++) free(b[k].refs.v[i]);
    free(b[k].refs.v);
    free(b[k].name);
  }
  printf("organized %zu structures into %zu buckets (%zu skipped)\n", refs.n - skipped, nb,
         skipped);
  for (size_t i = 0; i < refs.n; i++) free(refs.v[i]);
  free(refs.v);
  free(b);
  H5Sclose(scalar);
  H5Gclose(idxg);
  H5Tclose(str_t);
  H5Gclose(s);
  return H5Fclose(f) < 0;
}

/* {====================================================================
 * validate
 * ===================================================================== */

static int validate(const char *path) {
  size_t errors = 0, warnings = 0;
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    printf("invalid: cannot open\n");
    return 1;
  }
  size_t count = 0;
  if (H5Lexists(f, "structures", H5P_DEFAULT) <= 0) {
    errors++;
  } else {
    hid_t s = H5Gopen2(f, "structures", H5P_DEFAULT);
    names_t refs = {0};
    hsize_t idx = 0;
    H5Literate(s, H5_INDEX_NAME, H5_ITER_INC, &idx, collect, &refs);
    count = refs.n;
    hid_t str_t = vlen_str();
    for (size_t i = 0; i < refs.n; i++) {
      char *text = read_json(s, refs.v[i], str_t);
      if (!text) {
        warnings++;
      } else if (scan_mode) {
        if (!scan_ok(text)) errors++;
      } else {
        node *doc = parse(text);
        if (!doc) errors++;
        node_free(doc);
      }
      free(text);
      free(refs.v[i]);
    }
    free(refs.v);
    H5Tclose(str_t);
    H5Gclose(s);
  }
  if (H5Lexists(f, "metadata", H5P_DEFAULT) > 0 &&
      H5Aexists_by_name(f, "metadata", "creation_date", H5P_DEFAULT) <= 0)
    warnings++;
  H5Fclose(f);
  printf("%s: %zu structures, %zu errors, %zu warnings\n", errors ? "invalid" : "valid", count,
         errors, warnings);
  return errors ? 1 : 0;
}

int main(int argc, char **argv) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  if ((argc == 4 || argc == 5) && strcmp(argv[1], "gen") == 0)
    return gen(argv[2], atol(argv[3]), argc == 5 ? argv[4] : NULL);
  if (argc == 4 && strcmp(argv[3], "scan") == 0) {
    scan_mode = 1;
    argc = 3;
  }
  if (argc == 3 && strcmp(argv[1], "organize") == 0) return organize(argv[2]);
  if (argc == 3 && strcmp(argv[1], "validate") == 0) return validate(argv[2]);
  fprintf(stderr, "usage: organize gen FILE N [earliest|v108] | organize FILE [scan] | "
          "validate FILE [scan]\n");
  return 2;
}
