// N-API addon: an overlay merge on a memory filesystem (tmpfs, ramfs) through shared mappings, on several
// threads. src/host/cow/mapped-merge.ts is its only caller.
//
// Why: on tmpfs a merge has no device to wait for; its cost is the kernel's work per page. Written one run
// at a time (uml_moo's pread/pwrite, or our copy_file_range) every run of scattered sectors costs a system
// call and a page-cache lookup, ~1.5 µs here, and writes to one tmpfs file are serialised by its inode lock,
// so a second core cannot help. Mapped, a whole stretch of touched base pages is made present and writable
// by one madvise(MADV_POPULATE_WRITE), the sectors are plain memcpy from the overlay's mapping, and threads
// on separate parts of the disk do not contend. Measured on this project's 2-core host, 1 GiB with 10% of
// its sectors dirty at random: ~140 ms, against ~310 with copy_file_range and ~250 for uml_moo (docs/cow.md).
//
// Safety: an access to a shared mapping past the end of its file raises SIGBUS, which would kill Node.
// Sizes are checked before mapping; a file truncated by another program during the merge is caught by a
// SIGBUS handler that only acts for this addon's own copies (and hands every other SIGBUS to the previous
// disposition) and turns into an error. MADV_POPULATE_WRITE reports a full filesystem as an error instead of
// a signal. Clean pages are populated only where they are already present (mincore), so a hole of a sparse
// base stays a hole.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <errno.h>
#include <node_api.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define PAGE 4096
#define MAX_THREADS 8
// Clean, present pages between two touched ones that are populated with them rather than starting a
// second madvise: a madvise costs more than populating two pages (measured, docs/cow.md).
#define BRIDGE_PAGES 2

// --- SIGBUS guard ---

typedef struct {
  pthread_t thread;
  sigjmp_buf *jump;
} guard_slot;

static guard_slot slots[MAX_THREADS * 4];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction previous_bus;
static pthread_once_t bus_once = PTHREAD_ONCE_INIT;

static void on_bus(int sig, siginfo_t *info, void *context) {
  (void)sig;
  (void)info;
  (void)context;
  pthread_t self = pthread_self();
  for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
    sigjmp_buf *jump = __atomic_load_n(&slots[i].jump, __ATOMIC_ACQUIRE);
    if (jump && pthread_equal(slots[i].thread, self)) siglongjmp(*jump, 1);
  }
  // Not one of our copies: restore what was there before and return; the access faults again and gets it.
  sigaction(SIGBUS, &previous_bus, NULL);
}

static void install_bus_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_bus;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, &previous_bus);
}

/** Registers this thread's jump buffer; returns its slot, or -1 when all are taken. */
static int guard_enter(sigjmp_buf *jump) {
  pthread_once(&bus_once, install_bus_handler);
  pthread_mutex_lock(&slots_lock);
  int found = -1;
  for (size_t i = 0; i < sizeof slots / sizeof slots[0] && found < 0; i++) {
    if (!slots[i].jump) {
      slots[i].thread = pthread_self();
      __atomic_store_n(&slots[i].jump, jump, __ATOMIC_RELEASE);
      found = (int)i;
    }
  }
  pthread_mutex_unlock(&slots_lock);
  return found;
}

static void guard_leave(int slot) {
  if (slot >= 0) __atomic_store_n(&slots[slot].jump, NULL, __ATOMIC_RELEASE);
}

// --- the merge ---

// One call's work, shared by its threads: they take pieces of PIECE_BYTES in turn, so a thread slowed by
// the rest of the host does not leave the others idle at the end.
typedef struct {
  const unsigned char *bm;
  int fd_in, fd_out;
  int64_t from, to;  // sectors; from is a multiple of the sectors in a page
  int64_t ss, size, in_off;
  int64_t piece;  // sectors per piece, a multiple of the sectors in a page
  int64_t next;   // the next piece to take (atomic)
  int stop;       // set when a thread failed (atomic)
} job;

typedef struct {
  job *job;
  double bytes, runs;
  int err;           // errno, or 0
  const char *what;  // the step that failed
} part;

#define PIECE_BYTES (8 << 20)

static inline int bit(const unsigned char *bm, int64_t s) { return (bm[s >> 3] >> (s & 7)) & 1; }

