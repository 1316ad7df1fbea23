/* The subnets of agentrun's container network and the address leases in
 * the state root. */
#define _GNU_SOURCE
#include "net/network_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/log.h"
#include "oci/util.h"

/* The most container addresses a subnet gives out, so that an offset fits
 * in the last 32 bits of an address and a lease scan stays short. */
#define MAX_CAPACITY (UINT32_C (1) << 24)

#define LEASE_DIR ".network"

/* Rejects ranges where the container's address would not work or would be
 * closed by the egress table anyway. */
static const char *
reserved_range (const struct ar_subnet *subnet)
{
  const unsigned char *a = subnet->addr;

  if (subnet->family == AF_INET)
    {
      if (a[0] == 0 || a[0] == 127)
        return "a loopback or unspecified range";
      if (a[0] == 169 && a[1] == 254)
        return "the link-local range 169.254.0.0/16";
      if (a[0] >= 224)
        return "a multicast or reserved range";
      return NULL;
    }
  if (a[0] == 0xff)
    return "a multicast range";
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
    return "the link-local range fe80::/10";
  if (subnet->prefix < 8 || (a[0] == 0 && a[1] == 0))
    return "a range that contains loopback, unspecified or mapped IPv4 addresses";
  return NULL;
}

static int
parse_subnet (const char *text, struct ar_subnet *out, ar_error_t *err)
{
  cleanup_free char *copy = ar_xstrdup (text);
  char *slash = strchr (copy, '/');
  unsigned int max_prefix, max_allowed;
  const char *why;
  long prefix;

  memset (out, 0, sizeof (*out));
  if (slash == NULL)
    return ar_make_error (err, EINVAL, AR_NETWORK_SUBNET_ENV ": `%s` has no prefix length; write a range such as "
                          AR_NETWORK_DEFAULT_SUBNET4 " or " AR_NETWORK_DEFAULT_SUBNET6,
                          text);
  *slash++ = '\0';
  if (inet_pton (AF_INET, copy, out->addr) == 1)
    {
      out->family = AF_INET;
      max_prefix = 32;
      max_allowed = 30;
    }
  else if (inet_pton (AF_INET6, copy, out->addr) == 1)
    {
      out->family = AF_INET6;
      max_prefix = 128;
      max_allowed = 126;
    }
  else
    return ar_make_error (err, EINVAL, AR_NETWORK_SUBNET_ENV ": `%s` is not an IPv4 or IPv6 address", copy);

  if (ar_parse_long (slash, &prefix) < 0 || prefix < 1 || prefix > (long) max_allowed)
    return ar_make_error (err, EINVAL, AR_NETWORK_SUBNET_ENV ": the prefix length of `%s` must be between 1 and %u, "
                          "so that the range holds a gateway and a container",
                          text, max_allowed);
  out->prefix = (unsigned int) prefix;
  for (unsigned int bit = out->prefix; bit < max_prefix; bit++)
    if (out->addr[bit / 8] & (0x80 >> (bit % 8)))
      return ar_make_error (err, EINVAL, AR_NETWORK_SUBNET_ENV ": `%s` has host bits set; write the network "
                            "address, with the bits after the prefix zero",
                            text);
  why = reserved_range (out);
  if (why)
    return ar_make_error (err, EINVAL, AR_NETWORK_SUBNET_ENV ": `%s` is %s; choose a private range such as "
                          AR_NETWORK_DEFAULT_SUBNET4 " or " AR_NETWORK_DEFAULT_SUBNET6,
                          text, why);
  return 0;
}

