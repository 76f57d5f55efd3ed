/*
 * journal.c -- a file driver that makes flushes atomic against a killed writer.
 *
 * HDF5 1.10 has no journal: H5Fflush writes dirty metadata in address order
 * (old objects, such as a big group's index, before the new ones they now
 * point to) and the superblock last, and the metadata cache writes dirty
 * entries back whenever it runs short of room between flushes.  A writer
 * killed at the wrong moment leaves a file that no longer opens ("addr
 * overflow") or whose big group no longer lists (measured: 2 in 15 kills of a
 * store import with 20 KB structures, more when a kill lands in a flush).
 *
 * This driver is sec2 (pread/pwrite on one descriptor) plus an undo journal,
 * "<file>.journal" beside the file, kept only while the file is open for
 * writing.  The file as it was at the last commit -- open, then each
 * successful f:flush(), then close -- is the committed state.  Before any
 * write lands below the committed length, the bytes it replaces are appended
 * to the journal; writes beyond it (new objects) cost nothing.  A commit empties
 * the journal.  After a crash, h5.open finds the journal, writes the old bytes
 * back (newest first) and cuts the file to its committed length: the file is
 * exactly what the last flush left.  A file killed before its first commit
 * never existed.
 *
 * kill -9 cannot split a write() that has returned, so appending a record
 * before the write it protects is enough; records are checksummed so a
 * record cut short by the kill is ignored (its write never started).  This is
 * not a defence against power loss (no fsync).
 *
 * The file itself stays a plain HDF5 file (no driver info in the superblock):
 * h5py and the default driver read it.  The driver takes an exclusive lock on
 * the file before it touches the journal, so a second writer can never
 * truncate the journal of a live one.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5_internal.h"

#define JOURNAL_SUFFIX ".journal"
#define JOURNAL_MAGIC "H5LUAJN1"
#define HEADER_SIZE 32   /* magic, committed length, pid, checksum */
#define RECORD_HEAD 24   /* address, size, checksum of the three + data */

typedef struct journal_file {
  H5FD_t pub;         /* must come first: HDF5 sees an H5FD_t */
  int fd;             /* the HDF5 file */
  int jfd;            /* its journal, -1 when read-only */
  char *jpath;
  haddr_t eoa, eof;
  haddr_t committed;  /* file length at the last commit; below it, undo first */
  haddr_t shrink_to;  /* truncation put off until the commit (HADDR_UNDEF: none) */
  off_t jlen;         /* bytes in the journal */
  int closing_flushed;  /* the last flush was the one of H5Fclose */
  int failed;         /* a write failed since the last commit: close must not commit */
  dev_t dev;
  ino_t ino;
} journal_file;

static hid_t journal_id = H5I_INVALID_HID;

/* ---- small helpers --------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) {
    h ^= b[i];
    h *= 1099511628211ULL;
  }
  return h;
}
#define FNV_START 14695981039346656037ULL

static void put64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

/* Push an HDF5 error record: errors.c reads the innermost one (and its
 * "errno = N" for a locked file). */
#define PUSH(maj, min, ...) \
  H5Epush2(H5E_DEFAULT, __FILE__, __func__, __LINE__, H5E_ERR_CLS, maj, min, __VA_ARGS__)

static int full_pread(int fd, void *buf, size_t n, off_t off) {
  unsigned char *p = buf;
  while (n > 0) {
    ssize_t r = pread(fd, p, n, off);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) {  /* past the end of the file: zeros, as sec2 */
      memset(p, 0, n);
      return 0;
    }
    p += r;
    n -= (size_t)r;
    off += r;
  }
  return 0;
}

static int full_pwrite(int fd, const void *buf, size_t n, off_t off) {
  const unsigned char *p = buf;
  while (n > 0) {
    ssize_t r = pwrite(fd, p, n, off);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    p += r;
    n -= (size_t)r;
    off += r;
  }
  return 0;
}

static char *journal_path(const char *path) {
  size_t n = strlen(path);
  char *p = malloc(n + sizeof JOURNAL_SUFFIX);
  if (p) {
    memcpy(p, path, n);
    memcpy(p + n, JOURNAL_SUFFIX, sizeof JOURNAL_SUFFIX);
  }
  return p;
}

static void encode_header(unsigned char *h, uint64_t committed) {
  memcpy(h, JOURNAL_MAGIC, 8);
  put64(h + 8, committed);
  put64(h + 16, (uint64_t)getpid());
  put64(h + 24, fnv(FNV_START, h, 24));
}

