/*
 * test_linux_mm.c - the memory system calls of a process, both ABIs:
 * mmap (anonymous, file, FIXED, FIXED_NOREPLACE, argument errors, the
 * overcommit refusal of 1 TiB), munmap and mprotect as the guest sees
 * them through uaccess, mremap (grow in place, grow by moving with the
 * pages carried over and not faulted again, shrink, MREMAP_FIXED, a
 * thousand growing moves as busybox sort makes), madvise(MADV_DONTNEED)
 * (anonymous memory reads zero, private file pages the file again), a
 * guest exhausting RAM getting a clean -ENOMEM, and page faults through
 * os_proc_handle_fault.
 */
#define _XOPEN_SOURCE 700

#include "linux_harness.h"

#include "mmuemu/tlb.h"

#define PG                    UINT64_C(4096)
#define PROT_R                1
#define PROT_RW               3
#define MAP_PRIV              0x02
#define MAP_SHR               0x01
#define MAP_ANON              0x20
#define MAP_FIXED_L           0x10
#define MAP_NORESERVE_L       0x4000
#define MAP_FIXED_NOREPLACE_L 0x100000
#define MAYMOVE               1
#define FIXED                 2

static uint64_t anon(lx *x, uint64_t addr, uint64_t len, uint64_t extra)
{
    return OK(SC(x, "mmap", addr, len, PROT_RW, MAP_PRIV | MAP_ANON | extra,
                 NEG(-1), 0));
}

static bool can_write(lx *x, uint64_t va)
{
    return os_copy_to_user(&x->u, va, "w", 1) == 0;
}

static bool can_read(lx *x, uint64_t va)
{
    char c;
    return os_copy_from_user(&x->u, &c, va, 1) == 0;
}

static void fill(lx *x, uint64_t va, uint64_t len, uint8_t seed)
{
    uint8_t b[4096];
    for (uint64_t o = 0; o < len; o += sizeof b) {
        for (unsigned i = 0; i < sizeof b; i++)
            b[i] = (uint8_t)(seed + i + o / PG);
        assert_int_equal(os_copy_to_user(&x->u, va + o, b, sizeof b), 0);
    }
}

static void check_fill(lx *x, uint64_t va, uint64_t len, uint8_t seed)
{
    uint8_t b[4096];
    for (uint64_t o = 0; o < len; o += sizeof b) {
        assert_int_equal(os_copy_from_user(&x->u, b, va + o, sizeof b), 0);
        for (unsigned i = 0; i < sizeof b; i++)
            if (b[i] != (uint8_t)(seed + i + o / PG))
                fail_msg("byte 0x%llx differs",
                         (unsigned long long)(va + o + i));
    }
}

