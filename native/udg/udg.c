// N-API addon for AF_UNIX datagram sockets, which Node core lacks (src/host/unix-dgram.ts), and for the
// switch's batched UDP on loopback (src/host/net/udp-batch.ts): recvmmsg/sendmmsg move up to 64 frames per
// call, where node:dgram makes one system call and one JavaScript callback per frame.
//
// Every function takes and returns primitives or Buffers. Addresses are Buffers holding the raw sun_path
// bytes with no terminator added: a leading 0 byte means abstract, and abstract names may contain any byte
// (the uml_switch protocol binds binary ones), so lengths are always explicit and never strlen()-derived.
// Expected outcomes of a datagram send (a full queue, a vanished peer) come back as -errno; genuine misuse
// throws an Error with .code set to the errno name. Sockets are CLOEXEC so spawned guests never inherit them.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <errno.h>
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

// Large enough for any mconsole packet and any Ethernet frame a switch port carries.
#define RECV_MAX 65536

typedef struct watcher {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
  int fd;
  struct watcher *next;
} watcher;

// Per-environment state (one per worker thread that loads the addon).
typedef struct {
  watcher *watchers;
  unsigned char buf[RECV_MAX];
} state;

static napi_value throw_errno(napi_env env, const char *syscall, int err) {
  const char *name = strerrorname_np(err);
  char text[200];
  snprintf(text, sizeof text, "%s: %s", syscall, strerror(err));
  napi_value code, msg, error, num, sc;
  napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
  napi_create_int32(env, -err, &num);  // negative, as in Node's own system errors
  napi_set_named_property(env, error, "errno", num);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
  napi_set_named_property(env, error, "syscall", sc);
  napi_throw(env, error);
  return NULL;
}

static napi_value int_value(napi_env env, int n) {
  napi_value v;
  napi_create_int32(env, n, &v);
  return v;
}

static napi_value undefined(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
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

static int get_int(napi_env env, napi_value v, int *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "expected an integer");
    return 0;
  }
  return 1;
}

static int get_bytes(napi_env env, napi_value v, void **data, size_t *len) {
  bool is;
  if (napi_is_buffer(env, v, &is) != napi_ok || !is || napi_get_buffer_info(env, v, data, len) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "expected a Buffer");
    return 0;
  }
  return 1;
}

// An empty address means autobind (the kernel picks a 5-hex-digit abstract name).
static int get_addr(napi_env env, napi_value v, struct sockaddr_un *sa, socklen_t *len) {
  void *data;
  size_t n;
  if (!get_bytes(env, v, &data, &n)) return 0;
  if (n > sizeof sa->sun_path) {
    napi_throw_range_error(env, "ERR_ADDRESS_TOO_LONG", "unix socket address is longer than 108 bytes");
    return 0;
  }
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  memcpy(sa->sun_path, data, n);
  *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
  return 1;
}

static napi_value addr_buffer(napi_env env, const struct sockaddr_un *sa, socklen_t len) {
  size_t n = len > offsetof(struct sockaddr_un, sun_path) ? len - offsetof(struct sockaddr_un, sun_path) : 0;
  napi_value buf;
  napi_create_buffer_copy(env, n, sa->sun_path, NULL, &buf);
  return buf;
}

static napi_value js_socket(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  return int_value(env, fd);
}

static napi_value js_bind(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  struct sockaddr_un sa;
  socklen_t len;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &fd) || !get_addr(env, argv[1], &sa, &len)) return NULL;
  if (bind(fd, (struct sockaddr *)&sa, len) < 0) return throw_errno(env, "bind", errno);
  return undefined(env);
}

static napi_value js_connect(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  struct sockaddr_un sa;
  socklen_t len;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &fd) || !get_addr(env, argv[1], &sa, &len)) return NULL;
  int r;
  do r = connect(fd, (struct sockaddr *)&sa, len);
  while (r < 0 && errno == EINTR);
  if (r < 0) return throw_errno(env, "connect", errno);
  return undefined(env);
}

