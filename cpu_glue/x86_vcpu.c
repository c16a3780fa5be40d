/*
 * x86_vcpu.c - the parts of the vCPU that Unicorn's register API cannot
 * reach, read and written through a uc_context blob (a copy of QEMU's
 * CPUX86State up to end_reset_fields).
 *
 * What needs it and why:
 *   - the CPL: on x86-64 a host write to CS/SS changes only the selector,
 *     and QEMU keeps the CPL in env->hflags (loaded from SS.DPL); the trap
 *     entry sets it, with the CS/SS segment caches, as a privilege change
 *     does (x86_vcpu_enter);
 *   - env->old_exception: QEMU's double-fault bookkeeping. Unicorn never
 *     delivers an exception, so it is never cleared, and a second
 *     contributory exception would turn into #DF; cleared whenever the
 *     glue has handled a CPU exception;
 *   - env->error_code and env->exception_is_int of a CPU-raised exception;
 *   - PKRU (no register id in Unicorn 2.1).
 *
 * Offsets are not taken on trust: x86_vcpu_calibrate locates RAX, derives
 * hflags and the segment caches from QEMU 5.0's struct order and checks
 * them, and finds error_code, exception_is_int, old_exception and PKRU by
 * running a trial on a scratch page (WRPKRU, IRETQ to ring 3, a #GP with
 * a known error code, INT n). Any mismatch fails set-up with a message:
 * another Unicorn build needs the glue looked at, not silent corruption.
 * The same trial collects the engine's own CPUID answers.
 */
#include "x86_internal.h"

#include <stdio.h>
#include <string.h>

/* QEMU hflags bits (target/i386/cpu.h). */
#define HF_CPL_MASK    3u
#define HF_CS32_MASK   (1u << 4)
#define HF_SS32_MASK   (1u << 5)
#define HF_ADDSEG_MASK (1u << 6)
#define HF_LMA_MASK    (1u << 14)
#define HF_CS64_MASK   (1u << 15)
/* Descriptor flag bits as QEMU caches them (high dword). */
#define DESC_B_MASK (UINT32_C(1) << 22)
#define DESC_L_MASK (UINT32_C(1) << 21)

/* Offsets inside CPUX86State after regs[16] (QEMU 5.0 order: regs, eip,
 * eflags, cc_dst, cc_src, cc_src2, cc_op, df, hflags, hflags2, segs). */
#define ENV_HFLAGS 176u
#define ENV_SEGS   184u

/* Trial layout (guest-physical, mapped only during calibration). */
#define T_BASE    UINT64_C(0x1000)
#define T_SIZE    UINT64_C(0x2000)
#define T_KCODE   UINT64_C(0x1000)
#define T_UCODE   UINT64_C(0x1800)
#define T_INTN    UINT64_C(0x1900)
#define T_CPUID   UINT64_C(0x1a00)
#define T_GDT     UINT64_C(0x2000)
#define T_KSTACK  UINT64_C(0x2800)
#define T_MAGIC64 UINT64_C(0x6d6d75656d75a55a)
#define T_MAGIC32 UINT32_C(0x6d6da55a)
#define T_PKRU    UINT32_C(0x5a5aa554)
#define T_GP_SEL  UINT32_C(0x1234)
#define T_INT_VEC 0x41u

/* IRETQ (or IRETD) to ring 3 at T_UCODE, user stack 0x2ff0, after
 * WRPKRU (skipped when PKU is absent: entry at +3). */
