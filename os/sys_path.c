/*
 * sys_path.c - system calls on paths in the sysroot (fs/open.c,
 * fs/namei.c, fs/readdir.c, fs/d_path.c, fs/stat.c readlinkat): openat
 * and open, getdents64, readlinkat and readlink, getcwd, chdir, fchdir,
 * faccessat(2) and access, mkdirat/mkdir, unlinkat/unlink/rmdir.
 *
 * Paths resolve through sysroot.c, so nothing outside the sysroot is
 * reached. A read-only sysroot refuses creation, truncation and opens for
 * writing with -EROFS after the lookup (an existing file with O_CREAT
 * still opens, as on a read-only mount). /proc/self/maps opens as a
 * snapshot of os_aspace_format_maps(); /proc/self/exe reads as the guest
 * path of the executable and opens the executable.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* d_type */

#include "proc_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define L_W_OK 2

static int nofile(const os_proc *p)
{
    uint64_t n = p->rlim[7].cur;
    return n > OS_FD_HARD_MAX ? OS_FD_HARD_MAX : (int)n;
}

static int host_open_flags(uint32_t f)
{
    int h = O_CLOEXEC | O_NOCTTY;
    switch (f & L_O_ACCMODE) {
    case L_O_WRONLY:
        h |= O_WRONLY;
        break;
    case L_O_RDWR:
        h |= O_RDWR;
        break;
    default:
        h |= O_RDONLY;
        break;
    }
    if (f & L_O_CREAT)
        h |= O_CREAT;
    if (f & L_O_EXCL)
        h |= O_EXCL;
    if (f & L_O_TRUNC)
        h |= O_TRUNC;
    if (f & L_O_APPEND)
        h |= O_APPEND;
    if (f & L_O_NONBLOCK)
        h |= O_NONBLOCK;
    if (f & L_O_DIRECTORY)
        h |= O_DIRECTORY;
    return h;
}

/* Wrap host fd h into a new guest fd. */
static int64_t install_host(os_proc *p, int h, uint32_t flags, const char *path,
                            bool cloexec)
{
    ofd *o = ofd_new(OFD_HOST, h, flags, path);
    if (o == NULL) {
        close(h);
        return -OS_ENOMEM;
    }
    struct stat st;
    if (fstat(h, &st) == 0) {
        o->is_dir = S_ISDIR(st.st_mode);
        o->is_reg = S_ISREG(st.st_mode);
    }
    int fd = fdt_install(&p->fds, o, 0, nofile(p), cloexec);
    ofd_put(o);
    return fd;
}

static int64_t open_maps(os_proc *p, uint32_t flags, bool cloexec)
{
    if ((flags & L_O_ACCMODE) != L_O_RDONLY)
        return -OS_EACCES;
    size_t n = os_aspace_format_maps(&p->mm->as, NULL, 0);
    char *buf = malloc(n + 1);
    if (buf == NULL)
        return -OS_ENOMEM;
    os_aspace_format_maps(&p->mm->as, buf, n + 1);
    ofd *o = ofd_new(OFD_MEM, -1, L_O_RDONLY, "/proc/self/maps");
    if (o == NULL) {
        free(buf);
        return -OS_ENOMEM;
    }
    o->is_reg = true;
    o->mem = buf;
    o->memlen = n;
    int fd = fdt_install(&p->fds, o, 0, nofile(p), cloexec);
    ofd_put(o);
    return fd;
}

