/* The exec trampoline: the program that a container process executes from
 * a sealed memfd just before the container's command, so that no process
 * in the container ever runs with the agentrun binary as /proc/self/exe.
 *
 * It is freestanding (no libc, no dynamic relocations, raw system calls)
 * and does one thing: execve (path, argv, envp) with what agentrun passed,
 * or report why that failed on stderr and exit 127 or 126 as a shell does.
 * Started in any other way, for example as the interpreter of a script
 * that starts with `#!/proc/self/exe`, it prints an error and exits 126. */

#include <asm/unistd.h>
#include <linux/errno.h>
#include <linux/uio.h>
#include <stddef.h>

#include "trampoline.h"

#define STDERR_FD 2

/* Both supported architectures pass up to three arguments in registers
 * and return a negative errno on failure. */
static long
raw_syscall3 (long number, long arg1, long arg2, long arg3)
{
#if defined(__x86_64__)
  long ret;

  __asm__ volatile ("syscall"
                    : "=a"(ret)
                    : "a"(number), "D"(arg1), "S"(arg2), "d"(arg3)
                    : "rcx", "r11", "memory");
  return ret;
#elif defined(__aarch64__)
  register long x8 __asm__ ("x8") = number;
  register long x0 __asm__ ("x0") = arg1;
  register long x1 __asm__ ("x1") = arg2;
  register long x2 __asm__ ("x2") = arg3;

  __asm__ volatile ("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  return x0;
#else
#error "the exec trampoline supports x86_64 and aarch64 only"
#endif
}

static __attribute__ ((noreturn)) void
exit_group (int status)
{
  for (;;)
    raw_syscall3 (__NR_exit_group, status, 0, 0);
}

static unsigned long
string_length (const char *s)
{
  unsigned long n = 0;

  while (s[n] != '\0')
    n++;
  return n;
}

static int
strings_equal (const char *a, const char *b)
{
  while (*a != '\0' && *a == *b)
    {
      a++;
      b++;
    }
  return *a == *b;
}

/* Writes the strings of parts (NULL-terminated) to stderr in one writev, so
 * that the message stays on one line when several processes share stderr.
 * A failed write is ignored because the exit status still reports it. */
static void
write_stderr (const char *const parts[])
{
  struct iovec iov[8];
  int count = 0;

  for (; count < 8 && parts[count] != NULL; count++)
    {
      iov[count].iov_base = (void *) parts[count];
      iov[count].iov_len = string_length (parts[count]);
    }
  raw_syscall3 (__NR_writev, STDERR_FD, (long) iov, count);
}

/* Returns the text for an errno of execve.  The wording of ENOENT and
 * EACCES matters: podman maps a runtime message that contains "no such
 * file or directory" to exit status 127 and one that contains "permission
 * denied" to 126. */
static const char *
describe_exec_error (int error, char *buffer, unsigned long size)
{
  char *p = buffer + size;

  switch (error)
    {
    case ENOENT:
      return "executable file not found: no such file or directory";
    case EACCES:
      return "permission denied";
    case EPERM:
      return "operation not permitted";
    case ENOEXEC:
      return "exec format error";
    case ETXTBSY:
      return "text file busy";
    case ENOTDIR:
      return "a component of the path is not a directory";
    case EISDIR:
      return "is a directory";
    case ELOOP:
      return "too many levels of symbolic links";
    case ENAMETOOLONG:
      return "file name too long";
    case E2BIG:
      return "argument list too long";
    case ENOMEM:
      return "out of memory";
    case EINVAL:
      return "invalid executable";
    case ELIBBAD:
      return "invalid ELF interpreter";
    default:
      break;
    }

  /* Any other errno prints as "errno N". */
  *--p = '\0';
  do
    {
      *--p = (char) ('0' + error % 10);
      error /= 10;
    }
  while (error > 0 && p > buffer + 6);
  p -= 6;
  for (int i = 0; i < 6; i++)
    p[i] = "errno "[i];
  return p;
}

static __attribute__ ((used, noreturn)) void
trampoline_main (long *stack)
{
  long argc = stack[0];
  char **argv = (char **) (stack + 1);
  char **envp = argv + argc + 1;
  char number[24];
  long ret;
  int error;

  if (argc < 2 || !strings_equal (argv[0], AR_TRAMPOLINE_MAGIC))
    {
      const char *const message[] = {
        "agentrun: the exec trampoline was started as `",
        argc > 0 ? argv[0] : "",
        "`, not by agentrun, so it exits without running anything "
        "(was /proc/self/exe used as a command or as a script interpreter?)\n",
        NULL,
      };
      write_stderr (message);
      exit_group (AR_TRAMPOLINE_EXIT_CANNOT_EXECUTE);
    }

  ret = raw_syscall3 (__NR_execve, (long) argv[1], (long) (argv + 2), (long) envp);

  error = (int) -ret;
  {
    const char *const message[] = {
      "agentrun: cannot execute `", argv[1], "`: ",
      describe_exec_error (error, number, sizeof (number)), "\n", NULL,
    };
    write_stderr (message);
  }
  exit_group (error == ENOENT ? AR_TRAMPOLINE_EXIT_NOT_FOUND : AR_TRAMPOLINE_EXIT_CANNOT_EXECUTE);
}

/* The entry point: the kernel starts the program with argc, argv and envp
 * on the stack, which trampoline_main reads through the pointer it gets. */
#if defined(__x86_64__)
__asm__ (".text\n"
         ".global _start\n"
         ".type _start, @function\n"
         "_start:\n"
         "  xor %ebp, %ebp\n"
         "  mov %rsp, %rdi\n"
         "  and $-16, %rsp\n"
         "  call trampoline_main\n"
         "  hlt\n");
#elif defined(__aarch64__)
__asm__ (".text\n"
         ".global _start\n"
         ".type _start, %function\n"
         "_start:\n"
         "  mov x29, #0\n"
         "  mov x30, #0\n"
         "  mov x0, sp\n"
         "  bl trampoline_main\n"
         "  brk #0\n");
#endif
