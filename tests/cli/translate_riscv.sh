#!/usr/bin/env bash
# translate_riscv.sh - end-to-end tests of `mmuemu translate` on RISC-V: the
# bundled Sv39 example against its expected output, Svnapot and Svadu
# (hardware A/D, visible in --mem-out), Svpbmt, Sv32 (riscv32) with
# megapages and the reserved encodings, and access faults for page tables
# outside RAM.
#
# usage: bash translate_riscv.sh PATH_TO_mmuemu PROJECT_SOURCE_DIR
. "$2/tests/util/cli_common.bash"
# expect NAME: $tmp/got must equal stdin, line for line.
expect() {
    cat >"$tmp/want"
    diff -u "$tmp/want" "$tmp/got" >&2 || fail "$1: output differs"
    checks=$((checks + 1))
}

# expect_word NAME FILE OFFSET BYTES VALUE: the little-endian value there.
expect_word() {
    local got
    got=$(od -A n -t "x$4" -j "$(($3))" -N "$4" "$2" | tr -d ' \n')
    [ "$got" = "$(printf "%0$(($4 * 2))x" "$(($5))")" ] ||
        fail "$1: value at $3 is 0x$got, want $5"
    checks=$((checks + 1))
}

# --- the bundled example: every line of examples/riscv64.ops ---------------
opts=$("$MMUEMU" example-image --arch riscv64 --out "$tmp/ex.img")
[ "$opts" = "--mem-base 0x80000000 --satp 0x8000000000080001" ] ||
    fail "example-image printed '$opts'"
# shellcheck disable=SC2086 # $opts is a list of options
translate --arch riscv64 --mem "$tmp/ex.img" $opts --mem-out "$tmp/ex.out" \
    "$SRC/examples/riscv64.ops"
