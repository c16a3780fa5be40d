# for, while, until; break and continue; nested loops; loop output piped.
for i in a b c; do echo "for $i"; done
i=0
while [ $i -lt 5 ]; do i=$((i + 1)); [ $i -eq 2 ] && continue; echo "while $i"; done
until [ $i -eq 0 ]; do i=$((i - 1)); [ $i -eq 1 ] && break; done
echo "until stopped at $i"
for a in 1 2; do for b in x y; do echo "$a$b"; done; done | tr '\n' ' '
echo
for w in $(seq 1 5); do echo $w; done | sort -r | head -n 2
sum=0
for n in $(seq 1 100); do sum=$((sum + n)); done
echo "sum $sum"
