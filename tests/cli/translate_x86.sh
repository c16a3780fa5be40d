#!/usr/bin/env bash
# translate_x86.sh - end-to-end tests of `mmuemu translate` on x86: the
# bundled example (4-level paging) against its expected output, A/D bits in
# --mem-out, the PAE PDPTE registers, 32-bit paging with PSE, 1 GiB pages,
# MAXPHYADDR, EFER.LMA, --mem-base and entries outside RAM.
#
# usage: bash translate_x86.sh PATH_TO_mmuemu PROJECT_SOURCE_DIR
. "$2/tests/util/cli_common.bash"
# expect NAME: $tmp/got must equal stdin, line for line.
expect() {
    cat >"$tmp/want"
    diff -u "$tmp/want" "$tmp/got" >&2 || fail "$1: output differs"
    checks=$((checks + 1))
}

# expect_qword NAME FILE OFFSET VALUE: the 8-byte little-endian value there.
expect_qword() {
    local got
    got=$(od -A n -t x8 -j "$(($3))" -N 8 "$2" | tr -d ' \n')
    [ "$got" = "$(printf '%016x' "$(($4))")" ] ||
        fail "$1: qword at $3 is 0x$got, want $4"
    checks=$((checks + 1))
}

# --- the bundled example: every line of examples/x86_64.ops --------------
opts=$("$MMUEMU" example-image --arch x86_64 --out "$tmp/ex.img")
[ "$opts" = "--mem-base 0x0 --cr3 0x1000 --cr0 0x80010001 --cr4 0x3000a0 --efer 0xd00" ] ||
    fail "example-image printed '$opts'"
cp "$tmp/ex.img" "$tmp/ex.orig"
# shellcheck disable=SC2086 # $opts is a list of options
translate --arch x86_64 --mem "$tmp/ex.img" $opts --mem-out "$tmp/ex.out" \
    "$SRC/examples/x86_64.ops"
