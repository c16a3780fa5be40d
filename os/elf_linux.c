/*
 * elf_linux.c - the ELF loader for static and static-pie Linux
 * executables, after fs/binfmt_elf.c load_elf_binary() (see mmuemu/os.h,
 * section 9).
 *
 * Validation reads every field through os_file_read() and checks it
 * against the file size and the layout before anything is mapped, so a
 * malformed file is a one-line error, never a host out-of-bounds access
 * and never a half-built address space. Mapping follows elf_load(): each
 * PT_LOAD's file part is a private file mapping, the rest of its last
 * file page is zeroed through the page tables (padzero()), and the bss
 * beyond is an anonymous brk-style area (vm_brk_flags(), read-write). A
 * static-pie (ET_DYN without PT_INTERP) goes where a hint-less mmap of
 * its whole span would go, aligned down to its largest p_align; brk
 * starts at the page after the highest segment.
 */
#include "os_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ET_EXEC 2
#define ET_DYN 3
#define PT_LOAD 1
#define PT_INTERP 3
#define PT_GNU_STACK UINT32_C(0x6474e551)
#define PF_X 1u
#define PF_W 2u
#define PF_R 4u
#define EHDR_SIZE 64
#define PHDR_SIZE 56
#define MAX_PHDRS (4096 / PHDR_SIZE) /* load_elf_phdrs(): <= ELF_MIN_ALIGN */
#define BSS_FLAGS (OS_VM_READ | OS_VM_WRITE | OS_VM_MAYALL | OS_VM_ACCOUNT)

typedef struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz, align;
} phdr;

typedef struct elf_img {
    os_file *f;
    uint64_t size;
    os_elf_info info;
    phdr ph[MAX_PHDRS];
    unsigned nph;
} elf_img;

static uint64_t rd(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}


#define ENOEXEC_ (-OS_ENOEXEC)

static int read_header(elf_img *m, mmu_arch arch, char *err, size_t errlen)
{
    uint8_t h[EHDR_SIZE];
    int64_t n = os_file_read(m->f, 0, h, sizeof h);
    if (n < 0)
        return os_fail(err, errlen, -OS_EIO, "cannot read the ELF header");
    if (n < 4 || memcmp(h, "\x7f" "ELF", 4) != 0)
        return os_fail(err, errlen, ENOEXEC_, "not an ELF file (bad magic)");
    if (n < EHDR_SIZE)
        return os_fail(err, errlen, ENOEXEC_,
                    "truncated ELF header (%lld of 64 bytes)", (long long)n);
    if (h[4] != 2)
        return os_fail(err, errlen, ENOEXEC_,
                    "ELF class %u: only ELF64 executables are supported", h[4]);
    if (h[5] != 1)
        return os_fail(err, errlen, ENOEXEC_, "ELF data encoding %u: not "
                    "little-endian", h[5]);
    if (h[6] != 1 || rd(h + 20, 4) != 1)
        return os_fail(err, errlen, ENOEXEC_, "bad ELF version");
    os_elf_info *i = &m->info;
    i->type = (uint16_t)rd(h + 16, 2);
    i->machine = (uint16_t)rd(h + 18, 2);
    i->entry = rd(h + 24, 8);
    i->phoff = rd(h + 32, 8);
    i->phentsize = (uint16_t)rd(h + 54, 2);
    i->phnum = (uint16_t)rd(h + 56, 2);
    if (i->type != ET_EXEC && i->type != ET_DYN)
        return os_fail(err, errlen, ENOEXEC_, "ELF type %u is not an executable "
                    "(want ET_EXEC or a static-pie ET_DYN)", i->type);
    unsigned want = arch == MMU_ARCH_X86 ? OS_ELF_EM_X86_64 : OS_ELF_EM_RISCV;
    if (i->machine != want)
        return os_fail(err, errlen, ENOEXEC_, "ELF machine %u, this address "
                    "space needs %u (%s)", i->machine, want,
                    arch == MMU_ARCH_X86 ? "EM_X86_64" : "EM_RISCV");
    if (i->phentsize != PHDR_SIZE)
        return os_fail(err, errlen, ENOEXEC_, "e_phentsize %u (want 56)",
                    i->phentsize);
    if (i->phnum == 0 || i->phnum > MAX_PHDRS)
        return os_fail(err, errlen, ENOEXEC_, "e_phnum %u (want 1..%u)",
                    i->phnum, MAX_PHDRS);
    if (i->phoff > m->size || (uint64_t)i->phnum * PHDR_SIZE > m->size -
                                  i->phoff)
        return os_fail(err, errlen, ENOEXEC_, "program headers (offset 0x%llx, "
                    "%u entries) lie outside the file (0x%llx bytes)",
                    (unsigned long long)i->phoff, i->phnum,
                    (unsigned long long)m->size);
    return 0;
}

