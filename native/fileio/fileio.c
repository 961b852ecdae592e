// N-API addon for the file copies Node cannot make: copy_file_range with explicit offsets, one run or a batch
// of runs per call, and sync_file_range; src/host/file-io.ts is its only caller.
//
// Why a batch: merging an overlay makes one copy per run of written sectors, up to ~200,000 for a 1 GiB disk,
// and a call from JavaScript into the kernel through Node costs several times the copy itself. Runs arrive
// as a Float64Array of (input offset, output offset, length) triples; doubles hold offsets exactly up to
// 2^53. copy_file_range copies inside the kernel (one copy, no user buffer); where it is refused (EXDEV,
// EINVAL, ENOSYS, EOPNOTSUPP: another filesystem, an old kernel, a special file) the rest of the batch falls
// back to pread/pwrite through one buffer. mergeBitmapWindow is a merge's window: clusters of nearby runs
// become one read-patch-write of the base (see there). A writeback thread hands written ranges to the device
// from a second core. Errors throw an Error with .code set to the errno name, .syscall,
// and .run (the index of the failing run) and .offset (the output offset it had reached).
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

// The fallback's buffer, allocated on first use: big enough that a large run costs few system calls.
#define FALLBACK_BYTES (256 * 1024)

static napi_value throw_errno(napi_env env, const char *syscall, int err, double run, double offset) {
  const char *name = strerrorname_np(err);
  char text[200];
  snprintf(text, sizeof text, "%s: %s", syscall, strerror(err));
  napi_value code, msg, error, v;
  napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
  napi_create_int32(env, -err, &v);  // negative, as in Node's own system errors
  napi_set_named_property(env, error, "errno", v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, error, "syscall", v);
  napi_create_double(env, run, &v);
  napi_set_named_property(env, error, "run", v);
  napi_create_double(env, offset, &v);
  napi_set_named_property(env, error, "offset", v);
  napi_throw(env, error);
  return NULL;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < want) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "missing argument");
    return 0;
  }
  return 1;
}

static int get_int(napi_env env, napi_value v, int32_t *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "expected an integer");
    return 0;
  }
  return 1;
}

// A file offset or length: a whole, non-negative double (what JavaScript numbers hold exactly up to 2^53).
static int get_offset(napi_env env, napi_value v, int64_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0 && d <= 9007199254740992.0) ||
      d != (double)(int64_t)d) {
    napi_throw_range_error(env, "ERR_INVALID_ARG", "expected a whole, non-negative offset below 2^53");
    return 0;
  }
  *out = (int64_t)d;
  return 1;
}

typedef struct {
  int fd_in, fd_out;
  int fallback;  // set once copy_file_range is refused: the rest goes through pread/pwrite
  const char *syscall;
  int err;
  char *buf;
} copier;

static int refused(int err) { return err == EXDEV || err == EINVAL || err == ENOSYS || err == EOPNOTSUPP; }

// Copies up to len bytes; returns the bytes copied (fewer only at the input's end), or -1 with c->err set.
static int64_t copy_run(copier *c, int64_t in, int64_t out, int64_t len) {
  int64_t done = 0;
  while (done < len) {
    ssize_t n;
    if (!c->fallback) {
      loff_t a = in + done, b = out + done;
      n = copy_file_range(c->fd_in, &a, c->fd_out, &b, (size_t)(len - done), 0);
      if (n < 0 && errno == EINTR) continue;
      // Refused before anything was copied by this call: nothing half done, so the fallback redoes it.
      if (n < 0 && refused(errno)) {
        c->fallback = 1;
        continue;
      }
      if (n < 0) {
        c->syscall = "copy_file_range";
        c->err = errno;
        return -1;
      }
    } else {
      if (!c->buf && !(c->buf = malloc(FALLBACK_BYTES))) {
        c->syscall = "malloc";
        c->err = ENOMEM;
        return -1;
      }
      size_t want = (size_t)(len - done) < FALLBACK_BYTES ? (size_t)(len - done) : FALLBACK_BYTES;
      n = pread(c->fd_in, c->buf, want, in + done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        c->syscall = "pread";
        c->err = errno;
        return -1;
      }
      for (ssize_t w = 0; w < n;) {
        ssize_t m = pwrite(c->fd_out, c->buf + w, (size_t)(n - w), out + done + w);
        if (m < 0 && errno == EINTR) continue;
        if (m < 0) {
          c->syscall = "pwrite";
          c->err = errno;
          return -1;
        }
        w += m;
      }
    }
    if (n == 0) break;  // the input ended
    done += n;
  }
  return done;
}

