/* `agentrun ca init|mint`: a local SPIFFE CA for standalone use and tests,
 * and SVIDs issued from it by hand. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "oci/util.h"
#include "spiffe/ca.h"

static const char ca_usage[]
    = "Usage: agentrun ca COMMAND [options]\n"
      "\n"
      "Manages a local SPIFFE certificate authority (ECDSA P-256).\n"
      "\n"
      "Commands:\n"
      "  init                     create a CA in an empty or new folder\n"
      "      --trust-domain TD    the trust domain, such as example.org (required)\n"
      "      --dir DIR            the CA folder (required); the keys get mode 0600\n"
      "      --ttl SECONDS        the CA certificate's lifetime (default: one year)\n"
      "  mint                     issue an X509-SVID and, with --audience, a JWT-SVID\n"
      "      --dir DIR            the CA folder (required)\n"
      "      --spiffe-id ID       the SPIFFE ID, in the CA's trust domain (required)\n"
      "      --ttl SECONDS        the SVIDs' lifetime (default: 3600), capped at the CA's expiry\n"
      "      --audience A         an audience of the JWT-SVID; repeat for more\n"
      "      --out FOLDER         where to write svid.pem, svid_key.pem (mode 0400),\n"
      "                           svid_bundle.pem and jwt_svid.token (required)\n";

static int
parse_ttl (const char *verb, const char *value, uint64_t *out, ar_error_t *err)
{
  long n;

  if (ar_parse_long (value, &n) < 0 || n <= 0)
    return ar_cli_usage_error (err, verb, "invalid --ttl `%s`: expected a positive number of seconds", value);
  *out = (uint64_t) n;
  return 0;
}

static int
ca_init (int argc, char **argv, ar_error_t *err)
{
  static const struct option long_options[] = {
    { "trust-domain", required_argument, NULL, 't' },
    { "dir", required_argument, NULL, 'd' },
    { "ttl", required_argument, NULL, 'l' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *trust_domain = NULL, *dir = NULL;
  uint64_t ttl = 0;
  int c, ret;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "h", long_options, NULL)) != -1)
    switch (c)
      {
      case 't':
        trust_domain = optarg;
        break;
      case 'd':
        dir = optarg;
        break;
      case 'l':
        ret = parse_ttl ("ca init", optarg, &ttl, err);
        if (ret < 0)
          return ret;
        break;
      case 'h':
        fputs (ca_usage, stdout);
        return 0;
      default:
        return ar_cli_usage_error (err, "ca init", "invalid option or missing value at `%s`", argv[optind - 1]);
      }
  if (optind < argc)
    return ar_cli_usage_error (err, "ca init", "unexpected argument `%s`", argv[optind]);
  if (trust_domain == NULL || dir == NULL)
    return ar_cli_usage_error (err, "ca init", "--trust-domain and --dir are required");

  ret = ar_spiffe_ca_init (dir, trust_domain, ttl, err);
  if (ret < 0)
    return ret;
  printf ("created a CA for spiffe://%s in %s\n", trust_domain, dir);
  return 0;
}

static int
ca_mint (int argc, char **argv, ar_error_t *err)
{
  static const struct option long_options[] = {
    { "dir", required_argument, NULL, 'd' },
    { "spiffe-id", required_argument, NULL, 'i' },
    { "ttl", required_argument, NULL, 'l' },
    { "audience", required_argument, NULL, 'a' },
    { "out", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_free char **audiences = ar_xmalloc0 (sizeof (char *) * (size_t) (argc + 1));
  cleanup_spiffe_ca struct ar_spiffe_ca *ca = NULL;
  cleanup_spiffe_svid struct ar_spiffe_svid *svid = NULL;
  const char *dir = NULL, *spiffe_id = NULL, *out_dir = NULL;
  cleanup_close int out_fd = -1;
  size_t n_audiences = 0;
  uint64_t ttl = 0;
  int c, ret;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "h", long_options, NULL)) != -1)
    switch (c)
      {
      case 'd':
        dir = optarg;
        break;
      case 'i':
        spiffe_id = optarg;
        break;
      case 'l':
        ret = parse_ttl ("ca mint", optarg, &ttl, err);
        if (ret < 0)
          return ret;
        break;
      case 'a':
        if (*optarg == '\0')
          return ar_cli_usage_error (err, "ca mint", "--audience may not be empty");
        audiences[n_audiences++] = optarg;
        break;
      case 'o':
        out_dir = optarg;
        break;
      case 'h':
        fputs (ca_usage, stdout);
        return 0;
      default:
        return ar_cli_usage_error (err, "ca mint", "invalid option or missing value at `%s`", argv[optind - 1]);
      }
  if (optind < argc)
    return ar_cli_usage_error (err, "ca mint", "unexpected argument `%s`", argv[optind]);
  if (dir == NULL || spiffe_id == NULL || out_dir == NULL)
    return ar_cli_usage_error (err, "ca mint", "--dir, --spiffe-id and --out are required");

  ret = ar_spiffe_ca_load (dir, &ca, err);
  if (ret < 0)
    return ret;
  ret = ar_spiffe_ca_mint (ca, spiffe_id, ttl, audiences, &svid, err);
  if (ret < 0)
    return ret;

  if (mkdir (out_dir, 0700) < 0 && errno != EEXIST)
    return ar_make_error (err, errno, "cannot create the output folder `%s`", out_dir);
  out_fd = open (out_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (out_fd < 0)
    return ar_make_error (err, errno, "cannot open the output folder `%s`", out_dir);
  ret = ar_spiffe_svid_write (out_fd, svid, getuid (), getgid (), err);
  if (ret < 0)
    return ar_error_wrap (err, "in `%s`", out_dir);

  printf ("minted %s, valid until %lld (seconds since the epoch)%s, in %s\n", svid->spiffe_id,
          (long long) svid->not_after, svid->jwt_svid != NULL ? ", with a JWT-SVID" : "", out_dir);
  return 0;
}

int
ar_cli_ca (struct ar_global_options *global, int argc, char **argv, ar_error_t *err)
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      fputs (ca_usage, argc < 2 ? stderr : stdout);
      return argc < 2 ? 1 : 0;
    }
  if (strcmp (argv[1], "init") == 0)
    return ca_init (argc - 1, argv + 1, err);
  if (strcmp (argv[1], "mint") == 0)
    return ca_mint (argc - 1, argv + 1, err);
  return ar_cli_usage_error (err, "ca", "unknown command `%s`; use init or mint", argv[1]);
}
