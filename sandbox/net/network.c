/* agentrun's container network: the steps of create and delete, and the
 * record of what create made in state.json. */
#define _GNU_SOURCE
#include "net/network_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/log.h"
#include "oci/util.h"

bool
ar_network_wanted (const struct ar_egress_policy *policy, const struct ar_config *config)
{
  const struct ar_namespace *net = &config->linux_config.namespaces[AR_NS_NETWORK];

  if (policy == NULL || !net->present || net->path != NULL)
    return false;
  return policy->mode == AR_EGRESS_MODE_ALLOWLIST || policy->mode == AR_EGRESS_MODE_OPEN;
}

static json_t *
record_to_json (const struct ar_network_record *record)
{
  json_t *obj = json_object ();

  json_object_set_new (obj, "interface", json_string (record->interface));
  json_object_set_new (obj, "lease", json_integer (record->lease));
  if (record->has_v4)
    json_object_set_new (obj, "ipv4", json_pack ("{s:s, s:s, s:i}", "address", record->address4, "gateway",
                                                 record->gateway4, "prefix", (int) record->prefix4));
  if (record->has_v6)
    json_object_set_new (obj, "ipv6", json_pack ("{s:s, s:s, s:i}", "address", record->address6, "gateway",
                                                 record->gateway6, "prefix", (int) record->prefix6));
  return obj;
}

static bool
copy_string (json_t *obj, const char *key, char *out, size_t size)
{
  const char *value = json_string_value (json_object_get (obj, key));

  if (value == NULL || strlen (value) >= size)
    return false;
  strcpy (out, value);
  return true;
}

static int
record_from_json (json_t *obj, const char *id, struct ar_network_record *out, ar_error_t *err)
{
  struct ar_network_record record = { 0 };
  json_t *lease = json_object_get (obj, "lease");
  json_t *v4 = json_object_get (obj, "ipv4");
  json_t *v6 = json_object_get (obj, "ipv6");

  if (!copy_string (obj, "interface", record.interface, sizeof (record.interface)) || !json_is_integer (lease)
      || json_integer_value (lease) < 0 || json_integer_value (lease) > UINT32_MAX)
    goto invalid;
  record.lease = (uint32_t) json_integer_value (lease);
  if (v4)
    {
      record.has_v4 = true;
      record.prefix4 = (unsigned int) json_integer_value (json_object_get (v4, "prefix"));
      if (!copy_string (v4, "address", record.address4, sizeof (record.address4))
          || !copy_string (v4, "gateway", record.gateway4, sizeof (record.gateway4)))
        goto invalid;
    }
  if (v6)
    {
      record.has_v6 = true;
      record.prefix6 = (unsigned int) json_integer_value (json_object_get (v6, "prefix"));
      if (!copy_string (v6, "address", record.address6, sizeof (record.address6))
          || !copy_string (v6, "gateway", record.gateway6, sizeof (record.gateway6)))
        goto invalid;
    }
  *out = record;
  return 0;

invalid:
  return ar_make_error (err, EINVAL, "container `%s`: the key `network` of its state.json is invalid; remove its "
                        "veth pair (`ip link`), its elements in the nftables table inet " AR_NETWORK_HOST_TABLE
                        " and its address lease by hand",
                        id);
}

/* Fills the record for the lease at offset. */
static void
record_fill (struct ar_network_record *record, const struct ar_network_subnets *subnets, const char *root,
             const char *id, uint32_t offset)
{
  memset (record, 0, sizeof (*record));
  ar_network_host_interface (root, id, record->interface);
  record->lease = offset;
  if (subnets->has_v4)
    {
      record->has_v4 = true;
      record->prefix4 = subnets->v4.prefix;
      ar_subnet_address (&subnets->v4, offset, record->address4, sizeof (record->address4));
      ar_subnet_address (&subnets->v4, 1, record->gateway4, sizeof (record->gateway4));
    }
  if (subnets->has_v6)
    {
      record->has_v6 = true;
      record->prefix6 = subnets->v6.prefix;
      ar_subnet_address (&subnets->v6, offset, record->address6, sizeof (record->address6));
      ar_subnet_address (&subnets->v6, 1, record->gateway6, sizeof (record->gateway6));
    }
}

/* Removes what the record names, in the reverse order of setup.  The
 * lease stays while the veth pair or the table's elements do, so that no
 * other container gets an address whose route still exists. */
