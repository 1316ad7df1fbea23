/* A gRPC server on nghttp2 for a caller's event loop: see grpc_server.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "oci/util.h"
#include "spiffe/grpc.h"
#include "spiffe/grpc_server.h"

/* The maximum number of request headers kept per call, and of calls open
 * at once on one connection. */
#define MAX_HEADERS 32
#define MAX_STREAMS 32

struct ar_grpc_server_call
{
  struct ar_grpc_server_conn *conn;
  struct ar_grpc_server_call *next;
  int32_t stream_id;
  char *path;
  char *headers[MAX_HEADERS * 2]; /* name, value, ... */
  size_t n_headers;
  uint8_t *request;
  size_t request_len;
  bool request_too_large;

  uint8_t *out; /* framed response messages not yet taken by nghttp2 */
  size_t out_len;
  size_t out_off;
  bool dispatched; /* on_call has run */
  bool headers_sent;
  bool finished;   /* the trailers are due once out is sent */
  int status;
  char *message;
};

struct ar_grpc_server_conn
{
  int fd;
  nghttp2_session *session;
  const struct ar_grpc_server_handlers *handlers;
  void *data;
  struct ar_grpc_server_call *calls;
  bool in_io; /* inside nghttp2's callbacks: sending waits for the end of ar_grpc_server_conn_io */
  uint8_t *pending; /* bytes that nghttp2 produced and the socket did not take yet */
  size_t pending_len;
  size_t pending_off;
};

char *
ar_grpc_message_encode (const char *message)
{
  size_t len = strlen (message);
  char *out = ar_xmalloc0 (len * 3 + 1);
  size_t n = 0;

  for (size_t i = 0; i < len; i++)
    {
      unsigned char c = (unsigned char) message[i];
      if (c < 0x20 || c > 0x7e || c == '%')
        n += (size_t) sprintf (out + n, "%%%02X", c);
      else
        out[n++] = (char) c;
    }
  out[n] = '\0';
  return out;
}

static char *
copy_string (const char *data, size_t len)
{
  char *out = ar_xmalloc0 (len + 1);

  memcpy (out, data, len);
  return out;
}

static void
call_free (struct ar_grpc_server_call *call)
{
  free (call->path);
  for (size_t i = 0; i < call->n_headers * 2; i++)
    free (call->headers[i]);
  free (call->request);
  free (call->out);
  free (call->message);
  free (call);
}

/* Unlinks call from its connection, calls on_cancel when the caller still
 * holds the call (dispatched, not finished), and frees it. */
static void
call_end (struct ar_grpc_server_call *call)
{
  struct ar_grpc_server_conn *conn = call->conn;

  for (struct ar_grpc_server_call **p = &conn->calls; *p != NULL; p = &(*p)->next)
    if (*p == call)
      {
        *p = call->next;
        break;
      }
  if (call->dispatched && !call->finished && conn->handlers->on_cancel != NULL)
    conn->handlers->on_cancel (call, conn->data);
  call_free (call);
}

const char *
ar_grpc_server_call_metadata (const struct ar_grpc_server_call *call, const char *name)
{
  for (size_t i = 0; i < call->n_headers; i++)
    if (strcmp (call->headers[2 * i], name) == 0)
      return call->headers[2 * i + 1];
  return NULL;
}

struct ar_grpc_server_conn *
ar_grpc_server_call_conn (const struct ar_grpc_server_call *call)
{
  return call->conn;
}

int
ar_grpc_server_conn_fd (const struct ar_grpc_server_conn *conn)
{
  return conn->fd;
}

bool
ar_grpc_server_conn_wants_write (const struct ar_grpc_server_conn *conn)
{
  return conn->pending_off < conn->pending_len;
}

