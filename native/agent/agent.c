// umlkit guest agent: PID 1 of the initramfs that umlkit passes to every machine with `initrd=`.
//
// It mounts the machine's real root (ubda), then either
//   run mode:  stays PID 1 and runs the commands the host sends, chrooted into that root, or
//   boot mode: forks itself into a helper chrooted into the root and execs the image's own init.
// Either way it serves the agent line (a raw UML serial line, /dev/ttyS1 by default) with the framing
// of src/core/agent-protocol.ts: u8 type | u32 LE session | u32 LE length | payload.
//
// Built with `gcc -static` so it needs nothing from the image: images stay unmodified.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define G_HELLO 0x01
#define G_STARTED 0x02
#define G_STDOUT 0x03
#define G_STDERR 0x04
#define G_EXIT 0x05
#define G_ERROR 0x06
#define G_PONG 0x07
#define G_STDIN_ACK 0x08
#define H_EXEC 0x81
#define H_STDIN 0x82
#define H_STDIN_EOF 0x83
#define H_SIGNAL 0x84
#define H_RESIZE 0x85
#define H_PING 0x86
#define H_POWEROFF 0x87

#define MAX_SESSIONS 64
#define MAX_PAYLOAD (1u << 20)
#define IO_CHUNK 65536
#define NEWROOT "/newroot"

extern char **environ;

struct session {
  int used;
  uint32_t id;
  pid_t pid;
  int tty;
  int out_fd;  // stdout pipe, or the pty master
  int err_fd;  // stderr pipe, -1 with a tty
  int in_fd;   // stdin pipe, or the pty master (dup)
  char *in_buf;
  size_t in_len, in_cap;
  int in_eof;  // host said EOF; close in_fd once in_buf is drained
};

static struct session sessions[MAX_SESSIONS];
// Written by a vfork child that failed before or at exec; read by the agent once it runs again.
static volatile struct {
  const char *stage;
  int err;
} exec_failure;
static int line_fd = -1;
// The read end of a pipe whose write end is closed: stdin for commands the host says have none (EXEC
// flag 2). Shared by every such session, so an empty stdin costs no system call.
static int empty_fd = -1;
static int run_mode = 1;
static const char *root_prefix = NEWROOT;  // where the real root is, seen from the agent

static void logmsg(const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (n > 0) (void)!write(fd, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
    close(fd);
  }
}

static void write_full(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd pf = {fd, POLLOUT, 0};
        poll(&pf, 1, -1);
        continue;
      }
      return;  // the host went away; the read side notices and powers off
    }
    p += n;
    len -= (size_t)n;
  }
}

static void put32(unsigned char *p, uint32_t v) {
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = (v >> 24) & 0xff;
}

static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

// One write per frame keeps frames whole on the line even when several are sent back to back.
static void send_frame(int type, uint32_t sid, const void *payload, size_t len) {
  static unsigned char buf[9 + IO_CHUNK + 1024];
  unsigned char *out = buf;
  unsigned char *heap = NULL;
  if (len > IO_CHUNK + 1024) out = heap = malloc(9 + len);
  if (!out) return;
  out[0] = (unsigned char)type;
  put32(out + 1, sid);
  put32(out + 5, (uint32_t)len);
  if (len) memcpy(out + 9, payload, len);
  write_full(line_fd, out, 9 + len);
  free(heap);
}

static void send_error(uint32_t sid, const char *stage, int err, const char *detail) {
  char text[1024];
  int n = snprintf(text, sizeof text, "%s\n%d\n%s\n%s", stage, err, strerror(err), detail ? detail : "");
  send_frame(G_ERROR, sid, text, n > 0 ? (size_t)n : 0);
}

static void send_exit(uint32_t sid, int code, int sig) {
  unsigned char p[8];
  put32(p, (uint32_t)code);
  put32(p + 4, (uint32_t)sig);
  send_frame(G_EXIT, sid, p, 8);
}

