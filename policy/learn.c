/* `agentrun policy learn`: drafts a policy that would have allowed what an
 * agent was seen doing, from its audit events (docs/events.md), on top of
 * a base policy.  The draft is for a person to review, so the comment of
 * every learned line names the events it comes from. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "draft.h"
#include "fields.h"
#include "model.h"
#include "oci/util.h"
#include "policy.h"
#include "values.h"

/* The base without --base: nothing beyond what ordinary programs need. */
static const char locked_down_base[] = "name: learned\n"
                                       "version: 1\n"
                                       "mode: enforce\n"
                                       "filesystem:\n"
                                       "  readonly_rootfs: true\n"
                                       "process:\n"
                                       "  no_new_privileges: true\n"
                                       "  capabilities: []\n"
                                       "syscalls:\n"
                                       "  base: default\n"
                                       "  action: errno\n"
                                       "network:\n"
                                       "  mode: none\n";

struct learner
{
  const char *origin; /* of the events */
  json_t *draft;
  json_t *notes;
  json_t *skipped; /* lines for the header: what was not learned */
  json_t *changes; /* lines for the header: scalar changes and removals */
  /* Maps of what the events show, keyed for merging.  Each value has
   * "count" and "line" (of the first event). */
  json_t *syscalls;    /* name -> {} */
  json_t *connections; /* "PROTOCOL ADDRESS" -> {protocol, address, ports: {PORT: true}} */
  json_t *names;       /* domain -> {ports: {"PROTOCOL": {PORT: true}}} */
  json_t *answers;     /* address -> domain */
  json_t *writes;      /* path -> {} */
  size_t n_events;
};

static void
skip_event (struct learner *l, size_t line, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

static void
skip_event (struct learner *l, size_t line, const char *fmt, ...)
{
  char *text = NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&text, fmt, ap) < 0)
    abort ();
  va_end (ap);
  json_array_append_new (l->skipped, json_sprintf ("  - %s:%zu: %s", l->origin, line, text));
  free (text);
}

static json_t *
get_object (json_t *parent, const char *key)
{
  json_t *value = json_object_get (parent, key);

  if (!json_is_object (value))
    {
      value = json_object ();
      json_object_set_new (parent, key, value);
    }
  return value;
}

static json_t *
get_array (json_t *parent, const char *key)
{
  json_t *value = json_object_get (parent, key);

  if (!json_is_array (value))
    {
      value = json_array ();
      json_object_set_new (parent, key, value);
    }
  return value;
}

static bool
array_has_string (json_t *array, const char *text)
{
  size_t i;
  json_t *item;

  json_array_foreach (array, i, item)
    if (json_is_string (item) && strcmp (json_string_value (item), text) == 0)
      return true;
  return false;
}

static void
array_remove_string (json_t *array, const char *text)
{
  for (size_t i = json_array_size (array); i-- > 0;)
    if (json_is_string (json_array_get (array, i)) && strcmp (json_string_value (json_array_get (array, i)), text) == 0)
      json_array_remove (array, i);
}

/* Counts an event under key in map; returns the entry. */
static json_t *
tally (json_t *map, const char *key, size_t line)
{
  json_t *entry = json_object_get (map, key);

  if (entry == NULL)
    {
      entry = json_pack ("{s:I, s:I}", "count", (json_int_t) 0, "line", (json_int_t) line);
      json_object_set_new (map, key, entry);
    }
  json_object_set_new (entry, "count", json_integer (json_integer_value (json_object_get (entry, "count")) + 1));
  return entry;
}

/* "events.jsonl:12" or "events.jsonl:12 and 3 more events". */
static char *
evidence (const struct learner *l, json_t *entry)
{
  json_int_t count = json_integer_value (json_object_get (entry, "count"));
  json_int_t line = json_integer_value (json_object_get (entry, "line"));

  if (count <= 1)
    return ar_xasprintf ("%s:%" JSON_INTEGER_FORMAT, l->origin, line);
  return ar_xasprintf ("%s:%" JSON_INTEGER_FORMAT " and %" JSON_INTEGER_FORMAT " more event%s", l->origin, line,
                       count - 1, count == 2 ? "" : "s");
}

static void
set_entry_note (struct learner *l, const char *path, const char *value, const char *note)
{
  cleanup_free char *key = ar_xasprintf ("%s\t%s", path, value);

  json_object_set_new (l->notes, key, json_string (note));
}

static const char *
string_member (json_t *event, const char *key)
{
  return json_string_value (json_object_get (event, key));
}

