/*
 * example_image.c - `mmuemu example-image --arch x86_64|riscv64 --out FILE`
 * (hidden): build a small guest RAM image with page tables through the
 * builder API and print the `mmuemu translate` options that use it.
 *
 * The layouts (one table row per mapping) are what the examples/ ops files
 * and the tests/cli/ scripts translate against; examples/README.md draws
 * them.
 * Accessed and dirty bits are left clear on x86 so a translation's A/D
 * updates show in --mem-out; on RISC-V they are preset except on the
 * "lazy" page (with Svade, A=0 or a store with D=0 is a page fault).
 */
#include "cli.h"

#include "mmuemu/builder.h"
#include "mmuemu/riscv_bits.h"
#include "mmuemu/x86_bits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EX_CMD "example-image"
#define KIB(n) ((uint64_t)(n) << 10)
#define MIB(n) ((uint64_t)(n) << 20)

typedef struct ex_map {
    uint64_t va, pa, len, page_size;
    uint64_t leaf, table;
} ex_map;

typedef struct ex_layout {
    const char *arch;
    mmu_paging_mode mode;
    uint64_t ram_base, ram_size;
    uint64_t tables_off, tables_len; /* page-table frames, from the base */
    const ex_map *maps;
    size_t n_maps;
    const char *root_opt;   /* "--cr3" / "--satp" */
    const char *other_opts; /* the rest of the state */
} ex_layout;

/* ---- x86-64, 4-level paging: 2 MiB of RAM at 0 ---------------------- */

#define X86_KTABLE  (X86_PTE_P | X86_PTE_RW)
#define X86_UTABLE  (X86_PTE_P | X86_PTE_RW | X86_PTE_US)
#define X86_PKEY(k) ((uint64_t)(k) << X86_PTE_PKEY_SHIFT)

static const ex_map x86_maps[] = {
    /* kernel text: supervisor, read-only, executable (NX clear), global */
    {UINT64_C(0xffffffff80000000), 0x100000, KIB(8), KIB(4),
     X86_PTE_P | X86_PTE_G, X86_KTABLE},
    /* kernel data: supervisor, writable, NX */
    {UINT64_C(0xffffffff80002000), 0x102000, KIB(4), KIB(4),
     X86_PTE_P | X86_PTE_RW | X86_PTE_G | X86_PTE_NX, X86_KTABLE},
    /* user code: user, read-only, executable */
    {0x400000, 0x110000, KIB(4), KIB(4), X86_PTE_P | X86_PTE_US, X86_UTABLE},
    /* user data: user, writable, NX */
    {0x600000, 0x111000, KIB(4), KIB(4),
     X86_PTE_P | X86_PTE_RW | X86_PTE_US | X86_PTE_NX, X86_UTABLE},
    /* user read-only data: user, NX; 0x602000 after it is a hole */
    {0x601000, 0x112000, KIB(4), KIB(4), X86_PTE_P | X86_PTE_US | X86_PTE_NX,
     X86_UTABLE},
    /* user data with protection key 1 (matters once CR4.PKE=1) */
    {0x603000, 0x114000, KIB(4), KIB(4),
     X86_PTE_P | X86_PTE_RW | X86_PTE_US | X86_PTE_NX | X86_PKEY(1),
     X86_UTABLE},
    /* user stack page at the top of the lower half */
    {UINT64_C(0x7ffffffff000), 0x113000, KIB(4), KIB(4),
     X86_PTE_P | X86_PTE_RW | X86_PTE_US | X86_PTE_NX, X86_UTABLE},
    /* direct map of all RAM: one 2 MiB page, supervisor, writable, NX */
    {UINT64_C(0xffff888000000000), 0, MIB(2), MIB(2),
     X86_PTE_P | X86_PTE_RW | X86_PTE_G | X86_PTE_NX, X86_KTABLE},
};

/* ---- RISC-V Sv39: 2 MiB of RAM at 0x80000000 ------------------------ */

#define RV_KLEAF (RV_PTE_V | RV_PTE_G | RV_PTE_A)
#define RV_ULEAF (RV_PTE_V | RV_PTE_U | RV_PTE_A)

