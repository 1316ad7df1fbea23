/* The host side of agentrun's container network: the nftables table
 * inet agentrun-host in the runtime's namespace, which forwards and
 * masquerades the containers' traffic, and the forwarding switches.
 *
 * The table's rules are fixed; each container adds its host end to the set
 * `interfaces` and its addresses to `addresses4` and `addresses6`, and
 * delete removes those elements.  The table stays when the last container
 * is gone, empty and inert. */
#define _GNU_SOURCE
#include "net/network_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci/log.h"
#include "oci/util.h"

#define TABLE "inet " AR_NETWORK_HOST_TABLE

/* `create table` fails when the table exists, so two runtimes that both
 * find it missing cannot both add its rules: the second one's transaction
 * fails as a whole, and it goes on with the table the first one made.
 * Traffic between two containers, and connections that something else
 * opens to a container, are dropped.  A forwarded packet from a container
 * must carry one of the containers' addresses, so one that a container
 * forges is never masqueraded.  The forward chain accepts the rest, which
 * leaves the host's other forwarding to the host's own rules. */
static const char host_table[] =
  "create table " TABLE "\n"
  "table " TABLE " {\n"
  "  set interfaces { type ifname; }\n"
  "  set addresses4 { type ipv4_addr; }\n"
  "  set addresses6 { type ipv6_addr; }\n"
  "  chain forward {\n"
  "    type filter hook forward priority filter; policy accept;\n"
  "    oifname @interfaces ct state established,related accept\n"
  "    oifname @interfaces drop\n"
  "    iifname @interfaces ip saddr != @addresses4 drop\n"
  "    iifname @interfaces ip6 saddr != @addresses6 drop\n"
  "  }\n"
  "  chain postrouting {\n"
  "    type nat hook postrouting priority srcnat; policy accept;\n"
  "    ip saddr @addresses4 oifname != @interfaces masquerade\n"
  "    ip6 saddr @addresses6 oifname != @interfaces masquerade\n"
  "  }\n"
  "}\n";

static void
nft_ctx_freep (struct nft_ctx **nft)
{
  if (*nft)
    nft_ctx_free (*nft);
}

#define cleanup_nft_ctx __attribute__ ((cleanup (nft_ctx_freep)))

/* Runs an nft script; on failure, stores nft's error text in *message. */
static int
nft_run (const char *script, char **message)
{
  cleanup_nft_ctx struct nft_ctx *nft = nft_ctx_new (NFT_CTX_DEFAULT);
  const char *text;

  if (nft == NULL)
    {
      *message = ar_xstrdup ("cannot create an nftables context");
      return -1;
    }
  nft_ctx_buffer_output (nft);
  nft_ctx_buffer_error (nft);
  if (nft_run_cmd_from_buffer (nft, script) == 0)
    return 0;
  text = nft_ctx_get_error_buffer (nft);
  *message = ar_xstrdup (text && *text ? text : "nft rejected the script without a message");
  for (size_t len = strlen (*message); len > 0 && ((*message)[len - 1] == '\n' || (*message)[len - 1] == ' '); len--)
    (*message)[len - 1] = '\0';
  return -1;
}

/* The elements of one container, as `{ ... }` lines for `add element` or
 * `delete element`. */
static char *
element_script (const char *verb, const struct ar_network_record *record)
{
  char *text = NULL;
  size_t len = 0;
  FILE *buf = open_memstream (&text, &len);

  if (buf == NULL)
    abort ();
  fprintf (buf, "%s element " TABLE " interfaces { \"%s\" }\n", verb, record->interface);
  if (record->has_v4)
    fprintf (buf, "%s element " TABLE " addresses4 { %s }\n", verb, record->address4);
  if (record->has_v6)
    fprintf (buf, "%s element " TABLE " addresses6 { %s }\n", verb, record->address6);
  fclose (buf);
  return text;
}

int
ar_host_table_add (const struct ar_network_record *record, ar_error_t *err)
{
  cleanup_free char *message = NULL;
  cleanup_free char *script = element_script ("add", record);

  if (nft_run (host_table, &message) == 0)
    ar_debug ("created the nftables table %s", TABLE);
  else if (strstr (message, "File exists") == NULL)
    return ar_make_error (err, EIO, "cannot create the nftables table %s on the host (does the kernel have "
                          "nf_tables and nft_masq?): %s",
                          TABLE, message);

  free (message);
  message = NULL;
  if (nft_run (script, &message) < 0)
    return ar_make_error (err, EIO, "cannot add container interface `%s` to the nftables table %s on the host; "
                          "if the table was changed by hand, remove it with `nft delete table %s` once no "
                          "container runs: %s",
                          record->interface, TABLE, TABLE, message);
  return 0;
}

int
ar_host_table_remove (const struct ar_network_record *record, ar_error_t *err)
{
  cleanup_free char *message = NULL;
  cleanup_free char *lines = element_script ("delete", record);
  char *saveptr = NULL;
  int ret = 0;

  /* One transaction removes all of them, unless one is gone already (a
   * create that failed halfway), which fails the whole transaction.  Then
   * they go one at a time, since nft 1.0.6 has no `destroy element`.
   * Each transaction takes about 10 ms here. */
  if (nft_run (lines, &message) == 0)
    return 0;
  free (message);
  message = NULL;
  for (char *line = strtok_r (lines, "\n", &saveptr); line; line = strtok_r (NULL, "\n", &saveptr))
    {
      if (nft_run (line, &message) < 0 && strstr (message, "No such file or directory") == NULL && ret == 0)
        ret = ar_make_error (err, EIO, "cannot remove container interface `%s` from the nftables table %s on "
                             "the host: %s",
                             record->interface, TABLE, message);
      free (message);
      message = NULL;
    }
  return ret;
}

/* Writes "1" to the sysctl file path when it contains "0". */
static int
sysctl_enable (const char *path, ar_error_t *err)
{
  char value[8] = "";
  cleanup_close int fd = open (path, O_RDWR | O_CLOEXEC);
  ssize_t n;

  if (fd < 0)
    return ar_make_error (err, errno, "cannot open `%s`", path);
  n = ar_read_all (fd, value, sizeof (value) - 1);
  if (n < 0)
    return ar_make_error (err, errno, "cannot read `%s`", path);
  if (value[0] != '0')
    return 0;
  if (lseek (fd, 0, SEEK_SET) < 0 || ar_write_all (fd, "1\n", 2) < 0)
    return ar_make_error (err, errno, "cannot write 1 to `%s` to turn on forwarding for the containers", path);
  ar_debug ("turned on forwarding in the runtime's network namespace: %s = 1", path);
  return 0;
}

int
ar_host_forwarding_enable (bool v4, bool v6, ar_error_t *err)
{
  if (v4 && sysctl_enable ("/proc/sys/net/ipv4/ip_forward", err) < 0)
    return -1;
  /* NOTE: with forwarding on, interfaces with accept_ra = 1 ignore router
   * advertisements, as docs/network.md explains. */
  if (v6 && sysctl_enable ("/proc/sys/net/ipv6/conf/all/forwarding", err) < 0)
    return -1;
  return 0;
}
