/* The keeper module that reports, in audit mode, the writes that the
 * policy's filesystem section would stop in enforce mode.  These are
 * writes outside its writable places while the root is meant to be
 * read-only, and writes in read-only or denied paths, which audit mode
 * leaves writable and visible.  Each becomes a `file` event.
 *
 * It watches the container's mounts with fanotify, from the keeper, which
 * stays in the host's mount namespace:
 *
 * - One notification group (FAN_CLASS_NOTIF: it only observes, so the
 *   container never waits on the keeper) with a mount mark
 *   (FAN_MARK_MOUNT) on each writable mount of the container whose writes
 *   may need an event.  A mount mark sees the writes made through that
 *   mount only: not those of the host or of other containers to the same
 *   filesystem, as a filesystem mark would.
 * - The events are FAN_MODIFY (a write) and FAN_CLOSE_WRITE (the close of
 *   a file opened for writing, so that a file created empty is reported
 *   too).  The kernel refuses the directory events (FAN_CREATE,
 *   FAN_DELETE, FAN_MOVED_TO, FAN_ATTRIB) on mount marks, so a mkdir, an
 *   unlink, a rename or a chmod makes no event.
 *   TODO: report those through filesystem marks (FAN_MARK_FILESYSTEM with
 *   FAN_REPORT_DFID_NAME) on the filesystems that only this container
 *   mounts, such as its own tmpfs mounts.
 * - The group reports a descriptor per event, not a file handle: a handle
 *   names no mount (two bind mounts of one filesystem would be confused)
 *   and overlayfs, podman's root, cannot decode handles without its
 *   nfs_export option.  The kernel opens these descriptors read-only and
 *   non-blocking, so that opening a FIFO cannot block the keeper.
 *
 * Resolving the container's paths from the host is where a container
 * could mislead the keeper: /proc/PID/root/etc followed by the kernel
 * resolves a symbolic link `etc -> /` in the container against the
 * keeper's root, so a mark would land on a host mount.  The mount points
 * are therefore opened with openat2 and RESOLVE_IN_ROOT below a
 * descriptor of /proc/PID/root (taken while a pidfd shows that PID is
 * still the container process), refusing every symbolic link, and each
 * mount's id is checked against /proc/PID/mountinfo before the mark is
 * placed through that descriptor.  The container's command has not run
 * yet at that point, so only config.json has shaped its mounts.
 * TODO: watch mounts that the container adds later (with CAP_SYS_ADMIN);
 * /proc/PID/mountinfo signals each change with POLLPRI.
 *
 * An event's path is the kernel's name of its descriptor, which for a
 * mount of another mount namespace is the path in that namespace; the
 * name of the container's root, read the same way, is cut off its front.
 * That name is the container's only while its mount namespace lives (a
 * detached mount is named from its own root), so the keeper holds the
 * namespace open until it has read the last events.  A file renamed
 * between the write and the read is reported by its new name.  The
 * keeper's own writes are skipped.
 *
 * Rate limits: once a file has had its event, an ignore mark stops its
 * further FAN_MODIFY events (up to MAX_IGNORED_FILES files), so only its
 * next close after a write is seen again.  Then one event per path and
 * second, and at most FILE_EVENTS_PER_SECOND events a second in all;
 * what is cut is counted in a warning. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "file_events.h"
#include "keeper.h"
#include "keeper_modules.h"
#include "oci/log.h"
#include "oci/util.h"
#include "policy/policy.h"

#define RECENT_SLOTS 64
#define FILE_EVENTS_PER_SECOND 20
#define DELETED_SUFFIX " (deleted)"
/* The maximum number of files whose further writes are ignored.  Each
 * ignore mark keeps an inode in memory and counts against the host's
 * fs.fanotify.max_user_marks. */
#define MAX_IGNORED_FILES 1024

struct recent_path
{
  uint64_t hash;
  time_t when;
};

struct file_events
{
  struct ar_keeper *keeper;
  struct ar_file_rules *rules;
  int fanotify_fd;
  char *root_name; /* the container's root as the kernel names it here */
  int mount_ns_fd;  /* keeps the container's mounts attached */
  pid_t self;
  struct recent_path recent[RECENT_SLOTS];
  size_t next_slot;
  time_t window;
  unsigned int in_window;
  unsigned long dropped;
  size_t n_marks;
  size_t n_ignored;
};

