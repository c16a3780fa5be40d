/*
 * sys_io.c - I/O on file descriptors (fs/read_write.c, fs/fcntl.c,
 * fs/file.c, fs/pipe.c, fs/ioctl.c): read, write and their vector and
 * positioned forms, lseek, close, sendfile, dup*, fcntl, pipe*, ioctl,
 * fsync, ftruncate.
 *
 * Data moves through a 64 KiB host bounce buffer and os_uaccess: the user
 * range is checked against TASK_SIZE first (access_ok: -EFAULT), a count
 * is clamped to MAX_RW_COUNT, regular files are read or written in chunks
 * until done, anything else (pipes, ttys) in one host call, so a blocking
 * descriptor blocks at most once. A copy that faults part-way returns the
 * bytes moved so far (a regular file's offset is put back to match), or
 * -EFAULT when none were. A write to a pipe without readers raises
 * SIGPIPE at the process (the host's own SIGPIPE must be ignored).
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* ioctl, FIONREAD */

#include "proc_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define L_SEEK_MAX        4 /* SEEK_HOLE */
#define L_SIGPIPE         13
#define L_F_DUPFD         0
#define L_F_GETFD         1
#define L_F_SETFD         2
#define L_F_GETFL         3
#define L_F_SETFL         4
#define L_F_GETLK         5
#define L_F_SETLK         6
#define L_F_SETLKW        7
#define L_F_SETOWN        8
#define L_F_GETOWN        9
#define L_F_OFD_GETLK     36
#define L_F_OFD_SETLK     37
#define L_F_OFD_SETLKW    38
#define L_F_DUPFD_CLOEXEC 1030
#define L_F_UNLCK         2
#define L_FD_CLOEXEC      1

#define L_TCGETS       0x5401u
#define L_TCSETS       0x5402u
#define L_TCSETSW      0x5403u
#define L_TCSETSF      0x5404u
#define L_TIOCGPGRP    0x540fu
#define L_TIOCSPGRP    0x5410u
#define L_TIOCGWINSZ   0x5413u
#define L_TIOCSWINSZ   0x5414u
#define L_FIONREAD     0x541bu
#define L_FIONBIO      0x5421u
#define L_FIONCLEX     0x5450u
#define L_FIOCLEX      0x5451u
#define L_TERMIOS_SIZE 36 /* struct termios of the kernel */

static bool readable(const ofd *o)
{
    uint32_t m = o->flags & L_O_ACCMODE;
    return !(o->flags & L_O_PATH) && (m == L_O_RDONLY || m == L_O_RDWR);
}

static bool writable(const ofd *o)
{
    uint32_t m = o->flags & L_O_ACCMODE;
    return !(o->flags & L_O_PATH) && (m == L_O_WRONLY || m == L_O_RDWR);
}

static bool access_ok(const os_proc *p, uint64_t va, uint64_t len)
{
    uint64_t ts = p->k->layout.task_size;
    return va <= ts && len <= ts - va;
}

static int nofile(const os_proc *p)
{
    uint64_t n = p->rlim[7].cur;
    return n > OS_FD_HARD_MAX ? OS_FD_HARD_MAX : (int)n;
}

/* ---- the data path ------------------------------------------------- */

