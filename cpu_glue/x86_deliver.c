/*
 * x86_deliver.c - the x86 trap entry, written once for every source of an
 * exception: a fault the model raised in the fill hook (#PF, #GP, #SS), an
 * exception the CPU raised (UC_HOOK_INTR), a software INT n. Unicorn
 * never uses the guest's IDT; this does what the processor does.
 *
 * Models: Intel SDM vol. 3A 6.12 (exception- and interrupt-handling
 * procedures, protected mode), 6.14 (64-bit mode: 16-byte gates, stack
 * switch to TSS.RSPn or an IST stack, 16-byte alignment, SS:RSP always
 * pushed), 6.15 (error codes, CR2), table 6-5 (double fault conditions),
 * 6.13 (the EXT and IDT bits of error codes).
 * Every table read (IDT gate, GDT/LDT descriptor, TSS stack pointer) is an
 * implicit supervisor read through the model; the frame is pushed through
 * the model as explicit writes of the new privilege (SS-relative: a
 * non-canonical stack is #SS). A fault while delivering becomes #DF where
 * table 6-5 says so (contributory after contributory, #PF or contributory
 * after #PF), is delivered instead of the first event otherwise, and any
 * fault while delivering #DF is a triple fault: the run stops.
 *
 * The CPL and the CS/SS caches are set through the vCPU blob
 * (x86_vcpu_enter): Unicorn's register API cannot change the CPL.
 * Not modelled: task gates, 16-bit gates, virtual-8086 and real mode
 * (the run stops with a handler stop), I/O-permission checks, CET.
 */
#include "x86_internal.h"

#include <string.h>
#include <time.h>

#define VEC_DF 8u
#define VEC_TS 10u
#define VEC_NP 11u

#define RFLAGS_TF (UINT64_C(1) << 8)
#define RFLAGS_IF (UINT64_C(1) << 9)
#define RFLAGS_NT (UINT64_C(1) << 14)
#define RFLAGS_RF (UINT64_C(1) << 16)
#define RFLAGS_VM (UINT64_C(1) << 17)

#define GATE_INT  0xeu
#define GATE_TRAP 0xfu

/* Descriptor high dword (SDM 3.4.5). */
#define DESC_S    (UINT32_C(1) << 12)
#define DESC_CODE (UINT32_C(1) << 11)
#define DESC_CONF (UINT32_C(1) << 10)
#define DESC_RW   (UINT32_C(1) << 9)
#define DESC_P    (UINT32_C(1) << 15)
#define DESC_L    (UINT32_C(1) << 21)
#define DESC_DB   (UINT32_C(1) << 22)
#define DESC_G    (UINT32_C(1) << 23)

/* An event on its way into the guest. */
typedef struct dv_event {
    uint8_t vec;
    bool has_ec;
    uint32_t ec;
    bool soft;     /* INT n / INT3 / INTO: gate DPL checked, no EXT */
    uint64_t rip;  /* the return point pushed */
    uint64_t insn; /* soft: the INT instruction, where a fault raised by
                      its delivery returns to */
} dv_event;

typedef enum dv_result {
    DV_OK,
    DV_NESTED, /* a fault while delivering: *n */
    DV_STOP,   /* cannot be delivered (unsupported, outside RAM) */
} dv_result;

typedef struct dv_desc {
    uint32_t lo, hi;
} dv_desc;

static bool has_error_code(unsigned v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21;
}

static bool contributory(unsigned v)
{
    return v == 0 || (v >= 10 && v <= 13);
}

/* A fault with an error code raised by the delivery of e. */
/* Where a fault raised while delivering e returns to: e's own return
 * point, except that INT n then faults and points at itself. */
static uint64_t fault_rip(const dv_event *e)
{
    return e->soft ? e->insn : e->rip;
}

static dv_result raise(dv_event *n, const dv_event *e, uint8_t vec, uint32_t ec)
{
    n->vec = vec;
    n->has_ec = true;
    n->ec = ec | (e->soft ? 0u : 1u); /* EXT */
    n->soft = false;
    n->rip = fault_rip(e);
    return DV_NESTED;
}

