/* The keeper module that turns the egress table's log entries into audit
 * events: it reads NFLOG group AR_EGRESS_LOG_GROUP in the container's
 * network namespace (libnetfilter_log) and writes one `connection` event
 * per blocked attempt (per attempt let through, in audit mode).  The
 * table's own rate limit (10 a second, bursts of 20) bounds the events. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libnetfilter_log/libnetfilter_log.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "keeper.h"
#include "keeper_modules.h"
#include "net/egress.h"
#include "oci/log.h"
#include "oci/util.h"

/* The bytes of each logged packet that the kernel copies: an IPv6 header
 * and the ports of the transport header after it. */
#define COPY_BYTES 64

struct egress_events
{
  struct nflog_handle *handle;
  struct nflog_g_handle *group;
  int fd;
  struct ar_keeper *keeper;
};

static bool
egress_events_wanted (const struct ar_keeper_context *context)
{
  return context->egress != NULL && context->egress->mode != AR_EGRESS_MODE_HOST;
}

static const char *
protocol_name (uint8_t protocol)
{
  switch (protocol)
    {
    case IPPROTO_TCP:
      return "tcp";
    case IPPROTO_UDP:
      return "udp";
    case IPPROTO_ICMP:
      return "icmp";
    case IPPROTO_ICMPV6:
      return "icmpv6";
    case IPPROTO_SCTP:
      return "sctp";
    default:
      return NULL;
    }
}

/* Builds the event of one logged packet, or NULL when its headers are cut
 * short or unknown. */
static json_t *
packet_event (const struct ar_egress_policy *policy, const unsigned char *packet, size_t len, bool outgoing)
{
  unsigned char peer[16] = { 0 };
  char text[INET6_ADDRSTRLEN];
  const char *name;
  size_t header_len;
  uint8_t protocol;
  int family;
  json_t *event;

  if (len < 1)
    return NULL;
  if ((packet[0] >> 4) == 4 && len >= 20)
    {
      family = AF_INET;
      header_len = (size_t) (packet[0] & 0x0f) * 4;
      protocol = packet[9];
      memcpy (peer, packet + (outgoing ? 16 : 12), 4);
    }
  else if ((packet[0] >> 4) == 6 && len >= 40)
    {
      /* Extension headers are not followed: their packets are reported
       * without a port. */
      family = AF_INET6;
      header_len = 40;
      protocol = packet[6];
      memcpy (peer, packet + (outgoing ? 24 : 8), 16);
    }
  else
    return NULL;
  /* The kernel's own multicast traffic (IPv6 neighbour discovery and
   * listener reports) is dropped too, but is no attempt of the
   * container's to report. */
  if (family == AF_INET6 && outgoing && peer[0] == 0xff)
    return NULL;

  inet_ntop (family, peer, text, sizeof (text));
  name = protocol_name (protocol);
  /* Outgoing packets are reported by their destination, incoming ones by
   * their source; the port is the destination port of both, the one that
   * a rule would list. */
  event = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "type", "connection", "direction", outgoing ? "egress" : "ingress",
                     "family", family == AF_INET ? "ipv4" : "ipv6", outgoing ? "destination" : "source", text,
                     "rule", outgoing ? ar_egress_blocked_reason (policy, family, peer) : "(default)");
  if (event == NULL)
    return NULL;
  if (name != NULL)
    json_object_set_new (event, "protocol", json_string (name));
  else
    json_object_set_new (event, "protocol", json_integer (protocol));

  if ((protocol == IPPROTO_TCP || protocol == IPPROTO_UDP || protocol == IPPROTO_SCTP) && len >= header_len + 4)
    {
      const unsigned char *ports = packet + header_len;

      json_object_set_new (event, "port", json_integer (ports[2] << 8 | ports[3]));
    }
  return event;
}

static int
on_log_entry (struct nflog_g_handle *group, struct nfgenmsg *message, struct nflog_data *data, void *user_data)
{
  struct egress_events *events = user_data;
  const struct ar_keeper_context *context = ar_keeper_context (events->keeper);
  const char *prefix = nflog_get_prefix (data);
  char *payload = NULL;
  int len = nflog_get_payload (data, &payload);
  bool outgoing = nflog_get_outdev (data) != 0;
  json_t *event;

  if (len <= 0 || prefix == NULL || strncmp (prefix, "agentrun-", 9) != 0)
    return 0;
  event = packet_event (context->egress, (const unsigned char *) payload, (size_t) len, outgoing);
  if (event == NULL)
    return 0;
  json_object_set_new (event, "outcome", json_string (strncmp (prefix, "agentrun-deny", 13) == 0 ? "blocked"
                                                                                                : "allowed"));
  ar_keeper_event (events->keeper, event);
  return 0;
}

