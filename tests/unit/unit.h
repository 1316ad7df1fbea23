/* A minimal unit test harness: TEST functions registered in a table, each
 * check printing the file, line and the failed expression. */
#ifndef AGENTRUN_UNIT_H
#define AGENTRUN_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_failures;

#define CHECK(cond)                                                                 \
  do                                                                                \
    {                                                                               \
      if (!(cond))                                                                  \
        {                                                                           \
          fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
          unit_failures++;                                                          \
        }                                                                           \
    }                                                                               \
  while (0)

#define CHECK_STR_EQ(a, b)                                                                   \
  do                                                                                         \
    {                                                                                        \
      const char *_a = (a), *_b = (b);                                                       \
      if (_a == NULL || _b == NULL || strcmp (_a, _b) != 0)                                  \
        {                                                                                    \
          fprintf (stderr, "%s:%d: expected \"%s\", got \"%s\" (%s)\n", __FILE__, __LINE__, \
                   _b ? _b : "(null)", _a ? _a : "(null)", #a);                              \
          unit_failures++;                                                                   \
        }                                                                                    \
    }                                                                                        \
  while (0)

/* Checks that haystack contains needle, for error messages. */
#define CHECK_CONTAINS(haystack, needle)                                                          \
  do                                                                                              \
    {                                                                                             \
      const char *_h = (haystack), *_n = (needle);                                                \
      if (_h == NULL || strstr (_h, _n) == NULL)                                                  \
        {                                                                                         \
          fprintf (stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,         \
                   _h ? _h : "(null)", _n);                                                       \
          unit_failures++;                                                                        \
        }                                                                                         \
    }                                                                                             \
  while (0)

struct unit_test
{
  const char *name;
  void (*fn) (void);
};

/* Runs every test of the table and prints "N passed, N failed". */
static inline int
unit_run (const struct unit_test *tests)
{
  int passed = 0, failed = 0;

  for (const struct unit_test *t = tests; t->name != NULL; t++)
    {
      int before = unit_failures;
      t->fn ();
      if (unit_failures == before)
        {
          passed++;
          printf ("ok - %s\n", t->name);
        }
      else
        {
          failed++;
          printf ("FAIL - %s\n", t->name);
        }
    }
  printf ("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

#endif
