/*
 * linux.h - a Linux process on the hosted OS model: the system-call layer
 * between a vCPU (the runner: Unicorn + cpu_glue) and os.h.
 *
 * A process (os_proc) owns an address space (os_aspace), an fd table whose
 * entries are host fds, a current directory inside a sysroot (a host
 * directory every guest path is confined to), brk, recorded signal
 * actions and mask, the clear_child_tid address, rlimits and its exit
 * state. os_syscall() runs one system call with the guest's number and
 * six arguments, as Linux 6.1 does for x86-64 (arch/x86/entry/syscalls/
 * syscall_64.tbl) and riscv64 (include/uapi/asm-generic/unistd.h); every
 * guest pointer goes through os_uaccess on the process's mmu_ctx, so a
 * bad pointer is -EFAULT, never a host fault.
 *
 * Register convention (the runner's side):
 *   x86-64:  nr = rax; args rdi rsi rdx r10 r8 r9; result -> rax
 *            (syscall also clobbers rcx = rip of the next insn, r11 = rflags)
 *   riscv64: nr = a7;  args a0..a5;                result -> a0
 *
 * Processes: fork and vfork (clone with their flags), execve/execveat
 * (static ELFs and #! scripts), wait4/waitid, getppid (section 6); the
 * runner switches between them on one vCPU.
 * Not modelled: threads (clone with CLONE_VM without CLONE_VFORK),
 * dynamically linked programs (exec says ENOEXEC), SIGCHLD
 * delivery, signals between processes, signal
 * delivery (actions are recorded and readable; sending and frames are the
 * runner's business), sockets, ptys, file locks, inotify/epoll, the vDSO.
 * Paths: a symlink with an absolute target is resolved from the sysroot's
 * root (chroot semantics); `..` above the sysroot root is refused with
 * -EACCES, so no guest path reaches a host file outside the sysroot.
 */
#ifndef MMUEMU_LINUX_H
#define MMUEMU_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmuemu/os.h"

/* ==== 1. Configuration =============================================== */

typedef enum os_abi {
    OS_ABI_RISCV64, /* asm-generic numbering, generic struct stat */
    OS_ABI_X86_64,  /* syscall_64.tbl numbering, x86-64 struct stat */
} os_abi;

/* arch_prctl codes (x86-64): which TLS base set_tls/get_tls handle. */
#define OS_ARCH_SET_GS 0x1001
#define OS_ARCH_SET_FS 0x1002
#define OS_ARCH_GET_FS 0x1003
#define OS_ARCH_GET_GS 0x1004
#define OS_TLS_FS      0
#define OS_TLS_GS      1

/* What only the runner can do to the vCPU. Callbacks may be NULL. */
typedef struct os_arch_ops {
    void *arg;
    /* x86-64 arch_prctl(ARCH_SET_FS/GS): write the FS or GS base
     * (which: OS_TLS_FS/GS). @return 0 or a negative errno. NULL: the
     * base is only recorded in the process (os_proc_tls). */
    int (*set_tls)(void *arg, int which, uint64_t base);
    /* ARCH_GET_FS/GS. NULL: the recorded value. */
    int (*get_tls)(void *arg, int which, uint64_t *base);
} os_arch_ops;

/* One line of text for the user (unknown syscalls, a futex deadlock),
 * without a "mmuemu: " prefix or a trailing newline. NULL in the config:
 * stderr, prefixed "mmuemu: ". */
typedef void (*os_report_fn)(void *arg, const char *msg);

#define OS_NR_LOADER UINT64_MAX

