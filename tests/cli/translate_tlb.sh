#!/usr/bin/env bash
# translate_tlb.sh - end-to-end tests of `mmuemu translate --tlb`: stale
# translations before and after every invalidation op (INVLPG, MOV CR3 with
# and without bit 63 under CR4.PCIDE, INVPCID types 0-3 and its #GP cases,
# CR4.PGE toggles, SFENCE.VMA in its four forms, satp writes), the "tlb"
# hit/miss field, --stats against a hand-counted trace, the bundled TLB
# examples, random tables and ops under every preset, and the user errors
# of the new options and ops.
#
# usage: bash translate_tlb.sh PATH_TO_mmuemu PROJECT_SOURCE_DIR
. "$2/tests/util/cli_common.bash"
# expect NAME: $tmp/got must equal stdin, line for line.
expect() {
    cat >"$tmp/want"
    diff -u "$tmp/want" "$tmp/got" >&2 || fail "$1: output differs"
    checks=$((checks + 1))
}

# error NAME REGEX ARGS...: mmuemu ARGS (stdin: $tmp/ops) must exit 2 with
# one stderr line matching REGEX and nothing on stdout.
error() {
    local name=$1 re=$2 rc=0
    shift 2
    "$MMUEMU" "$@" <"$tmp/ops" >"$tmp/out" 2>"$tmp/err" || rc=$?
    [ "$rc" -eq 2 ] || fail "$name: exit status $rc, want 2 ($(cat "$tmp/err"))"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] ||
        fail "$name: want one line on stderr, got: $(cat "$tmp/err")"
    grep -qE -- "$re" "$tmp/err" ||
        fail "$name: stderr '$(cat "$tmp/err")' does not match /$re/"
    [ ! -s "$tmp/out" ] || fail "$name: unexpected stdout: $(cat "$tmp/out")"
    checks=$((checks + 1))
}

head -c 65536 /dev/zero >"$tmp/z.img"

# x86 4-level tables on the zeroed image: PML4 0x1000, PDPT 0x2000,
# PD 0x3000, PT 0x4000; 0x5000 -> 0x5000 and 0x6000 -> 0x6000 (P RW US),
# 0x7000 -> 0x7000 global (P RW US G). PTEs at 0x4028, 0x4030, 0x4038.
X86_TABLES='poke 0x1000 0x2007
poke 0x2000 0x3007
poke 0x3000 0x4007
poke 0x4028 0x5007
poke 0x4030 0x6007
poke 0x4038 0x7107'
# Remap all three (no invalidation): 0x9000, 0xa000, 0xb000 (still G).
X86_REMAP='poke 0x4028 0x9007
poke 0x4030 0xa007
poke 0x4038 0xb107'
X86=(--arch x86_64 --mem "$tmp/z.img" --cr0 0x80000001 --efer 0x100
    --tlb generic)

# --- the bundled examples ------------------------------------------------------
opts=$("$MMUEMU" example-image --arch x86_64 --out "$tmp/x86.img")
# shellcheck disable=SC2086 # $opts is a list of options
translate --arch x86_64 --mem "$tmp/x86.img" $opts --tlb generic \
    "$SRC/examples/tlb_x86.ops"
expect example_tlb_x86 <<'EOF'
{"va":"0x600000","access":"r","cpl":3,"ok":true,"pa":"0x111000","page_size":4096,"tlb":"miss","level":0,"perms":"r--u","global":false,"dirty":false,"pkey":0}
{"va":"0x600000","access":"r","cpl":3,"ok":true,"pa":"0x111000","page_size":4096,"tlb":"hit","level":0,"perms":"r--u","global":false,"dirty":false,"pkey":0}
{"va":"0x600000","access":"r","cpl":3,"ok":true,"pa":"0x115000","page_size":4096,"tlb":"miss","level":0,"perms":"rw-u","global":false,"dirty":true,"pkey":0}
{"va":"0x601000","access":"r","cpl":3,"ok":true,"pa":"0x112000","page_size":4096,"tlb":"miss","level":0,"perms":"r--u","global":false,"dirty":false,"pkey":0}
{"va":"0x601000","access":"w","cpl":3,"ok":false,"vector":"PF","error_code":7,"cr2":"0x601000","tlb":"hit","level":0,"reason":"read_only"}
{"va":"0x601000","access":"w","cpl":3,"ok":true,"pa":"0x112000","page_size":4096,"tlb":"miss","level":0,"perms":"rw-u","global":false,"dirty":true,"pkey":0}
{"va":"0xffffffff80000000","access":"r","cpl":0,"ok":true,"pa":"0x100000","page_size":4096,"tlb":"miss","level":0,"perms":"r-x-","global":true,"dirty":false,"pkey":0}
{"va":"0xffffffff80000000","access":"r","cpl":0,"ok":true,"pa":"0x100000","page_size":4096,"tlb":"hit","level":0,"perms":"r-x-","global":true,"dirty":false,"pkey":0}
{"va":"0x600000","access":"r","cpl":3,"ok":true,"pa":"0x116000","page_size":4096,"tlb":"miss","level":0,"perms":"rw-u","global":false,"dirty":true,"pkey":0}
{"va":"0xffffffff80000000","access":"r","cpl":0,"ok":true,"pa":"0x104000","page_size":4096,"tlb":"miss","level":0,"perms":"r-x-","global":true,"dirty":false,"pkey":0}
EOF

opts=$("$MMUEMU" example-image --arch riscv64 --out "$tmp/rv.img")
# shellcheck disable=SC2086
translate --arch riscv64 --mem "$tmp/rv.img" $opts --tlb generic \
    "$SRC/examples/tlb_riscv.ops"
expect example_tlb_riscv <<'EOF'
{"va":"0x11000","access":"r","priv":"u","ok":true,"pa":"0x80111000","page_size":4096,"tlb":"miss","level":0,"perms":"rw-u","global":false,"dirty":true,"pbmt":0}
{"va":"0x11000","access":"r","priv":"u","ok":true,"pa":"0x80111000","page_size":4096,"tlb":"hit","level":0,"perms":"rw-u","global":false,"dirty":true,"pbmt":0}
{"va":"0x11000","access":"r","priv":"u","ok":true,"pa":"0x80115000","page_size":4096,"tlb":"miss","level":0,"perms":"rw-u","global":false,"dirty":true,"pbmt":0}
{"va":"0xffffffff80000000","access":"r","priv":"s","ok":true,"pa":"0x80100000","page_size":4096,"tlb":"miss","level":0,"perms":"r-x-","global":true,"dirty":false,"pbmt":0}
{"va":"0xffffffff80000000","access":"r","priv":"s","ok":true,"pa":"0x80100000","page_size":4096,"tlb":"hit","level":0,"perms":"r-x-","global":true,"dirty":false,"pbmt":0}
{"va":"0xffffffff80000000","access":"r","priv":"s","ok":true,"pa":"0x80100000","page_size":4096,"tlb":"hit","level":0,"perms":"r-x-","global":true,"dirty":false,"pbmt":0}
{"va":"0xffffffff80000000","access":"r","priv":"s","ok":true,"pa":"0x80104000","page_size":4096,"tlb":"miss","level":0,"perms":"r-x-","global":true,"dirty":false,"pbmt":0}
EOF

