/*
 * riscv_internal.h - what the RISC-V parts of the binding share:
 * riscv_glue.c (glue_arch_rv64/rv32), riscv_decode.c (the few instruction
 * formats the glue must understand), riscv_deliver.c (trap entry) and
 * bare_riscv.c (the bare-metal machine).
 *
 * Models: RISC-V unprivileged spec (instruction formats, RVC), privileged
 * spec 1.12 "Machine-Level ISA" (trap entry, medeleg, xRET, menvcfg) and
 * "Supervisor-Level ISA" (SFENCE.VMA).
 * Unicorn 2.1.4 facts this relies on (measured): CSR reads/writes through
 * uc_reg_read/write obey the current privilege and fail silently below M
 * (a failed read returns garbage), so every CSR access switches
 * UC_RISCV_REG_PRIV to M and back; the CPU (QEMU 5.0) has no menvcfg or
 * senvcfg, so both are shadowed here and emulated; EBREAK stops
 * uc_emu_start with UC_ERR_INSN_INVALID instead of reaching UC_HOOK_INTR
 * (its invalid-instruction hook sees it); UC_HOOK_INTR gets the PC 4
 * bytes on whatever the instruction's length; a fill hook and an
 * unmapped-memory hook see the PC on the faulting instruction, except a
 * fetch fault met while translating a block, which reports the block's
 * start.
 */
#ifndef MMUEMU_RISCV_INTERNAL_H
#define MMUEMU_RISCV_INTERNAL_H

#include <stdio.h>

#include "glue_internal.h"
#include "mmuemu/riscv_bits.h"

/* Causes the glue raises besides the page/access faults of riscv_bits.h. */
#define RV_CAUSE_FETCH_MISALIGNED 0
#define RV_CAUSE_ILLEGAL_INSN     2
#define RV_CAUSE_BREAKPOINT       3
#define RV_CAUSE_LOAD_MISALIGNED  4
#define RV_CAUSE_STORE_MISALIGNED 6
#define RV_CAUSE_ECALL_U          8
#define RV_CAUSE_ECALL_S          9
#define RV_CAUSE_ECALL_M          11

/* mstatus bits beyond riscv_bits.h that trap entry and xRET touch. */
#define RV_MSTATUS_TSR (UINT64_C(1) << 22)

/* menvcfg/senvcfg fields the shadow CSRs keep (FIOM is writable on every
 * core that has the register; PBMTE/ADUE only with the extension). */
#define RV_ENVCFG_FIOM (UINT64_C(1) << 0)

/* CSR numbers the glue decodes. */
#define RV_CSR_SATP     0x180
#define RV_CSR_SENVCFG  0x10a
#define RV_CSR_MENVCFG  0x30a
#define RV_CSR_MENVCFGH 0x31a

typedef struct rv_glue {
    bool rv32;
    uint64_t menvcfg; /* shadow (Unicorn has no menvcfg) */
    uint64_t senvcfg; /* shadow (Unicorn has no senvcfg) */
    /* satp/mstatus cache (rv_sync_state): re-read when stale. */
    bool ctl_stale;
    bool ctl_pending; /* a hooked writer at ctl_pending_pc may not have
                         run yet: re-read until a fill at another PC */
    uint64_t ctl_pending_pc;
    uint64_t fills_seen; /* g->stats.fills at the last rv_sync_state */
    uint64_t c_satp, c_mstatus;
} rv_glue;

static inline rv_glue *rv_of(mmu_glue *g)
{
    return (rv_glue *)g->arch_data;
}

/* ---- registers (riscv_glue.c) ----------------------------------------- */

/* GPRs (UC_RISCV_REG_X0..X31), PC and PRIV: no privilege switch. */
uint64_t rv_reg(mmu_glue *g, int reg);
void rv_set_reg(mmu_glue *g, int reg, uint64_t v);
/* x0..x31 by number. */
uint64_t rv_xreg(mmu_glue *g, unsigned n);
void rv_set_xreg(mmu_glue *g, unsigned n, uint64_t v);
static inline uint64_t rv_xlen(mmu_glue *g, uint64_t v)
{
    return rv_of(g)->rv32 ? v & UINT64_C(0xffffffff) : v;
}
/* CSRs through Unicorn, with PRIV switched to M around the access. */
uint64_t rv_csr(mmu_glue *g, int reg);
void rv_set_csr(mmu_glue *g, int reg, uint64_t v);
/* Several CSRs under one privilege switch. */
void rv_csr_read_n(mmu_glue *g, const int *regs, uint64_t *vals, unsigned n);
void rv_csr_write_n(mmu_glue *g, const int *regs, const uint64_t *vals,
                    unsigned n);

