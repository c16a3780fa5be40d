/*
 * fork_cow - copy-on-write across fork(): private memory of every kind
 * (.data, heap, stack, an anonymous private mapping of 64 pages) is
 * written by both processes after the fork and each must see only its own
 * writes, while a MAP_SHARED|MAP_ANONYMOUS page is seen by both. The two
 * processes take turns through pipes, so the output order is fixed: the
 * child prints its lines and exits, then the parent reaps it and prints.
 *
 * With the argument --pages each side also prints, right after its writes,
 * which pages it wrote and its pid (not stable output: for the fault-trace
 * test tests/guest/mmuemu_fork_cow_trace.sh, which checks that each of
 * those pages took exactly one write-protect fault in that process):
 *     pages <child|parent> pid=<pid> <region> 0x<first page> <count>
 * and writes "fork_cow: fork" to stderr just before fork(), so that the
 * faults before it can be told from those after.
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include "glx.h"

#define PAGES 64

static unsigned char data_page[4096] = {1};

struct region {
    const char *name;
    unsigned char *p;
    size_t len;
};

static void fill(struct region *r, size_t n, unsigned char v)
{
    for (size_t i = 0; i < n; i++)
        memset(r[i].p, v, r[i].len);
}

/* @return the name of the first region not entirely v, or NULL. */
static const char *all(const struct region *r, size_t n, unsigned char v)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < r[i].len; j++)
            if (r[i].p[j] != v)
                return r[i].name;
    return NULL;
}

static void signal_peer(int fd)
{
    char c = 1;
    if (write(fd, &c, 1) != 1)
        _exit(3);
}

static void wait_peer(int fd)
{
    char c;
    if (read(fd, &c, 1) != 1)
        _exit(4);
}

/* --pages: the pages of each region the caller just wrote, and its pid. */
static void print_pages(const char *side, const struct region *r, size_t n,
                        size_t pg)
{
    for (size_t i = 0; i < n; i++) {
        uintptr_t first = (uintptr_t)r[i].p & ~(uintptr_t)(pg - 1);
        uintptr_t last =
            ((uintptr_t)r[i].p + r[i].len - 1) & ~(uintptr_t)(pg - 1);
        printf("pages %s pid=%d %s 0x%llx %llu\n", side, (int)getpid(),
               r[i].name, (unsigned long long)first,
               (unsigned long long)((last - first) / pg + 1));
    }
    fflush(stdout);
}

int main(int argc, char **argv)
{
    glx_init();
    bool pages = argc > 1 && strcmp(argv[1], "--pages") == 0;
    size_t pg = glx_page_size();
    unsigned char stack_buf[2048];
    unsigned char *heap = malloc(3 * pg);
    unsigned char *anon = mmap(NULL, PAGES * pg, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    volatile unsigned char *shared = mmap(NULL, pg, PROT_READ | PROT_WRITE,
                                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (!heap || anon == MAP_FAILED || shared == MAP_FAILED) {
        printf("setup failed\n");
        free(heap);
        return 1;
    }
    struct region priv[] = {
        {".data", data_page, sizeof data_page},
        {"heap", heap, 3 * pg},
        {"stack", stack_buf, sizeof stack_buf},
        {"anonymous private", anon, PAGES * pg},
    };
    size_t nr = sizeof priv / sizeof priv[0];
    fill(priv, nr, 'A');
    shared[0] = 'A';
    shared[1] = 'A';

    int to_child[2], to_parent[2];
    if (pipe(to_child) != 0 || pipe(to_parent) != 0) {
        printf("pipe failed\n");
        free(heap);
        return 1;
    }
    printf("before fork: private regions and shared page hold 'A'\n");
    fflush(stdout);
    if (pages) { /* where the fault trace (on stderr too) reaches fork */
        static const char mark[] = "fork_cow: fork\n";
        if (write(2, mark, sizeof mark - 1) < 0)
            return 1;
    }

    pid_t pid = fork();
    if (pid < 0) {
        printf("fork failed\n");
        free(heap);
        return 1;
    }
    if (pid == 0) {
        /* Child: write first, let the parent look, then see the parent's
         * writes (or not). */
        fill(priv, nr, 'C');
        shared[0] = 'C';
        if (pages)
            print_pages("child", priv, nr, pg);
        signal_peer(to_parent[1]);
        wait_peer(to_child[0]);
        const char *bad = all(priv, nr, 'C');
        glx_check(bad == NULL, "child: private writes stay private",
                  "%s changed", bad);
        glx_check(shared[1] == 'P', "child: sees the parent's shared write",
                  "got %d", shared[1]);
        glx_check(shared[0] == 'C', "child: its shared write kept", "got %d",
                  shared[0]);
        int status = glx_failures ? 1 : 0;
        printf("child: exit %d\n", status);
        fflush(stdout);
        _exit(status);
    }

    /* Parent: check the child's writes did not reach us, then write. */
    wait_peer(to_parent[0]);
    const char *bad_before = all(priv, nr, 'A');
    unsigned char saw_shared = shared[0];
    fill(priv, nr, 'P');
    shared[1] = 'P';
    if (pages)
        print_pages("parent", priv, nr, pg);
    signal_peer(to_child[1]);

    int status = 0;
    pid_t w = waitpid(pid, &status, 0);
    glx_check(w == pid, "parent: waitpid returns the child", "returned %d",
              (int)w);
    glx_check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "parent: child exited 0", "status %#x", status);
    glx_check(bad_before == NULL, "parent: child's private writes not visible",
              "%s changed", bad_before);
    glx_check(saw_shared == 'C', "parent: sees the child's shared write",
              "got %d", saw_shared);
    const char *bad = all(priv, nr, 'P');
    glx_check(bad == NULL, "parent: own writes kept after the child exited",
              "%s changed", bad);
    glx_check(shared[0] == 'C' && shared[1] == 'P',
              "parent: shared page holds both writes", "got %d %d", shared[0],
              shared[1]);
    glx_check(munmap(anon, PAGES * pg) == 0 && munmap((void *)shared, pg) == 0,
              "parent: munmap", "failed");
    free(heap);
    return glx_finish();
}
