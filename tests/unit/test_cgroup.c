/* Cgroup tests: layout detection and resources parsing on sample input,
 * then real cgroups on this host (hybrid, v1 or v2) with real processes.
 *
 * Every cgroup made here has a name starting with "ar-cgroup-test-PID".
 * The tests run in a child process.  The parent then kills whatever is
 * left in such cgroups and removes them, so a failing or crashing test
 * leaves nothing behind.  Needs root. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgroup_internal.h"
#include "oci/error.h"
#include "oci/resources.h"
#include "oci/util.h"
#include "unit.h"

/* "ar-cgroup-test-PID", set by main. */
static char test_prefix[64];

/* --- Helpers ------------------------------------------------------------ */

static char *
error_text (ar_error_t err)
{
  return err != NULL ? ar_error_format (err) : ar_xstrdup ("(no error)");
}

/* Reads a file and strips the trailing newline; NULL when unreadable. */
static char *
slurp (const char *dir, const char *file)
{
  cleanup_free char *path = file != NULL ? ar_xasprintf ("%s/%s", dir, file) : ar_xstrdup (dir);
  char *text = NULL;
  ar_error_t err = NULL;

  if (ar_read_file (path, &text, NULL, &err) < 0)
    {
      ar_error_release (&err);
      return NULL;
    }
  text[strcspn (text, "\n")] = '\0';
  return text;
}

static bool
path_exists (const char *path)
{
  struct stat st;

  return stat (path, &st) == 0;
}

static struct ar_resources *
parse_resources (const char *json_text, ar_error_t *err)
{
  json_error_t jerr;
  json_t *obj = json_loads (json_text, 0, &jerr);
  struct ar_resources *r = NULL;

  if (obj == NULL)
    {
      fprintf (stderr, "bad test JSON: %s: %s\n", json_text, jerr.text);
      abort ();
    }
  if (ar_resources_parse (obj, "linux.resources", &r, err) < 0)
    r = NULL;
  json_decref (obj);
  return r;
}

/* Parses json_text and returns the error message (NULL when it parsed). */
static char *
parse_error (const char *json_text)
{
  ar_error_t err = NULL;
  struct ar_resources *r = parse_resources (json_text, &err);
  char *msg;

  if (r != NULL)
    {
      ar_resources_free (r);
      return NULL;
    }
  msg = error_text (err);
  ar_error_release (&err);
  return msg;
}

static enum ar_cgroup_layout
host_layout (void)
{
  enum ar_cgroup_layout layout = AR_CGROUP_LAYOUT_V1;
  ar_error_t err = NULL;

  if (ar_cgroup_detect_layout (&layout, &err) < 0)
    {
      cleanup_free char *msg = error_text (err);
      fprintf (stderr, "cannot detect the cgroup layout: %s\n", msg);
      ar_error_release (&err);
    }
  return layout;
}

/* A child process that runs commands sent over a pipe, so a test can act
 * from inside the cgroup after the child joined it. */
struct child
{
  pid_t pid;
  int cmd;
  int resp;
};

static void
child_main (int cmd, int resp)
{
  char c, r;

  while (read (cmd, &c, 1) == 1)
    {
      r = 'k';
      if (c == 'm')
        {
          /* Charge 16 MiB to the cgroup the child is in now. */
          size_t size = 16 << 20;
          char *p = malloc (size);

          if (p == NULL)
            r = 'f';
          else
            memset (p, 1, size);
        }
      else if (c == 'd')
        {
          int null_fd = open ("/dev/null", O_RDWR);
          int zero_fd = open ("/dev/zero", O_RDONLY);

          r = null_fd >= 0 && zero_fd < 0 && errno == EPERM ? 'k' : 'f';
        }
      else if (c == 'z')
        r = open ("/dev/zero", O_RDONLY) >= 0 ? 'k' : 'f';
      else if (c == 'x')
        _exit (0);
      if (write (resp, &r, 1) != 1)
        _exit (1);
    }
  _exit (0);
}

static bool
start_child (struct child *child)
{
  int cmd[2], resp[2];

  if (pipe2 (cmd, O_CLOEXEC) < 0 || pipe2 (resp, O_CLOEXEC) < 0)
    return false;
  child->pid = fork ();
  if (child->pid < 0)
    return false;
  if (child->pid == 0)
    {
      close (cmd[1]);
      close (resp[0]);
      child_main (cmd[0], resp[1]);
    }
  close (cmd[0]);
  close (resp[1]);
  child->cmd = cmd[1];
  child->resp = resp[0];
  return true;
}

static char
child_do (struct child *child, char cmd)
{
  char r = '?';

  if (write (child->cmd, &cmd, 1) != 1 || read (child->resp, &r, 1) != 1)
    return '?';
  return r;
}

/* Waits for the child and returns its wait status; closes the pipes. */
static int
child_reap (struct child *child)
{
  int status = -1;

  if (child->pid > 0)
    while (waitpid (child->pid, &status, 0) < 0 && errno == EINTR)
      ;
  close (child->cmd);
  close (child->resp);
  child->pid = -1;
  return status;
}

static void
child_kill (struct child *child)
{
  if (child->pid > 0)
    kill (child->pid, SIGKILL);
  child_reap (child);
}

/* Whether /proc/PID/cgroup shows the process in the cgroup's directory of
 * every hierarchy. */
static bool
proc_in_cgroup (pid_t pid, const struct ar_cgroup *cg)
{
  char path[64];
  cleanup_free char *text = NULL;
  ar_error_t err = NULL;

  snprintf (path, sizeof (path), "/proc/%d/cgroup", (int) pid);
  if (ar_read_file (path, &text, NULL, &err) < 0)
    {
      ar_error_release (&err);
      return false;
    }
  for (size_t i = 0; i < cg->n_hierarchies; i++)
    {
      const struct ar_cgroup_hierarchy *h = &cg->hierarchies[i];
      cleanup_free char *line = NULL;

      if (h->unified)
        line = ar_xasprintf ("0::%s\n", h->path);
      else
        line = ar_xasprintf (":%s:%s\n", h->controllers, h->path);
      if (strstr (text, line) == NULL)
        {
          fprintf (stderr, "process %d is not in %s (looked for `%.*s`)\n", (int) pid, h->dir,
                   (int) strlen (line) - 1, line);
          return false;
        }
    }
  return true;
}

/* Whether any hierarchy still has directory PATH (a cgroup path). */
static bool
cgroup_path_exists_anywhere (const struct ar_cgroup *cg, const char *path)
{
  for (size_t i = 0; i < cg->n_hierarchies; i++)
    {
      cleanup_free char *dir = ar_xasprintf ("%s%s", cg->hierarchies[i].mountpoint, path);

      if (path_exists (dir))
        {
          fprintf (stderr, "`%s` still exists\n", dir);
          return true;
        }
    }
  return false;
}

static struct ar_cgroup *
create_or_report (const char *name, const char *json_resources, ar_error_t *err_out)
{
  cleanup_free char *path = ar_xasprintf ("/%s/%s", test_prefix, name);
  struct ar_resources *r = NULL;
  struct ar_cgroup *cg = NULL;
  ar_error_t err = NULL;

  if (json_resources != NULL)
    {
      r = parse_resources (json_resources, &err);
      if (r == NULL)
        {
          cleanup_free char *msg = error_text (err);
          fprintf (stderr, "resources did not parse: %s\n", msg);
          ar_error_release (&err);
          return NULL;
        }
    }
  if (ar_cgroup_create (name, path, false, r, &cg, &err) < 0)
    {
      if (err_out != NULL)
        *err_out = err;
      else
        {
          cleanup_free char *msg = error_text (err);
          fprintf (stderr, "ar_cgroup_create `%s`: %s\n", path, msg);
          ar_error_release (&err);
        }
      cg = NULL;
    }
  ar_resources_free (r);
  return cg;
}

static void
destroy_and_check (struct ar_cgroup *cg)
{
  ar_error_t err = NULL;
  cleanup_free char *path = NULL;

  if (cg == NULL)
    return;
  path = ar_xstrdup (ar_cgroup_get_path (cg));
  if (ar_cgroup_destroy (cg, &err) < 0)
    {
      cleanup_free char *msg = error_text (err);
      fprintf (stderr, "ar_cgroup_destroy: %s\n", msg);
      ar_error_release (&err);
      CHECK (false);
    }
  for (size_t i = 0; i < cg->n_hierarchies; i++)
    CHECK (!path_exists (cg->hierarchies[i].dir));
  ar_cgroup_free (cg);
}

/* The directory of the hierarchy that carries a v1 controller, or the
 * cgroup2 one on v2. */
static const char *
controller_dir (const struct ar_cgroup *cg, const char *v1_controller)
{
  if (cg->layout == AR_CGROUP_LAYOUT_V2)
    return ar_cgroup_unified (cg)->dir;
  return ar_cgroup_v1_dir (cg, v1_controller);
}

/* --- Layout detection --------------------------------------------------- */

static const char hybrid_mountinfo[]
    = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/root rw\n"
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
      "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
      "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
      "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
      "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
      "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
      "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
      "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,release_agent=/x,name=systemd\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static const struct ar_cgroup_mount_entry *
