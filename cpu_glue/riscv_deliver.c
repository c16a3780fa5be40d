/*
 * riscv_deliver.c - RISC-V trap entry for synchronous exceptions, shared
 * by every source (model page/access faults, CPU exceptions).
 *
 * Models: privileged spec 1.12, "Machine Trap Delegation Registers"
 * (medeleg: a trap taken in S or U mode goes to S if its bit is set;
 * traps taken in M never go to a lower privilege), "Machine Status
 * Register" (xPP, xPIE <- xIE, xIE <- 0), xepc/xcause/xtval, and
 * "Machine Trap-Vector Base-Address Register" (vectored mode only
 * affects interrupts: exceptions always go to BASE).
 * Not modelled: interrupts (mideleg), the hypervisor extension, Smdbltrp.
 *
 * Unicorn never uses xtvec itself: the CSRs are written through Unicorn
 * with the privilege switched to M, mstatus as one whole value so the
 * CPU's own view (and its TLB flush on MPP changes) stays consistent.
 */
#include "riscv_internal.h"

static const char *const cause_names[] = {
    "instruction address misaligned",
    "instruction access fault",
    "illegal instruction",
    "breakpoint",
    "load address misaligned",
    "load access fault",
    "store/AMO address misaligned",
    "store/AMO access fault",
    "environment call from U-mode",
    "environment call from S-mode",
    "reserved (10)",
    "environment call from M-mode",
    "instruction page fault",
    "load page fault",
    "reserved (14)",
    "store/AMO page fault",
};

const char *rv_cause_name(uint32_t cause)
{
    if (cause < sizeof cause_names / sizeof cause_names[0])
        return cause_names[cause];
    return "unknown cause";
}

/* Set a field of mstatus. */
static uint64_t put(uint64_t v, uint64_t mask, uint64_t field)
{
    unsigned shift = 0;
    while (!((mask >> shift) & 1))
        shift++;
    return (v & ~mask) | ((field << shift) & mask);
}

/*
 * A handler that cannot even be fetched would trap to itself forever: a
 * fetch fault at the very address this trap would enter ends the run
 * (reported like a triple fault).
 */
static bool enters_itself(const mmu_glue_event *ev, uint64_t target)
{
    uint32_t c = ev->fault.code;
    return ev->pc == target &&
           (c == RV_CAUSE_FETCH_PAGE || c == RV_CAUSE_FETCH_ACCESS ||
            c == RV_CAUSE_FETCH_MISALIGNED);
}

bool rv_deliver(mmu_glue *g, const mmu_glue_event *ev)
{
    static const int rd_regs[] = {UC_RISCV_REG_MSTATUS, UC_RISCV_REG_MEDELEG,
                                  UC_RISCV_REG_MTVEC, UC_RISCV_REG_STVEC};
    uint64_t v[4];
    uint64_t cause = ev->fault.code;
    uint64_t tval = ev->fault.addr, epc = ev->pc;
    rv_of(g)->ctl_stale = true; /* mstatus changes (and the host's writes) */

    if (rv_of(g)->rv32) {
        tval &= UINT64_C(0xffffffff);
        epc &= UINT64_C(0xffffffff);
    }
    rv_csr_read_n(g, rd_regs, v, 4);
    uint64_t mstatus = v[0], medeleg = v[1];
    bool to_s = ev->priv <= RV_PRIV_S && cause < 64 && ((medeleg >> cause) & 1);
    uint64_t target = (to_s ? v[3] : v[2]) & ~UINT64_C(3);
    uint8_t priv = to_s ? RV_PRIV_S : RV_PRIV_M;
    if (enters_itself(ev, target))
        return false;
    if (to_s) {
        mstatus = put(mstatus, RV_MSTATUS_SPP, ev->priv == RV_PRIV_S);
        mstatus =
            put(mstatus, RV_MSTATUS_SPIE, (mstatus & RV_MSTATUS_SIE) != 0);
        mstatus &= ~RV_MSTATUS_SIE;
        const int regs[] = {UC_RISCV_REG_SEPC, UC_RISCV_REG_SCAUSE,
                            UC_RISCV_REG_STVAL, UC_RISCV_REG_MSTATUS};
        const uint64_t vals[] = {epc, cause, tval, mstatus};
        rv_csr_write_n(g, regs, vals, 4);
    } else {
        mstatus = put(mstatus, RV_MSTATUS_MPP, ev->priv);
        mstatus =
            put(mstatus, RV_MSTATUS_MPIE, (mstatus & RV_MSTATUS_MIE) != 0);
        mstatus &= ~RV_MSTATUS_MIE;
        const int regs[] = {UC_RISCV_REG_MEPC, UC_RISCV_REG_MCAUSE,
                            UC_RISCV_REG_MTVAL, UC_RISCV_REG_MSTATUS};
        const uint64_t vals[] = {epc, cause, tval, mstatus};
        rv_csr_write_n(g, regs, vals, 4);
    }
    rv_set_reg(g, UC_RISCV_REG_PRIV, priv);
    rv_set_reg(g, UC_RISCV_REG_PC, target);
    return true;
}
