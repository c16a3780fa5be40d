/*
 * translate.h - inside `mmuemu translate`: the session (guest RAM and one
 * translation context kept across ops), the registers an ops file may set,
 * and the op table.
 *
 * translate.c parses the command line and runs the ops, translate_state.c
 * knows the registers and applies writes to them, translate_ops.c
 * parses and executes each op and prints its JSON line.
 * Not modelled: TLBs and their invalidation ops (a later --tlb adds rows to
 * the op table), segmentation, interrupts.
 */
#ifndef MMUEMU_TOOLS_TRANSLATE_H
#define MMUEMU_TOOLS_TRANSLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
    mmu_ctx m;            /* .mem = &mem; the state the ops change */
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
 * riscv32, PKRU above 32 bits, EFER.LME with --arch i386, an RV64 satp
 * MODE the hart does not implement.
 * @return NULL if v is acceptable, else what is wrong with it.
 */
const char *tr_reg_check(const tr_session *s, tr_reg r, uint64_t v);

/* Store a checked value without side effects (command-line state). */
void tr_reg_store(tr_session *s, tr_reg r, uint64_t v);

/*
 * The initial state is complete: derive EFER.LMA and, in PAE mode, load
 * the PDPTE registers. @return false with *flt if that load fails.
 */
bool tr_state_ready(tr_session *s, mmu_fault *flt);

/*
 * A register write as the instruction does it: MOV CR0/CR3/CR4 and WRMSR
 * EFER through mmu_x86_write_*() (EFER.LMA = LME && CR0.PG, #GP checks,
 * PAE PDPTE loads), csrw satp through mmu_rv_write_satp(); the others are
 * stored. @return false with *flt (#GP, or BAD_PHYS when the PDPT is
 * outside RAM) and the state unchanged if the write faults.
 */
bool tr_reg_write(tr_session *s, tr_reg r, uint64_t v, mmu_fault *flt);

/* ---- ops (translate_ops.c) ----------------------------------------- */

typedef struct tr_op_def tr_op_def;

typedef struct tr_op {
    const tr_op_def *def;
    unsigned line;  /* in the ops file, from 1 */
    uint64_t addr;  /* access: VA; poke: PADDR */
    uint64_t value; /* poke, set */
    uint8_t priv;   /* access: CPL or RV_PRIV_* */
    uint8_t flags;  /* access: MMU_REQ_* */
    uint8_t bytes;  /* poke */
    tr_reg reg;     /* set */
} tr_op;

/* Longest message a parser writes. */
#define TR_ERR_MAX 160

/*
 * Parse the fields of one ops line (tok[0] is the op name) into *op.
 * @return false with a message in err (no line number: the caller adds it).
 */
bool tr_op_parse(const tr_session *s, char **tok, unsigned ntok, tr_op *op,
                 char err[TR_ERR_MAX]);

/* Run a parsed op, printing its JSON line if it has one on stdout. */
void tr_op_exec(tr_session *s, const tr_op *op);

#endif