static const uint8_t k64_code[] = {
    0x0f, 0x01, 0xef,             /* wrpkru */
    0x6a, 0x1b,                   /* push $0x1b    (SS: data, RPL 3) */
    0x68, 0xf0, 0x2f, 0x00, 0x00, /* push $0x2ff0  (RSP) */
    0x6a, 0x02,                   /* push $0x2     (RFLAGS) */
    0x6a, 0x23,                   /* push $0x23    (CS: code, RPL 3) */
    0x68, 0x00, 0x18, 0x00, 0x00, /* push $0x1800  (RIP) */
    0x48, 0xcf,                   /* iretq */
};
static const uint8_t k32_code[] = {
    0x90, 0x90, 0x90, /* (no WRPKRU on the 32-bit engine) */
    0x6a, 0x1b, 0x68, 0xf0, 0x2f, 0x00, 0x00, 0x6a, 0x02,
    0x6a, 0x23, 0x68, 0x00, 0x18, 0x00, 0x00, 0xcf, /* iretd */
};
/* Ring 3: mov $0x1237, %eax; mov %eax, %ds -> #GP(0x1234) (beyond GDT). */
static const uint8_t u_code[] = {0xb8, 0x37, 0x12, 0x00, 0x00, 0x8e, 0xd8};
static const uint8_t intn_code[] = {0xcd, T_INT_VEC};
static const uint8_t cpuid_code[] = {0x0f, 0xa2, 0xf4}; /* cpuid; hlt */

/* null, 0x08 ring-0 code (64-bit on the long engine), 0x10 ring-0 data,
 * 0x18 ring-3 data, 0x20 ring-3 code. */
static const uint64_t gdt64[] = {
    0, UINT64_C(0x00af9a000000ffff), UINT64_C(0x00cf92000000ffff),
    UINT64_C(0x00cff2000000ffff), UINT64_C(0x00affa000000ffff)};
static const uint64_t gdt32[] = {
    0, UINT64_C(0x00cf9a000000ffff), UINT64_C(0x00cf92000000ffff),
    UINT64_C(0x00cff2000000ffff), UINT64_C(0x00cffa000000ffff)};

static const uint32_t cpuid_leaves[X86_CPUID_LEAVES][2] = {
    {1, 0}, {7, 0}, {0x80000001u, 0}, {0x80000008u, 0}};

/* ---- blob access ------------------------------------------------------ */

static uint8_t *blob(mmu_glue *g)
{
    return (uint8_t *)x86g(g)->snap;
}

static uint32_t get32(const uint8_t *b, size_t off)
{
    uint32_t v;
    memcpy(&v, b + off, sizeof v);
    return v;
}

static void put32(uint8_t *b, size_t off, uint32_t v)
{
    memcpy(b + off, &v, sizeof v);
}

static void put64(uint8_t *b, size_t off, uint64_t v)
{
    memcpy(b + off, &v, sizeof v);
}

void x86_vcpu_snapshot(mmu_glue *g)
{
    uc_context_save(g->uc, x86g(g)->snap);
}

uint32_t x86_snap_u32(mmu_glue *g, size_t off)
{
    return get32(blob(g), off);
}

uint32_t x86_vcpu_error_code(mmu_glue *g)
{
    return x86_snap_u32(g, x86g(g)->lay.error_code);
}

bool x86_vcpu_is_int(mmu_glue *g)
{
    return x86_snap_u32(g, x86g(g)->lay.is_int) != 0;
}

uint32_t x86_vcpu_pkru(mmu_glue *g)
{
    x86_glue *xg = x86g(g);
    if (xg->lay.pkru == 0)
        return 0;
    x86_vcpu_snapshot(g);
    return get32(blob(g), xg->lay.pkru);
}

static void put_seg(mmu_glue *g, unsigned idx, const x86_seg_load *s)
{
    size_t off = x86g(g)->lay.segs + idx * X86_SEG_SIZE;
    put32(blob(g), off, s->sel);
    put64(blob(g), off + 8, s->base);
    put32(blob(g), off + 16, s->limit);
    put32(blob(g), off + 20, s->flags);
}

