/* The keeper module that serves DNS to a container whose network policy
 * has domain rules (see net/dns.h), and the resolv.conf that points the
 * container at it. */
#define _GNU_SOURCE
#include "net/dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "keeper.h"
#include "keeper_modules.h"
#include "namespaces.h"
#include "net/dns_message.h"
#include "oci/log.h"
#include "oci/util.h"

/* Queries in flight to the upstream, and TCP clients served at once. */
#define DNS_MAX_PENDING 256
#define DNS_MAX_CONNECTIONS 16
/* An upstream that has not answered in this time gets the client a
 * SERVFAIL. */
#define DNS_UPSTREAM_TIMEOUT_MS 5000
/* Events: at most DNS_EVENT_RATE a second, in bursts of DNS_EVENT_BURST. */
#define DNS_EVENT_RATE 10
#define DNS_EVENT_BURST 20
/* The largest DNS message over TCP. */
#define DNS_MAX_MESSAGE 65535
/* Set elements whose timeout the responder remembers, so that answers
 * repeated within half the timeout cost no nftables transaction. */
#define DNS_MAX_SET_ENTRIES 1024

bool
ar_dns_wanted (const struct ar_egress_policy *egress)
{
  if (egress == NULL || egress->mode != AR_EGRESS_MODE_ALLOWLIST)
    return false;
  for (size_t i = 0; i < egress->n_egress; i++)
    if (egress->egress[i].domain != NULL)
      return true;
  return false;
}

void
ar_dns_set_name (int family, size_t index, char *buf, size_t size)
{
  snprintf (buf, size, "d%c_%zu", family == AF_INET ? '4' : '6', index);
}

int
ar_dns_add_resolv_conf (struct ar_config *config, const char *state_dir, ar_error_t *err)
{
  static const char text[] = "# Written by agentrun: the container's DNS responder, which answers only\n"
                             "# the names that its network policy allows.\n"
                             "nameserver " AR_DNS_LISTEN_ADDRESS "\n"
                             "options edns0\n";
  cleanup_free char *path = ar_xasprintf ("%s/%s", state_dir, AR_DNS_RESOLV_CONF);
  struct ar_mount *mounts;
  struct ar_mount *mount;
  cleanup_free char *where = NULL;
  static const char *const options[] = { "bind", "ro", "nosuid", "nodev", "noexec" };

  if (ar_write_file_atomic (path, text, strlen (text), 0644, err) < 0)
    return -1;

  mounts = realloc (config->mounts, (config->n_mounts + 1) * sizeof (*mounts));
  if (mounts == NULL)
    return ar_make_error (err, ENOMEM, "cannot add the mount of `%s`", path);
  config->mounts = mounts;
  mount = &mounts[config->n_mounts];
  memset (mount, 0, sizeof (*mount));
  mount->destination = ar_xstrdup ("/etc/resolv.conf");
  mount->type = ar_xstrdup ("bind");
  mount->source = ar_steal_ptr (path);
  mount->options = ar_xmalloc0 ((sizeof (options) / sizeof (options[0]) + 1) * sizeof (char *));
  for (size_t i = 0; i < sizeof (options) / sizeof (options[0]); i++)
    mount->options[mount->n_options++] = ar_xstrdup (options[i]);
  config->n_mounts++;

  where = ar_xasprintf ("mounts[%zu]", config->n_mounts - 1);
  return ar_mount_parse_options (mount, where, err);
}

int
ar_dns_parse_upstream (const char *text, struct sockaddr_storage *out, socklen_t *out_len, ar_error_t *err)
{
  cleanup_free char *host = ar_xstrdup (text);
  const char *port_text = NULL;
  struct sockaddr_in v4 = { .sin_family = AF_INET };
  struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 };
  long port = 53;
  char *colon;

  if (host[0] == '[')
    {
      char *close_bracket = strchr (host, ']');

      if (close_bracket == NULL || (close_bracket[1] != '\0' && close_bracket[1] != ':'))
        goto invalid;
      *close_bracket = '\0';
      if (close_bracket[1] == ':')
        port_text = close_bracket + 2;
      memmove (host, host + 1, strlen (host));
    }
  else if ((colon = strchr (host, ':')) != NULL && strchr (colon + 1, ':') == NULL)
    {
      *colon = '\0';
      port_text = colon + 1;
    }
  if (port_text && (ar_parse_long (port_text, &port) < 0 || port < 1 || port > 65535))
    goto invalid;

  memset (out, 0, sizeof (*out));
  if (inet_pton (AF_INET, host, &v4.sin_addr) == 1)
    {
      v4.sin_port = htons ((uint16_t) port);
      memcpy (out, &v4, sizeof (v4));
      *out_len = sizeof (v4);
      return 0;
    }
  if (inet_pton (AF_INET6, host, &v6.sin6_addr) == 1)
    {
      v6.sin6_port = htons ((uint16_t) port);
      memcpy (out, &v6, sizeof (v6));
      *out_len = sizeof (v6);
      return 0;
    }

