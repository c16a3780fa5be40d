/*
 * proc_exec.c - execve and execveat (fs/exec.c, fs/binfmt_script.c,
 * fs/binfmt_elf.c as far as a static executable goes).
 *
 * The file is found in the sysroot like any path (symlinks followed,
 * /proc/self/exe being the process's own executable); it must be a
 * regular file with execute permission (-EACCES). Its first 256 bytes
 * choose the format: an ELF is loaded into a new address space built
 * aside (os_elf_exec through a private uaccess); "#!" makes it a script
 * whose interpreter is opened instead, argv becoming interp [arg] file
 * argv[1..] (at most five interpreters deep: -ELOOP); anything else, or
 * an ELF that cannot run here (another architecture, dynamically linked),
 * is -ENOEXEC (the ELF case reported in one line). Up to then the caller
 * is untouched. Then, past the point of no return (flush_old_exec /
 * setup_new_exec): the old space is let go of, close-on-exec fds close,
 * caught signals return to SIG_DFL (ignored ones stay ignored), the
 * alternate signal stack, TLS bases, clear_child_tid and the robust list
 * are cleared; pid, parent, cwd, umask, rlimits and the signal mask stay.
 * The runner starts the new program (OS_SYSRET_EXEC).
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* realpath */

#include "proc_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BINPRM_BUF_SIZE  256
#define MAX_INTERP_DEPTH 5 /* exec_binprm(): depth > 5 is -ELOOP */

/* The file being executed. */
typedef struct exec_file {
    int fd; /* host fd, -1: none */
    char guest[L_PATH_MAX];
    char host[PATH_MAX];
    char buf[BINPRM_BUF_SIZE]; /* its first bytes, zero-padded */
} exec_file;

