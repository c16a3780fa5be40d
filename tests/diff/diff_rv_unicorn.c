/*
 * diff_rv_unicorn.c - differential test of the RISC-V walker against
 * Unicorn's own RISC-V MMU (UC_TLB_CPU, i.e. QEMU 5.0's
 * target/riscv/cpu_helper.c:get_physical_address inside Unicorn 2.1.x).
 *
 * Thousands of random page-table paths per mode (Sv39, Sv48, Sv57 on a
 * UC_MODE_RISCV64 engine, Sv32 on a UC_MODE_RISCV32 engine), one access
 * each (load, store, or a fetch reached by `jalr`) from S-mode, U-mode,
 * M-mode with MPRV (MPP = S/U) or untranslated M-mode; random SUM/MXR;
 * random V/R/W/X/U/G/A/D/RSW at every level, superpages (4M, 2M, 1G,
 * 512G, 256T), misaligned superpages, reserved encodings, non-leaf
 * entries with A/D/U, bits 63:54, tables and leaves outside RAM,
 * recursive (root-pointing) tables, non-canonical VAs. Per case:
 *   1. build the tables through the builder into the RAM buffer that
 *      Unicorn also maps (uc_mem_map_ptr), snapshot it;
 *   2. run the model (Svadu on: menvcfg.ADUE=1; no Svnapot/Svpbmt: QEMU
 *      5.0 has neither), keep its memory (A/D written) and apply the
 *      store the CPU would make;
 *   3. restore the snapshot, run Unicorn for that one access;
 *   4. compare outcome (ok / fault / final PA outside RAM), cause, tval,
 *      the data loaded or the instruction fetched (every 4-byte word of
 *      the data region is `lui x5, <its own index>`, so a load or a fetch
 *      names the physical word it reached), and the whole RAM (A/D bits,
 *      where the store landed).
 *
 * Where Unicorn is observable:
 *   - faults arrive in UC_HOOK_INTR with intno = cause; Unicorn never
 *     runs riscv_cpu_do_interrupt, so stval/mtval are never written. tval
 *     lives in env->badaddr; its offset in the uc_context blob is found at
 *     start-up from three known faults, and a sentinel is put there before
 *     every case (a base context is restored per case);
 *   - a final PA outside RAM stops emulation with UC_ERR_*_UNMAPPED and
 *     UC_HOOK_MEM_UNMAPPED sees that PA. The spec raises an access fault
 *     (1/5/7, PMA check after translation); the model translates and the
 *     harness maps "PA outside RAM" to that outcome. Counted as agreement
 *     ("unmapped"), the PA must be equal.
 *
 * Unicorn (QEMU 5.0) deviations from the privileged spec. Each is
 * detected at the PTE where the spec's walk stops (the model must stop
 * there, for that reason), counted separately, and accepted only if
 * Unicorn then does exactly what a re-implementation of QEMU 5.0's walk
 * (qemu5_walk below) predicts, memory included:
 *   RSVD_60_54  PTE bits 60:54 set. Spec: page fault (step 3, reserved).
 *               QEMU 5.0: ppn = pte >> 10 keeps them, they become PA bits
 *               63:56: a leaf sets A/D and the access goes to an unmapped
 *               PA (UC_ERR_*_UNMAPPED); a non-leaf reads its next table
 *               outside RAM and page-faults (so outcomes agree there).
 *   N_PBMT      PTE bits 63:61 (N, PBMT) set; this hart has neither
 *               Svnapot nor Svpbmt, so they are reserved. Spec: page
 *               fault. QEMU 5.0: bits 63:62 shift out of the PA (the walk
 *               goes on as if clear), bit 61 becomes PA bit 63.
 *   NONLEAF_ADU non-leaf PTE with D, A or U set. Spec (priv. 1.12+):
 *               reserved, page fault. QEMU 5.0 ignores them.
 *   PTE_ACCESS  a PTE address outside RAM (PMA failure on the implicit
 *               read). Spec: access fault 1/5/7 of the original access
 *               type. QEMU 5.0: page fault 12/13/15 (MEMTX error ->
 *               TRANSLATE_FAIL).
 *   SV32_PA_WRAP  Sv32 leaf whose PA is above 4 GiB (PPN[1] bits 11:10).
 *               Spec: PAs are 34 bits, here outside RAM (access fault).
 *               Unicorn RV32 drops PA bits 33:32 of the final access and
 *               reaches RAM at PA mod 4 GiB, after setting A/D; its PTE
 *               reads do use all 34 bits (tables above 4 GiB fault, also
 *               checked). QEMU 5.0's walk forms the 34-bit PA, so the
 *               loss is in Unicorn's TLB fill (measured, not traced to a
 *               line).
 * Rules Unicorn gets right and that are checked exactly: V=0; W without
 * R (010, 110); U vs S (S never fetches from U pages, even with SUM);
 * SUM; MXR; MPRV/MPP (loads/stores only; M fetches stay bare);
 * misaligned superpages; non-leaf at level 0; canonical VAs; A/D set
 * only in the leaf, only after every check (never on a faulting walk),
 * D only for stores; superpage PA formation; G and RSW ignored.
 *
 * What Unicorn cannot check: Svade (QEMU 5.0 always updates A/D),
 * Svnapot and Svpbmt (absent; their bits only show the deviation above),
 * the access-fault rule for PTEs outside RAM (deviation), PMP, the H
 * extension, ASIDs/sfence.vma/TLB behaviour (the TLB is flushed between
 * cases), A/D compare-and-swap races (single thread).
 *
 * Environment: MMUEMU_DIFF_CASES (random cases per mode, default 5000),
 * MMUEMU_DIFF_SEED (default below; printed), MMUEMU_DIFF_ONLY=<index>
 * (run and print only that case of each mode).
 */
#include "testutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unicorn/unicorn.h>

/* ---- guest layout --------------------------------------------------- */

#define RAM_BASE UINT64_C(0x80000000) /* 2 GiB: aligned for 4M/2M/1G */
#define RAM_SIZE UINT64_C(0x80000)    /* 512 KiB */
#define DATA_OFF UINT64_C(0)          /* pattern words, leaf targets */
#define DATA_LEN UINT64_C(0x40000)
#define CODE_OFF UINT64_C(0x40000) /* the harness instructions */
#define PT_OFF   UINT64_C(0x41000) /* page-table frames */
#define CODE_VA  UINT64_C(0x40000) /* root index 0 in every mode */
#define PAGE     UINT64_C(4096)

/* Code page: one instruction per access type. */
#define PC_LOAD  0x0u /* ld/lw x5, 0(x6) */
#define PC_STORE 0x4u /* sd/sw x7, 0(x6) */
#define PC_FETCH 0x8u /* jalr x0, 0(x6); then the target's lui x5 */

#define X5_SENTINEL   UINT64_C(0x5e5e5e5e5e5e5e5e)
#define TVAL_SENTINEL UINT64_C(0x7a7a7a7a7a7a7a7a)
#define STORE_TAG     UINT64_C(0xd1ff0000d1ff0000)

#define DEFAULT_SEED  UINT64_C(0x6d6d75656d75) /* "mmuemu" */
#define DEFAULT_CASES 5000u
#define MAX_REPORTS   8u

/* RISC-V encodings used by the harness (RV32I/RV64I). */
#define OP_LOAD  0x03u
#define OP_STORE 0x23u
#define OP_JALR  0x67u
#define OP_LUI   0x37u
#define F3_W     2u
#define F3_D     3u
#define REG_X5   5u
#define REG_X6   6u
#define REG_X7   7u
#define LUI_X5   ((REG_X5 << 7) | OP_LUI) /* low 12 bits of a pattern */

