/*
 * test_os_elf.c - the ELF loader on hand-made images: static (ET_EXEC)
 * and static-pie (ET_DYN) for x86-64 and riscv64 (segments, padzero, bss,
 * brk, mm fields, /proc/self/maps), the initial stack read back through
 * the page tables (argc, argv, envp, every auxv entry, 16-byte sp),
 * argument limits, a table of malformed images each with its message,
 * every truncation of a valid image, and random corruption (ASan-clean,
 * never a crash, always a message).
 */
#include "os_harness.h"

#define PG UINT64_C(4096)
#define PT_LOAD 1
#define PT_INTERP 3
#define PT_GNU_STACK UINT32_C(0x6474e551)
#define PF_X 1
#define PF_W 2
#define PF_R 4

typedef struct seg {
    uint32_t type, flags;
    uint64_t off, vaddr, filesz, memsz, align;
    uint8_t fill;
} seg;

typedef struct elf {
    uint16_t machine, type;
    uint64_t entry;
    seg s[8];
    unsigned ns;
    size_t size;
    uint8_t b[0x3000];
} elf;

static void wr(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void build(elf *e)
{
    memset(e->b, 0, sizeof e->b);
    uint8_t *h = e->b;
    memcpy(h, "\x7f" "ELF", 4);
    h[4] = 2;
    h[5] = 1;
    h[6] = 1;
    wr(h + 16, e->type, 2);
    wr(h + 18, e->machine, 2);
    wr(h + 20, 1, 4);
    wr(h + 24, e->entry, 8);
    wr(h + 32, 64, 8);
    wr(h + 52, 64, 2);
    wr(h + 54, 56, 2);
    wr(h + 56, e->ns, 2);
    wr(h + 58, 64, 2);
    size_t hdrs = 64 + 56 * (size_t)e->ns;
    for (unsigned i = 0; i < e->ns; i++) {
        const seg *s = &e->s[i];
        for (uint64_t k = s->off; k < s->off + s->filesz && k < e->size; k++)
            if (k >= hdrs)
                e->b[k] = s->fill;
    }
    for (size_t k = 0x2100; k < e->size; k++)
        e->b[k] = 0xee; /* junk after the data: padzero must hide it */
    for (unsigned i = 0; i < e->ns; i++) {
        const seg *s = &e->s[i];
        uint8_t *p = e->b + 64 + 56 * i;
        wr(p, s->type, 4);
        wr(p + 4, s->flags, 4);
        wr(p + 8, s->off, 8);
        wr(p + 16, s->vaddr, 8);
        wr(p + 24, s->vaddr, 8);
        wr(p + 32, s->filesz, 8);
        wr(p + 40, s->memsz, 8);
        wr(p + 48, s->align, 8);
    }
}

/* text at base (file 0..0x1800), data at base+0x2e00 (file 0x1e00, 0x300
 * bytes, 0x3000 in memory), a non-executable stack. */
static void standard(elf *e, bool x86, bool pie)
{
    memset(e, 0, sizeof *e);
    uint64_t base = pie ? 0 : x86 ? 0x400000 : 0x10000;
    e->machine = x86 ? OS_ELF_EM_X86_64 : OS_ELF_EM_RISCV;
    e->type = pie ? 3 : 2;
    e->entry = base + 0x1000;
    e->s[0] = (seg){PT_LOAD, PF_R | PF_X, 0, base, 0x1800, 0x1800, PG, 0xc3};
    e->s[1] = (seg){PT_LOAD, PF_R | PF_W, 0x1e00, base + 0x2e00, 0x300,
                    0x3000, PG, 0xdd};
    e->s[2] = (seg){PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16, 0};
    e->ns = 3;
    e->size = 0x2200;
    build(e);
}

typedef struct run {
    osh h;
    os_aspace as;
    os_uaccess u;
    os_file *f;
    os_exec_result r;
    char err[256];
    int rc;
} run;

static const char *const test_argv[] = {"/bin/prog", "-v", "arg two", NULL};
static const char *const test_envp[] = {"HOME=/", "LANG=C", NULL};
static const uint8_t test_random[16] = {1, 2, 3, 4, 5, 6, 7, 8,
                                        9, 10, 11, 12, 13, 14, 15, 16};

static void exec_image(run *x, mmu_paging_mode mode, const uint8_t *img,
                       size_t size, const os_exec_params *p)
{
    osh_init(&x->h, mode, 16 * MIB);
    osh_aspace(&x->h, &x->as);
    os_uaccess_init(&x->u, &x->as, NULL);
    x->f = os_file_from_buffer(img, size, "/bin/prog", true);
    assert_non_null(x->f);
    os_exec_params def = {test_argv, test_envp, NULL, 1000, 1000, 0, 0, 0,
                          test_random, 0};
    x->err[0] = '\0';
    x->rc = os_elf_exec(&x->as, &x->u, x->f, p != NULL ? p : &def, &x->r,
                        x->err, sizeof x->err);
}

static void run_free(run *x)
{
    os_aspace_destroy(&x->as);
    os_file_put(x->f);
    osh_free(&x->h);
}

static uint64_t rd64(run *x, uint64_t va)
{
    uint8_t b[8];
    if (os_copy_from_user(&x->u, b, va, 8) != 0)
        fail_msg("cannot read 0x%llx", (unsigned long long)va);
    uint64_t v = 0;
    for (unsigned i = 8; i-- > 0;)
        v = (v << 8) | b[i];
    return v;
}

static uint8_t rd8(run *x, uint64_t va)
{
    uint8_t b;
    if (os_copy_from_user(&x->u, &b, va, 1) != 0)
        fail_msg("cannot read 0x%llx", (unsigned long long)va);
    return b;
}

static void want_user_string(run *x, uint64_t va, const char *want)
{
    char got[256];
    int64_t n = os_strncpy_from_user(&x->u, got, va, sizeof got);
    if (n < 0 || strcmp(got, want) != 0)
        fail_msg("string at 0x%llx: want \"%s\"", (unsigned long long)va,
                 want);
}

/* Walk the initial stack and check it against Linux's layout. */
static void check_stack(run *x, bool x86, uint64_t bias, uint64_t phdr)
{
    uint64_t sp = x->r.sp, p = sp;
    TU_EQ_HEX("sp alignment", sp & 15, 0);
    TU_EQ_HEX("start_stack", x->as.start_stack, sp);
    TU_EQ_HEX("argc", rd64(x, p), 3);
    p += 8;
    for (unsigned i = 0; i < 3; i++, p += 8)
        want_user_string(x, rd64(x, p), test_argv[i]);
    TU_EQ_HEX("argv NULL", rd64(x, p), 0);
    p += 8;
    TU_EQ_HEX("arg_start", x->as.arg_start, rd64(x, sp + 8));
    for (unsigned i = 0; i < 2; i++, p += 8)
        want_user_string(x, rd64(x, p), test_envp[i]);
    TU_EQ_HEX("envp NULL", rd64(x, p), 0);
    p += 8;
    static const uint64_t x86_order[] = {16, 6, 17, 3, 4, 5, 7, 8, 9, 11, 12,
                                         13, 14, 23, 25, 26, 31, 15, 0};
    static const uint64_t rv_order[] = {16, 6, 17, 3, 4, 5, 7, 8, 9, 11, 12,
                                        13, 14, 23, 25, 31, 0};
    const uint64_t *order = x86 ? x86_order : rv_order;
    for (unsigned i = 0;; i++, p += 16) {
        uint64_t type = rd64(x, p), val = rd64(x, p + 8);
        TU_EQ_HEX("auxv type", type, order[i]);
        switch (type) {
        case 3:
            TU_EQ_HEX("AT_PHDR", val, phdr);
            break;
        case 4:
            TU_EQ_HEX("AT_PHENT", val, 56);
            break;
        case 5:
            TU_EQ_HEX("AT_PHNUM", val, 3);
            break;
        case 6:
            TU_EQ_HEX("AT_PAGESZ", val, 4096);
            break;
        case 7:
            TU_EQ_HEX("AT_BASE", val, 0);
            break;
        case 9:
            TU_EQ_HEX("AT_ENTRY", val, x->r.pc);
            TU_EQ_HEX("entry", x->r.pc, bias + x->r.elf.entry);
            break;
        case 11:
        case 12:
        case 13:
        case 14:
            TU_EQ_HEX("ids", val, 1000);
            break;
        case 16:
            TU_EQ_HEX("AT_HWCAP", val, x86 ? 0x178bfbff : 0x112d);
            break;
        case 17:
            TU_EQ_HEX("AT_CLKTCK", val, 100);
            break;
        case 23:
            TU_EQ_HEX("AT_SECURE", val, 0);
            break;
        case 25:
            TU_EQ_HEX("AT_RANDOM", val, x->r.random);
            for (unsigned k = 0; k < 16; k++)
                assert_int_equal(rd8(x, val + k), k + 1);
            break;
        case 31:
            TU_EQ_HEX("AT_EXECFN", val, x->r.execfn);
            want_user_string(x, val, "/bin/prog");
            break;
        case 15:
            want_user_string(x, val, "x86_64");
            break;
        default:
            break;
        }
        if (type == 0)
            break;
    }
    /* strings end 8 bytes below STACK_TOP */
    uint64_t top = x->h.layout.stack_top;
    TU_EQ_HEX("execfn placement", x->r.execfn + sizeof "/bin/prog", top - 8);
    os_vma *st = os_vma_find(&x->as.vmas, sp);
    assert_non_null(st);
    TU_EQ_HEX("stack VMA end", st->end, top);
    TU_EQ_HEX("stack VMA start: strings page - 128 KiB", st->start,
              top - 0x21000);
    assert_true(st->flags & OS_VM_GROWSDOWN);
    assert_false(st->flags & OS_VM_EXEC);
}

static void check_memory(run *x, uint64_t base)
{
    assert_int_equal(rd8(x, base + 0x1000), 0xc3);   /* text */
    assert_int_equal(rd8(x, base + 0x2e00), 0xdd);   /* data */
    assert_int_equal(rd8(x, base + 0x30ff), 0xdd);
    assert_int_equal(rd8(x, base + 0x3100), 0);      /* padzero */
    assert_int_equal(rd8(x, base + 0x3fff), 0);
    assert_int_equal(rd8(x, base + 0x4000), 0);      /* bss */
    assert_int_equal(rd8(x, base + 0x5dff), 0);
    TU_EQ_HEX("brk", x->as.brk, base + 0x6000);
    TU_EQ_HEX("start_brk", x->as.start_brk, base + 0x6000);
    TU_EQ_HEX("start_code", x->as.start_code, base);
    TU_EQ_HEX("end_code", x->as.end_code, base + 0x1800);
    TU_EQ_HEX("start_data", x->as.start_data, base + 0x2e00);
    TU_EQ_HEX("end_data", x->as.end_data, base + 0x3100);
    /* the file's page cache was not written: padzero copied the page */
    uint8_t b;
    assert_int_equal(os_file_read(x->f, 0x2100, &b, 1), 1);
    assert_int_equal(b, 0xee);
}

static void elf_static_x86_loads_like_linux(void **state)
{
    (void)state;
    static elf e;
    standard(&e, true, false);
    run *x = calloc(1, sizeof *x);
    exec_image(x, MMU_MODE_X86_4LEVEL, e.b, e.size, NULL);
    if (x->rc != 0)
        fail_msg("exec: %s", x->err);
    TU_EQ_HEX("pc", x->r.pc, 0x401000);
    TU_EQ_HEX("bias", x->r.load_bias, 0);
    check_memory(x, 0x400000);
    check_stack(x, true, 0, 0x400040);
    char maps[2048];
    os_aspace_format_maps(&x->as, maps, sizeof maps);
    const char *want =
        "00400000-00402000 r-xp 00000000 00:00 0                           "
        "       /bin/prog\n"
        "00402000-00404000 rw-p 00001000 00:00 0                           "
        "       /bin/prog\n"
        "00404000-00406000 rw-p 00000000 00:00 0 \n"
        "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                   "
        "       [stack]\n";
    assert_string_equal(maps, want);
    run_free(x);
    free(x);
}

static void elf_static_riscv_loads_like_linux(void **state)
{
    (void)state;
    static elf e;
    standard(&e, false, false);
    run *x = calloc(1, sizeof *x);
    exec_image(x, MMU_MODE_SV39, e.b, e.size, NULL);
    if (x->rc != 0)
        fail_msg("exec: %s", x->err);
    TU_EQ_HEX("pc", x->r.pc, 0x11000);
    check_memory(x, 0x10000);
    check_stack(x, false, 0, 0x10040);
    run_free(x);
    free(x);
}

static void elf_static_pie_goes_top_down(void **state)
{
    (void)state;
    static elf e;
    for (unsigned m = 0; m < 2; m++) {
        bool x86 = m == 0;
        standard(&e, x86, true);
        run *x = calloc(1, sizeof *x);
        exec_image(x, x86 ? MMU_MODE_X86_4LEVEL : MMU_MODE_SV39, e.b, e.size,
                   NULL);
        if (x->rc != 0)
            fail_msg("exec: %s", x->err);
        uint64_t bias = x->r.load_bias;
        TU_EQ_HEX("just below mmap_base", bias, x->h.layout.mmap_base - 0x6000);
        TU_EQ_HEX("pc", x->r.pc, bias + 0x1000);
        check_memory(x, bias);
        check_stack(x, x86, bias, bias + 0x40);
        run_free(x);
        free(x);
    }
    /* a 2 MiB p_align: the base is aligned down to it */
    standard(&e, true, true);
    e.s[0].align = e.s[1].align = 0x200000;
    e.s[1].vaddr = 0x202e00;
    build(&e);
    run *x = calloc(1, sizeof *x);
    exec_image(x, MMU_MODE_X86_4LEVEL, e.b, e.size, NULL);
    if (x->rc != 0)
        fail_msg("exec: %s", x->err);
    TU_EQ_HEX("2 MiB aligned", x->r.load_bias & 0x1fffff, 0);
    assert_int_equal(rd8(x, x->r.load_bias + 0x202e00), 0xdd);
    run_free(x);
    free(x);
}

static void elf_stack_args_limits_and_exec_stack(void **state)
{
    (void)state;
    static elf e;
    standard(&e, true, false);
    /* argc 0 becomes argv = {""} as Linux 5.18+ does */
    static const char *const none[] = {NULL};
    os_exec_params p = {none, NULL, "/x", 0, 0, 0, 0, 0, NULL, 7};
    run *x = calloc(1, sizeof *x);
    exec_image(x, MMU_MODE_X86_4LEVEL, e.b, e.size, &p);
    assert_int_equal(x->rc, 0);
    TU_EQ_HEX("argc", rd64(x, x->r.sp), 1);
    want_user_string(x, rd64(x, x->r.sp + 8), "");
    run_free(x);
    /* a string over MAX_ARG_STRLEN */
    char *big = malloc(200000);
    memset(big, 'a', 199999);
    big[199999] = '\0';
    const char *argv[] = {"prog", big, NULL};
    p.argv = argv;
    exec_image(x, MMU_MODE_X86_4LEVEL, e.b, e.size, &p);
    assert_int_equal(x->rc, -OS_E2BIG);
    assert_non_null(strstr(x->err, "128 KiB"));
    run_free(x);
    free(big);
    /* PT_GNU_STACK with PF_X: an executable stack */
    e.s[2].flags = PF_R | PF_W | PF_X;
    build(&e);
    p.argv = test_argv;
    exec_image(x, MMU_MODE_X86_4LEVEL, e.b, e.size, &p);
    assert_int_equal(x->rc, 0);
    assert_true(os_vma_find(&x->as.vmas, x->r.sp)->flags & OS_VM_EXEC);
    run_free(x);
    free(x);
}

/* ---- malformed images ----------------------------------------------- */

typedef void (*mutate_fn)(elf *e);

static void m_magic(elf *e) { e->b[1] = 'X'; }
static void m_class32(elf *e) { e->b[4] = 1; }
static void m_bigendian(elf *e) { e->b[5] = 2; }
static void m_version(elf *e) { e->b[6] = 0; }
static void m_type_rel(elf *e) { wr(e->b + 16, 1, 2); }
static void m_machine(elf *e) { wr(e->b + 18, 40, 2); }
static void m_phentsize(elf *e) { wr(e->b + 54, 32, 2); }
static void m_phnum0(elf *e) { wr(e->b + 56, 0, 2); }
static void m_phnum_big(elf *e) { wr(e->b + 56, 100, 2); }
static void m_phoff(elf *e) { wr(e->b + 32, 0x2190, 8); }
static void m_phoff_huge(elf *e) { wr(e->b + 32, UINT64_MAX - 8, 8); }
static void m_interp(elf *e)
{
    e->s[2] = (seg){PT_INTERP, PF_R, 0x1000, 0x401000, 28, 28, 1, 0};
    build(e);
    memcpy(e->b + 0x1000, "/lib64/ld-linux-x86-64.so.2", 28);
}
static void m_outside(elf *e) { e->s[1].filesz = 0x500; e->s[1].memsz = 0x3000; build(e); }
static void m_filesz(elf *e) { e->s[1].memsz = 0x100; build(e); }
static void m_huge(elf *e) { e->s[1].memsz = UINT64_C(1) << 62; build(e); }
static void m_wrap(elf *e) { e->s[1].vaddr = UINT64_MAX - 0xfff; e->s[1].off = 0; e->s[1].memsz = 0x2000; build(e); }
static void m_congruent(elf *e) { e->s[1].vaddr = 0x402f00; build(e); }
static void m_overlap(elf *e) { e->s[1].vaddr = 0x400e00; e->s[1].off = 0xe00; build(e); }
static void m_order(elf *e)
{
    seg t = e->s[0];
    e->s[0] = e->s[1];
    e->s[1] = t;
    build(e);
}
static void m_entry(elf *e) { e->entry = 0x900000; build(e); }
static void m_low(elf *e)
{
    e->s[0].vaddr = 0x1000;
    e->s[1].vaddr = 0x3e00;
    e->entry = 0x2000;
    build(e);
}
static void m_beyond(elf *e)
{
    e->s[1].vaddr = UINT64_C(0x7ffffffff000) - 0x1200;
    e->s[1].off = 0x1e00;
    build(e);
}
static void m_noload(elf *e) { e->s[0].type = 6; e->s[1].type = 6; build(e); }
static void m_empty(elf *e) { e->size = 0; }
static void m_short(elf *e) { e->size = 40; }

static const struct bad {
    const char *name;
    mutate_fn fn;
    const char *msg; /* expected substring */
} bads[] = {
    {"bad magic", m_magic, "bad magic"},
    {"empty file", m_empty, "bad magic"},
    {"truncated header", m_short, "truncated ELF header"},
    {"ELF32", m_class32, "only ELF64"},
    {"big-endian", m_bigendian, "not little-endian"},
    {"version", m_version, "bad ELF version"},
    {"ET_REL", m_type_rel, "not an executable"},
    {"wrong machine", m_machine, "ELF machine 40"},
    {"phentsize", m_phentsize, "e_phentsize 32"},
    {"no phdrs", m_phnum0, "e_phnum 0"},
    {"too many phdrs", m_phnum_big, "e_phnum 100"},
    {"phdrs past EOF", m_phoff, "lie outside the file"},
    {"phoff overflow", m_phoff_huge, "lie outside the file"},
    {"PT_INTERP", m_interp, "ld-linux-x86-64.so.2"},
    {"segment past EOF", m_outside, "PT_LOAD 1 lies outside the file"},
    {"filesz > memsz", m_filesz, "exceeds p_memsz"},
    {"huge memsz", m_huge, "absurd size"},
    {"wrapping vaddr", m_wrap, "absurd size"},
    {"vaddr/offset", m_congruent, "differ modulo the page size"},
    {"overlap", m_overlap, "overlaps or precedes"},
    {"unordered", m_order, "overlaps or precedes"},
    {"entry outside", m_entry, "entry point 0x900000"},
    {"below mmap_min_addr", m_low, "below vm.mmap_min_addr"},
    {"past TASK_SIZE", m_beyond, "absurd size"},
    {"no PT_LOAD", m_noload, "no loadable segment"},
};

static void elf_malformed_images_are_clear_errors(void **state)
{
    (void)state;
    static elf e;
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        standard(&e, true, false);
        bads[i].fn(&e);
        run *x = calloc(1, sizeof *x);
        exec_image(x, MMU_MODE_X86_4LEVEL, e.b, e.size, NULL);
        if (x->rc != -OS_ENOEXEC || strstr(x->err, bads[i].msg) == NULL)
            fail_msg("%s: rc %s, message \"%s\", want \"%s\"", bads[i].name,
                     os_errno_name(x->rc), x->err, bads[i].msg);
        TU_EQ_HEX("nothing mapped", x->as.vmas.count, 0);
        os_elf_info info;
        char err[256];
        assert_int_equal(os_elf_inspect(x->f, &x->h.layout, MMU_ARCH_X86,
                                        &info, err, sizeof err),
                         -OS_ENOEXEC);
        assert_string_equal(err, x->err);
        run_free(x);
        free(x);
    }
    /* the x86 image into a RISC-V space */
    standard(&e, true, false);
    run *x = calloc(1, sizeof *x);
    exec_image(x, MMU_MODE_SV39, e.b, e.size, NULL);
    assert_int_equal(x->rc, -OS_ENOEXEC);
    assert_non_null(strstr(x->err, "EM_RISCV"));
    run_free(x);
    free(x);
}

