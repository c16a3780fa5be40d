/*
 * translate.c - `mmuemu translate`: load a guest RAM image, set up the
 * architectural state from the command line, run an ops file through one
 * translation context (with a TLB in front of the walker if --tlb names
 * one) and print one JSON line per result, then --stats.
 *
 * Everything the user gives is checked before anything runs: the options,
 * then the image, then the initial state (PAE PDPTEs), then every ops
 * line. A user error is one line on stderr and exit status 2; a fault is a
 * result (exit 0).
 */
#include "translate.h"

#include "cli.h"
#include "mmuemu/riscv_bits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: mmuemu translate --arch x86_64|i386 --mem IMAGE\n"
    "         [--mem-base PADDR] --cr0 V --cr3 V --cr4 V --efer V\n"
    "         [--rflags V] [--pkru V] [--maxphyaddr N] [--mem-out FILE]\n"
    "         [--tlb PRESET|off] [--invlpg all-pcids|current-pcid]\n"
    "         [--stats] [OPS-FILE | -]\n"
    "       mmuemu translate --arch riscv64|riscv32 --mem IMAGE\n"
    "         [--mem-base PADDR] --satp V [--mstatus V] [--menvcfg V]\n"
    "         [--priv u|s|m] [--ext svnapot,svpbmt,svadu] [--mem-out FILE]\n"
    "         [--tlb PRESET|off] [--stats] [OPS-FILE | -]\n"
    "\n"
    "IMAGE is raw guest RAM starting at PADDR (default 0); --mem-out writes\n"
    "it back after the ops, with the A/D bits the walks set.\n"
    "--tlb PRESET puts a TLB in front of the walker (presets: generic,\n"
    "skylake, u54, gem5); it never snoops page-table stores, so a poked PTE\n"
    "stays stale until invalidated. Default off: every access walks.\n"
    "--invlpg (x86, with --tlb): what INVLPG drops besides the page's global\n"
    "entries: the page in every PCID (all-pcids, the default) or in the\n"
    "current PCID only (current-pcid, the SDM's guaranteed minimum).\n"
    "--stats prints, after the ops, one JSON line of TLB and walk counters.\n"
    "Ops, one per line, '#' starts a comment (from stdin with - or no file):\n"
    "  r|w|x VA [CPL] [implicit] [stack]  x86 access, CPL 0-3 (default 0)\n"
    "  r|w|x VA [u|s|m]                   RISC-V access (default --priv: s)\n"
    "  poke PADDR VALUE [BYTES]           store little-endian, 1/2/4/8 bytes\n"
    "  set REG VALUE                      as MOV CRn / WRMSR / csrw would;\n"
    "      REG: cr0 cr3 cr4 efer rflags pkru | satp mstatus menvcfg\n"
    "  mov-cr3 VALUE                      x86: = set cr3 (bit 63 with\n"
    "                                     CR4.PCIDE: no flush)\n"
    "  invlpg VA                          x86 INVLPG\n"
    "  invpcid TYPE PCID VA               x86 INVPCID, TYPE 0-3\n"
    "  sfence.vma [VA|x0 [ASID|x0]]       RISC-V SFENCE.VMA rs1, rs2: x0 is\n"
    "                                     the register x0, a number a\n"
    "                                     register holding it (0 is not x0)\n"
    "Each access prints one JSON line (with \"tlb\":\"hit\"|\"miss\" under\n"
    "--tlb); a set, mov-cr3 or invpcid that faults or is ignored prints one.\n"
    "Numbers: 0x hex, decimal, or octal with a leading 0 (strtoull).\n"
    "Exit status 0 (faults are results); 2 for bad arguments or input.\n";

/* ---- command line --------------------------------------------------- */

typedef enum opt_id {
    O_ARCH,
    O_MEM,
    O_MEM_BASE,
    O_MEM_OUT,
    O_MAXPHYADDR,
    O_PRIV,
    O_EXT,
    O_TLB,
    O_INVLPG,
    O_COUNT
} opt_id;

