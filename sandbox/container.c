#define _GNU_SOURCE
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "binary.h"
#include "cgroup.h"
#include "console.h"
#include "exec_guard.h"
#include "failpoint.h"
#include "hooks.h"
#include "keeper.h"
#include "namespaces.h"
#include "net/dns.h"
#include "net/egress.h"
#include "oci/audit.h"
#include "net/network.h"
#include "oci/config.h"
#include "oci/log.h"
#include "oci/util.h"
#include "policy/policy.h"
#include "policy_config.h"
#include "seccomp_cache.h"
#include "seccomp_filter.h"
#include "seccomp_notify.h"
#include "spawn.h"
#include "state.h"

#define AR_OCI_VERSION "1.2.0"

/* How long delete --force waits for the killed processes to exit. */
#define KILL_WAIT_SECONDS 10

static int
pidfd_open_compat (pid_t pid)
{
  return (int) syscall (SYS_pidfd_open, pid, 0);
}

/* Everything one create has made so far, so that a failure removes
 * exactly that, in reverse order. */
struct create_job
{
  const struct ar_create_options *options;
  struct ar_config *config;
  char *bundle;
  char *rootfs;
  bool state_dir_created;
  struct ar_cgroup *cgroup;
  struct ar_seccomp_program *seccomp;
  struct ar_identity *identity;
  int identity_dir_fd; /* root of the container's SVID tmpfs, or -1 */
  struct ar_egress_policy *egress; /* from agentrun.policy.network, or NULL */
  struct ar_state state;
  pid_t pid;
  int fifo_fd;
  int console_fd;
  int console_proxy_fd; /* run in the foreground with a terminal */
  bool seccomp_audit;   /* audit mode: the runtime handles the filter's notifications */
  int seccomp_listener; /* their listener, for the keeper, or -1 */
};

static void
create_job_free (struct create_job *job)
{
  if (job->fifo_fd >= 0)
    close (job->fifo_fd);
  if (job->console_fd >= 0)
    close (job->console_fd);
  if (job->console_proxy_fd >= 0)
    close (job->console_proxy_fd);
  if (job->seccomp_listener >= 0)
    close (job->seccomp_listener);
  if (job->identity_dir_fd >= 0)
    close (job->identity_dir_fd);
  ar_seccomp_program_free (job->seccomp);
  ar_identity_free (job->identity);
  ar_egress_policy_free (job->egress);
  ar_cgroup_free (job->cgroup);
  ar_config_free (job->config);
  free (job->bundle);
  free (job->rootfs);
  free (job->state.created);
  json_decref (job->state.cgroup);
  json_decref (job->state.network);
  json_decref (job->state.annotations);
  free (job->state.config_path);
}

/* Undoes a failed create: the process, the network, the cgroup, the state
 * folder. */
static void
create_job_rollback (struct create_job *job)
{
  cleanup_error ar_error_t err = NULL;

  if (job->pid > 0)
    {
      int status;
      kill (job->pid, SIGKILL);
      while (waitpid (job->pid, &status, 0) < 0 && errno == EINTR)
        ;
      job->pid = 0;
    }
  if (job->state.keeper_pid > 0 && ar_keeper_stop (job->state.keeper_pid, job->state.keeper_start, &err) < 0)
    {
      cleanup_free char *msg = ar_error_format (err);
      ar_warn ("container `%s`: %s", job->options->id, msg);
      ar_error_release (&err);
    }
  if (ar_network_teardown (job->options->root, &job->state, &err) < 0)
    {
      cleanup_free char *msg = ar_error_format (err);
      ar_warn ("cannot remove the network of `%s`: %s", job->options->id, msg);
      ar_error_release (&err);
    }
  if (job->cgroup && ar_cgroup_destroy (job->cgroup, &err) < 0)
    {
      cleanup_free char *msg = ar_error_format (err);
      ar_warn ("cannot remove the cgroup of `%s`: %s", job->options->id, msg);
      ar_error_release (&err);
    }
  if (job->state_dir_created && ar_state_dir_remove (job->options->root, job->options->id, &err) < 0)
    {
      cleanup_free char *msg = ar_error_format (err);
      ar_warn ("%s", msg);
    }
}

