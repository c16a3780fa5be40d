/*
 * checks.c - the paging checks (see checks.h). Each one provokes its
 * accesses through probe.S, from ring 0 directly or from ring 3 through
 * user_call(), with the trap handler armed (traps.h).
 *
 * Models: Intel SDM vol. 3A 4.6 (access rights: R/W, U/S, XD, CR0.WP,
 * SMEP, SMAP with RFLAGS.AC, protection keys), 4.7 (page-fault error code,
 * CR2), 4.8 (accessed and dirty flags), 4.5 (reserved bits, 1 GiB pages),
 * 3.3.7.1 (canonical addresses: #GP(0), not #PF).
 * Not modelled: nested faults, #SS for stack references, PKS, CET.
 */
#include "checks.h"

#include <mmuemu/x86_bits.h>

#include "cpu.h"
#include "features.h"
#include "serial.h"
#include "traps.h"

#define PF_UP      (X86_PF_U | X86_PF_P)
#define USER_RW    (X86_PTE_P | X86_PTE_RW | X86_PTE_US)
#define SUP_RW     (X86_PTE_P | X86_PTE_RW)
#define RET_OPCODE 0xc3
#define PATTERN    UINT64_C(0x5a5a0000c0de0001)
#define CR2_MARK   UINT64_C(0xdead000)

bool checks_observe;

extern char probe_read_u[], probe_write_u[], probe_exec_u[];
uint64_t probe_read_k(uint64_t va);
void probe_write_k(uint64_t va, uint64_t v);
void probe_exec_k(uint64_t va);

static uint64_t u_read(uint64_t va) { return user_call(probe_read_u, va, 0); }
static void u_write(uint64_t va, uint64_t v)
{
    user_call(probe_write_u, va, v);
}
static void u_exec(uint64_t va) { user_call(probe_exec_u, va, 0); }

static uint64_t frame_word(const uint8_t *f)
{
    return *(const volatile uint64_t *)(const volatile void *)f;
}

/* --- line helpers ------------------------------------------------------ */

/* Exactly one #PF at va whose error code, less the ignored bits, is want. */
static bool pf_is(uint64_t va, uint64_t want, uint64_t ignore)
{
    return trap_last.count == 1 && trap_last.vector == VEC_PF &&
           (trap_last.error & ~ignore) == want && trap_last.cr2 == va;
}

static void show_trap(uint64_t ignore)
{
    if (trap_last.count == 0) {
        kprintf(" no fault");
    } else if (trap_last.vector != VEC_PF) {
        kprintf(" vector=%lu err=0x%lx", trap_last.vector, trap_last.error);
    } else if (ignore == X86_PF_P) {
        kprintf(" err&~P=0x%lx cr2=0x%lx", trap_last.error & ~ignore,
                trap_last.cr2);
    } else {
        kprintf(" err=0x%lx cr2=0x%lx", trap_last.error, trap_last.cr2);
    }
}

static unsigned line_end(bool ok)
{
    kprintf(ok ? " ok\n" : " FAILED\n");
    return ok ? 0 : 1;
}

/* "<mode>: <what> err=.. cr2=.. ok": one #PF with error code want at va,
 * and extra (the check's own condition) holds. */
static unsigned pf_line(const struct space *s, const char *what, uint64_t va,
                        uint64_t want, uint64_t ignore, bool extra)
{
    kprintf("%s: %s", s->name, what);
    show_trap(ignore);
    bool ok = pf_is(va, want, ignore) && extra;
    if (!ok)
        kprintf(" (want err=0x%lx cr2=0x%lx)", want, va);
    return line_end(ok);
}

/* "<mode>: <what> ok": no exception, and extra holds. */
static unsigned ok_line(const struct space *s, const char *what, bool extra)
{
    kprintf("%s: %s", s->name, what);
    if (trap_last.count)
        show_trap(0);
    return line_end(trap_last.count == 0 && extra);
}