void x86_vcpu_enter(mmu_glue *g, const x86_seg_load *cs, const x86_seg_load *ss,
                    unsigned cpl)
{
    x86_glue *xg = x86g(g);
    uint8_t *b = blob(g);
    x86_vcpu_snapshot(g);
    put_seg(g, X86_SEG_CS, cs);
    if (ss != NULL)
        put_seg(g, X86_SEG_SS, ss);
    /* What cpu_x86_load_seg_cache derives from the caches. */
    uint32_t hf = get32(b, xg->lay.hflags);
    uint32_t ss_flags = get32(b, xg->lay.segs + X86_SEG_SS * X86_SEG_SIZE + 20);
    hf &= ~(HF_CPL_MASK | HF_CS32_MASK | HF_CS64_MASK | HF_SS32_MASK |
            HF_ADDSEG_MASK);
    if ((hf & HF_LMA_MASK) && (cs->flags & DESC_L_MASK))
        hf |= HF_CS32_MASK | HF_CS64_MASK;
    else if (cs->flags & DESC_B_MASK)
        hf |= HF_CS32_MASK;
    if (ss_flags & DESC_B_MASK)
        hf |= HF_SS32_MASK;
    if (!(hf & HF_CS64_MASK)) {
        uint64_t bases = 0;
        static const unsigned data_segs[] = {X86_SEG_ES, X86_SEG_SS, 3u};
        for (unsigned i = 0; i < 3; i++) {
            uint64_t v;
            memcpy(&v, b + xg->lay.segs + data_segs[i] * X86_SEG_SIZE + 8,
                   sizeof v);
            bases |= v;
        }
        if (!(hf & HF_CS32_MASK) || bases != 0)
            hf |= HF_ADDSEG_MASK;
    }
    hf |= cpl & HF_CPL_MASK;
    put32(b, xg->lay.hflags, hf);
    put32(b, xg->lay.old_exception, UINT32_MAX);
    uc_context_restore(g->uc, xg->snap);
    xg->exc_dirty = false;
}

void x86_vcpu_clear_exception(mmu_glue *g)
{
    x86_glue *xg = x86g(g);
    x86_vcpu_snapshot(g);
    put32(blob(g), xg->lay.old_exception, UINT32_MAX);
    uc_context_restore(g->uc, xg->snap);
    xg->exc_dirty = false;
}

/* ---- calibration ------------------------------------------------------ */

/* The one offset in [from, size) holding v (4 bytes); 0 if none or many. */
static size_t find_unique32(const uint8_t *b, size_t from, size_t size,
                            uint32_t v, size_t skip)
{
    size_t found = 0;
    for (size_t i = from; i + 4 <= size; i += 4) {
        if (i == skip || get32(b, i) != v)
            continue;
        if (found != 0)
            return 0;
        found = i;
    }
    return found;
}

typedef struct trial {
    mmu_glue *g;
    uint8_t *before, *after;
    int intno;
} trial;

static void trial_intr(uc_engine *uc, uint32_t intno, void *arg)
{
    trial *t = arg;
    t->intno = (int)intno;
    uc_emu_stop(uc);
}

static bool calib_fail(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen,
             "x86 glue: Unicorn's vCPU state is not laid out as expected "
             "(%s); this Unicorn build is not supported",
             what);
    return false;
}

/* Run from pc until an exception stops it (or `until`). */
static void trial_run(trial *t, uint64_t pc, uint64_t until)
{
    t->intno = -1;
    uc_emu_start(t->g->uc, pc, until, 0, 0);
}

static void run_cpuid(trial *t)
{
    x86_glue *xg = x86g(t->g);
    for (unsigned i = 0; i < X86_CPUID_LEAVES; i++) {
        x86_cpuid_leaf *l = &xg->cpuid[i];
        l->leaf = cpuid_leaves[i][0];
        l->sub = cpuid_leaves[i][1];
        x86_wr(t->g, UC_X86_REG_RAX, l->leaf);
        x86_wr(t->g, UC_X86_REG_RCX, l->sub);
        trial_run(t, T_CPUID, T_CPUID + 2);
        l->r[0] = (uint32_t)x86_rd(t->g, UC_X86_REG_RAX);
        l->r[1] = (uint32_t)x86_rd(t->g, UC_X86_REG_RBX);
        l->r[2] = (uint32_t)x86_rd(t->g, UC_X86_REG_RCX);
        l->r[3] = (uint32_t)x86_rd(t->g, UC_X86_REG_RDX);
    }
}