/* Writes what nghttp2 has to send until the socket would block. */
static int
conn_flush (struct ar_grpc_server_conn *conn, ar_error_t *err)
{
  for (;;)
    {
      if (conn->pending_off == conn->pending_len)
        {
          const uint8_t *data;
          ssize_t n = nghttp2_session_mem_send (conn->session, &data);

          if (n < 0)
            return ar_make_error (err, EPROTO, "cannot send HTTP/2 frames: %s", nghttp2_strerror ((int) n));
          if (n == 0)
            return 0;
          free (conn->pending);
          conn->pending = ar_xmalloc0 ((size_t) n);
          memcpy (conn->pending, data, (size_t) n);
          conn->pending_len = (size_t) n;
          conn->pending_off = 0;
        }

      while (conn->pending_off < conn->pending_len)
        {
          ssize_t n = send (conn->fd, conn->pending + conn->pending_off, conn->pending_len - conn->pending_off,
                            MSG_NOSIGNAL | MSG_DONTWAIT);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
          if (n < 0)
            return ar_make_error (err, errno, "cannot write to a gRPC client");
          conn->pending_off += (size_t) n;
        }
    }
}

static ssize_t
read_response (nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length, uint32_t *data_flags,
               nghttp2_data_source *source, void *user_data)
{
  struct ar_grpc_server_call *call = source->ptr;
  size_t left = call->out_len - call->out_off;
  size_t n = left < length ? left : length;
  cleanup_free char *status = NULL;
  cleanup_free char *message = NULL;

  (void) user_data;
  if (n > 0)
    {
      memcpy (buf, call->out + call->out_off, n);
      call->out_off += n;
      if (call->out_off == call->out_len)
        {
          call->out_off = call->out_len = 0;
        }
      return (ssize_t) n;
    }
  if (!call->finished)
    return NGHTTP2_ERR_DEFERRED;

  /* Everything is sent: the trailers end the stream. */
  status = ar_xasprintf ("%d", call->status);
  message = ar_grpc_message_encode (call->message != NULL ? call->message : "");
  nghttp2_nv trailers[] = {
    { (uint8_t *) "grpc-status", (uint8_t *) status, 11, strlen (status), NGHTTP2_NV_FLAG_NONE },
    { (uint8_t *) "grpc-message", (uint8_t *) message, 12, strlen (message), NGHTTP2_NV_FLAG_NONE },
  };
  *data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
  if (nghttp2_submit_trailer (session, stream_id, trailers, message[0] != '\0' ? 2 : 1) != 0)
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  return 0;
}

static int
submit_headers (struct ar_grpc_server_call *call, bool trailers_only, ar_error_t *err)
{
  cleanup_free char *status = ar_xasprintf ("%d", call->status);
  cleanup_free char *message = ar_grpc_message_encode (call->message != NULL ? call->message : "");
  nghttp2_nv headers[] = {
    { (uint8_t *) ":status", (uint8_t *) "200", 7, 3, NGHTTP2_NV_FLAG_NONE },
    { (uint8_t *) "content-type", (uint8_t *) "application/grpc", 12, 16, NGHTTP2_NV_FLAG_NONE },
    { (uint8_t *) "grpc-status", (uint8_t *) status, 11, strlen (status), NGHTTP2_NV_FLAG_NONE },
    { (uint8_t *) "grpc-message", (uint8_t *) message, 12, strlen (message), NGHTTP2_NV_FLAG_NONE },
  };
  nghttp2_data_provider provider = { .source.ptr = call, .read_callback = read_response };
  size_t n_headers = 2; /* :status and content-type */
  int rv;

  if (trailers_only)
    n_headers = message[0] != '\0' ? 4 : 3;
  rv = nghttp2_submit_response (call->conn->session, call->stream_id, headers, n_headers,
                                trailers_only ? NULL : &provider);
  if (rv != 0)
    return ar_make_error (err, EPROTO, "cannot answer a gRPC call: %s", nghttp2_strerror (rv));
  call->headers_sent = true;
  return 0;
}

int
ar_grpc_server_send (struct ar_grpc_server_call *call, const uint8_t *msg, size_t len, ar_error_t *err)
{
  struct ar_grpc_server_conn *conn = call->conn;
  cleanup_free uint8_t *frame = NULL;
  size_t frame_len;

  ar_grpc_frame_encode (msg, len, &frame, &frame_len);
  call->out = realloc (call->out, call->out_len + frame_len);
  if (call->out == NULL)
    return ar_make_error (err, ENOMEM, "cannot queue a gRPC message");
  memcpy (call->out + call->out_len, frame, frame_len);
  call->out_len += frame_len;

  if (!call->headers_sent)
    {
      if (submit_headers (call, false, err) < 0)
        return -1;
    }
  else
    nghttp2_session_resume_data (conn->session, call->stream_id);
  return conn->in_io ? 0 : conn_flush (conn, err);
}

