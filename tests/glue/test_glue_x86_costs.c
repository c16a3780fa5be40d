/*
 * test_glue_x86_costs.c - what the x86 binding costs, measured on small
 * guests and printed (sanitizer builds inflate every number; the checks
 * are only that the guests did what they should and that nothing is
 * absurdly slow):
 *   fill         a Unicorn TLB miss served by the model (walk or model
 *                TLB hit), per page: a loop touching 512 fresh pages,
 *                minus the same loop with Unicorn's TLB warm;
 *   round trip   a model #PF the host handles (maps the page, RETRY):
 *                fill fault, uc_emu_start returning, exact-address
 *                decode, handler, restart;
 *   delivery     mmu_glue_deliver alone (IDT gate, GDT descriptor, frame
 *                pushes through the model, CPL/segment state, registers);
 *   INT3 + IRETQ a CPU exception end to end: UC_HOOK_INTR, delivery,
 *                restart, the handler's IRETQ.
 */
#include "test_glue_x86_harness.h"

#include <time.h>

#define PAGES      512u
#define VA0        UINT64_C(0x200000)
#define PA0        UINT64_C(0x100000)
#define INT3_LOOPS 2000u
#define DELIVERIES 20000u

static double now_ns(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* RBX runs over PAGES pages from VA0 reading one qword each. */
static const uint8_t page_loop[] = {
    0xb9, 0x00, 0x02, 0x00, 0x00,             /* mov $512,%ecx */
    0xbb, 0x00, 0x00, 0x20, 0x00,             /* mov $0x200000,%ebx */
    0x48, 0x8b, 0x03,                         /* 1: mov (%rbx),%rax */
    0x48, 0x81, 0xc3, 0x00, 0x10, 0x00, 0x00, /* add $0x1000,%rbx */
    0xff, 0xc9,                               /* dec %ecx */
    0x75, 0xf2,                               /* jne 1b */
    0x31, 0xc0,                               /* xor %eax,%eax */
    0xe6, 0x80,                               /* out %al,$0x80 */
};

static double timed_run(xt_machine *t)
{
    double t0 = now_ns();
    assert_int_equal(xt_run(t), 0);
    return now_ns() - t0;
}

static void fill_cost(const char *preset)
{
    xt_machine t;
    xt_init(&t, preset ? mmu_tlb_preset(preset) : NULL);
    xt_map(&t, VA0, PA0, (uint64_t)PAGES * 0x1000, XT_SUP_RW);
    xt_code(&t, page_loop, sizeof page_loop, NULL, 0);
    timed_run(&t); /* translate the code once */
    mmu_glue_host_changed(t.g);
    uint64_t f0 = mmu_glue_get_stats(t.g)->fills;
    double cold = timed_run(&t);
    uint64_t fills = mmu_glue_get_stats(t.g)->fills - f0;
    double warm = timed_run(&t);
    assert_true(fills >= PAGES);
    printf("x86 fill (model TLB %s): %.0f ns per fill (%llu fills; run "
           "%.0f us cold, %.0f us warm)\n",
           preset ? preset : "off", (cold - warm) / (double)fills,
           (unsigned long long)fills, cold / 1e3, warm / 1e3);
    xt_free(&t);
}

static void fill_cost_walk(void **state)
{
    (void)state;
    fill_cost(NULL);
}

static void fill_cost_model_tlb(void **state)
{
    (void)state;
    fill_cost("skylake");
}

/* ---- host-handled fault round trip -------------------------------------- */

typedef struct demand {
    xt_machine *t;
    unsigned faults;
} demand;

static mmu_glue_action map_on_demand(mmu_glue *g, const mmu_glue_event *ev,
                                     void *arg)
{
    demand *d = arg;
    if (ev->source != MMU_GLUE_FROM_MODEL || ev->fault.kind != MMU_FAULT_PAGE)
        return MMU_GLUE_STOP;
    uint64_t va = ev->fault.addr & ~UINT64_C(0xfff);
    xt_map(d->t, va, PA0 + (va - VA0), 0x1000, XT_SUP_RW);
    mmu_glue_host_changed(g);
    d->faults++;
    return MMU_GLUE_RETRY;
}

static void fault_round_trip_cost(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    xt_code(&t, page_loop, sizeof page_loop, NULL, 0);
    demand d = {.t = &t};
    mmu_glue_set_handler(t.g, map_on_demand, &d);
    double demand_ns = timed_run(&t); /* every page faults once */
    assert_int_equal(d.faults, PAGES);
    mmu_glue_host_changed(t.g);
    double mapped_ns = timed_run(&t); /* all mapped: fills only */
    assert_int_equal(d.faults, PAGES);
    printf("x86 host-handled #PF round trip: %.0f ns per fault (beyond the "
           "fill)\n",
           (demand_ns - mapped_ns) / PAGES);
    xt_free(&t);
}

/* ---- delivery ----------------------------------------------------------- */

static void delivery_cost(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    mmu_glue_event ev;
    memset(&ev, 0, sizeof ev);
    ev.source = MMU_GLUE_FROM_MODEL;
    ev.fault.kind = MMU_FAULT_PAGE;
    ev.fault.vector = X86_VEC_PF;
    ev.fault.code = X86_PF_W;
    ev.fault.addr = 0x300000;
    ev.pc = XT_KCODE;
    double t0 = now_ns();
    for (unsigned i = 0; i < DELIVERIES; i++) {
        xt_set_reg(&t, UC_X86_REG_RSP, XT_KRSP);
        assert_true(mmu_glue_deliver(t.g, &ev));
    }
    double per = (now_ns() - t0) / DELIVERIES;
    TU_EQ_HEX("RIP: the #PF handler", xt_reg(&t, UC_X86_REG_RIP),
              XT_HANDLERS + 0x20u * X86_VEC_PF);
    TU_EQ_HEX("error code pushed", xt_peek64(&t, XT_KRSP - 48), X86_PF_W);
    printf("x86 delivery (mmu_glue_deliver, #PF at CPL 0): %.0f ns\n", per);
    xt_free(&t);
}

static void int3_round_trip_cost(void **state)
{
    (void)state;
    xt_machine t;
    xt_init(&t, NULL);
    static const uint8_t k[] = {
        0xb9, 0xd0, 0x07, 0x00, 0x00, /* mov $2000,%ecx */
        0xcc,                         /* 1: int3 */
        0xff, 0xc9,                   /* dec %ecx */
        0x75, 0xfb,                   /* jne 1b */
        0x31, 0xc0,                   /* xor %eax,%eax */
        0xe6, 0x80,                   /* out %al,$0x80 */
    };
    static const uint8_t iret[] = {0x48, 0xcf}; /* iretq */
    xt_code(&t, k, sizeof k, NULL, 0);
    xt_poke(&t, XT_HANDLERS + 0x20u * 3, iret, sizeof iret);
    timed_run(&t);
    double ns = timed_run(&t);
    assert_int_equal(mmu_glue_get_stats(t.g)->cpu_exceptions, 2u * INT3_LOOPS);
    printf("x86 INT3 -> handler -> IRETQ: %.0f ns per exception\n",
           ns / INT3_LOOPS);
    xt_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fill_cost_walk),
        cmocka_unit_test(fill_cost_model_tlb),
        cmocka_unit_test(fault_round_trip_cost),
        cmocka_unit_test(delivery_cost),
        cmocka_unit_test(int3_round_trip_cost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