/* ---- commit and recovery ------------------------------------------------- */

/* The file on disk is complete (H5Fflush returned): make it the committed
 * state.  Emptying the journal is the commit point; a kill after it leaves a
 * journal without a valid header, which recovery ignores. */
static int journal_commit_file(journal_file *f) {
  if (f->jfd < 0) return 0;
  if (ftruncate(f->jfd, 0) < 0) return -1;
  f->jlen = 0;
  if (f->shrink_to != HADDR_UNDEF) {
    if (f->shrink_to < f->eof && ftruncate(f->fd, (off_t)f->shrink_to) == 0)
      f->eof = f->shrink_to;
    f->shrink_to = HADDR_UNDEF;
  }
  f->committed = f->eof;
  f->failed = 0;
  unsigned char h[HEADER_SIZE];
  encode_header(h, (uint64_t)f->committed);
  if (full_pwrite(f->jfd, h, sizeof h, 0) < 0) return -1;
  f->jlen = HEADER_SIZE;
  return 0;
}

/* Undo what a killed writer left since its last commit.  Returns 1 when the
 * file was restored, 2 when it was removed (killed before its first commit,
 * so it never held anything), 0 when there was nothing to do or the file is
 * in use, -1 on an I/O error (errno set). */
int h5_journal_recover(const char *path) {
  char *jpath = journal_path(path);
  if (!jpath) return 0;
  struct stat st;
  int result = 0;
  if (stat(jpath, &st) != 0) goto out;
  int fd = open(path, O_RDWR);
  if (fd < 0) {
    /* no main file: the journal is an orphan */
    if (errno == ENOENT) unlink(jpath);
    goto out;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) < 0 && errno != ENOSYS) {
    close(fd);  /* a live writer holds it: its journal is not ours to touch */
    goto out;
  }
  int jfd = open(jpath, O_RDONLY);
  if (jfd < 0) {
    close(fd);
    goto out;
  }
  unsigned char h[HEADER_SIZE];
  ssize_t got = pread(jfd, h, sizeof h, 0);
  int valid = got == HEADER_SIZE && memcmp(h, JOURNAL_MAGIC, 8) == 0 &&
              get64(h + 24) == fnv(FNV_START, h, 24);
  if (valid) {
    pid_t pid = (pid_t)get64(h + 16);
    /* a writer that runs without file locks and is still alive */
    if (pid == getpid() || (pid > 0 && kill(pid, 0) == 0)) {
      close(jfd);
      close(fd);
      goto out;
    }
  }
  result = valid ? 1 : 0;
  if (valid) {
    uint64_t committed = get64(h + 8);
    /* Index the complete records, then apply them newest first. */
    size_t n = 0, cap = 0;
    off_t *offs = NULL, pos = HEADER_SIZE;
    unsigned char rh[RECORD_HEAD];
    while (pread(jfd, rh, sizeof rh, pos) == RECORD_HEAD) {
      uint64_t size = get64(rh + 8);
      if (size > (uint64_t)st.st_size) break;
      unsigned char *data = malloc(size ? size : 1);
      if (!data) break;
      int ok = full_pread(jfd, data, size, pos + RECORD_HEAD) == 0 &&
               pos + RECORD_HEAD + (off_t)size <= st.st_size &&
               fnv(fnv(FNV_START, rh, 16), data, size) == get64(rh + 16);
      free(data);
      if (!ok) break;
      if (n == cap) {
        cap = cap ? 2 * cap : 64;
        off_t *grown = realloc(offs, cap * sizeof *offs);
        if (!grown) break;
        offs = grown;
      }
      offs[n++] = pos;
      pos += RECORD_HEAD + (off_t)size;
    }
    while (n > 0 && result == 1) {
      pos = offs[--n];
      if (pread(jfd, rh, sizeof rh, pos) != RECORD_HEAD) {
        result = -1;
        break;
      }
      uint64_t addr = get64(rh), size = get64(rh + 8);
      unsigned char *data = malloc(size ? size : 1);
      if (!data || full_pread(jfd, data, size, pos + RECORD_HEAD) < 0 ||
          full_pwrite(fd, data, size, (off_t)addr) < 0)
        result = -1;
      free(data);
    }
    free(offs);
    if (result == 1) {
      if (committed == 0) {
        unlink(path);  /* killed before its first commit: it never existed */
        result = 2;
      } else if (ftruncate(fd, (off_t)committed) < 0) {
        result = -1;
      }
    }
  }
  close(jfd);
  if (result >= 0) {
    fsync(fd);
    unlink(jpath);
  }
  close(fd);