static const ex_map rv_maps[] = {
    /* kernel text: R X, global */
    {UINT64_C(0xffffffff80000000), 0x80100000, KIB(8), KIB(4),
     RV_KLEAF | RV_PTE_R | RV_PTE_X, RV_PTE_V},
    /* kernel data: R W, dirty */
    {UINT64_C(0xffffffff80002000), 0x80102000, KIB(4), KIB(4),
     RV_KLEAF | RV_PTE_R | RV_PTE_W | RV_PTE_D, RV_PTE_V},
    /* user code: R X U */
    {0x10000, 0x80110000, KIB(4), KIB(4), RV_ULEAF | RV_PTE_R | RV_PTE_X,
     RV_PTE_V},
    /* user data: R W U, dirty */
    {0x11000, 0x80111000, KIB(4), KIB(4),
     RV_ULEAF | RV_PTE_R | RV_PTE_W | RV_PTE_D, RV_PTE_V},
    /* user read-only: R U; 0x13000 after it is a hole */
    {0x12000, 0x80112000, KIB(4), KIB(4), RV_ULEAF | RV_PTE_R, RV_PTE_V},
    /* "lazy" user data: R W U with A=0 and D=0 */
    {0x14000, 0x80113000, KIB(4), KIB(4),
     RV_PTE_V | RV_PTE_U | RV_PTE_R | RV_PTE_W, RV_PTE_V},
    /* user execute-only: X U (loads need mstatus.MXR) */
    {0x15000, 0x80114000, KIB(4), KIB(4), RV_ULEAF | RV_PTE_X, RV_PTE_V},
    /* user 64 KiB Svnapot page (N=1): only valid with Svnapot */
    {0x20000, 0x80120000, KIB(64), KIB(64),
     RV_ULEAF | RV_PTE_R | RV_PTE_W | RV_PTE_D, RV_PTE_V},
    /* direct map of all RAM: one 2 MiB megapage, R W, global */
    {UINT64_C(0xffffffd800000000), 0x80000000, MIB(2), MIB(2),
     RV_KLEAF | RV_PTE_R | RV_PTE_W | RV_PTE_D, RV_PTE_V},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const ex_layout layouts[] = {
    {"x86_64", MMU_MODE_X86_4LEVEL, 0, MIB(2), KIB(4), KIB(124), x86_maps,
     N(x86_maps), "--cr3",
     /* CR0 = PG|WP|PE; CR4 = SMAP|SMEP|PGE|PAE; EFER = NXE|LMA|LME */
     " --cr0 0x80010001 --cr4 0x3000a0 --efer 0xd00"},
    {"riscv64", MMU_MODE_SV39, 0x80000000, MIB(2), KIB(4), KIB(124), rv_maps,
     N(rv_maps), "--satp", ""},
};

/* ---- the subcommand ------------------------------------------------- */

static int build(const ex_layout *l, const char *out)
{
    mmu_phys mem = {calloc(1, (size_t)l->ram_size), l->ram_base, l->ram_size};
    if (mem.ram == NULL) {
        cli_error(EX_CMD, "out of memory");
        return CLI_EXIT_USAGE;
    }
    mmu_bump_alloc frames = {&mem, l->ram_base + l->tables_off,
                             l->ram_base + l->tables_off + l->tables_len};
    mmu_pt pt;
    int rc = mmu_pt_init(&pt, &mem, l->mode, mmu_bump_alloc_frame, &frames);
    for (size_t i = 0; rc == MMU_PT_OK && i < l->n_maps; i++) {
        const ex_map *m = &l->maps[i];
        rc = mmu_pt_map(&pt, m->va, m->pa, m->len, m->page_size, m->leaf,
                        m->table);
        if (rc != MMU_PT_OK)
            cli_error(EX_CMD, "mapping 0x%llx failed: builder error %d",
                      (unsigned long long)m->va, rc);
    }
    bool ok = rc == MMU_PT_OK && cli_save_image(EX_CMD, out, &mem);
    if (ok) {
        printf("--mem-base 0x%llx %s 0x%llx%s\n",
               (unsigned long long)l->ram_base, l->root_opt,
               (unsigned long long)mmu_pt_root_reg(&pt), l->other_opts);
        ok = cli_flush_stdout(EX_CMD);
    }
    free(mem.ram);
    return ok ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

int cmd_example_image(int argc, char **argv)
{
    const char *arch = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char **slot = strcmp(argv[i], "--arch") == 0  ? &arch
                            : strcmp(argv[i], "--out") == 0 ? &out
                                                            : NULL;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            puts("usage: mmuemu example-image --arch x86_64|riscv64 --out "
                 "FILE\n"
                 "Writes an example RAM image and prints the translate "
                 "options for it.");
            return cli_flush_stdout(EX_CMD) ? CLI_EXIT_OK : CLI_EXIT_USAGE;
        }
        if (slot == NULL || i + 1 >= argc) {
            cli_error(EX_CMD,
                      slot == NULL ? "unknown argument '%s'"
                                   : "option %s needs a value",
                      argv[i]);
            return CLI_EXIT_USAGE;
        }
        *slot = argv[++i];
    }
    if (arch == NULL || out == NULL) {
        cli_error(EX_CMD, "usage: mmuemu example-image --arch "
                          "x86_64|riscv64 --out FILE");
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < N(layouts); i++)
        if (strcmp(layouts[i].arch, arch) == 0)
            return build(&layouts[i], out);
    cli_error(EX_CMD, "--arch: no example for '%s' (want x86_64 or riscv64)",
              arch);
    return CLI_EXIT_USAGE;
}
