/*
 * proc.c - a Linux process on the OS model (see mmuemu/linux.h): creation
 * (sysroot, fd table, address space, exec of the ELF), the system-call
 * dispatcher, page faults, exit state, and the helpers every sys_*.c file
 * uses to reach guest memory.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* realpath, getentropy */

#include "proc_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void os_proc_config_default(os_proc_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->abi = OS_ABI_RISCV64;
    cfg->stdin_fd = 0;
    cfg->stdout_fd = 1;
    cfg->stderr_fd = 2;
}

/* ---- reports and exit ---------------------------------------------- */

void proc_report(os_proc *p, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->cfg.report != NULL)
        p->cfg.report(p->cfg.report_arg, msg);
    else
        fprintf(stderr, "mmuemu: %s\n", msg);
}

void proc_exit(os_proc *p, int status, int signo, os_sysret *out)
{
    if (p->exit.exited)
        return;
    p->exit.exited = true;
    p->exit.status = status;
    p->exit.signo = signo;
    p->sigpending = 0;
    /* A zombie holds no files (pipe EOF); a process dying inside its own
     * system call (SIGPIPE from a write) lets go of them when the call
     * returns, as the call may still be using one. */
    if (!p->in_syscall)
        fdt_destroy(&p->fds);
    proc_notify_parent(p);
    if (out != NULL) {
        out->flags |= OS_SYSRET_EXITED;
        out->exit_status = status;
    }
}

void os_proc_kill(os_proc *p, int signo)
{
    if (!p->exit.exited)
        proc_exit(p, 128 + signo, signo, NULL);
}

void os_proc_exit_state(const os_proc *p, os_proc_exit *out)
{
    *out = p->exit;
}

void proc_track_shared(os_proc *p, os_file *f)
{
    for (size_t i = 0; i < p->nsynced; i++)
        if (p->synced[i] == f)
            return;
    if (p->nsynced == p->capsynced) {
        size_t cap = p->capsynced ? 2 * p->capsynced : 8;
        os_file **n = realloc(p->synced, cap * sizeof *n);
        if (n == NULL)
            return; /* not written back at exit; msync still works */
        p->synced = n;
        p->capsynced = cap;
    }
    p->synced[p->nsynced++] = os_file_get(f);
}

/* ---- guest memory helpers ------------------------------------------ */

void st_u16(uint8_t *b, size_t off, uint64_t v)
{
    for (unsigned i = 0; i < 2; i++)
        b[off + i] = (uint8_t)(v >> (8 * i));
}

void st_u32(uint8_t *b, size_t off, uint64_t v)
{
    for (unsigned i = 0; i < 4; i++)
        b[off + i] = (uint8_t)(v >> (8 * i));
}

void st_u64(uint8_t *b, size_t off, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        b[off + i] = (uint8_t)(v >> (8 * i));
}

uint64_t ld_u64(const uint8_t *b, size_t off)
{
    uint64_t v = 0;
    for (unsigned i = 8; i-- > 0;)
        v = (v << 8) | b[off + i];
    return v;
}

uint32_t ld_u32(const uint8_t *b, size_t off)
{
    return (uint32_t)b[off] | (uint32_t)b[off + 1] << 8 |
           (uint32_t)b[off + 2] << 16 | (uint32_t)b[off + 3] << 24;
}

int put_user_u64(os_proc *p, uint64_t va, uint64_t v)
{
    uint8_t b[8];
    st_u64(b, 0, v);
    return os_copy_to_user(&p->u, va, b, 8) == 0 ? 0 : -OS_EFAULT;
}

int put_user_u32(os_proc *p, uint64_t va, uint32_t v)
{
    uint8_t b[4];
    st_u32(b, 0, v);
    return os_copy_to_user(&p->u, va, b, 4) == 0 ? 0 : -OS_EFAULT;
}

int get_user_u64(os_proc *p, uint64_t va, uint64_t *v)
{
    uint8_t b[8];
    if (os_copy_from_user(&p->u, b, va, 8) != 0)
        return -OS_EFAULT;
    *v = ld_u64(b, 0);
    return 0;
}

