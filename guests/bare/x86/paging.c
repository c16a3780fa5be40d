/*
 * paging.c - frame pool, kernel identity map, per-mode test spaces.
 * See paging.h for the layout.
 */
#include "paging.h"

#include <mmuemu/x86_bits.h>

#include "cpu.h"
#include "serial.h"

#define POOL_BASE      UINT64_C(0x400000)
#define TABLE          (X86_PTE_P | X86_PTE_RW | X86_PTE_US) /* non-leaf */
#define IDX(va, shift) (((va) >> (shift)) & 511)

extern char __user_start[], __user_end[], __kernel_end[];

static uint64_t pool_next, pool_end;
static uint64_t *kernel_pml4;

static uint64_t addr(const void *p) { return (uint64_t)(uintptr_t)p; }

uint64_t *frame_alloc(void)
{
    if (pool_next + PAGE_SIZE > pool_end) {
        kprintf("frame pool exhausted\n");
        guest_exit(1);
    }
    uint64_t *p = (uint64_t *)(uintptr_t)pool_next;
    pool_next += PAGE_SIZE;
    for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
        p[i] = 0;
    return p;
}

void paging_init(uint64_t mem_end)
{
    if (addr(__kernel_end) > SIZE_2M || mem_end < 2 * POOL_BASE) {
        kprintf("layout: kernel end 0x%lx, memory end 0x%lx: too small\n",
                addr(__kernel_end), mem_end);
        guest_exit(1);
    }
    pool_next = POOL_BASE;
    pool_end = mem_end < SIZE_1G ? mem_end : SIZE_1G;

    kernel_pml4 = frame_alloc();
    uint64_t *pdpt = frame_alloc(), *pd = frame_alloc(), *pt = frame_alloc();
    kernel_pml4[0] = addr(pdpt) | TABLE;
    pdpt[0] = addr(pd) | TABLE;
    pd[0] = addr(pt) | TABLE;
    for (uint64_t i = 1; i < 512; i++) {
        uint64_t pa = i * PAGE_SIZE;
        int user = pa >= addr(__user_start) && pa < addr(__user_end);
        pt[i] = pa | X86_PTE_P | X86_PTE_RW | (user ? X86_PTE_US : 0);
        pd[i] = i * SIZE_2M | X86_PTE_P | X86_PTE_RW | X86_PTE_PS;
    }
    wr_cr3(addr(kernel_pml4));
}

void space_init(struct space *s, unsigned levels)
{
    s->levels = levels;
    s->next_slot = 0;
    s->pdpt = frame_alloc();
    s->pd = frame_alloc();
    s->pt = frame_alloc();
    s->pdpt[0] = addr(s->pd) | TABLE;
    s->pd[0] = addr(s->pt) | TABLE;
    if (levels == 4) {
        s->name = "4-level";
        s->va_bits = 48;
        s->base = UINT64_C(1) << 39;
        kernel_pml4[1] = addr(s->pdpt) | TABLE;
        s->cr3 = addr(kernel_pml4);
    } else {
        s->name = "5-level";
        s->va_bits = 57;
        s->base = UINT64_C(1) << 48 | UINT64_C(1) << 39;
        uint64_t *pml5 = frame_alloc(), *pml4 = frame_alloc();
        pml5[0] = addr(kernel_pml4) | TABLE;
        pml5[1] = addr(pml4) | TABLE;
        pml4[1] = addr(s->pdpt) | TABLE;
        s->cr3 = addr(pml5);
    }
}

uint64_t slot_new(struct space *s)
{
    if (s->next_slot >= TEST_SLOTS) {
        kprintf("test slots exhausted\n");
        guest_exit(1);
    }
    return s->base + s->next_slot++ * PAGE_SIZE;
}

uint64_t *slot_pte(const struct space *s, uint64_t va)
{
    return &s->pt[IDX(va, 12)];
}

uint8_t *slot_map(const struct space *s, uint64_t va, uint64_t flags)
{
    uint64_t *frame = frame_alloc();
    *slot_pte(s, va) = addr(frame) | flags;
    invlpg(va);
    return (uint8_t *)frame;
}

void slot_flags(const struct space *s, uint64_t va, uint64_t flags)
{
    uint64_t *pte = slot_pte(s, va);
    *pte = (*pte & X86_PTE_ADDR_MASK) | flags;
    invlpg(va);
}