static void mmap_munmap_mprotect(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        os_aspace *as = os_proc_aspace(x.p);
        uint64_t a = anon(&x, 0, 3 * PG, 0);
        assert_true(x.last.flags & OS_SYSRET_MM_CHANGED);
        fill(&x, a, 3 * PG, 1);
        unsigned flushes = x.flushes;
        assert_int_equal(SC(&x, "munmap", a + PG, PG), 0);
        assert_true(x.last.flags & OS_SYSRET_TLB_FLUSH);
        assert_true(x.flushes > flushes);
        assert_false(can_read(&x, a + PG));
        assert_true(can_read(&x, a) && can_read(&x, a + 2 * PG));
        /* mprotect read-only: reads work, writes fault */
        assert_int_equal(SC(&x, "mprotect", a, PG, PROT_R), 0);
        assert_true(x.last.flags & OS_SYSRET_TLB_FLUSH);
        assert_false(can_write(&x, a));
        assert_true(can_read(&x, a));
        assert_int_equal(SC(&x, "mprotect", a, 3 * PG, PROT_R),
                         ERRNO(OS_ENOMEM)); /* the hole */
        assert_int_equal(SC(&x, "mprotect", a + 1, PG, PROT_R),
                         ERRNO(OS_EINVAL));
        /* argument errors */
        assert_int_equal(SC(&x, "mmap", 0, PG, PROT_RW, MAP_ANON, NEG(-1), 0),
                         ERRNO(OS_EINVAL));
        assert_int_equal(
            SC(&x, "mmap", 0, 0, PROT_RW, MAP_PRIV | MAP_ANON, NEG(-1), 0),
            ERRNO(OS_EINVAL));
        assert_int_equal(SC(&x, "mmap", a + 1, PG, PROT_RW,
                            MAP_PRIV | MAP_ANON | MAP_FIXED_L, NEG(-1), 0),
                         ERRNO(OS_EINVAL));
        assert_int_equal(SC(&x, "mmap", a, PG, PROT_RW,
                            MAP_PRIV | MAP_ANON | MAP_FIXED_NOREPLACE_L,
                            NEG(-1), 0),
                         ERRNO(OS_EEXIST));
        /* MAP_FIXED replaces: the new page reads zero */
        assert_int_equal(anon(&x, a + 2 * PG, PG, MAP_FIXED_L), a + 2 * PG);
        uint8_t z = 0xff;
        lx_get(&x, a + 2 * PG, &z, 1);
        assert_int_equal(z, 0);
        /* 1 TiB: refused by the overcommit heuristic, both ABIs */
        uint64_t tib = UINT64_C(1) << 40;
        assert_int_equal(
            SC(&x, "mmap", 0, tib, PROT_RW, MAP_PRIV | MAP_ANON, NEG(-1), 0),
            ERRNO(OS_ENOMEM));
        assert_int_equal(
            SC(&x, "mmap", 0, tib, PROT_RW, MAP_SHR | MAP_ANON, NEG(-1), 0),
            ERRNO(OS_ENOMEM));
        /* ... unless not accounted, where it fits (x86's 128 TiB) */
        int64_t big = SC(&x, "mmap", 0, tib, PROT_RW,
                         MAP_PRIV | MAP_ANON | MAP_NORESERVE_L, NEG(-1), 0);
        if (x.abi == OS_ABI_X86_64) {
            assert_true(big > 0);
            assert_int_equal(SC(&x, "munmap", (uint64_t)big, tib), 0);
        } else {
            assert_int_equal(big, ERRNO(OS_ENOMEM)); /* Sv39: 256 GiB */
        }
        /* file mappings */
        uint64_t fd = OK(
            SC(&x, "openat", L_AT_FDCWD, lx_str(&x, 0, "/etc/hello.txt"), 0));
        uint64_t f = OK(SC(&x, "mmap", 0, PG, PROT_R, MAP_PRIV, fd, 0));
        char s[16] = "";
        lx_get(&x, f, s, 14);
        assert_string_equal(s, "hello, sysroot");
        assert_int_equal(SC(&x, "mmap", 0, PG, PROT_RW, MAP_SHR, fd, 0),
                         ERRNO(OS_EACCES));
        assert_int_equal(SC(&x, "mmap", 0, PG, PROT_R, MAP_PRIV, 99, 0),
                         ERRNO(LX_EBADF));
        assert_int_equal(SC(&x, "mmap", 0, PG, PROT_R, MAP_PRIV, fd, 1),
                         ERRNO(OS_EINVAL));
        uint64_t dfd =
            OK(SC(&x, "openat", L_AT_FDCWD, lx_str(&x, 0, "/dir"), 0));
        assert_int_equal(SC(&x, "mmap", 0, PG, PROT_R, MAP_PRIV, dfd, 0),
                         ERRNO(LX_ENODEV));
        /* the maps show it under its guest path */
        size_t n = os_aspace_format_maps(as, NULL, 0);
        char *maps = malloc(n + 1);
        os_aspace_format_maps(as, maps, n + 1);
        assert_non_null(strstr(maps, " /etc/hello.txt\n"));
        free(maps);
        /* brk */
        uint64_t b0 = OK(SC(&x, "brk", 0));
        assert_int_equal(SC(&x, "brk", b0 + 5 * PG), b0 + 5 * PG);
        fill(&x, b0, 4 * PG, 9);
        assert_int_equal(SC(&x, "brk", b0), b0);
        assert_false(can_read(&x, b0 + 2 * PG));
        assert_int_equal(SC(&x, "brk", b0 + (UINT64_C(1) << 40)), b0);
        lx_free(&x);
    }
}

