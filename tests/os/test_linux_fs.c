/*
 * test_linux_fs.c - paths and files of a process, both ABIs: openat
 * confined to the sysroot (".." above the root and symlinks climbing out
 * refused with EACCES, absolute symlinks resolved inside the sysroot so
 * the host file they name is never reached, loops ELOOP), a read-only
 * sysroot refusing writes with EROFS and a writable one creating files,
 * struct stat in each ABI's layout (x86-64 144 bytes vs asm-generic 128,
 * fields checked against the host's stat) and statx, getdents64 of a
 * sysroot directory, /proc/self/maps equal to os_aspace_format_maps and
 * /proc/self/exe naming the guest path.
 */
#define _XOPEN_SOURCE 700

#include "linux_harness.h"

#define O_RDONLY_L            0
#define O_WRONLY_L            1
#define O_RDWR_L              2
#define O_CREAT_L             0100
#define O_DIRECTORY_L         0200000
#define AT_SYMLINK_NOFOLLOW_L 0x100
#define AT_EMPTY_PATH_L       0x1000

static int64_t open_path(lx *x, const char *path, uint64_t flags)
{
    return SC(x, "openat", L_AT_FDCWD, lx_str(x, 0, path), flags, 0644);
}

/* Open path and read its first bytes. */
static void expect_content(lx *x, const char *path, const char *want)
{
    int64_t fd = open_path(x, path, O_RDONLY_L);
    if (fd < 0)
        fail_msg("open %s: %s", path, os_errno_name((int)fd));
    size_t n = strlen(want);
    char got[256] = "";
    assert_int_equal(SC(x, "read", (uint64_t)fd, x->buf + 1024, 255),
                     (int64_t)n);
    lx_get(x, x->buf + 1024, got, n);
    assert_memory_equal(got, want, n);
    assert_int_equal(SC(x, "close", (uint64_t)fd), 0);
}

static void expect_open_error(lx *x, const char *path, int64_t err)
{
    int64_t r = open_path(x, path, O_RDONLY_L);
    if (r != err)
        fail_msg("open %s: got %lld want %lld (%s)", path, (long long)r,
                 (long long)err, lx_abi_name(x->abi));
}

