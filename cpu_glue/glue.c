/*
 * glue.c - the architecture-independent part of the Unicorn binding (see
 * mmuemu/glue.h): engine and RAM, the TLB-fill hook, the run loop with
 * its fault handler, invalidation-instruction hooks, and copies through
 * guest virtual memory.
 */
#define _DEFAULT_SOURCE /* mmap's MAP_ANONYMOUS, MAP_NORESERVE */
#include "glue_internal.h"

#include <sys/mman.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE UINT64_C(4096)
#define PAGE_MASK (~(PAGE - 1))

static const glue_arch *arch_for(mmu_glue_isa isa)
{
    switch (isa) {
    case MMU_GLUE_X86_64:
        return &glue_arch_x86_64;
    case MMU_GLUE_I386:
        return &glue_arch_i386;
    case MMU_GLUE_RV64:
        return &glue_arch_rv64;
    case MMU_GLUE_RV32:
        return &glue_arch_rv32;
    }
    return NULL;
}

void glue_raise(mmu_glue *g, const mmu_glue_event *ev)
{
    g->pending = *ev;
    g->have_pending = true;
    uc_emu_stop(g->uc);
}

void glue_stop(mmu_glue *g, mmu_glue_stop why)
{
    g->stop_requested = true;
    g->stop_reason = why;
    uc_emu_stop(g->uc);
}

void mmu_glue_request_exit(mmu_glue *g, int code)
{
    g->exit_requested = true;
    g->exit_code = code;
    uc_emu_stop(g->uc);
}

/* ---- invalidation-instruction hooks ----------------------------------- */

static void inval_hook(uc_engine *uc, uint64_t addr, uint32_t size,
                       void *arg)
{
    mmu_glue *g = arg;
    (void)uc, (void)size;
    g->stats.inval_events++;
    g->arch->on_inval_insn(g, addr);
}

static bool already_hooked(const mmu_glue *g, uint64_t va)
{
    for (unsigned i = 0; i < g->nhooked; i++)
        if (g->hooked[i] == va)
            return true;
    return false;
}

static void scan_code_page(mmu_glue *g, uint64_t va_page, uint64_t pa_page)
{
    for (unsigned i = 0; i < g->nscanned; i++)
        if (g->scanned[i][0] == va_page && g->scanned[i][1] == pa_page)
            return;
    if (g->nscanned < GLUE_SCANNED_MAX) {
        g->scanned[g->nscanned][0] = va_page;
        g->scanned[g->nscanned][1] = pa_page;
        g->nscanned++;
    }
    const uint8_t *code = mmu_phys_ptr(&g->mem, pa_page, PAGE);
    if (code == NULL || g->arch->scan_code == NULL)
        return;
    uint64_t found[64];
    unsigned n = g->arch->scan_code(g, va_page, code, PAGE, found, 64);
    for (unsigned i = 0; i < n; i++) {
        uc_hook h;
        if (already_hooked(g, found[i]) || g->nhooked >= GLUE_HOOKED_MAX)
            continue;
        if (uc_hook_add(g->uc, &h, UC_HOOK_CODE,
                        (void *)(uintptr_t)inval_hook, g, found[i],
                        found[i]) == UC_ERR_OK) {
            g->hooked[g->nhooked++] = found[i];
            g->stats.inval_hooks++;
        }
    }
}

/* ---- the fill hook ---------------------------------------------------- */

static mmu_access access_of(uc_mem_type type)
{
    switch (type) {
    case UC_MEM_WRITE:
    case UC_MEM_WRITE_UNMAPPED:
    case UC_MEM_WRITE_PROT:
        return MMU_WRITE;
    case UC_MEM_FETCH:
    case UC_MEM_FETCH_UNMAPPED:
    case UC_MEM_FETCH_PROT:
        return MMU_FETCH;
    default:
        return MMU_READ;
    }
}

