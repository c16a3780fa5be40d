/*
 * x86_decode.c - Capstone decoding for the x86 binding: the exact address
 * a faulting instruction accessed, the operands of invalidation
 * instructions, and disassembly for reports.
 *
 * The fill hook only learns the page and read/write/fetch, so the
 * address in CR2 (and the #GP/#SS choice for a non-canonical address) is
 * rebuilt from the instruction at the faulting RIP and the registers,
 * which still hold their values from before it (x86 faults are precise):
 *   - explicit memory operands: segment base (FS/GS in 64-bit mode, any
 *     in legacy modes) + base + index * scale + disp, truncated to the
 *     address size; RIP-relative from the next instruction;
 *   - string instructions: Capstone lists [RSI] / ES:[RDI] as operands;
 *     with REP the registers already point at the element that faults;
 *   - stack: PUSH, PUSHF, CALL, ENTER write below RSP; POP, POPF, RET,
 *     LEAVE (at RBP), IRET read at RSP;
 *   - descriptor loads (MOV Sreg, LTR, LLDT): the GDT/LDT entry.
 * Among the accesses of the faulting kind, the one overlapping the
 * faulting page gives the address: its start, or the page's start when a
 * split access faults on its second page. If none does, the page address
 * is reported with addr_exact = false.
 * Fetches: QEMU translates a block ahead of running it, so a fetch fault
 * on the next page can arrive with RIP at the block's start; the
 * instructions up to the one reaching into that page are decoded and the
 * run loop runs them first (run_until), so the fault is taken exactly
 * where the CPU takes it.
 * The same decode tells an explicit access of a descriptor-table page
 * from QEMU's implicit ones (x86_insn_touches, for classify_fill).
 *
 * Not modelled: 16-bit addressing, far pointers' second-page reads,
 * XSAVE/FXSAVE areas larger than Capstone's operand size, gathers.
 */
#include "x86_internal.h"

#include <stdio.h>
#include <string.h>

#define PAGE_SIZE UINT64_C(4096)
#define MAX_INSN  15u
#define MAX_ACC   6u

bool x86_decode_init(x86_glue *xg, char *err, size_t errlen)
{
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &xg->cs64) != CS_ERR_OK ||
        cs_open(CS_ARCH_X86, CS_MODE_32, &xg->cs32) != CS_ERR_OK) {
        snprintf(err, errlen, "x86 glue: Capstone cs_open failed");
        return false;
    }
    cs_option(xg->cs64, CS_OPT_DETAIL, CS_OPT_ON);
    cs_option(xg->cs32, CS_OPT_DETAIL, CS_OPT_ON);
    return true;
}

void x86_decode_fini(x86_glue *xg)
{
    if (xg->cs64)
        cs_close(&xg->cs64);
    if (xg->cs32)
        cs_close(&xg->cs32);
}

/* ---- reading code ----------------------------------------------------- */

/* Read up to max bytes at va as the vCPU would fetch them, without A/D
 * side effects and without touching the model TLB (a host-side probe must
 * not change its contents or statistics): a walk with MMU_REQ_NO_AD.
 * Stops at the first byte that does not translate. */
static size_t read_code(mmu_glue *g, uint64_t va, uint8_t *buf, size_t max,
                        uint8_t priv)
{
    size_t n = 0;
    mmu_walk_stats stats = g->mmu.stats;
    mmu_trace_fn trace = g->mmu.trace;
    g->mmu.trace = NULL;
    while (n < max) {
        static const struct {
            mmu_access acc;
            uint8_t flags;
            bool user;
        } tries[] = {{MMU_FETCH, MMU_REQ_NO_AD, false},
                     {MMU_READ, MMU_REQ_NO_AD | MMU_REQ_IMPLICIT, false},
                     {MMU_READ, MMU_REQ_NO_AD, true}};
        mmu_result res;
        mmu_fault flt;
        bool ok = false;
        for (unsigned t = 0; t < 3 && !ok; t++) {
            mmu_req req = {.va = va + n,
                           .access = tries[t].acc,
                           .priv = tries[t].user ? 3 : priv,
                           .flags = tries[t].flags};
            ok = mmu_walk_translate(&g->mmu, &req, &res, &flt);
        }
        if (!ok)
            break;
        size_t chunk = (size_t)(PAGE_SIZE - ((va + n) & (PAGE_SIZE - 1)));
        if (chunk > max - n)
            chunk = max - n;
        if (!mmu_phys_read(&g->mem, res.pa, buf + n, chunk))
            break;
        n += chunk;
    }
    g->mmu.stats = stats;
    g->mmu.trace = trace;
    return n;
}