find_mount (const struct ar_cgroup_mounts *m, const char *mountpoint)
{
  for (size_t i = 0; i < m->n_entries; i++)
    if (strcmp (m->entries[i].mountpoint, mountpoint) == 0)
      return &m->entries[i];
  return NULL;
}

static void
test_layout_hybrid_sample (void)
{
  struct ar_cgroup_mounts m = { 0 };
  enum ar_cgroup_layout layout = AR_CGROUP_LAYOUT_V2;
  ar_error_t err = NULL;
  const struct ar_cgroup_mount_entry *e;

  CHECK (ar_cgroup_parse_mountinfo (hybrid_mountinfo, false, &m, &err) == 0);
  CHECK (m.n_entries == 10);
  CHECK (ar_cgroup_layout_of_mounts (&m, &layout, &err) == 0);
  CHECK (layout == AR_CGROUP_LAYOUT_HYBRID);

  e = find_mount (&m, "/sys/fs/cgroup/systemd");
  CHECK (e != NULL && !e->unified);
  if (e != NULL)
    CHECK_STR_EQ (e->controllers, "name=systemd");
  e = find_mount (&m, "/sys/fs/cgroup/cpu");
  if (e != NULL)
    CHECK_STR_EQ (e->controllers, "cpu");
  CHECK (e != NULL);
  e = find_mount (&m, "/sys/fs/cgroup/unified");
  CHECK (e != NULL && e->unified && e->controllers == NULL);
  if (e != NULL)
    CHECK_STR_EQ (e->root, "/");
  ar_cgroup_mounts_clear (&m);
}

static void
test_layout_pure_v1_and_v2 (void)
{
  static const char v1[] = "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
                           "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  static const char v2[] = "37 23 0:32 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n";
  static const char v2_with_named[] = "37 23 0:32 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
                                      "40 37 0:37 / /run/systemd-v1 rw - cgroup cgroup rw,name=systemd\n";
  struct ar_cgroup_mounts m = { 0 };
  enum ar_cgroup_layout layout;
  ar_error_t err = NULL;

  CHECK (ar_cgroup_parse_mountinfo (v1, false, &m, &err) == 0);
  CHECK (ar_cgroup_layout_of_mounts (&m, &layout, &err) == 0 && layout == AR_CGROUP_LAYOUT_V1);
  CHECK (m.n_entries == 2);
  if (m.n_entries > 0)
    CHECK_STR_EQ (m.entries[0].controllers, "cpu,cpuacct");
  ar_cgroup_mounts_clear (&m);

  CHECK (ar_cgroup_parse_mountinfo (v2, false, &m, &err) == 0);
  CHECK (ar_cgroup_layout_of_mounts (&m, &layout, &err) == 0 && layout == AR_CGROUP_LAYOUT_V2);
  ar_cgroup_mounts_clear (&m);

  /* A named hierarchy alone does not make a host v1. */
  CHECK (ar_cgroup_parse_mountinfo (v2_with_named, false, &m, &err) == 0);
  CHECK (ar_cgroup_layout_of_mounts (&m, &layout, &err) == 0 && layout == AR_CGROUP_LAYOUT_V2);
  ar_cgroup_mounts_clear (&m);
  CHECK (err == NULL);
}

static void
test_layout_duplicates_and_escapes (void)
{
  static const char text[] = "50 1 0:32 /x /mnt/mem\\040copy rw - cgroup cgroup rw,memory\n"
                             "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
                             "60 1 0:40 / /other/cg2 rw - cgroup2 none rw\n"
                             "61 1 0:40 / /sys/fs/cgroup/unified rw - cgroup2 none rw\n";
  static const char escaped[] = "50 1 0:32 / /mnt/mem\\040copy rw - cgroup cgroup rw,memory\n";
  struct ar_cgroup_mounts m = { 0 };
  ar_error_t err = NULL;

  /* The same hierarchy twice keeps the mount under /sys/fs/cgroup. */
  CHECK (ar_cgroup_parse_mountinfo (text, false, &m, &err) == 0);
  CHECK (m.n_entries == 2);
  CHECK (find_mount (&m, "/sys/fs/cgroup/memory") != NULL);
  CHECK (find_mount (&m, "/sys/fs/cgroup/unified") != NULL);
  ar_cgroup_mounts_clear (&m);

  CHECK (ar_cgroup_parse_mountinfo (escaped, false, &m, &err) == 0);
  CHECK (find_mount (&m, "/mnt/mem copy") != NULL);
  ar_cgroup_mounts_clear (&m);
}

static void
test_layout_no_cgroup_mounts (void)
{
  static const char text[] = "22 1 8:1 / / rw - ext4 /dev/root rw\n";
  static const char named_only[] = "40 1 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n";
  struct ar_cgroup_mounts m = { 0 };
  enum ar_cgroup_layout layout;
  ar_error_t err = NULL;
  cleanup_free char *msg = NULL;

  CHECK (ar_cgroup_parse_mountinfo (text, false, &m, &err) == -ENOENT);
  msg = error_text (err);
  CHECK_CONTAINS (msg, "no cgroup filesystem is mounted");
  ar_error_release (&err);

  CHECK (ar_cgroup_parse_mountinfo (named_only, false, &m, &err) == 0);
  CHECK (ar_cgroup_layout_of_mounts (&m, &layout, &err) < 0);
  ar_error_release (&err);
  ar_cgroup_mounts_clear (&m);
}

/* The layout found must match what statfs reports for /sys/fs/cgroup. */
static void
test_layout_detect_host (void)
{
  struct statfs root, unified;
  enum ar_cgroup_layout expected, layout;
  ar_error_t err = NULL;

  CHECK (statfs ("/sys/fs/cgroup", &root) == 0);
  if (root.f_type == CGROUP2_SUPER_MAGIC)
    expected = AR_CGROUP_LAYOUT_V2;
  else if (statfs ("/sys/fs/cgroup/unified", &unified) == 0 && unified.f_type == CGROUP2_SUPER_MAGIC)
    expected = AR_CGROUP_LAYOUT_HYBRID;
  else
    expected = AR_CGROUP_LAYOUT_V1;

  CHECK (ar_cgroup_detect_layout (&layout, &err) == 0);
  CHECK_STR_EQ (ar_cgroup_layout_name (layout), ar_cgroup_layout_name (expected));
  printf ("# host cgroup layout: %s\n", ar_cgroup_layout_name (layout));
}

/* --- Resources parsing --------------------------------------------------- */

static void
test_resources_parse_full (void)
{
  static const char json[]
      = "{\"memory\": {\"limit\": 536870912, \"reservation\": 268435456, \"swap\": 1073741824, \"kernel\": -1,"
        " \"kernelTCP\": -1, \"swappiness\": 0, \"disableOOMKiller\": false, \"checkBeforeUpdate\": true},"
        " \"cpu\": {\"shares\": 1024, \"quota\": 1000000, \"burst\": 1000000, \"period\": 500000,"
        " \"realtimeRuntime\": 950000, \"realtimePeriod\": 1000000, \"cpus\": \"2-3\", \"mems\": \"0-7\", \"idle\": 1},"
        " \"pids\": {\"limit\": 32771},"
        " \"blockIO\": {\"weight\": 10, \"leafWeight\": 10, \"weightDevice\": [{\"major\": 8, \"minor\": 0,"
        " \"weight\": 500, \"leafWeight\": 300}], \"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0,"
        " \"rate\": 600}], \"throttleWriteIOPSDevice\": [{\"major\": 8, \"minor\": 16, \"rate\": 300}]},"
        " \"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 209715200}],"
        " \"devices\": [{\"allow\": false, \"access\": \"rwm\"}, {\"allow\": true, \"type\": \"c\", \"major\": 10,"
        " \"minor\": 229, \"access\": \"rw\"}, {\"allow\": true, \"type\": \"b\", \"major\": 8}],"
        " \"network\": {\"classID\": 1048577, \"priorities\": [{\"name\": \"eth0\", \"priority\": 500}]},"
        " \"rdma\": {\"mlx5_1\": {\"hcaHandles\": 3, \"hcaObjects\": 10000}},"
        " \"unified\": {\"io.max\": \"259:0 rbps=2097152\", \"memory.high\": \"1G\"}}";
  ar_error_t err = NULL;
  struct ar_resources *r = parse_resources (json, &err);

  CHECK (r != NULL);
  if (r == NULL)
    {
      cleanup_free char *msg = error_text (err);
      fprintf (stderr, "%s\n", msg);
      ar_error_release (&err);
      return;
    }
  CHECK (r->memory->limit.set && r->memory->limit.value == 536870912);
  CHECK (r->memory->swap.value == 1073741824 && r->memory->kernel.value == -1);
  CHECK (r->memory->swappiness.set && r->memory->swappiness.value == 0);
  CHECK (r->memory->has_disable_oom_killer && !r->memory->disable_oom_killer);
  CHECK (!r->memory->has_use_hierarchy);
  CHECK (r->memory->has_check_before_update && r->memory->check_before_update);
  CHECK (r->cpu->shares.value == 1024 && r->cpu->quota.value == 1000000 && r->cpu->period.value == 500000);
  CHECK (r->cpu->burst.value == 1000000 && r->cpu->realtime_runtime.value == 950000);
  CHECK (r->cpu->idle.set && r->cpu->idle.value == 1);
  CHECK_STR_EQ (r->cpu->cpus, "2-3");
  CHECK_STR_EQ (r->cpu->mems, "0-7");
  CHECK (r->pids->limit.value == 32771);
  CHECK (r->block_io->weight.value == 10 && r->block_io->n_weight_devices == 1);
  CHECK (r->block_io->weight_devices[0].leaf_weight.value == 300);
  CHECK (r->block_io->throttle[AR_BLKIO_READ_BPS].n_devices == 1);
  CHECK (r->block_io->throttle[AR_BLKIO_WRITE_IOPS].devices[0].minor == 16);
  CHECK (r->block_io->throttle[AR_BLKIO_WRITE_BPS].n_devices == 0);
  CHECK (r->n_hugepage_limits == 1 && r->hugepage_limits[0].limit == 209715200);
  CHECK (r->has_devices && r->n_devices == 3);
  CHECK (!r->devices[0].allow && r->devices[0].type == 'a' && r->devices[0].major == -1);
  CHECK (r->devices[1].type == 'c' && r->devices[1].major == 10 && r->devices[1].minor == 229);
  CHECK_STR_EQ (r->devices[1].access, "rw");
  CHECK (r->devices[2].minor == -1);
  CHECK_STR_EQ (r->devices[2].access, "rwm");
  CHECK (r->network->class_id.value == 1048577 && r->network->n_priorities == 1);
  CHECK (r->n_rdma == 1 && r->rdma[0].hca_objects.value == 10000);
  CHECK (r->n_unified == 2);
  CHECK (json_is_object (r->raw));
  CHECK_STR_EQ (r->json_path, "linux.resources");
  ar_resources_free (r);
}

