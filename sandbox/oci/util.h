/* Small helpers shared by every part: cleanup attributes, file I/O,
 * string lists. */
#ifndef AGENTRUN_UTIL_H
#define AGENTRUN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"

void ar_free_ptr (void *ptr);
void ar_close_ptr (int *fd);
void ar_fclose_ptr (FILE **f);
void ar_strv_free_ptr (char ***strv);

#define cleanup_free __attribute__ ((cleanup (ar_free_ptr)))
#define cleanup_close __attribute__ ((cleanup (ar_close_ptr)))
#define cleanup_file __attribute__ ((cleanup (ar_fclose_ptr)))
#define cleanup_strv __attribute__ ((cleanup (ar_strv_free_ptr)))

/* Moves ownership out of a cleanup variable. */
#define ar_steal_ptr(p) ({ __typeof__ (p) _tmp = (p); (p) = NULL; _tmp; })
#define ar_steal_fd(fd) ({ int _tmp = (fd); (fd) = -1; _tmp; })

void *ar_xmalloc0 (size_t size);
char *ar_xstrdup (const char *s);
char *ar_xasprintf (const char *fmt, ...) ar_printf_like (1, 2);

/* NULL-terminated string vectors. */
size_t ar_strv_len (char *const *strv);
void ar_strv_free (char **strv);
char **ar_strv_dup (char *const *strv);

/* Reads a whole file; *len_out (optional) gets its length.  The buffer is
 * NUL-terminated. */
int ar_read_file (const char *path, char **out, size_t *len_out, ar_error_t *err);
int ar_read_file_at (int dirfd, const char *path, char **out, size_t *len_out, ar_error_t *err);

/* Writes len bytes to an existing file (no O_CREAT), such as a /proc or
 * cgroup file. */
int ar_write_file (const char *path, const void *data, size_t len, ar_error_t *err);
int ar_write_file_at (int dirfd, const char *path, const void *data, size_t len, ar_error_t *err);

/* Replaces path atomically: writes a temporary file in the same folder
 * and renames it over path.  It does not fsync, so the new content may be
 * lost on power loss (never half-written). */
int ar_write_file_atomic (const char *path, const void *data, size_t len, mode_t mode, ar_error_t *err);

/* write() and read() that retry on EINTR and short transfers. */
ssize_t ar_write_all (int fd, const void *buf, size_t len);
ssize_t ar_read_all (int fd, void *buf, size_t len);

/* Creates path and its missing parents with mode. */
int ar_mkdir_p (const char *path, mode_t mode, ar_error_t *err);

/* Parses a decimal integer that must fill the whole string. */
int ar_parse_long (const char *s, long *out);

bool ar_str_has_prefix (const char *s, const char *prefix);

#endif
