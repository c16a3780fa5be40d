/*
 * probe.S - the accesses the checks provoke, one instruction each, in a
 * supervisor copy (suffix _k, in .text) and a user copy (suffix _u, in the
 * U/S=1 range). A skipped fault resumes at the copy's landing pad, a RET:
 * a faulting load/store leaves RSP at the probe's return address, and a
 * faulting fetch (CALL into the target page) leaves it at the return
 * address inside probe_exec, whose own RET follows, so one pad serves all.
 *   probe_read(va)       -> 64-bit load from va
 *   probe_write(va, v)   -> 64-bit store of v to va
 *   probe_exec(va)       -> CALL va (the target page holds a RET)
 */
	.macro PROBES sfx
	.globl probe_read_\sfx, probe_write_\sfx, probe_exec_\sfx, probe_landing_\sfx
probe_read_\sfx:
	mov	(%rdi), %rax
	ret
probe_write_\sfx:
	mov	%rsi, (%rdi)
	ret
probe_exec_\sfx:
	call	*%rdi
	ret
probe_landing_\sfx:
	ret
	.endm

	.text
	PROBES k
	.section .user.text, "ax"
	PROBES u
