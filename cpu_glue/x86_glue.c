/*
 * x86_glue.c - the x86 half of the Unicorn binding: glue_arch_x86_64 (a
 * UC_MODE_64 engine: 32-bit protected mode, compatibility and 64-bit
 * mode, every paging mode) and glue_arch_i386 (a UC_MODE_32 engine: no
 * IA-32e mode; 32-bit and PAE paging).
 *
 * What it does per glue_arch hook:
 *   setup        CPU model (default Icelake-Server: SMEP, SMAP, PKU, 1 GiB
 *                pages, LA57), calibration of the vCPU blob (x86_vcpu.c),
 *                CPUID hook, Capstone;
 *   sync_state   CR0/CR3/CR4/EFER/RFLAGS (+ PKRU when CR4.PKE) into the
 *                model, CR0/CR3/CR4/EFER (and the descriptor-table
 *                registers) through a cache (see x86_sync_state); the PAE PDPTE registers are (re)loaded by the
 *                MOV CR hooks as MOV CR3/CR0/CR4 load them, or lazily by
 *                the walker when the host changed CR3 or the paging mode;
 *   priv         CS.RPL, which equals the CPL (QEMU takes its CPL from
 *                SS.DPL on every architectural change; the only other
 *                writer of CS is the trap entry, which sets both);
 *   classify_fill   a data fill whose page overlaps the GDT, LDT, IDT or
 *                TSS is an implicit supervisor access (MMU_REQ_IMPLICIT)
 *                unless the instruction at RIP accesses the page itself;
 *   cpu_exception   UC_HOOK_INTR intno is the vector; error code and the
 *                INT-n flag come from the vCPU blob; RIP as QEMU leaves it
 *                is the architectural return point (faults: the
 *                instruction, INT n / INT3: the next one);
 *   scan_code / on_inval_insn   INVLPG, INVPCID, MOV CR0/CR3/CR4, WRMSR:
 *                see on_inval_insn.
 */
#include "x86_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSR_EFER UINT32_C(0xc0000080)

/* CPUID bits the glue looks at (SDM vol. 2A, CPUID). */
#define CPUID_1_ECX_PCID     (UINT32_C(1) << 17)
#define CPUID_1_ECX_OSXSAVE  (UINT32_C(1) << 27)
#define CPUID_7_EBX_INVPCID  (UINT32_C(1) << 10)
#define CPUID_7_ECX_PKU      (UINT32_C(1) << 3)
#define CPUID_7_ECX_OSPKE    (UINT32_C(1) << 4)
#define CPUID_7_ECX_CET_SS   (UINT32_C(1) << 7)
#define CPUID_7_ECX_LA57     (UINT32_C(1) << 16)
#define CPUID_7_ECX_PKS      (UINT32_C(1) << 31)
#define CPUID_X1_EDX_SYSCALL (UINT32_C(1) << 11)
#define CPUID_X1_EDX_PAGE1GB (UINT32_C(1) << 26)
#define CPUID_X1_EDX_LM      (UINT32_C(1) << 29)
#define X86_CR4_OSXSAVE      (UINT64_C(1) << 18)
#define X86_VEC_UD           6u

enum { LEAF_1 = 0, LEAF_7 = 1, LEAF_X1 = 2, LEAF_X8 = 3 };

/* ---- registers ------------------------------------------------------- */

static int reg32(int reg)
{
    switch (reg) {
    case UC_X86_REG_RAX:
        return UC_X86_REG_EAX;
    case UC_X86_REG_RBX:
        return UC_X86_REG_EBX;
    case UC_X86_REG_RCX:
        return UC_X86_REG_ECX;
    case UC_X86_REG_RDX:
        return UC_X86_REG_EDX;
    case UC_X86_REG_RSI:
        return UC_X86_REG_ESI;
    case UC_X86_REG_RDI:
        return UC_X86_REG_EDI;
    case UC_X86_REG_RBP:
        return UC_X86_REG_EBP;
    case UC_X86_REG_RSP:
        return UC_X86_REG_ESP;
    case UC_X86_REG_RIP:
        return UC_X86_REG_EIP;
    case UC_X86_REG_RFLAGS:
        return UC_X86_REG_EFLAGS;
    default:
        return reg;
    }
}

static bool is_64bit_only(int reg)
{
    return (reg >= UC_X86_REG_R8 && reg <= UC_X86_REG_R15) ||
           reg == UC_X86_REG_FS_BASE || reg == UC_X86_REG_GS_BASE;
}