static cs_insn *decode_at(mmu_glue *g, uint64_t pc, bool *is64)
{
    x86_glue *xg = x86g(g);
    uint8_t code[MAX_INSN];
    g->arch->sync_state(g);
    size_t n = read_code(g, pc, code, sizeof code, g->arch->priv(g));
    *is64 = x86_cs64(g);
    if (n == 0)
        return NULL;
    cs_insn *insn = NULL;
    if (cs_disasm(*is64 ? xg->cs64 : xg->cs32, code, n, pc, 1, &insn) != 1)
        return NULL;
    return insn;
}

/* ---- register values --------------------------------------------------- */

static int uc_gpr(x86_reg r, unsigned *bits)
{
    static const struct {
        x86_reg cs;
        int uc;
        unsigned bits;
    } map[] = {
        {X86_REG_RAX, UC_X86_REG_RAX, 64},  {X86_REG_RBX, UC_X86_REG_RBX, 64},
        {X86_REG_RCX, UC_X86_REG_RCX, 64},  {X86_REG_RDX, UC_X86_REG_RDX, 64},
        {X86_REG_RSI, UC_X86_REG_RSI, 64},  {X86_REG_RDI, UC_X86_REG_RDI, 64},
        {X86_REG_RBP, UC_X86_REG_RBP, 64},  {X86_REG_RSP, UC_X86_REG_RSP, 64},
        {X86_REG_R8, UC_X86_REG_R8, 64},    {X86_REG_R9, UC_X86_REG_R9, 64},
        {X86_REG_R10, UC_X86_REG_R10, 64},  {X86_REG_R11, UC_X86_REG_R11, 64},
        {X86_REG_R12, UC_X86_REG_R12, 64},  {X86_REG_R13, UC_X86_REG_R13, 64},
        {X86_REG_R14, UC_X86_REG_R14, 64},  {X86_REG_R15, UC_X86_REG_R15, 64},
        {X86_REG_EAX, UC_X86_REG_RAX, 32},  {X86_REG_EBX, UC_X86_REG_RBX, 32},
        {X86_REG_ECX, UC_X86_REG_RCX, 32},  {X86_REG_EDX, UC_X86_REG_RDX, 32},
        {X86_REG_ESI, UC_X86_REG_RSI, 32},  {X86_REG_EDI, UC_X86_REG_RDI, 32},
        {X86_REG_EBP, UC_X86_REG_RBP, 32},  {X86_REG_ESP, UC_X86_REG_RSP, 32},
        {X86_REG_R8D, UC_X86_REG_R8, 32},   {X86_REG_R9D, UC_X86_REG_R9, 32},
        {X86_REG_R10D, UC_X86_REG_R10, 32}, {X86_REG_R11D, UC_X86_REG_R11, 32},
        {X86_REG_R12D, UC_X86_REG_R12, 32}, {X86_REG_R13D, UC_X86_REG_R13, 32},
        {X86_REG_R14D, UC_X86_REG_R14, 32}, {X86_REG_R15D, UC_X86_REG_R15, 32},
        {X86_REG_AX, UC_X86_REG_RAX, 16},   {X86_REG_BX, UC_X86_REG_RBX, 16},
        {X86_REG_CX, UC_X86_REG_RCX, 16},   {X86_REG_DX, UC_X86_REG_RDX, 16},
        {X86_REG_SI, UC_X86_REG_RSI, 16},   {X86_REG_DI, UC_X86_REG_RDI, 16},
        {X86_REG_BP, UC_X86_REG_RBP, 16},   {X86_REG_SP, UC_X86_REG_RSP, 16},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].cs == r) {
            *bits = map[i].bits;
            return map[i].uc;
        }
    return UC_X86_REG_INVALID;
}

