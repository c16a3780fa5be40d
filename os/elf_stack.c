/*
 * elf_stack.c - the initial stack of a new program, after fs/exec.c
 * (bprm_stack_limits, copy_strings, setup_arg_pages) and fs/binfmt_elf.c
 * create_elf_tables() (see mmuemu/os.h, section 9).
 *
 * From STACK_TOP down: 8 zero bytes, the AT_EXECFN string, the
 * environment strings, the argument strings (argv[0] lowest); then, 16-
 * byte aligned on x86 (arch_align_stack; RISC-V leaves it), the platform
 * string (x86 "x86_64"; RISC-V has no ELF_PLATFORM) and the 16 AT_RANDOM
 * bytes; then argc, argv[], NULL, envp[], NULL and the auxv pairs ending
 * with AT_NULL, placed so that sp (at argc) is 16-byte aligned. The stack
 * VMA spans the string pages plus 128 KiB (stack_expand), within the
 * stack rlimit. Everything is written through the writer callback.
 */
#include "os_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    AT_NULL = 0, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6,
    AT_BASE = 7, AT_FLAGS = 8, AT_ENTRY = 9, AT_UID = 11, AT_EUID = 12,
    AT_GID = 13, AT_EGID = 14, AT_PLATFORM = 15, AT_HWCAP = 16,
    AT_CLKTCK = 17, AT_SECURE = 23, AT_RANDOM = 25, AT_HWCAP2 = 26,
    AT_EXECFN = 31, AT_MINSIGSTKSZ = 51,
};

#define MAX_ARG_STRLEN (32 * PAGE)
#define ARG_MAX_MIN (32 * PAGE)          /* ARG_MAX */
#define STK_LIM (UINT64_C(8) << 20)      /* _STK_LIM */
#define STACK_EXPAND UINT64_C(131072)    /* setup_arg_pages() */
#define HWCAP_X86 UINT64_C(0x178bfbff)   /* CPUID.1:EDX of a common x86-64 */
#define HWCAP_RV UINT64_C(0x112d)        /* rv64imafdc: I M A F D C */
#define MAX_AUXV 24

typedef struct strings {
    const char *const *argv, *const *envp;
    const char *execfn;
    size_t argc, envc;
    uint64_t argbytes, envbytes, fnbytes;
} strings;

static const char *const empty_argv[] = {"", NULL};

static int measure(strings *s, const os_exec_params *p, const os_layout *l,
                   char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->argv = p->argv != NULL && p->argv[0] != NULL ? p->argv : empty_argv;
    s->envp = p->envp;
    while (s->argv[s->argc] != NULL)
        s->argbytes += strlen(s->argv[s->argc++]) + 1;
    while (s->envp != NULL && s->envp[s->envc] != NULL)
        s->envbytes += strlen(s->envp[s->envc++]) + 1;
    s->execfn = p->execfn != NULL ? p->execfn : s->argv[0];
    s->fnbytes = strlen(s->execfn) + 1;
    for (size_t i = 0; i < s->argc + s->envc; i++) {
        const char *str = i < s->argc ? s->argv[i] : s->envp[i - s->argc];
        if (strlen(str) + 1 > MAX_ARG_STRLEN) {
            snprintf(err, errlen, "argument or environment string over "
                     "128 KiB");
            return -OS_E2BIG;
        }
    }
    uint64_t limit = STK_LIM / 4 * 3;
    if (l->stack_rlimit / 4 < limit)
        limit = l->stack_rlimit / 4;
    if (limit < ARG_MAX_MIN)
        limit = ARG_MAX_MIN;
    uint64_t ptrs = (s->argc + s->envc) * 8;
    if (limit <= ptrs || s->argbytes + s->envbytes > limit - ptrs) {
        snprintf(err, errlen, "arguments and environment too large");
        return -OS_E2BIG;
    }
    return 0;
}

/* setup_arg_pages(): the stack VMA from the strings' page minus 128 KiB
 * (or the rlimit) up to STACK_TOP. */