int get_user_u32(os_proc *p, uint64_t va, uint32_t *v)
{
    uint8_t b[4];
    if (os_copy_from_user(&p->u, b, va, 4) != 0)
        return -OS_EFAULT;
    *v = ld_u32(b, 0);
    return 0;
}

int get_user_path(os_proc *p, uint64_t va, char *buf)
{
    int64_t n = os_strncpy_from_user(&p->u, buf, va, L_PATH_MAX);
    if (n < 0)
        return -OS_EFAULT;
    if (n >= L_PATH_MAX)
        return -OS_ENAMETOOLONG;
    return 0;
}

/* ---- creation ------------------------------------------------------ */


static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static uint32_t host_accmode(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return L_O_RDWR;
    switch (fl & O_ACCMODE) {
    case O_RDONLY:
        return L_O_RDONLY;
    case O_WRONLY:
        return L_O_WRONLY;
    default:
        return L_O_RDWR;
    }
}

/* Guest fds 0, 1, 2 on duplicates of the runner's host fds. */
static int bind_std_fds(os_proc *p, char *err, size_t errlen)
{
    const int host[3] = {p->cfg.stdin_fd, p->cfg.stdout_fd, p->cfg.stderr_fd};
    for (int i = 0; i < 3; i++) {
        if (host[i] < 0)
            continue;
        int h = fcntl(host[i], F_DUPFD_CLOEXEC, 3);
        if (h < 0)
            return os_fail(err, errlen, host_errno(errno),
                        "cannot duplicate host fd %d for guest fd %d", host[i],
                        i);
        ofd *o = ofd_new(OFD_HOST, h, host_accmode(h), NULL);
        if (o == NULL) {
            close(h);
            return os_fail(err, errlen, -OS_ENOMEM, "out of memory");
        }
        struct stat st;
        if (fstat(h, &st) == 0)
            o->is_reg = S_ISREG(st.st_mode);
        int rc = fdt_install_at(&p->fds, i, o, OS_FD_HARD_MAX, false);
        ofd_put(o);
        if (rc < 0)
            return os_fail(err, errlen, rc, "cannot install guest fd %d", i);
    }
    return 0;
}

static void init_limits(os_proc *p)
{
    const uint64_t inf = UINT64_MAX;
    for (int i = 0; i < OS_RLIM_NLIMITS; i++)
        p->rlim[i] = (os_rlimit){inf, inf};
    p->rlim[3] = (os_rlimit){p->k->layout.stack_rlimit, inf}; /* STACK */
    p->rlim[4] = (os_rlimit){0, inf};                         /* CORE */
    p->rlim[6] = (os_rlimit){63422, 63422};                   /* NPROC */
    p->rlim[7] = (os_rlimit){1024, OS_FD_HARD_MAX};           /* NOFILE */
    p->rlim[8] = (os_rlimit){8u << 20, 8u << 20};             /* MEMLOCK */
    p->rlim[11] = (os_rlimit){63422, 63422};                  /* SIGPENDING */
    p->rlim[12] = (os_rlimit){819200, 819200};                /* MSGQUEUE */
    p->rlim[13] = (os_rlimit){0, 0};                          /* NICE */
    p->rlim[14] = (os_rlimit){0, 0};                          /* RTPRIO */
}

static bool abi_matches(os_abi abi, mmu_arch arch)
{
    switch (abi) {
    case OS_ABI_RISCV64:
        return arch == MMU_ARCH_RISCV;
    case OS_ABI_X86_64:
        return arch == MMU_ARCH_X86;
    }
    return false;
}

