/* Measures what the exec guard adds to a container's last exec: the time
 * of fork, exec of /bin/true and waitpid, with a direct execve and with
 * ar_exec_guarded, and the time of ar_exec_guard_prepare alone (creating,
 * filling and sealing the memfd).  The two exec variants alternate in
 * rounds so that drift of the machine affects both alike.
 *
 * Build and run from the top of the tree, after `make`:
 *   cc -O2 -Isandbox -o /tmp/ar-guard-bench bench/exec_guard_bench.c \
 *      libagentrun.a $(pkg-config --libs libseccomp libcap jansson libnl-route-3.0)
 *   /tmp/ar-guard-bench [CALLS]      (default 1000 calls of each kind) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec_guard.h"
#include "oci/error.h"

#define ROUND 50

extern char **environ;

static double
now_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

/* Forks, executes /bin/true in the child and waits; returns the time in
 * microseconds, or a negative value if the child did not exit 0. */
static double
time_one_exec (int guarded)
{
  char *const argv[] = { "true", NULL };
  double start = now_us ();
  int status;
  pid_t pid;

  pid = fork ();
  if (pid < 0)
    return -1;
  if (pid == 0)
    {
      ar_error_t err = NULL;

      if (guarded)
        ar_exec_guarded ("/bin/true", argv, environ, &err);
      else
        execve ("/bin/true", argv, environ);
      _exit (111);
    }
  if (waitpid (pid, &status, 0) != pid || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return -1;
  return now_us () - start;
}

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

struct summary
{
  double median, mean, min;
};

static struct summary
summarize (double *samples, size_t n)
{
  struct summary s = { 0 };
  double sum = 0;

  qsort (samples, n, sizeof (double), compare_double);
  for (size_t i = 0; i < n; i++)
    sum += samples[i];
  s.median = samples[n / 2];
  s.mean = sum / (double) n;
  s.min = samples[0];
  return s;
}

static void
print_summary (const char *label, struct summary s)
{
  printf ("%-28s median %8.1f us   mean %8.1f us   min %8.1f us\n", label, s.median, s.mean, s.min);
}

int
main (int argc, char **argv)
{
  size_t calls = argc > 1 ? strtoul (argv[1], NULL, 10) : 1000;
  double *direct, *guarded, *prepare;
  struct summary d, g, p;

  if (calls < ROUND)
    calls = ROUND;
  calls -= calls % ROUND;
  direct = calloc (calls, sizeof (double));
  guarded = calloc (calls, sizeof (double));
  prepare = calloc (calls, sizeof (double));
  if (direct == NULL || guarded == NULL || prepare == NULL)
    return 1;

  /* Warm up the page cache and the allocator. */
  for (int i = 0; i < 20; i++)
    if (time_one_exec (0) < 0 || time_one_exec (1) < 0)
      {
        fprintf (stderr, "warm-up exec of /bin/true failed\n");
        return 1;
      }

  for (size_t done = 0; done < calls; done += ROUND)
    {
      for (size_t i = done; i < done + ROUND; i++)
        direct[i] = time_one_exec (0);
      for (size_t i = done; i < done + ROUND; i++)
        guarded[i] = time_one_exec (1);
    }

  for (size_t i = 0; i < calls; i++)
    {
      ar_error_t err = NULL;
      double start = now_us ();
      int fd = -1;

      if (ar_exec_guard_prepare (&fd, &err) < 0)
        {
          char *msg = ar_error_format (err);
          fprintf (stderr, "prepare failed: %s\n", msg);
          return 1;
        }
      close (fd);
      prepare[i] = now_us () - start;
    }

  for (size_t i = 0; i < calls; i++)
    if (direct[i] < 0 || guarded[i] < 0)
      {
        fprintf (stderr, "an exec of /bin/true failed\n");
        return 1;
      }

  d = summarize (direct, calls);
  g = summarize (guarded, calls);
  p = summarize (prepare, calls);
  printf ("%zu calls of each kind (fork + exec of /bin/true + waitpid)\n", calls);
  print_summary ("direct execve", d);
  print_summary ("ar_exec_guarded", g);
  print_summary ("ar_exec_guard_prepare alone", p);
  printf ("%-28s median %8.1f us   mean %8.1f us\n", "guarded minus direct", g.median - d.median,
          g.mean - d.mean);
  return 0;
}
