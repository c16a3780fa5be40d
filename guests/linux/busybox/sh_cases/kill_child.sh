# kill of a background child: default actions give 128 + signal.
sleep 5 &
kill $!
wait $!
echo "TERM $?"
sleep 5 &
kill -KILL $!
wait $!
echo "KILL $?"
sleep 5 &
p=$!
kill -0 $p && echo "kill -0 finds it"
kill -USR1 $p
wait $p
echo "USR1 $?"
kill -0 $p 2>/dev/null || echo "kill -0 after wait: status $?"
