# Background jobs with &: wait for one, for all, their statuses.
(echo bg1 > b1) &
(echo bg2 > b2) &
wait
cat b1 b2
sleep 0.1 &
p=$!
wait $p
echo "sleep status $?"
(exit 7) &
wait $!
echo "subshell status $?"
sh -c 'exit 9' &
wait $!
echo "sh status $?"
for i in 1 2 3; do (echo "job $i" > j$i) & done
wait
cat j1 j2 j3
