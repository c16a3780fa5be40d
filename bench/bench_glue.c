/*
 * bench_glue.c - what the model costs a running guest: the same guest
 * loops on a Unicorn vCPU whose TLB misses the model fills (mmu_glue:
 * UC_TLB_VIRTUAL, fill hook -> mmu_translate) and on a plain Unicorn
 * engine that translates with its own MMU (UC_TLB_CPU, QEMU 5.0's
 * walkers), in the same process, runs interleaved.
 *
 * Per architecture (x86-64 4-level paging at CPL 0; riscv64 Sv39 in
 * S-mode) one memory image is built through the page-table builder and
 * copied into every engine: the code page, the data pages at VA
 * 0x40000000 (4 KiB leaves, A and D already set, so that no walk writes
 * and every engine sees the same tables), x86 a GDT. The control state
 * (CR0/CR3/CR4/EFER/CS/SS; satp and the privilege) is written the same
 * way into every vCPU. One loop, iteration i (counting down to 1):
 *     acc += data[i & mask].word0;  data[i & mask].word1 = acc;
 * with two working sets:
 *   friendly  4 pages: after the first pass every access hits
 *             Unicorn's softmmu TLB, so fills are off the clock;
 *   hostile   32768 pages (128 MiB) in turn: every load misses Unicorn's
 *             softmmu TLB (256 entries, resized only on a flush), so
 *             every iteration is one fill - the model's or Unicorn's.
 * Engines:
 *   unicorn         Unicorn's own MMU (UC_TLB_CPU): the reference;
 *   vTLB floor      Unicorn in virtual-TLB mode with a fill hook that
 *                   only computes the image's (linear) mapping: what any
 *                   hook-filled TLB costs before the hook does anything;
 *   model, no TLB   mmu_glue, every fill walks the tables;
 *   model, generic  mmu_glue with the model's TLB (the "generic" preset)
 *                   behind Unicorn's: a fill that hits it skips the
 *                   walk, a miss walks and inserts.
 *
 * Every run ends at the guest's exit (x86: OUT to port 0x80; RISC-V:
 * EBREAK), with uc_emu_start's until = 0 and count = 0 on every engine
 * (an `until` makes a spurious fetch fill; switching between count = 0
 * and count > 0 flushes the translated code). Checked after every loop
 * of every round: the exit was reached with nothing else raised, the
 * registers the loop uses and the PC equal the reference engine's, the
 * checksum of all of guest RAM equals the reference engine's, and on
 * the hostile loop every hook-filled engine filled at least 0.99 times
 * per iteration. A round 0 (not timed) translates the code and warms up.
 *
 * Output: a markdown table of medians over the runs, M instructions per
 * second (the loop body), fills per run (the glue's statistics; the
 * floor counts its own), the ratio to the reference, and per fill of the
 * hostile loop the time over the reference ((engine - unicorn) / fills)
 * and over the floor ((engine - floor) / fills: the glue and the model).
 */
#define _POSIX_C_SOURCE 200809L

#include "mmuemu/builder.h"
#include "mmuemu/glue.h"
#include "mmuemu/riscv_bits.h"
#include "mmuemu/tlb.h"
#include "mmuemu/x86_bits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unicorn/unicorn.h>

#ifndef X86_CR0_ET
#define X86_CR0_ET (UINT64_C(1) << 4) /* extension type (reads as 1) */
#endif
#define X86_MSR_EFER        UINT32_C(0xc0000080)
#define RV_CAUSE_BREAKPOINT 3u

/* Guest layout: offsets from the RAM base; VAs. */
#define PAGE       UINT64_C(0x1000)
#define CODE_OFF   UINT64_C(0x1000)
#define GDT_OFF    UINT64_C(0x2000)
#define TABLES_OFF UINT64_C(0x100000)
#define TABLES_END UINT64_C(0x1000000)
#define DATA_OFF   UINT64_C(0x1000000) /* data pages from 16 MiB */
#define CODE_VA    UINT64_C(0x1000)
#define GDT_VA     UINT64_C(0x2000)
#define DATA_VA    UINT64_C(0x40000000)
#define EXIT_PORT  0x80u
#define RV_EXIT_VA (CODE_VA + 0x20) /* the EBREAK */
#define SEL_KCODE  0x08u
#define SEL_KDATA  0x10u
#define TCG_BUFFER (32u << 20)

#define FRIENDLY_PAGES 4u
#define MAX_RUNS       101u

/* ---- guests -------------------------------------------------------------- */

/* The loop registers, by role. */
enum { R_ACC, R_BASE, R_COUNT, R_MASK, R_TMP0, R_TMP1, NREGS };

