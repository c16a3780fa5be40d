/*
 * ring3.S - running a function at CPL 3 and coming back.
 *
 * user_call(fn, a0, a1): saves the callee-saved registers, points TSS.RSP0
 * just below them (a fault or INT from ring 3 switches to that stack, SDM
 * 6.14.2), and IRETQs to user_entry at CPL 3 with IF = 0. user_entry calls
 * fn(a0, a1) and passes its result to INT 0x80 (a DPL 3 gate), whose
 * handler user_return drops the interrupt frame, restores the kernel stack
 * and registers and returns the result from user_call.
 */
#include "segs.h"

	.text
	.globl user_call, user_return
user_call:
	push	%rbx
	push	%rbp
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, kernel_rsp(%rip)
	mov	%rsp, tss + 4(%rip)		/* TSS.RSP0 */
	push	$(SEL_UDATA | 3)
	push	$user_stack_top
	push	$0x2				/* RFLAGS: IF = 0, AC = 0 */
	push	$(SEL_UCODE64 | 3)
	push	$user_entry
	mov	%rdi, %rax
	mov	%rsi, %rdi
	mov	%rdx, %rsi
	iretq

user_return:
	mov	%rdi, %rax
	mov	kernel_rsp(%rip), %rsp
	mov	$SEL_KDATA, %edx		/* SS was loaded with null */
	mov	%edx, %ss
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbp
	pop	%rbx
	ret

	.section .user.text, "ax"
user_entry:
	call	*%rax
	mov	%rax, %rdi
	int	$0x80
	ud2

	.section .user.stack, "aw"
	.balign 4096
	.skip 8192
user_stack_top:

	.data
	.balign 8
kernel_rsp:
	.quad 0