typedef struct os_proc_config {
    os_abi abi;
    const char *sysroot;        /* host directory; NULL: "." */
    bool sysroot_writable;      /* else O_WRONLY/O_RDWR/O_CREAT/O_TRUNC
                                   opens and other writes are -EROFS */
    const char *cwd;            /* guest path of the initial cwd; NULL: "/" */
    const char *const *argv;    /* NULL-terminated; argv[0] required */
    const char *const *envp;    /* NULL-terminated; NULL: empty */
    const char *exe_guest_path; /* what /proc/self/exe reads and the name
                                   of the executable's lines in /proc/self/
                                   maps; NULL: elf_path made absolute */
    int stdin_fd, stdout_fd, stderr_fd; /* host fds for guest 0/1/2
                                  (duplicated; -1: closed in the guest) */
    uint32_t uid, gid;    /* every uid/euid (gid/egid) the guest sees */
    uint64_t hwcap;       /* AT_HWCAP; 0: the loader's default */
    uint64_t random_seed; /* AT_RANDOM bytes and getrandom() when
                             deterministic; see below */
    bool deterministic;   /* getrandom from random_seed, clocks from
                             a fixed epoch advancing per call */
    os_arch_ops arch;
    /* Called after every user-PTE change of the address space (after
     * the process has applied os_tlb_sync to the uaccess ctx's model
     * TLB, if it has one): the runner flushes Unicorn's TLB here for
     * OS_PTE_CHANGED / OS_PTE_REMOVED. May be NULL. */
    os_pte_hook pte_hook;
    void *pte_hook_arg;
    os_report_fn report;
    void *report_arg;
    /* Called for every page fault the kernel side takes on a user
     * address while running a system call of p (copy_to_user and
     * friends: rq->user is false); nr is that call (OS_NR_LOADER: the ELF
     * loader of os_proc_create). May be NULL. */
    void (*kfault_trace)(void *arg, const struct os_proc *p, uint64_t nr,
                         const os_fault_req *rq, const os_fault_outcome *out);
    void *kfault_trace_arg;
} os_proc_config;

/* Defaults: RISCV64, sysroot ".", read-only, cwd "/", host fds 0/1/2 for
 * guest 0/1/2, uid and gid 0, everything else zero or NULL. argv must
 * still be set. */
void os_proc_config_default(os_proc_config *cfg);

/* ==== 2. Processes =================================================== */

typedef struct os_proc os_proc;

/* The state the runner starts the vCPU in. */
typedef struct os_proc_entry {
    uint64_t pc, sp;     /* x86 rdx = 0, RISC-V a0 = 0; other GPRs 0 */
    mmu_state mmu;       /* paging state that runs the process
                            (os_aspace_user_state): x86 CR0/CR3/CR4/
                            EFER, RISC-V satp (+ priv U) */
    os_exec_result exec; /* the loader's details (AT_* addresses) */
} os_proc_entry;

/*
 * Create a process on kernel k: a new address space, the fd table, then
 * exec of the static (or static-pie) ELF at host path elf_path (opened as
 * given, not through the sysroot: the runner chose it) with os_elf_exec.
 * uaccess_ctx: the mmu_ctx every copy to/from user memory translates on
 * (the vCPU's, so its model TLB is the one the guest uses); its state is
 * set to the process's (entry->mmu) before loading, keeping what describes
 * the CPU (x86 MAXPHYADDR and 1 GiB pages, RISC-V extensions). NULL: a
 * private ctx without TLB. The process's ABI must match k's architecture.
 * The process keeps that ctx's model TLB coherent itself (os_tlb_sync on
 * every PTE change, Linux's policy), then calls cfg->pte_hook.
 * @return 0 and *out, or a negative errno with a message in err.
 */
int os_proc_create(const os_proc_config *cfg, os_kernel *k,
                   mmu_ctx *uaccess_ctx, const char *elf_path, os_proc **out,
                   os_proc_entry *entry, char *err, size_t errlen);
/* Close every fd, destroy the address space, free the process. */
void os_proc_destroy(os_proc *p);

/* Switch the ctx copies go through (its state must run this process). */
void os_proc_set_uaccess_ctx(os_proc *p, mmu_ctx *ctx);
os_aspace *os_proc_aspace(os_proc *p);
os_abi os_proc_abi(const os_proc *p);

/* ==== 3. System calls ================================================ */

/* exit/exit_group ran: stop the vCPU. */
#define OS_SYSRET_EXITED (1u << 0)
/* A user PTE lost rights or went away (munmap, mprotect, mremap,
 * madvise): flush Unicorn's TLB (also told through pte_hook). */
#define OS_SYSRET_TLB_FLUSH (1u << 1)
/* VMAs changed (mmap, brk, ...). */
#define OS_SYSRET_MM_CHANGED (1u << 2)
/* arch_prctl changed the FS/GS base. */
#define OS_SYSRET_TLS (1u << 3)
/* Not implemented: -ENOSYS. */
#define OS_SYSRET_UNKNOWN (1u << 4)
/* A signal is deliverable now (sent to the caller by itself, or one
 * pending was unblocked): the runner takes it with os_proc_next_signal
 * once the call has returned. */
#define OS_SYSRET_SIGNAL (1u << 5)
/* clone/fork made a process (child): the runner gives it a copy of the
 * caller's registers with the result 0 and runs it (see os_proc_fork). */
#define OS_SYSRET_FORK (1u << 6)
/* The call would block (wait4 for a live child, a read of an empty pipe
 * while another process may fill it): nothing was done and no result is
 * set; the runner runs another process and re-issues the call later. */