/* A model fault during delivery as the exception it raises. */
static dv_result from_model(mmu_glue *g, const mmu_fault *f, dv_event *n,
                            const dv_event *e)
{
    switch (f->kind) {
    case MMU_FAULT_PAGE:
        x86_wr(g, UC_X86_REG_CR2, f->addr);
        *n = (dv_event){.vec = X86_VEC_PF,
                        .has_ec = true,
                        .ec = f->code,
                        .rip = fault_rip(e)};
        return DV_NESTED;
    case MMU_FAULT_GP:
        return raise(n, e, X86_VEC_GP, 0);
    case MMU_FAULT_SS:
        return raise(n, e, X86_VEC_SS, 0);
    case MMU_FAULT_NONE:
    case MMU_FAULT_ACCESS:
    case MMU_FAULT_BAD_PHYS:
        break;
    }
    return DV_STOP;
}

/* ---- memory through the model ------------------------------------------ */

static dv_result sys_read(mmu_glue *g, uint64_t va, void *buf, size_t len,
                          const dv_event *e, dv_event *n)
{
    uint8_t *out = buf;
    size_t done = 0;
    while (done < len) {
        mmu_req req = {.va = va + done,
                       .access = MMU_READ,
                       .priv = 0,
                       .flags = MMU_REQ_IMPLICIT};
        mmu_result res;
        mmu_fault f;
        if (!mmu_translate(&g->mmu, &req, &res, &f))
            return from_model(g, &f, n, e);
        size_t chunk = 4096 - (size_t)((va + done) & 4095);
        if (chunk > len - done)
            chunk = len - done;
        if (!mmu_phys_read(&g->mem, res.pa, out + done, chunk))
            return DV_STOP;
        done += chunk;
    }
    return DV_OK;
}

/* Push slots (values, highest address first) through the model: every
 * slot is translated (A/D as the pushes set them) before any is written,
 * so a frame that faults part-way leaves memory untouched. */
static dv_result push_frame(mmu_glue *g, uint64_t top, const uint64_t *v,
                            unsigned count, unsigned width, unsigned cpl,
                            uint64_t mask, const dv_event *e, dv_event *n)
{
    uint64_t pa[8];
    for (unsigned i = 0; i < count && i < 8; i++) {
        mmu_req req = {.va = (top - (uint64_t)width * (i + 1)) & mask,
                       .access = MMU_WRITE,
                       .priv = (uint8_t)cpl,
                       .flags = MMU_REQ_STACK};
        mmu_result res;
        mmu_fault f;
        if (!mmu_translate(&g->mmu, &req, &res, &f))
            return from_model(g, &f, n, e);
        if (!mmu_phys_contains(&g->mem, res.pa, width))
            return DV_STOP;
        pa[i] = res.pa;
    }
    for (unsigned i = 0; i < count && i < 8; i++) {
        uint8_t bytes[8];
        memcpy(bytes, &v[i], sizeof bytes); /* little-endian */
        mmu_phys_write(&g->mem, pa[i], bytes, width);
    }
    return DV_OK;
}

/* ---- descriptors -------------------------------------------------------- */

static uint64_t desc_base(dv_desc d)
{
    return (d.lo >> 16) | ((uint64_t)(d.hi & 0xff) << 16) |
           (d.hi & UINT32_C(0xff000000));
}

static uint32_t desc_limit(dv_desc d)
{
    uint32_t l = (d.lo & 0xffff) | (d.hi & 0xf0000);
    return (d.hi & DESC_G) ? (l << 12) | 0xfff : l;
}

static unsigned desc_dpl(dv_desc d)
{
    return (d.hi >> 13) & 3;
}

/* Read the GDT/LDT entry for sel; #GP(sel) beyond the table's limit. */
static dv_result read_desc(mmu_glue *g, uint16_t sel, dv_desc *d,
                           const dv_event *e, dv_event *n)
{
    uint64_t base;
    uint32_t limit;
    x86_dtr(g, (sel & 4) ? UC_X86_REG_LDTR : UC_X86_REG_GDTR, &base, &limit,
            NULL);
    uint32_t off = sel & ~7u;
    if (off + 7 > limit)
        return raise(n, e, X86_VEC_GP, sel & 0xfffcu);
    uint32_t w[2] = {0, 0};
    dv_result r = sys_read(g, base + off, w, sizeof w, e, n);
    d->lo = w[0];
    d->hi = w[1];
    return r;
}

/* The handler's code segment: present code, DPL <= CPL; in IA-32e mode a
 * 64-bit segment (L = 1, D = 0). */
