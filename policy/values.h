/* Parsers and printers for the values of a policy: sizes, CPU amounts,
 * durations, modes, ports, paths, address ranges, host names,
 * capabilities and system calls.  The parsers return 0, or -1 with
 * *problem set to a message that states what is wrong and how to write
 * it.  The message is static text, except where a parser's documentation
 * calls it allocated. */
#ifndef AGENTRUN_POLICY_VALUES_H
#define AGENTRUN_POLICY_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* An integer of bytes, or a number with a unit: K, M, G, T (powers of
 * 1000) or Ki, Mi, Gi, Ti (powers of 1024), as Kubernetes writes them. */
int ar_policy_parse_size (const char *text, uint64_t *out, const char **problem);

/* A number of CPUs with up to three decimals ("1.5"), or millicpus
 * ("500m"); stored in millicpus. */
int ar_policy_parse_cpu (const char *text, uint64_t *out, const char **problem);

/* An integer of seconds, or amounts with units d, h, m, s such as
 * "1h30m". */
int ar_policy_parse_duration (const char *text, uint64_t *out, const char **problem);

/* Three or four octal digits, such as 1777 or 0755. */
int ar_policy_parse_mode (const char *text, uint64_t *out, const char **problem);

/* A port (443) or an inclusive range ("8000-8100"), 1 to 65535. */
int ar_policy_parse_port_range (const char *text, struct ar_policy_port_range *out, const char **problem);

/* Checks an absolute path and returns it without repeated or trailing
 * slashes; "." and ".." components are rejected. */
char *ar_policy_normalize_path (const char *path, const char **problem);

/* Whether path is prefix or lies below it; both normalised. */
bool ar_policy_path_within (const char *path, const char *prefix);

struct ar_policy_cidr
{
  int family; /* AF_INET or AF_INET6 */
  unsigned char address[16];
  unsigned int prefix;
};

/* An IPv4 or IPv6 address range ("10.0.0.0/8"); a bare address means
 * that address alone.  Host bits must be zero.  *problem is allocated. */
int ar_policy_parse_cidr (const char *text, struct ar_policy_cidr *out, char **problem);
char *ar_policy_format_cidr (const struct ar_policy_cidr *cidr);
bool ar_policy_cidr_contains (const struct ar_policy_cidr *cidr, int family, const unsigned char *address);

/* A host name ("api.example.com") or a suffix pattern ("*.example.com"),
 * returned in lowercase without a trailing dot.  *problem is allocated;
 * *warning (allocated, may stay NULL) flags a pattern that matches a
 * whole top-level domain. */
int ar_policy_parse_domain (const char *text, char **out, char **problem, char **warning);

/* A Kubernetes annotation or label key: an optional prefix, a DNS
 * subdomain of at most 253 characters followed by `/`, then a name of 1 to
 * 63 letters, digits, `-`, `_` and `.` that starts and ends with a letter
 * or digit, such as io.kubernetes.pod.namespace or example.com/team. */
int ar_policy_check_annotation_key (const char *key, const char **problem);

/* Resolves "CAP_NET_ADMIN" (any case) with libcap; returns the number or
 * -1. */
int ar_policy_capability_number (const char *name);

/* Resolves a system call name with libseccomp for the native
 * architecture; false when libseccomp does not know the name. */
bool ar_policy_syscall_known (const char *name);

/* Printers in the units a reviewer reads: "512Mi", "1.5", "1h30m". */
char *ar_policy_format_size (uint64_t bytes);
char *ar_policy_format_cpu (uint64_t millicpus);
char *ar_policy_format_duration (uint64_t seconds);
char *ar_policy_format_ports (const struct ar_policy_ports *ports);

/* Levenshtein distance, for "did you mean" hints. */
size_t ar_policy_edit_distance (const char *a, const char *b);

/* Picks the entry of a NULL-terminated list closest to word, or NULL when
 * none is close enough to be a likely typo. */
const char *ar_policy_closest (const char *word, const char *const *candidates);

#endif
