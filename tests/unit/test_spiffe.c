/* SPIFFE IDs, the local CA, X509-SVIDs and JWT-SVIDs, checked with real
 * OpenSSL. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "oci/util.h"
#include "spiffe/ca.h"
#include "spiffe/id.h"
#include "spiffe/internal.h"
#include "unit.h"

struct id_case
{
  const char *id;
  const char *error; /* a part of the expected message, or NULL when valid */
};

static void
test_id_rules (void)
{
  static char long_id[AR_SPIFFE_ID_MAX + 2];
  static char max_id[AR_SPIFFE_ID_MAX + 1];
  static const struct id_case cases[] = {
    { "spiffe://example.org", NULL },
    { "spiffe://example.org/ns/default/sa/agent", NULL },
    { "spiffe://a-b_c.9/A.b-C_9/x", NULL },
    { "spiffe://example.org/.../a", NULL },
    { "", "empty" },
    { "SPIFFE://example.org/a", "does not start with `spiffe://`" },
    { "https://example.org/a", "does not start with `spiffe://`" },
    { "spiffe:/example.org/a", "does not start with `spiffe://`" },
    { "spiffe:///a", "no trust domain" },
    { "spiffe://Example.org/a", "write it in lowercase" },
    { "spiffe://example.org:8080/a", "has no port" },
    { "spiffe://user@example.org/a", "has no user info" },
    { "spiffe://exa mple.org/a", "invalid character ` `" },
    { "spiffe://example.org/", "empty path segment" },
    { "spiffe://example.org//a", "empty path segment" },
    { "spiffe://example.org/a/", "empty path segment" },
    { "spiffe://example.org/./a", "`.` path segment" },
    { "spiffe://example.org/a/..", "`..` path segment" },
    { "spiffe://example.org/a?x=1", "has no query" },
    { "spiffe://example.org?x=1", "has a query" },
    { "spiffe://example.org#frag", "has a fragment" },
    { "spiffe://example.org/a#frag", "has no fragment" },
    { "spiffe://example.org/a%20b", "has no percent-encoding" },
    { "spiffe://example.org/a b", "invalid character ` `" },
    { "spiffe://example.org/a:b", "invalid character `:`" },
  };

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      cleanup_error ar_error_t err = NULL;
      cleanup_free char *msg = NULL;
      int ret = ar_spiffe_id_check (cases[i].id, NULL, &err);

      if (cases[i].error == NULL)
        {
          if (ret != 0)
            fprintf (stderr, "valid ID `%s` rejected\n", cases[i].id);
          CHECK (ret == 0);
          continue;
        }
      if (ret == 0)
        fprintf (stderr, "invalid ID `%s` accepted\n", cases[i].id);
      CHECK (ret < 0);
      msg = err ? ar_error_format (err) : NULL;
      CHECK_CONTAINS (msg, cases[i].error);
    }

  /* The length limit counts bytes of the whole ID. */
  strcpy (max_id, "spiffe://example.org/");
  memset (max_id + strlen (max_id), 'a', AR_SPIFFE_ID_MAX - strlen (max_id));
  CHECK (strlen (max_id) == AR_SPIFFE_ID_MAX);
  CHECK (ar_spiffe_id_check (max_id, NULL, NULL) == 0);
  strcpy (long_id, max_id);
  strcat (long_id, "a");
  {
    cleanup_error ar_error_t err = NULL;
    cleanup_free char *msg = NULL;
    CHECK (ar_spiffe_id_check (long_id, NULL, &err) < 0);
    msg = ar_error_format (err);
    CHECK_CONTAINS (msg, "the maximum is 2048");
  }
}

static void
test_id_trust_domain_out (void)
{
  cleanup_free char *trust_domain = NULL;

  CHECK (ar_spiffe_id_check ("spiffe://prod.example.org/a/b", &trust_domain, NULL) == 0);
  CHECK_STR_EQ (trust_domain, "prod.example.org");
}

