/*
 * sys_table.c - system-call numbers per ABI: riscv64 uses the asm-generic
 * table (include/uapi/asm-generic/unistd.h), x86-64 its own
 * (arch/x86/entry/syscalls/syscall_64.tbl). One implementation per call;
 * each row names it and gives its number on both ABIs (-1: absent).
 * Rows with sys_enosys are calls the model refuses by design (threads,
 * processes, rseq, riscv_hwprobe): -ENOSYS, reported only when not quiet.
 */
#include "proc_internal.h"

#include <string.h>

/* name, riscv64, x86-64, implementation, quiet ENOSYS */
#define SYSCALLS(X)                                                            \
    X(read, 63, 0, read, false)                                                \
    X(write, 64, 1, write, false)                                              \
    X(open, -1, 2, open, false)                                                \
    X(close, 57, 3, close, false)                                              \
    X(stat, -1, 4, stat, false)                                                \
    X(fstat, 80, 5, fstat, false)                                              \
    X(lstat, -1, 6, lstat, false)                                              \
    X(poll, -1, 7, poll, false)                                                \
    X(lseek, 62, 8, lseek, false)                                              \
    X(mmap, 222, 9, mmap, false)                                               \
    X(mprotect, 226, 10, mprotect, false)                                      \
    X(munmap, 215, 11, munmap, false)                                          \
    X(brk, 214, 12, brk, false)                                                \
    X(rt_sigaction, 134, 13, rt_sigaction, false)                              \
    X(rt_sigprocmask, 135, 14, rt_sigprocmask, false)                          \
    X(ioctl, 29, 16, ioctl, false)                                             \
    X(pread64, 67, 17, pread64, false)                                         \
    X(pwrite64, 68, 18, pwrite64, false)                                       \
    X(readv, 65, 19, readv, false)                                             \
    X(writev, 66, 20, writev, false)                                           \
    X(access, -1, 21, access, false)                                           \
    X(pipe, -1, 22, pipe, false)                                               \
    X(sched_yield, 124, 24, sched_yield, false)                                \
    X(mremap, 216, 25, mremap, false)                                          \
    X(msync, 227, 26, msync, false)                                            \
    X(madvise, 233, 28, madvise, false)                                        \
    X(dup, 23, 32, dup, false)                                                 \
    X(dup2, -1, 33, dup2, false)                                               \
    X(nanosleep, 101, 35, nanosleep, false)                                    \
    X(getpid, 172, 39, getpid, false)                                          \
    X(sendfile, 71, 40, sendfile, false)                                       \
    X(clone, 220, 56, clone, false)                                            \
    X(fork, -1, 57, fork, false)                                               \
    X(vfork, -1, 58, vfork, false)                                             \
    X(execve, 221, 59, execve, false)                                          \
    X(exit, 93, 60, exit, false)                                               \
    X(wait4, 260, 61, wait4, false)                                            \
    X(waitid, 95, 247, waitid, false)                                          \
    X(kill, 129, 62, kill, false)                                              \
    X(rt_sigpending, 136, 127, rt_sigpending, false)                           \
    X(rt_sigsuspend, 133, 130, rt_sigsuspend, false)                           \
    X(pause, -1, 34, pause, false)                                             \
    X(uname, 160, 63, uname, false)                                            \
    X(fcntl, 25, 72, fcntl, false)                                             \
    X(fsync, 82, 74, fsync, false)                                             \
    X(fdatasync, 83, 75, fsync, false)                                         \
    X(ftruncate, 46, 77, ftruncate, false)                                     \
    X(getcwd, 17, 79, getcwd, false)                                           \
    X(chdir, 49, 80, chdir, false)                                             \
    X(fchdir, 50, 81, fchdir, false)                                           \
    X(mkdir, -1, 83, mkdir, false)                                             \
    X(rmdir, -1, 84, rmdir, false)                                             \
    X(unlink, -1, 87, unlink, false)                                           \
    X(readlink, -1, 89, readlink, false)                                       \
    X(umask, 166, 95, umask, false)                                            \
    X(gettimeofday, 169, 96, gettimeofday, false)                              \
    X(getrlimit, 163, 97, getrlimit, false)                                    \
    X(getrusage, 165, 98, getrusage, false)                                    \
    X(sysinfo, 179, 99, sysinfo, false)                                        \
    X(times, 153, 100, times, false)                                           \
    X(getuid, 174, 102, getuid, false)                                         \
    X(getgid, 176, 104, getgid, false)                                         \
    X(setuid, 146, 105, setuid, false)                                         \
    X(setgid, 144, 106, setgid, false)                                         \
    X(geteuid, 175, 107, geteuid, false)                                       \
    X(getegid, 177, 108, getegid, false)                                       \
    X(setpgid, 154, 109, setpgid, false)                                       \
    X(getppid, 173, 110, getppid, false)                                       \
    X(getpgrp, -1, 111, getpgrp, false)                                        \
    X(setsid, 157, 112, setsid, false)                                         \
    X(getgroups, 158, 115, getgroups, false)                                   \
    X(getresuid, 148, 118, getresuid, false)                                   \
    X(getresgid, 150, 120, getresgid, false)                                   \
    X(getpgid, 155, 121, getpgid, false)                                       \
    X(getsid, 156, 124, getsid, false)                                         \
    X(sigaltstack, 132, 131, sigaltstack, false)                               \
    X(utime, -1, 132, utime, false)                                            \
    X(prctl, 167, 157, prctl, false)                                           \
    X(arch_prctl, -1, 158, arch_prctl, false)                                  \
    X(setrlimit, 164, 160, setrlimit, false)                                   \
    X(gettid, 178, 186, gettid, false)                                         \
    X(tkill, 130, 200, tkill, false)                                           \
    X(time, -1, 201, time, false)                                              \
    X(futex, 98, 202, futex, false)                                            \
    X(sched_getaffinity, 123, 204, sched_getaffinity, false)                   \
    X(getdents64, 61, 217, getdents64, false)                                  \
    X(set_tid_address, 96, 218, set_tid_address, false)                        \
    X(fadvise64, 223, 221, fadvise64, false)                                   \
    X(clock_gettime, 113, 228, clock_gettime, false)                           \
    X(clock_getres, 114, 229, clock_getres, false)                             \
    X(clock_nanosleep, 115, 230, clock_nanosleep, false)                       \
    X(exit_group, 94, 231, exit_group, false)                                  \
    X(tgkill, 131, 234, tgkill, false)                                         \
    X(utimes, -1, 235, utimes, false)                                          \
    X(openat, 56, 257, openat, false)                                          \
    X(mkdirat, 34, 258, mkdirat, false)                                        \
    X(futimesat, -1, 261, futimesat, false)                                    \
    X(newfstatat, 79, 262, newfstatat, false)                                  \
    X(unlinkat, 35, 263, unlinkat, false)                                      \
    X(readlinkat, 78, 267, readlinkat, false)                                  \
    X(faccessat, 48, 269, faccessat, false)                                    \
    X(ppoll, 73, 271, ppoll, false)                                            \
    X(set_robust_list, 99, 273, set_robust_list, false)                        \
    X(utimensat, 88, 280, utimensat, false)                                    \
    X(dup3, 24, 292, dup3, false)                                              \
    X(pipe2, 59, 293, pipe2, false)                                            \
    X(prlimit64, 261, 302, prlimit64, false)                                   \
    X(getcpu, 168, 309, getcpu, false)                                         \
    X(getrandom, 278, 318, getrandom, false)                                   \
    X(execveat, 281, 322, execveat, false)                                     \
    X(statx, 291, 332, statx, false)                                           \
    X(rseq, 293, 334, enosys, true)                                            \
    X(clone3, 435, 435, enosys, true)                                          \
    X(faccessat2, 439, 439, faccessat2, false)                                 \
    X(riscv_hwprobe, 258, -1, enosys, true)