/* Read from o into guest buf at off (-1: the file offset). */
static int64_t do_read(os_proc *p, ofd *o, uint64_t buf, uint64_t len,
                       int64_t off)
{
    if (!readable(o))
        return -OS_EBADF;
    if (o->is_dir)
        return -OS_EISDIR;
    if (len > L_MAX_RW_COUNT)
        len = L_MAX_RW_COUNT;
    if (!access_ok(p, buf, len))
        return -OS_EFAULT;
    if (o->kind == OFD_MEM) {
        uint64_t pos = off < 0 ? o->memoff : (uint64_t)off;
        uint64_t n = pos < o->memlen ? o->memlen - pos : 0;
        n = n < len ? n : len;
        if (n && os_copy_to_user(&p->u, buf, o->mem + pos, (size_t)n) != 0)
            n = p->u.done;
        if (n == 0 && len != 0 && pos < o->memlen)
            return -OS_EFAULT;
        if (off < 0)
            o->memoff += n;
        return (int64_t)n;
    }
    uint64_t done = 0;
    while (done < len) {
        size_t chunk =
            len - done < OS_BOUNCE_SIZE ? (size_t)(len - done) : OS_BOUNCE_SIZE;
        ssize_t n = off < 0 ? read(o->host, p->bounce, chunk)
                            : pread(o->host, p->bounce, chunk,
                                    (off_t)(off + (int64_t)done));
        if (n < 0)
            return done ? (int64_t)done : host_errno(errno);
        if (n == 0)
            break;
        int crc = os_copy_to_user(&p->u, buf + done, p->bounce, (size_t)n);
        if (crc != 0) {
            size_t got = p->u.done;
            if (o->is_reg && off < 0)
                lseek(o->host, -(off_t)((size_t)n - got), SEEK_CUR);
            done += got;
            p->st.bytes_read += done;
            /* out of frames: -ENOMEM, a clean failure of the call */
            return done                ? (int64_t)done
                   : crc == -OS_ENOMEM ? -OS_ENOMEM
                                       : -OS_EFAULT;
        }
        done += (uint64_t)n;
        if ((size_t)n < chunk || !o->is_reg)
            break;
    }
    p->st.bytes_read += done;
    return (int64_t)done;
}

static int64_t write_loop(os_proc *p, ofd *o, uint64_t buf, uint64_t len,
                          int64_t off, os_sysret *out, bool nowait);

/* Write guest buf to o at off (-1: the file offset). */
static int64_t do_write(os_proc *p, ofd *o, uint64_t buf, uint64_t len,
                        int64_t off, os_sysret *out)
{
    if (!writable(o) || o->kind != OFD_HOST)
        return -OS_EBADF;
    if (len > L_MAX_RW_COUNT)
        len = L_MAX_RW_COUNT;
    if (!access_ok(p, buf, len))
        return -OS_EFAULT;
    /* A pipe whose reader may be another guest process (which cannot run
     * while the host blocks): write what fits without blocking; if
     * nothing does (writes up to PIPE_BUF go in whole or not at all),
     * the call blocks in the runner's sense and is re-issued. */
    int host_fl = -1;
    if (off < 0 && proc_write_may_block(p, o)) {
        host_fl = fcntl(o->host, F_GETFL);
        if (host_fl < 0 || fcntl(o->host, F_SETFL, host_fl | O_NONBLOCK) != 0)
            host_fl = -1;
    }
    int64_t r = write_loop(p, o, buf, len, off, out, host_fl >= 0);
    if (host_fl >= 0)
        (void)fcntl(o->host, F_SETFL, host_fl);
    return r;
}

static int64_t write_loop(os_proc *p, ofd *o, uint64_t buf, uint64_t len,
                          int64_t off, os_sysret *out, bool nowait)
{
    uint64_t done = 0;
    while (done < len) {
        size_t chunk =
            len - done < OS_BOUNCE_SIZE ? (size_t)(len - done) : OS_BOUNCE_SIZE;
        bool faulted = false;
        if (os_copy_from_user(&p->u, p->bounce, buf + done, chunk) != 0) {
            chunk = p->u.done;
            faulted = true;
            if (chunk == 0) {
                p->st.bytes_written += done;
                return done ? (int64_t)done : -OS_EFAULT;
            }
        }
        ssize_t n = off < 0 ? write(o->host, p->bounce, chunk)
                            : pwrite(o->host, p->bounce, chunk,
                                     (off_t)(off + (int64_t)done));
        if (n < 0) {
            if (nowait && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                if (done == 0) {
                    out->flags |= OS_SYSRET_BLOCKED;
                    proc_wait_fd(p, o->host, POLLOUT);
                }
                break;
            }
            int rc = host_errno(errno);
            if (rc == -OS_EPIPE)
                proc_raise(p, L_SIGPIPE, out);
            return done ? (int64_t)done : rc;
        }
        done += (uint64_t)n;
        if ((size_t)n < chunk || faulted)
            break;
    }
    p->st.bytes_written += done;
    return (int64_t)done;
}

int64_t sys_read(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    ofd *o = fdt_get(&p->fds, arg_int(a[0]));
    if (o != NULL && proc_read_would_block(p, o)) {
        out->flags |= OS_SYSRET_BLOCKED;
        return 0;
    }
    return o ? do_read(p, o, a[1], a[2], -1) : -OS_EBADF;
}

