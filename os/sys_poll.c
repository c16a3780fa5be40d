/*
 * sys_poll.c - poll and ppoll (fs/select.c: do_sys_poll, do_pollfd,
 * poll_select_set_timeout, poll_select_finish; kernel/signal.c
 * set_user_sigmask).
 *
 * struct pollfd is {int fd; short events; short revents;} (8 bytes) on
 * both ABIs, read and written back through uaccess. Per entry, as
 * do_pollfd does: fd < 0 is skipped (revents 0); a closed fd or an O_PATH
 * one (fdget refuses FMODE_PATH) gives POLLNVAL; an in-memory file
 * (OFD_MEM) has no poll method: DEFAULT_POLLMASK; a host description is
 * polled on the host, whose event bits are Linux's. The result is masked
 * with events | POLLERR | POLLHUP. Ready fds win over a pending signal;
 * with none ready, a deliverable signal ends the call with -EINTR (never
 * restarted after a handler: os_proc_call_restartable).
 *
 * Waiting: several processes share the vCPU. While another one can run
 * (p->may_block) a call with nothing ready reports OS_SYSRET_BLOCKED and
 * the runner re-issues it later; the deadline is kept in p->pollw, keyed
 * by the call and its arguments, so a finite timeout still expires. A
 * re-issue is told from a new call by the syscall count (nothing ran in
 * between) and by the saved mask, which the runner takes when a handler
 * interrupts the wait. Otherwise the host's poll waits for the remaining
 * time. Deadlines are on the host's CLOCK_MONOTONIC: a guest waiting for
 * another process must wait for real; with cfg.deterministic a timeout
 * advances the fake clock by the whole timeout (as nanosleep does) and
 * ppoll reports no time spent unless it timed out.
 *
 * ppoll's mask replaces the process's while it waits, saved as
 * rt_sigsuspend saves it: restored when the call returns, or, when a
 * signal it unblocked ends the wait, by the signal frame (which saves the
 * old mask). ppoll writes the time left back to its timespec.
 */
#define _POSIX_C_SOURCE 200809L

#include "proc_internal.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define L_POLLIN     0x001
#define L_POLLOUT    0x004
#define L_POLLERR    0x008
#define L_POLLHUP    0x010
#define L_POLLNVAL   0x020
#define L_POLLRDNORM 0x040
#define L_POLLWRNORM 0x100
/* A file without a poll method is always ready (DEFAULT_POLLMASK). */
#define L_DEFAULT_POLLMASK                                                     \
    (L_POLLIN | L_POLLOUT | L_POLLRDNORM | L_POLLWRNORM)

#define L_SIGKILL    9
#define L_SIGSTOP    19
#define L_RLIMIT_NOFILE 7
#define POLLFD_SIZE  8
#define NSEC         INT64_C(1000000000)
#define MSEC         INT64_C(1000000)
#define NO_DEADLINE  INT64_MAX


/* The deadlines' clock (os_wait_now_ns) as a signed count. */
static int64_t now_ns(void)
{
    return (int64_t)os_wait_now_ns();
}

/* The guest's array and the host descriptions among it. */
typedef struct poll_set {
    uint8_t *img; /* nfds guest entries */
    uint32_t nfds;
    struct pollfd *host; /* nhost entries, host[k] for img entry idx[k] */
    uint32_t *idx;
    uint32_t nhost;
} poll_set;

static uint16_t entry_events(const uint8_t *e)
{
    return (uint16_t)(e[4] | e[5] << 8);
}

/*
 * One pass over the set (do_poll's loop body): revents written into the
 * image; the host's poll waits up to ms (0: a look, -1: no limit) unless
 * an entry is ready already. @return how many entries have revents, or a
 * negative errno of the host's poll.
 */
