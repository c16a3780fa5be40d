/*
 * idt.c - IDT and TSS set-up and trap(), the C side of every exception.
 * See traps.h for the contract of the armed modes.
 */
#include "traps.h"

#include "cpu.h"
#include "segs.h"
#include "serial.h"

#define GATE_INTR_DPL0 0x8e /* P, DPL 0, 64-bit interrupt gate */
#define GATE_INTR_DPL3 0xee /* P, DPL 3: INT 0x80 from ring 3 */
#define TSS_AVAILABLE  0x89 /* P, DPL 0, 64-bit TSS (available) */
#define TSS_BYTES      104
#define MAX_FAULTS     4 /* per armed access: a loop is a failure */

struct idt_gate {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, zero;
};

static struct idt_gate idt[256];
/* 64-bit TSS as 32-bit words: RSP0 is at byte 4 (ring3.S writes it). */
uint32_t tss[TSS_BYTES / 4] __attribute__((aligned(16)));

extern char trap_stubs[], user_return[];
extern char probe_landing_k[], probe_landing_u[];
extern uint64_t gdt[];

volatile struct trap_record trap_last;
static enum trap_mode armed = TRAP_NONE;
static void (*demand_fn)(uint64_t);

void trap(struct trap_frame *tf);

static void set_gate(unsigned vec, const void *fn, uint8_t type)
{
    uint64_t a = (uint64_t)(uintptr_t)fn;
    idt[vec] = (struct idt_gate){
        .off_lo = (uint16_t)a,
        .sel = SEL_KCODE64,
        .type = type,
        .off_mid = (uint16_t)(a >> 16),
        .off_hi = (uint32_t)(a >> 32),
    };
}

void idt_init(void)
{
    for (unsigned v = 0; v < 32; v++)
        set_gate(v, trap_stubs + 16 * v, GATE_INTR_DPL0);
    set_gate(VEC_USER_RETURN, user_return, GATE_INTR_DPL3);

    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr = {sizeof idt - 1, (uint64_t)(uintptr_t)idt};
    __asm__ __volatile__("lidt %0" : : "m"(idtr));

    uint64_t base = (uint64_t)(uintptr_t)tss;
    tss[TSS_BYTES / 4 - 1] = TSS_BYTES << 16; /* I/O map base: no bitmap */
    gdt[GDT_TSS_SLOT] = (TSS_BYTES - 1) | ((base & 0xffffff) << 16) |
                        ((uint64_t)TSS_AVAILABLE << 40) |
                        ((base >> 24 & 0xff) << 56);
    gdt[GDT_TSS_SLOT + 1] = base >> 32;
    __asm__ __volatile__("ltr %w0" : : "r"(SEL_TSS));
}

void trap_arm(enum trap_mode mode, void (*demand)(uint64_t cr2))
{
    trap_last.count = 0;
    trap_last.vector = trap_last.error = trap_last.cr2 = trap_last.rip = 0;
    trap_last.cpl = 0;
    demand_fn = demand;
    armed = mode;
}

void trap_disarm(void) { armed = TRAP_NONE; }

void trap(struct trap_frame *tf)
{
    uint64_t cr2 = rd_cr2();
    unsigned cpl = (unsigned)(tf->cs & 3);

    if (armed == TRAP_NONE || trap_last.count >= MAX_FAULTS) {
        kprintf("unexpected exception vector=%lu err=0x%lx rip=0x%lx "
                "cpl=%u cr2=0x%lx\n",
                tf->vector, tf->error, tf->rip, cpl, cr2);
        guest_exit(1);
    }
    trap_last.count++;
    trap_last.vector = tf->vector;
    trap_last.error = tf->error;
    trap_last.cr2 = cr2;
    trap_last.rip = tf->rip;
    trap_last.cpl = cpl;

    if (armed == TRAP_DEMAND && tf->vector == VEC_PF && demand_fn) {
        demand_fn(cr2);
        return; /* IRETQ retries the access */
    }
    tf->rip = (uint64_t)(uintptr_t)(cpl ? probe_landing_u : probe_landing_k);
}