static bool fill_hook(uc_engine *uc, uint64_t vaddr, uc_mem_type type,
                      uc_tlb_entry *result, void *arg)
{
    mmu_glue *g = arg;
    mmu_result res;
    mmu_fault flt;
    mmu_req req = {.va = vaddr & PAGE_MASK, .access = access_of(type)};
    (void)uc;

    g->stats.fills++;
    g->arch->sync_state(g);
    req.priv = g->arch->priv(g);
    g->arch->classify_fill(g, req.va, &req);
    if (!mmu_translate(&g->mmu, &req, &res, &flt)) {
        mmu_glue_event ev;
        memset(&ev, 0, sizeof ev);
        ev.source = MMU_GLUE_FROM_MODEL;
        ev.fault = flt;
        ev.access = req.access;
        ev.pc = g->arch->pc(g);
        ev.priv = req.priv;
        g->pending = ev;
        g->pending_page = req.va;
        g->have_pending = true;
        g->stats.fill_faults++;
        return false;
    }
    result->paddr = res.pa & PAGE_MASK;
    result->perms = UC_PROT_NONE;
    if (res.perms & MMU_PERM_R)
        result->perms |= UC_PROT_READ;
    if (res.perms & MMU_PERM_W)
        result->perms |= UC_PROT_WRITE;
    if (res.perms & MMU_PERM_X)
        result->perms |= UC_PROT_EXEC;
    if (g->arch->fill_perms != NULL)
        result->perms = g->arch->fill_perms(g, &req, result->perms);
    if (req.access == MMU_FETCH)
        scan_code_page(g, req.va, result->paddr);
    return true;
}

static void intr_hook(uc_engine *uc, uint32_t intno, void *arg)
{
    mmu_glue *g = arg;
    if (g->have_pending) {
        /* The model's fault surfacing as the CPU's exception: the event
         * was recorded by the fill hook. */
        uc_emu_stop(uc);
        return;
    }
    mmu_glue_event ev;
    memset(&ev, 0, sizeof ev);
    ev.source = MMU_GLUE_FROM_CPU;
    g->stats.cpu_exceptions++;
    g->arch->cpu_exception(g, intno, &ev);
    glue_raise(g, &ev);
}

/* ---- lifetime --------------------------------------------------------- */

static bool fail(char *err, size_t errlen, const char *what, uc_err e)
{
    if (err != NULL)
        snprintf(err, errlen, "%s: %s", what, uc_strerror(e));
    return false;
}