static int stack_vma(os_aspace *as, const os_elf_info *info, uint64_t lowest,
                     char *err, size_t errlen)
{
    const os_layout *l = &as->k->layout;
    uint64_t top = l->stack_top, start = page_down(lowest);
    uint64_t rlim = l->stack_rlimit & PAGE_MASK;
    start = top - start + STACK_EXPAND > rlim ? top - rlim
                                              : start - STACK_EXPAND;
    os_vma_desc d = {OS_VM_READ | OS_VM_WRITE | OS_VM_MAYALL |
                         OS_VM_GROWSDOWN | OS_VM_ACCOUNT |
                         (info->exec_stack ? OS_VM_EXEC : 0),
                     NULL, 0};
    int rc = as_insert_vma(as, start, top, &d, false, NULL);
    if (rc != 0)
        snprintf(err, errlen, "cannot create the stack VMA: %s",
                 os_errno_name(rc));
    return rc;
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

typedef struct auxv {
    uint64_t v[2 * MAX_AUXV];
    unsigned n;
} auxv;

static void aux(auxv *a, uint64_t type, uint64_t val)
{
    a->v[a->n++] = type;
    a->v[a->n++] = val;
}

/* create_elf_tables()'s order (x86 ARCH_DLINFO puts AT_MINSIGSTKSZ
 * first; there is no vDSO, so no AT_SYSINFO_EHDR). */
static void fill_auxv(auxv *a, const os_aspace *as, const os_exec_params *p,
                      const os_elf_info *info, uint64_t bias, uint64_t phdr,
                      uint64_t execfn, uint64_t random, uint64_t platform)
{
    bool x86 = as_arch(as) == MMU_ARCH_X86;
    a->n = 0;
    if (p->minsigstksz != 0)
        aux(a, AT_MINSIGSTKSZ, p->minsigstksz);
    aux(a, AT_HWCAP, p->hwcap ? p->hwcap : x86 ? HWCAP_X86 : HWCAP_RV);
    aux(a, AT_PAGESZ, PAGE);
    aux(a, AT_CLKTCK, 100);
    aux(a, AT_PHDR, phdr);
    aux(a, AT_PHENT, 56);
    aux(a, AT_PHNUM, info->phnum);
    aux(a, AT_BASE, 0);
    aux(a, AT_FLAGS, 0);
    aux(a, AT_ENTRY, info->entry + bias);
    aux(a, AT_UID, p->uid);
    aux(a, AT_EUID, p->uid);
    aux(a, AT_GID, p->gid);
    aux(a, AT_EGID, p->gid);
    aux(a, AT_SECURE, 0);
    aux(a, AT_RANDOM, random);
    if (x86)
        aux(a, AT_HWCAP2, p->hwcap2);
    aux(a, AT_EXECFN, execfn);
    if (x86)
        aux(a, AT_PLATFORM, platform);
    aux(a, AT_NULL, 0);
}

/* Argument, environment and execfn strings as one block at lowest. */
static int write_strings(os_user_write_fn write, void *arg, const strings *s,
                         uint64_t lowest)
{
    uint64_t total = s->argbytes + s->envbytes + s->fnbytes;
    char *buf = malloc((size_t)total);
    if (buf == NULL)
        return -OS_ENOMEM;
    char *w = buf;
    for (size_t i = 0; i < s->argc + s->envc; i++) {
        const char *str = i < s->argc ? s->argv[i] : s->envp[i - s->argc];
        size_t n = strlen(str) + 1;
        memcpy(w, str, n);
        w += n;
    }
    memcpy(w, s->execfn, (size_t)s->fnbytes);
    int rc = write(arg, lowest, buf, (size_t)total);
    free(buf);
    return rc;
}

/* argc, the pointer arrays and auxv, at sp. */
static int write_tables(os_user_write_fn write, void *arg, const strings *s,
                        uint64_t lowest, const auxv *a, uint64_t sp)
{
    size_t words = 1 + s->argc + 1 + s->envc + 1 + a->n;
    uint64_t *t = malloc(words * sizeof *t), at = lowest;
    if (t == NULL)
        return -OS_ENOMEM;
    size_t k = 0;
    t[k++] = s->argc;
    for (size_t i = 0; i < s->argc + s->envc; i++) {
        if (i == s->argc)
            t[k++] = 0;
        t[k++] = at;
        at += strlen(i < s->argc ? s->argv[i] : s->envp[i - s->argc]) + 1;
    }
    if (s->envc == 0)
        t[k++] = 0;
    t[k++] = 0;
    memcpy(t + k, a->v, a->n * sizeof *t);
    uint8_t bytes[8];
    int rc = 0;
    for (size_t i = 0; i < words && rc == 0; i++) { /* little-endian */
        for (unsigned b = 0; b < 8; b++)
            bytes[b] = (uint8_t)(t[i] >> (8 * b));
        memcpy(&t[i], bytes, 8);
    }
    rc = write(arg, sp, t, words * sizeof *t);
    free(t);
    return rc;
}

int os_elf_build_stack(os_aspace *as, os_user_write_fn write, void *arg,
                       const os_exec_params *p, const os_elf_info *info,
                       uint64_t load_bias, uint64_t phdr, os_exec_result *out,
                       char *err, size_t errlen)
{
    strings s;
    int rc = measure(&s, p, &as->k->layout, err, errlen);
    if (rc != 0)
        return rc;
    uint64_t top = as->k->layout.stack_top;
    uint64_t lowest = top - 8 - (s.argbytes + s.envbytes + s.fnbytes);
    rc = stack_vma(as, info, lowest, err, errlen);
    if (rc != 0)
        return rc;
    rc = write_strings(write, arg, &s, lowest);
    uint64_t q = as_arch(as) == MMU_ARCH_X86 ? lowest & ~UINT64_C(15) : lowest;
    uint64_t platform = 0, seed = p->random_seed;
    uint8_t rnd[16];
    if (rc == 0 && as_arch(as) == MMU_ARCH_X86) {
        q -= sizeof "x86_64";
        platform = q;
        rc = write(arg, q, "x86_64", sizeof "x86_64");
    }
    for (unsigned i = 0; i < 16; i += 8) {
        uint64_t r = splitmix(&seed);
        for (unsigned b = 0; b < 8; b++)
            rnd[i + b] = (uint8_t)(r >> (8 * b));
    }
    if (p->random != NULL)
        memcpy(rnd, p->random, 16);
    q -= 16;
    if (rc == 0)
        rc = write(arg, q, rnd, 16);
    auxv a;
    uint64_t execfn = lowest + s.argbytes + s.envbytes;
    fill_auxv(&a, as, p, info, load_bias, phdr, execfn, q, platform);
    uint64_t items = s.argc + 1 + s.envc + 1 + 1;
    uint64_t sp = (q - a.n * 8 - items * 8) & ~UINT64_C(15);
    if (rc == 0)
        rc = write_tables(write, arg, &s, lowest, &a, sp);
    if (rc != 0) {
        snprintf(err, errlen, "cannot write the initial stack: %s",
                 os_errno_name(rc));
        return rc;
    }
    as->start_stack = sp;
    as->arg_start = lowest;
    as->arg_end = as->env_start = lowest + s.argbytes;
    as->env_end = as->env_start + s.envbytes;
    out->sp = sp;
    out->execfn = execfn;
    out->random = q;
    return 0;
}
