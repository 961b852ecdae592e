/* umlkit-jail: the last step inside the sandbox before the UML kernel runs. It sets resource limits that
 * bubblewrap cannot (core, nofile, nproc, fsize), sets no_new_privs (again: cheap, and it makes the
 * helper safe to run without bwrap), and execs the kernel. RLIMIT_NPROC is set here, inside the
 * machine's user namespace, because the kernel counts it per user namespace: the limit then bounds this
 * machine's processes, not every process of the user.
 * Where bwrap cannot run (user namespaces blocked), it is the sandbox itself: a Landlock ruleset (only the
 * given paths, no TCP, no abstract sockets or signals outside) and the seccomp program from an fd.
 * With --cgroup=DIR it first moves itself into the machine's cgroup (writes its pid to DIR/cgroup.procs),
 * before it execs bwrap or the kernel: every process of the machine is then born inside the cgroup.
 * Usage: umlkit-jail [--cgroup=DIR] [--core=N --nofile=N --nproc=N --fsize=N] [--ro=PATH]... [--rw=PATH]...
 *        [--seccomp-fd=N] -- KERNEL ARGS...      umlkit-jail --probe | --landlock-abi */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

static const struct { const char *name; int resource; } LIMITS[] = {
  {"--core=", RLIMIT_CORE}, {"--nofile=", RLIMIT_NOFILE}, {"--nproc=", RLIMIT_NPROC}, {"--fsize=", RLIMIT_FSIZE},
};

/* Landlock UAPI, spelled out: Debian 12's headers predate ABI 4-6. */
#define LL_CREATE_RULESET 444
#define LL_ADD_RULE 445
#define LL_RESTRICT_SELF 446
#define LL_VERSION 1u
#define LL_RULE_PATH_BENEATH 1
#define FS_EXECUTE (1ull << 0)
#define FS_WRITE_FILE (1ull << 1)
#define FS_READ_FILE (1ull << 2)
#define FS_READ_DIR (1ull << 3)
#define FS_TRUNCATE (1ull << 14)
#define FS_IOCTL_DEV (1ull << 15)
struct ll_ruleset { uint64_t fs, net, scoped; };
struct ll_path { uint64_t allowed; int32_t fd; } __attribute__((packed));

static int abi(void) { return (int)syscall(LL_CREATE_RULESET, NULL, 0, LL_VERSION); }

/* Every right this ABI knows (a right the kernel does not know makes create_ruleset fail). */
static uint64_t all_fs(int v) {
  uint64_t r = (1ull << 13) - 1;
  if (v >= 2) r |= 1ull << 13;
  if (v >= 3) r |= FS_TRUNCATE;
  if (v >= 5) r |= FS_IOCTL_DEV;
  return r;
}
static const uint64_t FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV;

static int landlock(char **ro, int nro, char **rw, int nrw) {
  int v = abi();
  if (v < 1) return -1;
  struct ll_ruleset attr = {all_fs(v), v >= 4 ? 3ull : 0, v >= 6 ? 3ull : 0};
  size_t size = v >= 6 ? sizeof attr : v >= 4 ? 16 : 8;
  int rs = (int)syscall(LL_CREATE_RULESET, &attr, size, 0);
  if (rs < 0) return -1;
  for (int k = 0; k < nro + nrw; k++) {
    const char *path = k < nro ? ro[k] : rw[k - nro];
    int fd = open(path, O_PATH | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) { fprintf(stderr, "umlkit-jail: %s: %s\n", path, strerror(errno)); return -1; }
    uint64_t want = k < nro ? (FS_READ_FILE | FS_READ_DIR | FS_EXECUTE) : all_fs(v);
    if (!S_ISDIR(st.st_mode)) want &= FILE_RIGHTS;
    struct ll_path rule = {want & all_fs(v), fd};
    if (syscall(LL_ADD_RULE, rs, LL_RULE_PATH_BENEATH, &rule, 0) != 0) {
      fprintf(stderr, "umlkit-jail: landlock rule %s: %s\n", path, strerror(errno));
      return -1;
    }
    close(fd);
  }
  if (syscall(LL_RESTRICT_SELF, rs, 0) != 0) return -1;
  close(rs);
  return v;
}