static void
test_resources_parse_errors (void)
{
  static const struct
  {
    const char *json;
    const char *expected;
  } cases[] = {
    { "{\"memory\": {\"limit\": \"1G\"}}", "linux.resources.memory.limit: expected an integer, got a string" },
    { "{\"memory\": {\"limit\": -2}}", "linux.resources.memory.limit: invalid value -2" },
    { "{\"memory\": {\"limit\": 1000, \"swap\": 500}}", "linux.resources.memory.swap: the memory+swap limit 500" },
    { "{\"memory\": {\"swappiness\": 101}}", "linux.resources.memory.swappiness: invalid value 101" },
    { "{\"memory\": {\"disableOOMKiller\": 1}}", "linux.resources.memory.disableOOMKiller: expected a boolean" },
    { "{\"memory\": []}", "linux.resources.memory: expected an object, got an array" },
    { "{\"cpu\": {\"shares\": 1}}", "linux.resources.cpu.shares: invalid value 1" },
    { "{\"cpu\": {\"shares\": -5}}", "linux.resources.cpu.shares: invalid value -5" },
    { "{\"cpu\": {\"quota\": 1000, \"burst\": 2000}}", "linux.resources.cpu.burst: 2000 is larger" },
    { "{\"cpu\": {\"idle\": 2}}", "linux.resources.cpu.idle: invalid value 2" },
    { "{\"cpu\": {\"cpus\": 3}}", "linux.resources.cpu.cpus: expected a string, got an integer" },
    { "{\"cpu\": {\"period\": 1.5}}", "linux.resources.cpu.period: expected an integer, got a number" },
    { "{\"pids\": {}}", "linux.resources.pids.limit: missing required field" },
    { "{\"hugepageLimits\": [{\"pageSize\": \"2XB\", \"limit\": 1}]}",
      "linux.resources.hugepageLimits[0].pageSize: invalid page size `2XB`" },
    { "{\"hugepageLimits\": [{\"pageSize\": \"2MB\"}]}", "linux.resources.hugepageLimits[0].limit: missing" },
    { "{\"hugepageLimits\": {}}", "linux.resources.hugepageLimits: expected an array" },
    { "{\"devices\": [{\"allow\": true}, {\"allow\": true, \"access\": \"rwx\"}]}",
      "linux.resources.devices[1].access: invalid access `rwx`" },
    { "{\"devices\": [{\"allow\": true, \"access\": \"rr\"}]}", "linux.resources.devices[0].access: invalid access" },
    { "{\"devices\": [{\"allow\": true, \"type\": \"x\"}]}", "linux.resources.devices[0].type: invalid device type" },
    { "{\"devices\": [{\"access\": \"r\"}]}", "linux.resources.devices[0].allow: missing required field" },
    { "{\"blockIO\": {\"weight\": 70000}}", "linux.resources.blockIO.weight: invalid value 70000" },
    { "{\"blockIO\": {\"weightDevice\": [{\"major\": 8, \"minor\": 0}]}}",
      "linux.resources.blockIO.weightDevice[0]: set weight, leafWeight or both" },
    { "{\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": 8, \"rate\": 1}]}}",
      "linux.resources.blockIO.throttleReadBpsDevice[0].minor: missing required field" },
    { "{\"network\": {\"priorities\": [{\"name\": \"eth0\"}]}}",
      "linux.resources.network.priorities[0].priority: missing required field" },
    { "{\"rdma\": {\"mlx5_1\": {}}}", "linux.resources.rdma.mlx5_1: set hcaHandles, hcaObjects or both" },
    { "{\"unified\": {\"../memory.max\": \"1\"}}", "linux.resources.unified[\"../memory.max\"]: invalid key" },
    { "{\"unified\": {\"memory.max\": 1}}", "linux.resources.unified[\"memory.max\"]: expected a string" },
  };

  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      cleanup_free char *msg = parse_error (cases[i].json);

      CHECK_CONTAINS (msg, cases[i].expected);
    }
}

static void
test_resources_parse_special_values (void)
{
  ar_error_t err = NULL;
  struct ar_resources *r;
  json_t *not_object = json_string ("x");
  cleanup_free char *msg = NULL;

  /* -1 swappiness means "unset", as Docker once wrote it. */
  r = parse_resources ("{\"memory\": {\"swappiness\": -1, \"limit\": -1, \"swap\": -1}, \"pids\": {\"limit\": -1}}",
                       &err);
  CHECK (r != NULL);
  if (r != NULL)
    {
      CHECK (!r->memory->swappiness.set);
      CHECK (r->memory->limit.value == -1 && r->pids->limit.value == -1);
      CHECK (r->cpu == NULL && r->block_io == NULL && !r->has_devices);
    }
  ar_resources_free (r);

  /* Unknown keys are ignored (with a debug line). */
  r = parse_resources ("{\"futureController\": {}, \"memory\": {\"futureKnob\": 1}}", &err);
  CHECK (r != NULL && r->memory != NULL);
  ar_resources_free (r);

  /* A caller-chosen prefix names the fields, as for `update --resources`. */
  CHECK (ar_resources_parse (not_object, "update.json", &r, &err) < 0);
  msg = error_text (err);
  CHECK_STR_EQ (msg, "update.json: expected an object, got a string");
  ar_error_release (&err);
  json_decref (not_object);
}

static void
test_weight_conversions (void)
{
  CHECK (ar_cgroup_shares_to_weight (0) == 0);
  CHECK (ar_cgroup_shares_to_weight (2) == 1);
  CHECK (ar_cgroup_shares_to_weight (1024) == 39);
  CHECK (ar_cgroup_shares_to_weight (262144) == 10000);
  CHECK (ar_cgroup_blkio_to_io_weight (10) == 1);
  CHECK (ar_cgroup_blkio_to_io_weight (500) == 4950);
  CHECK (ar_cgroup_blkio_to_io_weight (1000) == 10000);
}

/* --- Path rules and state ---------------------------------------------- */

static void
test_path_errors (void)
{
  static const struct
  {
    const char *path;
    bool use_systemd;
    const char *expected;
  } cases[] = {
    { "system.slice:agentrun:ctr", false, "linux.cgroupsPath `system.slice:agentrun:ctr`: " },
    { "/ok/path", true, "--systemd-cgroup" },
    { "/a/../b", false, "linux.cgroupsPath `/a/../b`: `..` is not allowed" },
    { "/", false, "names the root cgroup" },
    { "//./", false, "names the root cgroup" },
  };

  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      struct ar_cgroup *cg = NULL;
      ar_error_t err = NULL;
      cleanup_free char *msg = NULL;

      CHECK (ar_cgroup_create ("x", cases[i].path, cases[i].use_systemd, NULL, &cg, &err) < 0);
      CHECK (cg == NULL);
      msg = error_text (err);
      CHECK_CONTAINS (msg, cases[i].expected);
      ar_error_release (&err);
    }

  /* Without systemd on the host, the message states that it is not running. */
  if (access ("/run/systemd/system", F_OK) != 0)
    {
      struct ar_cgroup *cg = NULL;
      ar_error_t err = NULL;
      cleanup_free char *msg = NULL;

      CHECK (ar_cgroup_create ("x", "system.slice:agentrun:ctr", false, NULL, &cg, &err) < 0);
      msg = error_text (err);
      CHECK_CONTAINS (msg, "which is not running on this host");
      ar_error_release (&err);
    }
}

