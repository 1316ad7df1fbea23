/* A cache of compiled seccomp programs, so that starting many containers
 * with the same profile compiles it once.  Compiling a profile shaped
 * like podman's default costs about 12 ms of CPU with libseccomp 2.5.4 on
 * a 2-core x86_64 VM (bench/profile.sh).  Loading a cached program is a
 * file read. */
#ifndef AGENTRUN_SECCOMP_CACHE_H
#define AGENTRUN_SECCOMP_CACHE_H

#include "oci/config.h"
#include "oci/error.h"
#include "seccomp_filter.h"

/* Compiles linux.seccomp of the config, or loads the program compiled
 * earlier for the same linux.seccomp text, libseccomp version and
 * kernel.  cache_dir (created 0700 if missing) contains one file per
 * program; NULL disables the cache.  A cache that cannot be read or
 * written only costs a compile, with a debug line. */
int ar_seccomp_compile_cached (const struct ar_config *config, const char *cache_dir,
                               struct ar_seccomp_program **out, ar_error_t *err);

#endif