static int
on_readable (struct ar_keeper *keeper, int fd, uint32_t ready, void *data, ar_error_t *err)
{
  struct egress_events *events = data;
  char buf[8192];

  for (;;)
    {
      ssize_t n = recv (fd, buf, sizeof (buf), MSG_DONTWAIT);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == ENOBUFS)
        {
          ar_warn ("container %s: blocked connections came faster than they could be reported; some have no event",
                   ar_keeper_context (keeper)->id);
          continue;
        }
      if (n <= 0)
        return 0;
      nflog_handle_packet (events->handle, buf, (int) n);
    }
}

/* Opens the NFLOG socket inside the container's network namespace, then
 * returns to the keeper's. */
static int
open_in_netns (struct egress_events *events, pid_t pid, ar_error_t *err)
{
  cleanup_free char *path = ar_xasprintf ("/proc/%d/ns/net", (int) pid);
  cleanup_close int own = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  cleanup_close int target = open (path, O_RDONLY | O_CLOEXEC);
  int saved_errno = 0;

  if (own < 0 || target < 0)
    return ar_make_error (err, errno, "cannot open the network namespaces of the keeper and of `%s`", path);
  if (setns (target, CLONE_NEWNET) < 0)
    return ar_make_error (err, errno, "cannot join the network namespace `%s`", path);

  events->handle = nflog_open ();
  if (events->handle == NULL)
    saved_errno = errno ? errno : EIO;
  else
    {
      events->group = nflog_bind_group (events->handle, AR_EGRESS_LOG_GROUP);
      if (events->group == NULL || nflog_set_mode (events->group, NFULNL_COPY_PACKET, COPY_BYTES) < 0)
        saved_errno = errno ? errno : EIO;
    }

  if (setns (own, CLONE_NEWNET) < 0)
    abort (); /* the keeper must not go on in the container's namespace */
  if (saved_errno != 0)
    return ar_make_error (err, saved_errno, "cannot read NFLOG group %d in the network namespace of `%s`",
                          AR_EGRESS_LOG_GROUP, path);
  return 0;
}

static void
close_events (struct egress_events *events)
{
  if (events->group != NULL)
    nflog_unbind_group (events->group);
  if (events->handle != NULL)
    nflog_close (events->handle);
  free (events);
}

static int
egress_events_start (struct ar_keeper *keeper, void **data, ar_error_t *err)
{
  const struct ar_keeper_context *context = ar_keeper_context (keeper);
  struct egress_events *events = ar_xmalloc0 (sizeof (*events));
  cleanup_error ar_error_t open_err = NULL;

  events->keeper = keeper;
  /* Containers that share a namespace (a pod) share its table and its
   * group, which only one reader may bind: the first one reports for
   * all, and the others run without. */
  if (open_in_netns (events, context->pid, &open_err) < 0)
    {
      cleanup_free char *msg = ar_error_format (open_err);
      ar_warn ("container %s: blocked connections are dropped without events: %s", context->id, msg);
      close_events (events);
      *data = NULL;
      return 0;
    }

  nflog_callback_register (events->group, on_log_entry, events);
  events->fd = nflog_fd (events->handle);
  if (ar_keeper_watch (keeper, events->fd, EPOLLIN, on_readable, events, err) < 0)
    {
      close_events (events);
      return ar_error_wrap (err, "cannot watch NFLOG group %d", AR_EGRESS_LOG_GROUP);
    }
  *data = events;
  return 0;
}

static void
egress_events_stop (struct ar_keeper *keeper, void *data)
{
  struct egress_events *events = data;

  if (events == NULL)
    return;
  ar_keeper_unwatch (keeper, events->fd);
  close_events (events);
}

const struct ar_keeper_module ar_keeper_egress_events = {
  .name = "egress events",
  .wanted = egress_events_wanted,
  .start = egress_events_start,
  .stop = egress_events_stop,
};