/* Unicorn writes as many bytes as the register has; the zeroed 64-bit
 * buffer then holds the value (little-endian host). */
uint64_t x86_rd(mmu_glue *g, int reg)
{
    uint64_t v = 0;
    if (!x86g(g)->long_engine) {
        if (is_64bit_only(reg))
            return 0;
        reg = reg32(reg);
    }
    uc_reg_read(g->uc, reg, &v);
    return v;
}

/* Every write through here marks the control-state cache stale (writers:
 * delivery, the host's register set-up, CPUID; none of them per fill). */
void x86_wr(mmu_glue *g, int reg, uint64_t v)
{
    x86g(g)->ctl_stale = true;
    if (!x86g(g)->long_engine) {
        if (is_64bit_only(reg))
            return;
        reg = reg32(reg);
    }
    uc_reg_write(g->uc, reg, &v);
}

void x86_dtr(mmu_glue *g, int reg, uint64_t *base, uint32_t *limit,
             uint16_t *sel)
{
    uc_x86_mmr m = {0};
    uc_reg_read(g->uc, reg, &m);
    if (base != NULL)
        *base = m.base;
    if (limit != NULL)
        *limit = m.limit;
    if (sel != NULL)
        *sel = m.selector;
}

uint64_t x86_efer(mmu_glue *g)
{
    uc_x86_msr m = {.rid = MSR_EFER};
    uc_reg_read(g->uc, UC_X86_REG_MSR, &m);
    return m.value;
}

bool x86_lma(mmu_glue *g)
{
    return x86g(g)->long_engine && (x86_efer(g) & X86_EFER_LMA) != 0;
}

bool x86_cs64(mmu_glue *g)
{
    x86_glue *xg = x86g(g);
    if (!xg->long_engine)
        return false;
    x86_vcpu_snapshot(g);
    /* QEMU's HF_CS64 (hflags bit 15): long mode with CS.L = 1. */
    return (x86_snap_u32(g, xg->lay.hflags) >> 15) & 1;
}

/* ---- CPUID ------------------------------------------------------------ */

/*
 * The guest sees the engine's own CPUID (Unicorn already drops what its
 * TCG does not implement, e.g. PCID, INVPCID), with the paging features
 * the model does not implement removed (CET shadow stacks, PKS, and PCID
 * / INVPCID in case a CPU model lists them) and MAXPHYADDR as configured.
 * Leaves needing no change run natively (the hook returns 0), so dynamic
 * bits stay QEMU's; a changed leaf recomputes OSXSAVE / OSPKE from CR4.
 * The i386 glue is a CPU without IA-32e mode, as qemu-system-i386 -cpu
 * max: no LM, SYSCALL or LA57 (the engine itself is QEMU's x86-64 target
 * and would enter long mode, which the 32-bit register view cannot
 * follow); WRMSR setting EFER.LME raises #GP there (x86_on_inval_insn).
 */
static void cpuid_adjusted(const x86_glue *xg, unsigned i, uint32_t r[4])
{
    memcpy(r, xg->cpuid[i].r, sizeof xg->cpuid[i].r);
    switch (i) {
    case LEAF_1:
        r[2] &= ~CPUID_1_ECX_PCID;
        break;
    case LEAF_7:
        r[1] &= ~CPUID_7_EBX_INVPCID;
        r[2] &= ~(CPUID_7_ECX_CET_SS | CPUID_7_ECX_PKS);
        if (!xg->long_engine)
            r[2] &= ~CPUID_7_ECX_LA57;
        break;
    case LEAF_X1:
        if (!xg->long_engine)
            r[3] &= ~(CPUID_X1_EDX_LM | CPUID_X1_EDX_SYSCALL);
        break;
    case LEAF_X8:
        r[0] = (r[0] & ~UINT32_C(0xff)) | xg->maxphyaddr;
        break;
    default:
        break;
    }
}

static bool cpuid_changed(const x86_glue *xg, unsigned i)
{
    uint32_t r[4];
    cpuid_adjusted(xg, i, r);
    return memcmp(r, xg->cpuid[i].r, sizeof r) != 0;
}

