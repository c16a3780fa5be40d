#!/usr/bin/env bash
# errors.sh - every user error of `mmuemu` ends with exit status 2, one line
# on stderr that names the problem, and nothing on stdout; and page tables
# that point outside RAM (or are garbage) give faults, never a crash.
#
# usage: bash errors.sh PATH_TO_mmuemu PROJECT_SOURCE_DIR
set -euo pipefail

MMUEMU=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
checks=0

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# error NAME REGEX ARGS...: run mmuemu ARGS with stdin from $IN; want exit
# 2, exactly one stderr line matching REGEX (grep -E) and empty stdout.
IN=/dev/null
error() {
    local name=$1 re=$2 rc=0
    shift 2
    "$MMUEMU" "$@" <"$IN" >"$tmp/out" 2>"$tmp/err" || rc=$?
    [ "$rc" -eq 2 ] || fail "$name: exit status $rc, want 2 ($(cat "$tmp/err"))"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] ||
        fail "$name: want one line on stderr, got: $(cat "$tmp/err")"
    grep -qE -- "$re" "$tmp/err" ||
        fail "$name: stderr '$(cat "$tmp/err")' does not match /$re/"
    [ ! -s "$tmp/out" ] || fail "$name: unexpected stdout: $(cat "$tmp/out")"
    checks=$((checks + 1))
}

# ops_error NAME REGEX OPS-TEXT: OPS-TEXT is line 3 of an ops file after a
# valid access and a comment; the message must name line 3.
ops_error() {
    printf 'r 0x1000\n# comment\n%s\n' "$3" >"$tmp/ops"
    error "$1" "^mmuemu translate: .*ops line 3: .*$2" translate "${X86[@]}" \
        "$tmp/ops"
}
ops_error_rv() {
    printf '\n%s\n' "$3" >"$tmp/ops"
    error "$1" "^mmuemu translate: .*ops line 2: .*$2" translate "${RV32[@]}" \
        "$tmp/ops"
}

head -c 65536 /dev/zero >"$tmp/z.img"
Z=$tmp/z.img
X86=(--arch i386 --mem "$Z" --cr0 0 --cr3 0x1000 --cr4 0 --efer 0)
RV32=(--arch riscv32 --mem "$Z" --satp 0)

# --- the command --------------------------------------------------------------
error no_subcommand 'missing subcommand' 
error unknown_subcommand "unknown subcommand 'frob'" frob
"$MMUEMU" --help | grep -q '^usage: mmuemu' || fail "--help"
"$MMUEMU" translate --help | grep -q -- '--arch x86_64|i386' ||
    fail "translate --help"
checks=$((checks + 2))

# --- missing and misplaced options ----------------------------------------------
error no_arch 'missing required option --arch' translate --mem "$Z" --satp 0
error bad_arch "unknown architecture 'arm'" translate --arch arm --mem "$Z"
error no_mem 'missing required option --mem' translate --arch riscv64 --satp 0
for reg in cr0 cr3 cr4 efer; do
    args=(--arch x86_64 --mem "$Z")
    for r in cr0 cr3 cr4 efer; do
        [ "$r" = "$reg" ] || args+=("--$r" 0)
    done
    error "no_$reg" "missing required option --$reg" translate "${args[@]}"
done
error no_satp 'missing required option --satp' translate --arch riscv64 \
    --mem "$Z"
error satp_on_x86 '--satp is not an option of --arch i386' translate "${X86[@]}" \
    --satp 0
error maxphyaddr_on_rv '--maxphyaddr is not an option' translate "${RV32[@]}" \
    --maxphyaddr 40
error priv_on_x86 '--priv is not an option' translate "${X86[@]}" --priv s
error ext_on_x86 '--ext is not an option' translate "${X86[@]}" --ext svadu
error cr0_on_rv '--cr0 is not an option' translate "${RV32[@]}" --cr0 0
error unknown_option "unknown option '--bogus'" translate "${RV32[@]}" --bogus 1
error unknown_short "unknown option '-q'" translate "${RV32[@]}" -q
error no_value 'option --satp needs a value' translate --arch riscv64 \
    --mem "$Z" --satp
