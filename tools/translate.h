/*
 * translate.h - inside `mmuemu translate`: the session (guest RAM and one
 * translation context kept across ops), the registers an ops file may set,
 * and the op table.
 *
 * translate.c parses the command line and runs the ops, translate_state.c
 * knows the registers and applies writes to them, translate_ops.c
 * parses and executes each op and prints its JSON line, translate_tlb.c
 * holds the TLB side: --tlb, the invalidation ops (invlpg, invpcid,
 * sfence.vma) and the --stats line.
 * Not modelled: segmentation, interrupts, CPL checks of privileged
 * instructions (every op runs as if at CPL 0 / S-mode).
 */
#ifndef MMUEMU_TOOLS_TRANSLATE_H
#define MMUEMU_TOOLS_TRANSLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "mmuemu/translate.h"

#define TR_CMD "translate" /* prefix of error messages */

typedef enum tr_arch {
    TR_X86_64,
    TR_I386,
    TR_RV64,
    TR_RV32,
} tr_arch;

/* Which architectures an op or register exists on. */
#define TR_ON_X86 (1u << 0)
#define TR_ON_RV  (1u << 1)
#define TR_ON_ALL (TR_ON_X86 | TR_ON_RV)

typedef struct tr_session {
    tr_arch arch;
    mmu_phys mem;         /* guest RAM, loaded from --mem */
    mmu_ctx m;            /* .mem = &mem, .tlb from --tlb (NULL: off);
                             the state the ops change */
    uint8_t default_priv; /* RISC-V: --priv (x86: CPL 0) */
} tr_session;

bool tr_is_x86(const tr_session *s);
unsigned tr_arch_mask(const tr_session *s); /* TR_ON_X86 or TR_ON_RV */

/* ---- registers (translate_state.c) --------------------------------- */

typedef enum tr_reg {
    TR_CR0,
    TR_CR3,
    TR_CR4,
    TR_EFER,
    TR_RFLAGS,
    TR_PKRU,
    TR_SATP,
    TR_MSTATUS,
    TR_MENVCFG,
    TR_REG_COUNT
} tr_reg;

const char *tr_reg_name(tr_reg r);

/* Required on the command line for this architecture? */
bool tr_reg_required(const tr_session *s, tr_reg r);

/* @return the register called `name` on s's architecture, or
 * TR_REG_COUNT. */
tr_reg tr_reg_by_name(const tr_session *s, const char *name);

/*
 * Values the architecture cannot hold at all: 32-bit registers of i386 and
 * riscv32, PKRU above 32 bits, EFER.LME with --arch i386; and, for the
 * `initial` (command-line) state only, an RV64 satp MODE the hart does not
 * implement (a `set satp` op writes it and satp, being WARL, ignores it).
 * @return NULL if v is acceptable, else what is wrong with it.
 */
const char *tr_reg_check(const tr_session *s, tr_reg r, uint64_t v,
                         bool initial);

/* Store a checked value without side effects (command-line state). */
void tr_reg_store(tr_session *s, tr_reg r, uint64_t v);

/*
 * The initial state is complete: derive EFER.LMA and, in PAE mode, load
 * the PDPTE registers. @return false with *flt if that load fails.
 */
bool tr_state_ready(tr_session *s, mmu_fault *flt);

typedef enum tr_write {
    TR_WRITE_DONE,
    TR_WRITE_FAULT,   /* *flt filled; state unchanged */
    TR_WRITE_IGNORED, /* WARL: satp keeps its value (unsupported MODE) */
} tr_write;

/*
 * A register write as the instruction does it: MOV CR0/CR3/CR4 and WRMSR
 * EFER through mmu_x86_write_*() (EFER.LMA = LME && CR0.PG, #GP checks,
 * PAE PDPTE loads, TLB invalidations), csrw satp through
 * mmu_rv_write_satp() (WARL, flushes nothing); the others are stored.
 * @return TR_WRITE_FAULT with *flt (#GP, or BAD_PHYS when the PDPT is
 * outside RAM) if the write faults, TR_WRITE_IGNORED if satp refused it.
 */
tr_write tr_reg_write(tr_session *s, tr_reg r, uint64_t v, mmu_fault *flt);

/* ---- ops (translate_ops.c) ----------------------------------------- */

