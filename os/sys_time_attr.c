/*
 * sys_time_attr.c - file times (fs/utimes.c): utimensat (futimens is
 * utimensat with a NULL path), and the older futimesat, utimes and utime
 * (x86-64 only), all funnelled into do_utimes as in the kernel.
 *
 * Times come through uaccess: struct timespec[2] {sec, nsec} (16 bytes
 * each), struct timeval[2] {sec, usec}, struct utimbuf {actime, modtime}.
 * NULL sets both to now; UTIME_NOW and UTIME_OMIT in a tv_nsec do what
 * they say (both OMIT: nothing, not even the lookup). Paths resolve in the
 * sysroot (a symlink is followed unless AT_SYMLINK_NOFOLLOW, and the host
 * call never follows one itself); a read-only sysroot answers -EROFS after
 * the lookup and the checks of the times, as mnt_want_write does. An fd
 * (NULL path, or "" with AT_EMPTY_PATH) is its description: a regular
 * file or directory counts as the sysroot's, a pipe, tty or device is
 * changed on the host. The files the model serves itself (/proc/self/...,
 * /dev/null and the like) accept a change to now and forget it; explicit
 * times on a device are -EPERM (root owns them).
 */
#define _POSIX_C_SOURCE 200809L

#include "proc_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#define L_UTIME_NOW  ((INT64_C(1) << 30) - 1)
#define L_UTIME_OMIT ((INT64_C(1) << 30) - 2)
#define NSEC         INT64_C(1000000000)
#define USEC         INT64_C(1000000)

/* One time as the guest gave it (tv_nsec may be UTIME_NOW/OMIT). */
typedef struct utime_pair {
    int64_t sec[2], nsec[2];
} utime_pair;

static bool nsec_valid(int64_t ns)
{
    return ns == L_UTIME_NOW || ns == L_UTIME_OMIT || (ns >= 0 && ns < NSEC);
}

static void host_times(const utime_pair *t, struct timespec h[2])
{
    for (unsigned i = 0; i < 2; i++) {
        h[i].tv_sec = (time_t)t->sec[i];
        h[i].tv_nsec = t->nsec[i] == L_UTIME_NOW    ? UTIME_NOW
                       : t->nsec[i] == L_UTIME_OMIT ? UTIME_OMIT
                                                    : (long)t->nsec[i];
    }
}

/* Change the times of a description (do_utimes_fd's vfs_utimes). */
static int64_t utimes_ofd(os_proc *p, ofd *o, const struct timespec *h)
{
    if (o->kind == OFD_MEM)
        return 0; /* procfs: accepted */
    if (!p->cfg.sysroot_writable && (o->is_reg || o->is_dir))
        return -OS_EROFS;
    return futimens(o->host, h) == 0 ? 0 : host_errno(errno);
}

/* do_utimes: (dirfd, upath) with flags, or the fd when upath is NULL and
 * dirfd names one. t NULL: now. */
