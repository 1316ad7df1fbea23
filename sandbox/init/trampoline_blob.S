/* Embeds the exec trampoline (built from sandbox/init/trampoline.c) into
 * agentrun as read-only data between ar_exec_trampoline_start and
 * ar_exec_trampoline_end.  The path is relative to the top of the source
 * tree, where make runs. */
	.section .rodata
	.balign 16
	.global ar_exec_trampoline_start
	.hidden ar_exec_trampoline_start
	.global ar_exec_trampoline_end
	.hidden ar_exec_trampoline_end
ar_exec_trampoline_start:
	.incbin "sandbox/init/trampoline"
ar_exec_trampoline_end:

	.section .note.GNU-stack, "", %progbits