static void fail(part *p, int err, const char *what) {
  if (!p->err) {
    p->err = err;
    p->what = what;
  }
  __atomic_store_n(&p->job->stop, 1, __ATOMIC_RELEASE);
}

/**
 * The copy of merge_range, under its SIGBUS guard: stretch by stretch, the touched pages of the base (base,
 * from file offset b0) are populated writable, then the runs copied from the overlay's mapping (over, from
 * file offset o0).
 */
__attribute__((noinline)) static void copy_stretches(part *p, char *base, int64_t b0, size_t npages, const unsigned char *present,
                           const char *over, int64_t o0, int64_t from, int64_t to) {
  const job *j = p->job;
  int64_t lo = from * j->ss, blen = (int64_t)npages * PAGE;
  int64_t ps = PAGE / j->ss;  // sectors per page
  int64_t s = from, end = to;
  while (s < end && !p->err) {
    // The next run's page, then the stretch of pages to populate: pages with a written sector, joined over
    // up to BRIDGE_PAGES clean pages that are already present.
    while (s < end && !bit(j->bm, s)) s += (s & 7) == 0 && s + 8 <= end && j->bm[s >> 3] == 0 ? 8 : 1;
    if (s >= end) break;
    int64_t pg0 = s / ps, pg1 = pg0 + 1;
    for (;;) {
      int64_t next = pg1, limit = pg1 + BRIDGE_PAGES + 1;
      int found = 0;
      while (next < limit && next * ps < end) {
        int64_t t = next * ps, te = t + ps < end ? t + ps : end;
        for (; t < te; t++)
          if (bit(j->bm, t)) break;
        if (t < te) {
          found = 1;
          break;
        }
        size_t idx = (size_t)((next * PAGE - b0) / PAGE);
        if (idx >= npages || !(present[idx] & 1)) break;  // a hole (or not resident): do not fill it
        next++;
      }
      if (!found) break;
      pg1 = next + 1;
    }
    int64_t span_lo = pg0 * PAGE, span_hi = pg1 * PAGE;
    if (span_lo < lo) span_lo = lo / PAGE * PAGE;
    if (span_hi > b0 + blen) span_hi = b0 + blen;
    if (madvise(base + (span_lo - b0), (size_t)(span_hi - span_lo), MADV_POPULATE_WRITE) < 0) {
      fail(p, errno, "madvise");
      return;
    }
    // Copy the runs inside the stretch. The overlay's pages fault in as they are read (with fault-around);
    // only its written pages are touched, so none of its holes is filled.
    int64_t stop = pg1 * ps < end ? pg1 * ps : end;
    while (s < stop) {
      if (!bit(j->bm, s)) {
        s++;
        continue;
      }
      int64_t e = s + 1;
      while (e < stop && bit(j->bm, e)) e++;
      int64_t pos = s * j->ss, len = (e - s) * j->ss;
      if (pos + len > j->size) len = j->size > pos ? j->size - pos : 0;
      if (len > 0) {
        memcpy(base + (pos - b0), over + (j->in_off + pos - o0), (size_t)len);
        p->bytes += (double)len;
        p->runs++;
      }
      s = e;
    }
  }
}

