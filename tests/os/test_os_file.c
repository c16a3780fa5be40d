/*
 * test_os_file.c - files and the page cache: host-fd files (identity from
 * fstat, reads through pread), one cached frame shared by every mapping,
 * shared writable mappings written back to the fd after munmap, private
 * mappings never reaching the file, shared anonymous memory named as
 * Linux names it, and fork of a private file mapping with copied pages.
 */
#define _XOPEN_SOURCE 700 /* mkstemp */

#include "os_harness.h"

#include <sys/stat.h>
#include <unistd.h>

#define PG UINT64_C(4096)

static int temp_file(char *path, size_t n, size_t pages)
{
    snprintf(path, n, "/tmp/mmuemu-os-file-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static uint8_t page[4096];
    for (size_t i = 0; i < pages; i++) {
        memset(page, (int)('a' + i), sizeof page);
        assert_int_equal(write(fd, page, sizeof page), (ssize_t)sizeof page);
    }
    return fd;
}

static void file_fd_identity_and_reads(void **state)
{
    (void)state;
    char path[64];
    int fd = temp_file(path, sizeof path, 3);
    os_file *f = os_file_from_fd(fd, path);
    assert_non_null(f);
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    unsigned major, minor;
    uint64_t ino;
    os_file_identity(f, &major, &minor, &ino);
    TU_EQ_HEX("inode", ino, (uint64_t)sb.st_ino);
    TU_EQ_HEX("size", os_file_size(f), 3 * PG);
    close(fd); /* the file keeps its own descriptor */
    uint8_t b[8];
    assert_int_equal(os_file_read(f, PG + 5, b, 8), 8);
    assert_int_equal(b[0], 'b');
    assert_int_equal(os_file_read(f, 3 * PG - 2, b, 8), 2);
    assert_int_equal(os_file_read(f, 3 * PG, b, 8), 0);
    os_file_put(f);
    unlink(path);
}

static void file_shared_mapping_writes_back(void **state)
{
    (void)state;
    for (unsigned m = 0; m < 2; m++) {
        osh h;
        osh_init(&h, m ? MMU_MODE_SV39 : MMU_MODE_X86_4LEVEL, 16 * MIB);
        char path[64];
        int fd = temp_file(path, sizeof path, 2);
        os_file *f = os_file_from_fd(fd, path);
        os_aspace a, b;
        osh_aspace(&h, &a);
        osh_aspace(&h, &b);
        os_uaccess ua, ub;
        os_uaccess_init(&ua, &a, NULL);
        os_uaccess_init(&ub, &b, NULL);
        os_map_req shared = {0, 2 * PG, OS_VM_READ | OS_VM_WRITE,
                             OS_MAP_SHARED, 0, f, 0};
        os_map_req private = {0, 2 * PG, OS_VM_READ | OS_VM_WRITE, 0, 0, f,
                              0};
        uint64_t sa, pb;
        assert_int_equal(os_aspace_map(&a, &shared, &sa), 0);
        assert_int_equal(os_aspace_map(&b, &private, &pb), 0);
        char c;
        assert_int_equal(os_copy_from_user(&ub, &c, pb + PG, 1), 0);
        assert_int_equal(c, 'b');
        /* the shared writer changes the cached page: the private reader
         * that has not copied it sees the change (as on Linux) */
        assert_int_equal(os_copy_to_user(&ua, sa + PG, "XY", 2), 0);
        assert_int_equal(os_copy_from_user(&ub, &c, pb + PG, 1), 0);
        assert_int_equal(c, 'X');
        TU_EQ_HEX("one cached frame per page", os_file_cached_pages(f), 2);
        /* a private write never reaches the file */
        assert_int_equal(os_copy_to_user(&ub, pb, "p", 1), 0);
        assert_int_equal(os_aspace_unmap(&a, sa, 2 * PG), 0);
        assert_int_equal(os_file_sync(f), 0);
        uint8_t disk[4];
        assert_int_equal(pread(fd, disk, 2, (off_t)PG), 2);
        assert_memory_equal(disk, "XY", 2);
        assert_int_equal(pread(fd, disk, 1, 0), 1);
        assert_int_equal(disk[0], 'a');
        os_aspace_destroy(&a);
        os_aspace_destroy(&b);
        os_file_put(f);
        close(fd);
        unlink(path);
        osh_free(&h);
    }
}

static void file_shared_anonymous_is_dev_zero(void **state)
{
    (void)state;
    osh h;
    osh_init(&h, MMU_MODE_X86_4LEVEL, 16 * MIB);
    os_aspace as;
    osh_aspace(&h, &as);
    uint64_t a = osh_mmap(&as, 0, PG, OS_VM_READ | OS_VM_WRITE, OS_MAP_SHARED);
    char maps[512];
    os_aspace_format_maps(&as, maps, sizeof maps);
    char want[256];
    os_vma *v = os_vma_find(&as.vmas, a);
    unsigned major, minor;
    uint64_t ino;
    os_file_identity(v->file, &major, &minor, &ino);
    snprintf(want, sizeof want, "%llx-%llx rw-s 00000000 00:01 %llu",
             (unsigned long long)a, (unsigned long long)(a + PG),
             (unsigned long long)ino);
    assert_true(strncmp(maps, want, strlen(want)) == 0);
    assert_non_null(strstr(maps, " /dev/zero (deleted)\n"));
    os_aspace_destroy(&as);
    osh_free(&h);
}

static void file_fork_copies_private_file_ptes(void **state)
{
    (void)state;
    static uint8_t img[4 * 4096];
    memset(img, 'z', sizeof img);
    osh h;
    osh_init(&h, MMU_MODE_SV39, 16 * MIB);
    os_file *f = os_file_from_buffer(img, sizeof img, "/img", false);
    os_aspace p, c;
    osh_aspace(&h, &p);
    osh_aspace(&h, &c);
    os_uaccess up, uc;
    os_uaccess_init(&up, &p, NULL);
    os_uaccess_init(&uc, &c, NULL);
    os_map_req r = {0, 4 * PG, OS_VM_READ | OS_VM_WRITE, 0, 0, f, 0};
    uint64_t a;
    assert_int_equal(os_aspace_map(&p, &r, &a), 0);
    assert_int_equal(os_copy_to_user(&up, a, "P", 1), 0); /* a copy */
    char ch;
    assert_int_equal(os_copy_from_user(&up, &ch, a + PG, 1), 0);
    assert_int_equal(os_aspace_fork(&c, &p), 0);
    /* the VMA has anonymous pages: its PTEs were copied, both kinds */
    assert_true(os_aspace_pte(&c, a) != 0);
    assert_true(os_aspace_pte(&c, a + PG) != 0);
    TU_EQ_HEX("child rss", c.rss, p.rss);
    assert_int_equal(os_copy_from_user(&uc, &ch, a, 1), 0);
    assert_int_equal(ch, 'P');
    assert_int_equal(os_copy_to_user(&uc, a, "C", 1), 0);
    assert_int_equal(os_copy_from_user(&up, &ch, a, 1), 0);
    assert_int_equal(ch, 'P');
    os_aspace_destroy(&c);
    os_aspace_destroy(&p);
    os_file_put(f);
    osh_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(file_fd_identity_and_reads),
        cmocka_unit_test(file_shared_mapping_writes_back),
        cmocka_unit_test(file_shared_anonymous_is_dev_zero),
        cmocka_unit_test(file_fork_copies_private_file_ptes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