#define OS_SYSRET_BLOCKED (1u << 7)
/* execve replaced the program (and the address space: os_proc_aspace
 * gives the new one): the runner loads the new root into CR3 / satp
 * and starts entry_pc with sp = entry_sp and every other register
 * cleared, as start_thread() does (x86 FS/GS base 0); no result is set. */
#define OS_SYSRET_EXEC (1u << 8)
/* With FORK: clone(CLONE_VM | CLONE_VFORK) made a child sharing the
 * caller's address space; the caller does not run again until the child
 * execs or exits. child_sp: the child's sp (0: the caller's). */
#define OS_SYSRET_VFORK (1u << 9)

typedef struct os_sysret {
    int64_t ret;     /* for rax / a0: value or -errno */
    uint32_t flags;  /* OS_SYSRET_* */
    int exit_status; /* EXITED: the status (0..255, or 128 +
                        signo when a signal killed it) */
    os_proc *child;  /* FORK: the new process (the runner's to run) */
    uint64_t child_sp;           /* VFORK */
    uint64_t entry_pc, entry_sp; /* EXEC */
} os_sysret;

/*
 * Run system call nr with arguments a[0..5] (as the registers hold them;
 * unused ones are ignored). @return out->ret. After EXITED the runner
 * stops the vCPU; further calls return -ESRCH with EXITED set again.
 */
int64_t os_syscall(os_proc *p, uint64_t nr, const uint64_t a[6],
                   os_sysret *out);

/* Linux name of nr for p's ABI ("openat"), or NULL if unknown. */
const char *os_syscall_name(os_abi abi, uint64_t nr);

/* ==== 4. Faults and signals ========================================== */

/*
 * A page fault of the running guest (a model fault the glue reports):
 * os_fault_handle on the process's space. result HANDLED: retry; SIGNAL:
 * signo/si_code/si_addr to deliver (or, with no handler recorded for it,
 * the process dies: the runner calls os_proc_kill); OOM (the OOM killer)
 * and FATAL: the process is already marked killed by SIGKILL here.
 * @return out->result.
 */
os_fault_result os_proc_handle_fault(os_proc *p, uint64_t va, mmu_access access,
                                     bool user, const mmu_fault *hw,
                                     os_fault_outcome *out);

/* A recorded rt_sigaction (the kernel's struct k_sigaction). */
typedef struct os_sigaction {
    uint64_t handler;  /* 0 SIG_DFL, 1 SIG_IGN, else the address */
    uint64_t flags;    /* SA_* */
    uint64_t restorer; /* x86 SA_RESTORER */
    uint64_t mask;
} os_sigaction;

/* signo 1..64. @return false for an invalid signo. */
bool os_proc_sigaction(const os_proc *p, int signo, os_sigaction *out);
uint64_t os_proc_sigmask(const os_proc *p);

/* What a signal sent by a process (kill) or the kernel (SIGCHLD, SIGPIPE)
 * carries into the handler's siginfo. */
#define OS_SI_USER  0
#define OS_SI_TKILL (-6)
typedef struct os_siginfo {
    int signo, code; /* si_code: SI_USER, SI_TKILL, CLD_EXITED/KILLED */
    int pid;         /* si_pid: the sender, or the child (SIGCHLD) */
    uint32_t uid;    /* si_uid */
    int status;      /* SIGCHLD si_status: exit code or signal */
} os_siginfo;

/*
 * Signals between processes (see proc_signal.c for Linux's rules kept).
 * A signal sent to a process is dropped if ignored and unblocked, kills
 * it at once if its default action terminates (os_proc_exit_state then
 * says so: the runner stops running it), or stays pending until the
 * process next returns to user mode, where the runner takes it with
 * os_proc_next_signal and delivers it to the handler.
 */
/* Is a pending signal deliverable now (not blocked)? */
bool os_proc_signal_pending(const os_proc *p);
/* Take the lowest deliverable signal: ignored ones are dropped, one with
 * the default action terminates p (@return 0; p has exited). @return the
 * signal whose handler is to run (*info: what it carries), or 0. */
int os_proc_next_signal(os_proc *p, os_siginfo *info);
uint64_t os_proc_pending_signals(const os_proc *p);
/* The mask a signal frame saves: the one rt_sigsuspend replaced while it
 * waited (then forgotten), else the current mask. */