/** Merges sectors [from, to) of the job: maps just that stretch of both files, and unmaps it after. */
static void merge_range(part *p, int64_t from, int64_t to) {
  const job *j = p->job;
  int64_t lo = from * j->ss;
  int64_t hi = to * j->ss;
  if (hi > j->size) hi = j->size;
  if (lo >= hi) return;
  // A clean piece (most, on a lightly written disk) costs no mapping.
  int64_t clean = from;
  while (clean < to && (clean & 7) == 0 && clean + 8 <= to && j->bm[clean >> 3] == 0) clean += 8;
  if (clean >= to) return;
  // The base's part [lo, hi), from lo's page; the overlay's [in_off + lo, in_off + hi), from its page.
  int64_t b0 = lo / PAGE * PAGE, blen = (hi - b0 + PAGE - 1) / PAGE * PAGE;
  int64_t o0 = (j->in_off + lo) / PAGE * PAGE, olen = (j->in_off + hi - o0 + PAGE - 1) / PAGE * PAGE;
  char *base = mmap(NULL, (size_t)blen, PROT_READ | PROT_WRITE, MAP_SHARED, j->fd_out, b0);
  if (base == MAP_FAILED) {
    fail(p, errno, "mmap");
    return;
  }
  const char *over = mmap(NULL, (size_t)olen, PROT_READ, MAP_SHARED, j->fd_in, o0);
  if (over == MAP_FAILED) {
    fail(p, errno, "mmap");
    munmap(base, (size_t)blen);
    return;
  }
  size_t npages = (size_t)(blen / PAGE);
  // Which base pages are in memory (on tmpfs: which are not holes). Without the answer, bridge nothing.
  unsigned char *present = calloc(npages, 1);
  if (!present) {
    fail(p, ENOMEM, "malloc");
    goto out;
  }
  if (mincore(base, (size_t)blen, present) < 0) memset(present, 0, npages);

  sigjmp_buf jump;
  int slot = guard_enter(&jump);
  if (slot < 0)
    fail(p, EBUSY, "guard");
  else if (sigsetjmp(jump, 1) == 0)
    copy_stretches(p, base, b0, npages, present, over, o0, from, to);
  else
    fail(p, EFAULT, "access");  // a mapped access faulted: a file is now shorter than when it was checked
  guard_leave(slot);
out:
  free(present);
  munmap(base, (size_t)blen);
  munmap((void *)over, (size_t)olen);
}

/** A thread of the call: takes the next piece until none is left or a thread failed. */
static void *merge_pieces(void *arg) {
  part *p = arg;
  job *j = p->job;
  while (!__atomic_load_n(&j->stop, __ATOMIC_ACQUIRE)) {
    int64_t k = __atomic_fetch_add(&j->next, 1, __ATOMIC_ACQ_REL);
    int64_t from = j->from + k * j->piece;
    if (from >= j->to) break;
    merge_range(p, from, from + j->piece < j->to ? from + j->piece : j->to);
  }
  return NULL;
}

// --- N-API ---

static napi_value throw_code(napi_env env, const char *code, const char *message, const char *what) {
  napi_value c, m, error, v;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, c, m, &error);
  if (what) {
    napi_create_string_utf8(env, what, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, error, "syscall", v);
  }
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_eof(napi_env env, const char *file, const char *message) {
  napi_value c, m, error, v;
  napi_create_string_utf8(env, "EOF", NAPI_AUTO_LENGTH, &c);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, c, m, &error);
  napi_create_string_utf8(env, file, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, error, "file", v);
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_errno(napi_env env, int err, const char *what) {
  const char *name = strerrorname_np(err);
  return throw_code(env, name ? name : "EIO", strerror(err), what);
}

static int get_i64(napi_env env, napi_value v, int64_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d < 0 || d > 9007199254740992.0 || d != (double)(int64_t)d) {
    napi_throw_range_error(env, "ERR_INVALID_ARG", "expected a non-negative integer");
    return 0;
  }
  *out = (int64_t)d;
  return 1;
}

