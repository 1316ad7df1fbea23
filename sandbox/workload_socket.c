/* The keeper module that serves the SPIFFE Workload API inside the
 * container, for the container's own identity, so that programs written
 * with the SPIFFE libraries find their SVIDs as on a host with a SPIRE
 * agent.
 *
 * The socket is SVID_DIR/agent/agent.sock, in the container's SVID tmpfs,
 * and SPIFFE_ENDPOINT_SOCKET names it (identity_env.c).  The keeper
 * creates the folder and binds the socket through the descriptor of the
 * tmpfs that the container process handed over, before the container's
 * command runs, so no path through /proc/PID/root is ever resolved.
 *
 * Every client gets the one identity of the container: there is no
 * attestation, because everything that can reach the socket runs in the
 * container.  The socket has the owner and mode of svid_key.pem, so it
 * reaches exactly who can read the key.  The methods:
 *   FetchX509SVID     a stream: the current X509-SVID, then the new one
 *                     after each renewal by the SVID rotation module
 *   FetchX509Bundles  a stream: the trust domain's bundle, again when it
 *                     changes
 *   FetchJWTSVID      a JWT-SVID for the requested audiences.  It is minted
 *                     when the SVIDs come from the local CA.  Otherwise it
 *                     is the one fetched from the SPIRE agent, if its
 *                     audiences match.
 *   FetchJWTBundles   a stream: the local CA's JWT bundle, again when it
 *                     changes (with a SPIRE agent as the source, an error)
 *   ValidateJWTSVID   checks a JWT-SVID against that bundle, without
 *                     returning its claims
 * Each request must carry the metadata `workload.spiffe.io: true`, as a
 * SPIRE agent demands. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/epoll.h>
#include <sys/fsuid.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "identity.h"
#include "keeper.h"
#include "keeper_modules.h"
#include "oci/log.h"
#include "oci/util.h"
#include "spiffe/ca.h"
#include "spiffe/grpc.h"
#include "spiffe/grpc_server.h"
#include "spiffe/proto/workload.pb-c.h"

/* The maximum number of clients connected at once; more are rejected. */
#define MAX_CLIENTS 16

enum stream_kind
{
  STREAM_X509_SVID,
  STREAM_X509_BUNDLES,
  STREAM_JWT_BUNDLES,
};

struct workload;

struct client
{
  struct workload *workload;
  struct client *next;
  struct ar_grpc_server_conn *conn;
  int fd;
  bool watching_out;
};

struct stream
{
  struct stream *next;
  struct client *client;
  struct ar_grpc_server_call *call;
  enum stream_kind kind;
};

struct workload
{
  struct ar_keeper *keeper;
  const struct ar_identity *identity;
  const char *container_id;
  int listen_fd;
  int folder_fd; /* SVID_DIR/agent */
  struct client *clients;
  size_t n_clients;
  unsigned long refused; /* clients rejected over MAX_CLIENTS */
  struct stream *streams;

  /* The current SVIDs, as packed response messages. */
  uint8_t *x509_response;
  size_t x509_response_len;
  uint8_t *bundles_response;
  size_t bundles_response_len;
  char *jwt_svid; /* the JWT-SVID from the source, or NULL */
  char *jwt_bundle; /* the local CA's JWK set, NULL with a SPIRE agent */
  uint8_t *jwt_bundles_response;
  size_t jwt_bundles_response_len;
};

static const struct ar_grpc_server_handlers handlers;

/* Concatenates the DER of every PEM block of pem: certificates stay
 * certificates, and a PRIVATE KEY block is PKCS#8, as the Workload API
 * sends them. */