static const struct {
    const char *name;
    unsigned on; /* TR_ON_* */
} opts[O_COUNT] = {
    [O_ARCH] = {"arch", TR_ON_ALL},
    [O_MEM] = {"mem", TR_ON_ALL},
    [O_MEM_BASE] = {"mem-base", TR_ON_ALL},
    [O_MEM_OUT] = {"mem-out", TR_ON_ALL},
    [O_MAXPHYADDR] = {"maxphyaddr", TR_ON_X86},
    [O_PRIV] = {"priv", TR_ON_RV},
    [O_EXT] = {"ext", TR_ON_RV},
    [O_TLB] = {"tlb", TR_ON_ALL},
    [O_INVLPG] = {"invlpg", TR_ON_X86},
};

typedef struct tr_args {
    const char *opt[O_COUNT];
    const char *reg[TR_REG_COUNT]; /* --cr0 ... --menvcfg */
    const char *ops_path;          /* NULL or "-": stdin */
    bool help;
    bool stats;                    /* --stats */
} tr_args;

/* Point at the slot for option `name` (without "--"), or NULL. */
static const char **arg_slot(tr_args *a, const char *name, size_t len)
{
    for (unsigned o = 0; o < O_COUNT; o++)
        if (strlen(opts[o].name) == len &&
            strncmp(opts[o].name, name, len) == 0)
            return &a->opt[o];
    for (unsigned r = 0; r < TR_REG_COUNT; r++)
        if (strlen(tr_reg_name((tr_reg)r)) == len &&
            strncmp(tr_reg_name((tr_reg)r), name, len) == 0)
            return &a->reg[r];
    return NULL;
}

static bool parse_argv(int argc, char **argv, tr_args *a)
{
    bool only_files = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!only_files && strcmp(arg, "--") == 0) {
            only_files = true;
        } else if (!only_files &&
                   (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            a->help = true;
        } else if (!only_files && strncmp(arg, "--stats", 7) == 0 &&
                   (arg[7] == '\0' || arg[7] == '=')) {
            if (arg[7] == '=') {
                cli_error(TR_CMD, "option --stats takes no value");
                return false;
            }
            if (a->stats) {
                cli_error(TR_CMD, "option --stats given twice");
                return false;
            }
            a->stats = true;
        } else if (!only_files && strncmp(arg, "--", 2) == 0) {
            const char *name = arg + 2, *eq = strchr(name, '=');
            size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
            const char **slot = arg_slot(a, name, len);
            if (slot == NULL) {
                cli_error(TR_CMD, "unknown option '%s' (see --help)", arg);
                return false;
            }
            if (*slot != NULL) {
                cli_error(TR_CMD, "option --%.*s given twice", (int)len, name);
                return false;
            }
            if (eq == NULL && i + 1 >= argc) {
                cli_error(TR_CMD, "option %s needs a value", arg);
                return false;
            }
            *slot = eq != NULL ? eq + 1 : argv[++i];
        } else if (!only_files && arg[0] == '-' && arg[1] != '\0') {
            cli_error(TR_CMD, "unknown option '%s' (see --help)", arg);
            return false;
        } else if (a->ops_path != NULL) {
            cli_error(TR_CMD, "more than one ops file ('%s', '%s')",
                      a->ops_path, arg);
            return false;
        } else {
            a->ops_path = arg;
        }
    }
    return true;
}

/* ---- session -------------------------------------------------------- */

bool tr_is_x86(const tr_session *s)
{
    return s->arch == TR_X86_64 || s->arch == TR_I386;
}

unsigned tr_arch_mask(const tr_session *s)
{
    return tr_is_x86(s) ? TR_ON_X86 : TR_ON_RV;
}

static bool parse_arch(const char *name, tr_arch *arch)
{
    static const struct {
        const char *name;
        tr_arch arch;
    } archs[] = {{"x86_64", TR_X86_64},
                 {"i386", TR_I386},
                 {"riscv64", TR_RV64},
                 {"riscv32", TR_RV32}};
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
        if (strcmp(archs[i].name, name) == 0) {
            *arch = archs[i].arch;
            return true;
        }
    return false;
}

