/*
 * linux_hostile.c - a static Linux program that misbehaves on purpose, for
 * tests/guest/mmuemu_linux_errors.sh (built there with the cross compilers
 * for riscv64 and x86-64). argv[1] picks the misdeed:
 *
 *   efault   system calls with wild pointers (NULL page, kernel half,
 *            PROT_NONE and read-only pages, unmapped memory): each must
 *            fail with EFAULT and the process must go on;
 *   mmap1t   a 1 TiB private writable anonymous mapping: ENOMEM (Linux's
 *            overcommit heuristic refuses more than RAM + swap at once);
 *   oom      touch anonymous memory 4 MiB at a time until the machine has
 *            no frame left: a clean ENOMEM from mmap (exit 3) or the OOM
 *            killer (SIGKILL), never a host crash;
 *   segv     store to address 16: SIGSEGV, exit status 139;
 *   noexec   call into a page without execute permission: SIGSEGV;
 *   sigill   an illegal instruction: SIGILL, exit status 132;
 *   abort    abort(): SIGABRT raised at itself, exit status 134;
 *   sigctx   signal frames: a SIGSEGV handler that clobbers FP registers
 *            and moves the saved PC past the faulting load (the restored
 *            context must be the edited one, FP state intact), then
 *            raise(SIGUSR1) with SA_RESETHAND (the handler runs once,
 *            the action is SIG_DFL afterwards);
 *   kcow     not a misdeed but a trap for the emulator: read() into a
 *            .data page the process has only read so far (mapped
 *            read-only from the page cache), so the kernel side copies it
 *            on write; the process must then read the new bytes, not the
 *            old page a stale CPU TLB entry still points at.
 *
 * Output lines never hold addresses, so the transcript is fixed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__x86_64__)
#define KERNEL_ADDR 0xffff888000000000ul
#elif defined(__riscv)
#define KERNEL_ADDR 0xffffffd800000000ul
#else
#error "x86-64 or riscv64 only"
#endif

static int failures;

/* A raw system call's result as -errno (no libc wrapper in between). */
static void check(const char *name, long ret)
{
    if (ret == -EFAULT) {
        printf("%s: EFAULT: ok\n", name);
        return;
    }
    failures++;
    printf("%s: FAIL (got %ld)\n", name, ret);
}

static long sys(long nr, long a, long b, long c, long d)
{
    long r = syscall(nr, a, b, c, d);
    return r == -1 ? -errno : r;
}

