/*
 * riscv_events.c - RISC-V exceptions as the glue sees them: the exact
 * faulting address of a model fault (the fill hook sees only the page),
 * CPU exceptions from UC_HOOK_INTR (cause, epc and tval as the hardware
 * would report them), EBREAK (which Unicorn turns into an invalid-
 * instruction stop) and accesses to physical addresses with nothing
 * behind them (access faults).
 *
 * Exact addresses: a data fault is rebuilt from the instruction at the
 * PC (rs1 + imm); an access that starts on the page before reports the
 * start of the faulting page (the "portion that faulted", as QEMU does).
 * A fetch fault reports the PC, or the page address when a 4-byte
 * instruction straddles into the page.
 */
#include "riscv_internal.h"

#include <string.h>

#define PAGE      UINT64_C(4096)
#define PAGE_MASK (~(PAGE - 1))

/*
 * Where the instruction that runs into `page` starts, decoding forward
 * from pc (a translation block is straight-line code). @return false if
 * none does.
 */
static bool find_straddler(mmu_glue *g, uint64_t pc, uint8_t priv,
                           uint64_t page, uint64_t *at)
{
    rv_sync_state(g);
    for (uint64_t p = pc; p < page;) {
        uint32_t insn;
        unsigned len = rv_fetch_insn_synced(g, p, priv, &insn);
        if (len == 0) {
            /* the second half is what faults: the first tells the length */
            uint16_t lo;
            if (page - p != 2 || !rv_probe_read16(g, p, priv, &lo))
                return false;
            len = rv_insn_len(lo);
        }
        if (p + len > page) {
            *at = p;
            return true;
        }
        p += len;
    }
    return false;
}

/*
 * A fetch fault: the PC, or for a 4-byte instruction that straddles into
 * the page the page address (the portion that faulted). Unicorn raises a
 * fault met while translating a block at the block's start; when that is
 * an earlier instruction, the instructions before the straddling one have
 * not run yet: ask the run loop to run up to it first.
 */
static void rv_exact_fetch(mmu_glue *g, mmu_glue_event *ev, uint64_t page)
{
    uint64_t at;
    if ((ev->pc & PAGE_MASK) == page) {
        ev->fault.addr = ev->pc;
        ev->addr_exact = true;
    } else if (find_straddler(g, ev->pc, ev->priv, page, &at)) {
        if (at != ev->pc)
            g->run_until = at;
        ev->addr_exact = true;
    }
}

void rv_exact_addr(mmu_glue *g, mmu_glue_event *ev, uint64_t page)
{
    /* The fill hook read the PC while the vCPU state was synchronised;
     * re-read it now that the run stopped on the faulting instruction. */
    ev->pc = rv_reg(g, UC_RISCV_REG_PC);
    ev->fault.addr = page;
    ev->addr_exact = false;
    if (ev->access == MMU_FETCH) {
        rv_exact_fetch(g, ev, page);
        return;
    }
    uint32_t insn;
    rv_mem_op op;
    unsigned len = rv_fetch_insn(g, ev->pc, rv_cur_priv(g), &insn);
    if (len == 0 || !rv_decode_mem(insn, len, rv_of(g)->rv32, &op))
        return;
    uint64_t va = rv_xlen(g, rv_xreg(g, op.rs1) + (uint64_t)op.imm);
    uint64_t last = rv_xlen(g, va + op.size - 1);
    if ((va & PAGE_MASK) == page) {
        ev->fault.addr = va;
        ev->addr_exact = true;
    } else if ((last & PAGE_MASK) == page) {
        ev->addr_exact = true; /* split access: the second page faulted */
    }
    if (op.amo && ev->access == MMU_READ) {
        /* TCG runs an AMO as a load then a store; the spec reports any
         * AMO/SC fault as a store/AMO fault. */
        ev->access = MMU_WRITE;
        if (ev->fault.code == RV_CAUSE_LOAD_PAGE)
            ev->fault.code = RV_CAUSE_STORE_PAGE;
        else if (ev->fault.code == RV_CAUSE_LOAD_ACCESS)
            ev->fault.code = RV_CAUSE_STORE_ACCESS;
        ev->fault.vector = (uint8_t)ev->fault.code;
    }
}

void rv_cpu_event(mmu_glue *g, mmu_glue_event *ev, uint32_t cause, uint64_t pc,
                  uint8_t priv, uint64_t tval)
{
    memset(ev, 0, sizeof *ev);
    ev->source = MMU_GLUE_FROM_CPU;
    ev->fault.kind = MMU_FAULT_NONE;
    ev->fault.code = cause;
    ev->fault.vector = (uint8_t)cause;
    ev->fault.addr = rv_xlen(g, tval);
    ev->fault.level = -1;
    ev->pc = rv_xlen(g, pc);
    ev->priv = priv;
    ev->addr_exact = true;
}