// sendto(fd, data, addr | null) → bytes sent, or -EAGAIN / -ECONNREFUSED / -ENOENT. null means the
// connected peer.
static napi_value js_sendto(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd;
  void *data;
  size_t n;
  if (!get_args(env, info, 3, argv) || !get_int(env, argv[0], &fd) || !get_bytes(env, argv[1], &data, &n)) return NULL;
  napi_valuetype t;
  napi_typeof(env, argv[2], &t);
  struct sockaddr_un sa;
  socklen_t len = 0;
  if (t != napi_null && t != napi_undefined && !get_addr(env, argv[2], &sa, &len)) return NULL;
  ssize_t r;
  do r = len ? sendto(fd, data, n, MSG_NOSIGNAL, (struct sockaddr *)&sa, len) : send(fd, data, n, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNREFUSED || errno == ENOENT) return int_value(env, -errno);
    return throw_errno(env, "sendto", errno);
  }
  return int_value(env, (int)r);
}

// recvfrom(fd) → { data, addr } or null when nothing is queued.
static napi_value js_recvfrom(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd)) return NULL;
  state *st;
  napi_get_instance_data(env, (void **)&st);
  struct sockaddr_un sa;
  socklen_t len;
  ssize_t r;
  do {
    len = sizeof sa;
    r = recvfrom(fd, st->buf, RECV_MAX, 0, (struct sockaddr *)&sa, &len);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    napi_value nul;
    napi_get_null(env, &nul);
    if (errno == EAGAIN || errno == EWOULDBLOCK) return nul;
    return throw_errno(env, "recvfrom", errno);
  }
  napi_value out, buf;
  napi_create_object(env, &out);
  napi_create_buffer_copy(env, (size_t)r, st->buf, NULL, &buf);
  napi_set_named_property(env, out, "data", buf);
  napi_set_named_property(env, out, "addr", addr_buffer(env, &sa, len));
  return out;
}

static napi_value js_getsockname(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd)) return NULL;
  struct sockaddr_un sa;
  socklen_t len = sizeof sa;
  if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0) return throw_errno(env, "getsockname", errno);
  return addr_buffer(env, &sa, len);
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  (void)events;
  watcher *w = handle->data;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, arg = int_value(env, status);
  napi_get_reference_value(env, w->cb, &cb);
  napi_get_global(env, &recv);  // make_callback needs an object receiver
  // napi_make_callback runs the microtask queue afterwards, so promise continuations see fresh data.
  if (napi_make_callback(env, w->ctx, recv, cb, 1, &arg, NULL) != napi_ok) {
    bool pending;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);  // becomes 'uncaughtException', as for any other callback
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_closed(uv_handle_t *handle) {
  watcher *w = handle->data;
  napi_delete_reference(w->env, w->cb);
  napi_async_destroy(w->env, w->ctx);
  free(w);
}

static watcher *take_watcher(state *st, int fd) {
  for (watcher **p = &st->watchers; *p; p = &(*p)->next) {
    if ((*p)->fd == fd) {
      watcher *w = *p;
      *p = w->next;
      return w;
    }
  }
  return NULL;
}

// Stop polling before the fd is closed: libuv forbids closing an fd under an active poll handle.
static int stop_watch(state *st, int fd) {
  watcher *w = take_watcher(st, fd);
  if (!w) return 0;
  uv_poll_stop(&w->poll);
  uv_close((uv_handle_t *)&w->poll, on_closed);
  return 1;
}

// watch(fd, cb): cb(status) runs on the main loop whenever fd is readable, until unwatch(fd) or close(fd).
static napi_value js_watch(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &fd)) return NULL;
  state *st;
  napi_get_instance_data(env, (void **)&st);
  stop_watch(st, fd);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  watcher *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, "watch", ENOMEM);
  int r = uv_poll_init(loop, &w->poll, fd);
  if (r < 0) {
    free(w);
    return throw_errno(env, "uv_poll_init", -r);
  }
  w->poll.data = w;
  w->env = env;
  w->fd = fd;
  napi_value name;
  napi_create_string_utf8(env, "umlkit:unix-dgram", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &w->ctx);
  napi_create_reference(env, argv[1], 1, &w->cb);
  w->next = st->watchers;
  st->watchers = w;
  r = uv_poll_start(&w->poll, UV_READABLE, on_poll);
  if (r < 0) {
    stop_watch(st, fd);
    return throw_errno(env, "uv_poll_start", -r);
  }
  return undefined(env);
}

static napi_value js_unwatch(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd)) return NULL;
  state *st;
  napi_get_instance_data(env, (void **)&st);
  napi_value v;
  napi_get_boolean(env, stop_watch(st, fd), &v);
  return v;
}

