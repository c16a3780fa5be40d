/*
 * test_linux_io.c - system calls of a process on fds and on itself, both
 * ABIs, called as the guest would: write to the host fd behind stdout,
 * pipes round trip (write/read, writev/readv, sendfile), dup/fcntl,
 * ioctl ENOTTY on a pipe, wild pointers (NULL, unmapped, kernel half,
 * huge counts) giving -EFAULT/-EINVAL and never a host fault, an unknown
 * system call -ENOSYS reported once, and the process calls (uname, ids,
 * time, getrandom, limits, signal actions, arch_prctl, futex, exit).
 */
#define _XOPEN_SOURCE 700

#include "linux_harness.h"

#define O_RDONLY_L  0
#define O_CLOEXEC_L 02000000

static void write_reaches_host_stdout(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        uint64_t s = lx_str(&x, 0, "hello from the guest\n");
        assert_int_equal(SC(&x, "write", 1, s, 21), 21);
        char got[64];
        assert_int_equal(lx_drain(&x, got, sizeof got), 21);
        assert_string_equal(got, "hello from the guest\n");
        /* guest fd 0 is the host's /dev/null; fd 9 is nothing */
        assert_int_equal(SC(&x, "read", 0, x.buf, 10), 0);
        assert_int_equal(SC(&x, "read", 9, x.buf, 10), ERRNO(LX_EBADF));
        lx_free(&x);
    }
}

static void pipe_round_trip(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        assert_int_equal(SC(&x, "pipe2", x.buf + 100, O_CLOEXEC_L), 0);
        uint8_t fds[8];
        lx_get(&x, x.buf + 100, fds, 8);
        uint64_t rfd = lx_ld(fds, 0, 4), wfd = lx_ld(fds, 4, 4);
        assert_true(rfd >= 3 && wfd >= 3 && rfd != wfd);
        assert_int_equal(SC(&x, "fcntl", rfd, 1 /* F_GETFD */), 1);
        uint64_t s = lx_str(&x, 200, "ping-pong");
        assert_int_equal(SC(&x, "write", wfd, s, 9), 9);
        assert_int_equal(SC(&x, "read", rfd, x.buf + 1000, 100), 9);
        char back[16] = "";
        lx_get(&x, x.buf + 1000, back, 9);
        assert_memory_equal(back, "ping-pong", 9);
        /* writev of two pieces, readv into three */
        lx_str(&x, 300, "abc");
        lx_str(&x, 310, "defgh");
        uint8_t iov[48];
        uint64_t v[6] = {x.buf + 300, 3, x.buf + 310, 5, 0, 0};
        for (unsigned k = 0; k < 6; k++)
            for (unsigned b = 0; b < 8; b++)
                iov[8 * k + b] = (uint8_t)(v[k] >> (8 * b));
        lx_put(&x, 400, iov, 32);
        assert_int_equal(SC(&x, "writev", wfd, x.buf + 400, 2), 8);
        uint64_t r[6] = {x.buf + 2000, 2, x.buf + 2100, 2, x.buf + 2200, 10};
        for (unsigned k = 0; k < 6; k++)
            for (unsigned b = 0; b < 8; b++)
                iov[8 * k + b] = (uint8_t)(r[k] >> (8 * b));
        lx_put(&x, 500, iov, 48);
        assert_int_equal(SC(&x, "readv", rfd, x.buf + 500, 3), 8);
        char p1[3] = "", p3[5] = "";
        lx_get(&x, x.buf + 2000, p1, 2);
        lx_get(&x, x.buf + 2200, p3, 4);
        assert_memory_equal(p1, "ab", 2);
        assert_memory_equal(p3, "efgh", 4);
        /* dup, dup3, close: the description is shared */
        assert_true(OK(SC(&x, "dup", wfd)) > 0);
        assert_int_equal(SC(&x, "dup3", wfd, 50, O_CLOEXEC_L), 50);
        assert_int_equal(SC(&x, "dup3", wfd, wfd, 0), ERRNO(OS_EINVAL));
        assert_int_equal(SC(&x, "fcntl", 50, 1), 1);
        assert_int_equal(SC(&x, "fcntl", 50, 3 /* F_GETFL */) & 3, 1);
        assert_int_equal(SC(&x, "write", 50, s, 4), 4);
        assert_int_equal(SC(&x, "read", rfd, x.buf + 1000, 100), 4);
        assert_int_equal(SC(&x, "close", 50), 0);
        assert_int_equal(SC(&x, "close", 50), ERRNO(LX_EBADF));
        /* a pipe is not a terminal */
        assert_int_equal(
            SC(&x, "ioctl", rfd, 0x5401 /* TCGETS */, x.buf + 3000),
            ERRNO(LX_ENOTTY));
        assert_int_equal(
            SC(&x, "ioctl", 1, 0x5413 /* TIOCGWINSZ */, x.buf + 3000),
            ERRNO(LX_ENOTTY));
        assert_int_equal(SC(&x, "lseek", rfd, 0, 0), ERRNO(LX_ESPIPE));
        /* sendfile from a sysroot file into the pipe */
        uint64_t fd = OK(SC(&x, "openat", L_AT_FDCWD,
                            lx_str(&x, 600, "/etc/hello.txt"), O_RDONLY_L));
        assert_true(fd >= 3);
        assert_int_equal(SC(&x, "sendfile", wfd, fd, 0, 100), 15);
        assert_int_equal(SC(&x, "read", rfd, x.buf + 1000, 100), 15);
        lx_get(&x, x.buf + 1000, back, 15);
        assert_memory_equal(back, "hello, sysroot\n", 15);
        /* pread does not move the offset */
        assert_int_equal(SC(&x, "lseek", fd, 0, 0), 0);
        assert_int_equal(SC(&x, "pread64", fd, x.buf + 1000, 4, 7), 4);
        lx_get(&x, x.buf + 1000, back, 4);
        assert_memory_equal(back, "sysr", 4);
        assert_int_equal(SC(&x, "read", fd, x.buf + 1000, 5), 5);
        /* writing to a pipe nobody reads: SIGPIPE's default kills */
        assert_int_equal(SC(&x, "close", rfd), 0);
        assert_int_equal(SC(&x, "write", wfd, s, 4), ERRNO(LX_EPIPE));
        assert_true(x.last.flags & OS_SYSRET_EXITED);
        assert_int_equal(x.last.exit_status, 128 + 13);
        lx_free(&x);
    }
}