typedef struct tr_op_def tr_op_def;

typedef struct tr_op {
    const tr_op_def *def;
    unsigned line;  /* in the ops file, from 1 */
    uint64_t addr;  /* access, invlpg, invpcid, sfence.vma: VA;
                       poke: PADDR */
    uint64_t value; /* poke, set, mov-cr3; invpcid: TYPE;
                       sfence.vma: ASID */
    uint64_t pcid;  /* invpcid */
    uint8_t priv;   /* access: CPL or RV_PRIV_* */
    uint8_t flags;  /* access: MMU_REQ_* */
    uint8_t bytes;  /* poke */
    bool has_va;    /* sfence.vma: rs1 is not x0 */
    bool has_asid;  /* sfence.vma: rs2 is not x0 */
    tr_reg reg;     /* set, mov-cr3 */
} tr_op;

/* Longest message a parser writes. */
#define TR_ERR_MAX 160

/* What every op row has: parse the fields (tok[0] is the op name) into
 * *op, or fail with a message; run the parsed op. */
typedef bool (*tr_parse_fn)(const tr_session *s, const tr_op_def *d,
                            char **tok, unsigned ntok, tr_op *op,
                            char err[TR_ERR_MAX]);
typedef void (*tr_exec_fn)(tr_session *s, const tr_op *op);

struct tr_op_def {
    const char *name;
    unsigned on; /* TR_ON_*: architectures that have it */
    int arg;     /* the row's own argument (r/w/x: mmu_access) */
    tr_parse_fn parse;
    tr_exec_fn exec;
};

/* Format a parser's message into err. @return false. */
bool tr_fail(char err[TR_ERR_MAX], const char *fmt, ...) CLI_PRINTF(2, 3);

/* A VA (or a register value) fits the architecture: 32 bits on i386 and
 * riscv32. */
bool tr_va_fits(const tr_session *s, uint64_t va);

/*
 * Parse the fields of one ops line (tok[0] is the op name) into *op.
 * @return false with a message in err (no line number: the caller adds it).
 */
bool tr_op_parse(const tr_session *s, char **tok, unsigned ntok, tr_op *op,
                 char err[TR_ERR_MAX]);

/* Run a parsed op, printing its JSON line if it has one on stdout. */
void tr_op_exec(tr_session *s, const tr_op *op);

/* ---- the TLB side (translate_tlb.c) -------------------------------- */

/*
 * --tlb PRESET|off: attach a TLB built from the named preset to s->m
 * (off: none, every access walks), with --invlpg's INVLPG scope if given
 * (NULL: the default, all PCIDs; only with a TLB). @return false after
 * printing the reason (an unknown preset's message lists the presets).
 */
bool tr_tlb_setup(tr_session *s, const char *preset, const char *invlpg);
void tr_tlb_free(tr_session *s);

/* Snapshot of the counters that tell where an access was served from. */
typedef struct tr_tlb_probe {
    uint64_t walks, hits;
} tr_tlb_probe;

void tr_tlb_probe_begin(const tr_session *s, tr_tlb_probe *p);
/* Was the access just translated (ok: with *res) served by the TLB? */
bool tr_tlb_probe_hit(const tr_session *s, const tr_tlb_probe *p, bool ok,
                      const mmu_result *res);

/* Rows of the op table: INVLPG, INVPCID (x86), SFENCE.VMA (RISC-V). */
bool tr_parse_invlpg(const tr_session *s, const tr_op_def *d, char **tok,
                     unsigned ntok, tr_op *op, char err[TR_ERR_MAX]);
void tr_exec_invlpg(tr_session *s, const tr_op *op);
bool tr_parse_invpcid(const tr_session *s, const tr_op_def *d, char **tok,
                      unsigned ntok, tr_op *op, char err[TR_ERR_MAX]);
void tr_exec_invpcid(tr_session *s, const tr_op *op);
bool tr_parse_sfence_vma(const tr_session *s, const tr_op_def *d,
                         char **tok, unsigned ntok, tr_op *op,
                         char err[TR_ERR_MAX]);
void tr_exec_sfence_vma(tr_session *s, const tr_op *op);

/* --stats: one JSON line with the TLB's and the walker's counters. */
void tr_print_stats(const tr_session *s);

#endif
