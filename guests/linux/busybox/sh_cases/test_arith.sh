# test / [ and arithmetic expansion.
[ 3 -lt 5 ] && echo "3 < 5"
[ abc = abc ] && echo "strings equal"
[ -z "" ] && [ -n x ] && echo "-z and -n"
touch file; mkdir dir
[ -f file ] && [ -d dir ] && [ ! -e missing ] && echo "-f -d ! -e"
test 10 -ge 10 -a 2 -ne 3 && echo "-a"
[ "$(echo x)" != y ] && echo "!="
echo $((7 * 6)) $((17 % 5)) $((2 - 9)) $((1 << 10)) $((0x1f)) $((010))
i=5
echo $((i += 3)) $((i > 7 ? 1 : 0)) $(( (i + 2) * 3 / 2 ))
echo $((-7 / 2)) $((-7 % 2)) $((5 & 3)) $((5 | 3)) $((5 ^ 3))