static int cpuid_hook(uc_engine *uc, void *arg)
{
    mmu_glue *g = arg;
    x86_glue *xg = x86g(g);
    (void)uc;
    uint32_t leaf = (uint32_t)x86_rd(g, UC_X86_REG_RAX);
    uint32_t sub = (uint32_t)x86_rd(g, UC_X86_REG_RCX);
    for (unsigned i = 0; i < X86_CPUID_LEAVES; i++) {
        const x86_cpuid_leaf *l = &xg->cpuid[i];
        if (l->leaf != leaf || (leaf == 7 && sub != l->sub))
            continue;
        if (!cpuid_changed(xg, i))
            return 0;
        uint32_t r[4];
        cpuid_adjusted(xg, i, r);
        uint64_t cr4 = x86_rd(g, UC_X86_REG_CR4);
        if (i == LEAF_1)
            r[2] = (r[2] & ~CPUID_1_ECX_OSXSAVE) |
                   ((cr4 & X86_CR4_OSXSAVE) ? CPUID_1_ECX_OSXSAVE : 0);
        if (i == LEAF_7)
            r[2] = (r[2] & ~CPUID_7_ECX_OSPKE) |
                   ((cr4 & X86_CR4_PKE) ? CPUID_7_ECX_OSPKE : 0);
        x86_wr(g, UC_X86_REG_RAX, r[0]);
        x86_wr(g, UC_X86_REG_RBX, r[1]);
        x86_wr(g, UC_X86_REG_RCX, r[2]);
        x86_wr(g, UC_X86_REG_RDX, r[3]);
        return 1;
    }
    return 0;
}

/* ---- set-up ----------------------------------------------------------- */

static bool x86_setup(mmu_glue *g, char *err, size_t errlen)
{
    x86_glue *xg = calloc(1, sizeof *xg);
    if (xg == NULL) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    g->arch_data = xg;
    xg->until_pc = xg->until_page = UINT64_MAX;
    xg->long_engine = g->arch->uc_mode == UC_MODE_64;
    int model =
        g->cfg.cpu_model < 0 ? UC_CPU_X86_ICELAKE_SERVER : g->cfg.cpu_model;
    uc_err e = uc_ctl_set_cpu_model(g->uc, model);
    if (e != UC_ERR_OK) {
        snprintf(err, errlen, "x86 glue: CPU model %d: %s", model,
                 uc_strerror(e));
        return false;
    }
    if (!x86_decode_init(xg, err, errlen) ||
        !x86_vcpu_calibrate(g, err, errlen))
        return false;
    /* CPUID.80000008H:EAX[7:0] = MAXPHYADDR. */
    uint8_t engine_mpa = (uint8_t)(xg->cpuid[LEAF_X8].r[0] & 0xff);
    xg->maxphyaddr = g->cfg.maxphyaddr ? g->cfg.maxphyaddr
                     : engine_mpa      ? engine_mpa
                                       : 36;
    if (xg->maxphyaddr < 32 || xg->maxphyaddr > 52) {
        snprintf(err, errlen, "x86 glue: MAXPHYADDR %u outside 32..52",
                 xg->maxphyaddr);
        return false;
    }
    xg->has_pku = (xg->cpuid[LEAF_7].r[2] & CPUID_7_ECX_PKU) != 0;
    xg->has_la57 =
        xg->long_engine && (xg->cpuid[LEAF_7].r[2] & CPUID_7_ECX_LA57) != 0;
    mmu_state_init_x86(&g->mmu.st);
    g->mmu.st.x86.maxphyaddr = xg->maxphyaddr;
    g->mmu.st.x86.has_1g_pages =
        (xg->cpuid[LEAF_X1].r[3] & CPUID_X1_EDX_PAGE1GB) != 0;
    e = uc_hook_add(g->uc, &xg->cpuid_hook, UC_HOOK_INSN,
                    (void *)(uintptr_t)cpuid_hook, g, 1, 0, UC_X86_INS_CPUID);
    if (e != UC_ERR_OK) {
        snprintf(err, errlen, "x86 glue: CPUID hook: %s", uc_strerror(e));
        return false;
    }
    return true;
}

static void x86_teardown(mmu_glue *g)
{
    x86_glue *xg = x86g(g);
    x86_decode_fini(xg);
    if (xg->snap != NULL)
        uc_context_free(xg->snap);
    xg->snap = NULL;
}

/* ---- control state ---------------------------------------------------- */

