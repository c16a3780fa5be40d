/*
 * kernel.c - the machine-wide part of the OS model: the zero page and the
 * kernel half of every address space (see mmuemu/os.h, section 5).
 *
 * The kernel half is a direct map of guest RAM built once in its own
 * root, with Linux's PAGE_KERNEL rights: x86 P|RW|A|D|G|NX (no U/S), its
 * tables _KERNPG_TABLE (P|RW|A|D); RISC-V V|R|W|A|D|G (no U, no X), its
 * tables V. Leaves are 1 GiB where VA and PA allow, then 2 MiB, then
 * 4 KiB (arch/x86/mm/init_64.c phys_pud_init / phys_pmd_init with
 * gbpages; arch/riscv/mm/init.c create_linear_mapping_range with
 * best_map_size). Address spaces copy its top-level entries, so every
 * lower table is shared.
 */
#include "os_internal.h"

#include "mmuemu/riscv_bits.h"
#include "mmuemu/x86_bits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SZ_2M (UINT64_C(1) << 21)
#define SZ_1G (UINT64_C(1) << 30)

static bool kernel_alloc(void *arg, uint64_t *pa)
{
    os_kernel *k = arg;
    if (k->nkframes == k->capkframes) {
        size_t cap = k->capkframes ? 2 * k->capkframes : 16;
        uint64_t *n = realloc(k->kframes, cap * sizeof *n);
        if (n == NULL)
            return false;
        k->kframes = n;
        k->capkframes = cap;
    }
    if (os_frames_alloc(k->frames, OS_FRAME_PGTABLE, pa) != 0)
        return false;
    k->kframes[k->nkframes++] = *pa;
    return true;
}

uint64_t os_kernel_direct_va(const os_kernel *k, uint64_t pa)
{
    return k->layout.page_offset + (pa - k->direct_base);
}

static int map_direct(os_kernel *k)
{
    bool x86 = k->arch == MMU_ARCH_X86;
    uint64_t leaf = x86 ? X86_PTE_P | X86_PTE_RW | X86_PTE_A | X86_PTE_D |
                              X86_PTE_G | X86_PTE_NX
                        : RV_PTE_V | RV_PTE_R | RV_PTE_W | RV_PTE_A |
                              RV_PTE_D | RV_PTE_G;
    uint64_t table = x86 ? X86_PTE_P | X86_PTE_RW | X86_PTE_A | X86_PTE_D
                         : RV_PTE_V;
    static const uint64_t sizes[3] = {SZ_1G, SZ_2M, PAGE};
    uint64_t pa = k->direct_base, end = k->direct_base + k->direct_size;
    while (pa < end) {
        uint64_t va = os_kernel_direct_va(k, pa);
        for (unsigned i = 0; i < 3; i++) {
            uint64_t s = sizes[i];
            if ((pa & (s - 1)) || (va & (s - 1)) || end - pa < s)
                continue;
            int rc = mmu_pt_map(&k->kpt, va, pa, s, s, leaf, table);
            if (rc == MMU_PT_ENOMEM)
                return -OS_ENOMEM;
            if (rc != MMU_PT_OK)
                return -OS_EINVAL;
            k->direct_pages[2 - i]++;
            pa += s;
            break;
        }
    }
    return 0;
}

static int fail(char *err, size_t errlen, int rc, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return rc;
}

int os_kernel_init(os_kernel *k, mmu_phys *mem, os_frames *frames,
                   const os_layout *layout, char *err, size_t errlen)
{
    memset(k, 0, sizeof *k);
    const mmu_mode_info *mi = mmu_mode_get(layout->mode);
    if (mi == NULL || layout->task_size == 0)
        return fail(err, errlen, -OS_EINVAL, "unsupported paging mode");
    k->mem = mem;
    k->frames = frames;
    k->layout = *layout;
    k->arch = mi->arch;
    k->direct_base = page_up(mem->base);
    k->direct_size = page_down(mem->base + mem->size) - k->direct_base;
    if (k->layout.page_offset + k->direct_size < k->layout.page_offset)
        return fail(err, errlen, -OS_EINVAL,
                    "guest RAM too large for the direct map");
    if (os_frames_alloc(frames, OS_FRAME_ZERO, &k->zero_pa) != 0)
        return fail(err, errlen, -OS_ENOMEM, "no frame for the zero page");
    int rc = mmu_pt_init(&k->kpt, mem, layout->mode, kernel_alloc, k);
    if (rc == MMU_PT_OK)
        rc = map_direct(k);
    else
        rc = -OS_ENOMEM;
    if (rc != 0) {
        os_kernel_destroy(k);
        return fail(err, errlen, rc,
                    rc == -OS_ENOMEM ? "out of frames for the kernel half"
                                     : "cannot build the direct map");
    }
    return 0;
}

void os_kernel_destroy(os_kernel *k)
{
    for (size_t i = 0; i < k->nkframes; i++)
        os_frames_put(k->frames, k->kframes[i]);
    if (os_frames_kind(k->frames, k->zero_pa) == OS_FRAME_ZERO)
        os_frames_put(k->frames, k->zero_pa);
    free(k->kframes);
    k->kframes = NULL;
    k->nkframes = k->capkframes = 0;
    k->zero_pa = 0;
}