out:
  free(jpath);
  return result;
}

/* ---- the driver ---------------------------------------------------------- */

static H5FD_t *jnl_open(const char *name, unsigned flags, hid_t fapl, haddr_t maxaddr) {
  (void)fapl;
  if (!name || !*name || maxaddr == 0 || maxaddr == HADDR_UNDEF) {
    PUSH(H5E_ARGS, H5E_BADVALUE, "invalid file name or address limit");
    return NULL;
  }
  int o = (flags & H5F_ACC_RDWR) ? O_RDWR : O_RDONLY;
  if (flags & H5F_ACC_TRUNC) o |= O_TRUNC;
  if (flags & H5F_ACC_CREAT) o |= O_CREAT;
  if (flags & H5F_ACC_EXCL) o |= O_EXCL;
  int fd;
  if ((o & O_RDWR) && (o & O_TRUNC)) {
    /* lock before truncating: a file another process writes stays whole */
    fd = open(name, (o & ~O_TRUNC), 0666);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno != ENOSYS) {
      int e = errno;
      close(fd);
      PUSH(H5E_VFL, H5E_CANTLOCKFILE, "unable to lock file, errno = %d, error message = '%s'",
           e, strerror(e));
      return NULL;
    }
    if (fd >= 0 && ftruncate(fd, 0) < 0) {
      close(fd);
      fd = -1;
    }
  } else {
    fd = open(name, o, 0666);
  }
  if (fd < 0) {
    int e = errno;
    PUSH(H5E_FILE, H5E_CANTOPENFILE, "unable to open file: name = '%s', errno = %d, "
         "error message = '%s', flags = %x, o_flags = %x", name, e, strerror(e), flags,
         (unsigned)o);
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) < 0) {
    close(fd);
    PUSH(H5E_FILE, H5E_BADFILE, "unable to fstat file");
    return NULL;
  }
  journal_file *f = calloc(1, sizeof *f);
  if (!f) {
    close(fd);
    PUSH(H5E_RESOURCE, H5E_NOSPACE, "out of memory");
    return NULL;
  }
  f->fd = fd;
  f->jfd = -1;
  f->eof = (haddr_t)st.st_size;
  f->committed = f->eof;
  f->shrink_to = HADDR_UNDEF;
  f->dev = st.st_dev;
  f->ino = st.st_ino;
  if (o & O_RDWR) {
    /* exclusive lock first (HDF5 asks again later, which is harmless) */
    if (flock(fd, LOCK_EX | LOCK_NB) < 0 && errno != ENOSYS) {
      int e = errno;
      close(fd);
      free(f);
      PUSH(H5E_VFL, H5E_CANTLOCKFILE, "unable to lock file, errno = %d, error message = '%s'",
           e, strerror(e));
      return NULL;
    }
    f->jpath = journal_path(name);
    if (f->jpath) f->jfd = open(f->jpath, O_RDWR | O_CREAT | O_TRUNC, 0666);
    if (f->jfd < 0 || journal_commit_file(f) < 0) {
      int e = errno;
      if (f->jfd >= 0) {
        close(f->jfd);
        unlink(f->jpath);
      }
      close(fd);
      free(f->jpath);
      free(f);
      PUSH(H5E_FILE, H5E_CANTOPENFILE, "unable to create the journal '%s" JOURNAL_SUFFIX
           "', errno = %d, error message = '%s'", name, e, strerror(e));
      return NULL;
    }
  }
  return &f->pub;
}

static herr_t jnl_close(H5FD_t *file) {
  journal_file *f = (journal_file *)file;
  herr_t ret = 0;
  if (f->jfd >= 0) {
    /* a close whose flush went through is a commit; anything else (a write
     * that failed: HDF5 closes anyway) keeps the journal, and the next open
     * rolls the file back */
    if (f->closing_flushed && !f->failed && journal_commit_file(f) == 0) {
      close(f->jfd);
      unlink(f->jpath);
    } else {
      close(f->jfd);
    }
  }
  if (close(f->fd) < 0) {
    PUSH(H5E_IO, H5E_CANTCLOSEFILE, "unable to close file");
    ret = -1;
  }
  free(f->jpath);
  free(f);
  return ret;
}