static int64_t do_utimes(os_proc *p, int dirfd, uint64_t upath,
                         const utime_pair *t, uint32_t flags)
{
    struct timespec hb[2], *h = NULL;
    if (t != NULL) {
        host_times(t, hb);
        h = hb;
    }
    bool valid = t == NULL || (nsec_valid(t->nsec[0]) && nsec_valid(t->nsec[1]));
    bool now = t == NULL || (t->nsec[0] == L_UTIME_NOW &&
                             t->nsec[1] == L_UTIME_NOW);
    if (upath == 0 && dirfd != L_AT_FDCWD) { /* futimens */
        if (flags != 0)
            return -OS_EINVAL;
        ofd *o = fdt_get(&p->fds, dirfd);
        if (o == NULL || (o->flags & L_O_PATH))
            return -OS_EBADF;
        return valid ? utimes_ofd(p, o, h) : -OS_EINVAL;
    }
    if (flags & ~(uint32_t)(L_AT_SYMLINK_NOFOLLOW | L_AT_EMPTY_PATH))
        return -OS_EINVAL;
    char path[L_PATH_MAX], abs[L_PATH_MAX], canon[L_PATH_MAX];
    int rc = get_user_path(p, upath, path);
    if (rc != 0)
        return rc;
    if (path[0] == '\0') {
        if (!(flags & L_AT_EMPTY_PATH))
            return -OS_ENOENT;
        if (dirfd != L_AT_FDCWD) {
            ofd *o = fdt_get(&p->fds, dirfd);
            if (o == NULL)
                return -OS_EBADF;
            return valid ? utimes_ofd(p, o, h) : -OS_EINVAL;
        }
        strcpy(path, ".");
    }
    vpath vp;
    int arg;
    rc = sysroot_lexical(p, dirfd, path, abs, &vp, &arg);
    if (rc != 0)
        return rc;
    switch (vp) {
    case VP_NONE:
        break;
    case VP_ENOENT:
        return -OS_ENOENT;
    case VP_PROC_DIR:
    case VP_MAPS:
    case VP_EXE:
        return valid ? 0 : -OS_EINVAL;
    case VP_DEV:
        return !valid ? -OS_EINVAL : now ? 0 : -OS_EPERM;
    case VP_STDFD: {
        ofd *o = fdt_get(&p->fds, arg);
        if (o == NULL)
            return -OS_ENOENT;
        return valid ? utimes_ofd(p, o, h) : -OS_EINVAL;
    }
    }
    bool missing;
    rc = sysroot_resolve(p, dirfd, path, !(flags & L_AT_SYMLINK_NOFOLLOW),
                         canon, &missing);
    if (rc != 0)
        return rc;
    if (!valid)
        return -OS_EINVAL;
    if (!p->cfg.sysroot_writable)
        return -OS_EROFS;
    return utimensat(p->rootfd, sysroot_rel(canon), h, AT_SYMLINK_NOFOLLOW) ==
                   0
               ? 0
               : host_errno(errno);
}

int64_t sys_utimensat(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    utime_pair t;
    if (a[2] != 0) {
        uint8_t b[32];
        if (os_copy_from_user(&p->u, b, a[2], sizeof b) != 0)
            return -OS_EFAULT;
        for (unsigned i = 0; i < 2; i++) {
            t.sec[i] = (int64_t)ld_u64(b, 16 * i);
            t.nsec[i] = (int64_t)ld_u64(b, 16 * i + 8);
        }
        if (t.nsec[0] == L_UTIME_OMIT && t.nsec[1] == L_UTIME_OMIT)
            return 0; /* nothing to do: not even the lookup */
    }
    return do_utimes(p, arg_int(a[0]), a[1], a[2] != 0 ? &t : NULL,
                     (uint32_t)a[3]);
}

/* futimesat and utimes: struct timeval[2]; usec checked here (UTIME_NOW
 * and UTIME_OMIT are not times of theirs). */
static int64_t do_futimesat(os_proc *p, int dirfd, uint64_t upath,
                            uint64_t utv)
{
    utime_pair t;
    if (utv != 0) {
        uint8_t b[32];
        if (os_copy_from_user(&p->u, b, utv, sizeof b) != 0)
            return -OS_EFAULT;
        for (unsigned i = 0; i < 2; i++) {
            int64_t us = (int64_t)ld_u64(b, 16 * i + 8);
            if (us < 0 || us >= USEC)
                return -OS_EINVAL;
            t.sec[i] = (int64_t)ld_u64(b, 16 * i);
            t.nsec[i] = us * 1000;
        }
    }
    return do_utimes(p, dirfd, upath, utv != 0 ? &t : NULL, 0);
}

int64_t sys_futimesat(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return do_futimesat(p, arg_int(a[0]), a[1], a[2]);
}

int64_t sys_utimes(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return do_futimesat(p, L_AT_FDCWD, a[0], a[1]);
}

int64_t sys_utime(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    utime_pair t;
    if (a[1] != 0) {
        uint8_t b[16];
        if (os_copy_from_user(&p->u, b, a[1], sizeof b) != 0)
            return -OS_EFAULT;
        t = (utime_pair){{(int64_t)ld_u64(b, 0), (int64_t)ld_u64(b, 8)},
                         {0, 0}};
    }
    return do_utimes(p, L_AT_FDCWD, a[0], a[1] != 0 ? &t : NULL, 0);
}