# The same ops without a TLB: every access walks, so no stale hits.
# shellcheck disable=SC2086
translate --arch riscv64 --mem "$tmp/rv.img" $opts \
    "$SRC/examples/tlb_riscv.ops"
expect example_tlb_riscv_no_tlb <<'EOF'
{"va":"0x11000","access":"r","priv":"u","ok":true,"pa":"0x80111000","page_size":4096,"level":0,"perms":"rw-u","global":false,"dirty":true,"pbmt":0}
{"va":"0x11000","access":"r","priv":"u","ok":true,"pa":"0x80115000","page_size":4096,"level":0,"perms":"rw-u","global":false,"dirty":true,"pbmt":0}
{"va":"0x11000","access":"r","priv":"u","ok":true,"pa":"0x80115000","page_size":4096,"level":0,"perms":"rw-u","global":false,"dirty":true,"pbmt":0}
{"va":"0xffffffff80000000","access":"r","priv":"s","ok":true,"pa":"0x80100000","page_size":4096,"level":0,"perms":"r-x-","global":true,"dirty":false,"pbmt":0}
{"va":"0xffffffff80000000","access":"r","priv":"s","ok":true,"pa":"0x80104000","page_size":4096,"level":0,"perms":"r-x-","global":true,"dirty":false,"pbmt":0}
{"va":"0xffffffff80000000","access":"r","priv":"s","ok":true,"pa":"0x80104000","page_size":4096,"level":0,"perms":"r-x-","global":true,"dirty":false,"pbmt":0}
{"va":"0xffffffff80000000","access":"r","priv":"s","ok":true,"pa":"0x80104000","page_size":4096,"level":0,"perms":"r-x-","global":true,"dirty":false,"pbmt":0}
EOF

# --tlb off is the default: the output has no "tlb" key and is what it was
# before there was a TLB option (translate_x86.sh checks those lines).
opts=$("$MMUEMU" example-image --arch x86_64 --out "$tmp/x86.img")
# shellcheck disable=SC2086
translate --arch x86_64 --mem "$tmp/x86.img" $opts "$SRC/examples/x86_64.ops"
cp "$tmp/got" "$tmp/default.got"
# shellcheck disable=SC2086
translate --arch x86_64 --mem "$tmp/x86.img" $opts --tlb off \
    "$SRC/examples/x86_64.ops"
cmp -s "$tmp/got" "$tmp/default.got" || fail "--tlb off differs from no --tlb"
! grep -q '"tlb"' "$tmp/got" || fail "--tlb off printed a tlb key"
checks=$((checks + 2))

# --- INVLPG (SDM vol. 3A 4.10.4.1) -------------------------------------------
translate "${X86[@]}" --cr3 0x1000 --cr4 0xa0 <<EOF
$X86_TABLES
r 0x5000                      # miss
r 0x6000                      # miss
r 0x7000                      # miss (global)
$X86_REMAP
r 0x5000                      # hit: stale 0x5000
invlpg 0x6000                 # another page: 0x5000 untouched
r 0x5000                      # hit: stale 0x5000
invlpg 0x5000
r 0x5000                      # miss: new 0x9000
r 0x6000                      # miss: new 0xa000 (invalidated above)
invlpg 0x800000000000         # non-canonical: a no-op
r 0x7000                      # hit: stale 0x7000
invlpg 0x7000                 # INVLPG drops global entries too
r 0x7000                      # miss: new 0xb000
EOF
expect x86_invlpg <<'EOF'
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x5000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x6000","access":"r","cpl":0,"ok":true,"pa":"0x6000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x7000","access":"r","cpl":0,"ok":true,"pa":"0x7000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":true,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x5000","page_size":4096,"tlb":"hit","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x5000","page_size":4096,"tlb":"hit","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x9000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x6000","access":"r","cpl":0,"ok":true,"pa":"0xa000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x7000","access":"r","cpl":0,"ok":true,"pa":"0x7000","page_size":4096,"tlb":"hit","level":0,"perms":"r-xu","global":true,"dirty":false,"pkey":0}
{"va":"0x7000","access":"r","cpl":0,"ok":true,"pa":"0xb000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":true,"dirty":false,"pkey":0}
EOF

# --- INVLPG and PCIDs: every PCID (default) or the current one -------------
# 0x5000 cached in PCID 1 and PCID 2, then remapped; INVLPG in PCID 1.
# Default (--invlpg all-pcids): PCID 2's entry for the page goes too.
# --invlpg current-pcid (the SDM's minimum): PCID 2's entry survives.
INVLPG_PCID_OPS="$X86_TABLES
r 0x5000                      # PCID 1: miss
mov-cr3 0x8000000000001002    # PCID 2, no flush
r 0x5000                      # PCID 2: miss
mov-cr3 0x8000000000001001    # back to PCID 1, no flush
$X86_REMAP
invlpg 0x5000
r 0x5000                      # PCID 1: miss, new 0x9000
mov-cr3 0x8000000000001002    # PCID 2, no flush
r 0x5000                      # PCID 2: see below"
invlpg_pcid_want() { # invlpg_pcid_want TLB PA: the expected lines
    cat <<EOF
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x5000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x5000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x9000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"$2","page_size":4096,"tlb":"$1","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
EOF
}
translate "${X86[@]}" --cr3 0x1001 --cr4 0x200a0 <<<"$INVLPG_PCID_OPS"
invlpg_pcid_want miss 0x9000 >"$tmp/pcid.want"
expect x86_invlpg_all_pcids_default <"$tmp/pcid.want"
translate "${X86[@]}" --cr3 0x1001 --cr4 0x200a0 --invlpg all-pcids \
    <<<"$INVLPG_PCID_OPS"
invlpg_pcid_want miss 0x9000 >"$tmp/pcid.want"
expect x86_invlpg_all_pcids <"$tmp/pcid.want"
translate "${X86[@]}" --cr3 0x1001 --cr4 0x200a0 --invlpg current-pcid \
    <<<"$INVLPG_PCID_OPS"
