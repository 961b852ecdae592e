/* umlkit-jail: the last step inside the sandbox before the UML kernel runs. It sets resource limits that
 * bubblewrap cannot (core, nofile, nproc, fsize), sets no_new_privs (again: cheap, and it makes the
 * helper safe to run without bwrap), and execs the kernel. RLIMIT_NPROC is set here, inside the
 * machine's user namespace, because the kernel counts it per user namespace: the limit then bounds this
 * machine's processes, not every process of the user.
 * Usage: umlkit-jail --core=N --nofile=N --nproc=N --fsize=N -- KERNEL ARGS... */
#include <errno.h>
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

static int fail(const char *what, const char *arg) {
  fprintf(stderr, "umlkit-jail: %s %s: %s\n", what, arg, strerror(errno));
  return 126;
}

int main(int argc, char **argv) {
  /* `--probe`: the sandbox probe runs this to learn whether bwrap can build a sandbox on this host. */
  if (argc == 2 && strcmp(argv[1], "--probe") == 0) { puts("umlkit-jail ok"); return 0; }
  int i = 1;
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    int matched = 0;
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
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail("prctl", "PR_SET_NO_NEW_PRIVS");
  /* UML 6.x and later turn address-space randomisation off for themselves and re-exec /proc/self/exe to
   * apply it; the sandbox has no /proc, so that re-exec fails ("readlink failure"). Turning it off here,
   * as the kernel would, spares it the re-exec (docs/kernels.md). Kernels that do not ask (6.1) keep it. */
  if (getenv("UMLKIT_JAIL_NO_ASLR")) personality(ADDR_NO_RANDOMIZE);
  execv(argv[i + 1], argv + i + 1);
  return fail("exec", argv[i + 1]);
}
