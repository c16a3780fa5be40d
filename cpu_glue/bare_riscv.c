/*
 * bare_riscv.c - the bare-metal RISC-V machine, booted the way
 * `qemu-system-riscv64 -machine virt -bios none -kernel ELF` boots it:
 *
 *   RAM       0x80000000 (the ELF's PT_LOAD segments by physical address)
 *   UART      0x10000000 ns16550: THR writes (DLAB clear) go to the
 *             console; LSR (+5) always reads 0x60 (transmitter empty);
 *             LCR (+3) reads back; everything else reads 0
 *   finisher  0x100000 SiFive test device: 0x5555 exits 0,
 *             (code << 16) | 0x3333 exits with code, 0x7777 (reset)
 *             ends the run with status 0 (QEMU would reboot)
 *   HTIF      when the ELF has a `tohost` symbol: its page is taken out
 *             of the RAM mapping and served by an MMIO alias of the same
 *             bytes, so guest writes are seen without a memory hook.
 *             tohost = (code << 1) | 1 exits with code; device 1 command
 *             1 prints the low byte; device 0 with an even payload is a
 *             syscall block (SYS_write to fd 1/2 prints, SYS_exit exits).
 *             tohost is cleared once consumed; the reply goes to
 *             `fromhost` when the ELF has that symbol.
 *
 * Entry: M-mode at the ELF entry, a0 = hartid 0, a1 = 0 (no device tree:
 * QEMU passes its DTB address, which bare guests here do not use); the
 * other registers and CSRs are 0 (QEMU's reset ROM also leaves t0 = the
 * entry and a2 = its fw_dynamic block).
 * Not modelled: CLINT, PLIC, interrupts, the fw_cfg and virtio devices.
 */
#include "machine_internal.h"
#include "riscv_internal.h"

#include <stdlib.h>
#include <string.h>

#define RAM_BASE      UINT64_C(0x80000000)
#define UART_BASE     UINT64_C(0x10000000)
#define UART_SIZE     UINT64_C(0x1000)
#define FINISHER_BASE UINT64_C(0x100000)
#define FINISHER_SIZE UINT64_C(0x1000)
#define PAGE          UINT64_C(4096)

#define UART_THR           0
#define UART_LCR           3
#define UART_LSR           5
#define UART_LCR_DLAB      0x80
#define UART_LSR_THRE_TEMT 0x60

#define FINISHER_FAIL  0x3333
#define FINISHER_PASS  0x5555
#define FINISHER_RESET 0x7777

#define HTIF_DEV_SYSCALL  0
#define HTIF_DEV_CONSOLE  1
#define HTIF_CONSOLE_PUTC 1
#define HTIF_SYS_WRITE    64
#define HTIF_SYS_EXIT     93

typedef struct rv_dev {
    mmu_machine *m;
    uint8_t lcr;
    bool htif;
    uint64_t tohost, fromhost, htif_page;
    bool have_fromhost;
} rv_dev;

static mmu_glue *glue_of(rv_dev *d)
{
    return d->m->g;
}

/* ---- ns16550 ---------------------------------------------------------- */

static uint64_t uart_read(uc_engine *uc, uint64_t off, unsigned size, void *arg)
{
    rv_dev *d = arg;
    (void)uc, (void)size;
    if (off == UART_LSR)
        return UART_LSR_THRE_TEMT;
    if (off == UART_LCR)
        return d->lcr;
    return 0;
}

static void uart_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t v,
                       void *arg)
{
    rv_dev *d = arg;
    (void)uc, (void)size;
    if (glue_of(d)->exit_requested)
        return; /* the rest of the block runs after an exit request */
    if (off == UART_THR && !(d->lcr & UART_LCR_DLAB))
        fputc((int)(v & 0xff), d->m->cfg.console);
    else if (off == UART_LCR)
        d->lcr = (uint8_t)v;
}

/* ---- SiFive test finisher --------------------------------------------- */

static uint64_t fin_read(uc_engine *uc, uint64_t off, unsigned size, void *arg)
{
    (void)uc, (void)off, (void)size, (void)arg;
    return 0;
}

static void fin_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t v,
                      void *arg)
{
    rv_dev *d = arg;
    (void)uc, (void)size;
    if (off != 0)
        return;
    switch (v & 0xffff) {
    case FINISHER_PASS:
    case FINISHER_RESET:
        mmu_glue_request_exit(glue_of(d), 0);
        break;
    case FINISHER_FAIL:
        mmu_glue_request_exit(glue_of(d), (int)((v >> 16) & 0xffff));
        break;
    default: /* QEMU ignores other values */
        break;
    }
}

/* ---- HTIF ------------------------------------------------------------- */

static void htif_reply(rv_dev *d, uint64_t v)
{
    mmu_phys *mem = mmu_glue_mem(glue_of(d));
    uint64_t zero = 0;
    mmu_phys_write(mem, d->tohost, &zero, sizeof zero);
    if (d->have_fromhost)
        mmu_phys_write(mem, d->fromhost, &v, sizeof v);
}

/* A riscv-tests style syscall block: magic[0] = number, magic[1..] args;
 * the result goes back to magic[0]. */
