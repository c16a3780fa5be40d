/*
 * run_signal.c - synchronous signals of a hosted process: the rt_sigframe
 * Linux 6.1 pushes (arch/x86/kernel/signal.c, arch/riscv/kernel/signal.c)
 * and rt_sigreturn.
 *
 * Frames, as the kernels lay them out:
 *   x86-64   rsp -= 128 (red zone); FXSAVE image 64-aligned below it;
 *            rt_sigframe {pretcode, ucontext {flags, link, stack,
 *            sigcontext (r8..r15 rdi rsi rbp rbx rdx rax rcx rsp rip
 *            eflags cs gs fs ss err trapno oldmask cr2 fpstate), sigmask},
 *            siginfo} at round_down(sp - size, 16) - 8; handler(rdi signo,
 *            rsi &info, rdx &uc), returning to sa_restorer (SA_RESTORER is
 *            required, as Linux requires it).
 *   riscv64  rt_sigframe {siginfo, ucontext {flags, link, stack, sigmask,
 *            pad to 128, sigcontext at +176 (pc, x1..x31, f0..f31, fcsr)}}
 *            at (sp - size) & ~15; handler(a0 signo, a1 &info, a2 &uc) with
 *            ra at the rt_sigreturn trampoline (Linux's vDSO; here a
 *            "[sigpage]" mapping made at the first delivery).
 * The signal mask goes through the syscall layer (rt_sigprocmask on the
 * frame's own uc_sigmask slot), so the process's recorded mask is the
 * one the guest sees. Not modelled: sigaltstack (SA_ONSTACK is ignored),
 * XSAVE state beyond FXSAVE, the RISC-V V state.
 */
#include "run_internal.h"

#include <string.h>

#define SIG_SETMASK  2
#define SA_NODEFER   UINT64_C(0x40000000)
#define SA_RESETHAND UINT64_C(0x80000000)
#define SA_RESTORER  UINT64_C(0x04000000)
#define SIGINFO_SIZE 128

/* x86-64 */
#define X86_RED_ZONE     128
#define X86_FRAME_SIZE   440
#define X86_OFF_UC       8
#define X86_OFF_MCTX     48
#define X86_OFF_SIGMASK  304
#define X86_OFF_INFO     312
#define X86_SC_RIP       128
#define X86_SC_EFLAGS    136
#define X86_SC_CS        144
#define X86_SC_SS        150
#define X86_SC_ERR       152
#define X86_SC_TRAPNO    160
#define X86_SC_OLDMASK   168
#define X86_SC_CR2       176
#define X86_SC_FPSTATE   184
#define X86_UC_FLAGS     UINT64_C(0x6)     /* SIGCONTEXT_SS|STRICT_RESTORE_SS */
#define X86_RFLAGS_CLEAR UINT64_C(0x10500) /* TF, DF, RF */
#define X86_RSP          MMU_USER_X86_RSP

/* riscv64 */
#define RV_FRAME_SIZE  1088
#define RV_OFF_UC      128
#define RV_OFF_SIGMASK (128 + 40)
#define RV_OFF_MCTX    (128 + 176)
#define RV_OFF_FP      (RV_OFF_MCTX + 256)
#define RV_FP_BYTES    (32 * 8 + 4)
#define RV_REG_RA      1
#define RV_REG_SP      2
#define RV_REG_A0      10

/* li a7, 139; ecall */
static const uint32_t rv_trampoline[] = {UINT32_C(0x08b00893),
                                         UINT32_C(0x00000073)};

static void put64(uint8_t *b, size_t off, uint64_t v)
{
    memcpy(b + off, &v, 8);
}

static uint64_t get64(const uint8_t *b, size_t off)
{
    uint64_t v;
    memcpy(&v, b + off, 8);
    return v;
}

static void put32(uint8_t *b, size_t off, uint32_t v)
{
    memcpy(b + off, &v, 4);
}

static void uaccess(run_machine *m, os_uaccess *u)
{
    mmu_glue_sync_state(m->g);
    os_uaccess_init(u, os_proc_aspace(m->p), mmu_glue_mmu(m->g));
}

/* A call into the syscall layer with guest pointers the runner chose. */
static int64_t sys(run_machine *m, uint64_t nr_x86, uint64_t nr_rv, uint64_t a0,
                   uint64_t a1, uint64_t a2, uint64_t a3)
{
    uint64_t a[6] = {a0, a1, a2, a3, 0, 0};
    os_sysret sr;
    memset(&sr, 0, sizeof sr);
    return os_syscall(m->p, m->x86 ? nr_x86 : nr_rv, a, &sr);
}

static int set_mask_from(run_machine *m, uint64_t slot)
{
    return (int)sys(m, RUN_X86_RT_SIGPROCMASK, RUN_RV_RT_SIGPROCMASK,
                    SIG_SETMASK, slot, 0, 8);
}

