# Command substitution, nested and with pipelines inside; its status.
# tlb: generic
echo "$(echo one)"
echo $(echo a $(echo b $(echo c $(echo d))))
echo "`echo back` `echo ticks`"
n=$(seq 1 9 | wc -l)
echo "n=$n"
echo $(ls / | wc -l) > count
[ "$(cat count)" -gt 0 ] && echo "ls / has entries"
glob=0
for f in /*; do glob=$((glob + 1)); done
[ "$(cat count)" -eq "$glob" ] && echo "ls / count equals the glob's"
x=$(seq 3 | tr '\n' ' ')
echo "[$x]"
y=$(exit 5)
echo "status $?"
echo "$(printf 'trailing\n\n\n')|"
echo "len ${#x} $(echo "$(echo "$(echo quoted   spaces)")")"