expect example_riscv64 <<'EOF'
{"va":"0xffffffff80000000","access":"r","priv":"s","ok":true,"pa":"0x80100000","page_size":4096,"level":0,"perms":"r-x-","global":true,"dirty":false,"pbmt":0}
{"va":"0xffffffff80001234","access":"x","priv":"s","ok":true,"pa":"0x80101234","page_size":4096,"level":0,"perms":"r-x-","global":true,"dirty":false,"pbmt":0}
{"va":"0xffffffff80000000","access":"w","priv":"s","ok":false,"cause":15,"tval":"0xffffffff80000000","level":0,"reason":"read_only"}
{"va":"0xffffffff80000000","access":"r","priv":"u","ok":false,"cause":13,"tval":"0xffffffff80000000","level":0,"reason":"user_access_to_supervisor_page"}
{"va":"0xffffffff80002010","access":"w","priv":"s","ok":true,"pa":"0x80102010","page_size":4096,"level":0,"perms":"rw--","global":true,"dirty":true,"pbmt":0}
{"va":"0xffffffff80002000","access":"x","priv":"s","ok":false,"cause":12,"tval":"0xffffffff80002000","level":0,"reason":"not_executable"}
{"va":"0x10000","access":"x","priv":"u","ok":true,"pa":"0x80110000","page_size":4096,"level":0,"perms":"r-xu","global":false,"dirty":false,"pbmt":0}
{"va":"0x10000","access":"x","priv":"s","ok":false,"cause":12,"tval":"0x10000","level":0,"reason":"supervisor_access_to_user_page"}
{"va":"0x10000","access":"r","priv":"s","ok":false,"cause":13,"tval":"0x10000","level":0,"reason":"supervisor_access_to_user_page"}
{"va":"0x10000","access":"r","priv":"s","ok":true,"pa":"0x80110000","page_size":4096,"level":0,"perms":"r--u","global":false,"dirty":false,"pbmt":0}
{"va":"0x11008","access":"w","priv":"u","ok":true,"pa":"0x80111008","page_size":4096,"level":0,"perms":"rw-u","global":false,"dirty":true,"pbmt":0}
{"va":"0x12000","access":"r","priv":"u","ok":true,"pa":"0x80112000","page_size":4096,"level":0,"perms":"r--u","global":false,"dirty":false,"pbmt":0}
{"va":"0x12000","access":"w","priv":"u","ok":false,"cause":15,"tval":"0x12000","level":0,"reason":"read_only"}
{"va":"0x13000","access":"r","priv":"u","ok":false,"cause":13,"tval":"0x13000","level":0,"reason":"not_present"}
{"va":"0x40000000","access":"r","priv":"u","ok":false,"cause":13,"tval":"0x40000000","level":2,"reason":"not_present"}
{"va":"0x14000","access":"r","priv":"u","ok":false,"cause":13,"tval":"0x14000","level":0,"reason":"accessed_clear"}
{"va":"0x15000","access":"x","priv":"u","ok":true,"pa":"0x80114000","page_size":4096,"level":0,"perms":"--xu","global":false,"dirty":false,"pbmt":0}
{"va":"0x15000","access":"r","priv":"u","ok":false,"cause":13,"tval":"0x15000","level":0,"reason":"not_readable"}
{"va":"0x15000","access":"r","priv":"u","ok":true,"pa":"0x80114000","page_size":4096,"level":0,"perms":"r-xu","global":false,"dirty":false,"pbmt":0}
{"va":"0x20000","access":"r","priv":"u","ok":false,"cause":13,"tval":"0x20000","level":0,"reason":"reserved_bit"}
{"va":"0xffffffd800001000","access":"r","priv":"s","ok":true,"pa":"0x80001000","page_size":2097152,"level":1,"perms":"rw--","global":true,"dirty":true,"pbmt":0}
{"va":"0xffffffd800001000","access":"r","priv":"u","ok":false,"cause":13,"tval":"0xffffffd800001000","level":1,"reason":"user_access_to_supervisor_page"}
{"va":"0x4000000000","access":"r","priv":"s","ok":false,"cause":13,"tval":"0x4000000000","reason":"noncanonical"}
{"va":"0x80100000","access":"r","priv":"m","ok":true,"pa":"0x80100000","page_size":4096,"level":0,"perms":"rwxu","global":false,"dirty":true,"pbmt":0}
{"va":"0xffffffff80000000","access":"r","priv":"m","ok":true,"pa":"0x80100000","page_size":4096,"level":0,"perms":"r-x-","global":true,"dirty":false,"pbmt":0}
{"va":"0x10000","access":"x","priv":"m","ok":true,"pa":"0x10000","page_size":4096,"level":0,"perms":"rwxu","global":false,"dirty":true,"pbmt":0}
{"va":"0x12345","access":"r","priv":"s","ok":true,"pa":"0x12345","page_size":4096,"level":0,"perms":"rwxu","global":false,"dirty":true,"pbmt":0}
EOF
# Without Svadu the hardware never writes a PTE (Svade): memory unchanged.
cmp -s "$tmp/ex.out" "$tmp/ex.img" || fail "Svade run changed memory"
checks=$((checks + 1))

# --- Svnapot and Svadu: the same image, extensions on ------------------------
# The lazy page's PTE (A=D=0) is at 0x800050a0 (file offset 0x50a0).
# shellcheck disable=SC2086
translate --arch riscv64 --mem "$tmp/ex.img" $opts --priv u \
    --ext svnapot,svadu --menvcfg 0x2000000000000000 \
    --mem-out "$tmp/adu.out" <<'EOF'
r 0x20000                     # 64 KiB NAPOT page
r 0x2f008                     # its last 4 KiB: same PTE, PA offset kept
r 0x14000                     # menvcfg.ADUE=1: the hart sets A
w 0x14008                     # ... and D
EOF
expect svnapot_svadu <<'EOF'
{"va":"0x20000","access":"r","priv":"u","ok":true,"pa":"0x80120000","page_size":65536,"level":0,"perms":"rw-u","global":false,"dirty":true,"pbmt":0}
{"va":"0x2f008","access":"r","priv":"u","ok":true,"pa":"0x8012f008","page_size":65536,"level":0,"perms":"rw-u","global":false,"dirty":true,"pbmt":0}
{"va":"0x14000","access":"r","priv":"u","ok":true,"pa":"0x80113000","page_size":4096,"level":0,"perms":"r--u","global":false,"dirty":false,"pbmt":0}
{"va":"0x14008","access":"w","priv":"u","ok":true,"pa":"0x80113008","page_size":4096,"level":0,"perms":"rw-u","global":false,"dirty":true,"pbmt":0}
EOF
expect_word lazy_pte_A_D "$tmp/adu.out" 0x50a0 8 0x20044cd7