int64_t sys_write(os_proc *p, const uint64_t *a, os_sysret *out)
{
    ofd *o = fdt_get(&p->fds, arg_int(a[0]));
    return o ? do_write(p, o, a[1], a[2], -1, out) : -OS_EBADF;
}

int64_t sys_pread64(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    ofd *o = fdt_get(&p->fds, arg_int(a[0]));
    if (o == NULL)
        return -OS_EBADF;
    if ((int64_t)a[3] < 0)
        return -OS_EINVAL;
    return do_read(p, o, a[1], a[2], (int64_t)a[3]);
}

int64_t sys_pwrite64(os_proc *p, const uint64_t *a, os_sysret *out)
{
    ofd *o = fdt_get(&p->fds, arg_int(a[0]));
    if (o == NULL)
        return -OS_EBADF;
    if ((int64_t)a[3] < 0)
        return -OS_EINVAL;
    return do_write(p, o, a[1], a[2], (int64_t)a[3], out);
}

/* readv / writev: import_iovec() then one segment after the other. */
static int64_t do_vec(os_proc *p, const uint64_t *a, bool wr, os_sysret *out)
{
    ofd *o = fdt_get(&p->fds, arg_int(a[0]));
    if (o == NULL)
        return -OS_EBADF;
    uint64_t cnt = (uint32_t)a[2];
    if (cnt > L_UIO_MAXIOV)
        return -OS_EINVAL;
    if (cnt == 0)
        return 0;
    uint8_t *iov = malloc((size_t)cnt * 16);
    if (iov == NULL)
        return -OS_ENOMEM;
    int64_t total = 0, rc = 0;
    if (os_copy_from_user(&p->u, iov, a[1], (size_t)cnt * 16) != 0)
        rc = -OS_EFAULT;
    uint64_t sum = 0;
    for (uint64_t i = 0; rc == 0 && i < cnt; i++) {
        uint64_t base = ld_u64(iov, 16 * i), len = ld_u64(iov, 16 * i + 8);
        if ((int64_t)len < 0)
            rc = -OS_EINVAL;
        else if (!access_ok(p, base, len))
            rc = -OS_EFAULT;
        sum += len;
    }
    (void)sum; /* the total is clamped below as rw_verify_area() does */
    uint64_t left = L_MAX_RW_COUNT;
    for (uint64_t i = 0; rc == 0 && i < cnt && left > 0; i++) {
        uint64_t base = ld_u64(iov, 16 * i), len = ld_u64(iov, 16 * i + 8);
        if (len > left)
            len = left;
        if (len == 0)
            continue;
        int64_t r = wr ? do_write(p, o, base, len, -1, out)
                       : do_read(p, o, base, len, -1);
        if (r < 0) {
            if (total == 0)
                rc = r;
            break;
        }
        total += r;
        left -= (uint64_t)r;
        if ((uint64_t)r < len)
            break;
    }
    free(iov);
    return rc != 0 ? rc : total;
}

int64_t sys_readv(os_proc *p, const uint64_t *a, os_sysret *out)
{
    ofd *o = fdt_get(&p->fds, arg_int(a[0]));
    if (o != NULL && proc_read_would_block(p, o)) {
        out->flags |= OS_SYSRET_BLOCKED;
        return 0;
    }
    return do_vec(p, a, false, out);
}

int64_t sys_writev(os_proc *p, const uint64_t *a, os_sysret *out)
{
    return do_vec(p, a, true, out);
}

int64_t sys_lseek(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    ofd *o = fdt_get(&p->fds, arg_int(a[0]));
    int whence = arg_int(a[2]);
    int64_t off = (int64_t)a[1];
    if (o == NULL)
        return -OS_EBADF;
    if (whence < 0 || whence > L_SEEK_MAX)
        return -OS_EINVAL;
    if (o->kind == OFD_MEM) {
        int64_t base = whence == 0   ? 0
                       : whence == 1 ? (int64_t)o->memoff
                       : whence == 2 ? (int64_t)o->memlen
                                     : -1;
        if (base < 0 || off > INT64_MAX - base || base + off < 0)
            return -OS_EINVAL;
        o->memoff = (uint64_t)(base + off);
        return (int64_t)o->memoff;
    }
    static const int host_whence[] = {SEEK_SET, SEEK_CUR, SEEK_END};
    if (whence > 2)
        return -OS_EINVAL; /* SEEK_DATA / SEEK_HOLE: not modelled */
    off_t r = lseek(o->host, (off_t)off, host_whence[whence]);
    if (r < 0)
        return host_errno(errno);
    if (o->dir != NULL && r == 0)
        rewinddir(o->dir);
    return (int64_t)r;
}

