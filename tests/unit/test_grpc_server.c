/* The gRPC server of spiffe/grpc_server.c, called by the client of
 * spiffe/grpc.c over a real UNIX socket: unary calls, a streaming call,
 * error statuses with percent-encoded messages, request metadata, and a
 * message larger than one HTTP/2 frame.  Each call has its own
 * connection. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci/util.h"
#include "spiffe/grpc.h"
#include "spiffe/grpc_server.h"
#include "unit.h"

static void
test_message_encode (void)
{
  cleanup_free char *plain = ar_grpc_message_encode ("no identity for `x`");
  cleanup_free char *escaped = ar_grpc_message_encode ("100%\ndone\xc3\xa9");
  cleanup_free char *round_trip = NULL;

  CHECK_STR_EQ (plain, "no identity for `x`");
  CHECK_STR_EQ (escaped, "100%25%0Adone%C3%A9");
  round_trip = ar_grpc_message_decode (escaped, strlen (escaped));
  CHECK_STR_EQ (round_trip, "100%\ndone\xc3\xa9");
}

/* The test server's calls: /t.Test/Echo returns the request, /t.Test/Deny
 * fails, /t.Test/Stream sends two messages and leaves the stream open,
 * and every call needs the metadata x-test: yes. */
static void
on_call (struct ar_grpc_server_call *call, const char *method, const uint8_t *msg, size_t len, void *data)
{
  const char *header = ar_grpc_server_call_metadata (call, "x-test");

  (void) data;
  if (header == NULL || strcmp (header, "yes") != 0)
    ar_grpc_server_finish (call, AR_GRPC_INVALID_ARGUMENT, "x-test missing", NULL);
  else if (strcmp (method, "/t.Test/Echo") == 0)
    {
      ar_grpc_server_send (call, msg, len, NULL);
      ar_grpc_server_finish (call, AR_GRPC_OK, NULL, NULL);
    }
  else if (strcmp (method, "/t.Test/Deny") == 0)
    ar_grpc_server_finish (call, AR_GRPC_PERMISSION_DENIED, "denied: 100%\nof it", NULL);
  else if (strcmp (method, "/t.Test/Stream") == 0)
    {
      ar_grpc_server_send (call, (const uint8_t *) "first", 5, NULL);
      ar_grpc_server_send (call, (const uint8_t *) "second", 6, NULL);
    }
  else
    ar_grpc_server_finish (call, AR_GRPC_UNIMPLEMENTED, method, NULL);
}

static const struct ar_grpc_server_handlers handlers = { .on_call = on_call };