static int read_phdrs(elf_img *m, char *err, size_t errlen)
{
    uint8_t buf[MAX_PHDRS * PHDR_SIZE];
    uint64_t len = (uint64_t)m->info.phnum * PHDR_SIZE;
    if (os_file_read(m->f, m->info.phoff, buf, len) != (int64_t)len)
        return os_fail(err, errlen, -OS_EIO, "cannot read the program headers");
    m->nph = m->info.phnum;
    for (unsigned k = 0; k < m->nph; k++) {
        const uint8_t *p = buf + k * PHDR_SIZE;
        phdr *ph = &m->ph[k];
        ph->type = (uint32_t)rd(p, 4);
        ph->flags = (uint32_t)rd(p + 4, 4);
        ph->offset = rd(p + 8, 8);
        ph->vaddr = rd(p + 16, 8);
        ph->filesz = rd(p + 32, 8);
        ph->memsz = rd(p + 40, 8);
        ph->align = rd(p + 48, 8);
    }
    return 0;
}

static int refuse_interp(elf_img *m, const phdr *ph, char *err, size_t errlen)
{
    char name[64] = "";
    uint64_t n = ph->filesz < sizeof name - 1 ? ph->filesz : sizeof name - 1;
    if (ph->offset <= m->size && n <= m->size - ph->offset &&
        os_file_read(m->f, ph->offset, name, n) >= 0)
        name[n] = '\0';
    return os_fail(err, errlen, ENOEXEC_, "dynamically linked (PT_INTERP "
                "\"%s\"): only static and static-pie executables are "
                "supported", name);
}

/* One PT_LOAD against the file, the layout and the previous one. */
static int check_load(elf_img *m, const os_layout *l, unsigned k,
                      const phdr *prev, char *err, size_t errlen)
{
    const phdr *ph = &m->ph[k];
    if (ph->filesz > ph->memsz)
        return os_fail(err, errlen, ENOEXEC_, "PT_LOAD %u: p_filesz 0x%llx "
                    "exceeds p_memsz 0x%llx", k,
                    (unsigned long long)ph->filesz,
                    (unsigned long long)ph->memsz);
    if (ph->offset > m->size || ph->filesz > m->size - ph->offset)
        return os_fail(err, errlen, ENOEXEC_, "PT_LOAD %u lies outside the file "
                    "(offset 0x%llx + 0x%llx > 0x%llx bytes)", k,
                    (unsigned long long)ph->offset,
                    (unsigned long long)ph->filesz,
                    (unsigned long long)m->size);
    if (ph->memsz > l->task_size || ph->vaddr > l->task_size - ph->memsz)
        return os_fail(err, errlen, ENOEXEC_, "PT_LOAD %u: absurd size or "
                    "address (0x%llx + 0x%llx)", k,
                    (unsigned long long)ph->vaddr,
                    (unsigned long long)ph->memsz);
    if (((ph->vaddr - ph->offset) & (PAGE - 1)) != 0)
        return os_fail(err, errlen, ENOEXEC_, "PT_LOAD %u: p_vaddr 0x%llx and "
                    "p_offset 0x%llx differ modulo the page size", k,
                    (unsigned long long)ph->vaddr,
                    (unsigned long long)ph->offset);
    if (prev != NULL && ph->vaddr < prev->vaddr + prev->memsz)
        return os_fail(err, errlen, ENOEXEC_, "PT_LOAD %u (0x%llx) overlaps or "
                    "precedes the previous segment (ends 0x%llx)", k,
                    (unsigned long long)ph->vaddr,
                    (unsigned long long)(prev->vaddr + prev->memsz));
    return 0;
}