static int64_t poll_scan(os_proc *p, poll_set *s, int ms)
{
    int64_t ready = 0;
    s->nhost = 0;
    for (uint32_t i = 0; i < s->nfds; i++) {
        uint8_t *e = s->img + (size_t)i * POLLFD_SIZE;
        int fd = (int)(int32_t)ld_u32(e, 0);
        uint16_t filter =
            (uint16_t)(entry_events(e) | L_POLLERR | L_POLLHUP);
        uint16_t rev = 0;
        if (fd >= 0) {
            ofd *o = fdt_get(&p->fds, fd);
            if (o == NULL || (o->flags & L_O_PATH)) {
                rev = L_POLLNVAL;
            } else if (o->kind == OFD_MEM) {
                rev = (uint16_t)(L_DEFAULT_POLLMASK & filter);
            } else {
                s->host[s->nhost] =
                    (struct pollfd){.fd = o->host, .events = (short)filter};
                s->idx[s->nhost++] = i;
            }
        }
        st_u16(e, 6, rev);
        ready += rev != 0;
    }
    if (ready != 0)
        ms = 0;
    if (s->nhost == 0 && ms <= 0)
        return ready;
    /* with no host fd, a finite wait is a sleep */
    int n = poll(s->host, s->nhost, ms);
    if (n < 0)
        return errno == EINTR ? ready : host_errno(errno);
    for (uint32_t k = 0; k < s->nhost; k++) {
        uint16_t rev = (uint16_t)s->host[k].revents;
        st_u16(s->img + (size_t)s->idx[k] * POLLFD_SIZE, 6, rev);
        ready += rev != 0;
    }
    return ready;
}

/* Milliseconds left until deadline, rounded up (a timeout is never
 * early); -1 for none. */