static dv_result check_code(mmu_glue *g, uint16_t sel, unsigned cpl, bool ia32e,
                            dv_desc *d, unsigned *new_cpl, const dv_event *e,
                            dv_event *n)
{
    if ((sel & 0xfffc) == 0)
        return raise(n, e, X86_VEC_GP, 0);
    dv_result r = read_desc(g, sel, d, e, n);
    if (r != DV_OK)
        return r;
    uint32_t esel = sel & 0xfffcu;
    if (!(d->hi & DESC_S) || !(d->hi & DESC_CODE) || desc_dpl(*d) > cpl)
        return raise(n, e, X86_VEC_GP, esel);
    if (!(d->hi & DESC_P))
        return raise(n, e, VEC_NP, esel);
    if (ia32e && (!(d->hi & DESC_L) || (d->hi & DESC_DB)))
        return raise(n, e, X86_VEC_GP, esel);
    *new_cpl = (d->hi & DESC_CONF) ? cpl : desc_dpl(*d);
    return DV_OK;
}

/* A stack pointer from the TSS at byte offset off (width bytes). */
static dv_result tss_read(mmu_glue *g, uint32_t off, unsigned width,
                          uint64_t *v, const dv_event *e, dv_event *n)
{
    uint64_t base;
    uint32_t limit;
    uint16_t sel;
    x86_dtr(g, UC_X86_REG_TR, &base, &limit, &sel);
    if (off + width - 1 > limit)
        return raise(n, e, VEC_TS, sel & 0xfffcu);
    *v = 0;
    return sys_read(g, base + off, v, width, e, n);
}

static uint64_t new_rflags(uint64_t rflags, unsigned gate_type)
{
    rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM);
    if (gate_type == GATE_INT)
        rflags &= ~RFLAGS_IF;
    return rflags;
}

static bool canonical(mmu_glue *g, uint64_t va)
{
    unsigned top = (g->mmu.st.x86.cr4 & X86_CR4_LA57) ? 56 : 47;
    return (uint64_t)((int64_t)(va << (63 - top)) >> (63 - top)) == va;
}

/* ---- IA-32e mode (SDM 6.14) --------------------------------------------- */

static dv_result deliver64(mmu_glue *g, const dv_event *e, dv_event *n)
{
    unsigned cpl = (unsigned)(x86_rd(g, UC_X86_REG_CS) & 3);
    uint64_t idt;
    uint32_t idt_limit;
    x86_dtr(g, UC_X86_REG_IDTR, &idt, &idt_limit, NULL);
    uint32_t idt_err = (uint32_t)e->vec * 8u + 2u; /* IDT bit */
    if ((uint32_t)e->vec * 16u + 15u > idt_limit)
        return raise(n, e, X86_VEC_GP, idt_err);
    uint8_t gate[16];
    dv_result r = sys_read(g, idt + (uint64_t)e->vec * 16u, gate, 16, e, n);
    if (r != DV_OK)
        return r;
    unsigned type = gate[5] & 0x1f, dpl = (gate[5] >> 5) & 3;
    if (type != GATE_INT && type != GATE_TRAP)
        return raise(n, e, X86_VEC_GP, idt_err);
    if (e->soft && dpl < cpl)
        return raise(n, e, X86_VEC_GP, idt_err);
    if (!(gate[5] & 0x80))
        return raise(n, e, VEC_NP, idt_err);
    uint16_t sel = (uint16_t)(gate[2] | gate[3] << 8);
    unsigned ist = gate[4] & 7;
    uint32_t hi32;
    memcpy(&hi32, gate + 8, sizeof hi32);
    uint64_t target = (uint64_t)gate[0] | (uint64_t)gate[1] << 8 |
                      (uint64_t)gate[6] << 16 | (uint64_t)gate[7] << 24 |
                      (uint64_t)hi32 << 32;
    dv_desc cs;
    unsigned new_cpl;
    r = check_code(g, sel, cpl, true, &cs, &new_cpl, e, n);
    if (r != DV_OK)
        return r;
    if (!canonical(g, target))
        return raise(n, e, X86_VEC_GP, 0);

    uint64_t rsp = x86_rd(g, UC_X86_REG_RSP);
    if (ist != 0)
        r = tss_read(g, 0x24u + 8u * (ist - 1u), 8, &rsp, e, n);
    else if (new_cpl < cpl)
        r = tss_read(g, 4u + 8u * new_cpl, 8, &rsp, e, n);
    if (r != DV_OK)
        return r;
    if (!canonical(g, rsp))
        return raise(n, e, X86_VEC_SS, 0);
    rsp &= ~UINT64_C(15);

    uint64_t rflags = x86_rd(g, UC_X86_REG_RFLAGS);
    uint64_t frame[6] = {x86_rd(g, UC_X86_REG_SS),
                         x86_rd(g, UC_X86_REG_RSP),
                         rflags,
                         x86_rd(g, UC_X86_REG_CS),
                         e->rip,
                         e->ec};
    unsigned count = e->has_ec ? 6 : 5;
    r = push_frame(g, rsp, frame, count, 8, new_cpl, ~UINT64_C(0), e, n);
    if (r != DV_OK)
        return r;

    x86_seg_load csl = {.sel = (uint16_t)((sel & 0xfffc) | new_cpl),
                        .base = desc_base(cs),
                        .limit = desc_limit(cs),
                        .flags = cs.hi};
    /* A CPL change loads SS with a null selector of the new RPL. */
    x86_seg_load ssl = {.sel = (uint16_t)new_cpl,
                        .flags = (uint32_t)new_cpl << 13};
    x86_vcpu_enter(g, &csl, new_cpl != cpl ? &ssl : NULL, new_cpl);
    x86_wr(g, UC_X86_REG_RSP, rsp - 8u * count);
    x86_wr(g, UC_X86_REG_RFLAGS, new_rflags(rflags, type));
    x86_wr(g, UC_X86_REG_RIP, target);
    return DV_OK;
}

