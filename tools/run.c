/*
 * run.c - `mmuemu run`: run a guest ELF with the model doing every
 * translation.
 *
 *   mmuemu run [--machine hosted] [--arch x86_64|riscv64] [--tlb PRESET|off]
 *              [--ram MIB] [--sysroot DIR] [--rw] [--deterministic]
 *              [--trace-faults] [--stats] [--slice N] [--] ELF [ARGS...]
 *   mmuemu run --machine bare [--arch x86_64|i386|riscv64|riscv32]
 *              [--tlb PRESET|off] [--ext svnapot,svpbmt,svadu]
 *              [--ram MIB] [--max-insns N] [--cmdline S] [--stats] ELF
 *
 * hosted (the default): a static Linux executable for riscv64 or x86-64
 * runs as a process of the hosted OS model (see mmuemu/hosted.h), with the
 * host's environment, uid and gid, like qemu-user. Guest paths resolve
 * inside the sysroot (default /, the working directory the same as the
 * host's), read-only unless --rw. --trace-faults prints one line per
 * page fault (the process, the address, the access, where: a user pc or
 * the system call whose kernel side touched user memory; the kind: demand
 * zero, file, COW, stack, ...); --stats prints the counters as one JSON
 * line on stderr. Processes (fork, vfork, exec) share the one vCPU, round
 * robin; --slice N: the guest instructions one runs before another
 * runnable one gets the vCPU (default 1000000).
 * Exit status: the guest's (128 + signal when a signal killed it, with a
 * report on stderr); 2 when it cannot start (bad arguments, unreadable or
 * malformed ELF, wrong architecture, a dynamically linked program: the
 * CLI's usual status for bad input); 125 when the emulator itself fails.
 *
 * bare: the exit status is the guest's; on an unhandled fault, a triple
 * fault or an emulation error a report goes to stderr and the status is
 * 125.
 */
#include "cli.h"

#include "mmuemu/hosted.h"
#include "mmuemu/machine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN_CMD           "run"
#define EXIT_GUEST_FAILED 125

static void usage(FILE *f)
{
    fputs("usage: mmuemu run [--machine hosted] [--arch x86_64|riscv64]\n"
          "                  [--tlb PRESET|off] [--ram MIB] [--sysroot DIR] "
          "[--rw]\n"
          "                  [--deterministic] [--trace-faults] [--stats] "
          "[--slice N]\n"
          "                  [--] ELF [ARGS...]\n"
          "       mmuemu run --machine bare [--arch "
          "x86_64|i386|riscv64|riscv32]\n"
          "                  [--tlb PRESET|off] [--ext "
          "svnapot,svpbmt,svadu|none]\n"
          "                  [--ram MIB] [--max-insns N] [--cmdline S] "
          "[--stats] ELF\n",
          f);
}

static bool parse_arch(const char *s, mmu_glue_isa *isa)
{
    static const struct {
        const char *name;
        mmu_glue_isa isa;
    } t[] = {{"x86_64", MMU_GLUE_X86_64},
             {"i386", MMU_GLUE_I386},
             {"riscv64", MMU_GLUE_RV64},
             {"riscv32", MMU_GLUE_RV32}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(s, t[i].name) == 0) {
            *isa = t[i].isa;
            return true;
        }
    return false;
}

static bool parse_ext(const char *s, uint32_t *ext)
{
    char buf[128];
    if (strlen(s) >= sizeof buf)
        return false;
    strcpy(buf, s);
    *ext = 0;
    if (strcmp(s, "none") == 0)
        return true;
    for (char *tok = strtok(buf, ","); tok != NULL; tok = strtok(NULL, ",")) {
        if (strcmp(tok, "svnapot") == 0)
            *ext |= MMU_RV_EXT_SVNAPOT;
        else if (strcmp(tok, "svpbmt") == 0)
            *ext |= MMU_RV_EXT_SVPBMT;
        else if (strcmp(tok, "svadu") == 0)
            *ext |= MMU_RV_EXT_SVADU;
        else
            return false;
    }
    return true;
}

/* The architecture an ELF is for, when --arch is not given. */
static bool sniff_arch(const char *path, mmu_glue_isa *isa)
{
    unsigned char h[20];
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    size_t n = fread(h, 1, sizeof h, f);
    fclose(f);
    if (n < sizeof h || memcmp(h,
                               "\x7f"
                               "ELF",
                               4) != 0)
        return false;
    unsigned machine = h[18] | (unsigned)h[19] << 8;
    if (machine == 243) {
        *isa = h[4] == 2 ? MMU_GLUE_RV64 : MMU_GLUE_RV32;
        return true;
    }
    if (machine == 3 || machine == 62) {
        *isa = MMU_GLUE_X86_64; /* multiboot: 32-bit entry, 64-bit CPU */
        return true;
    }
    return false;
}

