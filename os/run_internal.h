/*
 * run_internal.h - what the hosted runner's files share: run_linux.c (the
 * machine, the run loop, system calls), run_signal.c (signal frames) and
 * run_report.c (fault reports, trace, statistics). See mmuemu/hosted.h.
 */
#ifndef MMUEMU_RUN_INTERNAL_H
#define MMUEMU_RUN_INTERNAL_H

#include "mmuemu/glue_user.h"
#include "mmuemu/hosted.h"
#include "mmuemu/linux.h"

/* System-call numbers the runner itself looks at. */
#define RUN_X86_RT_SIGACTION   13
#define RUN_X86_RT_SIGPROCMASK 14
#define RUN_X86_RT_SIGRETURN   15
#define RUN_RV_RT_SIGACTION    134
#define RUN_RV_RT_SIGPROCMASK  135
#define RUN_RV_RT_SIGRETURN    139
#define RUN_X86_KILL           62
#define RUN_RV_KILL            129

/* Signals and si_codes the CPU's exceptions turn into. */
#define RUN_SIGILL     4
#define RUN_SIGTRAP    5
#define RUN_SIGFPE     8
#define RUN_SIGPIPE    13
#define RUN_ILL_ILLOPC 1
#define RUN_ILL_ILLOPN 2
#define RUN_ILL_PRVOPC 5
#define RUN_FPE_INTDIV 1
#define RUN_FPE_FLTINV 7
#define RUN_TRAP_BRKPT 1
#define RUN_BUS_ADRALN 1
#define RUN_SI_USER    0
#define RUN_SI_TKILL   (-6)

/* Handled page faults in a row at the same pc and address before the
 * runner gives up (a handled fault is retried once or twice: A/D set in
 * software, then the access; never hundreds of times). */
#define RUN_MAX_REPEATS 256

/* What the vCPU stopped for, to be done before it runs again. */
typedef enum run_pending {
    RUN_NONE = 0,
    RUN_CALL,   /* a system call to run (RISC-V) or finish (x86) */
    RUN_SIGNAL, /* a synchronous signal to deliver */
    RUN_RESUME, /* nothing: the vCPU state is ready */
} run_pending;

/* A synchronous signal and why it was raised (for the death report). */
typedef struct run_signal {
    int signo, code;
    uint64_t addr;          /* si_addr */
    mmu_glue_event ev;      /* the exception behind it */
    os_fault_outcome fault; /* model faults: the handler's verdict */
    bool from_fault;
    bool from_call; /* raised by kill/tkill/tgkill */
} run_signal;

/* A process the vCPU runs in turn (os_proc_fork): its registers while
 * another one runs. */
typedef struct run_task {
    os_proc *p;
    mmu_user_regs regs;
    uint64_t tls[2]; /* x86 FS/GS base */
    bool zombie;     /* exited: never runs again (its parent reaps it) */
    bool vfork_wait; /* its vfork child has its memory: it does not run */
    os_proc *vfork_parent; /* vfork child: whom its exec or exit frees */
} run_task;

typedef struct run_machine {
    const os_hosted_config *cfg;
    FILE *diag;
    mmu_glue *g;
    os_frames frames;
    bool frames_ok;
    os_kernel k;
    bool kernel_ok;
    os_proc *p;
    os_abi abi;
    bool x86;
    /* the stop in progress */
    run_pending pending;
    mmu_user_call call;
    bool call_done;     /* x86: os_syscall ran inside the hook */
    bool flush_pending; /* a PTE lost rights or changed frame */
    bool call_signal;   /* the call raised m->sig: deliver it */
    run_signal sig;
    /* the process ended */
    bool exited;
    int status;
    /* RISC-V: where rt_sigreturn's trampoline page is (0: not yet) */
    uint64_t sigpage;
    /* the last page fault, to catch one that is never resolved */
    uint64_t last_fault_pc, last_fault_addr;
    unsigned repeats;
    /* counters */
    uint64_t signals_delivered, sigreturns, hook_stops;
    /* processes: tasks[cur] runs (its p is m->p); root: the first one,
     * whose exit ends the run */
    run_task *tasks;
    size_t ntasks, cur;
    os_proc *root;
    bool blocked;            /* the call would block: run another task */
    unsigned blocked_in_row; /* blocked calls without progress */
    /* execve succeeded: the new program's entry, loaded before the vCPU
     * goes on; vfork: the caller waits, another task runs */
    bool exec_pending, vfork_pending;
    uint64_t exec_pc, exec_sp;
} run_machine;

/* ---- run_host.c --------------------------------------------------- */

/* The host process ignores SIGPIPE (kept apart: <signal.h> defines
 * si_addr as a macro, which os.h uses as a field name). */
void run_ignore_sigpipe(void);

/* ---- run_signal.c ------------------------------------------------- */

/*
 * Deliver m->sig to the guest's handler when it has one and the signal
 * is not blocked (Linux's force_sig_fault: a blocked or ignored
 * synchronous signal kills). @return true if the vCPU now runs the
 * handler; false: the caller kills the process.
 */
bool run_signal_deliver(run_machine *m);
/* rt_sigreturn: registers and mask back from the frame at the guest's
 * stack. @return false if the frame is unreadable (the process dies of
 * SIGSEGV, as Linux's badframe path). */
bool run_sigreturn(run_machine *m);

/* ---- run_report.c ------------------------------------------------- */

void run_report_death(run_machine *m);
void run_trace_fault(run_machine *m, const mmu_glue_event *ev,
                     const os_fault_outcome *out);
void run_print_stats(run_machine *m);
void run_report_emulator(run_machine *m, const mmu_glue_result *res);

#endif
