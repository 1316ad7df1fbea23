#define _GNU_SOURCE
#include "failpoint.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
ar_failpoint (const char *name)
{
  static const char *armed;
  static bool read_env;

  if (!read_env)
    {
      armed = getenv (AR_FAILPOINT_ENV);
      read_env = true;
    }
  if (armed == NULL || strcmp (armed, name) != 0)
    return;

  /* Tests match this line to tell a failpoint crash from other deaths. */
  fprintf (stderr, "agentrun: failpoint %s reached: killing the runtime\n", name);
  fflush (stderr);
  kill (getpid (), SIGKILL);
  abort ();
}