mmu_glue *mmu_glue_new(const mmu_glue_config *cfg, char *err, size_t errlen)
{
    const glue_arch *arch = arch_for(cfg->isa);
    if (arch == NULL || cfg->ram_size == 0 || (cfg->ram_base & ~PAGE_MASK) ||
        (cfg->ram_size & ~PAGE_MASK)) {
        if (err != NULL)
            snprintf(err, errlen, "bad glue configuration");
        return NULL;
    }
    mmu_glue *g = calloc(1, sizeof *g);
    if (g == NULL)
        return NULL;
    g->cfg = *cfg;
    g->arch = arch;
    /* Anonymous memory comes zeroed and is committed page by page as the
     * guest touches it: a hosted guest's RSS is what it uses, not the
     * whole RAM. */
    g->ram = mmap(NULL, (size_t)cfg->ram_size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (g->ram == MAP_FAILED)
        g->ram = NULL;
    uc_err e = uc_open(arch->uc_arch, arch->uc_mode, &g->uc);
    bool ok = g->ram != NULL && e == UC_ERR_OK;
    if (!ok) {
        fail(err, errlen, "uc_open", e);
        mmu_glue_free(g);
        return NULL;
    }
    g->mem = (mmu_phys){.ram = g->ram, .base = cfg->ram_base,
                        .size = cfg->ram_size};
    g->mmu.mem = &g->mem;
    if (cfg->tlb != NULL && (g->mmu.tlb = mmu_tlb_new(cfg->tlb)) == NULL) {
        if (err != NULL)
            snprintf(err, errlen, "bad TLB geometry");
        mmu_glue_free(g);
        return NULL;
    }
    size_t tcg = cfg->tcg_buffer ? cfg->tcg_buffer : 32u << 20;
    uc_ctl(g->uc, UC_CTL_WRITE(UC_CTL_TCG_BUFFER_SIZE, 1), (uint32_t)tcg);
    if (!arch->setup(g, err, errlen)) {
        mmu_glue_free(g);
        return NULL;
    }
    if ((e = uc_mem_map_ptr(g->uc, cfg->ram_base, cfg->ram_size, UC_PROT_ALL,
                            g->ram)) != UC_ERR_OK ||
        (e = uc_ctl_tlb_mode(g->uc, UC_TLB_VIRTUAL)) != UC_ERR_OK ||
        (e = uc_hook_add(g->uc, &g->fill_hook, UC_HOOK_TLB_FILL,
                         (void *)(uintptr_t)fill_hook, g, 1, 0)) !=
            UC_ERR_OK ||
        (e = uc_hook_add(g->uc, &g->intr_hook, UC_HOOK_INTR,
                         (void *)(uintptr_t)intr_hook, g, 1, 0)) !=
            UC_ERR_OK) {
        fail(err, errlen, "unicorn setup", e);
        mmu_glue_free(g);
        return NULL;
    }
    return g;
}

void mmu_glue_free(mmu_glue *g)
{
    if (g == NULL)
        return;
    if (g->arch != NULL && g->arch->teardown != NULL && g->arch_data != NULL)
        g->arch->teardown(g);
    if (g->uc != NULL)
        uc_close(g->uc);
    glue_slice_free(g);
    mmu_tlb_free(g->mmu.tlb);
    free(g->arch_data);
    free(g->user);
    if (g->ram != NULL)
        munmap(g->ram, (size_t)g->cfg.ram_size);
    free(g);
}

uc_engine *mmu_glue_uc(mmu_glue *g)
{
    return g->uc;
}

mmu_ctx *mmu_glue_mmu(mmu_glue *g)
{
    return &g->mmu;
}

mmu_phys *mmu_glue_mem(mmu_glue *g)
{
    return &g->mem;
}

mmu_glue_isa mmu_glue_get_isa(const mmu_glue *g)
{
    return g->cfg.isa;
}

void mmu_glue_set_handler(mmu_glue *g, mmu_glue_handler fn, void *arg)
{
    g->handler = fn;
    g->handler_arg = arg;
}

void mmu_glue_host_changed(mmu_glue *g)
{
    g->need_flush = true;
}

void mmu_glue_sync_state(mmu_glue *g)
{
    g->arch->sync_state(g);
}

uint8_t mmu_glue_priv(mmu_glue *g)
{
    return g->arch->priv(g);
}

const mmu_glue_stats *mmu_glue_get_stats(const mmu_glue *g)
{
    return &g->stats;
}

bool mmu_glue_deliver(mmu_glue *g, const mmu_glue_event *ev)
{
    g->stats.delivered++;
    return g->arch->deliver(g, ev);
}

/* ---- run loop --------------------------------------------------------- */

static mmu_glue_action handle(mmu_glue *g, mmu_glue_event *ev)
{
    if (g->handler == NULL)
        return MMU_GLUE_DELIVER;
    return g->handler(g, ev, g->handler_arg);
}

void mmu_glue_run(mmu_glue *g, uint64_t pc, uint64_t max_insns,
                  mmu_glue_result *out)
{
    memset(out, 0, sizeof *out);
    if (pc != UINT64_MAX)
        g->arch->set_pc(g, pc);
    g->exit_requested = false;
    g->stop_requested = false;
    for (;;) {
        if (glue_slice_expired(g) && g->run_until == 0) {
            out->stop = MMU_GLUE_STOP_SLICE;
            return;
        }
        if (g->need_flush) {
            uc_ctl_flush_tlb(g->uc);
            g->stats.unicorn_flushes++;
            g->need_flush = false;
        }
        g->have_pending = false;
        uint64_t start = g->arch->pc(g);
        /* until = 0 unless exact_addr asked for run_until: an `until`
         * address makes Unicorn fill page(until-1) for a fetch (here the
         * page being run anyway). The budget (count) is per call. */
        uint64_t until = g->run_until;
        g->run_until = 0;
        uc_err e = uc_emu_start(g->uc, start, until, 0, (size_t)max_insns);
        if (g->exit_requested) {
            out->stop = MMU_GLUE_STOP_EXIT;
            out->exit_code = g->exit_code;
            return;
        }
        if (g->stop_requested) {
            out->stop = g->stop_reason;
            return;
        }
        if (!g->have_pending && e == UC_ERR_INSN_INVALID &&
            g->arch->invalid_insn != NULL) {
            mmu_glue_event ev;
            memset(&ev, 0, sizeof ev);
            ev.source = MMU_GLUE_FROM_CPU;
            if (g->arch->invalid_insn(g, &ev)) {
                g->stats.cpu_exceptions++;
                g->pending = ev;
                g->have_pending = true;
            }
        }
        if (g->have_pending) {
            mmu_glue_event ev = g->pending;
            g->have_pending = false;
            if (ev.source == MMU_GLUE_FROM_MODEL) {
                g->arch->exact_addr(g, &ev, g->pending_page);
                if (g->run_until != 0)
                    continue; /* not taken yet: run up to run_until */
            }
            mmu_glue_action act = handle(g, &ev);
            out->last = ev;
            out->have_last = true;
            switch (act) {
            case MMU_GLUE_RETRY:
                g->stats.retried++;
                g->arch->set_pc(g, ev.pc);
                continue;
            case MMU_GLUE_DELIVER:
                if (!mmu_glue_deliver(g, &ev)) {
                    /* the arch part may say why (glue_stop) */
                    out->stop = g->stop_requested ? g->stop_reason
                                                  : MMU_GLUE_STOP_TRIPLE;
                    return;
                }
                continue;
            case MMU_GLUE_STOP:
                g->arch->set_pc(g, ev.pc);
                out->stop = MMU_GLUE_STOP_HANDLER;
                return;
            }
        }
        if (until != 0 && e == UC_ERR_OK && g->arch->pc(g) == until)
            continue; /* reached run_until: the faulting instruction */
        if (e == UC_ERR_OK && glue_slice_expired(g))
            continue; /* stops at the top, where nothing is pending */
        if (e != UC_ERR_OK) {
            out->stop = MMU_GLUE_STOP_ERROR;
            out->err = e;
            return;
        }
        if (max_insns != 0) {
            out->stop = MMU_GLUE_STOP_LIMIT;
            return;
        }
        /* uc_emu_start returned without a reason we know (e.g. the guest
         * ran off into a halt): treat as an error. */
        out->stop = MMU_GLUE_STOP_ERROR;
        out->err = UC_ERR_OK;
        return;
    }
}

/* ---- copies through guest virtual memory ------------------------------ */

static bool copy_virt(mmu_glue *g, uint64_t va, uint8_t *buf, size_t len,
                      uint8_t priv, bool write, size_t *done, mmu_fault *flt)
{
    size_t n = 0;
    g->arch->sync_state(g);
    while (n < len) {
        mmu_req req = {.va = va + n, .access = write ? MMU_WRITE : MMU_READ,
                       .priv = priv};
        mmu_result res;
        if (!mmu_translate(&g->mmu, &req, &res, flt))
            break;
        uint64_t in_page = res.page_size - (res.pa & (res.page_size - 1));
        size_t chunk = len - n < in_page ? len - n : (size_t)in_page;
        if (chunk > PAGE - ((va + n) & (PAGE - 1)))
            chunk = (size_t)(PAGE - ((va + n) & (PAGE - 1)));
        bool ok = write ? mmu_phys_write(&g->mem, res.pa, buf + n, chunk)
                        : mmu_phys_read(&g->mem, res.pa, buf + n, chunk);
        if (!ok) {
            memset(flt, 0, sizeof *flt);
            flt->kind = MMU_FAULT_BAD_PHYS;
            flt->reason = MMU_WHY_OUTSIDE_RAM;
            flt->addr = va + n;
            flt->paddr = res.pa;
            break;
        }
        n += chunk;
    }
    if (done != NULL)
        *done = n;
    return n == len;
}

bool mmu_glue_read_virt(mmu_glue *g, uint64_t va, void *dst, size_t len,
                        uint8_t priv, size_t *done, mmu_fault *flt)
{
    return copy_virt(g, va, dst, len, priv, false, done, flt);
}

bool mmu_glue_write_virt(mmu_glue *g, uint64_t va, const void *src,
                         size_t len, uint8_t priv, size_t *done,
                         mmu_fault *flt)
{
    return copy_virt(g, va, (uint8_t *)(uintptr_t)src, len, priv, true, done,
                     flt);
}