static const char *
lookup_test_value (const char *name, void *user_data)
{
  static const char *const table[][2] = {
    { "trust_domain", "example.org" },
    { "policy", "mcp-fetch" },
    { "container_id", "c0ffee" },
    { "annotation:io.kubernetes.pod.namespace", "team-a" },
    { "annotation:slash", "a/b" },
    { "annotation:dots", ".." },
    { "annotation:empty", "" },
  };

  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcmp (table[i][0], name) == 0)
      return table[i][1];
  return NULL;
}

static void
test_id_template (void)
{
  static const struct
  {
    const char *template;
    const char *expected; /* the ID, or a part of the error message */
    bool valid;
  } cases[] = {
    { "spiffe://{trust_domain}/ns/{annotation:io.kubernetes.pod.namespace}/sa/{policy}",
      "spiffe://example.org/ns/team-a/sa/mcp-fetch", true },
    { "spiffe://{trust_domain}/agent/{policy}-{container_id}", "spiffe://example.org/agent/mcp-fetch-c0ffee",
      true },
    { "spiffe://example.org/fixed", "spiffe://example.org/fixed", true },
    { "spiffe://{trust_domain}/{annotation:missing}", "placeholder {annotation:missing} has no value", false },
    { "spiffe://{trust_domain}/{annotation:slash}", "contains `/`", false },
    { "spiffe://{trust_domain}/{annotation:dots}", "may not be `..`", false },
    { "spiffe://{trust_domain}/{annotation:empty}", "has an empty value", false },
    { "spiffe://{trust_domain}/{policy", "unclosed `{`", false },
    { "spiffe://{trust_domain}/a{b{c}}", "unclosed `{`", false },
    { "spiffe://{trust_domain}/a}", "`}` without `{`", false },
    { "spiffe://{trust_domain}//{policy}", "empty path segment", false },
    { "spiffe://{policy}.Example/x", "write it in lowercase", false },
  };

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      cleanup_error ar_error_t err = NULL;
      cleanup_free char *id = NULL;
      cleanup_free char *msg = NULL;
      int ret = ar_spiffe_id_from_template (cases[i].template, lookup_test_value, NULL, &id, &err);

      if (cases[i].valid)
        {
          CHECK (ret == 0);
          CHECK_STR_EQ (id, cases[i].expected);
          continue;
        }
      CHECK (ret < 0);
      CHECK (id == NULL);
      msg = err ? ar_error_format (err) : NULL;
      CHECK_CONTAINS (msg, cases[i].expected);
    }
}

/* A temporary folder for one test, removed by remove_tree. */
static char *
make_temp_dir (void)
{
  char *dir = ar_xstrdup ("/tmp/ar-spiffe-unit-XXXXXX");

  if (mkdtemp (dir) == NULL)
    {
      perror ("mkdtemp");
      exit (1);
    }
  return dir;
}

static void
remove_tree (const char *dir)
{
  cleanup_free char *command = ar_xasprintf ("rm -rf -- '%s'", dir);

  if (system (command) != 0)
    fprintf (stderr, "cannot remove %s\n", dir);
}

static X509 *
read_cert_pem (const char *pem)
{
  BIO *bio = BIO_new_mem_buf (pem, -1);
  X509 *cert = PEM_read_bio_X509 (bio, NULL, NULL, NULL);

  BIO_free (bio);
  return cert;
}

/* Makes a CA in dir/ca and mints one SVID from it. */
static void
mint_sample (const char *dir, uint64_t ttl, char *const *audiences, struct ar_spiffe_svid **svid)
{
  cleanup_free char *ca_dir = ar_xasprintf ("%s/ca", dir);
  cleanup_spiffe_ca struct ar_spiffe_ca *ca = NULL;
  cleanup_error ar_error_t err = NULL;

  CHECK (ar_spiffe_ca_init (ca_dir, "example.org", 0, &err) == 0);
  CHECK (ar_spiffe_ca_load (ca_dir, &ca, &err) == 0);
  if (ca == NULL)
    return;
  CHECK_STR_EQ (ar_spiffe_ca_trust_domain (ca), "example.org");
  CHECK (ar_spiffe_ca_mint (ca, "spiffe://example.org/agent/a1", ttl, audiences, svid, &err) == 0);
  if (err != NULL)
    {
      cleanup_free char *msg = ar_error_format (err);
      fprintf (stderr, "mint: %s\n", msg);
    }
}

