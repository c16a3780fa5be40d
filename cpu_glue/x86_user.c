/*
 * x86_user.c - x86-64 user-mode guests (see mmuemu/glue_user.h): Linux's
 * control state and GDT, CPL 3 entered through the vCPU's segment caches
 * (x86_vcpu_enter, as a privilege change loads them), the SYSCALL hook,
 * the register file of a signal frame, and a disassembly for reports.
 *
 * Linux: CR0 = PE|MP|ET|NE|WP|AM|PG (arch/x86/include/asm/processor-
 * flags.h CR0_STATE), CR4 adds OSFXSR|OSXMMEXCPT (fpu__init_cpu_generic)
 * and SMEP|SMAP (setup_smep/setup_smap), EFER = LME|LMA|NXE|SCE
 * (syscall_init enables SCE). start_thread_common(): CS __USER_CS, SS
 * __USER_DS, DS = ES = FS = GS = 0, RFLAGS = IF (0x202).
 *
 * Unicorn 2.1.4's helper_syscall calls the UC_HOOK_INSN hooks with RIP on
 * the SYSCALL instruction, then advances RIP past it and skips the
 * architectural part (no STAR/LSTAR transfer). SYSCALL ends its
 * translation block, so uc_emu_stop from the hook stops right after it.
 */
#include "user_internal.h"
#include "x86_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSR_EFER           UINT32_C(0xc0000080)
#define X86_EFER_SCE       (UINT64_C(1) << 0)
#define X86_CR0_MP         (UINT64_C(1) << 1)
#define X86_CR0_ET         (UINT64_C(1) << 4)
#define X86_CR0_NE         (UINT64_C(1) << 5)
#define X86_CR0_AM         (UINT64_C(1) << 18)
#define X86_CR4_OSFXSR     (UINT64_C(1) << 9)
#define X86_CR4_OSXMMEXCPT (UINT64_C(1) << 10)
#define X86_RFLAGS_IF      UINT64_C(0x200)
#define X86_RFLAGS_FIXED   UINT64_C(0x2)
/* What sigreturn takes from the frame (arch/x86/kernel/signal.c
 * FIX_EFLAGS: AC OF DF TF SF ZF AF PF CF, plus RF). */
#define X86_RFLAGS_USER UINT64_C(0x50dd5)
#define SYSCALL_LEN     2

/* Descriptor high dwords as the GDT holds them and QEMU caches them. */
#define DESC_USER64_CS UINT32_C(0x00affb00)
#define DESC_USER_DS   UINT32_C(0x00cff300)

/* arch/x86/kernel/cpu/common.c gdt_page (64-bit entries). */
static const uint64_t linux_gdt[] = {
    0,
    UINT64_C(0x00cf9b000000ffff), /* 0x08 KERNEL32_CS */
    UINT64_C(0x00af9b000000ffff), /* 0x10 KERNEL_CS */
    UINT64_C(0x00cf93000000ffff), /* 0x18 KERNEL_DS */
    UINT64_C(0x00cffb000000ffff), /* 0x23 USER32_CS */
    UINT64_C(0x00cff3000000ffff), /* 0x2b USER_DS */
    UINT64_C(0x00affb000000ffff), /* 0x33 USER_CS */
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0, /* TSS, LDT, TLS, CPUNODE: unused */
};

typedef struct x86_user {
    mmu_user_call_fn fn;
    void *arg;
    uc_hook hook;
} x86_user;

static void syscall_hook(uc_engine *uc, void *arg)
{
    mmu_glue *g = arg;
    x86_user *u = g->user;
    (void)uc;
    mmu_user_call c;
    c.nr = x86_rd(g, UC_X86_REG_RAX);
    static const int args[6] = {UC_X86_REG_RDI, UC_X86_REG_RSI, UC_X86_REG_RDX,
                                UC_X86_REG_R10, UC_X86_REG_R8,  UC_X86_REG_R9};
    for (unsigned i = 0; i < 6; i++)
        c.arg[i] = x86_rd(g, args[i]);
    c.pc = x86_rd(g, UC_X86_REG_RIP);
    c.next_pc = c.pc + SYSCALL_LEN;
    if (u->fn == NULL || !u->fn(g, &c, u->arg))
        mmu_glue_request_exit(g, 0);
}

bool x86_user_init(mmu_glue *g, uint64_t desc_pa, uint64_t desc_va,
                   mmu_user_call_fn fn, void *arg, char *err, size_t errlen)
{
    if (g->user != NULL) {
        snprintf(err, errlen, "user mode already set up");
        return false;
    }
    x86_user *u = calloc(1, sizeof *u);
    if (u == NULL) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    g->user = u;
    u->fn = fn;
    u->arg = arg;
    if (!mmu_phys_write(&g->mem, desc_pa, linux_gdt, sizeof linux_gdt)) {
        snprintf(err, errlen, "GDT page 0x%llx outside guest RAM",
                 (unsigned long long)desc_pa);
        return false;
    }
    uc_x86_mmr gdtr = {.base = desc_va, .limit = sizeof linux_gdt - 1};
    uc_reg_write(g->uc, UC_X86_REG_GDTR, &gdtr);
    uc_err e = uc_hook_add(g->uc, &u->hook, UC_HOOK_INSN,
                           (void *)(uintptr_t)syscall_hook, g, 1, 0,
                           UC_X86_INS_SYSCALL);
    if (e != UC_ERR_OK) {
        snprintf(err, errlen, "SYSCALL hook: %s", uc_strerror(e));
        return false;
    }
    return true;
}

