/*
 * glue_user.h - the glue for user-mode guests: a vCPU that runs a Linux
 * process at user privilege on page tables the host OS model built, with
 * every system call handed to the host.
 *
 * What it sets up, as Linux does for a 64-bit process:
 *   RISC-V  privilege U, satp (mode and ASID from the OS model),
 *           mstatus.FS = Initial (FP usable), the stack pointer and the
 *           entry PC; every other GPR 0 (a0 = 0, see LINUX-ABI.md).
 *           ECALL from U raises cause 8, which reaches the glue handler as
 *           a CPU event; mmu_glue_user_call() decodes it.
 *   x86-64  CR0 PE|MP|ET|NE|WP|AM|PG, CR4 PAE|PGE|OSFXSR|OSXMMEXCPT|SMEP|
 *           SMAP (+ what the OS model asks: LA57, PCIDE), EFER LME|LMA|
 *           NXE|SCE, a GDT with Linux's selectors (arch/x86/include/asm/
 *           segment.h: __KERNEL_CS 0x10, __KERNEL_DS 0x18, __USER32_CS
 *           0x23, __USER_DS 0x2b, __USER_CS 0x33) and CPL 3 with CS 0x33,
 *           SS 0x2b, DS = ES = FS = GS = 0 (start_thread); RDX = 0.
 *           SYSCALL is caught with UC_HOOK_INSN: the callback runs inside
 *           the instruction (RIP on it), and the guest resumes after it
 *           unless the callback ends the run.
 * Register access by ABI role (system-call arguments, signal frames) and
 * a Capstone disassembly of one instruction for reports.
 *
 * Not modelled: the vDSO, 32-bit processes (compat mode, int 0x80),
 * sigaltstack, AVX/XSAVE state (the FP state saved is x87 + SSE as FXSAVE
 * lays it out; RISC-V f0..f31 + fcsr).
 */
#ifndef MMUEMU_GLUE_USER_H
#define MMUEMU_GLUE_USER_H

#include "mmuemu/glue.h"

/* One system call as the registers hold it. */
typedef struct mmu_user_call {
    uint64_t nr;      /* x86 rax; RISC-V a7 */
    uint64_t arg[6];  /* x86 rdi rsi rdx r10 r8 r9; RISC-V a0-a5 */
    uint64_t pc;      /* the system-call instruction */
    uint64_t next_pc; /* where the guest resumes */
} mmu_user_call;

/*
 * x86: called inside the SYSCALL instruction. The callback sets the
 * result with mmu_glue_user_set_result (nothing else may change RIP);
 * @return true to go on at next_pc, false to end the run: mmu_glue_run
 * then returns MMU_GLUE_STOP_EXIT with the vCPU at next_pc (the caller's
 * own state says why).
 */
typedef bool (*mmu_user_call_fn)(mmu_glue *g, const mmu_user_call *c,
                                 void *arg);

/* Linux's GDT selectors (x86). */
#define MMU_USER_X86_KERNEL_CS 0x10
#define MMU_USER_X86_KERNEL_DS 0x18
#define MMU_USER_X86_USER32_CS 0x23
#define MMU_USER_X86_USER_DS   0x2b
#define MMU_USER_X86_USER_CS   0x33

/*
 * Prepare the vCPU for user-mode guests, once. x86: the GDT is written to
 * the 4 KiB guest-physical page desc_pa, which the address spaces map at
 * desc_va (supervisor-only: the kernel half); the SYSCALL hook calls fn.
 * RISC-V: desc_pa/desc_va and fn are ignored (ECALL arrives as an event).
 * @return false with a message in err.
 */
bool mmu_glue_user_init(mmu_glue *g, uint64_t desc_pa, uint64_t desc_va,
                        mmu_user_call_fn fn, void *arg, char *err,
                        size_t errlen);

/*
 * Enter user mode: st is the paging state that runs the process (x86
 * CR0/CR3/CR4/EFER as the OS model gives them; the glue adds the bits
 * listed above; RISC-V satp); every GPR is cleared, then pc and sp set.
 * Unicorn's TLB is flushed before the vCPU runs.
 */
void mmu_glue_user_enter(mmu_glue *g, const mmu_state *st, uint64_t pc,
                         uint64_t sp);

/*
 * Switch the address space the way the OS does on a context switch: x86
 * MOV to CR3, RISC-V CSRW satp (root as os_aspace_root_reg gives it, with
 * its PCID / ASID). The model's state follows; Unicorn's TLB is flushed;
 * the model TLB is the caller's to keep coherent (a reused tag needs a
 * flush, a distinct ASID none).
 */
void mmu_glue_user_set_root(mmu_glue *g, uint64_t root);

/* Is ev a system call from user mode (RISC-V ECALL from U)? Fills *c. */
bool mmu_glue_user_call(mmu_glue *g, const mmu_glue_event *ev,
                        mmu_user_call *c);

/* The result register (x86 rax, with rcx = next_pc and r11 = rflags as
 * SYSCALL leaves them; RISC-V a0). */
void mmu_glue_user_set_result(mmu_glue *g, const mmu_user_call *c,
                              uint64_t ret);

/* x86 FS/GS base (which: 0 FS, 1 GS). RISC-V: ignored. */
void mmu_glue_user_set_tls(mmu_glue *g, int which, uint64_t base);
uint64_t mmu_glue_user_tls(mmu_glue *g, int which);

/*
 * The user register file, for signal frames. gpr[] is RISC-V x0..x31, or
 * x86-64 in Linux's sigcontext order r8..r15, rdi, rsi, rbp, rbx, rdx,
 * rax, rcx, rsp (MMU_USER_X86_*). fp holds the FP state as the signal
 * frame stores it: x86 the 512-byte FXSAVE image; RISC-V f0..f31 (8
 * bytes each) then fcsr (4 bytes).
 */
enum {
    MMU_USER_X86_R8 = 0,
    MMU_USER_X86_R9,
    MMU_USER_X86_R10,
    MMU_USER_X86_R11,
    MMU_USER_X86_R12,
    MMU_USER_X86_R13,
    MMU_USER_X86_R14,
    MMU_USER_X86_R15,
    MMU_USER_X86_RDI,
    MMU_USER_X86_RSI,
    MMU_USER_X86_RBP,
    MMU_USER_X86_RBX,
    MMU_USER_X86_RDX,
    MMU_USER_X86_RAX,
    MMU_USER_X86_RCX,
    MMU_USER_X86_RSP,
    MMU_USER_X86_NGPR
};

#define MMU_USER_FP_BYTES 512

typedef struct mmu_user_regs {
    uint64_t pc;
    uint64_t gpr[32];
    uint64_t flags;  /* x86 rflags */
    uint16_t cs, ss; /* x86 selectors (read only) */
    uint8_t fp[MMU_USER_FP_BYTES];
} mmu_user_regs;

void mmu_glue_user_get_regs(mmu_glue *g, mmu_user_regs *r);
/* Writes pc, the GPRs, the arithmetic flags (x86: rflags & 0x2d5 | TF/DF/
 * AC/... as sigreturn restores them) and the FP state. */
void mmu_glue_user_set_regs(mmu_glue *g, const mmu_user_regs *r);

/* The instruction at pc as "bytes  mnemonic operands", read through the
 * model without side effects. @return false if unreadable/undecodable. */
bool mmu_glue_user_disasm(mmu_glue *g, uint64_t pc, char *buf, size_t len);

#endif