invalid:
  return ar_make_error (err, EINVAL, "`%s` is not a DNS server address; write ADDRESS, ADDRESS:PORT or [IPV6]:PORT, "
                        "such as 10.0.0.2 or [fd00::2]:53",
                        text);
}

int
ar_dns_upstream_from_resolv_conf (const char *path, struct sockaddr_storage *out, socklen_t *out_len,
                                  ar_error_t *err)
{
  cleanup_file FILE *f = fopen (path, "re");
  cleanup_free char *line = NULL;
  size_t size = 0;

  if (f == NULL)
    return ar_make_error (err, errno, "cannot read `%s` for the upstream DNS server; set the annotation %s", path,
                          AR_DNS_ANNOTATION_UPSTREAM);
  while (getline (&line, &size, f) >= 0)
    {
      char address[INET6_ADDRSTRLEN + 1];
      char *percent;

      if (sscanf (line, " nameserver %46s", address) != 1)
        continue;
      /* A zone index (fe80::1%eth0) names an interface of the runtime's
       * namespace; the address alone is what the socket needs. */
      percent = strchr (address, '%');
      if (percent)
        *percent = '\0';
      if (strchr (address, ':') != NULL)
        {
          cleanup_free char *bracketed = ar_xasprintf ("[%s]", address);
          return ar_dns_parse_upstream (bracketed, out, out_len, err);
        }
      return ar_dns_parse_upstream (address, out, out_len, err);
    }
  return ar_make_error (err, ENOENT, "`%s` names no nameserver; set the annotation %s to the upstream DNS server",
                        path, AR_DNS_ANNOTATION_UPSTREAM);
}

/* --- the responder -------------------------------------------------------- */

enum transport
{
  TRANSPORT_UDP,
  TRANSPORT_TCP,
};

struct connection
{
  int fd; /* -1: free */
  unsigned generation;
  uint8_t *buf; /* a length-prefixed message being read */
  size_t used;
};

struct pending
{
  bool used;
  uint16_t upstream_id;
  uint16_t client_id;
  bool audit_only; /* a refused name let through in audit mode */
  enum transport transport;
  struct sockaddr_storage client;
  socklen_t client_len;
  size_t connection;
  unsigned generation;
  uint64_t deadline_ms;
  struct ar_dns_question question;
  uint8_t *query; /* as the client sent it */
  size_t query_len;
};

/* An address that the responder has put into the set of a rule, and
 * when its timeout ends (CLOCK_MONOTONIC, in ms). */
struct set_entry
{
  bool used;
  size_t rule;
  int family;
  unsigned char addr[16];
  uint64_t expires_ms;
};

struct dns
{
  const struct ar_egress_policy *egress;
  struct ar_keeper *keeper;
  int own_netns_fd;
  int container_netns_fd;
  int upstream_fd;
  struct sockaddr_storage upstream;
  socklen_t upstream_len;
  int udp_fd;
  int tcp_fd;
  int timer_fd;
  struct nft_ctx *nft;
  struct pending pending[DNS_MAX_PENDING];
  struct connection connections[DNS_MAX_CONNECTIONS];
  struct set_entry set_entries[DNS_MAX_SET_ENTRIES];
  double event_tokens;
  uint64_t event_refill_ms;
  unsigned long events_suppressed;
};

static uint64_t
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* Logs err at debug level with a prefix. */
static void
debug_error (const char *what, ar_error_t err)
{
  cleanup_free char *msg = ar_error_format (err);

  ar_debug ("keeper: %s: %s", what, msg);
}

static bool
name_allowed (const struct dns *dns, const char *name)
{
  for (size_t i = 0; i < dns->egress->n_egress; i++)
    if (dns->egress->egress[i].domain != NULL && ar_dns_name_matches (dns->egress->egress[i].domain, name))
      return true;
  return false;
}

