// The switch's unicast fast path (src/host/net/unicast-fast-path.ts): a thread that owns the switch's
// UDP socket (L2TPv3 ports) and its unix datagram socket (ports speaking uml_switch's daemon protocol),
// forwards frames whose way is already known, and queues everything else for the TypeScript switch
// (src/host/net/switch-engine.ts), which stays the one place where learning, flooding, aging,
// impairments and capture are decided. TypeScript programs the tables below; the thread only reads them.
//
// Why a thread: a frame crossing an idle Node process waits for the event loop to wake and for cold
// JavaScript to run (~100 µs per hop measured here), which made ping through the switch slower than
// through a C switch. A thread blocked in poll() on the socket answers in a few µs.
//
// A frame takes the fast path only when all of this holds, else it goes to TypeScript untouched:
// a valid L2TPv3 header whose session names a port, sent from that port's own UDP port (or a datagram on
// the unix socket from the exact 110-byte address a daemon port registered: the thread gives it the
// port's L2TPv3 header, so both kinds look alike from here on, to TypeScript too); a frame length
// a port may carry; unicast destination and source; the source MAC already learned on that port; the
// destination MAC learned on another port; both ports marked fast (no impairment) and no capture running.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define BATCH 64
#define SLOT 2048                   // as UDP_SLOT_BYTES in udp-batch.ts
#define QUEUE 256                   // packets waiting for TypeScript; the thread waits when it is full
#define MAX_PORTS 256               // more ports than this take the slow path
#define MAC_SLOTS 8192              // open addressing, power of two; filled to 3/4 at most
#define L2TP_HEADER 8
#define L2TP_FLAGS 0x00030000u      // as checked in switch-engine.ts
#define ETH_HEADER 14
#define MAX_FRAME (1500 + 26)

typedef struct {
  uint32_t session;
  uint16_t udp;  // 0 for a daemon port
  uint8_t used, fast;
  uint8_t daemon, has_addr;  // a daemon port, and whether its guest has registered its data address
  uint8_t stalled;           // its guest's queue stayed full at the last send: do not wait for it again
  char addr[sizeof ((struct sockaddr_un *)0)->sun_path];
  // Slow-path packets from this port still queued, or drained but maybe not yet sent by TypeScript:
  // while there are any, its frames stay on the slow path too, so a flow is never reordered.
  int queued, drained;
  double rx_frames, rx_bytes, tx_frames;  // since the last takeCounters()
} port_t;

typedef struct {
  uint64_t key;  // MAC + 1: 0 marks an empty slot
  uint32_t session;
  uint8_t seen;  // forwarded since the last takeSeen()
} mac_t;

typedef struct {
  int fd, ufd, notify, wake;  // ufd: the unix datagram socket, or -1
  pthread_t thread;
  int running, stop, all_slow;
  pthread_mutex_t lock;
  pthread_cond_t room;
  int nports;  // high-water mark of used port slots
  port_t ports[MAX_PORTS];
  unsigned nmacs;
  mac_t macs[MAC_SLOTS];
  unsigned head, count;
  int32_t qlen[QUEUE], qport[QUEUE], qsrc[QUEUE];  // qsrc: index of the sending port, or -1
  unsigned char q[QUEUE][SLOT];
} fastpath;

// --- tables (called with the lock held) ---

static unsigned mac_home(uint64_t key) { return (unsigned)((key * 0x9E3779B97F4A7C15ull) >> 51) & (MAC_SLOTS - 1); }

static int mac_find(fastpath *fp, uint64_t key) {
  for (unsigned i = mac_home(key);; i = (i + 1) & (MAC_SLOTS - 1)) {
    if (fp->macs[i].key == key) return (int)i;
    if (fp->macs[i].key == 0) return -1;
  }
}

static void mac_set(fastpath *fp, uint64_t key, uint32_t session) {
  int at = mac_find(fp, key);
  if (at >= 0) {
    fp->macs[at].session = session;
    return;
  }
  if (fp->nmacs >= MAC_SLOTS / 4 * 3) return;  // full: such frames stay on the slow path
  unsigned i = mac_home(key);
  while (fp->macs[i].key) i = (i + 1) & (MAC_SLOTS - 1);
  fp->macs[i] = (mac_t){.key = key, .session = session, .seen = 0};
  fp->nmacs++;
}

