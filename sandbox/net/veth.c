/* The veth pair of agentrun's container network, made and configured with
 * libnl-route-3.  The host end is configured from the runtime's own
 * namespace; the container end from a short-lived child that joins the
 * container's namespace, so that the runtime never leaves its own. */
#define _GNU_SOURCE
#include "net/network_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/addr.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci/log.h"
#include "oci/util.h"

static void
nl_socket_freep (struct nl_sock **sock)
{
  if (*sock)
    nl_socket_free (*sock);
}

static void
rtnl_link_putp (struct rtnl_link **link)
{
  if (*link)
    rtnl_link_put (*link);
}

static void
nl_addr_putp (struct nl_addr **addr)
{
  if (*addr)
    nl_addr_put (*addr);
}

#define cleanup_nl_socket __attribute__ ((cleanup (nl_socket_freep)))
#define cleanup_rtnl_link __attribute__ ((cleanup (rtnl_link_putp)))
#define cleanup_nl_addr __attribute__ ((cleanup (nl_addr_putp)))

/* libnl returns its own negative NLE_* codes, which are no errno values. */
static int
nl_error (ar_error_t *err, int nl_code, const char *what)
{
  return ar_make_error (err, EIO, "%s: %s", what, nl_geterror (nl_code));
}

static int
route_socket_open (struct nl_sock **out, ar_error_t *err)
{
  struct nl_sock *sock = nl_socket_alloc ();
  int ret;

  if (sock == NULL)
    return ar_make_error (err, ENOMEM, "cannot allocate a netlink socket");
  ret = nl_connect (sock, NETLINK_ROUTE);
  if (ret < 0)
    {
      nl_socket_free (sock);
      return nl_error (err, ret, "cannot open a netlink route socket");
    }
  *out = sock;
  return 0;
}

static int
link_up (struct nl_sock *sock, const char *name, int *ifindex, ar_error_t *err)
{
  cleanup_rtnl_link struct rtnl_link *link = NULL;
  cleanup_rtnl_link struct rtnl_link *change = rtnl_link_alloc ();
  int ret;

  if (change == NULL)
    return ar_make_error (err, ENOMEM, "cannot allocate a link");
  ret = rtnl_link_get_kernel (sock, 0, name, &link);
  if (ret < 0)
    return ar_make_error (err, EIO, "cannot find the interface `%s`: %s", name, nl_geterror (ret));
  rtnl_link_set_flags (change, IFF_UP);
  ret = rtnl_link_change (sock, link, change, 0);
  if (ret < 0)
    return ar_make_error (err, EIO, "cannot bring up the interface `%s`: %s", name, nl_geterror (ret));
  if (ifindex)
    *ifindex = rtnl_link_get_ifindex (link);
  return 0;
}

static int
parse_address (const char *text, int family, unsigned int prefix, struct nl_addr **out, ar_error_t *err)
{
  int ret = nl_addr_parse (text, family, out);

  if (ret < 0)
    return ar_make_error (err, EINVAL, "invalid address `%s`: %s", text, nl_geterror (ret));
  nl_addr_set_prefixlen (*out, (int) prefix);
  return 0;
}

/* Adds text/prefix to the interface, without duplicate address detection:
 * agentrun gave out the address, and detection would hold it back for a
 * second or more. */
static int
address_add (struct nl_sock *sock, int ifindex, const char *name, int family, const char *text, unsigned int prefix,
             ar_error_t *err)
{
  cleanup_nl_addr struct nl_addr *local = NULL;
  struct rtnl_addr *addr;
  int ret;

  if (parse_address (text, family, prefix, &local, err) < 0)
    return -1;
  addr = rtnl_addr_alloc ();
  if (addr == NULL)
    return ar_make_error (err, ENOMEM, "cannot allocate an address");
  rtnl_addr_set_ifindex (addr, ifindex);
  rtnl_addr_set_family (addr, family);
  ret = rtnl_addr_set_local (addr, local);
  if (ret == 0)
    {
      if (family == AF_INET6)
        rtnl_addr_set_flags (addr, IFA_F_NODAD);
      ret = rtnl_addr_add (sock, addr, 0);
    }
  rtnl_addr_put (addr);
  if (ret < 0 && family == AF_INET6)
    return ar_make_error (err, EIO, "cannot add the address %s/%u to `%s` (when IPv6 is disabled, set "
                          AR_NETWORK_SUBNET_ENV " to an IPv4 range only): %s",
                          text, prefix, name, nl_geterror (ret));
  if (ret < 0)
    return ar_make_error (err, EIO, "cannot add the address %s/%u to `%s`: %s", text, prefix, name, nl_geterror (ret));
  return 0;
}