/* --- reading the events --------------------------------------------------- */

static void
read_syscall (struct learner *l, json_t *event, size_t line)
{
  const char *name = string_member (event, "syscall");

  if (name == NULL)
    {
      skip_event (l, line, "a syscall event without \"syscall\"");
      return;
    }
  if (!ar_policy_syscall_known (name))
    {
      skip_event (l, line, "system call `%s` (arch %s) is unknown on this architecture", name,
                  string_member (event, "arch") != NULL ? string_member (event, "arch") : "unknown");
      return;
    }
  tally (l->syscalls, name, line);
}

/* The address of a connection in canonical form, or NULL. */
static char *
canonical_address (const char *text, int *family)
{
  unsigned char address[16];
  char buf[INET6_ADDRSTRLEN];

  if (inet_pton (AF_INET, text, address) == 1)
    *family = AF_INET;
  else if (inet_pton (AF_INET6, text, address) == 1)
    *family = AF_INET6;
  else
    return NULL;
  if (inet_ntop (*family, address, buf, sizeof buf) == NULL)
    return NULL;
  return ar_xstrdup (buf);
}

static void
read_connection (struct learner *l, json_t *event, size_t line)
{
  const char *protocol = string_member (event, "protocol");
  const char *destination = string_member (event, "destination");
  json_t *port = json_object_get (event, "port");
  cleanup_free char *address = NULL;
  cleanup_free char *key = NULL;
  cleanup_free char *port_key = NULL;
  json_t *entry;
  int family = 0;

  if (protocol == NULL || destination == NULL)
    {
      skip_event (l, line, "a connection event without \"protocol\" or \"destination\"");
      return;
    }
  if (strcmp (protocol, "tcp") != 0 && strcmp (protocol, "udp") != 0)
    {
      skip_event (l, line, "%s to %s: egress rules cover tcp and udp only", protocol, destination);
      return;
    }
  address = canonical_address (destination, &family);
  if (address == NULL)
    {
      skip_event (l, line, "`%s` is not an IP address", destination);
      return;
    }
  if (!json_is_integer (port) || json_integer_value (port) < 1 || json_integer_value (port) > 65535)
    {
      skip_event (l, line, "%s connection to %s without a port from 1 to 65535", protocol, address);
      return;
    }

  key = ar_xasprintf ("%s %s", protocol, address);
  entry = tally (l->connections, key, line);
  json_object_set_new (entry, "protocol", json_string (protocol));
  json_object_set_new (entry, "address", json_string (address));
  json_object_set_new (entry, "prefix", json_integer (family == AF_INET ? 32 : 128));
  port_key = ar_xasprintf ("%" JSON_INTEGER_FORMAT, json_integer_value (port));
  json_object_set_new (get_object (entry, "ports"), port_key, json_true ());
}

static void
read_dns (struct learner *l, json_t *event, size_t line)
{
  const char *name = string_member (event, "name");
  json_t *answer = json_object_get (event, "answer");
  cleanup_free char *domain = NULL;
  cleanup_free char *problem = NULL;
  cleanup_free char *warning = NULL;
  size_t i;
  json_t *item;

  if (name == NULL)
    {
      skip_event (l, line, "a dns event without \"name\"");
      return;
    }
  if (ar_policy_parse_domain (name, &domain, &problem, &warning) < 0 || domain[0] == '*')
    {
      skip_event (l, line, "%s", problem != NULL ? problem : "a wildcard is not a name that was looked up");
      return;
    }
  tally (l->names, domain, line);
  json_array_foreach (answer, i, item)
    {
      cleanup_free char *address = NULL;
      int family = 0;

      if (json_is_string (item) && (address = canonical_address (json_string_value (item), &family)) != NULL)
        json_object_set_new (l->answers, address, json_string (domain));
    }
}

static void
read_file_event (struct learner *l, json_t *event, size_t line)
{
  const char *path = string_member (event, "path");
  const char *access = string_member (event, "access");
  cleanup_free char *normalized = NULL;
  const char *problem = NULL;

  if (path == NULL || access == NULL)
    {
      skip_event (l, line, "a file event without \"path\" or \"access\"");
      return;
    }
  if (strcmp (access, "write") != 0)
    {
      skip_event (l, line, "%s of %s: the policy controls writes and hidden paths only", access, path);
      return;
    }
  normalized = ar_policy_normalize_path (path, &problem);
  if (normalized == NULL)
    {
      skip_event (l, line, "invalid path `%s`: %s", path, problem);
      return;
    }
  tally (l->writes, normalized, line);
}

