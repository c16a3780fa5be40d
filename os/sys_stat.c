/*
 * sys_stat.c - fstat, newfstatat, stat, lstat and statx (fs/stat.c:
 * cp_new_stat, cp_statx) with each ABI's struct stat:
 *   x86-64 (arch/x86/include/uapi/asm/stat.h), 144 bytes: dev ino nlink
 *     (u64 each), mode uid gid (u32) pad, rdev size blksize blocks (u64),
 *     then atime/mtime/ctime as sec,nsec pairs, 3 reserved longs;
 *   riscv64 (include/uapi/asm-generic/stat.h), 128 bytes: dev ino (u64),
 *     mode nlink uid gid (u32), rdev pad (u64), size (i64), blksize (i32)
 *     pad, blocks (i64), the three times, 2 reserved ints.
 * statx's struct is the same everywhere (256 bytes). Devices are encoded
 * as new_encode_dev(). Host files owned by the host user are shown owned
 * by the guest's uid/gid.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* major, minor */

#include "proc_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define L_S_IFMT   0170000u
#define L_S_IFSOCK 0140000u
#define L_S_IFLNK  0120000u
#define L_S_IFREG  0100000u
#define L_S_IFBLK  0060000u
#define L_S_IFDIR  0040000u
#define L_S_IFCHR  0020000u
#define L_S_IFIFO  0010000u

#define STATX_BASIC_STATS 0x7ffu
#define PROC_MAJOR        0
#define PROC_MINOR        22

static uint32_t linux_mode(mode_t m)
{
    uint32_t t = S_ISREG(m)    ? L_S_IFREG
                 : S_ISDIR(m)  ? L_S_IFDIR
                 : S_ISLNK(m)  ? L_S_IFLNK
                 : S_ISCHR(m)  ? L_S_IFCHR
                 : S_ISBLK(m)  ? L_S_IFBLK
                 : S_ISFIFO(m) ? L_S_IFIFO
                 : S_ISSOCK(m) ? L_S_IFSOCK
                               : 0;
    return t | ((uint32_t)m & 07777u);
}

static uint64_t encode_dev(unsigned ma, unsigned mi)
{
    return (mi & 0xffu) | ((uint64_t)ma << 8) | ((uint64_t)(mi & ~0xffu) << 12);
}

static uint32_t guest_uid(const os_proc *p, uid_t u)
{
    return u == geteuid() ? p->cfg.uid : (uint32_t)u;
}

static uint32_t guest_gid(const os_proc *p, gid_t g)
{
    return g == getegid() ? p->cfg.gid : (uint32_t)g;
}

size_t stat_image(const os_proc *p, const struct stat *st, uint8_t *b)
{
    uint64_t dev = encode_dev(major(st->st_dev), minor(st->st_dev));
    uint64_t rdev = encode_dev(major(st->st_rdev), minor(st->st_rdev));
    const struct timespec *t[3] = {&st->st_atim, &st->st_mtim, &st->st_ctim};
    bool x86 = p->abi == OS_ABI_X86_64;
    size_t size = x86 ? 144 : 128;
    memset(b, 0, size);
    st_u64(b, 0, dev);
    st_u64(b, 8, (uint64_t)st->st_ino);
    if (x86) {
        st_u64(b, 16, (uint64_t)st->st_nlink);
        st_u32(b, 24, linux_mode(st->st_mode));
        st_u32(b, 28, guest_uid(p, st->st_uid));
        st_u32(b, 32, guest_gid(p, st->st_gid));
        st_u64(b, 40, rdev);
        st_u64(b, 48, (uint64_t)st->st_size);
        st_u64(b, 56, (uint64_t)st->st_blksize);
        st_u64(b, 64, (uint64_t)st->st_blocks);
    } else {
        st_u32(b, 16, linux_mode(st->st_mode));
        st_u32(b, 20, (uint64_t)st->st_nlink);
        st_u32(b, 24, guest_uid(p, st->st_uid));
        st_u32(b, 28, guest_gid(p, st->st_gid));
        st_u64(b, 32, rdev);
        st_u64(b, 48, (uint64_t)st->st_size);
        st_u32(b, 56, (uint64_t)st->st_blksize);
        st_u64(b, 64, (uint64_t)st->st_blocks);
    }
    for (int i = 0; i < 3; i++) {
        st_u64(b, 72 + 16 * (size_t)i, (uint64_t)t[i]->tv_sec);
        st_u64(b, 80 + 16 * (size_t)i, (uint64_t)t[i]->tv_nsec);
    }
    return size;
}

/* A made-up inode of procfs. */
static void proc_stat(struct stat *st, mode_t mode, uint64_t ino, uint64_t size)
{
    memset(st, 0, sizeof *st);
    st->st_dev = makedev(PROC_MAJOR, PROC_MINOR);
    st->st_ino = (ino_t)ino;
    st->st_mode = mode;
    st->st_nlink = S_ISDIR(mode) ? 2 : 1;
    st->st_uid = geteuid(); /* shown as the guest's uid and gid */
    st->st_gid = getegid();
    st->st_size = (off_t)size;
    st->st_blksize = 1024;
}

static int stat_fd(os_proc *p, int fd, struct stat *st)
{
    ofd *o = fdt_get(&p->fds, fd);
    if (o == NULL)
        return -OS_EBADF;
    if (o->kind == OFD_MEM) {
        proc_stat(st, S_IFREG | 0444, 4026531841u, 0);
        return 0;
    }
    return fstat(o->host, st) == 0 ? 0 : host_errno(errno);
}