static uint64_t trunc_bits(uint64_t v, unsigned bits)
{
    return bits >= 64 ? v : v & ((UINT64_C(1) << bits) - 1);
}

static uint64_t gpr_value(mmu_glue *g, x86_reg r)
{
    unsigned bits = 64;
    int uc = uc_gpr(r, &bits);
    if (uc == UC_X86_REG_INVALID)
        return 0;
    return trunc_bits(x86_rd(g, uc), bits);
}

static bool is_stack_reg(x86_reg r)
{
    return r == X86_REG_RSP || r == X86_REG_RBP || r == X86_REG_ESP ||
           r == X86_REG_EBP || r == X86_REG_SP || r == X86_REG_BP;
}

static unsigned seg_index(x86_reg seg)
{
    switch (seg) {
    case X86_REG_ES:
        return X86_SEG_ES;
    case X86_REG_CS:
        return X86_SEG_CS;
    case X86_REG_SS:
        return X86_SEG_SS;
    case X86_REG_FS:
        return 4;
    case X86_REG_GS:
        return 5;
    default:
        return 3; /* DS */
    }
}

/* Segment base: FS/GS only in 64-bit mode; any segment in legacy mode,
 * from the vCPU's segment cache. */
static uint64_t seg_base(mmu_glue *g, x86_reg seg, bool is64)
{
    unsigned idx = seg_index(seg);
    if (is64) {
        if (idx == 4)
            return x86_rd(g, UC_X86_REG_FS_BASE);
        if (idx == 5)
            return x86_rd(g, UC_X86_REG_GS_BASE);
        return 0;
    }
    x86_vcpu_snapshot(g);
    size_t off = x86g(g)->lay.segs + idx * X86_SEG_SIZE + 8;
    return (uint64_t)x86_snap_u32(g, off) | (uint64_t)x86_snap_u32(g, off + 4)
                                                << 32;
}

/* Linear address of a memory operand. *stack: SS-relative. */
static uint64_t mem_ea(mmu_glue *g, const cs_insn *insn, const cs_x86_op *op,
                       bool is64, bool *stack)
{
    const x86_op_mem *m = &op->mem;
    unsigned abits = insn->detail->x86.addr_size * 8u;
    uint64_t ea = (uint64_t)m->disp;
    if (m->base == X86_REG_RIP || m->base == X86_REG_EIP)
        ea += insn->address + insn->size;
    else if (m->base != X86_REG_INVALID)
        ea += gpr_value(g, m->base);
    if (m->index != X86_REG_INVALID)
        ea += gpr_value(g, m->index) * (uint64_t)(int64_t)m->scale;
    ea = trunc_bits(ea, abits ? abits : 64);
    x86_reg seg = m->segment;
    if (seg == X86_REG_INVALID && is_stack_reg(m->base))
        seg = X86_REG_SS;
    *stack = seg == X86_REG_SS;
    uint64_t lin = ea + seg_base(g, seg, is64);
    return is64 ? lin : lin & UINT64_C(0xffffffff);
}

/* ---- the accesses of an instruction ------------------------------------ */

typedef struct acc {
    uint64_t addr;
    uint32_t len;
    bool read, write, stack;
} acc;

static void add_acc(acc *a, unsigned *n, uint64_t addr, uint32_t len, bool read,
                    bool write, bool stack)
{
    if (*n < MAX_ACC)
        a[(*n)++] = (acc){addr, len ? len : 1, read, write, stack};
}

static bool has_prefix(const cs_insn *insn, uint8_t p)
{
    for (unsigned i = 0; i < 4; i++)
        if (insn->detail->x86.prefix[i] == p)
            return true;
    return false;
}

