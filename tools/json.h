/*
 * json.h - one JSON object per output line, keys in the order written.
 *
 * The translate subcommand prints every result this way: addresses as hex
 * strings ("0x1000"), counts as plain numbers, flags as true/false.
 * Objects may nest (json_open/json_close, for the --stats line).
 * Not a general JSON writer: no arrays, no checks that opens and closes
 * pair up.
 */
#ifndef MMUEMU_TOOLS_JSON_H
#define MMUEMU_TOOLS_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct json_line {
    FILE *f;
    bool first;
} json_line;

void json_begin(json_line *j, FILE *f);
void json_str(json_line *j, const char *key, const char *val);
void json_hex(json_line *j, const char *key, uint64_t val); /* "0x..." */
void json_uint(json_line *j, const char *key, uint64_t val);
void json_int(json_line *j, const char *key, long long val);
void json_bool(json_line *j, const char *key, bool val);
void json_open(json_line *j, const char *key); /* "key":{ */
void json_close(json_line *j);                 /* } of the last open */
void json_end(json_line *j); /* "}\n" */

#endif
