/*
 * sysroot.c - guest paths inside the sysroot (fs/namei.c's path walk,
 * confined as by chroot): every component is looked up with fstatat()
 * relative to the sysroot's directory fd without following symlinks; a
 * symlink is read and its target spliced into the rest of the path
 * (an absolute target restarts at the sysroot's root, at most 40 links);
 * ".." drops the last resolved component and is refused (-EACCES) at the
 * root. The canonical path so built holds no symlink and no "..", so the
 * host path made from it never leaves the sysroot.
 *
 * A few paths are the model's own, decided on the lexical path before any
 * lookup: /proc/self/{maps,exe} (and /proc/<pid>), the harmless devices
 * /dev/{null,zero,full,random,urandom} (the host's), /dev/std{in,out,err}.
 */
#define _POSIX_C_SOURCE 200809L

#include "proc_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *sysroot_rel(const char *canon)
{
    return canon[0] == '/' && canon[1] == '\0' ? "." : canon + 1;
}

int sysroot_dirfd_path(os_proc *p, int dirfd, const char **dir)
{
    if (dirfd == L_AT_FDCWD) {
        *dir = p->cwd;
        return 0;
    }
    ofd *o = fdt_get(&p->fds, dirfd);
    if (o == NULL)
        return -OS_EBADF;
    if (!o->is_dir || o->path == NULL)
        return -OS_ENOTDIR;
    *dir = o->path;
    return 0;
}

/* Append component [s, s+n) to the canonical path of length *len. */
static int push(char *canon, size_t *len, const char *s, size_t n)
{
    if (n > L_NAME_MAX)
        return -OS_ENAMETOOLONG;
    if (*len + 1 + n >= L_PATH_MAX)
        return -OS_ENAMETOOLONG;
    canon[(*len)++] = '/';
    memcpy(canon + *len, s, n);
    *len += n;
    canon[*len] = '\0';
    return 0;
}

static void pop(char *canon, size_t *len)
{
    while (*len > 0 && canon[*len - 1] != '/')
        (*len)--;
    if (*len > 0)
        (*len)--;
    canon[*len] = '\0';
}

/* The starting point: "" for the root, else the base directory. */
static int start(os_proc *p, int dirfd, const char *path, char *canon,
                 size_t *len)
{
    canon[0] = '\0';
    *len = 0;
    if (path[0] == '/')
        return 0;
    const char *dir;
    int rc = sysroot_dirfd_path(p, dirfd, &dir);
    if (rc != 0)
        return rc;
    if (strcmp(dir, "/") != 0) {
        *len = strlen(dir);
        memcpy(canon, dir, *len + 1);
    }
    return 0;
}

static bool is_pid_dir(const char *s, size_t n)
{
    char want[16];
    int w = snprintf(want, sizeof want, "%d", OS_PROC_PID);
    return (n == 4 && memcmp(s, "self", 4) == 0) ||
           ((size_t)w == n && memcmp(s, want, n) == 0);
}

static vpath classify(const char *abs, int *arg)
{
    static const char *const devs[] = {"null", "zero", "full", "random",
                                       "urandom"};
    static const char *const std[] = {"stdin", "stdout", "stderr"};
    if (strncmp(abs, "/dev/", 5) == 0) {
        for (int i = 0; i < 5; i++)
            if (strcmp(abs + 5, devs[i]) == 0) {
                *arg = i;
                return VP_DEV;
            }
        for (int i = 0; i < 3; i++)
            if (strcmp(abs + 5, std[i]) == 0) {
                *arg = i;
                return VP_STDFD;
            }
        return VP_NONE;
    }
    if (strcmp(abs, "/proc") == 0)
        return VP_PROC_DIR;
    if (strncmp(abs, "/proc/", 6) != 0)
        return VP_NONE;
    const char *s = abs + 6, *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (!is_pid_dir(s, n))
        return VP_ENOENT;
    if (e == NULL)
        return VP_PROC_DIR;
    if (strcmp(e, "/maps") == 0)
        return VP_MAPS;
    if (strcmp(e, "/exe") == 0)
        return VP_EXE;
    return VP_ENOENT;
}