static int load_seccomp(int fd) {
  static struct sock_filter prog[4096];
  size_t got = 0;
  for (;;) {
    ssize_t n = read(fd, (char *)prog + got, sizeof prog - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(fd);
  if (got == 0 || got % sizeof prog[0]) { errno = EINVAL; return -1; }
  struct sock_fprog f = {(unsigned short)(got / sizeof prog[0]), prog};
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &f, 0, 0);
}

static int fail(const char *what, const char *arg) {
  fprintf(stderr, "umlkit-jail: %s %s: %s\n", what, arg, strerror(errno));
  return 126;
}

/* Join DIR: one write of our pid to DIR/cgroup.procs (O_CREAT only matters for a test's plain tree). */
static int join_cgroup(const char *dir) {
  char path[4096], pid[32];
  if (snprintf(path, sizeof path, "%s/cgroup.procs", dir) >= (int)sizeof path) { errno = ENAMETOOLONG; return -1; }
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
  ssize_t w = write(fd, pid, (size_t)n);
  int saved = errno;
  close(fd);
  if (w != n) { errno = w < 0 ? saved : EIO; return -1; }
  return 0;
}

int main(int argc, char **argv) {
  /* `--probe`: the sandbox probe runs this to learn whether bwrap can build a sandbox on this host. */
  if (argc == 2 && strcmp(argv[1], "--probe") == 0) { puts("umlkit-jail ok"); return 0; }
  if (argc == 2 && strcmp(argv[1], "--landlock-abi") == 0) { printf("%d\n", abi()); return 0; }
  char *ro[64], *rw[64];
  int nro = 0, nrw = 0, seccomp_fd = -1;
  const char *cgroup = NULL;
  int i = 1;
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    int matched = 0;
    if (strncmp(argv[i], "--ro=", 5) == 0 && nro < 64) { ro[nro++] = argv[i] + 5; continue; }
    if (strncmp(argv[i], "--rw=", 5) == 0 && nrw < 64) { rw[nrw++] = argv[i] + 5; continue; }
    if (strncmp(argv[i], "--seccomp-fd=", 13) == 0) { seccomp_fd = atoi(argv[i] + 13); continue; }
    if (strncmp(argv[i], "--cgroup=", 9) == 0 && argv[i][9] == '/') { cgroup = argv[i] + 9; continue; }
    for (size_t j = 0; j < sizeof LIMITS / sizeof LIMITS[0]; j++) {
      size_t n = strlen(LIMITS[j].name);
      if (strncmp(argv[i], LIMITS[j].name, n) != 0) continue;
      char *end;
      errno = 0;
      unsigned long long v = strtoull(argv[i] + n, &end, 10);
      if (errno || *end || end == argv[i] + n) { errno = EINVAL; return fail("bad limit", argv[i]); }
      struct rlimit r = {v, v};
      if (setrlimit(LIMITS[j].resource, &r) != 0) return fail("setrlimit", argv[i]);
      matched = 1;
    }
    if (!matched) { errno = EINVAL; return fail("unknown option", argv[i]); }
  }
  if (i + 1 >= argc) { errno = EINVAL; return fail("no program after", "--"); }
  /* First, while the cgroup directory is still reachable (Landlock below would deny it). */
  if (cgroup && join_cgroup(cgroup) != 0) return fail("join cgroup", cgroup);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail("prctl", "PR_SET_NO_NEW_PRIVS");
  if (nro + nrw > 0 && landlock(ro, nro, rw, nrw) < 0) return fail("landlock", "ruleset");
  if (seccomp_fd >= 0 && load_seccomp(seccomp_fd) != 0) return fail("seccomp", "filter");
  /* UML 6.x and later turn address-space randomisation off for themselves and re-exec /proc/self/exe to
   * apply it; the sandbox has no /proc, so that re-exec fails ("readlink failure"). Turning it off here,
   * as the kernel would, spares it the re-exec (docs/kernels.md). Kernels that do not ask (6.1) keep it. */
  if (getenv("UMLKIT_JAIL_NO_ASLR")) personality(ADDR_NO_RANDOMIZE);
  execv(argv[i + 1], argv + i + 1);
  return fail("exec", argv[i + 1]);
}
