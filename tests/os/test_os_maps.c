/*
 * test_os_maps.c - /proc/self/maps lines: byte-for-byte against the host
 * kernel's own file (every line of this process re-formatted from its
 * parsed fields), and [heap]/[stack] naming in a built address space.
 */
#include "os_harness.h"

typedef struct parsed {
    unsigned long long start, end, off, ino;
    char perms[5];
    unsigned major, minor;
    char name[512];
} parsed;

static bool parse_line(const char *line, parsed *p)
{
    int n = 0;
    memset(p, 0, sizeof *p);
    if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu%n", &p->start, &p->end,
               p->perms, &p->off, &p->major, &p->minor, &p->ino, &n) != 7)
        return false;
    const char *rest = line + n;
    while (*rest == ' ')
        rest++;
    size_t len = strcspn(rest, "\n");
    if (len >= sizeof p->name)
        return false;
    memcpy(p->name, rest, len);
    p->name[len] = '\0';
    return true;
}

static uint32_t perms_to_flags(const char *perms)
{
    uint32_t f = 0;
    if (perms[0] == 'r')
        f |= OS_VM_READ;
    if (perms[1] == 'w')
        f |= OS_VM_WRITE;
    if (perms[2] == 'x')
        f |= OS_VM_EXEC;
    if (perms[3] == 's')
        f |= OS_VM_MAYSHARE;
    return f;
}

static void maps_lines_match_the_host_kernel(void **state)
{
    (void)state;
    FILE *fp = fopen("/proc/self/maps", "r");
    if (fp == NULL)
        skip(); /* not a Linux host: nothing to compare against */
    char line[1024], out[1024];
    unsigned checked = 0, named = 0, anon = 0;
    while (fgets(line, sizeof line, fp) != NULL) {
        parsed p;
        if (!parse_line(line, &p))
            fail_msg("cannot parse: %s", line);
        os_vma v;
        memset(&v, 0, sizeof v);
        v.start = p.start;
        v.end = p.end;
        v.flags = perms_to_flags(p.perms);
        bool is_file = p.ino != 0 || p.major != 0 || p.minor != 0;
        if (is_file) {
            v.file = os_file_from_buffer("", 0, p.name, true);
            assert_non_null(v.file);
            os_file_set_identity(v.file, p.major, p.minor, p.ino);
            v.pgoff = p.off;
        }
        const char *name = p.name[0] != '\0' && !is_file ? p.name : NULL;
        os_vma_format(&v, name, out, sizeof out);
        if (is_file) {
            /* the name comes from the file object */
            os_vma_format(&v, os_file_name(v.file), out, sizeof out);
            os_file_put(v.file);
        }
        if (strcmp(out, line) != 0)
            fail_msg("\nkernel: [%s]\nmodel:  [%s]", line, out);
        checked++;
        named += p.name[0] != '\0';
        anon += p.name[0] == '\0';
    }
    fclose(fp);
    assert_true(checked >= 5);
    assert_true(named >= 3);
    (void)anon;
}

static void maps_format_handles_small_buffers(void **state)
{
    (void)state;
    os_vma v;
    memset(&v, 0, sizeof v);
    v.start = 0x400000;
    v.end = 0x401000;
    v.flags = OS_VM_READ | OS_VM_EXEC;
    char buf[16];
    int n = os_vma_format(&v, "[x]", buf, sizeof buf);
    assert_int_equal(n, 73 + 3 + 1);
    assert_int_equal((int)strlen(buf), 15);
    n = os_vma_format(&v, NULL, NULL, 0);
    const char *want = "00400000-00401000 r-xp 00000000 00:00 0 \n";
    assert_int_equal(n, (int)strlen(want));
    char full[128];
    os_vma_format(&v, NULL, full, sizeof full);
    assert_string_equal(full, want);
}

static void map_at(os_aspace *as, uint64_t addr, uint64_t len, uint32_t prot,
                   os_file *f, uint64_t off)
{
    os_map_req r = {addr, len, prot, OS_MAP_FIXED, 0, f, off};
    uint64_t got;
    assert_int_equal(os_aspace_map(as, &r, &got), 0);
}

static void maps_names_heap_and_stack_like_linux(void **state)
{
    (void)state;
    osh h;
    osh_init(&h, MMU_MODE_X86_4LEVEL, 16 * MIB);
    os_aspace as;
    osh_aspace(&h, &as);
    static const uint8_t img[0x6000];
    os_file *f = os_file_from_buffer(img, sizeof img, "/bin/prog", false);
    os_file_set_identity(f, 0xfe, 0, 1234);
    map_at(&as, 0x400000, 0x2000, OS_VM_READ | OS_VM_EXEC, f, 0);
    map_at(&as, 0x402000, 0x1000, OS_VM_READ | OS_VM_WRITE, f, 0x2000);
    map_at(&as, 0x403000, 0x2000, OS_VM_READ | OS_VM_WRITE, NULL, 0);
    as.start_brk = as.brk = 0x405000;
    /* no heap yet: the bss ends at start_brk and is not [heap] */
    assert_int_equal(os_aspace_brk(&as, 0x405000 + 0x1800), 0x406800);
    os_map_req stack = {0x7ffffffde000, 0x21000, OS_VM_READ | OS_VM_WRITE,
                        OS_MAP_FIXED | OS_MAP_GROWSDOWN, 0, NULL, 0};
    uint64_t got;
    assert_int_equal(os_aspace_map(&as, &stack, &got), 0);
    as.start_stack = 0x7fffffffe4c0;
    char buf[2048];
    size_t n = os_aspace_format_maps(&as, buf, sizeof buf);
    const char *want = /* spacing as the kernel pads: name at column 73 */
        "00400000-00402000 r-xp 00000000 fe:00 1234                        "
        "       /bin/prog\n"
        "00402000-00403000 rw-p 00002000 fe:00 1234                        "
        "       /bin/prog\n"
        "00403000-00405000 rw-p 00000000 00:00 0 \n"
        "00405000-00407000 rw-p 00000000 00:00 0                           "
        "       [heap]\n"
        "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                   "
        "       [stack]\n";
    assert_string_equal(buf, want);
    assert_int_equal((int)n, (int)strlen(want));
    assert_int_equal((int)os_aspace_format_maps(&as, NULL, 0), (int)n);
    os_file_put(f);
    os_aspace_destroy(&as);
    osh_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(maps_lines_match_the_host_kernel),
        cmocka_unit_test(maps_format_handles_small_buffers),
        cmocka_unit_test(maps_names_heap_and_stack_like_linux),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
