// LD_PRELOAD shim for UML kernels that predate dynamic XSAVE sizes (Debian's 6.1 among them).
//
// On hosts whose XSAVE area is larger than the kernel's fixed buffer (AVX-512 and AMX CPUs such as
// Sapphire Rapids), the host kernel refuses PTRACE_SETREGSET/NT_X86_XSTATE unless the buffer is exactly
// its full size, and UML dies at its first userspace process with "ptrace set fp regs failed, errno = 14".
// This shim completes the short buffer: it reads the traced process's full state, lays UML's bytes over
// the start of it and writes the full-size buffer back. State beyond UML's buffer (AVX-512 upper halves)
// keeps the value the traced host process already had.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef long (*ptrace_fn)(int, pid_t, void *, void *);
static ptrace_fn real_ptrace;

long ptrace(enum __ptrace_request request, ...) {
  va_list ap;
  va_start(ap, request);
  pid_t pid = va_arg(ap, pid_t);
  void *addr = va_arg(ap, void *);
  void *data = va_arg(ap, void *);
  va_end(ap);
  if (!real_ptrace) real_ptrace = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
  if (request == PTRACE_SETREGSET && (long)addr == NT_X86_XSTATE && data) {
    struct iovec *iov = data;
    // UML has no threads (its helpers are clone()d processes sharing memory, and only the main one
    // traces), so one static buffer is enough.
    static unsigned char full[1 << 16] __attribute__((aligned(64)));
    struct iovec whole = {full, sizeof full};
    if (real_ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &whole) == 0 && whole.iov_len > iov->iov_len) {
      memcpy(full, iov->iov_base, iov->iov_len);
      return real_ptrace(PTRACE_SETREGSET, pid, addr, &whole);
    }
  }
  return real_ptrace(request, pid, addr, data);
}