# Svadu needs both the extension and menvcfg.ADUE; either alone is Svade.
for extra in "--ext svadu" "--menvcfg 0x2000000000000000"; do
    # shellcheck disable=SC2086
    translate --arch riscv64 --mem "$tmp/ex.img" $opts --priv u $extra \
        --mem-out "$tmp/ade.out" <<<'w 0x14008'
    expect "svade_with_$extra" <<'EOF'
{"va":"0x14008","access":"w","priv":"u","ok":false,"cause":15,"tval":"0x14008","level":0,"reason":"accessed_clear"}
EOF
    expect_word "lazy_pte_untouched_$extra" "$tmp/ade.out" 0x50a0 8 0x20044c17
done

# --- Svpbmt on a zeroed image built with poke (Sv39, root 0x1000) -----------
head -c 65536 /dev/zero >"$tmp/z.img"
cat >"$tmp/pbmt.ops" <<'EOF'
poke 0x1000 0x801             # root[0] -> 0x2000
poke 0x2000 0xc01             # L1[0] -> 0x3000
poke 0x3028 0x20000000000014c7  # 0x5000: R W A D, PBMT=NC
poke 0x3030 0x40000000000018c7  # 0x6000: PBMT=IO
poke 0x3038 0x60000000000018c7  # 0x7000: PBMT=3, reserved
r 0x5000
r 0x6000
r 0x7000
EOF
translate --arch riscv64 --mem "$tmp/z.img" --satp 0x8000000000000001 \
    --ext svpbmt --menvcfg 0x4000000000000000 "$tmp/pbmt.ops"
expect svpbmt <<'EOF'
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x5000","page_size":4096,"level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":1}
{"va":"0x6000","access":"r","priv":"s","ok":true,"pa":"0x6000","page_size":4096,"level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":2}
{"va":"0x7000","access":"r","priv":"s","ok":false,"cause":13,"tval":"0x7000","level":0,"reason":"reserved_encoding"}
EOF
# Without the extension (or with menvcfg.PBMTE=0) bits 62:61 are reserved.
for extra in "" "--ext svpbmt"; do
    # shellcheck disable=SC2086
    translate --arch riscv64 --mem "$tmp/z.img" --satp 0x8000000000000001 \
        $extra "$tmp/pbmt.ops"
    expect "pbmt_reserved_with_[$extra]" <<'EOF'
{"va":"0x5000","access":"r","priv":"s","ok":false,"cause":13,"tval":"0x5000","level":0,"reason":"reserved_bit"}
{"va":"0x6000","access":"r","priv":"s","ok":false,"cause":13,"tval":"0x6000","level":0,"reason":"reserved_bit"}
{"va":"0x7000","access":"r","priv":"s","ok":false,"cause":13,"tval":"0x7000","level":0,"reason":"reserved_bit"}
EOF
done

# --- Sv32 (riscv32), 4-byte PTEs, default privilege U ----------------------
translate --arch riscv32 --mem "$tmp/z.img" --satp 0x80000001 --priv u \
    --mem-out "$tmp/sv32.out" <<'EOF'