static const uint8_t x86_code[] = {
    0x48, 0x89, 0xca,             /* 0: mov  %rcx,%rdx */
    0x4c, 0x21, 0xc2,             /*    and  %r8,%rdx */
    0x48, 0xc1, 0xe2, 0x0c,       /*    shl  $12,%rdx */
    0x48, 0x03, 0x04, 0x13,       /*    add  (%rbx,%rdx),%rax */
    0x48, 0x89, 0x44, 0x13, 0x08, /*    mov  %rax,8(%rbx,%rdx) */
    0x48, 0xff, 0xc9,             /*    dec  %rcx */
    0x75, 0xe8,                   /*    jnz  0b */
    0xe6, 0x80,                   /*    out  %al,$0x80     the exit */
    0xeb, 0xfe,                   /* 1: jmp  1b */
};

/* riscv64-unknown-elf-as, objdump -M no-aliases. */
static const uint32_t rv_code[] = {
    UINT32_C(0x00d672b3), /* 0: and  t0,a2,a3 */
    UINT32_C(0x00c29293), /*    slli t0,t0,12 */
    UINT32_C(0x00b282b3), /*    add  t0,t0,a1 */
    UINT32_C(0x0002b303), /*    ld   t1,0(t0) */
    UINT32_C(0x00650533), /*    add  a0,a0,t1 */
    UINT32_C(0x00a2b423), /*    sd   a0,8(t0) */
    UINT32_C(0xfff60613), /*    addi a2,a2,-1 */
    UINT32_C(0xfe0612e3), /*    bne  a2,zero,0b */
    UINT32_C(0x00100073), /*    ebreak             the exit */
};

/* Flat 64-bit code and data segments (accessed bits set: loading CS and
 * SS writes nothing). */
static const uint64_t x86_gdt[] = {
    0,                            /* null */
    UINT64_C(0x00af9b000000ffff), /* 0x08 ring-0 code, L=1 */
    UINT64_C(0x00cf93000000ffff), /* 0x10 ring-0 data */
};

typedef struct guest_arch {
    const char *label;
    const char *name; /* for --arch */
    mmu_glue_isa isa;
    mmu_paging_mode mode;
    uc_arch uc_arch;
    uc_mode uc_mode;
    int cpu_model;
    uint64_t ram_base;
    uint64_t code_flags, data_flags, table_flags;
    unsigned insns_per_iter;
    int regs[NREGS];
    int pc_reg;
    bool x86;
} guest_arch;

static const guest_arch arches[] = {
    {
        .label = "x86-64 4-level",
        .name = "x86",
        .isa = MMU_GLUE_X86_64,
        .mode = MMU_MODE_X86_4LEVEL,
        .uc_arch = UC_ARCH_X86,
        .uc_mode = UC_MODE_64,
        .cpu_model = UC_CPU_X86_ICELAKE_SERVER, /* the glue's default */
        .ram_base = 0,
        .code_flags = X86_PTE_P | X86_PTE_A,
        .data_flags =
            X86_PTE_P | X86_PTE_RW | X86_PTE_A | X86_PTE_D | X86_PTE_NX,
        .table_flags = X86_PTE_P | X86_PTE_RW | X86_PTE_A,
        .insns_per_iter = 7,
        .regs = {UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_R8,
                 UC_X86_REG_RDX, UC_X86_REG_RSI},
        .pc_reg = UC_X86_REG_RIP,
        .x86 = true,
    },
    {
        .label = "riscv64 Sv39",
        .name = "rv",
        .isa = MMU_GLUE_RV64,
        .mode = MMU_MODE_SV39,
        .uc_arch = UC_ARCH_RISCV,
        .uc_mode = UC_MODE_RISCV64,
        .cpu_model = UC_CPU_RISCV64_BASE64, /* the glue's default */
        .ram_base = UINT64_C(0x80000000),
        .code_flags = RV_PTE_V | RV_PTE_R | RV_PTE_X | RV_PTE_A,
        .data_flags = RV_PTE_V | RV_PTE_R | RV_PTE_W | RV_PTE_A | RV_PTE_D,
        .table_flags = RV_PTE_V,
        .insns_per_iter = 8,
        .regs = {UC_RISCV_REG_A0, UC_RISCV_REG_A1, UC_RISCV_REG_A2,
                 UC_RISCV_REG_A3, UC_RISCV_REG_T0, UC_RISCV_REG_T1},
        .pc_reg = UC_RISCV_REG_PC,
        .x86 = false,
    },
};
#define NARCHES (sizeof arches / sizeof arches[0])

/* ---- engines ------------------------------------------------------------- */

typedef enum engine_kind {
    ENG_UNICORN,
    ENG_FLOOR,
    ENG_MODEL_OFF,
    ENG_MODEL_GENERIC,
    NENGINES
} engine_kind;

static const char *const engine_labels[NENGINES] = {
    "unicorn", "vTLB floor", "model, no TLB", "model, generic"};
static const char *const engine_names[NENGINES] = {"unicorn", "floor", "off",
                                                   "generic"};