error twice 'option --satp given twice' translate "${RV32[@]}" --satp 0
error two_ops_files 'more than one ops file' translate "${RV32[@]}" a b
error no_ops_file "nofile: cannot open ops file" translate "${RV32[@]}" \
    "$tmp/nofile"

# --- numbers: 0x hex or decimal, the whole string, 64 bits -------------------------
for bad in 0x1g -1 +1 '' ' 1' '1 ' 0x 18446744073709551616 \
    0x10000000000000000 1e3; do
    error "bad_number_[$bad]" "--cr3: bad number" translate --arch x86_64 \
        --mem "$Z" --cr0 0 --cr3 "$bad" --cr4 0 --efer 0
done
error bad_mem_base '--mem-base: bad number' translate "${RV32[@]}" --mem-base 4k
error maxphyaddr_low "--maxphyaddr: '31'" translate "${X86[@]}" --maxphyaddr 31
error maxphyaddr_high "--maxphyaddr: '53'" translate "${X86[@]}" --maxphyaddr 53
error maxphyaddr_junk "--maxphyaddr: 'x'" translate "${X86[@]}" --maxphyaddr x
error bad_priv "--priv: 'h'" translate "${RV32[@]}" --priv h
error bad_ext "unknown extension 'svfoo'" translate "${RV32[@]}" --ext svnapot,svfoo
error empty_ext "empty extension name" translate "${RV32[@]}" --ext svnapot,
error i386_lme 'EFER.LME=1 is not possible with --arch i386' translate \
    --arch i386 --mem "$Z" --cr0 0 --cr3 0 --cr4 0 --efer 0x100
error i386_cr3_wide '--cr3 0x100000000: .*32-bit' translate --arch i386 \
    --mem "$Z" --cr0 0 --cr3 0x100000000 --cr4 0 --efer 0
error rv32_satp_wide '--satp 0x100000000: .*32-bit' translate \
    --arch riscv32 --mem "$Z" --satp 0x100000000
error pkru_wide 'PKRU is a 32-bit register' translate "${X86[@]}" \
    --pkru 0x100000000
error rv64_satp_mode 'satp.MODE is not Bare' translate --arch riscv64 \
    --mem "$Z" --satp 0x5000000000000000

# --- the image ---------------------------------------------------------------------
error image_missing 'nothere.img: cannot open image' translate --arch riscv64 \
    --mem "$tmp/nothere.img" --satp 0
mkdir "$tmp/dir.img"
error image_is_dir 'dir.img: read error' translate --arch riscv64 \
    --mem "$tmp/dir.img" --satp 0
: >"$tmp/empty.img"
error image_empty 'empty.img: image is empty' translate --arch riscv64 \
    --mem "$tmp/empty.img" --satp 0
truncate -s 4294967297 "$tmp/big.img" # sparse: no disk space used
error image_too_big 'big.img: image is 4294967297 bytes; the limit is 4 GiB' \
    translate --arch riscv64 --mem "$tmp/big.img" --satp 0
rm -f "$tmp/big.img"
error image_wraps 'wraps past 2\^64' translate --arch riscv64 --mem "$Z" \
    --mem-base 0xffffffffffff0001 --satp 0
IN=/dev/null
error mem_out_unwritable 'nodir/out.img: cannot create' translate "${RV32[@]}" \
    --mem-out "$tmp/nodir/out.img"

# --- initial PAE state: the PDPTEs must load ------------------------------------
error pae_pdpt_outside_ram 'PDPT at CR3 0x20000 is outside guest RAM' \
    translate --arch i386 --mem "$Z" --cr0 0x80000001 --cr3 0x20000 \
    --cr4 0x20 --efer 0
printf 'poke 0x1008 0x2003\n' >"$tmp/ops"
"$MMUEMU" translate "${X86[@]}" --mem-out "$tmp/bad_pdpt.img" "$tmp/ops"
error pae_pdpte_reserved 'PDPTEs from CR3 0x1000 raises #GP' translate \
    --arch i386 --mem "$tmp/bad_pdpt.img" --cr0 0x80000001 --cr3 0x1000 \
    --cr4 0x20 --efer 0