int sysroot_lexical(os_proc *p, int dirfd, const char *path, char *abs,
                    vpath *vp, int *arg)
{
    size_t len;
    *vp = VP_NONE;
    *arg = 0;
    if (path[0] == '\0')
        return 0;
    int rc = start(p, dirfd, path, abs, &len);
    if (rc != 0)
        return rc;
    for (const char *r = path; *r != '\0';) {
        while (*r == '/')
            r++;
        size_t n = strcspn(r, "/");
        if (n == 0)
            break;
        if (n == 2 && r[0] == '.' && r[1] == '.')
            pop(abs, &len); /* lexically clamped; the walk refuses */
        else if (!(n == 1 && r[0] == '.') && push(abs, &len, r, n) != 0)
            return -OS_ENAMETOOLONG;
        r += n;
    }
    if (len == 0)
        strcpy(abs, "/");
    *vp = classify(abs, arg);
    return 0;
}

/* Replace the unresolved rest by target + "/" + rest. */
static int splice(char *rest, size_t cap, const char *target, const char *after)
{
    char tmp[2 * L_PATH_MAX];
    int n = after[0] != '\0' ? snprintf(tmp, sizeof tmp, "%s/%s", target, after)
                             : snprintf(tmp, sizeof tmp, "%s", target);
    if (n < 0 || (size_t)n >= cap)
        return -OS_ENAMETOOLONG;
    memcpy(rest, tmp, (size_t)n + 1);
    return 0;
}

int sysroot_resolve(os_proc *p, int dirfd, const char *path, bool follow,
                    char *canon, bool *missing_last)
{
    char rest[2 * L_PATH_MAX], link[L_PATH_MAX];
    size_t len;
    *missing_last = false;
    if (path[0] == '\0')
        return -OS_ENOENT;
    int rc = start(p, dirfd, path, canon, &len);
    if (rc != 0)
        return rc;
    if (strlen(path) >= sizeof rest)
        return -OS_ENAMETOOLONG;
    strcpy(rest, path);
    int links = 0;
    const char *r = rest;
    for (;;) {
        while (*r == '/')
            r++;
        size_t n = strcspn(r, "/");
        if (n == 0)
            break;
        const char *q = r + n;
        bool slash = *q == '/';
        while (*q == '/')
            q++;
        bool last = *q == '\0';
        if (n == 1 && r[0] == '.') {
            r += n;
            continue;
        }
        if (n == 2 && r[0] == '.' && r[1] == '.') {
            if (len == 0)
                return -OS_EACCES; /* would leave the sysroot */
            pop(canon, &len);
            r += n;
            continue;
        }
        size_t before = len;
        rc = push(canon, &len, r, n);
        if (rc != 0)
            return rc;
        struct stat st;
        if (fstatat(p->rootfd, canon + 1, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            rc = host_errno(errno);
            *missing_last = rc == -OS_ENOENT && last;
            return rc;
        }
        if (S_ISLNK(st.st_mode) && (!last || follow || slash)) {
            if (++links > L_MAXSYMLINKS)
                return -OS_ELOOP;
            ssize_t ln =
                readlinkat(p->rootfd, canon + 1, link, sizeof link - 1);
            if (ln <= 0)
                return ln < 0 ? host_errno(errno) : -OS_ENOENT;
            link[ln] = '\0';
            len = before;
            canon[len] = '\0';
            if (link[0] == '/') {
                len = 0;
                canon[0] = '\0';
            }
            rc = splice(rest, sizeof rest, link, r + n);
            if (rc != 0)
                return rc;
            r = rest;
            continue;
        }
        if ((!last || slash) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
            return -OS_ENOTDIR;
        r += n;
    }
    if (len == 0)
        strcpy(canon, "/");
    return 0;
}
