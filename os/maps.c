/*
 * maps.c - /proc/self/maps lines as fs/proc/task_mmu.c prints them:
 * show_vma_header_prefix() ("%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu "
 * with seq_setwidth(25 + 6 * sizeof(void *) - 1)), then seq_pad() to that
 * width plus one space before a name; file offset and device only for
 * file mappings; [heap] and [stack] by vma_is_initial_heap() (strict
 * overlap with [start_brk, brk)) and vma_is_initial_stack().
 */
#include "os_internal.h"

#include <stdio.h>

#define MAPS_NAME_COLUMN 72 /* 25 + 8 * 6 - 1 */

int os_vma_format(const os_vma *v, const char *name, char *buf, size_t n)
{
    unsigned major = 0, minor = 0;
    uint64_t ino = 0, off = 0;
    if (v->file != NULL) {
        os_file_identity(v->file, &major, &minor, &ino);
        off = v->pgoff;
    }
    char line[128];
    int len = snprintf(line, sizeof line,
                       "%08llx-%08llx %c%c%c%c %08llx %02x:%02x %llu ",
                       (unsigned long long)v->start,
                       (unsigned long long)v->end,
                       (v->flags & OS_VM_READ) ? 'r' : '-',
                       (v->flags & OS_VM_WRITE) ? 'w' : '-',
                       (v->flags & OS_VM_EXEC) ? 'x' : '-',
                       (v->flags & OS_VM_MAYSHARE) ? 's' : 'p',
                       (unsigned long long)off, major, minor,
                       (unsigned long long)ino);
    if (name == NULL)
        return snprintf(buf, n, "%s\n", line);
    int pad = len < MAPS_NAME_COLUMN ? MAPS_NAME_COLUMN - len : 0;
    return snprintf(buf, n, "%s%*s %s\n", line, pad, "", name);
}

static const char *vma_name(const os_aspace *as, const os_vma *v)
{
    if (v->file != NULL)
        return os_file_name(v->file);
    if (v->start < as->brk && v->end > as->start_brk)
        return "[heap]";
    if (v->start <= as->start_stack && v->end >= as->start_stack)
        return "[stack]";
    return NULL;
}

size_t os_aspace_format_maps(const os_aspace *as, char *buf, size_t n)
{
    size_t total = 0;
    for (const os_vma *v = as->vmas.first; v != NULL; v = v->next) {
        size_t room = total < n ? n - total : 0;
        int len = os_vma_format(v, vma_name(as, v),
                                room ? buf + total : NULL, room);
        if (len > 0)
            total += (size_t)len;
    }
    return total;
}