// Linear probing without tombstones: later entries of the same probe run move back into the hole.
static void mac_delete(fastpath *fp, uint64_t key) {
  int at = mac_find(fp, key);
  if (at < 0) return;
  unsigned hole = (unsigned)at;
  fp->macs[hole].key = 0;
  fp->nmacs--;
  for (unsigned j = (hole + 1) & (MAC_SLOTS - 1); fp->macs[j].key; j = (j + 1) & (MAC_SLOTS - 1)) {
    unsigned home = mac_home(fp->macs[j].key);
    // Entry j may fill the hole unless its home lies cyclically in (hole, j].
    int stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!stays) {
      fp->macs[hole] = fp->macs[j];
      fp->macs[j].key = 0;
      hole = j;
    }
  }
}

static port_t *port_find(fastpath *fp, uint32_t session) {
  for (int i = 0; i < fp->nports; i++)
    if (fp->ports[i].used && fp->ports[i].session == session) return &fp->ports[i];
  return NULL;
}

/** The daemon port whose guest data socket is `from` (bound with the full 110-byte length, as UML does). */
static port_t *port_by_addr(fastpath *fp, const struct sockaddr_un *from, socklen_t len) {
  if (len != sizeof *from) return NULL;
  for (int i = 0; i < fp->nports; i++) {
    port_t *p = &fp->ports[i];
    if (p->used && p->has_addr && memcmp(p->addr, from->sun_path, sizeof p->addr) == 0) return p;
  }
  return NULL;
}

static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static uint64_t mac_key(const unsigned char *p) {
  uint64_t m = 0;
  for (int i = 0; i < 6; i++) m = m << 8 | p[i];
  return m + 1;
}

/** The port a packet goes to on the fast path, or NULL for the slow path. */
static port_t *fast_destination(fastpath *fp, unsigned char *pk, int len, int from_udp) {
  if (fp->all_slow || len < L2TP_HEADER + ETH_HEADER || len > L2TP_HEADER + MAX_FRAME) return NULL;
  if (be32(pk) != L2TP_FLAGS) return NULL;
  uint32_t session = be32(pk + 4);
  port_t *src = port_find(fp, session);
  if (!src || !src->fast || src->udp != from_udp || src->queued || src->drained) return NULL;
  const unsigned char *dst_mac = pk + L2TP_HEADER, *src_mac = dst_mac + 6;
  if ((dst_mac[0] & 1) || (src_mac[0] & 1)) return NULL;
  int s = mac_find(fp, mac_key(src_mac));
  if (s < 0 || fp->macs[s].session != session) return NULL;
  int d = mac_find(fp, mac_key(dst_mac));
  if (d < 0) return NULL;
  port_t *dst = port_find(fp, fp->macs[d].session);
  if (!dst || !dst->fast || dst == src || (dst->daemon && !dst->has_addr)) return NULL;
  fp->macs[s].seen = 1;
  src->rx_frames++;
  src->rx_bytes += len - L2TP_HEADER;
  dst->tx_frames++;
  return dst;
}

// --- the thread ---

static void send_all(int fd, struct mmsghdr *out, int n) {
  int at = 0;
  while (at < n) {
    int r = sendmmsg(fd, out + at, (unsigned)(n - at), MSG_DONTWAIT);
    if (r < 0 && errno == EINTR) continue;
    // A full buffer or a vanished peer drops that datagram, as a congested switch does; go on.
    at += r > 0 ? r : 1;
  }
}

// Buffers of the thread for one socket's batches.
typedef struct {
  int on_unix, filled;  // which socket; entries the last receive filled (to be reset before the next)
  port_t *uport[BATCH];  // the daemon port of each unix send
  unsigned char (*buf)[SLOT];
  struct mmsghdr msgs[BATCH], out[BATCH], uout[BATCH];
  struct iovec iov[BATCH], oiov[BATCH], uoiov[BATCH];
  struct sockaddr_in from[BATCH], to[BATCH];
  struct sockaddr_un ufrom[BATCH], uto[BATCH];
} batch_t;

