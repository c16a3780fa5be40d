/*
 * machine.c - the bare-metal machine front: parse the ELF, pick the
 * machine for its architecture, create the glue, run, report (see
 * mmuemu/machine.h). The devices and boot conventions live in
 * bare_x86.c and bare_riscv.c.
 */
#include "machine_internal.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_RAM (UINT64_C(128) << 20)

static bool isa_matches(mmu_glue_isa isa, const elf_image *e)
{
    switch (isa) {
    case MMU_GLUE_X86_64:
    case MMU_GLUE_I386:
        /* multiboot kernels are ELF32 containers even for 64-bit code */
        return e->machine == ELF_EM_386 || e->machine == ELF_EM_X86_64;
    case MMU_GLUE_RV64:
        return e->machine == ELF_EM_RISCV && e->is64;
    case MMU_GLUE_RV32:
        return e->machine == ELF_EM_RISCV && !e->is64;
    }
    return false;
}

mmu_machine *mmu_machine_new(const mmu_machine_config *cfg, char *err,
                             size_t errlen)
{
    mmu_machine *m = calloc(1, sizeof *m);
    if (m == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->cfg = *cfg;
    if (m->cfg.ram_size == 0)
        m->cfg.ram_size = DEFAULT_RAM;
    if (m->cfg.console == NULL)
        m->cfg.console = stdout;
    bool x86 = cfg->isa == MMU_GLUE_X86_64 || cfg->isa == MMU_GLUE_I386;
    m->ops = x86 ? &machine_bare_x86 : &machine_bare_riscv;
    if (!elf_open(&m->elf, cfg->elf_path, err, errlen)) {
        free(m);
        return NULL;
    }
    if (!isa_matches(cfg->isa, &m->elf)) {
        snprintf(err, errlen, "the ELF's machine (%u, ELF%d) does not match "
                 "the architecture asked for",
                 m->elf.machine, m->elf.is64 ? 64 : 32);
        mmu_machine_free(m);
        return NULL;
    }
    mmu_glue_config gc = {
        .isa = cfg->isa,
        .ram_base = m->ops->ram_base,
        .ram_size = m->cfg.ram_size,
        .tlb = cfg->tlb,
        .cpu_model = -1,
        .rv_ext = cfg->rv_ext,
    };
    m->g = mmu_glue_new(&gc, err, errlen);
    if (m->g == NULL) {
        mmu_machine_free(m);
        return NULL;
    }
    m->g->machine = m;
    if (!m->ops->setup(m, err, errlen)) {
        mmu_machine_free(m);
        return NULL;
    }
    return m;
}

void mmu_machine_free(mmu_machine *m)
{
    if (m == NULL)
        return;
    if (m->ops != NULL && m->ops->free != NULL)
        m->ops->free(m);
    mmu_glue_free(m->g);
    elf_close(&m->elf);
    free(m);
}

mmu_glue *mmu_machine_glue(mmu_machine *m)
{
    return m->g;
}

int mmu_machine_run(mmu_machine *m, mmu_glue_result *res)
{
    mmu_glue_run(m->g, UINT64_MAX, m->cfg.max_insns, res);
    fflush(m->cfg.console);
    if (res->stop == MMU_GLUE_STOP_EXIT)
        return res->exit_code & 0xff;
    return -1;
}

static const char *stop_name(mmu_glue_stop s)
{
    switch (s) {
    case MMU_GLUE_STOP_EXIT:
        return "exit";
    case MMU_GLUE_STOP_HANDLER:
        return "unhandled fault";
    case MMU_GLUE_STOP_TRIPLE:
        return "triple fault";
    case MMU_GLUE_STOP_LIMIT:
        return "instruction limit reached";
    case MMU_GLUE_STOP_SLICE:
        return "time slice over";
    case MMU_GLUE_STOP_ERROR:
        return "emulation error";
    }
    return "?";
}

void mmu_machine_report(mmu_machine *m, const mmu_glue_result *res,
                        FILE *out)
{
    fprintf(out, "mmuemu: guest stopped: %s", stop_name(res->stop));
    if (res->stop == MMU_GLUE_STOP_ERROR)
        fprintf(out, " (%s)", uc_strerror(res->err));
    fputc('\n', out);
    if (res->have_last) {
        const mmu_glue_event *ev = &res->last;
        const mmu_fault *f = &ev->fault;
        fprintf(out,
                "  last exception: %s from %s, vector %u, code 0x%x, "
                "address 0x%llx%s, pc 0x%llx, privilege %u, reason %s\n",
                mmu_fault_kind_name(f->kind),
                ev->source == MMU_GLUE_FROM_MODEL ? "the MMU model" : "the CPU",
                f->vector, f->code, (unsigned long long)f->addr,
                ev->addr_exact ? "" : " (page only)",
                (unsigned long long)ev->pc, ev->priv,
                mmu_fault_reason_name(f->reason));
        if (ev->source == MMU_GLUE_FROM_MODEL) {
            fprintf(out, "  access %s, walk stopped at level %d:\n",
                    mmu_access_name(ev->access), f->level);
            for (unsigned i = 0; i < f->walk.n; i++)
                fprintf(out, "    level %u: entry at 0x%llx = 0x%016llx\n",
                        f->walk.step[i].level,
                        (unsigned long long)f->walk.step[i].addr,
                        (unsigned long long)f->walk.step[i].pte);
        }
    }
    if (m->ops->report != NULL)
        m->ops->report(m, res, out);
}
