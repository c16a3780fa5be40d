/*
 * test_linux_utimes.c - file times through the syscall layer, both ABIs:
 * utimensat sets atime and mtime (read back with newfstatat), UTIME_OMIT
 * leaves one alone, UTIME_NOW and NULL take the time of day, a symlink is
 * changed itself with AT_SYMLINK_NOFOLLOW, futimens is a NULL path, one
 * that leads out of the sysroot never reaches the host file; -EROFS on a
 * read-only sysroot (but both OMIT is no call at all), -EINVAL, -EFAULT,
 * -ENOENT, -EBADF; utimes, utime and futimesat on x86-64.
 */
#define _XOPEN_SOURCE 700

#include "linux_harness.h"

#include <time.h>

#define UTIME_NOW_L  ((1 << 30) - 1)
#define UTIME_OMIT_L ((1 << 30) - 2)
#define NOFOLLOW_L   0x100
#define EMPTY_PATH_L 0x1000
#define ST_ATIME     72 /* both ABIs' struct stat */
#define ST_MTIME     88

typedef struct ftimes {
    int64_t as, ans, ms, mns;
} ftimes;

static uint64_t put_times(lx *x, uint64_t off, int64_t as, int64_t ans,
                          int64_t ms, int64_t mns)
{
    uint8_t b[32];
    const int64_t v[4] = {as, ans, ms, mns};
    for (unsigned i = 0; i < 4; i++)
        for (unsigned k = 0; k < 8; k++)
            b[8 * i + k] = (uint8_t)((uint64_t)v[i] >> (8 * k));
    return lx_put(x, off, b, 32);
}

static ftimes stat_times(lx *x, const char *path, uint32_t flags)
{
    uint8_t b[144];
    assert_int_equal(SC(x, "newfstatat", L_AT_FDCWD, lx_str(x, 1000, path),
                        x->buf + 2000, flags),
                     0);
    lx_get(x, x->buf + 2000, b, sizeof b);
    return (ftimes){(int64_t)lx_ld(b, ST_ATIME, 8),
                    (int64_t)lx_ld(b, ST_ATIME + 8, 8),
                    (int64_t)lx_ld(b, ST_MTIME, 8),
                    (int64_t)lx_ld(b, ST_MTIME + 8, 8)};
}

static int64_t ut(lx *x, uint64_t dirfd, const char *path,
                         uint64_t times, uint64_t flags)
{
    uint64_t p = path != NULL ? lx_str(x, 500, path) : 0;
    return SC(x, "utimensat", dirfd, p, times, flags);
}