int64_t sys_close(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    return fdt_close(&p->fds, arg_int(a[0]));
}

/* sendfile(out_fd, in_fd, *offset, count). */
int64_t sys_sendfile(os_proc *p, const uint64_t *a, os_sysret *out)
{
    ofd *dst = fdt_get(&p->fds, arg_int(a[0]));
    ofd *src = fdt_get(&p->fds, arg_int(a[1]));
    if (dst == NULL || src == NULL || !readable(src) || !writable(dst) ||
        src->kind != OFD_HOST || dst->kind != OFD_HOST)
        return -OS_EBADF;
    uint64_t count = a[3] > L_MAX_RW_COUNT ? L_MAX_RW_COUNT : a[3];
    int64_t off = -1;
    if (a[2] != 0) {
        uint64_t v;
        if (get_user_u64(p, a[2], &v) != 0)
            return -OS_EFAULT;
        if ((int64_t)v < 0)
            return -OS_EINVAL;
        off = (int64_t)v;
    }
    if (src->is_dir)
        return -OS_EISDIR;
    /* Another guest process may be the pipe's other end: block in the
     * runner's sense, never on the host (see do_write). A pipe with room
     * (POLLOUT: a free page) takes PIPE_BUF bytes without blocking. */
    if (off < 0 && proc_read_would_block(p, src)) {
        out->flags |= OS_SYSRET_BLOCKED;
        return 0;
    }
    if (proc_write_may_block(p, dst)) {
        struct pollfd pf = {.fd = dst->host, .events = POLLOUT};
        if (poll(&pf, 1, 0) == 0) {
            out->flags |= OS_SYSRET_BLOCKED;
            proc_wait_fd(p, dst->host, POLLOUT);
            return 0;
        }
        if (count > L_PIPE_BUF)
            count = L_PIPE_BUF;
    }
    uint64_t done = 0;
    int64_t rc = 0;
    while (done < count) {
        size_t chunk = count - done < OS_BOUNCE_SIZE ? (size_t)(count - done)
                                                     : OS_BOUNCE_SIZE;
        ssize_t n = off < 0 ? read(src->host, p->bounce, chunk)
                            : pread(src->host, p->bounce, chunk,
                                    (off_t)(off + (int64_t)done));
        if (n <= 0) {
            rc = n < 0 ? host_errno(errno) : 0;
            break;
        }
        ssize_t w = write(dst->host, p->bounce, (size_t)n);
        if (w < 0) {
            rc = host_errno(errno);
            if (rc == -OS_EPIPE)
                proc_raise(p, L_SIGPIPE, out);
            w = 0;
        }
        if (w < n && off < 0 && src->is_reg)
            lseek(src->host, -(off_t)(n - w), SEEK_CUR);
        done += (uint64_t)w;
        if (w < n || (size_t)n < chunk || !src->is_reg)
            break;
    }
    p->st.bytes_read += done;
    p->st.bytes_written += done;
    if (off >= 0 && put_user_u64(p, a[2], (uint64_t)off + done) != 0)
        return -OS_EFAULT;
    return done ? (int64_t)done : rc;
}

/* ---- descriptors --------------------------------------------------- */

int64_t sys_dup(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    ofd *o = fdt_get(&p->fds, arg_int(a[0]));
    return o ? fdt_install(&p->fds, o, 0, nofile(p), false) : -OS_EBADF;
}

static int64_t dup_to(os_proc *p, int old, int nfd, bool cloexec)
{
    ofd *o = fdt_get(&p->fds, old);
    if (o == NULL)
        return -OS_EBADF;
    if (nfd < 0 || nfd >= nofile(p))
        return -OS_EBADF;
    return fdt_install_at(&p->fds, nfd, o, nofile(p), cloexec);
}

int64_t sys_dup2(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    int old = arg_int(a[0]), nfd = arg_int(a[1]);
    if (old == nfd)
        return fdt_get(&p->fds, old) ? nfd : -OS_EBADF;
    return dup_to(p, old, nfd, false);
}

