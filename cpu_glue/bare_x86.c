/*
 * bare_x86.c - machine_bare_x86: boots a multiboot v1 kernel the way
 * `qemu-system-x86_64 -kernel ELF` does, with the devices the bare guests
 * use, so the same image runs under QEMU as the reference.
 *
 * Boot (Multiboot 0.6.96 section 3.2, "Machine state"): the ELF32
 * container's PT_LOAD segments at their physical addresses; the
 * multiboot information (flags: mem_lower/mem_upper, cmdline = the image
 * path then the configured command line, as QEMU passes `-kernel path
 * -append ...`) at MBI_PA; a small firmware stub at STUB_PA loads a flat
 * GDT and data selectors and far-jumps into the kernel entry in 32-bit
 * protected mode with paging off, EAX = 0x2BADB002, EBX = MBI_PA, IF = 0.
 * The UC_MODE_64 engine starts with EFER.LMA set and paging off (Unicorn's
 * reset); toggling CR0.PG once from the host clears LMA as leaving IA-32e
 * mode does, so the kernel starts with EFER = 0, as on QEMU.
 *
 * Devices (port I/O via UC_HOOK_INSN IN/OUT, the APIC via uc_mmio_map):
 *   COM1 0x3f8..0x3ff  16550: THR -> console, LSR always 0x60 (transmitter
 *                      empty), the other registers hold what is written;
 *   0xE9               console (bochs/QEMU debugcon);
 *   0xf4..0xf7         isa-debug-exit: a write of v exits with (v << 1) | 1;
 *   0x510 / 0x511      fw_cfg selector / data: signature "QEMU", ID 1,
 *                      NB_CPUS 1, RAM_SIZE;
 *   0xFEE00000         xAPIC page: ID 0, version 0x50014, SVR 0xff;
 *                      writes ignored.
 * Unassigned ports read as all ones and ignore writes.
 */
#include "machine_internal.h"
#include "x86_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MB_MAGIC        UINT32_C(0x1BADB002)
#define MB_BOOT_MAGIC   UINT32_C(0x2BADB002)
#define MB_SEARCH       8192u
#define MB_INFO_MEM     (UINT32_C(1) << 0)
#define MB_INFO_CMDLINE (UINT32_C(1) << 2)

#define STUB_PA  UINT64_C(0x7000)
#define GDTR_PA  UINT64_C(0x7100)
#define GDT_PA   UINT64_C(0x7108)
#define MBI_PA   UINT64_C(0x9000)
#define CMD_PA   UINT64_C(0x9100)
#define BOOT_END UINT64_C(0xa000)

#define COM1      0x3f8u
#define DEBUGCON  0xe9u
#define EXIT_PORT 0xf4u
#define FWCFG_SEL 0x510u
#define FWCFG_DAT 0x511u
#define APIC_PA   UINT64_C(0xfee00000)

#define UART_LSR_TEMT_THRE 0x60u
#define UART_LCR_DLAB      0x80u

typedef struct x86_dev {
    mmu_machine *m;
    uint8_t uart[8]; /* IER, IIR/FCR, LCR, MCR, LSR, MSR, SCR */
    uint8_t dll, dlm;
    uint16_t fw_sel;
    uint32_t fw_off;
    uc_hook in_hook, out_hook;
} x86_dev;

/* ---- devices ------------------------------------------------------------ */

static size_t fwcfg_item(const x86_dev *d, uint8_t *buf, size_t max)
{
    uint64_t ram = d->m->cfg.ram_size;
    switch (d->fw_sel) {
    case 0x0000: /* FW_CFG_SIGNATURE */
        memcpy(buf, "QEMU", 4);
        return 4;
    case 0x0001: /* FW_CFG_ID: traditional interface */
        buf[0] = 1, buf[1] = buf[2] = buf[3] = 0;
        return 4;
    case 0x0003: /* FW_CFG_RAM_SIZE */
        for (unsigned i = 0; i < 8 && i < max; i++)
            buf[i] = (uint8_t)(ram >> (8 * i));
        return 8;
    case 0x0005: /* FW_CFG_NB_CPUS */
        buf[0] = 1, buf[1] = 0;
        return 2;
    default:
        return 0;
    }
}