static void print_stats(mmu_machine *m)
{
    mmu_glue *g = mmu_machine_glue(m);
    const mmu_glue_stats *gs = mmu_glue_get_stats(g);
    const mmu_ctx *ctx = mmu_glue_mmu(g);
    fprintf(stderr,
            "{\"stats\":{\"fills\":%llu,\"fill_faults\":%llu,"
            "\"cpu_exceptions\":%llu,\"delivered\":%llu,\"retried\":%llu,"
            "\"inval_hooks\":%llu,\"inval_events\":%llu,"
            "\"walks\":%llu,\"walk_reads\":%llu,\"ad_writes\":%llu",
            (unsigned long long)gs->fills, (unsigned long long)gs->fill_faults,
            (unsigned long long)gs->cpu_exceptions,
            (unsigned long long)gs->delivered, (unsigned long long)gs->retried,
            (unsigned long long)gs->inval_hooks,
            (unsigned long long)gs->inval_events,
            (unsigned long long)ctx->stats.walks,
            (unsigned long long)ctx->stats.walk_reads,
            (unsigned long long)ctx->stats.ad_writes);
    if (ctx->tlb != NULL) {
        static const char *const names[] = {"itlb", "dtlb", "stlb", "pwc"};
        for (unsigned i = 0; i < MMU_TLB_NSTRUCT; i++) {
            const mmu_tlb_stats *s = mmu_tlb_get_stats(ctx->tlb, i);
            fprintf(stderr,
                    ",\"%s\":{\"lookups\":%llu,\"hits\":%llu,\"misses\":%llu,"
                    "\"evictions\":%llu,\"flushes\":%llu}",
                    names[i], (unsigned long long)s->lookups,
                    (unsigned long long)s->hits, (unsigned long long)s->misses,
                    (unsigned long long)s->evictions,
                    (unsigned long long)s->flushes);
        }
    }
    fputs("}}\n", stderr);
}

typedef struct run_opts {
    const char *machine, *arch, *tlb, *sysroot;
    const char *bare_only, *hosted_only; /* an option of the other mode */
    bool stats, trace_faults, rw, deterministic, have_ext;
    mmu_machine_config bare; /* cmdline, rv_ext, ram, limit */
    uint64_t slice;
} run_opts;

/* @return the index of the ELF in argv, or -1 after an error message
 * (*status set: CLI_EXIT_OK for --help). */
static int parse_opts(int argc, char **argv, run_opts *o, int *status)
{
    uint64_t v;
    *status = CLI_EXIT_USAGE;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(opt, "--") == 0)
            return i + 1;
        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
            usage(stdout);
            *status = CLI_EXIT_OK;
            return -1;
        }
        bool *flag = strcmp(opt, "--stats") == 0           ? &o->stats
                     : strcmp(opt, "--trace-faults") == 0  ? &o->trace_faults
                     : strcmp(opt, "--rw") == 0            ? &o->rw
                     : strcmp(opt, "--deterministic") == 0 ? &o->deterministic
                                                           : NULL;
        if (flag != NULL) {
            *flag = true;
            if (flag != &o->stats)
                o->hosted_only = opt;
            continue;
        }
        if (val == NULL) {
            cli_error(RUN_CMD, "%s needs a value", opt);
            return -1;
        }
        i++;
        if (strcmp(opt, "--machine") == 0) {
            o->machine = val;
        } else if (strcmp(opt, "--arch") == 0) {
            o->arch = val;
        } else if (strcmp(opt, "--tlb") == 0) {
            o->tlb = val;
        } else if (strcmp(opt, "--sysroot") == 0) {
            o->sysroot = val;
            o->hosted_only = opt;
        } else if (strcmp(opt, "--cmdline") == 0) {
            o->bare.cmdline = val;
            o->bare_only = opt;
        } else if (strcmp(opt, "--ext") == 0) {
            o->have_ext = true;
            o->bare_only = opt;
            if (!parse_ext(val, &o->bare.rv_ext)) {
                cli_error(RUN_CMD, "bad --ext '%s' (svnapot,svpbmt,svadu)",
                          val);
                return -1;
            }
        } else if (strcmp(opt, "--ram") == 0) {
            if (!cli_parse_max(val, 4096, &v) || v < 1) {
                cli_error(RUN_CMD, "bad --ram '%s' (MiB, 1..4096)", val);
                return -1;
            }
            o->bare.ram_size = v << 20;
        } else if (strcmp(opt, "--slice") == 0) {
            o->hosted_only = opt;
            if (!cli_parse_u64(val, &o->slice) || o->slice < 100) {
                cli_error(RUN_CMD, "bad --slice '%s' (instructions, >= 100)",
                          val);
                return -1;
            }
        } else if (strcmp(opt, "--max-insns") == 0) {
            o->bare_only = opt;
            if (!cli_parse_u64(val, &o->bare.max_insns)) {
                cli_error(RUN_CMD, "bad --max-insns '%s'", val);
                return -1;
            }
        } else {
            cli_error(RUN_CMD, "unknown option '%s'", opt);
            return -1;
        }
    }
    return i;
}

static bool pick_tlb(const char *tlb, const mmu_tlb_config **out)
{
    *out = NULL;
    if (tlb == NULL || strcmp(tlb, "off") == 0)
        return true;
    *out = mmu_tlb_preset(tlb);
    if (*out == NULL) {
        cli_error(RUN_CMD, "unknown TLB preset '%s'", tlb);
        return false;
    }
    return true;
}