static void mremap_grows_moves_and_shrinks(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        os_aspace *as = os_proc_aspace(x.p);
        /* a 2-page buffer with a blocker right above it */
        uint64_t a = anon(&x, 0, 3 * PG, 0);
        assert_int_equal(SC(&x, "munmap", a + 2 * PG, PG), 0);
        anon(&x, a + 2 * PG, PG, MAP_FIXED_NOREPLACE_L);
        fill(&x, a, 2 * PG, 3);
        uint64_t rss = as->rss;
        uint64_t zero_faults = as->faults.handled[OS_FAULT_DEMAND_ZERO];
        assert_int_equal(SC(&x, "mremap", a, 2 * PG, 4 * PG, 0),
                         ERRNO(OS_ENOMEM));
        uint64_t b = OK(SC(&x, "mremap", a, 2 * PG, 4 * PG, MAYMOVE));
        assert_true(b != a);
        assert_true(x.last.flags & OS_SYSRET_TLB_FLUSH);
        check_fill(&x, b, 2 * PG, 3);
        TU_EQ_HEX("pages moved, not faulted again",
                  as->faults.handled[OS_FAULT_DEMAND_ZERO], zero_faults);
        TU_EQ_HEX("rss", as->rss, rss);
        assert_false(can_read(&x, a));
        assert_true(can_write(&x, b + 3 * PG)); /* the grown part */
        /* grow in place into free space */
        uint64_t c = anon(&x, 0, 8 * PG, 0);
        assert_int_equal(SC(&x, "munmap", c + 2 * PG, 6 * PG), 0);
        fill(&x, c, 2 * PG, 5);
        assert_int_equal(SC(&x, "mremap", c, 2 * PG, 6 * PG, 0), c);
        check_fill(&x, c, 2 * PG, 5);
        assert_true(can_write(&x, c + 5 * PG));
        /* shrink */
        assert_int_equal(SC(&x, "mremap", c, 6 * PG, PG, 0), c);
        assert_false(can_read(&x, c + PG));
        check_fill(&x, c, PG, 5);
        /* MREMAP_FIXED onto a chosen address */
        uint64_t d = anon(&x, 0, 4 * PG, 0);
        assert_int_equal(
            SC(&x, "mremap", c, PG, 2 * PG, MAYMOVE | FIXED, d + PG), d + PG);
        check_fill(&x, d + PG, PG, 5);
        assert_false(can_read(&x, c));
        /* errors */
        assert_int_equal(SC(&x, "mremap", d, PG, PG, FIXED, b),
                         ERRNO(OS_EINVAL));
        assert_int_equal(SC(&x, "mremap", d + 1, PG, 2 * PG, MAYMOVE),
                         ERRNO(OS_EINVAL));
        assert_int_equal(SC(&x, "mremap", c, PG, 2 * PG, MAYMOVE),
                         ERRNO(OS_EFAULT));
        assert_int_equal(SC(&x, "mremap", d, 64 * PG, 128 * PG, MAYMOVE),
                         ERRNO(OS_EFAULT));
        assert_int_equal(SC(&x, "mremap", d, PG, 2 * PG, 4 /* DONTUNMAP */),
                         ERRNO(OS_EINVAL));
        assert_int_equal(SC(&x, "mremap", d, PG, 0, MAYMOVE), ERRNO(OS_EINVAL));
        assert_int_equal(
            SC(&x, "mremap", d, PG, d + (UINT64_C(1) << 41), MAYMOVE),
            ERRNO(OS_ENOMEM));
        /* a thousand growing moves, as busybox sort's realloc makes:
         * a neighbour keeps every growth from happening in place */
        uint64_t buf = anon(&x, 0, PG, 0), len = PG;
        unsigned moves = 0;
        fill(&x, buf, PG, 7);
        for (int k = 0; k < 1000; k++) {
            uint64_t before = buf;
            SC(&x, "mmap", buf + len, PG, PROT_RW, /* block in place */
               MAP_PRIV | MAP_ANON | MAP_FIXED_NOREPLACE_L, NEG(-1), 0);
            buf = OK(SC(&x, "mremap", buf, len, len + PG, MAYMOVE));
            moves += buf != before;
            len += PG;
            assert_true(can_write(&x, buf + len - 1));
        }
        check_fill(&x, buf, PG, 7);
        assert_true(moves > 900);
        char err[200];
        assert_true(os_vmas_check(&as->vmas, err, sizeof err) >= 0);
        assert_true(as->vmas.count < 2100);
        lx_free(&x);
    }
}

