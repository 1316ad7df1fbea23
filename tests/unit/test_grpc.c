/* The gRPC frame codec, grpc-message decoding, SPIFFE endpoint addresses,
 * and the conversion of an agent's DER SVIDs to PEM with its checks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oci/util.h"
#include "spiffe/ca.h"
#include "spiffe/grpc.h"
#include "spiffe/internal.h"
#include "spiffe/proto/workload.pb-c.h"
#include "spiffe/workload.h"
#include "unit.h"

static void
test_frame_round_trip (void)
{
  const uint8_t payload[] = { 0x0a, 0x03, 'a', 'b', 'c' };
  cleanup_free uint8_t *frame = NULL;
  const uint8_t *msg;
  size_t frame_len, msg_len, consumed;

  ar_grpc_frame_encode (payload, sizeof payload, &frame, &frame_len);
  CHECK (frame_len == sizeof payload + AR_GRPC_FRAME_HEADER);
  CHECK (memcmp (frame, "\0\0\0\0\x05", 5) == 0);
  CHECK (ar_grpc_frame_decode (frame, frame_len, 100, &msg, &msg_len, &consumed, NULL) == 1);
  CHECK (msg == frame + 5 && msg_len == sizeof payload && consumed == frame_len);
  CHECK (memcmp (msg, payload, sizeof payload) == 0);

  /* Every shorter prefix is incomplete, not an error. */
  for (size_t len = 0; len < frame_len; len++)
    CHECK (ar_grpc_frame_decode (frame, len, 100, &msg, &msg_len, &consumed, NULL) == 0);
}

static void
test_frame_empty_and_back_to_back (void)
{
  /* An empty message, then one of 2 bytes: the first decode takes 5. */
  const uint8_t two[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0x10, 0x01 };
  const uint8_t *msg;
  size_t msg_len, consumed;
  cleanup_free uint8_t *frame = NULL;
  size_t frame_len;

  CHECK (ar_grpc_frame_decode (two, sizeof two, 100, &msg, &msg_len, &consumed, NULL) == 1);
  CHECK (msg_len == 0 && consumed == 5);
  CHECK (ar_grpc_frame_decode (two + consumed, sizeof two - consumed, 100, &msg, &msg_len, &consumed, NULL) == 1);
  CHECK (msg_len == 2 && msg[0] == 0x10 && consumed == 7);

  ar_grpc_frame_encode (NULL, 0, &frame, &frame_len);
  CHECK (frame_len == 5 && memcmp (frame, "\0\0\0\0\0", 5) == 0);
}

static void
test_frame_errors (void)
{
  const uint8_t compressed[] = { 1, 0, 0, 0, 1, 0xff };
  const uint8_t big[] = { 0, 0x01, 0, 0, 0 };      /* 16 MiB */
  const uint8_t huge[] = { 0, 0xff, 0xff, 0xff, 0xff }; /* 4 GiB - 1 */
  const uint8_t *msg = NULL;
  size_t msg_len = 77, consumed = 77;
  ar_error_t err = NULL;
  cleanup_free char *text = NULL;

  CHECK (ar_grpc_frame_decode (compressed, sizeof compressed, 100, &msg, &msg_len, &consumed, &err) < 0);
  text = ar_error_format (err);
  CHECK_CONTAINS (text, "compression flag 1");
  ar_error_release (&err);
  free (text);

  CHECK (ar_grpc_frame_decode (big, sizeof big, AR_GRPC_MAX_MESSAGE, &msg, &msg_len, &consumed, &err) < 0);
  text = ar_error_format (err);
  CHECK_CONTAINS (text, "16777216 bytes, more than the limit of 4194304");
  ar_error_release (&err);
  CHECK (ar_grpc_frame_decode (huge, sizeof huge, AR_GRPC_MAX_MESSAGE, &msg, &msg_len, &consumed, NULL) < 0);

  /* Outputs stay untouched on failure. */
  CHECK (msg == NULL && msg_len == 77 && consumed == 77);
}

static void
test_message_decode (void)
{
  static const struct
  {
    const char *in, *out;
  } cases[] = {
    { "no identity issued", "no identity issued" },
    { "caf%C3%A9 100%25", "caf\xc3\xa9 100%" },
    { "50%", "50%" },
    { "%zz%4", "%zz%4" },
    { "%41%42", "AB" },
    { "", "" },
  };

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      cleanup_free char *out = ar_grpc_message_decode (cases[i].in, strlen (cases[i].in));
      CHECK_STR_EQ (out, cases[i].out);
    }
  CHECK_STR_EQ (ar_grpc_status_name (7), "PERMISSION_DENIED");
  CHECK_STR_EQ (ar_grpc_status_name (16), "UNAUTHENTICATED");
  CHECK_STR_EQ (ar_grpc_status_name (17), "UNKNOWN_CODE");
  CHECK_STR_EQ (ar_grpc_status_name (-1), "UNKNOWN_CODE");
}

