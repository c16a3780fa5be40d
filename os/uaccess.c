/*
 * uaccess.c - copy_to_user and friends through the model (see
 * mmuemu/os.h, section 8).
 *
 * Each page of the range is translated with mmu_translate() as a user
 * access; on a fault the fault handler runs as for a kernel-mode fault on
 * a user address (Linux's uaccess with exception-table fixup): handled
 * means retry, anything else ends the copy with -EFAULT (-ENOMEM when
 * frames ran out). access_ok() first: the range must lie below TASK_SIZE.
 */
#include "os_internal.h"

#include "mmuemu/riscv_bits.h"
#include "mmuemu/tlb.h"

#include <string.h>

#define MAX_RETRIES 4

void os_uaccess_init(os_uaccess *u, os_aspace *as, mmu_ctx *ctx)
{
    memset(u, 0, sizeof *u);
    u->as = as;
    if (ctx != NULL) {
        u->ctx = ctx;
    } else {
        os_aspace_make_ctx(as, &u->own);
        u->ctx = &u->own;
    }
}

static bool access_ok(const os_uaccess *u, uint64_t addr, size_t len)
{
    uint64_t ts = u->as->k->layout.task_size;
    return addr <= ts && len <= ts - addr;
}

static uint8_t user_priv(const os_uaccess *u)
{
    return as_arch(u->as) == MMU_ARCH_X86 ? 3 : RV_PRIV_U;
}

/* Host pointer to the `len` bytes at va (inside one page) for acc. */
static int user_ptr(os_uaccess *u, uint64_t va, size_t len, mmu_access acc,
                    uint8_t **p)
{
    for (int tries = 0; tries < MAX_RETRIES; tries++) {
        mmu_req rq = {.va = va, .access = acc, .priv = user_priv(u)};
        mmu_result res;
        mmu_fault flt;
        if (mmu_translate(u->ctx, &rq, &res, &flt)) {
            *p = mmu_phys_ptr(u->ctx->mem, res.pa, len);
            return *p != NULL ? 0 : -OS_EFAULT;
        }
        os_fault_req fr = {va, acc, false, &flt};
        os_fault_handle(u->as, &fr, &u->last);
        if (u->last.result == OS_FAULT_OOM)
            return -OS_ENOMEM;
        if (u->last.result != OS_FAULT_HANDLED)
            return -OS_EFAULT;
        if (u->ctx->tlb != NULL) /* whatever the hook did, see the change */
            os_tlb_sync(u->ctx, u->as->tag, page_down(va), PAGE,
                        OS_PTE_CHANGED);
    }
    return -OS_EFAULT;
}

typedef void (*chunk_fn)(uint8_t *user, void *host, size_t n);

static void to_user(uint8_t *user, void *host, size_t n)
{
    memcpy(user, host, n);
}

static void from_user(uint8_t *user, void *host, size_t n)
{
    memcpy(host, user, n);
}

static void zero_user(uint8_t *user, void *host, size_t n)
{
    (void)host;
    memset(user, 0, n);
}

static int copy_range(os_uaccess *u, uint64_t va, uint8_t *host, size_t len,
                      mmu_access acc, chunk_fn fn)
{
    u->done = 0;
    memset(&u->last, 0, sizeof u->last);
    if (!access_ok(u, va, len))
        return -OS_EFAULT;
    while (u->done < len) {
        uint64_t at = va + u->done;
        size_t n = (size_t)(PAGE - (at & (PAGE - 1)));
        if (n > len - u->done)
            n = len - u->done;
        uint8_t *p;
        int rc = user_ptr(u, at, n, acc, &p);
        if (rc != 0)
            return rc;
        fn(p, host != NULL ? host + u->done : NULL, n);
        u->done += n;
    }
    return 0;
}

int os_copy_to_user(os_uaccess *u, uint64_t dst, const void *src, size_t len)
{
    /* the chunk function only reads through host here */
    return copy_range(u, dst, (uint8_t *)(uintptr_t)src, len, MMU_WRITE,
                      to_user);
}

int os_copy_from_user(os_uaccess *u, void *dst, uint64_t src, size_t len)
{
    return copy_range(u, src, dst, len, MMU_READ, from_user);
}

int os_clear_user(os_uaccess *u, uint64_t dst, size_t len)
{
    return copy_range(u, dst, NULL, len, MMU_WRITE, zero_user);
}

int64_t os_strncpy_from_user(os_uaccess *u, char *dst, uint64_t src, size_t n)
{
    u->done = 0;
    memset(&u->last, 0, sizeof u->last);
    uint64_t ts = u->as->k->layout.task_size;
    size_t want = n;
    if (src >= ts)
        return -OS_EFAULT;
    if (n > ts - src)
        n = (size_t)(ts - src); /* Linux clamps to the user range... */
    while (u->done < n) {
        uint64_t at = src + u->done;
        size_t chunk = (size_t)(PAGE - (at & (PAGE - 1)));
        if (chunk > n - u->done)
            chunk = n - u->done;
        uint8_t *p;
        int rc = user_ptr(u, at, chunk, MMU_READ, &p);
        if (rc != 0)
            return rc;
        for (size_t i = 0; i < chunk; i++) {
            dst[u->done++] = (char)p[i];
            if (p[i] == 0)
                return (int64_t)(u->done - 1);
        }
    }
    return n < want ? -OS_EFAULT : (int64_t)n; /* ...and faults past it */
}

int os_uaccess_write_cb(void *arg, uint64_t va, const void *src, size_t len)
{
    return os_copy_to_user(arg, va, src, len);
}