/* ---- legacy protected mode (SDM 6.12) ----------------------------------- */

static dv_result deliver32(mmu_glue *g, const dv_event *e, dv_event *n)
{
    unsigned cpl = (unsigned)(x86_rd(g, UC_X86_REG_CS) & 3);
    uint64_t idt;
    uint32_t idt_limit;
    x86_dtr(g, UC_X86_REG_IDTR, &idt, &idt_limit, NULL);
    uint32_t idt_err = (uint32_t)e->vec * 8u + 2u;
    if ((uint32_t)e->vec * 8u + 7u > idt_limit)
        return raise(n, e, X86_VEC_GP, idt_err);
    uint8_t gate[8];
    dv_result r =
        sys_read(g, (idt + (uint64_t)e->vec * 8u) & 0xffffffffu, gate, 8, e, n);
    if (r != DV_OK)
        return r;
    unsigned type = gate[5] & 0x1f, dpl = (gate[5] >> 5) & 3;
    if (type == 0x5 || type == 0x6 || type == 0x7)
        return DV_STOP; /* task gate, 16-bit gates: not modelled */
    if (type != GATE_INT && type != GATE_TRAP)
        return raise(n, e, X86_VEC_GP, idt_err);
    if (e->soft && dpl < cpl)
        return raise(n, e, X86_VEC_GP, idt_err);
    if (!(gate[5] & 0x80))
        return raise(n, e, VEC_NP, idt_err);
    uint16_t sel = (uint16_t)(gate[2] | gate[3] << 8);
    uint64_t target = (uint64_t)gate[0] | (uint64_t)gate[1] << 8 |
                      (uint64_t)gate[6] << 16 | (uint64_t)gate[7] << 24;
    dv_desc cs;
    unsigned new_cpl;
    r = check_code(g, sel, cpl, false, &cs, &new_cpl, e, n);
    if (r != DV_OK)
        return r;

    uint64_t esp = x86_rd(g, UC_X86_REG_RSP) & 0xffffffffu;
    x86_vcpu_snapshot(g);
    size_t ss_off = x86g(g)->lay.segs + X86_SEG_SS * X86_SEG_SIZE;
    uint64_t ss_base = x86_snap_u32(g, ss_off + 8);
    x86_seg_load ssl = {0};
    uint64_t frame[7];
    unsigned count = 0;
    if (new_cpl < cpl) {
        uint64_t nesp, nss;
        if ((r = tss_read(g, 4u + 8u * new_cpl, 4, &nesp, e, n)) != DV_OK ||
            (r = tss_read(g, 8u + 8u * new_cpl, 2, &nss, e, n)) != DV_OK)
            return r;
        uint16_t ssel = (uint16_t)nss;
        dv_desc ssd;
        if ((ssel & 0xfffc) == 0)
            return raise(n, e, VEC_TS, 0);
        if ((r = read_desc(g, ssel, &ssd, e, n)) != DV_OK)
            return r;
        if ((ssel & 3) != new_cpl || desc_dpl(ssd) != new_cpl ||
            !(ssd.hi & DESC_S) || (ssd.hi & DESC_CODE) || !(ssd.hi & DESC_RW))
            return raise(n, e, VEC_TS, ssel & 0xfffcu);
        if (!(ssd.hi & DESC_P))
            return raise(n, e, X86_VEC_SS, ssel & 0xfffcu);
        frame[count++] = x86_rd(g, UC_X86_REG_SS);
        frame[count++] = esp;
        ssl = (x86_seg_load){.sel = ssel,
                             .base = desc_base(ssd),
                             .limit = desc_limit(ssd),
                             .flags = ssd.hi};
        ss_base = ssl.base;
        esp = nesp & 0xffffffffu;
    }
    uint64_t rflags = x86_rd(g, UC_X86_REG_RFLAGS);
    frame[count++] = rflags & 0xffffffffu;
    frame[count++] = x86_rd(g, UC_X86_REG_CS);
    frame[count++] = e->rip & 0xffffffffu;
    if (e->has_ec)
        frame[count++] = e->ec;
    r = push_frame(g, (ss_base + esp) & 0xffffffffu, frame, count, 4, new_cpl,
                   0xffffffffu, e, n);
    if (r != DV_OK)
        return r;

    x86_seg_load csl = {.sel = (uint16_t)((sel & 0xfffc) | new_cpl),
                        .base = desc_base(cs),
                        .limit = desc_limit(cs),
                        .flags = cs.hi};
    x86_vcpu_enter(g, &csl, new_cpl < cpl ? &ssl : NULL, new_cpl);
    x86_wr(g, UC_X86_REG_RSP, (esp - 4u * count) & 0xffffffffu);
    x86_wr(g, UC_X86_REG_RFLAGS, new_rflags(rflags, type));
    x86_wr(g, UC_X86_REG_RIP, target);
    return DV_OK;
}