static int
pem_to_der (const char *pem, const char *what, uint8_t **out, size_t *out_len, ar_error_t *err)
{
  BIO *bio = BIO_new_mem_buf (pem, -1);
  uint8_t *der = NULL;
  size_t len = 0;

  if (bio == NULL)
    return ar_make_error (err, ENOMEM, "cannot read the %s", what);
  for (;;)
    {
      char *name = NULL, *header = NULL;
      unsigned char *data = NULL;
      long data_len = 0;
      uint8_t *grown;

      if (PEM_read_bio (bio, &name, &header, &data, &data_len) != 1)
        break;
      grown = realloc (der, len + (size_t) data_len);
      if (grown != NULL)
        {
          memcpy (grown + len, data, (size_t) data_len);
          der = grown;
          len += (size_t) data_len;
        }
      OPENSSL_free (name);
      OPENSSL_free (header);
      OPENSSL_free (data);
    }
  ERR_clear_error ();
  BIO_free (bio);
  if (len == 0)
    {
      free (der);
      return ar_make_error (err, EINVAL, "the %s holds no PEM block", what);
    }
  *out = der;
  *out_len = len;
  return 0;
}

/* "spiffe://example.org/agent/x" gives "spiffe://example.org". */
static char *
trust_domain_id (const char *spiffe_id)
{
  const char *domain = spiffe_id + strlen ("spiffe://");
  const char *slash = strchr (domain, '/');
  size_t len = slash != NULL ? (size_t) (slash - spiffe_id) : strlen (spiffe_id);
  char *out = ar_xmalloc0 (len + 1);

  memcpy (out, spiffe_id, len);
  return out;
}

static uint8_t *
pack (const ProtobufCMessage *message, size_t *len)
{
  uint8_t *out = ar_xmalloc0 (protobuf_c_message_get_packed_size (message) + 1);

  *len = protobuf_c_message_pack (message, out);
  return out;
}

/* Reads the local CA's JWT bundle again and packs its response message;
 * with a SPIRE agent as the source, there is none. */
static void
set_jwt_bundle (struct workload *workload, const char *domain)
{
  cleanup_error ar_error_t bundle_err = NULL;
  JWTBundlesResponse__BundlesEntry entry = JWTBUNDLES_RESPONSE__BUNDLES_ENTRY__INIT;
  JWTBundlesResponse__BundlesEntry *entries[] = { &entry };
  JWTBundlesResponse response = JWTBUNDLES_RESPONSE__INIT;
  char *bundle = NULL;

  if (ar_identity_jwt_bundle (workload->identity, &bundle, &bundle_err) < 0)
    {
      if (ar_error_errno (bundle_err) != ENOENT || workload->jwt_bundle != NULL)
        {
          cleanup_free char *msg = ar_error_format (bundle_err);
          ar_log (AR_LOG_WARNING, "keeper of %s: the Workload API keeps the old JWT bundle: %s",
                  workload->container_id, msg);
        }
      return;
    }
  free (workload->jwt_bundle);
  workload->jwt_bundle = bundle;
  entry.key = (char *) domain;
  entry.value = (ProtobufCBinaryData) { strlen (bundle), (uint8_t *) bundle };
  response.n_bundles = 1;
  response.bundles = entries;
  free (workload->jwt_bundles_response);
  workload->jwt_bundles_response = pack (&response.base, &workload->jwt_bundles_response_len);
}

/* Turns svid into the response messages of the streams. */
static int
set_svid (struct workload *workload, const struct ar_spiffe_svid *svid, ar_error_t *err)
{
  cleanup_free uint8_t *cert = NULL, *key = NULL, *bundle = NULL;
  cleanup_free char *domain = NULL;
  size_t cert_len, key_len, bundle_len;
  X509SVID x509 = X509_SVID__INIT;
  X509SVID *x509_list[] = { &x509 };
  X509SVIDResponse x509_response = X509_SVIDRESPONSE__INIT;
  X509BundlesResponse__BundlesEntry entry = X509_BUNDLES_RESPONSE__BUNDLES_ENTRY__INIT;
  X509BundlesResponse__BundlesEntry *entries[] = { &entry };
  X509BundlesResponse bundles_response = X509_BUNDLES_RESPONSE__INIT;

  if (pem_to_der (svid->cert_pem, "X509-SVID", &cert, &cert_len, err) < 0
      || pem_to_der (svid->key_pem, "X509-SVID's key", &key, &key_len, err) < 0
      || pem_to_der (svid->bundle_pem, "trust bundle", &bundle, &bundle_len, err) < 0)
    return -1;
  domain = trust_domain_id (svid->spiffe_id);

  x509.spiffe_id = svid->spiffe_id;
  x509.x509_svid = (ProtobufCBinaryData) { cert_len, cert };
  x509.x509_svid_key = (ProtobufCBinaryData) { key_len, key };
  x509.bundle = (ProtobufCBinaryData) { bundle_len, bundle };
  x509_response.n_svids = 1;
  x509_response.svids = x509_list;
  entry.key = domain;
  entry.value = (ProtobufCBinaryData) { bundle_len, bundle };
  bundles_response.n_bundles = 1;
  bundles_response.bundles = entries;

  free (workload->x509_response);
  workload->x509_response = pack (&x509_response.base, &workload->x509_response_len);
  free (workload->bundles_response);
  workload->bundles_response = pack (&bundles_response.base, &workload->bundles_response_len);
  free (workload->jwt_svid);
  workload->jwt_svid = svid->jwt_svid != NULL ? ar_xstrdup (svid->jwt_svid) : NULL;
  set_jwt_bundle (workload, domain);
  return 0;
}

