/*
 * segs.h - the guest's GDT layout and the control-register bits its
 * assembly needs (usable from .S and C; C code takes the paging names from
 * <mmuemu/x86_bits.h>).
 *
 * Models: Intel SDM vol. 3A 3.4.5 (segment descriptors), 7.7 (64-bit TSS),
 * 2.5 (control registers), 9.8.5 (initializing IA-32e mode).
 */
#ifndef GUEST_X86_SEGS_H
#define GUEST_X86_SEGS_H

/* Selectors: the order follows the GDT in boot.S. */
#define SEL_KCODE64  0x08 /* ring 0, 64-bit code (L=1) */
#define SEL_KDATA    0x10 /* ring 0, flat data */
#define SEL_UDATA    0x18 /* ring 3, flat data (RPL 3 added at use) */
#define SEL_UCODE64  0x20 /* ring 3, 64-bit code (RPL 3 added at use) */
#define SEL_KCODE32  0x28 /* ring 0, 32-bit code: compatibility mode */
#define SEL_TSS      0x30 /* 64-bit TSS, two slots, filled by idt.c */
#define GDT_TSS_SLOT 6

#define CR0_PE_BIT   0x00000001
#define CR0_PG_BIT   0x80000000
#define CR4_PAE_BIT  0x00000020
#define CR4_LA57_BIT 0x00001000
#define MSR_EFER     0xC0000080
#define EFER_LME_BIT 0x00000100
#define EFER_NXE_BIT 0x00000800

/* Port I/O: COM1 and QEMU's isa-debug-exit (iobase 0xf4). */
#define COM1_PORT       0x3f8
#define DEBUG_EXIT_PORT 0xf4

#endif
