/*
 * test_glue_rv_machine.c - the bare RISC-V machine (machine_bare_riscv):
 * boot state as QEMU's `virt -bios none -kernel` leaves it, the ns16550
 * UART, the SiFive test finisher, the HTIF tohost/fromhost convention
 * (exit, console putchar, syscall write) and the fault report. Each guest
 * is a tiny ELF written by the test: one PT_LOAD of two pages (code at
 * 0x80000000, the tohost page at 0x80001000) and a symbol table with
 * `tohost` and `fromhost`.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fmemopen */

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmuemu/machine.h"
#include "mmuemu/riscv_bits.h"

#define ENTRY    UINT64_C(0x80000000)
#define TOHOST   UINT64_C(0x80001000)
#define FROMHOST (TOHOST + 64)
#define IMG_CODE 0x1000 /* file offset of the loaded image */
#define IMG_SIZE 0x2000
#define SYMTAB   (IMG_CODE + IMG_SIZE)
#define STRTAB   (SYMTAB + 3 * 24)
#define SHDRS    (SYMTAB + 0x100)
#define ELF_SIZE (SHDRS + 3 * 64)

static void put(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Write a RISC-V ELF64 with `code` at the entry and `data` at TOHOST +
 * data_off. @return its path (static buffer). */
static const char *write_elf(const uint32_t *code, size_t n, const char *data,
                             unsigned data_off, bool with_symbols)
{
    static char path[256];
    static uint8_t f[ELF_SIZE];
    memset(f, 0, sizeof f);
    memcpy(f,
           "\x7f"
           "ELF",
           4);
    f[4] = 2; /* ELFCLASS64 */
    f[5] = 1; /* little-endian */
    f[6] = 1;
    put(f + 16, 2, 2);   /* ET_EXEC */
    put(f + 18, 243, 2); /* EM_RISCV */
    put(f + 20, 1, 4);
    put(f + 24, ENTRY, 8);
    put(f + 32, 64, 8); /* e_phoff */
    put(f + 40, with_symbols ? SHDRS : 0, 8);
    put(f + 52, 64, 2);
    put(f + 54, 56, 2);
    put(f + 56, 1, 2);
    put(f + 58, 64, 2);
    put(f + 60, with_symbols ? 3 : 0, 2);
    uint8_t *ph = f + 64;
    put(ph, 1, 4);     /* PT_LOAD */
    put(ph + 4, 7, 4); /* RWX */
    put(ph + 8, IMG_CODE, 8);
    put(ph + 16, ENTRY, 8);
    put(ph + 24, ENTRY, 8);
    put(ph + 32, IMG_SIZE, 8);
    put(ph + 40, IMG_SIZE, 8);
    put(ph + 48, 0x1000, 8);
    for (size_t i = 0; i < n; i++)
        put(f + IMG_CODE + 4 * i, code[i], 4);
    if (data != NULL)
        memcpy(f + IMG_CODE + 0x1000 + data_off, data, strlen(data));
    /* symbols: null, tohost, fromhost; names in STRTAB */
    static const char names[] = "\0tohost\0fromhost";
    memcpy(f + STRTAB, names, sizeof names);
    put(f + SYMTAB + 24, 1, 4);
    put(f + SYMTAB + 24 + 8, TOHOST, 8);
    put(f + SYMTAB + 48, 8, 4);
    put(f + SYMTAB + 48 + 8, FROMHOST, 8);
    uint8_t *sh = f + SHDRS;
    put(sh + 64 + 4, 2, 4); /* SHT_SYMTAB */
    put(sh + 64 + 24, SYMTAB, 8);
    put(sh + 64 + 32, 3 * 24, 8);
    put(sh + 64 + 40, 2, 4); /* sh_link: the string table */
    put(sh + 64 + 56, 24, 8);
    put(sh + 128 + 4, 3, 4); /* SHT_STRTAB */
    put(sh + 128 + 24, STRTAB, 8);
    put(sh + 128 + 32, sizeof names, 8);

    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/mmuemu_rvmachine_XXXXXX",
             dir != NULL ? dir : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, f, sizeof f), (ssize_t)sizeof f);
    close(fd);
    return path;
}

typedef struct run {
    int status;
    mmu_glue_result res;
    char out[256];
    mmu_machine *m;
} run;

/* Boot the ELF, run it to the end, keep the machine for inspection. */
static void boot(run *r, const char *elf, const mmu_tlb_config *tlb)
{
    FILE *con = tmpfile();
    assert_non_null(con);
    mmu_machine_config cfg = {.isa = MMU_GLUE_RV64,
                              .elf_path = elf,
                              .tlb = tlb,
                              .console = con,
                              .max_insns = 0};
    char err[256] = "";
    r->m = mmu_machine_new(&cfg, err, sizeof err);
    unlink(elf);
    if (r->m == NULL)
        fail_msg("mmu_machine_new: %s", err);
    r->status = mmu_machine_run(r->m, &r->res);
    rewind(con);
    size_t n = fread(r->out, 1, sizeof r->out - 1, con);
    r->out[n] = '\0';
    fclose(con);
}