// A unix datagram waits in its receiver's queue, which holds only net.unix.max_dgram_qlen datagrams (10
// by default): a burst fills it before the guest's kernel gets to read. Wait for the guest briefly, as
// a kernel's own blocking send would (and as uml_switch's blocking sends do), instead of dropping at
// once; but not again for a guest that did not read meanwhile (paused, or gone), until one send passes.
static void send_unix(fastpath *fp, batch_t *b, int n) {
  int at = 0, waits = 0;
  while (at < n) {
    int r = sendmmsg(fp->ufd, b->uout + at, (unsigned)(n - at), MSG_DONTWAIT);
    if (r > 0) {
      for (int i = at; i < at + r; i++) b->uport[i]->stalled = 0;
      at += r;
      waits = 0;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    port_t *p = b->uport[at];
    if (r < 0 && errno == EAGAIN && !p->stalled && waits < 20) {
      struct timespec pause = {0, 50000};
      nanosleep(&pause, NULL);
      waits++;
      continue;
    }
    if (r < 0 && errno == EAGAIN) p->stalled = 1;
    at++;  // dropped, as a congested switch drops
    waits = 0;
  }
}

static void put_be32(unsigned char *p, uint32_t v) { p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v; }

// The receive vectors are set up once: per wake-up only the entries the last call filled get their
// in/out fields back (a ping wakes the thread for one frame; rewriting all 64 entries each time touched
// ~20 KB of cold memory before the frame could leave).
static void batch_init(batch_t *b, int on_unix) {
  size_t skip = on_unix ? L2TP_HEADER : 0;
  b->on_unix = on_unix;
  for (int i = 0; i < BATCH; i++) {
    b->iov[i] = (struct iovec){.iov_base = b->buf[i] + skip, .iov_len = SLOT - skip};
    b->msgs[i].msg_hdr = (struct msghdr){.msg_iov = &b->iov[i], .msg_iovlen = 1};
    b->msgs[i].msg_hdr.msg_name = on_unix ? (void *)&b->ufrom[i] : (void *)&b->from[i];
  }
  b->filled = BATCH;
}

// One batch from the UDP socket (b->on_unix = 0) or the unix one: returns whether the batch was full.
static int pump(fastpath *fp, batch_t *b) {
  int on_unix = b->on_unix;
  int fd = on_unix ? fp->ufd : fp->fd;
  // A daemon port's frame is raw Ethernet: it was read after room for the L2TPv3 header it is given.
  size_t skip = on_unix ? L2TP_HEADER : 0;
  for (int i = 0; i < b->filled; i++) {
    b->msgs[i].msg_hdr.msg_namelen = on_unix ? sizeof b->ufrom[i] : sizeof b->from[i];
    b->msgs[i].msg_hdr.msg_flags = 0;
  }
  int n;
  do n = recvmmsg(fd, b->msgs, BATCH, MSG_DONTWAIT, NULL);
  // ECONNREFUSED reports an earlier send to a kernel that is gone (loopback ICMP): read on.
  while (n < 0 && (errno == EINTR || errno == ECONNREFUSED));
  b->filled = n > 0 ? n : 0;
  if (n <= 0) return 0;
  int nout = 0, nuout = 0;
  pthread_mutex_lock(&fp->lock);
  for (int i = 0; i < n && !fp->stop; i++) {
    unsigned char *pk = b->buf[i];
    int truncated = (b->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
    int len = (int)b->msgs[i].msg_len + (int)skip;
    int udp = 0;
    if (on_unix) {
      port_t *from = port_by_addr(fp, &b->ufrom[i], b->msgs[i].msg_hdr.msg_namelen);
      if (!from) continue;  // not a registered guest: nobody may speak for a port
      put_be32(pk, L2TP_FLAGS);
      put_be32(pk + 4, from->session);
    } else {
      udp = b->from[i].sin_family == AF_INET ? ntohs(b->from[i].sin_port) : 0;
      if (udp == 0) continue;  // port 0 marks daemon ports: no UDP sender may claim it
    }
    port_t *dst = truncated ? NULL : fast_destination(fp, pk, len, udp);
    if (dst && dst->daemon) {
      b->uoiov[nuout] = (struct iovec){.iov_base = pk + L2TP_HEADER, .iov_len = (size_t)len - L2TP_HEADER};
      b->uto[nuout] = (struct sockaddr_un){.sun_family = AF_UNIX};
      memcpy(b->uto[nuout].sun_path, dst->addr, sizeof dst->addr);
      b->uout[nuout].msg_hdr = (struct msghdr){.msg_iov = &b->uoiov[nuout], .msg_iovlen = 1, .msg_name = &b->uto[nuout], .msg_namelen = sizeof b->uto[nuout]};
      b->uport[nuout] = dst;
      nuout++;
      continue;
    }
    if (dst) {
      put_be32(pk + 4, dst->session);
      b->oiov[nout] = (struct iovec){.iov_base = pk, .iov_len = (size_t)len};
      b->to[nout] = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(dst->udp), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
      b->out[nout].msg_hdr = (struct msghdr){.msg_iov = &b->oiov[nout], .msg_iovlen = 1, .msg_name = &b->to[nout], .msg_namelen = sizeof b->to[nout]};
      nout++;
      continue;
    }
    // Back-pressure rather than loss: wait until TypeScript has taken some of the queue.
    while (fp->count == QUEUE && !fp->stop) pthread_cond_wait(&fp->room, &fp->lock);
    if (fp->stop) break;
    unsigned at = (fp->head + fp->count) % QUEUE;
    fp->qlen[at] = truncated ? -1 : len;
    fp->qport[at] = udp;
    port_t *src = len >= L2TP_HEADER ? port_find(fp, be32(pk + 4)) : NULL;
    fp->qsrc[at] = src ? (int32_t)(src - fp->ports) : -1;
    if (src) src->queued++;
    if (!truncated) memcpy(fp->q[at], pk, (size_t)len);
    if (fp->count++ == 0) {
      uint64_t one = 1;
      (void)!write(fp->notify, &one, sizeof one);
    }
  }
  pthread_mutex_unlock(&fp->lock);
  if (nout) send_all(fp->fd, b->out, nout);
  if (nuout) send_unix(fp, b, nuout);
  return n == BATCH;
}

static void *forward_loop(void *arg) {
  fastpath *fp = arg;
  // Signals belong to Node's main thread (libuv's handlers): none may interrupt this one.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  batch_t *b[2] = {calloc(1, sizeof(batch_t)), calloc(1, sizeof(batch_t))};
  for (int k = 0; k < 2; k++)
    if (b[k]) b[k]->buf = malloc(BATCH * SLOT);
  if (!b[0] || !b[1] || !b[0]->buf || !b[1]->buf) goto out;
  batch_init(b[0], 0);
  batch_init(b[1], 1);
  for (;;) {
    // poll() ignores a negative fd: without a unix socket the third entry never fires.
    struct pollfd p[3] = {{.fd = fp->fd, .events = POLLIN}, {.fd = fp->wake, .events = POLLIN}, {.fd = fp->ufd, .events = POLLIN}};
    if (poll(p, 3, -1) < 0 && errno != EINTR) break;
    if (__atomic_load_n(&fp->stop, __ATOMIC_ACQUIRE)) break;
    // Only the sockets poll() named (a read of the other would be one more system call before the frame
    // leaves), each again while its batches come full, in turn so that neither starves the other.
    int udp = (p[0].revents & (POLLIN | POLLERR)) != 0, uds = (p[2].revents & (POLLIN | POLLERR)) != 0;
    while ((udp || uds) && !__atomic_load_n(&fp->stop, __ATOMIC_ACQUIRE)) {
      udp = udp && pump(fp, b[0]);
      uds = uds && pump(fp, b[1]);
    }
  }
out:
  for (int k = 0; k < 2; k++) {
    if (b[k]) free(b[k]->buf);
    free(b[k]);
  }
  return NULL;
}

// --- N-API ---

static napi_value undefined(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

static napi_value int_value(napi_env env, int n) {
  napi_value v;
  napi_create_int32(env, n, &v);
  return v;
}

static int args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, fastpath **fp) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *data = NULL;
  if (argc < want || napi_get_value_external(env, argv[0], &data) != napi_ok || !data) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "expected a fast path handle and its arguments");
    return 0;
  }
  *fp = data;
  if (!(*fp)->running) {
    napi_throw_error(env, "ERR_FAST_PATH_STOPPED", "the fast path was stopped");
    return 0;
  }
  return 1;
}