static const char *cmdline_value(const char *key, char *out, size_t cap, const char *fallback) {
  char buf[4096];
  int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  if (fd >= 0) close(fd);
  if (n <= 0) return fallback;
  buf[n] = 0;
  size_t klen = strlen(key);
  for (char *tok = strtok(buf, " \n"); tok; tok = strtok(NULL, " \n")) {
    if (strncmp(tok, key, klen) == 0 && tok[klen] == '=') {
      snprintf(out, cap, "%s", tok + klen + 1);
      return out;
    }
  }
  return fallback;
}

static void mount_if_dir(const char *src, const char *dir, const char *type, unsigned long flags, const char *data) {
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    if (mkdir(dir, 0755) != 0) return;  // a read-only root without the directory: skip it
  }
  mount(src, dir, type, flags, data);
}

// Host directories shared with `--share HOST:GUEST[:ro]` arrive as umlkit_shareN=HOST:GUEST:ro|rw and are
// mounted with hostfs (the host side makes :ro binding; MS_RDONLY here only mirrors it).
static void mount_shares(void) {
  for (int i = 0; i < 16; i++) {
    char key[32], spec[1024], target[1100];
    snprintf(key, sizeof key, "umlkit_share%d", i);
    if (!cmdline_value(key, spec, sizeof spec, NULL)) break;
    char *guest = strchr(spec, ':');
    char *mode = guest ? strchr(guest + 1, ':') : NULL;
    if (!guest || !mode) continue;
    *guest++ = 0;
    *mode++ = 0;
    snprintf(target, sizeof target, "%s%s", NEWROOT, guest);
    for (char *p = target + strlen(NEWROOT) + 1; *p; p++) {
      if (*p != '/') continue;
      *p = 0;
      mkdir(target, 0755);
      *p = '/';
    }
    mkdir(target, 0755);
    if (mount("none", target, "hostfs", strcmp(mode, "ro") == 0 ? MS_RDONLY : 0, spec) != 0)
      logmsg("umlkit-agent: cannot mount share %s at %s: %s\n", spec, guest, strerror(errno));
  }
}

// Try each block filesystem the kernel knows until one mounts the root device.
static int mount_root(const char *dev, const char *fstype, int *err_out) {
  if (fstype && *fstype) {
    if (mount(dev, NEWROOT, fstype, 0, NULL) == 0) return 0;
    *err_out = errno;
    return -1;
  }
  char buf[4096];
  int fd = open("/proc/filesystems", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  if (fd >= 0) close(fd);
  *err_out = ENODEV;
  if (n <= 0) return -1;
  buf[n] = 0;
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
    if (strncmp(line, "nodev", 5) == 0) continue;
    while (*line == '\t' || *line == ' ') line++;
    if (mount(dev, NEWROOT, line, 0, NULL) == 0) return 0;
    if (errno != EINVAL && errno != ENODEV) *err_out = errno;
  }
  return -1;
}

static void set_raw(int fd) {
  struct termios t;
  if (tcgetattr(fd, &t) == 0) {
    cfmakeraw(&t);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    tcsetattr(fd, TCSANOW, &t);
  }
}

// Pipes and pty masters carry no other status flag here, so one fcntl is enough (a system call saved).
static void nonblock(int fd) { fcntl(fd, F_SETFL, O_NONBLOCK); }