static int stat_path(os_proc *p, int dirfd, const char *path, bool follow,
                     struct stat *st)
{
    char abs[L_PATH_MAX];
    vpath vp;
    int arg;
    int rc = sysroot_lexical(p, dirfd, path, abs, &vp, &arg);
    if (rc != 0)
        return rc;
    static const char *const devs[] = {"/dev/null", "/dev/zero", "/dev/full",
                                       "/dev/random", "/dev/urandom"};
    switch (vp) {
    case VP_NONE:
        break;
    case VP_ENOENT:
        return -OS_ENOENT;
    case VP_PROC_DIR:
        proc_stat(st, S_IFDIR | 0555, 1, 0);
        return 0;
    case VP_MAPS:
        proc_stat(st, S_IFREG | 0444, 4026531841u, 0);
        return 0;
    case VP_EXE:
        if (!follow) {
            proc_stat(st, S_IFLNK | 0777, 4026531842u, strlen(p->exe_path));
            return 0;
        }
        return stat(p->host_exe, st) == 0 ? 0 : host_errno(errno);
    case VP_DEV:
        return stat(devs[arg], st) == 0 ? 0 : host_errno(errno);
    case VP_STDFD:
        return stat_fd(p, arg, st);
    }
    char canon[L_PATH_MAX];
    bool missing;
    rc = sysroot_resolve(p, dirfd, path, follow, canon, &missing);
    if (rc != 0)
        return rc;
    return fstatat(p->rootfd, sysroot_rel(canon), st, AT_SYMLINK_NOFOLLOW) == 0
               ? 0
               : host_errno(errno);
}

/* (dirfd, path, flags) as fstatat and statx take them. */
static int stat_at(os_proc *p, int dirfd, uint64_t upath, uint32_t flags,
                   struct stat *st)
{
    char path[L_PATH_MAX];
    int rc = get_user_path(p, upath, path);
    if (rc != 0)
        return rc;
    if (path[0] == '\0') {
        if (!(flags & L_AT_EMPTY_PATH))
            return -OS_ENOENT;
        return dirfd == L_AT_FDCWD ? stat_path(p, dirfd, ".", true, st)
                                   : stat_fd(p, dirfd, st);
    }
    return stat_path(p, dirfd, path, !(flags & L_AT_SYMLINK_NOFOLLOW), st);
}

static int64_t put_stat(os_proc *p, uint64_t ubuf, const struct stat *st)
{
    uint8_t b[144];
    size_t n = stat_image(p, st, b);
    return os_copy_to_user(&p->u, ubuf, b, n) == 0 ? 0 : -OS_EFAULT;
}

int64_t sys_fstat(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    struct stat st;
    int rc = stat_fd(p, arg_int(a[0]), &st);
    return rc != 0 ? rc : put_stat(p, a[1], &st);
}

int64_t sys_newfstatat(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    uint32_t flags = (uint32_t)a[3];
    if (flags & ~(uint32_t)(L_AT_SYMLINK_NOFOLLOW | L_AT_NO_AUTOMOUNT |
                            L_AT_EMPTY_PATH))
        return -OS_EINVAL;
    struct stat st;
    int rc = stat_at(p, arg_int(a[0]), a[1], flags, &st);
    return rc != 0 ? rc : put_stat(p, a[2], &st);
}

int64_t sys_stat(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    struct stat st;
    int rc = stat_at(p, L_AT_FDCWD, a[0], 0, &st);
    return rc != 0 ? rc : put_stat(p, a[1], &st);
}

int64_t sys_lstat(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    struct stat st;
    int rc = stat_at(p, L_AT_FDCWD, a[0], L_AT_SYMLINK_NOFOLLOW, &st);
    return rc != 0 ? rc : put_stat(p, a[1], &st);
}

static void statx_time(uint8_t *b, size_t off, const struct timespec *t)
{
    st_u64(b, off, (uint64_t)t->tv_sec);
    st_u32(b, off + 8, (uint64_t)t->tv_nsec);
}

int64_t sys_statx(os_proc *p, const uint64_t *a, os_sysret *out)
{
    (void)out;
    uint32_t flags = (uint32_t)a[2];
    if (flags & ~(uint32_t)(L_AT_SYMLINK_NOFOLLOW | L_AT_NO_AUTOMOUNT |
                            L_AT_EMPTY_PATH | L_AT_STATX_SYNC_TYPE))
        return -OS_EINVAL;
    if ((flags & L_AT_STATX_SYNC_TYPE) == L_AT_STATX_SYNC_TYPE)
        return -OS_EINVAL;
    if ((uint32_t)a[3] & 0x80000000u) /* STATX__RESERVED */
        return -OS_EINVAL;
    struct stat st;
    int rc = stat_at(p, arg_int(a[0]), a[1], flags, &st);
    if (rc != 0)
        return rc;
    uint8_t b[256];
    memset(b, 0, sizeof b);
    st_u32(b, 0, STATX_BASIC_STATS);
    st_u32(b, 4, (uint64_t)st.st_blksize);
    st_u32(b, 16, (uint64_t)st.st_nlink);
    st_u32(b, 20, guest_uid(p, st.st_uid));
    st_u32(b, 24, guest_gid(p, st.st_gid));
    st_u16(b, 28, linux_mode(st.st_mode));
    st_u64(b, 32, (uint64_t)st.st_ino);
    st_u64(b, 40, (uint64_t)st.st_size);
    st_u64(b, 48, (uint64_t)st.st_blocks);
    statx_time(b, 64, &st.st_atim);
    statx_time(b, 96, &st.st_ctim);
    statx_time(b, 112, &st.st_mtim);
    st_u32(b, 128, major(st.st_rdev));
    st_u32(b, 132, minor(st.st_rdev));
    st_u32(b, 136, major(st.st_dev));
    st_u32(b, 140, minor(st.st_dev));
    return os_copy_to_user(&p->u, a[4], b, sizeof b) == 0 ? 0 : -OS_EFAULT;
}