static int num(napi_env env, napi_value v, double *out) {
  if (napi_get_value_double(env, v, out) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "expected a number");
    return 0;
  }
  return 1;
}

static int f64_array(napi_env env, napi_value v, double **data, size_t *len) {
  bool is;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &type, len, (void **)data, &ab, &offset) != napi_ok || type != napi_float64_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "expected a Float64Array");
    return 0;
  }
  return 1;
}

static void stop_thread(fastpath *fp) {
  if (!fp->running) return;
  pthread_mutex_lock(&fp->lock);
  __atomic_store_n(&fp->stop, 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&fp->room);
  pthread_mutex_unlock(&fp->lock);
  uint64_t one = 1;
  (void)!write(fp->wake, &one, sizeof one);
  pthread_join(fp->thread, NULL);
  close(fp->wake);
  close(fp->notify);
  fp->running = 0;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  stop_thread(data);
  pthread_mutex_destroy(&((fastpath *)data)->lock);
  pthread_cond_destroy(&((fastpath *)data)->room);
  free(data);
}

// start(fd, unixFd = -1) → handle. The thread reads the UDP socket fd (and the unix datagram socket
// unixFd, if any) from now on; the caller still owns them (and closes them after stop()). Sends from the
// caller's thread on the same fds stay safe.
static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int fd, ufd = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      (argc > 1 && napi_get_value_int32(env, argv[1], &ufd) != napi_ok)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "expected a socket fd (and a unix socket fd)");
    return NULL;
  }
  fastpath *fp = calloc(1, sizeof *fp);
  if (!fp) {
    napi_throw_error(env, "ENOMEM", "no memory for the fast path");
    return NULL;
  }
  fp->fd = fd;
  fp->ufd = ufd < 0 ? -1 : ufd;
  fp->notify = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  fp->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  pthread_mutex_init(&fp->lock, NULL);
  pthread_cond_init(&fp->room, NULL);
  if (fp->notify < 0 || fp->wake < 0 || pthread_create(&fp->thread, NULL, forward_loop, fp) != 0) {
    int e = errno;
    if (fp->notify >= 0) close(fp->notify);
    if (fp->wake >= 0) close(fp->wake);
    free(fp);
    napi_throw_error(env, "EFASTPATH", strerror(e));
    return NULL;
  }
  fp->running = 1;
  napi_value handle;
  napi_create_external(env, fp, finalize, NULL, &handle);
  return handle;
}

