/*
 * test_linux_exec.c - execve on both ABIs without a CPU: the program (a
 * real static ELF copied into the sysroot) replaces the process's address
 * space; argv/envp arrive on the new stack; close-on-exec fds close and
 * caught signals return to SIG_DFL; the path errors (ENOENT, ENOTDIR,
 * EACCES for a directory and a file without execute permission, ELOOP),
 * ENOEXEC for text and for an ELF of the other architecture (reported),
 * EFAULT for bad pointers, E2BIG at MAX_ARG_STRLEN and at a quarter of
 * RLIMIT_STACK; "#!" scripts with an argument, nested up to Linux's limit
 * (then ELOOP). A failing execve leaves the process as it was.
 */
#define _XOPEN_SOURCE 700

#include "linux_harness.h"

#define MAX_ARG_STRLEN (32 * 4096)
#define BIG_SIZE       (1u << 20)
#define OFF_STRV       32768 /* scratch offsets: arrays and strings */

/* A host file in the sysroot with mode. */
static void put_file(lx *x, const char *rel, const void *data, size_t len,
                     mode_t mode)
{
    char p[PATH_MAX];
    lx_path(p, x->root, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    assert_int_equal(chmod(p, mode), 0);
}

static void copy_elf(lx *x, const char *from, const char *rel)
{
    FILE *f = fopen(from, "rb");
    assert_non_null(f);
    static char img[4 << 20];
    size_t n = fread(img, 1, sizeof img, f);
    fclose(f);
    assert_true(n > 0 && n < sizeof img);
    put_file(x, rel, img, n, 0755);
}

/* /bin with the program, text, a file without x, the other ABI's ELF. */
static void make_bin(lx *x)
{
    char p[PATH_MAX];
    lx_path(p, x->root, "bin");
    assert_int_equal(mkdir(p, 0755), 0);
    copy_elf(x, x->elf, "bin/prog");
    char other[PATH_MAX];
    snprintf(other, sizeof other, "%s/%s", OS_TEST_ELF_DIR,
             x->abi == OS_ABI_X86_64 ? "maps-riscv64" : "maps-x86_64");
    copy_elf(x, other, "bin/foreign");
    put_file(x, "bin/text", "echo hi\n", 8, 0755);
    put_file(x, "bin/noexec", "#!/bin/prog\n", 12, 0644);
}

/* Strings and their NULL-terminated array in guest memory at base + off.
 * @return the array's address. */
static uint64_t put_strv(lx *x, uint64_t base, uint64_t off,
                         const char *const *v)
{
    uint64_t ptrs[16], at = base + off + 8 * 16;
    size_t n = 0;
    for (; v[n] != NULL; n++) {
        assert_true(n < 15);
        size_t len = strlen(v[n]) + 1;
        assert_int_equal(os_copy_to_user(&x->u, at, v[n], len), 0);
        ptrs[n] = at;
        at += len;
    }
    ptrs[n] = 0;
    assert_int_equal(os_copy_to_user(&x->u, base + off, ptrs, 8 * (n + 1)), 0);
    return base + off;
}

static int64_t exec_v(lx *x, const char *path, const char *const *argv,
                      const char *const *envp)
{
    uint64_t ua = put_strv(x, x->buf, OFF_STRV, argv);
    uint64_t ue = put_strv(x, x->buf, OFF_STRV + 16384, envp);
    return SC(x, "execve", lx_str(x, 0, path), ua, ue);
}

static uint64_t entry_sp; /* of the last exec */

/* After a successful exec: the test reaches the new space. */
static void follow_exec(lx *x)
{
    assert_true(x->last.flags & OS_SYSRET_EXEC);
    entry_sp = x->last.entry_sp;
    assert_int_equal(x->last.entry_pc, x->e.pc); /* the same ELF */
    os_uaccess_init(&x->u, os_proc_aspace(x->p), NULL);
    x->buf = OK(SC(x, "mmap", 0, LX_BUF_SIZE, 3, 0x22, NEG(-1), 0));
}

/* The new stack holds argc and argv as want. */
static void expect_stack_argv(lx *x, const char *const *want)
{
    uint64_t sp = entry_sp, argc;
    assert_int_equal(os_copy_from_user(&x->u, &argc, sp, 8), 0);
    size_t n = 0;
    while (want[n] != NULL)
        n++;
    assert_int_equal(argc, n);
    for (size_t i = 0; i < n; i++) {
        uint64_t ptr;
        char s[256] = "";
        assert_int_equal(os_copy_from_user(&x->u, &ptr, sp + 8 + 8 * i, 8), 0);
        assert_true(os_strncpy_from_user(&x->u, s, ptr, sizeof s) >= 0);
        if (strcmp(s, want[i]) != 0)
            fail_msg("argv[%zu] = \"%s\", want \"%s\"", i, s, want[i]);
    }
}

static void expect_exec_error(lx *x, const char *path, int64_t err)
{
    static const char *const argv[] = {"a", NULL}, *const envp[] = {NULL};
    uint64_t root = os_aspace_root_reg(os_proc_aspace(x->p));
    int64_t r = exec_v(x, path, argv, envp);
    if (r != err)
        fail_msg("execve %s: got %lld want %lld (%s)", path, (long long)r,
                 (long long)err, lx_abi_name(x->abi));
    /* the caller is untouched: same space, scratch memory still there */
    assert_false(x->last.flags & OS_SYSRET_EXEC);
    assert_int_equal(os_aspace_root_reg(os_proc_aspace(x->p)), root);
    lx_str(x, 0, "still mapped");
}

static void path_errors_leave_the_process_as_it_was(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        make_bin(&x);
        expect_exec_error(&x, "/missing", ERRNO(OS_ENOENT));
        expect_exec_error(&x, "", ERRNO(OS_ENOENT));
        expect_exec_error(&x, "/bin/prog/x", ERRNO(LX_ENOTDIR));
        expect_exec_error(&x, "/bin", ERRNO(OS_EACCES));
        expect_exec_error(&x, "/bin/noexec", ERRNO(OS_EACCES));
        expect_exec_error(&x, "/dev/null", ERRNO(OS_EACCES));
        expect_exec_error(&x, "/loop", ERRNO(LX_ELOOP));
        expect_exec_error(&x, "/../secret.txt", ERRNO(OS_EACCES));
        unsigned reports = x.nreports;
        expect_exec_error(&x, "/bin/text", ERRNO(OS_ENOEXEC));
        assert_int_equal(x.nreports, reports); /* text: no report */
        expect_exec_error(&x, "/bin/foreign", ERRNO(OS_ENOEXEC));
        assert_int_equal(x.nreports, reports + 1);
        assert_non_null(strstr(x.reports[reports], "/bin/foreign"));
        lx_free(&x);
    }
}