static uint32_t port_in(uc_engine *uc, uint32_t port, int size, void *arg)
{
    x86_dev *d = arg;
    uint32_t ones = size >= 4 ? UINT32_MAX : (UINT32_C(1) << (8 * size)) - 1;
    (void)uc;
    if (port >= COM1 && port < COM1 + 8) {
        unsigned r = port - COM1;
        bool dlab = (d->uart[3] & UART_LCR_DLAB) != 0;
        switch (r) {
        case 0:
            return dlab ? d->dll : 0; /* RBR: nothing received */
        case 1:
            return dlab ? d->dlm : d->uart[1];
        case 2:
            return 0x01; /* IIR: no interrupt */
        case 5:
            return UART_LSR_TEMT_THRE;
        case 6:
            return 0xb0; /* MSR: DCD, DSR, CTS */
        default:
            return d->uart[r];
        }
    }
    if (port == FWCFG_DAT) {
        uint8_t item[8];
        size_t n = fwcfg_item(d, item, sizeof item);
        return d->fw_off < n ? item[d->fw_off++] : 0;
    }
    return ones;
}

static void port_out(uc_engine *uc, uint32_t port, int size, uint32_t value,
                     void *arg)
{
    x86_dev *d = arg;
    mmu_machine *m = d->m;
    (void)uc, (void)size;
    if (port >= COM1 && port < COM1 + 8) {
        unsigned r = port - COM1;
        bool dlab = (d->uart[3] & UART_LCR_DLAB) != 0;
        if (r == 0 && !dlab)
            fputc((int)(value & 0xff), m->cfg.console);
        else if (r == 0)
            d->dll = (uint8_t)value;
        else if (r == 1 && dlab)
            d->dlm = (uint8_t)value;
        else if (r != 5 && r != 6)
            d->uart[r] = (uint8_t)value;
        return;
    }
    if (port == DEBUGCON) {
        fputc((int)(value & 0xff), m->cfg.console);
    } else if (port >= EXIT_PORT && port < EXIT_PORT + 4) {
        fflush(m->cfg.console);
        mmu_glue_request_exit(m->g, (int)((value << 1) | 1));
    } else if (port == FWCFG_SEL) {
        d->fw_sel = (uint16_t)value;
        d->fw_off = 0;
    }
}

static uint64_t apic_read(uc_engine *uc, uint64_t off, unsigned size, void *arg)
{
    (void)uc, (void)size, (void)arg;
    switch (off) {
    case 0x30:
        return UINT64_C(0x00050014); /* version 0x14, 6 LVT entries */
    case 0xf0:
        return 0xff; /* spurious-interrupt vector */
    default:
        return 0; /* ID 0, ... */
    }
}

static void apic_write(uc_engine *uc, uint64_t off, unsigned size,
                       uint64_t value, void *arg)
{
    (void)uc, (void)off, (void)size, (void)value, (void)arg;
}

/* ---- image checks ------------------------------------------------------- */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static bool multiboot_header(const elf_image *e, char *err, size_t errlen)
{
    size_t end = e->size < MB_SEARCH ? e->size : MB_SEARCH;
    for (size_t off = 0; off + 12 <= end; off += 4) {
        const uint8_t *h = e->data + off;
        if (le32(h) != MB_MAGIC)
            continue;
        if ((uint32_t)(le32(h) + le32(h + 4) + le32(h + 8)) != 0) {
            snprintf(err, errlen,
                     "multiboot header at offset %zu: bad "
                     "checksum",
                     off);
            return false;
        }
        return true;
    }
    snprintf(err, errlen,
             "no multiboot v1 header (magic 0x1BADB002) in "
             "the first 8 KiB: not a multiboot kernel");
    return false;
}

/* Does a PT_LOAD segment cover part of [lo, hi) physically? */
static bool loads_into(const elf_image *e, uint64_t lo, uint64_t hi)
{
    const uint8_t *h = e->data;
    uint64_t phoff = e->is64 ? le64(h + 0x20) : le32(h + 0x1c);
    unsigned phent =
        (unsigned)(h[e->is64 ? 0x36 : 0x2a] | h[e->is64 ? 0x37 : 0x2b] << 8);
    unsigned phnum =
        (unsigned)(h[e->is64 ? 0x38 : 0x2c] | h[e->is64 ? 0x39 : 0x2d] << 8);
    for (unsigned i = 0; i < phnum; i++) {
        uint64_t at = phoff + (uint64_t)i * phent;
        if (at > e->size || e->size - at < (e->is64 ? 56u : 32u))
            return false; /* elf_load_phys reports malformed headers */
        const uint8_t *p = e->data + at;
        if (le32(p) != 1) /* PT_LOAD */
            continue;
        uint64_t pa = e->is64 ? le64(p + 0x18) : le32(p + 0x0c);
        uint64_t msz = e->is64 ? le64(p + 0x28) : le32(p + 0x14);
        if (pa < hi && pa + msz > lo)
            return true;
    }
    return false;
}