/* Implicit stack accesses. */
static void stack_accesses(mmu_glue *g, const cs_insn *insn, bool is64, acc *a,
                           unsigned *n)
{
    uint32_t w = is64 ? 8 : 4;
    if (has_prefix(insn, 0x66))
        w = 2;
    uint64_t rsp = x86_rd(g, UC_X86_REG_RSP);
    if (!is64)
        rsp &= UINT64_C(0xffffffff);
    uint64_t ss = is64 ? 0 : seg_base(g, X86_REG_SS, false);
    switch (insn->id) {
    case X86_INS_PUSH:
    case X86_INS_PUSHF:
    case X86_INS_PUSHFD:
    case X86_INS_PUSHFQ:
    case X86_INS_CALL:
    case X86_INS_ENTER:
        add_acc(a, n, ss + rsp - w, w, false, true, true);
        break;
    case X86_INS_PUSHAL:
        add_acc(a, n, ss + rsp - 8 * w, 8 * w, false, true, true);
        break;
    case X86_INS_POP:
    case X86_INS_POPF:
    case X86_INS_POPFD:
    case X86_INS_POPFQ:
    case X86_INS_RET:
        add_acc(a, n, ss + rsp, w, true, false, true);
        break;
    case X86_INS_POPAL:
        add_acc(a, n, ss + rsp, 8 * w, true, false, true);
        break;
    case X86_INS_RETF:
    case X86_INS_RETFQ:
        add_acc(a, n, ss + rsp, 2 * w, true, false, true);
        break;
    case X86_INS_IRET:
    case X86_INS_IRETD:
    case X86_INS_IRETQ: {
        uint32_t iw = insn->id == X86_INS_IRETQ  ? 8
                      : insn->id == X86_INS_IRET ? 2
                                                 : 4;
        add_acc(a, n, ss + rsp, (is64 ? 5 : 3) * iw, true, false, true);
        break;
    }
    case X86_INS_LEAVE: {
        uint64_t rbp = x86_rd(g, UC_X86_REG_RBP);
        add_acc(a, n, ss + (is64 ? rbp : rbp & UINT64_C(0xffffffff)), w, true,
                false, true);
        break;
    }
    default:
        break;
    }
}

static bool is_seg_reg(x86_reg r)
{
    return r == X86_REG_ES || r == X86_REG_CS || r == X86_REG_SS ||
           r == X86_REG_DS || r == X86_REG_FS || r == X86_REG_GS;
}

/* Descriptor-table entry a segment load reads (and writes: accessed bit). */
static void descriptor_access(mmu_glue *g, const cs_insn *insn, acc *a,
                              unsigned *n)
{
    const cs_x86 *x = &insn->detail->x86;
    bool load =
        (insn->id == X86_INS_MOV && x->op_count == 2 &&
         x->operands[0].type == X86_OP_REG && is_seg_reg(x->operands[0].reg)) ||
        insn->id == X86_INS_LTR || insn->id == X86_INS_LLDT;
    if (!load)
        return;
    const cs_x86_op *src = &x->operands[x->op_count - 1];
    unsigned bits;
    if (src->type != X86_OP_REG ||
        uc_gpr(src->reg, &bits) == UC_X86_REG_INVALID)
        return;
    uint16_t sel = (uint16_t)gpr_value(g, src->reg);
    uint64_t base;
    x86_dtr(g, (sel & 4) ? UC_X86_REG_LDTR : UC_X86_REG_GDTR, &base, NULL,
            NULL);
    add_acc(a, n, base + (sel & ~7u), 8, true, true, false);
}

/* explicit: only the instruction's own operands and stack accesses, not
 * the descriptor-table reads it makes as implicit supervisor accesses. */
static unsigned accesses(mmu_glue *g, const cs_insn *insn, bool is64, acc *a,
                         bool explicit_only)
{
    unsigned n = 0;
    const cs_x86 *x = &insn->detail->x86;
    if (insn->id == X86_INS_LEA || insn->id == X86_INS_NOP ||
        insn->id == X86_INS_INVLPG)
        return 0;
    for (unsigned i = 0; i < x->op_count; i++) {
        const cs_x86_op *op = &x->operands[i];
        if (op->type != X86_OP_MEM)
            continue;
        bool stack;
        uint64_t ea = mem_ea(g, insn, op, is64, &stack);
        bool rd = (op->access & CS_AC_READ) != 0;
        bool wr = (op->access & CS_AC_WRITE) != 0;
        if (!rd && !wr)
            rd = wr = true;
        add_acc(a, &n, ea, op->size, rd, wr, stack);
    }
    stack_accesses(g, insn, is64, a, &n);
    if (!explicit_only)
        descriptor_access(g, insn, a, &n);
    return n;
}

/* ---- exact fault address ------------------------------------------------ */

