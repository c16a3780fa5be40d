/*
 * test_linux_poll.c - poll (x86-64) and ppoll (both ABIs) as the guest
 * calls them: a pipe with and without data, the write end, POLLNVAL for a
 * closed fd, a negative fd skipped, an in-memory file always ready,
 * -EFAULT for a bad array (never a host fault), -EINVAL for nfds over
 * RLIMIT_NOFILE and for a bad timespec or sigset size; a wait that
 * reports BLOCKED while another process may run and expires on its
 * re-issue; a wait on the host; ppoll's mask in force while it waits,
 * restored after, kept for the signal frame when a signal it unblocked
 * ends the wait with -EINTR.
 */
#define _XOPEN_SOURCE 700

#include "linux_harness.h"

#include <time.h>

#define L_POLLIN   0x001
#define L_POLLOUT  0x004
#define L_POLLNVAL 0x020
#define SIGUSR1_L  10
#define LX_EINTR   4

/* The pollfd array at offset off: {fd, events} each. */
static uint64_t put_pollfds(lx *x, uint64_t off, const int *fd,
                            const uint16_t *ev, unsigned n)
{
    uint8_t b[64];
    assert_true(n * 8 <= sizeof b);
    memset(b, 0xee, sizeof b); /* revents must be overwritten */
    for (unsigned i = 0; i < n; i++) {
        uint32_t f = (uint32_t)fd[i];
        for (unsigned k = 0; k < 4; k++)
            b[8 * i + k] = (uint8_t)(f >> (8 * k));
        b[8 * i + 4] = (uint8_t)ev[i];
        b[8 * i + 5] = (uint8_t)(ev[i] >> 8);
    }
    return lx_put(x, off, b, 8 * n);
}

static uint16_t revents(lx *x, uint64_t va, unsigned i)
{
    uint8_t b[8];
    lx_get(x, va + 8 * i, b, 8);
    return (uint16_t)(b[6] | b[7] << 8);
}

static uint64_t put_ts(lx *x, uint64_t off, int64_t s, int64_t ns)
{
    uint8_t b[16];
    for (unsigned k = 0; k < 8; k++) {
        b[k] = (uint8_t)((uint64_t)s >> (8 * k));
        b[8 + k] = (uint8_t)((uint64_t)ns >> (8 * k));
    }
    return lx_put(x, off, b, 16);
}

/* ppoll with a timeout in ms (-1: NULL) and no mask. */
static int64_t ppoll_ms(lx *x, uint64_t fds, uint64_t n, int ms)
{
    uint64_t ts = ms < 0 ? 0 : put_ts(x, 4000, ms / 1000, ms % 1000 * 1000000);
    return SC(x, "ppoll", fds, n, ts, 0, 8);
}

static void make_pipe(lx *x, uint64_t *rfd, uint64_t *wfd)
{
    assert_int_equal(SC(x, "pipe2", x->buf + 3000, 0), 0);
    uint8_t b[8];
    lx_get(x, x->buf + 3000, b, 8);
    *rfd = lx_ld(b, 0, 4);
    *wfd = lx_ld(b, 4, 4);
}