typedef struct engine {
    engine_kind kind;
    const guest_arch *arch;
    mmu_glue *g;         /* model engines */
    uc_engine *uc;       /* the vCPU: g's, or the plain engine */
    uint8_t *ram;        /* guest RAM (the plain engine owns its buffer) */
    bool exited;         /* the guest reached its exit */
    int bad;             /* something else happened: vector + 1, or < 0 */
    uint64_t fills;      /* fills during the last run (not unicorn) */
    uint64_t data_pages; /* floor: the mapped data pages */
} engine;

static void die(const char *what, const char *where)
{
    fprintf(stderr, "bench_glue: %s: %s\n", where, what);
    exit(1);
}

static void uc_ok(uc_err e, const char *what)
{
    if (e != UC_ERR_OK)
        die(uc_strerror(e), what);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void reg_set(uc_engine *uc, int reg, uint64_t v)
{
    uc_ok(uc_reg_write(uc, reg, &v), "uc_reg_write");
}

static uint64_t reg_get(uc_engine *uc, int reg)
{
    uint64_t v = 0;
    uc_ok(uc_reg_read(uc, reg, &v), "uc_reg_read");
    return v;
}

/* ---- hooks: the exit and anything unexpected ----------------------------- */

static void on_out(uc_engine *uc, uint32_t port, int size, uint32_t value,
                   void *arg)
{
    engine *e = arg;
    (void)size, (void)value;
    if (port != EXIT_PORT) {
        e->bad = -1;
        uc_emu_stop(uc);
        return;
    }
    e->exited = true;
    if (e->g != NULL)
        mmu_glue_request_exit(e->g, 0);
    else
        uc_emu_stop(uc);
}

/* Plain engine: the CPU's exceptions (none expected). */
static void on_intr(uc_engine *uc, uint32_t intno, void *arg)
{
    engine *e = arg;
    e->bad = (int)intno + 1;
    uc_emu_stop(uc);
}

/* Plain engine: Unicorn ends a run at EBREAK with UC_ERR_INSN_INVALID
 * (the glue turns that into the breakpoint exception). */
static bool on_insn_invalid(uc_engine *uc, void *arg)
{
    engine *e = arg;
    if (!e->arch->x86 && reg_get(uc, UC_RISCV_REG_PC) == RV_EXIT_VA)
        e->exited = true;
    else
        e->bad = -4;
    return false;
}

/* Model engines: every event stops the run; only EBREAK is expected. */
static mmu_glue_action on_event(mmu_glue *g, const mmu_glue_event *ev,
                                void *arg)
{
    engine *e = arg;
    (void)g;
    if (!e->arch->x86 && ev->source == MMU_GLUE_FROM_CPU &&
        ev->fault.code == RV_CAUSE_BREAKPOINT)
        e->exited = true;
    else
        e->bad =
            ev->source == MMU_GLUE_FROM_MODEL ? -3 : (int)ev->fault.vector + 1;
    return MMU_GLUE_STOP;
}

/*
 * The floor: Unicorn in virtual-TLB mode with a fill hook that does no
 * more than compute the guest's mapping (the image maps each VA range
 * linearly) and grants the rights the tables grant (RW data, RX code:
 * a page granted W and X together sends its accesses down Unicorn's slow
 * path, measured 8x). The gap between it and "unicorn" is Unicorn's own
 * price for a hook-filled TLB; the gap between a model engine and it is
 * the glue's and the model's.
 */
static bool floor_fill(uc_engine *uc, uint64_t va, uc_mem_type type,
                       uc_tlb_entry *out, void *arg)
{
    engine *e = arg;
    uint64_t base = e->arch->ram_base;
    (void)uc, (void)type;
    e->fills++;
    out->perms = UC_PROT_READ | UC_PROT_WRITE;
    if (va >= DATA_VA && va - DATA_VA < e->data_pages * PAGE)
        out->paddr = base + DATA_OFF + (va - DATA_VA);
    else if (va == GDT_VA && e->arch->x86)
        out->paddr = base + GDT_OFF;
    else if (va == CODE_VA)
        out->paddr = base + CODE_OFF, out->perms = UC_PROT_READ | UC_PROT_EXEC;
    else
        return false;
    return true;
}

/* ---- the memory image ---------------------------------------------------- */

/* The word the loop reads from data page i. */
static uint64_t seed(uint64_t i)
{
    return (i + 1) * UINT64_C(0x9e3779b97f4a7c15);
}

static void put_code(const guest_arch *a, mmu_phys *img)
{
    uint64_t code = a->ram_base + CODE_OFF;
    bool ok = true;
    if (a->x86) {
        ok =
            mmu_phys_write(img, code, x86_code, sizeof x86_code) &&
            mmu_phys_write(img, a->ram_base + GDT_OFF, x86_gdt, sizeof x86_gdt);
    }
    for (size_t i = 0; !a->x86 && i < sizeof rv_code / sizeof rv_code[0]; i++)
        ok = ok && mmu_phys_write32(img, code + 4 * i, rv_code[i]);
    if (!ok)
        die("writing the code failed", a->label);
}

/*
 * Guest RAM with the tables, the code and `pages` data pages.
 * @return the buffer (ram_size bytes); *root: CR3 / satp.
 */
static uint8_t *build_image(const guest_arch *a, uint64_t ram_size,
                            unsigned pages, uint64_t *root)
{
    mmu_phys img = {.ram = aligned_alloc(PAGE, (size_t)ram_size),
                    .base = a->ram_base,
                    .size = ram_size};
    mmu_bump_alloc al = {&img, a->ram_base + TABLES_OFF,
                         a->ram_base + TABLES_END};
    mmu_pt pt;
    if (img.ram == NULL)
        die("out of memory", a->label);
    memset(img.ram, 0, (size_t)ram_size);
    if (mmu_pt_init(&pt, &img, a->mode, mmu_bump_alloc_frame, &al) !=
            MMU_PT_OK ||
        mmu_pt_map(&pt, CODE_VA, a->ram_base + CODE_OFF, PAGE, PAGE,
                   a->code_flags, a->table_flags) != MMU_PT_OK ||
        mmu_pt_map(&pt, DATA_VA, a->ram_base + DATA_OFF, pages * PAGE, PAGE,
                   a->data_flags, a->table_flags) != MMU_PT_OK)
        die("building the page tables failed", a->label);
    if (a->x86 && mmu_pt_map(&pt, GDT_VA, a->ram_base + GDT_OFF, PAGE, PAGE,
                             a->data_flags, a->table_flags) != MMU_PT_OK)
        die("mapping the GDT failed", a->label);
    for (uint64_t i = 0; i < pages; i++)
        if (!mmu_phys_write64(&img, a->ram_base + DATA_OFF + i * PAGE, seed(i)))
            die("writing the data failed", a->label);
    put_code(a, &img);
    *root = mmu_pt_root_reg(&pt);
    return img.ram;
}

/* ---- vCPU state: written the same way into every engine ------------------ */

/* 64-bit mode, 4-level paging, CPL 0 (as tests/glue's x86 harness). */
static void x86_cpu_init(uc_engine *uc, uint64_t cr3)
{
    uc_x86_msr efer = {.rid = X86_MSR_EFER};
    uc_x86_mmr gdtr = {.base = GDT_VA, .limit = sizeof x86_gdt - 1};
    reg_set(uc, UC_X86_REG_CR4, reg_get(uc, UC_X86_REG_CR4) | X86_CR4_PAE);
    uc_ok(uc_reg_read(uc, UC_X86_REG_MSR, &efer), "read EFER");
    efer.value |= X86_EFER_LME | X86_EFER_NXE;
    uc_ok(uc_reg_write(uc, UC_X86_REG_MSR, &efer), "write EFER");
    reg_set(uc, UC_X86_REG_CR3, cr3);
    reg_set(uc, UC_X86_REG_CR0,
            X86_CR0_PE | X86_CR0_ET | X86_CR0_WP | X86_CR0_PG);
    uc_ok(uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr), "write GDTR");
    reg_set(uc, UC_X86_REG_CS, SEL_KCODE);
    reg_set(uc, UC_X86_REG_SS, SEL_KDATA);
    reg_set(uc, UC_X86_REG_RFLAGS, 0x2);
}

