#define _GNU_SOURCE
#include "values.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/socket.h>

#include "oci/util.h"

/* Reads a decimal with up to `max_decimals` decimals as an integer scaled
 * by 10^max_decimals; returns the position after it, or NULL. */
static const char *
read_decimal (const char *text, unsigned int max_decimals, uint64_t *out)
{
  uint64_t value = 0;
  unsigned int decimals = 0;
  const char *p = text;

  if (!isdigit ((unsigned char) *p))
    return NULL;
  for (; isdigit ((unsigned char) *p); p++)
    {
      if (value > (UINT64_MAX - 9) / 10)
        return NULL;
      value = value * 10 + (uint64_t) (*p - '0');
    }
  if (*p == '.')
    {
      p++;
      if (!isdigit ((unsigned char) *p))
        return NULL;
      for (; isdigit ((unsigned char) *p); p++)
        {
          if (decimals == max_decimals)
            {
              if (*p != '0')
                return NULL;
              continue;
            }
          if (value > (UINT64_MAX - 9) / 10)
            return NULL;
          value = value * 10 + (uint64_t) (*p - '0');
          decimals++;
        }
    }
  for (; decimals < max_decimals; decimals++)
    {
      if (value > UINT64_MAX / 10)
        return NULL;
      value *= 10;
    }
  *out = value;
  return p;
}

int
ar_policy_parse_size (const char *text, uint64_t *out, const char **problem)
{
  static const struct
  {
    const char *suffix;
    uint64_t factor;
  } units[] = {
    { "", 1 },
    { "K", UINT64_C (1000) },
    { "M", UINT64_C (1000) * 1000 },
    { "G", UINT64_C (1000) * 1000 * 1000 },
    { "T", UINT64_C (1000) * 1000 * 1000 * 1000 },
    { "Ki", UINT64_C (1) << 10 },
    { "Mi", UINT64_C (1) << 20 },
    { "Gi", UINT64_C (1) << 30 },
    { "Ti", UINT64_C (1) << 40 },
  };
  /* Three decimals are enough for "1.5Gi" and keep the product exact. */
  uint64_t thousandths = 0;
  const char *rest = read_decimal (text, 3, &thousandths);

  *problem = "expected bytes or a number with a unit K, M, G, T, Ki, Mi, Gi or Ti, such as 512Mi";
  if (rest == NULL)
    return -1;

  for (size_t i = 0; i < sizeof (units) / sizeof (units[0]); i++)
    if (strcmp (rest, units[i].suffix) == 0)
      {
        uint64_t factor = units[i].factor;

        if (thousandths > UINT64_MAX / factor)
          {
            *problem = "the size is too large";
            return -1;
          }
        if ((thousandths * factor) % 1000 != 0)
          {
            *problem = "the size is not a whole number of bytes";
            return -1;
          }
        *out = thousandths * factor / 1000;
        return 0;
      }
  return -1;
}

int
ar_policy_parse_cpu (const char *text, uint64_t *out, const char **problem)
{
  uint64_t value = 0;
  const char *rest;

  *problem = "expected a number of CPUs such as 1.5 (at most three decimals) or millicpus such as 500m";
  if (strchr (text, '.') == NULL && text[0] != '\0' && text[strlen (text) - 1] == 'm')
    {
      rest = read_decimal (text, 0, &value);
      if (rest == NULL || strcmp (rest, "m") != 0)
        return -1;
      *out = value;
      return 0;
    }
  rest = read_decimal (text, 3, &value);
  if (rest == NULL || *rest != '\0')
    return -1;
  *out = value;
  return 0;
}

int
ar_policy_parse_duration (const char *text, uint64_t *out, const char **problem)
{
  static const char order[] = "dhms";
  uint64_t total = 0;
  const char *p = text;
  int last_unit = -1;

  *problem = "expected seconds or amounts with units d, h, m, s in that order, such as 1h30m";
  if (*p != '\0' && strspn (p, "0123456789") == strlen (p))
    {
      if (read_decimal (p, 0, &total) == NULL)
        return -1;
      *out = total;
      return 0;
    }

  while (*p != '\0')
    {
      uint64_t amount = 0;
      uint64_t factor;
      const char *unit;

      p = read_decimal (p, 0, &amount);
      if (p == NULL || *p == '\0')
        return -1;
      unit = strchr (order, *p);
      /* Each unit once, larger ones first: "1h30m", not "30m1h". */
      if (unit == NULL || unit - order <= last_unit)
        return -1;
      last_unit = (int) (unit - order);
      switch (*p)
        {
        case 'd':
          factor = 86400;
          break;
        case 'h':
          factor = 3600;
          break;
        case 'm':
          factor = 60;
          break;
        default:
          factor = 1;
          break;
        }
      if (amount > (UINT64_MAX - total) / factor)
        return -1;
      total += amount * factor;
      p++;
    }
  if (last_unit < 0)
    return -1;
  *out = total;
  return 0;
}

