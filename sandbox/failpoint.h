/* Failpoints: named steps of create, start, exec and delete where the
 * runtime can be made to crash on purpose, so that tests can check that
 * `delete --force` cleans up after a crash at any step.
 *
 * AGENTRUN_FAILPOINT=NAME in the runtime's environment makes the runtime
 * send SIGKILL to itself when it reaches the failpoint NAME.  Nothing else
 * happens: the variable is read once, affects only the runtime process
 * that reads it (and its own forks), and never reaches the container's
 * environment, which comes from config.json.  Without the variable a
 * failpoint costs one string comparison. */
#ifndef AGENTRUN_FAILPOINT_H
#define AGENTRUN_FAILPOINT_H

#define AR_FAILPOINT_ENV "AGENTRUN_FAILPOINT"

/* Kills this process with SIGKILL when AGENTRUN_FAILPOINT equals name. */
void ar_failpoint (const char *name);

#endif
