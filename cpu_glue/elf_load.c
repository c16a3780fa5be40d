/*
 * elf_load.c - see elf_load.h. Fields are read byte by byte (little-
 * endian) and every offset and size is checked against the file.
 */
#include "elf_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ELF_SIZE (UINT64_C(1) << 30)

static uint64_t rd(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

static bool fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return false;
}

/* Does [off, off+len) lie inside the file? */
static bool in_file(const elf_image *e, uint64_t off, uint64_t len)
{
    return off <= e->size && len <= e->size - off;
}

bool elf_open(elf_image *e, const char *path, char *err, size_t errlen)
{
    memset(e, 0, sizeof *e);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return fail(err, errlen, "cannot open the ELF file");
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return fail(err, errlen, "cannot read the ELF file");
    }
    long sz = ftell(f);
    if (sz < 0 || (uint64_t)sz > MAX_ELF_SIZE) {
        fclose(f);
        return fail(err, errlen, "ELF file too large (over 1 GiB)");
    }
    rewind(f);
    e->size = (size_t)sz;
    e->data = malloc(e->size ? e->size : 1);
    if (e->data == NULL || fread(e->data, 1, e->size, f) != e->size) {
        fclose(f);
        elf_close(e);
        return fail(err, errlen, "cannot read the ELF file");
    }
    fclose(f);
    const uint8_t *h = e->data;
    if (e->size < 52 || memcmp(h, "\x7f" "ELF", 4) != 0) {
        elf_close(e);
        return fail(err, errlen, "not an ELF file (bad magic)");
    }
    if (h[4] != 1 && h[4] != 2) {
        elf_close(e);
        return fail(err, errlen, "bad ELF class");
    }
    e->is64 = h[4] == 2;
    if (h[5] != 1) {
        elf_close(e);
        return fail(err, errlen, "ELF is not little-endian");
    }
    if (e->is64 && e->size < 64) {
        elf_close(e);
        return fail(err, errlen, "truncated ELF header");
    }
    uint16_t type = (uint16_t)rd(h + 16, 2);
    if (type != 2) {
        elf_close(e);
        return fail(err, errlen, "ELF is not an executable (ET_EXEC)");
    }
    e->machine = (uint16_t)rd(h + 18, 2);
    e->entry = e->is64 ? rd(h + 24, 8) : rd(h + 24, 4);
    return true;
}

void elf_close(elf_image *e)
{
    free(e->data);
    e->data = NULL;
    e->size = 0;
}

typedef struct phdr {
    uint32_t type;
    uint64_t offset, paddr, filesz, memsz;
} phdr;

static bool get_phdrs(const elf_image *e, uint64_t *off, uint64_t *num,
                      uint64_t *entsize)
{
    const uint8_t *h = e->data;
    *off = e->is64 ? rd(h + 32, 8) : rd(h + 28, 4);
    *entsize = e->is64 ? rd(h + 54, 2) : rd(h + 42, 2);
    *num = e->is64 ? rd(h + 56, 2) : rd(h + 44, 2);
    uint64_t need = e->is64 ? 56 : 32;
    return *entsize >= need && *num <= 4096 &&
           in_file(e, *off, *num * *entsize);
}

static phdr read_phdr(const elf_image *e, const uint8_t *p)
{
    phdr ph;
    ph.type = (uint32_t)rd(p, 4);
    if (e->is64) {
        ph.offset = rd(p + 8, 8);
        ph.paddr = rd(p + 24, 8);
        ph.filesz = rd(p + 32, 8);
        ph.memsz = rd(p + 40, 8);
    } else {
        ph.offset = rd(p + 4, 4);
        ph.paddr = rd(p + 12, 4);
        ph.filesz = rd(p + 16, 4);
        ph.memsz = rd(p + 20, 4);
    }
    return ph;
}

bool elf_load_phys(const elf_image *e, mmu_phys *mem, char *err,
                   size_t errlen)
{
    uint64_t off, num, entsize;
    if (!get_phdrs(e, &off, &num, &entsize))
        return fail(err, errlen, "ELF program headers lie outside the file");
    unsigned loaded = 0;
    for (uint64_t i = 0; i < num; i++) {
        phdr ph = read_phdr(e, e->data + off + i * entsize);
        if (ph.type != 1) /* PT_LOAD */
            continue;
        if (ph.filesz > ph.memsz || !in_file(e, ph.offset, ph.filesz))
            return fail(err, errlen, "ELF segment lies outside the file");
        void *dst = mmu_phys_ptr(mem, ph.paddr, ph.memsz);
        if (dst == NULL) {
            snprintf(err, errlen,
                     "ELF segment at physical 0x%llx (+0x%llx) lies outside "
                     "guest RAM",
                     (unsigned long long)ph.paddr,
                     (unsigned long long)ph.memsz);
            return false;
        }
        memcpy(dst, e->data + ph.offset, (size_t)ph.filesz);
        memset((uint8_t *)dst + ph.filesz, 0, (size_t)(ph.memsz - ph.filesz));
        loaded++;
    }
    if (loaded == 0)
        return fail(err, errlen, "ELF has no loadable segment");
    return true;
}

bool elf_symbol(const elf_image *e, const char *name, uint64_t *value)
{
    const uint8_t *h = e->data;
    uint64_t shoff = e->is64 ? rd(h + 40, 8) : rd(h + 32, 4);
    uint64_t shentsize = e->is64 ? rd(h + 58, 2) : rd(h + 46, 2);
    uint64_t shnum = e->is64 ? rd(h + 60, 2) : rd(h + 48, 2);
    uint64_t need = e->is64 ? 64 : 40;
    if (shentsize < need || !in_file(e, shoff, shnum * shentsize))
        return false;
    size_t namelen = strlen(name);
    for (uint64_t i = 0; i < shnum; i++) {
        const uint8_t *s = h + shoff + i * shentsize;
        if (rd(s + 4, 4) != 2) /* SHT_SYMTAB */
            continue;
        uint64_t off = e->is64 ? rd(s + 24, 8) : rd(s + 16, 4);
        uint64_t size = e->is64 ? rd(s + 32, 8) : rd(s + 20, 4);
        uint64_t link = rd(s + (e->is64 ? 40 : 24), 4);
        uint64_t entsize = e->is64 ? 24 : 16;
        if (link >= shnum || !in_file(e, off, size))
            continue;
        const uint8_t *strh = h + shoff + link * shentsize;
        uint64_t stroff = e->is64 ? rd(strh + 24, 8) : rd(strh + 16, 4);
        uint64_t strsize = e->is64 ? rd(strh + 32, 8) : rd(strh + 20, 4);
        if (!in_file(e, stroff, strsize))
            continue;
        for (uint64_t k = 0; k + entsize <= size; k += entsize) {
            const uint8_t *sym = h + off + k;
            uint64_t nm = rd(sym, 4);
            if (nm >= strsize || strsize - nm <= namelen)
                continue;
            const char *sn = (const char *)h + stroff + nm;
            if (memcmp(sn, name, namelen) == 0 && sn[namelen] == '\0') {
                *value = e->is64 ? rd(sym + 8, 8) : rd(sym + 4, 4);
                return true;
            }
        }
    }
    return false;
}