static int
record_teardown (const char *root, const char *id, const struct ar_network_record *record, ar_error_t *err)
{
  cleanup_error ar_error_t table_err = NULL;

  if (ar_host_table_remove (record, &table_err) < 0)
    {
      cleanup_free char *message = ar_error_format (table_err);
      if (ar_veth_delete (record->interface, err) < 0)
        {
          ar_warn ("container %s: %s", id, message);
          return -1;
        }
      *err = ar_steal_ptr (table_err);
      return -1;
    }
  if (ar_veth_delete (record->interface, err) < 0)
    return -1;
  if (ar_network_lease_release (root, id, record->lease, err) < 0)
    return -1;
  ar_debug ("container %s: removed its network (%s, lease %u)", id, record->interface, record->lease);
  return 0;
}

int
ar_network_setup (const char *root, struct ar_state *state, struct ar_egress_policy *policy,
                  const struct ar_config *config, pid_t pid, ar_error_t *err)
{
  cleanup_free char *netns_path = NULL;
  cleanup_close int netns_fd = -1;
  struct ar_network_subnets subnets;
  struct ar_network_record record;
  struct stat theirs, ours;
  uint32_t capacity = UINT32_MAX;
  uint32_t offset;

  if (!ar_network_wanted (policy, config))
    return 0;
  if (ar_network_subnets_parse (getenv (AR_NETWORK_SUBNET_ENV), &subnets, err) < 0)
    return -1;
  if (subnets.none)
    {
      ar_debug ("container %s: " AR_NETWORK_SUBNET_ENV "=none, so its namespace keeps only loopback", state->id);
      return 0;
    }

  netns_path = ar_xasprintf ("/proc/%d/ns/net", (int) pid);
  netns_fd = open (netns_path, O_RDONLY | O_CLOEXEC);
  if (netns_fd < 0)
    return ar_make_error (err, errno, "cannot open the network namespace `%s`", netns_path);
  if (fstat (netns_fd, &theirs) < 0 || stat ("/proc/self/ns/net", &ours) < 0)
    return ar_make_error (err, errno, "cannot read the network namespace `%s`", netns_path);
  if (theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino)
    return ar_make_error (err, EINVAL, "the container shares the runtime's network namespace, where agentrun "
                          "makes no veth pair");

  if (subnets.has_v4)
    capacity = ar_subnet_capacity (&subnets.v4);
  if (subnets.has_v6 && ar_subnet_capacity (&subnets.v6) < capacity)
    capacity = ar_subnet_capacity (&subnets.v6);
  if (ar_network_lease_take (root, state->id, capacity, &offset, err) < 0)
    return -1;
  record_fill (&record, &subnets, root, state->id, offset);

  /* The record reaches state.json before anything else exists, so that
   * `delete --force` finds whatever a crashed create left. */
  state->network = record_to_json (&record);
  if (ar_state_write (root, state, err) < 0)
    goto fail;

  if (ar_veth_create (&record, netns_fd, err) < 0 || ar_host_table_add (&record, err) < 0
      || ar_host_forwarding_enable (record.has_v4, record.has_v6, err) < 0)
    goto fail;
  if ((record.has_v4 && ar_egress_close_address (policy, record.gateway4, err) < 0)
      || (record.has_v6 && ar_egress_close_address (policy, record.gateway6, err) < 0))
    goto fail;
  /* The resolver stays the rootfs's or the engine's; with domain rules,
   * dns.c mounts one that names the keeper's responder. */
  ar_debug ("container %s: network on %s, addresses %s %s", state->id, record.interface,
            record.has_v4 ? record.address4 : "", record.has_v6 ? record.address6 : "");
  return 0;

fail:
  {
    cleanup_error ar_error_t undo_err = NULL;

    if (record_teardown (root, state->id, &record, &undo_err) < 0)
      {
        cleanup_free char *message = ar_error_format (undo_err);
        ar_warn ("container %s: %s", state->id, message);
      }
  }
  return -1;
}

int
ar_network_teardown (const char *root, const struct ar_state *state, ar_error_t *err)
{
  struct ar_network_record record;

  if (state->network == NULL)
    return 0;
  if (record_from_json (state->network, state->id, &record, err) < 0)
    return -1;
  return record_teardown (root, state->id, &record, err);
}