static void utimensat_sets_times(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], true);
        uint64_t t = put_times(&x, 0, 1000, 5, 2000, 6);
        assert_int_equal(ut(&x, L_AT_FDCWD, "/etc/hello.txt", t, 0), 0);
        ftimes f = stat_times(&x, "/etc/hello.txt", 0);
        assert_int_equal(f.as, 1000);
        assert_int_equal(f.ans, 5);
        assert_int_equal(f.ms, 2000);
        assert_int_equal(f.mns, 6);
        /* UTIME_OMIT keeps atime; a relative path from the cwd */
        assert_int_equal(SC(&x, "chdir", lx_str(&x, 600, "/etc")), 0);
        t = put_times(&x, 0, 1, UTIME_OMIT_L, 3000, 0);
        assert_int_equal(ut(&x, L_AT_FDCWD, "hello.txt", t, 0), 0);
        f = stat_times(&x, "/etc/hello.txt", 0);
        assert_int_equal(f.as, 1000);
        assert_int_equal(f.ms, 3000);
        /* UTIME_NOW and NULL: the time of day */
        int64_t now = (int64_t)time(NULL);
        t = put_times(&x, 0, 0, UTIME_NOW_L, 0, UTIME_OMIT_L);
        assert_int_equal(ut(&x, L_AT_FDCWD, "hello.txt", t, 0), 0);
        f = stat_times(&x, "/etc/hello.txt", 0);
        assert_true(f.as >= now - 1 && f.as <= now + 60);
        assert_int_equal(f.ms, 3000);
        assert_int_equal(ut(&x, L_AT_FDCWD, "/dir/a", 0, 0), 0);
        f = stat_times(&x, "/dir/a", 0);
        assert_true(f.ms >= now - 1 && f.ms <= now + 60);
        /* a symlink: followed, or changed itself with NOFOLLOW */
        t = put_times(&x, 0, 4000, 0, 5000, 0);
        assert_int_equal(ut(&x, L_AT_FDCWD, "/abs_in", t, NOFOLLOW_L),
                         0);
        assert_int_equal(stat_times(&x, "/abs_in", NOFOLLOW_L).ms, 5000);
        assert_int_equal(stat_times(&x, "/abs_in", 0).ms, 3000);
        t = put_times(&x, 0, 6000, 0, 7000, 0);
        assert_int_equal(ut(&x, L_AT_FDCWD, "/abs_in", t, 0), 0);
        assert_int_equal(stat_times(&x, "/etc/hello.txt", 0).ms, 7000);
        assert_int_equal(stat_times(&x, "/abs_in", NOFOLLOW_L).ms, 5000);
        /* futimens (NULL path) and AT_EMPTY_PATH on an fd */
        uint64_t fd = OK(SC(&x, "openat", L_AT_FDCWD,
                            lx_str(&x, 600, "/dir/b"), 0));
        t = put_times(&x, 0, 10, 0, 8000, 0);
        assert_int_equal(ut(&x, fd, NULL, t, 0), 0);
        assert_int_equal(stat_times(&x, "/dir/b", 0).ms, 8000);
        t = put_times(&x, 0, 10, 0, 9000, 0);
        assert_int_equal(ut(&x, fd, "", t, EMPTY_PATH_L), 0);
        assert_int_equal(stat_times(&x, "/dir/b", 0).ms, 9000);
        assert_int_equal(ut(&x, fd, "", t, 0), ERRNO(OS_ENOENT));
        assert_int_equal(ut(&x, fd, NULL, t, NOFOLLOW_L),
                         ERRNO(OS_EINVAL));
        assert_int_equal(ut(&x, 77, NULL, t, 0), ERRNO(LX_EBADF));
        /* a path relative to a directory fd */
        uint64_t dfd = OK(SC(&x, "openat", L_AT_FDCWD,
                             lx_str(&x, 600, "/dir"), 0));
        t = put_times(&x, 0, 10, 0, 9500, 0);
        assert_int_equal(ut(&x, dfd, "a", t, 0), 0);
        assert_int_equal(stat_times(&x, "/dir/a", 0).ms, 9500);
        /* a symlink out of the sysroot reaches nothing outside */
        char host[PATH_MAX];
        lx_path(host, x.tmp, "secret.txt");
        struct stat before, after;
        assert_int_equal(stat(host, &before), 0);
        assert_true(ut(&x, L_AT_FDCWD, "/abs_out", t, 0) < 0);
        assert_true(ut(&x, L_AT_FDCWD, "/rel_up", t, 0) < 0);
        assert_int_equal(stat(host, &after), 0);
        assert_int_equal(before.st_mtime, after.st_mtime);
        /* bad arguments */
        t = put_times(&x, 0, 1, 1000000000, 2, 0);
        assert_int_equal(ut(&x, L_AT_FDCWD, "/dir/a", t, 0),
                         ERRNO(OS_EINVAL));
        t = put_times(&x, 0, 1, 0, 2, -1);
        assert_int_equal(ut(&x, L_AT_FDCWD, "/dir/a", t, 0),
                         ERRNO(OS_EINVAL));
        assert_int_equal(ut(&x, L_AT_FDCWD, "/dir/a", 0, 0x8),
                         ERRNO(OS_EINVAL));
        assert_int_equal(ut(&x, L_AT_FDCWD, "/nope", 0, 0),
                         ERRNO(OS_ENOENT));
        uint64_t unmapped = x.buf + LX_BUF_SIZE + 0x100000;
        assert_int_equal(SC(&x, "utimensat", L_AT_FDCWD,
                            lx_str(&x, 500, "/dir/a"), unmapped, 0),
                         ERRNO(OS_EFAULT));
        assert_int_equal(SC(&x, "utimensat", L_AT_FDCWD, unmapped, 0, 0),
                         ERRNO(OS_EFAULT));
        assert_int_equal(SC(&x, "utimensat", L_AT_FDCWD, 0, 0, 0),
                         ERRNO(OS_EFAULT));
        lx_free(&x);
    }
}

