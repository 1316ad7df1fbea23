/* The keeper module that renews a container's SVIDs while it runs.
 *
 * X509-SVIDs are renewed at half their lifetime, and JWT-SVIDs at half
 * the lifetime they had left when they arrived.  One renewal fetches both
 * (ar_identity_fetch), so the earlier of the two times wins.  Each file
 * in the container's SVID tmpfs is replaced atomically: written under a
 * temporary name in the same tmpfs, given its owner and mode, and renamed
 * over the old one (ar_spiffe_svid_write).  A failed renewal is logged
 * and retried with a doubling backoff.  The files already in place stay
 * there, also after they expire, until a renewal succeeds. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/capability.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "identity.h"
#include "keeper.h"
#include "keeper_modules.h"
#include "oci/log.h"
#include "oci/util.h"
#include "spiffe/ca.h"

/* The first retry after a failed renewal, and the longest wait between
 * retries, in seconds. */
#define RETRY_FIRST_S 1
#define RETRY_MAX_S 60

struct rotation
{
  const struct ar_identity *identity;
  const char *container_id;
  int dir_fd;   /* root of the SVID tmpfs, owned by the module */
  int timer_fd;
  uid_t uid;    /* owner of the files, in the host's user namespace */
  gid_t gid;
  uid_t dir_uid; /* owner of the tmpfs root: root of the container's user namespace */
  gid_t dir_gid;
  int64_t not_after;    /* expiry of the X509-SVID in place */
  unsigned int failures; /* renewals failed in a row */
  bool expiry_logged;
};

/* Who hears of renewals (ar_identity_rotation_listen): the keeper runs
 * one container, so one slot serves. */
static ar_svid_listener renewal_listener;
static void *renewal_listener_data;

void
ar_identity_rotation_listen (ar_svid_listener listener, void *data)
{
  renewal_listener = listener;
  renewal_listener_data = data;
}

static int64_t
now_seconds (void)
{
  return (int64_t) time (NULL);
}

static int64_t
half_way (int64_t from, int64_t until)
{
  return until > from ? from + (until - from) / 2 : until;
}

/* Returns when the SVIDs that arrived at received_at are due for renewal,
 * in seconds since the epoch. */
static int64_t
renewal_due (const struct ar_spiffe_svid *svid, int64_t received_at)
{
  int64_t x509_start = svid->not_before > 0 ? svid->not_before : received_at;
  int64_t due = half_way (x509_start, svid->not_after);

  if (svid->jwt_svid != NULL)
    {
      int64_t jwt_expires_at = svid->jwt_not_after > 0 ? svid->jwt_not_after : svid->not_after;
      int64_t jwt_due = half_way (received_at, jwt_expires_at);
      if (jwt_due < due)
        due = jwt_due;
    }
  return due;
}

/* Returns the milliseconds from now until due, 0 when due has passed. */
static uint64_t
ms_until (int64_t due)
{
  int64_t wait = due - now_seconds ();

  return wait > 0 ? (uint64_t) wait * 1000 : 0;
}

/* Writes the SVID files with the filesystem ids of the tmpfs root's
 * owner.  A tmpfs mounted in a container's user namespace belongs to that
 * namespace, and the kernel creates no file there for a filesystem uid or
 * gid that the namespace does not map (EOVERFLOW), such as the host's
 * root.  Changing the filesystem uid away from 0 drops CAP_CHOWN,
 * CAP_DAC_OVERRIDE and CAP_FOWNER from the effective set, so they are
 * raised again for fchown and fchmod.  Changing it back to 0 restores
 * them.  The keeper has one thread, so nothing else runs with these ids. */
static int
write_as_tmpfs_owner (struct rotation *rotation, const struct ar_spiffe_svid *svid, ar_error_t *err)
{
  static const cap_value_t fs_caps[] = { CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER };
  bool switched = rotation->dir_uid != 0 || rotation->dir_gid != 0;
  cap_t caps = NULL;
  int ret = 0;

  if (switched)
    {
      setfsgid (rotation->dir_gid);
      setfsuid (rotation->dir_uid);
      caps = cap_get_proc ();
      if (caps == NULL || cap_set_flag (caps, CAP_EFFECTIVE, 3, fs_caps, CAP_SET) < 0 || cap_set_proc (caps) < 0)
        ret = ar_make_error (err, errno, "cannot raise CAP_CHOWN, CAP_DAC_OVERRIDE and CAP_FOWNER to write the SVIDs");
    }
  if (ret == 0)
    ret = ar_spiffe_svid_write (rotation->dir_fd, svid, rotation->uid, rotation->gid, err);
  if (switched)
    {
      setfsuid (0);
      setfsgid (0);
      cap_free (caps);
    }
  return ret;
}

static int
renew_and_write (struct rotation *rotation, ar_error_t *err)
{
  cleanup_spiffe_svid struct ar_spiffe_svid *svid = NULL;
  int64_t received_at;

  if (ar_identity_fetch (rotation->identity, &svid, err) < 0)
    return -1;
  received_at = now_seconds ();
  if (write_as_tmpfs_owner (rotation, svid, err) < 0)
    return -1;

  if (rotation->failures > 0)
    ar_log (AR_LOG_INFO, "keeper of %s: renewed the SVIDs of %s after %u failed attempt%s", rotation->container_id,
            svid->spiffe_id, rotation->failures, rotation->failures == 1 ? "" : "s");
  else
    ar_debug ("keeper of %s: renewed the SVIDs of %s, valid until %" PRId64, rotation->container_id,
              svid->spiffe_id, svid->not_after);
  rotation->failures = 0;
  rotation->expiry_logged = false;
  rotation->not_after = svid->not_after;
  if (renewal_listener != NULL)
    renewal_listener (svid, renewal_listener_data);
  return ar_keeper_timer_arm (rotation->timer_fd, ms_until (renewal_due (svid, received_at)), 0, err);
}