static napi_value js_stop(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  fastpath *fp;
  size_t argc = 1;
  void *data = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || !data) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "expected a fast path handle");
    return NULL;
  }
  fp = data;
  stop_thread(fp);
  return undefined(env);
}

// notifyFd(h): readable while slow-path packets wait (watch it and drain()).
static napi_value js_notify_fd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  fastpath *fp;
  if (!args(env, info, 1, argv, &fp)) return NULL;
  return int_value(env, fp->notify);
}

// setPort(h, session, udpPort, fast)
static napi_value js_set_port(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  fastpath *fp;
  double session, udp;
  bool fast;
  if (!args(env, info, 4, argv, &fp) || !num(env, argv[1], &session) || !num(env, argv[2], &udp)) return NULL;
  napi_get_value_bool(env, argv[3], &fast);
  pthread_mutex_lock(&fp->lock);
  port_t *p = port_find(fp, (uint32_t)session);
  for (int i = 0; !p && i < MAX_PORTS; i++) {
    if (fp->ports[i].used) continue;
    p = &fp->ports[i];
    *p = (port_t){.used = 1, .session = (uint32_t)session};  // stalled and the rest start cleared
    if (i >= fp->nports) fp->nports = i + 1;
  }
  if (p) {
    p->udp = (uint16_t)udp;
    p->fast = fast;
  }
  pthread_mutex_unlock(&fp->lock);
  napi_value v;
  napi_get_boolean(env, p != NULL, &v);
  return v;
}