static void
test_state_json_roundtrip (void)
{
  struct ar_cgroup *cg = create_or_report ("json/leaf", NULL, NULL);
  struct ar_cgroup *back = NULL;
  ar_error_t err = NULL;
  json_t *json, *json2;
  cleanup_free char *text = NULL;
  cleanup_free char *text2 = NULL;

  CHECK (cg != NULL);
  if (cg == NULL)
    return;

  json = ar_cgroup_to_json (cg);
  CHECK (json != NULL);
  CHECK (ar_cgroup_from_json (json, &back, &err) == 0);
  json2 = back != NULL ? ar_cgroup_to_json (back) : NULL;
  text = json_dumps (json, JSON_SORT_KEYS);
  text2 = json2 != NULL ? json_dumps (json2, JSON_SORT_KEYS) : NULL;
  CHECK_STR_EQ (text2, text);

  /* The parent and the leaf were made here: both are on record. */
  CHECK_CONTAINS (text, "\"layout\"");
  CHECK (back != NULL && ar_strv_len (back->hierarchies[0].created) == 3);
  json_decref (json2);

  /* The state form drives destroy, so the restored cgroup removes it all. */
  destroy_and_check (back);
  for (size_t i = 0; i < cg->n_hierarchies; i++)
    {
      cleanup_free char *root = ar_xasprintf ("%s/%s", cg->hierarchies[i].mountpoint, test_prefix);
      CHECK (!path_exists (root));
    }
  ar_cgroup_free (cg);
  json_decref (json);
}

static void
test_state_json_rejects_bad_input (void)
{
  static const char *const bad[] = {
    "{\"layout\": \"v3\", \"hierarchies\": []}",
    "{\"layout\": \"v2\", \"hierarchies\": []}",
    "{\"layout\": \"v2\", \"hierarchies\": [{\"unified\": true, \"mountpoint\": \"/sys/fs/cgroup\", \"path\": "
    "\"/a\", \"created\": [\"/etc\"]}]}",
    "{\"layout\": \"v2\", \"hierarchies\": [{\"unified\": true, \"mountpoint\": \"/sys/fs/cgroup\", \"path\": "
    "\"/a/../../etc\", \"created\": []}]}",
    "{\"layout\": \"v2\", \"hierarchies\": [{\"unified\": true, \"mountpoint\": \"/sys/fs/cgroup\", \"path\": "
    "\"/a\", \"created\": [\"/sys/fs/cgroup/b\"]}]}",
    "{\"layout\": \"v1\", \"hierarchies\": [{\"unified\": false, \"mountpoint\": \"/sys/fs/cgroup/cpu\", \"path\": "
    "\"/a\", \"created\": []}]}",
  };

  for (size_t i = 0; i < sizeof (bad) / sizeof (bad[0]); i++)
    {
      json_t *json = json_loads (bad[i], 0, NULL);
      struct ar_cgroup *cg = NULL;
      ar_error_t err = NULL;

      CHECK (json != NULL);
      CHECK (ar_cgroup_from_json (json, &cg, &err) < 0);
      CHECK (cg == NULL);
      CHECK (err != NULL);
      ar_error_release (&err);
      json_decref (json);
    }
}

/* Without swap accounting (memory.memsw.* on v1, memory.swap.max on v2
 * missing), a swap limit is an error that names the field.  Real hosts
 * here have the files, so a plain directory stands in for the cgroup. */
static void
test_swap_without_accounting (void)
{
  cleanup_free char *dir = ar_xasprintf ("/tmp/%s-noswap", test_prefix);
  cleanup_free char *limit_file = ar_xasprintf ("%s/memory.limit_in_bytes", dir);
  cleanup_free char *max_file = ar_xasprintf ("%s/memory.max", dir);
  struct ar_resources *r;
  ar_error_t err = NULL;
  cleanup_free char *v1_msg = NULL, *v2_msg = NULL, *written = NULL;
  int fd;

  CHECK (mkdir (dir, 0700) == 0);
  fd = open (limit_file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  close (fd);
  fd = open (max_file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  close (fd);

  r = parse_resources ("{\"memory\": {\"limit\": 1048576, \"swap\": 2097152}}", &err);
  CHECK (r != NULL);
  if (r != NULL)
    {
      CHECK (ar_cgroup_v1_set_memory (dir, r->memory, "linux.resources.memory", false, &err) < 0);
      v1_msg = error_text (err);
      CHECK_CONTAINS (v1_msg, "linux.resources.memory.swap: this host cannot limit swap: swap accounting is off");
      ar_error_release (&err);

      CHECK (ar_cgroup_v2_set_memory (dir, r->memory, "linux.resources.memory", false, &err) < 0);
      v2_msg = error_text (err);
      CHECK_CONTAINS (v2_msg, "linux.resources.memory.swap: this host cannot limit swap");
      ar_error_release (&err);
      ar_resources_free (r);
    }

  /* An unlimited swap needs no accounting. */
  r = parse_resources ("{\"memory\": {\"limit\": 1048576, \"swap\": -1}}", &err);
  CHECK (r != NULL && ar_cgroup_v1_set_memory (dir, r->memory, "linux.resources.memory", false, &err) == 0);
  CHECK_STR_EQ ((written = slurp (limit_file, NULL)), "1048576");
  ar_resources_free (r);

  unlink (limit_file);
  unlink (max_file);
  CHECK (rmdir (dir) == 0);
}

/* --- Real cgroups --------------------------------------------------------- */

static const char lifecycle_resources[]
    = "{\"memory\": {\"limit\": 67108864, \"swap\": 134217728},"
      " \"cpu\": {\"shares\": 512, \"quota\": 50000, \"period\": 100000},"
      " \"pids\": {\"limit\": 64}}";

static void
check_lifecycle_files (const struct ar_cgroup *cg)
{
  const char *mem = controller_dir (cg, "memory");
  const char *cpu = controller_dir (cg, "cpu");
  const char *pids = controller_dir (cg, "pids");
  cleanup_free char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;

  CHECK (mem != NULL && cpu != NULL && pids != NULL);
  if (mem == NULL || cpu == NULL || pids == NULL)
    return;

  if (cg->layout == AR_CGROUP_LAYOUT_V2)
    {
      CHECK_STR_EQ ((a = slurp (mem, "memory.max")), "67108864");
      CHECK_STR_EQ ((b = slurp (mem, "memory.swap.max")), "67108864");
      CHECK_STR_EQ ((c = slurp (cpu, "cpu.max")), "50000 100000");
      CHECK_STR_EQ ((d = slurp (cpu, "cpu.weight")), "20");
    }
  else
    {
      CHECK_STR_EQ ((a = slurp (mem, "memory.limit_in_bytes")), "67108864");
      if (ar_cgroup_file_exists (mem, "memory.memsw.limit_in_bytes"))
        CHECK_STR_EQ ((b = slurp (mem, "memory.memsw.limit_in_bytes")), "134217728");
      else
        printf ("# memory.memsw.* missing (swap accounting off): swap value not checked\n");
      CHECK_STR_EQ ((c = slurp (cpu, "cpu.cfs_quota_us")), "50000");
      CHECK_STR_EQ ((d = slurp (cpu, "cpu.shares")), "512");
    }
  CHECK_STR_EQ ((e = slurp (pids, "pids.max")), "64");
}

static bool
pid_listed (const pid_t *pids, size_t n, pid_t pid)
{
  for (size_t i = 0; i < n; i++)
    if (pids[i] == pid)
      return true;
  return false;
}

static void
test_cgroup_lifecycle (void)
{
  struct ar_cgroup *cg = create_or_report ("life", lifecycle_resources, NULL);
  struct child child = { .pid = -1 };
  ar_error_t err = NULL;
  pid_t *pids = NULL;
  size_t n_pids = 0;
  bool frozen = true;
  json_t *stats = NULL;
  int status;

  CHECK (cg != NULL);
  if (cg == NULL)
    return;
  CHECK (cg->layout == host_layout ());
  CHECK (cg->n_hierarchies > 0);
  if (cg->layout == AR_CGROUP_LAYOUT_HYBRID)
    CHECK (ar_cgroup_unified (cg) != NULL && ar_cgroup_v1_dir (cg, "memory") != NULL
           && ar_cgroup_v1_hierarchy (cg, "name=systemd") != NULL);
  check_lifecycle_files (cg);

  CHECK (start_child (&child));
  CHECK (ar_cgroup_enter (cg, child.pid, &err) == 0);
  CHECK (proc_in_cgroup (child.pid, cg));

  /* On hybrid hosts the process joins the cgroup2 hierarchy too. */
  if (ar_cgroup_unified (cg) != NULL)
    {
      cleanup_free char *procs = slurp (ar_cgroup_unified (cg)->dir, "cgroup.procs");
      char pid_text[32];

      snprintf (pid_text, sizeof (pid_text), "%d", (int) child.pid);
      CHECK_STR_EQ (procs, pid_text);
    }

  CHECK (ar_cgroup_list_pids (cg, &pids, &n_pids, &err) == 0);
  CHECK (n_pids == 1 && pid_listed (pids, n_pids, child.pid));
  free (pids);

  CHECK (ar_cgroup_stats (cg, &stats, &err) == 0);
  if (stats != NULL)
    {
      json_t *memory_usage = json_object_get (json_object_get (stats, "memory"), "usage");

      CHECK (json_integer_value (json_object_get (memory_usage, "limit")) == 67108864);
      CHECK (json_integer_value (json_object_get (json_object_get (stats, "pids"), "limit")) == 64);
      CHECK (json_integer_value (json_object_get (json_object_get (stats, "pids"), "current")) == 1);
      CHECK (json_is_object (json_object_get (json_object_get (stats, "cpu"), "usage")));
      CHECK (json_is_object (json_object_get (json_object_get (stats, "memory"), "raw")));
      json_decref (stats);
    }

  CHECK (ar_cgroup_set_frozen (cg, true, &err) == 0);
  CHECK (ar_cgroup_is_frozen (cg, &frozen, &err) == 0 && frozen);
  if (cg->layout != AR_CGROUP_LAYOUT_V2)
    {
      cleanup_free char *state = slurp (ar_cgroup_v1_dir (cg, "freezer"), "freezer.state");
      CHECK_STR_EQ (state, "FROZEN");
    }
  CHECK (ar_cgroup_set_frozen (cg, false, &err) == 0);
  CHECK (ar_cgroup_is_frozen (cg, &frozen, &err) == 0 && !frozen);
  CHECK (child_do (&child, 'p') == 'k');

  CHECK (ar_cgroup_kill_all (cg, SIGKILL, &err) == 0);
  status = child_reap (&child);
  CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);

  if (err != NULL)
    {
      cleanup_free char *msg = error_text (err);
      fprintf (stderr, "lifecycle: %s\n", msg);
      ar_error_release (&err);
    }
  destroy_and_check (cg);

  /* The test's top directory was made for this cgroup, so it went too. */
  {
    cleanup_free char *root = ar_xasprintf ("/%s", test_prefix);
    struct ar_cgroup_mounts mounts = { 0 };
    cleanup_free char *mi = NULL;

    CHECK (ar_read_file ("/proc/self/mountinfo", &mi, NULL, &err) == 0);
    CHECK (ar_cgroup_parse_mountinfo (mi, true, &mounts, &err) == 0);
    for (size_t i = 0; i < mounts.n_entries; i++)
      {
        cleanup_free char *dir = ar_xasprintf ("%s%s", mounts.entries[i].mountpoint, root);
        CHECK (!path_exists (dir));
      }
    ar_cgroup_mounts_clear (&mounts);
  }
}

/* A signal other than SIGKILL leaves a paused container paused. */
static void
test_kill_all_keeps_frozen (void)
{
  struct ar_cgroup *cg = create_or_report ("killfrozen", NULL, NULL);
  struct child child = { .pid = -1 };
  ar_error_t err = NULL;
  bool frozen = false;
  int status;

  CHECK (cg != NULL);
  if (cg == NULL)
    return;
  CHECK (start_child (&child));
  CHECK (ar_cgroup_enter (cg, child.pid, &err) == 0);
  CHECK (ar_cgroup_set_frozen (cg, true, &err) == 0);
  CHECK (ar_cgroup_kill_all (cg, SIGTERM, &err) == 0);
  CHECK (ar_cgroup_is_frozen (cg, &frozen, &err) == 0 && frozen);

  /* The v1 freezer holds the signal until the thaw; the v2 freezer lets a
   * fatal signal through at once. */
  if (cg->layout != AR_CGROUP_LAYOUT_V2)
    CHECK (waitpid (child.pid, &status, WNOHANG) == 0);

  CHECK (ar_cgroup_set_frozen (cg, false, &err) == 0);
  status = child_reap (&child);
  CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGTERM);
  if (err != NULL)
    {
      cleanup_free char *msg = error_text (err);
      fprintf (stderr, "kill_all frozen: %s\n", msg);
      ar_error_release (&err);
    }
  destroy_and_check (cg);
}

