/*
 * riscv_decode.c - the few RISC-V instruction formats the binding must
 * understand: memory accesses (to rebuild the exact faulting address the
 * TLB-fill hook cannot see) and SYSTEM instructions (SFENCE.VMA, CSR
 * accesses, xRET, EBREAK). Unprivileged spec chapters "RV32I/RV64I" (I/S
 * formats), "A" (LR/SC/AMO), "F/D/Q" (FP loads and stores) and "C"
 * (RVC load/store formats); privileged spec for SFENCE.VMA and xRET.
 * Not decoded: vector loads/stores (the CPU has no V), hypervisor loads.
 */
#include "riscv_internal.h"

#define OP_LOAD     0x03
#define OP_LOAD_FP  0x07
#define OP_STORE    0x23
#define OP_STORE_FP 0x27
#define OP_AMO      0x2f
#define OP_SYSTEM   0x73

#define INSN_ECALL           UINT32_C(0x00000073)
#define INSN_EBREAK          UINT32_C(0x00100073)
#define INSN_SRET            UINT32_C(0x10200073)
#define INSN_MRET            UINT32_C(0x30200073)
#define INSN_SFENCE_VMA      UINT32_C(0x12000073)
#define INSN_SFENCE_VMA_MASK UINT32_C(0xfe007fff)
#define INSN_C_EBREAK        UINT32_C(0x9002)

#define AMO_LR 0x02
#define AMO_SC 0x03

static unsigned bits(uint32_t v, unsigned hi, unsigned lo)
{
    return (unsigned)((v >> lo) & ((UINT32_C(1) << (hi - lo + 1)) - 1));
}

static int64_t sext(uint64_t v, unsigned width)
{
    uint64_t sign = UINT64_C(1) << (width - 1);
    return (int64_t)((v ^ sign) - sign);
}

static bool mem32(uint32_t insn, rv_mem_op *op)
{
    unsigned f3 = bits(insn, 14, 12);
    op->rs1 = bits(insn, 19, 15);
    switch (insn & 0x7f) {
    case OP_LOAD: /* lb lh lw ld lbu lhu lwu */
        if (f3 == 7)
            return false;
        op->size = 1u << (f3 & 3);
        op->imm = sext(insn >> 20, 12);
        return true;
    case OP_LOAD_FP: /* flh flw fld flq; other funct3 are vector */
    case OP_STORE_FP:
        if (f3 < 1 || f3 > 4)
            return false;
        op->size = 1u << f3;
        op->store = (insn & 0x7f) == OP_STORE_FP;
        op->imm = op->store
                      ? sext((bits(insn, 31, 25) << 5) | bits(insn, 11, 7), 12)
                      : sext(insn >> 20, 12);
        return true;
    case OP_STORE: /* sb sh sw sd */
        if (f3 > 3)
            return false;
        op->size = 1u << f3;
        op->store = true;
        op->imm = sext((bits(insn, 31, 25) << 5) | bits(insn, 11, 7), 12);
        return true;
    case OP_AMO: /* LR reports loads; SC and AMOs store/AMO */
        if (f3 != 2 && f3 != 3)
            return false;
        op->size = f3 == 2 ? 4 : 8;
        op->imm = 0;
        op->store = bits(insn, 31, 27) != AMO_LR;
        op->amo = op->store;
        return true;
    default:
        return false;
    }
}

/* RVC offsets, scaled as the C chapter's tables give them. */
static unsigned c_off_w(uint32_t i) /* c.lw/c.sw/c.flw/c.fsw */
{
    return (bits(i, 12, 10) << 3) | (bits(i, 6, 6) << 2) | (bits(i, 5, 5) << 6);
}

static unsigned c_off_d(uint32_t i) /* c.ld/c.sd/c.fld/c.fsd */
{
    return (bits(i, 12, 10) << 3) | (bits(i, 6, 5) << 6);
}

static bool mem16(uint32_t i, bool rv32, rv_mem_op *op)
{
    unsigned f3 = bits(i, 15, 13);
    /* f3 = 3/7 are LD/SD on RV64 and FLW/FSW on RV32. */
    bool dword = f3 == 1 || f3 == 5 || ((f3 == 3 || f3 == 7) && !rv32);
    switch (i & 3) {
    case 0: /* CL/CS: rs1' = x8 + bits 9:7 */
        if (f3 == 0 || f3 == 4)
            return false;
        op->rs1 = 8 + bits(i, 9, 7);
        op->size = dword ? 8 : 4;
        op->imm = dword ? c_off_d(i) : c_off_w(i);
        op->store = f3 >= 5;
        return true;
    case 2: /* CI/CSS, sp-relative */
        if (f3 == 0 || f3 == 4)
            return false;
        op->rs1 = 2;
        op->size = dword ? 8 : 4;
        op->store = f3 >= 5;
        if (!op->store)
            op->imm = dword ? (bits(i, 12, 12) << 5) | (bits(i, 6, 5) << 3) |
                                  (bits(i, 4, 2) << 6)
                            : (bits(i, 12, 12) << 5) | (bits(i, 6, 4) << 2) |
                                  (bits(i, 3, 2) << 6);
        else
            op->imm = dword ? (bits(i, 12, 10) << 3) | (bits(i, 9, 7) << 6)
                            : (bits(i, 12, 9) << 2) | (bits(i, 8, 7) << 6);
        return true;
    default:
        return false;
    }
}

bool rv_decode_mem(uint32_t insn, unsigned len, bool rv32, rv_mem_op *op)
{
    op->rs1 = 0;
    op->imm = 0;
    op->size = 0;
    op->store = false;
    op->amo = false;
    return len == 4 ? mem32(insn, op) : mem16(insn & 0xffff, rv32, op);
}

void rv_decode_sys(uint32_t insn, unsigned len, rv_sys_op *op)
{
    op->kind = RV_SYS_OTHER;
    op->rd = op->rs1 = op->rs2 = op->csr = op->funct3 = 0;
    if (len == 2) {
        if ((insn & 0xffff) == INSN_C_EBREAK)
            op->kind = RV_SYS_EBREAK;
        return;
    }
    if ((insn & 0x7f) != OP_SYSTEM)
        return;
    op->funct3 = bits(insn, 14, 12);
    op->rd = bits(insn, 11, 7);
    op->rs1 = bits(insn, 19, 15);
    op->rs2 = bits(insn, 24, 20);
    if (op->funct3 != 0) {
        if (op->funct3 != 4) {
            op->kind = RV_SYS_CSR;
            op->csr = insn >> 20;
        }
        return;
    }
    if (insn == INSN_ECALL)
        op->kind = RV_SYS_ECALL;
    else if (insn == INSN_EBREAK)
        op->kind = RV_SYS_EBREAK;
    else if (insn == INSN_MRET)
        op->kind = RV_SYS_MRET;
    else if (insn == INSN_SRET)
        op->kind = RV_SYS_SRET;
    else if ((insn & INSN_SFENCE_VMA_MASK) == INSN_SFENCE_VMA)
        op->kind = RV_SYS_SFENCE_VMA;
}