static void fill_siginfo(const run_machine *m, uint8_t *info)
{
    memset(info, 0, SIGINFO_SIZE);
    put32(info, 0, (uint32_t)m->sig.signo);
    put32(info, 8, (uint32_t)m->sig.code);
    if (m->sig.sender) { /* _kill / _sigchld: si_pid, si_uid, si_status */
        put32(info, 16, (uint32_t)m->sig.pid);
        put32(info, 20, m->sig.uid);
        put32(info, 24, (uint32_t)m->sig.status);
    } else {
        put64(info, 16, m->sig.addr);
    }
}

/* The RISC-V trampoline page, mapped once per process. */
static bool rv_sigpage(run_machine *m)
{
    if (os_proc_sigpage(m->p) != 0)
        return true;
    os_file *f = os_file_from_buffer(rv_trampoline, sizeof rv_trampoline,
                                     "[sigpage]", true);
    if (f == NULL)
        return false;
    os_map_req r = {
        .len = OS_PAGE_SIZE, .prot = OS_VM_READ | OS_VM_EXEC, .file = f};
    uint64_t at = 0;
    int rc = os_aspace_map(os_proc_aspace(m->p), &r, &at);
    os_file_put(f);
    if (rc != 0)
        return false;
    os_proc_set_sigpage(m->p, at);
    return true;
}

static uint64_t x86_frame(run_machine *m, const mmu_user_regs *r,
                          const os_sigaction *sa, uint64_t old_mask,
                          uint8_t *fr, uint64_t *fx_at)
{
    uint64_t sp = r->gpr[X86_RSP] - X86_RED_ZONE;
    *fx_at = (sp - MMU_USER_FP_BYTES) & ~UINT64_C(63);
    uint64_t at = ((*fx_at - X86_FRAME_SIZE) & ~UINT64_C(15)) - 8;
    memset(fr, 0, X86_FRAME_SIZE);
    put64(fr, 0, sa->restorer);
    put64(fr, X86_OFF_UC, X86_UC_FLAGS);
    uint8_t *sc = fr + X86_OFF_MCTX;
    for (unsigned i = 0; i < MMU_USER_X86_NGPR; i++)
        put64(sc, 8 * i, r->gpr[i]);
    put64(sc, X86_SC_RIP, r->pc);
    put64(sc, X86_SC_EFLAGS, r->flags);
    memcpy(sc + X86_SC_CS, &r->cs, 2);
    memcpy(sc + X86_SC_SS, &r->ss, 2);
    const mmu_glue_event *ev = &m->sig.ev;
    put64(sc, X86_SC_ERR,
          m->sig.from_fault || ev->fault.vector == 13 ? ev->fault.code : 0);
    put64(sc, X86_SC_TRAPNO, m->sig.from_fault ? 14 : ev->fault.vector);
    put64(sc, X86_SC_OLDMASK, old_mask);
    put64(sc, X86_SC_CR2, m->sig.from_fault ? ev->fault.addr : 0);
    put64(sc, X86_SC_FPSTATE, *fx_at);
    put64(fr, X86_OFF_SIGMASK, old_mask);
    fill_siginfo(m, fr + X86_OFF_INFO);
    return at;
}

static uint64_t rv_frame(run_machine *m, const mmu_user_regs *r,
                         uint64_t old_mask, uint8_t *fr)
{
    uint64_t at = (r->gpr[RV_REG_SP] - RV_FRAME_SIZE) & ~UINT64_C(15);
    memset(fr, 0, RV_FRAME_SIZE);
    fill_siginfo(m, fr);
    put64(fr, RV_OFF_SIGMASK, old_mask);
    put64(fr, RV_OFF_MCTX, r->pc);
    for (unsigned i = 1; i < 32; i++)
        put64(fr, RV_OFF_MCTX + 8 * i, r->gpr[i]);
    memcpy(fr + RV_OFF_FP, r->fp, RV_FP_BYTES);
    return at;
}

/* SA_RESETHAND: the action goes back to SIG_DFL (through the syscall
 * layer, with a zero k_sigaction in the frame's siginfo slot, rewritten
 * afterwards). */
static bool reset_handler(run_machine *m, os_uaccess *u, uint64_t info_at,
                          const uint8_t *info)
{
    uint8_t zero[32] = {0};
    if (os_copy_to_user(u, info_at, zero, sizeof zero) != 0)
        return false;
    sys(m, RUN_X86_RT_SIGACTION, RUN_RV_RT_SIGACTION, (uint64_t)m->sig.signo,
        info_at, 0, 8);
    return os_copy_to_user(u, info_at, info, SIGINFO_SIZE) == 0;
}