/* ---- the entry ---------------------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static dv_event first_event(mmu_glue *g, const mmu_glue_event *ev)
{
    x86_glue *xg = x86g(g);
    dv_event e = {.vec = ev->fault.vector, .rip = ev->pc};
    e.soft = ev->source == MMU_GLUE_FROM_CPU && xg->soft_valid &&
             xg->soft_int && xg->soft_pc == ev->pc &&
             xg->soft_vec == ev->fault.vector;
    e.has_ec = !e.soft && has_error_code(e.vec);
    e.ec = e.has_ec ? ev->fault.code : 0;
    e.insn = e.soft ? x86_soft_int_start(g, ev->pc, e.vec) : ev->pc;
    return e;
}

bool x86_deliver(mmu_glue *g, const mmu_glue_event *ev)
{
    x86_glue *xg = x86g(g);
    uint64_t t0 = now_ns();
    const mmu_fault *f = &ev->fault;
    if (ev->source == MMU_GLUE_FROM_MODEL &&
        (f->kind == MMU_FAULT_BAD_PHYS || f->kind == MMU_FAULT_ACCESS ||
         f->kind == MMU_FAULT_NONE)) {
        glue_stop(g, MMU_GLUE_STOP_HANDLER);
        return false; /* no vector: a paging structure outside RAM */
    }
    x86_ctl_stale(g); /* the host may have written registers */
    g->arch->sync_state(g);
    dv_event e = first_event(g, ev);
    xg->soft_valid = false;
    if (e.vec == X86_VEC_PF && !e.soft && ev->source == MMU_GLUE_FROM_MODEL)
        x86_wr(g, UC_X86_REG_CR2, f->addr);
    bool pe = (g->mmu.st.x86.cr0 & X86_CR0_PE) != 0;
    bool lma = x86_lma(g);
    /* Each nested fault either turns into #DF or replaces the event; a
     * bound on the rounds stops a pathological chain of benign faults. */
    for (unsigned round = 0; round < 16; round++) {
        dv_event n;
        dv_result r = lma  ? deliver64(g, &e, &n)
                      : pe ? deliver32(g, &e, &n)
                           : DV_STOP;
        if (r == DV_OK) {
            xg->deliver_ns = now_ns() - t0;
            return true;
        }
        if (r == DV_STOP) {
            glue_stop(g, MMU_GLUE_STOP_HANDLER);
            return false;
        }
        if (e.vec == VEC_DF)
            break; /* shutdown */
        if (!e.soft && ((contributory(e.vec) && contributory(n.vec)) ||
                        (e.vec == X86_VEC_PF &&
                         (contributory(n.vec) || n.vec == X86_VEC_PF))))
            e = (dv_event){
                .vec = VEC_DF, .has_ec = true, .ec = 0, .rip = e.rip};
        else
            e = n;
    }
    glue_stop(g, MMU_GLUE_STOP_TRIPLE);
    return false;
}