/* Sysroot, cwd, names, fds, limits: everything but memory. */
static int setup(os_proc *p, const char *elf_path, char *err, size_t errlen)
{
    const os_proc_config *c = &p->cfg;
    p->sysroot = strdup(c->sysroot != NULL ? c->sysroot : ".");
    char real[PATH_MAX];
    p->host_exe = strdup(realpath(elf_path, real) != NULL ? real : elf_path);
    p->exe_path = c->exe_guest_path != NULL ? strdup(c->exe_guest_path)
                                            : dup_or_null(p->host_exe);
    p->bounce = malloc(OS_BOUNCE_SIZE);
    if (!p->sysroot || !p->host_exe || !p->exe_path || !p->bounce)
        return os_fail(err, errlen, -OS_ENOMEM, "out of memory");
    p->rootfd = open(p->sysroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (p->rootfd < 0)
        return os_fail(err, errlen, host_errno(errno), "sysroot %s: %s",
                    p->sysroot, strerror(errno));
    strcpy(p->cwd, "/");
    if (c->cwd != NULL) {
        bool missing;
        char canon[L_PATH_MAX];
        int rc = sysroot_resolve(p, L_AT_FDCWD, c->cwd, true, canon, &missing);
        struct stat st;
        if (rc == 0 && (fstatat(p->rootfd, sysroot_rel(canon), &st, 0) != 0 ||
                        !S_ISDIR(st.st_mode)))
            rc = -OS_ENOTDIR;
        if (rc != 0)
            return os_fail(err, errlen, rc, "cwd %s in the sysroot: %s", c->cwd,
                        os_errno_name(rc));
        strcpy(p->cwd, canon);
    }
    const char *base = strrchr(p->exe_path, '/');
    snprintf(p->comm, sizeof p->comm, "%s", base ? base + 1 : p->exe_path);
    p->umask = 022;
    init_limits(p);
    sys_table_build(p);
    p->rng = c->random_seed;
    if (!c->deterministic) {
        uint64_t seed;
        if (getentropy(&seed, sizeof seed) == 0)
            p->rng ^= seed;
    }
    fdt_init(&p->fds);
    return bind_std_fds(p, err, errlen);
}

static int load(os_proc *p, const char *elf_path, os_proc_entry *entry,
                char *err, size_t errlen)
{
    int fd = open(elf_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return os_fail(err, errlen, host_errno(errno), "%s: %s", elf_path,
                    strerror(errno));
    os_file *f = os_file_from_fd(fd, p->exe_path);
    close(fd);
    if (f == NULL)
        return os_fail(err, errlen, -OS_EIO, "%s: cannot read", elf_path);
    static const char *const no_env[] = {NULL};
    os_exec_params ep = {
        p->cfg.argv, p->cfg.envp != NULL ? p->cfg.envp : no_env,
        NULL,        p->cfg.uid,
        p->cfg.gid,  p->cfg.hwcap,
        0,           0,
        NULL,        p->rng};
    int rc = os_elf_exec(&p->mm->as, &p->u, f, &ep, &entry->exec, err, errlen);
    os_file_put(f);
    if (rc != 0)
        return rc;
    entry->pc = entry->exec.pc;
    entry->sp = entry->exec.sp;
    entry->mmu = p->u.ctx->st; /* the loader's: os_aspace_user_state */
    return 0;
}

/* The process's paging state in st, keeping what describes the CPU
 * rather than the process (x86 MAXPHYADDR and 1 GiB pages, RISC-V
 * extensions). */
static void user_state_keeping_cpu(const os_aspace *as, mmu_state *st)
{
    mmu_state keep = *st;
    os_aspace_user_state(as, st);
    if (keep.arch != st->arch)
        return;
    if (st->arch == MMU_ARCH_X86) {
        if (keep.x86.maxphyaddr == 0)
            return; /* a context nobody initialised: the defaults */
        st->x86.maxphyaddr = keep.x86.maxphyaddr;
        st->x86.has_1g_pages = keep.x86.has_1g_pages;
    } else {
        st->rv.ext = keep.rv.ext;
    }
}

int os_proc_create(const os_proc_config *cfg, os_kernel *k,
                   mmu_ctx *uaccess_ctx, const char *elf_path, os_proc **out,
                   os_proc_entry *entry, char *err, size_t errlen)
{
    *out = NULL;
    memset(entry, 0, sizeof *entry);
    if (cfg->argv == NULL || cfg->argv[0] == NULL || elf_path == NULL)
        return os_fail(err, errlen, -OS_EINVAL,
                    "argv[0] and the ELF path are "
                    "required");
    if (!abi_matches(cfg->abi, k->arch))
        return os_fail(err, errlen, -OS_EINVAL,
                    "the ABI does not match the kernel's architecture");
    os_proc *p = calloc(1, sizeof *p);
    if (p == NULL)
        return os_fail(err, errlen, -OS_ENOMEM, "out of memory");
    p->cfg = *cfg;
    p->abi = cfg->abi;
    p->k = k;
    p->rootfd = -1;
    p->pid = OS_PROC_PID;
    p->ppid = OS_PROC_PPID;
    p->cur_nr = OS_NR_LOADER;
    p->pgid = OS_PROC_PID; /* a group of its own, in init's session */
    p->sid = OS_PROC_PPID;
    int rc = setup(p, elf_path, err, errlen);
    if (rc == 0) {
        rc = proc_mm_new(k, &p->mm);
        if (rc != 0)
            os_fail(err, errlen, rc, "address space: %s", os_errno_name(rc));
    }
    if (rc == 0) {
        p->mm->as.tag = proc_tag(p);
        if (uaccess_ctx != NULL)
            user_state_keeping_cpu(&p->mm->as, &uaccess_ctx->st);
        os_uaccess_init(&p->u, &p->mm->as, uaccess_ctx);
        proc_mm_hook_on(p->mm);
        proc_mm_own(p);
        rc = load(p, elf_path, entry, err, errlen);
    }
    if (rc != 0) {
        os_proc_destroy(p);
        return rc;
    }
    proc_register(p);
    *out = p;
    return 0;
}

void os_proc_destroy(os_proc *p)
{
    if (p == NULL)
        return;
    proc_unregister(p);
    proc_unlink(p);
    fdt_destroy(&p->fds);
    proc_mm_put(p->mm, p);
    p->mm = NULL;
    for (size_t i = 0; i < p->nsynced; i++) {
        os_file_sync(p->synced[i]);
        os_file_put(p->synced[i]);
    }
    free(p->synced);
    if (p->rootfd >= 0)
        close(p->rootfd);
    free(p->sysroot);
    free(p->exe_path);
    free(p->host_exe);
    free(p->bounce);
    free(p);
}

void os_proc_set_uaccess_ctx(os_proc *p, mmu_ctx *ctx)
{
    if (ctx != NULL) {
        p->u.ctx = ctx;
    } else {
        os_aspace_make_ctx(&p->mm->as, &p->own_ctx);
        p->u.ctx = &p->own_ctx;
    }
    proc_mm_own(p);
}

os_aspace *os_proc_aspace(os_proc *p)
{
    return &p->mm->as;
}

os_abi os_proc_abi(const os_proc *p)
{
    return p->abi;
}

uint64_t os_proc_tls(const os_proc *p, int which)
{
    return which == OS_TLS_GS ? p->tls[1] : p->tls[0];
}

const os_proc_stats *os_proc_get_stats(const os_proc *p)
{
    return &p->st;
}

/* ---- system calls -------------------------------------------------- */

static bool first_report(os_proc *p, uint64_t nr)
{
    if (nr < OS_SYSCALL_NR_MAX) {
        uint8_t bit = (uint8_t)(1u << (nr % 8));
        if (p->reported[nr / 8] & bit)
            return false;
        p->reported[nr / 8] |= bit;
        return true;
    }
    for (unsigned i = 0; i < p->nreported_big; i++)
        if (p->reported_big[i] == nr)
            return false;
    if (p->nreported_big < 8)
        p->reported_big[p->nreported_big++] = nr;
    return true; /* past 8 distinct huge numbers: every time */
}

static const char *abi_name(os_abi abi)
{
    switch (abi) {
    case OS_ABI_RISCV64:
        return "riscv64";
    case OS_ABI_X86_64:
        return "x86-64";
    }
    return "?";
}

int64_t os_syscall(os_proc *p, uint64_t nr, const uint64_t a[6], os_sysret *out)
{
    memset(out, 0, sizeof *out);
    if (p->exit.exited) {
        out->ret = -OS_ESRCH;
        out->flags = OS_SYSRET_EXITED;
        out->exit_status = p->exit.status;
        return out->ret;
    }
    p->st.syscalls++;
    p->cur_nr = nr;
    p->in_syscall = true;
    memset(&p->wait, 0, sizeof p->wait);
    if (nr < OS_SYSCALL_NR_MAX)
        p->st.by_nr[nr]++;
    p->pending = 0;
    proc_mm_own(p);
    const sys_entry *e = sys_lookup(p, nr);
    int64_t r;
    if (e == NULL || e->fn == sys_enosys) {
        r = -OS_ENOSYS;
        if (e == NULL) {
            p->st.unknown++;
            out->flags |= OS_SYSRET_UNKNOWN;
        }
        if ((e == NULL || !e->quiet_enosys) && first_report(p, nr))
            proc_report(p,
                        "%s system call %llu%s%s%s not "
                        "implemented: -ENOSYS",
                        abi_name(p->abi), (unsigned long long)nr, e ? " (" : "",
                        e ? e->name : "", e ? ")" : "");
    } else {
        r = e->fn(p, a, out);
    }
    if (r == -OS_EFAULT)
        p->st.efault++;
    p->in_syscall = false;
    if (p->exit.exited)
        fdt_destroy(&p->fds);
    if (p->exit.exited && !(out->flags & OS_SYSRET_EXITED)) {
        out->flags |= OS_SYSRET_EXITED; /* killed by a signal it sent */
        out->exit_status = p->exit.status;
    }
    if (os_proc_signal_pending(p))
        out->flags |= OS_SYSRET_SIGNAL;
    out->flags |= p->pending;
    out->ret = r;
    return r;
}

/* ---- faults -------------------------------------------------------- */

os_fault_result os_proc_handle_fault(os_proc *p, uint64_t va, mmu_access access,
                                     bool user, const mmu_fault *hw,
                                     os_fault_outcome *out)
{
    os_fault_req rq = {va, access, user, hw};
    proc_mm_own(p);
    os_fault_handle(&p->mm->as, &rq, out);
    switch (out->result) {
    case OS_FAULT_HANDLED:
    case OS_FAULT_SIGNAL:
        break;
    case OS_FAULT_OOM:
    case OS_FAULT_FATAL:
        os_proc_kill(p, OS_SIGKILL);
        break;
    }
    return out->result;
}

int host_errno(int e)
{
    switch (e) {
    case EPERM:
        return -OS_EPERM;
    case ENOENT:
        return -OS_ENOENT;
    case ESRCH:
        return -OS_ESRCH;
    case EINTR:
        return -OS_EINTR;
    case ENXIO:
        return -OS_ENXIO;
    case E2BIG:
        return -OS_E2BIG;
    case ENOEXEC:
        return -OS_ENOEXEC;
    case EBADF:
        return -OS_EBADF;
    case ECHILD:
        return -OS_ECHILD;
    case EAGAIN:
        return -OS_EAGAIN;
    case ENOMEM:
        return -OS_ENOMEM;
    case EACCES:
        return -OS_EACCES;
    case EFAULT:
        return -OS_EFAULT;
    case EBUSY:
        return -OS_EBUSY;
    case EEXIST:
        return -OS_EEXIST;
    case EXDEV:
        return -OS_EXDEV;
    case ENODEV:
        return -OS_ENODEV;
    case ENOTDIR:
        return -OS_ENOTDIR;
    case EISDIR:
        return -OS_EISDIR;
    case EINVAL:
        return -OS_EINVAL;
    case ENFILE:
        return -OS_ENFILE;
    case EMFILE:
        return -OS_EMFILE;
    case ENOTTY:
        return -OS_ENOTTY;
    case EFBIG:
        return -OS_EFBIG;
    case ENOSPC:
        return -OS_ENOSPC;
    case ESPIPE:
        return -OS_ESPIPE;
    case EROFS:
        return -OS_EROFS;
    case EMLINK:
        return -OS_EMLINK;
    case EPIPE:
        return -OS_EPIPE;
    case ERANGE:
        return -OS_ERANGE;
    case ENAMETOOLONG:
        return -OS_ENAMETOOLONG;
    case ENOSYS:
        return -OS_ENOSYS;
    case ENOTEMPTY:
        return -OS_ENOTEMPTY;
    case ELOOP:
        return -OS_ELOOP;
    case EOVERFLOW:
        return -OS_EOVERFLOW;
    case EOPNOTSUPP:
        return -OS_EOPNOTSUPP;
    case ETIMEDOUT:
        return -OS_ETIMEDOUT;
    default:
        return -OS_EIO;
    }
}