# --- ops lines: the error names the line ----------------------------------------
ops_error unknown_op "unknown op 'frob'" 'frob 1'
ops_error_rv invlpg_on_rv "'invlpg' is an x86 op" 'invlpg 0x1000'
ops_error access_no_va "'r' needs a virtual address" 'r'
ops_error access_bad_va "bad virtual address 'zz'" 'w zz'
ops_error access_va_wide 'virtual address 0x100000000 does not fit 32 bits' \
    'r 0x100000000'
ops_error access_bad_cpl "bad CPL '4'" 'x 0x1000 4'
ops_error access_two_cpls "unexpected '2' after the CPL" 'r 0x1000 1 2'
ops_error access_bad_word "bad CPL 'user'" 'r 0x1000 user'
ops_error poke_short 'usage: poke PADDR VALUE' 'poke 0x1000'
ops_error poke_long 'usage: poke PADDR VALUE' 'poke 0x1000 1 4 4'
ops_error poke_bad_paddr "bad physical address 'q'" 'poke q 1'
ops_error poke_bad_value "bad value '0x'" 'poke 0x1000 0x'
ops_error poke_bad_size "bad size '3'" 'poke 0x1000 1 3'
ops_error poke_size_zero "bad size '0'" 'poke 0x1000 0 0'
ops_error poke_too_wide 'value 0x100 does not fit in 1 byte' \
    'poke 0x1000 0x100 1'
ops_error poke_outside 'poke of 8 bytes at 0xfffc is outside guest RAM' \
    'poke 0xfffc 1'
ops_error poke_past_end 'poke of 1 byte at 0x10000 is outside guest RAM' \
    'poke 0x10000 1 1'
ops_error set_short 'usage: set REG VALUE' 'set cr0'
ops_error set_unknown_reg "unknown register 'cr2'" 'set cr2 1'
ops_error set_rv_reg_on_x86 "unknown register 'satp'" 'set satp 1'
ops_error set_bad_value "bad value '1x'" 'set cr3 1x'
ops_error set_i386_lme 'EFER.LME=1 is not possible' 'set efer 0x100'
ops_error set_pkru_wide 'PKRU is a 32-bit register' 'set pkru 0x100000000'
ops_error too_many_fields 'more than 8 fields' 'r 1 2 3 4 5 6 7 8 9'
ops_error_rv rv_bad_priv "bad privilege 'h'" 'r 0x1000 h'
ops_error_rv rv_cpl_word "bad privilege '3'" 'r 0x1000 3'
ops_error_rv rv_two_privs "unexpected 's' after the privilege" 'r 0x1 u s'
ops_error_rv rv_x86_reg "unknown register 'cr0'" 'set cr0 1'
ops_error_rv rv32_va_wide 'does not fit 32 bits' 'x 0x100000000'
ops_error_rv rv32_satp_wide 'satp 0x100000000: .*32-bit' \
    'set satp 0x100000000'
# From stdin the line is counted the same way.
IN=$tmp/stdin.ops
printf 'r 0\n\n\nbogus\n' >"$IN"
error stdin_line "^mmuemu translate: stdin line 4: unknown op 'bogus'" \
    translate "${RV32[@]}" -
IN=/dev/null

# --- example-image ---------------------------------------------------------------
error ex_no_args 'usage: mmuemu example-image' example-image
error ex_bad_arch "no example for 'sparc'" example-image --arch sparc \
    --out "$tmp/x.img"
error ex_unknown_arg "unknown argument '--size'" example-image --size 1
error ex_no_value 'option --out needs a value' example-image --arch x86_64 \
    --out
error ex_unwritable 'nodir/x.img: cannot create' example-image \
    --arch riscv64 --out "$tmp/nodir/x.img"

# --- page tables outside RAM or garbage: faults, not crashes -----------------------
# x86: a PML4E pointing past RAM -> "vector":"none"; RISC-V -> access fault.
"$MMUEMU" translate --arch x86_64 --mem "$Z" --cr0 0x80000001 --cr3 0x1000 \
    --cr4 0x20 --efer 0x100 >"$tmp/out" <<'EOF'
