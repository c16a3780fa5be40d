/*
 * traps.h - IDT, TSS and the guest's exception handling: a check arms the
 * handler for the fault it provokes, the handler records vector, error
 * code, CR2 and the CPL of the faulting code, and then either skips the
 * faulting access (resumes at the probe's landing pad, probe.S) or maps the
 * page and returns to retry it (demand paging). Anything unarmed is a
 * failure that ends the run.
 *
 * Models: Intel SDM vol. 3A 6.14 (64-bit interrupt handling: stack switch
 * to TSS.RSP0 on a CPL change, frame SS:RSP, RFLAGS, CS:RIP, error code),
 * 6.15 (#GP, #PF error code and CR2), 7.7 (64-bit TSS).
 * Not modelled: IST stacks, nested faults, external interrupts.
 */
#ifndef GUEST_X86_TRAPS_H
#define GUEST_X86_TRAPS_H

#include <stdint.h>

#define VEC_GP          13
#define VEC_PF          14
#define VEC_USER_RETURN 0x80 /* ring 3 -> ring 0: "the user call is done" */

/* Saved by traps.S in this order (lowest address first). */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

enum trap_mode {
    TRAP_NONE,   /* any exception is unexpected: report and FAIL */
    TRAP_SKIP,   /* record, resume at the probe landing pad */
    TRAP_DEMAND, /* record, call the demand handler, retry the access */
};

struct trap_record {
    unsigned count;
    uint64_t vector, error, cr2, rip;
    unsigned cpl;
};

extern volatile struct trap_record trap_last;

void idt_init(void);
/* Arms the handler and clears trap_last. */
void trap_arm(enum trap_mode mode, void (*demand)(uint64_t cr2));
void trap_disarm(void);

/* ring3.S: run fn(a0, a1) at CPL 3 (fn must live in the .user range);
 * returns its RAX. */
uint64_t user_call(const void *fn, uint64_t a0, uint64_t a1);

#endif