static bool
file_events_wanted (const struct ar_keeper_context *context)
{
  const char *mode = ar_config_annotation (context->config, AR_POLICY_ANNOTATION_MODE);

  return context->config->process != NULL && mode != NULL && strcmp (mode, "audit") == 0
         && ar_config_annotation (context->config, AR_POLICY_ANNOTATION_FILESYSTEM) != NULL;
}

static uint64_t
path_hash (const char *path)
{
  uint64_t hash = 14695981039346656037ULL;

  for (const unsigned char *p = (const unsigned char *) path; *p != '\0'; p++)
    hash = (hash ^ *p) * 1099511628211ULL;
  return hash;
}

/* Logs how many events the rate limit cut since the last warning. */
static void
warn_dropped (struct file_events *events)
{
  if (events->dropped == 0)
    return;
  ar_warn ("container %s: %lu writes that the policy would stop came faster than %d a second and have no event",
           ar_keeper_context (events->keeper)->id, events->dropped, FILE_EVENTS_PER_SECOND);
  events->dropped = 0;
}

/* Returns whether an event for path may be written now, and counts it. */
static bool
rate_allows (struct file_events *events, const char *path)
{
  uint64_t hash = path_hash (path);
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  for (size_t i = 0; i < RECENT_SLOTS; i++)
    if (events->recent[i].when != 0 && events->recent[i].hash == hash && now.tv_sec - events->recent[i].when < 1)
      return false;

  if (now.tv_sec != events->window)
    {
      warn_dropped (events);
      events->window = now.tv_sec;
      events->in_window = 0;
    }
  if (events->in_window >= FILE_EVENTS_PER_SECOND)
    {
      events->dropped++;
      return false;
    }
  events->in_window++;
  events->recent[events->next_slot] = (struct recent_path) { .hash = hash, .when = now.tv_sec };
  events->next_slot = (events->next_slot + 1) % RECENT_SLOTS;
  return true;
}

/* Returns the kernel's name for fd, or NULL. */
static char *
fd_name (int fd)
{
  char link[64];
  char buf[PATH_MAX];
  ssize_t len;

  snprintf (link, sizeof (link), "/proc/self/fd/%d", fd);
  len = readlink (link, buf, sizeof (buf) - 1);
  if (len <= 0)
    return NULL;
  buf[len] = '\0';
  return ar_xstrdup (buf);
}

/* Returns the path of the event's file in the container, or NULL when
 * it lies outside the container's root. */
static char *
container_path (struct file_events *events, int fd)
{
  cleanup_free char *name = fd_name (fd);
  size_t root_len = strlen (events->root_name);
  size_t len;
  struct stat st;

  if (name == NULL || name[0] != '/')
    return NULL;
  /* A deleted file's name ends in " (deleted)".  A file may also be
   * named so, which only its link count shows. */
  len = strlen (name);
  if (len > strlen (DELETED_SUFFIX) && strcmp (name + len - strlen (DELETED_SUFFIX), DELETED_SUFFIX) == 0
      && fstat (fd, &st) == 0 && st.st_nlink == 0)
    name[len - strlen (DELETED_SUFFIX)] = '\0';

  if (strcmp (events->root_name, "/") == 0)
    return ar_steal_ptr (name);
  if (strncmp (name, events->root_name, root_len) != 0 || (name[root_len] != '\0' && name[root_len] != '/'))
    return NULL;
  return ar_xstrdup (name[root_len] == '\0' ? "/" : name + root_len);
}

static void
report_write (struct file_events *events, int fd)
{
  cleanup_free char *path = container_path (events, fd);
  const char *field = NULL;
  const char *rule;
  json_t *event;

  if (path == NULL)
    return;
  rule = ar_file_rules_check (events->rules, path, &field);
  if (rule == NULL || !rate_allows (events, path))
    return;
  event = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "file", "path", path, "access", "write", "outcome",
                     "allowed", "rule", rule, "policy_field", field);
  if (event != NULL)
    ar_keeper_event (events->keeper, event);
}