int
ar_network_subnets_parse (const char *text, struct ar_network_subnets *out, ar_error_t *err)
{
  struct ar_network_subnets subnets = { 0 };
  cleanup_free char *copy = NULL;
  char *saveptr = NULL;

  if (text == NULL || *text == '\0')
    text = AR_NETWORK_DEFAULT_SUBNET4 "," AR_NETWORK_DEFAULT_SUBNET6;
  if (strcmp (text, "none") == 0)
    {
      subnets.none = true;
      *out = subnets;
      return 0;
    }

  copy = ar_xstrdup (text);
  for (char *item = strtok_r (copy, ",", &saveptr); item; item = strtok_r (NULL, ",", &saveptr))
    {
      struct ar_subnet subnet;

      while (*item == ' ')
        item++;
      for (size_t len = strlen (item); len > 0 && item[len - 1] == ' '; len--)
        item[len - 1] = '\0';
      if (parse_subnet (item, &subnet, err) < 0)
        return -1;
      if ((subnet.family == AF_INET && subnets.has_v4) || (subnet.family == AF_INET6 && subnets.has_v6))
        return ar_make_error (err, EINVAL, AR_NETWORK_SUBNET_ENV ": `%s` lists two %s ranges; give at most one "
                              "IPv4 and one IPv6 range",
                              text, subnet.family == AF_INET ? "IPv4" : "IPv6");
      if (subnet.family == AF_INET)
        {
          subnets.v4 = subnet;
          subnets.has_v4 = true;
        }
      else
        {
          subnets.v6 = subnet;
          subnets.has_v6 = true;
        }
    }
  if (!subnets.has_v4 && !subnets.has_v6)
    return ar_make_error (err, EINVAL, AR_NETWORK_SUBNET_ENV ": `%s` lists no range; give `none` or up to one IPv4 "
                          "and one IPv6 range separated by a comma",
                          text);
  *out = subnets;
  return 0;
}

uint32_t
ar_subnet_capacity (const struct ar_subnet *subnet)
{
  unsigned int host_bits = (subnet->family == AF_INET ? 32 : 128) - subnet->prefix;
  uint32_t reserved = subnet->family == AF_INET ? 3 : 2;

  if (host_bits > 24)
    return MAX_CAPACITY;
  return (UINT32_C (1) << host_bits) - reserved;
}

void
ar_subnet_address (const struct ar_subnet *subnet, uint32_t offset, char *text, size_t size)
{
  unsigned char addr[16];
  size_t len = subnet->family == AF_INET ? 4 : 16;
  uint32_t tail;

  /* The offset stays below 2^(host bits), so adding it to the last 32
   * bits never carries into the prefix. */
  memcpy (addr, subnet->addr, sizeof (addr));
  tail = ((uint32_t) addr[len - 4] << 24) | ((uint32_t) addr[len - 3] << 16) | ((uint32_t) addr[len - 2] << 8)
         | addr[len - 1];
  tail += offset;
  addr[len - 4] = (unsigned char) (tail >> 24);
  addr[len - 3] = (unsigned char) (tail >> 16);
  addr[len - 2] = (unsigned char) (tail >> 8);
  addr[len - 1] = (unsigned char) tail;
  inet_ntop (subnet->family, addr, text, (socklen_t) size);
}

void
ar_network_host_interface (const char *root, const char *id, char name[16])
{
  uint64_t hash = UINT64_C (14695981039346656037); /* FNV-1a, 64 bits */

  for (const char *p = root; *p; p++)
    hash = (hash ^ (unsigned char) *p) * UINT64_C (1099511628211);
  hash = (hash ^ 0) * UINT64_C (1099511628211);
  for (const char *p = id; *p; p++)
    hash = (hash ^ (unsigned char) *p) * UINT64_C (1099511628211);
  snprintf (name, 16, "ar%012llx", (unsigned long long) (hash & UINT64_C (0xffffffffffff)));
}