static bool locate_env(mmu_glue *g, uint8_t *b, char *err, size_t errlen)
{
    x86_glue *xg = x86g(g);
    size_t sz = xg->lay.size;
    uint64_t magic = xg->long_engine ? T_MAGIC64 : T_MAGIC32;
    x86_wr(g, UC_X86_REG_RAX, magic);
    uc_context_save(g->uc, (uc_context *)(void *)b);
    size_t env = 0, hits = 0;
    for (size_t i = 0; i + 8 <= sz; i += 4) {
        uint64_t v;
        memcpy(&v, b + i, sizeof v);
        if (v == magic)
            env = i, hits++;
    }
    if (hits != 1)
        return calib_fail(err, errlen, "RAX not found");
    xg->lay.env = env;
    xg->lay.hflags = env + ENV_HFLAGS;
    xg->lay.segs = env + ENV_SEGS;
    if (xg->lay.segs + 6 * X86_SEG_SIZE > sz)
        return calib_fail(err, errlen, "context too small");
    uint32_t hf = get32(b, xg->lay.hflags);
    if ((hf & HF_CPL_MASK) != 0 || (xg->long_engine && !(hf & HF_LMA_MASK)))
        return calib_fail(err, errlen, "hflags");
    return true;
}

static void trial_setup(mmu_glue *g, uint8_t *mem)
{
    x86_glue *xg = x86g(g);
    memset(mem, 0, (size_t)T_SIZE);
    if (xg->long_engine)
        memcpy(mem + (T_KCODE - T_BASE), k64_code, sizeof k64_code);
    else
        memcpy(mem + (T_KCODE - T_BASE), k32_code, sizeof k32_code);
    memcpy(mem + (T_UCODE - T_BASE), u_code, sizeof u_code);
    memcpy(mem + (T_INTN - T_BASE), intn_code, sizeof intn_code);
    memcpy(mem + (T_CPUID - T_BASE), cpuid_code, sizeof cpuid_code);
    memcpy(mem + (T_GDT - T_BASE), xg->long_engine ? gdt64 : gdt32,
           sizeof gdt64);
    uc_x86_mmr gdtr = {.base = T_GDT, .limit = sizeof gdt64 - 1};
    uc_reg_write(g->uc, UC_X86_REG_GDTR, &gdtr);
    x86_wr(g, UC_X86_REG_RSP, T_KSTACK);
}

/* Ring 3, then #GP(T_GP_SEL): CPL, CS/SS caches, error code, exception in
 * flight, PKRU. */
static bool trial_ring3(trial *t, char *err, size_t errlen)
{
    mmu_glue *g = t->g;
    x86_glue *xg = x86g(g);
    size_t sz = xg->lay.size;
    uint64_t entry = T_KCODE + 3;
    if (xg->has_pku && xg->long_engine) {
        x86_wr(g, UC_X86_REG_CR4, x86_rd(g, UC_X86_REG_CR4) | X86_CR4_PKE);
        x86_wr(g, UC_X86_REG_RAX, T_PKRU);
        x86_wr(g, UC_X86_REG_RCX, 0);
        x86_wr(g, UC_X86_REG_RDX, 0);
        entry = T_KCODE;
    }
    uc_context_save(g->uc, (uc_context *)(void *)t->before);
    trial_run(t, entry, 0);
    uc_context_save(g->uc, (uc_context *)(void *)t->after);
    if (t->intno != 13)
        return calib_fail(err, errlen, "trial #GP not raised");
    if ((get32(t->after, xg->lay.hflags) & HF_CPL_MASK) != 3 ||
        get32(t->after, xg->lay.segs + X86_SEG_CS * X86_SEG_SIZE) != 0x23 ||
        get32(t->after, xg->lay.segs + X86_SEG_SS * X86_SEG_SIZE) != 0x1b)
        return calib_fail(err, errlen, "CPL / segment caches");
    size_t from = xg->lay.segs + 6 * X86_SEG_SIZE;
    xg->lay.error_code = find_unique32(t->after, from, sz, T_GP_SEL, 0);
    if (xg->lay.error_code == 0)
        return calib_fail(err, errlen, "error_code");
    xg->lay.is_int = xg->lay.error_code + 4;
    size_t oe = 0;
    for (size_t i = xg->lay.error_code; i + 4 <= sz; i += 4)
        if (get32(t->before, i) == UINT32_MAX && get32(t->after, i) == 13) {
            if (oe != 0)
                return calib_fail(err, errlen, "old_exception ambiguous");
            oe = i;
        }
    if (oe == 0 || get32(t->after, xg->lay.is_int) != 0)
        return calib_fail(err, errlen, "old_exception");
    xg->lay.old_exception = oe;
    if (xg->has_pku && xg->long_engine) {
        xg->lay.pkru = find_unique32(t->after, from, sz, T_PKRU, 0);
        if (xg->lay.pkru == 0)
            return calib_fail(err, errlen, "PKRU");
    }
    return true;
}