static void fx_restore(mmu_glue *g, const uint8_t *fx);
static void fx_reset(mmu_glue *g);

void x86_user_enter(mmu_glue *g, const mmu_state *st, uint64_t pc, uint64_t sp)
{
    const mmu_x86_state *x = &st->x86;
    uint64_t cr4 = x->cr4 | X86_CR4_PAE | X86_CR4_PGE | X86_CR4_OSFXSR |
                   X86_CR4_OSXMMEXCPT | X86_CR4_SMEP | X86_CR4_SMAP;
    uint64_t cr0 = x->cr0 | X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE |
                   X86_CR0_WP | X86_CR0_AM | X86_CR0_PG;
    uc_x86_msr efer = {.rid = MSR_EFER,
                       .value = x->efer | X86_EFER_LME | X86_EFER_NXE |
                                X86_EFER_SCE};
    /* Paging off first, so that setting CR0.PG with EFER.LME enters
     * IA-32e mode the architectural way (LMA). */
    x86_wr(g, UC_X86_REG_CR0, X86_CR0_PE | X86_CR0_ET);
    x86_wr(g, UC_X86_REG_CR4, cr4);
    uc_reg_write(g->uc, UC_X86_REG_MSR, &efer);
    x86_wr(g, UC_X86_REG_CR3, x->cr3);
    x86_wr(g, UC_X86_REG_CR0, cr0);
    static const int zero[] = {
        UC_X86_REG_RAX,    UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX,
        UC_X86_REG_RSI,    UC_X86_REG_RDI, UC_X86_REG_RBP, UC_X86_REG_R8,
        UC_X86_REG_R9,     UC_X86_REG_R10, UC_X86_REG_R11, UC_X86_REG_R12,
        UC_X86_REG_R13,    UC_X86_REG_R14, UC_X86_REG_R15, UC_X86_REG_FS_BASE,
        UC_X86_REG_GS_BASE};
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
        x86_wr(g, zero[i], 0);
    fx_reset(g);
    x86_wr(g, UC_X86_REG_RFLAGS, X86_RFLAGS_IF | X86_RFLAGS_FIXED);
    x86_wr(g, UC_X86_REG_RSP, sp);
    x86_wr(g, UC_X86_REG_RIP, pc);
    x86_seg_load cs = {.sel = MMU_USER_X86_USER_CS,
                       .base = 0,
                       .limit = UINT32_MAX,
                       .flags = DESC_USER64_CS};
    x86_seg_load ss = {.sel = MMU_USER_X86_USER_DS,
                       .base = 0,
                       .limit = UINT32_MAX,
                       .flags = DESC_USER_DS};
    x86_vcpu_enter(g, &cs, &ss, 3);
}

void x86_user_set_root(mmu_glue *g, uint64_t cr3)
{
    x86_wr(g, UC_X86_REG_CR3, cr3);
}

void x86_user_set_result(mmu_glue *g, const mmu_user_call *c, uint64_t ret)
{
    x86_wr(g, UC_X86_REG_RAX, ret);
    x86_wr(g, UC_X86_REG_RCX, c->next_pc);
    x86_wr(g, UC_X86_REG_R11, x86_rd(g, UC_X86_REG_RFLAGS));
}

void x86_user_set_tls(mmu_glue *g, int which, uint64_t base)
{
    x86_wr(g, which ? UC_X86_REG_GS_BASE : UC_X86_REG_FS_BASE, base);
}

uint64_t x86_user_tls(mmu_glue *g, int which)
{
    return x86_rd(g, which ? UC_X86_REG_GS_BASE : UC_X86_REG_FS_BASE);
}

/* Linux's sigcontext order (see glue_user.h). */
static const int gpr_ids[MMU_USER_X86_NGPR] = {
    UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
    UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
    UC_X86_REG_RDI, UC_X86_REG_RSI, UC_X86_REG_RBP, UC_X86_REG_RBX,
    UC_X86_REG_RDX, UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RSP};

/* FXSAVE image offsets (SDM vol. 1, 10.5.1). */
#define FX_FCW             0
#define FX_FSW             2
#define FX_FTW             4
#define FX_MXCSR           24
#define FX_MXCSR_MASK      28
#define FX_ST              32
#define FX_XMM             160
#define MXCSR_MASK_DEFAULT UINT32_C(0xffff)

static void put16(uint8_t *b, size_t off, uint16_t v)
{
    memcpy(b + off, &v, sizeof v);
}

static uint16_t get16(const uint8_t *b, size_t off)
{
    uint16_t v;
    memcpy(&v, b + off, sizeof v);
    return v;
}