static uint64_t page_of(uint64_t va, bool is64)
{
    return (is64 ? va : va & UINT64_C(0xffffffff)) & ~(PAGE_SIZE - 1);
}

/*
 * A fetch fill for `page` that failed while QEMU translated a block
 * starting at pc < page: the block runs straight (a block ends at every
 * branch) from pc up to the instruction that reaches into `page`. That
 * one faults; the ones before it have not run yet. @return its address
 * (pc itself when pc's instruction crosses into the page), or pc when the
 * bytes cannot be decoded as QEMU did.
 */
static uint64_t fetch_fault_insn(mmu_glue *g, uint64_t pc, uint64_t page)
{
    x86_glue *xg = x86g(g);
    uint8_t code[PAGE_SIZE + MAX_INSN];
    if (page - pc > PAGE_SIZE)
        return pc;
    size_t want = (size_t)(page - pc);
    size_t n = read_code(g, pc, code, want, g->arch->priv(g));
    if (n != want)
        return pc;
    csh cs = x86_cs64(g) ? xg->cs64 : xg->cs32;
    cs_insn *insn = cs_malloc(cs);
    if (insn == NULL)
        return pc;
    const uint8_t *p = code;
    uint64_t at = pc;
    /* cs_disasm_iter stops at the first instruction not wholly in the
     * buffer: the one crossing into `page`; or the buffer is used up and
     * the faulting instruction starts at `page`. QEMU's blocks hold at
     * most 512 instructions. */
    for (unsigned i = 0; i < 512 && n > 0; i++)
        if (!cs_disasm_iter(cs, &p, &n, &at, insn))
            break;
    cs_free(insn, 1);
    return at;
}

void x86_exact_addr(mmu_glue *g, mmu_glue_event *ev, uint64_t page)
{
    x86_glue *xg = x86g(g);
    /* The same block faulting again right after a run_until means QEMU
     * never stopped at the instruction (its decode differs): take the
     * fault at the block's start rather than loop. */
    bool again = xg->until_pc == ev->pc && xg->until_page == page;
    xg->until_pc = xg->until_page = UINT64_MAX;
    ev->addr_exact = false;
    ev->fault.addr = page;
    if (ev->access == MMU_FETCH) {
        uint64_t insn =
            ev->pc < page ? fetch_fault_insn(g, ev->pc, page) : ev->pc;
        if (insn != ev->pc && !again) {
            g->run_until = insn; /* run the block's head first */
            xg->until_pc = ev->pc;
            xg->until_page = page;
            return;
        }
        /* The instruction at RIP, or its tail on the next page. */
        ev->fault.addr = ev->pc >= page ? ev->pc : page;
        ev->addr_exact = true;
        return;
    }
    bool is64;
    cs_insn *insn = decode_at(g, ev->pc, &is64);
    if (insn == NULL)
        return;
    acc a[MAX_ACC];
    unsigned n = accesses(g, insn, is64, a, false);
    bool want_write = ev->access == MMU_WRITE;
    for (unsigned pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < n; i++) {
            bool kind_ok = want_write ? a[i].write : a[i].read;
            if (pass == 0 && !kind_ok)
                continue;
            uint64_t first = page_of(a[i].addr, is64);
            uint64_t last = page_of(a[i].addr + a[i].len - 1, is64);
            bool hit = first == page || (last == page && first != last);
            if (!hit)
                continue;
            ev->fault.addr = first == page ? a[i].addr : page;
            if (!is64)
                ev->fault.addr &= UINT64_C(0xffffffff);
            ev->addr_exact = true;
            /* A non-canonical SS-relative reference is #SS(0). */
            if (ev->fault.kind == MMU_FAULT_GP &&
                ev->fault.reason == MMU_WHY_NONCANONICAL && a[i].stack) {
                ev->fault.kind = MMU_FAULT_SS;
                ev->fault.vector = X86_VEC_SS;
            }
            cs_free(insn, 1);
            return;
        }
    }
    cs_free(insn, 1);
}

