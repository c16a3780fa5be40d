/*
 * file.c - files that VMAs map, and their page cache (see mmuemu/os.h,
 * section 3).
 *
 * The cache is an array indexed by page number, made on first use: each
 * slot holds the frame's PA with a "cached" and a "dirty" bit in the low
 * bits (frames are 4 KiB aligned). The cache holds one reference on each
 * frame; every PTE mapping it holds another.
 */
#define _POSIX_C_SOURCE 200809L

#include "os_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SLOT_CACHED UINT64_C(1)
#define SLOT_DIRTY UINT64_C(2)

enum file_kind { FILE_BUFFER, FILE_FD, FILE_SHMEM };

struct os_file {
    unsigned refs;
    enum file_kind kind;
    const uint8_t *buf;
    uint8_t *owned;
    uint64_t size;
    int fd;
    char *name;
    unsigned major, minor;
    uint64_t ino;
    os_frames *frames;  /* where the cached frames come from */
    uint64_t *slot;     /* per page: PA | SLOT_* bits, 0 = not cached */
    uint64_t nslots, cached;
};

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

static os_file *new_file(enum file_kind kind, uint64_t size, const char *name)
{
    os_file *f = calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    f->refs = 1;
    f->kind = kind;
    f->size = size;
    f->fd = -1;
    f->name = dup_str(name != NULL ? name : "");
    if (f->name == NULL) {
        free(f);
        return NULL;
    }
    return f;
}

os_file *os_file_from_buffer(const void *data, uint64_t size,
                             const char *name, bool copy)
{
    if (size > SIZE_MAX)
        return NULL;
    os_file *f = new_file(FILE_BUFFER, size, name);
    if (f == NULL)
        return NULL;
    if (copy) {
        f->owned = malloc(size ? (size_t)size : 1);
        if (f->owned == NULL) {
            os_file_put(f);
            return NULL;
        }
        if (size)
            memcpy(f->owned, data, (size_t)size);
        f->buf = f->owned;
    } else {
        f->buf = data;
    }
    return f;
}

/* Linux's dev_t encoding (new_decode_dev). */
static void decode_dev(uint64_t dev, unsigned *major, unsigned *minor)
{
    *major = (unsigned)(((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfffu));
    *minor = (unsigned)((dev & 0xff) | ((dev >> 12) & ~0xffu));
}

os_file *os_file_from_fd(int fd, const char *name)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0 || sb.st_size < 0)
        return NULL;
    os_file *f = new_file(FILE_FD, (uint64_t)sb.st_size, name);
    if (f == NULL)
        return NULL;
    f->fd = dup(fd);
    if (f->fd < 0) {
        os_file_put(f);
        return NULL;
    }
    decode_dev((uint64_t)sb.st_dev, &f->major, &f->minor);
    f->ino = (uint64_t)sb.st_ino;
    return f;
}

os_file *os_file_shmem(uint64_t size)
{
    static uint64_t next_ino = 1;
    os_file *f = new_file(FILE_SHMEM, size, "/dev/zero (deleted)");
    if (f != NULL) {
        f->minor = 1; /* the shmem mount: 00:01 */
        f->ino = next_ino++;
    }
    return f;
}

os_file *os_file_get(os_file *f)
{
    if (f != NULL)
        f->refs++;
    return f;
}

void os_file_put(os_file *f)
{
    if (f == NULL || --f->refs > 0)
        return;
    for (uint64_t i = 0; i < f->nslots; i++)
        if (f->slot[i] & SLOT_CACHED)
            os_frames_put(f->frames, f->slot[i] & PAGE_MASK);
    if (f->fd >= 0)
        close(f->fd);
    free(f->slot);
    free(f->owned);
    free(f->name);
    free(f);
}

uint64_t os_file_size(const os_file *f)
{
    return f->size;
}

const char *os_file_name(const os_file *f)
{
    return f->name;
}

