/*
 * sys_misc.c - the process's identity, limits, time and the small calls
 * (kernel/sys.c, kernel/exit.c, kernel/time/, kernel/futex/,
 * drivers/char/random.c, arch/x86/kernel/process_64.c arch_prctl).
 *
 * One process with one thread: pid = tgid = tid = 100, parent 1, its own
 * process group and session. futex has nobody to wait for: a wait whose
 * value matches would sleep forever, so the process is killed with a
 * report instead of hanging the runner. Clocks are the host's, or with
 * cfg.deterministic a fixed epoch advanced 1 us per reading; getrandom
 * is host entropy, or a splitmix64 stream from cfg.random_seed.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* getentropy */

#include "proc_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NSEC            1000000000LL
#define FAKE_EPOCH      INT64_C(1700000000)
#define L_GRND_NONBLOCK 1u
#define L_GRND_RANDOM   2u
#define L_GRND_INSECURE 4u
#define L_GETRANDOM_MAX UINT64_C(0x7fffffff) /* INT_MAX */

/* ---- exit and identity --------------------------------------------- */

int64_t sys_exit(os_proc *p, const uint64_t *a, os_sysret *out)
{
    proc_exit(p, arg_int(a[0]) & 0xff, 0, out);
    return 0;
}

int64_t sys_exit_group(os_proc *p, const uint64_t *a, os_sysret *out)
{
    return sys_exit(p, a, out);
}

int64_t sys_enosys(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)p;
    (void)a;
    (void)out;
    return -OS_ENOSYS;
}

#define ID_CALL(name, value)                                                   \
    int64_t sys_##name(os_proc *p, const uint64_t *a, os_sysret *out)          \
    {                                                                          \
        (void)p;                                                               \
        (void)a;                                                               \
        (void)out;                                                             \
        return (value);                                                        \
    }
ID_CALL(getpid, p->pid)
ID_CALL(gettid, p->pid)
ID_CALL(getppid, p->ppid)
ID_CALL(getpgrp, p->pgid)
ID_CALL(getuid, p->cfg.uid)
ID_CALL(geteuid, p->cfg.uid)
ID_CALL(getgid, p->cfg.gid)
ID_CALL(getegid, p->cfg.gid)
ID_CALL(sched_yield, 0)
#undef ID_CALL

/* pid as getpgid/getsid/setpgid take it: 0 the caller, else any process
 * (setpgid: the caller or a child of its, not yet exec'd: not tracked). */
static os_proc *id_target(os_proc *p, int pid)
{
    return pid == 0 ? p : proc_find(p->k, pid);
}

int64_t sys_getpgid(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    os_proc *t = id_target(p, arg_int(a[0]));
    return t != NULL ? t->pgid : -OS_ESRCH;
}

int64_t sys_getsid(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    os_proc *t = id_target(p, arg_int(a[0]));
    return t != NULL ? t->sid : -OS_ESRCH;
}

/* setsid: a new session and group led by the caller, unless it already
 * leads a group (Linux's EPERM). */
int64_t sys_setsid(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)a;
    (void)out;
    for (os_proc *q = p->k->procs; q != NULL; q = q->next_proc)
        if (!q->reaped && q->pgid == p->pid)
            return -OS_EPERM;
    p->pgid = p->sid = p->pid;
    return p->sid;
}

/* setpgid(pid, pgid): the caller or one of its children, into a group of
 * the same session (a new one when pgid is the target's pid). */
int64_t sys_setpgid(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    int pid = arg_int(a[0]), pgid = arg_int(a[1]);
    if (pgid < 0)
        return -OS_EINVAL;
    os_proc *t = id_target(p, pid);
    if (t == NULL || (t != p && t->parent != p))
        return -OS_ESRCH;
    if (t->sid != p->sid)
        return -OS_EPERM;
    if (t->pid == t->sid)
        return -OS_EPERM; /* a session leader stays in its group */
    if (pgid == 0)
        pgid = t->pid;
    if (pgid != t->pid) {
        bool found = false;
        for (os_proc *q = p->k->procs; q != NULL; q = q->next_proc)
            if (!q->reaped && q->pgid == pgid && q->sid == p->sid)
                found = true;
        if (!found)
            return -OS_EPERM;
    }
    t->pgid = pgid;
    return 0;
}

static int64_t set_id(uint32_t *id, uint32_t uid_now, uint64_t want)
{
    uint32_t w = (uint32_t)want;
    if (w == *id)
        return 0;
    if (uid_now != 0)
        return -OS_EPERM;
    *id = w;
    return 0;
}

int64_t sys_setuid(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return set_id(&p->cfg.uid, p->cfg.uid, a[0]);
}

int64_t sys_setgid(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return set_id(&p->cfg.gid, p->cfg.uid, a[0]);
}

static int64_t put_three(os_proc *p, const uint64_t *a, uint32_t v)
{
    for (int i = 0; i < 3; i++)
        if (put_user_u32(p, a[i], v) != 0)
            return -OS_EFAULT;
    return 0;
}

int64_t sys_getresuid(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return put_three(p, a, p->cfg.uid);
}

int64_t sys_getresgid(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return put_three(p, a, p->cfg.gid);
}

int64_t sys_getgroups(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)p;
    (void)out;
    return arg_int(a[0]) < 0 ? -OS_EINVAL : 0;
}

int64_t sys_set_tid_address(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    p->tid_address = a[0];
    return p->pid;
}

int64_t sys_set_robust_list(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    if (a[1] != 24) /* sizeof(struct robust_list_head) */
        return -OS_EINVAL;
    p->robust_head = a[0];
    p->robust_len = a[1];
    return 0;
}

int64_t sys_umask(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    uint32_t old = p->umask;
    p->umask = (uint32_t)a[0] & 0777u;
    return old;
}

/* ---- limits -------------------------------------------------------- */

static int64_t do_prlimit(os_proc *p, unsigned res, uint64_t unew,
                          uint64_t uold)
{
    if (res >= OS_RLIM_NLIMITS)
        return -OS_EINVAL;
    uint8_t b[16];
    os_rlimit nw = {0, 0}, old = p->rlim[res];
    if (unew != 0) {
        if (os_copy_from_user(&p->u, b, unew, 16) != 0)
            return -OS_EFAULT;
        nw.cur = ld_u64(b, 0);
        nw.max = ld_u64(b, 8);
        if (nw.cur > nw.max)
            return -OS_EINVAL;
        if (nw.max > old.max && p->cfg.uid != 0)
            return -OS_EPERM;
        if (res == 7 && nw.max > OS_FD_HARD_MAX) /* nr_open */
            return -OS_EPERM;
        p->rlim[res] = nw;
    }
    if (uold != 0) {
        st_u64(b, 0, old.cur);
        st_u64(b, 8, old.max);
        if (os_copy_to_user(&p->u, uold, b, 16) != 0)
            return -OS_EFAULT;
    }
    return 0;
}

int64_t sys_prlimit64(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    int pid = arg_int(a[0]);
    if (pid != 0 && pid != p->pid) /* another process's: not modelled */
        return proc_find(p->k, pid) != NULL ? -OS_EPERM : -OS_ESRCH;
    return do_prlimit(p, (uint32_t)a[1], a[2], a[3]);
}

int64_t sys_getrlimit(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return do_prlimit(p, (uint32_t)a[0], 0, a[1]);
}

int64_t sys_setrlimit(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return do_prlimit(p, (uint32_t)a[0], a[1], 0);
}

/* ---- time ---------------------------------------------------------- */

/* Read clock clk (Linux clockid). @return 0 or -EINVAL. */
static int read_clock(os_proc *p, int clk, int64_t *sec, int64_t *nsec)
{
    clockid_t host;
    bool real;
    *sec = *nsec = 0;
    switch (clk) {
    case 0:  /* REALTIME */
    case 5:  /* REALTIME_COARSE */
    case 8:  /* REALTIME_ALARM */
    case 11: /* TAI */
        host = CLOCK_REALTIME;
        real = true;
        break;
    case 1: /* MONOTONIC */
    case 4: /* MONOTONIC_RAW */
    case 6: /* MONOTONIC_COARSE */
    case 7: /* BOOTTIME */
    case 9: /* BOOTTIME_ALARM */
        host = CLOCK_MONOTONIC;
        real = false;
        break;
    case 2: /* PROCESS_CPUTIME_ID */
    case 3: /* THREAD_CPUTIME_ID */
        host = CLOCK_PROCESS_CPUTIME_ID;
        real = false;
        break;
    default:
        return -OS_EINVAL;
    }
    if (p->cfg.deterministic) {
        p->fake_ns += 1000;
        *sec = (int64_t)(p->fake_ns / NSEC) + (real ? FAKE_EPOCH : 0);
        *nsec = (int64_t)(p->fake_ns % NSEC);
        return 0;
    }
    struct timespec ts;
    if (clock_gettime(host, &ts) != 0)
        return -OS_EINVAL;
    *sec = (int64_t)ts.tv_sec;
    *nsec = (int64_t)ts.tv_nsec;
    return 0;
}

static int64_t put_pair(os_proc *p, uint64_t va, int64_t x, int64_t y)
{
    uint8_t b[16];
    st_u64(b, 0, (uint64_t)x);
    st_u64(b, 8, (uint64_t)y);
    return os_copy_to_user(&p->u, va, b, 16) == 0 ? 0 : -OS_EFAULT;
}

int64_t sys_clock_gettime(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    int64_t s, ns;
    int rc = read_clock(p, arg_int(a[0]), &s, &ns);
    return rc != 0 ? rc : put_pair(p, a[1], s, ns);
}

int64_t sys_clock_getres(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    int64_t s, ns;
    int rc = read_clock(p, arg_int(a[0]), &s, &ns);
    if (rc != 0)
        return rc;
    return a[1] ? put_pair(p, a[1], 0, 1) : 0;
}

int64_t sys_gettimeofday(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    int64_t s, ns;
    read_clock(p, 0, &s, &ns);
    if (a[0] != 0 && put_pair(p, a[0], s, ns / 1000) != 0)
        return -OS_EFAULT;
    if (a[1] != 0 && put_user_u64(p, a[1], 0) != 0) /* struct timezone */
        return -OS_EFAULT;
    return 0;
}

int64_t sys_time(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    int64_t s, ns;
    read_clock(p, 0, &s, &ns);
    if (a[0] != 0 && put_user_u64(p, a[0], (uint64_t)s) != 0)
        return -OS_EFAULT;
    return s;
}

/* Sleep for a relative time (advances the fake clock instead). While
 * another process can run, the caller blocks in the runner's sense (the
 * call is re-issued) until a host deadline set at the first issue has
 * passed; alone, it sleeps on the host for what is left. */
static void sleep_for(os_proc *p, int64_t s, int64_t ns, os_sysret *out)
{
    if (p->cfg.deterministic) {
        p->fake_ns += (uint64_t)s * NSEC + (uint64_t)ns;
        return;
    }
    uint64_t now = os_wait_now_ns();
    if (p->sleep_deadline == 0)
        p->sleep_deadline = now + (uint64_t)s * NSEC + (uint64_t)ns;
    if (now >= p->sleep_deadline) {
        p->sleep_deadline = 0;
        return;
    }
    if (p->may_block) {
        out->flags |= OS_SYSRET_BLOCKED;
        proc_wait_until(p, p->sleep_deadline);
        return;
    }
    uint64_t left = p->sleep_deadline - now;
    p->sleep_deadline = 0;
    struct timespec req = {(time_t)(left / NSEC), (long)(left % NSEC)}, rem;
    while (nanosleep(&req, &rem) != 0 && errno == EINTR)
        req = rem;
}

static int get_timespec(os_proc *p, uint64_t va, int64_t *s, int64_t *ns)
{
    uint8_t b[16];
    if (os_copy_from_user(&p->u, b, va, 16) != 0)
        return -OS_EFAULT;
    *s = (int64_t)ld_u64(b, 0);
    *ns = (int64_t)ld_u64(b, 8);
    return (*s < 0 || *ns < 0 || *ns >= NSEC) ? -OS_EINVAL : 0;
}

int64_t sys_nanosleep(os_proc *p, const uint64_t *a, os_sysret *out)
{
    int64_t s, ns;
    int rc = get_timespec(p, a[0], &s, &ns);
    if (rc == 0)
        sleep_for(p, s, ns, out);
    return rc;
}

int64_t sys_clock_nanosleep(os_proc *p, const uint64_t *a, os_sysret *out)
{
    int clk = arg_int(a[0]);
    int64_t s, ns, now_s, now_ns;
    if (clk == 3) /* THREAD_CPUTIME_ID */
        return -OS_EINVAL;
    if (read_clock(p, clk, &now_s, &now_ns) != 0)
        return -OS_EINVAL;
    int rc = get_timespec(p, a[2], &s, &ns);
    if (rc != 0)
        return rc;
    if (a[1] & 1) { /* TIMER_ABSTIME */
        int64_t d = (s - now_s) * NSEC + (ns - now_ns);
        if (d <= 0)
            return 0;
        s = d / NSEC;
        ns = d % NSEC;
    }
    sleep_for(p, s, ns, out);
    return 0;
}

int64_t sys_getrusage(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    int who = arg_int(a[0]);
    if (who != 0 && who != -1 && who != 1)
        return -OS_EINVAL;
    uint8_t b[144];
    memset(b, 0, sizeof b);
    return os_copy_to_user(&p->u, a[1], b, sizeof b) == 0 ? 0 : -OS_EFAULT;
}

int64_t sys_times(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    int64_t s, ns;
    read_clock(p, 1, &s, &ns);
    if (a[0] != 0) {
        uint8_t b[32];
        memset(b, 0, sizeof b);
        if (os_copy_to_user(&p->u, a[0], b, sizeof b) != 0)
            return -OS_EFAULT;
    }
    return s * 100 + ns / (NSEC / 100); /* USER_HZ ticks */
}

/* ---- random -------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void fill_random(os_proc *p, uint8_t *b, size_t n)
{
    if (!p->cfg.deterministic) {
        size_t i = 0;
        for (; i < n; i += 256)
            if (getentropy(b + i, n - i < 256 ? n - i : 256) != 0)
                break;
        if (i >= n)
            return;
    }
    for (size_t i = 0; i < n; i++) {
        if (i % 8 == 0) {
            uint64_t v = splitmix64(&p->rng);
            for (size_t j = 0; j < 8 && i + j < n; j++)
                b[i + j] = (uint8_t)(v >> (8 * j));
        }
    }
}

int64_t sys_getrandom(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    uint64_t buf = a[0], len = a[1];
    uint32_t flags = (uint32_t)a[2];
    if (flags & ~(L_GRND_NONBLOCK | L_GRND_RANDOM | L_GRND_INSECURE))
        return -OS_EINVAL;
    if ((flags & L_GRND_INSECURE) && (flags & L_GRND_RANDOM))
        return -OS_EINVAL;
    if (len > L_GETRANDOM_MAX)
        len = L_GETRANDOM_MAX;
    uint64_t ts = p->k->layout.task_size;
    if (buf > ts || len > ts - buf)
        return -OS_EFAULT;
    uint64_t done = 0;
    while (done < len) {
        size_t n =
            len - done < OS_BOUNCE_SIZE ? (size_t)(len - done) : OS_BOUNCE_SIZE;
        fill_random(p, p->bounce, n);
        int rc = os_copy_to_user(&p->u, buf + done, p->bounce, n);
        if (rc != 0) {
            done += p->u.done;
            if (done)
                return (int64_t)done;
            return rc == -OS_ENOMEM ? -OS_ENOMEM : -OS_EFAULT;
        }
        done += n;
    }
    return (int64_t)done;
}

/* ---- the machine --------------------------------------------------- */

int64_t sys_uname(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    char u[6][65];
    memset(u, 0, sizeof u);
    snprintf(u[0], 65, "Linux");
    snprintf(u[1], 65, "mmuemu");
    snprintf(u[2], 65, "6.1.0");
    snprintf(u[3], 65, "#1 SMP PREEMPT_DYNAMIC mmuemu");
    snprintf(u[4], 65, "%s", p->abi == OS_ABI_X86_64 ? "x86_64" : "riscv64");
    snprintf(u[5], 65, "(none)");
    return os_copy_to_user(&p->u, a[0], u, sizeof u) == 0 ? 0 : -OS_EFAULT;
}

int64_t sys_sysinfo(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    const os_frames *f = p->k->frames;
    uint64_t total = f->nframes * OS_PAGE_SIZE;
    uint64_t avail =
        f->st.limit && f->st.limit < f->nframes ? f->st.limit : f->nframes;
    uint64_t freeb =
        (avail > f->st.in_use ? avail - f->st.in_use : 0) * OS_PAGE_SIZE;
    int64_t s, ns;
    read_clock(p, 1, &s, &ns);
    uint8_t b[112];
    memset(b, 0, sizeof b);
    st_u64(b, 0, (uint64_t)s); /* uptime */
    st_u64(b, 32, total);      /* totalram */
    st_u64(b, 40, freeb);      /* freeram */
    st_u16(b, 80, 1);          /* procs */
    st_u32(b, 104, 1);         /* mem_unit */
    return os_copy_to_user(&p->u, a[0], b, sizeof b) == 0 ? 0 : -OS_EFAULT;
}

int64_t sys_sched_getaffinity(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    if (id_target(p, arg_int(a[0])) == NULL)
        return -OS_ESRCH;
    uint64_t len = (uint32_t)a[1];
    if (len < 8 || (len & 7))
        return -OS_EINVAL;
    return put_user_u64(p, a[2], 1) == 0 ? 8 : -OS_EFAULT; /* CPU 0 */
}

int64_t sys_getcpu(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    for (int i = 0; i < 2; i++)
        if (a[i] != 0 && put_user_u32(p, a[i], 0) != 0)
            return -OS_EFAULT;
    return 0;
}

int64_t sys_fadvise64(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    ofd *o = fdt_get(&p->fds, arg_int(a[0]));
    if (o == NULL)
        return -OS_EBADF;
    int adv = arg_int(a[3]);
    if (adv < 0 || adv > 5)
        return -OS_EINVAL;
    return o->is_reg || o->is_dir ? 0 : -OS_ESPIPE;
}

/* ---- prctl, arch_prctl --------------------------------------------- */

int64_t sys_prctl(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    char name[16];
    switch (arg_int(a[0])) {
    case 15: { /* PR_SET_NAME */
        int64_t n = os_strncpy_from_user(&p->u, name, a[1], sizeof name);
        if (n < 0)
            return -OS_EFAULT;
        name[sizeof name - 1] = '\0';
        memcpy(p->comm, name, sizeof name);
        return 0;
    }
    case 16: /* PR_GET_NAME */
        memset(name, 0, sizeof name);
        memcpy(name, p->comm, strnlen(p->comm, sizeof name - 1));
        return os_copy_to_user(&p->u, a[1], name, sizeof name) == 0
                   ? 0
                   : -OS_EFAULT;
    case 1: /* PR_SET_PDEATHSIG */
        return a[1] <= L_NSIG ? 0 : -OS_EINVAL;
    case 2: /* PR_GET_PDEATHSIG */
        return put_user_u32(p, a[1], 0);
    case 3: /* PR_GET_DUMPABLE */
        return 1;
    case 4: /* PR_SET_DUMPABLE */
        return a[1] <= 1 ? 0 : -OS_EINVAL;
    case 38: /* PR_SET_NO_NEW_PRIVS */
        return a[1] == 1 ? 0 : -OS_EINVAL;
    case 39: /* PR_GET_NO_NEW_PRIVS */
    case 42: /* PR_GET_THP_DISABLE */
        return 0;
    default:
        return -OS_EINVAL;
    }
}