int
ar_grpc_server_finish (struct ar_grpc_server_call *call, int status, const char *message, ar_error_t *err)
{
  struct ar_grpc_server_conn *conn = call->conn;

  call->status = status;
  call->message = message != NULL ? ar_xstrdup (message) : NULL;
  call->finished = true;
  if (!call->headers_sent)
    {
      /* No message was sent: one HEADERS frame carries the status and
       * ends the stream (a Trailers-Only response). */
      if (submit_headers (call, true, err) < 0)
        return -1;
    }
  else
    nghttp2_session_resume_data (conn->session, call->stream_id);
  return conn->in_io ? 0 : conn_flush (conn, err);
}

static struct ar_grpc_server_call *
find_call (struct ar_grpc_server_conn *conn, int32_t stream_id)
{
  for (struct ar_grpc_server_call *call = conn->calls; call != NULL; call = call->next)
    if (call->stream_id == stream_id)
      return call;
  return NULL;
}

static int
on_begin_headers (nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
  struct ar_grpc_server_conn *conn = user_data;
  struct ar_grpc_server_call *call;

  (void) session;
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;
  call = ar_xmalloc0 (sizeof (*call));
  call->conn = conn;
  call->stream_id = frame->hd.stream_id;
  call->next = conn->calls;
  conn->calls = call;
  return 0;
}

static int
on_header (nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
           const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
  struct ar_grpc_server_call *call = find_call (user_data, frame->hd.stream_id);

  (void) session;
  (void) flags;
  if (call == NULL || frame->hd.type != NGHTTP2_HEADERS)
    return 0;
  if (namelen == 5 && memcmp (name, ":path", 5) == 0)
    {
      free (call->path);
      call->path = copy_string ((const char *) value, valuelen);
    }
  else if (name[0] != ':' && call->n_headers < MAX_HEADERS)
    {
      call->headers[2 * call->n_headers] = copy_string ((const char *) name, namelen);
      call->headers[2 * call->n_headers + 1] = copy_string ((const char *) value, valuelen);
      call->n_headers++;
    }
  return 0;
}

static int
on_data_chunk (nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t len,
               void *user_data)
{
  struct ar_grpc_server_call *call = find_call (user_data, stream_id);

  (void) session;
  (void) flags;
  if (call == NULL || call->request_too_large)
    return 0;
  if (call->request_len + len > AR_GRPC_SERVER_MAX_REQUEST + AR_GRPC_FRAME_HEADER)
    {
      call->request_too_large = true;
      return 0;
    }
  call->request = realloc (call->request, call->request_len + len);
  if (call->request == NULL)
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  memcpy (call->request + call->request_len, data, len);
  call->request_len += len;
  return 0;
}

/* The client has sent its whole request: decode the message and hand the
 * call to the caller. */
static void
dispatch (struct ar_grpc_server_call *call)
{
  struct ar_grpc_server_conn *conn = call->conn;
  cleanup_error ar_error_t decode_err = NULL;
  const char *content_type = ar_grpc_server_call_metadata (call, "content-type");
  const uint8_t *msg = NULL;
  size_t msg_len = 0, consumed = 0;
  int ret = 0;

  if (call->dispatched)
    return;
  call->dispatched = true;
  if (call->path == NULL || content_type == NULL || !ar_str_has_prefix (content_type, "application/grpc"))
    {
      ar_grpc_server_finish (call, AR_GRPC_INVALID_ARGUMENT, "expected a gRPC request", NULL);
      return;
    }
  if (call->request_too_large)
    {
      ar_grpc_server_finish (call, AR_GRPC_RESOURCE_EXHAUSTED, "the request message is too large", NULL);
      return;
    }
  if (call->request_len > 0)
    ret = ar_grpc_frame_decode (call->request, call->request_len, AR_GRPC_SERVER_MAX_REQUEST, &msg, &msg_len,
                                &consumed, &decode_err);
  if (ret < 0 || (call->request_len > 0 && ret == 0) || consumed != call->request_len)
    {
      ar_grpc_server_finish (call, AR_GRPC_INVALID_ARGUMENT, "expected one uncompressed request message", NULL);
      return;
    }
  conn->handlers->on_call (call, call->path, msg != NULL ? msg : (const uint8_t *) "", msg_len, conn->data);
}

