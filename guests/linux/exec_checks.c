/*
 * exec_checks - execve(2): a forked child re-executes this program
 * through /proc/self/exe in "child-mode" and checks what the new program
 * receives (argv, envp, fds without O_CLOEXEC kept and with it closed,
 * caught signals reset, ignored ones and the mask kept, the new comm);
 * the parent checks its exit status through wait4. Then the errors of a
 * failing execve, which leave the caller as it was: ENOENT, ENOTDIR,
 * EACCES (a directory, a file without execute permission), ENOEXEC (an
 * executable text file without "#!"), EFAULT (bad file name or argv),
 * E2BIG (one string over MAX_ARG_STRLEN). Last a "#!" script whose
 * interpreter is this program with one argument.
 *
 * Next to the program the build leaves (guests/linux/CMakeLists.txt):
 * exec_script ("#!<this program> script-mode", executable), exec_garbage
 * (executable text) and exec_noexec (mode 0644). Paths and pids are never
 * printed. A child prints its lines and exits before the parent prints
 * again (the parent waits first), so the order is fixed.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "glx.h"

#define CHILD_STATUS  7
#define SCRIPT_STATUS 5
#define BIG_ARG       (32 * 4096) /* MAX_ARG_STRLEN: with its NUL, too long */

extern char **environ;

static char self[PATH_MAX], dir[PATH_MAX];
static char big[BIG_ARG + 1];
static volatile uintptr_t bad_addr = 8; /* unmapped (hidden from gcc) */

static void sibling(char *out, const char *name)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= PATH_MAX)
        out[0] = '\0'; /* exec of "" fails: the check says so */
}

/* ---- the exec'd program ------------------------------------------------- */

static bool same_list(char **got, const char *const *want)
{
    size_t i = 0;
    for (; want[i] != NULL; i++)
        if (got[i] == NULL || strcmp(got[i], want[i]) != 0)
            return false;
    return got[i] == NULL;
}

static int child_mode(int argc, char **argv)
{
    static const char *const want_env[] = {"EXEC_CHECKS=1", "SECOND=two", NULL};
    glx_check(argc == 6, "child: argc", "%d", argc);
    const char *const want_argv[] = {
        "exec_checks", "child-mode", argv[2], argv[3], "with spaces", "", NULL};
    glx_check(argc == 6 && same_list(argv, want_argv), "child: argv",
              "differs");
    glx_check(same_list(environ, want_env), "child: envp", "differs");
    int cloexec_fd = atoi(argv[2]), plain_fd = atoi(argv[3]);
    errno = 0;
    int r = fcntl(cloexec_fd, F_GETFD);
    glx_check(r == -1 && errno == EBADF, "child: O_CLOEXEC fd closed",
              "fcntl %d errno %d", r, errno);
    r = fcntl(plain_fd, F_GETFD);
    glx_check(r == 0, "child: plain fd kept", "fcntl %d", r);
    char c = 0;
    glx_check(pread(plain_fd, &c, 1, 1) == 1 && c == 'E',
              "child: plain fd still reads the file", "%d", c);
    struct sigaction sa;
    sigaction(SIGUSR1, NULL, &sa);
    glx_check(sa.sa_handler == SIG_DFL, "child: caught signal reset",
              "handler not SIG_DFL");
    sigaction(SIGUSR2, NULL, &sa);
    glx_check(sa.sa_handler == SIG_IGN, "child: ignored signal stays ignored",
              "handler not SIG_IGN");
    sigset_t mask;
    sigprocmask(SIG_BLOCK, NULL, &mask);
    glx_check(sigismember(&mask, SIGHUP) == 1, "child: signal mask kept",
              "SIGHUP not blocked");
    char comm[17] = "";
    prctl(PR_GET_NAME, comm);
    glx_check(strcmp(comm, "exe") == 0, "child: comm is the file's name", "%s",
              comm);
    glx_finish();
    return CHILD_STATUS;
}

/* exec'd with one string of MAX_ARG_STRLEN bytes (NUL included). */
static int long_mode(int argc, char **argv)
{
    glx_check(argc == 3 && strlen(argv[2]) == BIG_ARG - 1,
              "child: the longest string arrives whole", "argc %d", argc);
    glx_finish();
    return CHILD_STATUS;
}

/* Run by the kernel for exec_script: interp script-mode script args. */
static int script_mode(int argc, char **argv)
{
    char want[PATH_MAX];
    const char *w = getenv("SCRIPT");
    snprintf(want, sizeof want, "%s", w ? w : "?");
    glx_check(argc == 5, "script: argc", "%d", argc);
    glx_check(argc >= 3 && strcmp(argv[2], want) == 0,
              "script: argv[2] is the script's path", "differs");
    glx_check(argc == 5 && strcmp(argv[3], "x") == 0 &&
                  strcmp(argv[4], "y z") == 0,
              "script: the caller's argv[1..] follow", "differs");
    glx_finish();
    return SCRIPT_STATUS;
}

