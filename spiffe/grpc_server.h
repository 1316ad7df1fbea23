/* A small gRPC server on nghttp2 for a caller's own event loop: HTTP/2
 * with prior knowledge (no TLS, no upgrade) on a connected stream socket,
 * one connection object per client, no threads.  It serves calls whose
 * client sends one request message and then closes its side, that is
 * unary and server-streaming calls.  The caller packs and unpacks the
 * protobuf messages, and replies to a call at once or later.  A streaming
 * call stays open until the caller finishes it or the client cancels it.
 *
 * The caller watches the socket for reading, and also for writing while
 * ar_grpc_server_conn_wants_write says that output waits, and calls
 * ar_grpc_server_conn_io whenever it is ready. */
#ifndef AGENTRUN_SPIFFE_GRPC_SERVER_H
#define AGENTRUN_SPIFFE_GRPC_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oci/error.h"

/* The largest request message accepted. */
#define AR_GRPC_SERVER_MAX_REQUEST (64 * 1024)

struct ar_grpc_server_conn;
struct ar_grpc_server_call;

struct ar_grpc_server_handlers
{
  /* A call whose request has arrived in full: method is the HTTP/2 path,
   * "/package.Service/Method", and msg the request message.  The handler
   * replies with ar_grpc_server_send and ar_grpc_server_finish, now or
   * later. */
  void (*on_call) (struct ar_grpc_server_call *call, const char *method, const uint8_t *msg, size_t len,
                   void *data);
  /* The client cancelled a call that was not finished yet, or its
   * connection closed; call is freed when this returns. */
  void (*on_cancel) (struct ar_grpc_server_call *call, void *data);
};

/* Takes fd, a connected socket in non-blocking mode, and sends the
 * server's HTTP/2 settings. */
int ar_grpc_server_conn_new (int fd, const struct ar_grpc_server_handlers *handlers, void *data,
                             struct ar_grpc_server_conn **out, ar_error_t *err);

/* Reads what the socket has, runs the handlers, and writes what is due.
 * Returns 1 while the connection stays open, 0 when it has ended, and a
 * negative errno on a socket or protocol error.  After 0 or an error, the
 * caller frees conn. */
int ar_grpc_server_conn_io (struct ar_grpc_server_conn *conn, ar_error_t *err);

/* True when output waits for the socket to accept it. */
bool ar_grpc_server_conn_wants_write (const struct ar_grpc_server_conn *conn);

int ar_grpc_server_conn_fd (const struct ar_grpc_server_conn *conn);

/* Calls on_cancel for each open call, then closes the socket. */
void ar_grpc_server_conn_free (struct ar_grpc_server_conn *conn);

/* The value of the request header name (lowercase), or NULL. */
const char *ar_grpc_server_call_metadata (const struct ar_grpc_server_call *call, const char *name);

struct ar_grpc_server_conn *ar_grpc_server_call_conn (const struct ar_grpc_server_call *call);

/* Sends one response message; the first one also sends the response
 * headers.  Outside ar_grpc_server_conn_io, it writes at once what the
 * socket accepts. */
int ar_grpc_server_send (struct ar_grpc_server_call *call, const uint8_t *msg, size_t len, ar_error_t *err);

/* Ends the call with status (AR_GRPC_OK, ...) and message (NULL for
 * none) once the messages before it are sent.  The caller must not use
 * call afterwards. */
int ar_grpc_server_finish (struct ar_grpc_server_call *call, int status, const char *message, ar_error_t *err);

/* Percent-encodes a grpc-message value: bytes outside printable ASCII,
 * and '%', become %XX.  Returns a malloc'd string. */
char *ar_grpc_message_encode (const char *message);

#endif
