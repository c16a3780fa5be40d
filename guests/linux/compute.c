/*
 * compute - a CPU- and memory-bound workload: 16 MiB (argv[1] MiB) of
 * 32-bit pseudo-random integers (xorshift32, fixed seed), sorted with
 * qsort and hashed with SHA-256 (FIPS 180-4, written here) as
 * little-endian bytes, which both architectures share. Prints the hash of
 * the known-answer test "abc", of the input and of the sorted output.
 */
#include "glx.h"

struct sha256 {
    uint32_t h[8];
    unsigned char block[64];
    size_t fill;
    uint64_t bytes;
};

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

static void sha256_block(struct sha256 *s, const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ w[i - 15] >> 3;
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ w[i - 2] >> 10;
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
    uint32_t e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) +
                      ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) +
                      ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    s->h[0] += a;
    s->h[1] += b;
    s->h[2] += c;
    s->h[3] += d;
    s->h[4] += e;
    s->h[5] += f;
    s->h[6] += g;
    s->h[7] += h;
}

static void sha256_init(struct sha256 *s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372,
                                   0xa54ff53a, 0x510e527f, 0x9b05688c,
                                   0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof iv);
    s->fill = 0;
    s->bytes = 0;
}

static void sha256_update(struct sha256 *s, const void *data, size_t n)
{
    const unsigned char *p = data;
    s->bytes += n;
    while (n > 0) {
        if (s->fill == 0 && n >= 64) {
            sha256_block(s, p);
            p += 64;
            n -= 64;
            continue;
        }
        size_t take = 64 - s->fill < n ? 64 - s->fill : n;
        memcpy(s->block + s->fill, p, take);
        s->fill += take;
        p += take;
        n -= take;
        if (s->fill == 64) {
            sha256_block(s, s->block);
            s->fill = 0;
        }
    }
}

/* Pad, finish and print the digest in hex after label. */
static void sha256_print(struct sha256 *s, const char *label)
{
    uint64_t bits = s->bytes * 8;
    unsigned char pad[72] = {0x80};
    size_t padlen = (s->fill < 56 ? 56 : 120) - s->fill;
    for (int i = 0; i < 8; i++)
        pad[padlen + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
    sha256_update(s, pad, padlen + 8);
    printf("%s ", label);
    for (int i = 0; i < 8; i++)
        printf("%08x", (unsigned)s->h[i]);
    printf("\n");
}

/* Hash the array as little-endian bytes whatever the host order. */
static void hash_words(const uint32_t *v, size_t n, const char *label)
{
    struct sha256 s;
    sha256_init(&s);
    unsigned char buf[4096];
    size_t fill = 0;
    for (size_t i = 0; i < n; i++) {
        for (int b = 0; b < 4; b++)
            buf[fill++] = (unsigned char)(v[i] >> (8 * b));
        if (fill == sizeof buf) {
            sha256_update(&s, buf, fill);
            fill = 0;
        }
    }
    sha256_update(&s, buf, fill);
    sha256_print(&s, label);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    glx_init();
    size_t mib = glx_arg(argc, argv, 1, 16);
    size_t n = mib * (size_t)GLX_MIB / sizeof(uint32_t);
    printf("compute: %zu MiB, %zu integers\n", mib, n);

    struct sha256 s;
    sha256_init(&s);
    sha256_update(&s, "abc", 3);
    sha256_print(&s, "sha256(abc)");

    uint32_t *v = malloc(n * sizeof *v);
    if (v == NULL) {
        printf("malloc of %zu MiB failed\n", mib);
        return 1;
    }
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v[i] = x;
    }
    hash_words(v, n, "sha256(input)");
    qsort(v, n, sizeof *v, cmp_u32);
    size_t unsorted = 0;
    for (size_t i = 1; i < n; i++)
        unsorted += v[i - 1] > v[i];
    glx_check(unsorted == 0, "sorted", "%zu pairs out of order", unsorted);
    printf("min %08x max %08x\n", (unsigned)v[0], (unsigned)v[n - 1]);
    hash_words(v, n, "sha256(sorted)");
    free(v);
    return glx_finish();
}