bool run_signal_deliver(run_machine *m)
{
    os_sigaction sa;
    int signo = m->sig.signo;
    uint64_t bit = UINT64_C(1) << (signo - 1);
    uint64_t cur_mask = os_proc_sigmask(m->p);
    if (!os_proc_sigaction(m->p, signo, &sa) || sa.handler <= 1 ||
        (cur_mask & bit))
        return false;
    /* The frame saves the mask to return to: rt_sigsuspend's caller's. */
    uint64_t old_mask = os_proc_take_saved_mask(m->p);
    if ((m->x86 && !(sa.flags & SA_RESTORER)) || (!m->x86 && !rv_sigpage(m))) {
        m->sig.signo = OS_SIGSEGV; /* force_sigsegv */
        return false;
    }
    mmu_user_regs r;
    mmu_glue_user_get_regs(m->g, &r);
    uint8_t fr[RV_FRAME_SIZE > X86_FRAME_SIZE ? RV_FRAME_SIZE : X86_FRAME_SIZE];
    uint64_t fx_at = 0, at, mask_at, info_at;
    os_uaccess u;
    uaccess(m, &u);
    bool ok;
    if (m->x86) {
        at = x86_frame(m, &r, &sa, old_mask, fr, &fx_at);
        mask_at = at + X86_OFF_SIGMASK;
        info_at = at + X86_OFF_INFO;
        ok = os_copy_to_user(&u, fx_at, r.fp, MMU_USER_FP_BYTES) == 0 &&
             os_copy_to_user(&u, at, fr, X86_FRAME_SIZE) == 0;
    } else {
        at = rv_frame(m, &r, old_mask, fr);
        mask_at = at + RV_OFF_SIGMASK;
        info_at = at;
        ok = os_copy_to_user(&u, at, fr, RV_FRAME_SIZE) == 0;
    }
    uint8_t *info = m->x86 ? fr + X86_OFF_INFO : fr;
    /* The handler runs with sa_mask and the signal itself blocked. */
    uint64_t new_mask =
        cur_mask | sa.mask | ((sa.flags & SA_NODEFER) ? 0 : bit);
    ok = ok && os_copy_to_user(&u, mask_at, &new_mask, 8) == 0 &&
         set_mask_from(m, mask_at) == 0 &&
         os_copy_to_user(&u, mask_at, &old_mask, 8) == 0;
    if (ok && (sa.flags & SA_RESETHAND))
        ok = reset_handler(m, &u, info_at, info);
    if (!ok) {
        m->sig.signo = OS_SIGSEGV;
        return false;
    }
    if (m->x86) {
        r.gpr[MMU_USER_X86_RDI] = (uint64_t)signo;
        r.gpr[MMU_USER_X86_RSI] = info_at;
        r.gpr[MMU_USER_X86_RDX] = at + X86_OFF_UC;
        r.gpr[MMU_USER_X86_RAX] = 0;
        r.gpr[X86_RSP] = at;
        r.flags &= ~X86_RFLAGS_CLEAR;
    } else {
        r.gpr[RV_REG_A0] = (uint64_t)signo;
        r.gpr[RV_REG_A0 + 1] = info_at;
        r.gpr[RV_REG_A0 + 2] = at + RV_OFF_UC;
        r.gpr[RV_REG_RA] = os_proc_sigpage(m->p);
        r.gpr[RV_REG_SP] = at;
    }
    r.pc = sa.handler;
    mmu_glue_user_set_regs(m->g, &r);
    return true;
}

bool run_sigreturn(run_machine *m)
{
    mmu_user_regs r;
    mmu_glue_user_get_regs(m->g, &r);
    uint8_t fr[RV_FRAME_SIZE > X86_FRAME_SIZE ? RV_FRAME_SIZE : X86_FRAME_SIZE];
    os_uaccess u;
    uaccess(m, &u);
    uint64_t at, mask_at;
    if (m->x86) {
        at = r.gpr[X86_RSP] - 8; /* the handler's RET popped pretcode */
        mask_at = at + X86_OFF_SIGMASK;
        if (os_copy_from_user(&u, fr, at, X86_FRAME_SIZE) != 0)
            return false;
        const uint8_t *sc = fr + X86_OFF_MCTX;
        for (unsigned i = 0; i < MMU_USER_X86_NGPR; i++)
            r.gpr[i] = get64(sc, 8 * i);
        r.pc = get64(sc, X86_SC_RIP);
        r.flags = get64(sc, X86_SC_EFLAGS);
        uint64_t fx_at = get64(sc, X86_SC_FPSTATE);
        if (fx_at != 0 &&
            os_copy_from_user(&u, r.fp, fx_at, MMU_USER_FP_BYTES) != 0)
            return false;
    } else {
        at = r.gpr[RV_REG_SP];
        mask_at = at + RV_OFF_SIGMASK;
        if (os_copy_from_user(&u, fr, at, RV_FRAME_SIZE) != 0)
            return false;
        r.pc = get64(fr, RV_OFF_MCTX);
        for (unsigned i = 1; i < 32; i++)
            r.gpr[i] = get64(fr, RV_OFF_MCTX + 8 * i);
        memcpy(r.fp, fr + RV_OFF_FP, RV_FP_BYTES);
    }
    if (set_mask_from(m, mask_at) != 0)
        return false;
    mmu_glue_user_set_regs(m->g, &r);
    return true;
}