cp "$tmp/got" "$tmp/example.got"
expect example_x86_64 <<'EOF'
{"va":"0xffffffff80000000","access":"r","cpl":0,"ok":true,"pa":"0x100000","page_size":4096,"level":0,"perms":"r-x-","global":true,"dirty":false,"pkey":0}
{"va":"0xffffffff80001234","access":"x","cpl":0,"ok":true,"pa":"0x101234","page_size":4096,"level":0,"perms":"r-x-","global":true,"dirty":false,"pkey":0}
{"va":"0xffffffff80000000","access":"w","cpl":0,"ok":false,"vector":"PF","error_code":3,"cr2":"0xffffffff80000000","level":0,"reason":"read_only"}
{"va":"0xffffffff80000000","access":"r","cpl":3,"ok":false,"vector":"PF","error_code":5,"cr2":"0xffffffff80000000","level":0,"reason":"user_access_to_supervisor_page"}
{"va":"0xffffffff80002010","access":"w","cpl":0,"ok":true,"pa":"0x102010","page_size":4096,"level":0,"perms":"rw--","global":true,"dirty":true,"pkey":0}
{"va":"0xffffffff80002000","access":"x","cpl":0,"ok":false,"vector":"PF","error_code":17,"cr2":"0xffffffff80002000","level":0,"reason":"not_executable"}
{"va":"0x400000","access":"x","cpl":3,"ok":true,"pa":"0x110000","page_size":4096,"level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x400000","access":"w","cpl":3,"ok":false,"vector":"PF","error_code":7,"cr2":"0x400000","level":0,"reason":"read_only"}
{"va":"0x400000","access":"x","cpl":0,"ok":false,"vector":"PF","error_code":17,"cr2":"0x400000","level":0,"reason":"smep"}
{"va":"0x600008","access":"w","cpl":3,"ok":true,"pa":"0x111008","page_size":4096,"level":0,"perms":"rw-u","global":false,"dirty":true,"pkey":0}
{"va":"0x600000","access":"x","cpl":3,"ok":false,"vector":"PF","error_code":21,"cr2":"0x600000","level":0,"reason":"not_executable"}
{"va":"0x600000","access":"r","cpl":0,"ok":false,"vector":"PF","error_code":1,"cr2":"0x600000","level":0,"reason":"smap"}
{"va":"0x600000","access":"r","cpl":0,"ok":true,"pa":"0x111000","page_size":4096,"level":0,"perms":"rw-u","global":false,"dirty":true,"pkey":0}
{"va":"0x600000","access":"r","cpl":0,"ok":false,"vector":"PF","error_code":1,"cr2":"0x600000","level":0,"reason":"smap","implicit":true}
{"va":"0x601000","access":"r","cpl":3,"ok":true,"pa":"0x112000","page_size":4096,"level":0,"perms":"r--u","global":false,"dirty":false,"pkey":0}
{"va":"0x601000","access":"w","cpl":3,"ok":false,"vector":"PF","error_code":7,"cr2":"0x601000","level":0,"reason":"read_only"}
{"va":"0x602000","access":"r","cpl":3,"ok":false,"vector":"PF","error_code":4,"cr2":"0x602000","level":0,"reason":"not_present"}
{"va":"0x7f0000000000","access":"w","cpl":3,"ok":false,"vector":"PF","error_code":6,"cr2":"0x7f0000000000","level":3,"reason":"not_present"}
{"va":"0x800000000000","access":"r","cpl":3,"ok":false,"vector":"GP","error_code":0,"reason":"noncanonical"}
{"va":"0x800000000000","access":"r","cpl":3,"ok":false,"vector":"SS","error_code":0,"reason":"noncanonical","stack":true}
{"va":"0x603000","access":"r","cpl":3,"ok":true,"pa":"0x114000","page_size":4096,"level":0,"perms":"r--u","global":false,"dirty":false,"pkey":1}
{"va":"0x603000","access":"r","cpl":3,"ok":false,"vector":"PF","error_code":37,"cr2":"0x603000","level":0,"reason":"pkey"}
{"va":"0x603000","access":"r","cpl":3,"ok":true,"pa":"0x114000","page_size":4096,"level":0,"perms":"r--u","global":false,"dirty":false,"pkey":1}
{"va":"0x603000","access":"w","cpl":3,"ok":false,"vector":"PF","error_code":39,"cr2":"0x603000","level":0,"reason":"pkey"}
{"va":"0xffff888000001000","access":"r","cpl":0,"ok":true,"pa":"0x1000","page_size":2097152,"level":1,"perms":"r---","global":true,"dirty":false,"pkey":0}
{"va":"0xffff888000001000","access":"w","cpl":3,"ok":false,"vector":"PF","error_code":7,"cr2":"0xffff888000001000","level":1,"reason":"user_access_to_supervisor_page"}
{"va":"0xffffffff80000000","access":"w","cpl":0,"ok":true,"pa":"0x100000","page_size":4096,"level":0,"perms":"rwx-","global":true,"dirty":true,"pkey":0}
{"va":"0xffffffff80002000","access":"r","cpl":0,"ok":false,"vector":"PF","error_code":9,"cr2":"0xffffffff80002000","level":0,"reason":"reserved_bit"}
EOF
cmp -s "$tmp/ex.img" "$tmp/ex.orig" || fail "--mem changed the input image"

