/*
 * translate.h - the translation API: architectural state and a request in,
 * a result or a fault record out.
 *
 * Models: Intel SDM vol. 3A ch. 4 (paging: mode selection, permissions,
 * A/D, #PF error code; canonical checks of ch. 3/6) and the RISC-V
 * privileged specification's "Virtual Address Translation Process"
 * (Sv32/39/48/57, SUM, MXR, MPRV, Svade/Svadu, Svnapot, Svpbmt).
 * Not modelled: segmentation (the request carries a linear address),
 * memory types, PMP, the hypervisor extension, VMX/SVM nested paging.
 *
 * A fault is a value: mmu_translate() never delivers anything, it fills a
 * mmu_fault and the caller decides to retry, deliver or stop.
 */
#ifndef MMUEMU_TRANSLATE_H
#define MMUEMU_TRANSLATE_H

#include <stdbool.h>
#include <stdint.h>

#include "mmuemu/paging_mode.h"
#include "mmuemu/phys.h"

/* ---- architectural state ------------------------------------------- */

typedef struct mmu_x86_state {
    uint64_t cr0, cr3, cr4, efer, rflags;
    uint32_t pkru;
    uint8_t maxphyaddr;    /* 32..52 */
    bool has_1g_pages;     /* CPUID.80000001H:EDX.Page1GB[26] */
    /* PAE PDPTE registers, loaded by mmu_x86_load_pdptes() (MOV CR3). */
    uint64_t pdpte[4];
    bool pdptes_loaded;
} mmu_x86_state;

/* RISC-V extensions that change translation. */
#define MMU_RV_EXT_SVNAPOT (1u << 0)
#define MMU_RV_EXT_SVPBMT  (1u << 1)
#define MMU_RV_EXT_SVADU   (1u << 2) /* hardware A/D when menvcfg.ADUE=1 */

typedef struct mmu_rv_state {
    uint8_t xlen;          /* 32 or 64 */
    uint64_t satp, mstatus, menvcfg;
    uint32_t ext;          /* MMU_RV_EXT_* */
} mmu_rv_state;

typedef struct mmu_state {
    mmu_arch arch;
    union {
        mmu_x86_state x86;
        mmu_rv_state rv;
    };
} mmu_state;

/* Default state: paging off, MAXPHYADDR 52, 1 GiB pages; RV64 Bare. */
void mmu_state_init_x86(mmu_state *st);
void mmu_state_init_rv(mmu_state *st, unsigned xlen);

/* The paging mode the hardware would use for this state. For RISC-V this
 * is the satp mode; privilege (M, MPRV) is applied per request. x86:
 * IA-32e paging when CR0.PG and EFER.LME (or LMA, which hardware derives
 * from them) are set with CR4.PAE. */
mmu_paging_mode mmu_state_mode(const mmu_state *st);

/* ---- request ------------------------------------------------------- */

typedef enum mmu_access {
    MMU_READ = 0,
    MMU_WRITE = 1,
    MMU_FETCH = 2,
} mmu_access;

#define MMU_REQ_IMPLICIT (1u << 0) /* x86 implicit supervisor access
                                      (GDT/LDT/IDT/TSS), any CPL */
#define MMU_REQ_STACK    (1u << 1) /* x86 SS-relative: non-canonical -> #SS */
#define MMU_REQ_NO_AD    (1u << 2) /* probe: never write A/D to memory */

typedef struct mmu_req {
    uint64_t va;
    mmu_access access;
    uint8_t priv;          /* x86: CPL 0..3; RISC-V: RV_PRIV_U/S/M */
    uint8_t flags;         /* MMU_REQ_* */
} mmu_req;

/* ---- result -------------------------------------------------------- */

#define MMU_PERM_R (1u << 0)
#define MMU_PERM_W (1u << 1)
#define MMU_PERM_X (1u << 2)
#define MMU_PERM_U (1u << 3)   /* user page (x86 U/S=1 at every level;
                                  RISC-V U=1) */