int
ar_policy_parse_mode (const char *text, uint64_t *out, const char **problem)
{
  size_t len = strlen (text);

  *problem = "expected an octal mode of three or four digits, such as 1777 or 0755";
  if (len < 3 || len > 4 || strspn (text, "01234567") != len)
    return -1;
  *out = strtoull (text, NULL, 8);
  return 0;
}

static int
read_port (const char *text, const char **rest, uint16_t *out)
{
  uint64_t value = 0;

  *rest = read_decimal (text, 0, &value);
  if (*rest == NULL || value < 1 || value > 65535)
    return -1;
  *out = (uint16_t) value;
  return 0;
}

int
ar_policy_parse_port_range (const char *text, struct ar_policy_port_range *out, const char **problem)
{
  struct ar_policy_port_range range = { 0, 0 };
  const char *rest = NULL;

  *problem = "expected a port from 1 to 65535, or a range such as 8000-8100";
  if (read_port (text, &rest, &range.first) < 0)
    return -1;
  if (*rest == '\0')
    {
      range.last = range.first;
      *out = range;
      return 0;
    }
  if (*rest != '-' || read_port (rest + 1, &rest, &range.last) < 0 || *rest != '\0')
    return -1;
  if (range.last < range.first)
    {
      *problem = "the range ends before it starts; write the lower port first";
      return -1;
    }
  *out = range;
  return 0;
}

char *
ar_policy_normalize_path (const char *path, const char **problem)
{
  char *out;
  size_t o = 0;

  if (path[0] != '/')
    {
      *problem = "expected an absolute path starting with /";
      return NULL;
    }

  out = ar_xmalloc0 (strlen (path) + 2);
  for (const char *p = path; *p != '\0';)
    {
      size_t len;

      while (*p == '/')
        p++;
      len = strcspn (p, "/");
      if (len == 0)
        break;
      if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
        {
          *problem = "a path may not contain . or .. components; write the path they lead to";
          free (out);
          return NULL;
        }
      out[o++] = '/';
      memcpy (out + o, p, len);
      o += len;
      p += len;
    }
  if (o == 0)
    out[o++] = '/';
  out[o] = '\0';
  return out;
}

