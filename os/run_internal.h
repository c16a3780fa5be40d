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

/* Signals and si_codes the CPU's exceptions turn into. */
#define RUN_SIGILL     4
#define RUN_SIGTRAP    5
#define RUN_SIGFPE     8
#define RUN_SIGPIPE    13
#define RUN_ILL_ILLOPC 1
#define RUN_ILL_ILLOPN 2
#define RUN_FPE_INTDIV 1
#define RUN_FPE_FLTINV 7
#define RUN_TRAP_BRKPT 1
#define RUN_BUS_ADRALN 1

/* Handled page faults in a row at the same pc and address before the
 * runner gives up (a handled fault is retried once or twice: A/D set in
 * software, then the access; never hundreds of times). */
#define RUN_MAX_REPEATS 256

/* Guest instructions a task runs before another runnable one gets the
 * vCPU (about a millisecond of guest time at JIT speed; Linux's CFS
 * gives a few). */
#define RUN_DEFAULT_SLICE 1000000
#define RUN_TAG_SLOTS     256

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
    bool from_call; /* sent by a process (kill, SIGPIPE, SIGCHLD) */
    bool sender;    /* si_pid, si_uid (and SIGCHLD's si_status) below */
    int pid, status;
    uint32_t uid;
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
    bool in_call;          /* blocked in call: re-issued when it runs */
    mmu_user_call call;
    bool waiting;          /* its last call reported BLOCKED */
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
    bool call_signal;   /* a signal is deliverable after the call */
    run_signal sig;
    /* the process ended */
    bool exited;
    int status;
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
    /* execve succeeded: the new program's entry, loaded before the vCPU
     * goes on; vfork: the caller waits, another task runs */
    bool exec_pending, vfork_pending;
    uint64_t exec_pc, exec_sp;
    /* the first process's status once it exited (the run's); done: no
     * task is left to run */
    int root_status;
    bool done;
    /* which address space last ran with each PCID / ASID (by slot): a
     * tag coming back to another space is flushed from the model TLB */
    struct {
        uint32_t tag;
        uint64_t as_id;
    } tag_owner[RUN_TAG_SLOTS];
    /* scheduler counters; slice_on: the slice hook is installed */
    uint64_t switches, preemptions, eintr, tag_flushes, idle_waits;
    bool slice_on;
} run_machine;

/* ---- run_sched.c -------------------------------------------------- */

size_t run_runnable_tasks(const run_machine *m);
/* as runs with its tag from now on (fresh: a new space, exec). */
void run_claim_tag(run_machine *m, const os_aspace *as, bool fresh);
/* wait4 collected zombies: they go (never the running task or the
 * first process). */
void run_sweep_reaped(run_machine *m);
/* fork made sr->child: it goes on from the call with the result 0, in a
 * copy of the caller's registers (copy_thread(): sp = the new stack if
 * one was given). vfork: the caller waits until the child execs or
 * exits. */
void run_add_child(run_machine *m, const os_sysret *sr,
                   const mmu_user_call *c);
/* Switch to the next runnable task (m->done if none is left).
 * @return false if none is. */
bool run_switch(run_machine *m);
/* The time slice ran out: the next task runs. */
void run_preempt(run_machine *m);
/* The running task's call (m->call) would block: it re-issues the call
 * when it runs again; another task runs meanwhile. */
void run_block_switch(run_machine *m);
/* The running task exited (m->exited, m->status): a zombie until its
 * parent reaps it; the next task runs. */
void run_task_exited(run_machine *m);
/* After a call: start an exec'd program, or leave a caller that vforked
 * for another task. @return true if the vCPU state is set. */
bool run_exec_or_vfork(run_machine *m);
/* Deliver the running task's deliverable signals. @return false if it
 * died of one (m->exited). */
bool run_take_signals(run_machine *m);
/* m->sig to its handler, else the process dies of it. */
void run_deliver_or_die(run_machine *m);
void run_die(run_machine *m, int signo);
/* A call ended the process by a signal: report it if worth it. */
void run_report_exit_signal(run_machine *m);
/* Something happened that may end another process's wait (a call
 * completed, a process exited or was preempted). */
void run_progress(run_machine *m);
/* Every process waits for another: report, and end them all. */
void run_deadlock(run_machine *m);

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
/* os_proc_config.kfault_trace: a fault of a system call's uaccess. */
void run_trace_kfault(void *arg, const os_proc *p, uint64_t nr,
                      const os_fault_req *rq, const os_fault_outcome *out);
void run_print_stats(run_machine *m);
void run_report_emulator(run_machine *m, const mmu_glue_result *res);

#endif
