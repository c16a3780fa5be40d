/*
 * x86_bits.h - names for the x86 paging bits, as the Intel SDM names them.
 *
 * Models: Intel SDM vol. 3A ch. 2 (control registers) and ch. 4 (paging):
 * table 4-5..4-20 (entry formats), 4.7 (page-fault error code).
 * Not modelled: PAT/PCD/PWT memory types (bits are named but carry no
 * meaning here), HLAT, SGX, CET shadow-stack pages, PKS (IA32_PKRS).
 */
#ifndef MMUEMU_X86_BITS_H
#define MMUEMU_X86_BITS_H

#include <stdint.h>

/* Paging-structure entry bits (all formats). */
#define X86_PTE_P     (UINT64_C(1) << 0)  /* present */
#define X86_PTE_RW    (UINT64_C(1) << 1)  /* read/write */
#define X86_PTE_US    (UINT64_C(1) << 2)  /* user/supervisor */
#define X86_PTE_PWT   (UINT64_C(1) << 3)  /* page-level write-through */
#define X86_PTE_PCD   (UINT64_C(1) << 4)  /* page-level cache disable */
#define X86_PTE_A     (UINT64_C(1) << 5)  /* accessed */
#define X86_PTE_D     (UINT64_C(1) << 6)  /* dirty (leaf only) */
#define X86_PTE_PS    (UINT64_C(1) << 7)  /* page size (PDE/PDPTE) */
#define X86_PTE_PAT   (UINT64_C(1) << 7)  /* PAT (4 KiB PTE) */
#define X86_PTE_G     (UINT64_C(1) << 8)  /* global (leaf only) */
#define X86_PTE_PAT_LARGE (UINT64_C(1) << 12) /* PAT in 2M/4M/1G leaves */
#define X86_PTE_NX    (UINT64_C(1) << 63) /* execute-disable (XD) */
#define X86_PTE_PKEY_SHIFT 59             /* protection key, bits 62:59 */
#define X86_PTE_PKEY_MASK  (UINT64_C(0xf) << X86_PTE_PKEY_SHIFT)

/* PAE PDPTE reserved bits besides the address bits: 2:1 and 8:5. */
#define X86_PDPTE_RSVD_LOW (UINT64_C(0x1e6))

/* Physical-address field of a 4 KiB-aligned entry (up to MAXPHYADDR 52). */
#define X86_PTE_ADDR_MASK  (UINT64_C(0x000ffffffffff000))

/* #PF error code (SDM 4.7). */
#define X86_PF_P     (UINT32_C(1) << 0)  /* 0: not present, 1: protection */
#define X86_PF_W     (UINT32_C(1) << 1)  /* write access */
#define X86_PF_U     (UINT32_C(1) << 2)  /* user-mode access */
#define X86_PF_RSVD  (UINT32_C(1) << 3)  /* reserved bit set */
#define X86_PF_I     (UINT32_C(1) << 4)  /* instruction fetch */
#define X86_PF_PK    (UINT32_C(1) << 5)  /* protection-key violation */

/* Exception vectors the model raises. */
#define X86_VEC_DF  8
#define X86_VEC_SS  12
#define X86_VEC_GP  13
#define X86_VEC_PF  14

/* Control registers. */
#define X86_CR0_PE   (UINT64_C(1) << 0)
#define X86_CR0_WP   (UINT64_C(1) << 16)
#define X86_CR0_NW   (UINT64_C(1) << 29)
#define X86_CR0_CD   (UINT64_C(1) << 30)
#define X86_CR0_PG   (UINT64_C(1) << 31)
#define X86_CR3_PCID_MASK (UINT64_C(0xfff))
#define X86_CR3_NOFLUSH   (UINT64_C(1) << 63)
#define X86_CR4_PSE  (UINT64_C(1) << 4)
#define X86_CR4_PAE  (UINT64_C(1) << 5)
#define X86_CR4_PGE  (UINT64_C(1) << 7)
#define X86_CR4_LA57 (UINT64_C(1) << 12)
#define X86_CR4_PCIDE (UINT64_C(1) << 17)
#define X86_CR4_SMEP (UINT64_C(1) << 20)
#define X86_CR4_SMAP (UINT64_C(1) << 21)
#define X86_CR4_PKE  (UINT64_C(1) << 22)
#define X86_EFER_LME (UINT64_C(1) << 8)
#define X86_EFER_LMA (UINT64_C(1) << 10)
#define X86_EFER_NXE (UINT64_C(1) << 11)
#define X86_RFLAGS_AC (UINT64_C(1) << 18)

/* PKRU: two bits per key, AD at 2k, WD at 2k+1. */
#define X86_PKRU_AD(key) (UINT32_C(1) << (2 * (key)))
#define X86_PKRU_WD(key) (UINT32_C(1) << (2 * (key) + 1))

#endif
