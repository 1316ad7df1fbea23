/* A gRPC client over a UNIX socket on nghttp2: see grpc.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "oci/util.h"
#include "spiffe/grpc.h"

static const char *const status_names[] = {
  "OK",           "CANCELLED",    "UNKNOWN",      "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED", "NOT_FOUND",
  "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
  "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",   "UNAVAILABLE",        "DATA_LOSS",         "UNAUTHENTICATED",
};

const char *
ar_grpc_status_name (int code)
{
  if (code < 0 || (size_t) code >= sizeof status_names / sizeof status_names[0])
    return "UNKNOWN_CODE";
  return status_names[code];
}

void
ar_grpc_frame_encode (const uint8_t *msg, size_t len, uint8_t **out, size_t *out_len)
{
  uint8_t *buf = ar_xmalloc0 (len + AR_GRPC_FRAME_HEADER);

  buf[0] = 0;
  buf[1] = (uint8_t) (len >> 24);
  buf[2] = (uint8_t) (len >> 16);
  buf[3] = (uint8_t) (len >> 8);
  buf[4] = (uint8_t) len;
  if (len > 0)
    memcpy (buf + AR_GRPC_FRAME_HEADER, msg, len);
  *out = buf;
  *out_len = len + AR_GRPC_FRAME_HEADER;
}

int
ar_grpc_frame_decode (const uint8_t *buf, size_t len, size_t max_len, const uint8_t **msg, size_t *msg_len,
                      size_t *consumed, ar_error_t *err)
{
  uint32_t length;

  if (len < AR_GRPC_FRAME_HEADER)
    return 0;
  if (buf[0] != 0)
    return ar_make_error (err, 0, "the server sent a message with compression flag %u, but none was asked for",
                          buf[0]);
  length = ((uint32_t) buf[1] << 24) | ((uint32_t) buf[2] << 16) | ((uint32_t) buf[3] << 8) | buf[4];
  if (length > max_len)
    return ar_make_error (err, 0, "the server sent a message of %u bytes, more than the limit of %zu", length,
                          max_len);
  if (len - AR_GRPC_FRAME_HEADER < length)
    return 0;
  *msg = buf + AR_GRPC_FRAME_HEADER;
  *msg_len = length;
  *consumed = AR_GRPC_FRAME_HEADER + (size_t) length;
  return 1;
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

char *
ar_grpc_message_decode (const char *value, size_t len)
{
  char *out = ar_xmalloc0 (len + 1);
  size_t i, n = 0;

  for (i = 0; i < len; i++)
    {
      if (value[i] == '%' && i + 2 < len && hex_value (value[i + 1]) >= 0
          && hex_value (value[i + 2]) >= 0)
        {
          out[n++] = (char) (hex_value (value[i + 1]) * 16 + hex_value (value[i + 2]));
          i += 2;
        }
      else
        out[n++] = value[i];
    }
  out[n] = '\0';
  return out;
}

int
ar_grpc_unix_path (const char *endpoint, char **out, ar_error_t *err)
{
  struct sockaddr_un addr;
  const char *path = endpoint;

  if (ar_str_has_prefix (endpoint, "unix://"))
    path = endpoint + strlen ("unix://");
  else if (ar_str_has_prefix (endpoint, "unix:"))
    path = endpoint + strlen ("unix:");
  else if (strchr (endpoint, ':') != NULL && endpoint[0] != '/')
    return ar_make_error (err, 0,
                          "the SPIFFE endpoint `%s` is not a UNIX socket; give `unix:///PATH` or an absolute path",
                          endpoint);
  if (path[0] != '/')
    return ar_make_error (err, 0, "the SPIFFE endpoint `%s` does not name an absolute socket path", endpoint);
  if (strlen (path) >= sizeof addr.sun_path)
    return ar_make_error (err, 0, "the socket path of the SPIFFE endpoint `%s` is longer than %zu bytes",
                          endpoint, sizeof addr.sun_path - 1);
  *out = ar_xstrdup (path);
  return 0;
}

/* The state of one call, shared with nghttp2's callbacks. */
struct call_state
{
  int fd;
  int32_t stream_id;
  bool stream_closed;
  uint32_t close_code; /* the RST_STREAM error code, or 0 */
  int http_status;
  int grpc_status; /* -1 until the server sends one */
  char *grpc_message;
  bool io_failed; /* send failed with io_errno */
  int io_errno;
  bool too_large;
  uint8_t *data;
  size_t data_len;
  size_t data_cap;
  const uint8_t *request;
  size_t request_len;
  size_t request_sent;
};