// copyFileRange(fdIn, offIn, fdOut, offOut, len) → bytes copied (fewer than len only at the input's end)
static napi_value js_copy_file_range(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t fd_in, fd_out;
  int64_t in, out, len;
  if (!get_args(env, info, 5, argv) || !get_int(env, argv[0], &fd_in) || !get_offset(env, argv[1], &in) ||
      !get_int(env, argv[2], &fd_out) || !get_offset(env, argv[3], &out) || !get_offset(env, argv[4], &len))
    return NULL;
  copier c = {fd_in, fd_out, 0, NULL, 0, NULL};
  int64_t n = copy_run(&c, in, out, len);
  free(c.buf);
  if (n < 0) return throw_errno(env, c.syscall, c.err, 0, (double)out);
  napi_value r;
  napi_create_double(env, (double)n, &r);
  return r;
}

// copyRuns(fdIn, fdOut, runs: Float64Array of (in, out, len) triples) → bytes copied. Stops at the first
// run the input could not fill (its end): the caller compares the total with the lengths it asked for.
static napi_value js_copy_runs(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd_in, fd_out;
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &fd_in) || !get_int(env, argv[1], &fd_out))
    return NULL;
  napi_typedarray_type type;
  size_t count;
  void *data;
  if (napi_get_typedarray_info(env, argv[2], &type, &count, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || count % 3 != 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "expected a Float64Array of (in, out, length) triples");
    return NULL;
  }
  const double *runs = data;
  for (size_t i = 0; i < count; i++) {
    if (!(runs[i] >= 0 && runs[i] <= 9007199254740992.0) || runs[i] != (double)(int64_t)runs[i]) {
      napi_throw_range_error(env, "ERR_INVALID_ARG", "run offsets and lengths must be whole and non-negative");
      return NULL;
    }
  }
  copier c = {fd_in, fd_out, 0, NULL, 0, NULL};
  double total = 0;
  for (size_t i = 0; i < count; i += 3) {
    int64_t in = (int64_t)runs[i], out = (int64_t)runs[i + 1], len = (int64_t)runs[i + 2];
    int64_t n = copy_run(&c, in, out, len);
    if (n < 0) {
      free(c.buf);
      return throw_errno(env, c.syscall, c.err, (double)(i / 3), (double)out);
    }
    total += (double)n;
    if (n < len) break;
  }
  free(c.buf);
  napi_value r;
  napi_create_double(env, total, &r);
  return r;
}

// copyBitmapRuns(fdIn, fdOut, bitmap, fromSector, toSector, inOffset, sectorSize, sizeBytes) → [bytes, runs]:
// every maximal run of set bits (least significant first) in [fromSector, toSector) is copied from
// inOffset + s*sectorSize to s*sectorSize, clipped to sizeBytes. This is an overlay merge's inner loop; doing
// the bitmap scan here spares JavaScript one object per run. fromSector must be a multiple of 8. Throws an
// Error with code "EOF" when the input ends inside a run.
/**
 * The next run of written sectors in bitmap `bm` at or after sector *s and before `to`, as a byte range
 * (sector size `ss`) clipped to `size`; *s moves past it. 0 when there is none left. A run wholly past
 * `size` is skipped. Whole bytes of 0x00 or 0xff go 8 sectors at a time: bitmaps are mostly one or the
 * other.
 */
static int next_run(const unsigned char *bm, int64_t *s, int64_t to, int64_t ss, int64_t size, int64_t *pos,
                    int64_t *len) {
  int64_t at = *s;
  for (;;) {
    while (at < to && !((bm[at / 8] >> (at % 8)) & 1)) at += at % 8 == 0 && at + 8 <= to && bm[at / 8] == 0 ? 8 : 1;
    if (at >= to) {
      *s = to;
      return 0;
    }
    int64_t start = at;
    while (at < to && ((bm[at / 8] >> (at % 8)) & 1)) at += at % 8 == 0 && at + 8 <= to && bm[at / 8] == 0xff ? 8 : 1;
    *pos = start * ss;
    *len = (at - start) * ss;
    if (*pos + *len > size) *len = size > *pos ? size - *pos : 0;
    if (*len > 0) {
      *s = at;
      return 1;
    }
  }
}