static void
test_unix_path (void)
{
  static const struct
  {
    const char *endpoint, *path, *error;
  } cases[] = {
    { "unix:///run/spire/agent.sock", "/run/spire/agent.sock", NULL },
    { "unix:/run/spire/agent.sock", "/run/spire/agent.sock", NULL },
    { "/run/spire/agent.sock", "/run/spire/agent.sock", NULL },
    { "tcp://127.0.0.1:8081", NULL, "is not a UNIX socket" },
    { "unix://relative.sock", NULL, "absolute socket path" },
    { "agent.sock", NULL, "absolute socket path" },
    { "unix:///" "0123456789012345678901234567890123456789012345678901234567890123456789"
      "0123456789012345678901234567890123456789", NULL, "longer than 107 bytes" },
  };

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      cleanup_free char *path = NULL;
      ar_error_t err = NULL;
      int ret = ar_grpc_unix_path (cases[i].endpoint, &path, &err);

      if (cases[i].error == NULL)
        {
          CHECK (ret == 0);
          CHECK_STR_EQ (path, cases[i].path);
        }
      else
        {
          cleanup_free char *text = ar_error_format (err);
          CHECK (ret < 0 && path == NULL);
          CHECK_CONTAINS (text, cases[i].error);
          ar_error_release (&err);
        }
    }
}

/* PEM certificates or a PEM key as DER, one after another. */
static void
pem_to_der (const char *pem, int key, uint8_t **out, size_t *out_len)
{
  BIO *in = BIO_new_mem_buf (pem, -1);
  BIO *der = BIO_new (BIO_s_mem ());
  X509 *cert;
  char *data;
  long len;

  if (key)
    {
      EVP_PKEY *pkey = PEM_read_bio_PrivateKey (in, NULL, NULL, NULL);
      i2d_PKCS8PrivateKey_bio (der, pkey, NULL, NULL, 0, NULL, NULL);
      EVP_PKEY_free (pkey);
    }
  else
    while ((cert = PEM_read_bio_X509 (in, NULL, NULL, NULL)) != NULL)
      {
        i2d_X509_bio (der, cert);
        X509_free (cert);
      }
  len = BIO_get_mem_data (der, &data);
  *out = ar_xmalloc0 ((size_t) len + 1);
  memcpy (*out, data, (size_t) len);
  *out_len = (size_t) len;
  BIO_free (in);
  BIO_free (der);
}

/* An X509SVIDResponse as an agent sends it, packed and unpacked with the
 * generated code, converted back to PEM, and the checks on identity and
 * key. */