static uint32_t enc_i(uint32_t op, uint32_t f3, uint32_t rd, uint32_t rs1)
{
    return (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}

static uint32_t enc_s(uint32_t op, uint32_t f3, uint32_t rs1, uint32_t rs2)
{
    return (rs2 << 20) | (rs1 << 15) | (f3 << 12) | op;
}

/* The data word at data offset o: lui x5, o/4 + 1. */
static uint32_t pattern_word(uint64_t o)
{
    return (uint32_t)(((o >> 2) + 1u) << 12) | LUI_X5;
}

/* ---- geometry of a mode ---------------------------------------------- */

typedef struct rv_geom {
    unsigned xlen; /* 32 or 64 */
    unsigned levels, idx_bits, pte_size, va_bits;
    uint64_t xmask;    /* register width */
    uint64_t ppn_mask; /* PTE bits holding the PPN */
} rv_geom;

static rv_geom geom(mmu_paging_mode m)
{
    const mmu_mode_info *mi = mmu_mode_get(m);
    bool rv32 = m == MMU_MODE_SV32;
    return (rv_geom){
        .xlen = rv32 ? 32u : 64u,
        .levels = mi->levels,
        .idx_bits = mi->idx_bits[0],
        .pte_size = mi->pte_size,
        .va_bits = mi->va_bits,
        .xmask = rv32 ? UINT64_C(0xffffffff) : ~UINT64_C(0),
        .ppn_mask = rv32 ? RV32_PTE_PPN_MASK : RV_PTE_PPN_MASK,
    };
}

static unsigned level_shift(const rv_geom *g, unsigned level)
{
    return 12u + g->idx_bits * level;
}

static uint64_t idx_mask(const rv_geom *g)
{
    return (UINT64_C(1) << g->idx_bits) - 1u;
}

/* A VA as the hart sees it: sign-extended (RV64) or 32 bits (RV32). */
static uint64_t sext_va(const rv_geom *g, uint64_t va)
{
    unsigned top = g->va_bits - 1u;
    if (g->xlen == 32)
        return va & g->xmask;
    return (uint64_t)((int64_t)(va << (63u - top)) >> (63u - top));
}

/* ---- random numbers (splitmix64) ------------------------------------ */

static uint64_t mix64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rnd(uint64_t *s, uint64_t n)
{
    return n ? mix64(s) % n : 0;
}

/* true with probability pct/100 */
static bool chance(uint64_t *s, unsigned pct)
{
    return rnd(s, 100) < pct;
}

/* ---- a case is a row of data ---------------------------------------- */

typedef enum tbl_target {
    TBL_NEXT = 0, /* the builder's table for the next level */
    TBL_OUTSIDE,  /* a frame outside RAM (PTE read fails) */
    TBL_ROOT,     /* back to the root table (recursive mapping) */
    TBL_ABOVE_4G, /* Sv32: root + 4 GiB, outside RAM unless wrapped */
} tbl_target;

typedef struct rv_case {
    const char *name; /* directed cases only */
    mmu_paging_mode mode;
    uint8_t priv; /* RV_PRIV_U / S / M */
    mmu_access acc;
    uint64_t mstatus; /* SUM, MXR, MPRV, MPP */
    uint64_t va;
    unsigned leaf_level;              /* level of the last entry built */
    uint64_t leaf;                    /* full PTE at leaf_level */
    uint64_t nonleaf[MMU_MAX_LEVELS]; /* bits of the non-leaf at level l */
    tbl_target next[MMU_MAX_LEVELS];  /* where the non-leaf at l points */
} rv_case;

/* Random VA: root index != 0 (the code lives there), random indices down
 * to the leaf level, then `low` (the offset inside the leaf page). */
static uint64_t random_va(uint64_t *s, const rv_geom *g, unsigned leaf_level,
                          uint64_t low)
{
    uint64_t va = (1u + rnd(s, idx_mask(g))) << level_shift(g, g->levels - 1u);
    for (unsigned l = leaf_level; l + 1u < g->levels; l++)
        va |= rnd(s, idx_mask(g) + 1u) << level_shift(g, l);
    return sext_va(g, va | low);
}

/* Random bits above the VA width so that va is not canonical (RV64). */
static uint64_t noncanonical(uint64_t *s, const rv_geom *g, uint64_t va)
{
    uint64_t low = va & ((UINT64_C(1) << g->va_bits) - 1u);
    uint64_t v = low | (mix64(s) << g->va_bits);
    if (sext_va(g, v) == v)
        v ^= UINT64_C(1) << 63;
    return v;
}

/* Bits 63:54 (RV64 only): one bit mostly, sometimes several. */
static uint64_t random_hi_bits(uint64_t *s, const rv_geom *g)
{
    if (g->xlen == 32)
        return 0;
    if (chance(s, 70))
        return UINT64_C(1) << (54 + rnd(s, 10));
    return (mix64(s) & (UINT64_C(0x3ff) << 54)) | (UINT64_C(1) << 54);
}

static uint64_t random_nonleaf_bits(uint64_t *s, const rv_geom *g)
{
    uint64_t e = RV_PTE_V;
    if (chance(s, 3))
        e &= ~RV_PTE_V;
    if (chance(s, 3))
        e |= RV_PTE_W; /* W without R: reserved */
    if (chance(s, 20))
        e |= RV_PTE_G;
    if (chance(s, 3))
        e |= RV_PTE_A;
    if (chance(s, 3))
        e |= RV_PTE_D;
    if (chance(s, 3))
        e |= RV_PTE_U;
    e |= rnd(s, 4) << 8; /* RSW: ignored by everyone */
    if (chance(s, 3))
        e |= random_hi_bits(s, g);
    return e;
}

/* The XWR bits a leaf needs for the access (MXR aside). */
static uint64_t needed_xwr(mmu_access acc)
{
    return acc == MMU_FETCH  ? RV_PTE_X
           : acc == MMU_READ ? RV_PTE_R
                             : RV_PTE_R | RV_PTE_W;
}

/*
 * Leaf flags: random V/R/W/X/U/G/A/D, sometimes reserved encodings;
 * biased so that about half the accesses are allowed (U matching the
 * effective privilege, XWR granting the access).
 */
static uint64_t random_leaf_flags(uint64_t *s, const rv_geom *g, unsigned level,
                                  mmu_access acc, bool user)
{
    static const uint64_t xwr[] = {
        RV_PTE_R,
        RV_PTE_R | RV_PTE_W,
        RV_PTE_X,
        RV_PTE_R | RV_PTE_X,
        RV_PTE_R | RV_PTE_W | RV_PTE_X,
    };
    uint64_t e = RV_PTE_V | xwr[rnd(s, 5)];
    if (chance(s, 50))
        e |= needed_xwr(acc);
    if (chance(s, 4))
        e &= ~RV_PTE_V;
    if (chance(s, 6)) /* W or WX without R: reserved */
        e = (e & ~(RV_PTE_R | RV_PTE_W | RV_PTE_X)) | RV_PTE_W |
            (chance(s, 50) ? RV_PTE_X : 0);
    if (level == 0 && chance(s, 3)) /* non-leaf at level 0 */
        e &= ~(RV_PTE_R | RV_PTE_W | RV_PTE_X);
    e |= (chance(s, 75) ? user : !user) ? RV_PTE_U : 0;
    e |= chance(s, 30) ? RV_PTE_G : 0;
    e |= chance(s, 55) ? RV_PTE_A : 0;
    e |= chance(s, 45) ? RV_PTE_D : 0;
    e |= rnd(s, 4) << 8;
    if (chance(s, 3))
        e |= random_hi_bits(s, g);
    return e;
}

static unsigned random_leaf_level(uint64_t *s, const rv_geom *g)
{
    static const unsigned w[MMU_MAX_LEVELS] = {45, 25, 15, 10, 5};
    unsigned total = 0, pick;
    for (unsigned l = 0; l < g->levels; l++)
        total += w[l];
    pick = (unsigned)rnd(s, total);
    for (unsigned l = 0; l < g->levels; l++) {
        if (pick < w[l])
            return l;
        pick -= w[l];
    }
    return 0;
}

/*
 * Leaf PA base and VA offset for a leaf at `level`: the PA lands on a
 * pattern word, or (outside) on the same offset in a block beyond RAM;
 * for Sv32 half of those are above 4 GiB (34-bit PA: must not wrap).
 */
static void random_target(uint64_t *s, const rv_geom *g, unsigned level,
                          bool outside, uint64_t *base, uint64_t *low)
{
    uint64_t size = UINT64_C(1) << level_shift(g, level);
    uint64_t off = DATA_OFF + rnd(s, DATA_LEN / 8u) * 8u;

    if (level == 0) {
        *base = RAM_BASE + (off & ~(PAGE - 1u));
        *low = off & (PAGE - 1u);
    } else {
        *base = RAM_BASE & ~(size - 1u);
        *low = RAM_BASE - *base + off;
    }
    if (!outside)
        return;
    if (g->xlen == 32 && chance(s, 50)) {
        *base += (1u + rnd(s, 3)) << 32;
        return;
    }
    if (level == 0) {
        *base = chance(s, 50) ? RAM_BASE + RAM_SIZE + PAGE * rnd(s, 64)
                              : RAM_BASE - PAGE * (1u + rnd(s, 64));
        return;
    }
    *base = (RAM_BASE + RAM_SIZE + size - 1u) & ~(size - 1u);
    if (*base + *low < RAM_BASE + RAM_SIZE)
        *base += size;
}

/*
 * M-mode accesses that are not translated: MPRV=0, MPP=M, or a fetch
 * (MPRV never applies to fetches). The VA is a physical address.
 */
static void m_bare_case(uint64_t *s, rv_case *c)
{
    static const uint64_t mst[] = {
        0,
        RV_MSTATUS_MPRV | RV_MSTATUS_MPP,
        RV_MSTATUS_MPRV | ((uint64_t)RV_PRIV_S << RV_MSTATUS_MPP_SHIFT),
    };
    c->priv = RV_PRIV_M;
    c->acc = (mmu_access)rnd(s, 3);
    c->mstatus = mst[rnd(s, c->acc == MMU_FETCH ? 3 : 2)] |
                 (chance(s, 50) ? RV_MSTATUS_SUM : 0);
    c->va = RAM_BASE + DATA_OFF + rnd(s, DATA_LEN / 8u) * 8u;
    if (chance(s, 10))
        c->va += RAM_SIZE;
}

/* Point some non-leaf entries back at the root; half the time make the
 * next index equal the root index, so the walk revisits root[r]. */
static void random_recursion(uint64_t *s, const rv_geom *g, rv_case *c)
{
    uint64_t r = (c->va >> level_shift(g, g->levels - 1u)) & idx_mask(g);
    for (unsigned l = c->leaf_level + 1u; l < g->levels; l++) {
        unsigned sh = level_shift(g, l - 1u);
        if (c->next[l] != TBL_ROOT || !chance(s, 50))
            continue;
        c->va = sext_va(g, (c->va & ~(idx_mask(g) << sh)) | (r << sh));
    }
}

static void random_case(uint64_t *s, mmu_paging_mode m, rv_case *c)
{
    rv_geom g = geom(m);
    uint64_t base, low, ppn;
    bool outside = chance(s, 4), user;

    memset(c, 0, sizeof *c);
    c->mode = m;
    c->priv = chance(s, 20) ? RV_PRIV_M : chance(s, 50) ? RV_PRIV_S : RV_PRIV_U;
    c->acc = (mmu_access)rnd(s, c->priv == RV_PRIV_M ? 2 : 3);
    c->mstatus = (chance(s, 50) ? RV_MSTATUS_SUM : 0) |
                 (chance(s, 50) ? RV_MSTATUS_MXR : 0);
    if (c->priv == RV_PRIV_M)
        c->mstatus |=
            RV_MSTATUS_MPRV | ((uint64_t)(chance(s, 50) ? RV_PRIV_S : RV_PRIV_U)
                               << RV_MSTATUS_MPP_SHIFT);
    c->leaf_level = random_leaf_level(s, &g);
    random_target(s, &g, c->leaf_level, outside, &base, &low);
    ppn = base >> 12;
    if (c->leaf_level > 0 && chance(s, 10)) /* misaligned superpage */
        ppn |= 1u + rnd(s, (UINT64_C(1) << (g.idx_bits * c->leaf_level)) - 1u);
    user = c->priv == RV_PRIV_U ||
           (c->priv == RV_PRIV_M && !(c->mstatus & RV_MSTATUS_MPP));
    c->leaf = (ppn << RV_PTE_PPN_SHIFT) |
              random_leaf_flags(s, &g, c->leaf_level, c->acc, user);
    for (unsigned l = c->leaf_level + 1u; l < g.levels; l++) {
        c->nonleaf[l] = random_nonleaf_bits(s, &g);
        c->next[l] = chance(s, 2)   ? TBL_OUTSIDE
                     : chance(s, 2) ? TBL_ROOT
                                    : TBL_NEXT;
        if (c->next[l] == TBL_OUTSIDE && g.xlen == 32 && chance(s, 50))
            c->next[l] = TBL_ABOVE_4G;
    }
    c->va = random_va(s, &g, c->leaf_level, low);
    random_recursion(s, &g, c);
    if (g.xlen == 64 && chance(s, 4))
        c->va = noncanonical(s, &g, c->va);
    if (chance(s, 5))
        m_bare_case(s, c);
}

/* ---- outcomes ------------------------------------------------------- */

typedef enum out_kind {
    OUT_OK,       /* access done */
    OUT_FAULT,    /* exception: cause + tval */
    OUT_UNMAPPED, /* final PA outside RAM (spec: access fault) */
} out_kind;

typedef struct outcome {
    out_kind kind;
    uint32_t cause;
    uint64_t tval;
    uint64_t pa; /* OK (model, prediction) / UNMAPPED: the PA */
    uint64_t x5; /* register after the instruction(s) */
} outcome;

/* Categories of disagreement explained by a documented deviation. */
typedef enum dev_cat {
    DEV_NONE = 0,
    DEV_RSVD_60_54,
    DEV_N_PBMT,
    DEV_NONLEAF_ADU,
    DEV_PTE_ACCESS,
    DEV_SV32_PA_WRAP,
    DEV_COUNT /* also: "failed" */
} dev_cat;

static const char *const dev_names[DEV_COUNT] = {
    "none",
    "rsvd_60_54_folded_into_ppn",
    "n_pbmt_bits_without_svnapot_svpbmt",
    "nonleaf_d_a_u_ignored",
    "pte_outside_ram_page_fault_not_access_fault",
    "sv32_leaf_pa_bits_33_32_dropped",
};

typedef struct stats {
    unsigned cases, agree_ok, agree_fault, agree_unmapped;
    unsigned agree_cause[16];
    unsigned dev[DEV_COUNT];
    unsigned failures;
    unsigned by_level[MMU_MAX_LEVELS];
    unsigned by_priv[4], by_acc[3];
    unsigned reason[MMU_WHY_OUTSIDE_RAM + 1]; /* model faults agreed on */
} stats;

static const char *kind_name(out_kind k)
{
    switch (k) {
    case OUT_OK:
        return "ok";
    case OUT_FAULT:
        return "fault";
    case OUT_UNMAPPED:
        return "unmapped";
    }
    return "?";
}

/* ---- memory --------------------------------------------------------- */

typedef struct machine {
    mmu_paging_mode mode;
    rv_geom g;
    uint8_t *ram;       /* shared with Unicorn */
    uint8_t *pristine;  /* pattern + code, no tables */
    uint8_t *snap;      /* after building the case */
    uint8_t *model_mem; /* model's expectation of RAM after the access */
    uint8_t *q_mem;     /* QEMU 5.0 prediction of RAM after the access */
    mmu_phys phys, qphys;
    mmu_bump_alloc alloc;
    mmu_pt pt;
} machine;

static uint8_t *ram_alloc(void)
{
    uint8_t *p = aligned_alloc((size_t)PAGE, (size_t)RAM_SIZE);
    assert_non_null(p);
    memset(p, 0, (size_t)RAM_SIZE);
    return p;
}

static void put32(uint8_t *mem, uint64_t off, uint32_t v)
{
    memcpy(mem + off, &v, sizeof v);
}

static uint64_t get_x(const rv_geom *g, const uint8_t *mem, uint64_t off)
{
    uint64_t v = 0;
    memcpy(&v, mem + off, g->xlen / 8u);
    return v;
}

static void machine_init(machine *mc, mmu_paging_mode mode)
{
    uint32_t f3 = mode == MMU_MODE_SV32 ? F3_W : F3_D;
    mc->mode = mode;
    mc->g = geom(mode);
    mc->ram = ram_alloc();
    mc->pristine = ram_alloc();
    mc->snap = ram_alloc();
    mc->model_mem = ram_alloc();
    mc->q_mem = ram_alloc();
    for (uint64_t o = DATA_OFF; o < DATA_OFF + DATA_LEN; o += 4)
        put32(mc->pristine, o, pattern_word(o - DATA_OFF));
    put32(mc->pristine, CODE_OFF + PC_LOAD, enc_i(OP_LOAD, f3, REG_X5, REG_X6));
    put32(mc->pristine, CODE_OFF + PC_STORE,
          enc_s(OP_STORE, f3, REG_X6, REG_X7));
    put32(mc->pristine, CODE_OFF + PC_FETCH, enc_i(OP_JALR, 0, 0, REG_X6));
    mc->phys = (mmu_phys){.ram = mc->ram, .base = RAM_BASE, .size = RAM_SIZE};
    mc->qphys =
        (mmu_phys){.ram = mc->q_mem, .base = RAM_BASE, .size = RAM_SIZE};
}

static void machine_free(machine *mc)
{
    free(mc->ram);
    free(mc->pristine);
    free(mc->snap);
    free(mc->model_mem);
    free(mc->q_mem);
}

/* Rewrite the non-leaf entries on the path, bottom-up (so the levels
 * above are still clean tables when the builder descends through them). */
static void shape_nonleaf(machine *mc, const rv_case *c)
{
    const rv_geom *g = &mc->g;
    for (unsigned l = c->leaf_level + 1u; l < g->levels; l++) {
        uint64_t ea, e;
        assert_int_equal(mmu_pt_entry_addr(&mc->pt, c->va, l, &ea), MMU_PT_OK);
        assert_true(mmu_phys_read_pte(&mc->phys, ea, g->pte_size, &e));
        e &= g->ppn_mask;
        if (c->next[l] == TBL_OUTSIDE)
            e = ((RAM_BASE + RAM_SIZE + PAGE * (l + 1u)) >> 12)
                << RV_PTE_PPN_SHIFT;
        else if (c->next[l] == TBL_ABOVE_4G) /* root + 4 GiB (34-bit PA) */
            e = (((UINT64_C(1) << 32) + mc->pt.root) >> 12) << RV_PTE_PPN_SHIFT;
        else if (c->next[l] == TBL_ROOT)
            e = (mc->pt.root >> 12) << RV_PTE_PPN_SHIFT;
        assert_true(
            mmu_phys_write_pte(&mc->phys, ea, g->pte_size, e | c->nonleaf[l]));
    }
}

/* Fresh RAM and tables: the code mapping, then the case's path. */
static void build_case(machine *mc, const rv_case *c)
{
    uint64_t code_flags = RV_PTE_V | RV_PTE_R | RV_PTE_X | RV_PTE_A | RV_PTE_D |
                          (c->priv == RV_PRIV_U ? RV_PTE_U : 0);

    memcpy(mc->ram, mc->pristine, (size_t)RAM_SIZE);
    mc->alloc = (mmu_bump_alloc){.mem = &mc->phys,
                                 .next = RAM_BASE + PT_OFF,
                                 .end = RAM_BASE + RAM_SIZE};
    assert_int_equal(mmu_pt_init(&mc->pt, &mc->phys, c->mode,
                                 mmu_bump_alloc_frame, &mc->alloc),
                     MMU_PT_OK);
    assert_int_equal(mmu_pt_map(&mc->pt, CODE_VA, RAM_BASE + CODE_OFF, PAGE,
                                PAGE, code_flags, RV_PTE_V),
                     MMU_PT_OK);
    assert_int_equal(
        mmu_pt_set_entry(&mc->pt, c->va, c->leaf_level, c->leaf, RV_PTE_V),
        MMU_PT_OK);
    shape_nonleaf(mc, c);
    memcpy(mc->snap, mc->ram, (size_t)RAM_SIZE);
}

static uint64_t x5_sentinel(const rv_geom *g)
{
    return X5_SENTINEL & g->xmask;
}

static uint64_t store_value(const rv_geom *g, unsigned idx)
{
    return (STORE_TAG | (idx & 0xffffu)) & g->xmask;
}

/* What x5 holds after the instruction(s) reached physical `pa`. */
static uint64_t x5_after(const rv_geom *g, const mmu_phys *m, mmu_access acc,
                         uint64_t pa)
{
    uint64_t v = x5_sentinel(g);
    uint32_t w;
    switch (acc) {
    case MMU_READ:
        if (!mmu_phys_read_pte(m, pa, g->xlen / 8u, &v))
            v = x5_sentinel(g);
        break;
    case MMU_WRITE:
        break;
    case MMU_FETCH:
        if (mmu_phys_read32(m, pa, &w) && (w & 0xfffu) == LUI_X5)
            v = (uint64_t)(int64_t)(int32_t)(w & 0xfffff000u) & g->xmask;
        else
            v = ~x5_sentinel(g); /* not a pattern word: cannot happen */
        break;
    }
    return v;
}

/* The data side of a successful translation: the PA outside RAM makes it
 * an unmapped access; else the loaded value or the stored bytes. */
static void complete_access(const rv_geom *g, mmu_phys *m, mmu_access acc,
                            unsigned idx, outcome *o)
{
    unsigned width = acc == MMU_FETCH ? 4u : g->xlen / 8u;
    if (!mmu_phys_contains(m, o->pa, width)) {
        o->kind = OUT_UNMAPPED;
        return;
    }
    if (acc == MMU_WRITE)
        assert_true(mmu_phys_write_pte(m, o->pa, width, store_value(g, idx)));
    o->x5 = x5_after(g, m, acc, o->pa);
}

/* ---- the model ------------------------------------------------------ */

typedef struct model_run {
    bool ok;
    mmu_result res;
    mmu_fault flt;
} model_run;

static void run_model(machine *mc, const rv_case *c, unsigned idx,
                      model_run *mr, outcome *o)
{
    mmu_ctx ctx = {0};
    mmu_req req = {.va = c->va, .access = c->acc, .priv = c->priv};

    ctx.mem = &mc->phys;
    mmu_state_init_rv(&ctx.st, mc->g.xlen);
    ctx.st.rv.satp = mmu_pt_root_reg(&mc->pt);
    ctx.st.rv.mstatus = c->mstatus;
    ctx.st.rv.ext = MMU_RV_EXT_SVADU; /* QEMU 5.0: A/D in hardware */
    ctx.st.rv.menvcfg = RV_MENVCFG_ADUE;
    memset(mr, 0, sizeof *mr);
    *o = (outcome){.kind = OUT_FAULT, .x5 = x5_sentinel(&mc->g)};
    mr->ok = mmu_translate(&ctx, &req, &mr->res, &mr->flt);
    memcpy(mc->model_mem, mc->ram, (size_t)RAM_SIZE);
    if (!mr->ok) {
        o->cause = mr->flt.code;
        o->tval = mr->flt.addr;
        return;
    }
    o->kind = OUT_OK;
    o->pa = mr->res.pa;
    mmu_phys mm = {.ram = mc->model_mem, .base = RAM_BASE, .size = RAM_SIZE};
    complete_access(&mc->g, &mm, c->acc, idx, o);
}

/* ---- QEMU 5.0's walk, for the documented deviations ----------------- */

typedef struct qemu5_walk_t {
    dev_cat trigger;       /* first deviation trigger on the path */
    uint64_t trigger_addr; /* the PTE (or PTE address) that triggered */
    uint64_t pa34;         /* Sv32: the leaf's PA before Unicorn drops
                              bits 33:32 */
    unsigned n;
    uint64_t addr[MMU_MAX_LEVELS], pte[MMU_MAX_LEVELS];
} qemu5_walk_t;

static void note(qemu5_walk_t *q, dev_cat cat, uint64_t addr)
{
    if (q->trigger == DEV_NONE) {
        q->trigger = cat;
        q->trigger_addr = addr;
    }
}

/* Would the spec reject this valid PTE for a reason QEMU 5.0 ignores? */
static void note_pte(qemu5_walk_t *q, uint64_t addr, uint64_t pte, bool leaf)
{
    if (pte & RV_PTE_RSVD_MASK)
        note(q, DEV_RSVD_60_54, addr);
    else if (pte & (RV_PTE_N | RV_PTE_PBMT_MASK))
        note(q, DEV_N_PBMT, addr);
    else if (!leaf && (pte & (RV_PTE_D | RV_PTE_A | RV_PTE_U)))
        note(q, DEV_NONLEAF_ADU, addr);
}

/* QEMU 5.0's leaf checks, in its order (all end in a page fault). */
static bool qemu5_leaf_ok(const rv_case *c, uint64_t pte, unsigned mode,
                          unsigned ptshift)
{
    uint64_t rwx = pte & (RV_PTE_R | RV_PTE_W | RV_PTE_X);
    bool sum = (c->mstatus & RV_MSTATUS_SUM) != 0;
    bool mxr = (c->mstatus & RV_MSTATUS_MXR) != 0;
    uint64_t ppn = pte >> RV_PTE_PPN_SHIFT;

    if (rwx == RV_PTE_W || rwx == (RV_PTE_W | RV_PTE_X))
        return false;
    if ((pte & RV_PTE_U) && mode != RV_PRIV_U && (!sum || c->acc == MMU_FETCH))
        return false;
    if (!(pte & RV_PTE_U) && mode != RV_PRIV_S)
        return false;
    if (ppn & ((UINT64_C(1) << ptshift) - 1u))
        return false;
    switch (c->acc) {
    case MMU_READ:
        return (pte & RV_PTE_R) || ((pte & RV_PTE_X) && mxr);
    case MMU_WRITE:
        return (pte & RV_PTE_W) != 0;
    case MMU_FETCH:
        return (pte & RV_PTE_X) != 0;
    }
    return false;
}

static unsigned page_fault_cause(mmu_access acc)
{
    return acc == MMU_FETCH  ? RV_CAUSE_FETCH_PAGE
           : acc == MMU_READ ? RV_CAUSE_LOAD_PAGE
                             : RV_CAUSE_STORE_PAGE;
}

/* QEMU 5.0: the effective privilege (MPRV for loads/stores only). */
static unsigned qemu5_mode(const rv_case *c)
{
    if (c->priv == RV_PRIV_M && c->acc != MMU_FETCH &&
        (c->mstatus & RV_MSTATUS_MPRV))
        return (unsigned)((c->mstatus & RV_MSTATUS_MPP) >>
                          RV_MSTATUS_MPP_SHIFT);
    return c->priv;
}

/* QEMU 5.0: VA bits above va_bits-1 must all be 0 or all 1 (RV64). */
static bool qemu5_va_ok(const rv_geom *g, uint64_t va)
{
    unsigned va_bits = 12u + g->levels * g->idx_bits;
    uint64_t mask = g->xlen > va_bits - 1u
                        ? (UINT64_C(1) << (g->xlen - (va_bits - 1u))) - 1u
                        : 0;
    uint64_t msbs = (va >> (va_bits - 1u)) & mask;
    return msbs == 0 || msbs == mask;
}

/* QEMU 5.0: a leaf passed every check: set A (D), form the PA. */
static void qemu5_hit(machine *mc, const rv_case *c, unsigned i,
                      unsigned ptshift, qemu5_walk_t *q, unsigned idx,
                      outcome *o)
{
    const rv_geom *g = &mc->g;
    uint64_t pte = q->pte[i], ppn = pte >> RV_PTE_PPN_SHIFT;
    uint64_t upd = pte | RV_PTE_A | (c->acc == MMU_WRITE ? RV_PTE_D : 0);
    uint64_t vpn = c->va >> 12;

    assert_true(mmu_phys_write_pte(&mc->qphys, q->addr[i], g->pte_size, upd));
    *o = (outcome){.kind = OUT_OK, .x5 = x5_sentinel(g)};
    o->pa = ((ppn | (vpn & ((UINT64_C(1) << ptshift) - 1u))) << 12) |
            (c->va & (PAGE - 1u));
    if (g->xlen == 32 && o->pa > UINT32_MAX) {
        /* Unicorn RV32 (not QEMU's walk): the access goes to PA mod 4G */
        note(q, DEV_SV32_PA_WRAP, q->addr[i]);
        q->pa34 = o->pa;
        o->pa &= UINT32_MAX;
    }
    complete_access(g, &mc->qphys, c->acc, idx, o);
}

/*
 * QEMU 5.0 get_physical_address() (single stage, no PMP rules), run on
 * q_mem: fills *o and sets A/D in q_mem as QEMU does. Records the first
 * entry the spec would reject where QEMU does not.
 */
static void qemu5_walk(machine *mc, const rv_case *c, uint64_t satp,
                       unsigned idx, qemu5_walk_t *q, outcome *o)
{
    const rv_geom *g = &mc->g;
    unsigned mode = qemu5_mode(c);
    unsigned ptshift = (g->levels - 1u) * g->idx_bits;
    uint64_t base =
        (satp & (g->xlen == 32 ? RV32_SATP_PPN_MASK : RV64_SATP_PPN_MASK))
        << 12;

    memcpy(mc->q_mem, mc->snap, (size_t)RAM_SIZE);
    memset(q, 0, sizeof *q);
    *o = (outcome){.kind = OUT_FAULT,
                   .cause = page_fault_cause(c->acc),
                   .tval = c->va,
                   .x5 = x5_sentinel(g)};
    if (mode == RV_PRIV_M) { /* bare */
        *o = (outcome){.kind = OUT_OK, .pa = c->va, .x5 = x5_sentinel(g)};
        complete_access(g, &mc->qphys, c->acc, idx, o);
        return;
    }
    if (!qemu5_va_ok(g, c->va))
        return;
    for (unsigned i = 0; i < g->levels; i++, ptshift -= g->idx_bits) {
        uint64_t a =
            base + ((c->va >> (12u + ptshift)) & idx_mask(g)) * g->pte_size;
        uint64_t pte;
        if (!mmu_phys_read_pte(&mc->qphys, a, g->pte_size, &pte)) {
            note(q, DEV_PTE_ACCESS, a);
            return;
        }
        q->addr[q->n] = a;
        q->pte[q->n++] = pte;
        bool leaf = (pte & (RV_PTE_R | RV_PTE_W | RV_PTE_X)) != 0;
        if (!(pte & RV_PTE_V))
            return;
        note_pte(q, a, pte, leaf);
        if (!leaf) {
            base = (pte >> RV_PTE_PPN_SHIFT) << 12;
            continue;
        }
        if (qemu5_leaf_ok(c, pte, mode, ptshift))
            qemu5_hit(mc, c, i, ptshift, q, idx, o);
        return;
    }
}

/* ---- Unicorn -------------------------------------------------------- */

typedef struct rv_uc {
    uc_engine *uc;
    rv_geom g;
    uc_context *base; /* reset state; badaddr = TVAL_SENTINEL */
    uc_context *scratch;
    size_t badaddr_off;
    int intno;
    bool unmapped;
    uc_mem_type unm_type;
    uint64_t unm_addr;
    uc_hook h_intr, h_unm;
} rv_uc;

#define UC_OK(call)                                                            \
    do {                                                                       \
        uc_err e_ = (call);                                                    \
        if (e_ != UC_ERR_OK)                                                   \
            fail_msg("%s: %s", #call, uc_strerror(e_));                        \
    } while (0)

static void on_intr(uc_engine *uc, uint32_t intno, void *arg)
{
    rv_uc *u = arg;
    if (u->intno < 0)
        u->intno = (int)intno;
    uc_emu_stop(uc);
}

static bool on_unmapped(uc_engine *uc, uc_mem_type type, uint64_t addr,
                        int size, int64_t value, void *arg)
{
    rv_uc *u = arg;
    (void)uc;
    (void)size;
    (void)value;
    if (!u->unmapped) {
        u->unmapped = true;
        u->unm_type = type;
        u->unm_addr = addr;
    }
    return false;
}

/* Registers are XLEN wide (Unicorn reads/writes 4 bytes on RV32). */
static uint64_t reg_get(rv_uc *u, int reg)
{
    uint64_t v = 0;
    UC_OK(uc_reg_read(u->uc, reg, &v));
    return v & u->g.xmask;
}

static void reg_set(rv_uc *u, int reg, uint64_t v)
{
    UC_OK(uc_reg_write(u->uc, reg, &v));
}

/* CSRs are written as M (host CSR access obeys the current privilege). */
static void set_csrs(rv_uc *u, uint64_t satp, uint64_t mstatus)
{
    uint64_t keep =
        RV_MSTATUS_SUM | RV_MSTATUS_MXR | RV_MSTATUS_MPRV | RV_MSTATUS_MPP;
    reg_set(u, UC_RISCV_REG_PRIV, RV_PRIV_M);
    reg_set(u, UC_RISCV_REG_SATP, satp);
    reg_set(u, UC_RISCV_REG_MSTATUS, mstatus);
    if (reg_get(u, UC_RISCV_REG_SATP) != satp)
        fail_msg("unicorn: satp 0x%" PRIx64 " not accepted", satp);
    if ((reg_get(u, UC_RISCV_REG_MSTATUS) & keep) != (mstatus & keep))
        fail_msg("unicorn: mstatus 0x%" PRIx64 " not accepted", mstatus);
}

/* An XLEN-wide word of the context blob. */
static uint64_t ctx_word(const rv_uc *u, const uc_context *ctx, size_t off)
{
    uint64_t v = 0;
    memcpy(&v, (const uint8_t *)ctx + off, u->g.xlen / 8u);
    return v;
}

/* Run from `pc` with privilege `priv` for `count` instructions. */
static uc_err uc_run(rv_uc *u, uint8_t priv, uint64_t pc, size_t count)
{
    reg_set(u, UC_RISCV_REG_PRIV, priv);
    UC_OK(uc_ctl_flush_tlb(u->uc));
    u->intno = -1;
    u->unmapped = false;
    return uc_emu_start(u->uc, pc, 0, 0, count);
}

/*
 * Find env->badaddr in the context blob: three M-mode MPRV loads that
 * fault at the root (satp points at a zeroed table); the only offset
 * holding the VA after each fault (x6 cleared first) is badaddr.
 */
static void calibrate_tval(rv_uc *u, machine *mc)
{
    static const uint64_t vas[] = {UINT64_C(0x123456a8), UINT64_C(0x3ff01230),
                                   UINT64_C(0x76543210)};
    size_t size = uc_context_size(u->uc), w = u->g.xlen / 8u, found = 0;
    uint8_t *cand = malloc(size / w);
    assert_non_null(cand);
    memset(cand, 1, size / w);
    memcpy(mc->ram, mc->pristine, (size_t)RAM_SIZE);
    mmu_pt pt;
    mc->alloc = (mmu_bump_alloc){.mem = &mc->phys,
                                 .next = RAM_BASE + PT_OFF,
                                 .end = RAM_BASE + RAM_SIZE};
    assert_int_equal(
        mmu_pt_init(&pt, &mc->phys, mc->mode, mmu_bump_alloc_frame, &mc->alloc),
        MMU_PT_OK);
    for (size_t k = 0; k < sizeof vas / sizeof vas[0]; k++) {
        set_csrs(u, mmu_pt_root_reg(&pt),
                 RV_MSTATUS_MPRV |
                     ((uint64_t)RV_PRIV_S << RV_MSTATUS_MPP_SHIFT));
        reg_set(u, UC_RISCV_REG_X6, vas[k]);
        UC_OK(uc_run(u, RV_PRIV_M, RAM_BASE + CODE_OFF + PC_LOAD, 1));
        assert_int_equal(u->intno, RV_CAUSE_LOAD_PAGE);
        reg_set(u, UC_RISCV_REG_X6, 0);
        UC_OK(uc_context_save(u->uc, u->scratch));
        for (size_t o = 0; o + w <= size; o += w)
            if (ctx_word(u, u->scratch, o) != vas[k])
                cand[o / w] = 0;
    }
    for (size_t o = 0; o + w <= size; o += w)
        if (cand[o / w]) {
            u->badaddr_off = o;
            found++;
        }
    free(cand);
    if (found != 1)
        fail_msg("cannot locate badaddr in uc_context (%zu candidates)", found);
    UC_OK(uc_context_save(u->uc, u->base));
    memcpy((uint8_t *)u->base + u->badaddr_off, &(uint64_t){TVAL_SENTINEL}, w);
}

static void uc_setup(rv_uc *u, machine *mc)
{
    memset(u, 0, sizeof *u);
    u->g = mc->g;
    UC_OK(uc_open(UC_ARCH_RISCV,
                  mc->g.xlen == 32 ? UC_MODE_RISCV32 : UC_MODE_RISCV64,
                  &u->uc));
    UC_OK(uc_ctl_tlb_mode(u->uc, UC_TLB_CPU));
    UC_OK(uc_mem_map_ptr(u->uc, RAM_BASE, (size_t)RAM_SIZE, UC_PROT_ALL,
                         mc->ram));
    UC_OK(uc_hook_add(u->uc, &u->h_intr, UC_HOOK_INTR,
                      (void *)(uintptr_t)on_intr, u, 1, 0));
    UC_OK(uc_hook_add(u->uc, &u->h_unm, UC_HOOK_MEM_UNMAPPED,
                      (void *)(uintptr_t)on_unmapped, u, 1, 0));
    UC_OK(uc_context_alloc(u->uc, &u->base));
    UC_OK(uc_context_alloc(u->uc, &u->scratch));
    calibrate_tval(u, mc);
}

static void uc_teardown(rv_uc *u)
{
    uc_context_free(u->base);
    uc_context_free(u->scratch);
    uc_close(u->uc);
}

static uc_mem_type unmapped_type(mmu_access acc)
{
    return acc == MMU_FETCH  ? UC_MEM_FETCH_UNMAPPED
           : acc == MMU_READ ? UC_MEM_READ_UNMAPPED
                             : UC_MEM_WRITE_UNMAPPED;
}

/* Where did Unicorn's successful access go? Only for reports: the
 * comparison itself uses x5 and the RAM contents. */
static uint64_t locate_pa(const machine *mc, mmu_access acc, unsigned idx,
                          uint64_t x5)
{
    uint64_t word = x5 & 0xffffffffu, imm = (x5 >> 12) & 0xfffffu;
    switch (acc) {
    case MMU_READ:
        if ((word & 0xfffu) != LUI_X5)
            return 0;
        return RAM_BASE + DATA_OFF + ((word >> 12) - 1u) * 4u;
    case MMU_WRITE:
        for (uint64_t o = 0; o < RAM_SIZE; o += mc->g.xlen / 8u)
            if (get_x(&mc->g, mc->ram, o) == store_value(&mc->g, idx))
                return RAM_BASE + o;
        return 0;
    case MMU_FETCH:
        return imm ? RAM_BASE + DATA_OFF + (imm - 1u) * 4u : 0;
    }
    return 0;
}

static void run_unicorn(rv_uc *u, const machine *mc, const rv_case *c,
                        uint64_t satp, unsigned idx, outcome *o)
{
    static const uint32_t pc_off[] = {PC_LOAD, PC_STORE, PC_FETCH};
    uint64_t pc =
        (c->priv == RV_PRIV_M ? RAM_BASE + CODE_OFF : CODE_VA) + pc_off[c->acc];
    UC_OK(uc_context_restore(u->uc, u->base));
    set_csrs(u, satp, c->mstatus);
    reg_set(u, UC_RISCV_REG_X5, x5_sentinel(&u->g));
    reg_set(u, UC_RISCV_REG_X6, c->va);
    reg_set(u, UC_RISCV_REG_X7, store_value(&u->g, idx));
    uc_err err = uc_run(u, c->priv, pc, c->acc == MMU_FETCH ? 2 : 1);

    memset(o, 0, sizeof *o);
    o->x5 = reg_get(u, UC_RISCV_REG_X5);
    if (u->intno >= 0) {
        o->kind = OUT_FAULT;
        o->cause = (uint32_t)u->intno;
        UC_OK(uc_context_save(u->uc, u->scratch));
        o->tval = ctx_word(u, u->scratch, u->badaddr_off);
    } else if (u->unmapped && u->unm_type == unmapped_type(c->acc)) {
        o->kind = OUT_UNMAPPED;
        o->pa = u->unm_addr;
    } else if (err != UC_ERR_OK) {
        o->kind = OUT_FAULT; /* unexpected: shows up as a mismatch */
        o->cause = 0x100u + (uint32_t)err;
        o->pa = u->unmapped ? u->unm_addr : 0;
    } else {
        o->kind = OUT_OK;
        o->pa = locate_pa(mc, c->acc, idx, o->x5);
    }
}

/* ---- comparison and reports ---------------------------------------- */

/* Equal as far as Unicorn can show it (Unicorn's OK carries no PA: the
 * value loaded/fetched and the RAM comparison stand for it). */
static bool same(const outcome *want, const outcome *got)
{
    if (want->kind != got->kind || want->x5 != got->x5)
        return false;
    switch (want->kind) {
    case OUT_OK:
        return true;
    case OUT_FAULT:
        return want->cause == got->cause && want->tval == got->tval;
    case OUT_UNMAPPED:
        return want->pa == got->pa;
    }
    return false;
}

static void print_outcome(const char *who, const outcome *o)
{
    fprintf(stderr,
            "    %-8s %-8s cause %2u tval 0x%016" PRIx64 " pa 0x%016" PRIx64
            " x5 0x%016" PRIx64 "\n",
            who, kind_name(o->kind), o->cause, o->tval, o->pa, o->x5);
}

static void print_mem_diff(const char *what, const uint8_t *want,
                           const uint8_t *got)
{
    unsigned shown = 0;
    for (uint64_t o = 0; o < RAM_SIZE && shown < 6; o += 8) {
        uint64_t w, g;
        memcpy(&w, want + o, 8);
        memcpy(&g, got + o, 8);
        if (w == g)
            continue;
        fprintf(stderr,
                "    ram vs %s: pa 0x%" PRIx64 " want 0x%016" PRIx64
                " unicorn 0x%016" PRIx64 "\n",
                what, RAM_BASE + o, w, g);
        shown++;
    }
}

static const char *priv_name(const rv_case *c)
{
    if (c->priv == RV_PRIV_U)
        return "U";
    if (c->priv == RV_PRIV_S)
        return "S";
    return (c->mstatus & RV_MSTATUS_MPRV) ? "M+MPRV" : "M";
}

typedef struct verdict {
    const outcome *model, *uni, *q;
    const model_run *mr;
    const qemu5_walk_t *qw;
    bool mem_model, mem_q, failed;
    const char *why;
} verdict;

static void report(const machine *mc, uint64_t seed, unsigned idx,
                   const rv_case *c, const verdict *v)
{
    fprintf(stderr,
            "  %s %s: %s seed 0x%" PRIx64 " case %u (%s)\n"
            "    %s %s va 0x%016" PRIx64 " mstatus 0x%" PRIx64
            " leaf level %u satp 0x%" PRIx64 "\n",
            v->failed ? "MISMATCH" : "CASE", mmu_mode_get(c->mode)->name,
            v->why, seed, idx, c->name ? c->name : "random", priv_name(c),
            mmu_access_name(c->acc), c->va, c->mstatus, c->leaf_level,
            mmu_pt_root_reg(&mc->pt));
    const mmu_walk *mw = v->mr->ok ? &v->mr->res.walk : &v->mr->flt.walk;
    for (unsigned i = 0; i < mw->n; i++)
        fprintf(stderr,
                "    model  level %u pte @0x%" PRIx64 " = 0x%016" PRIx64 "\n",
                mw->step[i].level, mw->step[i].addr, mw->step[i].pte);
    for (unsigned i = 0; i < v->qw->n; i++)
        fprintf(stderr,
                "    qemu5  step  %u pte @0x%" PRIx64 " = 0x%016" PRIx64 "\n",
                i, v->qw->addr[i], v->qw->pte[i]);
    if (!v->mr->ok)
        fprintf(stderr, "    model fault: %s/%s level %d\n",
                mmu_fault_kind_name(v->mr->flt.kind),
                mmu_fault_reason_name(v->mr->flt.reason), v->mr->flt.level);
    fprintf(stderr, "    deviation trigger: %s @0x%" PRIx64 "\n",
            dev_names[v->qw->trigger], v->qw->trigger_addr);
    print_outcome("model", v->model);
    print_outcome("unicorn", v->uni);
    print_outcome("qemu5", v->q);
    if (!v->mem_model)
        print_mem_diff("model", mc->model_mem, mc->ram);
    if (!v->mem_q)
        print_mem_diff("qemu5", mc->q_mem, mc->ram);
}

/*
 * The model must stop at the trigger PTE for the reason the spec gives
 * there: a reserved-bit page fault, or an access fault on that address
 * (or, for the Sv32 wrap, translate to the full 34-bit PA).
 */
static bool model_stopped_at_trigger(const model_run *mr, const qemu5_walk_t *q)
{
    const mmu_fault *f = &mr->flt;
    if (q->trigger == DEV_SV32_PA_WRAP) /* the model translates to 34 bits */
        return mr->ok && mr->res.pa == q->pa34;
    if (mr->ok)
        return false;
    if (q->trigger == DEV_PTE_ACCESS)
        return f->kind == MMU_FAULT_ACCESS && f->paddr == q->trigger_addr;
    return f->kind == MMU_FAULT_PAGE && f->reason == MMU_WHY_RESERVED_BIT &&
           f->walk.n > 0 && f->walk.step[f->walk.n - 1].addr == q->trigger_addr;
}

/* @return DEV_NONE for agreement, the deviation, or DEV_COUNT (failed). */
static dev_cat judge(const machine *mc, verdict *v)
{
    bool agree_q;
    v->mem_model = memcmp(mc->ram, mc->model_mem, (size_t)RAM_SIZE) == 0;
    v->mem_q = memcmp(mc->ram, mc->q_mem, (size_t)RAM_SIZE) == 0;
    agree_q = v->mem_q && same(v->q, v->uni);
    if (v->mem_model && same(v->model, v->uni)) {
        v->why = "unicorn agrees with the model but not with qemu5_walk";
        return agree_q ? DEV_NONE : DEV_COUNT;
    }
    if (v->qw->trigger == DEV_NONE) {
        v->why = "unexplained disagreement (no documented deviation)";
        return DEV_COUNT;
    }
    if (!model_stopped_at_trigger(v->mr, v->qw)) {
        v->why = "model did not stop at the deviation trigger";
        return DEV_COUNT;
    }
    if (!agree_q) {
        v->why = "unicorn deviates, but not as documented (qemu5_walk)";
        return DEV_COUNT;
    }
    return v->qw->trigger;
}

/* ---- driver --------------------------------------------------------- */

typedef struct diff_run {
    machine mc;
    rv_uc u;
    uint64_t seed;
    stats st;
} diff_run;

static void count(stats *st, const rv_case *c, const model_run *mr,
                  const outcome *o, dev_cat d)
{
    st->cases++;
    st->by_level[c->leaf_level]++;
    st->by_priv[c->priv]++;
    st->by_acc[c->acc]++;
    if (d == DEV_COUNT) {
        st->failures++;
        return;
    }
    if (d != DEV_NONE) {
        st->dev[d]++;
        return;
    }
    if (o->kind == OUT_OK)
        st->agree_ok++;
    else if (o->kind == OUT_UNMAPPED)
        st->agree_unmapped++;
    else {
        st->agree_fault++;
        st->agree_cause[o->cause & 15u]++;
        if (mr->flt.reason <= MMU_WHY_OUTSIDE_RAM)
            st->reason[mr->flt.reason]++;
    }
}

/* Build, run both sides, judge. @return the category. */
static dev_cat run_case(diff_run *r, const rv_case *c, unsigned idx,
                        bool verbose, out_kind *model_kind)
{
    machine *mc = &r->mc;
    model_run mr;
    qemu5_walk_t qw;
    outcome om, ou, oq;
    verdict v = {.model = &om, .uni = &ou, .q = &oq, .mr = &mr, .qw = &qw};

    mc->mode = c->mode; /* one engine serves every mode of its XLEN */
    mc->g = geom(c->mode);
    assert_int_equal(mc->g.xlen, r->u.g.xlen);
    build_case(mc, c);
    uint64_t satp = mmu_pt_root_reg(&mc->pt);
    run_model(mc, c, idx, &mr, &om);
    qemu5_walk(mc, c, satp, idx, &qw, &oq);
    memcpy(mc->ram, mc->snap, (size_t)RAM_SIZE);
    run_unicorn(&r->u, mc, c, satp, idx, &ou);
    dev_cat d = judge(mc, &v);
    v.failed = d == DEV_COUNT;
    if (model_kind)
        *model_kind = om.kind;
    count(&r->st, c, &mr, &om, d);
    if ((v.failed && r->st.failures <= MAX_REPORTS) || verbose) {
        if (!v.failed)
            v.why = d == DEV_NONE ? "agree" : dev_names[d];
        report(mc, r->seed, idx, c, &v);
    }
    return d;
}

static void run_open(diff_run *r, mmu_paging_mode m, uint64_t seed)
{
    memset(r, 0, sizeof *r);
    r->seed = seed;
    machine_init(&r->mc, m);
    uc_setup(&r->u, &r->mc);
}

static void run_close(diff_run *r)
{
    uc_teardown(&r->u);
    machine_free(&r->mc);
}

static unsigned env_uint(const char *name, unsigned dflt)
{
    const char *s = getenv(name);
    return s && *s ? (unsigned)strtoul(s, NULL, 0) : dflt;
}

static uint64_t env_seed(void)
{
    const char *s = getenv("MMUEMU_DIFF_SEED");
    return s && *s ? (uint64_t)strtoull(s, NULL, 0) : DEFAULT_SEED;
}

static uint64_t case_seed(uint64_t seed, mmu_paging_mode m, unsigned idx)
{
    uint64_t s = seed ^ ((uint64_t)m << 56) ^ ((uint64_t)idx * 0x9e37u);
    return mix64(&s);
}

static void print_stats(const diff_run *r, mmu_paging_mode m, double secs)
{
    const stats *st = &r->st;
    printf("[diff_rv_unicorn] %s: seed 0x%" PRIx64 " cases %u in %.2fs\n"
           "  agree: ok %u, fault %u (cause 12:%u 13:%u 15:%u), "
           "unmapped %u\n",
           mmu_mode_get(m)->name, r->seed, st->cases, secs, st->agree_ok,
           st->agree_fault, st->agree_cause[12], st->agree_cause[13],
           st->agree_cause[15], st->agree_unmapped);
    for (unsigned d = 1; d < DEV_COUNT; d++)
        printf("  unicorn deviation %-44s %u\n", dev_names[d], st->dev[d]);
    printf("  leaf level 0..4: %u %u %u %u %u; priv U/S/M: %u %u %u;"
           " r/w/x: %u %u %u\n",
           st->by_level[0], st->by_level[1], st->by_level[2], st->by_level[3],
           st->by_level[4], st->by_priv[RV_PRIV_U], st->by_priv[RV_PRIV_S],
           st->by_priv[RV_PRIV_M], st->by_acc[0], st->by_acc[1], st->by_acc[2]);
    printf("  agreed faults by model reason:");
    for (unsigned k = 1; k <= MMU_WHY_OUTSIDE_RAM; k++)
        if (st->reason[k])
            printf(" %s %u", mmu_fault_reason_name((mmu_fault_reason)k),
                   st->reason[k]);
    printf("\n  FAILURES %u\n", st->failures);
    fflush(stdout);
}

static double now_seconds(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void diff_mode(mmu_paging_mode m)
{
    diff_run r;
    unsigned n = env_uint("MMUEMU_DIFF_CASES", DEFAULT_CASES);
    const char *only = getenv("MMUEMU_DIFF_ONLY");
    bool one = only && *only;
    double t0;

    run_open(&r, m, env_seed());
    t0 = now_seconds();
    for (unsigned i = 0; i < n; i++) {
        rv_case c;
        uint64_t s = case_seed(r.seed, m, i);
        if (one && (unsigned)strtoul(only, NULL, 0) != i)
            continue;
        random_case(&s, m, &c);
        run_case(&r, &c, i, one, NULL);
    }
    print_stats(&r, m, now_seconds() - t0);
    run_close(&r);
    if (r.st.failures)
        fail_msg("%s: %u unexplained disagreements (seed 0x%" PRIx64 ")",
                 mmu_mode_get(m)->name, r.st.failures, r.seed);
}

/* ---- directed cases: one row per rule and per deviation ------------ */

#define SUM    RV_MSTATUS_SUM
#define MXR    RV_MSTATUS_MXR
#define MPRV_S (RV_MSTATUS_MPRV | ((uint64_t)RV_PRIV_S << RV_MSTATUS_MPP_SHIFT))
#define MPRV_U RV_MSTATUS_MPRV
#define LV     RV_PTE_V
#define LR     RV_PTE_R
#define LW     RV_PTE_W
#define LX     RV_PTE_X
#define LU     RV_PTE_U
#define LA     RV_PTE_A
#define SV32   MMU_MODE_SV32
#define SV39   MMU_MODE_SV39
#define SV48   MMU_MODE_SV48
#define SV57   MMU_MODE_SV57
#define PU     RV_PRIV_U
#define PS     RV_PRIV_S
#define PM     RV_PRIV_M
#define RD     MMU_READ
#define WR     MMU_WRITE
#define EX     MMU_FETCH

typedef struct directed {
    const char *name;
    mmu_paging_mode mode;
    uint8_t priv;
    mmu_access acc;
    uint64_t mstatus;
    unsigned level; /* leaf level */
    uint64_t leaf;  /* leaf flags incl. bits 63:54 */
    bool misaligned, outside;
    uint64_t root_bits; /* extra bits in the root (non-leaf) entry */
    bool root_outside;  /* root entry points outside RAM */
    out_kind want;      /* the model's outcome */
    dev_cat cat;        /* DEV_NONE: Unicorn must agree exactly */
} directed;

/* One row per line (wider than 80 columns): a table reads best as one. */
/* clang-format off */
static const directed directed_cases[] = {
    {"sv39_4k_load_sets_a", SV39, PS, RD, 0, 0, LV|LR, false, false, 0, false, OUT_OK, DEV_NONE},
    {"sv39_4k_store_sets_a_and_d", SV39, PS, WR, 0, 0, LV|LR|LW, false, false, 0, false, OUT_OK, DEV_NONE},
    {"sv39_4k_user_fetch", SV39, PU, EX, 0, 0, LV|LX|LU, false, false, 0, false, OUT_OK, DEV_NONE},
    {"sv39_2m_load", SV39, PS, RD, 0, 1, LV|LR|LA, false, false, 0, false, OUT_OK, DEV_NONE},
    {"sv39_1g_store", SV39, PU, WR, 0, 2, LV|LR|LW|LU, false, false, 0, false, OUT_OK, DEV_NONE},
    {"sv48_512g_fetch", SV48, PS, EX, 0, 3, LV|LX|LA, false, false, 0, false, OUT_OK, DEV_NONE},
    {"sv57_256t_load", SV57, PU, RD, 0, 4, LV|LR|LU, false, false, 0, false, OUT_OK, DEV_NONE},
    {"sv39_2m_misaligned_faults", SV39, PS, RD, 0, 1, LV|LR, true, false, 0, false, OUT_FAULT, DEV_NONE},
    {"sv48_1g_misaligned_faults", SV48, PS, WR, 0, 2, LV|LR|LW, true, false, 0, false, OUT_FAULT, DEV_NONE},
    {"sv39_v0_leaf_faults", SV39, PS, RD, 0, 0, LR|LA, false, false, 0, false, OUT_FAULT, DEV_NONE},
    {"sv39_w_without_r_faults", SV39, PS, WR, 0, 0, LV|LW, false, false, 0, false, OUT_FAULT, DEV_NONE},
    {"sv39_wx_without_r_faults", SV39, PS, EX, 0, 0, LV|LW|LX, false, false, 0, false, OUT_FAULT, DEV_NONE},
    {"sv39_nonleaf_at_level0_faults", SV39, PS, RD, 0, 0, LV, false, false, 0, false, OUT_FAULT, DEV_NONE},
    {"sv39_s_load_u_page_without_sum_faults", SV39, PS, RD, 0, 0, LV|LR|LU, false, false, 0, false, OUT_FAULT, DEV_NONE},
    {"sv39_s_load_u_page_with_sum", SV39, PS, RD, SUM, 0, LV|LR|LU, false, false, 0, false, OUT_OK, DEV_NONE},
    {"sv39_s_fetch_u_page_with_sum_faults", SV39, PS, EX, SUM, 0, LV|LX|LU, false, false, 0, false, OUT_FAULT, DEV_NONE},
    {"sv39_u_load_s_page_faults", SV39, PU, RD, SUM, 0, LV|LR, false, false, 0, false, OUT_FAULT, DEV_NONE},
    {"sv39_load_x_only_with_mxr", SV39, PS, RD, MXR, 0, LV|LX, false, false, 0, false, OUT_OK, DEV_NONE},
    {"sv39_load_x_only_without_mxr_faults", SV39, PU, RD, 0, 0, LV|LX|LU, false, false, 0, false, OUT_FAULT, DEV_NONE},
    {"sv39_store_read_only_faults_no_ad", SV39, PS, WR, 0, 1, LV|LR|LX, false, false, 0, false, OUT_FAULT, DEV_NONE},
    {"sv39_mprv_mpp_u_store_u_page", SV39, PM, WR, MPRV_U, 0, LV|LR|LW|LU, false, false, 0, false, OUT_OK, DEV_NONE},
    {"sv39_mprv_mpp_s_load_u_page_faults", SV39, PM, RD, MPRV_S, 0, LV|LR|LU, false, false, 0, false, OUT_FAULT, DEV_NONE},
    {"sv48_mprv_mpp_s_sum_load_u_page", SV48, PM, RD, MPRV_S|SUM, 2, LV|LR|LU, false, false, 0, false, OUT_OK, DEV_NONE},
    {"sv39_leaf_outside_ram_unmapped", SV39, PS, RD, 0, 0, LV|LR, false, true, 0, false, OUT_UNMAPPED, DEV_NONE},
    {"sv48_2m_outside_ram_store_unmapped", SV48, PS, WR, 0, 1, LV|LR|LW, false, true, 0, false, OUT_UNMAPPED, DEV_NONE},
    /* bit 60 becomes PA bit 62 of the next table in QEMU 5.0: outside
     * RAM, so it page-faults too and the outcomes agree */
    {"sv39_nonleaf_bit60_both_fault", SV39, PS, RD, 0, 0, LV|LR, false, false, UINT64_C(1) << 60, false, OUT_FAULT, DEV_NONE},
    {"sv32_4k_load", SV32, PS, RD, 0, 0, LV|LR, false, false, 0, false, OUT_OK, DEV_NONE},
    {"sv32_4m_user_store", SV32, PU, WR, 0, 1, LV|LR|LW|LU, false, false, 0, false, OUT_OK, DEV_NONE},
    {"sv32_4m_fetch_mxr_irrelevant", SV32, PS, EX, MXR, 1, LV|LX, false, false, 0, false, OUT_OK, DEV_NONE},
    {"sv32_4m_misaligned_faults", SV32, PS, RD, 0, 1, LV|LR, true, false, 0, false, OUT_FAULT, DEV_NONE},

    /* Unicorn (QEMU 5.0) deviations, each at the entry that triggers it */
    {"sv39_nonleaf_a_ignored_by_unicorn", SV39, PS, RD, 0, 0, LV|LR, false, false, RV_PTE_A, false, OUT_FAULT, DEV_NONLEAF_ADU},
    {"sv39_nonleaf_u_ignored_by_unicorn", SV39, PU, EX, 0, 1, LV|LX|LU, false, false, RV_PTE_U, false, OUT_FAULT, DEV_NONLEAF_ADU},
    {"sv48_nonleaf_d_ignored_by_unicorn", SV48, PS, WR, 0, 0, LV|LR|LW, false, false, RV_PTE_D, false, OUT_FAULT, DEV_NONLEAF_ADU},
    {"sv32_nonleaf_a_ignored_by_unicorn", SV32, PU, RD, 0, 0, LV|LR|LU, false, false, RV_PTE_A, false, OUT_FAULT, DEV_NONLEAF_ADU},
    {"sv39_leaf_bit54_folded_by_unicorn", SV39, PS, RD, 0, 0, LV|LR|(UINT64_C(1) << 54), false, false, 0, false, OUT_FAULT, DEV_RSVD_60_54},
    {"sv39_nonleaf_n_ignored_by_unicorn", SV39, PS, WR, 0, 0, LV|LR|LW, false, false, RV_PTE_N, false, OUT_FAULT, DEV_N_PBMT},
    {"sv39_leaf_n_without_svnapot", SV39, PS, RD, 0, 0, LV|LR|RV_PTE_N, false, false, 0, false, OUT_FAULT, DEV_N_PBMT},
    {"sv39_leaf_pbmt_io_without_svpbmt", SV39, PU, WR, 0, 0, LV|LR|LW|LU|(UINT64_C(2) << RV_PTE_PBMT_SHIFT), false, false, 0, false, OUT_FAULT, DEV_N_PBMT},
    {"sv39_leaf_pbmt_nc_folded_by_unicorn", SV39, PS, RD, 0, 1, LV|LR|(UINT64_C(1) << RV_PTE_PBMT_SHIFT), false, false, 0, false, OUT_FAULT, DEV_N_PBMT},
    {"sv39_table_outside_ram_page_fault_in_unicorn", SV39, PS, RD, 0, 0, LV|LR, false, false, 0, true, OUT_FAULT, DEV_PTE_ACCESS},
    {"sv48_table_outside_ram_fetch", SV48, PU, EX, 0, 1, LV|LX|LU, false, false, 0, true, OUT_FAULT, DEV_PTE_ACCESS},
    {"sv32_table_outside_ram_store", SV32, PS, WR, 0, 0, LV|LR|LW, false, false, 0, true, OUT_FAULT, DEV_PTE_ACCESS},
    /* the spec's PA is 34 bits: above 4 GiB is outside RAM here */
    {"sv32_leaf_above_4g_wraps_in_unicorn", SV32, PS, RD, 0, 0, LV|LR, false, true, 0, false, OUT_UNMAPPED, DEV_SV32_PA_WRAP},
    {"sv32_4m_above_4g_store_wraps_in_unicorn", SV32, PU, WR, 0, 1, LV|LR|LW|LU, false, true, 0, false, OUT_UNMAPPED, DEV_SV32_PA_WRAP},
};
/* clang-format on */

static void directed_to_case(const directed *d, unsigned idx, rv_case *c)
{
    rv_geom g = geom(d->mode);
    uint64_t s = idx + 1u, base, low;
    unsigned root = g.levels - 1u;

    memset(c, 0, sizeof *c);
    c->name = d->name;
    c->mode = d->mode;
    c->priv = d->priv;
    c->acc = d->acc;
    c->mstatus = d->mstatus;
    c->leaf_level = d->level;
    random_target(&s, &g, d->level, d->outside, &base, &low);
    uint64_t ppn = base >> 12;
    if (d->misaligned)
        ppn |= UINT64_C(1) << (g.idx_bits * d->level - 1u);
    c->leaf = (ppn << RV_PTE_PPN_SHIFT) | d->leaf;
    for (unsigned l = d->level + 1u; l <= root; l++)
        c->nonleaf[l] = RV_PTE_V;
    c->nonleaf[root] |= d->root_bits;
    c->next[root] = d->root_outside ? TBL_OUTSIDE : TBL_NEXT;
    c->va = random_va(&s, &g, d->level, low);
}

/* Run the rows of one XLEN on one engine. @return rows that went wrong. */
static unsigned directed_xlen(unsigned xlen, unsigned *rows)
{
    unsigned n = sizeof directed_cases / sizeof directed_cases[0], bad = 0;
    diff_run r;

    run_open(&r, xlen == 32 ? SV32 : SV39, 0);
    for (unsigned i = 0; i < n; i++) {
        const directed *d = &directed_cases[i];
        rv_case c;
        out_kind k = OUT_OK;
        if (geom(d->mode).xlen != xlen)
            continue;
        directed_to_case(d, i, &c);
        dev_cat got = run_case(&r, &c, i, false, &k);
        (*rows)++;
        if (got != d->cat || k != d->want) {
            fprintf(stderr, "  %s: want %s/%s, got %s/%s\n", d->name,
                    kind_name(d->want), dev_names[d->cat], kind_name(k),
                    got == DEV_COUNT ? "FAILED" : dev_names[got]);
            bad++;
        }
    }
    run_close(&r);
    return bad;
}

static void directed_vs_unicorn(void **state)
{
    unsigned rows = 0, bad;
    (void)state;
    bad = directed_xlen(64, &rows) + directed_xlen(32, &rows);
    printf("[diff_rv_unicorn] directed: %u cases, %u wrong\n", rows, bad);
    if (bad)
        fail_msg("%u directed cases went wrong", bad);
}

static void sv32_random_vs_unicorn(void **state)
{
    (void)state;
    diff_mode(MMU_MODE_SV32);
}

static void sv39_random_vs_unicorn(void **state)
{
    (void)state;
    diff_mode(MMU_MODE_SV39);
}

static void sv48_random_vs_unicorn(void **state)
{
    (void)state;
    diff_mode(MMU_MODE_SV48);
}

static void sv57_random_vs_unicorn(void **state)
{
    (void)state;
    diff_mode(MMU_MODE_SV57);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(directed_vs_unicorn),
        cmocka_unit_test(sv39_random_vs_unicorn),
        cmocka_unit_test(sv48_random_vs_unicorn),
        cmocka_unit_test(sv57_random_vs_unicorn),
        cmocka_unit_test(sv32_random_vs_unicorn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
