/*
 * tlb_fixture.h - the cmocka fixture the TLB tests share: a test machine
 * (tests/util) with a TLB attached, freed even when a case fails so
 * LeakSanitizer stays quiet. Each test's state starts as the case's
 * argument (f->arg).
 */
#ifndef MMUEMU_TLB_FIXTURE_H
#define MMUEMU_TLB_FIXTURE_H

#include "testutil.h"
#include "mmuemu/tlb.h"

#include <stdbool.h>
#include <stdlib.h>

typedef struct fx {
    tu_machine t;
    bool up;
    void *arg;
} fx;

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    f->arg = *state;
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    if (f->up) {
        mmu_tlb_free(f->t.ctx.tlb);
        tu_machine_free(&f->t);
    }
    free(f);
    return 0;

#endif