static int on_client (struct ar_keeper *keeper, int fd, uint32_t events, void *data, ar_error_t *err);

static int
watch_client (struct client *client, uint32_t events, ar_error_t *err)
{
  return ar_keeper_watch (client->workload->keeper, client->fd, events, on_client, client, err);
}

/* Watches the client's socket for writing too while output waits. */
static void
update_interest (struct client *client)
{
  bool wants = ar_grpc_server_conn_wants_write (client->conn);
  cleanup_error ar_error_t watch_err = NULL;

  if (wants == client->watching_out)
    return;
  ar_keeper_unwatch (client->workload->keeper, client->fd);
  client->watching_out = wants;
  if (watch_client (client, EPOLLIN | (wants ? EPOLLOUT : 0), &watch_err) < 0)
    ar_debug ("keeper of %s: cannot watch a Workload API client", client->workload->container_id);
}

static void
stream_add (struct workload *workload, struct client *client, struct ar_grpc_server_call *call,
            enum stream_kind kind)
{
  struct stream *stream = ar_xmalloc0 (sizeof (*stream));

  stream->client = client;
  stream->call = call;
  stream->kind = kind;
  stream->next = workload->streams;
  workload->streams = stream;
}

static void
on_cancel (struct ar_grpc_server_call *call, void *data)
{
  struct client *client = data;

  for (struct stream **p = &client->workload->streams; *p != NULL; p = &(*p)->next)
    if ((*p)->call == call)
      {
        struct stream *gone = *p;
        *p = gone->next;
        free (gone);
        return;
      }
}

static void
fetch_jwt (struct workload *workload, struct ar_grpc_server_call *call, const uint8_t *msg, size_t len)
{
  struct ar_spiffe_svid current = { .jwt_svid = workload->jwt_svid };
  JWTSVIDRequest *request = jwtsvidrequest__unpack (NULL, len, msg);
  cleanup_error ar_error_t jwt_err = NULL;
  cleanup_free char *token = NULL;
  cleanup_free char *reason = NULL;
  cleanup_free uint8_t *packed = NULL;
  JWTSVID svid = JWTSVID__INIT;
  JWTSVID *svids[] = { &svid };
  JWTSVIDResponse response = JWTSVIDRESPONSE__INIT;
  const char *spiffe_id = ar_identity_spiffe_id (workload->identity);
  size_t packed_len;

  if (request == NULL)
    {
      ar_grpc_server_finish (call, AR_GRPC_INVALID_ARGUMENT, "the request is not a JWTSVIDRequest", NULL);
      return;
    }
  if (request->n_audience == 0)
    {
      ar_grpc_server_finish (call, AR_GRPC_INVALID_ARGUMENT, "audience must be specified", NULL);
      jwtsvidrequest__free_unpacked (request, NULL);
      return;
    }
  if (request->spiffe_id != NULL && request->spiffe_id[0] != '\0' && strcmp (request->spiffe_id, spiffe_id) != 0)
    {
      reason = ar_xasprintf ("this container's only identity is `%s`, not `%s`", spiffe_id, request->spiffe_id);
      ar_grpc_server_finish (call, AR_GRPC_PERMISSION_DENIED, reason, NULL);
      jwtsvidrequest__free_unpacked (request, NULL);
      return;
    }

  /* ar_identity_jwt_svid expects a NULL-terminated list. */
  char **audiences = ar_xmalloc0 (sizeof (char *) * (request->n_audience + 1));
  memcpy (audiences, request->audience, sizeof (char *) * request->n_audience);
  if (ar_identity_jwt_svid (workload->identity, &current, audiences, &token, &jwt_err) < 0)
    {
      reason = ar_error_format (jwt_err);
      ar_grpc_server_finish (call, ar_error_errno (jwt_err) == ENOENT ? AR_GRPC_NOT_FOUND : AR_GRPC_INTERNAL,
                             reason, NULL);
    }
  else
    {
      svid.spiffe_id = (char *) spiffe_id;
      svid.svid = token;
      response.n_svids = 1;
      response.svids = svids;
      packed = pack (&response.base, &packed_len);
      if (ar_grpc_server_send (call, packed, packed_len, NULL) == 0)
        ar_grpc_server_finish (call, AR_GRPC_OK, NULL, NULL);
    }
  free (audiences);
  jwtsvidrequest__free_unpacked (request, NULL);
}

