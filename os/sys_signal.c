/*
 * sys_signal.c - signal system calls (kernel/signal.c): rt_sigaction,
 * rt_sigprocmask and sigaltstack record what the guest asks; kill, tkill
 * and tgkill send to any process, process group or every process
 * (proc_signal.c applies the action); rt_sigpending, rt_sigsuspend and
 * pause. A signal made deliverable by a call (sent to the caller itself,
 * or unblocked) is delivered by the runner as the call returns.
 *
 * struct sigaction as the kernel reads it: x86-64 {handler, flags,
 * restorer, mask} (32 bytes, SA_RESTORER); riscv64 (asm-generic, no
 * SA_RESTORER) {handler, flags, mask} (24 bytes). stack_t is {sp,
 * flags (int), size} (24 bytes) on both.
 */
#include "proc_internal.h"

#include <string.h>

#define L_SIGKILL       9
#define L_SIGSTOP       19
#define L_SIG_DFL       0
#define L_SIG_IGN       1
#define L_SS_ONSTACK    1u
#define L_SS_DISABLE    2u
#define L_SS_AUTODISARM (1u << 31)
#define L_MINSIGSTKSZ   2048u


bool os_proc_sigaction(const os_proc *p, int signo, os_sigaction *out)
{
    if (signo < 1 || signo > L_NSIG)
        return false;
    *out = p->sig[signo - 1];
    return true;
}

uint64_t os_proc_sigmask(const os_proc *p)
{
    return p->sigmask;
}

int64_t sys_rt_sigaction(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    int sig = arg_int(a[0]);
    bool x86 = p->abi == OS_ABI_X86_64;
    size_t size = x86 ? 32 : 24, mask_off = x86 ? 24 : 16;
    uint8_t b[32];
    if (a[3] != 8)
        return -OS_EINVAL;
    if (sig < 1 || sig > L_NSIG ||
        (a[1] != 0 && (sig == L_SIGKILL || sig == L_SIGSTOP)))
        return -OS_EINVAL;
    os_sigaction nw, old = p->sig[sig - 1];
    if (a[1] != 0) {
        if (os_copy_from_user(&p->u, b, a[1], size) != 0)
            return -OS_EFAULT;
        nw.handler = ld_u64(b, 0);
        nw.flags = ld_u64(b, 8);
        nw.restorer = x86 ? ld_u64(b, 16) : 0;
        nw.mask = ld_u64(b, mask_off) & ~L_SIG_UNBLOCKABLE;
        p->sig[sig - 1] = nw;
    }
    if (a[2] != 0) {
        memset(b, 0, sizeof b);
        st_u64(b, 0, old.handler);
        st_u64(b, 8, old.flags);
        if (x86)
            st_u64(b, 16, old.restorer);
        st_u64(b, mask_off, old.mask);
        if (os_copy_to_user(&p->u, a[2], b, size) != 0)
            return -OS_EFAULT;
    }
    return 0;
}

int64_t sys_rt_sigprocmask(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    if (a[3] != 8)
        return -OS_EINVAL;
    uint64_t old = p->sigmask;
    if (a[1] != 0) {
        uint64_t set;
        if (get_user_u64(p, a[1], &set) != 0)
            return -OS_EFAULT;
        set &= ~L_SIG_UNBLOCKABLE;
        switch (arg_int(a[0])) {
        case 0: /* SIG_BLOCK */
            p->sigmask |= set;
            break;
        case 1: /* SIG_UNBLOCK */
            p->sigmask &= ~set;
            break;
        case 2: /* SIG_SETMASK */
            p->sigmask = set;
            break;
        default:
            return -OS_EINVAL;
        }
    }
    if (a[2] != 0 && put_user_u64(p, a[2], old) != 0)
        return -OS_EFAULT;
    return 0;
}

int64_t sys_sigaltstack(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    uint8_t b[24];
    uint64_t osp = p->ss_sp, osize = p->ss_size;
    uint32_t oflags = (p->ss_size == 0 ? L_SS_DISABLE : 0) | p->ss_flags;
    if (a[0] != 0) {
        if (os_copy_from_user(&p->u, b, a[0], sizeof b) != 0)
            return -OS_EFAULT;
        uint64_t sp = ld_u64(b, 0), size = ld_u64(b, 16);
        uint32_t flags = ld_u32(b, 8);
        uint32_t mode = flags & ~L_SS_AUTODISARM;
        if (mode != L_SS_DISABLE && mode != L_SS_ONSTACK && mode != 0)
            return -OS_EINVAL;
        if (mode == L_SS_DISABLE) {
            sp = 0;
            size = 0;
        } else if (size < L_MINSIGSTKSZ) {
            return -OS_ENOMEM;
        }
        p->ss_sp = sp;
        p->ss_size = size;
        p->ss_flags = flags & L_SS_AUTODISARM;
    }
    if (a[1] != 0) {
        memset(b, 0, sizeof b);
        st_u64(b, 0, osp);
        st_u32(b, 8, oflags);
        st_u64(b, 16, osize);
        if (os_copy_to_user(&p->u, a[1], b, sizeof b) != 0)
            return -OS_EFAULT;
    }
    return 0;
}