#define ROW(name, rv, x86, fn, quiet) {#name, rv, x86, sys_##fn, quiet},
static const sys_entry table[] = {SYSCALLS(ROW)};
#undef ROW

#define NROWS (sizeof table / sizeof table[0])

static int32_t row_nr(const sys_entry *e, os_abi abi)
{
    switch (abi) {
    case OS_ABI_RISCV64:
        return e->nr_rv;
    case OS_ABI_X86_64:
        return e->nr_x86;
    }
    return -1;
}

void sys_table_build(os_proc *p)
{
    memset(p->sysidx, 0, sizeof p->sysidx);
    for (size_t i = 0; i < NROWS; i++) {
        int32_t nr = row_nr(&table[i], p->abi);
        if (nr >= 0 && nr < OS_SYSCALL_NR_MAX)
            p->sysidx[nr] = (uint16_t)(i + 1);
    }
}

const sys_entry *sys_lookup(const os_proc *p, uint64_t nr)
{
    if (nr >= OS_SYSCALL_NR_MAX || p->sysidx[nr] == 0)
        return NULL;
    return &table[p->sysidx[nr] - 1];
}

const char *os_syscall_name(os_abi abi, uint64_t nr)
{
    for (size_t i = 0; i < NROWS; i++) {
        int32_t n = row_nr(&table[i], abi);
        if (n >= 0 && (uint64_t)n == nr)
            return table[i].name;
    }
    return NULL;
}
