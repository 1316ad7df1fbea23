#include <errno.h>

#include "oci/error.h"
#include "oci/util.h"
#include "unit.h"

static void
test_error_chain_format (void)
{
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *msg = NULL;
  int ret;

  ret = ar_make_error (&err, ENOENT, "cannot open `%s`", "config.json");
  CHECK (ret == -ENOENT);
  ret = ar_error_wrap (&err, "loading bundle `%s`", "/b");
  CHECK (ret == -ENOENT);

  msg = ar_error_format (err);
  CHECK_STR_EQ (msg, "loading bundle `/b`: cannot open `config.json`: No such file or directory");
  CHECK (ar_error_errno (err) == ENOENT);
}

static void
test_error_without_errno (void)
{
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *msg = NULL;

  CHECK (ar_make_error (&err, 0, "invalid value") == -EINVAL);
  msg = ar_error_format (err);
  CHECK_STR_EQ (msg, "invalid value");
  CHECK (ar_error_errno (err) == 0);
}

/* A message that ends with the errno text, in another case, does not get
 * it twice. */
static void
test_error_errno_text_once (void)
{
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *msg = NULL;

  ar_make_error (&err, EACCES, "exec: \"%s\": permission denied", "/etc/passwd");
  msg = ar_error_format (err);
  CHECK_STR_EQ (msg, "exec: \"/etc/passwd\": permission denied");
}

int
main (void)
{
  static const struct unit_test tests[] = {
    { "error chain format", test_error_chain_format },
    { "error without errno", test_error_without_errno },
    { "errno text once", test_error_errno_text_once },
    { NULL, NULL },
  };
  return unit_run (tests);
}
