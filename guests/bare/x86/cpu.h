/*
 * cpu.h - wrappers for the privileged x86 instructions the guest uses
 * (control registers, MSRs, CPUID, INVLPG, port I/O, STAC/CLAC, PKRU).
 *
 * Models: Intel SDM vol. 2 (the instructions), vol. 3A 2.5 (CR0, CR4).
 * Not modelled: anything the guest does not execute.
 */
#ifndef GUEST_X86_CPU_H
#define GUEST_X86_CPU_H

#include <stdint.h>

#define DEFINE_CR(n)                                                           \
    static inline uint64_t rd_cr##n(void)                                      \
    {                                                                          \
        uint64_t v;                                                            \
        __asm__ __volatile__("mov %%cr" #n ", %0" : "=r"(v));                  \
        return v;                                                              \
    }                                                                          \
    static inline void wr_cr##n(uint64_t v)                                    \
    {                                                                          \
        __asm__ __volatile__("mov %0, %%cr" #n : : "r"(v) : "memory");         \
    }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    __asm__ __volatile__("cpuid"
                         : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                         : "a"(leaf), "c"(subleaf));
    return r;
}

static inline void invlpg(uint64_t va)
{
    __asm__ __volatile__("invlpg (%0)" : : "r"(va) : "memory");
}

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* RFLAGS.AC for SMAP: STAC sets it, CLAC clears it. */
static inline void stac(void) { __asm__ __volatile__("stac" ::: "memory"); }
static inline void clac(void) { __asm__ __volatile__("clac" ::: "memory"); }

/* WRPKRU needs CR4.PKE = 1 (else #UD); ECX = EDX = 0. */
static inline void wrpkru(uint32_t v)
{
    __asm__ __volatile__("wrpkru" : : "a"(v), "c"(0), "d"(0) : "memory");
}

#endif
