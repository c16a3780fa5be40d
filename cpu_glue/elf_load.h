/*
 * elf_load.h - a careful ELF reader for guest images: ELF32 and ELF64,
 * little-endian, executables; PT_LOAD segments copied into guest physical
 * memory by physical address (p_paddr) with bounds checks; symbol lookup
 * (for HTIF `tohost`). Every field is validated against the file size:
 * a malformed ELF is a clear error, never a host out-of-bounds read.
 */
#ifndef MMUEMU_ELF_LOAD_H
#define MMUEMU_ELF_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmuemu/phys.h"

#define ELF_EM_386 3
#define ELF_EM_X86_64 62
#define ELF_EM_RISCV 243

typedef struct elf_image {
    uint8_t *data;     /* the whole file */
    size_t size;
    bool is64;
    uint16_t machine;  /* ELF_EM_* */
    uint64_t entry;
} elf_image;

/* Read and validate the header. @return false with a message. */
bool elf_open(elf_image *e, const char *path, char *err, size_t errlen);
void elf_close(elf_image *e);

/* Copy PT_LOAD segments to guest physical memory (p_paddr; the rest of
 * p_memsz zeroed). @return false with a message if a segment lies outside
 * RAM or outside the file. */
bool elf_load_phys(const elf_image *e, mmu_phys *mem, char *err,
                   size_t errlen);

/* Value of a symbol from .symtab, if present. */
bool elf_symbol(const elf_image *e, const char *name, uint64_t *value);

#endif