/* "<mode>: <what> a=.. d=.. ok": the entry's A and D are as wanted. */
static unsigned ad_line(const struct space *s, const char *what, uint64_t entry,
                        unsigned want_a, unsigned want_d)
{
    unsigned a = (entry & X86_PTE_A) != 0, d = (entry & X86_PTE_D) != 0;
    kprintf("%s: %s a=%u d=%u", s->name, what, a, d);
    return line_end(a == want_a && d == want_d);
}

/* --- (1) demand paging ------------------------------------------------- */

static struct space *demand_space;

/* Runs in the #PF handler: map the faulting page, put PATTERN in it. */
static void demand_map(uint64_t cr2)
{
    uint8_t *f = slot_map(demand_space, cr2 & ~(PAGE_SIZE - 1), USER_RW);
    *(volatile uint64_t *)(volatile void *)f = PATTERN;
}

static unsigned chk_demand(struct space *s)
{
    unsigned fails = 0;
    demand_space = s;
    uint64_t va = slot_new(s);
    trap_arm(TRAP_DEMAND, demand_map);
    uint64_t v = u_read(va + 8 * 3);
    uint64_t v0 = u_read(va);
    trap_disarm();
    fails += pf_line(s, "demand user read", va + 8 * 3, X86_PF_U, 0,
                     v == 0 && v0 == PATTERN);

    va = slot_new(s);
    trap_arm(TRAP_DEMAND, demand_map);
    u_write(va, ~PATTERN);
    trap_disarm();
    uint64_t pte = *slot_pte(s, va);
    const uint8_t *f = (const uint8_t *)(uintptr_t)(pte & X86_PTE_ADDR_MASK);
    fails += pf_line(s, "demand user write", va, X86_PF_U | X86_PF_W, 0,
                     frame_word(f) == ~PATTERN && (pte & X86_PTE_D));
    return fails;
}

/* --- (2) NX ------------------------------------------------------------ */

static unsigned chk_nx(struct space *s)
{
    unsigned fails = 0;
    uint64_t va = slot_new(s);
    slot_map(s, va, USER_RW)[0] = RET_OPCODE;
    trap_arm(TRAP_SKIP, 0);
    u_exec(va);
    fails += ok_line(s, "xd=0 user fetch", 1);

    slot_flags(s, va, USER_RW | X86_PTE_NX);
    trap_arm(TRAP_SKIP, 0);
    u_exec(va);
    fails += pf_line(s, "xd=1 user fetch", va, X86_PF_I | PF_UP, 0, 1);

    va = slot_new(s);
    slot_map(s, va, SUP_RW | X86_PTE_NX)[0] = RET_OPCODE;
    trap_arm(TRAP_SKIP, 0);
    probe_exec_k(va);
    fails += pf_line(s, "xd=1 supervisor fetch", va, X86_PF_I | X86_PF_P, 0, 1);
    trap_disarm();
    return fails;
}

/* --- (3) CR0.WP -------------------------------------------------------- */

static unsigned chk_wp(struct space *s)
{
    unsigned fails = 0;
    uint64_t cr0 = rd_cr0();
    uint64_t va = slot_new(s);
    uint8_t *f = slot_map(s, va, X86_PTE_P); /* supervisor, read-only */

    wr_cr0(cr0 & ~X86_CR0_WP);
    trap_arm(TRAP_SKIP, 0);
    probe_write_k(va, PATTERN);
    fails += ok_line(s, "wp=0 supervisor write to read-only",
                     frame_word(f) == PATTERN);

    wr_cr0(cr0 | X86_CR0_WP);
    trap_arm(TRAP_SKIP, 0);
    probe_write_k(va, ~PATTERN);
    fails += pf_line(s, "wp=1 supervisor write to read-only", va,
                     X86_PF_P | X86_PF_W, 0, frame_word(f) == PATTERN);

    va = slot_new(s);
    f = slot_map(s, va, X86_PTE_P | X86_PTE_US); /* user, read-only */
    wr_cr0(cr0 & ~X86_CR0_WP);
    trap_arm(TRAP_SKIP, 0);
    u_write(va, PATTERN);
    wr_cr0(cr0);
    fails += pf_line(s, "wp=0 user write to read-only", va, PF_UP | X86_PF_W, 0,
                     frame_word(f) == 0);
    trap_disarm();
    return fails;
}

