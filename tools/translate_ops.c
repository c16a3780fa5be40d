/*
 * translate_ops.c - the ops of `mmuemu translate`: one table row each,
 * a parser that checks everything it can before anything runs, and an
 * executor that prints one JSON line per result.
 *
 *   r|w|x VA [CPL] [implicit] [stack]   (x86; CPL 0-3, default 0)
 *   r|w|x VA [u|s|m]                    (RISC-V; default --priv)
 *   poke PADDR VALUE [BYTES]            (BYTES 1, 2, 4 or 8; default 8)
 *   set REG VALUE
 *   mov-cr3 VALUE                       (x86; = set cr3 VALUE)
 *   invlpg VA, invpcid TYPE PCID VA     (x86; translate_tlb.c)
 *   sfence.vma [VA|x0 [ASID|x0]]        (RISC-V; translate_tlb.c)
 *
 * Adding an op is one row in `ops` below.
 */
#include "translate.h"

#include "cli.h"
#include "json.h"
#include "mmuemu/riscv_bits.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define U32_MAX UINT64_C(0xffffffff)

bool tr_fail(char err[TR_ERR_MAX], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, TR_ERR_MAX, fmt, ap);
    va_end(ap);
    return false;
}

/* ---- names ---------------------------------------------------------- */

static const char *const rv_priv_names[4] = {
    [RV_PRIV_U] = "u", [RV_PRIV_S] = "s", [2] = NULL, [RV_PRIV_M] = "m"};

static bool rv_priv_by_name(const char *name, uint8_t *priv)
{
    for (unsigned p = 0; p < 4; p++)
        if (rv_priv_names[p] != NULL && strcmp(rv_priv_names[p], name) == 0) {
            *priv = (uint8_t)p;
            return true;
        }
    return false;
}

/* "rwxu" with '-' for each permission the result lacks. */
static void perm_string(uint8_t perms, char out[5])
{
    out[0] = (perms & MMU_PERM_R) ? 'r' : '-';
    out[1] = (perms & MMU_PERM_W) ? 'w' : '-';
    out[2] = (perms & MMU_PERM_X) ? 'x' : '-';
    out[3] = (perms & MMU_PERM_U) ? 'u' : '-';
    out[4] = '\0';
}

/* ---- r / w / x ------------------------------------------------------ */

bool tr_va_fits(const tr_session *s, uint64_t va)
{
    return !(s->arch == TR_I386 || s->arch == TR_RV32) || va <= U32_MAX;
}

static bool parse_access_x86_word(const char *w, tr_op *op, bool *have_cpl,
                                  char err[TR_ERR_MAX])
{
    uint64_t cpl;
    if (strcmp(w, "implicit") == 0)
        op->flags |= MMU_REQ_IMPLICIT;
    else if (strcmp(w, "stack") == 0)
        op->flags |= MMU_REQ_STACK;
    else if (*have_cpl)
        return tr_fail(err, "unexpected '%s' after the CPL", w);
    else if (!cli_parse_max(w, 3, &cpl))
        return tr_fail(err, "bad CPL '%s' (want 0-3, implicit or stack)", w);
    else {
        op->priv = (uint8_t)cpl;
        *have_cpl = true;
    }
    return true;
}

static bool parse_access(const tr_session *s, const tr_op_def *d, char **tok,
                         unsigned ntok, tr_op *op, char err[TR_ERR_MAX])
{
    if (ntok < 2)
        return tr_fail(err, "'%s' needs a virtual address", d->name);
    if (!cli_parse_u64(tok[1], &op->addr))
        return tr_fail(err, "bad virtual address '%s'", tok[1]);
    if (!tr_va_fits(s, op->addr))
        return tr_fail(err, "virtual address %s does not fit 32 bits", tok[1]);
    op->priv = s->default_priv;
    if (tr_is_x86(s)) {
        bool have_cpl = false;
        for (unsigned i = 2; i < ntok; i++)
            if (!parse_access_x86_word(tok[i], op, &have_cpl, err))
                return false;
        return true;
    }
    if (ntok > 3)
        return tr_fail(err, "unexpected '%s' after the privilege", tok[3]);
    if (ntok == 3 && !rv_priv_by_name(tok[2], &op->priv))
        return tr_fail(err, "bad privilege '%s' (want u, s or m)", tok[2]);
    return true;
}