/* --- applying what was seen to the draft ------------------------------------ */

static void
learn_syscalls (struct learner *l)
{
  json_t *syscalls = get_object (l->draft, "syscalls");
  json_t *allow = NULL;
  const char *name;
  json_t *entry;

  json_object_foreach (l->syscalls, name, entry)
    {
      cleanup_free char *why = evidence (l, entry);
      cleanup_free char *note = NULL;

      allow = get_array (syscalls, "allow");
      if (array_has_string (json_object_get (syscalls, "deny"), name))
        {
          array_remove_string (json_object_get (syscalls, "deny"), name);
          json_array_append_new (l->changes, json_sprintf ("  - syscalls.deny: removed %s (%s)", name, why));
        }
      if (array_has_string (allow, name))
        continue;
      json_array_append_new (allow, json_string (name));
      note = ar_xasprintf ("%s", why);
      set_entry_note (l, "syscalls.allow", name, note);
    }
}

/* Whether the draft's network mode lets every connection out already. */
static bool
network_open (struct learner *l)
{
  const char *mode = string_member (json_object_get (l->draft, "network"), "mode");

  return mode != NULL && (strcmp (mode, "open") == 0 || strcmp (mode, "host") == 0);
}

static void
note_mode (struct learner *l, const char *old_mode)
{
  cleanup_free char *note = ar_xasprintf ("was %s; the egress rules below come from the events",
                                          old_mode != NULL ? old_mode : "none");

  json_object_set_new (l->notes, "network.mode", json_string (note));
}

static void
ensure_allowlist (struct learner *l)
{
  json_t *network = get_object (l->draft, "network");
  const char *current = string_member (network, "mode");
  cleanup_free char *mode = current != NULL ? ar_xstrdup (current) : NULL;

  if (mode != NULL && strcmp (mode, "allowlist") == 0)
    return;
  note_mode (l, mode);
  json_object_set_new (network, "mode", json_string ("allowlist"));
}

/* Whether an egress rule of the draft already allows protocol to port
 * (0: any port) at a destination: a domain, or an address. */
static bool
rule_covers (json_t *rule, const char *domain, int family, const unsigned char *address, const char *protocol,
             json_int_t port)
{
  const char *rule_protocol = string_member (rule, "protocol");
  json_t *ports = json_object_get (rule, "ports");
  bool port_ok = json_array_size (ports) == 0;
  size_t i;
  json_t *item;

  if (rule_protocol == NULL)
    rule_protocol = "tcp";
  if (strcmp (rule_protocol, "any") != 0 && strcmp (rule_protocol, protocol) != 0)
    return false;

  json_array_foreach (ports, i, item)
    {
      struct ar_policy_port_range range;
      const char *problem = NULL;

      if (json_is_integer (item))
        port_ok |= port != 0 && json_integer_value (item) == port;
      else if (json_is_string (item) && ar_policy_parse_port_range (json_string_value (item), &range, &problem) == 0)
        port_ok |= port != 0 && port >= range.first && port <= range.last;
    }
  if (!port_ok)
    return false;

  if (domain != NULL)
    {
      const char *rule_domain = string_member (rule, "domain");
      size_t name_len = strlen (domain);
      size_t suffix_len;

      if (rule_domain == NULL)
        return false;
      if (strcmp (rule_domain, domain) == 0)
        return true;
      /* *.example.com covers a.example.com, but not example.com. */
      if (!ar_str_has_prefix (rule_domain, "*.") || domain[0] == '*')
        return false;
      suffix_len = strlen (rule_domain) - 1;
      return name_len > suffix_len && strcmp (domain + name_len - suffix_len, rule_domain + 1) == 0;
    }
  if (string_member (rule, "cidr") != NULL)
    {
      struct ar_policy_cidr cidr;
      cleanup_free char *problem = NULL;

      return ar_policy_parse_cidr (string_member (rule, "cidr"), &cidr, &problem) == 0
             && ar_policy_cidr_contains (&cidr, family, address);
    }
  return false;
}

static bool
egress_covers (struct learner *l, const char *domain, const char *address_text, const char *protocol,
               json_int_t port)
{
  json_t *egress = json_object_get (json_object_get (l->draft, "network"), "egress");
  unsigned char address[16] = { 0 };
  int family = 0;
  size_t i;
  json_t *rule;

  if (address_text != NULL)
    {
      family = strchr (address_text, ':') != NULL ? AF_INET6 : AF_INET;
      if (inet_pton (family, address_text, address) != 1)
        return false;
    }
  json_array_foreach (egress, i, rule)
    if (rule_covers (rule, domain, family, address, protocol, port))
      return true;
  return false;
}

