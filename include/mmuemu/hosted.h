/*
 * hosted.h - run a static Linux executable (riscv64 or x86-64) the way
 * qemu-user does, except that every page of the process is mapped
 * through real page tables the model walks: `mmuemu run ELF ARGS...`.
 *
 * The machine: one vCPU (the glue, virtual-TLB mode) over guest RAM, an
 * os_kernel whose frames are that RAM, one os_proc (linux.h) whose
 * address space's root the vCPU runs in user mode (glue_user.h). Every
 * system call goes to os_syscall; every page fault the model raises goes
 * to os_proc_handle_fault and is retried when handled (Unicorn's TLB
 * flushed when a PTE lost rights or went away); a fault the process
 * cannot survive becomes a signal: delivered to the guest's handler
 * (rt_sigframe as Linux 6.1 builds it, rt_sigreturn restores it) or, with
 * none, the process dies with 128 + signo and a report on stderr
 * (address, access, reason, the walk, the instruction). CPU exceptions
 * become the signals Linux sends for them (SIGILL, SIGFPE, SIGTRAP,
 * SIGBUS, SIGSEGV), and a signal the process raises at itself (kill,
 * tgkill: abort()) is delivered after the call returns, or ends it.
 * --trace-faults shows the faults of user-mode accesses; those taken by
 * the kernel side of a system call (uaccess) are only counted (--stats).
 *
 * Processes (fork, wait4/waitid) share the one vCPU: each keeps its
 * registers and its root (RISC-V satp with an ASID of its own, x86 CR3
 * with the model TLB flushed on a switch); the running one goes on until
 * it blocks (wait4 for a live child, a read of an empty pipe while
 * another process can run) or exits, then the next one runs; the first
 * process's exit ends the run (--stats counts its calls only).
 * Not modelled: exec and threads, SIGCHLD, signals from outside, sigaltstack (SA_ONSTACK ignored),
 * XSAVE state beyond FXSAVE in x86 frames, core dumps, the vDSO (RISC-V
 * signal handlers return through a one-page "[sigpage]" mapping made at
 * the first delivery, holding `li a7, 139; ecall`). Host writes into
 * frames (file pages read in, frames zeroed) do not invalidate Unicorn's
 * translated code: a frame that held translated code and comes back as
 * different code at the same address would run stale blocks (guest
 * stores, e.g. a JIT's, do invalidate them).
 */
#ifndef MMUEMU_HOSTED_H
#define MMUEMU_HOSTED_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mmuemu/glue.h"

/* Exit statuses of os_hosted_run besides the guest's own 0..255. */
#define OS_HOSTED_EXIT_BAD_INPUT 2   /* could not start: bad ELF, ... */
#define OS_HOSTED_EXIT_EMULATOR  125 /* the emulator failed mid-run */

typedef struct os_hosted_config {
    const char *elf_path;      /* host path of the executable */
    const char *const *argv;   /* guest argv, NULL-terminated */
    const char *const *envp;   /* NULL-terminated; NULL: empty */
    mmu_glue_isa isa;          /* MMU_GLUE_X86_64 or MMU_GLUE_RV64 */
    uint64_t ram_size;         /* bytes; 0: 1 GiB */
    const mmu_tlb_config *tlb; /* model TLB; NULL: every fill walks */
    const char *sysroot;       /* NULL: "/" */
    bool writable;             /* the sysroot accepts writes */
    bool deterministic;        /* fixed AT_RANDOM, getrandom, clocks */
    bool trace_faults;         /* one line per page fault */
    bool stats;                /* counters at exit */
    uint64_t slice;            /* guest instructions a process runs while
                                  another can run; 0: the default */
    FILE *diag;                /* reports, trace, stats; NULL: stderr */
} os_hosted_config;

/*
 * Run to the end. @return the guest's exit status (0..255; 128 + signo
 * when a signal killed it), OS_HOSTED_EXIT_BAD_INPUT when the program
 * could not be started (a one-line reason in err), or
 * OS_HOSTED_EXIT_EMULATOR after a report of what broke.
 */
int os_hosted_run(const os_hosted_config *cfg, char *err, size_t errlen);

/* The architecture of the ELF at path (x86-64 or riscv64, ELF64).
 * @return false with a reason in err. */
bool os_hosted_sniff(const char *path, mmu_glue_isa *isa, char *err,
                     size_t errlen);

#endif