/* Takes a token of the event rate limit. */
static bool
event_allowed (struct dns *dns)
{
  uint64_t now = now_ms ();

  dns->event_tokens += (double) (now - dns->event_refill_ms) * DNS_EVENT_RATE / 1000.0;
  if (dns->event_tokens > DNS_EVENT_BURST)
    dns->event_tokens = DNS_EVENT_BURST;
  dns->event_refill_ms = now;
  if (dns->event_tokens < 1)
    {
      dns->events_suppressed++;
      return false;
    }
  dns->event_tokens -= 1;
  if (dns->events_suppressed > 0)
    {
      ar_warn ("keeper of %s: %lu dns events over the rate limit of %d a second were not written",
               ar_keeper_context (dns->keeper)->id, dns->events_suppressed, DNS_EVENT_RATE);
      dns->events_suppressed = 0;
    }
  return true;
}

/* Writes the dns event of a name outside the policy.  Without an answer,
 * the name was refused; in audit mode, answer holds what the upstream
 * returned. */
static void
write_event (struct dns *dns, const struct ar_dns_question *question, const struct ar_dns_answer *answer)
{
  bool audit = ar_keeper_audit_mode (dns->keeper);
  char type_buf[16];
  json_t *event;

  if (!event_allowed (dns))
    return;
  event = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "type", "dns", "outcome", audit ? "allowed" : "blocked", "rule",
                     "(default)", "name", question->name, "qtype",
                     ar_dns_type_name (question->qtype, type_buf, sizeof (type_buf)));
  if (event == NULL)
    return;
  if (answer == NULL)
    json_object_set_new (event, "answer", json_string ("refused"));
  else if (answer->rcode == AR_DNS_RCODE_NXDOMAIN)
    json_object_set_new (event, "answer", json_string ("nxdomain"));
  else
    {
      json_t *list = json_array ();

      for (size_t i = 0; i < answer->n_addresses; i++)
        {
          char text[INET6_ADDRSTRLEN];

          inet_ntop (answer->addresses[i].family, answer->addresses[i].addr, text, sizeof (text));
          json_array_append_new (list, json_string (text));
        }
      json_object_set_new (event, "answer", list);
    }
  ar_keeper_event (dns->keeper, event);
}

/* --- sending replies ------------------------------------------------------ */

static void
connection_close (struct dns *dns, size_t index)
{
  struct connection *conn = &dns->connections[index];

  if (conn->fd < 0)
    return;
  ar_keeper_unwatch (dns->keeper, conn->fd);
  close (conn->fd);
  free (conn->buf);
  conn->buf = NULL;
  conn->used = 0;
  conn->fd = -1;
  conn->generation++;
}

/* Sends a reply to the client of a UDP query or a TCP connection; a client
 * that has gone is no error. */
static void
send_reply (struct dns *dns, enum transport transport, const struct sockaddr_storage *client, socklen_t client_len,
            size_t connection, unsigned generation, const uint8_t *wire, size_t len)
{
  if (transport == TRANSPORT_UDP)
    {
      if (sendto (dns->udp_fd, wire, len, MSG_DONTWAIT, (const struct sockaddr *) client, client_len) < 0)
        ar_debug ("cannot send a DNS reply: %s", strerror (errno));
      return;
    }

  {
    struct connection *conn = &dns->connections[connection];
    uint8_t prefix[2] = { (uint8_t) (len >> 8), (uint8_t) len };
    struct iovec iov[2] = { { prefix, 2 }, { (void *) wire, len } };
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

    if (conn->fd < 0 || conn->generation != generation)
      return;
    /* A client that does not read its replies loses its connection. */
    if (sendmsg (conn->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t) (len + 2))
      connection_close (dns, connection);
  }
}

static void
reply_error (struct dns *dns, const uint8_t *query, size_t len, int rcode, enum transport transport,
             const struct sockaddr_storage *client, socklen_t client_len, size_t connection)
{
  cleanup_error ar_error_t err = NULL;
  cleanup_free uint8_t *wire = NULL;
  size_t wire_len = 0;

  if (ar_dns_reply_error (query, len, rcode, &wire, &wire_len, &err) < 0)
    return;
  send_reply (dns, transport, client, client_len, connection, dns->connections[connection].generation, wire,
              wire_len);
}

