/*
 * translate_tlb.c - the TLB side of `mmuemu translate`: --tlb PRESET|off,
 * --invlpg all-pcids|current-pcid, the invalidation ops and the --stats
 * line.
 *
 *   invlpg VA                  INVLPG (SDM vol. 3A 4.10.4.1)
 *   invpcid TYPE PCID VA       INVPCID types 0-3; #GP is a result line
 *   sfence.vma [VA|x0 [ASID|x0]]  SFENCE.VMA rs1, rs2 (privileged spec,
 *                              "Supervisor Memory-Management Fence")
 *
 * What each one invalidates is the model's (mmu_x86_invlpg(),
 * mmu_x86_invpcid(), mmu_rv_sfence_vma() in include/mmuemu/tlb.h); this
 * file only parses, runs and reports. SFENCE.VMA's operands are
 * registers: `x0` is the register x0 (the operand is absent, the fence is
 * not limited by it); a number is a register holding that value, so
 * `sfence.vma 0 x0` fences the page at VA 0 only.
 * Not modelled: CPL / privilege checks of these instructions (they run as
 * if at CPL 0 or in S-mode), mstatus.TVM.
 */
#include "translate.h"

#include "json.h"
#include "mmuemu/tlb.h"

#include <stdio.h>
#include <string.h>

/* ---- --tlb ------------------------------------------------------------ */