/* S-mode with Sv39 (CSRs written at M, as tests/glue's RISC-V harness). */
static void rv_cpu_init(uc_engine *uc, uint64_t satp)
{
    reg_set(uc, UC_RISCV_REG_PRIV, RV_PRIV_M);
    reg_set(uc, UC_RISCV_REG_SATP, satp);
    reg_set(uc, UC_RISCV_REG_PRIV, RV_PRIV_S);
}

static void cpu_init(const engine *e, uint64_t root)
{
    if (e->arch->x86)
        x86_cpu_init(e->uc, root);
    else
        rv_cpu_init(e->uc, root);
}

/* ---- engine lifetime ----------------------------------------------------- */

static void add_hooks(engine *e)
{
    uc_hook h;
    if (e->arch->x86)
        uc_ok(uc_hook_add(e->uc, &h, UC_HOOK_INSN, (void *)(uintptr_t)on_out, e,
                          1, 0, UC_X86_INS_OUT),
              "OUT hook");
    if (e->g != NULL) {
        mmu_glue_set_handler(e->g, on_event, e);
        return;
    }
    /* No UC_HOOK_MEM_* hook: one whose range covers guest RAM sends
     * every load and store through Unicorn's slow path (8-9x on the
     * friendly loop, measured). An access outside RAM ends the run with
     * UC_ERR_*_UNMAPPED instead. */
    uc_ok(uc_hook_add(e->uc, &h, UC_HOOK_INTR, (void *)(uintptr_t)on_intr, e, 1,
                      0),
          "INTR hook");
    uc_ok(uc_hook_add(e->uc, &h, UC_HOOK_INSN_INVALID,
                      (void *)(uintptr_t)on_insn_invalid, e, 1, 0),
          "invalid-instruction hook");
}