# A/D in the entries the walks went through (SDM 4.8): A on every entry
# of a successful walk, D on the leaf of a successful write, nothing for a
# faulting access (the pkey page was only written by faulting writes).
expect_qword pml4e_user_A "$tmp/ex.out" 0x1000 0x5027
expect_qword pml4e_kernel_A "$tmp/ex.out" 0x1ff8 0x2023
expect_qword ktext_pte_A_D_after_wp0 "$tmp/ex.out" 0x4000 0x100161
expect_qword ktext2_pte_A "$tmp/ex.out" 0x4008 0x101121
expect_qword kdata_pte_A_D "$tmp/ex.out" 0x4010 0x8000000000102163
expect_qword ucode_pte_A "$tmp/ex.out" 0x7000 0x110025
expect_qword udata_pte_A_D "$tmp/ex.out" 0x8000 0x8000000000111067
expect_qword uro_pte_A "$tmp/ex.out" 0x8008 0x8000000000112025
expect_qword pkey_pte_A_no_D "$tmp/ex.out" 0x8018 0x8800000000114027
expect_qword stack_pte_untouched "$tmp/ex.out" 0xbff8 0x8000000000113007
expect_qword directmap_pde_A "$tmp/ex.out" 0xd000 0x80000000000001a3

# The same ops from stdin, with "-" and with no file, print the same.
# shellcheck disable=SC2086
translate --arch x86_64 --mem "$tmp/ex.img" $opts - <"$SRC/examples/x86_64.ops"
cmp -s "$tmp/got" "$tmp/example.got" || fail "ops from '-' differ"
# shellcheck disable=SC2086
translate --arch x86_64 --mem "$tmp/ex.img" $opts <"$SRC/examples/x86_64.ops"
cmp -s "$tmp/got" "$tmp/example.got" || fail "ops from stdin differ"
checks=$((checks + 2))

# Faulting accesses write nothing: --mem-out equals the input.
# shellcheck disable=SC2086
translate --arch x86_64 --mem "$tmp/ex.img" $opts --mem-out "$tmp/f.out" <<'EOF'
w 0x400000 3                  # read-only
r 0xffffffff80000000 3        # supervisor page
r 0x602000                    # not present
x 0x600000 3                  # XD
EOF
expect faults_only <<'EOF'
{"va":"0x400000","access":"w","cpl":3,"ok":false,"vector":"PF","error_code":7,"cr2":"0x400000","level":0,"reason":"read_only"}
{"va":"0xffffffff80000000","access":"r","cpl":3,"ok":false,"vector":"PF","error_code":5,"cr2":"0xffffffff80000000","level":0,"reason":"user_access_to_supervisor_page"}
{"va":"0x602000","access":"r","cpl":0,"ok":false,"vector":"PF","error_code":0,"cr2":"0x602000","level":0,"reason":"not_present"}
{"va":"0x600000","access":"x","cpl":3,"ok":false,"vector":"PF","error_code":21,"cr2":"0x600000","level":0,"reason":"not_executable"}
EOF
cmp -s "$tmp/f.out" "$tmp/ex.img" || fail "faulting accesses changed memory"
checks=$((checks + 1))

# --- PAE paging: the PDPTE registers (SDM 4.4.1) ---------------------------
# The image starts zeroed, so the PDPTEs loaded at startup are all P=0 and
# stay in the registers until MOV CR3 (or a CR0/CR4 paging-bit change)
# reloads them; the PD and PT are read from memory on every walk.
head -c 65536 /dev/zero >"$tmp/z.img"
translate --arch i386 --mem "$tmp/z.img" --cr0 0x80000001 --cr3 0x1000 \
    --cr4 0x20 --efer 0 --mem-out "$tmp/pae.out" <<'EOF'
