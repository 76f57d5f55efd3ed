/* Plain-C baseline for start-up: load libhdf5 and initialise it. */
#include <hdf5.h>

int main(void) {
  return H5open() < 0;
}