static void open_plain(engine *e, uint64_t ram_size)
{
    uc_hook h;
    const guest_arch *a = e->arch;
    e->ram = aligned_alloc(PAGE, (size_t)ram_size);
    if (e->ram == NULL)
        die("out of memory", a->label);
    uc_ok(uc_open(a->uc_arch, a->uc_mode, &e->uc), "uc_open");
    uc_ok(uc_ctl(e->uc, UC_CTL_WRITE(UC_CTL_TCG_BUFFER_SIZE, 1),
                 (uint32_t)TCG_BUFFER),
          "TCG buffer");
    uc_ok(uc_ctl_set_cpu_model(e->uc, a->cpu_model), "CPU model");
    if (e->kind == ENG_FLOOR) {
        uc_ok(uc_ctl_tlb_mode(e->uc, UC_TLB_VIRTUAL), "TLB mode");
        uc_ok(uc_hook_add(e->uc, &h, UC_HOOK_TLB_FILL,
                          (void *)(uintptr_t)floor_fill, e, 1, 0),
              "fill hook");
    } else {
        uc_ok(uc_ctl_tlb_mode(e->uc, UC_TLB_CPU), "TLB mode");
    }
    uc_ok(uc_mem_map_ptr(e->uc, a->ram_base, (size_t)ram_size, UC_PROT_ALL,
                         e->ram),
          "uc_mem_map_ptr");
}

static void open_model(engine *e, uint64_t ram_size)
{
    const guest_arch *a = e->arch;
    char err[256] = "";
    mmu_glue_config cfg = {
        .isa = a->isa,
        .ram_base = a->ram_base,
        .ram_size = ram_size,
        .tlb = e->kind == ENG_MODEL_GENERIC ? mmu_tlb_preset("generic") : NULL,
        .cpu_model = a->cpu_model,
        .rv_ext = a->x86 ? 0 : MMU_RV_EXT_SVADU,
        .tcg_buffer = TCG_BUFFER,
    };
    e->g = mmu_glue_new(&cfg, err, sizeof err);
    if (e->g == NULL)
        die(err, "mmu_glue_new");
    e->uc = mmu_glue_uc(e->g);
    e->ram = mmu_glue_mem(e->g)->ram;
}

static void engine_open(engine *e, engine_kind kind, const guest_arch *a,
                        const uint8_t *image, uint64_t ram_size, unsigned pages,
                        uint64_t root)
{
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->arch = a;
    e->data_pages = pages;
    if (kind == ENG_UNICORN || kind == ENG_FLOOR)
        open_plain(e, ram_size);
    else
        open_model(e, ram_size);
    memcpy(e->ram, image, (size_t)ram_size);
    if (e->g != NULL)
        mmu_glue_host_changed(e->g);
    add_hooks(e);
    cpu_init(e, root);
}

static void engine_close(engine *e)
{
    if (e->g != NULL) {
        mmu_glue_free(e->g);
    } else if (e->uc != NULL) {
        uc_close(e->uc);
        free(e->ram);
    }
    memset(e, 0, sizeof *e);
}

/* ---- one run ------------------------------------------------------------- */

typedef struct loop_cfg {
    const char *label;
    uint64_t iters;
    uint64_t mask; /* pages - 1 */
} loop_cfg;

/* What a run leaves behind, compared between engines. */
typedef struct end_state {
    uint64_t regs[NREGS];
    uint64_t pc;
    uint64_t ram_sum;
} end_state;

/* Word-wise FNV-1a over all of guest RAM. */
static uint64_t checksum(const uint8_t *ram, uint64_t size)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325), w;
    for (uint64_t o = 0; o < size; o += sizeof w) {
        memcpy(&w, ram + o, sizeof w);
        h = (h ^ w) * UINT64_C(0x100000001b3);
    }
    return h;
}

static void set_loop_regs(engine *e, const loop_cfg *l)
{
    const int *r = e->arch->regs;
    reg_set(e->uc, r[R_ACC], 0);
    reg_set(e->uc, r[R_BASE], DATA_VA);
    reg_set(e->uc, r[R_COUNT], l->iters);
    reg_set(e->uc, r[R_MASK], l->mask);
    reg_set(e->uc, r[R_TMP0], 0);
    reg_set(e->uc, r[R_TMP1], 0);
}

