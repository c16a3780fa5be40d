/*
 * fdtable.c - open file descriptions (Linux's struct file: offset and
 * status flags shared by dup'ed fds) and the per-process fd table
 * (fs/file.c: lowest free fd, close-on-exec per fd, RLIMIT_NOFILE).
 * Every description of kind OFD_HOST owns one host fd.
 */
#define _POSIX_C_SOURCE 200809L

#include "proc_internal.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ofd *ofd_new(ofd_kind kind, int host, uint32_t flags, const char *path)
{
    ofd *o = calloc(1, sizeof *o);
    if (o == NULL)
        return NULL;
    o->refs = 1;
    o->kind = kind;
    o->host = host;
    o->flags = flags;
    if (path != NULL) {
        o->path = strdup(path);
        if (o->path == NULL) {
            free(o);
            return NULL;
        }
    }
    return o;
}

ofd *ofd_get(ofd *o)
{
    if (o != NULL)
        o->refs++;
    return o;
}

void ofd_put(ofd *o)
{
    if (o == NULL || --o->refs > 0)
        return;
    if (o->dir != NULL)
        closedir(o->dir);
    if (o->kind == OFD_HOST && o->host >= 0)
        close(o->host);
    os_file_put(o->map);
    free(o->mem);
    free(o->path);
    free(o);
}

void fdt_init(fdtable *t)
{
    t->slot = NULL;
    t->cap = 0;
}

void fdt_destroy(fdtable *t)
{
    for (int i = 0; i < t->cap; i++)
        ofd_put(t->slot[i].o);
    free(t->slot);
    t->slot = NULL;
    t->cap = 0;
}

ofd *fdt_get(const fdtable *t, int fd)
{
    if (fd < 0 || fd >= t->cap)
        return NULL;
    return t->slot[fd].o;
}

bool *fdt_cloexec(fdtable *t, int fd)
{
    if (fdt_get(t, fd) == NULL)
        return NULL;
    return &t->slot[fd].cloexec;
}

/* Room for fd (fd < OS_FD_HARD_MAX). */
static bool grow(fdtable *t, int fd)
{
    if (fd < t->cap)
        return true;
    int cap = t->cap ? t->cap : 64;
    while (cap <= fd)
        cap *= 2;
    if (cap > OS_FD_HARD_MAX)
        cap = OS_FD_HARD_MAX;
    fd_slot *s = realloc(t->slot, (size_t)cap * sizeof *s);
    if (s == NULL)
        return false;
    memset(s + t->cap, 0, (size_t)(cap - t->cap) * sizeof *s);
    t->slot = s;
    t->cap = cap;
    return true;
}

int fdt_install(fdtable *t, ofd *o, int min, int limit, bool cloexec)
{
    if (limit > OS_FD_HARD_MAX)
        limit = OS_FD_HARD_MAX;
    if (min < 0 || min >= limit)
        return -OS_EINVAL;
    for (int fd = min; fd < limit; fd++) {
        if (fd < t->cap && t->slot[fd].o != NULL)
            continue;
        if (!grow(t, fd))
            return -OS_ENOMEM;
        t->slot[fd].o = ofd_get(o);
        t->slot[fd].cloexec = cloexec;
        return fd;
    }
    return -OS_EMFILE;
}

int fdt_install_at(fdtable *t, int fd, ofd *o, int limit, bool cloexec)
{
    if (limit > OS_FD_HARD_MAX)
        limit = OS_FD_HARD_MAX;
    if (fd < 0 || fd >= limit)
        return -OS_EBADF;
    if (!grow(t, fd))
        return -OS_ENOMEM;
    ofd *old = t->slot[fd].o;
    t->slot[fd].o = ofd_get(o);
    t->slot[fd].cloexec = cloexec;
    ofd_put(old);
    return fd;
}

int fdt_close(fdtable *t, int fd)
{
    ofd *o = fdt_get(t, fd);
    if (o == NULL)
        return -OS_EBADF;
    t->slot[fd].o = NULL;
    t->slot[fd].cloexec = false;
    ofd_put(o);
    return 0;
}