/* "tlb":"hit"/"miss" when a TLB is attached (tlb != NULL). */
static void put_tlb(json_line *j, const char *tlb)
{
    if (tlb != NULL)
        json_str(j, "tlb", tlb);
}

/* The fault's required keys, then "tlb", then the details. */
static void print_fault_x86(json_line *j, const mmu_fault *f, const char *tlb)
{
    json_bool(j, "ok", false);
    switch (f->kind) {
    case MMU_FAULT_PAGE:
        json_str(j, "vector", "PF");
        json_uint(j, "error_code", f->code);
        json_hex(j, "cr2", f->addr);
        break;
    case MMU_FAULT_GP:
    case MMU_FAULT_SS:
        json_str(j, "vector", f->kind == MMU_FAULT_GP ? "GP" : "SS");
        json_uint(j, "error_code", 0);
        break;
    case MMU_FAULT_NONE:
    case MMU_FAULT_ACCESS:
    case MMU_FAULT_BAD_PHYS:
        json_str(j, "vector", "none");
        json_str(j, "reason", mmu_fault_reason_name(f->reason));
        json_hex(j, "paddr", f->paddr);
        put_tlb(j, tlb);
        if (f->level >= 0)
            json_int(j, "level", f->level);
        return;
    }
    put_tlb(j, tlb);
    if (f->level >= 0)
        json_int(j, "level", f->level);
    json_str(j, "reason", mmu_fault_reason_name(f->reason));
}

static void print_fault_rv(json_line *j, const mmu_fault *f, const char *tlb)
{
    json_bool(j, "ok", false);
    switch (f->kind) {
    case MMU_FAULT_PAGE:
    case MMU_FAULT_ACCESS:
        json_uint(j, "cause", f->code);
        json_hex(j, "tval", f->addr);
        put_tlb(j, tlb);
        if (f->level >= 0)
            json_int(j, "level", f->level);
        json_str(j, "reason", mmu_fault_reason_name(f->reason));
        if (f->kind == MMU_FAULT_ACCESS)
            json_hex(j, "paddr", f->paddr);
        return;
    case MMU_FAULT_NONE:
    case MMU_FAULT_GP:
    case MMU_FAULT_SS:
    case MMU_FAULT_BAD_PHYS: /* not RISC-V faults: report, no cause */
        json_str(j, "vector", "none");
        json_str(j, "reason", mmu_fault_reason_name(f->reason));
        json_hex(j, "paddr", f->paddr);
        put_tlb(j, tlb);
        return;
    }
}

static void print_result(const tr_session *s, json_line *j,
                         const mmu_result *r, const char *tlb)
{
    char perms[5];
    perm_string(r->perms, perms);
    json_bool(j, "ok", true);
    json_hex(j, "pa", r->pa);
    json_uint(j, "page_size", r->page_size);
    put_tlb(j, tlb);
    json_uint(j, "level", r->level);
    json_str(j, "perms", perms);
    json_bool(j, "global", r->global);
    json_bool(j, "dirty", r->dirty);
    if (tr_is_x86(s))
        json_uint(j, "pkey", r->pkey);
    else
        json_uint(j, "pbmt", r->pbmt);
}

static void exec_access(tr_session *s, const tr_op *op)
{
    mmu_req req = {.va = op->addr,
                   .access = (mmu_access)op->def->arg,
                   .priv = op->priv,
                   .flags = op->flags};
    mmu_result res;
    mmu_fault flt;
    tr_tlb_probe probe;
    memset(&res, 0, sizeof res);
    memset(&flt, 0, sizeof flt);
    tr_tlb_probe_begin(s, &probe);
    bool ok = mmu_translate(&s->m, &req, &res, &flt);
    const char *tlb = NULL;
    if (s->m.tlb != NULL)
        tlb = tr_tlb_probe_hit(s, &probe, ok, &res) ? "hit" : "miss";

    json_line j;
    json_begin(&j, stdout);
    json_hex(&j, "va", op->addr);
    json_str(&j, "access", op->def->name);
    if (tr_is_x86(s))
        json_uint(&j, "cpl", op->priv);
    else
        json_str(&j, "priv", rv_priv_names[op->priv]);
    if (ok)
        print_result(s, &j, &res, tlb);
    else if (tr_is_x86(s))
        print_fault_x86(&j, &flt, tlb);
    else
        print_fault_rv(&j, &flt, tlb);
    if (op->flags & MMU_REQ_IMPLICIT)
        json_bool(&j, "implicit", true);
    if (op->flags & MMU_REQ_STACK)
        json_bool(&j, "stack", true);
    json_end(&j);
}