/* Run the loop once on e. @return elapsed ns. */
static double run_loop(engine *e, const loop_cfg *l)
{
    const guest_arch *a = e->arch;
    mmu_glue_result res;
    uc_err err = UC_ERR_OK;
    uint64_t fills0 = e->g ? mmu_glue_get_stats(e->g)->fills : 0;

    set_loop_regs(e, l);
    if (e->g == NULL)
        e->fills = 0; /* counted by floor_fill */
    e->exited = false;
    e->bad = 0;
    double t0 = now_ns();
    if (e->g != NULL)
        mmu_glue_run(e->g, CODE_VA, 0, &res);
    else
        err = uc_emu_start(e->uc, CODE_VA, 0, 0, 0);
    double t1 = now_ns();
    if (e->g == NULL && e->exited && err == UC_ERR_INSN_INVALID)
        err = UC_ERR_OK; /* the plain engine's EBREAK */
    if (e->g != NULL) {
        e->fills = mmu_glue_get_stats(e->g)->fills - fills0;
        if (res.stop != (a->x86 ? MMU_GLUE_STOP_EXIT : MMU_GLUE_STOP_HANDLER))
            err = res.stop == MMU_GLUE_STOP_ERROR ? res.err : UC_ERR_EXCEPTION;
    }
    if (err != UC_ERR_OK || e->bad != 0 || !e->exited) {
        fprintf(stderr,
                "bench_glue: %s, %s, %s: err %d (%s), event %d, "
                "exited %d\n",
                a->label, l->label, engine_labels[e->kind], (int)err,
                uc_strerror(err), e->bad, (int)e->exited);
        exit(1);
    }
    return t1 - t0;
}

static end_state end_state_of(const engine *e, uint64_t ram_size)
{
    end_state s;
    for (unsigned i = 0; i < NREGS; i++)
        s.regs[i] = reg_get(e->uc, e->arch->regs[i]);
    s.pc = reg_get(e->uc, e->arch->pc_reg);
    s.ram_sum = checksum(e->ram, ram_size);
    return s;
}

static void check_state(const engine *e, const loop_cfg *l,
                        const end_state *got, const end_state *want)
{
    const char *what = NULL;
    if (got->regs[R_COUNT] != 0)
        what = "the loop counter is not 0 at the exit";
    else if (want != NULL && memcmp(got->regs, want->regs, sizeof got->regs))
        what = "registers differ from the reference engine's";
    else if (want != NULL && got->pc != want->pc)
        what = "the PC differs from the reference engine's";
    else if (want != NULL && got->ram_sum != want->ram_sum)
        what = "the RAM checksum differs from the reference engine's";
    if (what == NULL)
        return;
    fprintf(stderr, "bench_glue: %s, %s, %s: %s\n", e->arch->label, l->label,
            engine_labels[e->kind], what);
    for (unsigned i = 0; i < NREGS; i++)
        fprintf(stderr, "  reg %u: got 0x%016llx want 0x%016llx\n", i,
                (unsigned long long)got->regs[i],
                (unsigned long long)(want ? want->regs[i] : 0));
    fprintf(stderr,
            "  pc: got 0x%llx want 0x%llx; ram: got 0x%016llx "
            "want 0x%016llx\n",
            (unsigned long long)got->pc,
            (unsigned long long)(want ? want->pc : 0),
            (unsigned long long)got->ram_sum,
            (unsigned long long)(want ? want->ram_sum : 0));
    exit(1);
}

/* ---- options ------------------------------------------------------------- */

typedef struct options {
    unsigned runs;
    uint64_t iters;  /* friendly loop iterations */
    uint64_t passes; /* hostile loop: passes over all its pages */
    unsigned pages;  /* hostile loop pages (a power of two) */
    bool arch[NARCHES];
    bool loop[2]; /* friendly, hostile */
    bool engine[NENGINES];
} options;

static void usage(int status)
{
    fprintf(status ? stderr : stdout,
            "usage: bench_glue [--runs N] [--iters N] [--passes N] "
            "[--pages N] [--quick]\n"
            "                  [--arch x86|rv] [--loop friendly|hostile] "
            "[--engine unicorn|off|generic]\n"
            "  --runs N    timed runs per cell (default 7, max %u)\n"
            "  --iters N   friendly loop iterations (default 16000000)\n"
            "  --passes N  hostile loop passes over its pages (default 16)\n"
            "  --pages N   hostile loop pages, a power of two >= 1024 "
            "(default 32768)\n"
            "  --quick     --runs 3 --iters 2000000 --passes 4\n"
            "  --arch, --loop, --engine   one only (to profile); without "
            "the unicorn\n"
            "              engine nothing is compared and no ratio shown\n",
            MAX_RUNS);
    exit(status);
}

static uint64_t parse_u64(const char *s)
{
    char *end;
    if (s == NULL || *s < '0' || *s > '9')
        usage(2);
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || v == 0)
        usage(2);
    return (uint64_t)v;
}

static const char *value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc)
        usage(2);
    return argv[++*i];
}

/* Keep only the entry of `names` equal to v. */
static void select_one(bool *sel, const char *const *names, unsigned n,
                       const char *v)
{
    bool any = false;
    for (unsigned i = 0; i < n; i++)
        any |= sel[i] = sel[i] && strcmp(v, names[i]) == 0;
    if (!any)
        usage(2);
}

