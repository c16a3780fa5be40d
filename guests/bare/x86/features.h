/*
 * features.h - the paging features CPUID reports; each check runs only
 * where its feature is present.
 *
 * Models: Intel SDM vol. 2A CPUID: leaf 0x80000001 EDX.NX[20],
 * EDX.Page1GB[26]; leaf 7.0 EBX.SMEP[7], EBX.SMAP[20], ECX.PKU[3],
 * ECX.LA57[16]; leaf 0x80000008 EAX[7:0] MAXPHYADDR.
 */
#ifndef GUEST_X86_FEATURES_H
#define GUEST_X86_FEATURES_H

#include <stdbool.h>

struct features {
    bool nx, page1gb, smep, smap, pku, la57;
    unsigned maxphyaddr;
};

extern struct features cpu;

void features_detect(void);
void features_print(void);

#endif