typedef struct mmu_walk_step {
    uint64_t addr;         /* physical address of the entry */
    uint64_t pte;          /* value read (before any A/D update) */
    uint8_t level;
} mmu_walk_step;

typedef struct mmu_walk {
    uint8_t n;             /* steps recorded, root first */
    mmu_walk_step step[MMU_MAX_LEVELS];
} mmu_walk;

/* The rights a TLB entry caches: x86 the bits combined over all levels
 * (R always, W = R/W everywhere, X = no XD anywhere, U = U/S everywhere)
 * and the leaf's protection key; RISC-V the leaf's R/W/X/U. */
typedef struct mmu_rights {
    uint8_t flags;         /* MMU_PERM_* */
    uint8_t pkey;
} mmu_rights;

typedef struct mmu_result {
    uint64_t pa;
    uint64_t page_size;    /* bytes: 4K, 2M, 4M, 1G, 512G, 64K (napot) */
    uint8_t perms;         /* MMU_PERM_*: what this privilege may do here
                              now (W only once the leaf is dirty or the
                              request was a write) */
    uint8_t level;         /* level of the leaf entry */
    bool global;           /* x86: G in the leaf with CR4.PGE; RISC-V: G
                              anywhere on the path */
    bool dirty;            /* leaf D after this access */
    uint8_t pkey;          /* x86 protection key of the leaf */
    uint8_t pbmt;          /* RISC-V Svpbmt type */
    mmu_paging_mode mode;
    mmu_rights rights;     /* what a TLB caches of this translation */
    bool tlb_hit;          /* served by the TLB (walk is then empty) */
    mmu_walk walk;         /* empty for untranslated modes and TLB hits;
                              steps beyond walk.n are unspecified */
} mmu_result;

/* ---- fault --------------------------------------------------------- */

typedef enum mmu_fault_kind {
    MMU_FAULT_NONE = 0,
    MMU_FAULT_PAGE,        /* x86 #PF; RISC-V page fault 12/13/15 */
    MMU_FAULT_GP,          /* x86 #GP(0): non-canonical address; or, in
                              PAE mode with the PDPTE registers not yet
                              loaded, a present PDPTE with reserved bits
                              (the load MOV CR3 would have done) */
    MMU_FAULT_SS,          /* x86 #SS(0): non-canonical stack address */
    MMU_FAULT_ACCESS,      /* RISC-V access fault 1/5/7: PTE outside RAM */
    MMU_FAULT_BAD_PHYS,    /* x86: a paging-structure entry lies outside
                              guest RAM (the model's report; no vector) */
} mmu_fault_kind;

typedef enum mmu_fault_reason {
    MMU_WHY_NONE = 0,
    MMU_WHY_NOT_PRESENT,     /* x86 P=0 / RISC-V V=0 */
    MMU_WHY_RESERVED_BIT,    /* reserved bit set */
    MMU_WHY_RESERVED_ENCODING, /* RISC-V W without R, bad N/PBMT */
    MMU_WHY_NONLEAF_AT_LAST, /* RISC-V: non-leaf entry at level 0 */
    MMU_WHY_MISALIGNED_SUPERPAGE,
    MMU_WHY_USER_TO_SUPERVISOR, /* user access to a supervisor page */
    MMU_WHY_SUPERVISOR_TO_USER, /* RISC-V S access to U page w/o SUM,
                                   or a fetch */
    MMU_WHY_READ_ONLY,       /* write to a non-writable page */
    MMU_WHY_NOT_READABLE,    /* RISC-V read of a page without R (and MXR) */
    MMU_WHY_NOT_EXECUTABLE,  /* x86 XD / RISC-V X=0 */
    MMU_WHY_SMEP,
    MMU_WHY_SMAP,
    MMU_WHY_PKEY,
    MMU_WHY_ACCESSED_CLEAR,  /* Svade: A=0 */
    MMU_WHY_DIRTY_CLEAR,     /* Svade: store with D=0 */
    MMU_WHY_NONCANONICAL,
    MMU_WHY_OUTSIDE_RAM,     /* an entry's address is outside guest RAM */
} mmu_fault_reason;

