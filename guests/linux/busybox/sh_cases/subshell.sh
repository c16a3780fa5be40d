# Subshells: their own variables, cwd, exit status, and output in order.
# tlb: generic
x=outer
(x=inner; echo "in: $x")
echo "out: $x"
for i in 1 2 3; do (echo $i) ; done | tr 1 x
(exit 4)
echo "subshell status $?"
mkdir -p d/e
(cd d/e && pwd | sed 's,.*/,,')
pwd | sed 's,.*/,,' | grep -c '^e$'
( (echo deep; (echo deeper)) | tr a-z A-Z )
{ echo group1; echo group2; } | wc -l
(trap 'echo sub exit' EXIT; echo body)