bool os_file_is_shmem(const os_file *f)
{
    return f->kind == FILE_SHMEM;
}

void os_file_set_identity(os_file *f, unsigned major, unsigned minor,
                          uint64_t ino)
{
    f->major = major;
    f->minor = minor;
    f->ino = ino;
}

void os_file_identity(const os_file *f, unsigned *major, unsigned *minor,
                      uint64_t *ino)
{
    *major = f->major;
    *minor = f->minor;
    *ino = f->ino;
}

int64_t os_file_read(os_file *f, uint64_t off, void *dst, uint64_t len)
{
    if (off >= f->size)
        return 0;
    if (len > f->size - off)
        len = f->size - off;
    switch (f->kind) {
    case FILE_BUFFER:
        memcpy(dst, f->buf + off, (size_t)len);
        return (int64_t)len;
    case FILE_SHMEM:
        memset(dst, 0, (size_t)len);
        return (int64_t)len;
    case FILE_FD:
        break;
    }
    uint64_t got = 0;
    while (got < len) {
        ssize_t r = pread(f->fd, (uint8_t *)dst + got, (size_t)(len - got),
                          (off_t)(off + got));
        if (r < 0)
            return -OS_EIO;
        if (r == 0)
            break;
        got += (uint64_t)r;
    }
    return (int64_t)got;
}

static int ensure_slots(os_file *f, os_frames *frames)
{
    if (f->frames != NULL && f->frames != frames)
        return -OS_EIO; /* one machine per file */
    f->frames = frames;
    if (f->slot != NULL)
        return 0;
    uint64_t n = page_up(f->size) / PAGE;
    f->slot = calloc(n ? (size_t)n : 1, sizeof *f->slot);
    if (f->slot == NULL)
        return -OS_ENOMEM;
    f->nslots = n;
    return 0;
}

int os_file_get_page(os_file *f, os_frames *frames, uint64_t idx,
                     uint64_t *pa)
{
    if (idx >= page_up(f->size) / PAGE)
        return -OS_ENXIO;
    int rc = ensure_slots(f, frames);
    if (rc != 0)
        return rc;
    if (!(f->slot[idx] & SLOT_CACHED)) {
        uint64_t fr;
        rc = os_frames_alloc(frames, OS_FRAME_PCACHE, &fr);
        if (rc != 0)
            return rc;
        if (os_file_read(f, idx * PAGE, os_frames_ptr(frames, fr), PAGE) < 0) {
            os_frames_put(frames, fr);
            return -OS_EIO;
        }
        f->slot[idx] = fr | SLOT_CACHED;
        f->cached++;
    }
    *pa = f->slot[idx] & PAGE_MASK;
    os_frames_get(frames, *pa);
    return 0;
}

bool os_file_peek_page(const os_file *f, uint64_t idx, uint64_t *pa)
{
    if (idx >= f->nslots || !(f->slot[idx] & SLOT_CACHED))
        return false;
    *pa = f->slot[idx] & PAGE_MASK;
    return true;
}

void os_file_mark_dirty(os_file *f, uint64_t idx)
{
    if (idx < f->nslots && (f->slot[idx] & SLOT_CACHED))
        f->slot[idx] |= SLOT_DIRTY;
}

int os_file_sync(os_file *f)
{
    for (uint64_t i = 0; i < f->nslots; i++) {
        if (!(f->slot[i] & SLOT_DIRTY))
            continue;
        f->slot[i] &= ~SLOT_DIRTY;
        if (f->kind != FILE_FD)
            continue;
        uint64_t off = i * PAGE, len = f->size - off < PAGE ? f->size - off
                                                            : PAGE;
        const uint8_t *src = os_frames_ptr(f->frames, f->slot[i] & PAGE_MASK);
        if (pwrite(f->fd, src, (size_t)len, (off_t)off) != (ssize_t)len)
            return -OS_EIO;
    }
    return 0;
}

uint64_t os_file_cached_pages(const os_file *f)
{
    return f->cached;
}