static int
on_frame_recv (nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
  struct ar_grpc_server_call *call;

  (void) session;
  if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
      || (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0)
    return 0;
  call = find_call (user_data, frame->hd.stream_id);
  if (call != NULL)
    dispatch (call);
  return 0;
}

static int
on_stream_close (nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user_data)
{
  struct ar_grpc_server_call *call = find_call (user_data, stream_id);

  (void) session;
  (void) error_code;
  if (call != NULL)
    call_end (call);
  return 0;
}

int
ar_grpc_server_conn_new (int fd, const struct ar_grpc_server_handlers *handlers, void *data,
                         struct ar_grpc_server_conn **out, ar_error_t *err)
{
  nghttp2_settings_entry settings[] = { { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS } };
  nghttp2_session_callbacks *callbacks;
  struct ar_grpc_server_conn *conn;
  int rv;

  rv = nghttp2_session_callbacks_new (&callbacks);
  if (rv != 0)
    return ar_make_error (err, ENOMEM, "cannot set up an HTTP/2 session: %s", nghttp2_strerror (rv));
  nghttp2_session_callbacks_set_on_begin_headers_callback (callbacks, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback (callbacks, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback (callbacks, on_data_chunk);
  nghttp2_session_callbacks_set_on_frame_recv_callback (callbacks, on_frame_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback (callbacks, on_stream_close);

  conn = ar_xmalloc0 (sizeof (*conn));
  conn->fd = fd;
  conn->handlers = handlers;
  conn->data = data;
  rv = nghttp2_session_server_new (&conn->session, callbacks, conn);
  nghttp2_session_callbacks_del (callbacks);
  if (rv == 0)
    rv = nghttp2_submit_settings (conn->session, NGHTTP2_FLAG_NONE, settings, 1);
  if (rv != 0)
    {
      if (conn->session != NULL)
        nghttp2_session_del (conn->session);
      free (conn);
      return ar_make_error (err, EPROTO, "cannot set up an HTTP/2 server session: %s", nghttp2_strerror (rv));
    }
  if (conn_flush (conn, err) < 0)
    {
      nghttp2_session_del (conn->session);
      free (conn);
      return -1;
    }
  *out = conn;
  return 0;
}

int
ar_grpc_server_conn_io (struct ar_grpc_server_conn *conn, ar_error_t *err)
{
  uint8_t buf[16384];
  bool peer_closed = false;

  for (;;)
    {
      ssize_t n = recv (conn->fd, buf, sizeof buf, MSG_DONTWAIT);
      ssize_t used;

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        break;
      if (n < 0)
        return ar_make_error (err, errno, "cannot read from a gRPC client");
      if (n == 0)
        {
          peer_closed = true;
          break;
        }
      conn->in_io = true;
      used = nghttp2_session_mem_recv (conn->session, buf, (size_t) n);
      conn->in_io = false;
      if (used < 0)
        return ar_make_error (err, EPROTO, "a gRPC client sent invalid HTTP/2: %s", nghttp2_strerror ((int) used));
    }

  if (conn_flush (conn, err) < 0)
    return -1;
  if (peer_closed)
    return 0;
  if (!nghttp2_session_want_read (conn->session) && !nghttp2_session_want_write (conn->session)
      && !ar_grpc_server_conn_wants_write (conn))
    return 0;
  return 1;
}

void
ar_grpc_server_conn_free (struct ar_grpc_server_conn *conn)
{
  if (conn == NULL)
    return;
  while (conn->calls != NULL)
    call_end (conn->calls);
  nghttp2_session_del (conn->session);
  close (conn->fd);
  free (conn->pending);
  free (conn);
}
