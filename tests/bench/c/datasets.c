/* Plain-C baseline for tests/bench/datasets_bench.lua.
 *   datasets write|read contig|gzip PATH ROWS COLS REPS
 * write: fills ROWS x COLS float64 with 0, 1, 2, ... (untimed), then times
 * create + write + close; read: times open + read + close; each REPS times,
 * printing the best (least wall clock) repetition.  gzip is chunked
 * (128, 64) with shuffle and deflate level 4, h5py's defaults for this shape.
 * The buffer is allocated as h5lua and numpy allocate theirs: malloc'd with
 * transparent huge pages advised (bindings/array.c advise_huge), and for read
 * inside the timed region, as h5lua's d:read() and h5py's f["data"][()]
 * allocate their result; so all three fault the same pages in the same way.
 * The process also keeps 32 MiB of freed heap as h5lua does (bindings/
 * filters.c): without it glibc hands every freed chunk buffer back to the
 * kernel and faults it in again, ~1.5 s of system time per gzip write.
 * Prints "wall_seconds cpu_seconds last_element" of the best repetition. */
#include <hdf5.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* malloc, then the same madvise as bindings/array.c's advise_huge */
static double *alloc_like_h5lua(size_t n) {
  double *p = malloc(n * sizeof *p);
  if (!p) return NULL;
#ifdef MADV_HUGEPAGE
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t start = ((uintptr_t)p + page - 1) & ~(page - 1);
  uintptr_t end = ((uintptr_t)p + n * sizeof *p) & ~(page - 1);
  if (n * sizeof *p >= (4u << 20) && end > start) madvise((void *)start, end - start, MADV_HUGEPAGE);
#endif
  return p;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: datasets write|read contig|gzip PATH ROWS COLS REPS\n");
    return 2;
  }
#if defined(__GLIBC__) && defined(M_TRIM_THRESHOLD)
  mallopt(M_TRIM_THRESHOLD, 32 << 20);
#endif
  /* libhdf5's set-up and its symbols' lazy binding happen before the clock,
   * as in h5lua (H5open at load) and h5py (at import): ~1 ms otherwise */
  if (H5open() < 0) return 1;
  int writing = strcmp(argv[1], "write") == 0, gzip = strcmp(argv[2], "gzip") == 0;
  const char *path = argv[3];
  hsize_t dims[2] = {strtoull(argv[4], NULL, 10), strtoull(argv[5], NULL, 10)};
  int reps = atoi(argv[6]);
  size_t n = (size_t)(dims[0] * dims[1]);
  double *buf = NULL;
  double best_wall = 1e300, best_cpu = 0;
  if (writing) {
    if (!(buf = alloc_like_h5lua(n))) return 1;
    for (size_t i = 0; i < n; i++) buf[i] = (double)i;
  }
  for (int rep = 0; rep < reps; rep++) {
    double t0, t1;
    clock_t c0, c1;
    if (writing) {
      unlink(path); /* untimed, as in the h5lua and h5py children */
      t0 = now();
      c0 = clock();
      hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
      hid_t space = H5Screate_simple(2, dims, NULL);
      hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
      if (gzip) {
        hsize_t chunks[2] = {128, 64};
        H5Pset_chunk(dcpl, 2, chunks);
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC);
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, 4);
      }
      H5Pset_obj_track_times(dcpl, 0);
      hid_t d = H5Dcreate2(f, "data", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
      if (d < 0 || H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) return 1;
      H5Dclose(d);
      H5Pclose(dcpl);
      H5Sclose(space);
      H5Fclose(f);
      c1 = clock();
      t1 = now();
    } else {
      free(buf); /* the previous repetition's result: untimed */
      t0 = now();
      c0 = clock();
      if (!(buf = alloc_like_h5lua(n))) return 1;
      hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
      hid_t d = H5Dopen2(f, "data", H5P_DEFAULT);
      if (d < 0 || H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) return 1;
      H5Dclose(d);
      H5Fclose(f);
      c1 = clock();
      t1 = now();
    }
    if (t1 - t0 < best_wall) {
      best_wall = t1 - t0;
      best_cpu = (double)(c1 - c0) / CLOCKS_PER_SEC;
    }
  }
  printf("%.6f %.6f %.17g\n", best_wall, best_cpu, buf[n - 1]);
  free(buf);
  return 0;
}