static void bad_pointers_are_efault(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        make_bin(&x);
        const uint64_t bad = 8;
        uint64_t path = lx_str(&x, 0, "/bin/prog");
        uint64_t ok_env =
            put_strv(&x, x.buf, OFF_STRV + 16384, (const char *const[]){NULL});
        assert_int_equal(SC(&x, "execve", bad, 0, 0), ERRNO(OS_EFAULT));
        assert_int_equal(SC(&x, "execve", path, bad, ok_env), ERRNO(OS_EFAULT));
        assert_int_equal(SC(&x, "execve", path, 0, bad), ERRNO(OS_EFAULT));
        /* a bad string inside argv */
        uint64_t v[3] = {path, bad, 0};
        uint64_t uv = lx_put(&x, OFF_STRV, v, sizeof v);
        assert_int_equal(SC(&x, "execve", path, uv, ok_env), ERRNO(OS_EFAULT));
        /* a pointer array running into unmapped memory */
        uint64_t m = OK(SC(&x, "mmap", 0, 4096, 3, 0x22, NEG(-1), 0));
        uint64_t fill[512];
        for (unsigned k = 0; k < 512; k++)
            fill[k] = path;
        assert_int_equal(os_copy_to_user(&x.u, m, fill, sizeof fill), 0);
        assert_int_equal(SC(&x, "execve", path, m, ok_env), ERRNO(OS_EFAULT));
        assert_int_equal(SC(&x, "munmap", m, 4096), 0);
        lx_free(&x);
    }
}

