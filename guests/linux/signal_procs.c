/*
 * signal_procs - signals between processes:
 *  1. kill(child, SIGTERM) with the default action: the wait status says
 *     killed by signal 15;
 *  2. a child with a SIGUSR1 handler, signalled by the parent once it said
 *     it is ready (pipe handshake), tells through a pipe that it got the
 *     signal and exits 7;
 *  3. a SIGCHLD handler runs once per exiting child (SIGCHLD held blocked
 *     until the child is reaped, so it is pending then; si_code CLD_EXITED);
 *  4. SIGCHLD set to SIG_IGN: children are reaped by the kernel, wait()
 *     fails with ECHILD;
 *  5. kill(child, 0) finds a live (and a zombie) child, ESRCH once reaped;
 *  6. a read() blocked on an empty pipe, hit by a signal whose handler was
 *     installed without SA_RESTART, fails with EINTR; with SA_RESTART it
 *     is restarted and returns the data written afterwards;
 *  7. SIGPIPE's default action kills a writer to a pipe without readers
 *     (signal 13); with SIGPIPE ignored the write fails with EPIPE;
 *  8. kill(getpid(), SIGUSR2) while SIGUSR2 is blocked: pending
 *     (sigpending), the handler runs only when it is unblocked;
 *  9. getpid()/getppid() agree between parent and child;
 * 10. process groups: a child makes its own group with setpgid(0, 0),
 *     a second child joins it, and kill(-pgid, SIGTERM) kills both but not
 *     a third child outside the group.
 * The order is enforced by pipes and wait; no pid is printed.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "glx.h"

static volatile sig_atomic_t got_usr1, got_usr2, chld_count, chld_bad;

static void on_usr1(int sig)
{
    (void)sig;
    got_usr1++;
}

static void on_usr2(int sig)
{
    (void)sig;
    got_usr2++;
}

static void on_chld(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    chld_count++;
    if (sig != SIGCHLD || si->si_code != CLD_EXITED || si->si_status != 5)
        chld_bad++;
}

static void set_handler(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0) {
        printf("sigaction %d failed\n", sig);
        exit(1);
    }
}

static void block(int sig, int how)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    if (sigprocmask(how, &s, NULL) != 0) {
        printf("sigprocmask failed\n");
        exit(1);
    }
}

static void xpipe(int fd[2])
{
    if (pipe(fd) != 0) {
        printf("pipe failed\n");
        exit(1);
    }
}

static pid_t xfork(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        printf("fork failed\n");
        exit(1);
    }
    return pid;
}

static void put(int fd, const void *p, size_t n)
{
    if (write(fd, p, n) != (ssize_t)n)
        _exit(90);
}

/* Read exactly n bytes (retrying on EINTR). @return false at EOF/error. */
static bool get(int fd, void *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = read(fd, (char *)p + done, n - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        done += (size_t)r;
    }
    return true;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int wait_for(pid_t pid)
{
    int status = 0;
    pid_t w;
    do
        w = waitpid(pid, &status, 0);
    while (w < 0 && errno == EINTR);
    return w == pid ? status : -1;
}

static bool killed_by(int status, int sig)
{
    return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

static bool exited_with(int status, int code)
{
    return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

/*
 * A child that says it is ready on fd, then blocks reading hold until it
 * is killed. Should the signal never come, the parent closes hold's write
 * end and the child exits 99, so a missing signal is a failed check, not
 * a hang.
 */
static void ready_then_wait(int fd, int hold)
{
    put(fd, "r", 1);
    char c;
    while (read(hold, &c, 1) < 0 && errno == EINTR)
        ;
    _exit(99);
}

/* Wait up to 20 s for pid to end, then close hold_w and wait for good. */
static int wait_or_release(pid_t pid, int hold_w)
{
    int status = 0;
    for (int i = 0; i < 2000; i++) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            return status;
        if (w < 0 && errno != EINTR)
            return -1;
        pause_ms(10);
    }
    close(hold_w);
    return wait_for(pid);
}

static void term_default(void)
{
    int p[2], hold[2];
    xpipe(p);
    xpipe(hold);
    pid_t pid = xfork();
    if (pid == 0) {
        close(p[0]);
        close(hold[1]);
        ready_then_wait(p[1], hold[0]);
    }
    close(p[1]);
    close(hold[0]);
    char c;
    bool ready = get(p[0], &c, 1);
    close(p[0]);
    glx_check(ready && kill(pid, SIGTERM) == 0, "term: kill(child, SIGTERM)",
              "failed");
    int st = wait_or_release(pid, hold[1]);
    close(hold[1]);
    glx_check(killed_by(st, SIGTERM), "term: child killed by signal 15",
              "status %#x", st);
}

static void usr1_handler_child(void)
{
    int up[2], down[2];
    xpipe(up);
    xpipe(down);
    block(SIGUSR1, SIG_BLOCK);
    pid_t pid = xfork();
    if (pid == 0) {
        close(up[0]);
        set_handler(SIGUSR1, on_usr1, 0);
        put(up[1], "r", 1);
        sigset_t none;
        sigemptyset(&none);
        while (!got_usr1 && sigsuspend(&none) == -1 && errno == EINTR)
            ;
        static const char msg[] = "child got SIGUSR1";
        static const char bad[] = "sigsuspend failed";
        put(up[1], got_usr1 ? msg : bad, sizeof msg);
        _exit(7);
    }
    block(SIGUSR1, SIG_UNBLOCK);
    close(up[1]);
    close(down[0]);
    close(down[1]);
    char c, msg[32] = "";
    bool ready = get(up[0], &c, 1);
    glx_check(ready && kill(pid, SIGUSR1) == 0, "usr1: kill(child, SIGUSR1)",
              "failed");
    bool got = get(up[0], msg, sizeof "child got SIGUSR1");
    close(up[0]);
    glx_check(got && strcmp(msg, "child got SIGUSR1") == 0,
              "usr1: the child's handler ran and it said so", "got '%s'",
              msg);
    int st = wait_for(pid);
    glx_check(exited_with(st, 7), "usr1: child exited 7", "status %#x", st);
}

static void sigchld_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    chld_count = chld_bad = 0;
    int pending_seen = 0, runs_ok = 0;
    for (int i = 0; i < 3; i++) {
        block(SIGCHLD, SIG_BLOCK);
        pid_t pid = xfork();
        if (pid == 0)
            _exit(5);
        int st = wait_for(pid);
        sigset_t pend;
        sigemptyset(&pend);
        sigpending(&pend);
        pending_seen += exited_with(st, 5) && sigismember(&pend, SIGCHLD);
        int before = chld_count;
        block(SIGCHLD, SIG_UNBLOCK);
        runs_ok += chld_count == before + 1;
    }
    glx_check(pending_seen == 3, "sigchld: pending while blocked, child reaped",
              "%d of 3", pending_seen);
    glx_check(runs_ok == 3 && chld_count == 3,
              "sigchld: handler ran once per child when unblocked",
              "%d of 3, count %d", runs_ok, (int)chld_count);
    glx_check(chld_bad == 0, "sigchld: si_code CLD_EXITED, si_status 5",
              "%d bad", (int)chld_bad);
    signal(SIGCHLD, SIG_DFL);
}

static void sigchld_ignored(void)
{
    signal(SIGCHLD, SIG_IGN);
    pid_t pid = xfork();
    if (pid == 0)
        _exit(0);
    int st;
    errno = 0;
    pid_t w;
    do
        w = wait(&st);
    while (w < 0 && errno == EINTR);
    int e = errno;
    glx_check(w == -1 && e == ECHILD,
              "sigchld ignored: child auto-reaped, wait fails ECHILD",
              "wait returned %d errno %d", (int)(w == pid ? 1 : w), e);
    signal(SIGCHLD, SIG_DFL);
}

static void kill_zero(void)
{
    int p[2];
    xpipe(p);
    pid_t pid = xfork();
    if (pid == 0) {
        close(p[1]);
        char c;
        get(p[0], &c, 1); /* exits when the parent says so */
        _exit(0);
    }
    close(p[0]);
    glx_check(kill(pid, 0) == 0, "kill 0: finds the live child", "errno %d",
              errno);
    put(p[1], "x", 1);
    close(p[1]);
    /* A zombie still exists for kill(). */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
    glx_check(r == 0 && kill(pid, 0) == 0, "kill 0: finds the zombie",
              "waitid %d errno %d", r, errno);
    int st = wait_for(pid);
    errno = 0;
    r = kill(pid, 0);
    glx_check(exited_with(st, 0) && r == -1 && errno == ESRCH,
              "kill 0: ESRCH once reaped", "kill %d errno %d", r, errno);
}

/*
 * The child blocks in read() on an empty pipe with a SIGUSR1 handler
 * (restart: with SA_RESTART) and reports the result through a pipe: 'I'
 * for EINTR, 'D' for the data byte, '?' otherwise. The parent signals
 * until the child answers (a signal that lands before the read only runs
 * the handler); with restart it writes the byte after the first signal.
 */
static void read_interrupted(bool restart)
{
    int data[2], up[2];
    xpipe(data);
    xpipe(up);
    pid_t pid = xfork();
    if (pid == 0) {
        close(data[1]);
        close(up[0]);
        set_handler(SIGUSR1, on_usr1, restart ? SA_RESTART : 0);
        put(up[1], "r", 1);
        char c = 0;
        ssize_t r = read(data[0], &c, 1);
        char res = r < 0 && errno == EINTR       ? 'I'
                   : r == 1 && c == 'd' && got_usr1 ? 'D'
                                                  : '?';
        put(up[1], &res, 1);
        _exit(0);
    }
    close(data[0]);
    close(up[1]);
    char c = 0;
    get(up[0], &c, 1);
    pause_ms(50);
    struct pollfd pf = {up[0], POLLIN, 0};
    int tries = 0;
    while (tries < 100) {
        kill(pid, SIGUSR1);
        tries++;
        if (restart && tries == 1) {
            pause_ms(50);
            put(data[1], "d", 1);
        }
        if (poll(&pf, 1, 200) == 1)
            break;
    }
    close(data[1]); /* no answer: EOF ends the child's read */
    char res = 0;
    get(up[0], &res, 1);
    close(up[0]);
    int st = wait_for(pid);
    if (restart)
        glx_check(res == 'D' && exited_with(st, 0),
                  "read: SA_RESTART restarts it, data arrives", "got '%c'",
                  res ? res : '0');
    else
        glx_check(res == 'I' && exited_with(st, 0),
                  "read: without SA_RESTART it fails with EINTR", "got '%c'",
                  res ? res : '0');
}

static void sigpipe(void)
{
    int p[2];
    xpipe(p);
    close(p[0]);
    pid_t pid = xfork();
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        if (write(p[1], "x", 1) < 0)
            _exit(2);
        _exit(3);
    }
    int st = wait_for(pid);
    glx_check(killed_by(st, SIGPIPE), "sigpipe: default action kills the writer",
              "status %#x", st);
    signal(SIGPIPE, SIG_IGN);
    errno = 0;
    ssize_t r = write(p[1], "x", 1);
    glx_check(r == -1 && errno == EPIPE, "sigpipe: ignored, write fails EPIPE",
              "write %d errno %d", (int)r, errno);
    signal(SIGPIPE, SIG_DFL);
    close(p[1]);
}