invlpg_pcid_want hit 0x5000 >"$tmp/pcid.want"
expect x86_invlpg_current_pcid <"$tmp/pcid.want"

# --- MOV CR3 without PCIDE; CR4.PGE toggles --------------------------------
# MOV CR3 flushes the non-global entries (PCID 0); global entries survive
# while CR4.PGE=1. MOV CR4 changing PGE flushes everything; with PGE=0, G
# is ignored (the access reports global:false) and MOV CR3 flushes the
# page like any other.
translate "${X86[@]}" --cr3 0x1000 --cr4 0xa0 <<EOF
$X86_TABLES
r 0x5000                      # miss
r 0x7000                      # miss (global)
$X86_REMAP
mov-cr3 0x1000                # same CR3 value: still a flush
r 0x5000                      # miss: new 0x9000
r 0x7000                      # hit: stale 0x7000
set cr3 0x1000                # set cr3 is the same MOV CR3
r 0x7000                      # hit: stale 0x7000
poke 0x4028 0xc007
set cr3 0x1000
r 0x5000                      # miss: new 0xc000
set cr4 0x20                  # PGE 1->0: flush everything
r 0x7000                      # miss: new 0xb000
poke 0x4038 0xd107
mov-cr3 0x1000                # PGE=0: the G entry is flushed too
r 0x7000                      # miss: new 0xd000
set cr4 0xa0                  # PGE 0->1: flush everything
r 0x7000                      # miss (a global entry again)
poke 0x4038 0xe107
r 0x7000                      # hit: stale 0xd000
set cr4 0x20                  # PGE 1->0: the global entry goes
r 0x7000                      # miss: new 0xe000
mov-cr3 0x8000000000001000    # PCIDE=0: bit 63 is reserved: #GP
EOF
expect x86_mov_cr3_pge <<'EOF'
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x5000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x7000","access":"r","cpl":0,"ok":true,"pa":"0x7000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":true,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x9000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x7000","access":"r","cpl":0,"ok":true,"pa":"0x7000","page_size":4096,"tlb":"hit","level":0,"perms":"r-xu","global":true,"dirty":false,"pkey":0}
{"va":"0x7000","access":"r","cpl":0,"ok":true,"pa":"0x7000","page_size":4096,"tlb":"hit","level":0,"perms":"r-xu","global":true,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0xc000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x7000","access":"r","cpl":0,"ok":true,"pa":"0xb000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x7000","access":"r","cpl":0,"ok":true,"pa":"0xd000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x7000","access":"r","cpl":0,"ok":true,"pa":"0xd000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":true,"dirty":false,"pkey":0}
{"va":"0x7000","access":"r","cpl":0,"ok":true,"pa":"0xd000","page_size":4096,"tlb":"hit","level":0,"perms":"r-xu","global":true,"dirty":false,"pkey":0}
{"va":"0x7000","access":"r","cpl":0,"ok":true,"pa":"0xe000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"op":"mov-cr3","ok":false,"vector":"GP","error_code":0}
EOF

# --- MOV CR3 with CR4.PCIDE=1: bit 63 (SDM 4.10.4.1) ------------------------
# PCID = CR3[11:0]; bit 63 set: no flush (and the bit is not stored); bit
# 63 clear: the new PCID's non-global entries go.
translate "${X86[@]}" --cr3 0x1001 --cr4 0x200a0 <<EOF
$X86_TABLES
r 0x5000                      # PCID 1: miss
r 0x7000                      # miss (global)
$X86_REMAP
r 0x5000                      # hit: stale 0x5000
mov-cr3 0x8000000000001001    # bit 63: no flush
r 0x5000                      # hit: stale 0x5000
mov-cr3 0x8000000000001002    # to PCID 2, no flush
r 0x5000                      # miss: PCID 2 has no entry -> 0x9000
r 0x7000                      # hit: a global entry matches any PCID -> stale 0x7000
mov-cr3 0x8000000000001001    # back to PCID 1, no flush
r 0x5000                      # hit: PCID 1's stale entry survived -> 0x5000
mov-cr3 0x1001                # bit 63 clear: flush PCID 1 (non-global)
r 0x5000                      # miss: new 0x9000
r 0x7000                      # hit: globals survive -> stale 0x7000
mov-cr3 0x8000000000001002    # PCID 2, no flush
r 0x5000                      # hit: PCID 2's entry survived the PCID 1 flush
poke 0x4028 0xc007
mov-cr3 0x1002                # flush PCID 2
r 0x5000                      # miss: new 0xc000
mov-cr3 0x8010000000001002    # bit 52 set, above MAXPHYADDR: #GP
EOF
expect x86_mov_cr3_pcid <<'EOF'
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x5000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x7000","access":"r","cpl":0,"ok":true,"pa":"0x7000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":true,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x5000","page_size":4096,"tlb":"hit","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x5000","page_size":4096,"tlb":"hit","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x9000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x7000","access":"r","cpl":0,"ok":true,"pa":"0x7000","page_size":4096,"tlb":"hit","level":0,"perms":"r-xu","global":true,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x5000","page_size":4096,"tlb":"hit","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x9000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x7000","access":"r","cpl":0,"ok":true,"pa":"0x7000","page_size":4096,"tlb":"hit","level":0,"perms":"r-xu","global":true,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x9000","page_size":4096,"tlb":"hit","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0xc000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"op":"mov-cr3","ok":false,"vector":"GP","error_code":0}
EOF

# --- INVPCID types 0-3 (SDM vol. 2, INVPCID; vol. 3A 4.10.4.1) ---------------
# Entries: PCID 1 for 0x5000 and 0x6000, PCID 2 for 0x5000, the global
# 0x7000; then all PTEs remapped so every entry is stale.
translate "${X86[@]}" --cr3 0x1001 --cr4 0x200a0 <<EOF
$X86_TABLES
r 0x5000                      # PCID 1: miss
r 0x6000                      # miss
r 0x7000                      # miss (global)
mov-cr3 0x8000000000001002
r 0x5000                      # PCID 2: miss
mov-cr3 0x8000000000001001
$X86_REMAP
invpcid 0 1 0x5000            # type 0: that address in PCID 1
r 0x5000                      # miss: new 0x9000
r 0x6000                      # hit: stale 0x6000
invpcid 0 1 0x7000            # type 0 leaves global entries
r 0x7000                      # hit: stale 0x7000
invpcid 0 2 0x6000            # another PCID's address: PCID 1 untouched
r 0x6000                      # hit: stale 0x6000
invpcid 1 2 0                 # type 1 for PCID 2: PCID 1 untouched
r 0x6000                      # hit: stale 0x6000
mov-cr3 0x8000000000001002
r 0x5000                      # miss: PCID 2's entry went -> 0x9000
mov-cr3 0x8000000000001001
invpcid 1 1 0                 # type 1 for PCID 1: its non-global entries
r 0x6000                      # miss: new 0xa000
r 0x7000                      # hit: globals survive type 1 -> stale 0x7000
poke 0x4028 0xc007            # 0x5000 -> 0xc000: PCID 1 and 2 both stale
invpcid 3 0 0                 # type 3: every PCID, globals kept
r 0x5000                      # miss: new 0xc000
r 0x7000                      # hit: stale 0x7000
mov-cr3 0x8000000000001002
r 0x5000                      # miss: PCID 2's entry went too -> 0xc000
invpcid 2 0 0                 # type 2: everything, globals included
r 0x7000                      # miss: new 0xb000
invpcid 4 0 0                 # type above 3: #GP
invpcid 0 0x1000 0x5000       # PCID above 0xfff: #GP
invpcid 2 0x1000 0            # descriptor bits 63:12 set, any type: #GP
invpcid 0 1 0x800000000000    # type 0, non-canonical address: #GP
invpcid 0 1 0xffff800000000000  # canonical: fine
EOF
expect x86_invpcid <<'EOF'
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x5000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x6000","access":"r","cpl":0,"ok":true,"pa":"0x6000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x7000","access":"r","cpl":0,"ok":true,"pa":"0x7000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":true,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x5000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x9000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x6000","access":"r","cpl":0,"ok":true,"pa":"0x6000","page_size":4096,"tlb":"hit","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x7000","access":"r","cpl":0,"ok":true,"pa":"0x7000","page_size":4096,"tlb":"hit","level":0,"perms":"r-xu","global":true,"dirty":false,"pkey":0}
{"va":"0x6000","access":"r","cpl":0,"ok":true,"pa":"0x6000","page_size":4096,"tlb":"hit","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x6000","access":"r","cpl":0,"ok":true,"pa":"0x6000","page_size":4096,"tlb":"hit","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x9000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x6000","access":"r","cpl":0,"ok":true,"pa":"0xa000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x7000","access":"r","cpl":0,"ok":true,"pa":"0x7000","page_size":4096,"tlb":"hit","level":0,"perms":"r-xu","global":true,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0xc000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x7000","access":"r","cpl":0,"ok":true,"pa":"0x7000","page_size":4096,"tlb":"hit","level":0,"perms":"r-xu","global":true,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0xc000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x7000","access":"r","cpl":0,"ok":true,"pa":"0xb000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":true,"dirty":false,"pkey":0}
{"op":"invpcid","ok":false,"vector":"GP","error_code":0}
{"op":"invpcid","ok":false,"vector":"GP","error_code":0}
{"op":"invpcid","ok":false,"vector":"GP","error_code":0}
{"op":"invpcid","ok":false,"vector":"GP","error_code":0}
EOF

# With CR4.PCIDE=0 only PCID 0 exists: types 0 and 1 with another PCID are
# #GP, types 2 and 3 do not look at it. The #GP needs no TLB.
translate --arch x86_64 --mem "$tmp/z.img" --cr0 0x80000001 --cr3 0x1000 \
    --cr4 0xa0 --efer 0x100 <<'EOF'
invpcid 0 1 0x5000
invpcid 1 1 0
invpcid 0 0 0x5000
invpcid 1 0 0
invpcid 2 0 0
invpcid 3 0 0
invpcid 5 0 0
EOF
expect x86_invpcid_no_pcide <<'EOF'
{"op":"invpcid","ok":false,"vector":"GP","error_code":0}
{"op":"invpcid","ok":false,"vector":"GP","error_code":0}
{"op":"invpcid","ok":false,"vector":"GP","error_code":0}
EOF

# --- a fault from a cached entry is a "hit" -----------------------------------
# A read-only entry stays cached after the PTE is made writable: the write
# faults from it (a spurious #PF, SDM 4.10.4.3) and the #PF drops the
# entry (4.10.4.2), so the retry walks and succeeds.
translate "${X86[@]}" --cr3 0x1000 --cr4 0xa0 <<EOF
$X86_TABLES
poke 0x4030 0x6005            # 0x6000 read-only
r 0x6000 3                    # miss
w 0x6000 3                    # hit: #PF 7, read-only
r 0x6000 3                    # miss: the #PF dropped the entry
poke 0x4030 0x6007            # writable now, no invalidation
w 0x6000 3                    # hit on the read-only entry: spurious #PF 7
w 0x6000 3                    # miss: walks, succeeds
w 0x6000 3                    # hit (D known set)
EOF
expect x86_fault_from_hit <<'EOF'
{"va":"0x6000","access":"r","cpl":3,"ok":true,"pa":"0x6000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x6000","access":"w","cpl":3,"ok":false,"vector":"PF","error_code":7,"cr2":"0x6000","tlb":"hit","level":0,"reason":"read_only"}
{"va":"0x6000","access":"r","cpl":3,"ok":true,"pa":"0x6000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x6000","access":"w","cpl":3,"ok":false,"vector":"PF","error_code":7,"cr2":"0x6000","tlb":"hit","level":0,"reason":"read_only"}
{"va":"0x6000","access":"w","cpl":3,"ok":true,"pa":"0x6000","page_size":4096,"tlb":"miss","level":0,"perms":"rwxu","global":false,"dirty":true,"pkey":0}
{"va":"0x6000","access":"w","cpl":3,"ok":true,"pa":"0x6000","page_size":4096,"tlb":"hit","level":0,"perms":"rwxu","global":false,"dirty":true,"pkey":0}
EOF

# --- RISC-V: SFENCE.VMA's four forms, satp writes ------------------------------
# Sv39 tables on the zeroed image: root 0x1000, 0x2000, leaf table 0x3000;
# 0x5000 -> 0x5000 and 0x6000 -> 0x6000 (V R W A D), 0x7000 -> 0x7000
# global (V R W G A D); leaf PTEs at 0x3028, 0x3030, 0x3038.
RV_TABLES='poke 0x1000 0x801
poke 0x2000 0xc01
poke 0x3028 0x14c7
poke 0x3030 0x18c7
poke 0x3038 0x1ce7'
# Remap (no fence): 0x9000, 0xa000, 0xb000 (still G).
RV_REMAP='poke 0x3028 0x24c7
poke 0x3030 0x28c7
poke 0x3038 0x2ce7'
SATP1=0x8000100000000001 # Sv39, ASID 1, root 0x1000
SATP2=0x8000200000000001 # ASID 2
RV=(--arch riscv64 --mem "$tmp/z.img" --satp "$SATP1" --tlb generic)

# The privileged spec: rs1=x0 fences every address, else only rs1's page;
# rs2=x0 fences every address space, global mappings included, else only
# that ASID's non-global mappings. Operands are registers: x0 is the
# register, a number the value a register holds (0 is a valid VA).
translate "${RV[@]}" <<EOF
$RV_TABLES
r 0x5000                      # ASID 1: miss
r 0x6000                      # miss
r 0x7000                      # miss (global)
set satp $SATP2               # csrw satp fences nothing
r 0x5000                      # ASID 2: miss
r 0x6000                      # ASID 2: miss
set satp $SATP1
$RV_REMAP
r 0x5000                      # hit: stale 0x5000 (satp writes did not fence)
sfence.vma 0 x0               # rs1 holds 0: fences VA 0 only
r 0x5000                      # hit: stale 0x5000
sfence.vma 0x5000 2           # VA in ASID 2: ASID 1 untouched
r 0x5000                      # hit: stale 0x5000
sfence.vma 0x7000 1           # VA in ASID 1: global mappings are not fenced
r 0x7000                      # hit: stale 0x7000
sfence.vma 0x5000 1           # VA in ASID 1
r 0x5000                      # miss: new 0x9000
r 0x6000                      # hit: stale 0x6000 (another page)
sfence.vma x0 1               # all of ASID 1, global mappings excepted
r 0x6000                      # miss: new 0xa000
r 0x7000                      # hit: global mappings survive an ASID fence
set satp $SATP2
r 0x6000                      # hit: ASID 2's entry survived ASID 1's fences
r 0x5000                      # miss: sfence.vma 0x5000 2 took it -> 0x9000
sfence.vma 0x7000 x0          # that page in every ASID, global included
r 0x7000                      # miss: new 0xb000
r 0x6000                      # hit: stale 0x6000 (another page)
sfence.vma 0x6000 x0
r 0x6000                      # miss: new 0xa000
poke 0x3028 0x30c7            # 0x5000 -> 0xc000
poke 0x3038 0x34e7            # 0x7000 -> 0xd000, G
r 0x5000                      # hit: stale 0x9000
r 0x7000                      # hit: stale 0xb000
sfence.vma x0 x0              # everything
r 0x5000                      # miss: new 0xc000
r 0x7000                      # miss: new 0xd000
EOF
expect rv_sfence_vma <<'EOF'
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x5000","page_size":4096,"tlb":"miss","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x6000","access":"r","priv":"s","ok":true,"pa":"0x6000","page_size":4096,"tlb":"miss","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x7000","access":"r","priv":"s","ok":true,"pa":"0x7000","page_size":4096,"tlb":"miss","level":0,"perms":"rw--","global":true,"dirty":true,"pbmt":0}
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x5000","page_size":4096,"tlb":"miss","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x6000","access":"r","priv":"s","ok":true,"pa":"0x6000","page_size":4096,"tlb":"miss","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x5000","page_size":4096,"tlb":"hit","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x5000","page_size":4096,"tlb":"hit","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x5000","page_size":4096,"tlb":"hit","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x7000","access":"r","priv":"s","ok":true,"pa":"0x7000","page_size":4096,"tlb":"hit","level":0,"perms":"rw--","global":true,"dirty":true,"pbmt":0}
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x9000","page_size":4096,"tlb":"miss","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x6000","access":"r","priv":"s","ok":true,"pa":"0x6000","page_size":4096,"tlb":"hit","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x6000","access":"r","priv":"s","ok":true,"pa":"0xa000","page_size":4096,"tlb":"miss","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x7000","access":"r","priv":"s","ok":true,"pa":"0x7000","page_size":4096,"tlb":"hit","level":0,"perms":"rw--","global":true,"dirty":true,"pbmt":0}
{"va":"0x6000","access":"r","priv":"s","ok":true,"pa":"0x6000","page_size":4096,"tlb":"hit","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x9000","page_size":4096,"tlb":"miss","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x7000","access":"r","priv":"s","ok":true,"pa":"0xb000","page_size":4096,"tlb":"miss","level":0,"perms":"rw--","global":true,"dirty":true,"pbmt":0}
{"va":"0x6000","access":"r","priv":"s","ok":true,"pa":"0x6000","page_size":4096,"tlb":"hit","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x6000","access":"r","priv":"s","ok":true,"pa":"0xa000","page_size":4096,"tlb":"miss","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x9000","page_size":4096,"tlb":"hit","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x7000","access":"r","priv":"s","ok":true,"pa":"0xb000","page_size":4096,"tlb":"hit","level":0,"perms":"rw--","global":true,"dirty":true,"pbmt":0}
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0xc000","page_size":4096,"tlb":"miss","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x7000","access":"r","priv":"s","ok":true,"pa":"0xd000","page_size":4096,"tlb":"miss","level":0,"perms":"rw--","global":true,"dirty":true,"pbmt":0}
EOF

# Omitted operands are x0, as in assembly: "sfence.vma VA" fences the page
# in every ASID, "sfence.vma" everything.
translate "${RV[@]}" <<EOF
$RV_TABLES
r 0x5000
r 0x7000
$RV_REMAP
sfence.vma 0x7000             # = sfence.vma 0x7000 x0: global included
r 0x7000                      # miss: new 0xb000
r 0x5000                      # hit: stale 0x5000
sfence.vma                    # = sfence.vma x0 x0
r 0x5000                      # miss: new 0x9000
EOF
expect rv_sfence_vma_short_forms <<'EOF'
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x5000","page_size":4096,"tlb":"miss","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x7000","access":"r","priv":"s","ok":true,"pa":"0x7000","page_size":4096,"tlb":"miss","level":0,"perms":"rw--","global":true,"dirty":true,"pbmt":0}
{"va":"0x7000","access":"r","priv":"s","ok":true,"pa":"0xb000","page_size":4096,"tlb":"miss","level":0,"perms":"rw--","global":true,"dirty":true,"pbmt":0}
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x5000","page_size":4096,"tlb":"hit","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x9000","page_size":4096,"tlb":"miss","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
EOF

# A satp write flushes nothing, even with a new root table and the same
# ASID: cached translations of the old tables keep being used. satp is
# WARL: a MODE the hart does not implement leaves it unchanged. A fault
# raised from a cached entry is a "hit".
translate "${RV[@]}" <<EOF
$RV_TABLES
poke 0x3030 0x18c3            # 0x6000: R only (V R A D)
r 0x5000                      # miss
r 0x6000                      # miss
set satp 0x8000100000000008   # same ASID, root 0x8000 (empty)
r 0x5000                      # hit: the old tables' translation
w 0x6000                      # hit: the cached entry has no W: cause 15
r 0x7000                      # miss: the walk of the empty root: cause 13
set satp 0x5000000000000000   # MODE 5 does not exist: ignored
r 0x5000                      # hit: still Sv39, ASID 1
sfence.vma x0 x0
r 0x5000                      # miss: the empty root: cause 13
set satp 0                    # Bare: no translation, not a TLB hit
r 0x5000
EOF
expect rv_satp_no_flush_warl <<'EOF'
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x5000","page_size":4096,"tlb":"miss","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x6000","access":"r","priv":"s","ok":true,"pa":"0x6000","page_size":4096,"tlb":"miss","level":0,"perms":"r---","global":false,"dirty":true,"pbmt":0}
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x5000","page_size":4096,"tlb":"hit","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x6000","access":"w","priv":"s","ok":false,"cause":15,"tval":"0x6000","tlb":"hit","level":0,"reason":"read_only"}
{"va":"0x7000","access":"r","priv":"s","ok":false,"cause":13,"tval":"0x7000","tlb":"miss","level":2,"reason":"not_present"}
{"op":"set","reg":"satp","ok":false,"reason":"warl_unsupported_mode"}
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x5000","page_size":4096,"tlb":"hit","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x5000","access":"r","priv":"s","ok":false,"cause":13,"tval":"0x5000","tlb":"miss","level":2,"reason":"not_present"}
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x5000","page_size":4096,"tlb":"miss","level":0,"perms":"rwxu","global":false,"dirty":true,"pbmt":0}
EOF

# The WARL write without a TLB: the same line, and satp keeps Sv39.
translate --arch riscv64 --mem "$tmp/z.img" --satp "$SATP1" <<EOF
$RV_TABLES
set satp 0x5000000000000000
r 0x5000
EOF
expect rv_satp_warl_no_tlb <<'EOF'
{"op":"set","reg":"satp","ok":false,"reason":"warl_unsupported_mode"}
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x5000","page_size":4096,"level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
EOF

# --- --stats: a hand-counted trace ------------------------------------------------
# x86 4-level, CR0.WP=0, PCIDE=0, preset "generic" (ITLB, DTLB, STLB; no
# paging-structure caches; no set ever fills up, so no evictions). The
# tables' A and D bits start clear. Every walk reads 4 entries.
#  op              ITLB     DTLB        STLB        walk / A-D / fault
#  1 r 0x5000      -        L M F       L M F       walk 1, A x4 (PML4E,
#                                                   PDPTE, PDE, PTE)
#  2 r 0x5000      -        L H         -           -
#  3 w 0x5000      -        L H, D not  F           walk 2, D on the PTE
#                           known: walk
#                           and F
#  4 x 0x5000      L M F    -           L H         - (STLB hit refills
#                                                   the ITLB)
#  5 poke PTE -> 0x9000 (A=0)
#  6 r 0x5000      -        L H (stale) -           -
#  7 invlpg 0x5000 flush, 1 inv  flush, 1 inv  flush, 1 inv
#  8 r 0x5000      -        L M F       L M F       walk 3, A on the PTE
#  9 r 0x6000 3    -        L M F       L M F       walk 4, A on the PTE
# 10 poke PTE 0x6000 writable
# 11 w 0x6000 3    -        L H: #PF    -           fault 1 (from the
#                           (drops it)              cached read-only entry)
# 12 w 0x6000 3    -        L M F       L M F       walk 5, A+D (one
#                                                   write)
# 13 r 0x800000000000  non-canonical #GP, no lookup fault 2
# 14 r 0x8000      -        L M         L M         walk 6, PTE P=0: fault 3
# 15 mov-cr3 0x1000 flush   flush, 2 inv  flush, 2 inv  (0x5000, 0x6000)
# 16 r 0x5000      -        L M F       L M F       walk 7
# ITLB: lookups 1, hits 0, misses 1, fills 1, flushes 2, invalidated 1.
# DTLB: lookups 10 (1 2 3 6 8 9 11 12 14 16), hits 4 (2 3 6 11),
#       misses 6, fills 6 (1 3 8 9 12 16), flushes 2, invalidated 3.
# STLB: lookups 7 (1 4 8 9 12 14 16), hits 1 (4), misses 6,
#       fills 6 (1 3 8 9 12 16), flushes 2, invalidated 3.
# walks 7, walk_reads 28, ad_writes 4+1+1+1+1 = 8, faults 3.
cat >"$tmp/stats.ops" <<EOF
$X86_TABLES
poke 0x4030 0x6005            # 0x6000: read-only
r 0x5000
r 0x5000
w 0x5000
x 0x5000
poke 0x4028 0x9007
r 0x5000
invlpg 0x5000
r 0x5000
r 0x6000 3
poke 0x4030 0x6007
w 0x6000 3
w 0x6000 3
r 0x800000000000
r 0x8000
mov-cr3 0x1000
r 0x5000
EOF
translate "${X86[@]}" --cr3 0x1000 --cr4 0xa0 --stats "$tmp/stats.ops"
expect x86_stats_trace <<'EOF'
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x5000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x5000","page_size":4096,"tlb":"hit","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x5000","access":"w","cpl":0,"ok":true,"pa":"0x5000","page_size":4096,"tlb":"miss","level":0,"perms":"rwxu","global":false,"dirty":true,"pkey":0}
{"va":"0x5000","access":"x","cpl":0,"ok":true,"pa":"0x5000","page_size":4096,"tlb":"hit","level":0,"perms":"rwxu","global":false,"dirty":true,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x5000","page_size":4096,"tlb":"hit","level":0,"perms":"rwxu","global":false,"dirty":true,"pkey":0}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x9000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x6000","access":"r","cpl":3,"ok":true,"pa":"0x6000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"va":"0x6000","access":"w","cpl":3,"ok":false,"vector":"PF","error_code":7,"cr2":"0x6000","tlb":"hit","level":0,"reason":"read_only"}
{"va":"0x6000","access":"w","cpl":3,"ok":true,"pa":"0x6000","page_size":4096,"tlb":"miss","level":0,"perms":"rwxu","global":false,"dirty":true,"pkey":0}
{"va":"0x800000000000","access":"r","cpl":0,"ok":false,"vector":"GP","error_code":0,"tlb":"miss","reason":"noncanonical"}
{"va":"0x8000","access":"r","cpl":0,"ok":false,"vector":"PF","error_code":0,"cr2":"0x8000","tlb":"miss","level":0,"reason":"not_present"}
{"va":"0x5000","access":"r","cpl":0,"ok":true,"pa":"0x9000","page_size":4096,"tlb":"miss","level":0,"perms":"r-xu","global":false,"dirty":false,"pkey":0}
{"stats":{"tlb":"generic","itlb":{"lookups":1,"hits":0,"misses":1,"fills":1,"evictions":0,"flushes":2,"invalidated":1},"dtlb":{"lookups":10,"hits":4,"misses":6,"fills":6,"evictions":0,"flushes":2,"invalidated":3},"stlb":{"lookups":7,"hits":1,"misses":6,"fills":6,"evictions":0,"flushes":2,"invalidated":3},"walks":7,"walk_reads":28,"ad_writes":8,"faults":3}}
EOF

# The same ops without a TLB: --stats has only the walk counters. Every
# access but the non-canonical one walks (11 walks, 44 reads); A-D writes:
# op 1 x4, op 3 D, op 6 A (the poked PTE), op 9 A, op 11 A+D (no stale
# entry now: the write succeeds) = 8; faults: ops 13 and 14 = 2.
translate --arch x86_64 --mem "$tmp/z.img" --cr0 0x80000001 --efer 0x100 \
    --cr3 0x1000 --cr4 0xa0 --stats "$tmp/stats.ops"
tail -n 1 "$tmp/got" >"$tmp/last"
mv "$tmp/last" "$tmp/got"
expect x86_stats_no_tlb <<'EOF'
{"stats":{"walks":11,"walk_reads":44,"ad_writes":8,"faults":2}}
EOF

# A preset without a second level prints no "stlb"; each structure keeps
# its own counters. RISC-V Sv39 (3 reads per walk; A and D preset).
translate --arch riscv64 --mem "$tmp/z.img" --satp "$SATP1" --tlb u54 \
    --stats <<EOF
$RV_TABLES
r 0x5000                      # DTLB miss, walk 1
x 0x5000                      # ITLB miss, walk 2: X=0, cause 12
r 0x5000                      # DTLB hit
sfence.vma                    # flush both, 1 DTLB entry invalidated
EOF
expect rv_stats_u54 <<'EOF'
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x5000","page_size":4096,"tlb":"miss","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x5000","access":"x","priv":"s","ok":false,"cause":12,"tval":"0x5000","tlb":"miss","level":0,"reason":"not_executable"}
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x5000","page_size":4096,"tlb":"hit","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"stats":{"tlb":"u54","itlb":{"lookups":1,"hits":0,"misses":1,"fills":0,"evictions":0,"flushes":1,"invalidated":0},"dtlb":{"lookups":2,"hits":1,"misses":1,"fills":1,"evictions":0,"flushes":1,"invalidated":1},"walks":2,"walk_reads":6,"ad_writes":0,"faults":1}}
EOF

# Every preset builds and translates.
for preset in generic skylake u54 gem5; do
    translate --arch riscv64 --mem "$tmp/z.img" --satp "$SATP1" \
        --tlb "$preset" <<EOF
$RV_TABLES
r 0x5000
r 0x5000
EOF
    expect "preset_$preset" <<'EOF'
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x5000","page_size":4096,"tlb":"miss","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
{"va":"0x5000","access":"r","priv":"s","ok":true,"pa":"0x5000","page_size":4096,"tlb":"hit","level":0,"perms":"rw--","global":false,"dirty":true,"pbmt":0}
EOF
done

# --- garbage tables, random ops: results, never a crash ------------------------------
# 16 KiB of pseudo-random entries (fixed seed) that point inside those
# 16 KiB and are mostly present, and 400 pseudo-random accesses, pokes and
# invalidations, per architecture and preset: every access prints one
# well-formed line with a "tlb" key, the run ends normally (the sanitizer
# build catches the rest), and there are hits, misses and faults.
# No $(...) below: a subshell would reseed RANDOM.
RANDOM=77
entry() { # entry x86|rv: E = a random entry (x86: no PS; RISC-V: leaf or not)
    E=$(((RANDOM % 4) << 12))
    if [ "$1" = x86 ]; then
        E=$((E | RANDOM % 128 | (RANDOM % 8 != 0) | (RANDOM % 4 == 0) << 8))
    else
        E=$((E >> 2 | (RANDOM % 8 != 0)))
        ((RANDOM % 2)) || E=$((E | 2 | (RANDOM % 64) << 2))
    fi
}
garbage_ops() { # garbage_ops x86|rv
    local i va acc=(r w x)
    for ((i = 0; i < 2048; i++)); do
        entry "$1"
        printf 'poke 0x%x 0x%x\n' $((i * 8)) "$E"
    done
    for ((i = 0; i < 400; i++)); do
        printf -v va '0x%x' $(((RANDOM % 4) << 30 | (RANDOM % 4) << 21 |
            (RANDOM % 16) << 12 | RANDOM % 4096))
        case $((RANDOM % 8)) in
        0) entry "$1" && printf 'poke 0x%x 0x%x\n' $((RANDOM % 2048 * 8)) "$E" ;;
        1) if [ "$1" = x86 ]; then
            printf 'invlpg %s\ninvpcid %d %d %s\n' "$va" $((RANDOM % 5)) \
                $((RANDOM % 3)) "$va"
        else
            printf 'sfence.vma %s %s\n' "$va" $((RANDOM % 3))
        fi ;;
        2) if [ "$1" = x86 ]; then
            printf 'mov-cr3 0x%x\n' $((RANDOM % 2 << 63 | 0x1000 | RANDOM % 3))
        else
            printf 'set satp 0x800%d000000000001\nsfence.vma x0 %d\n' \
                $((RANDOM % 3)) $((RANDOM % 3))
        fi ;;
        *) printf '%s %s\n' "${acc[RANDOM % 3]}" "$va" ;;
        esac
    done
}
garbage_ops x86 >"$tmp/gx86.ops"
garbage_ops rv >"$tmp/grv.ops"
nx86=$(grep -cE '^[rwx] ' "$tmp/gx86.ops")
nrv=$(grep -cE '^[rwx] ' "$tmp/grv.ops")
well_formed='^\{"va":"0x[0-9a-f]+","access":"[rwx]","(cpl|priv)":("?[0-9a-z]"?),"ok":(true,"pa":"0x[0-9a-f]+","page_size":[0-9]+,"tlb":"(hit|miss)"|false,.*"tlb":"(hit|miss)")'
# garbage_check NAME COUNT: $tmp/got has COUNT well-formed access lines,
# some of each kind.
garbage_check() {
    local n
    n=$(grep -cE "$well_formed" "$tmp/got" || true)
    [ "$n" -eq "$2" ] || fail "garbage $1: $n well-formed lines of $2"
    for re in '"tlb":"hit"' '"tlb":"miss"' '"ok":true' '"ok":false' \
        '^\{"stats":'; do
        grep -qE "$re" "$tmp/got" || fail "garbage $1: no line has $re"
    done
    checks=$((checks + 1))
}
for preset in generic skylake u54 gem5; do
    translate --arch x86_64 --mem "$tmp/z.img" --cr0 0x80010001 \
        --cr3 0x1001 --cr4 0x3200a0 --efer 0xd00 --tlb "$preset" --stats \
        "$tmp/gx86.ops"
    garbage_check "x86_$preset" "$nx86"
    translate --arch riscv64 --mem "$tmp/z.img" --satp "$SATP1" \
        --ext svnapot,svadu --menvcfg 0x2000000000000000 --tlb "$preset" \
        --stats "$tmp/grv.ops"
    garbage_check "riscv_$preset" "$nrv"