static napi_value js_copy_bitmap_runs(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  int32_t fd_in, fd_out, ss;
  int64_t from, to, in_off, size;
  if (!get_args(env, info, 8, argv) || !get_int(env, argv[0], &fd_in) || !get_int(env, argv[1], &fd_out) ||
      !get_offset(env, argv[3], &from) || !get_offset(env, argv[4], &to) || !get_offset(env, argv[5], &in_off) ||
      !get_int(env, argv[6], &ss) || !get_offset(env, argv[7], &size))
    return NULL;
  napi_typedarray_type type;
  size_t bytes;
  void *data;
  if (napi_get_typedarray_info(env, argv[2], &type, &bytes, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "expected the bitmap as a Uint8Array");
    return NULL;
  }
  if (from % 8 != 0 || ss <= 0 || to > (int64_t)bytes * 8) {
    napi_throw_range_error(env, "ERR_INVALID_ARG", "sector range outside the bitmap, or unaligned");
    return NULL;
  }
  const unsigned char *bm = data;
  copier c = {fd_in, fd_out, 0, NULL, 0, NULL};
  double total = 0, runs = 0;
  int64_t pos, len;
  for (int64_t s = from; next_run(bm, &s, to, ss, size, &pos, &len);) {
    int64_t n = copy_run(&c, in_off + pos, pos, len);
    if (n < 0) {
      free(c.buf);
      return throw_errno(env, c.syscall, c.err, runs, (double)pos);
    }
    total += (double)n;
    runs++;
    if (n < len) {
      free(c.buf);
      napi_value code, msg, error;
      napi_create_string_utf8(env, "EOF", NAPI_AUTO_LENGTH, &code);
      napi_create_string_utf8(env, "the input ended inside a run", NAPI_AUTO_LENGTH, &msg);
      napi_create_error(env, code, msg, &error);
      napi_throw(env, error);
      return NULL;
    }
  }
  free(c.buf);
  napi_value r, v;
  napi_create_array_with_length(env, 2, &r);
  napi_create_double(env, total, &v);
  napi_set_element(env, r, 0, v);
  napi_create_double(env, runs, &v);
  napi_set_element(env, r, 1, v);
  return r;
}

// Per-env scratch for mergeBitmapWindow: the runs of a window and two window-sized buffers, kept between
// calls (a fresh 1 MiB malloc per window would be a fresh mmap, faulted in page by page, every time).
typedef struct {
  int64_t *runs;  // (byte offset, byte length) pairs
  size_t runs_cap;
  char *over, *base;
  size_t over_cap, base_cap;
} scratch;

static void free_scratch(napi_env env, void *data, void *hint) {
  scratch *s = data;
  free(s->runs);
  free(s->over);
  free(s->base);
  free(s);
}

static scratch *get_scratch(napi_env env) {
  scratch *s = NULL;
  if (napi_get_instance_data(env, (void **)&s) == napi_ok && s) return s;
  s = calloc(1, sizeof *s);
  if (s && napi_set_instance_data(env, s, free_scratch, NULL) != napi_ok) {
    free(s);
    s = NULL;
  }
  return s;
}

static int grow(void **p, size_t *cap, size_t want) {
  if (*cap >= want) return 1;
  void *n = realloc(*p, want);
  if (!n) return 0;
  *p = n;
  *cap = want;
  return 1;
}