uint64_t os_proc_take_saved_mask(os_proc *p);
/* rt_sigsuspend returned without a handler to run: its mask goes back. */
void os_proc_restore_saved_mask(os_proc *p);
/* The RISC-V rt_sigreturn trampoline page of p's address space (0:
 * none yet; the runner maps it at the first delivery). */
uint64_t os_proc_sigpage(const os_proc *p);
void os_proc_set_sigpage(os_proc *p, uint64_t va);
/* Is p blocked in rt_sigsuspend / pause (a handler ends the wait with
 * -EINTR, never a restart)? Is its call restartable after a handler
 * with SA_RESTART? */
bool os_proc_call_restartable(const os_proc *p, uint64_t nr);
/* A signal ended p's blocked call (it will not be re-issued, or will be
 * re-issued from scratch after the handler): forget its wait state. */
void os_proc_call_interrupted(os_proc *p);
/* The process terminates by signo (exit status 128 + signo, as a shell
 * reports it; os_proc_exit_state says which). */
void os_proc_kill(os_proc *p, int signo);

/* ==== 5. State and statistics ======================================== */

typedef struct os_proc_exit {
    bool exited;
    int status; /* exit code, or 128 + signal */
    int signo;  /* killed by; 0: exited normally */
} os_proc_exit;

void os_proc_exit_state(const os_proc *p, os_proc_exit *out);
/* x86 FS/GS base as recorded by arch_prctl. */
uint64_t os_proc_tls(const os_proc *p, int which);

#define OS_SYSCALL_NR_MAX 512 /* numbers counted one by one below this */

typedef struct os_proc_stats {
    uint64_t syscalls;                  /* all calls */
    uint64_t by_nr[OS_SYSCALL_NR_MAX];  /* per number */
    uint64_t unknown;                   /* -ENOSYS for an unknown nr */
    uint64_t efault;                    /* calls that returned -EFAULT */
    uint64_t bytes_read, bytes_written; /* through fds */
} os_proc_stats;

const os_proc_stats *os_proc_get_stats(const os_proc *p);

/* ==== 6. Processes: fork, vfork, exec and wait ======================== */

/*
 * vfork (clone with CLONE_VM | CLONE_VFORK | SIGCHLD, optionally a new
 * stack, as glibc's vfork and posix_spawn use it): the child shares the
 * caller's address space (held by pointer, one reference per process)
 * and the runner holds the caller until the child execs or exits
 * (OS_SYSRET_VFORK). execve builds the new program's address space aside
 * and fails with the caller untouched; once it succeeds the old space is
 * let go of and the runner starts the program (OS_SYSRET_EXEC). Other
 * clone flags: -ENOSYS, reported once.
 */

/*
 * fork (clone with SIGCHLD as the exit signal, optionally CLONE_CHILD_
 * SETTID / CLONE_CHILD_CLEARTID / CLONE_PARENT_SETTID; no threads, no
 * new stack): a child with its own pid, an address space copied with
 * os_aspace_fork (private anonymous pages shared copy-on-write; a PCID
 * (x86) or ASID (RISC-V) of its own), the open file descriptions shared (as Linux's
 * fork shares struct file), signal actions and mask, brk, cwd, rlimits.
 * Its uaccess ctx is the parent's (the vCPU's): the runner switches the
 * ctx's state to the child's root before the child runs. clone/fork do
 * this themselves and hand the child over with OS_SYSRET_FORK.
 * @return 0 and *child, or a negative errno.
 */
int os_proc_fork(os_proc *parent, os_proc **child);
int os_proc_pid(const os_proc *p);
/* wait4/waitid collected p (a zombie): the runner destroys it. */
bool os_proc_reaped(const os_proc *p);
/* Whether a read that would block returns OS_SYSRET_BLOCKED (the runner
 * has another process to run) or blocks on the host. */
void os_proc_set_may_block(os_proc *p, bool may);

/* What p's last call that returned OS_SYSRET_BLOCKED waits for, besides
 * other processes (a child's exit, a signal): host fds becoming ready
 * (poll(2) events) and a host CLOCK_MONOTONIC deadline. When every
 * process waits, the runner sleeps on the host until one of these
 * happens. more: there were more fds than fit (wake up now and then). */
#define OS_WAIT_FDS 8
typedef struct os_wait {
    int fd[OS_WAIT_FDS];
    short events[OS_WAIT_FDS];
    unsigned nfd;
    bool more;
    uint64_t deadline_ns; /* 0: none */
} os_wait;
void os_proc_wait_state(const os_proc *p, os_wait *out);
/* The clock deadlines are on: host CLOCK_MONOTONIC, in ns. */
uint64_t os_wait_now_ns(void);

#endif