static void
validate_jwt (struct workload *workload, struct ar_grpc_server_call *call, const uint8_t *msg, size_t len)
{
  ValidateJWTSVIDRequest *request = validate_jwtsvidrequest__unpack (NULL, len, msg);
  ValidateJWTSVIDResponse response = VALIDATE_JWTSVIDRESPONSE__INIT;
  cleanup_error ar_error_t verify_err = NULL;
  cleanup_free char *subject = NULL;
  cleanup_free char *reason = NULL;
  cleanup_free uint8_t *packed = NULL;
  size_t packed_len;

  if (request == NULL)
    ar_grpc_server_finish (call, AR_GRPC_INVALID_ARGUMENT, "the request is not a ValidateJWTSVIDRequest", NULL);
  else if (request->audience == NULL || request->audience[0] == '\0')
    ar_grpc_server_finish (call, AR_GRPC_INVALID_ARGUMENT, "audience must be specified", NULL);
  else if (request->svid == NULL || request->svid[0] == '\0')
    ar_grpc_server_finish (call, AR_GRPC_INVALID_ARGUMENT, "svid must be specified", NULL);
  else if (workload->jwt_bundle == NULL)
    ar_grpc_server_finish (call, AR_GRPC_UNAVAILABLE,
                           "no JWT bundle to validate with: the container's SVIDs come from a SPIRE agent", NULL);
  else if (ar_spiffe_jwt_verify (request->svid, workload->jwt_bundle, request->audience, &subject, &verify_err) < 0)
    {
      reason = ar_error_format (verify_err);
      ar_grpc_server_finish (call, AR_GRPC_INVALID_ARGUMENT, reason, NULL);
    }
  else
    {
      response.spiffe_id = subject;
      packed = pack (&response.base, &packed_len);
      if (ar_grpc_server_send (call, packed, packed_len, NULL) == 0)
        ar_grpc_server_finish (call, AR_GRPC_OK, NULL, NULL);
    }
  if (request != NULL)
    validate_jwtsvidrequest__free_unpacked (request, NULL);
}