static void openat_is_confined_to_the_sysroot(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        expect_content(&x, "/etc/hello.txt", "hello, sysroot\n");
        expect_content(&x, "etc//./hello.txt", "hello, sysroot\n");
        expect_content(&x, "/dir/../etc/hello.txt", "hello, sysroot\n");
        /* an absolute symlink resolves from the sysroot's root */
        expect_content(&x, "/abs_in", "hello, sysroot\n");
        /* ... so one naming a host file reaches nothing */
        expect_open_error(&x, "/abs_out", ERRNO(OS_ENOENT));
        /* climbing above the root is refused, however spelt */
        expect_open_error(&x, "/../secret.txt", ERRNO(OS_EACCES));
        expect_open_error(&x, "../secret.txt", ERRNO(OS_EACCES));
        expect_open_error(&x, "/dir/../../secret.txt", ERRNO(OS_EACCES));
        expect_open_error(&x, "/rel_up", ERRNO(OS_EACCES));
        expect_open_error(&x, "/dir/up2", ERRNO(OS_EACCES));
        expect_open_error(&x, "/loop", ERRNO(LX_ELOOP));
        expect_open_error(&x, "/dir/a/x", ERRNO(LX_ENOTDIR));
        expect_open_error(&x, "/missing", ERRNO(OS_ENOENT));
        expect_open_error(&x, "", ERRNO(OS_ENOENT));
        /* reading a link is not following it */
        assert_true(SC(&x, "readlinkat", L_AT_FDCWD, lx_str(&x, 0, "/rel_up"),
                       x.buf + 512, 100) == 13);
        char t[32] = "";
        lx_get(&x, x.buf + 512, t, 13);
        assert_memory_equal(t, "../secret.txt", 13);
        assert_int_equal(SC(&x, "readlinkat", L_AT_FDCWD,
                            lx_str(&x, 0, "/etc/hello.txt"), x.buf + 512, 100),
                         ERRNO(OS_EINVAL));
        /* dirfd-relative */
        uint64_t dfd = OK(open_path(&x, "/dir", O_DIRECTORY_L));
        int64_t fd = SC(&x, "openat", dfd, lx_str(&x, 0, "a"), O_RDONLY_L);
        assert_true(fd >= 0);
        assert_int_equal(
            SC(&x, "openat", dfd, lx_str(&x, 0, "../../x"), O_RDONLY_L),
            ERRNO(OS_EACCES));
        assert_int_equal(
            SC(&x, "openat", (uint64_t)fd, lx_str(&x, 0, "b"), O_RDONLY_L),
            ERRNO(LX_ENOTDIR));
        assert_int_equal(SC(&x, "openat", 77, lx_str(&x, 0, "b"), O_RDONLY_L),
                         ERRNO(LX_EBADF));
        assert_int_equal(SC(&x, "openat", dfd, lx_str(&x, 0, "/etc/hello.txt"),
                            O_RDONLY_L) >= 0,
                         1);
        assert_int_equal(open_path(&x, "/dir", O_WRONLY_L), ERRNO(LX_EISDIR));
        /* a read-only sysroot */
        assert_int_equal(open_path(&x, "/etc/hello.txt", O_WRONLY_L),
                         ERRNO(LX_EROFS));
        assert_int_equal(open_path(&x, "/new.txt", O_CREAT_L | O_WRONLY_L),
                         ERRNO(LX_EROFS));
        assert_true(open_path(&x, "/etc/hello.txt", O_CREAT_L) >= 0);
        assert_int_equal(
            SC(&x, "mkdirat", L_AT_FDCWD, lx_str(&x, 0, "/d2"), 0755),
            ERRNO(LX_EROFS));
        assert_int_equal(
            SC(&x, "unlinkat", L_AT_FDCWD, lx_str(&x, 0, "/dir/a"), 0),
            ERRNO(LX_EROFS));
        assert_int_equal(SC(&x, "faccessat", L_AT_FDCWD,
                            lx_str(&x, 0, "/etc/hello.txt"), 2 /* W_OK */),
                         ERRNO(LX_EROFS));
        assert_int_equal(SC(&x, "faccessat", L_AT_FDCWD,
                            lx_str(&x, 0, "/etc/hello.txt"), 4 /* R_OK */),
                         0);
        assert_int_equal(
            SC(&x, "faccessat", L_AT_FDCWD, lx_str(&x, 0, "/rel_up"), 0),
            ERRNO(OS_EACCES));
        /* the host devices the model serves */
        uint64_t z = OK(open_path(&x, "/dev/zero", O_RDONLY_L));
        lx_put(&x, 2048, "xxxx", 4);
        assert_int_equal(SC(&x, "read", z, x.buf + 2048, 4), 4);
        lx_get(&x, x.buf + 2048, t, 4);
        assert_memory_equal(t, "\0\0\0\0", 4);
        lx_free(&x);
    }
}

static void writable_sysroot_creates_files(void **state)
{
    (void)state;
    lx x;
    lx_init(&x, OS_ABI_X86_64, true);
    uint64_t fd = OK(open_path(&x, "/dir/new.txt", O_CREAT_L | O_RDWR_L));
    assert_int_equal(SC(&x, "write", fd, lx_str(&x, 100, "made"), 4), 4);
    assert_int_equal(SC(&x, "close", fd), 0);
    char host[PATH_MAX];
    lx_path(host, x.root, "dir/new.txt");
    struct stat st;
    assert_int_equal(stat(host, &st), 0);
    assert_int_equal(st.st_size, 4);
    assert_int_equal(st.st_mode & 0777, 0644 & ~022);
    expect_content(&x, "/dir/new.txt", "made");
    /* creation through an escaping path is still refused */
    assert_int_equal(open_path(&x, "/../evil.txt", O_CREAT_L | O_WRONLY_L),
                     ERRNO(OS_EACCES));
    /* an absolute link to a host file names a path inside the sysroot,
     * whose directories do not exist there: nothing is created outside */
    assert_int_equal(open_path(&x, "/abs_out", O_CREAT_L | O_WRONLY_L),
                     ERRNO(OS_ENOENT));
    char secret[PATH_MAX];
    lx_path(secret, x.tmp, "secret.txt");
    assert_int_equal(stat(secret, &st), 0);
    assert_int_equal(st.st_size, 7);
    lx_free(&x);
}