static napi_value throw_eof(napi_env env, const char *file) {
  napi_value code, msg, error, v;
  napi_create_string_utf8(env, "EOF", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, "the input ended inside a run", NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
  napi_create_string_utf8(env, file, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, error, "file", v);
  napi_throw(env, error);
  return NULL;
}

// Reads exactly len bytes at off; returns 0, 1 when the file ends first, or -1 with errno set.
static int pread_full(int fd, char *buf, size_t len, int64_t off) {
  for (size_t done = 0; done < len;) {
    ssize_t n = pread(fd, buf + done, len - done, off + (int64_t)done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return 1;
    done += (size_t)n;
  }
  return 0;
}

static int pwrite_full(int fd, const char *buf, size_t len, int64_t off) {
  for (size_t done = 0; done < len;) {
    ssize_t n = pwrite(fd, buf + done, len - done, off + (int64_t)done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    done += (size_t)n;
  }
  return 0;
}

static int zero_range(const char *p, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (p[i]) return 0;
  return 1;
}

#define PAGE 4096

// mergeBitmapWindow(fdIn, fdOut, bitmap, fromSector, toSector, inOffset, sectorSize, sizeBytes, gapBytes)
// → [bytes, writes]: like copyBitmapRuns, but runs whose 4 KiB pages lie at most gapBytes apart are merged
// as one cluster: the base's pages of the cluster are read, the runs patched in from the overlay, and the
// cluster written back with one pwrite, clean sectors with the bytes they already hold. A disk then gets a
// few long writes instead of one request per run, and on this project's hosts the request count, not the
// bytes, is what a flush waits for (docs/cow.md). A clean page that is all zeros is left out (it may be a
// hole of a sparse base, which writing zeros would fill). A cluster of one run, and every run when gapBytes
// is 0, is copied as copyBitmapRuns copies it. [fromSector, toSector) must lie within one 1 MiB window's
// worth of buffer: at most 2^21 bytes. Errors as copyBitmapRuns; "EOF" errors carry .file, "overlay" or
// "base".
static napi_value js_merge_bitmap_window(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  int32_t fd_in, fd_out, ss;
  int64_t from, to, in_off, size, gap;
  if (!get_args(env, info, 9, argv) || !get_int(env, argv[0], &fd_in) || !get_int(env, argv[1], &fd_out) ||
      !get_offset(env, argv[3], &from) || !get_offset(env, argv[4], &to) || !get_offset(env, argv[5], &in_off) ||
      !get_int(env, argv[6], &ss) || !get_offset(env, argv[7], &size) || !get_offset(env, argv[8], &gap))
    return NULL;
  napi_typedarray_type type;
  size_t bytes;
  void *data;
  if (napi_get_typedarray_info(env, argv[2], &type, &bytes, &data, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "expected the bitmap as a Uint8Array");
    return NULL;
  }
  if (from % 8 != 0 || ss <= 0 || ss > PAGE || PAGE % ss != 0 || to < from || to > (int64_t)bytes * 8 ||
      (to - from) * ss > (1 << 21)) {
    napi_throw_range_error(env, "ERR_INVALID_ARG", "sector range outside the bitmap, unaligned or too long");
    return NULL;
  }
  scratch *sc = get_scratch(env);
  size_t runs_bytes = ((size_t)(to - from) / 2 + 1) * 2 * sizeof(int64_t);
  size_t span = (size_t)((to - from) * ss) + PAGE;
  if (!sc || !grow((void **)&sc->runs, &sc->runs_cap, runs_bytes) ||
      (gap > 0 && (!grow((void **)&sc->over, &sc->over_cap, span) || !grow((void **)&sc->base, &sc->base_cap, span))))
    return throw_errno(env, "malloc", ENOMEM, 0, 0);

  // The runs, as byte ranges clipped to the base's size.
  const unsigned char *bm = data;
  int64_t *runs = sc->runs;
  size_t nr = 0;
  int64_t pos, len;
  for (int64_t s = from; next_run(bm, &s, to, ss, size, &pos, &len); nr++) {
    runs[2 * nr] = pos;
    runs[2 * nr + 1] = len;
  }

  copier c = {fd_in, fd_out, 0, NULL, 0, NULL};
  double total = 0, writes = 0;
  for (size_t i = 0; i < nr;) {
    int64_t first = runs[2 * i];
    int64_t p0 = first / PAGE * PAGE;
    int64_t p1 = (first + runs[2 * i + 1] + PAGE - 1) / PAGE * PAGE;  // end of the cluster's last page
    size_t j = i + 1;
    while (gap > 0 && j < nr && runs[2 * j] / PAGE * PAGE - p1 <= gap) {
      int64_t e = (runs[2 * j] + runs[2 * j + 1] + PAGE - 1) / PAGE * PAGE;
      if (e > p1) p1 = e;
      j++;
    }
    if (j == i + 1) {
      int64_t len = runs[2 * i + 1];
      int64_t n = copy_run(&c, in_off + first, first, len);
      if (n < 0) {
        free(c.buf);
        return throw_errno(env, c.syscall, c.err, writes, (double)first);
      }
      if (n < len) {
        free(c.buf);
        return throw_eof(env, "overlay");
      }
      total += (double)n;
      writes++;
      i = j;
      continue;
    }
    if (p1 > size) p1 = size;
    int64_t last_end = runs[2 * (j - 1)] + runs[2 * (j - 1) + 1];
    char *base = sc->base, *over = sc->over;
    int r = pread_full(fd_in, over, (size_t)(last_end - first), in_off + first);
    if (r != 0) {
      free(c.buf);
      return r < 0 ? throw_errno(env, "pread", errno, writes, (double)first) : throw_eof(env, "overlay");
    }
    r = pread_full(fd_out, base, (size_t)(p1 - p0), p0);
    if (r != 0) {
      free(c.buf);
      return r < 0 ? throw_errno(env, "pread", errno, writes, (double)p0) : throw_eof(env, "base");
    }
    // Patch the runs in; mark the pages they touch (the rest of the cluster is its clean gaps).
    unsigned char touched[(1 << 21) / PAGE + 2];
    memset(touched, 0, (size_t)((p1 - p0 + PAGE - 1) / PAGE));
    for (size_t k = i; k < j; k++) {
      int64_t pos = runs[2 * k], len = runs[2 * k + 1];
      memcpy(base + (pos - p0), over + (pos - first), (size_t)len);
      for (int64_t pg = (pos - p0) / PAGE; pg * PAGE < pos - p0 + len; pg++) touched[pg] = 1;
      total += (double)len;
    }
    // Write the cluster, leaving out clean all-zero pages.
    int64_t seg = -1;
    for (int64_t at = p0;; at += PAGE) {
      int done = at >= p1;
      int64_t plen = p1 - at < PAGE ? p1 - at : PAGE;
      int keep = !done && (touched[(at - p0) / PAGE] || !zero_range(base + (at - p0), (size_t)plen));
      if (keep && seg < 0) seg = at;
      if (!keep && seg >= 0) {
        int64_t end = done ? p1 : at;
        if (pwrite_full(fd_out, base + (seg - p0), (size_t)(end - seg), seg) < 0) {
          free(c.buf);
          return throw_errno(env, "pwrite", errno, writes, (double)seg);
        }
        writes++;
        seg = -1;
      }
      if (done) break;
    }
    i = j;
  }
  free(c.buf);
  napi_value res, v;
  napi_create_array_with_length(env, 2, &res);
  napi_create_double(env, total, &v);
  napi_set_element(env, res, 0, v);
  napi_create_double(env, writes, &v);
  napi_set_element(env, res, 1, v);
  return res;
}

// fsType(fd) → the filesystem's magic number (fstatfs f_type): the merge asks whether a device is behind.
static napi_value js_fs_type(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd)) return NULL;
  struct statfs st;
  if (fstatfs(fd, &st) < 0) return throw_errno(env, "fstatfs", errno, 0, 0);
  napi_value r;
  napi_create_double(env, (double)(unsigned long)st.f_type, &r);
  return r;
}

// A writeback thread: writebackThread(fd) → handle; writebackQueue(handle, offset, length) asks it to start
// writeback of that range (sync_file_range SYNC_FILE_RANGE_WRITE); writebackStop(handle) waits for it to
// finish what it was given. sync_file_range does the filesystem's writeback work (mapping pages, building
// requests) in the calling thread: here that is the second core instead of the one copying. Only a hint:
// its errors are ignored, the caller's fsync reports them.
typedef struct {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  int fd, stop, running;
  int64_t lo, hi;  // the pending range; lo == hi when empty
} flusher;

static void *flusher_main(void *arg) {
  flusher *f = arg;
  pthread_mutex_lock(&f->lock);
  for (;;) {
    while (f->lo == f->hi && !f->stop) pthread_cond_wait(&f->wake, &f->lock);
    if (f->lo == f->hi) break;
    int64_t lo = f->lo, hi = f->hi;
    f->lo = f->hi = 0;
    pthread_mutex_unlock(&f->lock);
    sync_file_range(f->fd, lo, hi - lo, SYNC_FILE_RANGE_WRITE);
    pthread_mutex_lock(&f->lock);
  }
  pthread_mutex_unlock(&f->lock);
  return NULL;
}

static void flusher_stop(flusher *f) {
  if (!f->running) return;
  pthread_mutex_lock(&f->lock);
  f->stop = 1;
  pthread_cond_signal(&f->wake);
  pthread_mutex_unlock(&f->lock);
  pthread_join(f->thread, NULL);
  f->running = 0;
}

static void flusher_finalize(napi_env env, void *data, void *hint) {
  flusher *f = data;
  flusher_stop(f);
  pthread_mutex_destroy(&f->lock);
  pthread_cond_destroy(&f->wake);
  free(f);
}

static napi_value js_writeback_thread(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd)) return NULL;
  flusher *f = calloc(1, sizeof *f);
  if (!f) return throw_errno(env, "malloc", ENOMEM, 0, 0);
  f->fd = fd;
  pthread_mutex_init(&f->lock, NULL);
  pthread_cond_init(&f->wake, NULL);
  int err = pthread_create(&f->thread, NULL, flusher_main, f);
  if (err) {
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->wake);
    free(f);
    return throw_errno(env, "pthread_create", err, 0, 0);
  }
  f->running = 1;
  napi_value r;
  napi_create_external(env, f, flusher_finalize, NULL, &r);
  return r;
}

