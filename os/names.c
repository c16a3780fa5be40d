/*
 * names.c - errno names for reports.
 */
#include "os_internal.h"

const char *os_errno_name(int err)
{
    switch (err < 0 ? -err : err) {
    case 0:
        return "OK";
    case OS_EPERM:
        return "EPERM";
    case OS_ENOENT:
        return "ENOENT";
    case OS_EIO:
        return "EIO";
    case OS_ENXIO:
        return "ENXIO";
    case OS_E2BIG:
        return "E2BIG";
    case OS_ENOEXEC:
        return "ENOEXEC";
    case OS_ENOMEM:
        return "ENOMEM";
    case OS_EACCES:
        return "EACCES";
    case OS_EFAULT:
        return "EFAULT";
    case OS_EEXIST:
        return "EEXIST";
    case OS_EINVAL:
        return "EINVAL";
    case OS_ENAMETOOLONG:
        return "ENAMETOOLONG";
    case OS_EOVERFLOW:
        return "EOVERFLOW";
    default:
        return "E?";
    }
}