static void
pending_free (struct pending *pending)
{
  free (pending->query);
  memset (pending, 0, sizeof (*pending));
}

/* Answers the client of pending with SERVFAIL and forgets it. */
static void
pending_fail (struct dns *dns, struct pending *pending)
{
  cleanup_error ar_error_t err = NULL;
  cleanup_free uint8_t *wire = NULL;
  size_t wire_len = 0;

  if (ar_dns_reply_error (pending->query, pending->query_len, AR_DNS_RCODE_SERVFAIL, &wire, &wire_len, &err) == 0)
    send_reply (dns, pending->transport, &pending->client, pending->client_len, pending->connection,
                pending->generation, wire, wire_len);
  pending_free (pending);
}

/* --- the sets ------------------------------------------------------------- */

/* Runs an nft command in the container's network namespace. */
static int
run_nft (struct dns *dns, const char *command, ar_error_t *err)
{
  const char *message;
  int ret = 0;

  if (setns (dns->container_netns_fd, CLONE_NEWNET) < 0)
    return ar_make_error (err, errno, "cannot join the container's network namespace");
  if (nft_run_cmd_from_buffer (dns->nft, command) != 0)
    {
      message = nft_ctx_get_error_buffer (dns->nft);
      ret = ar_make_error (err, EIO, "cannot add resolved addresses to the table inet %s: %s", AR_EGRESS_TABLE,
                           message && *message ? message : "nft failed without a message");
    }
  if (setns (dns->own_netns_fd, CLONE_NEWNET) < 0)
    {
      /* The keeper must not go on inside the container's namespace. */
      ar_log (AR_LOG_ERROR, "keeper: cannot return to its own network namespace: %s", strerror (errno));
      _exit (1);
    }
  return ret;
}

/* Returns whether address stays in the set of rule for more than half of
 * timeout (in seconds).  When it does not, the caller adds it again, so
 * the entry records timeout from now on. */
static bool
set_entry_fresh (struct dns *dns, size_t rule, const struct ar_dns_address *address, uint32_t timeout)
{
  uint64_t now = now_ms ();
  struct set_entry *slot = NULL;

  for (size_t i = 0; i < DNS_MAX_SET_ENTRIES; i++)
    {
      struct set_entry *entry = &dns->set_entries[i];

      if (entry->used && entry->rule == rule && entry->family == address->family
          && memcmp (entry->addr, address->addr, sizeof (entry->addr)) == 0)
        {
          if (entry->expires_ms > now + (uint64_t) timeout * 500)
            return true;
          slot = entry;
          break;
        }
      /* Otherwise the free entry, or the one whose timeout ends first. */
      if (slot == NULL || (slot->used && (!entry->used || entry->expires_ms < slot->expires_ms)))
        slot = entry;
    }
  slot->used = true;
  slot->rule = rule;
  slot->family = address->family;
  memcpy (slot->addr, address->addr, sizeof (slot->addr));
  slot->expires_ms = now + (uint64_t) timeout * 1000;
  return false;
}

/* Adds the answer's addresses to the sets of every domain rule that
 * matches name, each with the timeout of its TTL.  An address that is
 * already there is deleted and added again in the same transaction, so
 * that its timeout starts anew.  An address with more than half of the
 * new timeout left stays as it is. */
static int
fill_sets (struct dns *dns, const char *name, const struct ar_dns_answer *answer, ar_error_t *err)
{
  cleanup_free char *command = NULL;
  size_t command_len = 0;
  FILE *buf;
  int ret;

  if (answer->n_addresses == 0)
    return 0;
  buf = open_memstream (&command, &command_len);
  if (buf == NULL)
    return ar_make_error (err, errno, "cannot build an nft command");
  for (size_t r = 0; r < dns->egress->n_egress; r++)
    {
      const struct ar_egress_rule *rule = &dns->egress->egress[r];

      if (rule->domain == NULL || !ar_dns_name_matches (rule->domain, name))
        continue;
      for (size_t i = 0; i < answer->n_addresses; i++)
        {
          const struct ar_dns_address *address = &answer->addresses[i];
          uint32_t timeout = address->ttl;
          char set[32], text[INET6_ADDRSTRLEN];

          if (timeout < AR_DNS_TTL_FLOOR)
            timeout = AR_DNS_TTL_FLOOR;
          if (timeout > AR_DNS_TTL_CEILING)
            timeout = AR_DNS_TTL_CEILING;
          if (set_entry_fresh (dns, r, address, timeout))
            continue;
          ar_dns_set_name (address->family, r, set, sizeof (set));
          inet_ntop (address->family, address->addr, text, sizeof (text));
          fprintf (buf,
                   "add element inet %s %s { %s timeout %us }\n"
                   "delete element inet %s %s { %s }\n"
                   "add element inet %s %s { %s timeout %us }\n",
                   AR_EGRESS_TABLE, set, text, timeout, AR_EGRESS_TABLE, set, text, AR_EGRESS_TABLE, set, text,
                   timeout);
        }
    }
  fclose (buf);
  if (command_len == 0)
    return 0;
  ret = run_nft (dns, command, err);
  /* What failed may be missing from the sets: forget every entry. */
  if (ret < 0)
    memset (dns->set_entries, 0, sizeof (dns->set_entries));
  return ret;
}