/* Field offsets: {dev, ino, nlink, mode, uid, size, blksize, blocks,
 * mtime} and the width of nlink and blksize. */
typedef struct stat_layout {
    size_t size, dev, ino, nlink, mode, uid, gid, rdev, sz, blksize, blocks,
        mtime;
    unsigned nlink_w, blksize_w;
} stat_layout;

static const stat_layout x86_stat = {144, 0,  8,  16, 24, 28, 32,
                                     40,  48, 56, 64, 88, 8,  8};
static const stat_layout generic_stat = {128, 0,  8,  20, 16, 24, 28,
                                         32,  48, 56, 64, 88, 4,  4};

static void check_stat(const uint8_t *b, const stat_layout *l,
                       const struct stat *st)
{
    TU_EQ_HEX("ino", lx_ld(b, l->ino, 8), st->st_ino);
    TU_EQ_HEX("mode", lx_ld(b, l->mode, 4), st->st_mode);
    TU_EQ_HEX("nlink", lx_ld(b, l->nlink, l->nlink_w), st->st_nlink);
    TU_EQ_HEX("size", lx_ld(b, l->sz, 8), (uint64_t)st->st_size);
    TU_EQ_HEX("blksize", lx_ld(b, l->blksize, l->blksize_w),
              (uint64_t)st->st_blksize);
    TU_EQ_HEX("blocks", lx_ld(b, l->blocks, 8), (uint64_t)st->st_blocks);
    TU_EQ_HEX("mtime", lx_ld(b, l->mtime, 8), (uint64_t)st->st_mtim.tv_sec);
    TU_EQ_HEX("mtime ns", lx_ld(b, l->mtime + 8, 8),
              (uint64_t)st->st_mtim.tv_nsec);
    TU_EQ_HEX("dev", lx_ld(b, l->dev, 8), (uint64_t)st->st_dev);
    TU_EQ_HEX("uid (the host user shows as the guest's)", lx_ld(b, l->uid, 4),
              0);
}