static uint64_t reg(run *r, int id)
{
    uint64_t v = 0;
    uc_reg_read(mmu_glue_uc(mmu_machine_glue(r->m)), id, &v);
    return v;
}

/* 'h' 'i' '\n' to THR, LSR into a2, then (7 << 16) | 0x3333. */
static const uint32_t uart_fail7[] = {
    0x100002b7, 0x06800313, 0x00628023, 0x06900313, 0x00628023,
    0x00a00313, 0x00628023, 0x0052c603, 0x001002b7, 0x00073337,
    0x3333031b, 0x0062a023, 0x0000006f};

static void uart_and_finisher(void **state)
{
    (void)state;
    run r;
    boot(&r, write_elf(uart_fail7, 13, NULL, 0, false), NULL);
    assert_int_equal(r.status, 7);
    assert_int_equal(r.res.stop, MMU_GLUE_STOP_EXIT);
    assert_string_equal(r.out, "hi\n");
    TU_EQ_HEX("LSR", reg(&r, UC_RISCV_REG_A2), 0x60);
    mmu_machine_free(r.m);
}

/* A finisher PASS from a guest without symbols. */
static void finisher_pass(void **state)
{
    (void)state;
    uint32_t code[13];
    memcpy(code, uart_fail7, sizeof code);
    code[9] = 0x00005337;  /* lui t1,0x5 */
    code[10] = 0x5553031b; /* addiw t1,t1,0x555 */
    run r;
    boot(&r, write_elf(code, 13, NULL, 0, false), NULL);
    assert_int_equal(r.status, 0);
    mmu_machine_free(r.m);
}

/* HTIF: putchar 'A' (device 1, command 1), wait for tohost to clear,
 * read fromhost into a3, exit 21 ((21 << 1) | 1). */
static void htif_putchar_and_exit(void **state)
{
    (void)state;
    static const uint32_t code[] = {
        0x000802b7, 0x0012829b, 0x00c29293, 0x1010031b, 0x03031313,
        0x04130313, 0x0062b023, 0x0002b383, 0xfe039ee3, 0x0402b683,
        0x02b00313, 0x0062b023, 0x0000006f};
    run r;
    boot(&r, write_elf(code, 13, NULL, 0, true), mmu_tlb_preset("generic"));
    assert_int_equal(r.status, 21);
    assert_string_equal(r.out, "A");
    TU_EQ_HEX("fromhost reply", reg(&r, UC_RISCV_REG_A3) != 0, 1);
    mmu_machine_free(r.m);
}

/* HTIF syscall block {SYS_write, 1, buf, 3} at TOHOST+0x100, "ok\n" at
 * TOHOST+0x200; wait for fromhost, exit 0. */
static void htif_syscall_write(void **state)
{
    (void)state;
    static const uint32_t code[] = {
        0x000802b7, 0x0012829b, 0x00c29293, 0x00080e37, 0x001e0e1b, 0x00ce1e13,
        0x100e0e13, 0x04000313, 0x006e3023, 0x00100313, 0x006e3423, 0x00080337,
        0x0013031b, 0x00c31313, 0x20030313, 0x006e3823, 0x00300313, 0x006e3c23,
        0x01c2b023, 0x0402b383, 0xfe038ee3, 0x00100313, 0x0062b023, 0x0000006f};
    run r;
    boot(&r, write_elf(code, 24, "ok\n", 0x200, true), NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "ok\n");
    mmu_machine_free(r.m);
}

/* Boot state: M-mode at the entry, a0 = hartid 0, a1 = 0 (no DTB). */
static void entry_state(void **state)
{
    (void)state;
    static const uint32_t code[] = {0x00000013};
    FILE *con = tmpfile();
    const char *elf = write_elf(code, 1, NULL, 0, false);
    mmu_machine_config cfg = {
        .isa = MMU_GLUE_RV64, .elf_path = elf, .console = con};
    char err[256];
    mmu_machine *m = mmu_machine_new(&cfg, err, sizeof err);
    unlink(elf);
    assert_non_null(m);
    uc_engine *uc = mmu_glue_uc(mmu_machine_glue(m));
    uint64_t pc = 0, a0 = 1, a1 = 1;
    uc_reg_read(uc, UC_RISCV_REG_PC, &pc);
    uc_reg_read(uc, UC_RISCV_REG_A0, &a0);
    uc_reg_read(uc, UC_RISCV_REG_A1, &a1);
    TU_EQ_HEX("pc", pc, ENTRY);
    TU_EQ_HEX("a0", a0, 0);
    TU_EQ_HEX("a1", a1, 0);
    TU_EQ_HEX("priv", mmu_glue_priv(mmu_machine_glue(m)), RV_PRIV_M);
    mmu_machine_free(m);
    fclose(con);
}

static void report_to(mmu_machine *m, const mmu_glue_result *res, char *buf,
                      size_t len)
{
    FILE *f = fmemopen(buf, len - 1, "w");
    assert_non_null(f);
    mmu_machine_report(m, res, f);
    fclose(f);
    print_message("%s", buf);
}

