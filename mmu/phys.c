/*
 * phys.c - bounds-checked guest physical memory (see mmuemu/phys.h).
 */
#include "mmuemu/phys.h"

#include <string.h>

bool mmu_phys_contains(const mmu_phys *m, uint64_t pa, uint64_t len)
{
    if (m == NULL || m->ram == NULL || pa < m->base)
        return false;
    uint64_t off = pa - m->base;
    return off <= m->size && len <= m->size - off;
}

void *mmu_phys_ptr(const mmu_phys *m, uint64_t pa, uint64_t len)
{
    if (!mmu_phys_contains(m, pa, len))
        return NULL;
    return m->ram + (pa - m->base);
}

bool mmu_phys_read(const mmu_phys *m, uint64_t pa, void *dst, size_t len)
{
    const void *p = mmu_phys_ptr(m, pa, len);
    if (p == NULL)
        return false;
    memcpy(dst, p, len);
    return true;
}

bool mmu_phys_write(mmu_phys *m, uint64_t pa, const void *src, size_t len)
{
    void *p = mmu_phys_ptr(m, pa, len);
    if (p == NULL)
        return false;
    memcpy(p, src, len);
    return true;
}

static uint64_t load_le(const uint8_t *p, unsigned size)
{
    /* Written so compilers merge it into one load on little-endian hosts,
     * and stay correct on any host. */
    if (size == 8)
        return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
               (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
               (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
               (uint64_t)p[7] << 56;
    if (size == 4)
        return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
               (uint64_t)p[3] << 24;
    uint64_t v = 0;
    for (unsigned i = size; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

static void store_le(uint8_t *p, unsigned size, uint64_t v)
{
    for (unsigned i = 0; i < size; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

bool mmu_phys_read_pte(const mmu_phys *m, uint64_t pa, unsigned size,
                       uint64_t *v)
{
    const uint8_t *p = mmu_phys_ptr(m, pa, size);
    if (p == NULL)
        return false;
    *v = load_le(p, size);
    return true;
}

bool mmu_phys_write_pte(mmu_phys *m, uint64_t pa, unsigned size, uint64_t v)
{
    uint8_t *p = mmu_phys_ptr(m, pa, size);
    if (p == NULL)
        return false;
    store_le(p, size, v);
    return true;
}

bool mmu_phys_cas_pte(mmu_phys *m, uint64_t pa, unsigned size, uint64_t expect,
                      uint64_t desired, bool *swapped)
{
    uint8_t *p = mmu_phys_ptr(m, pa, size);
    if (p == NULL)
        return false;
    *swapped = load_le(p, size) == expect;
    if (*swapped)
        store_le(p, size, desired);
    return true;
}

bool mmu_phys_read32(const mmu_phys *m, uint64_t pa, uint32_t *v)
{
    uint64_t x;
    if (!mmu_phys_read_pte(m, pa, 4, &x))
        return false;
    *v = (uint32_t)x;
    return true;
}

bool mmu_phys_read64(const mmu_phys *m, uint64_t pa, uint64_t *v)
{
    return mmu_phys_read_pte(m, pa, 8, v);
}

bool mmu_phys_write32(mmu_phys *m, uint64_t pa, uint32_t v)
{
    return mmu_phys_write_pte(m, pa, 4, v);
}

bool mmu_phys_write64(mmu_phys *m, uint64_t pa, uint64_t v)
{
    return mmu_phys_write_pte(m, pa, 8, v);
}