static int
compare_ports (const void *a, const void *b)
{
  json_int_t x = *(const json_int_t *) a, y = *(const json_int_t *) b;

  return x < y ? -1 : x > y;
}

/* Appends an egress rule with the ports of ports_set (PORT -> true, may be
 * NULL for every port) that are not covered yet. */
static void
add_egress (struct learner *l, const char *domain, const char *address, json_int_t prefix, const char *protocol,
            json_t *ports_set, const char *note)
{
  json_t *ports = json_array ();
  json_t *rule;
  const char *key;
  json_t *value;

  if (ports_set != NULL)
    {
      cleanup_free json_int_t *wanted = ar_xmalloc0 (sizeof (json_int_t) * (json_object_size (ports_set) + 1));
      size_t n = 0;

      /* The ports not covered yet, in ascending order. */
      json_object_foreach (ports_set, key, value)
        {
          long port;

          if (ar_parse_long (key, &port) == 0 && port > 0
              && port < 65536 && !egress_covers (l, domain, address, protocol, port))
            wanted[n++] = port;
        }
      qsort (wanted, n, sizeof (wanted[0]), compare_ports);
      for (size_t i = 0; i < n; i++)
        json_array_append_new (ports, json_integer (wanted[i]));
      if (n == 0)
        {
          json_decref (ports);
          return;
        }
    }
  else if (egress_covers (l, domain, address, protocol, 0))
    {
      json_decref (ports);
      return;
    }

  ensure_allowlist (l);
  if (domain != NULL)
    rule = json_pack ("{s:s}", "domain", domain);
  else
    rule = json_pack ("{s:s+}", "cidr", address, prefix == 32 ? "/32" : "/128");
  if (json_array_size (ports) > 0)
    json_object_set (rule, "ports", ports);
  json_object_set_new (rule, "protocol", json_string (protocol));
  json_object_set_new (rule, AR_DRAFT_NOTE_KEY, json_string (note));
  json_array_append_new (get_array (get_object (l->draft, "network"), "egress"), rule);
  json_decref (ports);
}

/* The domain rules to write: the names looked up, or with collapse, a
 * `*.parent` pattern for two or more names under one parent. */
static json_t *
domain_patterns (struct learner *l, bool collapse)
{
  json_t *patterns = json_object ();
  json_t *by_parent = json_object ();
  const char *name;
  json_t *entry;

  if (collapse)
    json_object_foreach (l->names, name, entry)
      {
        const char *parent = strchr (name, '.');

        /* A parent of one label is a top-level domain: never collapse to it. */
        if (parent != NULL && strchr (parent + 1, '.') != NULL)
          json_array_append_new (get_array (by_parent, parent + 1), json_string (name));
      }

  json_object_foreach (l->names, name, entry)
    {
      const char *parent = strchr (name, '.');
      json_t *siblings = parent != NULL ? json_object_get (by_parent, parent + 1) : NULL;
      cleanup_free char *pattern = json_array_size (siblings) >= 2 ? ar_xasprintf ("*.%s", parent + 1)
                                                                   : ar_xstrdup (name);
      json_t *target = get_object (patterns, pattern);

      json_array_append_new (get_array (target, "names"), json_string (name));
      json_object_set_new (target, "count", json_integer (json_integer_value (json_object_get (target, "count"))
                                                          + json_integer_value (json_object_get (entry, "count"))));
      if (json_object_get (target, "line") == NULL)
        json_object_set (target, "line", json_object_get (entry, "line"));
    }
  json_decref (by_parent);
  return patterns;
}

