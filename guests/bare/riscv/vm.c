/*
 * vm.c - the kernel's page pool and page-table builder for Sv39 / Sv48.
 *
 * Models: priv spec "Sv39" / "Sv48": 9-bit VPN fields, 8-byte PTEs, a leaf
 * at level L > 0 is a superpage. Tables come from a static pool that is
 * reset for each mode; RAM is identity-mapped, so a table's PA is also the
 * pointer the kernel uses. Non-leaf PTEs carry V only: D, A and U must be 0
 * there (priv spec; faulting on them is left to the checks' authors).
 */
#include "guest.h"

#define POOL_PAGES 40
#define VPN_BITS   9
#define VPN_MASK   ((UINT64_C(1) << VPN_BITS) - 1)

static _Alignas(4096) uint8_t pool[POOL_PAGES][4096];
static unsigned pool_used;
struct vm vm_cur;

uint64_t page_alloc(void)
{
    uint8_t *p;

    if (pool_used == POOL_PAGES) {
        uart_puts("\nvm: page pool exhausted\nFAIL 1\n");
        guest_exit(1);
    }
    p = pool[pool_used++];
    memset(p, 0, PAGE_SIZE);
    return (uint64_t)(uintptr_t)p;
}

/* @return a fresh page whose first doubleword is word0. */
uint64_t page_with(uint64_t word0)
{
    uint64_t pa = page_alloc();
    *(volatile uint64_t *)(uintptr_t)pa = word0;
    return pa;
}

/* @return a fresh page starting with "ret", so a fetch that wrongly
 * succeeds returns to the probe instead of running off. */
uint64_t page_with_ret(void)
{
    uint64_t pa = page_alloc();
    *(volatile uint32_t *)(uintptr_t)pa = INSN_RET;
    __asm__ volatile("fence.i" ::: "memory");
    return pa;
}

uint64_t pte_make(uint64_t pa, uint64_t flags)
{
    return ((pa >> PAGE_SHIFT) << RV_PTE_PPN_SHIFT) | flags;
}

uint64_t pte_pa(uint64_t pte)
{
    return ((pte & RV_PTE_PPN_MASK) >> RV_PTE_PPN_SHIFT) << PAGE_SHIFT;
}

static unsigned vpn(uint64_t va, unsigned level)
{
    return (unsigned)((va >> (PAGE_SHIFT + VPN_BITS * level)) & VPN_MASK);
}

/* @return the PTE slot for va at level (0 = 4 KiB), creating the tables
 * above it; a leaf in the way is a bug in the checks and ends the run. */
volatile uint64_t *vm_pte(uint64_t va, unsigned level)
{
    uint64_t table = vm_cur.root;

    for (unsigned i = vm_cur.levels - 1; i > level; i--) {
        volatile uint64_t *pte =
            (volatile uint64_t *)(uintptr_t)table + vpn(va, i);
        if (!(*pte & RV_PTE_V))
            *pte = pte_make(page_alloc(), RV_PTE_V);
        else if (*pte & PTE_FLAGS_RWX) {
            uart_puts("\nvm: leaf in the way at ");
            uart_puthex(va);
            uart_puts("\nFAIL 1\n");
            guest_exit(1);
        }
        table = pte_pa(*pte);
    }
    return (volatile uint64_t *)(uintptr_t)table + vpn(va, level);
}

void vm_map(uint64_t va, uint64_t pa, unsigned level, uint64_t flags)
{
    *vm_pte(va, level) = pte_make(pa, flags);
}

void sfence_va(uint64_t va)
{
    __asm__ volatile("sfence.vma %0, zero" ::"r"(va) : "memory");
}

void sfence_all(void)
{
    __asm__ volatile("sfence.vma zero, zero" ::: "memory");
}

/* Fresh tables with the fixed kernel mappings (guest.h layout). */
void vm_build(unsigned mode)
{
    const uint64_t kern = RV_PTE_V | RV_PTE_A | RV_PTE_D | RV_PTE_G;

    pool_used = 0;
    vm_cur.mode = mode;
    vm_cur.levels = mode == RV_SATP_MODE_SV48 ? 4 : 3;
    vm_cur.name = mode == RV_SATP_MODE_SV48 ? "sv48" : "sv39";
    vm_cur.root = page_alloc();
    vm_map(0, 0, 1, kern | RV_PTE_R | RV_PTE_W);
    vm_map(UART_BASE, UART_BASE, 1, kern | RV_PTE_R | RV_PTE_W);
    vm_map(RAM_BASE, RAM_BASE, 2, kern | PTE_FLAGS_RWX);
}

void vm_activate(void)
{
    csr_write_satp(((uint64_t)vm_cur.mode << RV64_SATP_MODE_SHIFT) |
                   (vm_cur.root >> PAGE_SHIFT));
    sfence_all();
}

void vm_off(void)
{
    csr_write_satp(0);
    sfence_all();
}
