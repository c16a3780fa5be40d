/*
 * slice.c - a time slice measured in guest instructions, for a scheduler
 * that runs several guest programs on one vCPU (mmu_glue_set_slice).
 *
 * Unicorn's own instruction count (uc_emu_start's count) instruments every
 * instruction and costs 4x (RISC-V) to 20x (x86) here; a block hook costs
 * one call per translated block executed. So the slice is counted per
 * block: each block's instructions are counted once (RISC-V from the
 * length bits, x86 with Capstone, from the code read through a private,
 * side-effect-free walk: no TLB entry, no A/D write) and cached by (VA,
 * size) in a 2-way cache of 64K entries (a 4K direct-mapped one missed 4%
 * of the blocks of `seq | tail` and made it 9x slower); the run stops at the first block boundary after the slice ran
 * out, as QEMU's icount stops at translation-block boundaries. The hook is
 * installed at the first call and Unicorn's translated code is dropped
 * then, so that every block is counted; until then nothing is paid.
 */
#include "glue_internal.h"

#include <capstone/capstone.h>
#include <stdlib.h>
#include <string.h>

#define SLICE_CACHE    65536u /* 2-way (va, size) -> instructions */
#define SLICE_MAX_CODE 4096u /* a block never spans more than this */
#define SLICE_PAGE     UINT64_C(4096)

typedef struct slice_entry {
    uint64_t va;
    uint32_t size, insns;
} slice_entry;

struct glue_slice {
    uc_hook hook;
    uint64_t left;    /* instructions still to run; 0: no slice */
    bool expired;     /* the run loop stops with MMU_GLUE_STOP_SLICE */
    uint64_t counted; /* instructions counted since installed */
    csh cs;
    bool have_cs;
    slice_entry cache[SLICE_CACHE];
};

/* The code of a block through a copy of the vCPU's paging state: a fetch
 * walk with no TLB and no A/D write. @return bytes read (a prefix). */
static size_t read_code(mmu_glue *g, uint64_t va, uint8_t *buf, size_t len)
{
    g->arch->sync_state(g);
    mmu_ctx probe = {.mem = g->mmu.mem, .st = g->mmu.st};
    uint8_t priv = g->arch->priv(g);
    size_t done = 0;
    while (done < len) {
        uint64_t at = va + done;
        size_t n = (size_t)(SLICE_PAGE - (at & (SLICE_PAGE - 1)));
        if (n > len - done)
            n = len - done;
        mmu_req rq = {
            .va = at, .access = MMU_FETCH, .priv = priv, .flags = MMU_REQ_NO_AD};
        mmu_result res;
        mmu_fault flt;
        const uint8_t *src = NULL;
        if (mmu_walk_translate(&probe, &rq, &res, &flt))
            src = mmu_phys_ptr(probe.mem, res.pa, n);
        if (src == NULL)
            break;
        memcpy(buf + done, src, n);
        done += n;
    }
    return done;
}

static uint32_t count_rv(const uint8_t *code, size_t len)
{
    uint32_t n = 0;
    for (size_t i = 0; i + 2 <= len; n++)
        i += (code[i] & 3) == 3 ? 4 : 2;
    return n;
}

static uint32_t count_x86(glue_slice *s, const uint8_t *code, size_t len,
                          uint64_t va)
{
    if (!s->have_cs)
        return 0;
    const uint8_t *p = code;
    size_t left = len;
    uint64_t addr = va;
    cs_insn *insn = cs_malloc(s->cs);
    if (insn == NULL)
        return 0;
    uint32_t n = 0;
    while (left > 0 && cs_disasm_iter(s->cs, &p, &left, &addr, insn))
        n++;
    cs_free(insn, 1);
    return n;
}

/* Instructions in the block [va, va + size). */
static uint32_t block_insns(mmu_glue *g, uint64_t va, uint32_t size)
{
    glue_slice *s = g->slice;
    uint64_t h = (va ^ ((uint64_t)size << 48)) * UINT64_C(0x9e3779b97f4a7c15);
    slice_entry *set = &s->cache[(h >> 40) % (SLICE_CACHE / 2) * 2];
    for (unsigned w = 0; w < 2; w++)
        if (set[w].va == va && set[w].size == size && set[w].insns != 0) {
            if (w == 1) { /* most recent first */
                slice_entry t = set[0];
                set[0] = set[1];
                set[1] = t;
            }
            return set[0].insns;
        }
    set[1] = set[0]; /* the older one goes */
    uint8_t code[SLICE_MAX_CODE];
    size_t len = size < SLICE_MAX_CODE ? size : SLICE_MAX_CODE;
    size_t got = read_code(g, va, code, len);
    bool rv = g->cfg.isa == MMU_GLUE_RV64 || g->cfg.isa == MMU_GLUE_RV32;
    uint32_t n = rv ? count_rv(code, got) : count_x86(s, code, got, va);
    if (n == 0)
        n = size / 4 + 1; /* unreadable or undecodable: an estimate */
    set[0] = (slice_entry){va, size, n};
    return n;
}

static void block_hook(uc_engine *uc, uint64_t address, uint32_t size,
                       void *arg)
{
    mmu_glue *g = arg;
    glue_slice *s = g->slice;
    if (s->left == 0 || s->expired)
        return;
    uint32_t n = block_insns(g, address, size);
    s->counted += n;
    if (n < s->left) {
        s->left -= n;
        return;
    }
    s->left = 0;
    s->expired = true;
    uc_emu_stop(uc); /* after this block */
}

static bool slice_install(mmu_glue *g)
{
    glue_slice *s = calloc(1, sizeof *s);
    if (s == NULL)
        return false;
    bool rv = g->cfg.isa == MMU_GLUE_RV64 || g->cfg.isa == MMU_GLUE_RV32;
    if (!rv) {
        cs_mode mode = g->cfg.isa == MMU_GLUE_X86_64 ? CS_MODE_64 : CS_MODE_32;
        s->have_cs = cs_open(CS_ARCH_X86, mode, &s->cs) == CS_ERR_OK;
    }
    if (uc_hook_add(g->uc, &s->hook, UC_HOOK_BLOCK,
                    (void *)(uintptr_t)block_hook, g, 1, 0) != UC_ERR_OK) {
        if (s->have_cs)
            cs_close(&s->cs);
        free(s);
        return false;
    }
    g->slice = s;
    uc_ctl_flush_tb(g->uc); /* blocks translated before count too */
    return true;
}

bool mmu_glue_set_slice(mmu_glue *g, uint64_t insns)
{
    if (g->slice == NULL) {
        if (insns == 0)
            return true;
        if (!slice_install(g))
            return false;
    }
    g->slice->left = insns;
    g->slice->expired = false;
    return true;
}

bool glue_slice_expired(const mmu_glue *g)
{
    return g->slice != NULL && g->slice->expired;
}

uint64_t mmu_glue_slice_counted(const mmu_glue *g)
{
    return g->slice != NULL ? g->slice->counted : 0;
}

void glue_slice_free(mmu_glue *g)
{
    glue_slice *s = g->slice;
    if (s == NULL)
        return;
    if (s->have_cs)
        cs_close(&s->cs);
    free(s);
    g->slice = NULL;
}
