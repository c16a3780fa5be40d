/*
 * boot.S - multiboot v1 header, 32-bit entry, and the guest's mode switches.
 *
 * Models: Multiboot 0.6.96 (header, machine state at entry: protected mode,
 * paging off, EAX = 0x2BADB002, EBX = info); Intel SDM vol. 3A 9.8.5
 * (initializing IA-32e mode: CR4.PAE, CR3, EFER.LME, CR0.PG, far jump into
 * a 64-bit code segment) and 4.1.1 / 9.8.5.4 (CR4.LA57 can only change with
 * paging disabled, which means leaving IA-32e mode).
 *
 * Order of the run: the entry builds a throw-away identity map (1 GiB of
 * 2 MiB pages), enters long mode with 4-level paging and calls kmain.
 * kmain runs every check with 4-level tables first; then, if CPUID reports
 * LA57, la57_enter() goes back from 64-bit mode through compatibility mode
 * to 32-bit protected mode with paging off, sets CR4.LA57, loads a PML5
 * table and re-enters IA-32e mode, and kmain runs the checks again.
 *
 * Not modelled: legacy 32-bit and PAE paging checks (the guest only passes
 * through protected mode on its way to long mode).
 */
#include "segs.h"

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* bit 0: align modules, bit 1: memory info */

	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.section .boot, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	mov	$boot_stack_top, %esp
	mov	%eax, mb_magic
	mov	%ebx, mb_info

	/* Zero .bss; the multiboot info never lies inside the image. */
	mov	$__bss_start, %edi
	mov	$__bss_end, %ecx
	sub	%edi, %ecx
	shr	$2, %ecx
	xor	%eax, %eax
	rep stosl

	/* CPUID 0x80000001: EDX bit 29 long mode, bit 20 NX. */
	mov	$0x80000000, %eax
	cpuid
	cmp	$0x80000001, %eax
	jb	no_long_mode
	mov	$0x80000001, %eax
	cpuid
	bt	$29, %edx
	jnc	no_long_mode
	mov	%edx, %esi

	/* Boot map: PML4[0] -> PDPT[0] -> PD of 512 2 MiB pages (P|RW|PS). */
	movl	$boot_pdpt + 3, boot_pml4
	movl	$boot_pd + 3, boot_pdpt
	mov	$boot_pd, %edi
	mov	$0x83, %eax
	mov	$512, %ecx
1:	mov	%eax, (%edi)
	add	$0x200000, %eax
	add	$8, %edi
	loop	1b

	mov	$CR4_PAE_BIT, %eax	/* CR4 is undefined at entry: set it whole */
	mov	%eax, %cr4
	mov	$boot_pml4, %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME_BIT, %eax
	bt	$20, %esi
	jnc	2f
	or	$EFER_NXE_BIT, %eax
2:	wrmsr
	mov	%cr0, %eax
	or	$(CR0_PG_BIT | CR0_PE_BIT), %eax
	mov	%eax, %cr0	/* EFER.LMA = 1: compatibility mode */
	lgdt	gdt_ptr
	ljmp	$SEL_KCODE64, $long_entry

no_long_mode:
	mov	$no_long_msg, %esi
3:	lodsb
	test	%al, %al
	jz	4f
	mov	$COM1_PORT, %dx
	out	%al, %dx
	jmp	3b
4:	mov	$1, %al
	mov	$DEBUG_EXIT_PORT, %dx
	out	%al, %dx
5:	hlt
	jmp	5b

	.code64
long_entry:
	mov	$SEL_KDATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	xor	%eax, %eax
	mov	%eax, %fs
	mov	%eax, %gs
	mov	$boot_stack_top, %esp	/* zero-extends into RSP */
	mov	mb_magic, %edi
	mov	mb_info, %esi
	call	kmain
6:	cli
	hlt
	jmp	6b

/*
 * void la57_enter(uint64_t pml5) - switch from 4-level to 5-level paging.
 * CR4.LA57 cannot change in IA-32e mode (#GP), so: far return into the
 * 32-bit code segment (compatibility mode), clear CR0.PG (IA-32e mode ends,
 * EFER.LMA = 0), set CR4.LA57, load CR3 with the PML5 (below 4 GiB), set
 * CR0.PG (EFER.LME is still set: IA-32e mode again, now 5-level) and far
 * jump back to 64-bit code. Runs identity-mapped with interrupts off. The
 * upper halves of the registers are undefined across the trip, so the
 * callee-saved ones go to the stack and RSP is re-zero-extended.
 */
	.globl la57_enter
la57_enter:
	push	%rbx
	push	%rbp
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	$SEL_KDATA, %eax
	mov	%eax, %ss
	mov	%eax, %ds
	mov	%eax, %es
	push	$SEL_KCODE32
	push	$7f
	lretq
	.code32
7:	mov	%cr0, %eax
	btr	$31, %eax	/* CR0.PG */
	mov	%eax, %cr0
	mov	%cr4, %eax
	or	$CR4_LA57_BIT, %eax
	mov	%eax, %cr4
	mov	%edi, %cr3
	mov	%cr0, %eax
	or	$CR0_PG_BIT, %eax
	mov	%eax, %cr0
	ljmp	$SEL_KCODE64, $8f
	.code64
8:	mov	%esp, %esp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbp
	pop	%rbx
	ret

	.section .rodata
no_long_msg:
	.asciz "no long mode\nFAIL 1\n"

	.data
	.balign 8
	.globl mb_magic, mb_info, gdt
mb_magic:
	.long 0
mb_info:
	.long 0
	.balign 16
gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08 ring 0 code, L=1 */
	.quad 0x00cf92000000ffff	/* 0x10 ring 0 data */
	.quad 0x00cff2000000ffff	/* 0x18 ring 3 data */
	.quad 0x00affa000000ffff	/* 0x20 ring 3 code, L=1 */
	.quad 0x00cf9a000000ffff	/* 0x28 ring 0 code, D=1 (32-bit) */
	.quad 0, 0			/* 0x30 TSS (idt.c) */
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.quad gdt

	.bss
	.balign 4096
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4096
boot_stack:
	.skip 16384
boot_stack_top:
