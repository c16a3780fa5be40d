/*
 * proc_fork.c - processes on one vCPU (see mmuemu/linux.h, section 6):
 * fork and vfork (clone with their flags: a copied address space, or the
 * caller's shared while it waits), the process tree, wait4/waitid, and
 * the reads that would block while another process can run.
 */
#define _POSIX_C_SOURCE 200809L

#include "proc_internal.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define L_SIGCHLD              17
#define L_CSIGNAL              0xffu
#define L_CLONE_VM             0x00000100u
#define L_CLONE_VFORK          0x00004000u
#define L_CLONE_PARENT_SETTID  0x00100000u
#define L_CLONE_CHILD_CLEARTID 0x00200000u
#define L_CLONE_CHILD_SETTID   0x01000000u
#define L_WNOHANG              1u
#define L_WEXITED              4u
#define L_WNOWAIT              0x01000000u
#define L_P_ALL                0
#define L_P_PID                1
#define L_P_PGID               2
#define L_CLD_EXITED           1
#define L_CLD_KILLED           2
#define L_RUSAGE_SIZE          144
#define L_SIGINFO_SIZE         128
#define RV_ASID_MASK           0xffffu
#define X86_PCID_COUNT         4095u /* PCID 0 left to the kernel */

/* ---- the process tree ---------------------------------------------- */

void proc_unlink(os_proc *p)
{
    if (p->parent != NULL) {
        for (os_proc **pp = &p->parent->children; *pp != NULL;
             pp = &(*pp)->sibling)
            if (*pp == p) {
                *pp = p->sibling;
                break;
            }
        p->parent = NULL;
    }
    for (os_proc *c = p->children; c != NULL;) {
        os_proc *next = c->sibling;
        c->parent = NULL;
        c->sibling = NULL;
        c = next;
    }
    p->children = NULL;
}

int os_proc_pid(const os_proc *p)
{
    return p->pid;
}

bool os_proc_reaped(const os_proc *p)
{
    return p->reaped;
}

void os_proc_set_may_block(os_proc *p, bool may)
{
    p->may_block = may;
}

bool proc_read_would_block(os_proc *p, ofd *o)
{
    if (!p->may_block || o->kind != OFD_HOST || o->is_reg || o->is_dir ||
        (o->flags & L_O_NONBLOCK) || (o->flags & L_O_ACCMODE) == L_O_WRONLY)
        return false;
    struct pollfd pf = {.fd = o->host, .events = POLLIN};
    if (poll(&pf, 1, 0) != 0)
        return false;
    proc_wait_fd(p, o->host, POLLIN);
    return true;
}

void proc_wait_fd(os_proc *p, int fd, short events)
{
    os_wait *w = &p->wait;
    if (w->nfd == OS_WAIT_FDS) {
        w->more = true;
        return;
    }
    w->fd[w->nfd] = fd;
    w->events[w->nfd++] = events;
}

void proc_wait_until(os_proc *p, uint64_t ns)
{
    if (p->wait.deadline_ns == 0 || ns < p->wait.deadline_ns)
        p->wait.deadline_ns = ns;
}

uint64_t os_wait_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void os_proc_wait_state(const os_proc *p, os_wait *out)
{
    *out = p->wait;
}

/* The PCID (x86: 1..4095, with CR4.PCIDE) or ASID (RISC-V: 16 bits, the
 * first process 0) of p's address space. Tags wrap: the runner flushes a
 * tag whose last owner was another space. */
uint32_t proc_tag(const os_proc *p)
{
    uint32_t n = (uint32_t)(p->pid - OS_PROC_PID);
    if (p->k->arch == MMU_ARCH_X86)
        return n % X86_PCID_COUNT + 1;
    return n & RV_ASID_MASK;
}

bool proc_write_may_block(os_proc *p, ofd *o)
{
    if (!p->may_block || o->kind != OFD_HOST || o->is_reg || o->is_dir ||
        (o->flags & L_O_NONBLOCK))
        return false;
    struct stat st;
    return fstat(o->host, &st) == 0 && S_ISFIFO(st.st_mode);
}

/* ---- fork ------------------------------------------------------------ */

static int copy_fds(os_proc *c, const os_proc *parent)
{
    for (int i = 0; i < parent->fds.cap; i++) {
        ofd *o = parent->fds.slot[i].o;
        if (o == NULL)
            continue;
        int rc = fdt_install_at(&c->fds, i, o, OS_FD_HARD_MAX,
                                parent->fds.slot[i].cloexec);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* A child of parent: its own address space copied (fork), or parent's
 * shared (share: vfork). */
static int new_child(os_proc *parent, bool share, os_proc **child)
{
    *child = NULL;
    os_proc *c = calloc(1, sizeof *c);
    if (c == NULL)
        return -OS_ENOMEM;
    c->cfg = parent->cfg;
    c->abi = parent->abi;
    c->k = parent->k;
    c->rootfd = -1;
    c->pid = OS_PROC_PID + (int)++parent->k->forks;
    c->ppid = parent->pid;
    c->sysroot = strdup(parent->sysroot);
    c->exe_path = strdup(parent->exe_path);
    c->host_exe = strdup(parent->host_exe);
    c->bounce = malloc(OS_BOUNCE_SIZE);
    fdt_init(&c->fds);
    int rc = 0;
    if (!c->sysroot || !c->exe_path || !c->host_exe || !c->bounce)
        rc = -OS_ENOMEM;
    if (rc == 0) {
        c->rootfd = fcntl(parent->rootfd, F_DUPFD_CLOEXEC, 3);
        if (c->rootfd < 0)
            rc = -OS_EMFILE;
    }
    if (rc == 0)
        rc = copy_fds(c, parent);
    if (rc == 0 && share) {
        c->mm = proc_mm_get(parent->mm);
        os_uaccess_init(&c->u, &c->mm->as, parent->u.ctx);
    } else if (rc == 0) {
        rc = proc_mm_new(c->k, &c->mm);
    }
    if (rc == 0 && !share) {
        c->mm->as.tag = proc_tag(c);
        os_uaccess_init(&c->u, &c->mm->as, parent->u.ctx);
        rc = os_aspace_fork(&c->mm->as, &parent->mm->as);
        c->mm->sigpage = parent->mm->sigpage; /* the mapping was copied */
        proc_mm_hook_on(c->mm);
        proc_mm_own(c);
    }
    if (rc != 0) {
        os_proc_destroy(c);
        return rc;
    }
    memcpy(c->cwd, parent->cwd, sizeof c->cwd);
    c->umask = parent->umask;
    memcpy(c->comm, parent->comm, sizeof c->comm);
    memcpy(c->sig, parent->sig, sizeof c->sig);
    c->sigmask = parent->sigmask;
    c->ss_sp = parent->ss_sp;
    c->ss_size = parent->ss_size;
    c->ss_flags = parent->ss_flags;
    memcpy(c->tls, parent->tls, sizeof c->tls);
    memcpy(c->rlim, parent->rlim, sizeof c->rlim);
    memcpy(c->sysidx, parent->sysidx, sizeof c->sysidx);
    memcpy(c->reported, parent->reported, sizeof c->reported);
    memcpy(c->reported_big, parent->reported_big, sizeof c->reported_big);
    c->nreported_big = parent->nreported_big;
    c->rng = parent->rng ^ ((uint64_t)c->pid * UINT64_C(0x9e3779b97f4a7c15));
    c->fake_ns = parent->fake_ns;
    c->cur_nr = parent->cur_nr; /* the clone: its writes to the child trace as such */
    for (size_t i = 0; i < parent->nsynced; i++)
        proc_track_shared(c, parent->synced[i]);
    c->pgid = parent->pgid;
    c->sid = parent->sid;
    c->parent = parent;
    c->sibling = parent->children;
    parent->children = c;
    proc_register(c);
    *child = c;
    return 0;
}

int os_proc_fork(os_proc *parent, os_proc **child)
{
    return new_child(parent, false, child);
}

/* The child's memory through a ctx of its own (the shared one runs the
 * parent's root until the runner switches). */
static int put_child_u32(os_proc *c, uint64_t va, uint32_t v)
{
    os_uaccess u;
    os_uaccess_init(&u, &c->mm->as, NULL);
    uint8_t b[4];
    st_u32(b, 0, v);
    return os_copy_to_user(&u, va, b, 4) == 0 ? 0 : -OS_EFAULT;
}

static int64_t do_fork(os_proc *p, uint64_t flags, uint64_t newsp,
                       uint64_t ptid, uint64_t ctid, os_sysret *out)
{
    const uint64_t ok = L_CSIGNAL | L_CLONE_PARENT_SETTID |
                        L_CLONE_CHILD_CLEARTID | L_CLONE_CHILD_SETTID |
                        L_CLONE_VM | L_CLONE_VFORK;
    const uint64_t vfork = L_CLONE_VM | L_CLONE_VFORK;
    bool share = (flags & vfork) == vfork;
    if ((flags & ~ok) != 0 || (flags & L_CSIGNAL) != L_SIGCHLD ||
        (!share && (flags & vfork) != 0)) {
        if (!p->clone_reported)
            proc_report(p,
                        "clone flags %#llx (stack %#llx) not implemented "
                        "(only fork's and vfork's): -ENOSYS",
                        (unsigned long long)flags, (unsigned long long)newsp);
        p->clone_reported = true;
        return -OS_ENOSYS;
    }
    os_proc *c;
    int rc = new_child(p, share, &c);
    if (rc != 0)
        return rc;
    if (flags & L_CLONE_CHILD_SETTID)
        (void)put_child_u32(c, ctid, (uint32_t)c->pid);
    c->tid_address = (flags & L_CLONE_CHILD_CLEARTID) ? ctid : 0;
    if (flags & L_CLONE_PARENT_SETTID)
        (void)put_user_u32(p, ptid, (uint32_t)c->pid);
    out->flags |= OS_SYSRET_FORK | (share ? OS_SYSRET_VFORK : 0);
    out->child = c;
    out->child_sp = newsp;
    return c->pid;
}

/* x86-64: clone(flags, newsp, parent_tid, child_tid, tls); riscv64
 * selects CONFIG_CLONE_BACKWARDS: clone(flags, newsp, parent_tid, tls,
 * child_tid). */
int64_t sys_clone(os_proc *p, const uint64_t *a, os_sysret *out)
{
    uint64_t ctid = p->abi == OS_ABI_RISCV64 ? a[4] : a[3];
    return do_fork(p, a[0], a[1], a[2], ctid, out);
}

int64_t sys_fork(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)a;
    return do_fork(p, L_SIGCHLD, 0, 0, 0, out);
}

int64_t sys_vfork(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)a;
    return do_fork(p, L_CLONE_VM | L_CLONE_VFORK | L_SIGCHLD, 0, 0, 0, out);
}

