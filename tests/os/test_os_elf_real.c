/*
 * test_os_elf_real.c - the loader on real static executables built by
 * os/CMakeLists.txt from tests/os/guest/maps.c (x86-64 static and
 * static-pie with the host gcc, riscv64 static with the cross gcc):
 * every loaded byte equals the file (bss zero), AT_PHDR shows the real
 * program headers, and - the kernel as the oracle - the x86 programs run
 * natively print their /proc/self/maps, whose lines for the executable
 * (after glibc's RELRO mprotect, which the test applies to the model
 * too) must equal the model's byte for byte (static-pie: relative to the
 * load base, which ASLR moves).
 */
#define _XOPEN_SOURCE 700 /* realpath, popen */

#include "os_harness.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#ifndef OS_TEST_ELF_DIR
#error "OS_TEST_ELF_DIR: os/CMakeLists.txt builds the guest ELFs and sets it"
#endif

#define PT_LOAD 1
#define PT_GNU_RELRO UINT32_C(0x6474e552)

typedef struct run {
    osh h;
    os_aspace as;
    os_uaccess u;
    os_file *f;
    os_exec_result r;
    char path[PATH_MAX];
} run;

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

static void load(run *x, mmu_paging_mode mode, const char *name)
{
    char rel[PATH_MAX];
    snprintf(rel, sizeof rel, "%s/%s", OS_TEST_ELF_DIR, name);
    if (realpath(rel, x->path) == NULL)
        fail_msg("missing test guest %s (built by os/CMakeLists.txt)", rel);
    int fd = open(x->path, O_RDONLY);
    assert_true(fd >= 0);
    x->f = os_file_from_fd(fd, x->path);
    close(fd);
    assert_non_null(x->f);
    osh_init(&x->h, mode, 64 * MIB);
    osh_aspace(&x->h, &x->as);
    os_uaccess_init(&x->u, &x->as, NULL);
    const char *argv[] = {x->path, NULL};
    os_exec_params p = {argv, NULL, NULL, 0, 0, 0, 0, 0, NULL, 42};
    char err[256] = "";
    int rc = os_elf_exec(&x->as, &x->u, x->f, &p, &x->r, err, sizeof err);
    if (rc != 0)
        fail_msg("exec %s: %s (%s)", x->path, err, os_errno_name(rc));
}

static void unload(run *x)
{
    os_aspace_destroy(&x->as);
    os_file_put(x->f);
    osh_free(&x->h);
}

typedef struct phdr {
    uint32_t type, flags;
    uint64_t off, vaddr, filesz, memsz;
} phdr;

static unsigned read_phdrs(run *x, phdr *ph, unsigned max)
{
    uint8_t eh[64], b[56];
    assert_int_equal(os_file_read(x->f, 0, eh, 64), 64);
    uint64_t phoff = le(eh + 32, 8);
    unsigned n = (unsigned)le(eh + 56, 2);
    assert_true(n <= max);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(os_file_read(x->f, phoff + 56 * i, b, 56), 56);
        ph[i] = (phdr){(uint32_t)le(b, 4), (uint32_t)le(b + 4, 4),
                       le(b + 8, 8), le(b + 16, 8), le(b + 32, 8),
                       le(b + 40, 8)};
    }
    return n;
}

/* Every file byte of every PT_LOAD in memory, the rest zero; AT_PHDR. */
static void check_image(run *x)
{
    phdr ph[32];
    unsigned n = read_phdrs(x, ph, 32);
    static uint8_t want[65536], got[65536];
    uint64_t bias = x->r.load_bias;
    for (unsigned i = 0; i < n; i++) {
        if (ph[i].type != PT_LOAD)
            continue;
        for (uint64_t o = 0; o < ph[i].memsz; o += sizeof got) {
            uint64_t len = ph[i].memsz - o < sizeof got ? ph[i].memsz - o
                                                        : sizeof got;
            memset(want, 0, (size_t)len);
            if (o < ph[i].filesz) {
                uint64_t fl = ph[i].filesz - o < len ? ph[i].filesz - o : len;
                assert_int_equal(os_file_read(x->f, ph[i].off + o, want, fl),
                                 (int64_t)fl);
            }
            assert_int_equal(os_copy_from_user(&x->u, got,
                                               bias + ph[i].vaddr + o,
                                               (size_t)len),
                             0);
            if (memcmp(got, want, (size_t)len) != 0)
                fail_msg("segment %u differs near 0x%llx", i,
                         (unsigned long long)(bias + ph[i].vaddr + o));
        }
    }
    uint8_t eh[64];
    os_file_read(x->f, 0, eh, 64);
    uint64_t phoff = le(eh + 32, 8);
    assert_true(x->r.phdr != 0);
    assert_int_equal(os_copy_from_user(&x->u, got, x->r.phdr, 56 * n), 0);
    assert_int_equal(os_file_read(x->f, phoff, want, 56 * n), 56 * n);
    assert_memory_equal(got, want, 56 * n);
}

