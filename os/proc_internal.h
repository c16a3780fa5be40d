/*
 * proc_internal.h - what the process and system-call files share
 * (proc.c, sys_*.c, fdtable.c, sysroot.c): the process structure, open
 * file descriptions and the fd table, path resolution in the sysroot,
 * Linux constants the syscalls need, and one declaration per system call.
 */
#ifndef MMUEMU_PROC_INTERNAL_H
#define MMUEMU_PROC_INTERNAL_H

#include "os_internal.h"

#include "mmuemu/linux.h"

/* ---- Linux constants (the same on x86-64 and riscv64) --------------- */

#define OS_ESRCH      3
#define OS_EINTR      4
#define OS_EBADF      9
#define OS_ECHILD     10
#define OS_EAGAIN     11
#define OS_EBUSY      16
#define OS_EXDEV      18
#define OS_ENODEV     19
#define OS_ENOTDIR    20
#define OS_EISDIR     21
#define OS_ENFILE     23
#define OS_EMFILE     24
#define OS_ENOTTY     25
#define OS_EFBIG      27
#define OS_ENOSPC     28
#define OS_ESPIPE     29
#define OS_EROFS      30
#define OS_EMLINK     31
#define OS_EPIPE      32
#define OS_ERANGE     34
#define OS_ENOSYS     38
#define OS_ENOTEMPTY  39
#define OS_ELOOP      40
#define OS_EOPNOTSUPP 95
#define OS_ETIMEDOUT  110

/* open(2) flags (asm-generic/fcntl.h; x86-64 uses the generic values). */
#define L_O_ACCMODE   03
#define L_O_RDONLY    00
#define L_O_WRONLY    01
#define L_O_RDWR      02
#define L_O_CREAT     0100
#define L_O_EXCL      0200
#define L_O_NOCTTY    0400
#define L_O_TRUNC     01000
#define L_O_APPEND    02000
#define L_O_NONBLOCK  04000
#define L_O_DSYNC     010000
#define L_O_DIRECT    040000
#define L_O_LARGEFILE 0100000
#define L_O_DIRECTORY 0200000
#define L_O_NOFOLLOW  0400000
#define L_O_NOATIME   01000000
#define L_O_CLOEXEC   02000000
#define L_O_PATH      010000000
#define L_O_TMPFILE   (020000000 | L_O_DIRECTORY)

#define L_AT_FDCWD            (-100)
#define L_AT_SYMLINK_NOFOLLOW 0x100
#define L_AT_REMOVEDIR        0x200
#define L_AT_EACCESS          0x200
#define L_AT_SYMLINK_FOLLOW   0x400
#define L_AT_NO_AUTOMOUNT     0x800
#define L_AT_EMPTY_PATH       0x1000
#define L_AT_STATX_SYNC_TYPE  0x6000

#define L_PATH_MAX     4096
#define L_NAME_MAX     255
#define L_MAXSYMLINKS  40
#define L_MAX_RW_COUNT (UINT64_C(0x7ffff000)) /* INT_MAX & PAGE_MASK */
#define L_UIO_MAXIOV   1024
#define L_PIPE_BUF     4096
#define L_NSIG         64

#define OS_PROC_PID     100 /* pid = tgid = tid */
#define OS_PROC_PPID    1
#define OS_FD_HARD_MAX  4096  /* RLIMIT_NOFILE hard limit */
#define OS_BOUNCE_SIZE  65536 /* host buffer of one copy step */
#define OS_RLIM_NLIMITS 16

/* ---- open file descriptions and the fd table (fdtable.c) ---------- */

typedef enum ofd_kind {
    OFD_HOST, /* a host fd (file, directory, pipe, tty, device) */
    OFD_MEM,  /* a snapshot in memory (/proc/self/maps) */
} ofd_kind;

/* struct file: shared by dup'ed fds (offset, status flags). */
typedef struct ofd {
    unsigned refs;
    ofd_kind kind;
    int host;       /* OFD_HOST: owned host fd */
    uint32_t flags; /* Linux O_ACCMODE | O_APPEND | O_NONBLOCK |
                       O_PATH */
    bool is_dir, is_reg, is_zero;
    char *path;   /* canonical guest path, or NULL */
    void *dir;    /* DIR* for getdents64, made on first use */
    os_file *map; /* the page cache mmap uses, made on first use */
    char *mem;    /* OFD_MEM */
    size_t memlen;
    uint64_t memoff;
} ofd;