static void
test_ca_files_and_modes (void)
{
  cleanup_free char *dir = make_temp_dir ();
  cleanup_free char *ca_dir = ar_xasprintf ("%s/ca", dir);
  static const struct
  {
    const char *name;
    mode_t mode;
  } files[] = {
    { AR_SPIFFE_CA_CERT, 0644 },
    { AR_SPIFFE_CA_KEY, 0600 },
    { AR_SPIFFE_JWT_KEY, 0600 },
    { AR_SPIFFE_JWT_BUNDLE, 0644 },
  };
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *cert_pem = NULL;
  cleanup_free char *cert_path = ar_xasprintf ("%s/%s", ca_dir, AR_SPIFFE_CA_CERT);
  X509 *cert;
  struct stat st;

  CHECK (ar_spiffe_ca_init (ca_dir, "example.org", 0, &err) == 0);
  CHECK (stat (ca_dir, &st) == 0 && (st.st_mode & 07777) == 0700);
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    {
      cleanup_free char *path = ar_xasprintf ("%s/%s", ca_dir, files[i].name);
      CHECK (stat (path, &st) == 0);
      CHECK ((st.st_mode & 07777) == files[i].mode);
    }

  /* The CA certificate: self-signed, cA true, keyCertSign and cRLSign,
   * URI SAN with the trust domain. */
  CHECK (ar_read_file (cert_path, &cert_pem, NULL, &err) == 0);
  cert = read_cert_pem (cert_pem);
  CHECK (cert != NULL);
  if (cert != NULL)
    {
      EVP_PKEY *key = X509_get0_pubkey (cert);
      char group[32] = "";
      GENERAL_NAMES *names = X509_get_ext_d2i (cert, NID_subject_alt_name, NULL, NULL);

      CHECK (X509_check_ca (cert) >= 1);
      CHECK (X509_get_key_usage (cert) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
      CHECK (X509_check_issued (cert, cert) == X509_V_OK);
      CHECK (X509_verify (cert, key) == 1);
      CHECK (EVP_PKEY_get_group_name (key, group, sizeof group, NULL) == 1);
      CHECK_STR_EQ (group, "prime256v1");
      CHECK (names != NULL && sk_GENERAL_NAME_num (names) == 1);
      if (names != NULL && sk_GENERAL_NAME_num (names) == 1)
        {
          GENERAL_NAME *name = sk_GENERAL_NAME_value (names, 0);
          CHECK (name->type == GEN_URI);
          CHECK_STR_EQ ((const char *) ASN1_STRING_get0_data (name->d.uniformResourceIdentifier),
                        "spiffe://example.org");
        }
      GENERAL_NAMES_free (names);
      X509_free (cert);
    }

  /* A second init in the same folder changes nothing. */
  CHECK (ar_spiffe_ca_init (ca_dir, "example.org", 0, &err) == -EEXIST);
  msg = ar_error_format (err);
  CHECK_CONTAINS (msg, "exists; choose an empty folder");
  remove_tree (dir);
}

static void
test_svid_verifies_against_bundle (void)
{
  cleanup_free char *dir = make_temp_dir ();
  cleanup_spiffe_svid struct ar_spiffe_svid *svid = NULL;
  X509 *leaf = NULL, *root = NULL;
  X509_STORE *store = X509_STORE_new ();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new ();

  mint_sample (dir, 0, NULL, &svid);
  CHECK (svid != NULL);
  if (svid != NULL)
    {
      leaf = read_cert_pem (svid->cert_pem);
      root = read_cert_pem (svid->bundle_pem);
      CHECK (leaf != NULL && root != NULL);
      CHECK (X509_STORE_add_cert (store, root) == 1);
      CHECK (X509_STORE_CTX_init (ctx, store, leaf, NULL) == 1);
      CHECK (X509_STORE_CTX_set_purpose (ctx, X509_PURPOSE_SSL_CLIENT) == 1);
      CHECK (X509_verify_cert (ctx) == 1);
      if (X509_STORE_CTX_get_error (ctx) != X509_V_OK)
        fprintf (stderr, "verify: %s\n", X509_verify_cert_error_string (X509_STORE_CTX_get_error (ctx)));
    }
  X509_STORE_CTX_free (ctx);
  X509_STORE_free (store);
  X509_free (leaf);
  X509_free (root);
  remove_tree (dir);
}

/* Checks every X509-SVID rule that applies to a leaf, one by one. */
static void
test_svid_extensions (void)
{
  cleanup_free char *dir = make_temp_dir ();
  cleanup_spiffe_svid struct ar_spiffe_svid *svid = NULL;
  X509 *leaf;

  mint_sample (dir, 0, NULL, &svid);
  if (svid == NULL)
    {
      CHECK (svid != NULL);
      remove_tree (dir);
      return;
    }
  leaf = read_cert_pem (svid->cert_pem);
  CHECK (leaf != NULL);
  if (leaf != NULL)
    {
      GENERAL_NAMES *names = X509_get_ext_d2i (leaf, NID_subject_alt_name, NULL, NULL);
      int uris = 0;
      int ku_index = X509_get_ext_by_NID (leaf, NID_key_usage, -1);
      int bc_index = X509_get_ext_by_NID (leaf, NID_basic_constraints, -1);
      BASIC_CONSTRAINTS *bc = X509_get_ext_d2i (leaf, NID_basic_constraints, NULL, NULL);
      int64_t lifetime;
      struct tm before, after;
      BIO *key_bio = BIO_new_mem_buf (svid->key_pem, -1);
      EVP_PKEY *key = PEM_read_bio_PrivateKey (key_bio, NULL, NULL, NULL);
      char group[32] = "";

      /* Exactly one URI SAN, the SPIFFE ID. */
      for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num (names); i++)
        {
          GENERAL_NAME *name = sk_GENERAL_NAME_value (names, i);
          if (name->type != GEN_URI)
            continue;
          uris++;
          CHECK_STR_EQ ((const char *) ASN1_STRING_get0_data (name->d.uniformResourceIdentifier),
                        "spiffe://example.org/agent/a1");
        }
      CHECK (uris == 1);
      GENERAL_NAMES_free (names);

      /* basicConstraints cA false, and critical. */
      CHECK (bc != NULL && !bc->ca);
      CHECK (bc_index >= 0 && X509_EXTENSION_get_critical (X509_get_ext (leaf, bc_index)));
      CHECK (X509_check_ca (leaf) == 0);
      BASIC_CONSTRAINTS_free (bc);

      /* keyUsage critical, digitalSignature, no keyCertSign or cRLSign. */
      CHECK (ku_index >= 0 && X509_EXTENSION_get_critical (X509_get_ext (leaf, ku_index)));
      CHECK ((X509_get_key_usage (leaf) & KU_DIGITAL_SIGNATURE) != 0);
      CHECK ((X509_get_key_usage (leaf) & KU_KEY_CERT_SIGN) == 0);
      CHECK ((X509_get_key_usage (leaf) & KU_CRL_SIGN) == 0);

      /* extKeyUsage serverAuth and clientAuth. */
      CHECK ((X509_get_extended_key_usage (leaf) & XKU_SSL_SERVER) != 0);
      CHECK ((X509_get_extended_key_usage (leaf) & XKU_SSL_CLIENT) != 0);

      /* One hour by default. */
      CHECK (ASN1_TIME_to_tm (X509_get0_notBefore (leaf), &before) == 1);
      CHECK (ASN1_TIME_to_tm (X509_get0_notAfter (leaf), &after) == 1);
      lifetime = (int64_t) timegm (&after) - (int64_t) timegm (&before);
      CHECK (lifetime == AR_SPIFFE_DEFAULT_TTL);
      CHECK (svid->not_after == (int64_t) timegm (&after));

      /* A fresh P-256 key that matches the certificate. */
      CHECK (key != NULL);
      CHECK (key != NULL && X509_check_private_key (leaf, key) == 1);
      CHECK (EVP_PKEY_get_group_name (X509_get0_pubkey (leaf), group, sizeof group, NULL) == 1);
      CHECK_STR_EQ (group, "prime256v1");
      EVP_PKEY_free (key);
      BIO_free (key_bio);
      X509_free (leaf);
    }
  remove_tree (dir);
}