/* Stops the FAN_MODIFY events of the file fd, which has had its event:
 * each write() would make one otherwise.  Its next close after a write
 * still makes a FAN_CLOSE_WRITE event. */
static void
ignore_further_writes (struct file_events *events, int fd)
{
  if (events->n_ignored >= MAX_IGNORED_FILES)
    return;
  /* FAN_MARK_IGNORED_SURV_MODIFY: without it, the next write would clear
   * the ignore mask at once. */
  if (fanotify_mark (events->fanotify_fd, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORED_SURV_MODIFY,
                     FAN_MODIFY, fd, NULL)
      == 0)
    events->n_ignored++;
}

static int
on_fanotify (struct ar_keeper *keeper, int fd, uint32_t ready, void *data, ar_error_t *err)
{
  struct file_events *events = data;
  char buf[8192] __attribute__ ((aligned (__alignof__ (struct fanotify_event_metadata))));

  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof (buf));
      struct fanotify_event_metadata *meta = (struct fanotify_event_metadata *) buf;

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return 0;
      if (n < 0)
        {
          /* The kernel could not open one event's file (it was removed,
           * say): that event is lost, the others wait. */
          ar_debug ("container %s: a write event was lost: %s", ar_keeper_context (keeper)->id, strerror (errno));
          continue;
        }
      if (n == 0)
        return 0;

      for (; FAN_EVENT_OK (meta, n); meta = FAN_EVENT_NEXT (meta, n))
        {
          if (meta->vers != FANOTIFY_METADATA_VERSION)
            return ar_make_error (err, EPROTO, "fanotify event version %u, expected %u", meta->vers,
                                  FANOTIFY_METADATA_VERSION);
          if (meta->mask & FAN_Q_OVERFLOW)
            ar_warn ("container %s: its writes came faster than the keeper could read them; some have no event",
                     ar_keeper_context (keeper)->id);
          if (meta->fd < 0)
            continue;
          if (meta->pid != events->self)
            report_write (events, meta->fd);
          if (meta->mask & FAN_MODIFY)
            ignore_further_writes (events, meta->fd);
          close (meta->fd);
        }
    }
}

