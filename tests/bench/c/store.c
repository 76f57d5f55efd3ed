/*
 * store.c -- plain-C baseline for tests/bench/store_bench.lua.
 *
 *   store write OUT.h5 REFCODES JSONL [libver [work [buffer_bytes]]]
 *   store read  IN.h5  REFCODES
 *
 * write: one structure per line of JSONL, its refcode on the same line of
 * REFCODES; each becomes /structures/<refcode>/raw_json, a scalar
 * variable-length UTF-8 string created as h5py creates it (no timestamps,
 * default fill and allocation), so with libver "earliest" the file is
 * byte-identical to h5py's.  libver: earliest (default) | v108 | v110 | latest.
 * work: what is done besides writing, to match a writer of h5lua's:
 *   bare     nothing (default)
 *   checked  each refcode and JSON text checked as the store checks them
 *            (refcode non-empty, UTF-8, no '/' or NUL, not "."; the text one
 *            JSON object in UTF-8, by h5lua's own scanner, json_scan.c)
 *   store    checked, and H5Fflush every 1,000 items or 5 s, as write_many's
 *            defaults (h5lua also commits its undo journal there)
 * buffer_bytes: the type-conversion buffer of the transfer property list
 * (H5Pset_buffer); 0 keeps HDF5's 1 MiB default, which HDF5 1.10 zero-fills
 * on every H5Dwrite (the slow path this baseline avoids by default).
 *
 * read: reads every raw_json back.
 *
 * Both print "<wall s> <CPU s> <items> <bytes>": the time of the file work
 * (input lines are read inside the loop, as every writer of the bench does).
 */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json_scan.h"

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_now(void) {
  return (double)clock() / CLOCKS_PER_SEC;
}

static void die(const char *what) {
  fprintf(stderr, "store: %s failed\n", what);
  exit(2);
}

/* Next line of fp without its newline, in *buf (grown as needed), its
 * length in *len (a NUL inside the line counts); NULL at EOF. */
static char *next_line(FILE *fp, char **buf, size_t *cap, size_t *len) {
  ssize_t n = getline(buf, cap, fp);
  if (n < 0) return NULL;
  if (n > 0 && (*buf)[n - 1] == '\n') (*buf)[--n] = '\0';
  *len = (size_t)n;
  return *buf;
}

static H5F_libver_t parse_libver(const char *s) {
  if (!s || strcmp(s, "earliest") == 0) return H5F_LIBVER_EARLIEST;
  if (strcmp(s, "v108") == 0) return H5F_LIBVER_V18;
  if (strcmp(s, "v110") == 0) return H5F_LIBVER_V110;
  if (strcmp(s, "latest") == 0) return H5F_LIBVER_LATEST;
  fprintf(stderr, "store: unknown libver '%s'\n", s);
  exit(2);
}

/* The store's refcode check (store.check_refcode); n is the line's length,
 * so a NUL inside it is caught. */
static int refcode_ok(const char *ref, size_t n) {
  return n > 0 && strlen(ref) == n && !strchr(ref, '/') && strcmp(ref, ".") != 0 &&
         json_scan_utf8(ref, n);
}

enum work { BARE, CHECKED, STORE };

static enum work parse_work(const char *s) {
  if (!s || strcmp(s, "bare") == 0) return BARE;
  if (strcmp(s, "checked") == 0) return CHECKED;
  if (strcmp(s, "store") == 0) return STORE;
  fprintf(stderr, "store: unknown work '%s'\n", s);
  exit(2);
}

#define FLUSH_EVERY 1000   /* write_many's defaults */
#define FLUSH_SECONDS 5.0