/* --- queries -------------------------------------------------------------- */

static struct pending *
pending_new (struct dns *dns)
{
  for (size_t i = 0; i < DNS_MAX_PENDING; i++)
    if (!dns->pending[i].used)
      {
        memset (&dns->pending[i], 0, sizeof (dns->pending[i]));
        return &dns->pending[i];
      }
  return NULL;
}

/* A query id that no query in flight uses. */
static uint16_t
fresh_id (const struct dns *dns)
{
  for (;;)
    {
      uint16_t id = 0;
      bool taken = false;

      if (getrandom (&id, sizeof (id), 0) != (ssize_t) sizeof (id))
        id = (uint16_t) (now_ms () * 2654435761u >> 7);
      for (size_t i = 0; i < DNS_MAX_PENDING && !taken; i++)
        taken = dns->pending[i].used && dns->pending[i].upstream_id == id;
      if (!taken)
        return id;
    }
}

static void
handle_query (struct dns *dns, const uint8_t *wire, size_t len, enum transport transport,
              const struct sockaddr_storage *client, socklen_t client_len, size_t connection)
{
  cleanup_error ar_error_t err = NULL;
  cleanup_free uint8_t *forward = NULL;
  struct ar_dns_question question;
  struct pending *pending;
  bool allowed;

  if (ar_dns_query_parse (wire, len, &question, &err) < 0)
    {
      debug_error ("ignoring a DNS message", err);
      return;
    }

  allowed = question.qclass == 1 && name_allowed (dns, question.name);
  if (!allowed && !ar_keeper_audit_mode (dns->keeper))
    {
      write_event (dns, &question, NULL);
      reply_error (dns, wire, len, AR_DNS_RCODE_REFUSED, transport, client, client_len, connection);
      return;
    }

  pending = pending_new (dns);
  if (pending == NULL)
    {
      reply_error (dns, wire, len, AR_DNS_RCODE_SERVFAIL, transport, client, client_len, connection);
      return;
    }
  pending->upstream_id = fresh_id (dns);
  pending->client_id = question.id;
  pending->audit_only = !allowed;
  pending->transport = transport;
  if (client)
    memcpy (&pending->client, client, client_len);
  pending->client_len = client_len;
  pending->connection = connection;
  pending->generation = dns->connections[connection].generation;
  pending->deadline_ms = now_ms () + DNS_UPSTREAM_TIMEOUT_MS;
  pending->question = question;
  pending->query = ar_xmalloc0 (len);
  memcpy (pending->query, wire, len);
  pending->query_len = len;

  /* TODO: a truncated UDP answer to a TCP client should be asked again
   * over TCP; the client gets it with the TC bit instead. */
  forward = ar_xmalloc0 (len);
  memcpy (forward, wire, len);
  forward[0] = (uint8_t) (pending->upstream_id >> 8);
  forward[1] = (uint8_t) pending->upstream_id;
  if (sendto (dns->upstream_fd, forward, len, MSG_DONTWAIT, (const struct sockaddr *) &dns->upstream,
              dns->upstream_len)
      < 0)
    {
      ar_debug ("keeper: cannot send a query to the upstream DNS server: %s", strerror (errno));
      pending_fail (dns, pending);
      return;
    }
  pending->used = true;
}

static bool
same_address (const struct sockaddr_storage *a, socklen_t a_len, const struct sockaddr_storage *b, socklen_t b_len)
{
  return a_len == b_len && memcmp (a, b, a_len) == 0;
}