static struct session *find_session(uint32_t id) {
  for (int i = 0; i < MAX_SESSIONS; i++)
    if (sessions[i].used && sessions[i].id == id) return &sessions[i];
  return NULL;
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static void free_session(struct session *s) {
  if (s->in_fd != s->out_fd) close_fd(&s->in_fd);
  s->in_fd = -1;
  close_fd(&s->out_fd);
  close_fd(&s->err_fd);
  free(s->in_buf);
  memset(s, 0, sizeof *s);
  s->out_fd = s->err_fd = s->in_fd = -1;
}

// Reads what a stream has right now; returns 0 at EOF (or EIO from a pty whose slave closed).
static int pump_output(struct session *s, int *fd, int type) {
  static char buf[IO_CHUNK];
  for (;;) {
    ssize_t n = read(*fd, buf, sizeof buf);
    if (n > 0) {
      send_frame(type, s->id, buf, (size_t)n);
      if ((size_t)n < sizeof buf) return 1;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 1;
    if (s->in_fd == *fd) s->in_fd = -1;
    close_fd(fd);
    return 0;
  }
}

static void flush_stdin(struct session *s) {
  if (s->in_fd < 0) {
    s->in_len = 0;
    return;
  }
  size_t done = 0;
  while (done < s->in_len) {
    ssize_t n = write(s->in_fd, s->in_buf + done, s->in_len - done);
    if (n > 0) {
      done += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    done = s->in_len;  // EPIPE: the command stopped reading; drop the rest as a pipe would
    break;
  }
  if (done > 0) {
    memmove(s->in_buf, s->in_buf + done, s->in_len - done);
    s->in_len -= done;
    unsigned char ack[4];
    put32(ack, (uint32_t)done);
    send_frame(G_STDIN_ACK, s->id, ack, 4);
  }
  if (s->in_len == 0 && s->in_eof == 1) {
    if (s->tty) {
      const char eot = 4;  // ^D: end of input for the program reading the terminal
      (void)!write(s->in_fd, &eot, 1);
    } else {
      close_fd(&s->in_fd);
    }
    s->in_eof = 2;
  }
}

// execvp with the PATH of the command's own environment (glibc's execvpe searches the caller's PATH).
static void exec_search(char **argv, char **envp) {
  if (strchr(argv[0], '/')) {
    execve(argv[0], argv, envp);
    return;
  }
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (char **e = envp; *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
  int denied = 0;
  char full[4096];
  for (const char *p = path;; p++) {
    const char *end = strchr(p, ':');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len + strlen(argv[0]) + 2 < sizeof full) {
      if (len == 0) snprintf(full, sizeof full, "%s", argv[0]);
      else snprintf(full, sizeof full, "%.*s/%s", (int)len, p, argv[0]);
      execve(full, argv, envp);
      if (errno == EACCES) denied = 1;
      if (errno == ENOEXEC) {
        // A script without #!: run it with the shell, as execvp does.
        char *sh_argv[256] = {"/bin/sh", full};
        for (int i = 1; argv[i] && i < 254; i++) sh_argv[i + 1] = argv[i];
        execve("/bin/sh", sh_argv, envp);
      }
    }
    if (!end) break;
    p = end;
  }
  errno = denied ? EACCES : ENOENT;
}

static void start_session(uint32_t sid, const unsigned char *p, uint32_t len) {
  if (find_session(sid) || len < 16) {
    send_error(sid, "exec", EINVAL, "duplicate session or short request");
    send_exit(sid, 126, 0);
    return;
  }
  struct session *s = NULL;
  for (int i = 0; i < MAX_SESSIONS && !s; i++)
    if (!sessions[i].used) s = &sessions[i];
  if (!s) {
    send_error(sid, "exec", EAGAIN, "too many sessions");
    send_exit(sid, 126, 0);
    return;
  }
  uint32_t flags = get32(p), argc = get32(p + 8), envc = get32(p + 12);
  uint16_t rows = (uint16_t)(p[4] | p[5] << 8), cols = (uint16_t)(p[6] | p[7] << 8);
  char **strings = calloc(argc + envc + 3, sizeof(char *));
  char *copy = malloc(len - 16 + 1);
  memcpy(copy, p + 16, len - 16);
  copy[len - 16] = 0;
  uint32_t count = 0;
  for (char *at = copy; at < copy + (len - 16) && count < argc + envc + 1; at += strlen(at) + 1)
    strings[count++] = at;
  if (count != argc + envc + 1 || argc == 0) {
    free(strings);
    free(copy);
    send_error(sid, "exec", EINVAL, "malformed request");
    send_exit(sid, 126, 0);
    return;
  }
  char *cwd = strings[0];
  char **argv = calloc(argc + 1, sizeof(char *));
  char **envp = calloc(envc + 1, sizeof(char *));
  for (uint32_t i = 0; i < argc; i++) argv[i] = strings[1 + i];
  for (uint32_t i = 0; i < envc; i++) envp[i] = strings[1 + argc + i];

  int tty = flags & 1;
  int no_stdin = !tty && (flags & 2) && empty_fd >= 0;
  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  int master = -1, slave = -1;
  char ptmx[64];
  snprintf(ptmx, sizeof ptmx, "%s/dev/ptmx", root_prefix);
  if (tty) {
    master = open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master >= 0 && unlockpt(master) == 0) slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (slave < 0) {
      send_error(sid, "pty", errno, ptmx);
      send_exit(sid, 126, 0);
      close_fd(&master);
      goto out;
    }
    struct winsize ws = {rows ? rows : 24, cols ? cols : 80, 0, 0};
    ioctl(master, TIOCSWINSZ, &ws);
  } else if ((!no_stdin && pipe2(in_pipe, O_CLOEXEC)) || pipe2(out_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC)) {
    send_error(sid, "pipe", errno, NULL);
    send_exit(sid, 126, 0);
    goto out;
  }
  // vfork: the child borrows our memory until it execs. That spares UML the copy of a whole address
  // space, which is most of what a guest fork costs. The child only makes system calls and touches its
  // own locals and the failure record below, as a vfork child may (so no `environ = ...`: exec_search
  // takes the environment). Each guest system call costs UML a round of ptrace stops, so the child makes
  // as few as it can: the only disposition to reset is SIGPIPE (the agent ignores nothing else, and
  // exec resets handled signals itself), and a failure is reported through the shared memory instead
  // of a status pipe.
  exec_failure.stage = NULL;
  exec_failure.err = 0;
  pid_t pid = vfork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    setsid();
    if (tty) {
      ioctl(slave, TIOCSCTTY, 0);
      dup2(slave, 0);
      dup2(slave, 1);
      dup2(slave, 2);
    } else {
      dup2(no_stdin ? empty_fd : in_pipe[0], 0);
      dup2(out_pipe[1], 1);
      dup2(err_pipe[1], 2);
    }
    const char *stage = "chroot";
    if (run_mode && chroot(NEWROOT) != 0) goto fail;
    stage = "chdir";
    if (chdir(cwd) != 0) goto fail;
    stage = "exec";
    exec_search(argv, envp);
  fail:
    exec_failure.err = errno;
    exec_failure.stage = stage;
    _exit(strcmp(stage, "exec") == 0 ? (exec_failure.err == ENOENT ? 127 : 126) : 1);
  }
  if (pid < 0) {
    send_error(sid, "fork", errno, NULL);
    send_exit(sid, 126, 0);
    close_fd(&master);
    goto out;
  }
  // The parent runs again once the child has exec'd or exited; a failing child left its stage behind.
  if (exec_failure.stage) {
    const char *stage = exec_failure.stage;
    send_error(sid, stage, exec_failure.err, strcmp(stage, "chdir") == 0 ? cwd : argv[0]);
  }
  memset(s, 0, sizeof *s);
  s->used = 1;
  s->id = sid;
  s->pid = pid;
  s->tty = tty;
  if (tty) {
    s->out_fd = master;
    s->in_fd = master;
    s->err_fd = -1;
    nonblock(master);
  } else {
    s->out_fd = out_pipe[0];
    s->err_fd = err_pipe[0];
    s->in_fd = in_pipe[1];
    if (no_stdin) s->in_eof = 2;  // nothing to write, nothing to close
    out_pipe[0] = err_pipe[0] = in_pipe[1] = -1;
    nonblock(s->out_fd);
    nonblock(s->err_fd);
    if (s->in_fd >= 0) nonblock(s->in_fd);
  }
  unsigned char pidbuf[4];
  put32(pidbuf, (uint32_t)pid);
  send_frame(G_STARTED, sid, pidbuf, 4);
out:
  close_fd(&slave);
  for (int i = 0; i < 2; i++) {
    close_fd(&in_pipe[i]);
    close_fd(&out_pipe[i]);
    close_fd(&err_pipe[i]);
  }
  free(argv);
  free(envp);
  free(strings);
  free(copy);
}

// Flush every filesystem and take the root down so that a power-off loses nothing.
static void power_off(int code) {
  sync();
  if (run_mode) {
    char mounts[16384];
    int fd = open("/proc/mounts", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, mounts, sizeof mounts - 1) : -1;
    if (fd >= 0) close(fd);
    char *targets[256];
    int count = 0;
    if (n > 0) {
      mounts[n] = 0;
      for (char *line = strtok(mounts, "\n"); line && count < 256; line = strtok(NULL, "\n")) {
        char *sp = strchr(line, ' ');
        if (!sp) continue;
        char *target = sp + 1;
        char *end = strchr(target, ' ');
        if (end) *end = 0;
        if (strncmp(target, NEWROOT, strlen(NEWROOT)) == 0) targets[count++] = target;
      }
    }
    for (int i = count - 1; i >= 0; i--) {
      if (umount2(targets[i], 0) != 0) mount(NULL, targets[i], NULL, MS_REMOUNT | MS_RDONLY, NULL);
    }
    sync();
  }
  int fd = open("/proc/exitcode", O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    char text[16];
    int n = snprintf(text, sizeof text, "%d", code & 0xff);
    (void)!write(fd, text, (size_t)n);
    close(fd);
  }
  reboot(RB_POWER_OFF);
  _exit(code);
}

static void handle_frame(int type, uint32_t sid, const unsigned char *p, uint32_t len) {
  struct session *s = find_session(sid);
  switch (type) {
    case H_EXEC:
      start_session(sid, p, len);
      break;
    case H_STDIN:
      if (!s || s->in_eof) break;
      if (s->in_len + len > s->in_cap) {
        s->in_cap = (s->in_len + len) * 2;
        s->in_buf = realloc(s->in_buf, s->in_cap);
      }
      memcpy(s->in_buf + s->in_len, p, len);
      s->in_len += len;
      flush_stdin(s);
      break;
    case H_STDIN_EOF:
      if (!s) break;
      if (!s->in_eof) s->in_eof = 1;
      flush_stdin(s);
      break;
    case H_SIGNAL:
      if (s && len >= 4 && s->pid > 0) kill(-s->pid, (int)get32(p));
      break;
    case H_RESIZE:
      if (s && s->tty && len >= 4) {
        struct winsize ws = {(unsigned short)(p[0] | p[1] << 8), (unsigned short)(p[2] | p[3] << 8), 0, 0};
        ioctl(s->out_fd, TIOCSWINSZ, &ws);
      }
      break;
    case H_PING:
      send_frame(G_PONG, sid, p, len);
      break;
    case H_POWEROFF:
      power_off(len >= 4 ? (int)get32(p) : 0);
      break;
    default:
      send_error(sid, "protocol", EINVAL, "unknown frame type");
  }
}

static void reap(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (int i = 0; i < MAX_SESSIONS; i++) {
      struct session *s = &sessions[i];
      if (!s->used || s->pid != pid) continue;
      // Output written before exit is already in the pipe: drain it, then report the status.
      if (s->out_fd >= 0) pump_output(s, &s->out_fd, G_STDOUT);
      if (s->err_fd >= 0) pump_output(s, &s->err_fd, G_STDERR);
      if (WIFSIGNALED(status))
        send_exit(s->id, 128 + WTERMSIG(status), WTERMSIG(status));
      else
        send_exit(s->id, WEXITSTATUS(status), 0);
      free_session(s);
    }
  }
}

