/*
 * maps - reads /proc/self/maps and prints, for the program's own text
 * (an executable mapping of /proc/self/exe), the [heap] and the [stack],
 * the permissions and the name, with no addresses. Each must contain what
 * it should: main's code, the byte below the break, a local variable.
 *
 * The expected output is Linux's (checked natively on x86-64). qemu-user
 * 7.2 fakes this file differently (no [heap]; on x86-64 no executable
 * mapping of the program): see expected/qemu-deviations/README.md.
 */
#include <fcntl.h>
#include <limits.h>

#include "glx.h"

static char maps[1 << 16];

struct mapping {
    uintptr_t lo, hi;
    char perms[5];
    const char *name;
};

/* Parse one line "lo-hi perms offset dev inode [name]" (NUL-terminated).
 * @return false if it does not have that shape. */
static bool parse(char *line, struct mapping *m)
{
    char *end;
    m->lo = (uintptr_t)strtoull(line, &end, 16);
    if (*end != '-')
        return false;
    m->hi = (uintptr_t)strtoull(end + 1, &end, 16);
    if (*end != ' ' || strlen(end + 1) < 4)
        return false;
    memcpy(m->perms, end + 1, 4);
    m->perms[4] = '\0';
    /* The name starts after the fifth field. */
    char *p = end + 1;
    for (int field = 0; field < 4; field++) {
        p = strchr(p, ' ');
        if (!p)
            return false;
        while (*p == ' ')
            p++;
    }
    m->name = p;
    return true;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void report(const char *role, const struct mapping *m, bool found,
                   uintptr_t inside, const char *what)
{
    if (!glx_check(found, role, "no such mapping"))
        return;
    printf("%s perms %s name %s\n", role, m->perms, base_name(m->name));
    char name[64];
    snprintf(name, sizeof name, "%s contains %s", role, what);
    glx_check(m->lo <= inside && inside < m->hi, name, "it does not");
}

int main(void)
{
    glx_init();
    volatile int local = 1;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (!glx_check(n > 0, "readlink /proc/self/exe", "failed"))
        return glx_finish();
    exe[n] = '\0';

    /* Make sure the heap is not empty. */
    uintptr_t brk_end = (uintptr_t)sbrk(4096) + 4096;

    int fd = open("/proc/self/maps", O_RDONLY);
    if (!glx_check(fd >= 0, "open /proc/self/maps", "failed"))
        return glx_finish();
    size_t len = 0;
    ssize_t r;
    while (len < sizeof maps - 1 &&
           (r = read(fd, maps + len, sizeof maps - 1 - len)) > 0)
        len += (size_t)r;
    close(fd);
    maps[len] = '\0';

    struct mapping text = {0}, heap = {0}, stack = {0}, m;
    bool have_text = false, have_heap = false, have_stack = false;
    size_t lines = 0;
    for (char *line = strtok(maps, "\n"); line; line = strtok(NULL, "\n")) {
        if (!parse(line, &m))
            continue;
        lines++;
        if (!have_text && m.perms[2] == 'x' && strcmp(m.name, exe) == 0) {
            text = m;
            have_text = true;
        } else if (!have_heap && strcmp(m.name, "[heap]") == 0) {
            heap = m;
            have_heap = true;
        } else if (!have_stack && strcmp(m.name, "[stack]") == 0) {
            stack = m;
            have_stack = true;
        }
    }
    glx_check(lines >= 3, "maps has lines", "%zu lines", lines);
    report("text", &text, have_text, (uintptr_t)&main, "main");
    report("heap", &heap, have_heap, brk_end - 1, "the break");
    report("stack", &stack, have_stack, (uintptr_t)&local, "a local");
    return glx_finish();
}
