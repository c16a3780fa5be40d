# xargs running applets that fork and exec (wc, sh), and its exit codes.
# tlb: generic
for i in 1 2 3 4 5 6 7; do seq $i > f$i; done
ls f* | xargs -n 3 wc -l
seq 1 12 | xargs -n 4 echo line
seq 1 4 | xargs -I{} sh -c 'echo item {}'
printf 'x\ny\nz\n' | xargs sh -c 'echo "$# args: $*"' sh
echo f1 f2 f3 f4 f5 | xargs -n 2 wc -w
echo x | xargs sh -c 'exit 1'
echo "status $?"
echo x | xargs sh -c 'exit 255' 2>/dev/null
echo "status $?"