typedef struct mmu_fault {
    mmu_fault_kind kind;
    mmu_fault_reason reason;
    uint8_t vector;        /* x86 vector (14, 13, 12); RISC-V: = code */
    uint32_t code;         /* x86 error code; RISC-V cause */
    uint64_t addr;         /* CR2 / xtval: the faulting virtual address */
    uint64_t paddr;        /* BAD_PHYS / ACCESS: the entry's address */
    int8_t level;          /* level where the walk stopped, -1 = before */
    bool tlb_hit;          /* raised from a (possibly stale) TLB entry */
    mmu_walk walk;
} mmu_fault;

/* ---- translation context ------------------------------------------- */

struct mmu_tlb;

/* Optional trace of every entry read/write (no printf in mmu/). */
typedef void (*mmu_trace_fn)(void *arg, int write, uint64_t pa,
                             uint64_t value);

typedef struct mmu_walk_stats {
    uint64_t walks;        /* page walks started */
    uint64_t walk_reads;   /* paging-structure entries read */
    uint64_t ad_writes;    /* A/D updates written */
    uint64_t faults;
} mmu_walk_stats;

/*
 * What mmu_translate() derives from the state (paging mode, PCID/ASID,
 * address width, the control bits rights are judged under), kept with
 * the state words it was derived from and derived again whenever one of
 * them differs: callers keep writing `st` directly, and a TLB hit does
 * not re-derive per access. Private to mmu/; a zeroed context (memset,
 * = {0}) holds none.
 */
typedef struct mmu_derived {
    uint64_t src[6];       /* the state words (masked to what matters) */
    uint64_t key;          /* rights-judgement key, request bits aside */
    uint64_t va_mask;      /* the linear-address width */
    uint32_t tag;          /* PCID / ASID */
    uint16_t mprv_from;    /* RISC-V MPRV: a load/store of privilege
                              mprv_from (M) is made with mprv_to; x86:
                              0x100, no privilege */
    uint16_t bare_priv;    /* a privilege that translates nothing (RISC-V
                              M); x86: 0x100 */
    uint8_t mprv_to;
    uint8_t mode;          /* mmu_paging_mode */
    uint8_t va_ext;        /* canonical form: the top va_ext bits copy the
                              bit below them (0: no check) */
    bool hit_ok;           /* translated, and no pre-check pending (x86
                              PAE PDPTEs loaded): a TLB hit needs nothing
                              else from the state */
} mmu_derived;

typedef struct mmu_ctx {
    mmu_phys *mem;
    mmu_state st;
    struct mmu_tlb *tlb;   /* NULL: every translation walks */
    mmu_walk_stats stats;
    mmu_trace_fn trace;
    void *trace_arg;
    mmu_derived derived;   /* private to mmu/ */
} mmu_ctx;

/*
 * Translate one access. @return true and fill *res, or false and fill
 * *flt. A/D bits are written to guest memory only for a walk that
 * succeeds (and not with MMU_REQ_NO_AD).
 */
bool mmu_translate(mmu_ctx *m, const mmu_req *req, mmu_result *res,
                   mmu_fault *flt);

/* The walk alone (no TLB): what a TLB miss does. */
bool mmu_walk_translate(mmu_ctx *m, const mmu_req *req, mmu_result *res,
                        mmu_fault *flt);

/*
 * x86 PAE: load the four PDPTE registers from CR3 as MOV CR3 does (also
 * on CR0/CR4 writes that change paging bits while in PAE mode).
 * @return false with a #GP fault if a present PDPTE has reserved bits, or
 * a BAD_PHYS fault if the PDPT lies outside RAM; registers unchanged then.
 */
bool mmu_x86_load_pdptes(mmu_ctx *m, uint64_t cr3, mmu_fault *flt);

/* Names for reports: "PF", "GP", "SS", "access", "bad_phys". */
const char *mmu_fault_kind_name(mmu_fault_kind k);
const char *mmu_fault_reason_name(mmu_fault_reason r);
const char *mmu_access_name(mmu_access a); /* "r", "w", "x" */

#endif
