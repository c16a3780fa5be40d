/*
 * linux_harness.h - a Linux process for the syscall tests, without a CPU:
 * a machine (os_harness.h), a temporary sysroot, and a process created
 * from a real static guest (tests/os/guest/maps.c, built for both
 * architectures by os/CMakeLists.txt). Tests call os_syscall() as the
 * guest would, with buffers in the process's own memory (a 64 KiB
 * anonymous mapping made through mmap) reached through os_uaccess.
 *
 * The sysroot (a fresh directory under $TMPDIR, removed afterwards):
 *   root/etc/hello.txt         "hello, sysroot\n"
 *   root/dir/{a,b}, root/dir/sub/
 *   root/abs_in  -> /etc/hello.txt           (absolute, inside)
 *   root/abs_out -> <tmp>/secret.txt         (absolute host path)
 *   root/rel_up  -> ../secret.txt            (climbs out)
 *   root/dir/up2 -> ../../secret.txt
 *   root/loop    -> loop
 *   secret.txt  (next to root/: must never be reachable)
 */
#ifndef MMUEMU_TESTS_LINUX_HARNESS_H
#define MMUEMU_TESTS_LINUX_HARNESS_H

#include "os_harness.h"

#include "mmuemu/linux.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef OS_TEST_ELF_DIR
#error "OS_TEST_ELF_DIR: os/CMakeLists.txt builds the guest ELFs and sets it"
#endif

#define LX_BUF_SIZE 65536
#define NEG(v)      ((uint64_t)(int64_t)(v))
#define L_AT_FDCWD  NEG(-100)

typedef struct lx {
    osh h;
    os_proc *p;
    os_proc_entry e;
    os_uaccess u;
    os_abi abi;
    os_sysret last;
    char tmp[PATH_MAX], root[PATH_MAX], elf[PATH_MAX];
    int out[2];   /* host pipe behind guest stdout */
    uint64_t buf; /* guest scratch memory */
    char reports[8][256];
    unsigned nreports;
    uint64_t tls[2];
    unsigned flushes; /* CHANGED/REMOVED seen by the pte hook */
} lx;

static const os_abi lx_abis[] = {OS_ABI_RISCV64, OS_ABI_X86_64};

static inline const char *lx_abi_name(os_abi abi)
{
    return abi == OS_ABI_X86_64 ? "x86-64" : "riscv64";
}

static inline void lx_report(void *arg, const char *msg)
{
    lx *x = arg;
    if (x->nreports < 8)
        snprintf(x->reports[x->nreports], sizeof x->reports[0], "%s", msg);
    x->nreports++;
}

static inline int lx_set_tls(void *arg, int which, uint64_t base)
{
    lx *x = arg;
    x->tls[which] = base;
    return 0;
}

static inline void lx_hook(void *arg, uint64_t va, uint64_t len,
                           os_pte_change what)
{
    lx *x = arg;
    (void)va;
    (void)len;
    if (what == OS_PTE_CHANGED || what == OS_PTE_REMOVED)
        x->flushes++;
}

static inline void lx_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static inline void lx_path(char *out, const char *a, const char *b)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", a, b);
    assert_true(n > 0 && n < PATH_MAX);
}

static inline void lx_make_sysroot(lx *x)
{
    const char *t = getenv("TMPDIR");
    snprintf(x->tmp, sizeof x->tmp, "%s/mmuemu-linux-XXXXXX",
             t != NULL && t[0] != '\0' ? t : "/tmp");
    assert_non_null(mkdtemp(x->tmp));
    char p[PATH_MAX], q[PATH_MAX];
    lx_path(x->root, x->tmp, "root");
    assert_int_equal(mkdir(x->root, 0755), 0);
    lx_path(p, x->tmp, "secret.txt");
    lx_write_file(p, "SECRET\n");
    lx_path(p, x->root, "etc");
    assert_int_equal(mkdir(p, 0755), 0);
    lx_path(p, x->root, "etc/hello.txt");
    lx_write_file(p, "hello, sysroot\n");
    lx_path(p, x->root, "dir");
    assert_int_equal(mkdir(p, 0755), 0);
    lx_path(p, x->root, "dir/sub");
    assert_int_equal(mkdir(p, 0755), 0);
    lx_path(p, x->root, "dir/a");
    lx_write_file(p, "A");
    lx_path(p, x->root, "dir/b");
    lx_write_file(p, "BB");
    lx_path(p, x->root, "abs_in");
    assert_int_equal(symlink("/etc/hello.txt", p), 0);
    lx_path(q, x->tmp, "secret.txt");
    lx_path(p, x->root, "abs_out");
    assert_int_equal(symlink(q, p), 0);
    lx_path(p, x->root, "rel_up");
    assert_int_equal(symlink("../secret.txt", p), 0);
    lx_path(p, x->root, "dir/up2");
    assert_int_equal(symlink("../../secret.txt", p), 0);
    lx_path(p, x->root, "loop");
    assert_int_equal(symlink("loop", p), 0);
}

