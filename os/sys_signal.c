/*
 * sys_signal.c - signal state (kernel/signal.c): rt_sigaction,
 * rt_sigprocmask and sigaltstack record what the guest asks; kill, tkill
 * and tgkill aimed at the process itself apply the action: ignored,
 * handed to the runner (a handler is recorded: OS_SYSRET_SIGNAL), or the
 * default (terminate, or nothing for SIGCHLD/SIGCONT/SIGURG/SIGWINCH and
 * the stop signals, as there is nobody to stop for). No signal is queued:
 * one raised while blocked is dropped.
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

static uint64_t sigbit(int sig)
{
    return UINT64_C(1) << (sig - 1);
}

static const uint64_t unblockable =
    (UINT64_C(1) << (L_SIGKILL - 1)) | (UINT64_C(1) << (L_SIGSTOP - 1));

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

static bool default_ignored(int sig)
{
    switch (sig) {
    case 17: /* SIGCHLD */
    case 18: /* SIGCONT */
    case 19: /* SIGSTOP */
    case 20: /* SIGTSTP */
    case 21: /* SIGTTIN */
    case 22: /* SIGTTOU */
    case 23: /* SIGURG */
    case 28: /* SIGWINCH */
        return true;
    default:
        return false;
    }
}

void proc_raise(os_proc *p, int sig, os_sysret *out)
{
    if (sig < 1 || sig > L_NSIG)
        return;
    if (sig == L_SIGKILL) {
        proc_exit(p, 128 + sig, sig, out);
        return;
    }
    if (p->sigmask & sigbit(sig))
        return;
    uint64_t h = p->sig[sig - 1].handler;
    if (h == L_SIG_IGN)
        return;
    if (h == L_SIG_DFL) {
        if (!default_ignored(sig))
            proc_exit(p, 128 + sig, sig, out);
        return;
    }
    out->flags |= OS_SYSRET_SIGNAL;
    out->signo = sig;
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
        nw.mask = ld_u64(b, mask_off) & ~unblockable;
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
        set &= ~unblockable;
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

static int64_t send(os_proc *p, int sig, os_sysret *out)
{
    if (sig < 0 || sig > L_NSIG)
        return -OS_EINVAL;
    if (sig != 0)
        proc_raise(p, sig, out);
    return 0;
}

int64_t sys_kill(os_proc *p, const uint64_t *a, os_sysret *out)
{
    int pid = arg_int(a[0]);
    if (pid != OS_PROC_PID && pid != 0 && pid != -1 && pid != -OS_PROC_PID)
        return -OS_ESRCH;
    return send(p, arg_int(a[1]), out);
}

int64_t sys_tkill(os_proc *p, const uint64_t *a, os_sysret *out)
{
    int tid = arg_int(a[0]);
    if (tid <= 0)
        return -OS_EINVAL;
    if (tid != OS_PROC_PID)
        return -OS_ESRCH;
    return send(p, arg_int(a[1]), out);
}

int64_t sys_tgkill(os_proc *p, const uint64_t *a, os_sysret *out)
{
    int tgid = arg_int(a[0]), tid = arg_int(a[1]);
    if (tgid <= 0 || tid <= 0)
        return -OS_EINVAL;
    if (tgid != OS_PROC_PID || tid != OS_PROC_PID)
        return -OS_ESRCH;
    return send(p, arg_int(a[2]), out);
}