/* ---- boot --------------------------------------------------------------- */

static bool put(mmu_machine *m, uint64_t pa, const void *src, size_t len)
{
    return mmu_phys_write(mmu_glue_mem(m->g), pa, src, len);
}

static bool write_boot_info(mmu_machine *m)
{
    const char *path = m->cfg.elf_path ? m->cfg.elf_path : "";
    const char *args = m->cfg.cmdline;
    char cmd[(size_t)(BOOT_END - CMD_PA)];
    snprintf(cmd, sizeof cmd, "%s%s%s", path, args && *args ? " " : "",
             args ? args : "");
    /* As QEMU 7.2 with SeaBIOS reports them: 639 KiB below 640 KiB, and
     * above 1 MiB the RAM less the 128 KiB SeaBIOS keeps at the top. */
    uint64_t kib = m->cfg.ram_size / 1024;
    uint32_t upper = kib > 1024 + 128 ? (uint32_t)(kib - 1024 - 128) : 0;
    uint32_t mbi[5] = {MB_INFO_MEM | MB_INFO_CMDLINE, 639, upper, 0,
                       (uint32_t)CMD_PA};
    return put(m, MBI_PA, mbi, sizeof mbi) &&
           put(m, CMD_PA, cmd, strlen(cmd) + 1);
}

/* The firmware stub (32-bit code at STUB_PA): lgdt; flat data selectors;
 * EAX/EBX; ljmp $0x08, entry. */
static bool write_stub(mmu_machine *m, uint32_t entry)
{
    uint8_t stub[] = {
        0x0f, 0x01, 0x15, 0x00, 0x71, 0x00, 0x00, /* lgdtl GDTR_PA */
        0xb8, 0x10, 0x00, 0x00, 0x00,             /* mov $0x10, %eax */
        0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xe0,       /* ds, es, fs */
        0x8e, 0xe8, 0x8e, 0xd0,                   /* gs, ss */
        0xb8, 0x02, 0xb0, 0xad, 0x2b,             /* mov $0x2badb002, %eax */
        0xbb, 0x00, 0x90, 0x00, 0x00,             /* mov $MBI_PA, %ebx */
        0xea, 0,    0,    0,    0,    0x08, 0x00, /* ljmp $0x08, entry */
    };
    for (unsigned i = 0; i < 4; i++)
        stub[33 + i] = (uint8_t)(entry >> (8 * i));
    const uint64_t gdt[3] = {0, UINT64_C(0x00cf9a000000ffff),
                             UINT64_C(0x00cf92000000ffff)};
    uint8_t gdtr[6] = {sizeof gdt - 1,         0, (uint8_t)GDT_PA,
                       (uint8_t)(GDT_PA >> 8), 0, 0};
    return put(m, STUB_PA, stub, sizeof stub) &&
           put(m, GDTR_PA, gdtr, sizeof gdtr) &&
           put(m, GDT_PA, gdt, sizeof gdt);
}

/* 32-bit protected mode, paging off, EFER = 0, at the stub. */
static bool enter_protected_mode(mmu_machine *m, char *err, size_t errlen)
{
    mmu_glue *g = m->g;
    if (x86g(g)->long_engine) {
        /* Leave Unicorn's reset IA-32e state: PG 1 -> 0 clears LMA. */
        x86_wr(g, UC_X86_REG_CR4, X86_CR4_PAE);
        x86_wr(g, UC_X86_REG_CR0, X86_CR0_PE | X86_CR0_PG);
        x86_wr(g, UC_X86_REG_CR0, X86_CR0_PE);
        x86_wr(g, UC_X86_REG_CR4, 0);
        uc_x86_msr efer = {.rid = 0xc0000080, .value = 0};
        uc_reg_write(g->uc, UC_X86_REG_MSR, &efer);
        if (x86_efer(g) != 0 || x86_cs64(g)) {
            snprintf(err, errlen,
                     "x86 machine: could not leave the "
                     "engine's IA-32e reset state (EFER 0x%" PRIx64 ")",
                     x86_efer(g));
            return false;
        }
    }
    x86_wr(g, UC_X86_REG_CR0, X86_CR0_PE | (UINT64_C(1) << 4)); /* ET */
    x86_wr(g, UC_X86_REG_RFLAGS, 0x2);
    x86_wr(g, UC_X86_REG_RSP, 0);
    x86_wr(g, UC_X86_REG_RIP, STUB_PA);
    return true;
}