static ssize_t
send_cb (nghttp2_session *session, const uint8_t *data, size_t length, int flags, void *user_data)
{
  struct call_state *state = user_data;
  ssize_t n = send (state->fd, data, length, MSG_NOSIGNAL);

  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return NGHTTP2_ERR_WOULDBLOCK;
  if (n < 0)
    {
      state->io_failed = true;
      state->io_errno = errno;
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
  return n;
}

static int
header_cb (nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
           const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
  struct call_state *state = user_data;
  char text[16];

  if (frame->hd.type != NGHTTP2_HEADERS || frame->hd.stream_id != state->stream_id)
    return 0;
  if (namelen == strlen (":status") && memcmp (name, ":status", namelen) == 0 && valuelen < sizeof text)
    {
      memcpy (text, value, valuelen);
      text[valuelen] = '\0';
      state->http_status = atoi (text);
    }
  else if (namelen == strlen ("grpc-status") && memcmp (name, "grpc-status", namelen) == 0)
    {
      long code;

      if (valuelen >= sizeof text)
        valuelen = sizeof text - 1;
      memcpy (text, value, valuelen);
      text[valuelen] = '\0';
      state->grpc_status = ar_parse_long (text, &code) == 0 && code >= 0 && code < 1000 ? (int) code
                                                                                         : AR_GRPC_UNKNOWN;
    }
  else if (namelen == strlen ("grpc-message") && memcmp (name, "grpc-message", namelen) == 0)
    {
      free (state->grpc_message);
      state->grpc_message = ar_grpc_message_decode ((const char *) value, valuelen);
    }
  return 0;
}

static int
data_chunk_cb (nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t len,
               void *user_data)
{
  struct call_state *state = user_data;
  const uint8_t *msg;
  size_t msg_len, consumed;

  if (stream_id != state->stream_id)
    return 0;
  /* A call uses only the first message, so it drops what follows it (an
   * agent's updates on a stream) or follows an invalid frame header. */
  if (ar_grpc_frame_decode (state->data, state->data_len, AR_GRPC_MAX_MESSAGE, &msg, &msg_len, &consumed, NULL) != 0)
    return 0;
  /* Without a whole frame, data_len is at most the largest frame. */
  if (state->data_len > AR_GRPC_MAX_MESSAGE + AR_GRPC_FRAME_HEADER)
    {
      state->too_large = true;
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
  if (state->data_len + len > state->data_cap)
    {
      size_t cap = state->data_cap == 0 ? 16384 : state->data_cap;
      uint8_t *data_new;

      while (cap < state->data_len + len)
        cap *= 2;
      data_new = realloc (state->data, cap);
      if (data_new == NULL)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
      state->data = data_new;
      state->data_cap = cap;
    }
  memcpy (state->data + state->data_len, data, len);
  state->data_len += len;
  return 0;
}

static int
stream_close_cb (nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user_data)
{
  struct call_state *state = user_data;

  if (stream_id == state->stream_id)
    {
      state->stream_closed = true;
      state->close_code = error_code;
    }
  return 0;
}

static ssize_t
request_read_cb (nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length, uint32_t *data_flags,
                 nghttp2_data_source *source, void *user_data)
{
  struct call_state *state = user_data;
  size_t n = state->request_len - state->request_sent;

  if (n > length)
    n = length;
  memcpy (buf, state->request + state->request_sent, n);
  state->request_sent += n;
  if (state->request_sent == state->request_len)
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t) n;
}

static int64_t
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
remaining_ms (int64_t deadline)
{
  int64_t left = deadline - now_ms ();

  return left < 0 ? 0 : (int) left;
}

/* Connects to path without blocking past the deadline. */
static int
connect_unix (const char *path, int64_t deadline, int *out, ar_error_t *err)
{
  cleanup_close int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };

  if (fd < 0)
    return ar_make_error (err, errno, "cannot create a UNIX socket");
  snprintf (addr.sun_path, sizeof addr.sun_path, "%s", path);
  /* On a UNIX socket, connect either completes at once or fails with
   * EAGAIN when the listener's backlog is full: then try again until the
   * deadline. */
  while (connect (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    {
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN)
        return ar_make_error (err, errno, "cannot connect to `%s`", path);
      if (remaining_ms (deadline) == 0)
        return ar_make_error (err, 0, "cannot connect to `%s`: its backlog stayed full", path);
      poll (NULL, 0, remaining_ms (deadline) < 20 ? remaining_ms (deadline) : 20);
    }
  *out = fd;
  fd = -1;
  return 0;
}

/* Whether the call has what it needs: a closed stream, an invalid first
 * frame, or for a streaming call, a whole first message. */
static bool
call_finished (const struct call_state *state, bool streaming)
{
  const uint8_t *msg;
  size_t msg_len, consumed;
  int ret;

  if (state->stream_closed)
    return true;
  ret = ar_grpc_frame_decode (state->data, state->data_len, AR_GRPC_MAX_MESSAGE, &msg, &msg_len, &consumed, NULL);
  return ret < 0 || (streaming && state->http_status == 200 && ret == 1);
}

/* Drives the session until the call is finished, the deadline passes or
 * the connection fails. */
static int
run_session (nghttp2_session *session, struct call_state *state, bool streaming, int64_t deadline, int timeout_ms,
             ar_error_t *err)
{
  uint8_t buf[16384];

  while (!call_finished (state, streaming))
    {
      struct pollfd pfd = { .fd = state->fd, .events = POLLIN };
      ssize_t n;
      int rv;

      rv = nghttp2_session_send (session);
      if (rv < 0)
        {
          if (state->io_failed)
            return ar_make_error (err, state->io_errno, "cannot send the request");
          return ar_make_error (err, 0, "HTTP/2 error: %s", nghttp2_strerror (rv));
        }
      if (nghttp2_session_want_write (session))
        pfd.events |= POLLOUT;
      if (!nghttp2_session_want_read (session) && !nghttp2_session_want_write (session))
        return ar_make_error (err, 0, "the server ended the HTTP/2 session before the call was done");

      rv = poll (&pfd, 1, remaining_ms (deadline));
      if (rv < 0 && errno == EINTR)
        continue;
      if (rv < 0)
        return ar_make_error (err, errno, "cannot wait for the server");
      if (rv == 0)
        return ar_make_error (err, 0, "timed out after %d ms without a response", timeout_ms);
      if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
        continue;

      n = recv (state->fd, buf, sizeof buf, 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        continue;
      if (n < 0)
        return ar_make_error (err, errno, "cannot read from the server");
      if (n == 0)
        return ar_make_error (err, 0, "the server closed the connection before the call was done");
      rv = (int) nghttp2_session_mem_recv (session, buf, (size_t) n);
      if (rv < 0)
        {
          if (state->too_large)
            return ar_make_error (err, 0, "the response is larger than %d bytes", AR_GRPC_MAX_MESSAGE);
          return ar_make_error (err, 0, "HTTP/2 error: %s", nghttp2_strerror (rv));
        }
    }
  return 0;
}

/* Turns the end of the call into a result: a status from the trailers,
 * then the first message. */
static int
call_result (struct call_state *state, bool streaming, uint8_t **response, size_t *response_len, ar_error_t *err)
{
  const uint8_t *msg;
  size_t msg_len, consumed;
  int ret;

  if (state->grpc_status > 0)
    return ar_make_error (err, 0, "the server returned %s (%d)%s%s", ar_grpc_status_name (state->grpc_status),
                          state->grpc_status, state->grpc_message != NULL ? ": " : "",
                          state->grpc_message != NULL ? state->grpc_message : "");
  if (state->http_status != 200)
    return ar_make_error (err, 0, "the server returned HTTP status %d, not a gRPC response",
                          state->http_status);
  ret = ar_grpc_frame_decode (state->data, state->data_len, AR_GRPC_MAX_MESSAGE, &msg, &msg_len, &consumed, err);
  if (ret < 0)
    return ret;
  if (state->close_code != NGHTTP2_NO_ERROR && (ret == 0 || !streaming))
    return ar_make_error (err, 0, "the server reset the stream: %s", nghttp2_http2_strerror (state->close_code));
  if (state->grpc_status < 0 && !streaming)
    return ar_make_error (err, 0, "the response ended without a grpc-status trailer");
  if (ret == 0)
    return ar_make_error (err, 0, "the response ended without a message");
  *response = ar_xmalloc0 (msg_len + 1);
  memcpy (*response, msg, msg_len);
  *response_len = msg_len;
  return 0;
}

static nghttp2_nv
make_nv (const char *name, const char *value)
{
  nghttp2_nv nv = { .name = (uint8_t *) name, .namelen = strlen (name), .value = (uint8_t *) value,
                    .valuelen = strlen (value), .flags = NGHTTP2_NV_FLAG_NONE };
  return nv;
}

int
ar_grpc_call (const struct ar_grpc_call *call, const uint8_t *request, size_t request_len, uint8_t **response,
              size_t *response_len, ar_error_t *err)
{
  int64_t deadline = now_ms () + call->timeout_ms;
  struct call_state state = { .fd = -1, .grpc_status = -1, .stream_id = -1 };
  cleanup_free uint8_t *framed = NULL;
  cleanup_free char *timeout = ar_xasprintf ("%dm", call->timeout_ms);
  nghttp2_session_callbacks *callbacks = NULL;
  nghttp2_session *session = NULL;
  nghttp2_data_provider provider = { .read_callback = request_read_cb };
  nghttp2_nv headers[24];
  size_t n_headers = 0, framed_len;
  int ret;

  ar_grpc_frame_encode (request, request_len, &framed, &framed_len);
  state.request = framed;
  state.request_len = framed_len;

  headers[n_headers++] = make_nv (":method", "POST");
  headers[n_headers++] = make_nv (":scheme", "http");
  headers[n_headers++] = make_nv (":path", call->method);
  headers[n_headers++] = make_nv (":authority", "localhost");
  headers[n_headers++] = make_nv ("content-type", "application/grpc+proto");
  headers[n_headers++] = make_nv ("te", "trailers");
  headers[n_headers++] = make_nv ("grpc-timeout", timeout);
  for (size_t i = 0; call->metadata != NULL && call->metadata[i] != NULL && call->metadata[i + 1] != NULL; i += 2)
    {
      if (n_headers == sizeof headers / sizeof headers[0])
        return ar_make_error (err, E2BIG, "too much metadata for %s", call->method);
      headers[n_headers++] = make_nv (call->metadata[i], call->metadata[i + 1]);
    }

  ret = connect_unix (call->socket_path, deadline, &state.fd, err);
  if (ret < 0)
    return ar_error_wrap (err, "gRPC call %s", call->method);

  if (nghttp2_session_callbacks_new (&callbacks) != 0)
    {
      close (state.fd);
      return ar_make_error (err, ENOMEM, "cannot set up an HTTP/2 session");
    }
  nghttp2_session_callbacks_set_send_callback (callbacks, send_cb);
  nghttp2_session_callbacks_set_on_header_callback (callbacks, header_cb);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback (callbacks, data_chunk_cb);
  nghttp2_session_callbacks_set_on_stream_close_callback (callbacks, stream_close_cb);
  ret = nghttp2_session_client_new (&session, callbacks, &state);
  nghttp2_session_callbacks_del (callbacks);
  if (ret != 0)
    {
      close (state.fd);
      return ar_make_error (err, ENOMEM, "cannot set up an HTTP/2 session: %s", nghttp2_strerror (ret));
    }

  /* Prior knowledge: the client preface and SETTINGS, then the request. */
  ret = nghttp2_submit_settings (session, NGHTTP2_FLAG_NONE, NULL, 0);
  if (ret == 0)
    {
      state.stream_id = nghttp2_submit_request (session, NULL, headers, n_headers, &provider, &state);
      if (state.stream_id < 0)
        ret = state.stream_id;
    }
  if (ret != 0)
    ret = ar_make_error (err, 0, "cannot submit the request: %s", nghttp2_strerror (ret));
  if (ret == 0)
    ret = run_session (session, &state, call->streaming, deadline, call->timeout_ms, err);
  if (ret == 0)
    ret = call_result (&state, call->streaming, response, response_len, err);

  /* An agent keeps a stream open to send updates, so cancel it. */
  if (!state.stream_closed && state.stream_id > 0)
    {
      nghttp2_submit_rst_stream (session, NGHTTP2_FLAG_NONE, state.stream_id, NGHTTP2_CANCEL);
      nghttp2_submit_goaway (session, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, NULL, 0);
      nghttp2_session_send (session);
    }
  nghttp2_session_del (session);
  close (state.fd);
  free (state.data);
  free (state.grpc_message);
  if (ret < 0)
    return ar_error_wrap (err, "gRPC call %s on `%s`", call->method, call->socket_path);
  return 0;
}
