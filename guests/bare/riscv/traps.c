/*
 * traps.c - S-mode trap handling: expected page faults and U-mode system
 * calls.
 *
 * A check arms one expectation (cause, faulting VA, what to do) before the
 * access. The handler accepts exactly that fault once: it records scause,
 * stval, sepc and sstatus.SPP in s_rec and then skips the instruction or
 * repairs the mapping and retries it (sret to the same sepc). Any other
 * trap is printed and ends the run, so a broken translation cannot loop.
 */
#include "guest.h"

struct s_record s_rec;
unsigned faults_from_u, faults_from_s;
extern uint64_t user_exit_code;

static struct {
    bool armed;
    uint64_t cause, va;
    enum fix_action act;
    void (*fix)(uint64_t va);
} expect;

void expect_fault(uint64_t cause, uint64_t va, enum fix_action act,
                  void (*fix)(uint64_t va))
{
    s_rec.count = 0;
    expect.cause = cause;
    expect.va = va;
    expect.act = act;
    expect.fix = fix;
    expect.armed = true;
}

void expect_cancel(void)
{
    expect.armed = false;
}

static _Noreturn void unexpected(uint64_t cause, uint64_t tval, uint64_t epc,
                                 uint64_t spp)
{
    uart_puts("\ns-mode: unexpected trap scause=");
    uart_puthex(cause);
    uart_puts(" stval=");
    uart_puthex(tval);
    uart_puts(" sepc=");
    uart_puthex(epc);
    uart_puts(spp ? " from S" : " from U");
    uart_puts("\nFAIL ");
    uart_putdec(fail_count + 1);
    uart_puts("\n");
    guest_exit(fail_count + 1);
}

/* @return the U-mode string at va, read with SUM=1 (SUM restored). */
static const char *user_str(uint64_t va, char *buf, unsigned size)
{
    const volatile char *s = (const volatile char *)(uintptr_t)va;
    unsigned n = 0;

    csr_set_sstatus(RV_MSTATUS_SUM);
    while (n + 1 < size && s[n]) {
        buf[n] = s[n];
        n++;
    }
    csr_clear_sstatus(RV_MSTATUS_SUM);
    buf[n] = 0;
    return buf;
}

/* @return 1 when U-mode exits (the vector returns from run_user). */
static int syscall(struct trap_frame *f)
{
    uint64_t *a = &f->x[10];
    char text[96], name[32];

    switch ((enum sys_no)f->x[17]) {
    case SYS_EXIT:
        user_exit_code = a[0];
        return 1;
    case SYS_RESULT:
        line_begin("user: ");
        line_text(user_str(a[0], text, sizeof text));
        line_cond(a[1] != 0, "U-mode saw what it expected");
        line_end();
        break;
    case SYS_EXPECT:
        expect_fault(a[0], a[1],
                     a[0] == RV_CAUSE_FETCH_PAGE ? FIX_SKIP_FETCH : FIX_SKIP,
                     0);
        break;
    case SYS_REPORT:
        line_begin("user: ");
        line_text(user_str(a[0], text, sizeof text));
        line_fault(expect.cause, a[1], a[2], user_str(a[3], name, sizeof name),
                   0);
        line_end();
        break;
    case SYS_MEXPECT:
        mstub_expect(a[0], a[1]);
        break;
    case SYS_MREPORT:
        line_begin("user: ");
        line_text(user_str(a[0], text, sizeof text));
        line_mtrap(m_rec.cause, m_rec.epc, user_str(a[1], name, sizeof name),
                   RV_PRIV_U);
        line_end();
        break;
    }
    csr_write_sepc(csr_read_sepc() + 4);
    return 0;
}

int s_trap(struct trap_frame *f)
{
    uint64_t cause = csr_read_scause();
    uint64_t tval = csr_read_stval();
    uint64_t epc = csr_read_sepc();
    uint64_t spp = (csr_read_sstatus() & RV_MSTATUS_SPP) ? 1 : 0;

    if (cause == GUEST_CAUSE_ECALL_U && !spp)
        return syscall(f);
    if (!expect.armed || cause != expect.cause || tval != expect.va)
        unexpected(cause, tval, epc, spp);
    expect.armed = false;
    s_rec.count++;
    s_rec.scause = cause;
    s_rec.stval = tval;
    s_rec.sepc = epc;
    s_rec.spp = spp;
    if (spp)
        faults_from_s++;
    else
        faults_from_u++;
    switch (expect.act) {
    case FIX_SKIP:
        f->x[10] = FAULT_SENTINEL;
        csr_write_sepc(epc + 4);
        break;
    case FIX_SKIP_FETCH:
        csr_write_sepc(f->x[1]);
        break;
    case FIX_CALL:
        expect.fix(tval);
        sfence_va(tval);
        break;
    }
    return 0;
}