/* rm -r of the temporary tree (no symlink is followed). */
static inline void lx_rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *de;
    char p[PATH_MAX];
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        lx_path(p, dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            lx_rm_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static inline int64_t lx_call(lx *x, const char *name, const uint64_t *a)
{
    for (uint64_t nr = 0; nr < OS_SYSCALL_NR_MAX; nr++) {
        const char *n = os_syscall_name(x->abi, nr);
        if (n != NULL && strcmp(n, name) == 0)
            return os_syscall(x->p, nr, a, &x->last);
    }
    fail_msg("no system call %s on %s", name, lx_abi_name(x->abi));
    return 0;
}

/* SC(x, "openat", args...): the call as the guest makes it. */
#define SC(x, name, ...) lx_call((x), (name), (const uint64_t[6]){__VA_ARGS__})

/* Copy into / out of the guest scratch buffer at offset off. */
static inline uint64_t lx_put(lx *x, uint64_t off, const void *data, size_t len)
{
    assert_int_equal(os_copy_to_user(&x->u, x->buf + off, data, len), 0);
    return x->buf + off;
}

static inline uint64_t lx_str(lx *x, uint64_t off, const char *s)
{
    return lx_put(x, off, s, strlen(s) + 1);
}

static inline void lx_get(lx *x, uint64_t va, void *dst, size_t len)
{
    assert_int_equal(os_copy_from_user(&x->u, dst, va, len), 0);
}

static inline uint64_t lx_ld(const uint8_t *b, size_t off, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = (v << 8) | b[off + i];
    return v;
}

#define ERRNO(e) (-(int64_t)(e))

/* Linux errno values beyond os.h's. */
#define LX_ESRCH   3
#define LX_ENODEV  19
#define LX_EBADF   9
#define LX_EAGAIN  11
#define LX_ENOTDIR 20
#define LX_EISDIR  21
#define LX_ENOTTY  25
#define LX_ESPIPE  29
#define LX_EROFS   30
#define LX_EPIPE   32
#define LX_ERANGE  34
#define LX_ENOSYS  38
#define LX_ELOOP   40

/* A call that must succeed: its non-negative result. */
static inline uint64_t lx_ok(int64_t v, const char *what)
{
    if (v < 0)
        fail_msg("%s: %s (%lld)", what, os_errno_name((int)v), (long long)v);
    return (uint64_t)v;
}
#define OK(call) lx_ok((call), #call)

/* ctx: the uaccess context the process and the test use (NULL: own). */
static inline void lx_init_cfg(lx *x, os_abi abi, bool writable,
                               const os_proc_config *extra, mmu_ctx *ctx)
{
    memset(x, 0, sizeof *x);
    signal(SIGPIPE, SIG_IGN); /* EPIPE comes back as the guest's SIGPIPE */
    x->abi = abi;
    lx_make_sysroot(x);
    mmu_paging_mode mode =
        abi == OS_ABI_X86_64 ? MMU_MODE_X86_4LEVEL : MMU_MODE_SV39;
    osh_init(&x->h, mode, 64 * MIB);
    snprintf(x->elf, sizeof x->elf, "%s/%s", OS_TEST_ELF_DIR,
             abi == OS_ABI_X86_64 ? "maps-x86_64" : "maps-riscv64");
    assert_int_equal(pipe(x->out), 0);
    static const char *const argv[] = {"/bin/maps", "one", NULL};
    static const char *const envp[] = {"LC_ALL=C", NULL};
    os_proc_config cfg;
    if (extra != NULL)
        cfg = *extra;
    else
        os_proc_config_default(&cfg);
    cfg.abi = abi;
    cfg.sysroot = x->root;
    cfg.sysroot_writable = writable;
    cfg.argv = argv;
    cfg.envp = envp;
    cfg.exe_guest_path = "/bin/maps";
    int devnull = open("/dev/null", O_RDONLY);
    assert_true(devnull >= 0);
    cfg.stdin_fd = devnull;
    cfg.stdout_fd = x->out[1];
    cfg.stderr_fd = x->out[1];
    cfg.deterministic = true;
    cfg.random_seed = 7;
    cfg.arch.arg = x;
    cfg.arch.set_tls = lx_set_tls;
    cfg.pte_hook = lx_hook;
    cfg.pte_hook_arg = x;
    cfg.report = lx_report;
    cfg.report_arg = x;
    char err[256] = "";
    if (ctx != NULL)
        ctx->mem = &x->h.mem;
    int rc = os_proc_create(&cfg, &x->h.k, ctx, x->elf, &x->p, &x->e, err,
                            sizeof err);
    close(devnull); /* the process holds its own duplicate */
    if (rc != 0)
        fail_msg("os_proc_create(%s): %s (%s)", x->elf, err, os_errno_name(rc));
    os_uaccess_init(&x->u, os_proc_aspace(x->p), ctx);
    x->buf = OK(SC(x, "mmap", 0, LX_BUF_SIZE, 3, 0x22, NEG(-1), 0));
}

static inline void lx_init(lx *x, os_abi abi, bool writable)
{
    lx_init_cfg(x, abi, writable, NULL, NULL);
}

static inline void lx_free(lx *x)
{
    os_proc_destroy(x->p);
    close(x->out[0]);
    close(x->out[1]);
    osh_free(&x->h);
    lx_rm_tree(x->tmp);
}

/* Everything the guest wrote to stdout so far (non-blocking drain). */
static inline size_t lx_drain(lx *x, char *dst, size_t n)
{
    int fl = fcntl(x->out[0], F_GETFL);
    fcntl(x->out[0], F_SETFL, fl | O_NONBLOCK);
    ssize_t got = read(x->out[0], dst, n - 1);
    fcntl(x->out[0], F_SETFL, fl);
    size_t len = got > 0 ? (size_t)got : 0;
    dst[len] = '\0';
    return len;
}

#endif