static int run_bare(run_opts *o, const char *elf)
{
    mmu_machine_config cfg = o->bare;
    cfg.elf_path = elf;
    if (o->arch != NULL ? !parse_arch(o->arch, &cfg.isa)
                        : !sniff_arch(cfg.elf_path, &cfg.isa)) {
        cli_error(RUN_CMD,
                  o->arch != NULL ? "unknown --arch '%s'"
                                  : "cannot tell the architecture "
                                    "of '%s' (not an x86 or RISC-V "
                                    "ELF)",
                  o->arch != NULL ? o->arch : cfg.elf_path);
        return CLI_EXIT_USAGE;
    }
    /* The RISC-V bare machine stands in for QEMU's virt machine, whose
     * harts update A/D in hardware: Svadu (menvcfg.ADUE set at reset)
     * unless --ext says otherwise (--ext none: Svade). */
    if (!o->have_ext && (cfg.isa == MMU_GLUE_RV64 || cfg.isa == MMU_GLUE_RV32))
        cfg.rv_ext = MMU_RV_EXT_SVADU;
    if (!pick_tlb(o->tlb, &cfg.tlb))
        return CLI_EXIT_USAGE;
    cfg.console = stdout;
    char err[256];
    mmu_machine *m = mmu_machine_new(&cfg, err, sizeof err);
    if (m == NULL) {
        cli_error(RUN_CMD, "%s: %s", cfg.elf_path, err);
        return CLI_EXIT_USAGE;
    }
    mmu_glue_result res;
    int status = mmu_machine_run(m, &res);
    fflush(stdout);
    if (status < 0) {
        mmu_machine_report(m, &res, stderr);
        status = EXIT_GUEST_FAILED;
    }
    if (o->stats)
        print_stats(m);
    mmu_machine_free(m);
    return status;
}

extern char **environ;

static int run_hosted(run_opts *o, int argc, char **argv)
{
    os_hosted_config hc;
    memset(&hc, 0, sizeof hc);
    char err[512] = "";
    (void)argc;
    hc.elf_path = argv[0];
    if (!os_hosted_sniff(hc.elf_path, &hc.isa, err, sizeof err)) {
        cli_error(RUN_CMD, "%s: %s", hc.elf_path, err);
        return CLI_EXIT_USAGE;
    }
    mmu_glue_isa want;
    if (o->arch != NULL) {
        if (!parse_arch(o->arch, &want) ||
            (want != MMU_GLUE_X86_64 && want != MMU_GLUE_RV64)) {
            cli_error(RUN_CMD,
                      "bad --arch '%s' for a Linux program "
                      "(x86_64, riscv64)",
                      o->arch);
            return CLI_EXIT_USAGE;
        }
        if (want != hc.isa) {
            cli_error(RUN_CMD, "%s: the ELF is not a %s program", hc.elf_path,
                      o->arch);
            return CLI_EXIT_USAGE;
        }
    }
    if (!pick_tlb(o->tlb, &hc.tlb))
        return CLI_EXIT_USAGE;
    hc.argv = (const char *const *)argv;
    hc.envp = (const char *const *)environ;
    hc.ram_size = o->bare.ram_size;
    hc.sysroot = o->sysroot;
    hc.writable = o->rw;
    hc.deterministic = o->deterministic;
    hc.trace_faults = o->trace_faults;
    hc.stats = o->stats;
    hc.slice = o->slice;
    hc.diag = stderr;
    fflush(stdout);
    int status = os_hosted_run(&hc, err, sizeof err);
    if (err[0] != '\0')
        cli_error(RUN_CMD, "%s: %s", hc.elf_path, err);
    return status;
}

int cmd_run(int argc, char **argv)
{
    run_opts o;
    memset(&o, 0, sizeof o);
    int status;
    int i = parse_opts(argc, argv, &o, &status);
    if (i < 0)
        return status;
    if (i >= argc) {
        cli_error(RUN_CMD, "missing ELF");
        return CLI_EXIT_USAGE;
    }
    bool bare = o.machine != NULL && strcmp(o.machine, "bare") == 0;
    if (o.machine != NULL && !bare && strcmp(o.machine, "hosted") != 0) {
        cli_error(RUN_CMD, "unknown --machine '%s' (hosted, bare)", o.machine);
        return CLI_EXIT_USAGE;
    }
    if (bare ? o.hosted_only != NULL : o.bare_only != NULL) {
        cli_error(RUN_CMD, "%s is not an option of --machine %s",
                  bare ? o.hosted_only : o.bare_only, bare ? "bare" : "hosted");
        return CLI_EXIT_USAGE;
    }
    if (!bare)
        return run_hosted(&o, argc - i, argv + i);
    if (i + 1 != argc) {
        cli_error(RUN_CMD, "too many arguments (a bare guest takes none)");
        return CLI_EXIT_USAGE;
    }
    return run_bare(&o, argv[i]);
}