static int64_t open_virtual(os_proc *p, vpath vp, int arg, const char *abs,
                            uint32_t flags, bool cloexec)
{
    static const char *const devs[] = {"/dev/null", "/dev/zero", "/dev/full",
                                       "/dev/random", "/dev/urandom"};
    int h;
    switch (vp) {
    case VP_NONE:
    case VP_ENOENT:
        break;
    case VP_PROC_DIR: {
        if ((flags & L_O_ACCMODE) != L_O_RDONLY)
            return -OS_EISDIR;
        ofd *o = ofd_new(OFD_MEM, -1, L_O_RDONLY, abs);
        if (o == NULL)
            return -OS_ENOMEM;
        o->is_dir = true; /* lists as empty */
        int fd = fdt_install(&p->fds, o, 0, nofile(p), cloexec);
        ofd_put(o);
        return fd;
    }
    case VP_MAPS:
        return open_maps(p, flags, cloexec);
    case VP_EXE:
        if ((flags & L_O_ACCMODE) != L_O_RDONLY)
            return -OS_EACCES; /* ETXTBSY on Linux: it is running */
        h = open(p->host_exe, O_RDONLY | O_CLOEXEC);
        return h < 0 ? host_errno(errno)
                     : install_host(p, h, L_O_RDONLY, p->exe_path, cloexec);
    case VP_DEV:
        h = open(devs[arg],
                 host_open_flags(flags & (L_O_ACCMODE | L_O_NONBLOCK)));
        if (h < 0)
            return host_errno(errno);
        int64_t fd = install_host(
            p, h, flags & (L_O_ACCMODE | L_O_APPEND | L_O_NONBLOCK), abs,
            cloexec);
        if (fd >= 0 && arg == 1)
            fdt_get(&p->fds, (int)fd)->is_zero = true;
        return fd;
    case VP_STDFD: {
        ofd *o = fdt_get(&p->fds, arg);
        return o ? fdt_install(&p->fds, o, 0, nofile(p), cloexec) : -OS_ENOENT;
    }
    }
    return -OS_ENOENT;
}