static void pending_self(void)
{
    set_handler(SIGUSR2, on_usr2, 0);
    got_usr2 = 0;
    block(SIGUSR2, SIG_BLOCK);
    kill(getpid(), SIGUSR2);
    sigset_t pend;
    sigemptyset(&pend);
    sigpending(&pend);
    glx_check(sigismember(&pend, SIGUSR2) && got_usr2 == 0,
              "pending: blocked SIGUSR2 pending, handler not run", "ran %d",
              (int)got_usr2);
    block(SIGUSR2, SIG_UNBLOCK);
    sigemptyset(&pend);
    sigpending(&pend);
    glx_check(got_usr2 == 1 && !sigismember(&pend, SIGUSR2),
              "pending: delivered once when unblocked", "ran %d",
              (int)got_usr2);
    signal(SIGUSR2, SIG_DFL);
}

static void pids(void)
{
    int p[2];
    xpipe(p);
    pid_t parent = getpid();
    pid_t pid = xfork();
    if (pid == 0) {
        /* raise() signals the thread id glibc cached at fork (clone's
         * CLONE_CHILD_SETTID): it must be the child's own */
        set_handler(SIGUSR1, on_usr1, 0);
        got_usr1 = 0;
        int raised = raise(SIGUSR1) == 0 && got_usr1 == 1;
        pid_t ids[3] = {getpid(), getppid(), raised};
        put(p[1], ids, sizeof ids);
        _exit(0);
    }
    close(p[1]);
    pid_t ids[3] = {0, 0, 0};
    bool got = get(p[0], ids, sizeof ids);
    close(p[0]);
    int st = wait_for(pid);
    glx_check(got && ids[0] == pid && exited_with(st, 0),
              "pids: child's getpid() is fork()'s return", "differ");
    glx_check(got && ids[1] == parent,
              "pids: child's getppid() is the parent's getpid()", "differ");
    glx_check(got && ids[2] == 1,
              "pids: raise() in the child reaches the child's handler",
              "it did not");
    /* the raw clone: CLONE_CHILD_SETTID stores the child's pid at ctid,
     * which is the 4th argument on x86-64 and the 5th on riscv64
     * (CONFIG_CLONE_BACKWARDS) */
    static volatile pid_t settid_word;
    settid_word = 0;
#if defined(__x86_64__)
    long r = syscall(SYS_clone, CLONE_CHILD_SETTID | SIGCHLD, 0, NULL,
                     &settid_word, 0);
#else
    long r = syscall(SYS_clone, CLONE_CHILD_SETTID | SIGCHLD, 0, NULL, 0,
                     &settid_word);
#endif
    if (r == 0)
        _exit(settid_word == getpid() ? 0 : 1);
    int st2 = r > 0 ? wait_for((pid_t)r) : -1;
    glx_check(r > 0 && exited_with(st2, 0) && settid_word == 0,
              "pids: clone's CLONE_CHILD_SETTID writes the child's pid in "
              "the child only",
              "r %ld", r);
}

