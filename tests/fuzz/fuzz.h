/* The shared part of agentrun's libFuzzer targets (tests/fuzz/fuzz_*.c).
 * Each target is one file that includes this header and defines
 * LLVMFuzzerTestOneInput; README.md describes how to add one. */
#ifndef AGENTRUN_FUZZ_H
#define AGENTRUN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/error.h"
#include "oci/log.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

/* Returns a NUL-terminated copy of the input, for parsers that take a C
 * string; the caller frees it.  An input byte 0 ends the string early,
 * as it would in a file read into a C string. */
static inline char *
fuzz_strndup (const uint8_t *data, size_t size)
{
  char *text = malloc (size + 1);

  if (text == NULL)
    abort ();
  memcpy (text, data, size);
  text[size] = '\0';
  return text;
}

/* Formats and frees an error, so that the message code runs too.  With
 * AR_FUZZ_VERBOSE=1 in the environment it prints the message, which shows
 * how far a seed gets. */
static inline void
fuzz_consume_error (ar_error_t *err)
{
  char *message = ar_error_format (*err);
  const char *verbose = getenv ("AR_FUZZ_VERBOSE");

  if (message == NULL || message[0] == '\0')
    abort ();
  if (verbose != NULL && strcmp (verbose, "1") == 0)
    fprintf (stderr, "fuzz: %s\n", message);
  free (message);
  ar_error_release (err);
}

/* Sends the runtime's log, debug lines included, to /dev/null as JSON, so
 * that the log code runs on what the parsers report without filling the
 * fuzzer's output.  Targets call it from LLVMFuzzerInitialize. */
static inline void
fuzz_init_log (void)
{
  ar_error_t err = NULL;

  if (ar_log_init ("/dev/null", AR_LOG_FORMAT_JSON, true, &err) < 0)
    abort ();
}

#endif