static flusher *get_flusher(napi_env env, napi_value v) {
  void *p = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &p) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "expected a handle from writebackThread");
    return NULL;
  }
  return p;
}

static napi_value js_writeback_queue(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int64_t off, len;
  flusher *f;
  if (!get_args(env, info, 3, argv) || !(f = get_flusher(env, argv[0])) || !get_offset(env, argv[1], &off) ||
      !get_offset(env, argv[2], &len))
    return NULL;
  if (len > 0 && f->running) {
    pthread_mutex_lock(&f->lock);
    if (f->lo == f->hi) {
      f->lo = off;
      f->hi = off + len;
    } else {
      if (off < f->lo) f->lo = off;
      if (off + len > f->hi) f->hi = off + len;
    }
    pthread_cond_signal(&f->wake);
    pthread_mutex_unlock(&f->lock);
  }
  napi_value r;
  napi_get_undefined(env, &r);
  return r;
}

static napi_value js_writeback_stop(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  flusher *f;
  if (!get_args(env, info, 1, argv) || !(f = get_flusher(env, argv[0]))) return NULL;
  flusher_stop(f);
  napi_value r;
  napi_get_undefined(env, &r);
  return r;
}

// startWriteback(fd, offset, length): ask the kernel to start writing a range to the device now, without
// waiting (sync_file_range SYNC_FILE_RANGE_WRITE). Not a durability point: only fsync is.
static napi_value js_start_writeback(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd;
  int64_t off, len;
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &fd) || !get_offset(env, argv[1], &off) ||
      !get_offset(env, argv[2], &len))
    return NULL;
  if (sync_file_range(fd, off, len, SYNC_FILE_RANGE_WRITE) < 0)
    return throw_errno(env, "sync_file_range", errno, 0, (double)off);
  napi_value r;
  napi_get_undefined(env, &r);
  return r;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"copyFileRange", NULL, js_copy_file_range, NULL, NULL, NULL, napi_enumerable, NULL},
      {"copyRuns", NULL, js_copy_runs, NULL, NULL, NULL, napi_enumerable, NULL},
      {"copyBitmapRuns", NULL, js_copy_bitmap_runs, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mergeBitmapWindow", NULL, js_merge_bitmap_window, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fsType", NULL, js_fs_type, NULL, NULL, NULL, napi_enumerable, NULL},
      {"startWriteback", NULL, js_start_writeback, NULL, NULL, NULL, napi_enumerable, NULL},
      {"writebackThread", NULL, js_writeback_thread, NULL, NULL, NULL, napi_enumerable, NULL},
      {"writebackQueue", NULL, js_writeback_queue, NULL, NULL, NULL, napi_enumerable, NULL},
      {"writebackStop", NULL, js_writeback_stop, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