static int scan_phdrs(elf_img *m, const os_layout *l, char *err,
                      size_t errlen)
{
    os_elf_info *i = &m->info;
    const phdr *prev = NULL;
    i->lo = UINT64_MAX;
    i->max_align = PAGE;
    for (unsigned k = 0; k < m->nph; k++) {
        const phdr *ph = &m->ph[k];
        if (ph->type == PT_INTERP)
            return refuse_interp(m, ph, err, errlen);
        if (ph->type == PT_GNU_STACK)
            i->exec_stack = (ph->flags & PF_X) != 0;
        if (ph->type != PT_LOAD)
            continue;
        int rc = check_load(m, l, k, prev, err, errlen);
        if (rc != 0)
            return rc;
        i->nload++;
        if (ph->memsz == 0)
            continue;
        prev = ph;
        if ((ph->align & (ph->align - 1)) == 0 && ph->align > i->max_align)
            i->max_align = ph->align;
        if (page_down(ph->vaddr) < i->lo)
            i->lo = page_down(ph->vaddr);
        i->hi = page_up(ph->vaddr + ph->memsz);
    }
    if (prev == NULL)
        return os_fail(err, errlen, ENOEXEC_, "no loadable segment (PT_LOAD)");
    return 0;
}

static int check_span(elf_img *m, const os_layout *l, char *err,
                      size_t errlen)
{
    os_elf_info *i = &m->info;
    if (i->hi == 0 || i->hi > l->task_size)
        return os_fail(err, errlen, ENOEXEC_, "segments end at 0x%llx, beyond "
                    "the user address space (0x%llx)",
                    (unsigned long long)i->hi,
                    (unsigned long long)l->task_size);
    if (i->type == ET_EXEC && i->lo < l->mmap_min_addr)
        return os_fail(err, errlen, ENOEXEC_, "segment at 0x%llx below "
                    "vm.mmap_min_addr (0x%llx)", (unsigned long long)i->lo,
                    (unsigned long long)l->mmap_min_addr);
    if (i->max_align > (UINT64_C(1) << 30))
        return os_fail(err, errlen, ENOEXEC_, "absurd p_align 0x%llx",
                    (unsigned long long)i->max_align);
    for (unsigned k = 0; k < m->nph; k++) {
        const phdr *ph = &m->ph[k];
        if (ph->type == PT_LOAD && i->entry >= ph->vaddr &&
            i->entry - ph->vaddr < ph->memsz)
            return 0;
    }
    return os_fail(err, errlen, ENOEXEC_, "entry point 0x%llx lies outside "
                "every PT_LOAD", (unsigned long long)i->entry);
}

static int parse(elf_img *m, os_file *f, const os_layout *l, mmu_arch arch,
                 char *err, size_t errlen)
{
    memset(&m->info, 0, sizeof m->info);
    m->f = f;
    m->size = os_file_size(f);
    m->nph = 0;
    int rc = read_header(m, arch, err, errlen);
    if (rc == 0)
        rc = read_phdrs(m, err, errlen);
    if (rc == 0)
        rc = scan_phdrs(m, l, err, errlen);
    if (rc == 0)
        rc = check_span(m, l, err, errlen);
    return rc;
}

int os_elf_inspect(os_file *f, const os_layout *l, mmu_arch arch,
                   os_elf_info *info, char *err, size_t errlen)
{
    elf_img m;
    int rc = parse(&m, f, l, arch, err, errlen);
    *info = m.info;
    return rc;
}

/* ---- mapping -------------------------------------------------------- */

static uint32_t seg_prot(const phdr *ph)
{
    return ((ph->flags & PF_R) ? OS_VM_READ : 0) |
           ((ph->flags & PF_W) ? OS_VM_WRITE : 0) |
           ((ph->flags & PF_X) ? OS_VM_EXEC : 0);
}

