/* Writing SVIDs into a folder in spiffe-helper's file layout. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/util.h"
#include "spiffe/ca.h"

/* Replaces name in dirfd with data: writes a hidden temporary file with
 * the final owner and mode, then renames it over name. */
static int
replace_file (int dirfd, const char *name, const char *data, mode_t mode, uid_t uid, gid_t gid, ar_error_t *err)
{
  cleanup_free char *tmp = ar_xasprintf (".%s.tmp", name);
  cleanup_close int fd = -1;

  if (unlinkat (dirfd, tmp, 0) < 0 && errno != ENOENT)
    return ar_make_error (err, errno, "cannot remove the stale temporary file `%s`", tmp);
  fd = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return ar_make_error (err, errno, "cannot create `%s`", tmp);
  if (ar_write_all (fd, data, strlen (data)) < 0 || fchown (fd, uid, gid) < 0 || fchmod (fd, mode) < 0
      || fsync (fd) < 0)
    {
      int saved = errno;
      unlinkat (dirfd, tmp, 0);
      return ar_make_error (err, saved, "cannot write `%s`", tmp);
    }
  if (renameat (dirfd, tmp, dirfd, name) < 0)
    {
      int saved = errno;
      unlinkat (dirfd, tmp, 0);
      return ar_make_error (err, saved, "cannot rename `%s` to `%s`", tmp, name);
    }
  return 0;
}

int
ar_spiffe_svid_write (int dirfd, const struct ar_spiffe_svid *svid, uid_t uid, gid_t gid, ar_error_t *err)
{
  int ret;

  /* The key first: a reader that sees a new svid.pem then finds its key. */
  ret = replace_file (dirfd, "svid_key.pem", svid->key_pem, 0400, uid, gid, err);
  if (ret == 0)
    ret = replace_file (dirfd, "svid.pem", svid->cert_pem, 0644, uid, gid, err);
  if (ret == 0)
    ret = replace_file (dirfd, "svid_bundle.pem", svid->bundle_pem, 0644, uid, gid, err);
  if (ret == 0 && svid->jwt_svid != NULL)
    ret = replace_file (dirfd, "jwt_svid.token", svid->jwt_svid, 0400, uid, gid, err);
  if (ret == 0 && svid->jwt_svid == NULL && unlinkat (dirfd, "jwt_svid.token", 0) < 0 && errno != ENOENT)
    ret = ar_make_error (err, errno, "cannot remove the old `jwt_svid.token`");
  if (ret < 0)
    return ar_error_wrap (err, "cannot write the SVID files of `%s`", svid->spiffe_id);
  return 0;
}