static int
on_upstream (struct ar_keeper *keeper, int fd, uint32_t events, void *data, ar_error_t *err)
{
  struct dns *dns = data;
  uint8_t wire[DNS_MAX_MESSAGE];
  struct sockaddr_storage from;
  socklen_t from_len = sizeof (from);
  cleanup_error ar_error_t local = NULL;
  cleanup_free uint8_t *capped = NULL;
  struct ar_dns_answer answer;
  struct pending *pending = NULL;
  const uint8_t *reply;
  size_t reply_len = 0;
  ssize_t n;
  uint16_t id;

  n = recvfrom (fd, wire, sizeof (wire), MSG_DONTWAIT, (struct sockaddr *) &from, &from_len);
  if (n < 12)
    return 0;
  if (!same_address (&from, from_len, &dns->upstream, dns->upstream_len))
    return 0;
  id = (uint16_t) (wire[0] << 8 | wire[1]);
  for (size_t i = 0; i < DNS_MAX_PENDING && pending == NULL; i++)
    if (dns->pending[i].used && dns->pending[i].upstream_id == id)
      pending = &dns->pending[i];
  if (pending == NULL)
    return 0;
  /* An answer to another question is no answer: wait for the right one. */
  if (ar_dns_answer_parse (wire, (size_t) n, &pending->question, &answer, &local) < 0)
    {
      debug_error ("ignoring an upstream DNS message", local);
      return 0;
    }
  if (pending->audit_only)
    write_event (dns, &pending->question, &answer);
  else if (fill_sets (dns, pending->question.name, &answer, &local) < 0)
    {
      /* An answer whose addresses stay closed would only mislead. */
      cleanup_free char *msg = ar_error_format (local);

      ar_log (AR_LOG_ERROR, "keeper of %s: %s", ar_keeper_context (keeper)->id, msg);
      pending_fail (dns, pending);
      return 0;
    }

  reply = wire;
  reply_len = (size_t) n;
  ar_error_release (&local);
  if (ar_dns_cap_ttls (wire, (size_t) n, AR_DNS_TTL_CEILING, &capped, &reply_len, &local) == 0 && capped != NULL)
    reply = capped;
  else
    reply_len = (size_t) n;
  ((uint8_t *) reply)[0] = (uint8_t) (pending->client_id >> 8);
  ((uint8_t *) reply)[1] = (uint8_t) pending->client_id;
  send_reply (dns, pending->transport, &pending->client, pending->client_len, pending->connection,
              pending->generation, reply, reply_len);
  pending_free (pending);
  return 0;
}

static int
on_udp_query (struct ar_keeper *keeper, int fd, uint32_t events, void *data, ar_error_t *err)
{
  struct dns *dns = data;
  uint8_t wire[DNS_MAX_MESSAGE];
  struct sockaddr_storage from;
  socklen_t from_len = sizeof (from);
  ssize_t n = recvfrom (fd, wire, sizeof (wire), MSG_DONTWAIT, (struct sockaddr *) &from, &from_len);

  if (n > 0)
    handle_query (dns, wire, (size_t) n, TRANSPORT_UDP, &from, from_len, 0);
  return 0;
}