/* CR0/CR4 bits that decide whether and how the PDPTE registers load. */
#define PDPTE_CR0_BITS (X86_CR0_PG | X86_CR0_CD | X86_CR0_NW)
#define PDPTE_CR4_BITS (X86_CR4_PAE | X86_CR4_PGE | X86_CR4_PSE | X86_CR4_SMEP)

void x86_ctl_stale(mmu_glue *g)
{
    x86g(g)->ctl_stale = true;
}

static const int dtr_regs[4] = {UC_X86_REG_GDTR, UC_X86_REG_IDTR,
                                UC_X86_REG_TR, UC_X86_REG_LDTR};

static void ctl_refresh(mmu_glue *g)
{
    x86_glue *xg = x86g(g);
    xg->c_cr0 = x86_rd(g, UC_X86_REG_CR0);
    xg->c_cr3 = x86_rd(g, UC_X86_REG_CR3);
    xg->c_cr4 = x86_rd(g, UC_X86_REG_CR4);
    xg->c_efer = x86_efer(g);
    for (unsigned i = 0; i < 4; i++)
        x86_dtr(g, dtr_regs[i], &xg->c_dtr_base[i], &xg->c_dtr_limit[i],
                NULL);
    xg->ctl_stale = false;
}

/*
 * CR0/CR3/CR4/EFER and the descriptor-table registers come from a cache;
 * RFLAGS and PKRU (and the CPL, x86_priv) are read every time. The cache
 * is used only by the fill hook (which counts the fill just before it
 * calls sync_state: any other caller, the host's included, reads afresh),
 * only in IA-32e mode (elsewhere a task switch loads CR3, LDTR and TR
 * with no hook seeing it), and only while not stale. Stale: before every
 * uc_emu_start (the run loop asks x86_pc for the start address; x86_set_pc
 * too), after every register write through x86_wr (delivery, the host's
 * set-up), delivery, and at every hooked instruction that may write them
 * (x86_on_inval_insn: MOV CR0/CR3/CR4, WRMSR, LGDT, LIDT, LLDT, LTR, LMSW,
 * CLTS); and while mmu_glue_host_changed's flush is pending (a host hook
 * that wrote them during a run says so through it). A hook runs before its instruction, and the instruction may
 * itself fill (LGDT's operand) before it writes: the cache stays stale
 * until a fill at another RIP.
 */
static void x86_sync_state(mmu_glue *g)
{
    x86_glue *xg = x86g(g);
    mmu_x86_state *x = &g->mmu.st.x86;
    bool fill = g->stats.fills != xg->fills_seen;
    xg->fills_seen = g->stats.fills;
    if (xg->ctl_pending && fill &&
        x86_rd(g, UC_X86_REG_RIP) != xg->ctl_pending_pc) {
        xg->ctl_pending = false;
        xg->ctl_stale = true;
    }
    if (!fill || xg->ctl_stale || xg->ctl_pending || g->need_flush ||
        !(xg->c_efer & X86_EFER_LMA))
        ctl_refresh(g);
    x->cr0 = xg->c_cr0;
    x->cr3 = xg->c_cr3;
    x->cr4 = xg->c_cr4;
    x->rflags = x86_rd(g, UC_X86_REG_RFLAGS);
    x->efer = xg->c_efer;
    if (x->cr4 & X86_CR4_PKE)
        x->pkru = x86_vcpu_pkru(g);
    /* The PDPTE registers belong to the CR3 and paging bits they were
     * loaded for; a change no MOV CR hook saw (the host wrote the
     * registers) reloads them at the next walk, as that MOV would have. */
    if (!xg->pdpte_known || xg->pdpte_cr3 != x->cr3 ||
        ((xg->pdpte_cr0 ^ x->cr0) & PDPTE_CR0_BITS) ||
        ((xg->pdpte_cr4 ^ x->cr4) & PDPTE_CR4_BITS)) {
        x->pdptes_loaded = false;
        xg->pdpte_known = true;
        xg->pdpte_cr3 = x->cr3;
        xg->pdpte_cr0 = x->cr0;
        xg->pdpte_cr4 = x->cr4;
    }
}

static uint8_t x86_priv(mmu_glue *g)
{
    return (uint8_t)(x86_rd(g, UC_X86_REG_CS) & 3);
}

static bool overlaps(uint64_t page, uint64_t base, uint32_t limit)
{
    uint64_t end = base + limit; /* inclusive */
    return page <= end && base < page + 4096;
}