int64_t sys_arch_prctl(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    int code = arg_int(a[0]);
    int which = code == OS_ARCH_SET_GS || code == OS_ARCH_GET_GS ? OS_TLS_GS
                                                                 : OS_TLS_FS;
    switch (code) {
    case OS_ARCH_SET_FS:
    case OS_ARCH_SET_GS:
        if (a[1] >= p->k->layout.task_size)
            return -OS_EPERM;
        if (p->cfg.arch.set_tls != NULL) {
            int rc = p->cfg.arch.set_tls(p->cfg.arch.arg, which, a[1]);
            if (rc != 0)
                return rc;
        }
        p->tls[which] = a[1];
        p->pending |= OS_SYSRET_TLS;
        return 0;
    case OS_ARCH_GET_FS:
    case OS_ARCH_GET_GS: {
        uint64_t v = p->tls[which];
        if (p->cfg.arch.get_tls != NULL) {
            int rc = p->cfg.arch.get_tls(p->cfg.arch.arg, which, &v);
            if (rc != 0)
                return rc;
        }
        return put_user_u64(p, a[1], v);
    }
    default:
        return -OS_EINVAL;
    }
}

/* ---- futex --------------------------------------------------------- */

static int64_t futex_wake_op(os_proc *p, uint64_t uaddr2, uint32_t val3)
{
    uint32_t op = (val3 >> 28) & 7, oparg = (val3 >> 12) & 0xfff;
    if ((val3 >> 28) & 8)
        oparg = oparg < 32 ? 1u << oparg : 0;
    uint32_t old;
    if (get_user_u32(p, uaddr2, &old) != 0)
        return -OS_EFAULT;
    uint32_t nv;
    switch (op) {
    case 0:
        nv = oparg;
        break; /* SET */
    case 1:
        nv = old + oparg;
        break; /* ADD */
    case 2:
        nv = old | oparg;
        break; /* OR */
    case 3:
        nv = old & ~oparg;
        break; /* ANDN */
    case 4:
        nv = old ^ oparg;
        break; /* XOR */
    default:
        return -OS_ENOSYS;
    }
    return put_user_u32(p, uaddr2, nv) == 0 ? 0 : -OS_EFAULT;
}

int64_t sys_futex(os_proc *p, const uint64_t *a, os_sysret *out)
{
    uint64_t uaddr = a[0];
    uint32_t op = (uint32_t)a[1], val = (uint32_t)a[2], cur;
    uint32_t val3 = (uint32_t)a[5];
    if (uaddr & 3)
        return -OS_EINVAL;
    switch (op & 0x7f) {
    case 0: /* FUTEX_WAIT */
    case 9: /* FUTEX_WAIT_BITSET */
        if ((op & 0x7f) == 9 && val3 == 0)
            return -OS_EINVAL;
        if (get_user_u32(p, uaddr, &cur) != 0)
            return -OS_EFAULT;
        if (cur != val)
            return -OS_EAGAIN;
        if (a[3] != 0)
            return -OS_ETIMEDOUT; /* nobody can wake us before it */
        proc_report(p,
                    "futex wait at 0x%llx with one thread would "
                    "sleep forever: killed",
                    (unsigned long long)uaddr);
        proc_exit(p, 128 + OS_SIGKILL, OS_SIGKILL, out);
        return -OS_EINTR;
    case 1:  /* FUTEX_WAKE */
    case 10: /* FUTEX_WAKE_BITSET */
    case 3:  /* FUTEX_REQUEUE */
        return 0;
    case 4: /* FUTEX_CMP_REQUEUE */
        if (get_user_u32(p, uaddr, &cur) != 0)
            return -OS_EFAULT;
        return cur == val3 ? 0 : -OS_EAGAIN;
    case 5: /* FUTEX_WAKE_OP */
        return futex_wake_op(p, a[4], val3);
    default:
        return -OS_ENOSYS;
    }
}
