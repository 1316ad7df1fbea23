/* Acting on the processes in a container's cgroup: listing, signalling,
 * freezing and thawing. */
#define _GNU_SOURCE
#include "cgroup.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_internal.h"
#include "oci/log.h"
#include "oci/util.h"

/* Without a freezer, signalling repeats while new processes show up
 * (forks racing the kill), at most this many rounds. */
#define KILL_ROUNDS 10

/* The directory whose cgroup.procs lists the container's processes: the
 * cgroup2 one on v2, else a v1 hierarchy (all of them hold the same
 * processes since the container joins every one). */
static const char *
procs_dir (const struct ar_cgroup *cgroup)
{
  static const char *const preferred[] = { "freezer", "pids", "memory", "cpu", NULL };
  const struct ar_cgroup_hierarchy *unified = ar_cgroup_unified (cgroup);

  if (cgroup->layout == AR_CGROUP_LAYOUT_V2 && unified != NULL)
    return unified->dir;
  for (size_t i = 0; preferred[i] != NULL; i++)
    {
      const char *dir = ar_cgroup_v1_dir (cgroup, preferred[i]);
      if (dir != NULL)
        return dir;
    }
  return cgroup->n_hierarchies > 0 ? cgroup->hierarchies[0].dir : NULL;
}

/* The directory of the freezer this layout uses, or NULL when the host
 * has none. */
static const char *
freezer_dir (const struct ar_cgroup *cgroup)
{
  const struct ar_cgroup_hierarchy *unified = ar_cgroup_unified (cgroup);

  if (cgroup->layout != AR_CGROUP_LAYOUT_V2)
    return ar_cgroup_v1_dir (cgroup, "freezer");
  if (unified != NULL && ar_cgroup_file_exists (unified->dir, "cgroup.freeze"))
    return unified->dir;
  return NULL;
}

int
ar_cgroup_list_pids (struct ar_cgroup *cgroup, pid_t **pids, size_t *n_pids, ar_error_t *err)
{
  const char *dir = procs_dir (cgroup);

  if (dir == NULL)
    return ar_make_error (err, ENOENT, "the cgroup has no hierarchy to list processes from");
  return ar_cgroup_collect_pids (dir, pids, n_pids, err);
}

int
ar_cgroup_set_frozen (struct ar_cgroup *cgroup, bool frozen, ar_error_t *err)
{
  const char *dir = freezer_dir (cgroup);

  if (dir == NULL)
    return ar_make_error (err, ENOTSUP, "cannot %s the container: this host has no cgroup freezer",
                          frozen ? "pause" : "resume");
  if (cgroup->layout == AR_CGROUP_LAYOUT_V2)
    return ar_cgroup_v2_set_frozen (dir, frozen, err);
  return ar_cgroup_v1_set_frozen (dir, frozen, err);
}

int
ar_cgroup_is_frozen (struct ar_cgroup *cgroup, bool *frozen, ar_error_t *err)
{
  const char *dir = freezer_dir (cgroup);

  if (dir == NULL)
    {
      *frozen = false;
      return 0;
    }
  if (cgroup->layout == AR_CGROUP_LAYOUT_V2)
    return ar_cgroup_v2_is_frozen (dir, frozen, err);
  return ar_cgroup_v1_is_frozen (dir, frozen, err);
}

/* Signals each listed process; returns how many were still there. */
static size_t
signal_pids (const pid_t *pids, size_t n, int signal)
{
  size_t signalled = 0;

  for (size_t i = 0; i < n; i++)
    {
      if (kill (pids[i], signal) == 0)
        signalled++;
      else if (errno != ESRCH)
        ar_debug ("cgroup: cannot send signal %d to process %d: %s", signal, (int) pids[i], strerror (errno));
    }
  return signalled;
}

static int
signal_once (struct ar_cgroup *cgroup, int signal, size_t *signalled, ar_error_t *err)
{
  pid_t *pids = NULL;
  size_t n = 0;
  int ret;

  ret = ar_cgroup_list_pids (cgroup, &pids, &n, err);
  if (ret < 0)
    return ret;
  *signalled = signal_pids (pids, n, signal);
  free (pids);
  return 0;
}

int
ar_cgroup_kill_all (struct ar_cgroup *cgroup, int signal, ar_error_t *err)
{
  const struct ar_cgroup_hierarchy *unified = ar_cgroup_unified (cgroup);
  bool was_frozen = false, froze = false;
  size_t signalled = 0;
  int ret;

  /* cgroup.kill (Linux 5.14) kills the whole subtree atomically. */
  if (cgroup->layout == AR_CGROUP_LAYOUT_V2 && signal == SIGKILL && unified != NULL
      && ar_cgroup_file_exists (unified->dir, "cgroup.kill"))
    return ar_cgroup_write (unified->dir, "cgroup.kill", "1", err);

  if (freezer_dir (cgroup) != NULL)
    {
      ar_error_t local = NULL;

      if (ar_cgroup_is_frozen (cgroup, &was_frozen, &local) == 0 && !was_frozen
          && ar_cgroup_set_frozen (cgroup, true, &local) == 0)
        froze = true;
      if (local != NULL)
        {
          cleanup_free char *msg = ar_error_format (local);
          ar_debug ("cgroup: signalling without freezing first: %s", msg);
          ar_error_release (&local);
        }
    }

  if (froze || was_frozen)
    ret = signal_once (cgroup, signal, &signalled, err);
  else
    {
      /* No freezer: a process may fork between listing and signalling, so
       * SIGKILL goes round again until a round finds no process. */
      int rounds = signal == SIGKILL ? KILL_ROUNDS : 1;

      do
        ret = signal_once (cgroup, signal, &signalled, err);
      while (ret == 0 && signalled > 0 && --rounds > 0);
    }

  /* A frozen v1 task only dies once thawed, so SIGKILL always thaws. */
  if (froze || (was_frozen && signal == SIGKILL))
    {
      ar_error_t local = NULL;

      if (ar_cgroup_set_frozen (cgroup, false, &local) < 0)
        {
          if (ret == 0)
            {
              ar_cgroup_move_error (err, &local);
              return ar_error_wrap (err, "cannot thaw the cgroup after signalling its processes");
            }
          ar_error_release (&local);
        }
    }
  return ret;
}