static void htif_syscall(rv_dev *d, uint64_t block)
{
    mmu_glue *g = glue_of(d);
    mmu_phys *mem = mmu_glue_mem(g);
    uint64_t a[4];
    if (!mmu_phys_read(mem, block, a, sizeof a))
        return;
    uint64_t ret = (uint64_t)-1;
    if (a[0] == HTIF_SYS_EXIT) {
        mmu_glue_request_exit(g, (int)(a[1] & 0xff));
        return;
    }
    if (a[0] == HTIF_SYS_WRITE && (a[1] == 1 || a[1] == 2)) {
        const uint8_t *p = mmu_phys_ptr(mem, a[2], a[3]);
        if (p != NULL) {
            fwrite(p, 1, (size_t)a[3], d->m->cfg.console);
            ret = a[3];
        }
    }
    mmu_phys_write(mem, block, &ret, sizeof ret);
    htif_reply(d, 1);
}

static void htif_command(rv_dev *d, uint64_t v)
{
    unsigned dev = (unsigned)(v >> 56), cmd = (unsigned)(v >> 48) & 0xff;
    uint64_t payload = v & ((UINT64_C(1) << 48) - 1);
    if (v == 0)
        return;
    if (dev == HTIF_DEV_SYSCALL && cmd == 0) {
        if (payload & 1)
            mmu_glue_request_exit(glue_of(d), (int)((payload >> 1) & 0xff));
        else
            htif_syscall(d, payload);
        return;
    }
    if (dev == HTIF_DEV_CONSOLE && cmd == HTIF_CONSOLE_PUTC) {
        fputc((int)(payload & 0xff), d->m->cfg.console);
        htif_reply(d,
                   (v & ~((UINT64_C(1) << 48) - 1)) | 0x100 | (payload & 0xff));
        return;
    }
    htif_reply(d, 0); /* unknown command: consume it */
}

static uint64_t htif_read(uc_engine *uc, uint64_t off, unsigned size, void *arg)
{
    rv_dev *d = arg;
    uint64_t v = 0;
    (void)uc;
    mmu_phys_read(mmu_glue_mem(glue_of(d)), d->htif_page + off, &v, size);
    return v;
}

static void htif_write(uc_engine *uc, uint64_t off, unsigned size, uint64_t v,
                       void *arg)
{
    rv_dev *d = arg;
    mmu_phys *mem = mmu_glue_mem(glue_of(d));
    uint64_t pa = d->htif_page + off;
    (void)uc;
    mmu_phys_write(mem, pa, &v, size);
    /* A 64-bit store reaches MMIO as two 32-bit halves, low first (RV32
     * guests store the halves in that order too): act on the high half. */
    if (pa < d->tohost + 4 || pa + size > d->tohost + 8)
        return;
    uint64_t cmd;
    if (mmu_phys_read(mem, d->tohost, &cmd, sizeof cmd))
        htif_command(d, cmd);
}

/* ---- machine ops ------------------------------------------------------ */

static bool map_htif(rv_dev *d, char *err, size_t errlen)
{
    mmu_glue *g = glue_of(d);
    elf_image *e = &d->m->elf;
    if (!elf_symbol(e, "tohost", &d->tohost))
        return true;
    if ((d->tohost & 7) || !mmu_phys_contains(&g->mem, d->tohost, 8)) {
        snprintf(err, errlen, "tohost (0x%llx) is not an aligned RAM address",
                 (unsigned long long)d->tohost);
        return false;
    }
    d->have_fromhost = elf_symbol(e, "fromhost", &d->fromhost) &&
                       mmu_phys_contains(&g->mem, d->fromhost, 8);
    d->htif_page = d->tohost & ~(PAGE - 1);
    uc_err ue = uc_mem_unmap(g->uc, d->htif_page, PAGE);
    if (ue == UC_ERR_OK)
        ue =
            uc_mmio_map(g->uc, d->htif_page, PAGE, htif_read, d, htif_write, d);
    if (ue != UC_ERR_OK) {
        snprintf(err, errlen, "HTIF page: %s", uc_strerror(ue));
        return false;
    }
    d->htif = true;
    return true;
}

static bool bare_riscv_setup(mmu_machine *m, char *err, size_t errlen)
{
    mmu_glue *g = m->g;
    rv_dev *d = calloc(1, sizeof *d);
    if (d == NULL) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    d->m = m;
    m->dev = d;
    if (!elf_load_phys(&m->elf, &g->mem, err, errlen))
        return false;
    uc_err ue =
        uc_mmio_map(g->uc, UART_BASE, UART_SIZE, uart_read, d, uart_write, d);
    if (ue == UC_ERR_OK)
        ue = uc_mmio_map(g->uc, FINISHER_BASE, FINISHER_SIZE, fin_read, d,
                         fin_write, d);
    if (ue != UC_ERR_OK) {
        snprintf(err, errlen, "devices: %s", uc_strerror(ue));
        return false;
    }
    if (!map_htif(d, err, errlen))
        return false;
    rv_set_xreg(g, 10, 0); /* a0 = hartid */
    rv_set_xreg(g, 11, 0); /* a1 = no device tree */
    rv_set_reg(g, UC_RISCV_REG_PRIV, RV_PRIV_M);
    rv_set_reg(g, UC_RISCV_REG_PC, m->elf.entry);
    return true;
}

static void bare_riscv_free(mmu_machine *m)
{
    free(m->dev);
    m->dev = NULL;
}

const machine_ops machine_bare_riscv = {
    .ram_base = RAM_BASE,
    .setup = bare_riscv_setup,
    .free = bare_riscv_free,
    .report = rv_machine_report,
};