static void serve(int sigfd) {
  static unsigned char buf[MAX_PAYLOAD + 9 + IO_CHUNK];
  size_t used = 0;
  for (;;) {
    struct pollfd fds[2 + MAX_SESSIONS * 3];
    struct session *owner[2 + MAX_SESSIONS * 3];
    int nfds = 0;
    fds[nfds] = (struct pollfd){line_fd, POLLIN, 0};
    owner[nfds++] = NULL;
    fds[nfds] = (struct pollfd){sigfd, POLLIN, 0};
    owner[nfds++] = NULL;
    for (int i = 0; i < MAX_SESSIONS; i++) {
      struct session *s = &sessions[i];
      if (!s->used) continue;
      if (s->out_fd >= 0) {
        fds[nfds] = (struct pollfd){s->out_fd, POLLIN, 0};
        owner[nfds++] = s;
      }
      if (s->err_fd >= 0) {
        fds[nfds] = (struct pollfd){s->err_fd, POLLIN, 0};
        owner[nfds++] = s;
      }
      if (s->in_len > 0 && s->in_fd >= 0 && s->in_fd != s->out_fd) {
        fds[nfds] = (struct pollfd){s->in_fd, POLLOUT, 0};
        owner[nfds++] = s;
      }
    }
    if (poll(fds, (nfds_t)nfds, -1) < 0) continue;
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sigfd, &si, sizeof si) == sizeof si) {
      }
      reap();
      continue;  // sessions may have gone: rebuild the poll set
    }
    for (int i = 2; i < nfds; i++) {
      struct session *s = owner[i];
      if (!fds[i].revents || !s->used) continue;
      if (fds[i].events & POLLOUT) {
        flush_stdin(s);
      } else if (fds[i].fd == s->out_fd) {
        pump_output(s, &s->out_fd, G_STDOUT);
      } else if (fds[i].fd == s->err_fd) {
        pump_output(s, &s->err_fd, G_STDERR);
      }
      if (s->tty && s->in_len > 0) flush_stdin(s);
    }
    if (fds[0].revents) {
      ssize_t n = read(line_fd, buf + used, sizeof buf - used);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        // The host end closed: the machine's owner (the CLI of a run, or the supervisor) is gone, and
        // with it the console and every way in. Power off rather than linger as an orphan; a booted
        // guest first gets its init's own shutdown (SIGUSR2: busybox, SIGRTMIN+4: systemd; init
        // ignores the one it has no handler for).
        if (!run_mode) {
          kill(1, SIGUSR2);
          kill(1, SIGRTMIN + 4);
          sleep(10);
        }
        power_off(1);
      }
      if (n > 0) used += (size_t)n;
      size_t at = 0;
      while (used - at >= 9) {
        uint32_t len = get32(buf + at + 5);
        if (len > MAX_PAYLOAD) {
          logmsg("umlkit-agent: frame of %u bytes: line out of sync\n", len);
          if (run_mode) power_off(1);
          used = at = 0;
          break;
        }
        if (used - at < 9 + len) break;
        handle_frame(buf[at], get32(buf + at + 1), buf + at + 9, len);
        at += 9 + len;
      }
      if (at > 0) {
        memmove(buf, buf + at, used - at);
        used -= at;
      }
    }
  }
}