static void
learn_network (struct learner *l, bool collapse)
{
  json_auto_t *patterns = NULL;
  json_auto_t *name_ports = json_object (); /* name -> protocol -> port set */
  const char *key;
  json_t *entry;

  if (json_object_size (l->connections) == 0 && json_object_size (l->names) == 0)
    return;
  if (network_open (l))
    {
      json_array_append_new (l->skipped, json_sprintf ("  - %zu connections and %zu names: network.mode %s allows "
                                                       "them already",
                                                       json_object_size (l->connections),
                                                       json_object_size (l->names),
                                                       string_member (json_object_get (l->draft, "network"),
                                                                      "mode")));
      return;
    }

  /* A connection to an address that a dns event returned for a name goes
   * to that name's rule, because the address may change but the name
   * stays. */
  json_object_foreach (l->connections, key, entry)
    {
      const char *address = string_member (entry, "address");
      const char *name = json_string_value (json_object_get (l->answers, address));
      const char *port;
      json_t *value;

      if (name == NULL)
        continue;
      json_object_foreach (json_object_get (entry, "ports"), port, value)
        json_object_set_new (get_object (get_object (name_ports, name), string_member (entry, "protocol")), port,
                             json_true ());
      json_object_set_new (entry, "by_name", json_string (name));
    }

  patterns = domain_patterns (l, collapse);
  json_object_foreach (patterns, key, entry)
    {
      json_auto_t *merged = json_object ();
      cleanup_free char *why = evidence (l, entry);
      cleanup_free char *note = NULL;
      json_t *names = json_object_get (entry, "names");
      const char *protocol;
      json_t *ports;
      size_t i;
      json_t *name;

      if (key[0] == '*')
        {
          cleanup_free char *list = NULL;
          size_t len = 0;
          FILE *f = open_memstream (&list, &len);

          if (f == NULL)
            abort ();
          json_array_foreach (names, i, name)
            fprintf (f, "%s%s", i > 0 ? ", " : "", json_string_value (name));
          fclose (f);
          note = ar_xasprintf ("%s, %s", list, why);
        }
      else
        note = ar_xstrdup (why);

      json_array_foreach (names, i, name)
        json_object_foreach (json_object_get (name_ports, json_string_value (name)), protocol, ports)
          json_object_update (get_object (merged, protocol), ports);

      if (json_object_size (merged) == 0)
        {
          cleanup_free char *every = ar_xasprintf ("%s; no connection seen, so every port: add ports", note);
          add_egress (l, key, NULL, 0, "tcp", NULL, every);
        }
      json_object_foreach (merged, protocol, ports)
        add_egress (l, key, NULL, 0, protocol, ports, note);
    }

  json_object_foreach (l->connections, key, entry)
    {
      cleanup_free char *why = NULL;

      if (json_object_get (entry, "by_name") != NULL)
        continue;
      why = evidence (l, entry);
      add_egress (l, NULL, string_member (entry, "address"), json_integer_value (json_object_get (entry, "prefix")),
                  string_member (entry, "protocol"), json_object_get (entry, "ports"), why);
    }
}

/* Whether path lies within an entry of a draft's path list. */
static const char *
within_list (json_t *list, const char *path)
{
  size_t i;
  json_t *item;

  json_array_foreach (list, i, item)
    if (json_is_string (item) && ar_policy_path_within (path, json_string_value (item)))
      return json_string_value (item);
  return NULL;
}

static bool
within_tmpfs (json_t *filesystem, const char *path)
{
  size_t i;
  json_t *item;

  json_array_foreach (json_object_get (filesystem, "tmpfs"), i, item)
    if (string_member (item, "path") != NULL && ar_policy_path_within (path, string_member (item, "path")))
      return true;
  return false;
}

static void
learn_writes (struct learner *l)
{
  json_t *filesystem = get_object (l->draft, "filesystem");
  const char *path;
  json_t *entry;

  json_object_foreach (l->writes, path, entry)
    {
      cleanup_free char *why = evidence (l, entry);
      json_t *readonly_rootfs = json_object_get (filesystem, "readonly_rootfs");
      bool writable_root = json_is_false (readonly_rootfs);
      const char *denied = within_list (json_object_get (filesystem, "denied_paths"), path);
      const char *readonly = within_list (json_object_get (filesystem, "readonly_paths"), path);

      if (denied != NULL)
        {
          json_array_append_new (l->skipped, json_sprintf ("  - %s: a write to %s, within the denied path %s; "
                                                           "remove it from filesystem.denied_paths to allow it",
                                                           why, path, denied));
          continue;
        }
      if (strcmp (path, "/") == 0)
        {
          json_array_append_new (l->skipped, json_sprintf ("  - %s: a write to /; set filesystem.readonly_rootfs "
                                                           "to false to allow it",
                                                           why));
          continue;
        }
      if (writable_root && readonly == NULL)
        continue;
      if (readonly != NULL)
        {
          array_remove_string (json_object_get (filesystem, "readonly_paths"), readonly);
          json_array_append_new (l->changes, json_sprintf ("  - filesystem.readonly_paths: removed %s, which %s "
                                                           "writes to (%s)",
                                                           readonly, path, why));
          if (writable_root)
            continue;
        }
      if (within_list (json_object_get (filesystem, "readwrite_paths"), path) != NULL || within_tmpfs (filesystem, path))
        continue;
      json_array_append_new (get_array (filesystem, "readwrite_paths"), json_string (path));
      {
        cleanup_free char *note = ar_xasprintf ("%s; config.json must mount it writable", why);
        set_entry_note (l, "filesystem.readwrite_paths", path, note);
      }
    }
}