/* --- (4) SMEP ---------------------------------------------------------- */

static unsigned chk_smep(struct space *s)
{
    unsigned fails = 0;
    uint64_t cr4 = rd_cr4();
    uint64_t va = slot_new(s);
    slot_map(s, va, USER_RW)[0] = RET_OPCODE;

    trap_arm(TRAP_SKIP, 0);
    probe_exec_k(va);
    fails += ok_line(s, "smep=0 supervisor fetch from user page", 1);

    wr_cr4(cr4 | X86_CR4_SMEP);
    trap_arm(TRAP_SKIP, 0);
    probe_exec_k(va);
    wr_cr4(cr4);
    fails += pf_line(s, "smep=1 supervisor fetch from user page", va,
                     X86_PF_I | X86_PF_P, 0, 1);
    trap_disarm();
    return fails;
}

/* --- (5) SMAP ---------------------------------------------------------- */

static unsigned chk_smap(struct space *s)
{
    unsigned fails = 0;
    uint64_t cr4 = rd_cr4();
    uint64_t va = slot_new(s);
    uint8_t *f = slot_map(s, va, USER_RW);
    *(volatile uint64_t *)(volatile void *)f = PATTERN;

    wr_cr4(cr4 | X86_CR4_SMAP);
    trap_arm(TRAP_SKIP, 0);
    probe_read_k(va);
    fails += pf_line(s, "smap=1 ac=0 supervisor read of user page", va,
                     X86_PF_P, 0, 1);

    trap_arm(TRAP_SKIP, 0);
    probe_write_k(va, ~PATTERN);
    fails += pf_line(s, "smap=1 ac=0 supervisor write to user page", va,
                     X86_PF_P | X86_PF_W, 0, frame_word(f) == PATTERN);

    trap_arm(TRAP_SKIP, 0);
    stac();
    uint64_t v = probe_read_k(va);
    clac();
    wr_cr4(cr4);
    fails +=
        ok_line(s, "smap=1 ac=1 supervisor read of user page", v == PATTERN);
    trap_disarm();
    return fails;
}

/* --- (6) accessed and dirty -------------------------------------------- */

static unsigned chk_ad(struct space *s)
{
    unsigned fails = 0;
    uint64_t va = slot_new(s);
    slot_map(s, va, SUP_RW);
    trap_disarm(); /* these accesses must not fault at all */
    probe_read_k(va);
    fails += ad_line(s, "a/d after supervisor read", *slot_pte(s, va), 1, 0);
    probe_write_k(va, PATTERN);
    fails += ad_line(s, "a/d after supervisor write", *slot_pte(s, va), 1, 1);

    /* A faulting access sets neither flag in the 4 KiB leaf. */
    va = slot_new(s);
    slot_map(s, va, X86_PTE_P | X86_PTE_US);
    trap_arm(TRAP_SKIP, 0);
    u_write(va, PATTERN);
    uint64_t pte = *slot_pte(s, va);
    fails += pf_line(s, "a/d faulting user write", va, PF_UP | X86_PF_W, 0, 1);
    fails += ad_line(s, "a/d after faulting user write", pte, 0, 0);
    trap_disarm();
    return fails;
}

/* --- (7) user/supervisor and reserved bits ----------------------------- */