static const struct {
    const char *name;
    uint32_t bit;
} rv_exts[] = {{"svnapot", MMU_RV_EXT_SVNAPOT},
               {"svpbmt", MMU_RV_EXT_SVPBMT},
               {"svadu", MMU_RV_EXT_SVADU}};

static bool rv_ext_by_name(const char *name, size_t len, uint32_t *bit)
{
    for (size_t i = 0; i < sizeof rv_exts / sizeof rv_exts[0]; i++)
        if (strlen(rv_exts[i].name) == len &&
            strncmp(rv_exts[i].name, name, len) == 0) {
            *bit = rv_exts[i].bit;
            return true;
        }
    return false;
}

/* "svnapot,svpbmt,svadu" (any subset, any order; "" = none). */
static bool parse_ext(const char *list, uint32_t *ext)
{
    *ext = 0;
    for (const char *p = list; *p != '\0';) {
        size_t len = strcspn(p, ",");
        uint32_t bit;
        if (!rv_ext_by_name(p, len, &bit)) {
            cli_error(TR_CMD,
                      "--ext: unknown extension '%.*s' (want svnapot, "
                      "svpbmt or svadu)",
                      (int)len, p);
            return false;
        }
        *ext |= bit;
        p += len;
        if (*p == ',' && *++p == '\0') {
            cli_error(TR_CMD, "--ext: empty extension name in '%s'", list);
            return false;
        }
    }
    return true;
}

static bool parse_priv(const char *name, uint8_t *priv)
{
    if (strcmp(name, "u") == 0)
        *priv = RV_PRIV_U;
    else if (strcmp(name, "s") == 0)
        *priv = RV_PRIV_S;
    else if (strcmp(name, "m") == 0)
        *priv = RV_PRIV_M;
    else
        return false;
    return true;
}

/* Options that make sense for the architecture, and all required ones. */
static bool check_presence(const tr_session *s, const tr_args *a)
{
    for (unsigned o = 0; o < O_COUNT; o++)
        if (a->opt[o] != NULL && (opts[o].on & tr_arch_mask(s)) == 0) {
            cli_error(TR_CMD, "--%s is not an option of --arch %s",
                      opts[o].name, a->opt[O_ARCH]);
            return false;
        }
    for (unsigned r = 0; r < TR_REG_COUNT; r++) {
        const char *name = tr_reg_name((tr_reg)r);
        if (a->reg[r] != NULL && tr_reg_by_name(s, name) != (tr_reg)r) {
            cli_error(TR_CMD, "--%s is not an option of --arch %s", name,
                      a->opt[O_ARCH]);
            return false;
        }
        if (a->reg[r] == NULL && tr_reg_required(s, (tr_reg)r)) {
            cli_error(TR_CMD, "missing required option --%s", name);
            return false;
        }
    }
    if (a->opt[O_MEM] == NULL) {
        cli_error(TR_CMD, "missing required option --mem IMAGE");
        return false;
    }
    return true;
}

static bool set_registers(tr_session *s, const tr_args *a)
{
    for (unsigned r = 0; r < TR_REG_COUNT; r++) {
        uint64_t v;
        const char *why;
        if (a->reg[r] == NULL)
            continue;
        if (!cli_parse_u64(a->reg[r], &v)) {
            cli_error(TR_CMD, "--%s: bad number '%s'", tr_reg_name((tr_reg)r),
                      a->reg[r]);
            return false;
        }
        if ((why = tr_reg_check(s, (tr_reg)r, v, true)) != NULL) {
            cli_error(TR_CMD, "--%s %s: %s", tr_reg_name((tr_reg)r), a->reg[r],
                      why);
            return false;
        }
        tr_reg_store(s, (tr_reg)r, v);
    }
    return true;
}

