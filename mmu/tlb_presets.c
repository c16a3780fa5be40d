/*
 * tlb_presets.c - named TLB geometries.
 *
 * Each preset cites where its geometry comes from. Replacement policies
 * of real cores are undocumented; the presets use LRU.
 */
#include "mmuemu/tlb.h"

#include <string.h>

#define FA(n, sizes) {(n), (n), (sizes)}
#define SA(n, ways, sizes) {(n), (ways), (sizes)}
#define LARGE (MMU_TLB_2M)
#define ALL (MMU_TLB_4K | MMU_TLB_64K | MMU_TLB_2M | MMU_TLB_1G | \
             MMU_TLB_512G | MMU_TLB_256T)

static const mmu_tlb_config presets[] = {
    {
        /* A small generic two-level TLB (the default): big enough that
         * the examples hit, small enough that evictions show. */
        .name = "generic",
        .source = "mmuemu default (no real core)",
        .itlb = {SA(32, 4, MMU_TLB_4K), FA(8, LARGE | MMU_TLB_64K)},
        .dtlb = {SA(64, 4, MMU_TLB_4K), SA(16, 4, LARGE | MMU_TLB_64K),
                 FA(4, MMU_TLB_1G)},
        .stlb = {SA(512, 4, MMU_TLB_4K | LARGE)},
        .policy = MMU_TLB_LRU,
    },
    {
        /* Intel Skylake client, per the Intel 64 and IA-32 Architectures
         * Optimization Reference Manual (Skylake microarchitecture, TLB
         * parameters): ITLB 4K 128 entries 8-way, 2M/4M 8 per thread;
         * DTLB 4K 64 4-way, 2M/4M 32 4-way, 1G 4 4-way; STLB 4K+2M/4M
         * 1536 12-way, 1G 16 4-way. */
        .name = "skylake",
        .source = "Intel Optimization Reference Manual, Skylake TLBs",
        .itlb = {SA(128, 8, MMU_TLB_4K), FA(8, LARGE)},
        .dtlb = {SA(64, 4, MMU_TLB_4K), SA(32, 4, LARGE), SA(4, 4, MMU_TLB_1G)},
        .stlb = {SA(1536, 12, MMU_TLB_4K | LARGE), SA(16, 4, MMU_TLB_1G)},
        .policy = MMU_TLB_LRU,
    },
    {
        /* SiFive U54 (Sv39), per Microchip's PolarFire SoC U54 MMU
         * documentation: instruction and data translation caches fully
         * associative with 32 entries each, 2 MiB and 1 GiB pages; no
         * second level. (The U54 also raises page faults for A=0/D=0:
         * run it with Svade.) */
        .name = "u54",
        .source = "Microchip PolarFire SoC documentation, U54 MMU",
        .itlb = {FA(32, ALL)},
        .dtlb = {FA(32, ALL)},
        .policy = MMU_TLB_LRU,
    },
    {
        /* gem5's x86 and RISC-V TLB models: separate itb/dtb, fully
         * associative, `size` = 64 by default (X86TLB.py, RiscvTLB.py),
         * LRU. */
        .name = "gem5",
        .source = "gem5 X86TLB.py / RiscvTLB.py defaults",
        .itlb = {FA(64, ALL)},
        .dtlb = {FA(64, ALL)},
        .policy = MMU_TLB_LRU,
    },
};

static const char *const names[] = {"generic", "skylake", "u54", "gem5",
                                    NULL};

const mmu_tlb_config *mmu_tlb_preset(const char *name)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (strcmp(presets[i].name, name) == 0)
            return &presets[i];
    return NULL;
}

const char *const *mmu_tlb_preset_names(void)
{
    return names;
}