bool x86_insn_touches(mmu_glue *g, uint64_t page)
{
    bool is64;
    cs_insn *insn = decode_at(g, x86_rd(g, UC_X86_REG_RIP), &is64);
    if (insn == NULL)
        return false;
    acc a[MAX_ACC];
    unsigned n = accesses(g, insn, is64, a, true);
    bool hit = false;
    for (unsigned i = 0; i < n && !hit; i++)
        hit = page_of(a[i].addr, is64) == page ||
              page_of(a[i].addr + a[i].len - 1, is64) == page;
    cs_free(insn, 1);
    return hit;
}

/* ---- invalidation operands --------------------------------------------- */

static int cr_index(x86_reg r)
{
    if (r >= X86_REG_CR0 && r <= X86_REG_CR15)
        return (int)(r - X86_REG_CR0);
    return -1;
}

bool x86_decode_inval(mmu_glue *g, uint64_t pc, x86_inval *out)
{
    bool is64;
    memset(out, 0, sizeof *out);
    cs_insn *insn = decode_at(g, pc, &is64);
    if (insn == NULL)
        return false;
    const cs_x86 *x = &insn->detail->x86;
    bool stack;
    switch (insn->id) {
    case X86_INS_INVLPG:
        if (x->op_count == 1 && x->operands[0].type == X86_OP_MEM) {
            out->kind = X86_INVAL_INVLPG;
            out->va = mem_ea(g, insn, &x->operands[0], is64, &stack);
        }
        break;
    case X86_INS_INVPCID:
        if (x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
            x->operands[1].type == X86_OP_MEM) {
            out->kind = X86_INVAL_INVPCID;
            out->value = gpr_value(g, x->operands[0].reg);
            out->va = mem_ea(g, insn, &x->operands[1], is64, &stack);
        }
        break;
    case X86_INS_MOV:
        if (x->op_count == 2 && x->operands[0].type == X86_OP_REG &&
            cr_index(x->operands[0].reg) >= 0 &&
            x->operands[1].type == X86_OP_REG) {
            out->kind = X86_INVAL_MOV_CR;
            out->cr = (unsigned)cr_index(x->operands[0].reg);
            out->value = gpr_value(g, x->operands[1].reg);
        }
        break;
    case X86_INS_WRMSR:
        out->kind = X86_INVAL_WRMSR;
        out->msr = (uint32_t)x86_rd(g, UC_X86_REG_RCX);
        out->value = (x86_rd(g, UC_X86_REG_RDX) & UINT64_C(0xffffffff)) << 32 |
                     (x86_rd(g, UC_X86_REG_RAX) & UINT64_C(0xffffffff));
        break;
    case X86_INS_WRPKRU:
        out->kind = X86_INVAL_WRPKRU;
        out->value = x86_rd(g, UC_X86_REG_RAX) & UINT64_C(0xffffffff);
        break;
    default:
        break;
    }
    cs_free(insn, 1);
    return out->kind != X86_INVAL_NONE;
}

/* ---- software interrupts ------------------------------------------------ */

uint64_t x86_soft_int_start(mmu_glue *g, uint64_t next, uint8_t vec)
{
    uint8_t b[2] = {0, 0};
    if (next >= 2 && read_code(g, next - 2, b, 2, g->arch->priv(g)) == 2 &&
        b[0] == 0xcd && b[1] == vec)
        return next - 2; /* INT imm8 */
    return next - 1;     /* INT3 (CC), INTO (CE) */
}

/* ---- disassembly -------------------------------------------------------- */

bool x86_disasm(mmu_glue *g, uint64_t pc, char *buf, size_t len)
{
    bool is64;
    cs_insn *insn = decode_at(g, pc, &is64);
    if (insn == NULL) {
        snprintf(buf, len, "(instruction bytes at 0x%llx not readable)",
                 (unsigned long long)pc);
        return false;
    }
    char hex[3 * MAX_INSN + 1] = "";
    size_t n = 0;
    for (unsigned i = 0; i < insn->size && i < MAX_INSN; i++)
        n += (size_t)snprintf(hex + n, sizeof hex - n, "%s%02x",
                              i ? " " : "", insn->bytes[i]);
    snprintf(buf, len, "0x%llx: %s%s%s   [%s] (%d-bit code)",
             (unsigned long long)pc, insn->mnemonic, insn->op_str[0] ? " " : "",
             insn->op_str, hex, is64 ? 64 : 32);
    cs_free(insn, 1);
    return true;
}
