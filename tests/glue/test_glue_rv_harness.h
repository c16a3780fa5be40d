/*
 * test_glue_rv_harness.h - a small RISC-V machine for the glue tests:
 * guest RAM at 0x80000000, page tables built through the builder, guest
 * code as instruction words written into RAM, and a handler that records
 * every event and stops on a breakpoint at one of the "stop" addresses
 * (trap vectors hold EBREAK, so a delivered trap ends the run right
 * after its entry, with the trap CSRs as the entry left them).
 *
 * Encodings come from riscv64-unknown-elf-as (objdump -M no-aliases).
 */
#ifndef TEST_GLUE_RV_HARNESS_H
#define TEST_GLUE_RV_HARNESS_H

#include "testutil.h"

#include <string.h>

#include "mmuemu/glue.h"
#include "mmuemu/tlb.h"

/* ---- encodings ---------------------------------------------------------- */
#define I_LD_A0_0_A1    UINT32_C(0x0005b503) /* ld a0,0(a1) */
#define I_LD_A0_4_A1    UINT32_C(0x0045b503) /* ld a0,4(a1) */
#define I_LD_A4_0_A1    UINT32_C(0x0005b703) /* ld a4,0(a1) */
#define I_LD_A5_0_A1    UINT32_C(0x0005b783) /* ld a5,0(a1) */
#define I_SD_A0_0_A1    UINT32_C(0x00a5b023) /* sd a0,0(a1) */
#define I_SD_A2_0_A3    UINT32_C(0x00c6b023) /* sd a2,0(a3) */
#define I_SW_A0_M4_A1   UINT32_C(0xfea5ae23) /* sw a0,-4(a1) */
#define I_LW_A0_0_A1    UINT32_C(0x0005a503) /* lw a0,0(a1) */
#define I_SW_A0_0_A1    UINT32_C(0x00a5a023) /* sw a0,0(a1) */
#define I_LBU_A0_3_A1   UINT32_C(0x0035c503) /* lbu a0,3(a1) */
#define I_SH_A0_6_A1    UINT32_C(0x00a59323) /* sh a0,6(a1) */
#define I_FLW_FA0_8_A1  UINT32_C(0x0085a507) /* flw fa0,8(a1) */
#define I_FSD_FA0_M8_A1 UINT32_C(0xfea5bc27) /* fsd fa0,-8(a1) */
#define I_AMOADD_D      UINT32_C(0x00c5b52f) /* amoadd.d a0,a2,(a1) */
#define I_LR_D          UINT32_C(0x1005b52f) /* lr.d a0,(a1) */
#define I_SC_D          UINT32_C(0x18c5b6af) /* sc.d a3,a2,(a1) */
#define I_ECALL         UINT32_C(0x00000073)
#define I_EBREAK        UINT32_C(0x00100073)
#define I_MRET          UINT32_C(0x30200073)
#define I_SRET          UINT32_C(0x10200073)
#define I_NOP           UINT32_C(0x00000013)
#define I_JR_A1         UINT32_C(0x00058067) /* jalr x0,0(a1) */
#define I_J_PLUS8       UINT32_C(0x0080006f) /* jal x0,+8 */
#define I_CSRW_MSCRATCH UINT32_C(0x34051073) /* csrw mscratch,a0 */
#define I_CSRW_SATP_A0  UINT32_C(0x18051073) /* csrw satp,a0 */
#define I_SFENCE_A1     UINT32_C(0x12058073) /* sfence.vma a1,x0 */
#define I_SFENCE_ALL    UINT32_C(0x12000073) /* sfence.vma x0,x0 */
#define I_SFENCE_X0_A2  UINT32_C(0x12c00073) /* sfence.vma x0,a2 */
#define I_SFENCE_A1_A2  UINT32_C(0x12c58073) /* sfence.vma a1,a2 */
#define I_CSRW_MENVCFG  UINT32_C(0x30a51073) /* csrw menvcfg,a0 */
#define I_CSRR_MENVCFG  UINT32_C(0x30a02573) /* csrr a0,menvcfg */
#define I_CSRS_MENVCFG  UINT32_C(0x30a52073) /* csrs menvcfg,a0 */
#define I_CSRR_SENVCFG  UINT32_C(0x10a02573) /* csrr a0,senvcfg */
#define I_CSRW_SENVCFG  UINT32_C(0x10a51073) /* csrw senvcfg,a0 */
/* RVC */
#define C_LD_A0_8_A1  UINT16_C(0x6588) /* c.ld a0,8(a1) */
#define C_SDSP_A0_16  UINT16_C(0xe82a) /* c.sdsp a0,16(sp) */
#define C_LW_A0_4_A1  UINT16_C(0x41c8) /* c.lw a0,4(a1) */
#define C_LWSP_A0_12  UINT16_C(0x4532) /* c.lwsp a0,12(sp) */
#define C_LDSP_A0_24  UINT16_C(0x6562) /* c.ldsp a0,24(sp) */
#define C_SWSP_A0_20  UINT16_C(0xca2a) /* c.swsp a0,20(sp) */
#define C_SD_A0_16_A1 UINT16_C(0xe988) /* c.sd a0,16(a1) */
#define C_SW_A0_8_A1  UINT16_C(0xc588) /* c.sw a0,8(a1) */
#define C_EBREAK      UINT16_C(0x9002)
#define C_NOP         UINT16_C(0x0001)
#define C_LI_A0_7     UINT16_C(0x451d) /* c.li a0,7 */
#define C_ILLEGAL     UINT16_C(0x0000) /* defined illegal */