/* Serves listen_fd with up to 8 connections at once until killed. */
static void __attribute__ ((noreturn))
serve (int listen_fd)
{
  struct ar_grpc_server_conn *conns[8] = { NULL };
  struct pollfd fds[9];

  for (;;)
    {
      fds[0] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
      for (int i = 0; i < 8; i++)
        fds[i + 1] = (struct pollfd){ .fd = conns[i] != NULL ? ar_grpc_server_conn_fd (conns[i]) : -1,
                                      .events = POLLIN
                                                | (conns[i] != NULL && ar_grpc_server_conn_wants_write (conns[i])
                                                       ? POLLOUT
                                                       : 0) };
      if (poll (fds, 9, -1) < 0)
        _exit (1);
      if (fds[0].revents & POLLIN)
        {
          int fd = accept4 (listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          for (int i = 0; fd >= 0 && i < 8; i++)
            if (conns[i] == NULL)
              {
                if (ar_grpc_server_conn_new (fd, &handlers, NULL, &conns[i], NULL) < 0)
                  close (fd);
                fd = -1;
              }
          if (fd >= 0)
            close (fd);
        }
      for (int i = 0; i < 8; i++)
        if (conns[i] != NULL && fds[i + 1].revents != 0 && ar_grpc_server_conn_io (conns[i], NULL) <= 0)
          {
            ar_grpc_server_conn_free (conns[i]);
            conns[i] = NULL;
          }
    }
}

static int
call (const char *socket_path, const char *method, const char *const *metadata, int streaming, const char *request,
      char **text, ar_error_t *err)
{
  struct ar_grpc_call grpc_call = {
    .socket_path = socket_path,
    .method = method,
    .metadata = metadata,
    .timeout_ms = 5000,
    .streaming = streaming,
  };
  uint8_t *response = NULL;
  size_t len = 0;
  int ret;

  ret = ar_grpc_call (&grpc_call, (const uint8_t *) request, strlen (request), &response, &len, err);
  if (ret < 0)
    return ret;
  *text = ar_xmalloc0 (len + 1);
  memcpy (*text, response, len);
  free (response);
  return 0;
}

static void
test_server_calls (void)
{
  static const char *const metadata[] = { "x-test", "yes", NULL };
  char dir[] = "/tmp/ar-grpc-server-unit-XXXXXX";
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  cleanup_free char *socket_path = NULL;
  int listen_fd;
  pid_t pid;

  CHECK (mkdtemp (dir) != NULL);
  socket_path = ar_xasprintf ("%s/s.sock", dir);
  strcpy (addr.sun_path, socket_path);
  listen_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  CHECK (bind (listen_fd, (struct sockaddr *) &addr, sizeof addr) == 0);
  CHECK (listen (listen_fd, 8) == 0);
  pid = fork ();
  if (pid == 0)
    serve (listen_fd);
  close (listen_fd);

  {
    cleanup_free char *text = NULL;
    CHECK (call (socket_path, "/t.Test/Echo", metadata, 0, "hello", &text, NULL) == 0);
    CHECK_STR_EQ (text, "hello");
  }
  {
    /* An empty request message. */
    cleanup_free char *text = NULL;
    CHECK (call (socket_path, "/t.Test/Echo", metadata, 0, "", &text, NULL) == 0);
    CHECK_STR_EQ (text, "");
  }
  {
    /* A streaming call: the client takes the first message and cancels,
     * and the server then serves the next call. */
    cleanup_free char *text = NULL;
    CHECK (call (socket_path, "/t.Test/Stream", metadata, 1, "", &text, NULL) == 0);
    CHECK_STR_EQ (text, "first");
  }
  {
    cleanup_error ar_error_t err = NULL;
    cleanup_free char *text = NULL;
    cleanup_free char *msg = NULL;
    CHECK (call (socket_path, "/t.Test/Deny", metadata, 0, "", &text, &err) < 0);
    msg = ar_error_format (err);
    CHECK_CONTAINS (msg, "PERMISSION_DENIED");
    CHECK_CONTAINS (msg, "denied: 100%\nof it");
  }
  {
    cleanup_error ar_error_t err = NULL;
    cleanup_free char *text = NULL;
    cleanup_free char *msg = NULL;
    CHECK (call (socket_path, "/t.Test/Echo", NULL, 0, "x", &text, &err) < 0);
    msg = ar_error_format (err);
    CHECK_CONTAINS (msg, "INVALID_ARGUMENT");
    CHECK_CONTAINS (msg, "x-test missing");
  }
  {
    cleanup_error ar_error_t err = NULL;
    cleanup_free char *text = NULL;
    cleanup_free char *msg = NULL;
    CHECK (call (socket_path, "/t.Test/Other", metadata, 0, "x", &text, &err) < 0);
    msg = ar_error_format (err);
    CHECK_CONTAINS (msg, "UNIMPLEMENTED");
  }
  {
    /* A large message crosses several HTTP/2 DATA frames each way. */
    cleanup_free char *big = ar_xmalloc0 (40000);
    cleanup_free char *text = NULL;
    memset (big, 'a', 39999);
    CHECK (call (socket_path, "/t.Test/Echo", metadata, 0, big, &text, NULL) == 0);
    CHECK (text != NULL && strcmp (text, big) == 0);
  }

  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
  unlink (socket_path);
  rmdir (dir);
}

int
main (void)
{
  static const struct unit_test tests[] = {
    { "grpc-message encode", test_message_encode },
    { "server calls", test_server_calls },
    { NULL, NULL },
  };
  return unit_run (tests);
}