static void fx_save(mmu_glue *g, uint8_t *fx)
{
    uint16_t fcw = 0, fsw = 0, ftw = 0;
    uint32_t mxcsr = 0;
    uc_reg_read(g->uc, UC_X86_REG_FPCW, &fcw);
    uc_reg_read(g->uc, UC_X86_REG_FPSW, &fsw);
    uc_reg_read(g->uc, UC_X86_REG_FPTAG, &ftw);
    uc_reg_read(g->uc, UC_X86_REG_MXCSR, &mxcsr);
    put16(fx, FX_FCW, fcw);
    put16(fx, FX_FSW, fsw);
    uint8_t abridged = 0; /* bit i: physical register i not empty */
    for (unsigned i = 0; i < 8; i++)
        if (((ftw >> (2 * i)) & 3) != 3)
            abridged |= (uint8_t)(1u << i);
    fx[FX_FTW] = abridged;
    memcpy(fx + FX_MXCSR, &mxcsr, 4);
    uint32_t mask = MXCSR_MASK_DEFAULT;
    memcpy(fx + FX_MXCSR_MASK, &mask, 4);
    for (unsigned i = 0; i < 8; i++) {
        uint8_t st[10] = {0};
        uc_reg_read(g->uc, UC_X86_REG_ST0 + (int)i, st);
        memcpy(fx + FX_ST + 16 * i, st, sizeof st);
    }
    for (unsigned i = 0; i < 16; i++)
        uc_reg_read(g->uc,
                    (i < 8 ? UC_X86_REG_XMM0 : UC_X86_REG_XMM8) + (int)(i % 8),
                    fx + FX_XMM + 16 * i);
}

static void fx_restore(mmu_glue *g, const uint8_t *fx)
{
    uint16_t fcw = get16(fx, FX_FCW), fsw = get16(fx, FX_FSW), ftw = 0;
    uint32_t mxcsr;
    memcpy(&mxcsr, fx + FX_MXCSR, 4);
    for (unsigned i = 0; i < 8; i++)
        if (!((fx[FX_FTW] >> i) & 1))
            ftw |= (uint16_t)(3u << (2 * i));
    uc_reg_write(g->uc, UC_X86_REG_FPCW, &fcw);
    uc_reg_write(g->uc, UC_X86_REG_FPSW, &fsw);
    for (unsigned i = 0; i < 8; i++) {
        uint8_t st[10];
        memcpy(st, fx + FX_ST + 16 * i, sizeof st);
        uc_reg_write(g->uc, UC_X86_REG_ST0 + (int)i, st);
    }
    uc_reg_write(g->uc, UC_X86_REG_FPTAG, &ftw);
    mxcsr &= MXCSR_MASK_DEFAULT;
    uc_reg_write(g->uc, UC_X86_REG_MXCSR, &mxcsr);
    for (unsigned i = 0; i < 16; i++)
        uc_reg_write(g->uc,
                     (i < 8 ? UC_X86_REG_XMM0 : UC_X86_REG_XMM8) + (int)(i % 8),
                     fx + FX_XMM + 16 * i);
}

void x86_user_get_regs(mmu_glue *g, mmu_user_regs *r)
{
    memset(r, 0, sizeof *r);
    r->pc = x86_rd(g, UC_X86_REG_RIP);
    for (unsigned i = 0; i < MMU_USER_X86_NGPR; i++)
        r->gpr[i] = x86_rd(g, gpr_ids[i]);
    r->flags = x86_rd(g, UC_X86_REG_RFLAGS);
    r->cs = (uint16_t)x86_rd(g, UC_X86_REG_CS);
    r->ss = (uint16_t)x86_rd(g, UC_X86_REG_SS);
    fx_save(g, r->fp);
}

void x86_user_set_regs(mmu_glue *g, const mmu_user_regs *r)
{
    for (unsigned i = 0; i < MMU_USER_X86_NGPR; i++)
        x86_wr(g, gpr_ids[i], r->gpr[i]);
    uint64_t fl = x86_rd(g, UC_X86_REG_RFLAGS);
    fl = (fl & ~X86_RFLAGS_USER) | (r->flags & X86_RFLAGS_USER);
    x86_wr(g, UC_X86_REG_RFLAGS, fl | X86_RFLAGS_FIXED);
    fx_restore(g, r->fp);
    x86_wr(g, UC_X86_REG_RIP, r->pc);
}

/* The FPU/SSE state after FNINIT and a reset MXCSR (FCW 0x37f, every
 * register empty or zero, MXCSR 0x1f80), as execve leaves it. */
static void fx_reset(mmu_glue *g)
{
    uint8_t fx[MMU_USER_FP_BYTES] = {0};
    put16(fx, FX_FCW, 0x037f);
    uint32_t mxcsr = 0x1f80;
    memcpy(fx + FX_MXCSR, &mxcsr, 4);
    fx_restore(g, fx);
}

bool x86_user_disasm(mmu_glue *g, uint64_t pc, char *buf, size_t len)
{
    return x86_disasm(g, pc, buf, len);
}
