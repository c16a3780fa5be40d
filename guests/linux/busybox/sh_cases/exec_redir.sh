# exec with redirections: new descriptors, saving and restoring stdout.
exec 3> log
echo "to fd 3" >&3
echo "again" >&3
exec 3>&-
cat log
exec 4< log
read line <&4
echo "read from fd 4: $line"
exec 4<&-
exec 5>&1
exec > redirected
echo "this goes to the file"
exec 1>&5 5>&-
echo "stdout restored"
cat redirected
(exec sh -c 'echo "exec replaced the subshell"')
(exec > sub.txt; echo "subshell stdout"); cat sub.txt
