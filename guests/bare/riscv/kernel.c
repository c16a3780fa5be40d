/*
 * kernel.c - the S-mode kernel: runs every check under Sv39, then under
 * Sv48 with freshly built tables, and prints the verdict.
 *
 * Transcript lines are "<mode>: <check> <observations> ok|BAD". Only values
 * two faithful implementations must agree on are printed (causes, VAs,
 * PTE bits, data read back, addresses inside this ELF); a failed condition
 * adds "(<what>: no)" before BAD. The last line is PASS or FAIL n.
 */
#include "guest.h"

void kernel_main(void);

unsigned fail_count;
const uint64_t kernel_magic = UINT64_C(0x6d6d75656d75c0de);

static bool line_ok;

void line_begin(const char *what)
{
    line_ok = true;
    uart_puts(vm_cur.name);
    uart_puts(": ");
    uart_puts(what);
}

void line_text(const char *s)
{
    uart_puts(s);
}

void line_hex(const char *name, uint64_t v)
{
    uart_putc(' ');
    uart_puts(name);
    uart_putc('=');
    uart_puthex(v);
}

void line_dec(const char *name, uint64_t v)
{
    uart_putc(' ');
    uart_puts(name);
    uart_putc('=');
    uart_putdec(v);
}

void line_cond(bool ok, const char *why)
{
    if (ok)
        return;
    line_ok = false;
    uart_puts(" (");
    uart_puts(why);
    uart_puts(": no)");
}

/*
 * Prints and checks the one fault the last expectation recorded: scause,
 * stval (the VA), sepc (named epc_name when it matches) and sstatus.SPP.
 * Disarms the expectation.
 */
void line_fault(uint64_t cause, uint64_t va, uint64_t epc, const char *epc_name,
                uint64_t spp)
{
    expect_cancel();
    if (s_rec.count != 1) {
        uart_puts(" no fault");
        line_cond(false, "fault taken");
        return;
    }
    line_hex("va", va);
    line_dec("scause", s_rec.scause);
    line_hex("stval", s_rec.stval);
    uart_puts(" sepc=");
    if (s_rec.sepc == epc)
        uart_puts(epc_name);
    else
        uart_puthex(s_rec.sepc);
    line_dec("spp", s_rec.spp);
    line_cond(s_rec.scause == cause, "scause");
    line_cond(s_rec.stval == va, "stval");
    line_cond(s_rec.sepc == epc, "sepc");
    line_cond(s_rec.spp == spp, "spp");
}

/*
 * Prints and checks the exception the M stub recorded (mstub_expect() armed
 * cause and epc): mcause, mepc (named when it matches), mstatus.MPP.
 */
void line_mtrap(uint64_t cause, uint64_t epc, const char *epc_name,
                uint64_t mpp)
{
    if (m_rec.seen != 1) {
        uart_puts(" not taken in M");
        line_cond(false, "taken in M");
        return;
    }
    line_dec("mcause", m_rec.mcause);
    uart_puts(" mepc=");
    if (m_rec.mepc == epc)
        uart_puts(epc_name);
    else
        uart_puthex(m_rec.mepc);
    line_dec("mpp", m_rec.mpp);
    line_cond(m_rec.mcause == cause, "mcause");
    line_cond(m_rec.mepc == epc, "mepc");
    line_cond(m_rec.mpp == mpp, "mpp");
}

void line_end(void)
{
    if (line_ok) {
        uart_puts(" ok\n");
    } else {
        uart_puts(" BAD\n");
        fail_count++;
    }
}

static void run_mode(unsigned mode)
{
    uint64_t satp;

    vm_off();
    vm_build(mode);
    vm_activate();
    satp = csr_read_satp();
    line_begin("satp");
    line_dec("mode", satp >> RV64_SATP_MODE_SHIFT);
    line_cond(satp >> RV64_SATP_MODE_SHIFT == mode, "mode accepted");
    line_cond((satp & RV64_SATP_PPN_MASK) == vm_cur.root >> PAGE_SHIFT,
              "root ppn");
    line_end();
    if (satp >> RV64_SATP_MODE_SHIFT != mode)
        return;

    faults_from_u = 0;
    faults_from_s = 0;
    check_satp_warl();
    check_demand();
    check_user();
    check_sum();
    check_mxr();
    check_ad();
    check_superpages();
    check_w_without_r();
    check_sfence();
    check_canonical();
    check_spp();
    check_not_delegated();
}

void kernel_main(void)
{
    csr_write_stvec((uint64_t)(uintptr_t)s_trap_entry);
    csr_write_sie(0);
    uart_puts("s-mode: kernel\n");
    run_mode(RV_SATP_MODE_SV39);
    run_mode(RV_SATP_MODE_SV48);
    vm_off();
    if (fail_count) {
        uart_puts("FAIL ");
        uart_putdec(fail_count);
        uart_puts("\n");
    } else {
        uart_puts("PASS\n");
    }
    guest_exit(fail_count);
}