r 0x5000                      # PDPTE register 0 not present: #PF, level 2
poke 0x1000 0x2001            # PDPTE0 -> PD 0x2000
poke 0x2000 0x3007            # PDE0 -> PT 0x3000, RW US
poke 0x3028 0x4007            # PTE5 -> 0x4000
r 0x5000                      # still #PF: the registers hold the old PDPTEs
set cr3 0x1000                # MOV CR3 reloads them
r 0x5000
w 0x5000 3
poke 0x1040 0x2001
poke 0x1048 0x2003            # R/W is reserved in a PAE PDPTE
set cr3 0x1040                # #GP; CR3 and the registers keep their values
set cr4 0xa0                  # PGE change reloads from CR3 = 0x1000: fine
r 0x5000
poke 0x3028 0x6007            # PTEs are not cached
r 0x5000
poke 0x1000 0                 # PDPTE0 in memory now not present
set cr0 0x80000001            # no paging-bit change: no reload
r 0x5000
set cr4 0x20                  # PGE change: reload
r 0x5000
set cr0 0x1                   # paging off: VA = PA
r 0x5000
set cr0 0x80000001
set cr3 0xfffff000            # PDPT outside RAM
set cr3 0x10000               # PDPT just past the end of RAM
set cr3 0xffe0                # last 32 bytes of RAM: fine
EOF
expect pae_pdptes <<'EOF'
{"va":"0x5000","access":"r","cpl":0,"ok":false,"vector":"PF","error_code":0,"cr2":"0x5000","level":2,"reason":"not_present"}
{"va":"0x5000","access":"r","cpl":0,"ok":false,"vector":"PF","error_code":0,"cr2":"0x5000","level":2,"reason":"not_present"}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x4000","page_size":4096,"level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x5000","access":"w","cpl":3,"ok":true,"pa":"0x4000","page_size":4096,"level":0,"perms":"rwxu","global":false,"dirty":true,"pkey":0}
{"op":"set","reg":"cr3","ok":false,"vector":"GP","error_code":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x4000","page_size":4096,"level":0,"perms":"rwxu","global":false,"dirty":true,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x6000","page_size":4096,"level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x6000","page_size":4096,"level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":false,"vector":"PF","error_code":0,"cr2":"0x5000","level":2,"reason":"not_present"}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x5000","page_size":4096,"level":0,"perms":"rwxu","global":false,"dirty":true,"pkey":0}
{"op":"set","reg":"cr3","ok":false,"vector":"none","reason":"outside_ram","paddr":"0xfffff000"}
{"op":"set","reg":"cr3","ok":false,"vector":"none","reason":"outside_ram","paddr":"0x10000"}
EOF
expect_qword pae_pde_A "$tmp/pae.out" 0x2000 0x3027
expect_qword pae_pte_A "$tmp/pae.out" 0x3028 0x6027
expect_qword pae_pdpte_no_A "$tmp/pae.out" 0x1040 0x2001

# --- 32-bit paging, 4 MiB pages with CR4.PSE ------------------------------
translate --arch i386 --mem "$tmp/z.img" --cr0 0x80000001 --cr3 0x1000 \
    --cr4 0x10 --efer 0 <<'EOF'
