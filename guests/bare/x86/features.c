/*
 * features.c - CPUID probing of the paging features (see features.h).
 */
#include "features.h"

#include "cpu.h"
#include "serial.h"

struct features cpu;

static bool bit(uint32_t reg, unsigned n) { return (reg >> n) & 1; }

void features_detect(void)
{
    uint32_t max_basic = cpuid(0, 0).eax;
    uint32_t max_ext = cpuid(0x80000000, 0).eax;
    if (max_ext >= 0x80000001) {
        struct cpuid_regs e = cpuid(0x80000001, 0);
        cpu.nx = bit(e.edx, 20);
        cpu.page1gb = bit(e.edx, 26);
    }
    if (max_basic >= 7) {
        struct cpuid_regs s = cpuid(7, 0);
        cpu.smep = bit(s.ebx, 7);
        cpu.smap = bit(s.ebx, 20);
        cpu.pku = bit(s.ecx, 3);
        cpu.la57 = bit(s.ecx, 16);
    }
    cpu.maxphyaddr = 36; /* SDM: the default without leaf 0x80000008 */
    if (max_ext >= 0x80000008)
        cpu.maxphyaddr = cpuid(0x80000008, 0).eax & 0xff;
}

static const char *yn(bool b) { return b ? "yes" : "no"; }

void features_print(void)
{
    kprintf("cpuid: nx=%s page1gb=%s smep=%s smap=%s pku=%s la57=%s "
            "maxphyaddr=%u\n",
            yn(cpu.nx), yn(cpu.page1gb), yn(cpu.smep), yn(cpu.smap),
            yn(cpu.pku), yn(cpu.la57), cpu.maxphyaddr);
}