static void process_group(void)
{
    int p[2], hold[2];
    xpipe(p);
    xpipe(hold);
    pid_t a = xfork();
    if (a == 0) {
        close(p[0]);
        close(hold[1]);
        if (setpgid(0, 0) != 0)
            _exit(20);
        ready_then_wait(p[1], hold[0]);
    }
    setpgid(a, a); /* as a shell does: whichever runs first */
    char c;
    bool ready = get(p[0], &c, 1);
    pid_t b = xfork();
    if (b == 0) {
        close(p[0]);
        close(hold[1]);
        if (setpgid(0, a) != 0)
            _exit(21);
        ready_then_wait(p[1], hold[0]);
    }
    setpgid(b, a);
    ready = get(p[0], &c, 1) && ready;
    pid_t outside = xfork();
    if (outside == 0) {
        close(p[0]);
        close(hold[1]);
        ready_then_wait(p[1], hold[0]);
    }
    close(p[1]);
    close(hold[0]);
    ready = get(p[0], &c, 1) && ready;
    close(p[0]);
    glx_check(ready && getpgid(a) == a && getpgid(b) == a &&
                  getpgid(outside) == getpgrp() && getpgrp() != a,
              "pgrp: setpgid(0, 0) made a group, a second child joined it",
              "pgids differ");
    glx_check(kill(-a, SIGTERM) == 0, "pgrp: kill(-pgid, SIGTERM)",
              "errno %d", errno);
    int sa = wait_or_release(a, hold[1]);
    int sb = wait_or_release(b, hold[1]);
    glx_check(killed_by(sa, SIGTERM) && killed_by(sb, SIGTERM),
              "pgrp: both members killed by signal 15", "status %#x %#x", sa,
              sb);
    int so = 0;
    pid_t w = waitpid(outside, &so, WNOHANG);
    glx_check(w == 0 && kill(outside, 0) == 0,
              "pgrp: the child outside the group lives", "waitpid %d",
              (int)(w == outside ? 1 : w));
    if (w == 0) {
        kill(outside, SIGKILL);
        so = wait_or_release(outside, hold[1]);
    }
    close(hold[1]);
    glx_check(killed_by(so, SIGKILL), "pgrp: then SIGKILL kills it",
              "status %#x", so);
}

int main(void)
{
    glx_init();
    signal(SIGPIPE, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    term_default();
    usr1_handler_child();
    sigchld_handler();
    sigchld_ignored();
    kill_zero();
    read_interrupted(false);
    read_interrupted(true);
    sigpipe();
    pending_self();
    pids();
    process_group();
    return glx_finish();
}