static double host_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void poll_pipe_readiness(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        bool x86 = x.abi == OS_ABI_X86_64;
        uint64_t rfd, wfd;
        make_pipe(&x, &rfd, &wfd);
        /* empty: timeout 0 gives 0, revents cleared */
        int fds[4] = {(int)rfd, (int)wfd, -1, 77};
        uint16_t ev[4] = {L_POLLIN, L_POLLOUT, L_POLLIN, L_POLLIN};
        uint64_t a = put_pollfds(&x, 0, fds, ev, 1);
        assert_int_equal(ppoll_ms(&x, a, 1, 0), 0);
        assert_int_equal(revents(&x, a, 0), 0);
        if (x86) {
            a = put_pollfds(&x, 0, fds, ev, 1);
            assert_int_equal(SC(&x, "poll", a, 1, 0), 0);
            assert_int_equal(revents(&x, a, 0), 0);
        }
        /* the write end is writable, a negative fd is skipped, a closed
         * one is POLLNVAL */
        a = put_pollfds(&x, 0, fds, ev, 4);
        assert_int_equal(ppoll_ms(&x, a, 4, 0), 2);
        assert_int_equal(revents(&x, a, 0), 0);
        assert_int_equal(revents(&x, a, 1), L_POLLOUT);
        assert_int_equal(revents(&x, a, 2), 0);
        assert_int_equal(revents(&x, a, 3), L_POLLNVAL);
        /* with data: readable */
        assert_int_equal(SC(&x, "write", wfd, lx_str(&x, 500, "x"), 1), 1);
        a = put_pollfds(&x, 0, fds, ev, 3);
        assert_int_equal(ppoll_ms(&x, a, 3, -1), 2);
        assert_int_equal(revents(&x, a, 0), L_POLLIN);
        if (x86) {
            a = put_pollfds(&x, 0, fds, ev, 3);
            assert_int_equal(SC(&x, "poll", a, 3, NEG(-1)), 2);
            assert_int_equal(revents(&x, a, 0), L_POLLIN);
        }
        /* an in-memory file is always ready, filtered by events */
        uint64_t mfd = OK(SC(&x, "openat", L_AT_FDCWD,
                             lx_str(&x, 600, "/proc/self/maps"), 0));
        int mf[2] = {(int)mfd, (int)mfd};
        uint16_t mev[2] = {L_POLLIN | L_POLLOUT, 0x2 /* POLLPRI */};
        a = put_pollfds(&x, 0, mf, mev, 2);
        assert_int_equal(ppoll_ms(&x, a, 2, 0), 1);
        assert_int_equal(revents(&x, a, 0), L_POLLIN | L_POLLOUT);
        assert_int_equal(revents(&x, a, 1), 0);
        /* the read end after the writer closed: POLLHUP (from the host) */
        assert_int_equal(SC(&x, "read", rfd, x.buf + 700, 10), 1);
        assert_int_equal(SC(&x, "close", wfd), 0);
        a = put_pollfds(&x, 0, fds, ev, 1);
        assert_int_equal(ppoll_ms(&x, a, 1, 0), 1);
        assert_int_equal(revents(&x, a, 0), 0x10 /* POLLHUP */);
        /* no fds, no time: 0 */
        assert_int_equal(ppoll_ms(&x, 0, 0, 0), 0);
        lx_free(&x);
    }
}

static void poll_bad_arguments(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        bool x86 = x.abi == OS_ABI_X86_64;
        uint64_t kernel = x.h.layout.page_offset + 0x1000;
        uint64_t unmapped = x.buf + LX_BUF_SIZE + 0x100000;
        const uint64_t bad[] = {0, unmapped, kernel, UINT64_MAX - 7};
        for (unsigned b = 0; b < sizeof bad / sizeof bad[0]; b++) {
            assert_int_equal(ppoll_ms(&x, bad[b], 1, 0), ERRNO(OS_EFAULT));
            if (x86)
                assert_int_equal(SC(&x, "poll", bad[b], 1, 0),
                                 ERRNO(OS_EFAULT));
            /* a bad timespec or mask pointer (NULL: no timeout, no mask) */
            if (bad[b] != 0)
                assert_int_equal(SC(&x, "ppoll", 0, 0, bad[b], 0, 8),
                                 ERRNO(OS_EFAULT));
            assert_int_equal(SC(&x, "ppoll", 0, 0, put_ts(&x, 0, 0, 0),
                                bad[b], 8),
                             bad[b] ? ERRNO(OS_EFAULT) : 0);
        }
        /* an array in read-only memory: read, but revents cannot go back */
        uint64_t ro = OK(SC(&x, "mmap", 0, 4096, 1, 0x22, NEG(-1), 0));
        assert_int_equal(ppoll_ms(&x, ro, 1, 0), ERRNO(OS_EFAULT));
        /* nfds over RLIMIT_NOFILE (1024) */
        assert_int_equal(ppoll_ms(&x, x.buf, 1025, 0), ERRNO(OS_EINVAL));
        assert_int_equal(ppoll_ms(&x, x.buf, NEG(-1), 0), ERRNO(OS_EINVAL));
        if (x86)
            assert_int_equal(SC(&x, "poll", x.buf, 1025, 0), ERRNO(OS_EINVAL));
        /* timespec out of range, sigset of the wrong size */
        assert_int_equal(SC(&x, "ppoll", 0, 0, put_ts(&x, 0, 0, 1000000000),
                            0, 8),
                         ERRNO(OS_EINVAL));
        assert_int_equal(SC(&x, "ppoll", 0, 0, put_ts(&x, 0, 0, -1), 0, 8),
                         ERRNO(OS_EINVAL));
        assert_int_equal(SC(&x, "ppoll", 0, 0, put_ts(&x, 0, -1, 0), 0, 8),
                         ERRNO(OS_EINVAL));
        lx_put(&x, 100, (uint8_t[8]){0}, 8);
        assert_int_equal(SC(&x, "ppoll", 0, 0, put_ts(&x, 0, 0, 0),
                            x.buf + 100, 4),
                         ERRNO(OS_EINVAL));
        /* no mask: its size is not looked at */
        assert_int_equal(SC(&x, "ppoll", 0, 0, put_ts(&x, 0, 0, 0), 0, 4), 0);
        lx_free(&x);
    }
}