void rv_cpu_exception(mmu_glue *g, uint32_t intno, mmu_glue_event *ev)
{
    uint8_t priv = rv_cur_priv(g);
    /* Unicorn advanced the PC by 4 before calling the hook, whatever the
     * instruction's length. */
    uint64_t pc = rv_xlen(g, rv_reg(g, UC_RISCV_REG_PC) - 4);
    uint64_t tval = 0;
    uint32_t cause = intno;
    uint32_t insn = 0;
    unsigned len = rv_fetch_insn(g, pc, priv, &insn);
    rv_mem_op op;

    switch (intno) {
    case RV_CAUSE_ECALL_U: /* QEMU raises U_ECALL; the privilege decides */
        cause = priv == RV_PRIV_M   ? RV_CAUSE_ECALL_M
                : priv == RV_PRIV_S ? RV_CAUSE_ECALL_S
                                    : RV_CAUSE_ECALL_U;
        break;
    case RV_CAUSE_ILLEGAL_INSN: /* tval = the instruction bits (QEMU 7) */
        tval = insn;
        break;
    case RV_CAUSE_LOAD_MISALIGNED:
    case RV_CAUSE_STORE_MISALIGNED:
    case RV_CAUSE_LOAD_ACCESS:
    case RV_CAUSE_STORE_ACCESS:
        if (len != 0 && rv_decode_mem(insn, len, rv_of(g)->rv32, &op))
            tval = rv_xreg(g, op.rs1) + (uint64_t)op.imm;
        break;
    case RV_CAUSE_FETCH_ACCESS:
        tval = pc;
        break;
    default: /* breakpoint and others: tval 0 */
        break;
    }
    rv_cpu_event(g, ev, cause, pc, priv, tval);
}

/*
 * Unicorn stops a run at EBREAK/C.EBREAK (UC_ERR_INSN_INVALID) instead of
 * raising the breakpoint exception; its invalid-instruction hook sees the
 * PC on the instruction. Raise the breakpoint (tval 0, as QEMU 7 does).
 */
bool rv_insn_invalid(uc_engine *uc, void *arg)
{
    mmu_glue *g = arg;
    uint8_t priv = rv_cur_priv(g);
    uint64_t pc = rv_reg(g, UC_RISCV_REG_PC);
    uint32_t insn;
    unsigned len = rv_fetch_insn(g, pc, priv, &insn);
    rv_sys_op op;
    (void)uc;
    if (len == 0)
        return false;
    rv_decode_sys(insn, len, &op);
    if (op.kind != RV_SYS_EBREAK)
        return false;
    mmu_glue_event ev;
    rv_cpu_event(g, &ev, RV_CAUSE_BREAKPOINT, pc, priv, 0);
    g->stats.cpu_exceptions++;
    glue_raise(g, &ev);
    return true;
}

/*
 * A physical address with neither RAM nor a device behind it: the PMA
 * check fails, which is an access fault of the access's kind (QEMU's
 * virt raises the same). Unicorn's hook sees the PC on the instruction
 * and the physical address; tval is the virtual address, rebuilt from
 * the instruction (for a split access, the start of the second page when
 * that is the part that missed).
 */
bool rv_unmapped(uc_engine *uc, uc_mem_type type, uint64_t pa, int size,
                 int64_t value, void *arg)
{
    mmu_glue *g = arg;
    (void)uc, (void)size, (void)value;
    if (g->have_pending)
        return false;
    uint8_t priv = rv_cur_priv(g);
    uint64_t pc = rv_reg(g, UC_RISCV_REG_PC), tval = pc;
    mmu_access acc = type == UC_MEM_WRITE_UNMAPPED   ? MMU_WRITE
                     : type == UC_MEM_FETCH_UNMAPPED ? MMU_FETCH
                                                     : MMU_READ;
    uint32_t insn;
    rv_mem_op op;
    unsigned len = acc == MMU_FETCH ? 0 : rv_fetch_insn(g, pc, priv, &insn);
    if (len != 0 && rv_decode_mem(insn, len, rv_of(g)->rv32, &op)) {
        uint64_t va = rv_xlen(g, rv_xreg(g, op.rs1) + (uint64_t)op.imm);
        tval = (va & ~PAGE_MASK) == (pa & ~PAGE_MASK)
                   ? va
                   : rv_xlen(g, (va & PAGE_MASK) + PAGE);
        if (op.amo)
            acc = MMU_WRITE;
    }
    uint32_t cause = acc == MMU_FETCH   ? RV_CAUSE_FETCH_ACCESS
                     : acc == MMU_WRITE ? RV_CAUSE_STORE_ACCESS
                                        : RV_CAUSE_LOAD_ACCESS;
    mmu_glue_event ev;
    rv_cpu_event(g, &ev, cause, pc, priv, tval);
    ev.fault.kind = MMU_FAULT_ACCESS;
    ev.fault.reason = MMU_WHY_OUTSIDE_RAM;
    ev.fault.paddr = pa;
    ev.access = acc;
    g->stats.cpu_exceptions++;
    glue_raise(g, &ev);
    return false;
}