/* EBREAK with mtvec = 0: the trap enters at 0, where nothing is; fetching
 * there is an access fault that would enter at 0 again: the run stops as
 * a nested trap failure, with the breakpoint in mcause/mepc. */
static void runaway_trap_stops(void **state)
{
    (void)state;
    static const uint32_t code[] = {0x00000013, 0x00100073};
    run r;
    boot(&r, write_elf(code, 2, NULL, 0, false), NULL);
    assert_int_equal(r.status, -1);
    assert_int_equal(r.res.stop, MMU_GLUE_STOP_TRIPLE);
    assert_true(r.res.have_last);
    TU_EQ_HEX("last cause", r.res.last.fault.code, 1);
    char buf[4096] = "";
    report_to(r.m, &r.res, buf, sizeof buf);
    assert_non_null(strstr(buf, "cause 1 (instruction access fault)"));
    assert_non_null(strstr(buf, "mcause  0x0000000000000003"));
    assert_non_null(strstr(buf, "mepc    0x0000000080000004"));
    mmu_machine_free(r.m);
}

/* The report of the last exception disassembles its instruction: an
 * EBREAK taken by a handler that then fails the run through the
 * finisher. */
static void report_disassembles(void **state)
{
    (void)state;
    static const uint32_t code[] = {0x00000297, 0x01028293, 0x30529073,
                                    0x00100073, 0x001002b7, 0x00013337,
                                    0x3333031b, 0x0062a023, 0x0000006f};
    run r;
    boot(&r, write_elf(code, 9, NULL, 0, false), NULL);
    assert_int_equal(r.status, 1);
    assert_true(r.res.have_last);
    char buf[4096] = "";
    report_to(r.m, &r.res, buf, sizeof buf);
    assert_non_null(strstr(buf, "cause 3 (breakpoint)"));
    assert_non_null(strstr(buf, "0x8000000c: 00100073  ebreak"));
    mmu_machine_free(r.m);
}

/* A model fault's report shows the walk with each PTE decoded: S-mode
 * set up by the host through the builder, a load fault delegated to an
 * stvec that is not mapped either. */
static void report_walk(void **state)
{
    (void)state;
    static const uint32_t code[] = {0x0005b503}; /* ld a0,0(a1) */
    FILE *con = tmpfile();
    const char *elf = write_elf(code, 1, NULL, 0, false);
    mmu_machine_config cfg = {
        .isa = MMU_GLUE_RV64, .elf_path = elf, .console = con};
    char err[256];
    mmu_machine *m = mmu_machine_new(&cfg, err, sizeof err);
    unlink(elf);
    assert_non_null(m);
    mmu_glue *g = mmu_machine_glue(m);
    uc_engine *uc = mmu_glue_uc(g);
    mmu_bump_alloc a = {.mem = mmu_glue_mem(g),
                        .next = ENTRY + 0x100000,
                        .end = ENTRY + 0x200000};
    mmu_pt pt;
    assert_int_equal(mmu_pt_init(&pt, mmu_glue_mem(g), MMU_MODE_SV39,
                                 mmu_bump_alloc_frame, &a),
                     MMU_PT_OK);
    assert_int_equal(mmu_pt_map(&pt, 0x10000, ENTRY, 4096, 4096,
                                RV_PTE_V | RV_PTE_R | RV_PTE_X | RV_PTE_A,
                                RV_PTE_V),
                     MMU_PT_OK);
    uint64_t v = mmu_pt_root_reg(&pt);
    uc_reg_write(uc, UC_RISCV_REG_SATP, &v); /* still in M */
    v = (UINT64_C(1) << 12) | (UINT64_C(1) << 13);
    uc_reg_write(uc, UC_RISCV_REG_MEDELEG, &v);
    v = 0x30000;
    uc_reg_write(uc, UC_RISCV_REG_STVEC, &v);
    v = 0x20000;
    uc_reg_write(uc, UC_RISCV_REG_A1, &v);
    v = 0x10000;
    uc_reg_write(uc, UC_RISCV_REG_PC, &v);
    v = RV_PRIV_S;
    uc_reg_write(uc, UC_RISCV_REG_PRIV, &v);
    mmu_glue_result res;
    assert_int_equal(mmu_machine_run(m, &res), -1);
    assert_int_equal(res.stop, MMU_GLUE_STOP_TRIPLE);
    char buf[4096] = "";
    report_to(m, &res, buf, sizeof buf);
    assert_non_null(strstr(buf, "cause 12 (instruction page fault), tval "
                                "0x30000, epc 0x30000"));
    assert_non_null(strstr(buf, "scause  0x000000000000000d"));
    assert_non_null(strstr(buf, "walk (PTE flags)"));
    assert_non_null(strstr(buf, "level 0: pte 0x0000000000000000 [--------]"));
    mmu_machine_free(m);
    fclose(con);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uart_and_finisher),
        cmocka_unit_test(finisher_pass),
        cmocka_unit_test(htif_putchar_and_exit),
        cmocka_unit_test(htif_syscall_write),
        cmocka_unit_test(entry_state),
        cmocka_unit_test(runaway_trap_stops),
        cmocka_unit_test(report_disassembles),
        cmocka_unit_test(report_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