static void argument_space_limits_are_linux(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        make_bin(&x);
        uint64_t big = OK(SC(&x, "mmap", 0, BIG_SIZE, 3, 0x22, NEG(-1), 0));
        static char s[MAX_ARG_STRLEN + 1];
        memset(s, 'a', MAX_ARG_STRLEN);
        /* MAX_ARG_STRLEN bytes without the NUL: too long */
        s[MAX_ARG_STRLEN] = '\0';
        assert_int_equal(os_copy_to_user(&x.u, big, s, sizeof s), 0);
        uint64_t path = lx_str(&x, 0, "/bin/prog");
        uint64_t v[4] = {path, big, 0, 0};
        uint64_t uv = lx_put(&x, OFF_STRV, v, sizeof v);
        assert_int_equal(SC(&x, "execve", path, uv, 0), ERRNO(OS_E2BIG));
        /* a quarter of RLIMIT_STACK: 1 MiB leaves 256 KiB for strings */
        uint64_t lim[2] = {1u << 20, 1u << 20};
        uint64_t ul = lx_put(&x, 1024, lim, sizeof lim);
        assert_int_equal(SC(&x, "prlimit64", 0, 3, ul, 0), 0);
        s[100000] = '\0';
        assert_int_equal(os_copy_to_user(&x.u, big, s, 100001), 0);
        assert_int_equal(os_copy_to_user(&x.u, big + 200000, s, 100001), 0);
        assert_int_equal(os_copy_to_user(&x.u, big + 400000, s, 100001), 0);
        uint64_t three[5] = {path, big, big + 200000, big + 400000, 0};
        uv = lx_put(&x, OFF_STRV, three, sizeof three);
        assert_int_equal(SC(&x, "execve", path, uv, 0), ERRNO(OS_E2BIG));
        /* two fit: the exec goes through, argv[0] "" when argv is empty */
        uint64_t two[4] = {path, big, big + 200000, 0};
        uv = lx_put(&x, OFF_STRV, two, sizeof two);
        assert_int_equal(SC(&x, "execve", path, uv, 0), 0);
        follow_exec(&x);
        assert_int_equal(SC(&x, "execve", lx_str(&x, 0, "/bin/prog"), 0, 0), 0);
        follow_exec(&x);
        expect_stack_argv(&x, (const char *const[]){"", NULL});
        lx_free(&x);
    }
}