/* ---- layout ------------------------------------------------------------- */
#define RVH_RAM_BASE UINT64_C(0x80000000)
#define RVH_RAM_SIZE (UINT64_C(4) << 20)
#define RVH_PT_BASE  (RVH_RAM_BASE + (UINT64_C(2) << 20)) /* table frames */
#define RVH_PT_END   (RVH_RAM_BASE + RVH_RAM_SIZE)

/* S/U virtual layout used by most tests (Sv39; Sv32 uses the same VAs). */
#define VA_SCODE UINT64_C(0x10000) /* S code, R X */
#define VA_UCODE UINT64_C(0x20000) /* U code, R X U */
#define VA_DATA  UINT64_C(0x30000) /* S data, R W (A D) */
#define VA_HOLE  UINT64_C(0x31000) /* never mapped */
#define VA_DATA2 UINT64_C(0x32000) /* S data, R W (A D) */
#define VA_UDATA UINT64_C(0x33000) /* U data, R W U (A D) */
#define VA_STVEC UINT64_C(0x40000) /* S trap vector: EBREAK */
#define VA_PTWIN UINT64_C(0x50000) /* window on a level-0 table */
#define PA_SCODE (RVH_RAM_BASE + 0x1000)
#define PA_UCODE (RVH_RAM_BASE + 0x2000)
#define PA_DATA  (RVH_RAM_BASE + 0x3000)
#define PA_DATA2 (RVH_RAM_BASE + 0x4000)
#define PA_UDATA (RVH_RAM_BASE + 0x5000)
#define PA_STVEC (RVH_RAM_BASE + 0x6000)
#define PA_MTVEC (RVH_RAM_BASE + 0x7000) /* M trap vector (bare): EBREAK */
#define PA_MCODE (RVH_RAM_BASE + 0x8000) /* M-mode code (bare) */
#define PA_SPARE (RVH_RAM_BASE + 0x9000)

#define RVH_MAX_EVENTS 32
#define RVH_BUDGET     100000 /* instructions per run: a runaway is a failure */

typedef struct rvh rvh;
typedef mmu_glue_action (*rvh_policy)(rvh *h, const mmu_glue_event *ev);