/* destroy kills what is left, including processes in cgroups that the
 * container made below its own. */
static void
test_destroy_kills_and_removes_children (void)
{
  struct ar_cgroup *cg = create_or_report ("stragglers", NULL, NULL);
  struct child first = { .pid = -1 }, second = { .pid = -1 };
  ar_error_t err = NULL;
  const char *dir;
  cleanup_free char *sub = NULL;
  char pid_text[32];
  int status;

  CHECK (cg != NULL);
  if (cg == NULL)
    return;
  CHECK (start_child (&first) && start_child (&second));
  CHECK (ar_cgroup_enter (cg, first.pid, &err) == 0);
  CHECK (ar_cgroup_enter (cg, second.pid, &err) == 0);

  /* A nested cgroup, as systemd or a container engine inside would make. */
  dir = controller_dir (cg, "pids");
  sub = ar_xasprintf ("%s/nested", dir);
  CHECK (mkdir (sub, 0755) == 0);
  snprintf (pid_text, sizeof (pid_text), "%d", (int) second.pid);
  CHECK (ar_cgroup_write (sub, "cgroup.procs", pid_text, &err) == 0);

  destroy_and_check (cg);
  CHECK (!path_exists (sub));
  status = child_reap (&first);
  CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  status = child_reap (&second);
  CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  if (err != NULL)
    {
      cleanup_free char *msg = error_text (err);
      fprintf (stderr, "destroy: %s\n", msg);
      ar_error_release (&err);
    }
}

/* A create that fails after making directories removes them all, and
 * only them: a parent another cgroup made stays. */
static void
test_failed_create_leaves_nothing (void)
{
  struct ar_cgroup *keeper = create_or_report ("shared/keeper", NULL, NULL);
  struct ar_cgroup *failed;
  ar_error_t err = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *shared = ar_xasprintf ("/%s/shared", test_prefix);
  cleanup_free char *leaf = ar_xasprintf ("/%s/shared/failing", test_prefix);
  cleanup_free char *lone = ar_xasprintf ("/%s/lone", test_prefix);

  CHECK (keeper != NULL);
  if (keeper == NULL)
    return;

  /* CPU 4095 does not exist, so writing cpuset.cpus fails after mkdir. */
  failed = create_or_report ("shared/failing", "{\"cpu\": {\"cpus\": \"4095\"}}", &err);
  CHECK (failed == NULL);
  msg = error_text (err);
  CHECK_CONTAINS (msg, "linux.resources.cpu.cpus");
  ar_error_release (&err);
  CHECK (!cgroup_path_exists_anywhere (keeper, leaf));
  for (size_t i = 0; i < keeper->n_hierarchies; i++)
    {
      cleanup_free char *dir = ar_xasprintf ("%s%s", keeper->hierarchies[i].mountpoint, shared);
      CHECK (path_exists (dir));
    }

  /* The same in a fresh subtree: the parents it made go too. */
  failed = create_or_report ("lone/deeper/leaf", "{\"pids\": {\"limit\": -1}, \"cpu\": {\"mems\": \"4095\"}}", &err);
  CHECK (failed == NULL);
  ar_error_release (&err);
  CHECK (!cgroup_path_exists_anywhere (keeper, lone));

  destroy_and_check (keeper);
}

static void
test_busy_leaf_is_rejected (void)
{
  struct ar_cgroup *cg = create_or_report ("busy", NULL, NULL);
  struct ar_cgroup *second;
  struct child child = { .pid = -1 };
  ar_error_t err = NULL;
  cleanup_free char *msg = NULL;

  CHECK (cg != NULL);
  if (cg == NULL)
    return;
  CHECK (start_child (&child));
  CHECK (ar_cgroup_enter (cg, child.pid, &err) == 0);

  second = create_or_report ("busy", NULL, &err);
  CHECK (second == NULL);
  msg = error_text (err);
  CHECK_CONTAINS (msg, "already exists and contains processes");
  ar_error_release (&err);

  child_kill (&child);
  destroy_and_check (cg);
}

/* A relative cgroupsPath goes below this process's own cgroup. */
static void
test_relative_path (void)
{
  cleanup_free char *rel = ar_xasprintf ("%s-rel/ctr", test_prefix);
  struct ar_cgroup *cg = NULL;
  ar_error_t err = NULL;

  CHECK (ar_cgroup_create ("rel", rel, false, NULL, &cg, &err) == 0);
  if (cg == NULL)
    {
      cleanup_free char *msg = error_text (err);
      fprintf (stderr, "relative create: %s\n", msg);
      ar_error_release (&err);
      return;
    }
  for (size_t i = 0; i < cg->n_hierarchies; i++)
    {
      const struct ar_cgroup_hierarchy *h = &cg->hierarchies[i];
      cleanup_free char *suffix = ar_xasprintf ("/%s", rel);
      size_t len = strlen (h->path), suffix_len = strlen (suffix);

      CHECK (len >= suffix_len && strcmp (h->path + len - suffix_len, suffix) == 0);
      CHECK (path_exists (h->dir));
    }
  destroy_and_check (cg);
}

