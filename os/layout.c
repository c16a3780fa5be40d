/*
 * layout.c - Linux's address-space layout per paging mode, ASLR off
 * (see mmuemu/os.h, section 5, for the values and their sources:
 * arch/x86/include/asm/page_64_types.h and processor.h, arch/x86/mm/
 * mmap.c; arch/riscv/include/asm/page.h, pgtable.h, processor.h;
 * mm/util.c mmap_base(); mm/mmap.c stack_guard_gap).
 */
#include "os_internal.h"

#include <string.h>

#define MIB (UINT64_C(1) << 20)

static const struct mode_row {
    mmu_paging_mode mode;
    uint64_t task_size, stack_top, page_offset, kernel_start;
} rows[] = {
    {MMU_MODE_X86_4LEVEL, UINT64_C(0x7ffffffff000), UINT64_C(0x7ffffffff000),
     UINT64_C(0xffff888000000000), UINT64_C(0xffff800000000000)},
    {MMU_MODE_X86_5LEVEL, UINT64_C(0x00fffffffffff000),
     UINT64_C(0x7ffffffff000), UINT64_C(0xff11000000000000),
     UINT64_C(0xff00000000000000)},
    {MMU_MODE_SV39, UINT64_C(1) << 38, UINT64_C(1) << 38,
     UINT64_C(0xffffffd800000000), UINT64_C(0xffffffc000000000)},
    {MMU_MODE_SV48, UINT64_C(1) << 47, UINT64_C(1) << 47,
     UINT64_C(0xffffaf8000000000), UINT64_C(0xffff800000000000)},
    {MMU_MODE_SV57, UINT64_C(1) << 56, UINT64_C(1) << 47,
     UINT64_C(0xff60000000000000), UINT64_C(0xff00000000000000)},
};

/* mm/util.c and arch/x86/mm/mmap.c mmap_base() without randomization. */
static uint64_t mmap_base(uint64_t stack_top, uint64_t rlimit, uint64_t pad)
{
    uint64_t gap = rlimit, gap_min = 128 * MIB, gap_max = stack_top / 6 * 5;
    if (gap + pad > gap)
        gap += pad;
    if (gap < gap_min)
        gap = gap_min;
    else if (gap > gap_max)
        gap = gap_max;
    return page_up(stack_top - gap);
}

int os_layout_init(os_layout *l, mmu_paging_mode mode)
{
    memset(l, 0, sizeof *l);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct mode_row *r = &rows[i];
        if (r->mode != mode)
            continue;
        l->mode = mode;
        l->task_size = r->task_size;
        l->stack_top = r->stack_top;
        l->page_offset = r->page_offset;
        l->kernel_start = r->kernel_start;
        l->mmap_min_addr = 65536;
        l->stack_rlimit = 8 * MIB;
        l->stack_guard_gap = 256 * PAGE;
        l->mmap_base = mmap_base(l->stack_top, l->stack_rlimit,
                                 l->stack_guard_gap);
        /* x86 bases TASK_UNMAPPED_BASE on the default window. */
        l->unmapped_base =
            page_up((mmu_mode_get(mode)->arch == MMU_ARCH_X86 ? l->stack_top
                                                               : l->task_size) /
                    3);
        l->max_map_count = 65530;
        l->fault_around = 16;
        l->zero_page = true;
        return 0;
    }
    return -OS_EINVAL;
}