/* Opens ROOT/.network/leases (created when missing) and takes the lock. */
static int
lease_dir_open (const char *root, int *lock_out, ar_error_t *err)
{
  cleanup_free char *dir = ar_xasprintf ("%s/" LEASE_DIR "/leases", root);
  cleanup_free char *lock_path = ar_xasprintf ("%s/" LEASE_DIR "/lock", root);
  cleanup_close int lock = -1;
  int fd;

  if (ar_mkdir_p (dir, 0700, err) < 0)
    return -1;
  lock = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock < 0)
    return ar_make_error (err, errno, "cannot open the address lease lock `%s`", lock_path);
  while (flock (lock, LOCK_EX) < 0)
    if (errno != EINTR)
      return ar_make_error (err, errno, "cannot lock `%s`", lock_path);
  fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return ar_make_error (err, errno, "cannot open the address lease folder `%s`", dir);
  *lock_out = ar_steal_fd (lock);
  return fd;
}

/* Reads the id in the lease file name; NULL when it is missing. */
static char *
lease_owner (int dir_fd, const char *name)
{
  char buf[1100];
  cleanup_close int fd = openat (dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  ssize_t n;

  if (fd < 0)
    return NULL;
  n = ar_read_all (fd, buf, sizeof (buf) - 1);
  if (n < 0)
    return NULL;
  buf[n] = '\0';
  return ar_xstrdup (buf);
}

/* A lease is stale when its container's state folder is gone: create
 * makes that folder before it takes a lease, and delete removes the lease
 * before the folder. */
static bool
lease_stale (const char *root, const char *owner)
{
  cleanup_free char *path = NULL;
  struct stat st;

  if (owner[0] == '\0' || owner[0] == '.' || strchr (owner, '/'))
    return true;
  path = ar_xasprintf ("%s/%s", root, owner);
  return stat (path, &st) < 0 && errno == ENOENT;
}

int
ar_network_lease_take (const char *root, const char *id, uint32_t capacity, uint32_t *out, ar_error_t *err)
{
  cleanup_close int lock = -1;
  cleanup_close int dir_fd = lease_dir_open (root, &lock, err);

  if (dir_fd < 0)
    return -1;
  for (uint32_t offset = 2; offset < capacity + 2; offset++)
    {
      char name[16];
      cleanup_close int fd = -1;

      snprintf (name, sizeof (name), "%u", offset);
      fd = openat (dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (fd < 0 && errno == EEXIST)
        {
          cleanup_free char *owner = lease_owner (dir_fd, name);

          if (owner == NULL || !lease_stale (root, owner))
            continue;
          ar_debug ("taking over the stale address lease %u of container %s", offset, owner);
          if (unlinkat (dir_fd, name, 0) < 0)
            return ar_make_error (err, errno, "cannot remove the stale address lease `%s/" LEASE_DIR "/leases/%s`",
                                  root, name);
          fd = openat (dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        }
      if (fd < 0)
        return ar_make_error (err, errno, "cannot create the address lease `%s/" LEASE_DIR "/leases/%s`", root, name);
      if (ar_write_all (fd, id, strlen (id)) < 0)
        {
          int saved = errno;
          unlinkat (dir_fd, name, 0);
          return ar_make_error (err, saved, "cannot write the address lease `%s/" LEASE_DIR "/leases/%s`", root, name);
        }
      *out = offset;
      return 0;
    }
  return ar_make_error (err, ENOSPC, "every one of the %u container addresses in the subnet is leased (see `%s/"
                        LEASE_DIR "/leases`); delete stopped containers or set " AR_NETWORK_SUBNET_ENV
                        " to a larger range",
                        capacity, root);
}

int
ar_network_lease_release (const char *root, const char *id, uint32_t offset, ar_error_t *err)
{
  cleanup_close int lock = -1;
  cleanup_close int dir_fd = lease_dir_open (root, &lock, err);
  cleanup_free char *owner = NULL;
  char name[16];

  if (dir_fd < 0)
    return -1;
  snprintf (name, sizeof (name), "%u", offset);
  owner = lease_owner (dir_fd, name);
  if (owner == NULL || strcmp (owner, id) != 0)
    return 0;
  if (unlinkat (dir_fd, name, 0) < 0 && errno != ENOENT)
    return ar_make_error (err, errno, "cannot remove the address lease `%s/" LEASE_DIR "/leases/%s`", root, name);
  return 0;
}
