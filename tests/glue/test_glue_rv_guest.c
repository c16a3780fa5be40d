/*
 * test_glue_rv_guest.c - the bare-metal RISC-V guest (guests/bare/riscv:
 * M-mode stub, S-mode kernel with its own Sv39/Sv48 tables, U program)
 * under the bare machine, against QEMU: with Svadu (menvcfg.ADUE=1 at
 * reset, hardware A/D like QEMU 7.2) its UART transcript must equal the
 * one QEMU printed (saved by the guest_qemu_riscv_bare test), for every
 * TLB configuration; with Svade the guest takes its A/D faults and still
 * passes.
 *
 * Where the files are: $MMUEMU_GUEST_DIR, else ../guests next to this
 * executable (the build tree). A missing guest or transcript fails.
 */
#define _POSIX_C_SOURCE 200809L /* readlink */

#include "testutil.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmuemu/machine.h"

#define MAX_TEXT (256 * 1024)

static char guest_dir[4096];

static const char *path_of(const char *name)
{
    static char p[4200];
    snprintf(p, sizeof p, "%s/%s", guest_dir, name);
    return p;
}

static int find_guests(void **state)
{
    (void)state;
    const char *env = getenv("MMUEMU_GUEST_DIR");
    if (env != NULL) {
        snprintf(guest_dir, sizeof guest_dir, "%s", env);
        return 0;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    snprintf(guest_dir, sizeof guest_dir, "%s/../guests", dirname(exe));
    return 0;
}

/* Read a whole file; NULL if missing. */
static char *slurp(FILE *f)
{
    char *buf = calloc(1, MAX_TEXT + 1);
    assert_non_null(buf);
    size_t n = fread(buf, 1, MAX_TEXT, f);
    buf[n] = '\0';
    return buf;
}

static char *run_guest(const mmu_tlb_config *tlb, uint32_t ext, int *status)
{
    const char *elf = path_of("riscv_bare.elf");
    if (access(elf, R_OK) != 0)
        fail_msg("guest %s not built (target guest_riscv_bare)", elf);
    FILE *con = tmpfile();
    assert_non_null(con);
    mmu_machine_config cfg = {.isa = MMU_GLUE_RV64,
                              .elf_path = elf,
                              .tlb = tlb,
                              .rv_ext = ext,
                              .console = con,
                              .max_insns = 0};
    char err[256] = "";
    mmu_machine *m = mmu_machine_new(&cfg, err, sizeof err);
    if (m == NULL)
        fail_msg("mmu_machine_new: %s", err);
    mmu_glue_result res;
    *status = mmu_machine_run(m, &res);
    if (*status < 0)
        mmu_machine_report(m, &res, stderr);
    mmu_machine_free(m);
    rewind(con);
    char *out = slurp(con);
    fclose(con);
    return out;
}

static void compare_with_qemu(const char *tlb_name)
{
    const char *tpath = path_of("riscv_bare.qemu.txt");
    FILE *t = fopen(tpath, "r");
    if (t == NULL)
        fail_msg("QEMU transcript %s missing: run the guest_qemu_riscv_bare "
                 "test first",
                 tpath);
    char *want = slurp(t);
    fclose(t);
    int status;
    const mmu_tlb_config *tlb = tlb_name ? mmu_tlb_preset(tlb_name) : NULL;
    char *got = run_guest(tlb, MMU_RV_EXT_SVADU, &status);
    if (strcmp(got, want) != 0) {
        /* show the first differing line */
        size_t i = 0, line = 1;
        while (got[i] && got[i] == want[i])
            line += got[i++] == '\n';
        fail_msg("tlb %s: transcript differs from QEMU's at line %zu:\n"
                 "  mmuemu: %.120s\n  qemu:   %.120s",
                 tlb_name ? tlb_name : "off", line, got + i, want + i);
    }
    assert_int_equal(status, 0);
    free(got);
    free(want);
}

static void same_as_qemu_no_tlb(void **state)
{
    (void)state;
    compare_with_qemu(NULL);
}

static void same_as_qemu_each_tlb(void **state)
{
    (void)state;
    for (const char *const *n = mmu_tlb_preset_names(); *n != NULL; n++) {
        print_message("  tlb %s\n", *n);
        compare_with_qemu(*n);
    }
}

/* Without Svadu the model faults on A/D (Svade); the guest's handler sets
 * the bits and retries, and the run still passes. */
static void passes_with_svade(void **state)
{
    (void)state;
    int status;
    char *got = run_guest(mmu_tlb_preset("generic"), 0, &status);
    assert_int_equal(status, 0);
    assert_non_null(strstr(got, "page fault (Svade)"));
    size_t n = strlen(got);
    assert_true(n >= 5 && strcmp(got + n - 5, "PASS\n") == 0);
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_as_qemu_no_tlb),
        cmocka_unit_test(same_as_qemu_each_tlb),
        cmocka_unit_test(passes_with_svade),
    };
    return cmocka_run_group_tests(tests, find_guests, NULL);
}