static int
on_tcp_data (struct ar_keeper *keeper, int fd, uint32_t events, void *data, ar_error_t *err)
{
  struct dns *dns = data;
  size_t index = DNS_MAX_CONNECTIONS;
  struct connection *conn;
  ssize_t n;

  for (size_t i = 0; i < DNS_MAX_CONNECTIONS; i++)
    if (dns->connections[i].fd == fd)
      index = i;
  if (index == DNS_MAX_CONNECTIONS)
    return 0;
  conn = &dns->connections[index];

  n = recv (fd, conn->buf + conn->used, DNS_MAX_MESSAGE + 2 - conn->used, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return 0;
  if (n <= 0)
    {
      connection_close (dns, index);
      return 0;
    }
  conn->used += (size_t) n;

  /* Every whole message in the buffer, in order. */
  while (conn->fd >= 0 && conn->used >= 2)
    {
      size_t len = (size_t) conn->buf[0] << 8 | conn->buf[1];

      if (conn->used < len + 2)
        break;
      handle_query (dns, conn->buf + 2, len, TRANSPORT_TCP, NULL, 0, index);
      if (conn->fd < 0)
        break;
      memmove (conn->buf, conn->buf + 2 + len, conn->used - 2 - len);
      conn->used -= 2 + len;
    }
  return 0;
}

static int
on_tcp_accept (struct ar_keeper *keeper, int fd, uint32_t events, void *data, ar_error_t *err)
{
  struct dns *dns = data;
  cleanup_close int client = accept4 (fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  cleanup_error ar_error_t local = NULL;

  if (client < 0)
    return 0;
  for (size_t i = 0; i < DNS_MAX_CONNECTIONS; i++)
    if (dns->connections[i].fd < 0)
      {
        struct connection *conn = &dns->connections[i];

        if (ar_keeper_watch (keeper, client, EPOLLIN, on_tcp_data, dns, &local) < 0)
          return 0;
        conn->buf = ar_xmalloc0 (DNS_MAX_MESSAGE + 2);
        conn->used = 0;
        conn->fd = ar_steal_fd (client);
        return 0;
      }
  /* Every slot is taken: this client is closed at once. */
  return 0;
}

static int
on_timer (struct ar_keeper *keeper, int fd, uint32_t events, void *data, ar_error_t *err)
{
  struct dns *dns = data;
  uint64_t expirations, now = now_ms ();

  if (read (fd, &expirations, sizeof (expirations)) < 0)
    return 0;
  for (size_t i = 0; i < DNS_MAX_PENDING; i++)
    {
      struct pending *pending = &dns->pending[i];

      if (!pending->used || pending->deadline_ms > now)
        continue;
      if (pending->audit_only)
        {
          struct ar_dns_answer none = { .rcode = AR_DNS_RCODE_SERVFAIL };
          write_event (dns, &pending->question, &none);
        }
      pending_fail (dns, pending);
    }
  return 0;
}

/* --- start and stop ------------------------------------------------------- */

static int
open_listener (int type, ar_error_t *err)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (53) };
  cleanup_close int fd = socket (AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;

  if (fd < 0)
    return ar_make_error (err, errno, "cannot create a socket");
  inet_pton (AF_INET, AR_DNS_LISTEN_ADDRESS, &addr.sin_addr);
  if (type == SOCK_STREAM)
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof (one));
  if (bind (fd, (struct sockaddr *) &addr, sizeof (addr)) < 0)
    return ar_make_error (err, errno, "cannot listen on %s port 53 (%s) in the container's network namespace",
                          AR_DNS_LISTEN_ADDRESS, type == SOCK_STREAM ? "tcp" : "udp");
  if (type == SOCK_STREAM && listen (fd, 16) < 0)
    return ar_make_error (err, errno, "cannot listen on %s port 53 (tcp)", AR_DNS_LISTEN_ADDRESS);
  return ar_steal_fd (fd);
}

/* Makes the listening sockets and the nftables context inside the
 * container's network namespace, then returns to the keeper's own. */
static int
open_inside (struct dns *dns, ar_error_t *err)
{
  int ret = 0;

  if (setns (dns->container_netns_fd, CLONE_NEWNET) < 0)
    return ar_make_error (err, errno, "cannot join the container's network namespace");

  /* A namespace joined by path may have loopback down. */
  if (ar_namespaces_loopback_up (err) < 0)
    ret = -1;
  if (ret == 0)
    dns->udp_fd = open_listener (SOCK_DGRAM, err);
  if (ret == 0 && dns->udp_fd >= 0)
    dns->tcp_fd = open_listener (SOCK_STREAM, err);
  if (dns->udp_fd < 0 || dns->tcp_fd < 0)
    ret = -1;
  if (ret == 0)
    {
      dns->nft = nft_ctx_new (NFT_CTX_DEFAULT);
      if (dns->nft == NULL)
        ret = ar_make_error (err, ENOMEM, "cannot create an nftables context");
      else
        {
          nft_ctx_buffer_output (dns->nft);
          nft_ctx_buffer_error (dns->nft);
        }
    }

  if (setns (dns->own_netns_fd, CLONE_NEWNET) < 0)
    {
      ar_log (AR_LOG_ERROR, "keeper: cannot return to its own network namespace: %s", strerror (errno));
      _exit (1);
    }
  return ret;
}