poke 0x1000 0x801 4           # root[0] -> 0x2000
poke 0x2014 0x109f 4          # 0x5000 -> 0x4000: R W X U D, A=0
poke 0x1004 0x1000df 4        # root[1]: 4 MiB megapage at 0x400000
poke 0x1008 0x2004df 4        # root[2]: PPN[0] != 0: misaligned megapage
poke 0x100c 0x1001 4          # root[3] -> 0x4000 (zeroes)
poke 0x2018 0x10c5 4          # 0x6000: W without R: reserved
poke 0x201c 0x10d5 4          # 0x7000: W U without R: reserved
poke 0x2020 0x105f 4          # 0x8000: R W X U A, D=0
r 0x5123                      # A=0 under Svade: cause 13
poke 0x2014 0x10df 4          # now A=D=1
r 0x5123
w 0x5123
r 0x401234
r 0x801234                    # misaligned superpage
r 0xc00000                    # leaf table all zero: V=0
r 0x6000
r 0x7000
w 0x8000                      # D=0 under Svade: cause 15
x 0x8000 s                    # S never executes U pages: cause 12
r 0x8000 s                    # SUM=0: cause 13
r 0xfffff000 m                # M-mode: no translation
EOF
expect sv32 <<'EOF'
{"va":"0x5123","access":"r","priv":"u","ok":false,"cause":13,"tval":"0x5123","level":0,"reason":"accessed_clear"}
{"va":"0x5123","access":"r","priv":"u","ok":true,"pa":"0x4123","page_size":4096,"level":0,"perms":"rwxu","global":false,"dirty":true,"pbmt":0}
{"va":"0x5123","access":"w","priv":"u","ok":true,"pa":"0x4123","page_size":4096,"level":0,"perms":"rwxu","global":false,"dirty":true,"pbmt":0}
{"va":"0x401234","access":"r","priv":"u","ok":true,"pa":"0x401234","page_size":4194304,"level":1,"perms":"rwxu","global":false,"dirty":true,"pbmt":0}
{"va":"0x801234","access":"r","priv":"u","ok":false,"cause":13,"tval":"0x801234","level":1,"reason":"misaligned_superpage"}
{"va":"0xc00000","access":"r","priv":"u","ok":false,"cause":13,"tval":"0xc00000","level":0,"reason":"not_present"}
{"va":"0x6000","access":"r","priv":"u","ok":false,"cause":13,"tval":"0x6000","level":0,"reason":"reserved_encoding"}
{"va":"0x7000","access":"r","priv":"u","ok":false,"cause":13,"tval":"0x7000","level":0,"reason":"reserved_encoding"}
{"va":"0x8000","access":"w","priv":"u","ok":false,"cause":15,"tval":"0x8000","level":0,"reason":"dirty_clear"}
{"va":"0x8000","access":"x","priv":"s","ok":false,"cause":12,"tval":"0x8000","level":0,"reason":"supervisor_access_to_user_page"}
{"va":"0x8000","access":"r","priv":"s","ok":false,"cause":13,"tval":"0x8000","level":0,"reason":"supervisor_access_to_user_page"}
{"va":"0xfffff000","access":"r","priv":"m","ok":true,"pa":"0xfffff000","page_size":4096,"level":0,"perms":"rwxu","global":false,"dirty":true,"pbmt":0}
EOF
# 4-byte pokes land where they should, little-endian, and nothing else moved.
expect_word sv32_pte_5 "$tmp/sv32.out" 0x2014 4 0x10df
expect_word sv32_pte_8 "$tmp/sv32.out" 0x2020 4 0x105f
expect_word sv32_root_1 "$tmp/sv32.out" 0x1004 4 0x1000df

# --- page tables outside RAM: access faults 5/7/1 (RAM at 0x80000000) -------
translate --arch riscv64 --mem "$tmp/z.img" --mem-base 0x80000000 \
    --satp 0x8000000000000100 <<'EOF'
r 0x1000                      # root table at 0x100000: outside RAM
w 0x1000
x 0x1000
set satp 0x8000000000080001   # root at 0x80001000, in RAM
poke 0x80001000 0x1000000001  # root[0] -> 0x4000000000, outside RAM
poke 0x80001008 0x20000401    # root[1] -> the root table itself
r 0x0
x 0x0 u
w 0x40000000                  # root[1], then root[0] as L1 -> outside
EOF
expect rv_access_faults <<'EOF'
{"va":"0x1000","access":"r","priv":"s","ok":false,"cause":5,"tval":"0x1000","level":2,"reason":"outside_ram","paddr":"0x100000"}
{"va":"0x1000","access":"w","priv":"s","ok":false,"cause":7,"tval":"0x1000","level":2,"reason":"outside_ram","paddr":"0x100000"}
{"va":"0x1000","access":"x","priv":"s","ok":false,"cause":1,"tval":"0x1000","level":2,"reason":"outside_ram","paddr":"0x100000"}
{"va":"0x0","access":"r","priv":"s","ok":false,"cause":5,"tval":"0x0","level":1,"reason":"outside_ram","paddr":"0x4000000000"}
{"va":"0x0","access":"x","priv":"u","ok":false,"cause":1,"tval":"0x0","level":1,"reason":"outside_ram","paddr":"0x4000000000"}
{"va":"0x40000000","access":"w","priv":"s","ok":false,"cause":7,"tval":"0x40000000","level":0,"reason":"outside_ram","paddr":"0x4000000000"}
EOF

echo "translate_riscv: $checks checks passed"