static int ms_left(int64_t deadline)
{
    if (deadline == NO_DEADLINE)
        return -1;
    int64_t left = deadline - now_ns();
    if (left <= 0)
        return 0;
    int64_t ms = (left + MSEC - 1) / MSEC;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/*
 * do_sys_poll: wait until an entry is ready, a signal is deliverable, or
 * the deadline passes (*timed_out). @return the count, 0, or a negative
 * errno; 0 with OS_SYSRET_BLOCKED in out when the runner is to re-issue.
 */
static int64_t do_sys_poll(os_proc *p, uint64_t ufds, uint32_t nfds,
                           int64_t deadline, bool *timed_out, os_sysret *out)
{
    if (nfds > p->rlim[L_RLIMIT_NOFILE].cur)
        return -OS_EINVAL;
    size_t len = (size_t)nfds * POLLFD_SIZE;
    poll_set s = {.img = malloc(len + 1),
                  .nfds = nfds,
                  .host = malloc((nfds + 1) * sizeof(struct pollfd)),
                  .idx = malloc((nfds + 1) * sizeof(uint32_t))};
    int64_t n = -OS_ENOMEM;
    if (s.img == NULL || s.host == NULL || s.idx == NULL)
        goto done;
    n = -OS_EFAULT;
    if (len != 0 && os_copy_from_user(&p->u, s.img, ufds, len) != 0)
        goto done;
    int ms = 0;
    for (;;) {
        n = poll_scan(p, &s, ms);
        if (n != 0)
            break;
        if (os_proc_signal_pending(p)) {
            n = -OS_EINTR;
            break;
        }
        ms = ms_left(deadline);
        if (ms == 0) {
            *timed_out = true;
            break;
        }
        if (p->may_block) {
            out->flags |= OS_SYSRET_BLOCKED;
            /* what the runner's idle wait watches if every process
             * blocks */
            for (uint32_t k = 0; k < s.nhost; k++)
                proc_wait_fd(p, s.host[k].fd, s.host[k].events);
            if (deadline != NO_DEADLINE)
                proc_wait_until(p, (uint64_t)deadline);
            goto done;
        }
        if (ms < 0 && s.nhost == 0) {
            proc_report(p, "poll with nothing to wait for and no other "
                           "process to send a signal would sleep forever: "
                           "killed");
            proc_exit(p, 128 + L_SIGKILL, L_SIGKILL, out);
            n = -OS_EINTR;
            goto done;
        }
    }
    /* revents go back whatever the result (the kernel writes them after
     * do_poll, -EINTR included) */
    if (n >= 0 || n == -OS_EINTR)
        if (len != 0 && os_copy_to_user(&p->u, ufds, s.img, len) != 0)
            n = -OS_EFAULT;
done:
    free(s.img);
    free(s.host);
    free(s.idx);
    return n;
}

/*
 * poll and ppoll after their own arguments: timeout in ns (-1: none),
 * mask the one ppoll waits with (NULL: the process's). *left: the time
 * that remains (ppoll writes it back). @return as do_sys_poll.
 */
static int64_t poll_call(os_proc *p, const uint64_t *a, int64_t timeout,
                         const uint64_t *mask, os_sysret *out, int64_t *left)
{
    uint64_t key[6] = {p->cur_nr, a[0], (uint32_t)a[1], a[2], a[3],
                       (uint64_t)timeout};
    bool reissue = p->pollw.active && p->has_saved_mask &&
                   p->pollw.seq + 1 == p->st.syscalls &&
                   memcmp(p->pollw.key, key, sizeof key) == 0;
    p->pollw.active = false;
    if (!reissue) {
        int64_t now = timeout > 0 ? now_ns() : 0;
        p->pollw.start = now;
        p->pollw.deadline = timeout < 0                  ? NO_DEADLINE
                            : timeout > NO_DEADLINE - now ? NO_DEADLINE
                                                          : now + timeout;
        if (mask != NULL)
            proc_wait_with_mask(p, *mask);
    }
    bool timed_out = false;
    int64_t r = do_sys_poll(p, a[0], (uint32_t)a[1], p->pollw.deadline,
                            &timed_out, out);
    if (out->flags & OS_SYSRET_BLOCKED) {
        memcpy(p->pollw.key, key, sizeof key);
        p->pollw.seq = p->st.syscalls;
        p->pollw.active = true;
        if (!p->has_saved_mask) { /* marks the wait (see above) */
            p->saved_mask = p->sigmask;
            p->has_saved_mask = true;
        }
        return 0;
    }
    if (r != -OS_EINTR || !os_proc_signal_pending(p))
        os_proc_restore_saved_mask(p);
    if (p->cfg.deterministic) {
        if (timed_out && timeout > 0)
            p->fake_ns += (uint64_t)timeout;
        *left = timed_out ? 0 : timeout;
    } else {
        int64_t spent = timeout > 0 ? now_ns() - p->pollw.start : 0;
        *left = timeout < 0 ? -1 : spent >= timeout ? 0 : timeout - spent;
    }
    return r;
}

int64_t sys_poll(os_proc *p, const uint64_t *a, os_sysret *out)
{
    int ms = arg_int(a[2]);
    int64_t left;
    return poll_call(p, a, ms < 0 ? -1 : (int64_t)ms * MSEC, NULL, out, &left);
}

int64_t sys_ppoll(os_proc *p, const uint64_t *a, os_sysret *out)
{
    int64_t timeout = -1;
    uint8_t b[16];
    if (a[2] != 0) {
        if (os_copy_from_user(&p->u, b, a[2], sizeof b) != 0)
            return -OS_EFAULT;
        int64_t s = (int64_t)ld_u64(b, 0), ns = (int64_t)ld_u64(b, 8);
        if (s < 0 || ns < 0 || ns >= NSEC) /* timespec64_valid */
            return -OS_EINVAL;
        timeout = s >= INT64_MAX / NSEC - 1 ? INT64_MAX : s * NSEC + ns;
    }
    uint64_t mask;
    if (a[3] != 0) {
        if (a[4] != 8)
            return -OS_EINVAL;
        if (get_user_u64(p, a[3], &mask) != 0)
            return -OS_EFAULT;
    }
    int64_t left;
    int64_t r = poll_call(p, a, timeout, a[3] != 0 ? &mask : NULL, out, &left);
    if ((out->flags & OS_SYSRET_BLOCKED) || a[2] == 0 || timeout == 0)
        return r;
    /* poll_select_finish: the time left (a fault there is ignored) */
    st_u64(b, 0, (uint64_t)(left / NSEC));
    st_u64(b, 8, (uint64_t)(left % NSEC));
    (void)os_copy_to_user(&p->u, a[2], b, sizeof b);
    return r;
}
