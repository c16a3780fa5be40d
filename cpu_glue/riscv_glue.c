/*
 * riscv_glue.c - the RISC-V half of the Unicorn binding: glue_arch_rv64
 * and glue_arch_rv32 (see glue_internal.h for the contract): engine
 * setup, register and CSR access, the control state the model needs,
 * side-effect-free instruction fetches. Exceptions are in
 * riscv_events.c, hooked instructions in riscv_hooks.c, trap entry in
 * riscv_deliver.c.
 *
 * State: satp and mstatus are read from the vCPU (with the privilege
 * switched to M, see riscv_internal.h) into a cache that every possible
 * writer marks stale (rv_sync_state); menvcfg/senvcfg live
 * here because the CPU has none. The model applies MPRV itself: a fill
 * passes the current privilege and the model uses MPP's for loads and
 * stores, so with MPRV set an M-mode fill grants only the kind of access
 * it was made for (a fetch entry and a data entry of the same page differ
 * but share Unicorn's entry).
 */
#include "riscv_internal.h"

#include <stdlib.h>

/* ---- registers -------------------------------------------------------- */

uint64_t rv_reg(mmu_glue *g, int reg)
{
    uint64_t v = 0; /* RV32 registers are 4 bytes: the high half stays 0 */
    uc_reg_read(g->uc, reg, &v);
    return rv_of(g)->rv32 ? v & UINT64_C(0xffffffff) : v;
}

void rv_set_reg(mmu_glue *g, int reg, uint64_t v)
{
    uc_reg_write(g->uc, reg, &v);
}

uint64_t rv_xreg(mmu_glue *g, unsigned n)
{
    return n == 0 ? 0 : rv_reg(g, UC_RISCV_REG_X0 + (int)n);
}

void rv_set_xreg(mmu_glue *g, unsigned n, uint64_t v)
{
    if (n != 0)
        rv_set_reg(g, UC_RISCV_REG_X0 + (int)n, v);
}

static uint64_t enter_m(mmu_glue *g)
{
    uint64_t old = rv_reg(g, UC_RISCV_REG_PRIV);
    if (old != RV_PRIV_M)
        rv_set_reg(g, UC_RISCV_REG_PRIV, RV_PRIV_M);
    return old;
}

static void leave_m(mmu_glue *g, uint64_t old)
{
    if (old != RV_PRIV_M)
        rv_set_reg(g, UC_RISCV_REG_PRIV, old);
}

void rv_csr_read_n(mmu_glue *g, const int *regs, uint64_t *vals, unsigned n)
{
    uint64_t old = enter_m(g);
    for (unsigned i = 0; i < n; i++)
        vals[i] = rv_reg(g, regs[i]);
    leave_m(g, old);
}

void rv_csr_write_n(mmu_glue *g, const int *regs, const uint64_t *vals,
                    unsigned n)
{
    uint64_t old = enter_m(g);
    rv_of(g)->ctl_stale = true; /* satp/mstatus may be among them */
    for (unsigned i = 0; i < n; i++)
        rv_set_reg(g, regs[i], vals[i]);
    leave_m(g, old);
}

uint64_t rv_csr(mmu_glue *g, int reg)
{
    uint64_t v;
    rv_csr_read_n(g, &reg, &v, 1);
    return v;
}

void rv_set_csr(mmu_glue *g, int reg, uint64_t v)
{
    rv_csr_write_n(g, &reg, &v, 1);
}

/* ---- side-effect-free instruction fetch ------------------------------- */

bool rv_probe_read16(mmu_glue *g, uint64_t va, uint8_t priv, uint16_t *v)
{
    mmu_req req = {
        .va = va, .access = MMU_FETCH, .priv = priv, .flags = MMU_REQ_NO_AD};
    mmu_result res;
    mmu_fault flt;
    mmu_walk_stats saved = g->mmu.stats;
    mmu_trace_fn trace = g->mmu.trace;
    g->mmu.trace = NULL;
    bool ok = mmu_walk_translate(&g->mmu, &req, &res, &flt);
    g->mmu.trace = trace;
    g->mmu.stats = saved;
    uint8_t b[2];
    if (!ok || !mmu_phys_read(&g->mem, res.pa, b, 2))
        return false;
    *v = (uint16_t)(b[0] | b[1] << 8);
    return true;
}