static void madvise_dontneed_drops_pages(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        os_aspace *as = os_proc_aspace(x.p);
        uint64_t a = anon(&x, 0, 4 * PG, 0);
        fill(&x, a, 4 * PG, 0x40);
        uint64_t rss = as->rss;
        assert_int_equal(SC(&x, "madvise", a + PG, 2 * PG, 4), 0);
        assert_true(x.last.flags & OS_SYSRET_TLB_FLUSH);
        TU_EQ_HEX("rss dropped", as->rss, rss - 2);
        uint8_t b[4096];
        lx_get(&x, a + PG, b, sizeof b);
        for (unsigned k = 0; k < sizeof b; k++)
            assert_int_equal(b[k], 0);
        check_fill(&x, a, PG, 0x40);
        /* a private file page reads as the file again */
        uint64_t fd = OK(
            SC(&x, "openat", L_AT_FDCWD, lx_str(&x, 0, "/etc/hello.txt"), 0));
        uint64_t f = OK(SC(&x, "mmap", 0, PG, PROT_RW, MAP_PRIV, fd, 0));
        assert_int_equal(os_copy_to_user(&x.u, f, "HELLO", 5), 0);
        char s[8] = "";
        lx_get(&x, f, s, 5);
        assert_memory_equal(s, "HELLO", 5);
        assert_int_equal(SC(&x, "madvise", f, PG, 4), 0);
        lx_get(&x, f, s, 5);
        assert_memory_equal(s, "hello", 5);
        /* errors and hints */
        assert_int_equal(SC(&x, "madvise", a + 1, PG, 4), ERRNO(OS_EINVAL));
        assert_int_equal(SC(&x, "madvise", a, PG, 999), ERRNO(OS_EINVAL));
        assert_int_equal(SC(&x, "madvise", a, PG, 3 /* WILLNEED */), 0);
        assert_int_equal(SC(&x, "munmap", a + 3 * PG, PG), 0);
        assert_int_equal(SC(&x, "madvise", a, 8 * PG, 4), ERRNO(OS_ENOMEM));
        lx_free(&x);
    }
}

static void exhausting_ram_is_a_clean_enomem(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        /* more than RAM at once: refused up front */
        assert_int_equal(SC(&x, "mmap", 0, 128 * MIB, PROT_RW,
                            MAP_PRIV | MAP_ANON, NEG(-1), 0),
                         ERRNO(OS_ENOMEM));
        /* fits in RAM, but only 64 more frames may be used */
        os_frames_set_limit(&x.h.frames, x.h.frames.st.in_use + 64);
        uint64_t len = 8 * MIB, a = anon(&x, 0, len, 0);
        uint64_t zfd =
            OK(SC(&x, "openat", L_AT_FDCWD, lx_str(&x, 0, "/dev/zero"), 0));
        int64_t r = 0;
        uint64_t off = 0;
        while (off < len) {
            r = SC(&x, "getrandom", a + off, 65536, 0);
            if (r <= 0)
                break;
            off += (uint64_t)r;
        }
        assert_int_equal(r, ERRNO(OS_ENOMEM));
        assert_true(off > 0 && off < len);
        assert_int_equal(SC(&x, "read", zfd, a + off, 65536), ERRNO(OS_ENOMEM));
        /* the process is alive and can give memory back */
        assert_int_equal(SC(&x, "madvise", a, off & ~(PG - 1), 4), 0);
        assert_int_equal(SC(&x, "getrandom", a + off, 100, 0), 100);
        assert_int_equal(SC(&x, "getpid", 0), 100);
        /* a user page fault with no frame left: OOM kills */
        uint64_t rest = a + ((off + 100 + PG) & ~(PG - 1));
        os_fault_outcome o;
        while (rest < a + len &&
               os_proc_handle_fault(x.p, rest, MMU_WRITE, true, NULL, &o) ==
                   OS_FAULT_HANDLED)
            rest += PG;
        assert_int_equal(o.result, OS_FAULT_OOM);
        os_proc_exit ex;
        os_proc_exit_state(x.p, &ex);
        assert_true(ex.exited);
        assert_int_equal(ex.signo, OS_SIGKILL);
        lx_free(&x);
    }
}