// ref(fd, on): whether a watched fd keeps the event loop (the process) alive.
static napi_value js_ref(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  bool on;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &fd)) return NULL;
  napi_get_value_bool(env, argv[1], &on);
  state *st;
  napi_get_instance_data(env, (void **)&st);
  for (watcher *w = st->watchers; w; w = w->next) {
    if (w->fd == fd) (on ? uv_ref : uv_unref)((uv_handle_t *)&w->poll);
  }
  return undefined(env);
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd)) return NULL;
  state *st;
  napi_get_instance_data(env, (void **)&st);
  stop_watch(st, fd);
  // Linux releases the fd even when close() reports EINTR, so never retry it.
  if (close(fd) < 0 && errno != EINTR) return throw_errno(env, "close", errno);
  return undefined(env);
}

// flock(fd, op) → 0 or -errno (-EWOULDBLOCK when LOCK_NB meets a holder).
static napi_value js_flock(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd, op, r;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &fd) || !get_int(env, argv[1], &op)) return NULL;
  do r = flock(fd, op);
  while (r < 0 && errno == EINTR);
  return int_value(env, r < 0 ? -errno : 0);
}

// pidfd_open(pid) → a CLOEXEC pidfd (readable once the process exits; watch() it), or -errno (-ESRCH).
static napi_value js_pidfd_open(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int pid;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &pid)) return NULL;
  long r = syscall(SYS_pidfd_open, pid, 0);
  return int_value(env, r < 0 ? -errno : (int)r);
}

// --- batched UDP on 127.0.0.1 ----------------------------------------------------------------------

#define BATCH_MAX 64

// udpSocket(port, bufferBytes) → a non-blocking CLOEXEC UDP socket bound to 127.0.0.1:port (0: any free
// port), with receive and send buffers of bufferBytes (capped by the host's rmem_max/wmem_max).
static napi_value js_udp_socket(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int port, bytes;
  if (!get_args(env, info, 2, argv) || !get_int(env, argv[0], &port) || !get_int(env, argv[1], &bytes)) return NULL;
  if (port < 0 || port > 65535) {
    napi_throw_range_error(env, "ERR_INVALID_ARG", "port out of range");
    return NULL;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind", e);
  }
  return int_value(env, fd);
}

// udpPort(fd) → the port the socket is bound to.
static napi_value js_udp_port(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd)) return NULL;
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0) return throw_errno(env, "getsockname", errno);
  return int_value(env, ntohs(sa.sin_port));
}

static int get_int32_array(napi_env env, napi_value v, int32_t **data, size_t *len) {
  bool is;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &type, len, (void **)data, &ab, &offset) != napi_ok || type != napi_int32_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "expected an Int32Array");
    return 0;
  }
  return 1;
}

// recvBatch(fd, buf, slotBytes, meta) → n datagrams (0 when none is queued). Datagram i is in buf at
// i * slotBytes; meta[2i] is its length and meta[2i+1] its sender's UDP port. A datagram longer than a
// slot is reported with length -1 (truncated, to be dropped). Only IPv4 senders reach a socket bound
// to 127.0.0.1, and only from this host.
static napi_value js_recv_batch(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int fd, slot;
  void *buf;
  size_t len, metaLen;
  int32_t *meta;
  if (!get_args(env, info, 4, argv) || !get_int(env, argv[0], &fd) || !get_bytes(env, argv[1], &buf, &len) ||
      !get_int(env, argv[2], &slot) || !get_int32_array(env, argv[3], &meta, &metaLen))
    return NULL;
  if (slot <= 0) {
    napi_throw_range_error(env, "ERR_INVALID_ARG", "slot size must be positive");
    return NULL;
  }
  size_t max = len / (size_t)slot;
  if (max > metaLen / 2) max = metaLen / 2;
  if (max > BATCH_MAX) max = BATCH_MAX;
  struct mmsghdr msgs[BATCH_MAX];
  struct iovec iov[BATCH_MAX];
  struct sockaddr_in from[BATCH_MAX];
  memset(msgs, 0, sizeof msgs[0] * max);
  for (size_t i = 0; i < max; i++) {
    iov[i].iov_base = (char *)buf + i * (size_t)slot;
    iov[i].iov_len = (size_t)slot;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &from[i];
    msgs[i].msg_hdr.msg_namelen = sizeof from[i];
  }
  int n;
  do n = recvmmsg(fd, msgs, (unsigned)max, MSG_DONTWAIT, NULL);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNREFUSED) return int_value(env, 0);
    return throw_errno(env, "recvmmsg", errno);
  }
  for (int i = 0; i < n; i++) {
    meta[2 * i] = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? -1 : (int32_t)msgs[i].msg_len;
    meta[2 * i + 1] = from[i].sin_family == AF_INET ? ntohs(from[i].sin_port) : 0;
  }
  return int_value(env, n);
}