int64_t sys_dup3(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    int old = arg_int(a[0]), nfd = arg_int(a[1]);
    uint32_t flags = (uint32_t)a[2];
    if ((flags & ~(uint32_t)L_O_CLOEXEC) || old == nfd)
        return -OS_EINVAL;
    return dup_to(p, old, nfd, flags & L_O_CLOEXEC);
}

static int64_t set_host_fl(ofd *o, uint32_t flags)
{
    if (o->kind == OFD_HOST) {
        int fl = fcntl(o->host, F_GETFL);
        if (fl < 0)
            return host_errno(errno);
        fl &= ~(O_APPEND | O_NONBLOCK);
        if (flags & L_O_APPEND)
            fl |= O_APPEND;
        if (flags & L_O_NONBLOCK)
            fl |= O_NONBLOCK;
        if (fcntl(o->host, F_SETFL, fl) != 0)
            return host_errno(errno);
    }
    o->flags = (o->flags & ~(uint32_t)(L_O_APPEND | L_O_NONBLOCK)) |
               (flags & (L_O_APPEND | L_O_NONBLOCK));
    return 0;
}

int64_t sys_fcntl(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    int fd = arg_int(a[0]);
    ofd *o = fdt_get(&p->fds, fd);
    if (o == NULL)
        return -OS_EBADF;
    switch (arg_int(a[1])) {
    case L_F_DUPFD:
    case L_F_DUPFD_CLOEXEC:
        if (arg_int(a[2]) < 0 || arg_int(a[2]) >= nofile(p))
            return -OS_EINVAL;
        return fdt_install(&p->fds, o, arg_int(a[2]), nofile(p),
                           arg_int(a[1]) == L_F_DUPFD_CLOEXEC);
    case L_F_GETFD:
        return *fdt_cloexec(&p->fds, fd) ? L_FD_CLOEXEC : 0;
    case L_F_SETFD:
        *fdt_cloexec(&p->fds, fd) = (a[2] & L_FD_CLOEXEC) != 0;
        return 0;
    case L_F_GETFL:
        return o->flags | L_O_LARGEFILE;
    case L_F_SETFL:
        return set_host_fl(o, (uint32_t)a[2]);
    case L_F_GETLK:
    case L_F_OFD_GETLK: {
        uint8_t t[2] = {L_F_UNLCK, 0}; /* nobody else holds a lock */
        return os_copy_to_user(&p->u, a[2], t, 2) == 0 ? 0 : -OS_EFAULT;
    }
    case L_F_SETLK:
    case L_F_SETLKW:
    case L_F_OFD_SETLK:
    case L_F_OFD_SETLKW:
    case L_F_SETOWN:
    case L_F_GETOWN:
        return 0;
    default:
        return -OS_EINVAL;
    }
}

int64_t sys_pipe2(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    uint32_t flags = (uint32_t)a[1];
    if (flags & ~(uint32_t)(L_O_CLOEXEC | L_O_NONBLOCK | L_O_DIRECT))
        return -OS_EINVAL;
    int h[2];
    if (pipe(h) != 0)
        return host_errno(errno);
    ofd *o[2] = {NULL, NULL};
    int fd[2] = {-1, -1};
    int64_t rc = 0;
    for (int i = 0; i < 2; i++) {
        fcntl(h[i], F_SETFD, FD_CLOEXEC);
        o[i] = ofd_new(OFD_HOST, h[i], i ? L_O_WRONLY : L_O_RDONLY, NULL);
        if (o[i] == NULL) {
            close(h[i]);
            rc = -OS_ENOMEM;
            continue;
        }
        if (flags & L_O_NONBLOCK)
            set_host_fl(o[i], L_O_NONBLOCK);
        if (rc == 0) {
            fd[i] =
                fdt_install(&p->fds, o[i], 0, nofile(p), flags & L_O_CLOEXEC);
            if (fd[i] < 0)
                rc = fd[i];
        }
    }
    ofd_put(o[0]);
    ofd_put(o[1]);
    if (rc == 0) {
        uint8_t b[8];
        st_u32(b, 0, (uint32_t)fd[0]);
        st_u32(b, 4, (uint32_t)fd[1]);
        if (os_copy_to_user(&p->u, a[0], b, 8) != 0)
            rc = -OS_EFAULT;
    }
    if (rc != 0)
        for (int i = 0; i < 2; i++)
            if (fd[i] >= 0)
                fdt_close(&p->fds, fd[i]);
    return rc;
}