/* elf_load(): file part, padzero(), then the anonymous rest. */
static int load_segment(os_aspace *as, os_uaccess *u, elf_img *m,
                        const phdr *ph, uint64_t bias, bool first, char *err,
                        size_t errlen)
{
    uint32_t prot = seg_prot(ph);
    uint64_t vaddr = ph->vaddr + bias, zero_start, addr;
    uint64_t zero_end = vaddr + ph->memsz;
    int rc;
    if (ph->filesz != 0) {
        uint64_t start = page_down(vaddr);
        os_map_req r = {start, page_up(vaddr + ph->filesz) - start, prot,
                        first ? OS_MAP_FIXED_NOREPLACE : OS_MAP_FIXED, 0, m->f,
                        page_down(ph->offset)};
        rc = os_aspace_map(as, &r, &addr);
        if (rc != 0)
            return os_fail(err, errlen, rc, "cannot map the segment at 0x%llx: "
                        "%s", (unsigned long long)start, os_errno_name(rc));
        zero_start = vaddr + ph->filesz;
        uint64_t tail = zero_start & (PAGE - 1);
        if (ph->memsz > ph->filesz && tail != 0) {
            rc = os_clear_user(u, zero_start, (size_t)(PAGE - tail));
            if (rc != 0 && (prot & OS_VM_WRITE))
                return os_fail(err, errlen, rc, "cannot zero the bss head at "
                            "0x%llx: %s", (unsigned long long)zero_start,
                            os_errno_name(rc));
        }
    } else {
        zero_start = page_down(vaddr);
    }
    uint64_t zs = page_up(zero_start), ze = page_up(zero_end);
    if (ph->memsz > ph->filesz && ze > zs) {
        rc = os_aspace_unmap(as, zs, ze - zs);
        if (rc == 0)
            rc = as_brk_area(as, zs, ze, BSS_FLAGS | (prot & OS_VM_EXEC), true);
        if (rc != 0)
            return os_fail(err, errlen, rc, "cannot map the bss at 0x%llx: %s",
                        (unsigned long long)zs, os_errno_name(rc));
    }
    return 0;
}

/* start_code/end_code/start_data/end_data/brk as load_elf_binary(). */
static void note_segment(os_aspace *as, const phdr *ph, uint64_t bias,
                         uint64_t *elf_brk)
{
    uint64_t k = ph->vaddr + bias;
    if ((ph->flags & PF_X) && k < as->start_code)
        as->start_code = k;
    if (as->start_data < k)
        as->start_data = k;
    k = ph->vaddr + bias + ph->filesz;
    if ((ph->flags & PF_X) && as->end_code < k)
        as->end_code = k;
    if (as->end_data < k)
        as->end_data = k;
    k = ph->vaddr + bias + ph->memsz;
    if (k > *elf_brk)
        *elf_brk = k;
}

static int load_all(os_aspace *as, os_uaccess *u, elf_img *m, uint64_t bias,
                    uint64_t *phdr_addr, char *err, size_t errlen)
{
    uint64_t elf_brk = 0;
    bool first = true;
    as->start_code = UINT64_MAX;
    as->end_code = as->start_data = as->end_data = 0;
    *phdr_addr = 0;
    for (unsigned k = 0; k < m->nph; k++) {
        const phdr *ph = &m->ph[k];
        if (ph->type != PT_LOAD || ph->memsz == 0)
            continue;
        int rc = load_segment(as, u, m, ph, bias, first, err, errlen);
        if (rc != 0)
            return rc;
        first = false;
        if (ph->offset <= m->info.phoff &&
            m->info.phoff - ph->offset < ph->filesz)
            *phdr_addr = m->info.phoff - ph->offset + ph->vaddr + bias;
        note_segment(as, ph, bias, &elf_brk);
    }
    as->start_brk = as->brk = page_up(elf_brk);
    return 0;
}

int os_elf_exec(os_aspace *as, os_uaccess *u, os_file *f,
                const os_exec_params *p, os_exec_result *out, char *err,
                size_t errlen)
{
    elf_img m;
    memset(out, 0, sizeof *out);
    int rc = parse(&m, f, &as->k->layout, as_arch(as), err, errlen);
    if (rc != 0)
        return rc;
    uint64_t bias = 0, phdr_addr, a;
    if (m.info.type == ET_DYN) {
        rc = os_aspace_unmapped_area(as, 0, m.info.hi - m.info.lo, &a);
        if (rc != 0)
            return os_fail(err, errlen, rc, "no room for a static-pie of 0x%llx "
                        "bytes", (unsigned long long)(m.info.hi - m.info.lo));
        bias = (a & ~(m.info.max_align - 1)) - m.info.lo;
    }
    rc = load_all(as, u, &m, bias, &phdr_addr, err, errlen);
    if (rc != 0)
        return rc;
    out->pc = m.info.entry + bias;
    out->load_bias = bias;
    out->phdr = phdr_addr;
    out->elf = m.info;
    return os_elf_build_stack(as, os_uaccess_write_cb, u, p, &m.info, bias,
                              phdr_addr, out, err, errlen);
}