static void faults_through_the_process(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        lx_init(&x, lx_abis[i], false);
        uint64_t a = anon(&x, 0, PG, 0);
        os_fault_outcome o;
        assert_int_equal(
            os_proc_handle_fault(x.p, a, MMU_WRITE, true, NULL, &o),
            OS_FAULT_HANDLED);
        assert_int_equal(
            os_proc_handle_fault(x.p, a + 64 * PG, MMU_READ, true, NULL, &o),
            OS_FAULT_SIGNAL);
        assert_int_equal(o.signo, OS_SIGSEGV);
        assert_int_equal(o.si_code, OS_SEGV_MAPERR);
        assert_int_equal(SC(&x, "mprotect", a, PG, PROT_R), 0);
        assert_int_equal(
            os_proc_handle_fault(x.p, a, MMU_WRITE, true, NULL, &o),
            OS_FAULT_SIGNAL);
        assert_int_equal(o.si_code, OS_SEGV_ACCERR);
        os_proc_exit ex;
        os_proc_exit_state(x.p, &ex);
        assert_false(ex.exited); /* the runner decides about signals */
        os_proc_kill(x.p, OS_SIGSEGV);
        os_proc_exit_state(x.p, &ex);
        assert_true(ex.exited);
        assert_int_equal(ex.status, 128 + OS_SIGSEGV);
        lx_free(&x);
    }
}

/* With a model TLB in the uaccess context, the process keeps it coherent
 * (os_tlb_sync from its PTE hook): no stale translation survives munmap,
 * mprotect or a moving mremap. */
static void model_tlb_stays_coherent(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        lx x;
        mmu_ctx ctx;
        memset(&ctx, 0, sizeof ctx);
        ctx.tlb = mmu_tlb_new(mmu_tlb_preset("generic"));
        assert_non_null(ctx.tlb);
        lx_init_cfg(&x, lx_abis[i], false, NULL, &ctx);
        TU_EQ_HEX("the ctx runs the process",
                  x.abi == OS_ABI_X86_64 ? ctx.st.x86.cr3 : ctx.st.rv.satp,
                  os_aspace_root_reg(os_proc_aspace(x.p)));
        uint64_t a = anon(&x, 0, 4 * PG, 0);
        fill(&x, a, 4 * PG, 1);
        assert_int_equal(SC(&x, "munmap", a + PG, PG), 0);
        assert_false(can_read(&x, a + PG));
        assert_int_equal(SC(&x, "mprotect", a, PG, PROT_R), 0);
        assert_false(can_write(&x, a));
        uint64_t b = OK(SC(&x, "mremap", a + 2 * PG, 2 * PG, 64 * PG, MAYMOVE));
        assert_false(can_read(&x, a + 2 * PG));
        check_fill(&x, b, PG, 3);
        assert_int_equal(SC(&x, "madvise", b, PG, 4), 0);
        uint8_t z = 1;
        lx_get(&x, b, &z, 1);
        assert_int_equal(z, 0);
        lx_free(&x);
        mmu_tlb_free(ctx.tlb);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mmap_munmap_mprotect),
        cmocka_unit_test(mremap_grows_moves_and_shrinks),
        cmocka_unit_test(madvise_dontneed_drops_pages),
        cmocka_unit_test(exhausting_ram_is_a_clean_enomem),
        cmocka_unit_test(faults_through_the_process),
        cmocka_unit_test(model_tlb_stays_coherent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