struct rvh {
    mmu_glue *g;
    uc_engine *uc;
    mmu_phys *mem;
    mmu_bump_alloc alloc;
    mmu_pt pt;
    bool rv32;
    mmu_glue_event ev[RVH_MAX_EVENTS];
    unsigned nev;
    uint64_t stop_at[16]; /* breakpoints here stop the run */
    unsigned nstop;
    rvh_policy policy; /* NULL: stop at stop_at, deliver the rest */
    void *arg;
};

static inline uint64_t rvh_reg(rvh *h, int reg)
{
    uint64_t v = 0;
    uc_reg_read(h->uc, reg, &v);
    return h->rv32 ? v & UINT64_C(0xffffffff) : v;
}

static inline void rvh_set_reg(rvh *h, int reg, uint64_t v)
{
    uc_reg_write(h->uc, reg, &v);
}

/* CSRs: Unicorn applies the current privilege; switch to M around it. */
static inline uint64_t rvh_csr(rvh *h, int reg)
{
    uint64_t p = rvh_reg(h, UC_RISCV_REG_PRIV);
    rvh_set_reg(h, UC_RISCV_REG_PRIV, RV_PRIV_M);
    uint64_t v = rvh_reg(h, reg);
    rvh_set_reg(h, UC_RISCV_REG_PRIV, p);
    return v;
}

static inline void rvh_set_csr(rvh *h, int reg, uint64_t v)
{
    uint64_t p = rvh_reg(h, UC_RISCV_REG_PRIV);
    rvh_set_reg(h, UC_RISCV_REG_PRIV, RV_PRIV_M);
    rvh_set_reg(h, reg, v);
    rvh_set_reg(h, UC_RISCV_REG_PRIV, p);
}

static inline void rvh_put32(rvh *h, uint64_t pa, uint32_t insn)
{
    assert_true(mmu_phys_write32(h->mem, pa, insn));
}

static inline void rvh_put16(rvh *h, uint64_t pa, uint16_t insn)
{
    uint8_t b[2] = {(uint8_t)insn, (uint8_t)(insn >> 8)};
    assert_true(mmu_phys_write(h->mem, pa, b, 2));
}

static inline void rvh_code(rvh *h, uint64_t pa, const uint32_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rvh_put32(h, pa + 4 * i, w[i]);
}

static inline void rvh_map(rvh *h, uint64_t va, uint64_t pa, uint64_t flags)
{
    assert_int_equal(
        mmu_pt_map(&h->pt, va, pa, 4096, 4096, flags | RV_PTE_V, RV_PTE_V),
        MMU_PT_OK);
}

/* A breakpoint at pc stops the run. */
static inline void rvh_stop_at(rvh *h, uint64_t pc)
{
    assert_true(h->nstop < sizeof h->stop_at / sizeof h->stop_at[0]);
    h->stop_at[h->nstop++] = pc;
}

static inline bool rvh_is_stop(const rvh *h, const mmu_glue_event *ev)
{
    if (ev->source != MMU_GLUE_FROM_CPU || ev->fault.code != 3)
        return false;
    for (unsigned i = 0; i < h->nstop; i++)
        if (h->stop_at[i] == ev->pc)
            return true;
    return false;
}

static inline mmu_glue_action rvh_handler(mmu_glue *g, const mmu_glue_event *ev,
                                          void *arg)
{
    rvh *h = arg;
    (void)g;
    if (h->nev < RVH_MAX_EVENTS)
        h->ev[h->nev++] = *ev;
    if (h->policy != NULL)
        return h->policy(h, ev);
    return rvh_is_stop(h, ev) ? MMU_GLUE_STOP : MMU_GLUE_DELIVER;
}

#define RVH_RWAD (RV_PTE_R | RV_PTE_W | RV_PTE_A | RV_PTE_D)
#define RVH_RXA  (RV_PTE_R | RV_PTE_X | RV_PTE_A)

/*
 * A machine with the standard layout mapped (when mode is not NONE), the
 * trap vectors holding EBREAK and registered as stop addresses, mtvec and
 * stvec pointing at them, medeleg = 0, the vCPU in M-mode.
 */