/* kill's permission check always passes: every process has the same
 * uid. sig 0 checks that the target exists. */
static int64_t send_one(os_proc *p, os_proc *t, int sig, int code)
{
    os_siginfo info = {
        .signo = sig, .code = code, .pid = p->pid, .uid = p->cfg.uid};
    return sig == 0 ? 0 : proc_send(t, sig, &info);
}

/* Every process of group pgid (0: none) but init; -1: every process
 * but init and the caller. @return 0, or -ESRCH if none matched. */
static int64_t send_many(os_proc *p, int pgid, int sig)
{
    bool any = false;
    for (os_proc *t = p->k->procs; t != NULL; t = t->next_proc) {
        if (t->reaped || (pgid == -1 ? t == p : t->pgid != pgid))
            continue;
        any = true;
        send_one(p, t, sig, OS_SI_USER);
    }
    return any ? 0 : -OS_ESRCH;
}

int64_t sys_kill(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    int pid = arg_int(a[0]), sig = arg_int(a[1]);
    if (sig < 0 || sig > L_NSIG)
        return -OS_EINVAL;
    if (pid > 0) {
        os_proc *t = proc_find(p->k, pid);
        return t != NULL ? send_one(p, t, sig, OS_SI_USER) : -OS_ESRCH;
    }
    if (pid == (int)0x80000000)
        return -OS_ESRCH; /* -INT_MIN is no group */
    return send_many(p, pid == 0 ? p->pgid : pid == -1 ? -1 : -pid, sig);
}

static int64_t send_tid(os_proc *p, int tgid, int tid, int sig)
{
    if (tid <= 0 || sig < 0 || sig > L_NSIG)
        return -OS_EINVAL;
    os_proc *t = proc_find(p->k, tid);
    if (t == NULL || (tgid > 0 && t->pid != tgid))
        return -OS_ESRCH;
    return send_one(p, t, sig, OS_SI_TKILL);
}

int64_t sys_tkill(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return send_tid(p, 0, arg_int(a[0]), arg_int(a[1]));
}

int64_t sys_tgkill(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    int tgid = arg_int(a[0]);
    if (tgid <= 0)
        return -OS_EINVAL;
    return send_tid(p, tgid, arg_int(a[1]), arg_int(a[2]));
}

int64_t sys_rt_sigpending(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    if (a[1] > 8)
        return -OS_EINVAL;
    uint8_t b[8];
    st_u64(b, 0, p->sigpending & p->sigmask);
    return os_copy_to_user(&p->u, a[0], b, (size_t)a[1]) == 0 ? 0
                                                               : -OS_EFAULT;
}

/* Nothing can wake the caller when no other process runs (the runner
 * says so through may_block): Linux would sleep forever; the process is
 * killed with a report instead. */
static int64_t sleep_until_signal(os_proc *p, const char *what, os_sysret *out)
{
    if (os_proc_signal_pending(p))
        return -OS_EINTR; /* the runner delivers the handler */
    if (!p->may_block) {
        proc_report(p, "%s with no other process to send a signal would "
                       "sleep forever: killed", what);
        proc_exit(p, 128 + L_SIGKILL, L_SIGKILL, out);
        return -OS_EINTR;
    }
    out->flags |= OS_SYSRET_BLOCKED;
    return 0;
}

int64_t sys_rt_sigsuspend(os_proc *p, const uint64_t *a, os_sysret *out)
{
    if (a[1] != 8)
        return -OS_EINVAL;
    uint64_t set;
    if (get_user_u64(p, a[0], &set) != 0)
        return -OS_EFAULT;
    proc_wait_with_mask(p, set);
    int64_t r = sleep_until_signal(p, "rt_sigsuspend", out);
    if (r == -OS_EINTR && !os_proc_signal_pending(p))
        os_proc_restore_saved_mask(p);
    return r;
}

int64_t sys_pause(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)a;
    return sleep_until_signal(p, "pause", out);
}