static options parse_args(int argc, char **argv)
{
    static const char *const loop_names[] = {"friendly", "hostile"};
    const char *arch_names[NARCHES];
    options o = {7,
                 16000000,
                 16,
                 32768,
                 {true, true},
                 {true, true},
                 {true, true, true, true}};
    for (unsigned i = 0; i < NARCHES; i++)
        arch_names[i] = arches[i].name;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--runs") == 0)
            o.runs = (unsigned)parse_u64(value(argc, argv, &i));
        else if (strcmp(a, "--iters") == 0)
            o.iters = parse_u64(value(argc, argv, &i));
        else if (strcmp(a, "--passes") == 0)
            o.passes = parse_u64(value(argc, argv, &i));
        else if (strcmp(a, "--pages") == 0)
            o.pages = (unsigned)parse_u64(value(argc, argv, &i));
        else if (strcmp(a, "--quick") == 0)
            o.runs = 3, o.iters = 2000000, o.passes = 4;
        else if (strcmp(a, "--arch") == 0)
            select_one(o.arch, arch_names, NARCHES, value(argc, argv, &i));
        else if (strcmp(a, "--loop") == 0)
            select_one(o.loop, loop_names, 2, value(argc, argv, &i));
        else if (strcmp(a, "--engine") == 0)
            select_one(o.engine, engine_names, NENGINES, value(argc, argv, &i));
        else
            usage(strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 ? 0 : 2);
    }
    if (o.runs > MAX_RUNS || o.pages < 1024 || o.pages > (1u << 20) ||
        (o.pages & (o.pages - 1)) != 0)
        usage(2);
    return o;
}

/* ---- statistics and report ----------------------------------------------- */

typedef struct cell {
    double ns[MAX_RUNS];
    uint64_t fills; /* per run (the last timed run) */
} cell;

typedef struct summary {
    double med, min, max;
} summary;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static summary summarize(const double *ns, unsigned runs)
{
    double v[MAX_RUNS];
    summary s;
    memcpy(v, ns, runs * sizeof v[0]);
    qsort(v, runs, sizeof v[0], cmp_double);
    s.med = runs % 2 ? v[runs / 2] : (v[runs / 2 - 1] + v[runs / 2]) / 2;
    s.min = v[0];
    s.max = v[runs - 1];
    return s;
}

/* results[arch][loop][engine] */
static cell results[NARCHES][2][NENGINES];

static void print_header(void)
{
    printf("| guest          | loop     | engine         | median ms | "
           "M insn/s | min ms  | max ms  | fills/run | / unicorn | "
           "ns/fill over unicorn | ns/fill over floor |\n"
           "|----------------|----------|----------------|----------:|"
           "---------:|--------:|--------:|----------:|----------:|"
           "---------------------:|-------------------:|\n");
}

/* (engine - ref) / fills of the hostile loop, into buf ("-" if none). */
static void per_fill(const options *o, unsigned a, unsigned l, unsigned e,
                     unsigned ref, char *buf, size_t len)
{
    const cell *c = &results[a][l][e];
    snprintf(buf, len, "-");
    if (l != 1 || e <= ref || !o->engine[ref] || c->fills == 0)
        return;
    double d = summarize(c->ns, o->runs).med -
               summarize(results[a][l][ref].ns, o->runs).med;
    snprintf(buf, len, "%.1f", d / (double)c->fills);
}

static void print_cell(const options *o, unsigned a, unsigned l, unsigned e,
                       uint64_t insns, const char *loop_label)
{
    const cell *c = &results[a][l][e];
    summary s = summarize(c->ns, o->runs);
    char fills[32] = "-", ratio[32] = "-", over_uc[32], over_floor[32];
    if (e != ENG_UNICORN)
        snprintf(fills, sizeof fills, "%llu", (unsigned long long)c->fills);
    if (e != ENG_UNICORN && o->engine[ENG_UNICORN])
        snprintf(ratio, sizeof ratio, "%.3fx",
                 s.med / summarize(results[a][l][ENG_UNICORN].ns, o->runs).med);
    per_fill(o, a, l, e, ENG_UNICORN, over_uc, sizeof over_uc);
    per_fill(o, a, l, e, ENG_FLOOR, over_floor, sizeof over_floor);
    printf("| %-14s | %-8s | %-14s | %9.2f | %8.1f | %7.2f | %7.2f | %9s "
           "| %9s | %20s | %18s |\n",
           arches[a].label, loop_label, engine_labels[e], s.med / 1e6,
           (double)insns / s.med * 1e3, s.min / 1e6, s.max / 1e6, fills, ratio,
           over_uc, over_floor);
}

static double ratio_of(const options *o, unsigned a, unsigned l, unsigned e)
{
    return summarize(results[a][l][e].ns, o->runs).med /
           summarize(results[a][l][ENG_UNICORN].ns, o->runs).med;
}

/* One verdict line per loop: every selected (arch, model engine) pair. */
static void print_target(const options *o, unsigned l, const char *name,
                         double limit)
{
    bool met = true, any = false;
    printf("Target %s <= %.2fx:", name, limit);
    for (unsigned a = 0; a < NARCHES; a++)
        for (unsigned e = ENG_MODEL_OFF; e < NENGINES; e++) {
            if (!o->arch[a] || !o->engine[e])
                continue;
            double r = ratio_of(o, a, l, e);
            printf(" %s %s %.3fx;", arches[a].name, engine_names[e], r);
            met = met && r <= limit;
            any = true;
        }
    printf(" %s\n", !any ? "-" : met ? "met" : "MISSED");
}

