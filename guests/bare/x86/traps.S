/*
 * traps.S - exception entry stubs for vectors 0..31 and the common path:
 * a uniform frame (vector, error code or 0, GPRs), then trap() in idt.c,
 * then IRETQ to the (possibly updated) RIP.
 * Each stub is 16-byte aligned, so stub n is at trap_stubs + 16 * n.
 * Vectors with a CPU-pushed error code: 8, 10-14, 17, 21, 29, 30.
 */
	.text
	.balign 16
	.globl trap_stubs
trap_stubs:
	.set vec, 0
	.rept 32
	.balign 16
	.if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
	push	$0
	.endif
	push	$vec
	jmp	trap_common
	.set vec, vec + 1
	.endr

trap_common:
	push	%rax
	push	%rcx
	push	%rdx
	push	%rbx
	push	%rbp
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	cld
	mov	%rsp, %rdi
	call	trap
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rbp
	pop	%rbx
	pop	%rdx
	pop	%rcx
	pop	%rax
	add	$16, %rsp
	iretq
