# Pipelines of two to four stages, each stage a separate process.
echo hello world | wc -c
seq 1 50 | tr 0-9 a-j | sort | head -n 4
seq 1 300 | sort -n -r | tail -n 3 | tr '\n' ,
echo
seq 1 1000 | grep 7 | wc -l
printf 'b\na\nc\na\nb\n' | sort | uniq -c | sort -r -n
seq 10 | tr -d '\n' | od -c | head -n 1