static int64_t do_open(os_proc *p, int dirfd, uint64_t upath, uint32_t flags,
                       uint32_t mode)
{
    char path[L_PATH_MAX], abs[L_PATH_MAX], canon[L_PATH_MAX];
    int rc = get_user_path(p, upath, path);
    if (rc != 0)
        return rc;
    if ((flags & L_O_TMPFILE) == L_O_TMPFILE)
        return -OS_EOPNOTSUPP;
    if ((flags & L_O_ACCMODE) == 3)
        return -OS_EINVAL;
    bool cloexec = (flags & L_O_CLOEXEC) != 0;
    if (flags & L_O_PATH)
        flags &= L_O_PATH | L_O_DIRECTORY | L_O_NOFOLLOW;
    vpath vp;
    int arg;
    rc = sysroot_lexical(p, dirfd, path, abs, &vp, &arg);
    if (rc != 0)
        return rc;
    if (path[0] == '\0')
        return -OS_ENOENT;
    if (vp != VP_NONE)
        return open_virtual(p, vp, arg, abs, flags, cloexec);
    bool missing;
    rc = sysroot_resolve(p, dirfd, path, !(flags & L_O_NOFOLLOW), canon,
                         &missing);
    bool create = rc == -OS_ENOENT && missing && (flags & L_O_CREAT);
    if (rc != 0 && !create)
        return rc;
    const char *rel = sysroot_rel(canon);
    bool wr = (flags & L_O_ACCMODE) != L_O_RDONLY;
    if (create) {
        if (!p->cfg.sysroot_writable)
            return -OS_EROFS;
    } else {
        struct stat st;
        if (fstatat(p->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0)
            return host_errno(errno);
        if ((flags & L_O_CREAT) && (flags & L_O_EXCL))
            return -OS_EEXIST;
        if (S_ISLNK(st.st_mode))
            return -OS_ELOOP; /* O_NOFOLLOW on a symlink */
        if (S_ISDIR(st.st_mode) && (wr || (flags & L_O_CREAT)))
            return -OS_EISDIR;
        if ((flags & L_O_DIRECTORY) && !S_ISDIR(st.st_mode))
            return -OS_ENOTDIR;
        if (!p->cfg.sysroot_writable &&
            (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) &&
            (wr || (flags & L_O_TRUNC)))
            return -OS_EROFS;
    }
    mode_t m = (mode_t)(mode & ~p->umask & 07777);
    int h = openat(p->rootfd, rel, host_open_flags(flags) | O_NOFOLLOW, m);
    if (h < 0)
        return host_errno(errno);
    /* the guest's umask alone decides, not the host process's */
    if (create && fchmod(h, m) != 0) {
        int e = errno;
        close(h);
        return host_errno(e);
    }
    return install_host(
        p, h, flags & (L_O_ACCMODE | L_O_APPEND | L_O_NONBLOCK | L_O_PATH),
        canon, cloexec);
}

int64_t sys_openat(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return do_open(p, arg_int(a[0]), a[1], (uint32_t)a[2], (uint32_t)a[3]);
}

int64_t sys_open(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return do_open(p, L_AT_FDCWD, a[0], (uint32_t)a[1], (uint32_t)a[2]);
}

/* ---- getdents64 ---------------------------------------------------- */

static uint8_t dirent_type(const struct dirent *de)
{
#ifdef _DIRENT_HAVE_D_TYPE
    return (uint8_t)de->d_type; /* DT_* are Linux's values */
#else
    (void)de;
    return 0;
#endif
}

int64_t sys_getdents64(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    ofd *o = fdt_get(&p->fds, arg_int(a[0]));
    uint64_t buf = a[1], count = (uint32_t)a[2];
    if (o == NULL || (o->flags & L_O_PATH))
        return -OS_EBADF;
    if (!o->is_dir)
        return -OS_ENOTDIR;
    uint64_t ts = p->k->layout.task_size;
    if (buf > ts || count > ts - buf)
        return -OS_EFAULT;
    if (o->kind == OFD_MEM)
        return 0;
    if (o->dir == NULL) {
        int d = fcntl(o->host, F_DUPFD_CLOEXEC, 0);
        if (d < 0)
            return host_errno(errno);
        o->dir = fdopendir(d);
        if (o->dir == NULL) {
            int e = errno;
            close(d);
            return host_errno(e);
        }
    }
    DIR *dir = o->dir;
    size_t cap = count < OS_BOUNCE_SIZE ? (size_t)count : OS_BOUNCE_SIZE;
    size_t used = 0;
    long first = telldir(dir);
    for (;;) {
        long pos = telldir(dir);
        errno = 0;
        struct dirent *de = readdir(dir);
        if (de == NULL) {
            if (errno != 0 && used == 0)
                return host_errno(errno);
            break;
        }
        size_t nl = strlen(de->d_name);
        size_t reclen = (19 + nl + 1 + 7) & ~(size_t)7;
        if (used + reclen > cap) {
            seekdir(dir, pos);
            if (used == 0)
                return -OS_EINVAL;
            break;
        }
        uint8_t *r = p->bounce + used;
        memset(r, 0, reclen);
        st_u64(r, 0, (uint64_t)de->d_ino);
        st_u64(r, 8, (uint64_t)telldir(dir));
        st_u16(r, 16, reclen);
        r[18] = dirent_type(de);
        memcpy(r + 19, de->d_name, nl);
        used += reclen;
    }
    if (used && os_copy_to_user(&p->u, buf, p->bounce, used) != 0) {
        seekdir(dir, first);
        return -OS_EFAULT;
    }
    return (int64_t)used;
}

/* ---- readlink ------------------------------------------------------ */

static int64_t do_readlink(os_proc *p, int dirfd, uint64_t upath, uint64_t ubuf,
                           int bufsiz)
{
    char path[L_PATH_MAX], abs[L_PATH_MAX], canon[L_PATH_MAX];
    char target[L_PATH_MAX];
    if (bufsiz <= 0)
        return -OS_EINVAL;
    int rc = get_user_path(p, upath, path);
    if (rc != 0)
        return rc;
    if (path[0] == '\0')
        return -OS_ENOENT;
    vpath vp;
    int arg;
    rc = sysroot_lexical(p, dirfd, path, abs, &vp, &arg);
    if (rc != 0)
        return rc;
    size_t n = 0;
    switch (vp) {
    case VP_NONE: {
        bool missing;
        rc = sysroot_resolve(p, dirfd, path, false, canon, &missing);
        if (rc != 0)
            return rc;
        ssize_t ln =
            readlinkat(p->rootfd, sysroot_rel(canon), target, sizeof target);
        if (ln < 0)
            return host_errno(errno);
        n = (size_t)ln;
        break;
    }
    case VP_EXE:
        n = (size_t)snprintf(target, sizeof target, "%s", p->exe_path);
        break;
    case VP_STDFD:
        n = (size_t)snprintf(target, sizeof target, "/proc/self/fd/%d", arg);
        break;
    case VP_PROC_DIR:
        if (strcmp(abs, "/proc/self") != 0)
            return -OS_EINVAL;
        n = (size_t)snprintf(target, sizeof target, "%d", p->pid);
        break;
    case VP_ENOENT:
        return -OS_ENOENT;
    case VP_MAPS:
    case VP_DEV:
        return -OS_EINVAL;
    }
    if (n > (size_t)bufsiz)
        n = (size_t)bufsiz;
    if (n > sizeof target)
        n = sizeof target;
    return os_copy_to_user(&p->u, ubuf, target, n) == 0 ? (int64_t)n
                                                        : -OS_EFAULT;
}

int64_t sys_readlinkat(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return do_readlink(p, arg_int(a[0]), a[1], a[2], arg_int(a[3]));
}

int64_t sys_readlink(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return do_readlink(p, L_AT_FDCWD, a[0], a[1], arg_int(a[2]));
}

/* ---- the working directory ----------------------------------------- */

int64_t sys_getcwd(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    size_t len = strlen(p->cwd) + 1;
    if (a[1] < len)
        return -OS_ERANGE;
    return os_copy_to_user(&p->u, a[0], p->cwd, len) == 0 ? (int64_t)len
                                                          : -OS_EFAULT;
}

int64_t sys_chdir(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    char path[L_PATH_MAX], canon[L_PATH_MAX];
    int rc = get_user_path(p, a[0], path);
    if (rc != 0)
        return rc;
    bool missing;
    rc = sysroot_resolve(p, L_AT_FDCWD, path, true, canon, &missing);
    if (rc != 0)
        return rc;
    struct stat st;
    const char *rel = sysroot_rel(canon);
    if (fstatat(p->rootfd, rel, &st, 0) != 0)
        return host_errno(errno);
    if (!S_ISDIR(st.st_mode))
        return -OS_ENOTDIR;
    if (faccessat(p->rootfd, rel, X_OK, 0) != 0)
        return host_errno(errno);
    strcpy(p->cwd, canon);
    return 0;
}

int64_t sys_fchdir(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    ofd *o = fdt_get(&p->fds, arg_int(a[0]));
    if (o == NULL)
        return -OS_EBADF;
    if (!o->is_dir || o->path == NULL || o->kind != OFD_HOST)
        return -OS_ENOTDIR;
    snprintf(p->cwd, sizeof p->cwd, "%s", o->path);
    return 0;
}

/* ---- access -------------------------------------------------------- */

static int64_t do_access(os_proc *p, int dirfd, uint64_t upath, uint32_t mode,
                         uint32_t flags)
{
    char path[L_PATH_MAX], abs[L_PATH_MAX], canon[L_PATH_MAX];
    if (mode & ~7u)
        return -OS_EINVAL;
    if (flags &
        ~(uint32_t)(L_AT_EACCESS | L_AT_SYMLINK_NOFOLLOW | L_AT_EMPTY_PATH))
        return -OS_EINVAL;
    int rc = get_user_path(p, upath, path);
    if (rc != 0)
        return rc;
    if (path[0] == '\0')
        return -OS_ENOENT;
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
    case VP_DEV:
    case VP_STDFD:
        return 0;
    case VP_PROC_DIR:
    case VP_MAPS:
    case VP_EXE:
        return (mode & L_W_OK) ? -OS_EACCES : 0;
    }
    bool missing;
    rc = sysroot_resolve(p, dirfd, path, !(flags & L_AT_SYMLINK_NOFOLLOW),
                         canon, &missing);
    if (rc != 0)
        return rc;
    const char *rel = sysroot_rel(canon);
    struct stat st;
    if (fstatat(p->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return host_errno(errno);
    if ((mode & L_W_OK) && !p->cfg.sysroot_writable &&
        (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)))
        return -OS_EROFS;
    int hm =
        (mode & 4 ? R_OK : 0) | (mode & 2 ? W_OK : 0) | (mode & 1 ? X_OK : 0);
    if (S_ISLNK(st.st_mode))
        return 0; /* a symlink not followed: exists */
    return faccessat(p->rootfd, rel, hm ? hm : F_OK, 0) == 0
               ? 0
               : host_errno(errno);
}

int64_t sys_faccessat(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return do_access(p, arg_int(a[0]), a[1], (uint32_t)a[2], 0);
}

int64_t sys_faccessat2(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return do_access(p, arg_int(a[0]), a[1], (uint32_t)a[2], (uint32_t)a[3]);
}

int64_t sys_access(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return do_access(p, L_AT_FDCWD, a[0], (uint32_t)a[1], 0);
}

/* ---- directories and names ----------------------------------------- */

static int64_t do_mkdir(os_proc *p, int dirfd, uint64_t upath, uint32_t mode)
{
    char path[L_PATH_MAX], canon[L_PATH_MAX];
    int rc = get_user_path(p, upath, path);
    if (rc != 0)
        return rc;
    bool missing;
    rc = sysroot_resolve(p, dirfd, path, false, canon, &missing);
    if (rc == 0)
        return -OS_EEXIST;
    if (rc != -OS_ENOENT || !missing)
        return rc;
    if (!p->cfg.sysroot_writable)
        return -OS_EROFS;
    mode_t m = (mode_t)(mode & ~p->umask & 07777);
    const char *rel = sysroot_rel(canon);
    if (mkdirat(p->rootfd, rel, m) != 0)
        return host_errno(errno);
    /* the guest's umask alone decides, not the host process's */
    return fchmodat(p->rootfd, rel, m, 0) == 0 ? 0 : host_errno(errno);
}

int64_t sys_mkdirat(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return do_mkdir(p, arg_int(a[0]), a[1], (uint32_t)a[2]);
}

int64_t sys_mkdir(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return do_mkdir(p, L_AT_FDCWD, a[0], (uint32_t)a[1]);
}

static int64_t do_unlink(os_proc *p, int dirfd, uint64_t upath, uint32_t flags)
{
    char path[L_PATH_MAX], canon[L_PATH_MAX];
    if (flags & ~(uint32_t)L_AT_REMOVEDIR)
        return -OS_EINVAL;
    int rc = get_user_path(p, upath, path);
    if (rc != 0)
        return rc;
    bool missing;
    rc = sysroot_resolve(p, dirfd, path, false, canon, &missing);
    if (rc != 0)
        return rc;
    if (strcmp(canon, "/") == 0)
        return -OS_EBUSY;
    if (!p->cfg.sysroot_writable)
        return -OS_EROFS;
    return unlinkat(p->rootfd, sysroot_rel(canon),
                    (flags & L_AT_REMOVEDIR) ? AT_REMOVEDIR : 0) == 0
               ? 0
               : host_errno(errno);
}

int64_t sys_unlinkat(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return do_unlink(p, arg_int(a[0]), a[1], (uint32_t)a[2]);
}

int64_t sys_unlink(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return do_unlink(p, L_AT_FDCWD, a[0], 0);
}

int64_t sys_rmdir(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return do_unlink(p, L_AT_FDCWD, a[0], L_AT_REMOVEDIR);
}
