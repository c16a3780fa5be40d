/*
 * run.c - `mmuemu run`: run a guest ELF with the model doing every
 * translation.
 *
 *   mmuemu run --machine bare [--arch x86_64|i386|riscv64|riscv32]
 *              [--tlb PRESET|off] [--ext svnapot,svpbmt,svadu]
 *              [--ram MIB] [--max-insns N] [--cmdline S] [--stats] ELF
 *
 * The exit status is the guest's; on an unhandled fault, a triple fault
 * or an emulation error a report goes to stderr and the status is 125.
 */
#include "cli.h"

#include "mmuemu/machine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN_CMD "run"
#define EXIT_GUEST_FAILED 125

static void usage(FILE *f)
{
    fputs("usage: mmuemu run --machine bare [--arch "
          "x86_64|i386|riscv64|riscv32]\n"
          "                  [--tlb PRESET|off] [--ext svnapot,svpbmt,svadu|none]\n"
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
    if (n < sizeof h || memcmp(h, "\x7f" "ELF", 4) != 0)
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
            (unsigned long long)gs->fills,
            (unsigned long long)gs->fill_faults,
            (unsigned long long)gs->cpu_exceptions,
            (unsigned long long)gs->delivered,
            (unsigned long long)gs->retried,
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

int cmd_run(int argc, char **argv)
{
    mmu_machine_config cfg;
    memset(&cfg, 0, sizeof cfg);
    const char *machine = NULL, *arch = NULL, *tlb = NULL;
    bool stats = false, have_ext = false;
    uint64_t v;

    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(o, "--stats") == 0) {
            stats = true;
            continue;
        }
        if (val == NULL) {
            cli_error(RUN_CMD, "%s needs a value", o);
            return CLI_EXIT_USAGE;
        }
        i++;
        if (strcmp(o, "--machine") == 0) {
            machine = val;
        } else if (strcmp(o, "--arch") == 0) {
            arch = val;
        } else if (strcmp(o, "--tlb") == 0) {
            tlb = val;
        } else if (strcmp(o, "--cmdline") == 0) {
            cfg.cmdline = val;
        } else if (strcmp(o, "--ext") == 0) {
            have_ext = true;
            if (!parse_ext(val, &cfg.rv_ext)) {
                cli_error(RUN_CMD, "bad --ext '%s' (svnapot,svpbmt,svadu)",
                          val);
                return CLI_EXIT_USAGE;
            }
        } else if (strcmp(o, "--ram") == 0) {
            if (!cli_parse_max(val, 4096, &v) || v < 1) {
                cli_error(RUN_CMD, "bad --ram '%s' (MiB, 1..4096)", val);
                return CLI_EXIT_USAGE;
            }
            cfg.ram_size = v << 20;
        } else if (strcmp(o, "--max-insns") == 0) {
            if (!cli_parse_u64(val, &cfg.max_insns)) {
                cli_error(RUN_CMD, "bad --max-insns '%s'", val);
                return CLI_EXIT_USAGE;
            }
        } else {
            cli_error(RUN_CMD, "unknown option '%s'", o);
            return CLI_EXIT_USAGE;
        }
    }
    if (i + 1 != argc) {
        cli_error(RUN_CMD, i >= argc ? "missing ELF" : "too many arguments");
        return CLI_EXIT_USAGE;
    }
    cfg.elf_path = argv[i];
    if (machine == NULL || strcmp(machine, "bare") != 0) {
        cli_error(RUN_CMD, "--machine bare is the machine available");
        return CLI_EXIT_USAGE;
    }
    if (arch != NULL ? !parse_arch(arch, &cfg.isa)
                     : !sniff_arch(cfg.elf_path, &cfg.isa)) {
        cli_error(RUN_CMD, arch != NULL ? "unknown --arch '%s'"
                                        : "cannot tell the architecture of "
                                          "'%s' (not an x86 or RISC-V ELF)",
                  arch != NULL ? arch : cfg.elf_path);
        return CLI_EXIT_USAGE;
    }
    /* The RISC-V bare machine stands in for QEMU's virt machine, whose
     * harts update A/D in hardware: Svadu (menvcfg.ADUE set at reset)
     * unless --ext says otherwise (--ext none: Svade). */
    if (!have_ext && (cfg.isa == MMU_GLUE_RV64 || cfg.isa == MMU_GLUE_RV32))
        cfg.rv_ext = MMU_RV_EXT_SVADU;
    if (tlb != NULL && strcmp(tlb, "off") != 0) {
        cfg.tlb = mmu_tlb_preset(tlb);
        if (cfg.tlb == NULL) {
            cli_error(RUN_CMD, "unknown TLB preset '%s'", tlb);
            return CLI_EXIT_USAGE;
        }
    }
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
    if (stats)
        print_stats(m);
    mmu_machine_free(m);
    return status;
}