static int jnl_cmp(const H5FD_t *a, const H5FD_t *b) {
  const journal_file *f1 = (const journal_file *)a, *f2 = (const journal_file *)b;
  if (f1->dev != f2->dev) return f1->dev < f2->dev ? -1 : 1;
  if (f1->ino != f2->ino) return f1->ino < f2->ino ? -1 : 1;
  return 0;
}

static herr_t jnl_query(const H5FD_t *file, unsigned long *flags) {
  (void)file;
  *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA |
           H5FD_FEAT_DATA_SIEVE | H5FD_FEAT_AGGREGATE_SMALLDATA |
           H5FD_FEAT_POSIX_COMPAT_HANDLE | H5FD_FEAT_DEFAULT_VFD_COMPATIBLE;
  return 0;
}

static haddr_t jnl_get_eoa(const H5FD_t *file, H5FD_mem_t type) {
  (void)type;
  return ((const journal_file *)file)->eoa;
}

static herr_t jnl_set_eoa(H5FD_t *file, H5FD_mem_t type, haddr_t addr) {
  (void)type;
  ((journal_file *)file)->eoa = addr;
  return 0;
}

static haddr_t jnl_get_eof(const H5FD_t *file, H5FD_mem_t type) {
  (void)type;
  return ((const journal_file *)file)->eof;
}

static herr_t jnl_get_handle(H5FD_t *file, hid_t fapl, void **handle) {
  (void)fapl;
  *handle = &((journal_file *)file)->fd;
  return 0;
}

/* Is [addr, addr+size) inside the allocated space?  Pushes HDF5's error when not. */
static int in_range(const journal_file *f, haddr_t addr, size_t size) {
  if (addr != HADDR_UNDEF && addr + size <= f->eoa) return 1;
  PUSH(H5E_ARGS, H5E_OVERFLOW, "addr overflow, addr = %llu, size = %llu, eoa = %llu",
       (unsigned long long)addr, (unsigned long long)size, (unsigned long long)f->eoa);
  return 0;
}

static herr_t jnl_read(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size,
                       void *buf) {
  (void)type;
  (void)dxpl;
  journal_file *f = (journal_file *)file;
  if (!in_range(f, addr, size)) return -1;
  if (full_pread(f->fd, buf, size, (off_t)addr) < 0) {
    int e = errno;
    PUSH(H5E_IO, H5E_READERROR, "file read failed: errno = %d, error message = '%s'", e,
         strerror(e));
    return -1;
  }
  return 0;
}

/* Keep the bytes [addr, addr+size) of the committed state in the journal. */
static int save_old(journal_file *f, haddr_t addr, size_t size) {
  unsigned char stack[4096 + RECORD_HEAD];
  unsigned char *rec = size <= 4096 ? stack : malloc(size + RECORD_HEAD);
  if (!rec) return -1;
  int ok = full_pread(f->fd, rec + RECORD_HEAD, size, (off_t)addr) == 0;
  if (ok) {
    put64(rec, (uint64_t)addr);
    put64(rec + 8, (uint64_t)size);
    put64(rec + 16, fnv(fnv(FNV_START, rec, 16), rec + RECORD_HEAD, size));
    ok = full_pwrite(f->jfd, rec, size + RECORD_HEAD, f->jlen) == 0;
    if (ok) f->jlen += (off_t)(size + RECORD_HEAD);
  }
  if (rec != stack) free(rec);
  return ok ? 0 : -1;
}

static herr_t jnl_write(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size,
                        const void *buf) {
  (void)type;
  (void)dxpl;
  journal_file *f = (journal_file *)file;
  if (!in_range(f, addr, size)) return -1;
  if (f->jfd >= 0 && addr < f->committed) {
    haddr_t end = addr + size < f->committed ? addr + size : f->committed;
    if (save_old(f, addr, (size_t)(end - addr)) < 0) {
      int e = errno;
      f->failed = 1;
      PUSH(H5E_IO, H5E_WRITEERROR, "cannot write the journal: errno = %d, error message = "
           "'%s'", e, strerror(e));
      return -1;
    }
  }
  if (full_pwrite(f->fd, buf, size, (off_t)addr) < 0) {
    int e = errno;
    f->failed = 1;
    PUSH(H5E_IO, H5E_WRITEERROR, "file write failed: errno = %d, error message = '%s'", e,
         strerror(e));
    return -1;
  }
  if (addr + size > f->eof) f->eof = addr + size;
  return 0;
}

