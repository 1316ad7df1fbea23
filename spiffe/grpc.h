/* A small gRPC client for local agents: HTTP/2 over a UNIX socket with
 * prior knowledge (no TLS, no upgrade), one connection and one stream per
 * call, on nghttp2.  It serves unary calls and the first message of a
 * server-streaming call, which is all that fetching SVIDs from a SPIRE
 * agent needs.  The caller packs and unpacks the protobuf messages. */
#ifndef AGENTRUN_SPIFFE_GRPC_H
#define AGENTRUN_SPIFFE_GRPC_H

#include <stddef.h>
#include <stdint.h>

#include "oci/error.h"

/* A length-prefixed message: a compression flag byte, then the length as
 * a 32-bit big-endian integer. */
#define AR_GRPC_FRAME_HEADER 5
/* The largest response message accepted, as gRPC's default limit. */
#define AR_GRPC_MAX_MESSAGE (4 * 1024 * 1024)

/* The status codes of the gRPC protocol. */
enum
{
  AR_GRPC_OK = 0,
  AR_GRPC_CANCELLED = 1,
  AR_GRPC_UNKNOWN = 2,
  AR_GRPC_INVALID_ARGUMENT = 3,
  AR_GRPC_DEADLINE_EXCEEDED = 4,
  AR_GRPC_NOT_FOUND = 5,
  AR_GRPC_ALREADY_EXISTS = 6,
  AR_GRPC_PERMISSION_DENIED = 7,
  AR_GRPC_RESOURCE_EXHAUSTED = 8,
  AR_GRPC_FAILED_PRECONDITION = 9,
  AR_GRPC_ABORTED = 10,
  AR_GRPC_OUT_OF_RANGE = 11,
  AR_GRPC_UNIMPLEMENTED = 12,
  AR_GRPC_INTERNAL = 13,
  AR_GRPC_UNAVAILABLE = 14,
  AR_GRPC_DATA_LOSS = 15,
  AR_GRPC_UNAUTHENTICATED = 16,
};

/* The name of a status code, e.g. "PERMISSION_DENIED", or "UNKNOWN_CODE"
 * for a code outside the protocol's list. */
const char *ar_grpc_status_name (int code);

/* Frames one uncompressed message; returns a malloc'd buffer of len + 5
 * bytes in *out. */
void ar_grpc_frame_encode (const uint8_t *msg, size_t len, uint8_t **out, size_t *out_len);

/* Decodes the first message in buf.  Returns 1 when it is complete, with
 * *msg pointing into buf, *msg_len its length and *consumed the size of
 * the frame.  Returns 0 when buf contains only part of it, and a negative
 * errno when the frame is compressed (this client requests no
 * compression) or longer than max_len. */
int ar_grpc_frame_decode (const uint8_t *buf, size_t len, size_t max_len, const uint8_t **msg, size_t *msg_len,
                          size_t *consumed, ar_error_t *err);

/* Decodes the percent-encoding of a grpc-message trailer; invalid escapes
 * stay as they are.  Returns a malloc'd string. */
char *ar_grpc_message_decode (const char *value, size_t len);

/* Turns a SPIFFE endpoint address into a socket path: `unix:///PATH`,
 * `unix:/PATH` or an absolute PATH, as in SPIFFE_ENDPOINT_SOCKET.  Other
 * schemes (tcp:) are refused, and so are paths too long for a socket. */
int ar_grpc_unix_path (const char *endpoint, char **out, ar_error_t *err);

struct ar_grpc_call
{
  const char *socket_path; /* a UNIX socket, as ar_grpc_unix_path returns */
  const char *method;      /* "/package.Service/Method" */
  /* Extra request metadata: name, value, name, value, ..., NULL. */
  const char *const *metadata;
  int timeout_ms; /* for the whole call, connect included */
  /* A server-streaming call: the call ends with the first message and
   * the client cancels the stream. */
  int streaming;
};

/* Calls call->method with one request message and returns the first
 * response message in *response (malloc'd; may be empty, so *response is
 * never NULL on success).  A connection failure, a timeout, a protocol
 * error or a grpc-status other than OK is an error whose message names the
 * method, the socket and the cause, with the grpc-message text. */
int ar_grpc_call (const struct ar_grpc_call *call, const uint8_t *request, size_t request_len, uint8_t **response,
                  size_t *response_len, ar_error_t *err);

#endif