static unsigned chk_us(struct space *s)
{
    unsigned fails = 0;
    uint64_t va = slot_new(s);
    slot_map(s, va, SUP_RW);
    trap_arm(TRAP_SKIP, 0);
    u_read(va);
    fails += pf_line(s, "user read of supervisor page", va, PF_UP, 0, 1);
    trap_arm(TRAP_SKIP, 0);
    u_write(va, PATTERN);
    fails +=
        pf_line(s, "user write to supervisor page", va, PF_UP | X86_PF_W, 0, 1);
    trap_disarm();
    return fails;
}

/*
 * Reserved bits: RSVD is reported with P = 1 (SDM 4.7: RSVD is only set
 * for a present entry). QEMU 7.2 TCG deviates: its mmu_translate jumps to
 * do_fault_rsvd, which reports RSVD without P. So these lines print and
 * compare the error code with P masked out ("err&~P"); mmuemu reports P=1.
 */
static uint64_t rsvd_access(uint64_t va)
{
    trap_arm(TRAP_SKIP, 0);
    u_read(va);
    if (checks_observe)
        kprintf("observe: rsvd raw err=0x%lx\n", trap_last.error);
    return va;
}

static unsigned chk_rsvd(struct space *s)
{
    unsigned fails = 0;
    const uint64_t want = X86_PF_RSVD | X86_PF_U;
    if (cpu.maxphyaddr < 52) {
        uint64_t va = slot_new(s);
        slot_map(s, va, USER_RW);
        *slot_pte(s, va) |= UINT64_C(1) << cpu.maxphyaddr;
        invlpg(va);
        rsvd_access(va);
        fails += pf_line(s, "rsvd pte bit maxphyaddr user read", va, want,
                         X86_PF_P, 1);
    }
    /* 2 MiB leaf: bits 20:13 are reserved. */
    uint64_t va = s->base + SIZE_2M;
    s->pd[1] = SIZE_2M | USER_RW | X86_PTE_PS | UINT64_C(1) << 13;
    invlpg(va);
    rsvd_access(va);
    s->pd[1] = 0;
    invlpg(va);
    fails += pf_line(s, "rsvd 2m pde bit 13 user read", va, want, X86_PF_P, 1);
    trap_disarm();
    return fails;
}

/* --- (8) protection keys ----------------------------------------------- */

static unsigned chk_pku(struct space *s)
{
    unsigned fails = 0;
    uint64_t cr4 = rd_cr4();
    uint64_t key1 = UINT64_C(1) << X86_PTE_PKEY_SHIFT;
    uint64_t va = slot_new(s);
    uint8_t *f = slot_map(s, va, USER_RW | key1);
    *(volatile uint64_t *)(volatile void *)f = PATTERN;

    wr_cr4(cr4 | X86_CR4_PKE);
    wrpkru(X86_PKRU_AD(1));
    trap_arm(TRAP_SKIP, 0);
    u_read(va);
    fails +=
        pf_line(s, "pkru.ad1 user read key 1", va, X86_PF_PK | PF_UP, 0, 1);
    trap_arm(TRAP_SKIP, 0);
    probe_read_k(va);
    fails += pf_line(s, "pkru.ad1 supervisor read key 1", va,
                     X86_PF_PK | X86_PF_P, 0, 1);

    wrpkru(X86_PKRU_WD(1));
    trap_arm(TRAP_SKIP, 0);
    uint64_t v = u_read(va);
    fails += ok_line(s, "pkru.wd1 user read key 1", v == PATTERN);
    trap_arm(TRAP_SKIP, 0);
    u_write(va, ~PATTERN);
    fails += pf_line(s, "pkru.wd1 user write key 1", va,
                     X86_PF_PK | PF_UP | X86_PF_W, 0, 1);
    trap_arm(TRAP_SKIP, 0);
    probe_write_k(va, ~PATTERN);
    fails +=
        pf_line(s, "pkru.wd1 wp=1 supervisor write key 1", va,
                X86_PF_PK | X86_PF_P | X86_PF_W, 0, frame_word(f) == PATTERN);
    wrpkru(0);
    wr_cr4(cr4);
    trap_disarm();
    return fails;
}

