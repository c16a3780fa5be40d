/*
 * spawn_checks - vfork(2) and posix_spawn(3), which glibc builds on
 * clone(CLONE_VM | CLONE_VFORK | SIGCHLD), on its own stack for
 * posix_spawn: the child shares the parent's memory and the parent waits
 * until the child execs or exits.
 *   - a vfork child's write is seen by the parent (shared memory), its
 *     _exit status arrives through wait4;
 *   - a vfork child execs this program ("child-mode"); the status arrives;
 *   - posix_spawn of this program, plain and with a file action that
 *     puts a pipe on the child's stdout;
 *   - posix_spawn of a missing file returns ENOENT: the child reports the
 *     error through the memory it shares with the parent, and glibc reaps
 *     that child itself (no child is left to wait for).
 * The parent waits for each child before it prints again, so the order of
 * the lines is fixed; pids and paths are never printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include "glx.h"

extern char **environ;

static volatile int shared_var;

static int child_mode(int argc, char **argv)
{
    glx_check(argc == 3, "spawned child: argv", "argc %d", argc);
    printf("spawned child: exits %s\n", argc == 3 ? argv[2] : "?");
    fflush(stdout);
    return argc == 3 ? atoi(argv[2]) : 1;
}

/* Wait for pid (-1: none) before anything is printed: a child that has
 * exec'd runs alongside. @return its wait status, or -1. */
static int wait_for(pid_t pid)
{
    int st = -1;
    if (pid <= 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return st;
}

static void check_status(const char *name, int st, int want)
{
    glx_check(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == want, name,
              "status %#x", (unsigned)st);
}

static void vfork_exit(void)
{
    shared_var = 1;
    pid_t pid = vfork();
    if (pid == 0) {
        shared_var = 42;
        _exit(9);
    }
    /* the parent runs again only once the child has exited */
    glx_check(shared_var == 42, "vfork: the child's write is in the parent",
              "%d", shared_var);
    check_status("vfork: _exit status through wait4", wait_for(pid), 9);
}

static void vfork_exec(void)
{
    char *argv[] = {"spawn_checks", "child-mode", "4", NULL};
    pid_t pid = vfork();
    if (pid == 0) {
        execve("/proc/self/exe", argv, environ);
        _exit(98);
    }
    check_status("vfork: exec'd child's status", wait_for(pid), 4);
}

static void spawn_plain(void)
{
    char *argv[] = {"spawn_checks", "child-mode", "3", NULL};
    pid_t pid = -1;
    int rc = posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ);
    int st = wait_for(rc == 0 ? pid : -1);
    glx_check(rc == 0, "posix_spawn: returns 0", "%d", rc);
    check_status("posix_spawn: child's status", st, 3);
}

static void spawn_pipe(void)
{
    int pfd[2];
    if (pipe(pfd) != 0) {
        glx_check(false, "posix_spawn: pipe", "errno %d", errno);
        return;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addclose(&fa, pfd[0]);
    posix_spawn_file_actions_addclose(&fa, pfd[1]);
    char *argv[] = {"spawn_checks", "child-mode", "0", NULL};
    pid_t pid = -1;
    int rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    int st = wait_for(rc == 0 ? pid : -1);
    glx_check(rc == 0, "posix_spawn with dup2: returns 0", "%d", rc);
    check_status("posix_spawn with dup2: child's status", st, 0);
    char buf[256];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf - 1 &&
           (n = read(pfd[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    close(pfd[0]);
    const char *want = "spawned child: argv: ok\nspawned child: exits 0\n";
    glx_check(strcmp(buf, want) == 0,
              "posix_spawn with dup2: the child's stdout is the pipe",
              "%zu bytes", got);
}

static void spawn_missing(void)
{
    char *argv[] = {"missing", NULL};
    pid_t pid = -1;
    int rc =
        posix_spawn(&pid, "/nonexistent-mmuemu/x", NULL, NULL, argv, environ);
    int st = wait_for(rc == 0 ? pid : -1);
    glx_check(rc == ENOENT,
              "posix_spawn: a missing file's error reaches "
              "the parent",
              "returned %d, child status %#x", rc, (unsigned)st);
    errno = 0;
    pid_t w = waitpid(-1, NULL, WNOHANG);
    glx_check(w == -1 && errno == ECHILD,
              "posix_spawn: no child left to wait for", "%d errno %d", w,
              errno);
}

int main(int argc, char **argv)
{
    glx_init();
    if (argc > 1 && strcmp(argv[1], "child-mode") == 0)
        return child_mode(argc, argv);
    vfork_exit();
    vfork_exec();
    spawn_plain();
    spawn_pipe();
    spawn_missing();
    return glx_finish();
}
