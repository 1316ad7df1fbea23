/* The calling convention shared by agentrun (sandbox/exec_guard.c) and the
 * exec trampoline (sandbox/init/trampoline.c).  The trampoline is built
 * without libc, so this header must stay free of libc declarations. */
#ifndef AGENTRUN_TRAMPOLINE_H
#define AGENTRUN_TRAMPOLINE_H

/* agentrun executes the trampoline with this argv[0], then the path to
 * execute, then the command's own argv.  The space keeps a `#!` line from
 * ever producing it, because the kernel ends the interpreter path at the
 * first space. */
#define AR_TRAMPOLINE_MAGIC "agentrun exec-guard"

/* Exit statuses of the trampoline when the command cannot be executed,
 * matching the shell's: 127 when the file does not exist, 126 otherwise. */
#define AR_TRAMPOLINE_EXIT_NOT_FOUND 127
#define AR_TRAMPOLINE_EXIT_CANNOT_EXECUTE 126

#endif