unsigned rv_fetch_insn(mmu_glue *g, uint64_t pc, uint8_t priv, uint32_t *insn)
{
    rv_sync_state(g); /* satp may have changed since the last fill */
    return rv_fetch_insn_synced(g, pc, priv, insn);
}

unsigned rv_fetch_insn_synced(mmu_glue *g, uint64_t pc, uint8_t priv,
                              uint32_t *insn)
{
    uint16_t lo, hi;
    if (rv_of(g)->rv32)
        pc &= UINT64_C(0xffffffff);
    if (!rv_probe_read16(g, pc, priv, &lo))
        return 0;
    if (rv_insn_len(lo) == 2) {
        *insn = lo;
        return 2;
    }
    /* The upper half may lie on the next page: translate it separately. */
    if (!rv_probe_read16(g, pc + 2, priv, &hi))
        return 0;
    *insn = (uint32_t)lo | (uint32_t)hi << 16;
    return 4;
}

/* ---- glue_arch operations --------------------------------------------- */

uint8_t rv_cur_priv(mmu_glue *g)
{
    return (uint8_t)(rv_reg(g, UC_RISCV_REG_PRIV) & 3);
}

void rv_ctl_pending(mmu_glue *g, uint64_t pc)
{
    rv_glue *r = rv_of(g);
    r->ctl_stale = true;
    r->ctl_pending = true;
    r->ctl_pending_pc = pc;
}

/*
 * satp and mstatus come from a cache, used only by the fill hook (which
 * counts the fill just before it calls sync_state: any other caller, the
 * host's included, reads afresh) and only while not stale. Stale: before
 * every uc_emu_start (the run loop asks pc_get for the start address;
 * pc_set too), at every CSR write through rv_csr_write_n (delivery, the
 * host's set-up), and at every hooked instruction that may write them
 * (rv_on_inval_insn: CSR writes to satp, mstatus, sstatus, mstatush;
 * MRET/SRET); and while mmu_glue_host_changed's flush is pending (a host
 * hook that wrote them during a run says so through it). A hook runs before its instruction: the cache stays stale
 * until a fill at another PC. mstatus bits the CPU changes with no hook
 * (FS/XS/SD) play no part in translation; the others are exact.
 */
void rv_sync_state(mmu_glue *g)
{
    static const int regs[] = {UC_RISCV_REG_SATP, UC_RISCV_REG_MSTATUS};
    rv_glue *r = rv_of(g);
    bool fill = g->stats.fills != r->fills_seen;
    r->fills_seen = g->stats.fills;
    if (r->ctl_pending && fill &&
        rv_reg(g, UC_RISCV_REG_PC) != r->ctl_pending_pc) {
        r->ctl_pending = false;
        r->ctl_stale = true;
    }
    if (!fill || r->ctl_stale || r->ctl_pending || g->need_flush) {
        uint64_t v[2];
        rv_csr_read_n(g, regs, v, 2);
        r->c_satp = v[0];
        r->c_mstatus = v[1];
        r->ctl_stale = false;
    }
    mmu_rv_state *st = &g->mmu.st.rv;
    g->mmu.st.arch = MMU_ARCH_RISCV;
    st->xlen = r->rv32 ? 32 : 64;
    st->satp = r->c_satp;
    st->mstatus = r->c_mstatus;
    st->menvcfg = r->menvcfg;
    st->ext = g->cfg.rv_ext;
}

static uint64_t pc_get(mmu_glue *g)
{
    /* The run loop takes the start address from here before every
     * uc_emu_start: the host may have written CSRs since. */
    rv_of(g)->ctl_stale = true;
    return rv_reg(g, UC_RISCV_REG_PC);
}

static void pc_set(mmu_glue *g, uint64_t pc)
{
    rv_of(g)->ctl_stale = true;
    rv_set_reg(g, UC_RISCV_REG_PC, pc);
}

static void rv_classify_fill(mmu_glue *g, uint64_t page, mmu_req *req)
{
    /* Nothing to add: the request carries the current privilege and the
     * model applies MPRV/MPP to loads and stores itself. */
    (void)g, (void)page, (void)req;
}

/*
 * Unicorn caches one entry per page and privilege for all three access
 * kinds. With MPRV=1 an M-mode fetch is untranslated while M-mode loads
 * and stores go through MPP's translation, so the entry may only grant
 * the kind of access the fill was made for.
 */