static herr_t jnl_flush(H5FD_t *file, hid_t dxpl, hbool_t closing) {
  (void)dxpl;
  ((journal_file *)file)->closing_flushed = closing ? 1 : 0;
  return 0;
}

static herr_t jnl_truncate(H5FD_t *file, hid_t dxpl, hbool_t closing) {
  (void)dxpl;
  (void)closing;
  journal_file *f = (journal_file *)file;
  if (f->eoa == f->eof) return 0;
  if (f->jfd >= 0 && f->eoa < f->committed) {
    /* cutting committed bytes cannot be undone: wait for the commit */
    f->shrink_to = f->eoa;
    return 0;
  }
  if (ftruncate(f->fd, (off_t)f->eoa) < 0) {
    int e = errno;
    f->failed = 1;
    PUSH(H5E_IO, H5E_SEEKERROR, "unable to extend file properly: errno = %d, error message = "
         "'%s'", e, strerror(e));
    return -1;
  }
  f->eof = f->eoa;
  return 0;
}

static herr_t jnl_lock(H5FD_t *file, hbool_t rw) {
  journal_file *f = (journal_file *)file;
  if (flock(f->fd, (rw ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0) {
    if (errno == ENOSYS) return 0;  /* file system without locks */
    int e = errno;
    PUSH(H5E_VFL, H5E_CANTLOCKFILE, "unable to lock file, errno = %d, error message = '%s'", e,
         strerror(e));
    return -1;
  }
  return 0;
}

static herr_t jnl_unlock(H5FD_t *file) {
  journal_file *f = (journal_file *)file;
  /* a journaled writer keeps its exclusive lock until it closes */
  if (f->jfd >= 0) return 0;
  if (flock(f->fd, LOCK_UN) < 0 && errno != ENOSYS) {
    int e = errno;
    PUSH(H5E_VFL, H5E_CANTUNLOCKFILE, "unable to unlock file, errno = %d, error message = "
         "'%s'", e, strerror(e));
    return -1;
  }
  return 0;
}

static const H5FD_class_t journal_class = {
  "h5lua_journal",        /* name */
  (haddr_t)INT64_MAX,     /* maxaddr (off_t) */
  H5F_CLOSE_WEAK,         /* fc_degree */
  NULL,                   /* terminate */
  NULL, NULL, NULL,       /* sb_size, sb_encode, sb_decode: a plain HDF5 file */
  0, NULL, NULL, NULL,    /* fapl */
  0, NULL, NULL,          /* dxpl */
  jnl_open,
  jnl_close,
  jnl_cmp,
  jnl_query,
  NULL,                   /* get_type_map */
  NULL, NULL,             /* alloc, free */
  jnl_get_eoa,
  jnl_set_eoa,
  jnl_get_eof,
  jnl_get_handle,
  jnl_read,
  jnl_write,
  jnl_flush,
  jnl_truncate,
  jnl_lock,
  jnl_unlock,
  H5FD_FLMAP_DICHOTOMY
};

/* Make fapl use the journal driver.  Returns 0, or -1 (HDF5 error pushed). */
int h5_journal_use(hid_t fapl) {
  if (journal_id < 0 || H5Iis_valid(journal_id) <= 0) {
    journal_id = H5FDregister(&journal_class);
    if (journal_id < 0) return -1;
  }
  return H5Pset_driver(fapl, journal_id, NULL) < 0 ? -1 : 0;
}

/* After a successful H5Fflush: commit when the file uses the journal driver.
 * Returns 0 (also for other drivers), or -1 with errno set. */
int h5_journal_commit(hid_t fid) {
  if (journal_id < 0) return 0;
  hid_t fapl = H5Fget_access_plist(fid);
  if (fapl < 0) return 0;
  hid_t driver = H5Pget_driver(fapl);
  void *handle = NULL;
  int ours = driver == journal_id && H5Fget_vfd_handle(fid, fapl, &handle) >= 0 && handle;
  H5Pclose(fapl);
  if (!ours) return 0;
  /* the handle is &fd, the first field after pub */
  journal_file *f = (journal_file *)((char *)handle - offsetof(journal_file, fd));
  return journal_commit_file(f);
}
