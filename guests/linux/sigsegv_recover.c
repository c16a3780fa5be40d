/*
 * sigsegv_recover - faults delivered as SIGSEGV with the right siginfo and
 * survived. Three recoveries:
 *  1. a read of a PROT_NONE page: the handler checks si_signo, si_addr (the
 *     exact byte) and si_code == SEGV_ACCERR, makes the page readable and
 *     returns, so the load is restarted and completes;
 *  2. a write to a PROT_READ page: likewise, and the restarted store lands;
 *  3. a read of an unmapped page (SEGV_MAPERR): the handler siglongjmps
 *     out, and SIGSEGV must be unblocked again afterwards.
 */
#include <sys/mman.h>

#include "glx.h"

static size_t pg;
static unsigned char *volatile expect_addr;
static volatile int expect_code;
static volatile sig_atomic_t faults, bad_signo, bad_addr, bad_code;
static volatile int fix_prot; /* >= 0: mprotect to this and return */
static sigjmp_buf env;

static void handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    faults++;
    bad_signo |= sig != SIGSEGV || si->si_signo != SIGSEGV;
    bad_addr |= si->si_addr != (void *)expect_addr;
    bad_code |= si->si_code != expect_code;
    if (fix_prot >= 0) {
        uintptr_t page = (uintptr_t)si->si_addr & ~(uintptr_t)(pg - 1);
        if (mprotect((void *)page, pg, fix_prot) != 0)
            _exit(2);
        return;
    }
    siglongjmp(env, 1);
}

static void expect(unsigned char *addr, int code, int prot)
{
    faults = bad_signo = bad_addr = bad_code = 0;
    expect_addr = addr;
    expect_code = code;
    fix_prot = prot;
}

static void report(const char *what, int want_faults)
{
    char name[96];
    snprintf(name, sizeof name, "%s: one SIGSEGV", what);
    glx_check(faults == want_faults, name, "%d faults", (int)faults);
    snprintf(name, sizeof name, "%s: si_signo, si_addr, si_code", what);
    glx_check(!bad_signo && !bad_addr && !bad_code, name,
              "signo %s, addr %s, code %s", bad_signo ? "bad" : "ok",
              bad_addr ? "bad" : "ok", bad_code ? "bad" : "ok");
}

int main(void)
{
    glx_init();
    pg = glx_page_size();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    glx_check(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction", "failed");

    unsigned char *m = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!glx_check(m != MAP_FAILED, "mmap", "failed"))
        return glx_finish();
    memset(m, 0x5a, 3 * pg);

    /* 1. Read of a PROT_NONE page, fixed in the handler. */
    volatile unsigned char *p = m + 123;
    mprotect(m, pg, PROT_NONE);
    expect(m + 123, SEGV_ACCERR, PROT_READ);
    unsigned char v = *p;
    report("PROT_NONE read", 1);
    glx_check(v == 0x5a, "PROT_NONE read: restarted load got the data",
              "got %#x", v);

    /* 2. Write to a read-only page, fixed in the handler. */
    p = m + pg + 4000;
    mprotect(m + pg, pg, PROT_READ);
    expect(m + pg + 4000, SEGV_ACCERR, PROT_READ | PROT_WRITE);
    *p = 0x77;
    report("PROT_READ write", 1);
    glx_check(m[pg + 4000] == 0x77 && m[pg + 3999] == 0x5a,
              "PROT_READ write: restarted store landed", "got %#x",
              m[pg + 4000]);

    /* 3. Read of an unmapped page, left with siglongjmp. */
    munmap(m + 2 * pg, pg);
    p = m + 2 * pg + 8;
    expect(m + 2 * pg + 8, SEGV_MAPERR, -1);
    volatile int jumped = 0;
    if (sigsetjmp(env, 1) == 0)
        (void)*p;
    else
        jumped = 1;
    report("unmapped read", 1);
    glx_check(jumped == 1, "unmapped read: siglongjmp out of the handler",
              "no jump");
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    glx_check(!sigismember(&now, SIGSEGV),
              "unmapped read: SIGSEGV unblocked after siglongjmp",
              "still blocked");

    /* 4. The same again: the handler stays installed (no SA_RESETHAND). */
    p = m + 2 * pg;
    expect(m + 2 * pg, SEGV_MAPERR, -1);
    jumped = 0;
    if (sigsetjmp(env, 1) == 0)
        *p = 1;
    else
        jumped = 1;
    report("unmapped write", 1);
    glx_check(jumped == 1, "unmapped write: siglongjmp out of the handler",
              "no jump");

    munmap(m, 2 * pg);
    return glx_finish();
}