static uint32_t rv_fill_perms(mmu_glue *g, const mmu_req *req, uint32_t perms)
{
    const mmu_rv_state *st = &g->mmu.st.rv;
    if (req->priv != RV_PRIV_M || !(st->mstatus & RV_MSTATUS_MPRV) ||
        ((st->mstatus & RV_MSTATUS_MPP) >> RV_MSTATUS_MPP_SHIFT) == RV_PRIV_M)
        return perms;
    return req->access == MMU_FETCH ? perms & UC_PROT_EXEC
                                    : perms & (UC_PROT_READ | UC_PROT_WRITE);
}

/* ---- setup ------------------------------------------------------------ */

static bool rv_setup(mmu_glue *g, char *err, size_t errlen)
{
    rv_glue *r = calloc(1, sizeof *r);
    if (r == NULL) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    g->arch_data = r;
    r->rv32 = g->cfg.isa == MMU_GLUE_RV32;
    /* The base models have S and U mode, Sv32/39/48 and PMP; the "any"
     * model lacks S-mode. */
    int model = g->cfg.cpu_model >= 0 ? g->cfg.cpu_model
                : r->rv32             ? UC_CPU_RISCV32_BASE32
                                      : UC_CPU_RISCV64_BASE64;
    uc_err e = uc_ctl_set_cpu_model(g->uc, model);
    if (e != UC_ERR_OK) {
        snprintf(err, errlen, "cpu model %d: %s", model, uc_strerror(e));
        return false;
    }
    /* Svadu: menvcfg.ADUE resets to 1 (the reset value is the
     * implementation's choice), so guests written for cores that update
     * A/D in hardware, like QEMU 7.2, run unchanged. */
    if (g->cfg.rv_ext & MMU_RV_EXT_SVADU)
        r->menvcfg = RV_MENVCFG_ADUE;
    mmu_state_init_rv(&g->mmu.st, r->rv32 ? 32 : 64);
    rv_set_reg(g, UC_RISCV_REG_PRIV, RV_PRIV_M);
    uc_hook h;
    e = uc_hook_add(g->uc, &h, UC_HOOK_INSN_INVALID,
                    (void *)(uintptr_t)rv_insn_invalid, g, 1, 0);
    /* The unmapped-access hook covers only the physical space outside
     * RAM: in Unicorn 2.1.4 any memory hook whose range covers RAM sends
     * every load and store down the slow path (measured: 9x on a
     * TLB-friendly loop, bench/README.md). */
    uint64_t ram_end = g->cfg.ram_base + g->cfg.ram_size;
    if (e == UC_ERR_OK && g->cfg.ram_base > 0)
        e = uc_hook_add(g->uc, &h, UC_HOOK_MEM_UNMAPPED,
                        (void *)(uintptr_t)rv_unmapped, g, 0,
                        g->cfg.ram_base - 1);
    if (e == UC_ERR_OK && ram_end != 0)
        e = uc_hook_add(g->uc, &h, UC_HOOK_MEM_UNMAPPED,
                        (void *)(uintptr_t)rv_unmapped, g, ram_end,
                        UINT64_MAX);
    if (e != UC_ERR_OK) {
        snprintf(err, errlen, "riscv hooks: %s", uc_strerror(e));
        return false;
    }
    return true;
}

#define RV_ARCH(nm, mode)                                                      \
    {                                                                          \
        .name = nm, .uc_mode = mode, .uc_arch = UC_ARCH_RISCV,                 \
        .setup = rv_setup, .sync_state = rv_sync_state, .priv = rv_cur_priv,   \
        .classify_fill = rv_classify_fill, .fill_perms = rv_fill_perms,        \
        .exact_addr = rv_exact_addr, .cpu_exception = rv_cpu_exception,        \
        .deliver = rv_deliver, .scan_code = rv_scan_code,                      \
        .on_inval_insn = rv_on_inval_insn, .pc = pc_get, .set_pc = pc_set,     \
    }

const glue_arch glue_arch_rv64 = RV_ARCH("riscv64", UC_MODE_RISCV64);
const glue_arch glue_arch_rv32 = RV_ARCH("riscv32", UC_MODE_RISCV32);
