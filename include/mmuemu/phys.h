/*
 * phys.h - guest physical memory: one host buffer at a guest physical base,
 * every access bounds-checked.
 *
 * All page-table reads and writes of the model go through here, so a
 * paging-structure address outside guest RAM is reported (false), never a
 * host out-of-bounds access. Multi-byte values are little-endian, as on
 * both architectures modelled.
 */
#ifndef MMUEMU_PHYS_H
#define MMUEMU_PHYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mmu_phys {
    uint8_t *ram;   /* host buffer holding guest RAM */
    uint64_t base;  /* guest physical address of ram[0] */
    uint64_t size;  /* bytes */
} mmu_phys;

/* @return true if [pa, pa+len) lies entirely inside RAM (no wrap-around). */
bool mmu_phys_contains(const mmu_phys *m, uint64_t pa, uint64_t len);

/* @return host pointer for [pa, pa+len), or NULL if outside RAM. */
void *mmu_phys_ptr(const mmu_phys *m, uint64_t pa, uint64_t len);

/* Copy in/out. @return false (and touch nothing) if any byte is outside. */
bool mmu_phys_read(const mmu_phys *m, uint64_t pa, void *dst, size_t len);
bool mmu_phys_write(mmu_phys *m, uint64_t pa, const void *src, size_t len);

bool mmu_phys_read32(const mmu_phys *m, uint64_t pa, uint32_t *v);
bool mmu_phys_read64(const mmu_phys *m, uint64_t pa, uint64_t *v);
bool mmu_phys_write32(mmu_phys *m, uint64_t pa, uint32_t v);
bool mmu_phys_write64(mmu_phys *m, uint64_t pa, uint64_t v);

/* Read/write a 4- or 8-byte entry (size chosen by the paging mode). */
bool mmu_phys_read_pte(const mmu_phys *m, uint64_t pa, unsigned size,
                       uint64_t *v);
bool mmu_phys_write_pte(mmu_phys *m, uint64_t pa, unsigned size, uint64_t v);

/*
 * Compare-and-set of an entry, the way hardware sets A/D with a locked
 * read-modify-write. @return false if outside RAM; *swapped says whether
 * the entry still held `expect` and now holds `desired`.
 */
bool mmu_phys_cas_pte(mmu_phys *m, uint64_t pa, unsigned size, uint64_t expect,
                      uint64_t desired, bool *swapped);

#endif