/* A new description with one reference (takes host, path copied). */
ofd *ofd_new(ofd_kind kind, int host, uint32_t flags, const char *path);
ofd *ofd_get(ofd *o);
void ofd_put(ofd *o);

typedef struct fd_slot {
    ofd *o;
    bool cloexec;
} fd_slot;

typedef struct fdtable {
    fd_slot *slot;
    int cap; /* slots allocated */
} fdtable;

void fdt_init(fdtable *t);
void fdt_destroy(fdtable *t);
/* The description behind fd, or NULL (-EBADF for the caller). */
ofd *fdt_get(const fdtable *t, int fd);
/* Install o (a reference is taken) at the lowest free fd >= min below
 * limit. @return the fd or -EMFILE/-EINVAL. */
int fdt_install(fdtable *t, ofd *o, int min, int limit, bool cloexec);
/* Install o at fd (closing what is there). @return fd or -EBADF. */
int fdt_install_at(fdtable *t, int fd, ofd *o, int limit, bool cloexec);
int fdt_close(fdtable *t, int fd);
bool *fdt_cloexec(fdtable *t, int fd);

/* ---- the address space, shared by pointer (proc_mm.c) --------------- */

/* Linux's mm_struct: one reference per process using the space. */
typedef struct proc_mm {
    os_aspace as;
    unsigned users;
    os_proc *owner;    /* whose call or fault runs on it (the PTE hook's) */
    mmu_ctx *ctx;      /* the model TLB kept coherent: the owner's */
    os_pte_hook hook;  /* the owner's config pte_hook */
    void *hook_arg;
    uint64_t sigpage; /* RISC-V rt_sigreturn trampoline (0: none yet) */
} proc_mm;

/* A new empty space with one user (no PTE hook yet). @return 0 and *out,
 * or a negative errno. */
int proc_mm_new(os_kernel *k, proc_mm **out);
/* From now on the space's PTE changes reach its owner (see proc_mm.c). */
void proc_mm_hook_on(proc_mm *mm);
proc_mm *proc_mm_get(proc_mm *mm);
/* p lets go of mm (NULL: nothing); the last user destroys it. */
void proc_mm_put(proc_mm *mm, const os_proc *p);
/* p's call or fault is about to run on its space: p owns the hook. */
void proc_mm_own(os_proc *p);

/* ---- the process ---------------------------------------------------- */

typedef struct os_rlimit {
    uint64_t cur, max;
} os_rlimit;