done

# --- user errors: exit 2, one line on stderr ----------------------------------------
: >"$tmp/ops"
XA=(translate --arch i386 --mem "$tmp/z.img" --cr0 0 --cr3 0x1000 --cr4 0
    --efer 0)
RA=(translate --arch riscv32 --mem "$tmp/z.img" --satp 0)
error unknown_preset "^mmuemu translate: --tlb: unknown preset 'haswell' \(want generic, skylake, u54, gem5 or off\)$" \
    "${XA[@]}" --tlb haswell
error tlb_no_value 'option --tlb needs a value' "${XA[@]}" --tlb
error tlb_twice 'option --tlb given twice' "${XA[@]}" --tlb off --tlb generic
error stats_value 'option --stats takes no value' "${XA[@]}" --stats=1
error stats_twice 'option --stats given twice' "${XA[@]}" --stats --stats
error invlpg_scope "^mmuemu translate: --invlpg: unknown scope 'all' \(want all-pcids or current-pcid\)$" \
    "${XA[@]}" --tlb generic --invlpg all
error invlpg_no_tlb '^mmuemu translate: --invlpg needs a TLB \(--tlb PRESET\)$' \
    "${XA[@]}" --invlpg current-pcid
error invlpg_on_rv '^mmuemu translate: --invlpg is not an option of --arch riscv32$' \
    "${RA[@]}" --tlb generic --invlpg current-pcid
