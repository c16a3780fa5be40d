/*
 * json.c - one-line JSON objects (see json.h).
 */
#include "json.h"

static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void put_key(json_line *j, const char *key)
{
    fputs(j->first ? "{" : ",", j->f);
    j->first = false;
    put_string(j->f, key);
    fputc(':', j->f);
}

void json_begin(json_line *j, FILE *f)
{
    j->f = f;
    j->first = true;
}

void json_str(json_line *j, const char *key, const char *val)
{
    put_key(j, key);
    put_string(j->f, val);
}

void json_hex(json_line *j, const char *key, uint64_t val)
{
    put_key(j, key);
    fprintf(j->f, "\"0x%llx\"", (unsigned long long)val);
}

void json_uint(json_line *j, const char *key, uint64_t val)
{
    put_key(j, key);
    fprintf(j->f, "%llu", (unsigned long long)val);
}

void json_int(json_line *j, const char *key, long long val)
{
    put_key(j, key);
    fprintf(j->f, "%lld", val);
}

void json_bool(json_line *j, const char *key, bool val)
{
    put_key(j, key);
    fputs(val ? "true" : "false", j->f);
}

void json_open(json_line *j, const char *key)
{
    put_key(j, key);
    j->first = true; /* the next key opens the inner object */
}

void json_close(json_line *j)
{
    fputs(j->first ? "{}" : "}", j->f);
    j->first = false;
}

void json_end(json_line *j)
{
    fputs(j->first ? "{}\n" : "}\n", j->f);
    j->first = true;
}