static void
test_jwt_svid_verifies (void)
{
  cleanup_free char *dir = make_temp_dir ();
  cleanup_free char *bundle_path = ar_xasprintf ("%s/ca/%s", dir, AR_SPIFFE_JWT_BUNDLE);
  cleanup_free char *bundle = NULL;
  cleanup_free char *subject = NULL;
  cleanup_spiffe_svid struct ar_spiffe_svid *svid = NULL;
  char *audiences[] = { "tickets.example.org", "mail.example.org", NULL };

  mint_sample (dir, 0, audiences, &svid);
  CHECK (svid != NULL && svid->jwt_svid != NULL);
  CHECK (ar_read_file (bundle_path, &bundle, NULL, NULL) == 0);
  if (svid == NULL || svid->jwt_svid == NULL || bundle == NULL)
    {
      remove_tree (dir);
      return;
    }

  CHECK (ar_spiffe_jwt_verify (svid->jwt_svid, bundle, "mail.example.org", &subject, NULL) == 0);
  CHECK_STR_EQ (subject, "spiffe://example.org/agent/a1");

  /* The signature is raw r||s: 64 bytes, 86 base64url characters. */
  CHECK (strlen (strrchr (svid->jwt_svid, '.') + 1) == 86);

  {
    cleanup_error ar_error_t err = NULL;
    cleanup_free char *msg = NULL;
    CHECK (ar_spiffe_jwt_verify (svid->jwt_svid, bundle, "other.example.org", NULL, &err) < 0);
    msg = ar_error_format (err);
    CHECK_CONTAINS (msg, "audience does not contain `other.example.org`");
  }
  {
    /* A changed payload no longer matches the signature. */
    cleanup_error ar_error_t err = NULL;
    cleanup_free char *msg = NULL;
    cleanup_free char *tampered = ar_xstrdup (svid->jwt_svid);
    char *payload = strchr (tampered, '.') + 1;
    payload[5] = payload[5] == 'A' ? 'B' : 'A';
    CHECK (ar_spiffe_jwt_verify (tampered, bundle, "mail.example.org", NULL, &err) < 0);
    msg = ar_error_format (err);
    CHECK_CONTAINS (msg, "does not verify");
  }
  {
    cleanup_error ar_error_t err = NULL;
    cleanup_free char *msg = NULL;
    CHECK (ar_spiffe_jwt_verify (svid->jwt_svid, "{\"keys\": []}", "mail.example.org", NULL, &err) < 0);
    msg = ar_error_format (err);
    CHECK_CONTAINS (msg, "no P-256 key with kid");
  }
  remove_tree (dir);
}