static void
test_update (void)
{
  struct ar_cgroup *cg = create_or_report ("update", lifecycle_resources, NULL);
  ar_error_t err = NULL;
  struct ar_resources *r;
  cleanup_free char *a = NULL, *b = NULL, *c = NULL;

  CHECK (cg != NULL);
  if (cg == NULL)
    return;

  /* Shrinking memory with swap: the order of the two writes matters on v1. */
  r = parse_resources ("{\"memory\": {\"limit\": 33554432, \"swap\": 33554432}, \"pids\": {\"limit\": 10},"
                       " \"cpu\": {\"period\": 200000}}",
                       &err);
  CHECK (r != NULL);
  CHECK (ar_cgroup_update (cg, r, &err) == 0);
  ar_resources_free (r);
  if (cg->layout == AR_CGROUP_LAYOUT_V2)
    {
      CHECK_STR_EQ ((a = slurp (controller_dir (cg, "memory"), "memory.max")), "33554432");
      CHECK_STR_EQ ((b = slurp (controller_dir (cg, "cpu"), "cpu.max")), "50000 200000");
    }
  else
    {
      CHECK_STR_EQ ((a = slurp (controller_dir (cg, "memory"), "memory.limit_in_bytes")), "33554432");
      CHECK_STR_EQ ((b = slurp (controller_dir (cg, "cpu"), "cpu.cfs_period_us")), "200000");
    }
  CHECK_STR_EQ ((c = slurp (controller_dir (cg, "pids"), "pids.max")), "10");

  /* Growing again puts swap first. */
  r = parse_resources ("{\"memory\": {\"limit\": 100663296, \"swap\": 201326592}}", &err);
  CHECK (ar_cgroup_update (cg, r, &err) == 0);
  ar_resources_free (r);

  if (err != NULL)
    {
      cleanup_free char *msg = error_text (err);
      fprintf (stderr, "update: %s\n", msg);
      ar_error_release (&err);
    }
  destroy_and_check (cg);
}

/* Settings the layout cannot honour fail with the field's JSON path. */
static void
test_unsupported_fields_named (void)
{
  enum ar_cgroup_layout layout = host_layout ();
  struct
  {
    const char *json;
    const char *expected;
    bool applies;
  } cases[] = {
    { "{\"memory\": {\"swappiness\": 10}}", "linux.resources.memory.swappiness: cgroup v2",
      layout == AR_CGROUP_LAYOUT_V2 },
    { "{\"memory\": {\"disableOOMKiller\": true}}", "linux.resources.memory.disableOOMKiller",
      layout == AR_CGROUP_LAYOUT_V2 },
    { "{\"cpu\": {\"realtimeRuntime\": 1000}}", "linux.resources.cpu.realtimeRuntime", layout == AR_CGROUP_LAYOUT_V2 },
    { "{\"memory\": {\"limit\": 1048576, \"swap\": -1}, \"blockIO\": {\"leafWeight\": 100}}",
      "linux.resources.blockIO.leafWeight", true },
    { "{\"network\": {\"classID\": 5}}", "linux.resources.network.classID", true },
    { "{\"unified\": {\"memory.high\": \"10M\"}}", "linux.resources.unified", layout != AR_CGROUP_LAYOUT_V2 },
    { "{\"unified\": {\"nosuch.file\": \"1\"}}", "linux.resources.unified[\"nosuch.file\"]", true },
    { "{\"hugepageLimits\": [{\"pageSize\": \"3MB\", \"limit\": 0}]}", "linux.resources.hugepageLimits", true },
    { "{\"rdma\": {\"nosuchdev\": {\"hcaHandles\": 1}}}", "linux.resources.rdma", true },
  };

  for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++)
    {
      struct ar_cgroup *cg;
      ar_error_t err = NULL;
      cleanup_free char *msg = NULL;

      if (!cases[i].applies)
        continue;
      cg = create_or_report ("unsupported", cases[i].json, &err);
      CHECK (cg == NULL);
      msg = error_text (err);
      CHECK_CONTAINS (msg, cases[i].expected);
      ar_error_release (&err);
      ar_cgroup_free (cg);
    }

  /* The host-dependent ones that do apply must then work. */
  if (layout != AR_CGROUP_LAYOUT_V2)
    {
      struct ar_cgroup *cg = create_or_report ("v1only", "{\"memory\": {\"swappiness\": 10, \"disableOOMKiller\": true,"
                                                         " \"kernel\": 1073741824, \"kernelTCP\": 1073741824}}",
                                               NULL);
      cleanup_free char *swappiness = NULL, *oom = NULL;

      CHECK (cg != NULL);
      if (cg != NULL)
        {
          CHECK_STR_EQ ((swappiness = slurp (ar_cgroup_v1_dir (cg, "memory"), "memory.swappiness")), "10");
          oom = slurp (ar_cgroup_v1_dir (cg, "memory"), "memory.oom_control");
          CHECK_CONTAINS (oom, "oom_kill_disable 1");
        }
      destroy_and_check (cg);
    }
  else
    {
      struct ar_cgroup *cg = create_or_report ("v2only", "{\"unified\": {\"memory.high\": \"10485760\"},"
                                                         " \"memory\": {\"kernel\": 1073741824}}",
                                               NULL);
      cleanup_free char *high = NULL;

      CHECK (cg != NULL);
      if (cg != NULL)
        CHECK_STR_EQ ((high = slurp (ar_cgroup_unified (cg)->dir, "memory.high")), "10485760");
      destroy_and_check (cg);
    }
}

/* hugetlb is on cgroup2 alone on hybrid hosts: the runtime must not
 * enable it in the host's root cgroup, so the field fails there with a
 * message that names what to enable.  On v2 the limit applies. */
static void
test_hugepage_limits (void)
{
  enum ar_cgroup_layout layout = host_layout ();
  cleanup_free char *root_before = NULL, *root_after = NULL;
  const char *root = layout == AR_CGROUP_LAYOUT_HYBRID ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
  struct ar_cgroup *cg;
  ar_error_t err = NULL;

  root_before = slurp (root, "cgroup.subtree_control");
  cg = create_or_report ("hugetlb", "{\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 4194304}]}", &err);
  root_after = slurp (root, "cgroup.subtree_control");

  if (layout == AR_CGROUP_LAYOUT_HYBRID)
    {
      cleanup_free char *msg = error_text (err);

      CHECK (cg == NULL);
      CHECK_CONTAINS (msg, "linux.resources.hugepageLimits: on this host the hugetlb controller is only on cgroup2");
      CHECK_STR_EQ (root_after, root_before);
    }
  else if (layout == AR_CGROUP_LAYOUT_V2)
    {
      cleanup_free char *limit = NULL;

      CHECK (cg != NULL);
      if (cg != NULL)
        CHECK_STR_EQ ((limit = slurp (ar_cgroup_unified (cg)->dir, "hugetlb.2MB.max")), "4194304");
    }
  else
    printf ("# hugepage limits: this v1 host has no hugetlb hierarchy to test\n");
  ar_error_release (&err);
  destroy_and_check (cg);
}

/* A block device as "MAJOR:MINOR": the first whole disk, else a loop
 * device (a guest with a network root may have only those). */
static char *
find_disk (void)
{
  char *found = NULL;

  for (int pass = 0; pass < 2 && found == NULL; pass++)
    {
      DIR *d = opendir ("/sys/block");
      struct dirent *de;

      if (d == NULL)
        return NULL;
      while (found == NULL && (de = readdir (d)) != NULL)
        {
          cleanup_free char *dir = NULL;
          bool loop = ar_str_has_prefix (de->d_name, "loop");

          if (de->d_name[0] == '.' || ar_str_has_prefix (de->d_name, "ram") || ar_str_has_prefix (de->d_name, "zram")
              || loop != (pass == 1))
            continue;
          dir = ar_xasprintf ("/sys/block/%s", de->d_name);
          found = slurp (dir, "dev");
        }
      closedir (d);
    }
  return found;
}

static void
test_block_io (void)
{
  cleanup_free char *disk = find_disk ();
  cleanup_free char *json = NULL;
  cleanup_free char *expected = NULL;
  struct ar_cgroup *cg;
  unsigned int major, minor;
  ar_error_t err = NULL;

  if (disk == NULL || sscanf (disk, "%u:%u", &major, &minor) != 2)
    {
      printf ("# block I/O: no block device in /sys/block to throttle (`modprobe loop` adds some)\n");
      return;
    }
  json = ar_xasprintf ("{\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": %u, \"minor\": %u, \"rate\": 1048576}],"
                       " \"throttleWriteIOPSDevice\": [{\"major\": %u, \"minor\": %u, \"rate\": 100}]}}",
                       major, minor, major, minor);
  cg = create_or_report ("blkio", json, NULL);
  CHECK (cg != NULL);
  if (cg == NULL)
    return;

  if (cg->layout == AR_CGROUP_LAYOUT_V2)
    {
      cleanup_free char *max = slurp (ar_cgroup_unified (cg)->dir, "io.max");

      expected = ar_xasprintf ("%s rbps=1048576 wbps=max riops=max wiops=100", disk);
      CHECK_STR_EQ (max, expected);
    }
  else
    {
      cleanup_free char *bps = slurp (ar_cgroup_v1_dir (cg, "blkio"), "blkio.throttle.read_bps_device");
      cleanup_free char *iops = slurp (ar_cgroup_v1_dir (cg, "blkio"), "blkio.throttle.write_iops_device");

      expected = ar_xasprintf ("%s 1048576", disk);
      CHECK_STR_EQ (bps, expected);
      free (expected);
      expected = ar_xasprintf ("%s 100", disk);
      CHECK_STR_EQ (iops, expected);
    }

  /* A weight needs a scheduler with weights.  Where the host has none, the
   * error names the missing file. */
  if (cg->layout != AR_CGROUP_LAYOUT_V2 && !ar_cgroup_file_exists (ar_cgroup_v1_dir (cg, "blkio"), "blkio.weight")
      && !ar_cgroup_file_exists (ar_cgroup_v1_dir (cg, "blkio"), "blkio.bfq.weight"))
    {
      struct ar_resources *r = parse_resources ("{\"blockIO\": {\"weight\": 500}}", &err);
      cleanup_free char *msg = NULL;

      CHECK (ar_cgroup_update (cg, r, &err) < 0);
      msg = error_text (err);
      CHECK_CONTAINS (msg, "linux.resources.blockIO.weight: this host cannot apply it");
      ar_error_release (&err);
      ar_resources_free (r);
    }
  destroy_and_check (cg);
}