static bool bare_x86_setup(mmu_machine *m, char *err, size_t errlen)
{
    mmu_glue *g = m->g;
    x86_dev *d = calloc(1, sizeof *d);
    if (d == NULL) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    m->dev = d;
    d->m = m;
    if (!multiboot_header(&m->elf, err, errlen))
        return false;
    if (m->elf.machine != ELF_EM_386 || m->elf.is64) {
        snprintf(err, errlen,
                 "a multiboot v1 kernel must be an ELF32 "
                 "i386 container (objcopy -O elf32-i386)");
        return false;
    }
    if (loads_into(&m->elf, STUB_PA, BOOT_END)) {
        snprintf(err, errlen,
                 "the kernel loads into 0x%" PRIx64 "..0x%" PRIx64
                 ", where the boot stub and multiboot info go",
                 STUB_PA, BOOT_END);
        return false;
    }
    if (!elf_load_phys(&m->elf, mmu_glue_mem(g), err, errlen))
        return false;
    if (!write_boot_info(m) || !write_stub(m, (uint32_t)m->elf.entry)) {
        snprintf(err, errlen, "RAM too small for the boot area");
        return false;
    }
    uc_err e;
    if ((e = uc_hook_add(g->uc, &d->in_hook, UC_HOOK_INSN,
                         (void *)(uintptr_t)port_in, d, 1, 0, UC_X86_INS_IN)) !=
            UC_ERR_OK ||
        (e = uc_hook_add(g->uc, &d->out_hook, UC_HOOK_INSN,
                         (void *)(uintptr_t)port_out, d, 1, 0,
                         UC_X86_INS_OUT)) != UC_ERR_OK ||
        (e = uc_mmio_map(g->uc, APIC_PA, 0x1000, apic_read, d, apic_write,
                         d)) != UC_ERR_OK) {
        snprintf(err, errlen, "x86 machine devices: %s", uc_strerror(e));
        return false;
    }
    return enter_protected_mode(m, err, errlen);
}

static void bare_x86_free(mmu_machine *m)
{
    free(m->dev);
    m->dev = NULL;
}

/* ---- report ------------------------------------------------------------- */

static void bare_x86_report(mmu_machine *m, const mmu_glue_result *res,
                            FILE *out)
{
    mmu_glue *g = m->g;
    static const struct {
        const char *name;
        int reg;
    } regs[] = {{"rip", UC_X86_REG_RIP},       {"rsp", UC_X86_REG_RSP},
                {"rflags", UC_X86_REG_RFLAGS}, {"cr0", UC_X86_REG_CR0},
                {"cr2", UC_X86_REG_CR2},       {"cr3", UC_X86_REG_CR3},
                {"cr4", UC_X86_REG_CR4}};
    fprintf(out, "  registers:");
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++)
        fprintf(out, " %s=0x%" PRIx64, regs[i].name, x86_rd(g, regs[i].reg));
    fprintf(out,
            " efer=0x%" PRIx64 " cs=0x%" PRIx64 " ss=0x%" PRIx64 " cpl=%u\n",
            x86_efer(g), x86_rd(g, UC_X86_REG_CS), x86_rd(g, UC_X86_REG_SS),
            mmu_glue_priv(g));
    uint64_t pc = res->have_last ? res->last.pc : x86_rd(g, UC_X86_REG_RIP);
    char text[160];
    x86_disasm(g, pc, text, sizeof text);
    fprintf(out, "  instruction: %s\n", text);
}

const machine_ops machine_bare_x86 = {
    .ram_base = 0,
    .setup = bare_x86_setup,
    .free = bare_x86_free,
    .report = bare_x86_report,
};