/* "generic, skylake, u54, gem5" */
static void preset_list(char *out, size_t len)
{
    const char *const *names = mmu_tlb_preset_names();
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; names[i] != NULL && n < len; i++) {
        int w = snprintf(out + n, len - n, "%s%s", i ? ", " : "", names[i]);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

/* --invlpg all-pcids|current-pcid (NULL: the preset's, all-pcids). */
static bool parse_invlpg(const char *name, mmu_invlpg_scope *scope)
{
    if (strcmp(name, "all-pcids") == 0)
        *scope = MMU_INVLPG_ALL_PCIDS;
    else if (strcmp(name, "current-pcid") == 0)
        *scope = MMU_INVLPG_CURRENT_PCID;
    else
        return false;
    return true;
}

bool tr_tlb_setup(tr_session *s, const char *preset, const char *invlpg)
{
    if (preset == NULL || strcmp(preset, "off") == 0) {
        if (invlpg != NULL) {
            cli_error(TR_CMD, "--invlpg needs a TLB (--tlb PRESET)");
            return false;
        }
        return true;
    }
    const mmu_tlb_config *preset_cfg = mmu_tlb_preset(preset);
    if (preset_cfg == NULL) {
        char list[256];
        preset_list(list, sizeof list);
        cli_error(TR_CMD, "--tlb: unknown preset '%s' (want %s or off)",
                  preset, list);
        return false;
    }
    mmu_tlb_config cfg = *preset_cfg;
    if (invlpg != NULL && !parse_invlpg(invlpg, &cfg.invlpg)) {
        cli_error(TR_CMD,
                  "--invlpg: unknown scope '%s' (want all-pcids or "
                  "current-pcid)",
                  invlpg);
        return false;
    }
    s->m.tlb = mmu_tlb_new(&cfg);
    if (s->m.tlb == NULL) {
        cli_error(TR_CMD, "--tlb %s: cannot build the TLB (out of memory)",
                  preset);
        return false;
    }
    return true;
}

void tr_tlb_free(tr_session *s)
{
    mmu_tlb_free(s->m.tlb);
    s->m.tlb = NULL;
}

/* ---- was an access served by the TLB? --------------------------------- */

static uint64_t tlb_hits(const struct mmu_tlb *t)
{
    if (t == NULL)
        return 0;
    return mmu_tlb_get_stats(t, MMU_TLB_ITLB)->hits +
           mmu_tlb_get_stats(t, MMU_TLB_DTLB)->hits +
           mmu_tlb_get_stats(t, MMU_TLB_STLB)->hits;
}

void tr_tlb_probe_begin(const tr_session *s, tr_tlb_probe *p)
{
    p->walks = s->m.stats.walks;
    p->hits = tlb_hits(s->m.tlb);
}

bool tr_tlb_probe_hit(const tr_session *s, const tr_tlb_probe *p, bool ok,
                      const mmu_result *res)
{
    if (ok)
        return res->tlb_hit;
    /* mmu_fault does not say where it came from. A fault raised from a
     * cached entry (rights re-judged at the hit, possibly stale) counted
     * a hit and started no walk; a write through an entry whose D is not
     * known set counts a hit too, but then walks, and the walk decides. */
    return s->m.stats.walks == p->walks && tlb_hits(s->m.tlb) != p->hits;
}

/* ---- invlpg VA ---------------------------------------------------------- */

static bool parse_va(const tr_session *s, const char *tok, uint64_t *va,
                     char err[TR_ERR_MAX])
{
    if (!cli_parse_u64(tok, va))
        return tr_fail(err, "bad virtual address '%s'", tok);
    if (!tr_va_fits(s, *va))
        return tr_fail(err, "virtual address %s does not fit 32 bits", tok);
    return true;
}

bool tr_parse_invlpg(const tr_session *s, const tr_op_def *d, char **tok,
                     unsigned ntok, tr_op *op, char err[TR_ERR_MAX])
{
    if (ntok != 2)
        return tr_fail(err, "usage: %s VA", d->name);
    return parse_va(s, tok[1], &op->addr, err);
}

void tr_exec_invlpg(tr_session *s, const tr_op *op)
{
    mmu_x86_invlpg(&s->m, op->addr);
}

/* ---- invpcid TYPE PCID VA ----------------------------------------------- */

/* TYPE is the register operand, PCID and VA the descriptor's two
 * quadwords (PCID in bits 11:0, bits 63:12 must be zero: #GP otherwise);
 * all three are checked by the instruction, so any number parses. */
bool tr_parse_invpcid(const tr_session *s, const tr_op_def *d, char **tok,
                      unsigned ntok, tr_op *op, char err[TR_ERR_MAX])
{
    (void)s;
    if (ntok != 4)
        return tr_fail(err, "usage: %s TYPE PCID VA", d->name);
    if (!cli_parse_u64(tok[1], &op->value))
        return tr_fail(err, "bad INVPCID type '%s'", tok[1]);
    if (!cli_parse_u64(tok[2], &op->pcid))
        return tr_fail(err, "bad PCID '%s'", tok[2]);
    if (!cli_parse_u64(tok[3], &op->addr))
        return tr_fail(err, "bad virtual address '%s'", tok[3]);
    return true;
}

void tr_exec_invpcid(tr_session *s, const tr_op *op)
{
    mmu_fault flt;
    memset(&flt, 0, sizeof flt);
    /* Any type above 3 is #GP; keep it above 3 in an unsigned. */
    unsigned type = op->value > 3 ? 4u : (unsigned)op->value;
    if (mmu_x86_invpcid(&s->m, type, op->pcid, op->addr, &flt))
        return;
    json_line j; /* the model's only INVPCID fault is #GP(0) */
    json_begin(&j, stdout);
    json_str(&j, "op", op->def->name);
    json_bool(&j, "ok", false);
    json_str(&j, "vector", "GP");
    json_uint(&j, "error_code", 0);
    json_end(&j);
}

/* ---- sfence.vma [VA|x0 [ASID|x0]] --------------------------------------- */

/* One register operand: x0, or a register holding the number given. */
static bool parse_rs(const tr_session *s, const char *tok, const char *what,
                     bool *has, uint64_t *v, char err[TR_ERR_MAX])
{
    *has = false;
    *v = 0;
    if (tok == NULL || strcmp(tok, "x0") == 0)
        return true;
    if (!cli_parse_u64(tok, v))
        return tr_fail(err, "bad %s '%s' (want a number or x0)", what, tok);
    if (!tr_va_fits(s, *v))
        return tr_fail(err, "%s %s does not fit the 32-bit register", what,
                       tok);
    *has = true;
    return true;
}

bool tr_parse_sfence_vma(const tr_session *s, const tr_op_def *d,
                         char **tok, unsigned ntok, tr_op *op,
                         char err[TR_ERR_MAX])
{
    /* As in assembly, omitted operands are x0. */
    if (ntok > 3)
        return tr_fail(err, "usage: %s [VA|x0 [ASID|x0]]", d->name);
    return parse_rs(s, ntok > 1 ? tok[1] : NULL, "virtual address",
                    &op->has_va, &op->addr, err) &&
           parse_rs(s, ntok > 2 ? tok[2] : NULL, "ASID", &op->has_asid,
                    &op->value, err);
}

void tr_exec_sfence_vma(tr_session *s, const tr_op *op)
{
    mmu_rv_sfence_vma(&s->m, op->has_va, op->addr, op->has_asid, op->value);
}

/* ---- --stats ------------------------------------------------------------ */

static const struct {
    const char *key;
    unsigned which; /* MMU_TLB_ITLB ... MMU_TLB_PWC */
} structs[] = {{"itlb", MMU_TLB_ITLB},
               {"dtlb", MMU_TLB_DTLB},
               {"stlb", MMU_TLB_STLB},
               {"pwc", MMU_TLB_PWC}};

static bool arrays_present(const mmu_tlb_array_cfg *a)
{
    for (unsigned i = 0; i < MMU_TLB_MAX_ARRAYS; i++)
        if (a[i].entries != 0)
            return true;
    return false;
}

static bool present(const mmu_tlb_config *c, unsigned which)
{
    if (which == MMU_TLB_ITLB)
        return arrays_present(c->itlb);
    if (which == MMU_TLB_DTLB)
        return arrays_present(c->dtlb);
    if (which == MMU_TLB_STLB)
        return arrays_present(c->stlb);
    return c->pwc_entries != 0;
}

static void put_struct(json_line *j, const char *key, const mmu_tlb_stats *st)
{
    json_open(j, key);
    json_uint(j, "lookups", st->lookups);
    json_uint(j, "hits", st->hits);
    json_uint(j, "misses", st->misses);
    json_uint(j, "fills", st->fills);
    json_uint(j, "evictions", st->evictions);
    json_uint(j, "flushes", st->flushes);
    json_uint(j, "invalidated", st->invalidated);
    json_close(j);
}

void tr_print_stats(const tr_session *s)
{
    const struct mmu_tlb *t = s->m.tlb;
    const mmu_walk_stats *w = &s->m.stats;
    json_line j;
    json_begin(&j, stdout);
    json_open(&j, "stats");
    if (t != NULL) {
        const mmu_tlb_config *c = mmu_tlb_get_config(t);
        json_str(&j, "tlb", c->name);
        for (size_t i = 0; i < sizeof structs / sizeof structs[0]; i++)
            if (present(c, structs[i].which))
                put_struct(&j, structs[i].key,
                           mmu_tlb_get_stats(t, structs[i].which));
    }
    json_uint(&j, "walks", w->walks);
    json_uint(&j, "walk_reads", w->walk_reads);
    json_uint(&j, "ad_writes", w->ad_writes);
    json_uint(&j, "faults", w->faults);
    json_close(&j);
    json_end(&j);
}