// setPortAddress(h, session, addr | null): the port speaks the daemon protocol; addr is the 108-byte
// sun_path its guest registered (null: not yet). Its frames then leave through the unix socket.
static napi_value js_set_port_address(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  fastpath *fp;
  double session;
  if (!args(env, info, 3, argv, &fp) || !num(env, argv[1], &session)) return NULL;
  napi_valuetype t;
  napi_typeof(env, argv[2], &t);
  void *data = NULL;
  size_t len = 0;
  bool is_buf = false;
  if (t != napi_null && (napi_is_buffer(env, argv[2], &is_buf) != napi_ok || !is_buf ||
                         napi_get_buffer_info(env, argv[2], &data, &len) != napi_ok || len != sizeof ((port_t *)0)->addr)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "expected a 108-byte Buffer or null");
    return NULL;
  }
  pthread_mutex_lock(&fp->lock);
  port_t *p = port_find(fp, (uint32_t)session);
  if (p) {
    p->daemon = 1;
    p->udp = 0;
    p->has_addr = data != NULL;
    if (data) memcpy(p->addr, data, len);
  }
  pthread_mutex_unlock(&fp->lock);
  napi_value v;
  napi_get_boolean(env, p != NULL, &v);
  return v;
}

// removePort(h, session): the port and every MAC learned on it.
static napi_value js_remove_port(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  fastpath *fp;
  double session;
  if (!args(env, info, 2, argv, &fp) || !num(env, argv[1], &session)) return NULL;
  pthread_mutex_lock(&fp->lock);
  port_t *p = port_find(fp, (uint32_t)session);
  if (p) p->used = 0;
  for (unsigned i = 0; i < MAC_SLOTS;) {
    // A deletion may move a later entry into slot i: look at i again before going on.
    if (fp->macs[i].key && fp->macs[i].session == (uint32_t)session) mac_delete(fp, fp->macs[i].key);
    else i++;
  }
  pthread_mutex_unlock(&fp->lock);
  return undefined(env);
}

// setMac(h, mac, session) / deleteMac(h, mac): mac is the 48-bit address as a number.
static napi_value js_set_mac(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  fastpath *fp;
  double mac, session;
  if (!args(env, info, 3, argv, &fp) || !num(env, argv[1], &mac) || !num(env, argv[2], &session)) return NULL;
  pthread_mutex_lock(&fp->lock);
  mac_set(fp, (uint64_t)mac + 1, (uint32_t)session);
  pthread_mutex_unlock(&fp->lock);
  return undefined(env);
}

static napi_value js_delete_mac(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  fastpath *fp;
  double mac;
  if (!args(env, info, 2, argv, &fp) || !num(env, argv[1], &mac)) return NULL;
  pthread_mutex_lock(&fp->lock);
  mac_delete(fp, (uint64_t)mac + 1);
  pthread_mutex_unlock(&fp->lock);
  return undefined(env);
}

// setAllSlow(h, on): every frame to TypeScript (while a capture runs).
static napi_value js_set_all_slow(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  fastpath *fp;
  bool on;
  if (!args(env, info, 2, argv, &fp)) return NULL;
  napi_get_value_bool(env, argv[1], &on);
  pthread_mutex_lock(&fp->lock);
  fp->all_slow = on;
  pthread_mutex_unlock(&fp->lock);
  return undefined(env);
}