"$MMUEMU" translate --help | grep -q -- '--tlb PRESET|off' || fail "--help"
checks=$((checks + 1))

# ops_error NAME REGEX OPS-LINE ARGS...: the line (line 2, after a comment)
# is refused with a message naming it.
ops_error() {
    local name=$1 re=$2
    printf '# first\n%s\n' "$3" >"$tmp/ops"
    shift 3
    error "$name" "^mmuemu translate: stdin line 2: $re" "$@" -
}
ops_error invlpg_on_rv "'invlpg' is an x86 op" 'invlpg 0x1000' "${RA[@]}"
ops_error invpcid_on_rv "'invpcid' is an x86 op" 'invpcid 0 0 0' "${RA[@]}"
ops_error mov_cr3_on_rv "'mov-cr3' is an x86 op" 'mov-cr3 0' "${RA[@]}"
ops_error sfence_on_x86 "'sfence.vma' is a RISC-V op" 'sfence.vma' "${XA[@]}"
ops_error unknown_op_x86 "unknown op 'frob' \(want r, w, x, poke, set, mov-cr3, invlpg or invpcid\)" \
    'frob' "${XA[@]}"
ops_error unknown_op_rv "unknown op 'invlpga' \(want r, w, x, poke, set or sfence.vma\)" \
    'invlpga 0' "${RA[@]}"
