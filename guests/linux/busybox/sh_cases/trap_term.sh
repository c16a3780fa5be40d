# trap on TERM sent to the shell itself, and the EXIT trap.
# status: 9
trap 'echo exit trap' EXIT
trap 'echo caught TERM; exit 9' TERM
echo before
kill -TERM $$
echo not reached