static void utimensat_read_only_sysroot(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        ftimes f0 = stat_times(&x, "/etc/hello.txt", 0);
        uint64_t t = put_times(&x, 0, 1000, 0, 2000, 0);
        assert_int_equal(ut(&x, L_AT_FDCWD, "/etc/hello.txt", t, 0),
                         ERRNO(LX_EROFS));
        assert_int_equal(ut(&x, L_AT_FDCWD, "/etc/hello.txt", 0, 0),
                         ERRNO(LX_EROFS));
        uint64_t fd = OK(SC(&x, "openat", L_AT_FDCWD,
                            lx_str(&x, 600, "/etc/hello.txt"), 0));
        assert_int_equal(ut(&x, fd, NULL, t, 0), ERRNO(LX_EROFS));
        /* the lookup comes first, then the times, then the mount */
        assert_int_equal(ut(&x, L_AT_FDCWD, "/nope", t, 0),
                         ERRNO(OS_ENOENT));
        uint64_t bad = put_times(&x, 100, 1, -5, 2, 0);
        assert_int_equal(ut(&x, L_AT_FDCWD, "/etc/hello.txt", bad, 0),
                         ERRNO(OS_EINVAL));
        /* both omitted: nothing to do, not even the lookup */
        t = put_times(&x, 0, 1, UTIME_OMIT_L, 2, UTIME_OMIT_L);
        assert_int_equal(ut(&x, L_AT_FDCWD, "/etc/hello.txt", t, 0), 0);
        assert_int_equal(ut(&x, L_AT_FDCWD, "/nope", t, 0), 0);
        ftimes f1 = stat_times(&x, "/etc/hello.txt", 0);
        assert_int_equal(f0.ms, f1.ms);
        assert_int_equal(f0.mns, f1.mns);
        /* the files the model serves: now is accepted */
        assert_int_equal(ut(&x, L_AT_FDCWD, "/dev/null", 0, 0), 0);
        assert_int_equal(ut(&x, L_AT_FDCWD, "/proc/self/maps", 0, 0),
                         0);
        lx_free(&x);
    }
}

/* The older calls of x86-64: utimes and futimesat (timeval), utime. */
static void utimes_and_utime_x86(void **state)
{
    (void)state;
    lx x;
    lx_init(&x, OS_ABI_X86_64, true);
    uint64_t tv = put_times(&x, 0, 100, 7, 200, 8); /* usec */
    uint64_t p = lx_str(&x, 500, "/dir/a");
    assert_int_equal(SC(&x, "utimes", p, tv), 0);
    ftimes f = stat_times(&x, "/dir/a", 0);
    assert_int_equal(f.as, 100);
    assert_int_equal(f.ans, 7000);
    assert_int_equal(f.ms, 200);
    assert_int_equal(f.mns, 8000);
    tv = put_times(&x, 0, 100, 1000000, 200, 0);
    assert_int_equal(SC(&x, "utimes", p, tv), ERRNO(OS_EINVAL));
    tv = put_times(&x, 0, 1, UTIME_NOW_L, 2, 0);
    assert_int_equal(SC(&x, "utimes", p, tv), ERRNO(OS_EINVAL));
    uint64_t dfd =
        OK(SC(&x, "openat", L_AT_FDCWD, lx_str(&x, 600, "/dir"), 0));
    tv = put_times(&x, 0, 300, 0, 400, 0);
    assert_int_equal(SC(&x, "futimesat", dfd, lx_str(&x, 500, "b"), tv), 0);
    assert_int_equal(stat_times(&x, "/dir/b", 0).ms, 400);
    uint8_t ub[16] = {0};
    ub[0] = 0x2c; /* actime 300 */
    ub[1] = 0x01;
    ub[8] = 0xf4; /* modtime 500 */
    ub[9] = 0x01;
    uint64_t u = lx_put(&x, 800, ub, 16);
    assert_int_equal(SC(&x, "utime", lx_str(&x, 500, "/dir/b"), u), 0);
    f = stat_times(&x, "/dir/b", 0);
    assert_int_equal(f.as, 300);
    assert_int_equal(f.ms, 500);
    assert_int_equal(f.mns, 0);
    assert_int_equal(SC(&x, "utime", lx_str(&x, 500, "/dir/b"),
                        x.buf + LX_BUF_SIZE + 0x100000),
                     ERRNO(OS_EFAULT));
    lx_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utimensat_sets_times),
        cmocka_unit_test(utimensat_read_only_sysroot),
        cmocka_unit_test(utimes_and_utime_x86),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