struct os_proc {
    os_proc_config cfg; /* strings below are owned copies */
    char *sysroot, *exe_path, *host_exe;
    os_abi abi;
    os_kernel *k;
    proc_mm *mm; /* NULL until created; shared with a vfork child */
    os_uaccess u;
    mmu_ctx own_ctx;
    fdtable fds;
    int rootfd;           /* host directory fd of the sysroot */
    char cwd[L_PATH_MAX]; /* canonical guest path */
    uint32_t umask;
    char comm[16];
    os_sigaction sig[L_NSIG];
    uint64_t sigmask;
    uint64_t ss_sp, ss_size;
    uint32_t ss_flags;
    uint64_t tid_address, robust_head, robust_len;
    uint64_t tls[2];
    os_rlimit rlim[OS_RLIM_NLIMITS];
    os_proc_exit exit;
    os_proc_stats st;
    uint16_t sysidx[OS_SYSCALL_NR_MAX]; /* nr -> table index + 1 */
    uint8_t reported[OS_SYSCALL_NR_MAX / 8];
    uint64_t reported_big[8];
    unsigned nreported_big;
    uint32_t pending; /* OS_SYSRET_* collected during a call */
    uint64_t rng;     /* deterministic random state */
    uint64_t fake_ns; /* deterministic clock */
    uint8_t *bounce;  /* OS_BOUNCE_SIZE bytes */
    os_file **synced; /* shared writable file mappings */
    size_t nsynced, capsynced;
    /* poll/ppoll that reported BLOCKED (sys_poll.c): the runner's
     * re-issue of the same call keeps its deadline */
    struct {
        bool active;
        uint64_t key[6];         /* nr, the arguments, the timeout */
        uint64_t seq;            /* st.syscalls when it blocked */
        int64_t start, deadline; /* host CLOCK_MONOTONIC ns */
    } pollw;
    /* processes (proc_fork.c) */
    int pid, ppid;
    os_proc *parent;     /* NULL: the first process, or an orphan */
    os_proc *children;   /* forked, not yet reaped (zombies included) */
    os_proc *sibling;    /* next in the parent's children */
    bool reaped;         /* wait4 collected it: the runner destroys it */
    bool may_block;      /* a read that would block reports BLOCKED */
    bool clone_reported; /* unsupported clone flags: reported once */
    /* signals (proc_signal.c) */
    uint64_t sigpending;          /* sent, not yet delivered */
    os_siginfo siginfo[L_NSIG];   /* what each pending one carries */
    uint64_t saved_mask;          /* rt_sigsuspend: the mask to restore */
    bool has_saved_mask;
    bool in_sigsuspend;           /* re-issued while blocked: mask kept */
    int pgid, sid;                /* process group and session */
    uint64_t cur_nr;              /* the system call running */
    bool in_syscall;              /* os_syscall is running a call */
    uint64_t sleep_deadline;      /* a blocked nanosleep's end (host ns) */
    os_wait wait;                 /* what the last blocked call waits for */
    os_proc *next_proc;           /* the kernel's list of processes */
};

typedef int64_t (*sys_fn)(os_proc *p, const uint64_t *a, os_sysret *out);