static int do_write(int argc, char **argv) {
  if (argc < 5) return 2;
  H5F_libver_t low = parse_libver(argc > 5 ? argv[5] : NULL);
  enum work work = parse_work(argc > 6 ? argv[6] : NULL);
  size_t bufsize = argc > 7 ? (size_t)strtoul(argv[7], NULL, 10) : 64 * 1024;
  FILE *refs = fopen(argv[3], "r"), *jsonl = fopen(argv[4], "r");
  if (!refs || !jsonl) die("opening the input files");
  double w0 = wall_now(), c0 = cpu_now();

  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_libver_bounds(fapl, low, H5F_LIBVER_LATEST);
  hid_t file = H5Fcreate(argv[2], H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  if (file < 0) die("H5Fcreate");
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);  /* as h5py: intermediate groups */
  H5Pset_create_intermediate_group(lcpl, 1);
  hid_t structures = H5Gcreate2(file, "structures", lcpl, H5P_DEFAULT, H5P_DEFAULT);
  if (structures < 0) die("H5Gcreate2 structures");

  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_obj_track_times(dcpl, 0);          /* h5py: track_times=False */
  hid_t strtype = H5Tcopy(H5T_C_S1);
  H5Tset_size(strtype, H5T_VARIABLE);
  H5Tset_cset(strtype, H5T_CSET_UTF8);
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
  if (bufsize > 0) H5Pset_buffer(dxpl, bufsize, NULL, NULL);

  char *ref = NULL, *json = NULL;
  size_t refcap = 0, jsoncap = 0, reflen, jsonlen;
  long n = 0, pending = 0;
  unsigned long long bytes = 0;
  double last_flush = wall_now();
  while (next_line(refs, &ref, &refcap, &reflen) && next_line(jsonl, &json, &jsoncap, &jsonlen)) {
    if (work != BARE) {
      json_scanner sc;
      sc.on_member = NULL;
      if (!refcode_ok(ref, reflen) || !json_scan_object(&sc, json, jsonlen)) {
        fprintf(stderr, "store: structure %ld: bad refcode or JSON\n", n + 1);
        exit(1);
      }
    }
    hid_t g = H5Gcreate2(structures, ref, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) die("H5Gcreate2");
    hid_t d = H5Dcreate2(g, "raw_json", strtype, space, lcpl, dcpl, H5P_DEFAULT);
    if (d < 0) die("H5Dcreate2");
    const char *p = json;
    if (H5Dwrite(d, strtype, H5S_ALL, H5S_ALL, dxpl, &p) < 0) die("H5Dwrite");
    bytes += jsonlen;
    H5Dclose(d);
    H5Gclose(g);
    n++;
    if (work == STORE && (++pending >= FLUSH_EVERY || wall_now() - last_flush >= FLUSH_SECONDS)) {
      if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) die("H5Fflush");
      pending = 0;
      last_flush = wall_now();
    }
  }
  free(ref);
  free(json);
  fclose(refs);
  fclose(jsonl);
  H5Pclose(dxpl);
  H5Sclose(space);
  H5Tclose(strtype);
  H5Pclose(dcpl);
  H5Pclose(lcpl);
  H5Gclose(structures);
  H5Pclose(fapl);
  if (H5Fclose(file) < 0) die("H5Fclose");
  printf("%.6f %.6f %ld %llu\n", wall_now() - w0, cpu_now() - c0, n, bytes);
  return 0;
}

static int do_read(int argc, char **argv) {
  if (argc < 4) return 2;
  FILE *refs = fopen(argv[3], "r");
  if (!refs) die("opening the refcodes file");
  double w0 = wall_now(), c0 = cpu_now();
  hid_t file = H5Fopen(argv[2], H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) die("H5Fopen");
  hid_t strtype = H5Tcopy(H5T_C_S1);
  H5Tset_size(strtype, H5T_VARIABLE);
  H5Tset_cset(strtype, H5T_CSET_UTF8);
  hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_buffer(dxpl, 64 * 1024, NULL, NULL);
  char *ref = NULL, path[512];
  size_t cap = 0, reflen;
  long n = 0;
  unsigned long long bytes = 0;
  while (next_line(refs, &ref, &cap, &reflen)) {
    snprintf(path, sizeof path, "structures/%s/raw_json", ref);
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    if (d < 0) die("H5Dopen2");
    char *s = NULL;
    if (H5Dread(d, strtype, H5S_ALL, H5S_ALL, dxpl, &s) < 0) die("H5Dread");
    bytes += strlen(s);
    H5free_memory(s);
    H5Dclose(d);
    n++;
  }
  free(ref);
  fclose(refs);
  H5Pclose(dxpl);
  H5Tclose(strtype);
  H5Fclose(file);
  printf("%.6f %.6f %ld %llu\n", wall_now() - w0, cpu_now() - c0, n, bytes);
  return 0;
}

int main(int argc, char **argv) {
  int rc = 2;
  if (argc >= 2 && strcmp(argv[1], "write") == 0) rc = do_write(argc, argv);
  else if (argc >= 2 && strcmp(argv[1], "read") == 0) rc = do_read(argc, argv);
  if (rc == 2)
    fprintf(stderr, "usage: store write OUT.h5 REFCODES JSONL [libver [work [buffer_bytes]]]\n"
                    "       store read IN.h5 REFCODES\n");
  return rc;
}
