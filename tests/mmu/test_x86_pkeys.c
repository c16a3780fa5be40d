/*
 * test_x86_pkeys.c - protection keys for user-mode pages (SDM vol. 3A
 * 4.6.2; PK flag of the #PF error code, 4.7).
 *
 * With CR4.PKE=1 in 4-level or 5-level paging, the leaf's bits 62:59
 * select a PKRU pair: AD_i forbids data reads and writes, WD_i forbids
 * user-mode writes and supervisor-mode writes when CR0.WP=1. Only data
 * accesses to user-mode addresses are affected (fetches and supervisor
 * pages are not); keys in non-leaf entries are ignored. The PK flag is set
 * whenever those conditions hold for the faulting access, also when
 * another rule (R/W, SMAP) fails too (FIDELITY "PK priority").
 * PAE and 32-bit paging have no keys even with CR4.PKE=1.
 *
 * The sweep varies U/S of the leaf and of the entry above it, R/W of the
 * leaf, AD/WD of the leaf's key, the other keys' PKRU bits (all set or all clear, so
 * that using the wrong key shows), CR4.PKE, CR0.WP, SMEP, SMAP, RFLAGS.AC,
 * access and privilege, and compares with x86_oracle.h.
 */
#include "x86_harness.h"
#include "x86_oracle.h"

#define K4 UINT64_C(0x1000)
#define M2 UINT64_C(0x200000)
#define G1 UINT64_C(0x40000000)
#define RWU (X86_PTE_P | X86_PTE_RW | X86_PTE_US)
#define LEAF_KEY 5u
#define TABLE_KEY 9u /* in every non-leaf entry: must be ignored */

static uint64_t key_bits(unsigned key)
{
    return (uint64_t)key << X86_PTE_PKEY_SHIFT;
}

typedef struct priv_kind {
    const char *name;
    unsigned cpl;
    bool implicit;
} priv_kind;