ops_error invlpg_no_va 'usage: invlpg VA' 'invlpg' "${XA[@]}"
ops_error invlpg_two 'usage: invlpg VA' 'invlpg 1 2' "${XA[@]}"
ops_error invlpg_bad_va "bad virtual address 'q'" 'invlpg q' "${XA[@]}"
ops_error invlpg_wide 'virtual address 0x100000000 does not fit 32 bits' \
    'invlpg 0x100000000' "${XA[@]}"
ops_error invpcid_short 'usage: invpcid TYPE PCID VA' 'invpcid 0 1' "${XA[@]}"
ops_error invpcid_bad_type "bad INVPCID type 'all'" 'invpcid all 0 0' \
    "${XA[@]}"
ops_error invpcid_bad_pcid "bad PCID '-1'" 'invpcid 0 -1 0' "${XA[@]}"
ops_error invpcid_bad_va "bad virtual address 'x'" 'invpcid 0 0 x' "${XA[@]}"
ops_error mov_cr3_none 'usage: mov-cr3 VALUE' 'mov-cr3' "${XA[@]}"
ops_error mov_cr3_bad "bad value '1x'" 'mov-cr3 1x' "${XA[@]}"
ops_error mov_cr3_wide 'cr3 0x100000000: .*32-bit' 'mov-cr3 0x100000000' \
    "${XA[@]}"
ops_error sfence_three 'usage: sfence.vma \[VA\|x0 \[ASID\|x0\]\]' \
    'sfence.vma 1 2 3' "${RA[@]}"
ops_error sfence_bad_reg "bad virtual address 'x1' \(want a number or x0\)" \
    'sfence.vma x1 x0' "${RA[@]}"
ops_error sfence_bad_asid "bad ASID 'zero' \(want a number or x0\)" \
    'sfence.vma x0 zero' "${RA[@]}"
ops_error sfence_wide_va 'virtual address 0x100000000 does not fit the 32-bit register' \
    'sfence.vma 0x100000000 x0' "${RA[@]}"
ops_error sfence_wide_asid 'ASID 0x100000000 does not fit the 32-bit register' \
    'sfence.vma x0 0x100000000' "${RA[@]}"
# On the command line an unsupported satp MODE is still refused.
error cmdline_satp_mode 'satp.MODE is not Bare' translate --arch riscv64 \
    --mem "$tmp/z.img" --satp 0x5000000000000000 --tlb generic

echo "translate_tlb: $checks checks passed"