/* What glibc does at startup: mprotect(PT_GNU_RELRO, PROT_READ) with both
 * ends rounded down (_dl_protect_relro). */
static void apply_relro(run *x)
{
    phdr ph[32];
    unsigned n = read_phdrs(x, ph, 32);
    for (unsigned i = 0; i < n; i++) {
        if (ph[i].type != PT_GNU_RELRO)
            continue;
        uint64_t s = (x->r.load_bias + ph[i].vaddr) & ~UINT64_C(0xfff);
        uint64_t e = (x->r.load_bias + ph[i].vaddr + ph[i].memsz) &
                     ~UINT64_C(0xfff);
        if (e > s)
            assert_int_equal(os_aspace_protect(&x->as, s, e - s, OS_VM_READ),
                             0);
    }
}

/* The executable's lines and the anonymous one right after (its bss),
 * addresses made relative to the first line when `relative`. */
static void pick_lines(const char *maps, const char *path, bool relative,
                       char *out, size_t n)
{
    char line[600];
    unsigned long long base = 0, last_end = 0;
    bool have = false;
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = maps; *p != '\0';) {
        size_t len = strcspn(p, "\n");
        if (len >= sizeof line)
            len = sizeof line - 1;
        memcpy(line, p, len);
        line[len] = '\0';
        p += len + (p[len] == '\n');
        unsigned long long s, e;
        char rest[600];
        if (sscanf(line, "%llx-%llx %599[^\n]", &s, &e, rest) != 3)
            continue;
        size_t pl = strlen(path), ll = strlen(line);
        bool mine = ll > pl && strcmp(line + ll - pl, path) == 0 &&
                    line[ll - pl - 1] == ' ';
        bool bss = have && s == last_end && strstr(rest, " 00:00 0") != NULL &&
                   strchr(rest, '/') == NULL && strchr(rest, '[') == NULL;
        if (!mine && !bss)
            continue;
        if (!have)
            base = relative ? s : 0;
        have = true;
        last_end = e;
        used += (size_t)snprintf(out + used, n - used, "%llx-%llx %s\n",
                                 s - base, e - base, rest);
        if (bss)
            break;
    }
}

static void native_maps(const char *path, char *buf, size_t n)
{
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "env -i '%s'", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(buf, 1, n - 1, p);
    buf[got] = '\0';
    assert_int_equal(pclose(p), 0);
}

static void compare_with_kernel(run *x, bool relative)
{
    static char native[65536], model[65536], a[8192], b[8192];
    native_maps(x->path, native, sizeof native);
    os_aspace_format_maps(&x->as, model, sizeof model);
    pick_lines(native, x->path, relative, a, sizeof a);
    pick_lines(model, x->path, relative, b, sizeof b);
    assert_true(strlen(a) > 0);
    if (strcmp(a, b) != 0)
        fail_msg("\nkernel:\n%s\nmodel:\n%s", a, b);
}

static void real_x86_static_matches_the_kernel(void **state)
{
    (void)state;
    run *x = calloc(1, sizeof *x);
    load(x, MMU_MODE_X86_4LEVEL, "maps-x86_64");
    assert_int_equal(x->r.elf.type, 2);
    check_image(x);
    apply_relro(x);
    compare_with_kernel(x, false);
    unload(x);
    free(x);
}

static void real_x86_static_pie_matches_the_kernel(void **state)
{
    (void)state;
    run *x = calloc(1, sizeof *x);
    load(x, MMU_MODE_X86_4LEVEL, "maps-x86_64-pie");
    assert_int_equal(x->r.elf.type, 3);
    assert_true(x->r.load_bias < x->h.layout.mmap_base);
    check_image(x);
    apply_relro(x);
    compare_with_kernel(x, true);
    unload(x);
    free(x);
}

static void real_riscv64_static_loads(void **state)
{
    (void)state;
    run *x = calloc(1, sizeof *x);
    load(x, MMU_MODE_SV39, "maps-riscv64");
    assert_int_equal(x->r.elf.machine, OS_ELF_EM_RISCV);
    check_image(x);
    apply_relro(x);
    /* the entry is in an executable, file-backed VMA */
    os_vma *v = os_vma_find(&x->as.vmas, x->r.pc);
    assert_non_null(v);
    assert_true((v->flags & OS_VM_EXEC) && v->file == x->f);
    TU_EQ_HEX("sp alignment", x->r.sp & 15, 0);
    assert_true(x->as.brk > x->as.end_data);
    unload(x);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_x86_static_matches_the_kernel),
        cmocka_unit_test(real_x86_static_pie_matches_the_kernel),
        cmocka_unit_test(real_riscv64_static_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