static void
on_call (struct ar_grpc_server_call *call, const char *method, const uint8_t *msg, size_t len, void *data)
{
  struct client *client = data;
  struct workload *workload = client->workload;
  const char *header = ar_grpc_server_call_metadata (call, "workload.spiffe.io");

  if (header == NULL || strcmp (header, "true") != 0)
    ar_grpc_server_finish (call, AR_GRPC_INVALID_ARGUMENT, "security header missing from request", NULL);
  else if (strcmp (method, "/SpiffeWorkloadAPI/FetchX509SVID") == 0)
    {
      if (ar_grpc_server_send (call, workload->x509_response, workload->x509_response_len, NULL) == 0)
        stream_add (workload, client, call, STREAM_X509_SVID);
    }
  else if (strcmp (method, "/SpiffeWorkloadAPI/FetchX509Bundles") == 0)
    {
      if (ar_grpc_server_send (call, workload->bundles_response, workload->bundles_response_len, NULL) == 0)
        stream_add (workload, client, call, STREAM_X509_BUNDLES);
    }
  else if (strcmp (method, "/SpiffeWorkloadAPI/FetchJWTSVID") == 0)
    fetch_jwt (workload, call, msg, len);
  else if (strcmp (method, "/SpiffeWorkloadAPI/FetchJWTBundles") == 0)
    {
      if (workload->jwt_bundles_response == NULL)
        ar_grpc_server_finish (call, AR_GRPC_UNAVAILABLE,
                               "no JWT bundle: the container's SVIDs come from a SPIRE agent", NULL);
      else if (ar_grpc_server_send (call, workload->jwt_bundles_response, workload->jwt_bundles_response_len, NULL)
               == 0)
        stream_add (workload, client, call, STREAM_JWT_BUNDLES);
    }
  else if (strcmp (method, "/SpiffeWorkloadAPI/ValidateJWTSVID") == 0)
    validate_jwt (workload, call, msg, len);
  else
    {
      cleanup_free char *reason = ar_xasprintf ("this Workload API does not serve %s", method);
      ar_grpc_server_finish (call, AR_GRPC_UNIMPLEMENTED, reason, NULL);
    }
}

static const struct ar_grpc_server_handlers handlers = {
  .on_call = on_call,
  .on_cancel = on_cancel,
};

static void
client_drop (struct client *client)
{
  struct workload *workload = client->workload;

  for (struct client **p = &workload->clients; *p != NULL; p = &(*p)->next)
    if (*p == client)
      {
        *p = client->next;
        break;
      }
  workload->n_clients--;
  ar_keeper_unwatch (workload->keeper, client->fd);
  ar_grpc_server_conn_free (client->conn); /* cancels its streams, closes fd */
  free (client);
}

static int
on_client (struct ar_keeper *keeper, int fd, uint32_t events, void *data, ar_error_t *err)
{
  struct client *client = data;
  cleanup_error ar_error_t io_err = NULL;
  int ret;

  (void) keeper;
  (void) fd;
  (void) events;
  (void) err;
  ret = ar_grpc_server_conn_io (client->conn, &io_err);
  if (ret < 0)
    {
      cleanup_free char *msg = ar_error_format (io_err);
      ar_debug ("keeper of %s: Workload API client dropped: %s", client->workload->container_id, msg);
    }
  if (ret <= 0)
    client_drop (client);
  else
    update_interest (client);
  return 0;
}

