/*
 * glx.h - shared helpers of the Linux user-mode guest programs.
 *
 * Every program in guests/linux/ is a static glibc executable built for
 * riscv64 and x86-64 and run both under qemu-user (the reference) and under
 * mmuemu's hosted OS model; their stdout is compared byte for byte. So the
 * output must never contain addresses, timings, pids or anything else that
 * a correct OS may choose freely, and it must not depend on the architecture
 * unless the program says so.
 *
 * Helpers: line-buffered stdout in a static buffer (no malloc, so sbrk
 * tests own the heap; one write(2) per line), named checks that print
 * "name: ok" or "name: FAIL (detail)", and probe(), which touches one byte
 * and reports the SIGSEGV si_code it raised (0 when the access succeeded).
 *
 * Not modelled: threads (the probe uses one static jump buffer).
 */
#ifndef GLX_H
#define GLX_H

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GLX_MIB (UINT64_C(1) << 20)

static char glx_out_buf[4096];
static int glx_failures;

/* Line-buffered stdout whatever it is connected to. Call first. */
static inline void glx_init(void)
{
    setvbuf(stdout, glx_out_buf, _IOLBF, sizeof glx_out_buf);
}

static inline size_t glx_page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * Print "name: ok" when ok is true, else "name: FAIL (detail)" and count
 * the failure. @return ok
 */
__attribute__((format(printf, 3, 4))) static inline bool
glx_check(bool ok, const char *name, const char *fmt, ...)
{
    if (ok) {
        printf("%s: ok\n", name);
        return true;
    }
    glx_failures++;
    printf("%s: FAIL (", name);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf(")\n");
    return false;
}

/* Print the last line ("ok" or "FAIL n") and @return the exit status. */
static inline int glx_finish(void)
{
    if (glx_failures == 0) {
        printf("ok\n");
        return 0;
    }
    printf("FAIL %d\n", glx_failures);
    return 1;
}

/* Parse a decimal argument, or @return fallback when absent or invalid. */
static inline unsigned long glx_arg(int argc, char **argv, int i,
                                    unsigned long fallback)
{
    if (argc <= i)
        return fallback;
    char *end;
    unsigned long v = strtoul(argv[i], &end, 10);
    return (*end == '\0' && end != argv[i]) ? v : fallback;
}

/* 64-bit FNV-1a over n bytes, continuing from h. */
static inline uint64_t glx_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

#define GLX_FNV_INIT UINT64_C(0xcbf29ce484222325)

/* splitmix64: a deterministic stream of 64-bit values. */
static inline uint64_t glx_mix(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* --- fault probe ------------------------------------------------------ */

static sigjmp_buf glx_probe_env;
static volatile sig_atomic_t glx_probe_code;
static void *volatile glx_probe_addr;

static inline void glx_probe_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    glx_probe_code = si->si_code;
    glx_probe_addr = si->si_addr;
    siglongjmp(glx_probe_env, 1);
}

enum glx_access { GLX_READ, GLX_WRITE };

/*
 * Touch the byte at p (a write stores back the value read, so contents are
 * unchanged) with a SIGSEGV handler installed.
 * @return 0 if the access succeeded, else the si_code of the SIGSEGV
 * (SEGV_MAPERR, SEGV_ACCERR); -1 if the fault's si_addr was not p.
 */
static inline int glx_probe(volatile unsigned char *p, enum glx_access how)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = glx_probe_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old);

    int result = 0;
    if (sigsetjmp(glx_probe_env, 1) == 0) {
        unsigned char v = *p;
        if (how == GLX_WRITE)
            *p = v;
    } else {
        result = glx_probe_addr == (void *)p ? glx_probe_code : -1;
    }
    sigaction(SIGSEGV, &old, NULL);
    return result;
}

/* Name of a probe result, for check details. */
static inline const char *glx_probe_name(int r)
{
    switch (r) {
    case 0:
        return "no fault";
    case SEGV_MAPERR:
        return "SEGV_MAPERR";
    case SEGV_ACCERR:
        return "SEGV_ACCERR";
    case -1:
        return "fault at another address";
    }
    return "other si_code";
}

#endif