static void
note_change (struct learner *l, const char *path, const char *note)
{
  json_object_set_new (l->notes, path, json_string (note));
}

/* Raises a limit of resources to what config.json asked for, or removes
 * it for "unlimited". */
static void
raise_limit (struct learner *l, const char *field, const char *requested, const char *why, size_t line)
{
  json_t *resources = get_object (l->draft, "resources");
  cleanup_free char *path = ar_xasprintf ("resources.%s", field);
  cleanup_free char *note = NULL;
  const char *problem = NULL;
  uint64_t value = 0;
  long integer;

  if (strcmp (requested, "unlimited") == 0)
    {
      json_object_del (resources, field);
      json_array_append_new (l->changes, json_sprintf ("  - %s: removed, config.json asks for no limit (%s)", path,
                                                       why));
      return;
    }
  note = ar_xasprintf ("raised for config.json (%s)", why);
  if (strcmp (field, "memory") == 0 && ar_policy_parse_size (requested, &value, &problem) == 0)
    {
      cleanup_free char *text = ar_policy_format_size (value);
      json_object_set_new (resources, field, json_string (text));
    }
  else if (strcmp (field, "cpu") == 0 && ar_policy_parse_cpu (requested, &value, &problem) == 0)
    {
      cleanup_free char *text = ar_policy_format_cpu (value);
      json_object_set_new (resources, field, value % 1000 == 0 ? json_integer ((json_int_t) (value / 1000))
                                                               : json_string (text));
    }
  else if ((strcmp (field, "pids") == 0 || strcmp (field, "io_weight") == 0 || strcmp (field, "open_files") == 0)
           && ar_parse_long (requested, &integer) == 0 && integer > 0)
    json_object_set_new (resources, field, json_integer (integer));
  else
    {
      skip_event (l, line, "cannot read `%s` as a value of %s", requested, path);
      return;
    }
  note_change (l, path, note);
}

/* Swap: config.json states memory plus swap; the policy states swap
 * alone. */
static void
raise_swap (struct learner *l, const char *requested, const char *why, size_t line)
{
  json_t *resources = get_object (l->draft, "resources");
  const char *memory_text = string_member (resources, "memory");
  const char *problem = NULL;
  uint64_t total = 0, memory = 0;

  if (strcmp (requested, "unlimited") == 0)
    {
      json_object_del (resources, "swap");
      json_object_del (resources, "memory");
      json_array_append_new (l->changes, json_sprintf ("  - resources.memory and resources.swap: removed, "
                                                       "config.json asks for unlimited swap (%s)",
                                                       why));
      return;
    }
  if (memory_text == NULL || ar_policy_parse_size (memory_text, &memory, &problem) < 0
      || ar_policy_parse_size (requested, &total, &problem) < 0 || total < memory)
    {
      skip_event (l, line, "cannot grant the memory and swap limit `%s`", requested);
      return;
    }
  {
    cleanup_free char *text = ar_policy_format_size (total - memory);
    cleanup_free char *note = ar_xasprintf ("raised for config.json (%s)", why);

    json_object_set_new (resources, "swap", json_string (text));
    note_change (l, "resources.swap", note);
  }
}

static void
set_user_part (struct learner *l, bool gid, const char *requested, const char *why, size_t line)
{
  json_t *process = get_object (l->draft, "process");
  json_t *user = json_object_get (process, "user");
  long uid_value = -1, gid_value = -1, value;
  cleanup_free char *note = NULL;

  if (ar_parse_long (requested, &value) < 0 || value < 0 || value > UINT32_MAX)
    {
      skip_event (l, line, "cannot read `%s` as a %s", requested, gid ? "gid" : "uid");
      return;
    }
  if (json_is_integer (user))
    uid_value = (long) json_integer_value (user);
  else if (json_is_string (user) && sscanf (json_string_value (user), "%ld:%ld", &uid_value, &gid_value) < 1)
    uid_value = -1;
  if (gid)
    gid_value = value;
  else
    uid_value = value;
  if (uid_value < 0)
    return;
  if (gid_value >= 0)
    json_object_set_new (process, "user", json_sprintf ("%ld:%ld", uid_value, gid_value));
  else
    json_object_set_new (process, "user", json_integer (uid_value));
  note = ar_xasprintf ("changed for config.json (%s)", why);
  note_change (l, "process.user", note);
}