static inline void rvh_init(rvh *h, mmu_glue_isa isa, mmu_paging_mode mode,
                            const mmu_tlb_config *tlb, uint32_t ext)
{
    memset(h, 0, sizeof *h);
    mmu_glue_config cfg = {.isa = isa,
                           .ram_base = RVH_RAM_BASE,
                           .ram_size = RVH_RAM_SIZE,
                           .tlb = tlb,
                           .cpu_model = -1,
                           .rv_ext = ext};
    char err[200] = "";
    h->g = mmu_glue_new(&cfg, err, sizeof err);
    if (h->g == NULL)
        fail_msg("mmu_glue_new: %s", err);
    h->rv32 = isa == MMU_GLUE_RV32;
    h->uc = mmu_glue_uc(h->g);
    h->mem = mmu_glue_mem(h->g);
    mmu_glue_set_handler(h->g, rvh_handler, h);
    h->alloc =
        (mmu_bump_alloc){.mem = h->mem, .next = RVH_PT_BASE, .end = RVH_PT_END};
    rvh_put32(h, PA_STVEC, I_EBREAK);
    rvh_put32(h, PA_MTVEC, I_EBREAK);
    rvh_set_csr(h, UC_RISCV_REG_MTVEC, PA_MTVEC);
    rvh_set_csr(h, UC_RISCV_REG_STVEC, VA_STVEC);
    rvh_stop_at(h, PA_MTVEC);
    rvh_stop_at(h, VA_STVEC);
    if (mode == MMU_MODE_NONE)
        return;
    assert_int_equal(
        mmu_pt_init(&h->pt, h->mem, mode, mmu_bump_alloc_frame, &h->alloc),
        MMU_PT_OK);
    rvh_map(h, VA_SCODE, PA_SCODE, RVH_RXA);
    rvh_map(h, VA_UCODE, PA_UCODE, RVH_RXA | RV_PTE_U);
    rvh_map(h, VA_DATA, PA_DATA, RVH_RWAD);
    rvh_map(h, VA_DATA2, PA_DATA2, RVH_RWAD);
    rvh_map(h, VA_UDATA, PA_UDATA, RVH_RWAD | RV_PTE_U);
    rvh_map(h, VA_STVEC, PA_STVEC, RVH_RXA);
    rvh_set_csr(h, UC_RISCV_REG_SATP, mmu_pt_root_reg(&h->pt));
}

static inline void rvh_free(rvh *h)
{
    mmu_glue_free(h->g);
    h->g = NULL;
}

static inline void rvh_priv(rvh *h, uint8_t priv)
{
    rvh_set_reg(h, UC_RISCV_REG_PRIV, priv);
}

/* Run from pc; the result must be a handler stop. */
static inline void rvh_run(rvh *h, uint64_t pc, mmu_glue_result *res)
{
    mmu_glue_run(h->g, pc, RVH_BUDGET, res);
}

static inline void rvh_run_to_stop(rvh *h, uint64_t pc)
{
    mmu_glue_result res;
    rvh_run(h, pc, &res);
    if (res.stop != MMU_GLUE_STOP_HANDLER)
        fail_msg("run from 0x%llx ended with stop %d (err %d), %u events",
                 (unsigned long long)pc, (int)res.stop, (int)res.err, h->nev);
}

/* The i-th recorded event must be this cause at this pc. */
static inline void rvh_expect(rvh *h, unsigned i, mmu_glue_source src,
                              uint32_t cause, uint64_t pc, uint64_t tval)
{
    if (i >= h->nev)
        fail_msg("event %u: only %u recorded", i, h->nev);
    const mmu_glue_event *ev = &h->ev[i];
    TU_EQ_HEX("event source", ev->source, src);
    TU_EQ_HEX("event cause", ev->fault.code, cause);
    TU_EQ_HEX("event pc", ev->pc, pc);
    TU_EQ_HEX("event tval", ev->fault.addr, tval);
    assert_true(ev->addr_exact);
}

#endif
