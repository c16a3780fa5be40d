/*
 * glue_internal.h - what the common binding (glue.c) shares with the
 * per-architecture parts (x86_glue.c, riscv_glue.c) and the bare-metal
 * machines.
 *
 * The common part owns the Unicorn engine, guest RAM, the fill hook, the
 * run loop, the handler, the invalidation-instruction hooks and the
 * virtual-memory copy helpers. An architecture supplies a glue_arch.
 */
#ifndef MMUEMU_GLUE_INTERNAL_H
#define MMUEMU_GLUE_INTERNAL_H

#include "mmuemu/glue.h"

typedef struct glue_arch {
    const char *name;
    /* Engine mode and CPU model, then registers/hooks of its own. */
    uc_mode uc_mode;
    uc_arch uc_arch;
    bool (*setup)(mmu_glue *g, char *err, size_t errlen);
    /* vCPU control state -> g->mmu.st. */
    void (*sync_state)(mmu_glue *g);
    /* Current privilege (x86 CPL, RISC-V U/S/M). */
    uint8_t (*priv)(mmu_glue *g);
    /* Fill in the request's privilege and flags for a fill of `page`
     * (x86: implicit supervisor accesses recognised by address range). */
    void (*classify_fill)(mmu_glue *g, uint64_t page, mmu_req *req);
    /* Optional: restrict the UC_PROT_* a successful fill grants (RISC-V
     * MPRV: M-mode fetches and data accesses translate differently but
     * share Unicorn's entry). NULL: the model's perms as they are. */
    uint32_t (*fill_perms)(mmu_glue *g, const mmu_req *req, uint32_t perms);
    /* Rebuild the exact faulting address of a model fault at ev->pc whose
     * fill was for `page`; set ev->fault.addr and ev->addr_exact. */
    void (*exact_addr)(mmu_glue *g, mmu_glue_event *ev, uint64_t page);
    /* An exception the CPU raised (UC_HOOK_INTR intno) -> an event,
     * with ev->pc the architectural return point. */
    void (*cpu_exception)(mmu_glue *g, uint32_t intno, mmu_glue_event *ev);
    /* The trap entry. @return false: delivery failed (triple fault). */
    bool (*deliver)(mmu_glue *g, const mmu_glue_event *ev);
    /* Candidate invalidation instructions in a code page: write their
     * VAs to out (at most max). May over-report; never under-report
     * instructions that start inside the page. */
    unsigned (*scan_code)(mmu_glue *g, uint64_t va_page, const uint8_t *code,
                          size_t len, uint64_t *out, unsigned max);
    /* Called just before a hooked candidate executes. */
    void (*on_inval_insn)(mmu_glue *g, uint64_t pc);
    /* Optional: Unicorn stopped with UC_ERR_INSN_INVALID (x86 #UD never
     * reaches UC_HOOK_INTR). Fill *ev as cpu_exception does and return
     * true to handle it like a CPU exception; false: stop with the error. */
    bool (*invalid_insn)(mmu_glue *g, mmu_glue_event *ev);
    /* Optional: release what setup allocated besides arch_data itself
     * (called before the engine closes; also after a failed setup). */
    void (*teardown)(mmu_glue *g);
    /* Program counter. */
    uint64_t (*pc)(mmu_glue *g);
    void (*set_pc)(mmu_glue *g, uint64_t pc);
} glue_arch;

extern const glue_arch glue_arch_x86_64;
extern const glue_arch glue_arch_i386;
extern const glue_arch glue_arch_rv64;
extern const glue_arch glue_arch_rv32;

#define GLUE_SCANNED_MAX 4096
#define GLUE_HOOKED_MAX 1024

struct mmu_glue {
    mmu_glue_config cfg;
    const glue_arch *arch;
    uc_engine *uc;
    uint8_t *ram;
    mmu_phys mem;
    mmu_ctx mmu;
    mmu_glue_handler handler;
    void *handler_arg;
    mmu_glue_stats stats;
    /* Set by the fill hook / INTR hook, consumed by the run loop. */
    bool have_pending;
    mmu_glue_event pending;
    uint64_t pending_page;
    bool need_flush;
    bool exit_requested;
    int exit_code;
    bool stop_requested;      /* an arch part asks the run loop to stop */
    /* Set by exact_addr: the event is not taken yet. A fetch fault raised
     * while translating a block whose earlier instructions have not run
     * reports the block's start as PC: run up to this address (the
     * instruction that really faults) first, then go on. 0: none. */
    uint64_t run_until;
    mmu_glue_stop stop_reason;
    /* Code pages already scanned: (va page, pa page) pairs. */
    uint64_t scanned[GLUE_SCANNED_MAX][2];
    unsigned nscanned;
    uint64_t hooked[GLUE_HOOKED_MAX];
    unsigned nhooked;
    uc_hook fill_hook, intr_hook;
    void *arch_data;          /* per-architecture state */
    void *machine;            /* the bare-metal machine, if any */
    void *user;               /* user-mode guests (x86_user.c), freed
                                 with the glue */
    struct glue_slice *slice; /* mmu_glue_set_slice (slice.c), or NULL */
};

typedef struct glue_slice glue_slice;
/* The slice ran out: the run loop returns MMU_GLUE_STOP_SLICE. */
bool glue_slice_expired(const mmu_glue *g);
/* After uc_close: no hook can run any more. */
void glue_slice_free(mmu_glue *g);

/* Stop the current uc_emu_start and let the run loop handle ev. */
void glue_raise(mmu_glue *g, const mmu_glue_event *ev);
/* Ask the run loop to stop with a reason (e.g. triple fault). */
void glue_stop(mmu_glue *g, mmu_glue_stop why);

#endif