static const priv_kind kinds[] = {
    {"cpl0", 0, false},         {"cpl1", 1, false},
    {"cpl2", 2, false},         {"cpl3", 3, false},
    {"implicit@cpl0", 0, true}, {"implicit@cpl3", 3, true},
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

#define CTL_PKE  (1u << 0)
#define CTL_WP   (1u << 1)
#define CTL_SMEP (1u << 2)
#define CTL_SMAP (1u << 3)
#define CTL_AC   (1u << 4)
#define CTL_ALL  32u

typedef struct pk_case {
    const char *label;
    xh_path *path;
    uint64_t va, pa;
    uint64_t upper, leaf; /* flags of the entry above the leaf, the leaf */
    uint32_t pkru;
    unsigned ctl;
    mmu_access acc;
    const priv_kind *who;
    unsigned req_flags;
} pk_case;

static void describe(const void *arg, char *buf, size_t len)
{
    const pk_case *c = arg;
    snprintf(buf, len,
             "%s va=0x%llx upper:%c leaf:%c%c key=%u PKRU=0x%08x | PKE=%u "
             "WP=%u SMEP=%u SMAP=%u AC=%u | %s %s%s",
             c->label, (unsigned long long)c->va,
             (c->upper & X86_PTE_US) ? 'U' : 'S',
             (c->leaf & X86_PTE_US) ? 'U' : 'S',
             (c->leaf & X86_PTE_RW) ? 'W' : 'R',
             (unsigned)((c->leaf & X86_PTE_PKEY_MASK) >> X86_PTE_PKEY_SHIFT),
             c->pkru, (c->ctl & CTL_PKE) != 0, (c->ctl & CTL_WP) != 0,
             (c->ctl & CTL_SMEP) != 0, (c->ctl & CTL_SMAP) != 0,
             (c->ctl & CTL_AC) != 0, mmu_access_name(c->acc), c->who->name,
             (c->req_flags & MMU_REQ_NO_AD) ? " NO_AD" : "");
}

static void run(xh_check *ck, pk_case *c)
{
    xh_path *p = c->path;
    bool noad = (c->req_flags & MMU_REQ_NO_AD) != 0;
    xo_ctl ctl = {.mode = p->mode,
                  .pke = (c->ctl & CTL_PKE) != 0,
                  .wp = (c->ctl & CTL_WP) != 0,
                  .smep = (c->ctl & CTL_SMEP) != 0,
                  .smap = (c->ctl & CTL_SMAP) != 0,
                  .ac = (c->ctl & CTL_AC) != 0,
                  .nxe = true,
                  .pkru = c->pkru};
    xo_who w = {c->acc, c->who->cpl, c->who->implicit};
    bool ia32e = !p->pae && p->mode != MMU_MODE_X86_32;
    uint64_t tkey = ia32e ? key_bits(TABLE_KEY) : 0;

    xh_case_begin(ck);
    for (unsigned l = p->leaf; l <= p->top; l++) {
        if (p->pae && l == p->top)
            continue;
        uint64_t f = l == p->leaf       ? c->leaf
                     : l == p->leaf + 1 ? c->upper | tkey
                                        : RWU | tkey;
        xh_set_flags(p, l, f);
    }
    xo_apply(&ctl, &p->t->ctx.st.x86);

    xo_page pg = {.user_addr = (c->upper & c->leaf & X86_PTE_US) != 0,
                  .writable = (c->leaf & X86_PTE_RW) != 0,
                  .pkey = (unsigned)((c->leaf & X86_PTE_PKEY_MASK) >>
                                     X86_PTE_PKEY_SHIFT)};
    bool want_ok = xo_allowed(&ctl, &w, &pg);
    mmu_result res;
    mmu_fault flt;
    bool ok = xh_translate(p->t, c->va, c->acc, c->who->cpl,
                           c->req_flags |
                               (c->who->implicit ? MMU_REQ_IMPLICIT : 0u),
                           &res, &flt);
    XH_EQ(ck, describe, c, "ok", ok, want_ok);
    if (ok && want_ok) {
        bool dirty = c->acc == MMU_WRITE && !noad;
        XH_EQ(ck, describe, c, "pa", res.pa, c->pa);
        XH_EQ(ck, describe, c, "perms", res.perms,
              xo_perms(&ctl, &w, &pg, dirty));
        if (ctl.pke && ia32e)
            XH_EQ(ck, describe, c, "pkey", res.pkey, pg.pkey);
    } else if (!ok && !want_ok) {
        XH_EQ(ck, describe, c, "kind", flt.kind, MMU_FAULT_PAGE);
        XH_EQ(ck, describe, c, "error code", flt.code,
              xo_pf_code(&ctl, &w, XO_PROTECTION, &pg));
        XH_EQ(ck, describe, c, "cr2", flt.addr, c->va);
    }
    uint64_t leaf = xh_get(p, p->leaf);
    uint64_t want_leaf = p->base[p->leaf] | c->leaf;
    if (ok && !noad)
        want_leaf |= X86_PTE_A | (c->acc == MMU_WRITE ? X86_PTE_D : 0);
    XH_EQ(ck, describe, c, "leaf in memory", leaf, want_leaf);
}

typedef struct pk_variant {
    const char *name;
    mmu_paging_mode mode;
    uint64_t va, pa, size, off;
} pk_variant;

static const pk_variant variants[] = {
    {"4-level 4K", MMU_MODE_X86_4LEVEL, 0x00007f8040603000, 0xabcdef000, K4,
     0x5a8},
    {"4-level 1G", MMU_MODE_X86_4LEVEL, 0x00007f8040000000, 0x340000000, G1,
     0x2345678},
    {"5-level 2M", MMU_MODE_X86_5LEVEL, 0xff5ab3c040600000, 0xabcde00000, M2,
     0x12345},
    /* No keys outside IA-32e paging: key bits stay 0 (reserved in PAE). */
    {"PAE 4K (no keys)", MMU_MODE_X86_PAE, 0xc0603000, 0xabcdef000, K4,
     0x5a8},
    {"32-bit 4K (no keys)", MMU_MODE_X86_32, 0x00c03000, 0x12345000, K4,
     0x5a8},
};

static bool sweep(const pk_variant *v)
{
    tu_machine t;
    xh_path p;
    xh_check ck = {0};
    xh_machine(&t, v->mode);
    xh_map(&p, &t, v->va, v->pa, v->size);
    bool ia32e = v->mode == MMU_MODE_X86_4LEVEL ||
                 v->mode == MMU_MODE_X86_5LEVEL;
    unsigned key = ia32e ? LEAF_KEY : 0;
    for (unsigned bits = 0; bits < 8; bits++) {
        for (unsigned pk = 0; pk < 8; pk++) {
            uint32_t own = (pk & 1u ? X86_PKRU_AD(key) : 0) |
                           (pk & 2u ? X86_PKRU_WD(key) : 0);
            uint32_t others = (pk & 4u) ? ~(X86_PKRU_AD(key) |
                                            X86_PKRU_WD(key))
                                        : 0;
            for (unsigned ctl = 0; ctl < CTL_ALL; ctl++) {
                pk_case c = {.label = v->name, .path = &p,
                             .va = v->va + v->off, .pa = v->pa + v->off,
                             .upper = X86_PTE_P | X86_PTE_RW |
                                    ((bits & 1u) ? X86_PTE_US : 0),
                             .leaf = X86_PTE_P | key_bits(key) |
                                     ((bits & 2u) ? X86_PTE_US : 0) |
                                     ((bits & 4u) ? X86_PTE_RW : 0),
                             .pkru = own | others,
                             .ctl = ctl};
                for (unsigned k = 0; k < N_KINDS; k++) {
                    for (unsigned a = 0; a < 3; a++) {
                        if (kinds[k].implicit && a == MMU_FETCH)
                            continue;
                        c.who = &kinds[k];
                        c.acc = (mmu_access)a;
                        c.req_flags = MMU_REQ_NO_AD;
                        run(&ck, &c);
                        c.req_flags = 0;
                        run(&ck, &c);
                    }
                }
            }
        }
    }
    tu_machine_free(&t);
    return xh_report(&ck, v->name);
}

static void x86_pkeys_every_combination(void **state)
{
    (void)state;
    unsigned bad = 0;
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        bad += !sweep(&variants[i]);
    if (bad != 0)
        fail_msg("%u variants mismatched the oracle", bad);
}

/* ---- named cases ------------------------------------------------------- */

typedef struct named {
    const char *name;
    uint64_t leaf;  /* P added; key LEAF_KEY */
    uint32_t pkru;
    unsigned ctl;
    mmu_access acc;
    unsigned cpl;
    bool implicit;
    bool ok;
    uint32_t code;
} named;

#define AD5 X86_PKRU_AD(LEAF_KEY)
#define WD5 X86_PKRU_WD(LEAF_KEY)
#define U X86_PTE_US
#define W X86_PTE_RW

static const named cases[] = {
    {"x86_pkey_ad_blocks_user_read", U | W, AD5, CTL_PKE, MMU_READ, 3,
     false, false, X86_PF_P | X86_PF_U | X86_PF_PK},
    {"x86_pkey_wd_allows_user_read", U | W, WD5, CTL_PKE, MMU_READ, 3, false,
     true, 0},
    {"x86_pkey_wd_blocks_user_write_even_with_wp0", U | W, WD5, CTL_PKE,
     MMU_WRITE, 3, false, false, X86_PF_P | X86_PF_W | X86_PF_U | X86_PF_PK},
    {"x86_pkey_wd_supervisor_write_allowed_with_wp0", U | W, WD5, CTL_PKE,
     MMU_WRITE, 0, false, true, 0},
    {"x86_pkey_wd_supervisor_write_blocked_with_wp1", U | W, WD5,
     CTL_PKE | CTL_WP, MMU_WRITE, 0, false, false,
     X86_PF_P | X86_PF_W | X86_PF_PK},
    {"x86_pkey_ad_blocks_supervisor_read_of_user_page", U | W, AD5, CTL_PKE,
     MMU_READ, 0, false, false, X86_PF_P | X86_PF_PK},
    {"x86_pkey_fetch_exempt", U | W, AD5 | WD5, CTL_PKE, MMU_FETCH, 3, false,
     true, 0},
    {"x86_pkey_supervisor_page_exempt", W, AD5 | WD5, CTL_PKE | CTL_WP,
     MMU_WRITE, 0, false, true, 0},
    {"x86_pkey_ignored_without_pke", U | W, AD5 | WD5, CTL_WP, MMU_WRITE, 3,
     false, true, 0},
    {"x86_pkey_reported_with_readonly_fault", U, WD5, CTL_PKE | CTL_WP,
     MMU_WRITE, 3, false, false, X86_PF_P | X86_PF_W | X86_PF_U | X86_PF_PK},
    {"x86_pkey_reported_with_smap_fault", U | W, AD5, CTL_PKE | CTL_SMAP,
     MMU_READ, 0, false, false, X86_PF_P | X86_PF_PK},
    {"x86_pkey_implicit_at_cpl3_is_supervisor_write", U | W, WD5, CTL_PKE,
     MMU_WRITE, 3, true, true, 0},
    {"x86_pkey_implicit_wp1_wd_blocks_without_U", U | W, WD5,
     CTL_PKE | CTL_WP, MMU_WRITE, 3, true, false,
     X86_PF_P | X86_PF_W | X86_PF_PK},
};

static void x86_pkeys_named_cases(void **state)
{
    (void)state;
    xh_check ck = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const named *n = &cases[i];
        tu_machine t;
        xh_path p;
        xh_machine(&t, MMU_MODE_X86_4LEVEL);
        xh_map(&p, &t, 0x00007f8040603000, 0x12345000, K4);
        priv_kind who = {n->name, n->cpl, n->implicit};
        pk_case c = {.label = n->name, .path = &p,
                     .va = 0x00007f8040603010, .pa = 0x12345010,
                     .upper = RWU,
                     .leaf = X86_PTE_P | key_bits(LEAF_KEY) | n->leaf,
                     .pkru = n->pkru, .ctl = n->ctl, .acc = n->acc,
                     .who = &who};
        run(&ck, &c);
        /* The oracle agrees with the hand-written expectation. */
        xo_ctl ctl = {.mode = MMU_MODE_X86_4LEVEL,
                      .pke = (n->ctl & CTL_PKE) != 0,
                      .wp = (n->ctl & CTL_WP) != 0,
                      .smap = (n->ctl & CTL_SMAP) != 0,
                      .nxe = true,
                      .pkru = n->pkru};
        xo_who w = {n->acc, n->cpl, n->implicit};
        xo_page pg = {.user_addr = (n->leaf & U) != 0,
                      .writable = (n->leaf & W) != 0,
                      .pkey = LEAF_KEY};
        XH_EQ(&ck, describe, &c, "oracle ok", xo_allowed(&ctl, &w, &pg),
              n->ok);
        if (!n->ok)
            XH_EQ(&ck, describe, &c, "oracle code",
                  xo_pf_code(&ctl, &w, XO_PROTECTION, &pg), n->code);
        tu_machine_free(&t);
    }
    xh_finish(&ck, "pkey named cases");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(x86_pkeys_named_cases),
        cmocka_unit_test(x86_pkeys_every_combination),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