static void
test_svid_from_der (void)
{
  char dir[] = "/tmp/ar-grpc-unit-XXXXXX";
  struct ar_spiffe_ca *ca = NULL;
  struct ar_spiffe_svid *minted = NULL, *other = NULL;
  uint8_t *cert = NULL, *key = NULL, *bundle = NULL, *other_key = NULL, *packed;
  size_t cert_len, key_len, bundle_len, other_key_len, packed_len;
  X509SVID svid = X509_SVID__INIT;
  X509SVID *svids[] = { &svid };
  X509SVIDResponse response = X509_SVIDRESPONSE__INIT;
  X509SVIDResponse *decoded;
  struct ar_spiffe_svid out = { 0 };
  ar_error_t err = NULL;
  char *text;

  CHECK (mkdtemp (dir) != NULL);
  CHECK (ar_spiffe_ca_init (dir, "example.org", 0, NULL) == 0);
  CHECK (ar_spiffe_ca_load (dir, &ca, NULL) == 0);
  CHECK (ar_spiffe_ca_mint (ca, "spiffe://example.org/a", 600, NULL, &minted, NULL) == 0);
  CHECK (ar_spiffe_ca_mint (ca, "spiffe://example.org/b", 600, NULL, &other, NULL) == 0);
  pem_to_der (minted->cert_pem, 0, &cert, &cert_len);
  pem_to_der (minted->key_pem, 1, &key, &key_len);
  pem_to_der (minted->bundle_pem, 0, &bundle, &bundle_len);
  pem_to_der (other->key_pem, 1, &other_key, &other_key_len);

  svid.spiffe_id = (char *) "spiffe://example.org/a";
  svid.x509_svid = (ProtobufCBinaryData){ cert_len, cert };
  svid.x509_svid_key = (ProtobufCBinaryData){ key_len, key };
  svid.bundle = (ProtobufCBinaryData){ bundle_len, bundle };
  response.n_svids = 1;
  response.svids = svids;
  packed = ar_xmalloc0 (x509_svidresponse__get_packed_size (&response));
  packed_len = x509_svidresponse__pack (&response, packed);
  decoded = x509_svidresponse__unpack (NULL, packed_len, packed);
  CHECK (decoded != NULL && decoded->n_svids == 1);
  CHECK (x509_svidresponse__unpack (NULL, packed_len - 3, packed) == NULL);

  CHECK (ar_spiffe_svid_from_der (decoded->svids[0]->x509_svid.data, decoded->svids[0]->x509_svid.len,
                                  decoded->svids[0]->x509_svid_key.data, decoded->svids[0]->x509_svid_key.len,
                                  decoded->svids[0]->bundle.data, decoded->svids[0]->bundle.len,
                                  "spiffe://example.org/a", &out, NULL)
         == 0);
  CHECK_STR_EQ (out.cert_pem, minted->cert_pem);
  CHECK_STR_EQ (out.bundle_pem, minted->bundle_pem);
  CHECK_CONTAINS (out.key_pem, "-----BEGIN PRIVATE KEY-----");
  CHECK (out.not_after == minted->not_after);
  free (out.cert_pem);
  free (out.key_pem);
  free (out.bundle_pem);
  memset (&out, 0, sizeof out);

  /* Another ID than the one asked for. */
  CHECK (ar_spiffe_svid_from_der (cert, cert_len, key, key_len, bundle, bundle_len, "spiffe://example.org/b", &out,
                                  &err)
         < 0);
  text = ar_error_format (err);
  CHECK_CONTAINS (text, "is for `spiffe://example.org/a`, not `spiffe://example.org/b`");
  free (text);
  ar_error_release (&err);

  /* A key of another SVID. */
  CHECK (ar_spiffe_svid_from_der (cert, cert_len, other_key, other_key_len, bundle, bundle_len,
                                  "spiffe://example.org/a", &out, &err)
         < 0);
  text = ar_error_format (err);
  CHECK_CONTAINS (text, "key does not match the certificate");
  free (text);
  ar_error_release (&err);
  free (out.cert_pem);
  memset (&out, 0, sizeof out);

  /* Garbage for a certificate. */
  CHECK (ar_spiffe_svid_from_der (key, key_len, key, key_len, bundle, bundle_len, "spiffe://example.org/a", &out,
                                  &err)
         < 0);
  text = ar_error_format (err);
  CHECK_CONTAINS (text, "certificate 1 of the X509-SVID is not valid DER");
  free (text);
  ar_error_release (&err);

  x509_svidresponse__free_unpacked (decoded, NULL);
  free (packed);
  free (cert);
  free (key);
  free (bundle);
  free (other_key);
  ar_spiffe_svid_free (minted);
  ar_spiffe_svid_free (other);
  ar_spiffe_ca_free (ca);
  for (size_t i = 0; i < 4; i++)
    {
      static const char *const names[] = { AR_SPIFFE_CA_CERT, AR_SPIFFE_CA_KEY, AR_SPIFFE_JWT_KEY,
                                           AR_SPIFFE_JWT_BUNDLE };
      cleanup_free char *path = ar_xasprintf ("%s/%s", dir, names[i]);
      unlink (path);
    }
  CHECK (rmdir (dir) == 0);
}

static void
test_jwt_claims (void)
{
  /* {"sub":"spiffe://example.org/a","exp":1900000000} */
  const char *token = "e30.eyJzdWIiOiJzcGlmZmU6Ly9leGFtcGxlLm9yZy9hIiwiZXhwIjoxOTAwMDAwMDAwfQ.c2ln";
  int64_t exp = 0;
  ar_error_t err = NULL;
  cleanup_free char *text = NULL;

  CHECK (ar_spiffe_jwt_claims_check (token, "spiffe://example.org/a", &exp, NULL) == 0);
  CHECK (exp == 1900000000);
  CHECK (ar_spiffe_jwt_claims_check (token, "spiffe://example.org/b", &exp, &err) < 0);
  text = ar_error_format (err);
  CHECK_CONTAINS (text, "is for `spiffe://example.org/a`, not `spiffe://example.org/b`");
  ar_error_release (&err);
  CHECK (ar_spiffe_jwt_claims_check ("not-a-jwt", "spiffe://example.org/a", &exp, NULL) < 0);
}

static int
remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove (path);
}

/* Starts tests/integration/workload_api_server.py on dir/agent.sock with
 * the CA of dir; returns its pid, or 0 when Debian's python3 lacks grpcio
 * or the server does not start within 10 s. */