static void
learn_conflict (struct learner *l, json_t *event, size_t line)
{
  const char *field = string_member (event, "policy_field");
  const char *config_field = string_member (event, "config_field");
  const char *requested = string_member (event, "requested");
  cleanup_free char *why = NULL;

  if (field == NULL || config_field == NULL || requested == NULL)
    {
      skip_event (l, line, "a policy-conflict event without \"policy_field\", \"config_field\" or \"requested\"");
      return;
    }
  why = ar_xasprintf ("%s:%zu, %s", l->origin, line, config_field);

  if (strcmp (field, "process.capabilities") == 0)
    {
      json_t *capabilities = get_array (get_object (l->draft, "process"), "capabilities");

      if (ar_policy_capability_number (requested) < 0)
        skip_event (l, line, "unknown capability `%s`", requested);
      else if (!array_has_string (capabilities, requested))
        {
          json_array_append_new (capabilities, json_string (requested));
          set_entry_note (l, "process.capabilities", requested, why);
        }
    }
  else if (strcmp (field, "process.user") == 0)
    set_user_part (l, ar_str_has_prefix (config_field, "process.user.gid"), requested, why, line);
  else if (strcmp (field, "process.no_new_privileges") == 0)
    {
      json_object_set_new (get_object (l->draft, "process"), "no_new_privileges", json_false ());
      note_change (l, "process.no_new_privileges", why);
    }
  else if (strcmp (field, "process.host_pid") == 0)
    {
      json_object_set_new (get_object (l->draft, "process"), "host_pid", json_true ());
      note_change (l, "process.host_pid", why);
    }
  else if (strcmp (field, "filesystem.readonly_rootfs") == 0)
    {
      json_object_set_new (get_object (l->draft, "filesystem"), "readonly_rootfs", json_false ());
      note_change (l, "filesystem.readonly_rootfs", why);
    }
  else if (strcmp (field, "filesystem.readwrite_paths") == 0 && requested[0] == '/')
    {
      json_t *paths = get_array (get_object (l->draft, "filesystem"), "readwrite_paths");

      if (ar_policy_path_within (requested, "/sys") || ar_policy_path_within (requested, "/proc"))
        skip_event (l, line, "a writable mount at %s: the policy keeps /proc and /sys read-only", requested);
      else if (!array_has_string (paths, requested))
        {
          json_array_append_new (paths, json_string (requested));
          set_entry_note (l, "filesystem.readwrite_paths", requested, why);
        }
    }
  else if (strcmp (field, "filesystem.denied_paths") == 0 || strcmp (field, "filesystem.readonly_paths") == 0)
    {
      const char *allowed = string_member (event, "allowed");
      json_t *list = json_object_get (get_object (l->draft, "filesystem"), field + strlen ("filesystem."));

      if (allowed != NULL && array_has_string (list, allowed))
        {
          array_remove_string (list, allowed);
          json_array_append_new (l->changes, json_sprintf ("  - %s: removed %s, where config.json mounts %s (%s)",
                                                           field, allowed, requested, why));
        }
    }
  else if (strcmp (field, "network.mode") == 0)
    {
      bool host = strcmp (requested, "host network") == 0;

      json_object_set_new (get_object (l->draft, "network"), "mode", json_string (host ? "host" : "allowlist"));
      if (host)
        json_object_del (json_object_get (l->draft, "network"), "egress");
      note_change (l, "network.mode", why);
    }
  else if (strcmp (field, "resources.swap") == 0
           || (strcmp (field, "resources.memory") == 0 && strstr (config_field, ".swap") != NULL))
    raise_swap (l, requested, why, line);
  else if (ar_str_has_prefix (field, "resources."))
    raise_limit (l, field + strlen ("resources."), requested, why, line);
  else
    skip_event (l, line, "config.json's %s asks for `%s`, which no policy grants (policy field %s)", config_field,
                requested, field);
}

static void
read_limit (struct learner *l, json_t *event, size_t line)
{
  const char *limit = string_member (event, "limit");
  json_t *value = json_object_get (event, "value");
  cleanup_free char *value_text = value != NULL ? json_dumps (value, JSON_ENCODE_ANY) : NULL;

  skip_event (l, line, "the agent reached the %s limit (%s); raise resources.%s if it needs more",
              limit != NULL ? limit : "unnamed", value_text != NULL ? value_text : "no value",
              limit != NULL ? limit : "...");
}

