/*
 * mstub.c - the M-mode stub: PMP, delegation, mret into S-mode, and the
 * handler for exceptions that stay in M-mode.
 *
 * PMP: with PMP implemented, S/U accesses that match no entry fail (priv
 * spec "Physical Memory Protection"), so entry 0 is NAPOT over the whole
 * space with RWX. medeleg hands page faults (12/13/15) and U-mode ecall (8)
 * to S-mode; breakpoint and illegal instruction stay here. No interrupts
 * are enabled or delegated.
 *
 * m_trap() accepts exactly the exception S-mode armed through
 * mstub_expect() (m_rec lives in RAM, identity-mapped for S-mode): it
 * records mcause/mepc/MPP, prints them, and returns past the 4-byte
 * instruction. Anything else is printed and ends the run.
 */
#include "guest.h"

struct m_record m_rec;

void s_entry(void);
void mstub_main(void);
void m_trap(struct trap_frame *f);

void mstub_expect(uint64_t cause, uint64_t epc)
{
    m_rec.seen = 0;
    m_rec.cause = cause;
    m_rec.epc = epc;
    m_rec.armed = 1;
}

static const char *priv_name(uint64_t mpp)
{
    switch (mpp) {
    case RV_PRIV_U:
        return "U";
    case RV_PRIV_S:
        return "S";
    case RV_PRIV_M:
        return "M";
    }
    return "?";
}

void m_trap(struct trap_frame *f)
{
    uint64_t mcause = csr_read_mcause();
    uint64_t mepc = csr_read_mepc();
    uint64_t mpp =
        (csr_read_mstatus() & RV_MSTATUS_MPP) >> RV_MSTATUS_MPP_SHIFT;

    (void)f;
    if (!m_rec.armed || mcause != m_rec.cause || mpp == RV_PRIV_M) {
        uart_puts("m-mode: unexpected trap mcause=");
        uart_puthex(mcause);
        uart_puts(" mepc=");
        uart_puthex(mepc);
        uart_puts(" from ");
        uart_puts(priv_name(mpp));
        uart_puts("\nFAIL 1\n");
        guest_exit(1);
    }
    m_rec.armed = 0;
    m_rec.seen++;
    m_rec.mcause = mcause;
    m_rec.mepc = mepc;
    m_rec.mpp = mpp;
    uart_puts("m-mode: trap mcause=");
    uart_putdec(mcause);
    uart_puts(" from ");
    uart_puts(priv_name(mpp));
    if (mepc == m_rec.epc) {
        uart_puts(" at the armed mepc");
    } else {
        uart_puts(" mepc=");
        uart_puthex(mepc);
    }
    uart_puts(", mret to mepc+4\n");
    csr_write_mepc(mepc + 4);
}

void mstub_main(void)
{
    uint64_t st;

    uart_puts("m-mode: boot\n");
    csr_write_pmpaddr0(~UINT64_C(0));
    csr_write_pmpcfg0(PMPCFG_NAPOT | PMPCFG_R | PMPCFG_W | PMPCFG_X);
    csr_write_medeleg(GUEST_MEDELEG);
    csr_write_mideleg(0);
    csr_write_mie(0);
    csr_write_satp(0);
    uart_puts("m-mode: pmp0 napot rwx, medeleg=");
    uart_puthex(csr_read_medeleg());
    uart_puts(", mret to S\n");

    st = csr_read_mstatus();
    st &= ~(RV_MSTATUS_MPP | RV_MSTATUS_MPRV | RV_MSTATUS_SUM | RV_MSTATUS_MXR |
            RV_MSTATUS_TVM | RV_MSTATUS_MIE | RV_MSTATUS_MPIE | RV_MSTATUS_SIE |
            RV_MSTATUS_SPIE);
    st |= (uint64_t)RV_PRIV_S << RV_MSTATUS_MPP_SHIFT;
    csr_write_mstatus(st);
    csr_write_mepc((uint64_t)(uintptr_t)s_entry);
    __asm__ volatile("mret" ::: "memory");
    for (;;)
        ;
}