static pid_t
start_test_agent (const char *dir, const char *spiffe_id)
{
  cleanup_free char *socket_path = ar_xasprintf ("%s/agent.sock", dir);
  cleanup_free char *log = ar_xasprintf ("%s/agent.log", dir);
  cleanup_free char *ready = ar_xasprintf ("%s/agent.ready", dir);
  cleanup_free char *out = ar_xasprintf ("%s/agent.out", dir);
  pid_t pid;

  if (system ("/usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null") != 0
      || system ("command -v protoc >/dev/null && command -v openssl >/dev/null") != 0)
    return 0;
  pid = fork ();
  if (pid == 0)
    {
      int fd = open (out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

      dup2 (fd, 1);
      dup2 (fd, 2);
      execl ("/usr/bin/python3", "python3", "tests/integration/workload_api_server.py", "--socket", socket_path,
             "--proto-dir", "spiffe/proto", "--ca-dir", dir, "--spiffe-id", spiffe_id, "--log", log, "--ready",
             ready, (char *) NULL);
      _exit (127);
    }
  for (int i = 0; pid > 0 && i < 200; i++)
    {
      if (access (ready, F_OK) == 0)
        return pid;
      if (waitpid (pid, NULL, WNOHANG) == pid)
        return 0;
      nanosleep (&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
    }
  if (pid > 0)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
    }
  return 0;
}

/* ar_spiffe_fetch against a grpcio server, twice through each API, since
 * a rotation loop calls it again, and the Workload API's X.509 bundles. */
static void
test_fetch_from_test_agent (void)
{
  char dir[] = "/tmp/ar-grpc-unit-XXXXXX";
  char *audiences[] = { (char *) "svc.example.org", NULL };
  char *selectors[] = { (char *) "unix:uid:1000", NULL };
  cleanup_free char *endpoint = NULL;
  cleanup_free char *ca_pem = NULL;
  cleanup_free char *ca_path = NULL;
  struct ar_spiffe_source source = { .spiffe_id = "spiffe://example.org/unit", .audiences = audiences };
  ar_error_t err = NULL;
  pid_t pid;

  CHECK (mkdtemp (dir) != NULL);
  CHECK (ar_spiffe_ca_init (dir, "example.org", 0, NULL) == 0);
  pid = start_test_agent (dir, source.spiffe_id);
  if (pid == 0)
    {
      printf ("# skipped: the test agent did not start (needs /usr/bin/python3 with grpcio, protoc, openssl)\n");
      nftw (dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
      return;
    }
  endpoint = ar_xasprintf ("unix://%s/agent.sock", dir);
  source.endpoint = endpoint;
  ca_path = ar_xasprintf ("%s/%s", dir, AR_SPIFFE_CA_CERT);
  CHECK (ar_read_file (ca_path, &ca_pem, NULL, NULL) == 0);

  for (int delegated = 0; delegated <= 1; delegated++)
    for (int round = 0; round < 2; round++)
      {
        struct ar_spiffe_svid *svid = NULL;

        source.delegated = delegated;
        source.selectors = delegated ? selectors : NULL;
        CHECK (ar_spiffe_fetch (&source, &svid, &err) == 0);
        if (svid == NULL)
          {
            cleanup_free char *text = ar_error_format (err);
            printf ("# %s\n", text);
            ar_error_release (&err);
            continue;
          }
        CHECK_STR_EQ (svid->spiffe_id, "spiffe://example.org/unit");
        CHECK_CONTAINS (svid->cert_pem, "-----BEGIN CERTIFICATE-----");
        CHECK_CONTAINS (svid->key_pem, "-----BEGIN PRIVATE KEY-----");
        CHECK_STR_EQ (svid->bundle_pem, ca_pem);
        CHECK (svid->jwt_svid != NULL);
        CHECK (svid->not_after > time (NULL));
        CHECK (svid->jwt_not_after > time (NULL));
        ar_spiffe_svid_free (svid);
      }

  source.delegated = false;
  {
    cleanup_free char *bundle = NULL;
    cleanup_free char *text = NULL;

    CHECK (ar_spiffe_workload_fetch_bundle (&source, "example.org", &bundle, NULL) == 0);
    CHECK (bundle != NULL && strcmp (bundle, ca_pem) == 0);
    CHECK (ar_spiffe_workload_fetch_bundle (&source, "other.org", &bundle, &err) < 0);
    text = ar_error_format (err);
    CHECK_CONTAINS (text, "no X.509 bundle for trust domain `other.org`");
    ar_error_release (&err);
  }

  kill (pid, SIGTERM);
  waitpid (pid, NULL, 0);
  CHECK (nftw (dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS) == 0);
}

int
main (void)
{
  static const struct unit_test tests[] = {
    { "frame round trip", test_frame_round_trip },
    { "frame empty and back to back", test_frame_empty_and_back_to_back },
    { "frame errors", test_frame_errors },
    { "grpc-message decode", test_message_decode },
    { "unix endpoint path", test_unix_path },
    { "svid from der", test_svid_from_der },
    { "jwt claims", test_jwt_claims },
    { "fetch from test agent", test_fetch_from_test_agent },
    { NULL, NULL },
  };
  return unit_run (tests);
}