/* While another process may run, an empty wait reports BLOCKED; the
 * runner's re-issues keep the first deadline, so it expires. */
static void poll_blocks_and_expires(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        uint64_t rfd, wfd;
        make_pipe(&x, &rfd, &wfd);
        int fds[1] = {(int)rfd};
        uint16_t ev[1] = {L_POLLIN};
        uint64_t a = put_pollfds(&x, 0, fds, ev, 1);
        uint64_t ts = put_ts(&x, 4000, 0, 60000000); /* 60 ms */
        os_proc_set_may_block(x.p, true);
        double t0 = host_now();
        unsigned blocked = 0;
        int64_t r;
        for (;;) {
            r = SC(&x, "ppoll", a, 1, ts, 0, 8);
            if (!(x.last.flags & OS_SYSRET_BLOCKED))
                break;
            blocked++;
            struct timespec nap = {0, 5000000};
            nanosleep(&nap, NULL);
        }
        double spent = host_now() - t0;
        assert_int_equal(r, 0);
        assert_true(blocked >= 5);
        assert_true(spent >= 0.059 && spent < 5.0);
        /* the timespec now says no time is left */
        uint8_t b[16];
        lx_get(&x, ts, b, 16);
        assert_int_equal(lx_ld(b, 0, 8), 0);
        assert_int_equal(lx_ld(b, 8, 8), 0);
        /* a new call blocks again; data (written by another process in
         * real life: the write makes the next one a new call) ends it */
        ts = put_ts(&x, 4000, 10, 0);
        assert_int_equal(SC(&x, "ppoll", a, 1, ts, 0, 8), 0);
        assert_true(x.last.flags & OS_SYSRET_BLOCKED);
        assert_int_equal(SC(&x, "write", wfd, lx_str(&x, 500, "y"), 1), 1);
        assert_int_equal(SC(&x, "ppoll", a, 1, ts, 0, 8), 1);
        assert_false(x.last.flags & OS_SYSRET_BLOCKED);
        assert_int_equal(revents(&x, a, 0), L_POLLIN);
        /* deterministic: ready at once, no time spent */
        lx_get(&x, ts, b, 16);
        assert_int_equal(lx_ld(b, 0, 8), 10);
        assert_int_equal(lx_ld(b, 8, 8), 0);
        assert_int_equal(SC(&x, "read", rfd, x.buf + 700, 10), 1);
        /* nothing else to run: the host waits, and the fake clock moves
         * by the timeout */
        os_proc_set_may_block(x.p, false);
        assert_int_equal(SC(&x, "clock_gettime", 1, x.buf + 800), 0);
        lx_get(&x, x.buf + 800, b, 16);
        uint64_t c0 = lx_ld(b, 0, 8) * 1000000000u + lx_ld(b, 8, 8);
        t0 = host_now();
        assert_int_equal(ppoll_ms(&x, a, 1, 50), 0);
        assert_false(x.last.flags & OS_SYSRET_BLOCKED);
        spent = host_now() - t0;
        assert_true(spent >= 0.049 && spent < 5.0);
        assert_int_equal(SC(&x, "clock_gettime", 1, x.buf + 800), 0);
        lx_get(&x, x.buf + 800, b, 16);
        uint64_t c1 = lx_ld(b, 0, 8) * 1000000000u + lx_ld(b, 8, 8);
        assert_true(c1 - c0 >= 50000000u);
        if (x.abi == OS_ABI_X86_64) {
            t0 = host_now();
            assert_int_equal(SC(&x, "poll", a, 1, 30), 0);
            assert_true(host_now() - t0 >= 0.029);
        }
        /* nothing to wait for, forever, nobody to wake it: killed */
        assert_int_equal(ppoll_ms(&x, 0, 0, -1), ERRNO(LX_EINTR));
        assert_true(x.last.flags & OS_SYSRET_EXITED);
        assert_int_equal(x.last.exit_status, 128 + 9);
        assert_int_equal(x.nreports, 1);
        lx_free(&x);
    }
}