static void fstat_layout_per_abi(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        const stat_layout *l =
            x.abi == OS_ABI_X86_64 ? &x86_stat : &generic_stat;
        char host[PATH_MAX];
        lx_path(host, x.root, "etc/hello.txt");
        struct stat st;
        assert_int_equal(stat(host, &st), 0);
        uint64_t fd = OK(open_path(&x, "/etc/hello.txt", O_RDONLY_L));
        uint8_t a[256], b[256];
        memset(a, 0xee, sizeof a);
        lx_put(&x, 4096, a, sizeof a);
        assert_int_equal(SC(&x, "fstat", fd, x.buf + 4096), 0);
        lx_get(&x, x.buf + 4096, a, sizeof a);
        check_stat(a, l, &st);
        TU_EQ_HEX("no byte past the struct", a[l->size], 0xee);
        /* newfstatat by path and with AT_EMPTY_PATH: the same bytes */
        assert_int_equal(SC(&x, "newfstatat", L_AT_FDCWD,
                            lx_str(&x, 0, "/etc/hello.txt"), x.buf + 8192, 0),
                         0);
        lx_get(&x, x.buf + 8192, b, l->size);
        assert_memory_equal(a, b, l->size);
        assert_int_equal(SC(&x, "newfstatat", fd, lx_str(&x, 0, ""),
                            x.buf + 8192, AT_EMPTY_PATH_L),
                         0);
        lx_get(&x, x.buf + 8192, b, l->size);
        assert_memory_equal(a, b, l->size);
        assert_int_equal(
            SC(&x, "newfstatat", fd, lx_str(&x, 0, ""), x.buf + 8192, 0),
            ERRNO(OS_ENOENT));
        /* lstat of a symlink, stat of a directory */
        assert_int_equal(SC(&x, "newfstatat", L_AT_FDCWD,
                            lx_str(&x, 0, "/abs_out"), x.buf + 8192,
                            AT_SYMLINK_NOFOLLOW_L),
                         0);
        lx_get(&x, x.buf + 8192, b, l->size);
        TU_EQ_HEX("S_IFLNK", lx_ld(b, l->mode, 4) & 0170000, 0120000);
        assert_int_equal(SC(&x, "newfstatat", L_AT_FDCWD, lx_str(&x, 0, "/dir"),
                            x.buf + 8192, 0),
                         0);
        lx_get(&x, x.buf + 8192, b, l->size);
        TU_EQ_HEX("S_IFDIR", lx_ld(b, l->mode, 4) & 0170000, 0040000);
        /* statx: the same layout everywhere */
        assert_int_equal(SC(&x, "statx", L_AT_FDCWD,
                            lx_str(&x, 0, "/etc/hello.txt"), 0, 0x7ff,
                            x.buf + 8192),
                         0);
        lx_get(&x, x.buf + 8192, b, 256);
        TU_EQ_HEX("stx_mask", lx_ld(b, 0, 4), 0x7ff);
        TU_EQ_HEX("stx_mode", lx_ld(b, 28, 2), st.st_mode);
        TU_EQ_HEX("stx_ino", lx_ld(b, 32, 8), st.st_ino);
        TU_EQ_HEX("stx_size", lx_ld(b, 40, 8), (uint64_t)st.st_size);
        TU_EQ_HEX("stx_mtime", lx_ld(b, 112, 8), (uint64_t)st.st_mtim.tv_sec);
        lx_free(&x);
    }
}

static void getdents64_lists_a_directory(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        uint64_t fd = OK(open_path(&x, "/dir", O_DIRECTORY_L));
        for (int round = 0; round < 2; round++) {
            int64_t n = SC(&x, "getdents64", fd, x.buf + 4096, 4096);
            assert_true(n > 0 && n <= 4096);
            uint8_t d[4096];
            lx_get(&x, x.buf + 4096, d, (size_t)n);
            unsigned seen = 0;
            for (size_t off = 0; off < (size_t)n;) {
                unsigned reclen = (unsigned)lx_ld(d, off + 16, 2);
                assert_true(reclen >= 24 && reclen % 8 == 0);
                const char *name = (const char *)d + off + 19;
                unsigned type = d[off + 18];
                if (strcmp(name, "a") == 0 && type == 8)
                    seen |= 1;
                if (strcmp(name, "b") == 0 && type == 8)
                    seen |= 2;
                if (strcmp(name, "sub") == 0 && type == 4)
                    seen |= 4;
                if (strcmp(name, "up2") == 0 && type == 10)
                    seen |= 8;
                if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                    seen |= 16;
                off += reclen;
            }
            TU_EQ_HEX("entries seen", seen, 31);
            assert_int_equal(SC(&x, "getdents64", fd, x.buf + 4096, 4096), 0);
            assert_int_equal(SC(&x, "lseek", fd, 0, 0), 0); /* rewind */
        }
        assert_int_equal(SC(&x, "getdents64", fd, x.buf + 4096, 10),
                         ERRNO(OS_EINVAL));
        uint64_t f = OK(open_path(&x, "/dir/a", O_RDONLY_L));
        assert_int_equal(SC(&x, "getdents64", f, x.buf + 4096, 4096),
                         ERRNO(LX_ENOTDIR));
        assert_int_equal(SC(&x, "read", fd, x.buf, 10), ERRNO(LX_EISDIR));
        lx_free(&x);
    }
}