// mergeMapped(fdIn, fdOut, bitmap, fromSector, toSector, inOffset, sectorSize, sizeBytes, threads)
// → [bytes, runs]: every run of set bits in [fromSector, toSector) is copied from inOffset + s*sectorSize of
// fdIn (the overlay) to s*sectorSize of fdOut (the base), clipped to sizeBytes, by `threads` threads on
// consecutive parts. fromSector must start a page. Errors carry .code: "EOF" (.file "overlay" or "base")
// when a file is shorter than the range, ENOTSUP when the kernel lacks MADV_POPULATE_WRITE (before
// anything was written: the caller falls back), EFAULT when a file shrank during the copy, or the errno of
// mmap or madvise (a full tmpfs is EFAULT or ENOSPC from madvise).
static napi_value js_merge_mapped(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 9) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "mergeMapped takes 9 arguments");
    return NULL;
  }
  int64_t fd_in, fd_out, from, to, in_off, ss, size, threads;
  if (!get_i64(env, argv[0], &fd_in) || !get_i64(env, argv[1], &fd_out) || !get_i64(env, argv[3], &from) ||
      !get_i64(env, argv[4], &to) || !get_i64(env, argv[5], &in_off) || !get_i64(env, argv[6], &ss) ||
      !get_i64(env, argv[7], &size) || !get_i64(env, argv[8], &threads))
    return NULL;
  napi_typedarray_type type;
  size_t bytes;
  void *data;
  if (napi_get_typedarray_info(env, argv[2], &type, &bytes, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "expected the bitmap as a Uint8Array");
    return NULL;
  }
  if (ss <= 0 || ss > PAGE || PAGE % ss != 0 || from % (PAGE / ss) != 0 || to < from ||
      to > (int64_t)bytes * 8 || threads < 1 || threads > MAX_THREADS) {
    napi_throw_range_error(env, "ERR_INVALID_ARG", "sector range outside the bitmap or unaligned, or bad thread count");
    return NULL;
  }
  int64_t hi = to * ss < size ? to * ss : size;
  struct stat si, so;
  if (fstat((int)fd_in, &si) < 0 || fstat((int)fd_out, &so) < 0) return throw_errno(env, errno, "fstat");
  if (hi > from * ss) {
    // Mapped pages past a file's end are not there: check before touching any.
    if (so.st_size < hi) return throw_eof(env, "base", "the base is shorter than the range");
    if (si.st_size < in_off + hi) return throw_eof(env, "overlay", "the overlay is shorter than its data area");
  }
  // One probe: a kernel before 5.14 has no MADV_POPULATE_WRITE (EINVAL), and nothing is written yet.
  if (madvise(NULL, 0, MADV_POPULATE_WRITE) < 0 && errno == EINVAL)
    return throw_code(env, "ENOTSUP", "this kernel cannot populate mappings (MADV_POPULATE_WRITE)", "madvise");

  job work = {.bm = data, .fd_in = (int)fd_in, .fd_out = (int)fd_out, .from = from, .to = to, .ss = ss,
              .size = size, .in_off = in_off, .piece = PIECE_BYTES / ss};
  part parts[MAX_THREADS];
  int n = (int)threads;
  for (int i = 0; i < n; i++) parts[i] = (part){.job = &work};
  pthread_t tids[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  for (int i = 1; i < n; i++) started[i] = pthread_create(&tids[i], NULL, merge_pieces, &parts[i]) == 0;
  merge_pieces(&parts[0]);  // this thread too (and it takes the pieces of any thread that did not start)
  double total = 0, runs = 0;
  int err = 0;
  const char *what = NULL;
  for (int i = 0; i < n; i++) {
    if (i > 0 && started[i]) pthread_join(tids[i], NULL);
    total += parts[i].bytes;
    runs += parts[i].runs;
    if (parts[i].err && !err) {
      err = parts[i].err;
      what = parts[i].what;
    }
  }
  if (err) return throw_errno(env, err, what);
  napi_value r, v;
  napi_create_array_with_length(env, 2, &r);
  napi_create_double(env, total, &v);
  napi_set_element(env, r, 0, v);
  napi_create_double(env, runs, &v);
  napi_set_element(env, r, 1, v);
  return r;
}

// guardedReadByte(fd, offset) → the byte at offset, read through a shared mapping under the same SIGBUS
// guard as the merge; EFAULT when the offset is past the file's end. Exists so a test can prove the guard
// turns a fault into an error instead of killing the process.
static napi_value js_guarded_read_byte(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int64_t fd, off;
  if (argc < 2 || !get_i64(env, argv[0], &fd) || !get_i64(env, argv[1], &off)) return NULL;
  int64_t at = off / PAGE * PAGE;
  volatile unsigned char *m = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, (int)fd, at);
  if (m == MAP_FAILED) return throw_errno(env, errno, "mmap");
  sigjmp_buf jump;
  volatile int slot = guard_enter(&jump);
  volatile int faulted = 0;
  volatile int value = 0;
  if (sigsetjmp(jump, 1))
    faulted = 1;
  else
    value = m[off - at];
  guard_leave(slot);
  munmap((void *)m, PAGE);
  if (faulted) return throw_errno(env, EFAULT, "access");
  napi_value r;
  napi_create_int32(env, value, &r);
  return r;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"mergeMapped", NULL, js_merge_mapped, NULL, NULL, NULL, napi_enumerable, NULL},
      {"guardedReadByte", NULL, js_guarded_read_byte, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