/* ---- driver -------------------------------------------------------------- */

typedef struct arch_run {
    const guest_arch *arch;
    unsigned ai;
    uint64_t ram_size;
    engine eng[NENGINES];
    loop_cfg loops[2];
} arch_run;

/* Every selected engine runs loop l once (the order rotates with the
 * round); then each is checked against the reference. */
static void round_loop(const options *o, arch_run *ar, unsigned l,
                       unsigned round, bool timed)
{
    end_state st[NENGINES];
    const loop_cfg *lc = &ar->loops[l];
    for (unsigned k = 0; k < NENGINES; k++) {
        unsigned e = (k + round) % NENGINES;
        if (!o->engine[e])
            continue;
        double ns = run_loop(&ar->eng[e], lc);
        st[e] = end_state_of(&ar->eng[e], ar->ram_size);
        if (timed) {
            results[ar->ai][l][e].ns[round - 1] = ns;
            results[ar->ai][l][e].fills = ar->eng[e].fills;
        }
    }
    for (unsigned e = 0; e < NENGINES; e++) {
        if (!o->engine[e])
            continue;
        check_state(&ar->eng[e], lc, &st[e],
                    o->engine[ENG_UNICORN] ? &st[ENG_UNICORN] : NULL);
        /* Hostile means a fill per iteration (a few pages may still be
         * in Unicorn's TLB from the previous run). */
        if (l == 1 && e != ENG_UNICORN &&
            ar->eng[e].fills * 100 < lc->iters * 99)
            die("the hostile loop filled less than 0.99 times per "
                "iteration",
                ar->arch->label);
    }
}

static void bench_arch(const options *o, unsigned ai)
{
    arch_run ar;
    uint64_t root;
    memset(&ar, 0, sizeof ar);
    ar.arch = &arches[ai];
    ar.ai = ai;
    ar.ram_size = DATA_OFF + (uint64_t)o->pages * PAGE;
    ar.loops[0] = (loop_cfg){"friendly", o->iters, FRIENDLY_PAGES - 1};
    ar.loops[1] = (loop_cfg){"hostile", o->passes * o->pages, o->pages - 1};
    uint8_t *image = build_image(ar.arch, ar.ram_size, o->pages, &root);
    for (unsigned e = 0; e < NENGINES; e++)
        if (o->engine[e])
            engine_open(&ar.eng[e], (engine_kind)e, ar.arch, image, ar.ram_size,
                        o->pages, root);
    free(image);
    /* Round 0 translates the code and warms up; rounds 1.. are timed. */
    for (unsigned r = 0; r <= o->runs; r++)
        for (unsigned l = 0; l < 2; l++)
            if (o->loop[l])
                round_loop(o, &ar, l, r, r > 0);
    for (unsigned e = 0; e < NENGINES; e++)
        engine_close(&ar.eng[e]);
}

static void report(const options *o)
{
    static const char *const loop_labels[] = {"friendly", "hostile"};
    print_header();
    for (unsigned a = 0; a < NARCHES; a++)
        for (unsigned l = 0; l < 2; l++) {
            uint64_t iters = l == 0 ? o->iters : o->passes * o->pages;
            uint64_t insns = iters * arches[a].insns_per_iter;
            for (unsigned e = 0; e < NENGINES; e++)
                if (o->arch[a] && o->loop[l] && o->engine[e])
                    print_cell(o, a, l, e, insns, loop_labels[l]);
        }
    putchar('\n');
    if (!o->engine[ENG_UNICORN])
        return;
    if (o->loop[0])
        print_target(o, 0, "friendly", 1.10);
    if (o->loop[1])
        print_target(o, 1, "hostile", 1.50);
}

int main(int argc, char **argv)
{
    options o = parse_args(argc, argv);
    printf("Guest loop (x86-64 4-level at CPL 0: 7 instructions per "
           "iteration; riscv64 Sv39 in S-mode: 8): one 8-byte load and one "
           "store per iteration, 4 KiB pages. friendly: %llu iterations "
           "over %u pages; hostile: %llu passes over %u pages (%llu "
           "iterations, %u MiB). %u timed runs per cell after one warm-up "
           "round, engines interleaved, median shown. Checked after every "
           "run: the guest's exit reached, registers, PC and a checksum of "
           "all guest RAM equal to the unicorn engine's; hostile: at least "
           "0.99 fills per iteration.\n\n",
           (unsigned long long)o.iters, FRIENDLY_PAGES,
           (unsigned long long)o.passes, o.pages,
           (unsigned long long)(o.passes * o.pages), o.pages / 256, o.runs);
    for (unsigned a = 0; a < NARCHES; a++)
        if (o.arch[a])
            bench_arch(&o, a);
    report(&o);
    return 0;
}