static void proc_self_maps_and_exe(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        uint64_t fd = OK(open_path(&x, "/proc/self/maps", O_RDONLY_L));
        size_t want_len = os_aspace_format_maps(os_proc_aspace(x.p), NULL, 0);
        char *want = malloc(want_len + 1), *got = malloc(want_len + 1);
        os_aspace_format_maps(os_proc_aspace(x.p), want, want_len + 1);
        size_t len = 0;
        for (;;) {
            int64_t n = SC(&x, "read", fd, x.buf + 100, 100);
            assert_true(n >= 0);
            if (n == 0)
                break;
            assert_true(len + (size_t)n <= want_len);
            lx_get(&x, x.buf + 100, got + len, (size_t)n);
            len += (size_t)n;
        }
        got[len] = '\0';
        assert_string_equal(got, want);
        assert_non_null(strstr(got, "[stack]"));
        assert_non_null(strstr(got, " /bin/maps\n"));
        free(want);
        free(got);
        assert_int_equal(open_path(&x, "/proc/self/maps", O_WRONLY_L),
                         ERRNO(OS_EACCES));
        /* /proc/self/exe: the guest path, and the executable itself */
        assert_int_equal(SC(&x, "readlinkat", L_AT_FDCWD,
                            lx_str(&x, 0, "/proc/self/exe"), x.buf + 100, 200),
                         9);
        char s[16] = "";
        lx_get(&x, x.buf + 100, s, 9);
        assert_string_equal(s, "/bin/maps");
        uint64_t e = OK(open_path(&x, "/proc/self/exe", O_RDONLY_L));
        assert_int_equal(SC(&x, "read", e, x.buf + 100, 4), 4);
        lx_get(&x, x.buf + 100, s, 4);
        assert_memory_equal(s, "\177ELF", 4);
        struct stat st;
        assert_int_equal(stat(x.elf, &st), 0);
        assert_int_equal(SC(&x, "newfstatat", L_AT_FDCWD,
                            lx_str(&x, 0, "/proc/self/exe"), x.buf + 4096, 0),
                         0);
        uint8_t b[144];
        lx_get(&x, x.buf + 4096, b, 144);
        TU_EQ_HEX("exe size", lx_ld(b, 48, 8), (uint64_t)st.st_size);
        expect_open_error(&x, "/proc/1/maps", ERRNO(OS_ENOENT));
        expect_open_error(&x, "/proc/self/status", ERRNO(OS_ENOENT));
        /* readlink exists on x86-64 only */
        if (x.abi == OS_ABI_X86_64)
            assert_int_equal(SC(&x, "readlink", lx_str(&x, 0, "/proc/self/exe"),
                                x.buf + 100, 4),
                             4);
        lx_free(&x);
    }
}

/* A created file's mode is the guest's umask's doing alone: the host
 * process's umask (077 here) must not take bits away. */
static void created_modes_follow_the_guest_umask(void **state)
{
    (void)state;
    mode_t host_mask = umask(077);
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], true);
        assert_int_equal(SC(&x, "umask", 0), 022);
        uint64_t fd = OK(SC(&x, "openat", L_AT_FDCWD, lx_str(&x, 0, "/f"),
                            0101 /* O_WRONLY|O_CREAT */, 0666));
        assert_int_equal(SC(&x, "close", fd), 0);
        assert_int_equal(SC(&x, "mkdirat", L_AT_FDCWD, lx_str(&x, 0, "/d"),
                            0777),
                         0);
        char p[PATH_MAX];
        struct stat st;
        lx_path(p, x.root, "f");
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0666);
        lx_path(p, x.root, "d");
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0777);
        assert_int_equal(SC(&x, "umask", 027), 0);
        fd = OK(SC(&x, "openat", L_AT_FDCWD, lx_str(&x, 0, "/g"), 0101, 0666));
        lx_path(p, x.root, "g");
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        lx_free(&x);
    }
    umask(host_mask);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(openat_is_confined_to_the_sysroot),
        cmocka_unit_test(writable_sysroot_creates_files),
        cmocka_unit_test(fstat_layout_per_abi),
        cmocka_unit_test(getdents64_lists_a_directory),
        cmocka_unit_test(proc_self_maps_and_exe),
        cmocka_unit_test(created_modes_follow_the_guest_umask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
