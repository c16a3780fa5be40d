/*
 * cli.c - shared helpers of the mmuemu subcommands (see cli.h).
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs(cmd != NULL ? "mmuemu " : "mmuemu", stderr);
    if (cmd != NULL)
        fputs(cmd, stderr);
    fputs(": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

bool cli_parse_u64(const char *s, uint64_t *out)
{
    /* strtoull skips spaces and accepts a sign: refuse both up front. */
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || *end != '\0')
        return false;
    *out = (uint64_t)v;
    return true;
}

bool cli_parse_max(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v;
    if (!cli_parse_u64(s, &v) || v > max)
        return false;
    *out = v;
    return true;
}

/* Size of a seekable file, or -1 (pipes, terminals): then read to EOF. */
static long file_size_hint(FILE *f)
{
    if (fseek(f, 0, SEEK_END) != 0)
        return -1;
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0)
        return -1;
    return n;
}

/* Read all of f, refusing more than CLI_IMAGE_MAX bytes. */
static bool read_all(const char *cmd, const char *path, FILE *f, uint8_t **buf,
                     uint64_t *len)
{
    size_t cap = 0, n = 0;
    uint8_t *p = NULL;
    errno = 0;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap == 0 ? (size_t)1 << 20 : cap * 2;
            if ((uint64_t)ncap > CLI_IMAGE_MAX + 1)
                ncap = (size_t)(CLI_IMAGE_MAX + 1);
            uint8_t *np = ncap > cap ? realloc(p, ncap) : NULL;
            if (np == NULL) {
                free(p);
                cli_error(cmd, "%s: image larger than 4 GiB or out of memory",
                          path);
                return false;
            }
            p = np;
            cap = ncap;
        }
        size_t got = fread(p + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int err = errno;
        free(p);
        cli_error(cmd, "%s: read error: %s", path, strerror(err));
        return false;
    }
    if ((uint64_t)n > CLI_IMAGE_MAX) {
        free(p);
        cli_error(cmd, "%s: image larger than 4 GiB", path);
        return false;
    }
    *buf = p;
    *len = n;
    return true;
}

bool cli_load_image(const char *cmd, const char *path, uint64_t base,
                    mmu_phys *mem)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        cli_error(cmd, "%s: cannot open image: %s", path, strerror(errno));
        return false;
    }
    long hint = file_size_hint(f);
    if (hint >= 0 && (uint64_t)hint > CLI_IMAGE_MAX) {
        /* A directory "seeks" to LONG_MAX: report its read error. */
        errno = 0;
        if (getc(f) == EOF && ferror(f)) {
            cli_error(cmd, "%s: read error: %s", path, strerror(errno));
            fclose(f);
            return false;
        }
        fclose(f);
        cli_error(cmd, "%s: image is %ld bytes; the limit is 4 GiB", path,
                  hint);
        return false;
    }
    uint8_t *buf = NULL;
    uint64_t len = 0;
    bool ok = read_all(cmd, path, f, &buf, &len);
    fclose(f);
    if (!ok)
        return false;
    if (len == 0) {
        free(buf);
        cli_error(cmd, "%s: image is empty", path);
        return false;
    }
    if (len - 1 > UINT64_MAX - base) {
        free(buf);
        cli_error(cmd, "%s: image at base 0x%llx wraps past 2^64", path,
                  (unsigned long long)base);
        return false;
    }
    mem->ram = buf;
    mem->size = len;
    mem->base = base;
    return true;
}

bool cli_save_image(const char *cmd, const char *path, const mmu_phys *mem)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        cli_error(cmd, "%s: cannot create: %s", path, strerror(errno));
        return false;
    }
    bool ok = fwrite(mem->ram, 1, (size_t)mem->size, f) == mem->size;
    if (fclose(f) != 0)
        ok = false;
    if (!ok)
        cli_error(cmd, "%s: write error", path);
    return ok;
}

void cli_free_image(mmu_phys *mem)
{
    free(mem->ram);
    mem->ram = NULL;
    mem->size = 0;
}

bool cli_flush_stdout(const char *cmd)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error(cmd, "error writing standard output");
        return false;
    }
    return true;
}