/* The vCPU's privilege (U/S/M) and control state -> the model. */
uint8_t rv_cur_priv(mmu_glue *g);
void rv_sync_state(mmu_glue *g);
/* satp or mstatus may be about to change (a hooked instruction at pc):
 * re-read them until a fill at another PC. */
void rv_ctl_pending(mmu_glue *g, uint64_t pc);

/* Two bytes at va as a fetch of privilege `priv` sees them (no side
 * effects, see rv_fetch_insn). */
bool rv_probe_read16(mmu_glue *g, uint64_t va, uint8_t priv, uint16_t *v);

/*
 * Read the instruction at pc as a fetch of privilege `priv` would see it,
 * without side effects on the model (no TLB lookup or fill, no A/D write,
 * statistics and trace untouched). @return its length (2 or 4) and bits,
 * or 0 if it cannot be read.
 */
unsigned rv_fetch_insn(mmu_glue *g, uint64_t pc, uint8_t priv, uint32_t *insn);
/* The same with the model's state already synchronised. */
unsigned rv_fetch_insn_synced(mmu_glue *g, uint64_t pc, uint8_t priv,
                              uint32_t *insn);

/* ---- exceptions (riscv_events.c) -------------------------------------- */

void rv_exact_addr(mmu_glue *g, mmu_glue_event *ev, uint64_t page);
void rv_cpu_exception(mmu_glue *g, uint32_t intno, mmu_glue_event *ev);
/* A CPU exception event (cause, epc, privilege, tval). */
void rv_cpu_event(mmu_glue *g, mmu_glue_event *ev, uint32_t cause, uint64_t pc,
                  uint8_t priv, uint64_t tval);
/* UC_HOOK_INSN_INVALID: EBREAK/C.EBREAK become breakpoints. */
bool rv_insn_invalid(uc_engine *uc, void *arg);
/* UC_HOOK_MEM_UNMAPPED: access faults. */
bool rv_unmapped(uc_engine *uc, uc_mem_type type, uint64_t pa, int size,
                 int64_t value, void *arg);

/* ---- hooked instructions (riscv_hooks.c) ------------------------------ */

unsigned rv_scan_code(mmu_glue *g, uint64_t va_page, const uint8_t *code,
                      size_t len, uint64_t *out, unsigned max);
void rv_on_inval_insn(mmu_glue *g, uint64_t pc);

/* ---- decoding (riscv_decode.c) ---------------------------------------- */

static inline unsigned rv_insn_len(uint32_t low16)
{
    return (low16 & 3) == 3 ? 4 : 2;
}

typedef struct rv_mem_op {
    unsigned rs1;  /* base register */
    int64_t imm;   /* offset added to it */
    unsigned size; /* bytes accessed */
    bool store;    /* store, AMO or SC: faults are store/AMO faults */
    bool amo;      /* AMO or SC (needs R and W) */
} rv_mem_op;

/* Loads, stores, FP loads/stores, LR/SC/AMO, and their RVC forms.
 * @return false for anything else. */
bool rv_decode_mem(uint32_t insn, unsigned len, bool rv32, rv_mem_op *op);

typedef enum rv_sys_kind {
    RV_SYS_OTHER = 0,
    RV_SYS_SFENCE_VMA, /* rs1, rs2 */
    RV_SYS_CSR,        /* csr, rd, rs1 (or uimm), op */
    RV_SYS_MRET,
    RV_SYS_SRET,
    RV_SYS_EBREAK, /* EBREAK and C.EBREAK */
    RV_SYS_ECALL,
} rv_sys_kind;

typedef struct rv_sys_op {
    rv_sys_kind kind;
    unsigned rd, rs1, rs2;
    unsigned csr;
    unsigned funct3; /* CSR: 1 RW, 2 RS, 3 RC, 5 RWI, 6 RSI, 7 RCI */
} rv_sys_op;

void rv_decode_sys(uint32_t insn, unsigned len, rv_sys_op *op);

/* Does a CSR instruction write the CSR (CSRRS/C with x0 / uimm 0 only
 * read)? */
static inline bool rv_csr_writes(const rv_sys_op *op)
{
    return op->funct3 == 1 || op->funct3 == 5 || op->rs1 != 0;
}

/* ---- trap entry (riscv_deliver.c) ------------------------------------- */

bool rv_deliver(mmu_glue *g, const mmu_glue_event *ev);

/* Name of an exception cause ("load page fault", ...). */
const char *rv_cause_name(uint32_t cause);

/* ---- bare machine report (riscv_report.c) ----------------------------- */

struct mmu_machine;
void rv_machine_report(struct mmu_machine *m, const mmu_glue_result *res,
                       FILE *out);

#endif