/* ---- poke ----------------------------------------------------------- */

static bool parse_poke(const tr_session *s, const tr_op_def *d, char **tok,
                       unsigned ntok, tr_op *op, char err[TR_ERR_MAX])
{
    (void)d;
    uint64_t bytes = 8;
    if (ntok < 3 || ntok > 4)
        return tr_fail(err, "usage: poke PADDR VALUE [BYTES]");
    if (!cli_parse_u64(tok[1], &op->addr))
        return tr_fail(err, "bad physical address '%s'", tok[1]);
    if (!cli_parse_u64(tok[2], &op->value))
        return tr_fail(err, "bad value '%s'", tok[2]);
    if (ntok == 4 && (!cli_parse_max(tok[3], 8, &bytes) ||
                      (bytes & (bytes - 1)) != 0 || bytes == 0))
        return tr_fail(err, "bad size '%s' (want 1, 2, 4 or 8)", tok[3]);
    op->bytes = (uint8_t)bytes;
    if (bytes < 8 && (op->value >> (8 * bytes)) != 0)
        return tr_fail(err, "value %s does not fit in %u byte%s", tok[2],
                       (unsigned)bytes, bytes == 1 ? "" : "s");
    if (!mmu_phys_contains(&s->mem, op->addr, bytes)) {
        unsigned long long first = s->mem.base;
        unsigned long long last = first + (s->mem.size - 1);
        return tr_fail(err,
                       "poke of %u byte%s at %s is outside guest RAM "
                       "[0x%llx, 0x%llx]",
                       (unsigned)bytes, bytes == 1 ? "" : "s", tok[1], first,
                       last);
    }
    return true;
}

static void exec_poke(tr_session *s, const tr_op *op)
{
    uint8_t le[8];
    for (unsigned i = 0; i < op->bytes; i++)
        le[i] = (uint8_t)(op->value >> (8 * i));
    /* In RAM: checked when the line was parsed. */
    (void)mmu_phys_write(&s->mem, op->addr, le, op->bytes);
}

/* ---- set ------------------------------------------------------------ */

static bool parse_set(const tr_session *s, const tr_op_def *d, char **tok,
                      unsigned ntok, tr_op *op, char err[TR_ERR_MAX])
{
    (void)d;
    if (ntok != 3)
        return tr_fail(err, "usage: set REG VALUE");
    op->reg = tr_reg_by_name(s, tok[1]);
    if (op->reg == TR_REG_COUNT)
        return tr_fail(err, "unknown register '%s' (want %s)", tok[1],
                       tr_is_x86(s) ? "cr0, cr3, cr4, efer, rflags or pkru"
                                    : "satp, mstatus or menvcfg");
    if (!cli_parse_u64(tok[2], &op->value))
        return tr_fail(err, "bad value '%s'", tok[2]);
    const char *why = tr_reg_check(s, op->reg, op->value, false);
    if (why != NULL)
        return tr_fail(err, "%s %s: %s", tok[1], tok[2], why);
    return true;
}

/* mov-cr3 VALUE: MOV CR3 (the same write as `set cr3 VALUE`). */
static bool parse_mov_cr3(const tr_session *s, const tr_op_def *d, char **tok,
                          unsigned ntok, tr_op *op, char err[TR_ERR_MAX])
{
    if (ntok != 2)
        return tr_fail(err, "usage: %s VALUE", d->name);
    op->reg = TR_CR3;
    if (!cli_parse_u64(tok[1], &op->value))
        return tr_fail(err, "bad value '%s'", tok[1]);
    const char *why = tr_reg_check(s, op->reg, op->value, false);
    if (why != NULL)
        return tr_fail(err, "cr3 %s: %s", tok[1], why);
    return true;
}