/* The device allow list: v1 devices.allow/deny, or the eBPF filter on
 * cgroup2. */
static const char device_rules[]
    = "{\"devices\": [{\"allow\": false, \"access\": \"rwm\"},"
      " {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"rw\"},"
      " {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 5, \"access\": \"rwm\"},"
      " {\"allow\": false, \"type\": \"c\", \"major\": 1, \"minor\": 5, \"access\": \"r\"}]}";

static void
test_device_rules (void)
{
  struct ar_cgroup *cg = create_or_report ("devices", device_rules, NULL);
  struct child child = { .pid = -1 };
  struct ar_resources *r;
  ar_error_t err = NULL;

  CHECK (cg != NULL);
  if (cg == NULL)
    return;
  if (cg->layout != AR_CGROUP_LAYOUT_V2)
    {
      cleanup_free char *list = slurp (ar_cgroup_v1_dir (cg, "devices"), "devices.list");
      CHECK_CONTAINS (list, "c 1:3 rw");
    }
  CHECK (start_child (&child));
  CHECK (ar_cgroup_enter (cg, child.pid, &err) == 0);

  /* /dev/null (1:3) opens read-write; /dev/zero (1:5) is denied for read. */
  CHECK (child_do (&child, 'd') == 'k');

  /* An update replaces the list (on cgroup2, the attached filter). */
  r = parse_resources ("{\"devices\": [{\"allow\": false, \"access\": \"rwm\"}, {\"allow\": true, \"type\": \"c\","
                       " \"major\": 1, \"minor\": 5, \"access\": \"r\"}]}",
                       &err);
  CHECK (r != NULL && ar_cgroup_update (cg, r, &err) == 0);
  ar_resources_free (r);
  CHECK (child_do (&child, 'z') == 'k');
  child_kill (&child);
  if (err != NULL)
    {
      cleanup_free char *msg = error_text (err);
      fprintf (stderr, "devices: %s\n", msg);
      ar_error_release (&err);
    }
  destroy_and_check (cg);
}

/* checkBeforeUpdate refuses a limit below the usage (cgroup v2; on v1 the
 * kernel refuses it anyway). */
static void
test_check_before_update (void)
{
  struct ar_cgroup *cg;
  struct child child = { .pid = -1 };
  struct ar_resources *r;
  ar_error_t err = NULL;
  cleanup_free char *msg = NULL;

  if (host_layout () != AR_CGROUP_LAYOUT_V2)
    {
      printf ("# check before update: cgroup v2 only (v1 kernels reject such limits themselves)\n");
      return;
    }
  cg = create_or_report ("checkupdate", NULL, NULL);
  CHECK (cg != NULL);
  if (cg == NULL)
    return;
  CHECK (start_child (&child));
  CHECK (ar_cgroup_enter (cg, child.pid, &err) == 0);
  CHECK (child_do (&child, 'm') == 'k');

  r = parse_resources ("{\"memory\": {\"limit\": 1048576, \"checkBeforeUpdate\": true}}", &err);
  CHECK (ar_cgroup_update (cg, r, &err) == -EBUSY);
  msg = error_text (err);
  CHECK_CONTAINS (msg, "linux.resources.memory.limit: the new limit 1048576 is below the current usage");
  ar_error_release (&err);
  ar_resources_free (r);

  child_kill (&child);
  destroy_and_check (cg);
}

static void
test_clone_into_fd (void)
{
  struct ar_cgroup *cg = create_or_report ("clonefd", NULL, NULL);
  ar_error_t err = NULL;
  int fd = -2;

  CHECK (cg != NULL);
  if (cg == NULL)
    return;
  CHECK (ar_cgroup_clone_into_fd (cg, &fd, &err) == 0);
  if (cg->layout == AR_CGROUP_LAYOUT_V2)
    {
      struct clone_args args = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD };
      int gate[2];
      pid_t pid;

      CHECK (fd >= 0);
      CHECK (fd >= 0 && (fcntl (fd, F_GETFL) & O_PATH) != 0);

      /* clone3 takes the O_PATH descriptor and starts the child inside. */
      args.cgroup = (uint64_t) fd;
      CHECK (pipe2 (gate, O_CLOEXEC) == 0);
      pid = (pid_t) syscall (SYS_clone3, &args, sizeof (args));
      if (pid == 0)
        {
          char c;
          _exit (read (gate[0], &c, 1) == 1 ? 0 : 1);
        }
      CHECK (pid > 0);
      if (pid > 0)
        {
          int status;

          CHECK (proc_in_cgroup (pid, cg));
          CHECK (write (gate[1], "x", 1) == 1);
          CHECK (waitpid (pid, &status, 0) == pid && WIFEXITED (status) && WEXITSTATUS (status) == 0);
        }
      close (gate[0]);
      close (gate[1]);
      if (fd >= 0)
        close (fd);
    }
  else
    CHECK (fd == -1);
  destroy_and_check (cg);
}

/* --- Mounting the container's view ---------------------------------------- */

/* Runs in a child process with its own mount namespace: failed checks
 * count in that process and come back as its exit status. */
static void
mount_checks (struct ar_cgroup *cg, const char *target, bool cgroupns)
{
  ar_error_t err = NULL;
  int fd = open (target, O_PATH | O_DIRECTORY | O_CLOEXEC);
  unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;

  CHECK (fd >= 0);
  if (ar_cgroup_mount (cg, fd, cgroupns, flags, &err) < 0)
    {
      cleanup_free char *msg = error_text (err);
      fprintf (stderr, "ar_cgroup_mount: %s\n", msg);
      ar_error_release (&err);
      CHECK (false);
      return;
    }
  close (fd);

  if (cg->layout == AR_CGROUP_LAYOUT_V2)
    {
      cleanup_free char *limit = slurp (target, "pids.max");
      cleanup_free char *procs = slurp (target, "cgroup.procs");
      cleanup_free char *file = ar_xasprintf ("%s/pids.max", target);

      CHECK_STR_EQ (limit, "7");
      CHECK (procs != NULL);
      CHECK (open (file, O_WRONLY) < 0 && errno == EROFS);
    }
  else
    {
      cleanup_free char *pids_dir = ar_xasprintf ("%s/pids", target);
      cleanup_free char *limit = slurp (pids_dir, "pids.max");
      cleanup_free char *file = ar_xasprintf ("%s/pids.max", pids_dir);
      cleanup_free char *systemd = ar_xasprintf ("%s/systemd/cgroup.procs", target);
      cleanup_free char *extra = ar_xasprintf ("%s/extra", target);

      CHECK_STR_EQ (limit, "7");
      CHECK (path_exists (systemd));
      if (cg->layout == AR_CGROUP_LAYOUT_HYBRID)
        {
          cleanup_free char *unified = ar_xasprintf ("%s/unified/cgroup.procs", target);
          CHECK (path_exists (unified));
        }
      CHECK (open (file, O_WRONLY) < 0 && errno == EROFS);
      CHECK (mkdir (extra, 0755) < 0 && errno == EROFS);
    }
}

static int
mount_child (struct ar_cgroup *cg, const char *base, bool cgroupns)
{
  ar_error_t err = NULL;

  unit_failures = 0;
  if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return 100;

  if (cgroupns)
    {
      /* A new mount in a cgroup namespace shows the namespace's root: the
       * cgroup this process is in when it unshares. */
      if (ar_cgroup_enter (cg, getpid (), &err) < 0 || unshare (CLONE_NEWCGROUP) < 0)
        {
          ar_error_release (&err);
          return 101;
        }
    }
  mount_checks (cg, base, cgroupns);
  return unit_failures > 100 ? 100 : unit_failures;
}

static void
test_cgroup_mount (void)
{
  struct ar_cgroup *cg = create_or_report ("mount", "{\"pids\": {\"limit\": 7}}", NULL);
  cleanup_free char *base = ar_xasprintf ("/tmp/%s-mnt", test_prefix);

  CHECK (cg != NULL);
  if (cg == NULL)
    return;
  CHECK (mkdir (base, 0755) == 0 || errno == EEXIST);

  for (int cgroupns = 0; cgroupns <= 1; cgroupns++)
    {
      pid_t pid = fork ();
      int status = -1;

      if (pid == 0)
        _exit (mount_child (cg, base, cgroupns));
      CHECK (pid > 0);
      while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
        ;
      if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
        fprintf (stderr, "mount checks (%s): child status %d\n", cgroupns ? "cgroup namespace" : "bind", status);
      CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    }

  /* Each child's mount namespace went away with it. */
  CHECK (rmdir (base) == 0);
  destroy_and_check (cg);
}

