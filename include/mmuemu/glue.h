/*
 * glue.h - binds the model to a Unicorn vCPU: guests run at JIT speed on
 * translations the model made, and every fault the model (or the CPU)
 * raises is handed to a handler that retries, delivers it into the guest
 * as the hardware would, or stops.
 *
 * How it works: guest RAM is one host buffer mapped into Unicorn with
 * uc_mem_map_ptr and walked by the model (mmu_phys). Unicorn runs in
 * virtual-TLB mode; each of its softmmu TLB misses calls the fill hook,
 * which reads the vCPU's control state and privilege, calls
 * mmu_translate() and returns the PA and the rights (write withheld until
 * the leaf is dirty, so the next store comes back and sets D). A fault
 * makes the hook return false; the run loop then rebuilds the exact
 * faulting address (Capstone decode of the instruction), and calls the
 * handler.
 *
 * Guest invalidations (INVLPG, INVPCID, MOV CR3/CR0/CR4, WRMSR EFER;
 * SFENCE.VMA) reach the model's TLB through one-instruction UC_HOOK_CODE
 * hooks placed on exactly those instructions when their code page is
 * first filled for a fetch, so the hot path carries no hook at all.
 */
#ifndef MMUEMU_GLUE_H
#define MMUEMU_GLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <unicorn/unicorn.h>

#include "mmuemu/tlb.h"
#include "mmuemu/translate.h"

typedef enum mmu_glue_isa {
    MMU_GLUE_X86_64,
    MMU_GLUE_I386,
    MMU_GLUE_RV64,
    MMU_GLUE_RV32,
} mmu_glue_isa;

typedef struct mmu_glue mmu_glue;

typedef struct mmu_glue_config {
    mmu_glue_isa isa;
    uint64_t ram_base, ram_size;    /* guest RAM (page-aligned) */
    const mmu_tlb_config *tlb;      /* model TLB; NULL: every fill walks */
    int cpu_model;                  /* Unicorn UC_CPU_*; -1: the glue's
                                       choice (x86: a model with SMEP,
                                       SMAP, PKU, 1G, LA57) */
    uint32_t rv_ext;                /* MMU_RV_EXT_* for the model */
    uint8_t maxphyaddr;             /* x86; 0: the CPU model's */
    size_t tcg_buffer;              /* bytes; 0: 32 MiB */
} mmu_glue_config;

/* Where an exception came from. */
typedef enum mmu_glue_source {
    MMU_GLUE_FROM_MODEL,  /* a translation fault the model raised */
    MMU_GLUE_FROM_CPU,    /* raised by the CPU: #UD, #GP, INT n, ecall,
                             ebreak, illegal instruction, ... */
} mmu_glue_source;

typedef struct mmu_glue_event {
    mmu_glue_source source;
    /* kind/vector/code/addr as the architecture reports them: x86 vector
     * and error code (addr = CR2 for #PF); RISC-V cause in code and
     * vector, addr = xtval. Model faults keep the walk record. */
    mmu_fault fault;
    mmu_access access;    /* of the faulting access (model faults) */
    uint64_t pc;          /* of the faulting instruction */
    uint8_t priv;         /* CPL / RISC-V privilege when it happened */
    bool addr_exact;      /* false: the exact address could not be
                             rebuilt and addr is the page address */
} mmu_glue_event;

typedef enum mmu_glue_action {
    MMU_GLUE_RETRY,       /* the host fixed it: re-execute */
    MMU_GLUE_DELIVER,     /* into the guest's own handler (IDT / xtvec) */
    MMU_GLUE_STOP,        /* stop the run and report */
} mmu_glue_action;

typedef mmu_glue_action (*mmu_glue_handler)(mmu_glue *g,
                                            const mmu_glue_event *ev,
                                            void *arg);