static void open_empty_stdin(void) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return;  // then every session gets a stdin pipe of its own
  close(p[1]);
  empty_fd = p[0];
}

static void hello(const char *mode) {
  struct utsname u;
  uname(&u);
  char text[256];
  int n = snprintf(text, sizeof text, "{\"version\":1,\"mode\":\"%s\",\"kernel\":\"%s\"}", mode, u.release);
  send_frame(G_HELLO, 0, text, (size_t)n);
}

int main(void) {
  if (getpid() != 1) {
    fprintf(stderr, "umlkit-agent: this program is the init of a umlkit machine's initramfs\n");
    return 2;
  }
  mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
  mount("proc", "/proc", "proc", 0, NULL);
  mount("sysfs", "/sys", "sysfs", 0, NULL);

  char mode[16], dev[64], fstype[32], line[64], init[256];
  cmdline_value("umlkit_mode", mode, sizeof mode, "run");
  const char *root_dev = cmdline_value("umlkit_root", dev, sizeof dev, "/dev/ubda");
  const char *root_type = cmdline_value("umlkit_rootfstype", fstype, sizeof fstype, "");
  const char *line_path = cmdline_value("umlkit_line", line, sizeof line, "/dev/ttyS1");
  const char *init_path = cmdline_value("umlkit_init", init, sizeof init, "/sbin/init");
  run_mode = strcmp(mode, "boot") != 0;

  line_fd = open(line_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (line_fd < 0) {
    logmsg("umlkit-agent: cannot open agent line %s: %s\n", line_path, strerror(errno));
  } else {
    set_raw(line_fd);
  }

  mkdir(NEWROOT, 0755);
  int err = 0;
  if (mount_root(root_dev, root_type, &err) != 0) {
    logmsg("umlkit-agent: cannot mount root %s: %s\n", root_dev, strerror(err));
    if (line_fd >= 0) {
      // The failure goes first, so the host has it in hand by the time it sees the hello.
      send_error(0, "mount-root", err, root_dev);
      hello(mode);
    }
    power_off(1);
  }
  mount_if_dir("devtmpfs", NEWROOT "/dev", "devtmpfs", 0, NULL);
  mount_if_dir("devpts", NEWROOT "/dev/pts", "devpts", 0, "gid=5,mode=620,ptmxmode=666");
  mount_if_dir("proc", NEWROOT "/proc", "proc", 0, NULL);
  mount_if_dir("sysfs", NEWROOT "/sys", "sysfs", 0, NULL);
  mount_shares();
  // devtmpfs lacks the links udev would add; programs expect /dev/stdin and friends.
  symlink("/proc/self/fd", NEWROOT "/dev/fd");
  symlink("/proc/self/fd/0", NEWROOT "/dev/stdin");
  symlink("/proc/self/fd/1", NEWROOT "/dev/stdout");
  symlink("/proc/self/fd/2", NEWROOT "/dev/stderr");
  char host[64];
  const char *hostname = cmdline_value("umlkit_hostname", host, sizeof host, "umlkit");
  sethostname(hostname, strlen(hostname));

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  signal(SIGPIPE, SIG_IGN);

  if (!run_mode) {
    // Boot mode: the child becomes the agent inside the real root; PID 1 becomes the image's init.
    int sync_pipe[2];
    if (pipe2(sync_pipe, O_CLOEXEC) != 0) power_off(1);
    pid_t pid = fork();
    if (pid == 0) {
      close(sync_pipe[0]);
      setsid();
      if (chroot(NEWROOT) != 0 || chdir("/") != 0) _exit(1);
      root_prefix = "";
      close(sync_pipe[1]);  // tells PID 1 that the root may now be moved
      int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
      open_empty_stdin();
      if (line_fd >= 0) {
        hello(mode);
        serve(sigfd);
      }
      _exit(0);
    }
    close(sync_pipe[1]);
    char ignored;
    while (read(sync_pipe[0], &ignored, 1) < 0 && errno == EINTR) {
    }
    close(sync_pipe[0]);
    close_fd(&line_fd);
    sigprocmask(SIG_UNBLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (chdir(NEWROOT) == 0 && mount(".", "/", NULL, MS_MOVE, NULL) == 0 && chroot(".") == 0 && chdir("/") == 0) {
      char *argv[] = {(char *)init_path, NULL};
      execv(init_path, argv);
      logmsg("umlkit-agent: cannot exec %s: %s\n", init_path, strerror(errno));
    } else {
      logmsg("umlkit-agent: cannot switch to the real root: %s\n", strerror(errno));
    }
    power_off(1);
  }

  int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (line_fd < 0) power_off(1);
  open_empty_stdin();
  hello(mode);
  serve(sigfd);
  return 0;
}