static int efault(const char *self)
{
    long pg = sysconf(_SC_PAGESIZE);
    char *none =
        mmap(NULL, (size_t)pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *ro =
        mmap(NULL, (size_t)pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *gone = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (none == MAP_FAILED || ro == MAP_FAILED || gone == MAP_FAILED ||
        munmap(gone, (size_t)pg) != 0) {
        printf("setup: FAIL\n");
        return 1;
    }
    int fd = open(self, O_RDONLY);
    if (fd < 0) {
        printf("open self: FAIL\n");
        return 1;
    }
    check("write from address 16", sys(SYS_write, 1, 16, 8, 0));
    check("write from the kernel half",
          sys(SYS_write, 1, (long)KERNEL_ADDR, 8, 0));
    check("write from a PROT_NONE page", sys(SYS_write, 1, (long)none, 8, 0));
    check("write from an unmapped page", sys(SYS_write, 1, (long)gone, 8, 0));
    check("read into address 16", sys(SYS_read, fd, 16, 8, 0));
    check("read into a read-only page", sys(SYS_read, fd, (long)ro, 8, 0));
    check("read into the kernel half",
          sys(SYS_read, fd, (long)KERNEL_ADDR, 8, 0));
    check("openat with a wild path",
          sys(SYS_openat, AT_FDCWD, 16, O_RDONLY, 0));
    check("uname into address 16", sys(SYS_uname, 16, 0, 0, 0));
    check("clock_gettime into a read-only page",
          sys(SYS_clock_gettime, CLOCK_MONOTONIC, (long)ro, 0, 0));
    check("fstat into the kernel half",
          sys(SYS_fstat, fd, (long)KERNEL_ADDR, 0, 0));
    close(fd);
    printf(failures ? "FAIL %d\n" : "ok\n", failures);
    return failures != 0;
}

static int mmap1t(void)
{
    void *p = mmap(NULL, (size_t)1 << 40, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int ok = p == MAP_FAILED && errno == ENOMEM;
    printf("mmap of 1 TiB: %s\n", ok ? "ENOMEM: ok" : "FAIL");
    return !ok;
}

static int oom(void)
{
    const size_t chunk = (size_t)4 << 20;
    for (unsigned long mib = 0;; mib += 4) {
        char *p = mmap(NULL, chunk, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            printf("mmap: %s\n", errno == ENOMEM ? "ENOMEM" : "other error");
            return 3;
        }
        for (size_t i = 0; i < chunk; i += 4096)
            p[i] = 1;
        if (mib >= ((unsigned long)1 << 20)) { /* 1 TiB touched: no limit */
            printf("no limit: FAIL\n");
            return 1;
        }
    }
}

static int segv(void)
{
    volatile int *volatile p = (volatile int *)16;
    fflush(stdout);
    *p = 1;
    return 1;
}

static int noexec(void)
{
    static unsigned char data[64] __attribute__((aligned(16)));
    void (*fn)(void) = (void (*)(void))(uintptr_t)data;
    fflush(stdout);
    fn();
    return 1;
}

static int sigill(void)
{
    fflush(stdout);
#if defined(__x86_64__)
    __asm__ volatile("ud2");
#else
    __asm__ volatile(".4byte 0");
#endif
    return 1;
}

static volatile int hits;
static volatile double fp_value = 1.5;

static void skip_insn(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    (void)sig, (void)si;
    hits++;
    volatile double x = 3.25;
    x = x * 2.0; /* FP registers used in the handler */
    (void)x;
#if defined(__x86_64__)
    uc->uc_mcontext.gregs[REG_RIP] += 3; /* mov (%rax),%rax */
#else
    uc->uc_mcontext.__gregs[REG_PC] += 4; /* ld t0, 0(t0) */
#endif
}

static void count_usr1(int sig)
{
    (void)sig;
    hits += 100;
}

static int sigctx(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = skip_insn;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    double before = fp_value * 3.0;
#if defined(__x86_64__)
    __asm__ volatile("mov $16, %%rax\n\t.byte 0x48, 0x8b, 0x00" ::
                         : "rax", "memory");
#else
    __asm__ volatile("li t0, 16\n\t.option push\n\t.option norvc\n\t"
                     "ld t0, 0(t0)\n\t.option pop" ::
                         : "t0", "memory");
#endif
    double after = fp_value * 3.0;
    int ok1 = hits == 1 && before == after && after == 4.5;
    printf("handler skipped the faulting load, FP kept: %s\n",
           ok1 ? "ok" : "FAIL");
    struct sigaction sb, now;
    memset(&sb, 0, sizeof sb);
    sb.sa_handler = count_usr1;
    sb.sa_flags = SA_RESETHAND;
    sigaction(SIGUSR1, &sb, NULL);
    raise(SIGUSR1);
    sigaction(SIGUSR1, NULL, &now);
    int ok2 = hits == 101 && now.sa_handler == SIG_DFL;
    printf("raise with SA_RESETHAND: %s\n", ok2 ? "ok" : "FAIL");
    return !(ok1 && ok2);
}

static char data_page[4096] __attribute__((aligned(4096))) = {1};

static int kcow(const char *self)
{
    int fd = open(self, O_RDONLY);
    volatile char before = data_page[100]; /* maps the page read-only */
    (void)before;
    if (fd < 0 || read(fd, data_page, 4) != 4) {
        printf("kcow setup: FAIL\n");
        return 1;
    }
    close(fd);
    int ok = memcmp((const char *)data_page, "\177ELF", 4) == 0;
    printf("kernel copy-on-write seen by the process: %s\n",
           ok ? "ok" : "FAIL");
    return !ok;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *what = argc > 1 ? argv[1] : "";
    if (strcmp(what, "efault") == 0)
        return efault(argv[0]);
    if (strcmp(what, "mmap1t") == 0)
        return mmap1t();
    if (strcmp(what, "oom") == 0)
        return oom();
    if (strcmp(what, "segv") == 0)
        return segv();
    if (strcmp(what, "noexec") == 0)
        return noexec();
    if (strcmp(what, "sigill") == 0)
        return sigill();
    if (strcmp(what, "kcow") == 0)
        return kcow(argv[0]);
    if (strcmp(what, "sigctx") == 0)
        return sigctx();
    if (strcmp(what, "abort") == 0) {
        fflush(stdout);
        abort();
    }
    fprintf(
        stderr,
        "usage: %s efault|mmap1t|oom|segv|noexec|sigill|abort|sigctx|kcow\n",
        argv[0]);
    return 2;
}
