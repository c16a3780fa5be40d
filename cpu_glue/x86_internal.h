/*
 * x86_internal.h - what the x86 parts of the binding share: x86_glue.c
 * (engine set-up, state sync, CPUID, invalidation hooks), x86_vcpu.c (the
 * vCPU's internal state reached through the uc_context blob), x86_decode.c
 * (Capstone: exact fault addresses, invalidation operands, disassembly),
 * x86_deliver.c (the trap entry) and bare_x86.c (the machine).
 *
 * Models: Intel SDM vol. 3A ch. 6 (interrupt and exception handling) and
 * 4.10.4 (invalidation); Unicorn 2.1.4 / QEMU 5.0 internals where the
 * public API has no way in (see x86_vcpu.c).
 */
#ifndef MMUEMU_X86_INTERNAL_H
#define MMUEMU_X86_INTERNAL_H

#include <capstone/capstone.h>

#include "glue_internal.h"
#include "mmuemu/x86_bits.h"

/* Where fields of QEMU's CPUX86State sit inside a uc_context blob. Found
 * and verified at set-up (x86_vcpu_calibrate); set-up fails otherwise. */
typedef struct x86_ctx_layout {
    size_t size;          /* uc_context_size */
    size_t env;           /* regs[R_EAX] */
    size_t hflags;        /* uint32: CPL in bits 1:0 */
    size_t segs;          /* SegmentCache segs[6] */
    size_t error_code;    /* int: error code of a CPU-raised exception */
    size_t is_int;        /* int: 1 for INT n / INT3 / INTO */
    size_t old_exception; /* int: exception in flight (-1: none) */
    size_t pkru;          /* uint32; 0: not found (no PKU) */
} x86_ctx_layout;

/* QEMU SegmentCache {uint32 selector; target_ulong base; uint32 limit,
 * flags;} with a 64-bit target_ulong; segment order ES CS SS DS FS GS. */
#define X86_SEG_SIZE 24u
#define X86_SEG_ES   0u
#define X86_SEG_CS   1u
#define X86_SEG_SS   2u

/* CPUID leaves whose answer the glue decides (see x86_glue.c). */
typedef struct x86_cpuid_leaf {
    uint32_t leaf, sub;
    uint32_t r[4]; /* EAX EBX ECX EDX as the engine answers */
} x86_cpuid_leaf;

#define X86_CPUID_LEAVES 4

typedef struct x86_glue {
    bool long_engine; /* UC_MODE_64 (else UC_MODE_32) */
    x86_ctx_layout lay;
    uc_context *snap; /* scratch snapshot of the vCPU */
    /* CPUID */
    x86_cpuid_leaf cpuid[X86_CPUID_LEAVES];
    uint8_t maxphyaddr;
    bool has_pku, has_la57;
    uc_hook cpuid_hook;
    /* PAE PDPTE registers: which CR3/CR0/CR4 they were loaded for. */
    bool pdpte_known;
    uint64_t pdpte_cr3, pdpte_cr0, pdpte_cr4;
    /* The last CPU-raised exception, so delivery knows INT n apart from
     * an exception with the same vector; and that QEMU's exception-in-
     * flight state must be cleared before the vCPU runs again. */
    bool soft_valid, soft_int;
    uint64_t soft_pc;
    uint8_t soft_vec;
    bool exc_dirty;
    /* The fetch fault (block start, page) last deferred by run_until. */
    uint64_t until_pc, until_page;
    /* Capstone */
    csh cs64, cs32;
    /* Measured costs (ns, last sample) for reports and benchmarks. */
    uint64_t deliver_ns;
    /* Control-state cache (x86_sync_state): CR0/CR3/CR4/EFER and the
     * GDTR/IDTR/TR/LDTR base and limit, re-read when stale. See
     * x86_sync_state for what marks it stale. */
    bool ctl_stale;
    bool ctl_pending; /* a hooked writer at ctl_pending_pc may not have
                         run yet: re-read until a fill at another RIP */
    uint64_t ctl_pending_pc;
    uint64_t fills_seen; /* g->stats.fills at the last sync_state */
    uint64_t c_cr0, c_cr3, c_cr4, c_efer;
    uint64_t c_dtr_base[4];
    uint32_t c_dtr_limit[4];
} x86_glue;