int64_t sys_pipe(os_proc *p, const uint64_t *a, os_sysret *out)
{
    const uint64_t b[6] = {a[0], 0, 0, 0, 0, 0};
    return sys_pipe2(p, b, out);
}

/* ---- ioctl: terminals are the host's, anything else is not one ---- */

static int64_t tty_ioctl(os_proc *p, ofd *o, uint32_t req, uint64_t arg)
{
    uint8_t b[64];
    switch (req) {
#if defined(TCGETS) && defined(TCSETS)
    case L_TCGETS:
        if (ioctl(o->host, TCGETS, b) != 0)
            return host_errno(errno);
        return os_copy_to_user(&p->u, arg, b, L_TERMIOS_SIZE) == 0 ? 0
                                                                   : -OS_EFAULT;
    case L_TCSETS:
    case L_TCSETSW:
    case L_TCSETSF: {
        unsigned long r = req == L_TCSETS    ? TCSETS
                          : req == L_TCSETSW ? TCSETSW
                                             : TCSETSF;
        if (ioctl(o->host, TCGETS, b) != 0)
            return host_errno(errno);
        if (os_copy_from_user(&p->u, b, arg, L_TERMIOS_SIZE) != 0)
            return -OS_EFAULT;
        return ioctl(o->host, r, b) == 0 ? 0 : host_errno(errno);
    }
#endif
    case L_TIOCGWINSZ: {
        struct winsize ws;
        if (ioctl(o->host, TIOCGWINSZ, &ws) != 0)
            return host_errno(errno);
        st_u16(b, 0, ws.ws_row);
        st_u16(b, 2, ws.ws_col);
        st_u16(b, 4, ws.ws_xpixel);
        st_u16(b, 6, ws.ws_ypixel);
        return os_copy_to_user(&p->u, arg, b, 8) == 0 ? 0 : -OS_EFAULT;
    }
    case L_TIOCSWINSZ:
        return 0;
    case L_TIOCGPGRP:
        return put_user_u32(p, arg, (uint32_t)p->pgid);
    case L_TIOCSPGRP:
        return 0;
    default:
        return -OS_ENOTTY;
    }
}

int64_t sys_ioctl(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    int fd = arg_int(a[0]);
    ofd *o = fdt_get(&p->fds, fd);
    uint32_t req = (uint32_t)a[1];
    if (o == NULL)
        return -OS_EBADF;
    switch (req) {
    case L_FIOCLEX:
    case L_FIONCLEX:
        *fdt_cloexec(&p->fds, fd) = req == L_FIOCLEX;
        return 0;
    case L_FIONBIO: {
        uint32_t on;
        if (get_user_u32(p, a[2], &on) != 0)
            return -OS_EFAULT;
        return set_host_fl(o, on ? (o->flags | L_O_NONBLOCK)
                                 : (o->flags & ~(uint32_t)L_O_NONBLOCK));
    }
    case L_FIONREAD: {
        int n = 0;
        if (o->kind == OFD_MEM)
            n = (int)(o->memoff < o->memlen ? o->memlen - o->memoff : 0);
        else if (ioctl(o->host, FIONREAD, &n) != 0)
            return host_errno(errno);
        return put_user_u32(p, a[2], (uint32_t)n);
    }
    default:
        break;
    }
    if (o->kind != OFD_HOST || !isatty(o->host))
        return -OS_ENOTTY;
    return tty_ioctl(p, o, req, a[2]);
}

int64_t sys_fsync(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    ofd *o = fdt_get(&p->fds, arg_int(a[0]));
    if (o == NULL)
        return -OS_EBADF;
    if (o->kind != OFD_HOST || !(o->is_reg || o->is_dir))
        return -OS_EINVAL;
    return fsync(o->host) == 0 || errno == EBADF || errno == EINVAL
               ? 0
               : host_errno(errno);
}

int64_t sys_ftruncate(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    ofd *o = fdt_get(&p->fds, arg_int(a[0]));
    if (o == NULL)
        return -OS_EBADF;
    if ((int64_t)a[1] < 0 || !writable(o) || !o->is_reg)
        return -OS_EINVAL;
    return ftruncate(o->host, (off_t)a[1]) == 0 ? 0 : host_errno(errno);
}