/* --- (9) 1 GiB page ---------------------------------------------------- */

static volatile uint64_t canary = PATTERN;

static unsigned chk_1g(struct space *s)
{
    unsigned fails = 0;
    uint64_t alias = s->base + SIZE_1G; /* PDPTE[1] -> physical 0 */
    uint64_t va = alias + (uint64_t)(uintptr_t)&canary;
    canary = PATTERN;
    s->pdpt[1] = SUP_RW | X86_PTE_PS;
    invlpg(va);
    trap_arm(TRAP_SKIP, 0);
    uint64_t v = probe_read_k(va);
    fails += ok_line(s, "1g page supervisor read", v == PATTERN);
    probe_write_k(va, ~PATTERN);
    fails += ok_line(s, "1g page supervisor write", canary == ~PATTERN);
    fails += ad_line(s, "1g pdpte after write", s->pdpt[1], 1, 1);
    s->pdpt[1] = 0;
    invlpg(va);
    trap_disarm();
    return fails;
}

/* --- (11) non-canonical ------------------------------------------------ */

/* "<mode>: <what> 0x.. vector=13 err=0x0 cr2 unchanged ok": #GP(0), and
 * CR2 (preset to CR2_MARK) untouched, since only #PF writes it. */
static unsigned gp_line(const struct space *s, const char *what, uint64_t va)
{
    uint64_t cr2 = rd_cr2();
    kprintf("%s: %s 0x%lx", s->name, what, va);
    bool ok = trap_last.count == 1 && trap_last.vector == VEC_GP &&
              trap_last.error == 0 && cr2 == CR2_MARK;
    if (trap_last.count == 0)
        kprintf(" no fault");
    else
        kprintf(" vector=%lu err=0x%lx", trap_last.vector, trap_last.error);
    if (cr2 == CR2_MARK)
        kprintf(" cr2 unchanged");
    else
        kprintf(" cr2=0x%lx (was 0x%lx)", cr2, CR2_MARK);
    return line_end(ok);
}

static unsigned chk_noncanonical(struct space *s)
{
    unsigned fails = 0;
    uint64_t lo = UINT64_C(1) << (s->va_bits - 1);        /* first above */
    uint64_t hi = (~UINT64_C(0) << (s->va_bits - 1)) - 1; /* last below */
    wr_cr2(CR2_MARK);
    trap_arm(TRAP_SKIP, 0);
    u_read(lo);
    fails += gp_line(s, "non-canonical user read", lo);
    wr_cr2(CR2_MARK);
    trap_arm(TRAP_SKIP, 0);
    probe_write_k(hi, PATTERN);
    fails += gp_line(s, "non-canonical supervisor write", hi);
    trap_disarm();
    return fails;
}

/* --- the table --------------------------------------------------------- */

struct check {
    const char *name;
    const bool *needs; /* CPUID feature, or null */
    unsigned (*run)(struct space *s);
};

static const struct check checks[] = {
    {"demand paging", 0, chk_demand},
    {"nx", &cpu.nx, chk_nx},
    {"wp", 0, chk_wp},
    {"smep", &cpu.smep, chk_smep},
    {"smap", &cpu.smap, chk_smap},
    {"accessed/dirty", 0, chk_ad},
    {"user/supervisor", 0, chk_us},
    {"reserved bits", 0, chk_rsvd},
    {"pku", &cpu.pku, chk_pku},
    {"1g pages", &cpu.page1gb, chk_1g},
    {"non-canonical", 0, chk_noncanonical},
};

unsigned checks_run(struct space *s)
{
    unsigned fails = 0;
    for (unsigned i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        if (checks[i].needs && !*checks[i].needs)
            kprintf("%s: %s skipped (not in cpuid)\n", s->name, checks[i].name);
        else
            fails += checks[i].run(s);
    }
    return fails;
}
