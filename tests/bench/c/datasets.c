/* Plain-C baseline for tests/bench/datasets_bench.lua.
 *   datasets write|read contig|gzip PATH ROWS COLS
 * write: fills ROWS x COLS float64 with 0, 1, 2, ... (untimed), then times
 * create + write + close; read: times open + read + close.  gzip is chunked
 * (128, 64) with shuffle and deflate level 4, h5py's defaults for this shape.
 * Prints "wall_seconds cpu_seconds last_element". */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: datasets write|read contig|gzip PATH ROWS COLS\n");
    return 2;
  }
  int writing = strcmp(argv[1], "write") == 0, gzip = strcmp(argv[2], "gzip") == 0;
  const char *path = argv[3];
  hsize_t dims[2] = {strtoull(argv[4], NULL, 10), strtoull(argv[5], NULL, 10)};
  size_t n = (size_t)(dims[0] * dims[1]);
  double *buf = malloc(n * sizeof *buf);
  if (!buf) return 1;
  double t0, t1;
  clock_t c0, c1;
  if (writing) {
    for (size_t i = 0; i < n; i++) buf[i] = (double)i;
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
    t0 = now();
    c0 = clock();
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "data", H5P_DEFAULT);
    if (d < 0 || H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) return 1;
    H5Dclose(d);
    H5Fclose(f);
    c1 = clock();
    t1 = now();
  }
  printf("%.6f %.6f %.17g\n", t1 - t0, (double)(c1 - c0) / CLOCKS_PER_SEC, buf[n - 1]);
  free(buf);
  return 0;
}