/* Wild pointers: -EFAULT (or the call's own error), never a host fault. */
static void wild_pointers_fault_cleanly(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        uint64_t kernel = x.h.layout.page_offset + 0x1000;
        uint64_t unmapped = x.buf + LX_BUF_SIZE + 0x100000;
        const uint64_t bad[] = {0, 8, unmapped, kernel, UINT64_MAX - 7};
        uint64_t fd = OK(SC(&x, "openat", L_AT_FDCWD,
                            lx_str(&x, 0, "/etc/hello.txt"), O_RDONLY_L));
        assert_true(fd >= 3);
        for (unsigned b = 0; b < sizeof bad / sizeof bad[0]; b++) {
            uint64_t p = bad[b];
            assert_int_equal(SC(&x, "write", 1, p, 10), ERRNO(OS_EFAULT));
            assert_int_equal(SC(&x, "read", fd, p, 10), ERRNO(OS_EFAULT));
            assert_int_equal(SC(&x, "openat", L_AT_FDCWD, p, 0),
                             ERRNO(OS_EFAULT));
            assert_int_equal(SC(&x, "fstat", fd, p), ERRNO(OS_EFAULT));
            assert_int_equal(SC(&x, "uname", p), ERRNO(OS_EFAULT));
            assert_int_equal(SC(&x, "clock_gettime", 1, p), ERRNO(OS_EFAULT));
            assert_int_equal(SC(&x, "getrandom", p, 16, 0), ERRNO(OS_EFAULT));
            assert_int_equal(SC(&x, "pipe2", p, 0), ERRNO(OS_EFAULT));
            assert_int_equal(SC(&x, "getcwd", p, 100), ERRNO(OS_EFAULT));
            /* NULL is "no new action" / "no old limit" there */
            assert_int_equal(SC(&x, "rt_sigaction", 10, p, 0, 8),
                             p ? ERRNO(OS_EFAULT) : 0);
            assert_int_equal(SC(&x, "writev", 1, p, 2), ERRNO(OS_EFAULT));
            assert_int_equal(SC(&x, "getdents64", fd, p, 100),
                             ERRNO(LX_ENOTDIR));
            assert_int_equal(SC(&x, "prlimit64", 0, 7, 0, p),
                             p ? ERRNO(OS_EFAULT) : 0);
            assert_int_equal(SC(&x, "futex", p & ~UINT64_C(3), 0, 1, 0),
                             ERRNO(OS_EFAULT));
        }
        /* the read consumed nothing: the file offset is still 0 */
        assert_int_equal(SC(&x, "lseek", fd, 0, 1 /* SEEK_CUR */), 0);
        /* huge counts are clamped or refused, never allocated */
        uint64_t null = OK(SC(&x, "openat", L_AT_FDCWD,
                              lx_str(&x, 0, "/dev/null"), 1 /* O_WRONLY */));
        /* counts are clamped to MAX_RW_COUNT (INT_MAX for getrandom)
         * before access_ok(), as Linux does: near the top of a small
         * address space (Sv39) the clamped range still fails */
        bool fits = x.buf + UINT64_C(0x7ffff000) <= x.h.layout.task_size;
        assert_int_equal(SC(&x, "write", null, x.buf, UINT64_MAX),
                         fits ? LX_BUF_SIZE : ERRNO(OS_EFAULT));
        assert_int_equal(SC(&x, "read", fd, x.buf, UINT64_C(1) << 40),
                         fits ? 15 : ERRNO(OS_EFAULT));
        assert_int_equal(SC(&x, "lseek", fd, 0, 0), 0);
        assert_int_equal(SC(&x, "read", fd, x.buf, LX_BUF_SIZE), 15);
        assert_int_equal(SC(&x, "writev", 1, x.buf, 1u << 20),
                         ERRNO(OS_EINVAL));
        assert_int_equal(SC(&x, "getrandom", x.buf, UINT64_C(1) << 40, 0),
                         fits ? LX_BUF_SIZE : ERRNO(OS_EFAULT));
        /* a write that starts mapped and runs into a hole: short */
        int64_t r = SC(&x, "write", 1, x.buf + LX_BUF_SIZE - 5, 100);
        assert_int_equal(r, 5);
        char drain[64];
        lx_drain(&x, drain, sizeof drain);
        assert_false(x.p == NULL);
        lx_free(&x);
    }
}