/* A pure v1 host: on a hybrid host, a private mount namespace with an
 * empty tmpfs over /sys/fs/cgroup/unified looks exactly like one. */
static int
pure_v1_child (void)
{
  struct ar_cgroup *cg;
  struct child child = { .pid = -1 };
  ar_error_t err = NULL;
  enum ar_cgroup_layout layout;
  int status;

  unit_failures = 0;
  if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
      || mount ("tmpfs", "/sys/fs/cgroup/unified", "tmpfs", 0, "mode=0755") < 0)
    return 100;

  CHECK (ar_cgroup_detect_layout (&layout, &err) == 0 && layout == AR_CGROUP_LAYOUT_V1);
  cg = create_or_report ("purev1", lifecycle_resources, NULL);
  CHECK (cg != NULL);
  if (cg == NULL)
    return unit_failures;
  CHECK (cg->layout == AR_CGROUP_LAYOUT_V1 && ar_cgroup_unified (cg) == NULL);
  check_lifecycle_files (cg);

  CHECK (start_child (&child));
  CHECK (ar_cgroup_enter (cg, child.pid, &err) == 0);
  CHECK (proc_in_cgroup (child.pid, cg));
  CHECK (ar_cgroup_set_frozen (cg, true, &err) == 0);
  CHECK (ar_cgroup_set_frozen (cg, false, &err) == 0);
  CHECK (ar_cgroup_kill_all (cg, SIGKILL, &err) == 0);
  status = child_reap (&child);
  CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);

  {
    struct ar_resources *r = parse_resources ("{\"unified\": {\"pids.max\": \"5\"}}", &err);
    CHECK (ar_cgroup_update (cg, r, &err) < 0);
    ar_resources_free (r);
  }
  if (err != NULL)
    {
      cleanup_free char *msg = error_text (err);
      CHECK_CONTAINS (msg, "linux.resources.unified: needs cgroup v2");
      ar_error_release (&err);
    }
  destroy_and_check (cg);
  return unit_failures > 100 ? 100 : unit_failures;
}

static void
test_pure_v1_layout (void)
{
  pid_t pid;
  int status = -1;

  if (host_layout () != AR_CGROUP_LAYOUT_HYBRID)
    {
      printf ("# pure v1: simulated only on hybrid hosts, by hiding /sys/fs/cgroup/unified\n");
      return;
    }
  pid = fork ();
  if (pid == 0)
    _exit (pure_v1_child ());
  CHECK (pid > 0);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    fprintf (stderr, "pure v1 checks: child status %d\n", status);
  CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
}

/* --- Cleanup ---------------------------------------------------------------- */

static void
remove_tree (const char *dir, int depth)
{
  DIR *d = opendir (dir);
  struct dirent *de;

  if (d == NULL || depth > 16)
    {
      if (d != NULL)
        closedir (d);
      return;
    }
  while ((de = readdir (d)) != NULL)
    {
      cleanup_free char *child = NULL;

      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      child = ar_xasprintf ("%s/%s", dir, de->d_name);
      remove_tree (child, depth + 1);
    }
  closedir (d);
  for (int tries = 0; tries < 100 && rmdir (dir) < 0 && errno == EBUSY; tries++)
    usleep (10000);
}

/* Finds every cgroup named test_prefix* down to a few levels (relative
 * paths sit below this process's own cgroup), kills what is inside and
 * removes it. */
static size_t
clean_leftovers (const char *dir, int depth)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  size_t found = 0;

  if (d == NULL)
    return 0;
  while ((de = readdir (d)) != NULL)
    {
      cleanup_free char *child = NULL;

      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      child = ar_xasprintf ("%s/%s", dir, de->d_name);
      if (ar_str_has_prefix (de->d_name, test_prefix))
        {
          pid_t *pids = NULL;
          size_t n = 0;
          ar_error_t err = NULL;

          found++;
          if (ar_cgroup_collect_pids (child, &pids, &n, &err) == 0)
            for (size_t i = 0; i < n; i++)
              kill (pids[i], SIGKILL);
          ar_error_release (&err);
          free (pids);
          remove_tree (child, 0);
        }
      else if (depth < 4)
        found += clean_leftovers (child, depth + 1);
    }
  closedir (d);
  return found;
}

static size_t
cleanup_all (void)
{
  struct ar_cgroup_mounts mounts = { 0 };
  cleanup_free char *mountinfo = NULL;
  cleanup_free char *mnt = ar_xasprintf ("/tmp/%s-mnt", test_prefix);
  cleanup_free char *noswap = ar_xasprintf ("/tmp/%s-noswap", test_prefix);
  ar_error_t err = NULL;
  size_t found = 0;

  if (ar_read_file ("/proc/self/mountinfo", &mountinfo, NULL, &err) < 0
      || ar_cgroup_parse_mountinfo (mountinfo, true, &mounts, &err) < 0)
    {
      ar_error_release (&err);
      return 0;
    }
  for (size_t i = 0; i < mounts.n_entries; i++)
    found += clean_leftovers (mounts.entries[i].mountpoint, 0);
  ar_cgroup_mounts_clear (&mounts);
  rmdir (mnt);
  if (path_exists (noswap))
    {
      cleanup_free char *a = ar_xasprintf ("%s/memory.limit_in_bytes", noswap);
      cleanup_free char *b = ar_xasprintf ("%s/memory.max", noswap);

      unlink (a);
      unlink (b);
      rmdir (noswap);
    }
  return found;
}

/* The tests whose name contains filter (all with NULL), to run one alone
 * while debugging: test_cgroup mount. */
static const struct unit_test *
select_tests (const struct unit_test *tests, const char *filter)
{
  static struct unit_test selected[64];
  size_t n = 0;

  if (filter == NULL)
    return tests;
  for (const struct unit_test *t = tests; t->name != NULL && n + 1 < 64; t++)
    if (strstr (t->name, filter) != NULL)
      selected[n++] = *t;
  selected[n] = (struct unit_test) { NULL, NULL };
  return selected;
}

int
main (int argc, char **argv)
{
  static const struct unit_test tests[] = {
    { "layout of a hybrid host", test_layout_hybrid_sample },
    { "layout of pure v1 and v2", test_layout_pure_v1_and_v2 },
    { "layout duplicates and escapes", test_layout_duplicates_and_escapes },
    { "layout without cgroup mounts", test_layout_no_cgroup_mounts },
    { "layout of this host", test_layout_detect_host },
    { "resources parse full", test_resources_parse_full },
    { "resources parse errors", test_resources_parse_errors },
    { "resources special values", test_resources_parse_special_values },
    { "weight conversions", test_weight_conversions },
    { "cgroupsPath errors", test_path_errors },
    { "state json roundtrip", test_state_json_roundtrip },
    { "state json rejects bad input", test_state_json_rejects_bad_input },
    { "swap without accounting", test_swap_without_accounting },
    { "cgroup lifecycle", test_cgroup_lifecycle },
    { "kill_all keeps frozen", test_kill_all_keeps_frozen },
    { "destroy kills and removes children", test_destroy_kills_and_removes_children },
    { "failed create leaves nothing", test_failed_create_leaves_nothing },
    { "busy leaf is rejected", test_busy_leaf_is_rejected },
    { "relative cgroupsPath", test_relative_path },
    { "update", test_update },
    { "unsupported fields are named", test_unsupported_fields_named },
    { "hugepage limits", test_hugepage_limits },
    { "block I/O limits", test_block_io },
    { "device rules", test_device_rules },
    { "checkBeforeUpdate", test_check_before_update },
    { "clone into cgroup fd", test_clone_into_fd },
    { "cgroup mount", test_cgroup_mount },
    { "pure v1 layout", test_pure_v1_layout },
    { NULL, NULL },
  };
  pid_t pid;
  int status = -1;
  size_t leftovers;

  if (geteuid () != 0)
    {
      printf ("# test_cgroup needs root: skipped\n0 passed, 0 failed\n");
      return 0;
    }
  snprintf (test_prefix, sizeof (test_prefix), "ar-cgroup-test-%d", (int) getpid ());
  setvbuf (stdout, NULL, _IOLBF, 0);

  pid = fork ();
  if (pid < 0)
    return 1;
  if (pid == 0)
    _exit (unit_run (select_tests (tests, argc > 1 ? argv[1] : NULL)));
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;

  /* Every test removes its own cgroups; anything found here is a bug. */
  leftovers = cleanup_all ();
  if (leftovers > 0)
    {
      printf ("FAIL - cleanup found %zu cgroups left by the tests\n", leftovers);
      printf ("0 passed, 1 failed\n");
      return 1;
    }
  if (!WIFEXITED (status))
    {
      printf ("FAIL - the tests ended with wait status %d\n0 passed, 1 failed\n", status);
      return 1;
    }
  return WEXITSTATUS (status);
}