// drain(h, buf, slotBytes, meta) → n: as recvBatch in udg.c (packet i at i * slotBytes, meta[2i] its
// length or -1 when it was truncated, meta[2i+1] its sender's UDP port), from the slow-path queue.
static napi_value js_drain(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  fastpath *fp;
  void *buf;
  size_t len, meta_len;
  int slot;
  int32_t *meta;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  bool is_buf;
  if (!args(env, info, 4, argv, &fp)) return NULL;
  if (napi_is_buffer(env, argv[1], &is_buf) != napi_ok || !is_buf || napi_get_buffer_info(env, argv[1], &buf, &len) != napi_ok ||
      napi_get_value_int32(env, argv[2], &slot) != napi_ok || slot < SLOT ||
      napi_get_typedarray_info(env, argv[3], &type, &meta_len, (void **)&meta, &ab, &offset) != napi_ok || type != napi_int32_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "expected (handle, Buffer, slotBytes >= 2048, Int32Array)");
    return NULL;
  }
  size_t max = len / (size_t)slot;
  if (max > meta_len / 2) max = meta_len / 2;
  int n = 0;
  pthread_mutex_lock(&fp->lock);
  while ((size_t)n < max && fp->count > 0) {
    unsigned at = fp->head;
    meta[2 * n] = fp->qlen[at];
    meta[2 * n + 1] = fp->qport[at];
    if (fp->qlen[at] > 0) memcpy((char *)buf + (size_t)n * (size_t)slot, fp->q[at], (size_t)fp->qlen[at]);
    if (fp->qsrc[at] >= 0) {
      port_t *p = &fp->ports[fp->qsrc[at]];
      if (p->queued > 0) p->queued--;
      p->drained++;
    }
    fp->head = (fp->head + 1) % QUEUE;
    fp->count--;
    n++;
  }
  if (fp->count == 0) {
    uint64_t v;
    (void)!read(fp->notify, &v, sizeof v);  // empty: not readable until the next packet is queued
  }
  if (n > 0) pthread_cond_signal(&fp->room);
  pthread_mutex_unlock(&fp->lock);
  return int_value(env, n);
}

// settle(h): TypeScript has sent what it made of everything drained so far.
static napi_value js_settle(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  fastpath *fp;
  if (!args(env, info, 1, argv, &fp)) return NULL;
  pthread_mutex_lock(&fp->lock);
  for (int i = 0; i < fp->nports; i++) fp->ports[i].drained = 0;
  pthread_mutex_unlock(&fp->lock);
  return undefined(env);
}

// takeSeen(h, out) → pairs: [mac, session] of every MAC the fast path forwarded from since the last
// call (TypeScript refreshes its aging clock with them).
static napi_value js_take_seen(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  fastpath *fp;
  double *out;
  size_t len;
  if (!args(env, info, 2, argv, &fp) || !f64_array(env, argv[1], &out, &len)) return NULL;
  int n = 0;
  pthread_mutex_lock(&fp->lock);
  for (unsigned i = 0; i < MAC_SLOTS && (size_t)(2 * n + 1) < len; i++) {
    if (!fp->macs[i].key || !fp->macs[i].seen) continue;
    fp->macs[i].seen = 0;
    out[2 * n] = (double)(fp->macs[i].key - 1);
    out[2 * n + 1] = fp->macs[i].session;
    n++;
  }
  pthread_mutex_unlock(&fp->lock);
  return int_value(env, n);
}

// takeCounters(h, out) → ports: [session, rxFrames, rxBytes, txFrames] moved by the fast path since
// the last call, for each port that moved any.
static napi_value js_take_counters(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  fastpath *fp;
  double *out;
  size_t len;
  if (!args(env, info, 2, argv, &fp) || !f64_array(env, argv[1], &out, &len)) return NULL;
  int n = 0;
  pthread_mutex_lock(&fp->lock);
  for (int i = 0; i < fp->nports && (size_t)(4 * n + 3) < len; i++) {
    port_t *p = &fp->ports[i];
    if (!p->used || (p->rx_frames == 0 && p->tx_frames == 0)) continue;
    out[4 * n] = p->session;
    out[4 * n + 1] = p->rx_frames;
    out[4 * n + 2] = p->rx_bytes;
    out[4 * n + 3] = p->tx_frames;
    p->rx_frames = p->rx_bytes = p->tx_frames = 0;
    n++;
  }
  pthread_mutex_unlock(&fp->lock);
  return int_value(env, n);
}

NAPI_MODULE_INIT() {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"start", js_start},         {"stop", js_stop},           {"notifyFd", js_notify_fd},
      {"setPort", js_set_port},    {"setPortAddress", js_set_port_address}, {"removePort", js_remove_port},
      {"setMac", js_set_mac},
      {"deleteMac", js_delete_mac}, {"setAllSlow", js_set_all_slow}, {"drain", js_drain},
      {"settle", js_settle},
      {"takeSeen", js_take_seen},  {"takeCounters", js_take_counters},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  return exports;
}