static void unknown_syscall_enosys_reported_once(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        const uint64_t a[6] = {0};
        os_sysret r;
        assert_int_equal(os_syscall(x.p, 499, a, &r), ERRNO(LX_ENOSYS));
        assert_true(r.flags & OS_SYSRET_UNKNOWN);
        assert_int_equal(os_syscall(x.p, 499, a, &r), ERRNO(LX_ENOSYS));
        assert_int_equal(os_syscall(x.p, UINT64_C(1) << 40, a, &r),
                         ERRNO(LX_ENOSYS));
        assert_int_equal(os_syscall(x.p, UINT64_C(1) << 40, a, &r),
                         ERRNO(LX_ENOSYS));
        assert_int_equal(x.nreports, 2);
        assert_non_null(strstr(x.reports[0], "499"));
        /* clone is known and refused, reported once by name */
        assert_int_equal(SC(&x, "clone", 0), ERRNO(LX_ENOSYS));
        assert_int_equal(SC(&x, "clone", 0), ERRNO(LX_ENOSYS));
        assert_int_equal(x.nreports, 3);
        assert_non_null(strstr(x.reports[2], "clone"));
        /* rseq is refused quietly (glibc expects it may be) */
        assert_int_equal(SC(&x, "rseq", 0), ERRNO(LX_ENOSYS));
        assert_int_equal(x.nreports, 3);
        const os_proc_stats *st = os_proc_get_stats(x.p);
        assert_int_equal(st->unknown, 4);
        assert_int_equal(st->by_nr[499], 2);
        lx_free(&x);
    }
}