// sendBatch(fd, buffers, ports, count) → datagrams the kernel took. Datagram i is buffers[i], sent to
// 127.0.0.1:ports[i]. A full socket buffer (EAGAIN) or a peer that is gone (ECONNREFUSED, reported for an
// earlier datagram on loopback) ends the batch early, as a congested switch drops frames.
static napi_value js_send_batch(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int fd, count;
  size_t portsLen;
  int32_t *ports;
  if (!get_args(env, info, 4, argv) || !get_int(env, argv[0], &fd) || !get_int32_array(env, argv[2], &ports, &portsLen) ||
      !get_int(env, argv[3], &count))
    return NULL;
  if (count < 0 || (size_t)count > portsLen) {
    napi_throw_range_error(env, "ERR_INVALID_ARG", "count out of range");
    return NULL;
  }
  int at = 0, taken = 0;
  while (at < count) {
    int batch = count - at > BATCH_MAX ? BATCH_MAX : count - at;
    struct mmsghdr msgs[BATCH_MAX];
    struct iovec iov[BATCH_MAX];
    struct sockaddr_in to[BATCH_MAX];
    memset(msgs, 0, sizeof msgs[0] * (size_t)batch);
    for (int i = 0; i < batch; i++) {
      napi_value b;
      void *data;
      size_t len;
      if (napi_get_element(env, argv[1], (uint32_t)(at + i), &b) != napi_ok || !get_bytes(env, b, &data, &len)) return NULL;
      iov[i].iov_base = data;
      iov[i].iov_len = len;
      to[i] = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)ports[at + i]), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &to[i];
      msgs[i].msg_hdr.msg_namelen = sizeof to[i];
    }
    int n;
    do n = sendmmsg(fd, msgs, (unsigned)batch, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNREFUSED) return throw_errno(env, "sendmmsg", errno);
      n = 0;
    }
    taken += n;
    at += n;
    // sendmmsg stops at the first datagram that fails: drop that one and go on with the rest.
    if (n < batch) at++;
  }
  return int_value(env, taken);
}

static void free_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static void set_int(napi_env env, napi_value obj, const char *name, int n) {
  napi_set_named_property(env, obj, name, int_value(env, n));
}

NAPI_MODULE_INIT() {
  state *st = calloc(1, sizeof *st);
  if (!st) return NULL;
  napi_set_instance_data(env, st, free_state, NULL);
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"socket", js_socket},   {"bind", js_bind},       {"connect", js_connect},
      {"sendto", js_sendto},   {"recvfrom", js_recvfrom}, {"getsockname", js_getsockname},
      {"watch", js_watch},     {"unwatch", js_unwatch}, {"ref", js_ref},
      {"close", js_close},     {"flock", js_flock},     {"pidfdOpen", js_pidfd_open},
      {"udpSocket", js_udp_socket}, {"udpPort", js_udp_port}, {"recvBatch", js_recv_batch},
      {"sendBatch", js_send_batch},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  napi_value c;
  napi_create_object(env, &c);
  set_int(env, c, "LOCK_SH", LOCK_SH);
  set_int(env, c, "LOCK_EX", LOCK_EX);
  set_int(env, c, "LOCK_NB", LOCK_NB);
  set_int(env, c, "LOCK_UN", LOCK_UN);
  set_int(env, c, "EAGAIN", EAGAIN);
  set_int(env, c, "ECONNREFUSED", ECONNREFUSED);
  set_int(env, c, "ENOENT", ENOENT);
  set_int(env, c, "ESRCH", ESRCH);
  set_int(env, c, "EWOULDBLOCK", EWOULDBLOCK);
  set_int(env, c, "MAX_ADDRESS", (int)sizeof(((struct sockaddr_un *)0)->sun_path));
  napi_set_named_property(env, exports, "constants", c);
  return exports;
}
