/*
 * guest.h - shared declarations of the bare-metal RV64 MMU guest.
 *
 * The guest boots like `qemu-system-riscv64 -machine virt -bios none
 * -kernel ELF` boots it: M-mode at 0x80000000. An M-mode stub (start.S,
 * mstub.c) opens PMP, delegates page faults and U-mode ecall to S-mode and
 * mrets into an S-mode kernel (strap.S, traps.c, vm.c, checks*.c, kernel.c)
 * that builds Sv39 then Sv48 tables and checks the translation rules of the
 * privileged spec ("Supervisor-Level ISA", "Virtual Address Translation
 * Process") from inside, with a U-mode program (user.c). Output goes to the
 * ns16550 THR at 0x10000000, the verdict to the SiFive test finisher at
 * 0x100000.
 *
 * Deliberately not used: interrupts, the DTB (a1), hart ids other than 0,
 * compressed instructions (built without C so every trapping instruction is
 * 4 bytes long), menvcfg (absent on older cores), Svnapot/Svpbmt, ASIDs.
 * Nothing printed depends on timing or on the platform's DTB.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "mmuemu/riscv_bits.h"

#define PAGE_SHIFT    12
#define PAGE_SIZE     (UINT64_C(1) << PAGE_SHIFT)
#define PTE_FLAGS_RWX (RV_PTE_R | RV_PTE_W | RV_PTE_X)

/* Platform (QEMU virt). */
#define UART_BASE     UINT64_C(0x10000000) /* ns16550: THR +0, LSR +5   */
#define UART_LSR_THRE 0x20                 /* LSR bit 5: THR empty       */
#define FINISHER_BASE UINT64_C(0x00100000) /* SiFive test finisher       */
#define FINISHER_PASS 0x5555
#define FINISHER_FAIL 0x3333               /* (code << 16) | FAIL        */
#define RAM_BASE      UINT64_C(0x80000000)

/* Exception causes not named in riscv_bits.h. */
#define GUEST_CAUSE_ILLEGAL_INSN 2
#define GUEST_CAUSE_BREAKPOINT   3
#define GUEST_CAUSE_ECALL_U      8

/* medeleg: what the M stub hands to S-mode. Breakpoint (3) and illegal
 * instruction (2) stay in M-mode on purpose (check 10). */
#define GUEST_MEDELEG                                                          \
    ((UINT64_C(1) << GUEST_CAUSE_ECALL_U) |                                    \
     (UINT64_C(1) << RV_CAUSE_FETCH_PAGE) |                                    \
     (UINT64_C(1) << RV_CAUSE_LOAD_PAGE) |                                     \
     (UINT64_C(1) << RV_CAUSE_STORE_PAGE))

/* PMP: entry 0 NAPOT over everything, RWX. */
#define PMPCFG_R     0x01
#define PMPCFG_W     0x02
#define PMPCFG_X     0x04
#define PMPCFG_NAPOT 0x18

/* Value a skipped faulting load leaves in a0. */
#define FAULT_SENTINEL UINT64_C(0xfa17fa17fa17fa17)

/*
 * Virtual layout, identical in Sv39 and Sv48 below 512 GiB:
 *   0x00000000  2 MiB megapage -> PA 0 (test finisher), S only
 *   0x10000000  2 MiB megapage -> UART, S only
 *   0x40000000  GiB 1: the test window, 4 KiB pages (USER_*, T_*)
 *   0x80000000  1 GiB gigapage -> RAM identity, S only RWX (kernel)
 */
#define USER_TEXT_VA   UINT64_C(0x40000000) /* alias of .user, U R X      */
#define USER_DATA_VA   UINT64_C(0x40100000) /* U R W                      */
#define USER_STACK_VA  UINT64_C(0x40101000) /* U R W                      */
#define USER_STACK_TOP (USER_STACK_VA + PAGE_SIZE)
#define USER_RO_VA     UINT64_C(0x40102000) /* U R                        */
#define SUPER_VA       UINT64_C(0x40103000) /* S R W X (U=0)              */
#define T_DEMAND_ST_VA UINT64_C(0x40104000) /* leaf slot empty            */
#define T_XONLY_VA     UINT64_C(0x40106000) /* X only                     */
#define T_AD_LOAD_VA   UINT64_C(0x40107000) /* R W, A=0 D=0               */
#define T_AD_STORE_VA  UINT64_C(0x40108000) /* R W, A=0 D=0               */
#define T_WONLY_VA     UINT64_C(0x40109000) /* XWR=010 reserved           */
#define T_WX_VA        UINT64_C(0x4010a000) /* XWR=110 reserved           */
#define T_SFENCE_VA    UINT64_C(0x4010b000) /* remapped A -> B -> A       */
#define T_DEMAND_LD_VA UINT64_C(0x40200000) /* no level-0 table at all    */
#define T_HIGH_VA      UINT64_C(0xffffffffc0001000) /* top of the space   */

/* Values the checks plant and expect back. */
#define USER_PATTERN  UINT64_C(0x5553455200000000) /* "USER" ^ index      */
#define USER_RO_MAGIC UINT64_C(0x726f6e6c79000001) /* read-only page      */
#define DEMAND_TAG    UINT64_C(0xd0d0000000000000) /* demand page: va ^ . */
#define INSN_RET      UINT32_C(0x00008067)         /* jalr x0, 0(ra)      */
#define INSN_LI_A0_5A UINT32_C(0x05a00513)         /* addi a0, x0, 0x5a   */

#define FN_ADDR(f) ((uint64_t)(uintptr_t)(f))

