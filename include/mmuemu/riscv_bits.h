/*
 * riscv_bits.h - names for the RISC-V virtual-memory bits, as the
 * privileged specification names them.
 *
 * Models: RISC-V privileged spec, "Supervisor-Level ISA" (satp, Sv32/39/48/57
 * PTE formats), Svnapot, Svpbmt, Svade/Svadu chapters; mstatus and menvcfg
 * fields that change translation.
 * Not modelled: the hypervisor extension (two-stage translation), PMP,
 * Zicfiss shadow-stack pages, Svrsw60t59b.
 */
#ifndef MMUEMU_RISCV_BITS_H
#define MMUEMU_RISCV_BITS_H

#include <stdint.h>

#define RV_PTE_V    (UINT64_C(1) << 0)
#define RV_PTE_R    (UINT64_C(1) << 1)
#define RV_PTE_W    (UINT64_C(1) << 2)
#define RV_PTE_X    (UINT64_C(1) << 3)
#define RV_PTE_U    (UINT64_C(1) << 4)
#define RV_PTE_G    (UINT64_C(1) << 5)
#define RV_PTE_A    (UINT64_C(1) << 6)
#define RV_PTE_D    (UINT64_C(1) << 7)
#define RV_PTE_RSW_MASK  (UINT64_C(3) << 8)
#define RV_PTE_PPN_SHIFT 10
#define RV_PTE_PPN_MASK  (UINT64_C(0x00fffffffffffc00)) /* bits 53:10 (Sv39+) */
#define RV32_PTE_PPN_MASK (UINT64_C(0xfffffc00))        /* bits 31:10 (Sv32) */
#define RV_PTE_RSVD_MASK (UINT64_C(0x7f) << 54)         /* bits 60:54 */
#define RV_PTE_PBMT_SHIFT 61
#define RV_PTE_PBMT_MASK (UINT64_C(3) << RV_PTE_PBMT_SHIFT)
#define RV_PTE_N    (UINT64_C(1) << 63)

#define RV_PBMT_PMA 0
#define RV_PBMT_NC  1
#define RV_PBMT_IO  2

/* satp */
#define RV32_SATP_MODE_SHIFT 31
#define RV32_SATP_ASID_SHIFT 22
#define RV32_SATP_ASID_MASK  UINT64_C(0x1ff)
#define RV32_SATP_PPN_MASK   UINT64_C(0x3fffff)
#define RV64_SATP_MODE_SHIFT 60
#define RV64_SATP_ASID_SHIFT 44
#define RV64_SATP_ASID_MASK  UINT64_C(0xffff)
#define RV64_SATP_PPN_MASK   UINT64_C(0xfffffffffff)
#define RV_SATP_MODE_BARE 0
#define RV_SATP_MODE_SV32 1
#define RV_SATP_MODE_SV39 8
#define RV_SATP_MODE_SV48 9
#define RV_SATP_MODE_SV57 10

/* mstatus fields used by translation. */
#define RV_MSTATUS_SIE  (UINT64_C(1) << 1)
#define RV_MSTATUS_MIE  (UINT64_C(1) << 3)
#define RV_MSTATUS_SPIE (UINT64_C(1) << 5)
#define RV_MSTATUS_MPIE (UINT64_C(1) << 7)
#define RV_MSTATUS_SPP  (UINT64_C(1) << 8)
#define RV_MSTATUS_MPP_SHIFT 11
#define RV_MSTATUS_MPP  (UINT64_C(3) << RV_MSTATUS_MPP_SHIFT)
#define RV_MSTATUS_MPRV (UINT64_C(1) << 17)
#define RV_MSTATUS_SUM  (UINT64_C(1) << 18)
#define RV_MSTATUS_MXR  (UINT64_C(1) << 19)
#define RV_MSTATUS_TVM  (UINT64_C(1) << 20)

/* menvcfg */
#define RV_MENVCFG_PBMTE (UINT64_C(1) << 62)
#define RV_MENVCFG_ADUE  (UINT64_C(1) << 61)

/* Privilege levels. */
#define RV_PRIV_U 0
#define RV_PRIV_S 1
#define RV_PRIV_M 3

/* Exception causes (mcause/scause). */
#define RV_CAUSE_FETCH_ACCESS 1
#define RV_CAUSE_LOAD_ACCESS  5
#define RV_CAUSE_STORE_ACCESS 7
#define RV_CAUSE_FETCH_PAGE   12
#define RV_CAUSE_LOAD_PAGE    13
#define RV_CAUSE_STORE_PAGE   15

#endif