static int
read_events (struct learner *l, const char *text, size_t len, ar_error_t *err)
{
  const char *p = text;
  const char *end = text + len;
  size_t line = 0;

  while (p < end)
    {
      const char *eol = memchr (p, '\n', (size_t) (end - p));
      size_t line_len = eol != NULL ? (size_t) (eol - p) : (size_t) (end - p);
      json_auto_t *event = NULL;
      json_error_t json_err;
      const char *type;

      line++;
      if (strspn (p, " \t\r") >= line_len)
        {
          p += line_len + 1;
          continue;
        }
      event = json_loadb (p, line_len, 0, &json_err);
      p += line_len + 1;
      if (!json_is_object (event))
        return ar_make_error (err, EINVAL, "%s:%zu: %s; each line must be one JSON object (docs/events.md)",
                              l->origin, line, event == NULL ? json_err.text : "not a JSON object");
      type = string_member (event, "type");
      if (type == NULL)
        return ar_make_error (err, EINVAL, "%s:%zu: the event has no \"type\" (docs/events.md lists them)", l->origin,
                              line);
      l->n_events++;

      if (strcmp (type, "syscall") == 0)
        read_syscall (l, event, line);
      else if (strcmp (type, "connection") == 0)
        read_connection (l, event, line);
      else if (strcmp (type, "dns") == 0)
        read_dns (l, event, line);
      else if (strcmp (type, "file") == 0)
        read_file_event (l, event, line);
      else if (strcmp (type, "policy-conflict") == 0)
        learn_conflict (l, event, line);
      else if (strcmp (type, "limit") == 0)
        read_limit (l, event, line);
      else
        skip_event (l, line, "unknown event type `%s`", type);
    }
  return 0;
}

int
ar_policy_learn (const struct ar_policy *base, const char *events, size_t len,
                 const struct ar_policy_learn_options *options, char **out, ar_error_t *err)
{
  cleanup_policy struct ar_policy *builtin = NULL;
  struct learner l = {
    .origin = options->events_origin != NULL ? options->events_origin : "events",
    .notes = json_object (),
    .skipped = json_array (),
    .changes = json_array (),
    .syscalls = json_object (),
    .connections = json_object (),
    .names = json_object (),
    .answers = json_object (),
    .writes = json_object (),
  };
  json_auto_t *header = json_array ();
  const char *base_name;
  int ret;

  if (base == NULL)
    {
      ret = ar_policy_load_text (locked_down_base, strlen (locked_down_base), "locked-down base", &builtin, err);
      if (ret < 0)
        goto out;
      base = builtin;
    }
  l.draft = ar_policy_draft_from_policy (base);
  base_name = base == builtin ? "a locked-down base" : base->origin;

  /* Conflicts edit the draft while they are read; the other events are
   * gathered first so that names and connections can be matched. */
  ret = read_events (&l, events, len, err);
  if (ret < 0)
    goto out;
  learn_syscalls (&l);
  learn_network (&l, options->collapse_domains);
  learn_writes (&l);

  if (options->name != NULL)
    json_object_set_new (l.draft, "name", json_string (options->name));
  if (json_object_get (l.draft, "description") == NULL)
    json_object_set_new (l.draft, "description",
                         json_sprintf ("Drafted by agentrun policy learn from %s; review before use.", l.origin));

  json_array_append_new (header, json_sprintf ("Drafted by `agentrun policy learn` from %s (%zu events), on top of "
                                               "%s.",
                                               l.origin, l.n_events, base_name));
  json_array_append_new (header, json_string ("It allows what the agent was seen doing, which is not always what it "
                                              "should do: review each"));
  json_array_append_new (header, json_string ("learned line (the comments name the events) before you use it."));
  if (json_array_size (l.changes) > 0)
    {
      json_array_append_new (header, json_string (""));
      json_array_append_new (header, json_string ("Changes to the base:"));
      json_array_extend (header, l.changes);
    }
  if (json_array_size (l.skipped) > 0)
    {
      json_array_append_new (header, json_string (""));
      json_array_append_new (header, json_string ("Not learned:"));
      json_array_extend (header, l.skipped);
    }
  *out = ar_policy_draft_format (l.draft, header, l.notes);
  ret = 0;

out:
  json_decref (l.draft);
  json_decref (l.notes);
  json_decref (l.skipped);
  json_decref (l.changes);
  json_decref (l.syscalls);
  json_decref (l.connections);
  json_decref (l.names);
  json_decref (l.answers);
  json_decref (l.writes);
  return ret;
}