static void exec_replaces_the_program(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        make_bin(&x);
        uint64_t path = lx_str(&x, 0, "/etc/hello.txt");
        uint64_t keep = OK(SC(&x, "openat", L_AT_FDCWD, path, 0, 0));
        uint64_t gone = OK(SC(&x, "openat", L_AT_FDCWD, path, 02000000, 0));
        /* a caught SIGUSR1 and an ignored SIGUSR2 (handler first) */
        uint64_t act[4] = {0x1000, 0, 0, 0};
        uint64_t ua = lx_put(&x, 2048, act, sizeof act);
        assert_int_equal(SC(&x, "rt_sigaction", 10, ua, 0, 8), 0);
        act[0] = 1;
        ua = lx_put(&x, 2048, act, sizeof act);
        assert_int_equal(SC(&x, "rt_sigaction", 12, ua, 0, 8), 0);
        os_aspace *old = os_proc_aspace(x.p);
        static const char *const argv[] = {"prog", "one", "two", NULL};
        static const char *const envp[] = {"A=1", NULL};
        assert_int_equal(exec_v(&x, "/bin/prog", argv, envp), 0);
        assert_true(os_proc_aspace(x.p) != old);
        follow_exec(&x);
        expect_stack_argv(&x, argv);
        assert_true(SC(&x, "fcntl", keep, 1, 0) == 0);
        assert_int_equal(SC(&x, "fcntl", gone, 1, 0), ERRNO(LX_EBADF));
        os_sigaction sa;
        assert_true(os_proc_sigaction(x.p, 10, &sa));
        assert_int_equal(sa.handler, 0);
        assert_true(os_proc_sigaction(x.p, 12, &sa));
        assert_int_equal(sa.handler, 1);
        char name[16] = "";
        assert_int_equal(SC(&x, "prctl", 16, x.buf + 512), 0);
        lx_get(&x, x.buf + 512, name, sizeof name);
        assert_string_equal(name, "prog");
        int64_t n = SC(&x, "readlinkat", L_AT_FDCWD,
                       lx_str(&x, 0, "/proc/self/exe"), x.buf + 512, 100);
        assert_int_equal(n, 9);
        lx_get(&x, x.buf + 512, name, 9);
        assert_memory_equal(name, "/bin/prog", 9);
        /* /proc/self/exe runs the process's own executable again */
        static const char *const again[] = {"self", NULL};
        assert_int_equal(exec_v(&x, "/proc/self/exe", again, envp), 0);
        follow_exec(&x);
        expect_stack_argv(&x, again);
        lx_free(&x);
    }
}

static void scripts_run_their_interpreter(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        make_bin(&x);
        put_file(&x, "bin/script", "#! /bin/prog  -a b \t\nrest\n", 26, 0755);
        put_file(&x, "bin/bare", "#!/bin/prog", 11, 0755);
        put_file(&x, "bin/blank", "#!  \n", 5, 0755);
        static const char *const argv[] = {"script", "x", NULL};
        static const char *const envp[] = {NULL};
        assert_int_equal(exec_v(&x, "/bin/script", argv, envp), 0);
        follow_exec(&x);
        expect_stack_argv(&x, (const char *const[]){"/bin/prog", "-a b",
                                                    "/bin/script", "x", NULL});
        assert_int_equal(exec_v(&x, "/bin/bare", argv, envp), 0);
        follow_exec(&x);
        expect_stack_argv(
            &x, (const char *const[]){"/bin/prog", "/bin/bare", "x", NULL});
        expect_exec_error(&x, "/bin/blank", ERRNO(OS_ENOEXEC));
        /* s1 -> s2 -> ... -> /bin/prog: five interpreters are allowed */
        for (int k = 1; k <= 6; k++) {
            char rel[32], text[32];
            snprintf(rel, sizeof rel, "bin/s%d", k);
            int n = k < 6 ? snprintf(text, sizeof text, "#!/bin/s%d\n", k + 1)
                          : snprintf(text, sizeof text, "#!/bin/prog\n");
            put_file(&x, rel, text, (size_t)n, 0755);
        }
        assert_int_equal(exec_v(&x, "/bin/s2", argv, envp), 0);
        follow_exec(&x);
        expect_stack_argv(&x, (const char *const[]){
                                  "/bin/prog", "/bin/s6", "/bin/s5", "/bin/s4",
                                  "/bin/s3", "/bin/s2", "x", NULL});
        expect_exec_error(&x, "/bin/s1", ERRNO(LX_ELOOP));
        lx_free(&x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(path_errors_leave_the_process_as_it_was),
        cmocka_unit_test(bad_pointers_are_efault),
        cmocka_unit_test(argument_space_limits_are_linux),
        cmocka_unit_test(exec_replaces_the_program),
        cmocka_unit_test(scripts_run_their_interpreter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
