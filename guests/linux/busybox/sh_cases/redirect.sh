# Redirections to files in the scratch directory.
echo first > out
echo second >> out
cat out
wc -l < out
{ echo g1; echo g2; } > grp
cat grp
ls nonexistent 2> err > /dev/null
echo "ls status $?, err lines $(wc -l < err)"
echo both 2>&1 > both.txt
cat both.txt
cat < out > copy
cmp out copy && echo copy same
echo data > f; : > f; echo "truncated size $(wc -c < f)"
sort <<EOT > sorted
c
a
b
EOT
cat sorted
printf 'no newline' > nn; cat nn; echo