/* ppoll's mask: in force while it waits, restored when it returns. */
static void ppoll_mask(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        uint64_t rfd, wfd;
        make_pipe(&x, &rfd, &wfd);
        int fds[1] = {(int)rfd};
        uint16_t ev[1] = {L_POLLIN};
        uint64_t a = put_pollfds(&x, 0, fds, ev, 1);
        /* a handler for SIGUSR1, blocked, then sent */
        uint8_t act[32] = {0x34, 0x12};
        lx_put(&x, 200, act, 32);
        assert_int_equal(SC(&x, "rt_sigaction", SIGUSR1_L, x.buf + 200, 0, 8),
                         0);
        lx_put(&x, 300, (uint8_t[8]){0, 0x02}, 8); /* signal 10 */
        assert_int_equal(SC(&x, "rt_sigprocmask", 0, x.buf + 300, 0, 8), 0);
        uint64_t pid = OK(SC(&x, "getpid", 0));
        assert_int_equal(SC(&x, "kill", pid, SIGUSR1_L), 0);
        assert_false(os_proc_signal_pending(x.p));
        /* a mask blocking SIGHUP, SIGUSR1 and SIGKILL (dropped): nothing
         * ready, timeout 0, mask restored */
        lx_put(&x, 310, (uint8_t[8]){0x01, 0x03, 0, 0, 0, 0, 0, 0}, 8);
        assert_int_equal(SC(&x, "ppoll", a, 1, put_ts(&x, 400, 0, 0),
                            x.buf + 310, 8),
                         0);
        assert_int_equal(os_proc_sigmask(x.p), 0x200);
        /* data ready: the count wins over the signal; mask restored,
         * the signal still pending and blocked */
        lx_put(&x, 320, (uint8_t[8]){0}, 8);
        assert_int_equal(SC(&x, "write", wfd, lx_str(&x, 500, "z"), 1), 1);
        assert_int_equal(SC(&x, "ppoll", a, 1, 0, x.buf + 320, 8), 1);
        assert_int_equal(os_proc_sigmask(x.p), 0x200);
        assert_false(os_proc_signal_pending(x.p));
        assert_int_equal(SC(&x, "read", rfd, x.buf + 700, 10), 1);
        /* nothing ready, the mask unblocks it: -EINTR, the mask stays for
         * the frame, which saves the old one */
        assert_int_equal(SC(&x, "ppoll", a, 1, put_ts(&x, 400, 1, 0),
                            x.buf + 320, 8),
                         ERRNO(LX_EINTR));
        assert_true(x.last.flags & OS_SYSRET_SIGNAL);
        assert_int_equal(os_proc_sigmask(x.p), 0);
        assert_int_equal(os_proc_take_saved_mask(x.p), 0x200);
        os_siginfo si;
        assert_int_equal(os_proc_next_signal(x.p, &si), SIGUSR1_L);
        /* (the frame's sigreturn puts 0x200 back) */
        lx_put(&x, 330, (uint8_t[8]){0, 0x02}, 8);
        assert_int_equal(SC(&x, "rt_sigprocmask", 2, x.buf + 330, 0, 8), 0);
        /* blocked while waiting with the mask; a re-issue keeps it and
         * the end of the wait restores the old one */
        os_proc_set_may_block(x.p, true);
        uint64_t ts = put_ts(&x, 400, 5, 0);
        assert_int_equal(SC(&x, "ppoll", a, 1, ts, x.buf + 310, 8), 0);
        assert_true(x.last.flags & OS_SYSRET_BLOCKED);
        assert_int_equal(os_proc_sigmask(x.p), 0x201);
        assert_int_equal(SC(&x, "ppoll", a, 1, ts, x.buf + 310, 8), 0);
        assert_true(x.last.flags & OS_SYSRET_BLOCKED);
        assert_int_equal(os_proc_sigmask(x.p), 0x201);
        assert_int_equal(SC(&x, "write", wfd, lx_str(&x, 500, "z"), 1), 1);
        assert_int_equal(SC(&x, "ppoll", a, 1, ts, x.buf + 310, 8), 1);
        assert_int_equal(os_proc_sigmask(x.p), 0x200);
        lx_free(&x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(poll_pipe_readiness),
        cmocka_unit_test(poll_bad_arguments),
        cmocka_unit_test(poll_blocks_and_expires),
        cmocka_unit_test(ppoll_mask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