static void
log_failure (struct rotation *rotation, ar_error_t error, unsigned int retry_s)
{
  cleanup_free char *msg = ar_error_format (error);
  int64_t left = rotation->not_after - now_seconds ();

  if (left > 0)
    ar_log (AR_LOG_WARNING,
            "keeper of %s: cannot renew the SVIDs of %s (attempt %u, next in %u s; the X509-SVID in place "
            "expires in %" PRId64 " s): %s",
            rotation->container_id, ar_identity_spiffe_id (rotation->identity), rotation->failures, retry_s, left,
            msg);
  else if (!rotation->expiry_logged)
    {
      ar_log (AR_LOG_ERROR,
              "keeper of %s: the X509-SVID of %s expired %" PRId64 " s ago and cannot be renewed (attempt %u, "
              "retrying every %u s or less): %s",
              rotation->container_id, ar_identity_spiffe_id (rotation->identity), -left, rotation->failures,
              RETRY_MAX_S, msg);
      rotation->expiry_logged = true;
    }
}

static int
on_renewal_due (struct ar_keeper *keeper, int fd, uint32_t events, void *data, ar_error_t *err)
{
  struct rotation *rotation = data;
  cleanup_error ar_error_t renew_err = NULL;
  uint64_t expirations;
  unsigned int retry_s;

  if (read (fd, &expirations, sizeof (expirations)) < 0 && errno == EAGAIN)
    return 0;
  if (renew_and_write (rotation, &renew_err) == 0)
    return 0;

  /* 1, 2, 4 ... seconds, then every RETRY_MAX_S. */
  rotation->failures++;
  retry_s = rotation->failures > 6 ? RETRY_MAX_S : RETRY_FIRST_S << (rotation->failures - 1);
  if (retry_s > RETRY_MAX_S)
    retry_s = RETRY_MAX_S;
  log_failure (rotation, renew_err, retry_s);
  return ar_keeper_timer_arm (rotation->timer_fd, (uint64_t) retry_s * 1000, 0, err);
}

static bool
rotation_wanted (const struct ar_keeper_context *context)
{
  return context->identity != NULL;
}

static int
rotation_start (struct ar_keeper *keeper, void **data, ar_error_t *err)
{
  const struct ar_keeper_context *context = ar_keeper_context (keeper);
  const struct ar_spiffe_svid *first = ar_identity_svid (context->identity);
  cleanup_free struct rotation *rotation = ar_xmalloc0 (sizeof (*rotation));
  struct statfs fs;
  struct stat st;

  /* The keeper reaches the SVID folder only through this descriptor,
   * which the container process opened right after it mounted the tmpfs
   * and before the container's command could run.  It pins that very
   * tmpfs: whatever the container later mounts, unmounts or renames at
   * svid_dir, every openat and renameat below stays inside it, and the
   * temporary files are created with O_EXCL | O_NOFOLLOW, so a symbolic
   * link left there is never followed.  A path through /proc/PID/root
   * would be resolved anew at each renewal, and once the container
   * unmounted its tmpfs it would lead to the rootfs folder below, on the
   * host's disk, where the private key must never land. */
  if (context->identity_dir_fd < 0)
    return ar_make_error (err, EPROTO, "the container process passed no descriptor of the SVID folder `%s`",
                          ar_identity_svid_dir (context->identity));
  if (fstatfs (context->identity_dir_fd, &fs) < 0)
    return ar_make_error (err, errno, "cannot inspect the SVID folder `%s`", ar_identity_svid_dir (context->identity));
  if (fs.f_type != TMPFS_MAGIC)
    return ar_make_error (err, EXDEV, "the SVID folder `%s` is not a tmpfs", ar_identity_svid_dir (context->identity));

  /* The container's command has not run yet, so the tmpfs root and
   * svid.pem still have the owners that the container process gave them:
   * its root and process.user, as mapped into the host's user namespace. */
  if (fstat (context->identity_dir_fd, &st) < 0)
    return ar_make_error (err, errno, "cannot inspect the SVID folder `%s`", ar_identity_svid_dir (context->identity));
  rotation->dir_uid = st.st_uid;
  rotation->dir_gid = st.st_gid;
  if (fstatat (context->identity_dir_fd, "svid.pem", &st, AT_SYMLINK_NOFOLLOW) < 0)
    return ar_make_error (err, errno, "cannot find svid.pem in the SVID folder `%s`",
                          ar_identity_svid_dir (context->identity));

  rotation->identity = context->identity;
  rotation->container_id = context->id;
  rotation->dir_fd = context->identity_dir_fd;
  rotation->uid = st.st_uid;
  rotation->gid = st.st_gid;
  rotation->not_after = first->not_after;
  rotation->timer_fd
      = ar_keeper_timer (keeper, ms_until (renewal_due (first, now_seconds ())), 0, on_renewal_due, rotation, err);
  if (rotation->timer_fd < 0)
    return -1;
  *data = ar_steal_ptr (rotation);
  return 0;
}

static void
rotation_stop (struct ar_keeper *keeper, void *data)
{
  struct rotation *rotation = data;

  ar_keeper_unwatch (keeper, rotation->timer_fd);
  close (rotation->timer_fd);
  close (rotation->dir_fd);
  free (rotation);
}

const struct ar_keeper_module ar_keeper_identity_rotation = {
  .name = "SVID rotation",
  .wanted = rotation_wanted,
  .start = rotation_start,
  .stop = rotation_stop,
};
