/*
 * names.c - names of fault kinds, reasons and accesses for reports.
 */
#include "mmuemu/translate.h"

const char *mmu_fault_kind_name(mmu_fault_kind k)
{
    switch (k) {
    case MMU_FAULT_NONE:
        return "none";
    case MMU_FAULT_PAGE:
        return "PF";
    case MMU_FAULT_GP:
        return "GP";
    case MMU_FAULT_SS:
        return "SS";
    case MMU_FAULT_ACCESS:
        return "access";
    case MMU_FAULT_BAD_PHYS:
        return "bad_phys";
    }
    return "?";
}

const char *mmu_fault_reason_name(mmu_fault_reason r)
{
    switch (r) {
    case MMU_WHY_NONE:
        return "none";
    case MMU_WHY_NOT_PRESENT:
        return "not_present";
    case MMU_WHY_RESERVED_BIT:
        return "reserved_bit";
    case MMU_WHY_RESERVED_ENCODING:
        return "reserved_encoding";
    case MMU_WHY_NONLEAF_AT_LAST:
        return "nonleaf_at_last_level";
    case MMU_WHY_MISALIGNED_SUPERPAGE:
        return "misaligned_superpage";
    case MMU_WHY_USER_TO_SUPERVISOR:
        return "user_access_to_supervisor_page";
    case MMU_WHY_SUPERVISOR_TO_USER:
        return "supervisor_access_to_user_page";
    case MMU_WHY_READ_ONLY:
        return "read_only";
    case MMU_WHY_NOT_READABLE:
        return "not_readable";
    case MMU_WHY_NOT_EXECUTABLE:
        return "not_executable";
    case MMU_WHY_SMEP:
        return "smep";
    case MMU_WHY_SMAP:
        return "smap";
    case MMU_WHY_PKEY:
        return "pkey";
    case MMU_WHY_ACCESSED_CLEAR:
        return "accessed_clear";
    case MMU_WHY_DIRTY_CLEAR:
        return "dirty_clear";
    case MMU_WHY_NONCANONICAL:
        return "noncanonical";
    case MMU_WHY_OUTSIDE_RAM:
        return "outside_ram";
    }
    return "?";
}

const char *mmu_access_name(mmu_access a)
{
    switch (a) {
    case MMU_READ:
        return "r";
    case MMU_WRITE:
        return "w";
    case MMU_FETCH:
        return "x";
    }
    return "?";
}