poke 0x1000 0x2007 4          # PDE0 -> PT 0x2000
poke 0x2014 0x4007 4          # PTE5 -> 0x4000
poke 0x1004 0x00400087 4      # PDE1: 4 MiB page at 0x400000, user
poke 0x1008 0x00800083 4      # PDE2: 4 MiB page at 0x800000, supervisor
r 0x5123 3
r 0x401234 3
w 0x801234 3                  # #PF 7
r 0x801234 3 implicit         # implicit accesses are supervisor accesses
set cr4 0                     # PSE=0: PS is ignored, PDE1 points to a PT
r 0x401234 3                  # ... at 0x400000, outside RAM
EOF
expect x86_32bit_pse <<'EOF'
{"va":"0x5123","access":"r","cpl":3,"ok":true,"pa":"0x4123","page_size":4096,"level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x401234","access":"r","cpl":3,"ok":true,"pa":"0x401234","page_size":4194304,"level":1,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x801234","access":"w","cpl":3,"ok":false,"vector":"PF","error_code":7,"cr2":"0x801234","level":1,"reason":"user_access_to_supervisor_page"}
{"va":"0x801234","access":"r","cpl":3,"ok":true,"pa":"0x801234","page_size":4194304,"level":1,"perms":"r-x-","global":false,"dirty":false,"pkey":0,"implicit":true}
{"va":"0x401234","access":"r","cpl":3,"ok":false,"vector":"none","reason":"outside_ram","paddr":"0x400004","level":0}
EOF

# --- 4-level: 1 GiB pages, MAXPHYADDR, entries outside RAM ----------------
translate --arch x86_64 --mem "$tmp/z.img" --cr0 0x80000001 --cr3 0x1000 \
    --cr4 0x20 --efer 0x100 --maxphyaddr 36 <<'EOF'
poke 0x1000 0x2007            # PML4E0 -> PDPT 0x2000
poke 0x2008 0x40000083        # PDPTE1: 1 GiB page at 0x40000000
poke 0x2000 0x3007            # PDPTE0 -> PD 0x3000
poke 0x3000 0x4007            # PDE0 -> PT 0x4000
poke 0x4028 0x5007            # 0x5000 -> 0x5000
poke 0x4030 0x1000000007      # 0x6000 -> bit 36: reserved with MAXPHYADDR 36
poke 0x4038 0x0800000007      # 0x7000 -> bit 35: fine
poke 0x3008 0x100000007       # PDE1 -> PT at 4 GiB, outside RAM
r 0x40123456
r 0x5000 3
r 0x6000 3                    # #PF 0xd (P|U|RSVD)
r 0x7000 3
w 0x201000 3                  # PT outside RAM: no vector
EOF
expect x86_4level_1g_maxphyaddr <<'EOF'
{"va":"0x40123456","access":"r","cpl":0,"ok":true,"pa":"0x40123456","page_size":1073741824,"level":2,"perms":"r-x-","global":false,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":3,"ok":true,"pa":"0x5000","page_size":4096,"level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x6000","access":"r","cpl":3,"ok":false,"vector":"PF","error_code":13,"cr2":"0x6000","level":0,"reason":"reserved_bit"}
{"va":"0x7000","access":"r","cpl":3,"ok":true,"pa":"0x800000000","page_size":4096,"level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x201000","access":"w","cpl":3,"ok":false,"vector":"none","reason":"outside_ram","paddr":"0x100000008","level":0}
EOF

# Default MAXPHYADDR is 52: the same PTE is fine.
translate --arch x86_64 --mem "$tmp/z.img" --cr0 0x80000001 --cr3 0x1000 \
    --cr4 0x20 --efer 0x100 <<'EOF'
poke 0x1000 0x2007
poke 0x2000 0x3007
poke 0x3000 0x4007
poke 0x4030 0x1000000007
r 0x6000 3
EOF
expect x86_maxphyaddr_default <<'EOF'
{"va":"0x6000","access":"r","cpl":3,"ok":true,"pa":"0x1000000000","page_size":4096,"level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
EOF

# CR3 outside RAM: the walk stops at the PML4 entry.
translate --arch x86_64 --mem "$tmp/z.img" --cr0 0x80000001 --cr3 0x20000 \
    --cr4 0x20 --efer 0x100 <<<'x 0x123456789000 2'
expect x86_cr3_outside_ram <<'EOF'
{"va":"0x123456789000","access":"x","cpl":2,"ok":false,"vector":"none","reason":"outside_ram","paddr":"0x20120","level":3}
EOF

# --- set is the instruction: EFER.LMA = LME && CR0.PG, #GP checks ---------
translate --arch x86_64 --mem "$tmp/z.img" --cr0 0x80000001 --cr3 0x1000 \
    --cr4 0x20 --efer 0x100 <<'EOF'
poke 0x1000 0x2007
poke 0x2000 0x3007
poke 0x3000 0x4007
poke 0x4028 0x5007
r 0x5000 3                    # LME=1, PG=1 -> LMA=1: 4-level
r 0x8000000000 3              # PML4E1 not present: level 3
set cr4 0                     # clearing PAE in IA-32e mode: #GP
set cr0 0x1                   # PG=0 -> LMA=0, no paging
r 0x5000
set efer 0
set cr0 0x80000001            # PAE: PDPTE0 = 0x2007 has reserved bits: #GP
r 0x7000                      # so paging is still off
poke 0x1000 0x2001
set cr0 0x80000001            # PAE now: PD 0x2000, PT 0x3000
r 0x5000                      # PAE PTE5 at 0x3028 is 0
poke 0x3028 0x6007
r 0x5000                      # -> 0x6000 in PAE
set efer 0x100                # LME cannot change while CR0.PG=1: #GP
set cr0 0x80000000            # PG without PE: #GP
set cr0 0x180000001           # CR0 bits 63:32 are reserved: #GP
set cr0 0x1                   # leave paging, set LME, enable paging:
set efer 0x100
set cr0 0x80000001            # LMA=1 again: 4-level
r 0x5000                      # -> 0x5000, supervisor (PML4E0 = 0x2001)
EOF
expect x86_set_semantics <<'EOF'
{"va":"0x5000","access":"r","cpl":3,"ok":true,"pa":"0x5000","page_size":4096,"level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x8000000000","access":"r","cpl":3,"ok":false,"vector":"PF","error_code":4,"cr2":"0x8000000000","level":3,"reason":"not_present"}
{"op":"set","reg":"cr4","ok":false,"vector":"GP","error_code":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x5000","page_size":4096,"level":0,"perms":"rwxu","global":false,"dirty":true,"pkey":0}
{"op":"set","reg":"cr0","ok":false,"vector":"GP","error_code":0}
{"va":"0x7000","access":"r","cpl":0,"ok":true,"pa":"0x7000","page_size":4096,"level":0,"perms":"rwxu","global":false,"dirty":true,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":false,"vector":"PF","error_code":0,"cr2":"0x5000","level":0,"reason":"not_present"}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x6000","page_size":4096,"level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"op":"set","reg":"efer","ok":false,"vector":"GP","error_code":0}
{"op":"set","reg":"cr0","ok":false,"vector":"GP","error_code":0}
{"op":"set","reg":"cr0","ok":false,"vector":"GP","error_code":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x5000","page_size":4096,"level":0,"perms":"r-x-","global":false,"dirty":false,"pkey":0}
EOF

# A given EFER.LMA is ignored: LME=0 with PG=1, PAE=1 is PAE paging.
translate --arch x86_64 --mem "$tmp/z.img" --cr0 0x80000001 --cr3 0x1000 \
    --cr4 0x20 --efer 0x400 <<<'r 0x5000'
expect x86_lma_ignored <<'EOF'
{"va":"0x5000","access":"r","cpl":0,"ok":false,"vector":"PF","error_code":0,"cr2":"0x5000","level":2,"reason":"not_present"}
EOF

# --- --mem-base: RAM at 0x100000, tables inside it -------------------------
translate --arch x86_64 --mem "$tmp/z.img" --mem-base 0x100000 \
    --cr0 0x80000001 --cr3 0x101000 --cr4 0x20 --efer 0x100 \
    --mem-out "$tmp/base.out" <<'EOF'
poke 0x101000 0x102007
poke 0x102000 0x103007
poke 0x103000 0x104007
poke 0x104028 0x105007
r 0x5000 3
w 0x5000 3
r 0x6000 3
EOF
expect x86_mem_base <<'EOF'
{"va":"0x5000","access":"r","cpl":3,"ok":true,"pa":"0x105000","page_size":4096,"level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x5000","access":"w","cpl":3,"ok":true,"pa":"0x105000","page_size":4096,"level":0,"perms":"rwxu","global":false,"dirty":true,"pkey":0}
{"va":"0x6000","access":"r","cpl":3,"ok":false,"vector":"PF","error_code":4,"cr2":"0x6000","level":0,"reason":"not_present"}
EOF
# Offsets in the file are relative to --mem-base.
expect_qword mem_base_pml4e_A "$tmp/base.out" 0x1000 0x102027
expect_qword mem_base_pte_A_D "$tmp/base.out" 0x4028 0x105067

echo "translate_x86: $checks checks passed"