/* Report one line (the config's callback, else stderr). */
void proc_report(os_proc *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The process ends with status (exit code or 128 + signo). */
void proc_exit(os_proc *p, int status, int signo, os_sysret *out);
/* Raise signo at the process itself (SIGPIPE on a write, kill of
 * itself): proc_send from itself; EXITED in out if it died of it. */
void proc_raise(os_proc *p, int signo, os_sysret *out);
/* Send sig to t (proc_signal.c: dropped, pending, or fatal at once).
 * @return 0 or -EINVAL. */
int proc_send(os_proc *t, int sig, const os_siginfo *info);
/* SIGKILL and SIGSTOP: no mask holds them. */
#define L_SIG_UNBLOCKABLE ((UINT64_C(1) << 8) | (UINT64_C(1) << 18))
/* rt_sigsuspend / ppoll: wait with set as the mask; the mask in force is
 * kept for the signal frame (once per wait: a re-issue keeps it). */
void proc_wait_with_mask(os_proc *p, uint64_t set);
/* child ended: SIGCHLD to its parent, or reaped at once. */
void proc_notify_parent(os_proc *child);
bool proc_sig_default_ignored(int sig);
/* Every process of the kernel, zombies included (not reaped ones). */
void proc_register(os_proc *p);
void proc_unregister(os_proc *p);
os_proc *proc_find(os_kernel *k, int pid);
/* Would a read of o block (a pipe, FIFO, tty or socket with nothing to
 * read) while the runner has another process to run (p->may_block)? */
bool proc_read_would_block(os_proc *p, ofd *o);
/* The blocked call waits for host fd to become ready for events. */
void proc_wait_fd(os_proc *p, int fd, short events);
/* The blocked call waits until host CLOCK_MONOTONIC time ns. */
void proc_wait_until(os_proc *p, uint64_t ns);
/* Should a write to o be done without blocking the host (a pipe or FIFO
 * in blocking mode while the runner has another process to run, which
 * may be its reader)? Then a write that cannot start reports BLOCKED. */
bool proc_write_may_block(os_proc *p, ofd *o);
/* The tag p's address spaces carry: on RISC-V an ASID per process (from
 * its pid; 0 for the first), on x86 0 (no PCID). */
uint32_t proc_tag(const os_proc *p);
/* Take p out of the process tree (its children become orphans). */
void proc_unlink(os_proc *p);
/* Remember a file mapped shared and writable (synced at exit). */
void proc_track_shared(os_proc *p, os_file *f);

/* uaccess shorthands: 0 or -EFAULT. */
int put_user_u64(os_proc *p, uint64_t va, uint64_t v);
int put_user_u32(os_proc *p, uint64_t va, uint32_t v);
int get_user_u64(os_proc *p, uint64_t va, uint64_t *v);
int get_user_u32(os_proc *p, uint64_t va, uint32_t *v);
/* A path from the guest: 0, -EFAULT, -ENAMETOOLONG (buf: L_PATH_MAX). */
int get_user_path(os_proc *p, uint64_t va, char *buf);
/* Little-endian field stores into a guest struct image. */
void st_u16(uint8_t *b, size_t off, uint64_t v);
void st_u32(uint8_t *b, size_t off, uint64_t v);
void st_u64(uint8_t *b, size_t off, uint64_t v);
uint64_t ld_u64(const uint8_t *b, size_t off);
uint32_t ld_u32(const uint8_t *b, size_t off);

/* An int argument as the kernel sees it (the low 32 bits, signed). */
static inline int arg_int(uint64_t v)
{
    return (int)(int32_t)(uint32_t)v;
}

/* A negative Linux errno for host errno e. */
int host_errno(int e);

/* ---- the sysroot (sysroot.c) ---------------------------------------- */

/* Paths the model serves itself. */
typedef enum vpath {
    VP_NONE = 0, /* an ordinary path: resolve in the sysroot */
    VP_ENOENT,   /* under /proc but not served */
    VP_PROC_DIR, /* /proc, /proc/self */
    VP_MAPS,     /* /proc/self/maps */
    VP_EXE,      /* /proc/self/exe */
    VP_DEV,      /* /dev/null, zero, full, random, urandom */
    VP_STDFD,    /* /dev/stdin, /dev/stdout, /dev/stderr */
} vpath;

/*
 * The guest path of (dirfd, path) made absolute and lexically normalised
 * ("." and ".." folded; ".." above the root: -EACCES). *vp: whether it is
 * a path the model serves itself (*arg: the device path or std fd).
 */
int sysroot_lexical(os_proc *p, int dirfd, const char *path, char *abs,
                    vpath *vp, int *arg);
/*
 * Resolve (dirfd, path) inside the sysroot component by component:
 * symlinks followed (absolute targets from the sysroot's root; the last
 * component only if follow), ".." never above the root (-EACCES).
 * canon: the canonical guest path ("/" for the root). @return 0, or
 * -ENOENT with *missing_last set when only the last component is missing
 * (canon then names it), or another negative errno.
 */
int sysroot_resolve(os_proc *p, int dirfd, const char *path, bool follow,
                    char *canon, bool *missing_last);
/* The host path relative to the sysroot fd for canon. */
const char *sysroot_rel(const char *canon);
/* The base directory of dirfd for relative paths: 0 and *dir, -EBADF,
 * -ENOTDIR. */
int sysroot_dirfd_path(os_proc *p, int dirfd, const char **dir);

/* ---- execve's strings (proc_exec_args.c) ---------------------------- */

/* A list of owned strings, NULL-terminated once it holds one. */
typedef struct exec_strv {
    char **s;
    size_t n, cap;
} exec_strv;

typedef struct exec_args {
    exec_strv argv, envp;
    uint64_t room; /* bytes the strings may still take (NULs included) */
} exec_args;

/*
 * Copy argv and envp from the caller's memory as Linux does (see
 * proc_exec_args.c), filename counting as the first string. @return 0,
 * -EFAULT, -E2BIG or -ENOMEM (nothing to free then).
 */
int exec_args_copy(os_proc *p, exec_args *x, const char *filename,
                   uint64_t uargv, uint64_t uenvp);
void exec_args_free(exec_args *x);
void exec_strv_free(exec_strv *v);
/* A string the kernel adds (copy_string_kernel): -E2BIG past the room. */
int exec_args_add(exec_args *x, exec_strv *v, const char *s);
/* binfmt_script's edits: argv[0] goes; s goes in front. */
void exec_args_drop_first(exec_args *x);
int exec_args_prepend(exec_args *x, const char *s);

/* ---- stat images (sys_stat.c) --------------------------------------- */

struct stat;
/* The ABI's struct stat (x86-64 144 bytes, asm-generic 128). */
size_t stat_image(const os_proc *p, const struct stat *st, uint8_t *buf);

/* ---- the system-call table (sys_table.c) ---------------------------- */

typedef struct sys_entry {
    const char *name;
    int32_t nr_rv, nr_x86; /* -1: not on that ABI */
    sys_fn fn;
    bool quiet_enosys; /* -ENOSYS by design, not reported */
} sys_entry;

/* Fill p->sysidx for p's ABI. */
void sys_table_build(os_proc *p);
const sys_entry *sys_lookup(const os_proc *p, uint64_t nr);

/* ---- one function per system call ----------------------------------- */

#define SYS(name)                                                              \
    int64_t sys_##name(os_proc *p, const uint64_t *a, os_sysret *out)
/* memory (sys_mm.c) */
SYS(brk);
SYS(mmap);
SYS(munmap);
SYS(mprotect);
SYS(mremap);
SYS(madvise);
SYS(msync);
/* I/O on fds (sys_io.c) */
SYS(read);
SYS(write);
SYS(readv);
SYS(writev);
SYS(pread64);
SYS(pwrite64);
SYS(lseek);
SYS(close);
SYS(sendfile);
SYS(ioctl);
SYS(dup);
SYS(dup2);
SYS(dup3);
SYS(fcntl);
SYS(pipe);
SYS(pipe2);
SYS(fsync);
SYS(ftruncate);
/* poll (sys_poll.c) */
SYS(poll);
SYS(ppoll);
/* paths (sys_path.c) */
SYS(openat);
SYS(open);
SYS(getdents64);
SYS(readlinkat);
SYS(readlink);
SYS(getcwd);
SYS(chdir);
SYS(fchdir);
SYS(faccessat);
SYS(faccessat2);
SYS(access);
SYS(mkdirat);
SYS(mkdir);
SYS(unlinkat);
SYS(unlink);
SYS(rmdir);
/* file times (sys_time_attr.c) */
SYS(utimensat);
SYS(futimesat);
SYS(utimes);
SYS(utime);
/* stat (sys_stat.c) */
SYS(fstat);
SYS(newfstatat);
SYS(stat);
SYS(lstat);
SYS(statx);
/* process, time, identity (sys_misc.c) */
SYS(exit);
SYS(exit_group);
SYS(uname);
SYS(getrandom);
SYS(clock_gettime);
SYS(clock_getres);
SYS(gettimeofday);
SYS(time);
SYS(nanosleep);
SYS(clock_nanosleep);
SYS(set_tid_address);
SYS(set_robust_list);
SYS(enosys);
SYS(prlimit64);
SYS(getrlimit);
SYS(setrlimit);
SYS(getpid);
SYS(getppid);
SYS(gettid);
SYS(getuid);
SYS(geteuid);
SYS(getgid);
SYS(getegid);
SYS(getpgid);
SYS(setpgid);
SYS(getpgrp);
SYS(getsid);
SYS(setsid);
SYS(arch_prctl);
SYS(sysinfo);
SYS(prctl);
SYS(umask);
SYS(futex);
SYS(sched_yield);
SYS(sched_getaffinity);
SYS(getcpu);
SYS(getgroups);
SYS(setuid);
SYS(setgid);
SYS(getresuid);
SYS(getresgid);
SYS(wait4);
SYS(waitid);
SYS(clone);
SYS(fork);
SYS(vfork);
/* execve (proc_exec.c) */
SYS(execve);
SYS(execveat);
SYS(getrusage);
SYS(times);
SYS(fadvise64);
/* signals (sys_signal.c) */
SYS(rt_sigaction);
SYS(rt_sigprocmask);
SYS(sigaltstack);
SYS(kill);
SYS(tkill);
SYS(tgkill);
SYS(rt_sigpending);
SYS(rt_sigsuspend);
SYS(pause);
#undef SYS

#endif
