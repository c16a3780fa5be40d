/*
 * proc_exec_args.c - execve's argument and environment strings, copied
 * from the caller's memory as fs/exec.c does (count(), bprm_stack_limits(),
 * copy_strings(), copy_string_kernel(), remove_arg_zero()):
 *   - a NULL argv or envp is an empty list; an unreadable pointer array or
 *     string is -EFAULT;
 *   - more than MAX_ARG_STRINGS pointers, a string of more than
 *     MAX_ARG_STRLEN bytes (NUL included), or more bytes in all than the
 *     argument space is -E2BIG. That space is a quarter of RLIMIT_STACK,
 *     at most 3/4 of _STK_LIM and at least ARG_MAX, minus a pointer per
 *     string (argc counted as at least 1);
 *   - the strings are taken in the kernel's order: the file name, envp
 *     then argv, each list from its last string to its first (which error
 *     a bad list gives first depends on it);
 *   - an empty argv gets "" as argv[0] (Linux 5.18 and later).
 */
#define _POSIX_C_SOURCE 200809L

#include "proc_internal.h"

#include <stdlib.h>
#include <string.h>

#define L_PAGE            4096u
#define L_MAX_ARG_STRLEN  (32u * L_PAGE)
#define L_MAX_ARG_STRINGS UINT64_C(0x7fffffff)
#define L_ARG_MAX         (32u * L_PAGE)
#define L_STK_LIM         (UINT64_C(8) << 20)
#define COUNT_CHUNK       64u /* pointers read per copy */

void exec_strv_free(exec_strv *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->s[i]);
    free(v->s);
    memset(v, 0, sizeof *v);
}

/* Append s (owned from now on, freed on failure). */
static int strv_push(exec_strv *v, char *s)
{
    if (s == NULL)
        return -OS_ENOMEM;
    if (v->n + 1 >= v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 16;
        char **n = realloc(v->s, cap * sizeof *n);
        if (n == NULL) {
            free(s);
            return -OS_ENOMEM;
        }
        v->s = n;
        v->cap = cap;
    }
    v->s[v->n++] = s;
    v->s[v->n] = NULL;
    return 0;
}

static void strv_reverse(exec_strv *v)
{
    for (size_t i = 0, j = v->n; i + 1 < j; i++, j--) {
        char *t = v->s[i];
        v->s[i] = v->s[j - 1];
        v->s[j - 1] = t;
    }
}

/* count(): the pointers before the NULL of the array at uva. */
static int count(os_proc *p, uint64_t uva, uint64_t *n)
{
    *n = 0;
    if (uva == 0)
        return 0;
    uint8_t b[8 * COUNT_CHUNK];
    for (;;) {
        uint64_t at = uva + 8 * *n;
        if (at < uva)
            return -OS_EFAULT; /* the array wraps */
        /* Stay inside the page: a fault then means the first one fails. */
        uint64_t k = (L_PAGE - (at & (L_PAGE - 1))) / 8;
        k = k == 0 ? 1 : k > COUNT_CHUNK ? COUNT_CHUNK : k;
        if (os_copy_from_user(&p->u, b, at, 8 * k) != 0)
            return -OS_EFAULT;
        for (uint64_t i = 0; i < k; i++) {
            if (ld_u64(b, 8 * i) == 0)
                return 0;
            if (++*n >= L_MAX_ARG_STRINGS)
                return -OS_E2BIG;
        }
    }
}

/* bprm_stack_limits(): the bytes the strings may take. */
static int stack_limit(const os_proc *p, uint64_t argc, uint64_t envc,
                       uint64_t *room)
{
    uint64_t limit = L_STK_LIM / 4 * 3;
    uint64_t rlim = p->rlim[3].cur / 4; /* RLIMIT_STACK */
    if (rlim < limit)
        limit = rlim;
    if (limit < L_ARG_MAX)
        limit = L_ARG_MAX;
    uint64_t ptr_size = ((argc ? argc : 1) + envc) * 8;
    if (limit <= ptr_size)
        return -OS_E2BIG;
    *room = limit - ptr_size;
    return 0;
}

int exec_args_add(exec_args *x, exec_strv *v, const char *s)
{
    size_t len = strlen(s) + 1;
    if (len > L_MAX_ARG_STRLEN || len > x->room)
        return -OS_E2BIG;
    x->room -= len;
    return strv_push(v, strdup(s));
}

/* copy_strings(): n strings of the array at uva, last first, onto v. */
static int copy_strings(os_proc *p, exec_args *x, exec_strv *v, uint64_t uva,
                        uint64_t n, char *scratch)
{
    for (uint64_t i = n; i-- > 0;) {
        uint64_t str;
        if (get_user_u64(p, uva + 8 * i, &str) != 0)
            return -OS_EFAULT;
        int64_t len =
            os_strncpy_from_user(&p->u, scratch, str, L_MAX_ARG_STRLEN);
        if (len < 0)
            return -OS_EFAULT;
        if ((uint64_t)len >= L_MAX_ARG_STRLEN)
            return -OS_E2BIG; /* no NUL within MAX_ARG_STRLEN bytes */
        int rc = exec_args_add(x, v, scratch);
        if (rc != 0)
            return rc;
    }
    strv_reverse(v);
    return 0;
}

int exec_args_copy(os_proc *p, exec_args *x, const char *filename,
                   uint64_t uargv, uint64_t uenvp)
{
    memset(x, 0, sizeof *x);
    uint64_t argc, envc;
    int rc = count(p, uargv, &argc);
    if (rc == 0)
        rc = count(p, uenvp, &envc);
    if (rc == 0)
        rc = stack_limit(p, argc, envc, &x->room);
    if (rc != 0)
        return rc;
    /* The file name is the first string on the new stack (AT_EXECFN). */
    size_t flen = strlen(filename) + 1;
    if (flen > x->room)
        return -OS_E2BIG;
    x->room -= flen;
    char *scratch = malloc(L_MAX_ARG_STRLEN);
    if (scratch == NULL)
        return -OS_ENOMEM;
    rc = copy_strings(p, x, &x->envp, uenvp, envc, scratch);
    if (rc == 0)
        rc = copy_strings(p, x, &x->argv, uargv, argc, scratch);
    free(scratch);
    if (rc == 0 && argc == 0)
        rc = exec_args_add(x, &x->argv, "");
    if (rc == 0 && x->envp.s == NULL) { /* an empty list: its NULL */
        x->envp.s = calloc(1, sizeof(char *));
        if (x->envp.s == NULL)
            rc = -OS_ENOMEM;
    }
    if (rc != 0)
        exec_args_free(x);
    return rc;
}

void exec_args_free(exec_args *x)
{
    exec_strv_free(&x->argv);
    exec_strv_free(&x->envp);
}

/* remove_arg_zero(): argv[0] goes (its bytes return to the room). */
void exec_args_drop_first(exec_args *x)
{
    if (x->argv.n == 0)
        return;
    x->room += strlen(x->argv.s[0]) + 1;
    free(x->argv.s[0]);
    memmove(x->argv.s, x->argv.s + 1, x->argv.n * sizeof x->argv.s[0]);
    x->argv.n--;
}

int exec_args_prepend(exec_args *x, const char *s)
{
    int rc = exec_args_add(x, &x->argv, s);
    if (rc != 0)
        return rc;
    char *last = x->argv.s[x->argv.n - 1];
    memmove(x->argv.s + 1, x->argv.s, (x->argv.n - 1) * sizeof x->argv.s[0]);
    x->argv.s[0] = last;
    return 0;
}