static int
on_accept (struct ar_keeper *keeper, int fd, uint32_t events, void *data, ar_error_t *err)
{
  struct workload *workload = data;

  (void) keeper;
  (void) events;
  (void) err;
  for (;;)
    {
      cleanup_close int client_fd = accept4 (fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      cleanup_error ar_error_t client_err = NULL;
      struct client *client;

      if (client_fd < 0)
        return 0; /* EAGAIN, or a client that left already */
      if (workload->n_clients >= MAX_CLIENTS)
        {
          /* The first rejection is logged, the rest only counted, so that
           * a container cannot flood the runtime's log. */
          if (workload->refused++ == 0)
            ar_log (AR_LOG_WARNING,
                    "keeper of %s: rejected a Workload API client because %d are connected already; later "
                    "rejections are not logged",
                    workload->container_id, MAX_CLIENTS);
          continue;
        }

      client = ar_xmalloc0 (sizeof (*client));
      client->workload = workload;
      client->fd = client_fd;
      if (ar_grpc_server_conn_new (client_fd, &handlers, client, &client->conn, &client_err) < 0)
        {
          free (client);
          continue;
        }
      client_fd = -1; /* the connection owns it */
      if (watch_client (client, EPOLLIN, &client_err) < 0)
        {
          ar_grpc_server_conn_free (client->conn);
          free (client);
          continue;
        }
      client->next = workload->clients;
      workload->clients = client;
      workload->n_clients++;
    }
}

/* Sends renewed SVIDs to the open streams: each X509-SVID stream gets the
 * new X509-SVID, and each bundle stream its bundle when it changed. */
static void
on_renewal (const struct ar_spiffe_svid *svid, void *data)
{
  struct workload *workload = data;
  cleanup_error ar_error_t set_err = NULL;
  cleanup_free uint8_t *old_bundles = workload->bundles_response;
  size_t old_bundles_len = workload->bundles_response_len;
  cleanup_free char *old_jwt_bundle = workload->jwt_bundle != NULL ? ar_xstrdup (workload->jwt_bundle) : NULL;
  bool bundles_changed, jwt_bundle_changed;

  workload->bundles_response = NULL;
  if (set_svid (workload, svid, &set_err) < 0)
    {
      cleanup_free char *msg = ar_error_format (set_err);
      ar_log (AR_LOG_WARNING, "keeper of %s: the Workload API keeps the old SVIDs: %s", workload->container_id, msg);
      workload->bundles_response = ar_steal_ptr (old_bundles);
      return;
    }
  bundles_changed = old_bundles_len != workload->bundles_response_len
                    || memcmp (old_bundles, workload->bundles_response, old_bundles_len) != 0;
  jwt_bundle_changed = workload->jwt_bundle != NULL
                       && (old_jwt_bundle == NULL || strcmp (old_jwt_bundle, workload->jwt_bundle) != 0);

  for (struct stream *stream = workload->streams; stream != NULL; stream = stream->next)
    {
      if (stream->kind == STREAM_X509_SVID)
        ar_grpc_server_send (stream->call, workload->x509_response, workload->x509_response_len, NULL);
      else if (stream->kind == STREAM_X509_BUNDLES && bundles_changed)
        ar_grpc_server_send (stream->call, workload->bundles_response, workload->bundles_response_len, NULL);
      else if (stream->kind == STREAM_JWT_BUNDLES && jwt_bundle_changed)
        ar_grpc_server_send (stream->call, workload->jwt_bundles_response, workload->jwt_bundles_response_len,
                             NULL);
    }
  for (struct client *client = workload->clients; client != NULL; client = client->next)
    update_interest (client);
}

/* Creates SVID_DIR/agent and binds the socket in it.  The tmpfs belongs
 * to the container's user namespace, where the kernel creates no inode
 * for an unmapped filesystem uid such as the host's root.  So this runs
 * with the filesystem ids of the tmpfs root's owner, and raises CAP_CHOWN,
 * CAP_DAC_OVERRIDE and CAP_FOWNER again, as identity_rotation.c does to
 * write the files. */
static int
bind_socket (struct workload *workload, int dir_fd, uid_t uid, gid_t gid, ar_error_t *err)
{
  static const cap_value_t fs_caps[] = { CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER };
  const char *svid_dir = ar_identity_svid_dir (workload->identity);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_close int cwd_fd = open (".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  cap_t caps = NULL;
  int ret = 0;

  if (cwd_fd < 0)
    return ar_make_error (err, errno, "cannot open the keeper's working folder");
  if (fstat (dir_fd, &st) < 0)
    return ar_make_error (err, errno, "cannot inspect the SVID folder `%s`", svid_dir);
  strcpy (addr.sun_path, AR_IDENTITY_SOCKET_NAME);

  setfsgid (st.st_gid);
  setfsuid (st.st_uid);
  caps = cap_get_proc ();
  if (caps == NULL || cap_set_flag (caps, CAP_EFFECTIVE, 3, fs_caps, CAP_SET) < 0 || cap_set_proc (caps) < 0)
    ret = ar_make_error (err, errno, "cannot raise CAP_CHOWN, CAP_DAC_OVERRIDE and CAP_FOWNER for the socket");
  if (ret == 0 && mkdirat (dir_fd, AR_IDENTITY_SOCKET_DIR, 0755) < 0)
    ret = ar_make_error (err, errno, "cannot create `%s/" AR_IDENTITY_SOCKET_DIR "` for the Workload API socket",
                         svid_dir);
  if (ret == 0)
    {
      workload->folder_fd = openat (dir_fd, AR_IDENTITY_SOCKET_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (workload->folder_fd < 0)
        ret = ar_make_error (err, errno, "cannot open `%s/" AR_IDENTITY_SOCKET_DIR "`", svid_dir);
    }
  /* bind takes a path: a relative one, from the folder's descriptor. */
  if (ret == 0 && fchdir (workload->folder_fd) < 0)
    ret = ar_make_error (err, errno, "cannot enter `%s/" AR_IDENTITY_SOCKET_DIR "`", svid_dir);
  if (ret == 0 && bind (workload->listen_fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    ret = ar_make_error (err, errno, "cannot bind the Workload API socket in `%s/" AR_IDENTITY_SOCKET_DIR "`",
                         svid_dir);
  if (fchdir (cwd_fd) < 0 && ret == 0)
    ret = ar_make_error (err, errno, "cannot return to the keeper's working folder");
  if (ret == 0
      && (fchownat (workload->folder_fd, AR_IDENTITY_SOCKET_NAME, uid, gid, AT_SYMLINK_NOFOLLOW) < 0
          || fchmodat (workload->folder_fd, AR_IDENTITY_SOCKET_NAME, 0600, 0) < 0))
    ret = ar_make_error (err, errno, "cannot give the Workload API socket its owner");
  setfsuid (0);
  setfsgid (0);
  cap_free (caps);
  return ret;
}

static bool
workload_wanted (const struct ar_keeper_context *context)
{
  return context->identity != NULL && context->identity_dir_fd >= 0;
}

static void workload_stop (struct ar_keeper *keeper, void *data);

static int
workload_start (struct ar_keeper *keeper, void **data, ar_error_t *err)
{
  const struct ar_keeper_context *context = ar_keeper_context (keeper);
  struct workload *workload = ar_xmalloc0 (sizeof (*workload));
  struct stat key;
  int ret;

  workload->keeper = keeper;
  workload->identity = context->identity;
  workload->container_id = context->id;
  workload->folder_fd = -1;
  workload->listen_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (workload->listen_fd < 0)
    {
      ret = ar_make_error (err, errno, "cannot create the Workload API socket");
      goto fail;
    }

  /* The container's command has not run yet: svid_key.pem has the owner
   * that the container process gave it. */
  if (fstatat (context->identity_dir_fd, "svid_key.pem", &key, AT_SYMLINK_NOFOLLOW) < 0)
    {
      ret = ar_make_error (err, errno, "cannot find svid_key.pem in the SVID folder `%s`",
                           ar_identity_svid_dir (context->identity));
      goto fail;
    }
  ret = set_svid (workload, ar_identity_svid (context->identity), err);
  if (ret == 0)
    ret = bind_socket (workload, context->identity_dir_fd, key.st_uid, key.st_gid, err);
  if (ret == 0 && listen (workload->listen_fd, MAX_CLIENTS) < 0)
    ret = ar_make_error (err, errno, "cannot listen on the Workload API socket");
  if (ret == 0)
    ret = ar_keeper_watch (keeper, workload->listen_fd, EPOLLIN, on_accept, workload, err);
  if (ret < 0)
    goto fail;

  ar_identity_rotation_listen (on_renewal, workload);
  ar_debug ("keeper of %s: serving the Workload API at %s/" AR_IDENTITY_SOCKET_DIR "/" AR_IDENTITY_SOCKET_NAME,
            context->id, ar_identity_svid_dir (context->identity));
  *data = workload;
  return 0;

fail:
  workload_stop (keeper, workload);
  return ar_error_wrap (err, "cannot serve the Workload API in the container");
}

static void
workload_stop (struct ar_keeper *keeper, void *data)
{
  struct workload *workload = data;

  ar_identity_rotation_listen (NULL, NULL);
  while (workload->clients != NULL)
    client_drop (workload->clients);
  if (workload->listen_fd >= 0)
    {
      ar_keeper_unwatch (keeper, workload->listen_fd);
      close (workload->listen_fd);
    }
  if (workload->folder_fd >= 0)
    {
      unlinkat (workload->folder_fd, AR_IDENTITY_SOCKET_NAME, 0);
      close (workload->folder_fd);
    }
  free (workload->x509_response);
  free (workload->bundles_response);
  free (workload->jwt_svid);
  free (workload->jwt_bundle);
  free (workload->jwt_bundles_response);
  free (workload);
}

const struct ar_keeper_module ar_keeper_workload_socket = {
  .name = "Workload API socket",
  .wanted = workload_wanted,
  .start = workload_start,
  .stop = workload_stop,
};