static char *
now_rfc3339 (void)
{
  struct timespec ts;
  struct tm tm;
  char buf[64];

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (buf, sizeof (buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return ar_xasprintf ("%s.%09ldZ", buf, ts.tv_nsec);
}

static char *
state_json_text (const struct ar_state *state, enum ar_status status)
{
  json_t *obj = ar_state_to_oci_json (state, status);
  char *text = json_dumps (obj, JSON_COMPACT);

  json_decref (obj);
  return text;
}

static int
run_runtime_hooks (void *data, pid_t pid, ar_error_t *err)
{
  struct create_job *job = data;
  cleanup_free char *state = NULL;

  cleanup_free char *prestart_state = NULL;

  job->state.pid = pid;

  /* prestart comes from runtime-spec 1.0, where it ran after start was
   * called, so its hooks expect the status "created". */
  prestart_state = state_json_text (&job->state, AR_STATUS_CREATED);
  if (ar_hooks_run (job->config, AR_HOOK_PRESTART, prestart_state, err) < 0)
    return -1;
  state = state_json_text (&job->state, AR_STATUS_CREATING);
  return ar_hooks_run (job->config, AR_HOOK_CREATE_RUNTIME, state, err);
}

static int
send_seccomp_listener (void *data, pid_t pid, int listener_fd, ar_error_t *err)
{
  struct create_job *job = data;
  const struct ar_seccomp *seccomp = job->config->linux_config.seccomp;
  cleanup_free char *state = NULL;

  /* In audit mode the keeper handles the notifications once it runs. */
  if (job->seccomp_audit)
    {
      job->seccomp_listener = fcntl (listener_fd, F_DUPFD_CLOEXEC, 3);
      if (job->seccomp_listener < 0)
        return ar_make_error (err, errno, "cannot keep the seccomp listener fd");
      return 0;
    }

  state = state_json_text (&job->state, AR_STATUS_CREATING);

  if (ar_seccomp_send_listener (seccomp->listener_path, seccomp->listener_metadata, pid, state, listener_fd,
                                err) < 0)
    return ar_error_wrap (err, "linux.seccomp.listenerPath");
  return 0;
}

/* Writes the event of a system call that the audit-mode filter let
 * through while the container process was being set up. */
static void
record_seccomp_notice (void *data, const struct ar_seccomp_notice *notice)
{
  struct create_job *job = data;
  const char *policy = ar_config_annotation (job->config, AR_POLICY_ANNOTATION_NAME);
  json_t *event = ar_seccomp_notice_event (notice);

  if (event == NULL)
    return;
  json_object_set_new (event, "container", json_string (job->options->id));
  if (policy != NULL)
    json_object_set_new (event, "policy", json_string (policy));
  json_object_set_new (event, "mode", json_string ("audit"));
  ar_audit_write (ar_config_annotation (job->config, AR_POLICY_ANNOTATION_AUDIT), event);
  json_decref (event);
}

static int
keep_identity_dir (void *data, int dir_fd, ar_error_t *err)
{
  struct create_job *job = data;

  if (job->identity_dir_fd >= 0)
    close (job->identity_dir_fd);
  job->identity_dir_fd = dir_fd;
  return 0;
}

static int
record_cloned (void *data, pid_t pid, ar_error_t *err)
{
  struct create_job *job = data;

  job->pid = pid;
  job->state.pid = pid;
  job->state.pid_start = ar_process_start_time (pid);
  job->state.creating = true;
  if (ar_state_write (job->options->root, &job->state, err) < 0)
    return -1;
  ar_failpoint ("create.cloned");
  return 0;
}

static int
resolve_bundle (const struct ar_create_options *o, char **out, ar_error_t *err)
{
  char resolved[PATH_MAX];
  const char *bundle = o->bundle && *o->bundle ? o->bundle : ".";
  struct stat st;

  if (realpath (bundle, resolved) == NULL)
    return ar_make_error (err, errno, "bundle `%s` not found; pass the folder holding config.json "
                                      "with --bundle",
                          bundle);
  if (stat (resolved, &st) < 0 || !S_ISDIR (st.st_mode))
    return ar_make_error (err, 0, "bundle `%s` is not a directory", bundle);
  *out = ar_xstrdup (resolved);
  return 0;
}

static int
resolve_rootfs (const char *bundle, const struct ar_config *config, char **out, ar_error_t *err)
{
  cleanup_free char *joined = NULL;
  char resolved[PATH_MAX];
  struct stat st;

  if (config->root.path == NULL || *config->root.path == '\0')
    return ar_make_error (err, 0, "%s/config.json: root.path is missing; set it to the rootfs folder",
                          bundle);
  joined = config->root.path[0] == '/' ? ar_xstrdup (config->root.path)
                                       : ar_xasprintf ("%s/%s", bundle, config->root.path);
  if (realpath (joined, resolved) == NULL)
    return ar_make_error (err, errno, "%s/config.json: root.path: rootfs `%s` not found", bundle, joined);
  if (stat (resolved, &st) < 0 || !S_ISDIR (st.st_mode))
    return ar_make_error (err, 0, "%s/config.json: root.path: rootfs `%s` is not a directory", bundle,
                          joined);
  *out = ar_xstrdup (resolved);
  return 0;
}

static bool
systemd_running (void)
{
  struct stat st;
  return lstat ("/run/systemd/system", &st) == 0 && S_ISDIR (st.st_mode);
}

static json_t *
annotations_json (const struct ar_config *config)
{
  json_t *obj = json_object ();

  for (size_t i = 0; i < config->n_annotations; i++)
    json_object_set_new (obj, config->annotations[i].key, json_string (config->annotations[i].value));
  return obj;
}

/* Checks everything that can be checked before anything is made. */
static int
create_validate (struct create_job *job, bool console_proxy, ar_error_t *err)
{
  const struct ar_create_options *o = job->options;
  const struct ar_config *config = job->config;

  /* The runtime spec allows a config without process at create; start
   * then fails. */
  if (config->process == NULL)
    return ar_namespaces_validate (config, err);

  if (config->process->terminal && o->console_socket == NULL && !console_proxy)
    return ar_make_error (err, 0, "process.terminal is true: pass --console-socket, or set "
                                       "terminal to false");
  if (!config->process->terminal && o->console_socket != NULL)
    ar_debug ("--console-socket given but process.terminal is false; ignoring it");
  if ((o->systemd_cgroup || (config->linux_config.cgroups_path
                             && strchr (config->linux_config.cgroups_path, ':') != NULL))
      && !systemd_running ())
    return ar_make_error (err, 0, "--systemd-cgroup and `slice:prefix:name` cgroupsPath need "
                                        "systemd, which is not running here; use a cgroupfs path "
                                        "such as /agentrun/ID");
  if (config->linux_config.has_intel_rdt)
    return ar_make_error (err, 0, "linux.intelRdt is not supported; remove it");
  if (config->linux_config.has_net_devices)
    return ar_make_error (err, 0, "linux.netDevices is not supported yet; remove it");
  if (config->linux_config.has_memory_policy)
    return ar_make_error (err, 0, "linux.memoryPolicy is not supported yet; remove it");
  if (config->process->apparmor_profile && *config->process->apparmor_profile
      && access ("/sys/kernel/security/apparmor", F_OK) < 0)
    return ar_make_error (err, 0, "process.apparmorProfile `%s`: AppArmor is not enabled on this "
                                        "host; remove the field",
                          config->process->apparmor_profile);
  if (config->process->selinux_label && *config->process->selinux_label
      && access ("/sys/fs/selinux/enforce", F_OK) < 0)
    return ar_make_error (err, 0, "process.selinuxLabel: SELinux is not enabled on this host; "
                                        "remove the field");
  /* A mount label only labels files; without SELinux there is nothing to
   * label, so it is ignored, as crun does. */
  if (config->linux_config.mount_label && *config->linux_config.mount_label
      && access ("/sys/fs/selinux/enforce", F_OK) < 0)
    ar_debug ("linux.mountLabel ignored: SELinux is not enabled on this host");
  return ar_namespaces_validate (config, err);
}

/* Appends allow rules for the default devices and for linux.devices to
 * the device cgroup rules, as other runtimes do, so that a config denying
 * every device still gets a usable /dev. */
static void
allow_container_devices (struct ar_config *config)
{
  static const struct ar_device_rule defaults[] = {
    { true, 'c', 1, 3, "rwm" },  /* /dev/null */
    { true, 'c', 1, 5, "rwm" },  /* /dev/zero */
    { true, 'c', 1, 7, "rwm" },  /* /dev/full */
    { true, 'c', 1, 8, "rwm" },  /* /dev/random */
    { true, 'c', 1, 9, "rwm" },  /* /dev/urandom */
    { true, 'c', 5, 0, "rwm" },  /* /dev/tty */
    { true, 'c', 5, 2, "rwm" },  /* /dev/ptmx */
    { true, 'c', 136, -1, "rwm" }, /* /dev/pts/N */
  };
  struct ar_resources *resources = config->linux_config.resources;
  size_t n_defaults = sizeof (defaults) / sizeof (defaults[0]);
  size_t n_new = n_defaults + config->linux_config.n_devices;
  struct ar_device_rule *rules;

  if (resources == NULL || !resources->has_devices)
    return;

  rules = realloc (resources->devices, (resources->n_devices + n_new) * sizeof (*rules));
  if (rules == NULL)
    abort ();
  memcpy (rules + resources->n_devices, defaults, sizeof (defaults));
  resources->devices = rules;
  resources->n_devices += n_defaults;

  /* FIFOs need no device rule. */
  for (size_t i = 0; i < config->linux_config.n_devices; i++)
    {
      const struct ar_device *dev = &config->linux_config.devices[i];
      struct ar_device_rule *rule;

      if (dev->type == 'p')
        continue;
      rule = &rules[resources->n_devices++];
      *rule = (struct ar_device_rule){ .allow = true, .type = dev->type == 'b' ? 'b' : 'c',
                                       .major = dev->major, .minor = dev->minor };
      memcpy (rule->access, "rwm", 4);
    }
}

static int
write_pid_file (const char *path, pid_t pid, ar_error_t *err)
{
  cleanup_free char *text = ar_xasprintf ("%d", (int) pid);
  char resolved[PATH_MAX];
  cleanup_free char *dir = ar_xstrdup (path);
  char *slash = strrchr (dir, '/');

  /* Relative pid files are taken from the caller's directory, as runc
   * does; make the path absolute for the temporary file next to it. */
  if (slash == NULL)
    {
      if (getcwd (resolved, sizeof (resolved)) == NULL)
        return ar_make_error (err, errno, "cannot resolve --pid-file `%s`", path);
      free (dir);
      dir = ar_xasprintf ("%s/%s", resolved, path);
      return ar_write_file_atomic (dir, text, strlen (text), 0644, err);
    }
  return ar_write_file_atomic (path, text, strlen (text), 0644, err);
}

static int
create_job_run (struct create_job *job, bool console_proxy, ar_error_t *err)
{
  const struct ar_create_options *o = job->options;
  cleanup_free char *fifo = NULL;
  cleanup_free char *config_copy = NULL;

  if (ar_state_validate_id (o->id, err) < 0)
    return -1;
  if (resolve_bundle (o, &job->bundle, err) < 0)
    return -1;
  if (ar_config_load_with_policies (job->bundle, o->policy_path, &job->config, err) < 0)
    return -1;
  /* Nothing exists yet that agentrun-full would find in its way. */
  if (!ar_full_binary && ar_config_needs_full_binary (job->config) && o->argv != NULL)
    return ar_exec_full_binary (o->argv, err);
  if (resolve_rootfs (job->bundle, job->config, &job->rootfs, err) < 0)
    return -1;

  /* In a pid namespace that other processes already share, they can see
   * the container process before it reaches the exec guard. */
  if (job->config->linux_config.namespaces[AR_NS_PID].present && job->config->linux_config.namespaces[AR_NS_PID].path
      && o->argv && ar_reexec_from_sealed_copy (o->argv, err) < 0)
    return -1;
  if (create_validate (job, console_proxy, err) < 0)
    return -1;
  if (ar_identity_prepare (job->config, o->id, &job->identity, err) < 0)
    return -1;
  if (ar_egress_policy_from_config (job->config, &job->egress, err) < 0
      || (job->egress && ar_egress_check_config (job->egress, job->config, err) < 0))
    return ar_error_wrap (err, "%s/config.json", job->bundle);

  if (ar_state_root_prepare (o->root, err) < 0)
    return -1;

  if (job->config->linux_config.seccomp)
    {
      const char *mode = ar_config_annotation (job->config, AR_POLICY_ANNOTATION_MODE);

      /* A policy in audit mode logs what it would deny.  The runtime
       * requests a notification instead, so that each call becomes an event. */
      if (mode != NULL && strcmp (mode, "audit") == 0)
        job->seccomp_audit = ar_seccomp_log_to_notify (job->config->linux_config.seccomp);
    }
  if (job->config->linux_config.seccomp)
    {
      cleanup_free char *cache_dir = ar_xasprintf ("%s/.seccomp-cache", o->root);
      if (ar_seccomp_compile_cached (job->config, cache_dir, &job->seccomp, err) < 0)
        return ar_error_wrap (err, "%s/config.json", job->bundle);
    }
  if (ar_state_dir_create (o->root, o->id, err) < 0)
    return -1;
  job->state_dir_created = true;
  ar_failpoint ("create.state-dir-created");

  job->state.id = (char *) o->id;
  job->state.bundle = job->bundle;
  job->state.rootfs = job->rootfs;
  job->state.created = now_rfc3339 ();
  job->state.owner = getuid ();
  job->state.annotations = annotations_json (job->config);
  job->state.has_process = job->config->process != NULL;
  job->state.has_poststart_hooks = job->config->hooks[AR_HOOK_POSTSTART].n_hooks > 0;
  job->state.has_poststop_hooks = job->config->hooks[AR_HOOK_POSTSTOP].n_hooks > 0;
  job->state.creating = true;

  config_copy = ar_xasprintf ("%s/%s/%s", o->root, o->id, AR_CONFIG_COPY);
  if (ar_write_file_atomic (config_copy, job->config->raw_json, strlen (job->config->raw_json), 0600, err) < 0)
    return -1;
  job->state.config_path = ar_steal_ptr (config_copy);

  fifo = ar_xasprintf ("%s/%s/%s", o->root, o->id, AR_EXEC_FIFO);
  /* The container process opens the FIFO after it has switched to the
   * container's user, so everyone may write it.  Only root can reach it,
   * through the fd the process inherits, because the state folder is 0700. */
  if (mkfifo (fifo, 0600) < 0)
    return ar_make_error (err, errno, "cannot create the exec fifo `%s`", fifo);
  if (chmod (fifo, 0622) < 0)
    return ar_make_error (err, errno, "cannot set the mode of the exec fifo `%s`", fifo);
  job->fifo_fd = open (fifo, O_PATH | O_CLOEXEC);
  if (job->fifo_fd < 0)
    return ar_make_error (err, errno, "cannot open the exec fifo `%s`", fifo);

  /* Domain rules: the container asks the keeper's DNS responder. */
  if (ar_dns_wanted (job->egress) && job->config->process != NULL)
    {
      cleanup_free char *state_dir = ar_xasprintf ("%s/%s", o->root, o->id);
      if (ar_dns_add_resolv_conf (job->config, state_dir, err) < 0)
        return ar_error_wrap (err, "container `%s`", o->id);
    }

  if (o->no_cgroups)
    ar_debug ("--cgroup-manager disabled: container %s gets no cgroup", o->id);
  else
    {
      allow_container_devices (job->config);
      if (ar_cgroup_create (o->id, job->config->linux_config.cgroups_path, o->systemd_cgroup,
                            job->config->linux_config.resources, &job->cgroup, err) < 0)
        return ar_error_wrap (err, "%s/config.json", job->bundle);
      job->state.cgroup = ar_cgroup_to_json (job->cgroup);

      /* Record the cgroup at once: a runtime that dies before the process
       * is cloned must leave `delete --force` a state that names it.
       * TODO: a runtime killed between the mkdir calls of ar_cgroup_create
       * and this write still leaves the cgroup behind. */
      if (ar_state_write (o->root, &job->state, err) < 0)
        return -1;
      ar_failpoint ("create.cgroup-created");
    }

  if (job->config->process && job->config->process->terminal)
    {
      if (o->console_socket)
        {
          job->console_fd = ar_console_socket_connect (o->console_socket, err);
          if (job->console_fd < 0)
            return ar_error_wrap (err, "--console-socket");
        }
      else if (console_proxy)
        {
          int pair[2];
          if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
            return ar_make_error (err, errno, "cannot create the console socket pair");
          job->console_proxy_fd = pair[0];
          job->console_fd = pair[1];
        }
    }

  {
    struct ar_spawn_request request = {
      .config = job->config,
      .id = o->id,
      .bundle = job->bundle,
      .rootfs = job->rootfs,
      .exec_fifo_fd = job->fifo_fd,
      .console_fd = job->console_fd,
      .preserve_fds = o->preserve_fds,
      .no_pivot = o->no_pivot,
      .no_new_keyring = o->no_new_keyring,
      .cgroup = job->cgroup,
      .seccomp = job->seccomp,
      .identity = job->identity,
      .run_runtime_hooks = run_runtime_hooks,
      .on_cloned = record_cloned,
      .send_seccomp_listener = send_seccomp_listener,
      .on_seccomp_notice = job->seccomp_audit ? record_seccomp_notice : NULL,
      .keep_identity_dir = keep_identity_dir,
      .hooks_data = job,
    };
    pid_t pid;

    if (ar_spawn_container (&request, &pid, err) < 0)
      {
        job->pid = 0; /* spawn has reaped it */
        return -1;
      }
    job->pid = pid;
  }
  ar_failpoint ("create.spawned");

  /* The container process now waits on the exec FIFO, so the network and
   * its policy are in place before its command runs (createContainer hooks
   * have run without them).  A failure here kills the process in the
   * rollback.  The network comes first, so that the policy finds the
   * gateway among the host's addresses. */
  if (ar_network_setup (o->root, &job->state, job->egress, job->config, job->pid, err) < 0)
    return ar_error_wrap (err, "container `%s`", o->id);
  if (job->egress
      && ar_egress_apply_pid (job->egress, job->pid,
                              job->config->linux_config.namespaces[AR_NS_NETWORK].path != NULL, err) < 0)
    return ar_error_wrap (err, "container `%s`", o->id);
  ar_failpoint ("create.network-applied");

  if (job->console_fd >= 0)
    {
      close (job->console_fd);
      job->console_fd = -1;
    }

  {
    struct ar_keeper_context keeper = {
      .id = o->id,
      .root = o->root,
      .pid = job->pid,
      .config = job->config,
      .egress = job->egress,
      .identity = job->identity,
      .seccomp_listener = job->seccomp_listener,
      .identity_dir_fd = job->identity_dir_fd,
    };

    if (ar_keeper_spawn (&keeper, &job->state.keeper_pid, &job->state.keeper_start, err) < 0)
      return ar_error_wrap (err, "container `%s`", o->id);
  }
  ar_failpoint ("create.keeper-started");

  job->state.creating = false;
  ar_failpoint ("create.before-state-write");
  if (ar_state_write (o->root, &job->state, err) < 0)
    return -1;
  ar_failpoint ("create.state-written");
  if (o->pid_file && write_pid_file (o->pid_file, job->pid, err) < 0)
    return ar_error_wrap (err, "--pid-file");

  ar_debug ("created container %s with pid %d", o->id, (int) job->pid);
  return 0;
}

static void
create_job_init (struct create_job *job, const struct ar_create_options *options)
{
  memset (job, 0, sizeof (*job));
  job->options = options;
  job->fifo_fd = -1;
  job->console_fd = -1;
  job->console_proxy_fd = -1;
  job->seccomp_listener = -1;
  job->identity_dir_fd = -1;
}

int
ar_container_create (const struct ar_create_options *options, ar_error_t *err)
{
  struct create_job job;
  int ret;

  create_job_init (&job, options);
  ret = create_job_run (&job, false, err);
  if (ret < 0)
    create_job_rollback (&job);
  create_job_free (&job);
  return ret;
}

/* Loads the config copy kept in the state folder, for hooks at start and
 * delete. */
static int
load_state_config (const char *root, const struct ar_state *state, struct ar_config **out, ar_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t len;
  cleanup_free char *path = state->config_path ? ar_xstrdup (state->config_path)
                                               : ar_xasprintf ("%s/%s/%s", root, state->id, AR_CONFIG_COPY);

  if (ar_read_file (path, &text, &len, err) < 0)
    return -1;
  return ar_config_parse (text, len, path, out, err);
}

static enum ar_status
container_status (const char *root, const struct ar_state *state)
{
  enum ar_status status = ar_state_status (root, state);

  if (status == AR_STATUS_RUNNING && state->cgroup != NULL)
    {
      struct ar_cgroup *cgroup = NULL;
      bool frozen = false;

      if (ar_cgroup_from_json (state->cgroup, &cgroup, NULL) == 0)
        {
          if (ar_cgroup_is_frozen (cgroup, &frozen, NULL) == 0 && frozen)
            status = AR_STATUS_PAUSED;
          ar_cgroup_free (cgroup);
        }
    }
  return status;
}

static int
start_locked (const char *root, struct ar_state *state, ar_error_t *err)
{
  cleanup_free char *fifo = ar_xasprintf ("%s/%s/%s", root, state->id, AR_EXEC_FIFO);
  cleanup_close int fifo_fd = -1;
  cleanup_close int pidfd = -1;
  enum ar_status status = container_status (root, state);
  char byte;

  if (status != AR_STATUS_CREATED)
    return ar_make_error (err, 0, "cannot start container `%s`: it is %s, and only a created "
                                       "container can be started",
                          state->id, ar_status_name (status));
  if (!state->has_process)
    return ar_make_error (err, 0, "cannot start container `%s`: its config.json has no process; "
                                  "delete it and create it again with a process",
                          state->id);

  /* The pidfd comes first: opening the fifo lets the process go on, and
   * a short-lived one may have exited and been reaped right after. */
  pidfd = pidfd_open_compat (state->pid);
  if (pidfd < 0)
    return ar_make_error (err, errno, "container `%s`: its process %d is gone", state->id, (int) state->pid);
  ar_failpoint ("start.before-fifo");
  fifo_fd = open (fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fifo_fd < 0)
    return ar_make_error (err, errno, "cannot open the exec fifo of `%s`", state->id);

  for (;;)
    {
      struct pollfd fds[2] = { { .fd = fifo_fd, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
      ssize_t n;

      if (poll (fds, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return ar_make_error (err, errno, "cannot wait on the exec fifo of `%s`", state->id);
        }
      if (fds[0].revents & POLLIN)
        {
          n = read (fifo_fd, &byte, 1);
          if (n == 1)
            break;
        }
      if (fds[1].revents & POLLIN)
        return ar_make_error (err, 0, "container `%s`: its process exited during start; when a startContainer "
                                      "hook fails, the process prints the hook's error on its stderr and exits",
                              state->id);
    }

  ar_failpoint ("start.fifo-read");
  unlink (fifo);

  /* The container process keeps its close-on-exec end of the FIFO open
   * through the startContainer hooks, so end of file means it has executed
   * its command (or died): poststart hooks must run only after that.
   * Without them, start returns at once, as runc's and crun's do. */
  if (!state->has_poststart_hooks)
    return 0;
  for (;;)
    {
      struct pollfd fds[2] = { { .fd = fifo_fd, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };

      if (poll (fds, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return ar_make_error (err, errno, "cannot wait for container `%s` to execute its process", state->id);
        }
      if ((fds[0].revents & (POLLIN | POLLHUP)) && read (fifo_fd, &byte, 1) <= 0)
        break;
      if (fds[1].revents & POLLIN)
        break;
    }
  return 0;
}

static void
run_poststart_hooks (const char *root, struct ar_state *state)
{
  cleanup_error ar_error_t err = NULL;
  struct ar_config *config = NULL;
  cleanup_free char *json = NULL;

  if (!state->has_poststart_hooks)
    return;
  if (load_state_config (root, state, &config, &err) < 0)
    goto out;
  if (config->hooks[AR_HOOK_POSTSTART].n_hooks == 0)
    goto out;
  json = state_json_text (state, AR_STATUS_RUNNING);
  if (ar_hooks_run (config, AR_HOOK_POSTSTART, json, &err) < 0)
    goto out;

out:
  if (err)
    {
      cleanup_free char *msg = ar_error_format (err);
      ar_warn ("%s", msg);
    }
  ar_config_free (config);
}

int
ar_container_start (const char *root, const char *id, ar_error_t *err)
{
  cleanup_close int lock = -1;
  cleanup_state struct ar_state *state = NULL;

  if (ar_state_validate_id (id, err) < 0)
    return -1;
  lock = ar_state_lock (root, id, err);
  if (lock < 0)
    return -1;
  if (ar_state_read (root, id, &state, err) < 0)
    return -1;
  if (start_locked (root, state, err) < 0)
    return -1;
  run_poststart_hooks (root, state);
  return 0;
}

/* Waits up to KILL_WAIT_SECONDS for the process behind pidfd to exit. */
static bool
wait_pidfd_exit (int pidfd)
{
  struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
  int ret;

  do
    ret = poll (&pfd, 1, KILL_WAIT_SECONDS * 1000);
  while (ret < 0 && errno == EINTR);
  return ret > 0;
}

static int
signal_container (const struct ar_state *state, int signal, bool all, ar_error_t *err)
{
  cleanup_close int pidfd = -1;

  if (all && state->cgroup)
    {
      struct ar_cgroup *cgroup = NULL;
      int ret;

      if (ar_cgroup_from_json (state->cgroup, &cgroup, err) < 0)
        return -1;
      ret = ar_cgroup_kill_all (cgroup, signal, err);
      ar_cgroup_free (cgroup);
      if (ret < 0)
        return ret;
    }

  if (!ar_state_process_alive (state))
    return all ? 0 : ar_make_error (err, 0, "container `%s` is not running", state->id);

  pidfd = pidfd_open_compat (state->pid);
  if (pidfd < 0)
    return ar_make_error (err, errno, "container `%s`: cannot open its process %d", state->id,
                          (int) state->pid);
  /* Checked after pidfd_open, so the pidfd cannot point at a process that
   * took over a recycled pid. */
  if (!ar_state_process_alive (state))
    return all ? 0 : ar_make_error (err, 0, "container `%s` is not running", state->id);
  if (syscall (SYS_pidfd_send_signal, pidfd, signal, NULL, 0) < 0 && errno != ESRCH)
    return ar_make_error (err, errno, "cannot send signal %d to container `%s`", signal, state->id);
  return 0;
}

int
ar_container_kill (const char *root, const char *id, int signal, bool all, ar_error_t *err)
{
  cleanup_state struct ar_state *state = NULL;
  enum ar_status status;

  if (ar_state_validate_id (id, err) < 0)
    return -1;
  if (ar_state_read (root, id, &state, err) < 0)
    return -1;
  status = container_status (root, state);
  if (status == AR_STATUS_STOPPED || status == AR_STATUS_CREATING)
    return ar_make_error (err, 0, "container `%s` is %s, so there is nothing to signal", id,
                          ar_status_name (status));
  return signal_container (state, signal, all, err);
}

/* Kills every process of the container and waits until the main one is
 * gone. */
static int
kill_for_delete (const struct ar_state *state, ar_error_t *err)
{
  cleanup_close int pidfd = -1;

  if (state->cgroup)
    {
      struct ar_cgroup *cgroup = NULL;

      if (ar_cgroup_from_json (state->cgroup, &cgroup, err) < 0)
        return -1;
      ar_cgroup_set_frozen (cgroup, false, NULL);
      if (ar_cgroup_kill_all (cgroup, SIGKILL, err) < 0)
        ar_error_release (err);
      ar_cgroup_free (cgroup);
    }

  if (!ar_state_process_alive (state))
    return 0;
  pidfd = pidfd_open_compat (state->pid);
  if (pidfd < 0)
    return errno == ESRCH ? 0 : ar_make_error (err, errno, "cannot open process %d", (int) state->pid);
  if (!ar_state_process_alive (state))
    return 0;
  syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
  if (!wait_pidfd_exit (pidfd))
    return ar_make_error (err, ETIMEDOUT, "container `%s`: process %d did not exit within %d s of SIGKILL",
                          state->id, (int) state->pid, KILL_WAIT_SECONDS);
  return 0;
}

static int
delete_locked (const char *root, struct ar_state *state, bool force, ar_error_t *err)
{
  enum ar_status status = container_status (root, state);
  struct ar_config *config = NULL;
  cleanup_error ar_error_t config_err = NULL;

  /* The runtime spec makes deleting any container that is not stopped an
   * error, a created one included; --force kills it first. */
  if ((status == AR_STATUS_RUNNING || status == AR_STATUS_PAUSED || status == AR_STATUS_CREATED) && !force)
    return ar_make_error (err, 0, "cannot delete container `%s`: it is %s; stop it first or use "
                                      "`delete --force`",
                          state->id, ar_status_name (status));
  if (status == AR_STATUS_CREATING && ar_state_process_alive (state) && !force)
    return ar_make_error (err, 0, "container `%s` is being created; use `delete --force` to remove it",
                          state->id);

  if (status != AR_STATUS_STOPPED && kill_for_delete (state, err) < 0)
    return -1;
  ar_failpoint ("delete.killed");
  if (ar_keeper_stop (state->keeper_pid, state->keeper_start, err) < 0)
    return -1;

  if (state->cgroup)
    {
      struct ar_cgroup *cgroup = NULL;
      int ret;

      if (ar_cgroup_from_json (state->cgroup, &cgroup, err) < 0)
        return -1;
      ret = ar_cgroup_destroy (cgroup, err);
      ar_cgroup_free (cgroup);
      if (ret < 0)
        return ret;
    }
  ar_failpoint ("delete.cgroup-removed");
  if (ar_network_teardown (root, state, err) < 0)
    return -1;

  /* poststop hooks run after the container is gone; their failures are
   * reported but do not stop the delete. */
  if (state->has_poststop_hooks && state->bundle != NULL && load_state_config (root, state, &config, &config_err) == 0)
    {
      if (config->hooks[AR_HOOK_POSTSTOP].n_hooks > 0)
        {
          cleanup_free char *json = state_json_text (state, AR_STATUS_STOPPED);
          cleanup_error ar_error_t hook_err = NULL;

          if (ar_hooks_run (config, AR_HOOK_POSTSTOP, json, &hook_err) < 0)
            {
              cleanup_free char *msg = ar_error_format (hook_err);
              ar_warn ("%s", msg);
            }
        }
      ar_config_free (config);
    }

  return ar_state_dir_remove (root, state->id, err);
}

int
ar_container_delete (const char *root, const char *id, bool force, ar_error_t *err)
{
  cleanup_close int lock = -1;
  cleanup_state struct ar_state *state = NULL;

  if (ar_state_validate_id (id, err) < 0)
    return -1;
  lock = ar_state_lock (root, id, err);
  if (lock < 0)
    {
      /* podman cleans up with delete --force whether or not the container
       * still exists, and runc succeeds there too. */
      if (force && lock == -ENOENT)
        {
          ar_error_release (err);
          return 0;
        }
      return -1;
    }
  if (ar_state_read (root, id, &state, err) < 0)
    return -1;
  /* Removing agentrun's own network needs libnl and libnftables. */
  if (!ar_full_binary && state->network != NULL && ar_binary_argv () != NULL)
    {
      close (ar_steal_fd (lock));
      return ar_exec_full_binary (ar_binary_argv (), err);
    }
  return delete_locked (root, state, force, err);
}

int
ar_container_state (const char *root, const char *id, json_t **out, ar_error_t *err)
{
  cleanup_state struct ar_state *state = NULL;

  if (ar_state_validate_id (id, err) < 0)
    return -1;
  if (ar_state_read (root, id, &state, err) < 0)
    return -1;
  *out = ar_state_to_oci_json (state, container_status (root, state));
  return 0;
}

int
ar_container_list (const char *root, json_t **out, ar_error_t *err)
{
  cleanup_strv char **ids = NULL;
  json_t *list;

  if (ar_state_list_ids (root, &ids, err) < 0)
    return -1;

  list = json_array ();
  for (size_t i = 0; ids[i] != NULL; i++)
    {
      cleanup_state struct ar_state *state = NULL;
      cleanup_error ar_error_t item_err = NULL;
      json_t *obj;
      struct passwd *pw;

      if (ar_state_read (root, ids[i], &state, &item_err) < 0)
        continue;
      obj = ar_state_to_oci_json (state, container_status (root, state));
      pw = getpwuid (state->owner);
      json_object_set_new (obj, "owner", json_string (pw ? pw->pw_name : "#"));
      json_array_append_new (list, obj);
    }
  *out = list;
  return 0;
}

/* `run` ------------------------------------------------------------------ */

static volatile sig_atomic_t forward_pid;

static void
forward_signal (int signal)
{
  if (forward_pid > 0)
    kill (forward_pid, signal);
}

static int
wait_for_exit (pid_t pid, int *exit_code)
{
  static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
  struct sigaction sa = { .sa_handler = forward_signal };
  int status;

  forward_pid = pid;
  sigemptyset (&sa.sa_mask);
  for (size_t i = 0; i < sizeof (forwarded) / sizeof (forwarded[0]); i++)
    sigaction (forwarded[i], &sa, NULL);

  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return -errno;
  forward_pid = 0;

  if (WIFEXITED (status))
    *exit_code = WEXITSTATUS (status);
  else if (WIFSIGNALED (status))
    *exit_code = 128 + WTERMSIG (status);
  else
    *exit_code = 255;
  return 0;
}

int
ar_container_run (const struct ar_create_options *options, bool detach, int *exit_code, ar_error_t *err)
{
  struct create_job job;
  cleanup_state struct ar_state *state = NULL;
  int master = -1;
  int ret;

  /* A container process forked into the new pid namespace of a joined
   * user namespace is a grandchild: become its reaper so `run` can wait. */
  if (!detach)
    prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

  create_job_init (&job, options);
  ret = create_job_run (&job, !detach, err);
  if (ret < 0)
    {
      create_job_rollback (&job);
      create_job_free (&job);
      return ret;
    }

  if (job.console_proxy_fd >= 0 && ar_console_proxy_receive_master (job.console_proxy_fd, &master, err) < 0)
    goto fail;

  if (ar_state_read (options->root, options->id, &state, err) < 0)
    goto fail;
  if (start_locked (options->root, state, err) < 0)
    goto fail;
  run_poststart_hooks (options->root, state);

  if (detach)
    {
      *exit_code = 0;
      create_job_free (&job);
      return 0;
    }

  if (master >= 0)
    {
      cleanup_error ar_error_t proxy_err = NULL;
      if (ar_console_proxy_run (master, &proxy_err) < 0)
        {
          cleanup_free char *msg = ar_error_format (proxy_err);
          ar_warn ("%s", msg);
        }
      close (master);
    }

  ret = wait_for_exit (job.pid, exit_code);
  job.pid = 0;
  create_job_free (&job);
  if (ret < 0)
    return ar_make_error (err, -ret, "cannot wait for container `%s`", options->id);

  return ar_container_delete (options->root, options->id, true, err);

fail:
  if (master >= 0)
    close (master);
  create_job_rollback (&job);
  create_job_free (&job);
  return -1;
}

int
ar_signal_parse (const char *text)
{
  static const struct
  {
    const char *name;
    int number;
  } names[] = {
    { "HUP", SIGHUP },       { "INT", SIGINT },       { "QUIT", SIGQUIT },     { "ILL", SIGILL },
    { "TRAP", SIGTRAP },     { "ABRT", SIGABRT },     { "IOT", SIGIOT },       { "BUS", SIGBUS },
    { "FPE", SIGFPE },       { "KILL", SIGKILL },     { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },
    { "USR2", SIGUSR2 },     { "PIPE", SIGPIPE },     { "ALRM", SIGALRM },     { "TERM", SIGTERM },
    { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD },     { "CONT", SIGCONT },     { "STOP", SIGSTOP },
    { "TSTP", SIGTSTP },     { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU },     { "URG", SIGURG },
    { "XCPU", SIGXCPU },     { "XFSZ", SIGXFSZ },     { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
    { "WINCH", SIGWINCH },   { "IO", SIGIO },         { "POLL", SIGPOLL },     { "PWR", SIGPWR },
    { "SYS", SIGSYS },
  };
  long number;
  const char *name = text;

  if (text == NULL || *text == '\0')
    return -1;
  if (ar_parse_long (text, &number) == 0)
    return number > 0 && number < NSIG ? (int) number : -1;

  if (strncasecmp (name, "SIG", 3) == 0)
    name += 3;
  if (strncasecmp (name, "RTMIN", 5) == 0 || strncasecmp (name, "RTMAX", 5) == 0)
    {
      bool min = strncasecmp (name, "RTMIN", 5) == 0;
      long offset = 0;
      const char *rest = name + 5;

      if (*rest != '\0' && (ar_parse_long (rest, &offset) < 0 || (min ? offset < 0 : offset > 0)))
        return -1;
      number = (min ? SIGRTMIN : SIGRTMAX) + offset;
      return number >= SIGRTMIN && number <= SIGRTMAX ? (int) number : -1;
    }
  for (size_t i = 0; i < sizeof (names) / sizeof (names[0]); i++)
    if (strcasecmp (name, names[i].name) == 0)
      return names[i].number;
  return -1;
}