bool
ar_policy_path_within (const char *path, const char *prefix)
{
  size_t len = strlen (prefix);

  if (strcmp (prefix, "/") == 0)
    return true;
  return strncmp (path, prefix, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

int
ar_policy_parse_cidr (const char *text, struct ar_policy_cidr *out, char **problem)
{
  struct ar_policy_cidr cidr = { 0 };
  cleanup_free char *address = ar_xstrdup (text);
  char *slash = strchr (address, '/');
  unsigned int max_prefix;
  size_t n_bytes;
  bool host_bits = false;

  if (slash != NULL)
    *slash = '\0';

  if (inet_pton (AF_INET, address, cidr.address) == 1)
    cidr.family = AF_INET, max_prefix = 32, n_bytes = 4;
  else if (inet_pton (AF_INET6, address, cidr.address) == 1)
    cidr.family = AF_INET6, max_prefix = 128, n_bytes = 16;
  else
    {
      *problem = ar_xasprintf ("`%s` is not an IPv4 or IPv6 address; write a range such as 10.0.0.0/8, or use "
                               "domain for a host name",
                               address);
      return -1;
    }

  cidr.prefix = max_prefix;
  if (slash != NULL)
    {
      const char *digits = slash + 1;
      long prefix;

      if (*digits == '\0' || strspn (digits, "0123456789") != strlen (digits) || strlen (digits) > 3
          || ar_parse_long (digits, &prefix) < 0 || prefix < 0 || (unsigned long) prefix > max_prefix)
        {
          *problem = ar_xasprintf ("invalid prefix length `/%s`; use 0 to %u", digits, max_prefix);
          return -1;
        }
      cidr.prefix = (unsigned int) prefix;
    }

  for (size_t bit = cidr.prefix; bit < n_bytes * 8; bit++)
    if (cidr.address[bit / 8] & (0x80 >> (bit % 8)))
      {
        cidr.address[bit / 8] &= (unsigned char) ~(0x80 >> (bit % 8));
        host_bits = true;
      }
  if (host_bits)
    {
      cleanup_free char *fixed = ar_policy_format_cidr (&cidr);
      *problem = ar_xasprintf ("`%s` has bits set after the prefix; write %s", text, fixed);
      return -1;
    }

  *out = cidr;
  return 0;
}

char *
ar_policy_format_cidr (const struct ar_policy_cidr *cidr)
{
  char text[INET6_ADDRSTRLEN];

  if (inet_ntop (cidr->family, cidr->address, text, sizeof (text)) == NULL)
    return ar_xstrdup ("?");
  return ar_xasprintf ("%s/%u", text, cidr->prefix);
}

bool
ar_policy_cidr_contains (const struct ar_policy_cidr *cidr, int family, const unsigned char *address)
{
  if (cidr->family != family)
    return false;
  for (unsigned int bit = 0; bit < cidr->prefix; bit++)
    {
      unsigned char mask = (unsigned char) (0x80 >> (bit % 8));
      if ((cidr->address[bit / 8] & mask) != (address[bit / 8] & mask))
        return false;
    }
  return true;
}

static bool
valid_label (const char *label, size_t len)
{
  if (len == 0 || len > 63 || label[0] == '-' || label[len - 1] == '-')
    return false;
  for (size_t i = 0; i < len; i++)
    if (!(islower ((unsigned char) label[i]) || isdigit ((unsigned char) label[i]) || label[i] == '-'))
      return false;
  return true;
}

int
ar_policy_parse_domain (const char *text, char **out, char **problem, char **warning)
{
  cleanup_free char *name = ar_xstrdup (text);
  const char *labels;
  size_t len;
  size_t n_labels = 0;
  const char *last_label = NULL;
  size_t last_len = 0;
  bool wildcard;

  for (char *p = name; *p; p++)
    *p = (char) tolower ((unsigned char) *p);
  len = strlen (name);
  if (len > 0 && name[len - 1] == '.')
    name[--len] = '\0';

  if (strstr (name, "://") != NULL || strchr (name, '/') != NULL || strchr (name, ':') != NULL)
    {
      *problem = ar_xasprintf ("`%s` is not a host name; write the name alone, such as api.example.com, and put "
                               "ports in ports",
                               text);
      return -1;
    }

  wildcard = ar_str_has_prefix (name, "*.");
  labels = wildcard ? name + 2 : name;
  if (strchr (labels, '*') != NULL)
    {
      *problem = ar_xasprintf ("`%s`: a wildcard may only be the whole first label, as in *.example.com", text);
      return -1;
    }
  if (strlen (labels) == 0 || strlen (labels) > 253)
    {
      *problem = ar_xasprintf ("`%s` is not a host name: it must have 1 to 253 characters", text);
      return -1;
    }

  for (const char *p = labels;;)
    {
      size_t label_len = strcspn (p, ".");

      if (!valid_label (p, label_len))
        {
          *problem = ar_xasprintf ("`%s` is not a host name: each dot-separated label needs 1 to 63 letters, digits "
                                   "or inner hyphens",
                                   text);
          return -1;
        }
      n_labels++;
      last_label = p;
      last_len = label_len;
      if (p[label_len] == '\0')
        break;
      p += label_len + 1;
    }

  /* Top-level domains are never all digits, so this is an IP address. */
  if (strspn (last_label, "0123456789") == last_len)
    {
      *problem = ar_xasprintf ("`%s` is an IP address, not a host name; write it as cidr: %s/32", text, labels);
      return -1;
    }

  if (wildcard && n_labels == 1)
    *warning = ar_xasprintf ("`%s` matches every name under the top-level domain .%s; name a narrower suffix",
                             text, labels);
  *out = ar_steal_ptr (name);
  return 0;
}

int
ar_policy_check_annotation_key (const char *key, const char **problem)
{
  const char *slash = strrchr (key, '/');
  const char *name = slash != NULL ? slash + 1 : key;
  size_t name_len = strlen (name);

  if (slash != NULL)
    {
      size_t prefix_len = (size_t) (slash - key);
      cleanup_free char *prefix = strndup (key, prefix_len);

      if (prefix == NULL)
        abort ();
      if (prefix_len == 0 || prefix_len > 253)
        {
          *problem = "the prefix before `/` must have 1 to 253 characters";
          return -1;
        }
      for (const char *label = prefix;;)
        {
          size_t label_len = strcspn (label, ".");

          if (!valid_label (label, label_len)
              || strspn (label, "abcdefghijklmnopqrstuvwxyz0123456789-") < label_len)
            {
              *problem = "the prefix before `/` must be a lowercase DNS name such as example.com";
              return -1;
            }
          if (label[label_len] == '\0')
            break;
          label += label_len + 1;
        }
    }
  if (name_len == 0 || name_len > 63)
    {
      *problem = "the name must have 1 to 63 characters";
      return -1;
    }
  if (!isalnum ((unsigned char) name[0]) || !isalnum ((unsigned char) name[name_len - 1])
      || strspn (name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") < name_len)
    {
      *problem = "the name may contain only letters, digits, '-', '_' and '.', and must start and end with a letter "
                 "or digit";
      return -1;
    }
  return 0;
}

int
ar_policy_capability_number (const char *name)
{
  cleanup_free char *lower = ar_xstrdup (name);
  cap_value_t value;

  for (char *p = lower; *p; p++)
    *p = (char) tolower ((unsigned char) *p);
  /* libcap also reads numbers and "all"; the policy takes names only. */
  if (!ar_str_has_prefix (lower, "cap_") || cap_from_name (lower, &value) != 0)
    return -1;
  return (int) value;
}

bool
ar_policy_syscall_known (const char *name)
{
  return seccomp_syscall_resolve_name (name) != __NR_SCMP_ERROR;
}

char *
ar_policy_format_size (uint64_t bytes)
{
  static const char *const units[] = { "Ki", "Mi", "Gi", "Ti", "Pi" };
  const char *unit = NULL;

  for (size_t i = 0; i < sizeof (units) / sizeof (units[0]); i++)
    {
      if (bytes == 0 || bytes % 1024 != 0)
        break;
      bytes /= 1024;
      unit = units[i];
    }
  if (unit == NULL)
    return ar_xasprintf ("%llu", (unsigned long long) bytes);
  return ar_xasprintf ("%llu%s", (unsigned long long) bytes, unit);
}

char *
ar_policy_format_cpu (uint64_t millicpus)
{
  if (millicpus % 1000 == 0)
    return ar_xasprintf ("%llu", (unsigned long long) (millicpus / 1000));
  if (millicpus % 100 == 0)
    return ar_xasprintf ("%llu.%llu", (unsigned long long) (millicpus / 1000),
                         (unsigned long long) (millicpus % 1000 / 100));
  if (millicpus % 10 == 0)
    return ar_xasprintf ("%llu.%02llu", (unsigned long long) (millicpus / 1000),
                         (unsigned long long) (millicpus % 1000 / 10));
  return ar_xasprintf ("%llu.%03llu", (unsigned long long) (millicpus / 1000),
                       (unsigned long long) (millicpus % 1000));
}

char *
ar_policy_format_duration (uint64_t seconds)
{
  static const struct
  {
    char unit;
    uint64_t size;
  } units[] = { { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&out, &len);
  bool empty = true;

  if (f == NULL)
    abort ();
  for (size_t i = 0; i < sizeof (units) / sizeof (units[0]); i++)
    if (seconds >= units[i].size)
      {
        fprintf (f, "%llu%c", (unsigned long long) (seconds / units[i].size), units[i].unit);
        seconds %= units[i].size;
        empty = false;
      }
  if (empty)
    fputs ("0s", f);
  fclose (f);
  return out;
}

char *
ar_policy_format_ports (const struct ar_policy_ports *ports)
{
  char *out = NULL;
  size_t len = 0;
  FILE *f;

  if (!ports->set || ports->n == 0)
    return ar_xstrdup ("every port");
  f = open_memstream (&out, &len);
  if (f == NULL)
    abort ();
  for (size_t i = 0; i < ports->n; i++)
    {
      const struct ar_policy_port_range *range = &ports->ranges[i];

      fprintf (f, "%s", i == 0 ? "" : ", ");
      if (range->first == range->last)
        fprintf (f, "%u", range->first);
      else
        fprintf (f, "%u-%u", range->first, range->last);
    }
  fclose (f);
  return out;
}

size_t
ar_policy_edit_distance (const char *a, const char *b)
{
  size_t la = strlen (a), lb = strlen (b);
  cleanup_free size_t *row = ar_xmalloc0 ((lb + 1) * sizeof (size_t));

  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++)
    {
      size_t diagonal = row[0];

      row[0] = i;
      for (size_t j = 1; j <= lb; j++)
        {
          size_t above = row[j];
          size_t best = diagonal + (tolower ((unsigned char) a[i - 1]) != tolower ((unsigned char) b[j - 1]));

          if (above + 1 < best)
            best = above + 1;
          if (row[j - 1] + 1 < best)
            best = row[j - 1] + 1;
          row[j] = best;
          diagonal = above;
        }
    }
  return row[lb];
}

const char *
ar_policy_closest (const char *word, const char *const *candidates)
{
  const char *best = NULL;
  size_t best_distance = SIZE_MAX;

  for (size_t i = 0; candidates[i] != NULL; i++)
    {
      size_t distance = ar_policy_edit_distance (word, candidates[i]);

      if (distance < best_distance)
        {
          best = candidates[i];
          best_distance = distance;
        }
    }
  /* A third of the word, at least two edits: catches "readonly_path" and
   * "enforced" without suggesting unrelated names. */
  if (best == NULL || best_distance > (strlen (word) / 3 > 2 ? strlen (word) / 3 : 2))
    return NULL;
  return best;
}