static int
open_upstream (struct dns *dns, const struct ar_config *config, ar_error_t *err)
{
  const char *configured = ar_config_annotation (config, AR_DNS_ANNOTATION_UPSTREAM);
  cleanup_close int fd = -1;

  if (configured != NULL)
    {
      if (ar_dns_parse_upstream (configured, &dns->upstream, &dns->upstream_len, err) < 0)
        return ar_error_wrap (err, "annotations[\"%s\"]", AR_DNS_ANNOTATION_UPSTREAM);
    }
  else if (ar_dns_upstream_from_resolv_conf ("/etc/resolv.conf", &dns->upstream, &dns->upstream_len, err) < 0)
    return -1;

  /* Made in the keeper's namespace: queries leave from the host's side,
   * where the container's table does not apply.
   * NOTE: all queries leave from this one socket's port, so a forged
   * answer from the host's side has only the 16-bit query id to guess. */
  fd = socket (dns->upstream.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return ar_make_error (err, errno, "cannot create the socket to the upstream DNS server");
  dns->upstream_fd = ar_steal_fd (fd);
  return 0;
}

static void dns_stop (struct ar_keeper *keeper, void *data);

static bool
dns_wanted (const struct ar_keeper_context *context)
{
  return context->config->process != NULL && ar_dns_wanted (context->egress);
}

static int
dns_start (struct ar_keeper *keeper, void **data, ar_error_t *err)
{
  const struct ar_keeper_context *context = ar_keeper_context (keeper);
  cleanup_free char *netns_path = ar_xasprintf ("/proc/%d/ns/net", (int) context->pid);
  struct dns *dns = ar_xmalloc0 (sizeof (*dns));
  int ret = -1;

  dns->egress = context->egress;
  dns->keeper = keeper;
  dns->own_netns_fd = dns->container_netns_fd = dns->upstream_fd = -1;
  dns->udp_fd = dns->tcp_fd = dns->timer_fd = -1;
  dns->event_tokens = DNS_EVENT_BURST;
  dns->event_refill_ms = now_ms ();
  for (size_t i = 0; i < DNS_MAX_CONNECTIONS; i++)
    dns->connections[i].fd = -1;

  dns->own_netns_fd = open ("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (dns->own_netns_fd < 0)
    {
      ar_make_error (err, errno, "cannot open the keeper's network namespace");
      goto out;
    }
  dns->container_netns_fd = open (netns_path, O_RDONLY | O_CLOEXEC);
  if (dns->container_netns_fd < 0)
    {
      ar_make_error (err, errno, "cannot open the container's network namespace `%s`", netns_path);
      goto out;
    }
  if (open_upstream (dns, context->config, err) < 0 || open_inside (dns, err) < 0)
    goto out;

  if (ar_keeper_watch (keeper, dns->upstream_fd, EPOLLIN, on_upstream, dns, err) < 0
      || ar_keeper_watch (keeper, dns->udp_fd, EPOLLIN, on_udp_query, dns, err) < 0
      || ar_keeper_watch (keeper, dns->tcp_fd, EPOLLIN, on_tcp_accept, dns, err) < 0)
    goto out;
  dns->timer_fd = ar_keeper_timer (keeper, 1000, 1000, on_timer, dns, err);
  if (dns->timer_fd < 0)
    goto out;
  ret = 0;

out:
  if (ret < 0)
    dns_stop (keeper, dns);
  else
    *data = dns;
  return ret;
}

static void
close_watched (struct ar_keeper *keeper, int fd)
{
  if (fd < 0)
    return;
  ar_keeper_unwatch (keeper, fd);
  close (fd);
}

static void
dns_stop (struct ar_keeper *keeper, void *data)
{
  struct dns *dns = data;

  for (size_t i = 0; i < DNS_MAX_CONNECTIONS; i++)
    connection_close (dns, i);
  for (size_t i = 0; i < DNS_MAX_PENDING; i++)
    pending_free (&dns->pending[i]);
  close_watched (keeper, dns->timer_fd);
  close_watched (keeper, dns->tcp_fd);
  close_watched (keeper, dns->udp_fd);
  close_watched (keeper, dns->upstream_fd);
  if (dns->nft)
    nft_ctx_free (dns->nft);
  if (dns->container_netns_fd >= 0)
    close (dns->container_netns_fd);
  if (dns->own_netns_fd >= 0)
    close (dns->own_netns_fd);
  free (dns);
}

const struct ar_keeper_module ar_keeper_dns = {
  .name = "DNS responder",
  .wanted = dns_wanted,
  .start = dns_start,
  .stop = dns_stop,
};
