# read loops from pipes, files and with IFS.
printf 'a 1\nb 2\nc 3\n' | while read k v; do echo "$v=$k"; done
printf 'root:x:0\nuser:y:1000\n' > pw
while IFS=: read name pass id; do echo "$name has $id"; done < pw
n=0
while read line; do n=$((n + 1)); done < pw
echo "$n lines"
echo "one two three" | { read first rest; echo "[$first] [$rest]"; }
read -r raw <<'EOT'
back\slash
EOT
echo "$raw"
seq 1 5 | while read i; do [ $((i % 2)) -eq 0 ] && echo "even $i"; done
echo done