static inline x86_glue *x86g(mmu_glue *g)
{
    return (x86_glue *)g->arch_data;
}

/* ---- registers (x86_glue.c) ------------------------------------------ */

/* Read/write a register by its 64-bit name; on a UC_MODE_32 engine the
 * 32-bit register is used (upper half read as 0, ignored on write). */
uint64_t x86_rd(mmu_glue *g, int reg);
void x86_wr(mmu_glue *g, int reg, uint64_t v);
/* Descriptor-table registers. */
void x86_dtr(mmu_glue *g, int reg, uint64_t *base, uint32_t *limit,
             uint16_t *sel);
uint64_t x86_efer(mmu_glue *g);
/* IA-32e mode active (EFER.LMA). */
bool x86_lma(mmu_glue *g);
/* 64-bit code segment (CS.L with LMA). */
bool x86_cs64(mmu_glue *g);
/* The vCPU's control registers or descriptor-table registers may have
 * changed: the next sync_state reads them again. */
void x86_ctl_stale(mmu_glue *g);

/* ---- vCPU internals (x86_vcpu.c) ------------------------------------- */

bool x86_vcpu_calibrate(mmu_glue *g, char *err, size_t errlen);
/* Snapshot of the vCPU into xg->snap. */
void x86_vcpu_snapshot(mmu_glue *g);
uint32_t x86_snap_u32(mmu_glue *g, size_t off);
/* Error code / INT-n flag of the CPU exception being reported. */
uint32_t x86_vcpu_error_code(mmu_glue *g);
bool x86_vcpu_is_int(mmu_glue *g);
uint32_t x86_vcpu_pkru(mmu_glue *g);
/* Set CPL and the CS/SS segment caches as a privilege change does, clear
 * QEMU's exception-in-flight state, in one context round trip. cs_flags /
 * ss_flags are descriptor high dwords as QEMU caches them. ss_load false:
 * SS untouched. */
typedef struct x86_seg_load {
    uint16_t sel;
    uint64_t base;
    uint32_t limit, flags;
} x86_seg_load;
void x86_vcpu_enter(mmu_glue *g, const x86_seg_load *cs, const x86_seg_load *ss,
                    unsigned cpl);
/* Only clear the exception-in-flight state. */
void x86_vcpu_clear_exception(mmu_glue *g);

/* ---- decoding (x86_decode.c) ----------------------------------------- */

bool x86_decode_init(x86_glue *xg, char *err, size_t errlen);
void x86_decode_fini(x86_glue *xg);
/* glue_arch.exact_addr */
void x86_exact_addr(mmu_glue *g, mmu_glue_event *ev, uint64_t page);

/* Does the instruction at RIP access `page` explicitly (operands, stack),
 * as opposed to only through descriptor-table reads? false when it
 * cannot be decoded. */
bool x86_insn_touches(mmu_glue *g, uint64_t page);

typedef enum x86_inval_kind {
    X86_INVAL_NONE = 0,
    X86_INVAL_INVLPG,  /* va */
    X86_INVAL_INVPCID, /* type, desc_va */
    X86_INVAL_MOV_CR,  /* cr, value */
    X86_INVAL_WRMSR,   /* msr, value */
    X86_INVAL_WRPKRU,  /* value */
} x86_inval_kind;

typedef struct x86_inval {
    x86_inval_kind kind;
    unsigned cr;
    uint32_t msr;
    uint64_t value, va;
} x86_inval;

/* Decode the invalidation instruction at pc with its operand values.
 * @return false if it is not one (the scan over-reports). */
bool x86_decode_inval(mmu_glue *g, uint64_t pc, x86_inval *out);

/* Start of the INT n / INT3 / INTO instruction that ends at next (the
 * return point QEMU reports for a software interrupt). */
uint64_t x86_soft_int_start(mmu_glue *g, uint64_t next, uint8_t vec);

/* Disassemble the instruction at pc (read through the model at the
 * current privilege, no A/D side effects) into buf. @return false if the
 * bytes could not be read or decoded. */
bool x86_disasm(mmu_glue *g, uint64_t pc, char *buf, size_t len);

/* ---- delivery (x86_deliver.c) ---------------------------------------- */

bool x86_deliver(mmu_glue *g, const mmu_glue_event *ev);

#endif