static bool trial_int(trial *t, char *err, size_t errlen)
{
    mmu_glue *g = t->g;
    x86_glue *xg = x86g(g);
    trial_run(t, T_INTN, 0);
    uc_context_save(g->uc, (uc_context *)(void *)t->after);
    if (t->intno != (int)T_INT_VEC || get32(t->after, xg->lay.is_int) != 1)
        return calib_fail(err, errlen, "exception_is_int");
    return true;
}

bool x86_vcpu_calibrate(mmu_glue *g, char *err, size_t errlen)
{
    x86_glue *xg = x86g(g);
    uc_context *pristine = NULL, *c1 = NULL, *c2 = NULL;
    uint8_t *mem = NULL;
    uc_hook h = 0;
    bool ok = false;
    trial t = {.g = g};

    xg->lay.size = uc_context_size(g->uc);
    if (uc_context_alloc(g->uc, &xg->snap) != UC_ERR_OK ||
        uc_context_alloc(g->uc, &pristine) != UC_ERR_OK ||
        uc_context_alloc(g->uc, &c1) != UC_ERR_OK ||
        uc_context_alloc(g->uc, &c2) != UC_ERR_OK) {
        snprintf(err, errlen, "x86 glue: uc_context_alloc failed");
        goto out;
    }
    t.before = (uint8_t *)c1;
    t.after = (uint8_t *)c2;
    uc_context_save(g->uc, pristine);
    if (!locate_env(g, t.after, err, errlen))
        goto out;
    mem = calloc(1, (size_t)T_SIZE);
    if (mem == NULL ||
        uc_mem_map_ptr(g->uc, T_BASE, T_SIZE, UC_PROT_ALL, mem) != UC_ERR_OK ||
        uc_hook_add(g->uc, &h, UC_HOOK_INTR, (void *)(uintptr_t)trial_intr, &t,
                    1, 0) != UC_ERR_OK) {
        snprintf(err, errlen, "x86 glue: calibration set-up failed");
        goto out;
    }
    trial_setup(g, mem);
    run_cpuid(&t);
    xg->has_pku = (xg->cpuid[1].r[2] >> 3) & 1;
    trial_setup(g, mem);
    if (!trial_ring3(&t, err, errlen))
        goto out;
    uc_context_restore(g->uc, pristine);
    trial_setup(g, mem);
    if (!trial_int(&t, err, errlen))
        goto out;
    ok = true;
out:
    if (pristine != NULL)
        uc_context_restore(g->uc, pristine);
    if (h != 0)
        uc_hook_del(g->uc, h);
    if (mem != NULL) {
        uc_mem_unmap(g->uc, T_BASE, T_SIZE);
        free(mem);
    }
    uc_ctl_flush_tb(g->uc);
    uc_ctl_flush_tlb(g->uc);
    uc_context_free(pristine);
    uc_context_free(c1);
    uc_context_free(c2);
    return ok;
}