/* Everything from the command line except the image. */
static bool setup_state(tr_session *s, const tr_args *a, uint64_t *mem_base)
{
    if (a->opt[O_ARCH] == NULL) {
        cli_error(TR_CMD, "missing required option --arch "
                          "(x86_64, i386, riscv64 or riscv32)");
        return false;
    }
    if (!parse_arch(a->opt[O_ARCH], &s->arch)) {
        cli_error(TR_CMD,
                  "--arch: unknown architecture '%s' (want x86_64, "
                  "i386, riscv64 or riscv32)",
                  a->opt[O_ARCH]);
        return false;
    }
    if (!check_presence(s, a))
        return false;
    *mem_base = 0;
    if (a->opt[O_MEM_BASE] != NULL &&
        !cli_parse_u64(a->opt[O_MEM_BASE], mem_base)) {
        cli_error(TR_CMD, "--mem-base: bad number '%s'", a->opt[O_MEM_BASE]);
        return false;
    }
    if (tr_is_x86(s)) {
        uint64_t mpa = 52;
        mmu_state_init_x86(&s->m.st);
        if (a->opt[O_MAXPHYADDR] != NULL &&
            (!cli_parse_u64(a->opt[O_MAXPHYADDR], &mpa) || mpa < 32 ||
             mpa > 52)) {
            cli_error(TR_CMD, "--maxphyaddr: '%s' is not a number 32..52",
                      a->opt[O_MAXPHYADDR]);
            return false;
        }
        s->m.st.x86.maxphyaddr = (uint8_t)mpa;
        s->default_priv = 0;
    } else {
        mmu_state_init_rv(&s->m.st, s->arch == TR_RV64 ? 64 : 32);
        s->default_priv = RV_PRIV_S;
        if (a->opt[O_PRIV] != NULL &&
            !parse_priv(a->opt[O_PRIV], &s->default_priv)) {
            cli_error(TR_CMD, "--priv: '%s' is not u, s or m", a->opt[O_PRIV]);
            return false;
        }
        if (a->opt[O_EXT] != NULL && !parse_ext(a->opt[O_EXT], &s->m.st.rv.ext))
            return false;
    }
    return set_registers(s, a);
}

/* PAE paging needs its PDPTE registers: load them as the MOV CR3 that set
 * CR3 would have. If that would fault, no CPU can be in this state. */
static bool ready_state(tr_session *s)
{
    mmu_fault flt;
    memset(&flt, 0, sizeof flt);
    if (tr_state_ready(s, &flt))
        return true;
    if (flt.kind == MMU_FAULT_GP)
        cli_error(TR_CMD,
                  "PAE paging: loading the PDPTEs from CR3 0x%llx raises "
                  "#GP (%s)",
                  (unsigned long long)s->m.st.x86.cr3,
                  mmu_fault_reason_name(flt.reason));
    else
        cli_error(TR_CMD,
                  "PAE paging: the PDPT at CR3 0x%llx is outside guest RAM "
                  "(entry at 0x%llx)",
                  (unsigned long long)s->m.st.x86.cr3,
                  (unsigned long long)flt.paddr);
    return false;
}

/* ---- ops file ------------------------------------------------------- */

typedef struct op_list {
    tr_op *v;
    size_t n, cap;
} op_list;

/* One line of any length into *buf (no '\n'). @return false at EOF. */
static bool read_line(FILE *f, char **buf, size_t *cap, bool *oom)
{
    size_t n = 0;
    int c;
    while ((c = getc(f)) != EOF && c != '\n') {
        if (n + 1 >= *cap) {
            size_t ncap = *cap == 0 ? 128 : *cap * 2;
            char *nb = realloc(*buf, ncap);
            if (nb == NULL) {
                *oom = true;
                return false;
            }
            *buf = nb;
            *cap = ncap;
        }
        (*buf)[n++] = (char)c;
    }
    if (c == EOF && n == 0)
        return false;
    if (*buf == NULL) { /* an empty first line */
        *buf = malloc(1);
        if (*buf == NULL) {
            *oom = true;
            return false;
        }
        *cap = 1;
    }
    (*buf)[n] = '\0';
    return true;
}

#define MAX_FIELDS 8