static void process_calls(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        bool x86 = x.abi == OS_ABI_X86_64;
        char s[400];
        /* uname */
        assert_int_equal(SC(&x, "uname", x.buf), 0);
        lx_get(&x, x.buf, s, 390);
        assert_string_equal(s, "Linux");
        assert_string_equal(s + 4 * 65, x86 ? "x86_64" : "riscv64");
        assert_string_equal(s + 2 * 65, "6.1.0");
        /* ids */
        assert_int_equal(SC(&x, "getpid", 0), SC(&x, "gettid", 0));
        assert_int_equal(SC(&x, "getuid", 0), 0);
        assert_int_equal(SC(&x, "set_tid_address", x.buf), 100);
        assert_int_equal(SC(&x, "set_robust_list", x.buf, 24), 0);
        assert_int_equal(SC(&x, "set_robust_list", x.buf, 23),
                         ERRNO(OS_EINVAL));
        /* cwd */
        assert_int_equal(SC(&x, "getcwd", x.buf, 100), 2);
        assert_int_equal(SC(&x, "getcwd", x.buf, 1), ERRNO(LX_ERANGE));
        assert_int_equal(SC(&x, "chdir", lx_str(&x, 500, "dir/sub/..")), 0);
        assert_int_equal(SC(&x, "getcwd", x.buf, 100), 5);
        lx_get(&x, x.buf, s, 5);
        assert_string_equal(s, "/dir");
        assert_int_equal(SC(&x, "chdir", lx_str(&x, 500, "a")),
                         ERRNO(LX_ENOTDIR));
        /* time and randomness */
        assert_int_equal(SC(&x, "clock_gettime", 1, x.buf), 0);
        assert_int_equal(SC(&x, "clock_gettime", 99, x.buf), ERRNO(OS_EINVAL));
        assert_int_equal(SC(&x, "getrandom", x.buf, 2000, 0), 2000);
        assert_int_equal(SC(&x, "getrandom", x.buf, 10, 0x80),
                         ERRNO(OS_EINVAL));
        uint8_t rnd[64];
        lx_get(&x, x.buf + 1000, rnd, 64);
        unsigned zero = 0;
        for (unsigned k = 0; k < 64; k++)
            zero += rnd[k] == 0;
        assert_true(zero < 16);
        uint8_t ts[16];
        assert_int_equal(
            SC(&x, "nanosleep",
               lx_put(&x, 0, (uint8_t[16]){0, 0, 0, 0, 0, 0, 0, 0, 0xe8, 3},
                      16),
               0),
            0);
        assert_int_equal(SC(&x, "nanosleep",
                            lx_put(&x, 0,
                                   (uint8_t[16]){0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                 0xca, 0x9a, 0x3b},
                                   16),
                            0),
                         ERRNO(OS_EINVAL));
        (void)ts;
        /* limits */
        assert_int_equal(SC(&x, "prlimit64", 0, 3 /* STACK */, 0, x.buf), 0);
        uint8_t lim[16];
        lx_get(&x, x.buf, lim, 16);
        assert_int_equal(lx_ld(lim, 0, 8), 8 * MIB);
        assert_int_equal(SC(&x, "prlimit64", 0, 99, 0, x.buf),
                         ERRNO(OS_EINVAL));
        assert_int_equal(SC(&x, "prlimit64", 12345, 3, 0, x.buf),
                         ERRNO(LX_ESRCH));
        /* signal actions are recorded in the ABI's layout */
        uint8_t act[32];
        memset(act, 0, sizeof act);
        act[0] = 0x34; /* handler 0x1234 */
        act[1] = 0x12;
        act[8] = 0x04;             /* flags */
        act[x86 ? 24 : 16] = 0x80; /* mask: signal 8 */
        lx_put(&x, 0, act, 32);
        assert_int_equal(SC(&x, "rt_sigaction", 10, x.buf, 0, 8), 0);
        assert_int_equal(SC(&x, "rt_sigaction", 10, 0, x.buf + 100, 8), 0);
        uint8_t back[32];
        lx_get(&x, x.buf + 100, back, x86 ? 32 : 24);
        assert_memory_equal(back, act, x86 ? 32 : 24);
        os_sigaction sa;
        assert_true(os_proc_sigaction(x.p, 10, &sa));
        assert_int_equal(sa.handler, 0x1234);
        assert_int_equal(sa.mask, 0x80);
        assert_int_equal(SC(&x, "rt_sigaction", 9, x.buf, 0, 8),
                         ERRNO(OS_EINVAL));
        assert_int_equal(SC(&x, "rt_sigaction", 10, x.buf, 0, 4),
                         ERRNO(OS_EINVAL));
        /* a signal with a handler goes to the runner */
        uint64_t pid = OK(SC(&x, "getpid", 0));
        assert_int_equal(SC(&x, "kill", pid, 10), 0);
        assert_true(x.last.flags & OS_SYSRET_SIGNAL);
        assert_int_equal(os_proc_pending_signals(x.p), 1u << 9);
        os_siginfo sinfo;
        assert_int_equal(os_proc_next_signal(x.p, &sinfo), 10);
        assert_int_equal(sinfo.code, OS_SI_USER);
        assert_int_equal(sinfo.pid, (int)pid);
        assert_int_equal(os_proc_pending_signals(x.p), 0);
        assert_int_equal(SC(&x, "kill", pid + 1000, 10), ERRNO(LX_ESRCH));
        /* the signal mask */
        lx_put(&x, 0, (uint8_t[8]){0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, 8);
        assert_int_equal(SC(&x, "rt_sigprocmask", 2, x.buf, x.buf + 8, 8), 0);
        assert_int_equal(os_proc_sigmask(x.p), 0xfffffeffu & ~0x40000u);
        /* a blocked signal stays pending (rt_sigpending) until unblocked;
         * a second one does not queue */
        assert_int_equal(SC(&x, "kill", pid, 10), 0);
        assert_int_equal(SC(&x, "kill", pid, 10), 0);
        assert_false(x.last.flags & OS_SYSRET_SIGNAL);
        assert_int_equal(SC(&x, "rt_sigpending", x.buf + 16, 8), 0);
        uint8_t pend[8];
        lx_get(&x, x.buf + 16, pend, 8);
        assert_int_equal(pend[1], 0x02); /* bit 9: signal 10 */
        lx_put(&x, 24, (uint8_t[8]){0, 0x02, 0, 0, 0, 0, 0, 0}, 8);
        assert_int_equal(SC(&x, "rt_sigprocmask", 1, x.buf + 24, 0, 8), 0);
        assert_true(x.last.flags & OS_SYSRET_SIGNAL);
        assert_int_equal(os_proc_next_signal(x.p, &sinfo), 10);
        assert_int_equal(os_proc_next_signal(x.p, &sinfo), 0);
        lx_put(&x, 0, (uint8_t[8]){0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, 8);
        assert_int_equal(SC(&x, "rt_sigprocmask", 2, x.buf, 0, 8), 0);
        /* prctl name */
        assert_int_equal(SC(&x, "prctl", 16, x.buf), 0);
        lx_get(&x, x.buf, s, 16);
        assert_string_equal(s, "maps");
        assert_int_equal(
            SC(&x, "prctl", 15, lx_str(&x, 0, "a-much-too-long-name")), 0);
        assert_int_equal(SC(&x, "prctl", 16, x.buf + 100), 0);
        lx_get(&x, x.buf + 100, s, 16);
        assert_string_equal(s, "a-much-too-long");
        /* futex: a value mismatch is EAGAIN, a wake wakes nobody */
        lx_put(&x, 0, (uint8_t[4]){5, 0, 0, 0}, 4);
        assert_int_equal(SC(&x, "futex", x.buf, 128, 6), ERRNO(LX_EAGAIN));
        assert_int_equal(SC(&x, "futex", x.buf, 129, 1), 0);
        assert_int_equal(SC(&x, "futex", x.buf + 1, 129, 1), ERRNO(OS_EINVAL));
        /* sysinfo, umask */
        assert_int_equal(SC(&x, "sysinfo", x.buf), 0);
        uint8_t si[112];
        lx_get(&x, x.buf, si, 112);
        assert_int_equal(lx_ld(si, 32, 8), 64 * MIB);
        assert_int_equal(SC(&x, "umask", 077), 022);
        /* x86 TLS through the runner's callback */
        if (x86) {
            assert_int_equal(SC(&x, "arch_prctl", 0x1002, 0x7000), 0);
            assert_true(x.last.flags & OS_SYSRET_TLS);
            assert_int_equal(x.tls[OS_TLS_FS], 0x7000);
            assert_int_equal(SC(&x, "arch_prctl", 0x1003, x.buf), 0);
            uint8_t fs[8];
            lx_get(&x, x.buf, fs, 8);
            assert_int_equal(lx_ld(fs, 0, 8), 0x7000);
            assert_int_equal(
                SC(&x, "arch_prctl", 0x1002, x.h.layout.page_offset),
                ERRNO(OS_EPERM));
        }
        /* brk */
        uint64_t b0 = OK(SC(&x, "brk", 0));
        assert_true(b0 > 0);
        assert_int_equal(SC(&x, "brk", b0 + 100000), b0 + 100000);
        assert_true(x.last.flags & OS_SYSRET_MM_CHANGED);
        /* exit_group ends it all */
        assert_int_equal(SC(&x, "exit_group", 300), 0);
        assert_true(x.last.flags & OS_SYSRET_EXITED);
        assert_int_equal(x.last.exit_status, 300 & 0xff);
        os_proc_exit ex;
        os_proc_exit_state(x.p, &ex);
        assert_true(ex.exited);
        assert_int_equal(SC(&x, "getpid", 0), ERRNO(LX_ESRCH));
        lx_free(&x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(write_reaches_host_stdout),
        cmocka_unit_test(pipe_round_trip),
        cmocka_unit_test(wild_pointers_fault_cleanly),
        cmocka_unit_test(unknown_syscall_enosys_reported_once),
        cmocka_unit_test(process_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