/* ---- wait ------------------------------------------------------------ */

/* Does child c match wait4's pid: > 0 that pid, -1 any, 0 the caller's
 * process group, < -1 the group -pid? */
static bool wait_match(const os_proc *p, const os_proc *c, int pid)
{
    if (pid > 0)
        return c->pid == pid;
    if (pid == -1)
        return true;
    return c->pgid == (pid == 0 ? p->pgid : -pid);
}

/* A child matching (pid as wait4 takes it): the oldest zombie, and in
 * *any whether one matches at all. */
static os_proc *find_child(os_proc *p, int pid, bool *any)
{
    *any = false;
    os_proc *zombie = NULL;
    for (os_proc *c = p->children; c != NULL; c = c->sibling) {
        if (c->reaped || !wait_match(p, c, pid))
            continue;
        *any = true;
        if (c->exit.exited)
            zombie = c; /* the oldest (the list is newest first) */
    }
    return zombie;
}

static void reap(os_proc *c)
{
    proc_unlink(c);
    c->reaped = true;
}

int64_t sys_wait4(os_proc *p, const uint64_t *a, os_sysret *out)
{
    int pid = arg_int(a[0]);
    uint32_t options = (uint32_t)a[2];
    if (pid == (int)0x80000000)
        return -OS_ESRCH;
    bool any;
    os_proc *z = find_child(p, pid, &any);
    if (!any)
        return -OS_ECHILD;
    if (z == NULL) {
        if (options & L_WNOHANG)
            return 0;
        out->flags |= OS_SYSRET_BLOCKED;
        return 0;
    }
    uint32_t st = z->exit.signo ? (uint32_t)z->exit.signo & 0x7f
                                : ((uint32_t)z->exit.status & 0xff) << 8;
    if (a[1] != 0 && put_user_u32(p, a[1], st) != 0)
        return -OS_EFAULT;
    if (a[3] != 0) {
        uint8_t zero[L_RUSAGE_SIZE] = {0};
        if (os_copy_to_user(&p->u, a[3], zero, sizeof zero) != 0)
            return -OS_EFAULT;
    }
    int64_t r = z->pid;
    reap(z);
    return r;
}

int64_t sys_waitid(os_proc *p, const uint64_t *a, os_sysret *out)
{
    int idtype = arg_int(a[0]), id = arg_int(a[1]);
    uint32_t options = (uint32_t)a[3];
    if (!(options & L_WEXITED))
        return -OS_EINVAL;
    int pid;
    switch (idtype) {
    case L_P_ALL:
        pid = -1;
        break;
    case L_P_PGID:
        if (id < 0)
            return -OS_EINVAL;
        if (id == 1)
            return -OS_ECHILD; /* init's group: none of ours */
        pid = -id;
        break;
    case L_P_PID:
        if (id <= 0)
            return -OS_EINVAL;
        pid = id;
        break;
    default:
        return -OS_EINVAL;
    }
    bool any;
    os_proc *z = find_child(p, pid, &any);
    if (!any)
        return -OS_ECHILD;
    uint8_t info[L_SIGINFO_SIZE] = {0};
    if (z == NULL && !(options & L_WNOHANG)) {
        out->flags |= OS_SYSRET_BLOCKED;
        return 0;
    }
    if (z != NULL) {
        st_u32(info, 0, L_SIGCHLD);
        st_u32(info, 8, z->exit.signo ? L_CLD_KILLED : L_CLD_EXITED);
        st_u32(info, 16, (uint32_t)z->pid);
        st_u32(info, 20, p->cfg.uid);
        st_u32(info, 24,
               z->exit.signo ? (uint32_t)z->exit.signo
                             : (uint32_t)z->exit.status & 0xff);
    }
    if (a[2] != 0 && os_copy_to_user(&p->u, a[2], info, sizeof info) != 0)
        return -OS_EFAULT;
    if (a[4] != 0) {
        uint8_t zero[L_RUSAGE_SIZE] = {0};
        if (os_copy_to_user(&p->u, a[4], zero, sizeof zero) != 0)
            return -OS_EFAULT;
    }
    if (z != NULL && !(options & L_WNOWAIT))
        reap(z);
    return 0;
}