/* Adds a route to destination (`default` or ADDRESS/PREFIX) through the
 * interface, via gateway when it is not NULL. */
static int
route_add (struct nl_sock *sock, int ifindex, const char *name, int family, const char *destination,
           const char *gateway, ar_error_t *err)
{
  cleanup_nl_addr struct nl_addr *dst = NULL;
  cleanup_nl_addr struct nl_addr *via = NULL;
  struct rtnl_route *route;
  struct rtnl_nexthop *nexthop;
  int ret;

  ret = nl_addr_parse (destination, family, &dst);
  if (ret < 0)
    return ar_make_error (err, EINVAL, "invalid route destination `%s`: %s", destination, nl_geterror (ret));
  if (gateway && parse_address (gateway, family, family == AF_INET ? 32 : 128, &via, err) < 0)
    return -1;

  route = rtnl_route_alloc ();
  nexthop = rtnl_route_nh_alloc ();
  if (route == NULL || nexthop == NULL)
    abort ();
  rtnl_route_set_family (route, (uint8_t) family);
  rtnl_route_set_table (route, RT_TABLE_MAIN);
  rtnl_route_set_protocol (route, RTPROT_STATIC);
  rtnl_route_set_scope (route, gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
  rtnl_route_set_type (route, RTN_UNICAST);
  ret = rtnl_route_set_dst (route, dst);
  rtnl_route_nh_set_ifindex (nexthop, ifindex);
  if (gateway)
    rtnl_route_nh_set_gateway (nexthop, via);
  rtnl_route_add_nexthop (route, nexthop);
  if (ret == 0)
    ret = rtnl_route_add (sock, route, NLM_F_EXCL);
  rtnl_route_put (route);
  if (ret == -NLE_EXIST)
    return ar_make_error (err, EEXIST, "cannot add the route to %s through `%s`: a route to it exists already; is "
                          "the subnet in " AR_NETWORK_SUBNET_ENV " used by another --root or network?",
                          destination, name);
  if (ret < 0)
    return ar_make_error (err, EIO, "cannot add the route to %s through `%s`: %s", destination, name,
                          nl_geterror (ret));
  return 0;
}

/* Configures the container end, in the child that has joined the
 * container's namespace: lo and eth0 up, the addresses, default routes. */
static int
configure_container_end (const struct ar_network_record *record, ar_error_t *err)
{
  cleanup_nl_socket struct nl_sock *sock = NULL;
  const char *name = AR_NETWORK_CONTAINER_INTERFACE;
  int ifindex;

  if (route_socket_open (&sock, err) < 0)
    return -1;
  if (link_up (sock, "lo", NULL, err) < 0 || link_up (sock, name, &ifindex, err) < 0)
    return -1;
  if (record->has_v4
      && (address_add (sock, ifindex, name, AF_INET, record->address4, record->prefix4, err) < 0
          || route_add (sock, ifindex, name, AF_INET, "default", record->gateway4, err) < 0))
    return -1;
  if (record->has_v6
      && (address_add (sock, ifindex, name, AF_INET6, record->address6, record->prefix6, err) < 0
          || route_add (sock, ifindex, name, AF_INET6, "default", record->gateway6, err) < 0))
    return -1;
  return 0;
}

static int __attribute__ ((noreturn))
container_end_child (const struct ar_network_record *record, int netns_fd, int error_fd)
{
  cleanup_error ar_error_t err = NULL;

  if (setns (netns_fd, CLONE_NEWNET) < 0)
    ar_make_error (&err, errno, "cannot join the container's network namespace");
  else
    configure_container_end (record, &err);
  if (err)
    {
      cleanup_free char *message = ar_error_format (err);
      ar_write_all (error_fd, message, strlen (message));
      _exit (1);
    }
  _exit (0);
}

static int
configure_in_netns (const struct ar_network_record *record, int netns_fd, ar_error_t *err)
{
  char message[4096];
  size_t used = 0;
  ssize_t n;
  int pipe_fds[2];
  int status;
  pid_t pid;

  if (pipe2 (pipe_fds, O_CLOEXEC) < 0)
    return ar_make_error (err, errno, "cannot create a pipe");
  pid = fork ();
  if (pid < 0)
    {
      int saved = errno;
      close (pipe_fds[0]);
      close (pipe_fds[1]);
      return ar_make_error (err, saved, "cannot fork to configure the container's network");
    }
  if (pid == 0)
    {
      close (pipe_fds[0]);
      container_end_child (record, netns_fd, pipe_fds[1]);
    }

  close (pipe_fds[1]);
  while (used < sizeof (message) - 1
         && ((n = read (pipe_fds[0], message + used, sizeof (message) - 1 - used)) > 0 || (n < 0 && errno == EINTR)))
    if (n > 0)
      used += (size_t) n;
  message[used] = '\0';
  close (pipe_fds[0]);

  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return ar_make_error (err, errno, "cannot wait for the process configuring the container's network");
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return ar_make_error (err, EIO, "cannot configure `" AR_NETWORK_CONTAINER_INTERFACE
                          "` in the container's network namespace: %s",
                          used ? message : "the process exited without a message");
  return 0;
}

static int
configure_host_end (struct nl_sock *sock, const struct ar_network_record *record, ar_error_t *err)
{
  const char *name = record->interface;
  int ifindex;

  if (link_up (sock, name, &ifindex, err) < 0)
    return -1;
  if (record->has_v4)
    {
      cleanup_free char *destination = ar_xasprintf ("%s/32", record->address4);

      if (address_add (sock, ifindex, name, AF_INET, record->gateway4, 32, err) < 0
          || route_add (sock, ifindex, name, AF_INET, destination, NULL, err) < 0)
        return -1;
    }
  if (record->has_v6)
    {
      cleanup_free char *destination = ar_xasprintf ("%s/128", record->address6);

      if (address_add (sock, ifindex, name, AF_INET6, record->gateway6, 128, err) < 0
          || route_add (sock, ifindex, name, AF_INET6, destination, NULL, err) < 0)
        return -1;
    }
  return 0;
}

int
ar_veth_create (const struct ar_network_record *record, int netns_fd, ar_error_t *err)
{
  cleanup_nl_socket struct nl_sock *sock = NULL;
  cleanup_rtnl_link struct rtnl_link *link = rtnl_link_veth_alloc ();
  cleanup_rtnl_link struct rtnl_link *peer = NULL;
  int ret;

  if (link == NULL)
    return ar_make_error (err, ENOMEM, "cannot allocate a veth link");
  if (route_socket_open (&sock, err) < 0)
    return -1;

  /* The peer is created in the container's namespace directly, so its
   * name never meets the host's interfaces. */
  peer = rtnl_link_veth_get_peer (link);
  rtnl_link_set_name (link, record->interface);
  rtnl_link_set_name (peer, AR_NETWORK_CONTAINER_INTERFACE);
  rtnl_link_set_ns_fd (peer, netns_fd);
  ret = rtnl_link_add (sock, link, NLM_F_CREATE | NLM_F_EXCL);
  if (ret == -NLE_EXIST)
    return ar_make_error (err, EEXIST, "cannot create the veth pair `%s`: an interface with that name exists; "
                          "remove it with `ip link delete %s` if no container uses it",
                          record->interface, record->interface);
  if (ret < 0)
    return ar_make_error (err, EIO, "cannot create the veth pair `%s` (does the kernel have the veth module?): %s",
                          record->interface, nl_geterror (ret));
  ar_debug ("created the veth pair %s with its peer in the container's namespace", record->interface);

  if (configure_host_end (sock, record, err) < 0)
    return ar_error_wrap (err, "host end `%s`", record->interface);
  return configure_in_netns (record, netns_fd, err);
}

int
ar_veth_delete (const char *interface, ar_error_t *err)
{
  cleanup_nl_socket struct nl_sock *sock = NULL;
  cleanup_rtnl_link struct rtnl_link *link = rtnl_link_alloc ();
  int ret;

  if (link == NULL)
    return ar_make_error (err, ENOMEM, "cannot allocate a link");
  if (route_socket_open (&sock, err) < 0)
    return -1;
  rtnl_link_set_name (link, interface);
  ret = rtnl_link_delete (sock, link);
  if (ret == -NLE_NODEV || ret == -NLE_OBJ_NOTFOUND)
    return 0;
  if (ret < 0)
    return ar_make_error (err, EIO, "cannot delete the veth pair `%s`: %s", interface, nl_geterror (ret));
  ar_debug ("deleted the veth pair %s", interface);
  return 0;
}
