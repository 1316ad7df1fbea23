/* Counts the user-space instructions that a command and every process and
 * thread it creates execute, by single-stepping them all with ptrace(2).
 * bench/run.sh uses it beside callgrind because valgrind 3.19 cannot run
 * a container start to the end: it has no clone3, openat2 or new mount
 * API calls, and loses a child's count when the child executes a program.
 *
 * Each count is the number of single-step traps, so a rep-prefixed string
 * instruction counts once per iteration, and instructions in the vDSO
 * count too.  The counts are split by the program each process was
 * executing (the target of its last execve, from /proc/PID/exe), which
 * separates the runtime's own work from the container's /bin/true.
 * Single-stepping makes the command about a thousand times slower.
 *
 * Usage: icount COMMAND [ARG...]
 * Prints, on stderr, "  pid PID: INSTRUCTIONS (last program PATH)" as each
 * process or thread ends, then one line per program, "INSTRUCTIONS
 * PROGRAM", then "INSTRUCTIONS TOTAL", and exits with the command's exit
 * status. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PROGRAMS 64

struct program
{
  char path[PATH_MAX];
  unsigned long long steps;
};

struct tracee
{
  pid_t pid;
  int program; /* index in programs */
  unsigned long long steps;
  struct tracee *next;
};

static struct program programs[MAX_PROGRAMS];
static int n_programs;
static struct tracee *tracees;

static int
program_index (const char *path)
{
  for (int i = 0; i < n_programs; i++)
    if (strcmp (programs[i].path, path) == 0)
      return i;
  if (n_programs == MAX_PROGRAMS)
    return MAX_PROGRAMS - 1;
  snprintf (programs[n_programs].path, sizeof (programs[n_programs].path), "%s", path);
  return n_programs++;
}

static int
program_of_pid (pid_t pid)
{
  char link[64], path[PATH_MAX];
  ssize_t n;

  snprintf (link, sizeof (link), "/proc/%d/exe", (int) pid);
  n = readlink (link, path, sizeof (path) - 1);
  if (n < 0)
    return program_index ("(unknown)");
  path[n] = '\0';
  /* A program executed from a memfd reads as "/memfd:NAME (deleted)":
   * drop the suffix.  NOTE: crun 1.8.1 after its re-exec reads as "/". */
  if (strncmp (path, "/memfd:", 7) == 0)
    {
      char *space = strstr (path, " (deleted)");
      if (space != NULL)
        *space = '\0';
    }
  return program_index (path);
}

static struct tracee *
tracee_find (pid_t pid)
{
  for (struct tracee *t = tracees; t != NULL; t = t->next)
    if (t->pid == pid)
      return t;
  return NULL;
}

static struct tracee *
tracee_add (pid_t pid, int program)
{
  struct tracee *t = calloc (1, sizeof (*t));

  if (t == NULL)
    {
      perror ("icount: calloc");
      exit (125);
    }
  t->pid = pid;
  t->program = program;
  t->next = tracees;
  tracees = t;
  return t;
}

static void
tracee_remove (pid_t pid)
{
  for (struct tracee **p = &tracees; *p != NULL; p = &(*p)->next)
    if ((*p)->pid == pid)
      {
        struct tracee *dead = *p;
        *p = dead->next;
        if (dead->steps > 0)
          fprintf (stderr, "  pid %d: %llu (last program %s)\n", (int) dead->pid, dead->steps,
                   programs[dead->program].path);
        free (dead);
        return;
      }
}

int
main (int argc, char **argv)
{
  const long options = PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE
                       | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
  unsigned long long total = 0;
  int exit_status = 0;
  pid_t command;
  int status;

  if (argc < 2)
    {
      fprintf (stderr, "usage: %s COMMAND [ARG...]\n", argv[0]);
      return 125;
    }

  command = fork ();
  if (command < 0)
    {
      perror ("icount: fork");
      return 125;
    }
  if (command == 0)
    {
      ptrace (PTRACE_TRACEME, 0, NULL, NULL);
      raise (SIGSTOP);
      execvp (argv[1], argv + 1);
      fprintf (stderr, "icount: cannot execute %s: %s\n", argv[1], strerror (errno));
      _exit (127);
    }

  if (waitpid (command, &status, 0) != command || !WIFSTOPPED (status))
    {
      fprintf (stderr, "icount: %s did not stop before exec\n", argv[1]);
      return 125;
    }
  if (ptrace (PTRACE_SETOPTIONS, command, NULL, (void *) options) < 0)
    {
      perror ("icount: PTRACE_SETOPTIONS");
      return 125;
    }
  /* The steps up to the exec belong to icount's own child: not counted. */
  tracee_add (command, program_index ("(icount before exec)"));
  ptrace (PTRACE_CONT, command, NULL, NULL);

  while (tracees != NULL)
    {
      pid_t pid = waitpid (-1, &status, __WALL);
      struct tracee *t;
      int signal = 0;

      if (pid < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == ECHILD)
            break;
          perror ("icount: waitpid");
          return 125;
        }

      if (WIFEXITED (status) || WIFSIGNALED (status))
        {
          if (pid == command)
            exit_status = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
          tracee_remove (pid);
          continue;
        }
      if (!WIFSTOPPED (status))
        continue;

      t = tracee_find (pid);
      if (t == NULL)
        /* A new process or thread whose event in its parent has not been
         * seen yet: it starts in the program of whatever it runs. */
        t = tracee_add (pid, program_of_pid (pid));

      if (WSTOPSIG (status) == SIGTRAP)
        {
          int event = status >> 16;

          if (event == PTRACE_EVENT_EXEC)
            t->program = program_of_pid (pid);
          else if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK || event == PTRACE_EVENT_CLONE)
            {
              unsigned long child = 0;

              ptrace (PTRACE_GETEVENTMSG, pid, NULL, &child);
              if (child != 0 && tracee_find ((pid_t) child) == NULL)
                tracee_add ((pid_t) child, t->program);
            }
          else if (event == 0)
            {
              programs[t->program].steps++;
              t->steps++;
            }
        }
      else if (WSTOPSIG (status) != SIGSTOP)
        signal = WSTOPSIG (status);
      /* Otherwise it is the SIGSTOP that starts every new tracee, which is
       * not delivered.  NOTE: a SIGSTOP that the command sends is lost too. */

      if (t->program == 0)
        ptrace (PTRACE_CONT, pid, NULL, (void *) (long) signal);
      else if (ptrace (PTRACE_SINGLESTEP, pid, NULL, (void *) (long) signal) < 0 && errno != ESRCH)
        perror ("icount: PTRACE_SINGLESTEP");
    }

  for (int i = 1; i < n_programs; i++)
    {
      fprintf (stderr, "%llu %s\n", programs[i].steps, programs[i].path);
      total += programs[i].steps;
    }
  fprintf (stderr, "%llu TOTAL\n", total);
  return exit_status;
}