static void elf_every_truncation_fails_cleanly(void **state)
{
    (void)state;
    static elf e;
    standard(&e, false, false);
    unsigned ok = 0;
    for (size_t n = 0; n < 0x2100; n += (n < 0x200 ? 1 : 0x40)) {
        run *x = calloc(1, sizeof *x);
        exec_image(x, MMU_MODE_SV39, e.b, n, NULL);
        if (x->rc == 0)
            ok++;
        else if (x->err[0] == '\0')
            fail_msg("truncated to %zu: no message", n);
        run_free(x);
        free(x);
    }
    assert_int_equal(ok, 0); /* the data segment's file part ends at 0x2100 */
}

static void elf_random_corruption_never_crashes(void **state)
{
    (void)state;
    static elf e, c;
    uint64_t rng = 0x1234567;
    unsigned ok = 0, bad = 0;
    for (unsigned it = 0; it < 300; it++) {
        bool x86 = it & 1;
        standard(&e, x86, (it & 2) != 0);
        c = e;
        for (unsigned k = 0; k < 1 + it % 6; k++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            size_t at = (size_t)(rng % (64 + 56 * 3)); /* the headers */
            c.b[at] ^= (uint8_t)(1u << (rng >> 32) % 8);
        }
        run *x = calloc(1, sizeof *x);
        exec_image(x, x86 ? MMU_MODE_X86_4LEVEL : MMU_MODE_SV39, c.b, c.size,
                   NULL);
        if (x->rc == 0)
            ok++;
        else if (x->err[0] == '\0')
            fail_msg("iteration %u: %s without a message", it,
                     os_errno_name(x->rc));
        else
            bad++;
        run_free(x);
        free(x);
    }
    print_message("corrupted images: %u loaded, %u refused\n", ok, bad);
    assert_true(bad > 30 && ok > 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(elf_static_x86_loads_like_linux),
        cmocka_unit_test(elf_static_riscv_loads_like_linux),
        cmocka_unit_test(elf_static_pie_goes_top_down),
        cmocka_unit_test(elf_stack_args_limits_and_exec_stack),
        cmocka_unit_test(elf_malformed_images_are_clear_errors),
        cmocka_unit_test(elf_every_truncation_fails_cleanly),
        cmocka_unit_test(elf_random_corruption_never_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