typedef enum mmu_glue_stop {
    MMU_GLUE_STOP_EXIT = 0,   /* the guest asked to exit (device) */
    MMU_GLUE_STOP_HANDLER,    /* the handler said stop */
    MMU_GLUE_STOP_TRIPLE,     /* x86 triple fault / nested trap failure */
    MMU_GLUE_STOP_LIMIT,      /* instruction budget used up */
    MMU_GLUE_STOP_SLICE,      /* the time slice ran out (set_slice) */
    MMU_GLUE_STOP_ERROR,      /* Unicorn error (result.err) */
} mmu_glue_stop;

typedef struct mmu_glue_result {
    mmu_glue_stop stop;
    int exit_code;            /* STOP_EXIT: the guest's status */
    uc_err err;               /* STOP_ERROR */
    mmu_glue_event last;      /* the last exception seen */
    bool have_last;
} mmu_glue_result;

/* @return NULL with a message in err. */
mmu_glue *mmu_glue_new(const mmu_glue_config *cfg, char *err, size_t errlen);
void mmu_glue_free(mmu_glue *g);

uc_engine *mmu_glue_uc(mmu_glue *g);
mmu_ctx *mmu_glue_mmu(mmu_glue *g);
mmu_phys *mmu_glue_mem(mmu_glue *g);
mmu_glue_isa mmu_glue_get_isa(const mmu_glue *g);

/* Default handler (none set): deliver everything into the guest. */
void mmu_glue_set_handler(mmu_glue *g, mmu_glue_handler fn, void *arg);

/* The host changed page tables, the model TLB or control state: Unicorn's
 * TLB is flushed before the vCPU runs again. */
void mmu_glue_host_changed(mmu_glue *g);

/* Read the vCPU's control state into the model (the fill hook does this
 * on every fill; exported for the host side). */
void mmu_glue_sync_state(mmu_glue *g);

/* Current privilege of the vCPU: x86 CPL, RISC-V U/S/M. */
uint8_t mmu_glue_priv(mmu_glue *g);

/*
 * Run from pc (or from where the vCPU is when pc is UINT64_MAX) until the
 * guest exits, the handler stops, or max_insns (0: no limit) ran.
 */
void mmu_glue_run(mmu_glue *g, uint64_t pc, uint64_t max_insns,
                  mmu_glue_result *out);

/*
 * A time slice for the next runs: mmu_glue_run stops with
 * MMU_GLUE_STOP_SLICE at the first translation-block boundary after
 * insns more guest instructions ran (0: no slice). Counted per block
 * executed (each block's instructions decoded once), which is much
 * cheaper than max_insns. The first call with insns != 0 installs a block
 * hook and drops Unicorn's translated code (so runs that never ask pay
 * nothing). @return false if the hook cannot be installed.
 */
bool mmu_glue_set_slice(mmu_glue *g, uint64_t insns);
/* Guest instructions counted by the slice hook so far. */
uint64_t mmu_glue_slice_counted(const mmu_glue *g);

/* Devices call this to end the run with a status. */
void mmu_glue_request_exit(mmu_glue *g, int code);

/* The architecture's trap entry for ev (what DELIVER does).
 * @return false if delivery itself failed beyond recovery (triple fault). */
bool mmu_glue_deliver(mmu_glue *g, const mmu_glue_event *ev);

/*
 * Copy to/from guest virtual memory through the model, as an access of
 * the given privilege (x86 CPL / RISC-V priv) would; sets A/D like the
 * access would. @return false (nothing partial is hidden: *done says how
 * many bytes were copied) on a fault, filling *flt.
 */
bool mmu_glue_read_virt(mmu_glue *g, uint64_t va, void *dst, size_t len,
                        uint8_t priv, size_t *done, mmu_fault *flt);
bool mmu_glue_write_virt(mmu_glue *g, uint64_t va, const void *src,
                         size_t len, uint8_t priv, size_t *done,
                         mmu_fault *flt);

/* Statistics of the binding. */
typedef struct mmu_glue_stats {
    uint64_t fills, fill_faults, cpu_exceptions, delivered, retried,
        inval_hooks, inval_events, unicorn_flushes;
} mmu_glue_stats;
const mmu_glue_stats *mmu_glue_get_stats(const mmu_glue *g);

#endif