/* User-mode system calls (a7 = number). */
enum sys_no {
    SYS_EXIT = 0,    /* a0 = exit code                                    */
    SYS_RESULT = 1,  /* a0 = text, a1 = ok                                */
    SYS_EXPECT = 2,  /* a0 = cause, a1 = va: arm a fault, skip it         */
    SYS_REPORT = 3,  /* a0 = text, a1 = va, a2 = sepc, a3 = its name      */
    SYS_MEXPECT = 4, /* a0 = cause, a1 = expected mepc                    */
    SYS_MREPORT = 5, /* a0 = text, a1 = name of the expected mepc         */
};

struct trap_frame {
    uint64_t x[32]; /* x[0] unused; x[2] is the interrupted sp */
};

/* uart.c: console and exit device (usable from M and S). */
void uart_putc(char c);
void uart_puts(const char *s);
void uart_puthex(uint64_t v);
void uart_putdec(uint64_t v);
_Noreturn void guest_exit(unsigned fail_count);
void *memset(void *dst, int c, unsigned long n);
void *memcpy(void *dst, const void *src, unsigned long n);

/* mstub.c: M-mode side, plus the record S-mode reads back. */
struct m_record {
    volatile uint64_t armed, cause, epc;       /* set by S before the trap  */
    volatile uint64_t seen, mcause, mepc, mpp; /* filled by M         */
};
extern struct m_record m_rec;
void mstub_expect(uint64_t cause, uint64_t epc);

/* strap.S */
void s_trap_entry(void);
uint64_t run_user(uint64_t entry, uint64_t usp);
uint64_t probe_ld(uint64_t va);
void probe_sd(uint64_t va, uint64_t value);
uint64_t probe_exec(uint64_t va);
void probe_ebreak(void);
uint64_t probe_illegal(void);

/* traps.c: S-mode trap handling. */
enum fix_action {
    FIX_SKIP,       /* sepc += 4, a0 = FAULT_SENTINEL                     */
    FIX_SKIP_FETCH, /* fetch fault after a jalr: sepc = ra                */
    FIX_CALL,       /* call fix(va), sfence.vma va, retry the instruction */
};
struct s_record {
    unsigned count;
    uint64_t scause, stval, sepc, spp;
};
extern struct s_record s_rec;
extern unsigned faults_from_u, faults_from_s;
void expect_fault(uint64_t cause, uint64_t va, enum fix_action act,
                  void (*fix)(uint64_t va));
void expect_cancel(void);
int s_trap(struct trap_frame *f);

/* vm.c: page pool and table builder over the current mode. */
struct vm {
    const char *name; /* "sv39" / "sv48" */
    unsigned mode;    /* RV_SATP_MODE_* */
    unsigned levels;
    uint64_t root; /* PA == VA (identity gigapage) */
};
extern struct vm vm_cur;
uint64_t page_alloc(void);
uint64_t page_with(uint64_t word0);
uint64_t page_with_ret(void);
uint64_t pte_make(uint64_t pa, uint64_t flags);
uint64_t pte_pa(uint64_t pte);
volatile uint64_t *vm_pte(uint64_t va, unsigned level);
void vm_map(uint64_t va, uint64_t pa, unsigned level, uint64_t flags);
void vm_build(unsigned mode);
void vm_activate(void);
void vm_off(void);
void sfence_va(uint64_t va);
void sfence_all(void);

/* kernel.c: transcript lines. */
void line_begin(const char *what);
void line_text(const char *s);
void line_hex(const char *name, uint64_t v);
void line_dec(const char *name, uint64_t v);
void line_cond(bool ok, const char *why);
void line_fault(uint64_t cause, uint64_t va, uint64_t epc, const char *epc_name,
                uint64_t spp);
void line_mtrap(uint64_t cause, uint64_t epc, const char *epc_name,
                uint64_t mpp);
void line_end(void);
extern unsigned fail_count;
extern const uint64_t kernel_magic;

/* checks_*.c */
void check_demand(void);
void check_user(void);
void check_sum(void);
void check_mxr(void);
void check_ad(void);
void check_superpages(void);
void check_w_without_r(void);
void check_sfence(void);
void check_canonical(void);
void check_satp_warl(void);
void check_spp(void);
void check_not_delegated(void);

/* user.c */
void user_main(void);
extern char __user_start[], __user_end[];

/* CSR access without GNU statement expressions. */
#define CSR_ACCESSORS(name)                                                    \
    static inline uint64_t csr_read_##name(void)                               \
    {                                                                          \
        uint64_t v_;                                                           \
        __asm__ volatile("csrr %0, " #name : "=r"(v_));                        \
        return v_;                                                             \
    }                                                                          \
    static inline void csr_write_##name(uint64_t v_)                           \
    {                                                                          \
        __asm__ volatile("csrw " #name ", %0" ::"r"(v_) : "memory");           \
    }                                                                          \
    static inline void csr_set_##name(uint64_t v_)                             \
    {                                                                          \
        __asm__ volatile("csrs " #name ", %0" ::"r"(v_) : "memory");           \
    }                                                                          \
    static inline void csr_clear_##name(uint64_t v_)                           \
    {                                                                          \
        __asm__ volatile("csrc " #name ", %0" ::"r"(v_) : "memory");           \
    }

CSR_ACCESSORS(mstatus)
CSR_ACCESSORS(medeleg)
CSR_ACCESSORS(mideleg)
CSR_ACCESSORS(mie)
CSR_ACCESSORS(mepc)
CSR_ACCESSORS(mcause)
CSR_ACCESSORS(mtvec)
CSR_ACCESSORS(pmpaddr0)
CSR_ACCESSORS(pmpcfg0)
CSR_ACCESSORS(sstatus)
CSR_ACCESSORS(sepc)
CSR_ACCESSORS(scause)
CSR_ACCESSORS(stval)
CSR_ACCESSORS(stvec)
CSR_ACCESSORS(satp)
CSR_ACCESSORS(sie)

#endif