/* {"op":"set","reg":R,...} or {"op":"mov-cr3",...}: a write that did not
 * happen, and why. */
static void print_set_refused(const tr_op *op, tr_write w,
                              const mmu_fault *flt)
{
    json_line j;
    json_begin(&j, stdout);
    json_str(&j, "op", op->def->name);
    if (strcmp(op->def->name, "set") == 0) /* mov-cr3 names it already */
        json_str(&j, "reg", tr_reg_name(op->reg));
    json_bool(&j, "ok", false);
    if (w == TR_WRITE_IGNORED) {
        json_str(&j, "reason", "warl_unsupported_mode");
    } else if (flt->kind == MMU_FAULT_GP) {
        json_str(&j, "vector", "GP");
        json_uint(&j, "error_code", 0);
    } else {
        json_str(&j, "vector", "none");
        json_str(&j, "reason", mmu_fault_reason_name(flt->reason));
        json_hex(&j, "paddr", flt->paddr);
    }
    json_end(&j);
}

static void exec_set(tr_session *s, const tr_op *op)
{
    mmu_fault flt;
    memset(&flt, 0, sizeof flt);
    tr_write w = tr_reg_write(s, op->reg, op->value, &flt);
    if (w != TR_WRITE_DONE)
        print_set_refused(op, w, &flt);
}

/* ---- the table ------------------------------------------------------ */

static const tr_op_def ops[] = {
    {"r", TR_ON_ALL, MMU_READ, parse_access, exec_access},
    {"w", TR_ON_ALL, MMU_WRITE, parse_access, exec_access},
    {"x", TR_ON_ALL, MMU_FETCH, parse_access, exec_access},
    {"poke", TR_ON_ALL, 0, parse_poke, exec_poke},
    {"set", TR_ON_ALL, 0, parse_set, exec_set},
    {"mov-cr3", TR_ON_X86, 0, parse_mov_cr3, exec_set},
    {"invlpg", TR_ON_X86, 0, tr_parse_invlpg, tr_exec_invlpg},
    {"invpcid", TR_ON_X86, 0, tr_parse_invpcid, tr_exec_invpcid},
    {"sfence.vma", TR_ON_RV, 0, tr_parse_sfence_vma, tr_exec_sfence_vma},
};

#define N_OPS (sizeof ops / sizeof ops[0])

/* "r, w, x, poke or set": the ops of s's architecture. */
static void op_names(const tr_session *s, char *out, size_t len)
{
    size_t n = 0, left = 0, k = 0;
    for (size_t i = 0; i < N_OPS; i++)
        left += (ops[i].on & tr_arch_mask(s)) != 0;
    out[0] = '\0';
    for (size_t i = 0; i < N_OPS && n < len; i++) {
        if ((ops[i].on & tr_arch_mask(s)) == 0)
            continue;
        k++;
        int w = snprintf(out + n, len - n, "%s%s",
                         k == 1 ? "" : k == left ? " or " : ", ", ops[i].name);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

bool tr_op_parse(const tr_session *s, char **tok, unsigned ntok, tr_op *op,
                 char err[TR_ERR_MAX])
{
    for (size_t i = 0; i < N_OPS; i++) {
        if (strcmp(ops[i].name, tok[0]) != 0)
            continue;
        if ((ops[i].on & tr_arch_mask(s)) == 0)
            return tr_fail(err, "'%s' is %s", tok[0],
                           ops[i].on == TR_ON_X86
                               ? "an x86 op (--arch x86_64 or i386)"
                               : "a RISC-V op (--arch riscv64 or riscv32)");
        op->def = &ops[i];
        return ops[i].parse(s, &ops[i], tok, ntok, op, err);
    }
    char names[TR_ERR_MAX];
    op_names(s, names, sizeof names);
    return tr_fail(err, "unknown op '%s' (want %s)", tok[0], names);
}

void tr_op_exec(tr_session *s, const tr_op *op)
{
    op->def->exec(s, op);
}