poke 0x1000 0xfff000007       # PML4E0 -> PDPT at 0xfff000000
r 0x1000 3
EOF
grep -qFx '{"va":"0x1000","access":"r","cpl":3,"ok":false,"vector":"none","reason":"outside_ram","paddr":"0xfff000000","level":2}' \
    "$tmp/out" || fail "x86 outside RAM: $(cat "$tmp/out")"
"$MMUEMU" translate --arch riscv64 --mem "$Z" --satp 0x8000000000000001 \
    >"$tmp/out" <<'EOF'
poke 0x1000 0x3ffc00001       # root[0] -> table at 0xfff000000
w 0x1000
EOF
grep -qFx '{"va":"0x1000","access":"w","priv":"s","ok":false,"cause":7,"tval":"0x1000","level":1,"reason":"outside_ram","paddr":"0xfff000000"}' \
    "$tmp/out" || fail "riscv outside RAM: $(cat "$tmp/out")"
checks=$((checks + 2))

# Garbage tables: 64 KiB of pseudo-random entries (fixed seed) whose
# addresses mostly stay inside RAM, so walks go deep and hit every rule;
# then 300 pseudo-random accesses per paging mode. Every access must print
# one well-formed line and the run must end normally (the sanitizers catch
# the rest).
RANDOM=4242
pokes=""
for ((off = 0; off < 65536; off += 8)); do
    val=$(((RANDOM % 16) << 12 | RANDOM % 4096))
    ((RANDOM % 8 != 0)) || val=$((val | RANDOM << 48))
    ((RANDOM % 16 != 0)) || val=$((val | RANDOM << 20))
    printf -v line 'poke 0x%x 0x%x\n' "$off" "$val"
    pokes+=$line
done
printf '%s' "$pokes" | "$MMUEMU" translate --arch riscv64 --mem "$Z" \
    --satp 0 --mem-out "$tmp/garbage.img"
acc=(r w x)
: >"$tmp/rand.ops"
for i in $(seq 300); do
    case $((i % 3)) in
    0) printf -v va '0x0000%04x%04x%04x' $RANDOM $RANDOM $RANDOM ;;
    1) printf -v va '0xffff%04x%04x%04x' $((RANDOM | 0x8000)) $RANDOM $RANDOM ;;
    *) printf -v va '0x%04x%04x' $RANDOM $RANDOM ;;
    esac
    echo "${acc[RANDOM % 3]} $va $((RANDOM % 4))" >>"$tmp/rand.ops"
done
sed 's/ [0-3]$//' "$tmp/rand.ops" >"$tmp/rand_rv.ops"
garbage() {
    local name=$1 n
    shift
    local ops=$tmp/rand.ops
    [[ "$*" != *riscv* ]] || ops=$tmp/rand_rv.ops
    "$MMUEMU" translate --mem "$tmp/garbage.img" "$@" "$ops" \
        >"$tmp/out" || fail "garbage $name: exit status $?"
    cp "$tmp/out" "$tmp/garbage_$name.out"
    n=$(grep -cE '^\{"va":"0x[0-9a-f]+","access":"[rwx]","(cpl|priv)":("?[0-9a-z]"?),"ok":(true,"pa":"0x[0-9a-f]+","page_size":[0-9]+|false,"(vector|cause)":)' \
        "$tmp/out" || true)
    [ "$n" -eq 300 ] || fail "garbage $name: $n well-formed lines of 300"
    checks=$((checks + 1))
}
garbage 4level --arch x86_64 --cr0 0x80010001 --cr3 0x3000 --cr4 0x3000a0 \
    --efer 0xd00
garbage la57 --arch x86_64 --cr0 0x80010001 --cr3 0x3000 --cr4 0x1020 \
    --efer 0xd00
garbage 32bit --arch x86_64 --cr0 0x80010001 --cr3 0x3000 --cr4 0x10 \
    --efer 0
garbage sv39 --arch riscv64 --satp 0x8000000000000003 \
    --ext svnapot,svpbmt,svadu --menvcfg 0x6000000000000000
garbage sv48 --arch riscv64 --satp 0x9000000000000005
garbage sv57 --arch riscv64 --satp 0xa000000000000007 --priv u

echo "errors: $checks checks passed"