static void
test_mint_errors (void)
{
  cleanup_free char *dir = make_temp_dir ();
  cleanup_free char *ca_dir = ar_xasprintf ("%s/ca", dir);
  cleanup_free char *short_dir = ar_xasprintf ("%s/short", dir);
  cleanup_free char *missing = ar_xasprintf ("%s/missing", dir);
  cleanup_spiffe_ca struct ar_spiffe_ca *ca = NULL;
  cleanup_spiffe_ca struct ar_spiffe_ca *short_ca = NULL;

  CHECK (ar_spiffe_ca_init (ca_dir, "example.org", 0, NULL) == 0);
  CHECK (ar_spiffe_ca_load (ca_dir, &ca, NULL) == 0);

  {
    cleanup_error ar_error_t err = NULL;
    cleanup_free char *msg = NULL;
    cleanup_spiffe_svid struct ar_spiffe_svid *svid = NULL;
    CHECK (ar_spiffe_ca_mint (ca, "spiffe://other.org/a", 0, NULL, &svid, &err) < 0);
    CHECK (svid == NULL);
    msg = ar_error_format (err);
    CHECK_CONTAINS (msg, "not in the CA's trust domain `example.org`");
  }
  {
    cleanup_error ar_error_t err = NULL;
    cleanup_free char *msg = NULL;
    cleanup_spiffe_svid struct ar_spiffe_svid *svid = NULL;
    CHECK (ar_spiffe_ca_mint (ca, "spiffe://example.org/a/../b", 0, NULL, &svid, &err) < 0);
    msg = ar_error_format (err);
    CHECK_CONTAINS (msg, "`..` path segment");
  }
  {
    cleanup_error ar_error_t err = NULL;
    cleanup_free char *msg = NULL;
    CHECK (ar_spiffe_ca_init (short_dir, "Bad.Domain", 0, &err) < 0);
    msg = ar_error_format (err);
    CHECK_CONTAINS (msg, "write it in lowercase");
  }
  {
    cleanup_error ar_error_t err = NULL;
    cleanup_free char *msg = NULL;
    CHECK (ar_spiffe_ca_load (missing, &short_ca, &err) == -ENOENT);
    msg = ar_error_format (err);
    CHECK_CONTAINS (msg, "agentrun ca init");
  }

  /* An SVID never outlives its CA, and an expired CA mints nothing. */
  CHECK (ar_spiffe_ca_init (short_dir, "example.org", 2, NULL) == 0);
  CHECK (ar_spiffe_ca_load (short_dir, &short_ca, NULL) == 0);
  if (short_ca != NULL)
    {
      cleanup_spiffe_svid struct ar_spiffe_svid *svid = NULL;
      CHECK (ar_spiffe_ca_mint (short_ca, "spiffe://example.org/a", 3600, NULL, &svid, NULL) == 0);
      CHECK (svid != NULL && svid->not_after <= (int64_t) time (NULL) + 2);
    }
  sleep (3);
  {
    cleanup_error ar_error_t err = NULL;
    cleanup_free char *msg = NULL;
    cleanup_spiffe_ca struct ar_spiffe_ca *expired = NULL;
    CHECK (ar_spiffe_ca_load (short_dir, &expired, &err) == -EKEYEXPIRED);
    msg = ar_error_format (err);
    CHECK_CONTAINS (msg, "expired");
  }
  if (short_ca != NULL)
    {
      cleanup_error ar_error_t err = NULL;
      cleanup_spiffe_svid struct ar_spiffe_svid *svid = NULL;
      CHECK (ar_spiffe_ca_mint (short_ca, "spiffe://example.org/a", 0, NULL, &svid, &err) == -EKEYEXPIRED);
    }
  remove_tree (dir);
}