/* Undoes the octal escapes (\040 for a space) of a mountinfo field. */
static void
unescape (char *s)
{
  char *out = s;

  for (char *p = s; *p != '\0'; p++)
    {
      if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7')
        {
          *out++ = (char) ((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
          p += 3;
        }
      else
        *out++ = *p;
    }
  *out = '\0';
}

static bool
has_option (const char *options, const char *option)
{
  size_t len = strlen (option);

  for (const char *p = options; p != NULL; p = strchr (p, ','), p = p ? p + 1 : NULL)
    if (strncmp (p, option, len) == 0 && (p[len] == ',' || p[len] == '\0'))
      return true;
  return false;
}

/* Whether path is place or lies below it. */
static bool
path_prefix_is (const char *path, const char *place)
{
  size_t len = strlen (place);

  return strncmp (path, place, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

/* Kernel interfaces and pseudo filesystems, whose writes the policy's
 * paths do not govern. */
static bool
pseudo_mount (const char *mount_point, const char *fs_type)
{
  static const char *const types[] = { "proc",   "sysfs",      "devpts",  "mqueue",   "cgroup",  "cgroup2",
                                       "devtmpfs", "securityfs", "debugfs", "tracefs", "bpf",     "configfs",
                                       "fusectl", "pstore",     "efivarfs", "binfmt_misc", "nsfs", NULL };

  if (path_prefix_is (mount_point, "/proc") || path_prefix_is (mount_point, "/sys")
      || path_prefix_is (mount_point, "/dev"))
    return true;
  for (size_t i = 0; types[i] != NULL; i++)
    if (strcmp (fs_type, types[i]) == 0)
      return true;
  return false;
}

/* Opens mount_point below the container's root without following any
 * symbolic link, and checks that it is the mount mount_id. */
static int
open_mount_point (int root_fd, const char *mount_point, int mount_id, ar_error_t *err)
{
  struct open_how how = {
    .flags = O_PATH | O_CLOEXEC,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS,
  };
  cleanup_close int fd = (int) syscall (SYS_openat2, root_fd, mount_point, &how, sizeof (how));
  struct statx stx;

  if (fd < 0)
    return ar_make_error (err, errno, "cannot open the mount point `%s` in the container", mount_point);
  if (statx (fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0)
    return ar_make_error (err, errno, "cannot read the mount of `%s` in the container", mount_point);
  if (!(stx.stx_mask & STATX_MNT_ID) || stx.stx_mnt_id != (uint64_t) mount_id)
    return ar_make_error (err, EXDEV, "`%s` in the container is not the mount %d that mountinfo lists", mount_point,
                          mount_id);
  return ar_steal_fd (fd);
}

/* Marks the mount described by one line of /proc/PID/mountinfo when its
 * writes may need events. */
static int
mark_mount (struct file_events *events, int root_fd, char *line, ar_error_t *err)
{
  char *fields[6] = { NULL };
  char *fs_type = NULL;
  char *save = NULL;
  char *field;
  size_t n = 0;
  char proc_path[64];
  cleanup_close int fd = -1;

  /* ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - TYPE ... */
  for (field = strtok_r (line, " \n", &save); field != NULL; field = strtok_r (NULL, " \n", &save))
    {
      if (n < 6)
        fields[n++] = field;
      else if (strcmp (field, "-") == 0)
        {
          fs_type = strtok_r (NULL, " \n", &save);
          break;
        }
    }
  if (n < 6 || fs_type == NULL)
    return 0;
  unescape (fields[4]);
  if (has_option (fields[5], "ro") || pseudo_mount (fields[4], fs_type)
      || !ar_file_rules_watch_mount (events->rules, fields[4]))
    return 0;

  fd = open_mount_point (root_fd, fields[4], atoi (fields[0]), err);
  if (fd < 0)
    return -1;
  /* fanotify_mark takes no AT_EMPTY_PATH: name the descriptor's own path
   * (the mount and folder opened above), which the kernel does not
   * resolve again by name. */
  snprintf (proc_path, sizeof (proc_path), "/proc/self/fd/%d", fd);
  if (fanotify_mark (events->fanotify_fd, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_MODIFY | FAN_CLOSE_WRITE, AT_FDCWD,
                     proc_path)
      < 0)
    return ar_make_error (err, errno, "cannot watch the mount `%s` of the container with fanotify", fields[4]);
  events->n_marks++;
  ar_debug ("container %s: watching writes on the mount %s (%s)", ar_keeper_context (events->keeper)->id,
            fields[4], fs_type);
  return 0;
}

/* Opens the container's root and mountinfo, and checks with a pidfd that
 * both belong to the container process rather than to a process that
 * took its pid. */
static int
open_container (pid_t pid, int *root_fd, FILE **mountinfo, int *mount_ns_fd, ar_error_t *err)
{
  cleanup_close int pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  cleanup_free char *root_path = ar_xasprintf ("/proc/%d/root", (int) pid);
  cleanup_free char *info_path = ar_xasprintf ("/proc/%d/mountinfo", (int) pid);
  cleanup_free char *ns_path = ar_xasprintf ("/proc/%d/ns/mnt", (int) pid);
  cleanup_close int root = -1;
  cleanup_close int info = -1;
  cleanup_close int ns = -1;

  if (pidfd < 0)
    return ar_make_error (err, errno, "cannot open a pidfd for the container process %d", (int) pid);
  root = open (root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return ar_make_error (err, errno, "cannot open `%s`", root_path);
  info = open (info_path, O_RDONLY | O_CLOEXEC);
  if (info < 0)
    return ar_make_error (err, errno, "cannot open `%s`", info_path);
  ns = open (ns_path, O_RDONLY | O_CLOEXEC);
  if (ns < 0)
    return ar_make_error (err, errno, "cannot open `%s`", ns_path);
  if (syscall (SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
    return ar_make_error (err, errno, "the container process %d has exited", (int) pid);

  *mountinfo = fdopen (info, "r");
  if (*mountinfo == NULL)
    return ar_make_error (err, errno, "cannot read `%s`", info_path);
  info = -1;
  *root_fd = ar_steal_fd (root);
  *mount_ns_fd = ar_steal_fd (ns);
  return 0;
}

static void
close_events (struct file_events *events)
{
  if (events->fanotify_fd >= 0)
    close (events->fanotify_fd);
  if (events->mount_ns_fd >= 0)
    close (events->mount_ns_fd);
  ar_file_rules_free (events->rules);
  free (events->root_name);
  free (events);
}

static int
watch_mounts (struct file_events *events, ar_error_t *err)
{
  const struct ar_keeper_context *context = ar_keeper_context (events->keeper);
  cleanup_file FILE *mountinfo = NULL;
  cleanup_close int root_fd = -1;
  cleanup_free char *line = NULL;
  size_t size = 0;

  if (open_container (context->pid, &root_fd, &mountinfo, &events->mount_ns_fd, err) < 0)
    return -1;
  events->root_name = fd_name (root_fd);
  if (events->root_name == NULL)
    return ar_make_error (err, errno, "cannot read the name of the root of the container process %d",
                          (int) context->pid);

  events->fanotify_fd = fanotify_init (FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK,
                                       O_RDONLY | O_NONBLOCK | O_LARGEFILE | O_CLOEXEC);
  if (events->fanotify_fd < 0)
    return ar_make_error (err, errno, "cannot create a fanotify group: the keeper needs a kernel with "
                                      "CONFIG_FANOTIFY and CAP_SYS_ADMIN");

  /* A mount that cannot be watched (one hidden under a later mount, say)
   * costs its events, not the container. */
  while (getline (&line, &size, mountinfo) > 0)
    {
      cleanup_error ar_error_t mark_err = NULL;

      if (mark_mount (events, root_fd, line, &mark_err) < 0)
        {
          cleanup_free char *msg = ar_error_format (mark_err);
          ar_warn ("container %s: writes that the policy would stop have no events on one mount: %s", context->id,
                   msg);
        }
    }
  return 0;
}

static int
file_events_start (struct ar_keeper *keeper, void **data, ar_error_t *err)
{
  const struct ar_keeper_context *context = ar_keeper_context (keeper);
  struct file_events *events = ar_xmalloc0 (sizeof (*events));
  const char *text = ar_config_annotation (context->config, AR_POLICY_ANNOTATION_FILESYSTEM);

  events->keeper = keeper;
  events->fanotify_fd = -1;
  events->mount_ns_fd = -1;
  events->self = getpid ();
  if (ar_file_rules_parse (text, &events->rules, err) < 0)
    {
      close_events (events);
      return -1;
    }

  /* Audit mode stops nothing, so a keeper that cannot watch (without
   * fanotify, or without CAP_SYS_ADMIN) does not stop the container
   * either.  A warning logs why its writes have no events. */
  {
    cleanup_error ar_error_t watch_err = NULL;

    if (watch_mounts (events, &watch_err) < 0)
      {
        cleanup_free char *msg = ar_error_format (watch_err);
        ar_warn ("container %s: writes that the policy would stop have no events: %s", context->id, msg);
        close_events (events);
        *data = NULL;
        return 0;
      }
  }
  if (events->n_marks == 0)
    {
      /* Every writable mount lies in a writable place. */
      close_events (events);
      *data = NULL;
      return 0;
    }
  if (ar_keeper_watch (keeper, events->fanotify_fd, EPOLLIN, on_fanotify, events, err) < 0)
    {
      close_events (events);
      return -1;
    }
  *data = events;
  return 0;
}

static void
file_events_stop (struct ar_keeper *keeper, void *data)
{
  struct file_events *events = data;

  cleanup_error ar_error_t err = NULL;

  if (events == NULL)
    return;
  /* The kernel queued every write before the container process exited:
   * report those the loop has not read yet. */
  on_fanotify (keeper, events->fanotify_fd, EPOLLIN, events, &err);
  warn_dropped (events);
  ar_keeper_unwatch (keeper, events->fanotify_fd);
  close_events (events);
}

const struct ar_keeper_module ar_keeper_file_events = {
  .name = "file events",
  .wanted = file_events_wanted,
  .start = file_events_start,
  .stop = file_events_stop,
};