/* ---- the parent ------------------------------------------------------- */

static void on_usr1(int sig)
{
    (void)sig;
}

/* fork; the child execs path; @return its wait status (-1: none). */
static int run_child(const char *path, char *const argv[], char *const envp[])
{
    pid_t pid = fork();
    if (pid == 0) {
        execve(path, argv, envp);
        printf("execve: FAIL (errno %d)\n", errno);
        fflush(stdout);
        _exit(99);
    }
    int st = -1;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return st;
}

static void check_status(const char *name, int st, int want)
{
    glx_check(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == want, name,
              "status %#x", (unsigned)st);
}

static void exec_self(void)
{
    int cloexec_fd = open(self, O_RDONLY | O_CLOEXEC);
    int plain_fd = open(self, O_RDONLY);
    glx_check(cloexec_fd >= 0 && plain_fd >= 0, "parent: open fds", "%d %d",
              cloexec_fd, plain_fd);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGUSR2, &sa, NULL);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    char a2[16], a3[16];
    snprintf(a2, sizeof a2, "%d", cloexec_fd);
    snprintf(a3, sizeof a3, "%d", plain_fd);
    char *argv[] = {"exec_checks", "child-mode", a2,  a3,
                    "with spaces", "",           NULL};
    char *envp[] = {"EXEC_CHECKS=1", "SECOND=two", NULL};
    int st = run_child("/proc/self/exe", argv, envp);
    check_status("parent: exec'd child's exit status through wait4", st,
                 CHILD_STATUS);
    sigprocmask(SIG_UNBLOCK, &mask, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    close(cloexec_fd);
    close(plain_fd);
}

static void expect_error(const char *name, const char *path, char *const argv[],
                         int want)
{
    char *envp[] = {NULL};
    errno = 0;
    int r = execve(path, argv, envp);
    glx_check(r == -1 && errno == want, name, "returned %d, errno %d", r,
              errno);
}

static void exec_errors(void)
{
    char *argv[] = {"x", NULL};
    char p[PATH_MAX + 8];
    expect_error("error: missing file ENOENT", "/nonexistent-mmuemu/x", argv,
                 ENOENT);
    expect_error("error: empty path ENOENT", "", argv, ENOENT);
    snprintf(p, sizeof p, "%s/x", self);
    expect_error("error: file as a directory ENOTDIR", p, argv, ENOTDIR);
    expect_error("error: directory EACCES", dir, argv, EACCES);
    sibling(p, "exec_noexec");
    expect_error("error: no execute permission EACCES", p, argv, EACCES);
    sibling(p, "exec_garbage");
    expect_error("error: text without #! ENOEXEC", p, argv, ENOEXEC);
    expect_error("error: bad file name pointer EFAULT", (char *)bad_addr, argv,
                 EFAULT);
    expect_error("error: bad argv EFAULT", self, (char **)bad_addr, EFAULT);
    char *bad_str[] = {"x", (char *)bad_addr, NULL};
    expect_error("error: bad argv string EFAULT", self, bad_str, EFAULT);
    memset(big, 'a', BIG_ARG);
    char *too_long[] = {"x", big, NULL};
    expect_error("error: string over MAX_ARG_STRLEN E2BIG", self, too_long,
                 E2BIG);
    big[BIG_ARG - 1] = '\0'; /* exactly MAX_ARG_STRLEN with its NUL: fits */
    char *fits[] = {"exec_checks", "long-mode", big, NULL};
    char *envp[] = {NULL};
    int st = run_child("/proc/self/exe", fits, envp);
    check_status("exec: a string of exactly MAX_ARG_STRLEN fits", st,
                 CHILD_STATUS);
}

static void exec_script(void)
{
    char script[PATH_MAX], env[PATH_MAX + 8];
    sibling(script, "exec_script");
    snprintf(env, sizeof env, "SCRIPT=%s", script);
    char *argv[] = {"exec_script", "x", "y z", NULL};
    char *envp[] = {env, NULL};
    int st = run_child(script, argv, envp);
    check_status("parent: #! script's exit status", st, SCRIPT_STATUS);
}

int main(int argc, char **argv)
{
    glx_init();
    if (argc > 1 && strcmp(argv[1], "child-mode") == 0)
        return child_mode(argc, argv);
    if (argc > 1 && strcmp(argv[1], "long-mode") == 0)
        return long_mode(argc, argv);
    if (argc > 1 && strcmp(argv[1], "script-mode") == 0)
        return script_mode(argc, argv);
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 2;
    self[n] = '\0';
    char tmp[PATH_MAX];
    memcpy(tmp, self, sizeof tmp);
    snprintf(dir, sizeof dir, "%s", dirname(tmp));
    exec_self();
    exec_errors();
    exec_script();
    return glx_finish();
}