static void
test_svid_write_layout (void)
{
  static const struct
  {
    const char *name;
    mode_t mode;
  } files[] = {
    { "svid.pem", 0644 },
    { "svid_key.pem", 0400 },
    { "svid_bundle.pem", 0644 },
    { "jwt_svid.token", 0400 },
  };
  cleanup_free char *dir = make_temp_dir ();
  cleanup_free char *out = ar_xasprintf ("%s/out", dir);
  cleanup_spiffe_svid struct ar_spiffe_svid *svid = NULL;
  cleanup_close int out_fd = -1;
  char *audiences[] = { "svc", NULL };
  uid_t uid = getuid () == 0 ? 1234 : getuid ();
  gid_t gid = getuid () == 0 ? 5678 : getgid ();
  struct stat st;

  mint_sample (dir, 60, audiences, &svid);
  CHECK (mkdir (out, 0700) == 0);
  out_fd = open (out, O_PATH | O_DIRECTORY | O_CLOEXEC);
  CHECK (out_fd >= 0);
  if (svid == NULL || out_fd < 0)
    {
      remove_tree (dir);
      return;
    }

  CHECK (ar_spiffe_svid_write (out_fd, svid, uid, gid, NULL) == 0);
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    {
      CHECK (fstatat (out_fd, files[i].name, &st, AT_SYMLINK_NOFOLLOW) == 0);
      CHECK ((st.st_mode & 07777) == files[i].mode);
      CHECK (st.st_uid == uid && st.st_gid == gid);
    }

  /* A second write replaces the files; without a JWT-SVID, the old token
   * goes, and no temporary file stays behind. */
  free (svid->jwt_svid);
  svid->jwt_svid = NULL;
  CHECK (ar_spiffe_svid_write (out_fd, svid, uid, gid, NULL) == 0);
  CHECK (fstatat (out_fd, "jwt_svid.token", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
  CHECK (fstatat (out_fd, ".svid.pem.tmp", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
  CHECK (fstatat (out_fd, ".svid_key.pem.tmp", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
  remove_tree (dir);
}

/* Loads a CA from the contents of its files, as the fuzz target does, and
 * rejects swapped keys and text that is not PEM, naming the file. */
static void
test_ca_load_pem (void)
{
  cleanup_free char *dir = make_temp_dir ();
  cleanup_free char *ca_dir = ar_xasprintf ("%s/ca", dir);
  cleanup_free char *cert_path = ar_xasprintf ("%s/%s", ca_dir, AR_SPIFFE_CA_CERT);
  cleanup_free char *key_path = ar_xasprintf ("%s/%s", ca_dir, AR_SPIFFE_CA_KEY);
  cleanup_free char *jwt_key_path = ar_xasprintf ("%s/%s", ca_dir, AR_SPIFFE_JWT_KEY);
  cleanup_free char *cert = NULL, *key = NULL, *jwt_key = NULL;
  cleanup_free char *swapped_msg = NULL, *garbage_msg = NULL;
  size_t cert_len = 0, key_len = 0, jwt_key_len = 0;
  struct ar_spiffe_ca *ca = NULL;
  cleanup_error ar_error_t err = NULL;
  cleanup_error ar_error_t swapped_err = NULL;
  cleanup_error ar_error_t garbage_err = NULL;

  CHECK (ar_spiffe_ca_init (ca_dir, "example.org", 0, &err) == 0);
  CHECK (ar_read_file (cert_path, &cert, &cert_len, &err) == 0);
  CHECK (ar_read_file (key_path, &key, &key_len, &err) == 0);
  CHECK (ar_read_file (jwt_key_path, &jwt_key, &jwt_key_len, &err) == 0);
  if (cert == NULL || key == NULL || jwt_key == NULL)
    return;

  CHECK (ar_spiffe_ca_load_pem ("mem", cert, cert_len, key, key_len, jwt_key, jwt_key_len, &ca, &err) == 0);
  CHECK (ca != NULL);
  if (ca != NULL)
    CHECK_STR_EQ (ar_spiffe_ca_trust_domain (ca), "example.org");
  ar_spiffe_ca_free (ca);
  ca = NULL;

  CHECK (ar_spiffe_ca_load_pem ("mem", cert, cert_len, jwt_key, jwt_key_len, key, key_len, &ca, &swapped_err) < 0);
  CHECK (ca == NULL);
  swapped_msg = swapped_err ? ar_error_format (swapped_err) : NULL;
  CHECK_CONTAINS (swapped_msg, "the key `mem/ca_key.pem` does not match the certificate `mem/ca.pem`");

  CHECK (ar_spiffe_ca_load_pem ("mem", "not pem", 7, key, key_len, jwt_key, jwt_key_len, &ca, &garbage_err) < 0);
  CHECK (ca == NULL);
  garbage_msg = garbage_err ? ar_error_format (garbage_err) : NULL;
  CHECK_CONTAINS (garbage_msg, "`mem/ca.pem` is not a PEM certificate");

  remove_tree (dir);
}

/* The key id, computed without the encoder framework for P-256 keys, is
 * the hash of the same bytes that i2d_PUBKEY gives; other keys take
 * i2d_PUBKEY itself. */
static void
test_key_id_matches_i2d_pubkey (void)
{
  static const char *const curves[] = { "P-256", "P-384" };

  for (size_t i = 0; i < sizeof curves / sizeof curves[0]; i++)
    {
      EVP_PKEY *key = EVP_EC_gen (curves[i]);
      unsigned char *der = NULL;
      unsigned char digest[EVP_MAX_MD_SIZE];
      unsigned int digest_len = 0;
      cleanup_free char *kid = NULL;
      cleanup_free char *expected = NULL;
      cleanup_error ar_error_t err = NULL;
      int der_len;

      CHECK (key != NULL);
      if (key == NULL)
        continue;
      der_len = i2d_PUBKEY (key, &der);
      CHECK (der_len > 0);
      CHECK (EVP_Digest (der, (size_t) der_len, digest, &digest_len, EVP_sha256 (), NULL) == 1);
      expected = ar_spiffe_base64url_encode (digest, digest_len);
      expected[32] = '\0';
      CHECK (ar_spiffe_key_id (key, &kid, &err) == 0);
      CHECK_STR_EQ (kid, expected);
      OPENSSL_free (der);
      EVP_PKEY_free (key);
    }
}

/* Replaces dir/name with key in the PEM form that write gives. */
static void
replace_key_file (const char *dir, const char *name, EVP_PKEY *key, bool traditional)
{
  cleanup_free char *path = ar_xasprintf ("%s/%s", dir, name);
  BIO *bio;

  unlink (path);
  bio = BIO_new_file (path, "w");
  CHECK (bio != NULL);
  if (bio == NULL)
    return;
  if (traditional)
    CHECK (PEM_write_bio_PrivateKey_traditional (bio, key, NULL, NULL, 0, NULL, NULL) == 1);
  else
    CHECK (PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL) == 1);
  BIO_free (bio);
}

/* ca load takes the keys in every PEM form it took before the shared
 * decoder, and refuses the others with the same messages. */
static void
test_ca_load_key_forms (void)
{
  cleanup_free char *dir = make_temp_dir ();
  cleanup_free char *ca_dir = ar_xasprintf ("%s/ca", dir);
  cleanup_free char *jwt_path = ar_xasprintf ("%s/%s", ca_dir, AR_SPIFFE_JWT_KEY);
  cleanup_spiffe_ca struct ar_spiffe_ca *ca = NULL;
  cleanup_error ar_error_t err = NULL;
  cleanup_free char *msg = NULL;
  EVP_PKEY *jwt_key = NULL, *rsa_key;
  BIO *bio;
  int fd;

  CHECK (ar_spiffe_ca_init (ca_dir, "example.org", 0, &err) == 0);
  bio = BIO_new_file (jwt_path, "r");
  CHECK (bio != NULL && (jwt_key = PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL)) != NULL);
  BIO_free (bio);
  if (jwt_key == NULL)
    {
      remove_tree (dir);
      return;
    }

  /* The traditional "EC PRIVATE KEY" form loads, with the same key id. */
  replace_key_file (ca_dir, AR_SPIFFE_JWT_KEY, jwt_key, true);
  CHECK (ar_spiffe_ca_load (ca_dir, &ca, &err) == 0);
  ar_spiffe_ca_free (ca);
  ca = NULL;

  /* An RSA key is a PEM private key, but not an EC key. */
  rsa_key = EVP_RSA_gen (2048);
  CHECK (rsa_key != NULL);
  if (rsa_key != NULL)
    {
      replace_key_file (ca_dir, AR_SPIFFE_JWT_KEY, rsa_key, false);
      CHECK (ar_spiffe_ca_load (ca_dir, &ca, &err) < 0);
      msg = err ? ar_error_format (err) : NULL;
      CHECK_CONTAINS (msg, "is not an EC key");
      free (msg);
      msg = NULL;
      ar_error_release (&err);
      EVP_PKEY_free (rsa_key);
    }

  /* Text that is no key at all. */
  unlink (jwt_path);
  fd = open (jwt_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  CHECK (fd >= 0 && write (fd, "not a key\n", 10) == 10);
  if (fd >= 0)
    close (fd);
  CHECK (ar_spiffe_ca_load (ca_dir, &ca, &err) < 0);
  msg = err ? ar_error_format (err) : NULL;
  CHECK_CONTAINS (msg, "is not a PEM private key");
  EVP_PKEY_free (jwt_key);
  remove_tree (dir);
}

int
main (void)
{
  static const struct unit_test tests[] = {
    { "spiffe id rules", test_id_rules },
    { "spiffe id trust domain out", test_id_trust_domain_out },
    { "spiffe id template", test_id_template },
    { "ca files and modes", test_ca_files_and_modes },
    { "ca load pem", test_ca_load_pem },
    { "svid verifies against bundle", test_svid_verifies_against_bundle },
    { "svid extensions", test_svid_extensions },
    { "jwt svid verifies", test_jwt_svid_verifies },
    { "mint errors", test_mint_errors },
    { "svid write layout", test_svid_write_layout },
    { "key id matches i2d_PUBKEY", test_key_id_matches_i2d_pubkey },
    { "ca load key forms", test_ca_load_key_forms },
    { NULL, NULL },
  };
  return unit_run (tests);
}