/*
 * The fill hook does not say whether QEMU is filling for the CPL's own
 * index or for an implicit supervisor access (cpu_ldl_kernel: descriptor
 * loads, IRET/far transfers, I/O-bitmap checks). A data fill of a page
 * that holds part of the GDT, LDT, IDT or TSS is taken as implicit unless
 * the instruction at RIP (exact in the fill hook) accesses that page
 * itself through an operand or the stack: then it is the explicit access
 * of the CPL (a user read of a supervisor page holding the GDT faults).
 * An instruction doing both to the same page is taken as explicit.
 */
static void x86_classify_fill(mmu_glue *g, uint64_t page, mmu_req *req)
{
    x86_glue *xg = x86g(g);
    if (req->access == MMU_FETCH)
        return;
    /* The registers as x86_sync_state (called just before) has them. */
    for (unsigned i = 0; i < 4; i++) {
        uint64_t base = xg->c_dtr_base[i];
        uint32_t limit = xg->c_dtr_limit[i];
        if ((base != 0 || limit != 0) && overlaps(page, base, limit)) {
            if (!x86_insn_touches(g, page))
                req->flags |= MMU_REQ_IMPLICIT;
            return;
        }
    }
}

/* ---- exceptions raised by the CPU --------------------------------------- */

static bool has_error_code(unsigned v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21;
}

static void x86_cpu_exception(mmu_glue *g, uint32_t intno, mmu_glue_event *ev)
{
    x86_glue *xg = x86g(g);
    x86_vcpu_snapshot(g);
    bool soft = x86_vcpu_is_int(g);
    uint8_t vec = (uint8_t)intno;
    ev->fault.kind = vec == X86_VEC_GP   ? MMU_FAULT_GP
                     : vec == X86_VEC_SS ? MMU_FAULT_SS
                     : vec == X86_VEC_PF ? MMU_FAULT_PAGE
                                         : MMU_FAULT_NONE;
    ev->fault.vector = vec;
    ev->fault.code =
        (!soft && has_error_code(vec)) ? x86_vcpu_error_code(g) : 0;
    ev->fault.level = -1;
    ev->fault.addr = vec == X86_VEC_PF ? x86_rd(g, UC_X86_REG_CR2) : 0;
    ev->addr_exact = true;
    ev->access = MMU_READ;
    ev->pc = x86_rd(g, UC_X86_REG_RIP);
    ev->priv = x86_priv(g);
    xg->soft_valid = true;
    xg->soft_int = soft;
    xg->soft_pc = ev->pc;
    xg->soft_vec = vec;
    xg->exc_dirty = true;
    xg->until_pc = xg->until_page = UINT64_MAX;
}

/* #UD: QEMU raises it, but Unicorn stops with UC_ERR_INSN_INVALID (RIP
 * on the instruction) instead of reporting it to UC_HOOK_INTR. */
static bool x86_invalid_insn(mmu_glue *g, mmu_glue_event *ev)
{
    x86_glue *xg = x86g(g);
    ev->fault.kind = MMU_FAULT_NONE;
    ev->fault.vector = X86_VEC_UD;
    ev->fault.level = -1;
    ev->addr_exact = true;
    ev->access = MMU_READ;
    ev->pc = x86_rd(g, UC_X86_REG_RIP);
    ev->priv = x86_priv(g);
    xg->soft_valid = false;
    return true;
}

/* ---- invalidation instructions ---------------------------------------- */

/*
 * Byte patterns, at every offset (instructions are not decoded here, so
 * prefixes and overlapping decodes cannot hide one): INVLPG 0F 01 /7 with
 * a memory operand, INVPCID 66 0F 38 82, MOV to CR0/CR3/CR4 0F 22 /r,
 * WRMSR 0F 30; and, for the control-state cache only (x86_sync_state),
 * LGDT 0F 01 /2 and LIDT 0F 01 /3 with a memory operand, LMSW 0F 01 /6,
 * LLDT 0F 00 /2, LTR 0F 00 /3, CLTS 0F 06. Candidates inside another instruction's bytes are
 * harmless: on_inval_insn decodes and ignores them, and a hook on an
 * address that never starts an instruction never runs.
 */