/* Split at blanks, dropping a '#' comment. @return field count or -1. */
static int split(char *line, char *tok[MAX_FIELDS])
{
    int n = 0;
    line[strcspn(line, "#")] = '\0';
    for (char *p = strtok(line, " \t\r\v\f"); p != NULL;
         p = strtok(NULL, " \t\r\v\f")) {
        if (n == MAX_FIELDS)
            return -1;
        tok[n++] = p;
    }
    return n;
}

static bool add_op(op_list *l, const tr_op *op)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap == 0 ? 64 : l->cap * 2;
        tr_op *nv = realloc(l->v, ncap * sizeof *nv);
        if (nv == NULL)
            return false;
        l->v = nv;
        l->cap = ncap;
    }
    l->v[l->n++] = *op;
    return true;
}

static bool parse_ops(const tr_session *s, FILE *f, const char *name,
                      op_list *out)
{
    char *buf = NULL, *tok[MAX_FIELDS], err[TR_ERR_MAX];
    size_t cap = 0;
    bool oom = false, ok = true;
    for (unsigned line = 1; ok && read_line(f, &buf, &cap, &oom); line++) {
        int n = split(buf, tok);
        tr_op op;
        memset(&op, 0, sizeof op);
        op.line = line;
        if (n == 0)
            continue;
        if (n < 0) {
            cli_error(TR_CMD, "%s line %u: more than %d fields", name, line,
                      MAX_FIELDS);
            ok = false;
        } else if (!tr_op_parse(s, tok, (unsigned)n, &op, err)) {
            cli_error(TR_CMD, "%s line %u: %s", name, line, err);
            ok = false;
        } else if (!add_op(out, &op)) {
            oom = true;
        }
    }
    free(buf);
    if (ok && oom)
        cli_error(TR_CMD, "%s: out of memory", name);
    if (ok && !oom && ferror(f))
        cli_error(TR_CMD, "%s: read error", name);
    return ok && !oom && !ferror(f);
}

static bool load_ops(const tr_session *s, const char *path, op_list *out)
{
    if (path == NULL || strcmp(path, "-") == 0)
        return parse_ops(s, stdin, "stdin", out);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        cli_error(TR_CMD, "%s: cannot open ops file: %s", path,
                  strerror(errno));
        return false;
    }
    bool ok = parse_ops(s, f, path, out);
    fclose(f);
    return ok;
}

/* ---- the subcommand ------------------------------------------------- */

int cmd_translate(int argc, char **argv)
{
    tr_args a;
    tr_session s;
    op_list ops = {NULL, 0, 0};
    uint64_t mem_base;
    memset(&a, 0, sizeof a);
    memset(&s, 0, sizeof s);

    if (!parse_argv(argc, argv, &a))
        return CLI_EXIT_USAGE;
    if (a.help) {
        fputs(usage, stdout);
        return cli_flush_stdout(TR_CMD) ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    if (!setup_state(&s, &a, &mem_base))
        return CLI_EXIT_USAGE;
    if (!tr_tlb_setup(&s, a.opt[O_TLB], a.opt[O_INVLPG]))
        return CLI_EXIT_USAGE;
    if (!cli_load_image(TR_CMD, a.opt[O_MEM], mem_base, &s.mem)) {
        tr_tlb_free(&s);
        return CLI_EXIT_USAGE;
    }
    s.m.mem = &s.mem;
    bool ok = ready_state(&s) && load_ops(&s, a.ops_path, &ops);
    for (size_t i = 0; ok && i < ops.n; i++)
        tr_op_exec(&s, &ops.v[i]);
    if (ok && a.stats)
        tr_print_stats(&s);
    if (ok && a.opt[O_MEM_OUT] != NULL)
        ok = cli_save_image(TR_CMD, a.opt[O_MEM_OUT], &s.mem);
    if (ok)
        ok = cli_flush_stdout(TR_CMD);
    free(ops.v);
    tr_tlb_free(&s);
    cli_free_image(&s.mem);
    return ok ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}
