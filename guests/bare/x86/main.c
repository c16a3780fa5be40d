/*
 * main.c - kmain: multiboot info, CPUID, IDT/TSS, then the checks with
 * 4-level paging and, where CPUID reports LA57, again with 5-level paging;
 * the last line is PASS or FAIL n (serial.h: exit status 1 or 3 in QEMU).
 *
 * Models: Multiboot 0.6.96 section 3.3 (info: flags bit 0 mem_lower/
 * mem_upper in KiB, bit 2 cmdline). The command line starts with the
 * kernel's name (GRUB and QEMU put the image path there), so only the rest
 * is printed; the word "observe" enables the observe: lines (checks.h).
 */
#include <stdint.h>

#include <mmuemu/x86_bits.h>

#include "checks.h"
#include "cpu.h"
#include "features.h"
#include "paging.h"
#include "segs.h"
#include "serial.h"
#include "traps.h"

#define MB_BOOT_MAGIC   0x2BADB002u
#define MB_INFO_MEM     (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define ARGS_MAX        128

struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
};

void kmain(uint32_t magic, uint32_t info);
void la57_enter(uint64_t pml5);

static char args[ARGS_MAX];

/* Copies the command line after its first word into args. */
static void read_args(const char *cmdline)
{
    while (*cmdline && *cmdline != ' ')
        cmdline++;
    while (*cmdline == ' ')
        cmdline++;
    unsigned n = 0;
    while (cmdline[n] && n + 1 < ARGS_MAX) {
        args[n] = cmdline[n];
        n++;
    }
    args[n] = 0;
}

static int has_word(const char *s, const char *w)
{
    while (*s) {
        const char *a = s, *b = w;
        while (*b && *a == *b)
            a++, b++;
        if (!*b && (*a == ' ' || !*a))
            return 1;
        while (*s && *s != ' ')
            s++;
        while (*s == ' ')
            s++;
    }
    return 0;
}

void kmain(uint32_t magic, uint32_t info)
{
    serial_init();
    kprintf("mmuemu x86 bare guest\n");
    const struct mb_info *mb = (const struct mb_info *)(uintptr_t)info;
    if (magic != MB_BOOT_MAGIC || !(mb->flags & MB_INFO_MEM)) {
        kprintf("multiboot: magic=0x%x flags=0x%x: not a multiboot boot\n",
                magic, magic == MB_BOOT_MAGIC ? mb->flags : 0);
        guest_exit(1);
    }
    if (mb->flags & MB_INFO_CMDLINE)
        read_args((const char *)(uintptr_t)mb->cmdline);
    checks_observe = has_word(args, "observe");
    /* mem_upper depends on the firmware: QEMU 7.2 with -m 128 reports
     * 129920 KiB (SeaBIOS keeps the top 128 KiB out of the e820 map), not
     * 130048, so only the observe line shows it. */
    kprintf("multiboot: magic ok, args=\"%s\"\n", args);
    if (checks_observe)
        kprintf("observe: mem_upper=%u KiB\n", mb->mem_upper);

    features_detect();
    features_print();
    idt_init();
    paging_init(UINT64_C(0x100000) + (uint64_t)mb->mem_upper * 1024);
    wr_cr0(rd_cr0() | X86_CR0_WP);

    struct space s4, s5;
    space_init(&s4, 4);
    if (cpu.la57)
        space_init(&s5, 5); /* built while still in 4-level mode */
    kprintf("%s: cr3 loaded, test base 0x%lx\n", s4.name, s4.base);
    unsigned fails = checks_run(&s4);

    if (cpu.la57) {
        la57_enter(s5.cr3);
        unsigned la57 = (rd_cr4() & X86_CR4_LA57) != 0;
        unsigned lma = (rdmsr(MSR_EFER) & X86_EFER_LMA) != 0;
        kprintf("%s: cr3 loaded, cr4.la57=%u efer.lma=%u, test base 0x%lx\n",
                s5.name, la57, lma, s5.base);
        fails += !(la57 && lma);
        fails += checks_run(&s5);
    } else {
        kprintf("5-level: skipped (la57 not in cpuid)\n");
    }
    guest_exit(fails);
}