static unsigned x86_scan_code(mmu_glue *g, uint64_t va_page,
                              const uint8_t *code, size_t len, uint64_t *out,
                              unsigned max)
{
    unsigned n = 0;
    (void)g;
    for (size_t i = 0; i + 1 < len && n < max; i++) {
        if (code[i] != 0x0f)
            continue;
        uint8_t op = code[i + 1];
        uint8_t modrm = i + 2 < len ? code[i + 2] : 0;
        unsigned reg = (modrm >> 3) & 7;
        bool hit = false;
        size_t at = i;
        if (op == 0x01 && i + 2 < len)
            hit = ((reg == 7 || reg == 2 || reg == 3) &&
                   (modrm >> 6) != 3) || /* INVLPG, LGDT, LIDT */
                  reg == 6;              /* LMSW */
        else if (op == 0x00 && i + 2 < len)
            hit = reg == 2 || reg == 3; /* LLDT, LTR */
        else if (op == 0x06)
            hit = true; /* CLTS */
        else if (op == 0x22 && i + 2 < len)
            hit = reg == 0 || reg == 3 || reg == 4; /* MOV CRn */
        else if (op == 0x30)
            hit = true; /* WRMSR */
        else if (op == 0x38 && i > 0 && code[i - 1] == 0x66 && i + 2 < len &&
                 code[i + 2] == 0x82) {
            hit = true; /* INVPCID */
            at = i - 1;
        }
        if (!hit)
            continue;
        /* The instruction may start earlier (prefixes: REX, 66, 2E...);
         * the hook is placed on the opcode's first byte and on up to
         * three bytes before it. */
        for (size_t back = 0; back <= 3 && back <= at && n < max; back++)
            out[n++] = va_page + at - back;
    }
    return n;
}

static void raise_gp(mmu_glue *g, uint64_t pc)
{
    mmu_glue_event ev;
    memset(&ev, 0, sizeof ev);
    ev.source = MMU_GLUE_FROM_CPU;
    ev.fault.kind = MMU_FAULT_GP;
    ev.fault.reason = MMU_WHY_RESERVED_BIT;
    ev.fault.vector = X86_VEC_GP;
    ev.fault.level = -1;
    ev.addr_exact = true;
    ev.pc = pc;
    ev.priv = 0;
    g->stats.cpu_exceptions++;
    glue_raise(g, &ev);
}

/* Translation-relevant control bits whose change QEMU may not flush its
 * own TLB for (EFER.NXE, CR4.PKE...): the glue flushes it. */
#define CR0_XLAT_BITS (X86_CR0_PG | X86_CR0_WP | X86_CR0_PE)
#define CR4_XLAT_BITS                                                          \
    (X86_CR4_PSE | X86_CR4_PAE | X86_CR4_PGE | X86_CR4_LA57 | X86_CR4_PCIDE |  \
     X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PKE)

/*
 * Runs just before a hooked candidate executes, at CPL 0 only (elsewhere
 * the instruction raises #GP itself). The model's control registers are
 * the vCPU's: sync_state reads them again at the next fill. What happens
 * here is the instruction's effect on what the vCPU cannot hold: the
 * model TLB's invalidations and the PAE PDPTE registers. For MOV CRn and
 * WRMSR EFER the model's own architectural operation (mmu_x86_write_*)
 * runs on a scratch copy of the context holding the current state, which
 * shares the TLB: the scratch copy applies the SDM's invalidation rules
 * to the real TLB and loads the PDPTEs, which are then kept; its register
 * values are thrown away. If the model says #GP (reserved PDPTE bits,
 * PG without PE, LA57 toggled in IA-32e mode, ...), the instruction does
 * not run and #GP is raised at it: Unicorn (QEMU 5.0) would not check.
 */