static void exec_file_close(exec_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

/* The host path of canonical guest path canon. */
static int host_path(os_proc *p, const char *canon, char *out)
{
    char root[PATH_MAX];
    if (realpath(p->sysroot, root) == NULL)
        return host_errno(errno);
    const char *sep = strcmp(root, "/") == 0 ? "" : root;
    int n = snprintf(out, PATH_MAX, "%s%s", sep, canon);
    return n > 0 && n < PATH_MAX ? 0 : -OS_ENAMETOOLONG;
}

/* do_open_execat(): resolve, check, open, read the first bytes. */
static int open_exec(os_proc *p, int dirfd, const char *path, bool follow,
                     exec_file *f)
{
    char abs[L_PATH_MAX];
    vpath vp;
    int arg;
    if (path[0] == '\0')
        return -OS_ENOENT;
    int rc = sysroot_lexical(p, dirfd, path, abs, &vp, &arg);
    if (rc != 0)
        return rc;
    if (vp == VP_EXE) {
        snprintf(f->guest, sizeof f->guest, "%s", p->exe_path);
        snprintf(f->host, sizeof f->host, "%s", p->host_exe);
        f->fd = open(p->host_exe, O_RDONLY | O_CLOEXEC);
    } else if (vp == VP_ENOENT) {
        return -OS_ENOENT;
    } else if (vp != VP_NONE) {
        return -OS_EACCES; /* /proc, /proc/self/maps, devices */
    } else {
        bool missing;
        rc = sysroot_resolve(p, dirfd, path, follow, f->guest, &missing);
        if (rc != 0)
            return rc;
        const char *rel = sysroot_rel(f->guest);
        struct stat st;
        if (fstatat(p->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0)
            return host_errno(errno);
        if (S_ISLNK(st.st_mode))
            return -OS_ELOOP; /* execveat with AT_SYMLINK_NOFOLLOW */
        if (!S_ISREG(st.st_mode) || faccessat(p->rootfd, rel, X_OK, 0) != 0)
            return -OS_EACCES;
        rc = host_path(p, f->guest, f->host);
        if (rc != 0)
            return rc;
        f->fd = openat(p->rootfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    }
    if (f->fd < 0)
        return errno == EISDIR ? -OS_EACCES : host_errno(errno);
    memset(f->buf, 0, sizeof f->buf);
    if (pread(f->fd, f->buf, sizeof f->buf, 0) < 0) {
        exec_file_close(f);
        return -OS_EIO;
    }
    return 0;
}

/* ---- #! scripts (binfmt_script.c) --------------------------------------- */

static bool spacetab(char c)
{
    return c == ' ' || c == '\t';
}

static const char *next_non_spacetab(const char *first, const char *last)
{
    for (; first <= last; first++)
        if (!spacetab(*first))
            return first;
    return NULL;
}

static const char *next_terminator(const char *first, const char *last)
{
    for (; first <= last; first++)
        if (spacetab(*first) || *first == '\0')
            return first;
    return NULL;
}

/* The interpreter and its optional argument from the "#!" line in buf
 * (NUL-terminated in place). @return 0 or -ENOEXEC. */
static int parse_script(char *buf, const char **name, const char **arg)
{
    const char *buf_end = buf + BINPRM_BUF_SIZE - 1;
    const char *i_end = memchr(buf, '\n', BINPRM_BUF_SIZE);
    if (i_end == NULL) {
        i_end = next_non_spacetab(buf + 2, buf_end);
        if (i_end == NULL || next_terminator(i_end, buf_end) == NULL)
            return -OS_ENOEXEC; /* all blanks, or a truncated name */
        i_end = buf_end;
    }
    while (spacetab(i_end[-1]))
        i_end--;
    const char *i_name = next_non_spacetab(buf + 2, i_end);
    if (i_name == NULL || i_name == i_end)
        return -OS_ENOEXEC;
    const char *i_sep = next_terminator(i_name, i_end);
    const char *i_arg = NULL;
    if (i_sep != NULL && *i_sep != '\0')
        i_arg = next_non_spacetab(i_sep, i_end);
    buf[i_end - buf] = '\0';
    if (i_sep != NULL)
        buf[i_sep - buf] = '\0';
    *name = i_name;
    *arg = i_arg != NULL && *i_arg != '\0' ? i_arg : NULL;
    return 0;
}

/* argv becomes name [arg] file argv[1..]; f becomes the interpreter. */
static int load_script(os_proc *p, exec_args *x, exec_file *f, char *file)
{
    char buf[BINPRM_BUF_SIZE];
    memcpy(buf, f->buf, sizeof buf);
    const char *name, *arg;
    int rc = parse_script(buf, &name, &arg);
    if (rc != 0)
        return rc;
    exec_args_drop_first(x);
    rc = exec_args_prepend(x, file);
    if (rc == 0 && arg != NULL)
        rc = exec_args_prepend(x, arg);
    if (rc == 0)
        rc = exec_args_prepend(x, name);
    if (rc != 0)
        return rc;
    snprintf(file, L_PATH_MAX, "%s", name); /* bprm->interp */
    exec_file_close(f);
    return open_exec(p, L_AT_FDCWD, name, true, f);
}

/* ---- the new program ----------------------------------------------------- */

static bool is_elf(const exec_file *f)
{
    return memcmp(f->buf, "\177ELF", 4) == 0;
}

/* The new address space with the program loaded, built aside. */
static int build_mm(os_proc *p, const exec_args *x, const char *execfn,
                    exec_file *f, proc_mm **out, os_exec_result *res)
{
    proc_mm *mm;
    int rc = proc_mm_new(p->k, &mm);
    if (rc != 0)
        return rc;
    mm->as.tag = proc_tag(p);
    os_file *file = os_file_from_fd(f->fd, f->guest);
    if (file == NULL) {
        proc_mm_put(mm, NULL);
        return -OS_ENOMEM;
    }
    p->rng = p->rng * UINT64_C(6364136223846793005) + 1442695040888963407u;
    os_exec_params ep = {
        (const char *const *)x->argv.s,
        (const char *const *)x->envp.s,
        execfn,
        p->cfg.uid,
        p->cfg.gid,
        p->cfg.hwcap,
        0,
        0,
        NULL,
        p->rng,
    };
    os_uaccess u;
    os_uaccess_init(&u, &mm->as, NULL);
    char err[256] = "";
    rc = os_elf_exec(&mm->as, &u, file, &ep, res, err, sizeof err);
    os_file_put(file);
    if (rc != 0) {
        proc_mm_put(mm, NULL);
        if (rc == -OS_ENOEXEC)
            proc_report(p, "execve %s: %s: -ENOEXEC", f->guest, err);
        return rc;
    }
    *out = mm;
    return 0;
}

/* Swap strings in: both or neither. */
static int set_names(os_proc *p, const exec_file *f)
{
    char *guest = strdup(f->guest), *host = strdup(f->host);
    if (guest == NULL || host == NULL) {
        free(guest);
        free(host);
        return -OS_ENOMEM;
    }
    free(p->exe_path);
    free(p->host_exe);
    p->exe_path = guest;
    p->host_exe = host;
    return 0;
}

/* Past the point of no return: p runs the program in mm. */
static void commit(os_proc *p, proc_mm *mm, const char *filename)
{
    bool own_ctx = p->u.ctx == &p->own_ctx, uowned = p->u.ctx == &p->u.own;
    mmu_ctx *ctx = p->u.ctx;
    proc_mm_put(p->mm, p);
    p->mm = mm;
    proc_mm_hook_on(mm);
    if (own_ctx)
        os_aspace_make_ctx(&mm->as, &p->own_ctx);
    os_uaccess_init(&p->u, &mm->as, uowned ? NULL : ctx);
    proc_mm_own(p);
    for (int fd = 0; fd < p->fds.cap; fd++)
        if (p->fds.slot[fd].o != NULL && p->fds.slot[fd].cloexec)
            fdt_close(&p->fds, fd);
    for (int i = 0; i < L_NSIG; i++) { /* flush_signal_handlers() */
        os_sigaction *sa = &p->sig[i];
        uint64_t h = sa->handler == 1 ? 1 : 0; /* SIG_IGN stays */
        memset(sa, 0, sizeof *sa);
        sa->handler = h;
    }
    p->ss_sp = p->ss_size = 0;
    p->ss_flags = 0;
    p->tid_address = p->robust_head = p->robust_len = 0;
    p->tls[0] = p->tls[1] = 0;
    const char *base = strrchr(filename, '/');
    snprintf(p->comm, sizeof p->comm, "%s", base ? base + 1 : filename);
}

/* do_execveat_common() and bprm_execve() (Linux 6.1's order: the
 * strings are copied before the file is opened). file: bprm->filename,
 * what AT_EXECFN and a script's argv show. */
static int64_t do_execve(os_proc *p, int dirfd, const char *path,
                         const char *file, uint64_t uargv, uint64_t uenvp,
                         bool follow, os_sysret *out)
{
    char interp[L_PATH_MAX];
    snprintf(interp, sizeof interp, "%s", file);
    exec_args x;
    int rc = exec_args_copy(p, &x, file, uargv, uenvp);
    if (rc != 0)
        return rc;
    exec_file f = {.fd = -1};
    rc = open_exec(p, dirfd, path, follow, &f);
    for (int depth = 0; rc == 0 && !is_elf(&f); depth++) {
        if (depth >= MAX_INTERP_DEPTH)
            rc = -OS_ELOOP;
        else if (f.buf[0] == '#' && f.buf[1] == '!')
            rc = load_script(p, &x, &f, interp);
        else
            rc = -OS_ENOEXEC;
    }
    proc_mm *mm = NULL;
    os_exec_result res;
    if (rc == 0)
        rc = build_mm(p, &x, file, &f, &mm, &res);
    if (rc == 0) {
        rc = set_names(p, &f);
        if (rc != 0)
            proc_mm_put(mm, NULL);
    }
    exec_file_close(&f);
    exec_args_free(&x);
    if (rc != 0)
        return rc;
    commit(p, mm, file);
    out->flags |= OS_SYSRET_EXEC;
    out->entry_pc = res.pc;
    out->entry_sp = res.sp;
    return 0;
}

int64_t sys_execve(os_proc *p, const uint64_t *a, os_sysret *out)
{
    char path[L_PATH_MAX];
    int rc = get_user_path(p, a[0], path);
    if (rc != 0)
        return rc;
    return do_execve(p, L_AT_FDCWD, path, path, a[1], a[2], true, out);
}

/* execveat(dirfd, path, argv, envp, flags): AT_SYMLINK_NOFOLLOW refuses
 * a symlink as the last component (-ELOOP); AT_EMPTY_PATH with "" runs
 * the file dirfd is open on (found again by its path). */
int64_t sys_execveat(os_proc *p, const uint64_t *a, os_sysret *out)
{
    uint64_t flags = a[4];
    if (flags & ~(uint64_t)(L_AT_SYMLINK_NOFOLLOW | L_AT_EMPTY_PATH))
        return -OS_EINVAL;
    int dirfd = arg_int(a[0]);
    char path[L_PATH_MAX], file[L_PATH_MAX + 32];
    int rc = get_user_path(p, a[1], path);
    if (rc != 0)
        return rc;
    if (path[0] == '\0' && (flags & L_AT_EMPTY_PATH)) {
        ofd *o = fdt_get(&p->fds, dirfd);
        if (o == NULL)
            return -OS_EBADF;
        if (!o->is_reg || o->path == NULL)
            return -OS_EACCES;
        snprintf(file, sizeof file, "/dev/fd/%d", dirfd);
        snprintf(path, sizeof path, "%s", o->path);
        dirfd = L_AT_FDCWD;
    } else if (dirfd == L_AT_FDCWD || path[0] == '/') {
        snprintf(file, sizeof file, "%s", path);
    } else {
        snprintf(file, sizeof file, "/dev/fd/%d/%s", dirfd, path);
    }
    return do_execve(p, dirfd, path, file, a[2], a[3],
                     !(flags & L_AT_SYMLINK_NOFOLLOW), out);
}