static void x86_on_inval_insn(mmu_glue *g, uint64_t pc)
{
    x86_glue *xg = x86g(g);
    x86_inval iv;
    /* Whatever it is, it may write cached control state once it runs. */
    xg->ctl_stale = true;
    xg->ctl_pending = true;
    xg->ctl_pending_pc = pc;
    if (x86_priv(g) != 0 || !x86_decode_inval(g, pc, &iv))
        return;
    x86_sync_state(g);
    mmu_ctx scratch = g->mmu;
    mmu_x86_state before = g->mmu.st.x86;
    mmu_fault flt;
    bool ok = true, flush_uc = false;
    switch (iv.kind) {
    case X86_INVAL_INVLPG:
        mmu_x86_invlpg(&g->mmu, iv.va);
        return;
    case X86_INVAL_INVPCID: {
        uint64_t desc[2];
        size_t done;
        if (!mmu_glue_read_virt(g, iv.va, desc, sizeof desc, 0, &done, &flt))
            return; /* the instruction faults on its own */
        ok = mmu_x86_invpcid(&g->mmu, (unsigned)iv.value,
                             desc[0] & X86_CR3_PCID_MASK, desc[1], &flt);
        if (ok && (desc[0] >> 12) != 0)
            ok = false; /* descriptor bits 63:12 must be 0 */
        break;
    }
    case X86_INVAL_MOV_CR:
        if (iv.cr == 0)
            ok = mmu_x86_write_cr0(&scratch, iv.value, &flt);
        else if (iv.cr == 3)
            ok = mmu_x86_write_cr3(&scratch, iv.value, &flt);
        else if (iv.cr == 4)
            ok = (xg->long_engine || !(iv.value & X86_CR4_LA57)) &&
                 mmu_x86_write_cr4(&scratch, iv.value, &flt);
        else
            return;
        break;
    case X86_INVAL_WRMSR:
        if (iv.msr != MSR_EFER)
            return;
        /* No IA-32e mode on the i386 glue: LME is a reserved bit. */
        ok = (xg->long_engine || !(iv.value & X86_EFER_LME)) &&
             mmu_x86_write_efer(&scratch, iv.value, &flt);
        break;
    case X86_INVAL_WRPKRU:
    case X86_INVAL_NONE:
        return;
    }
    if (!ok) {
        raise_gp(g, pc);
        return;
    }
    if (iv.kind == X86_INVAL_INVPCID)
        return;
    const mmu_x86_state *s = &scratch.st.x86;
    g->mmu.st.x86.pdptes_loaded = s->pdptes_loaded;
    memcpy(g->mmu.st.x86.pdpte, s->pdpte, sizeof s->pdpte);
    xg->pdpte_known = true;
    xg->pdpte_cr3 = s->cr3;
    xg->pdpte_cr0 = s->cr0;
    xg->pdpte_cr4 = s->cr4;
    if (iv.kind == X86_INVAL_MOV_CR && iv.cr == 3)
        xg->pdpte_cr3 = iv.value; /* as the vCPU will hold it */
    flush_uc = ((before.cr0 ^ s->cr0) & CR0_XLAT_BITS) ||
               ((before.cr4 ^ s->cr4) & CR4_XLAT_BITS) ||
               ((before.efer ^ s->efer) & X86_EFER_NXE);
    if (flush_uc) {
        uc_ctl_flush_tlb(g->uc);
        g->stats.unicorn_flushes++;
    }
}

/* ---- program counter -------------------------------------------------- */

static uint64_t x86_pc(mmu_glue *g)
{
    /* The run loop takes the start address from here before every
     * uc_emu_start: the host may have written registers since. */
    x86g(g)->ctl_stale = true;
    return x86_rd(g, UC_X86_REG_RIP);
}

static void x86_set_pc(mmu_glue *g, uint64_t pc)
{
    /* A CPU exception the host handled (RETRY) leaves QEMU's exception-
     * in-flight state set; clear it before the vCPU runs again. */
    if (x86g(g)->exc_dirty)
        x86_vcpu_clear_exception(g);
    x86_wr(g, UC_X86_REG_RIP, pc); /* marks the cache stale */
}

/* ---- the two engines -------------------------------------------------- */

/* One table for both engines: they differ only in Unicorn's mode (the
 * i386 engine also hides long mode, see x86_setup). */
#define X86_ARCH(nm, mode)                                                     \
    {                                                                          \
        .name = nm, .uc_mode = mode, .uc_arch = UC_ARCH_X86,                   \
        .setup = x86_setup, .sync_state = x86_sync_state, .priv = x86_priv,    \
        .classify_fill = x86_classify_fill, .exact_addr = x86_exact_addr,      \
        .cpu_exception = x86_cpu_exception, .invalid_insn = x86_invalid_insn,  \
        .deliver = x86_deliver, .scan_code = x86_scan_code,                    \
        .on_inval_insn = x86_on_inval_insn, .teardown = x86_teardown,          \
        .pc = x86_pc, .set_pc = x86_set_pc,                                    \
    }

const glue_arch glue_arch_x86_64 = X86_ARCH("x86_64", UC_MODE_64);
const glue_arch glue_arch_i386 = X86_ARCH("i386", UC_MODE_32);
