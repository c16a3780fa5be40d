# The environment: export, env (busybox has no printenv applet here),
# unset, per-command assignments, env -i.
export GREETING=hi
sh -c 'echo "child sees $GREETING"'
NOT_EXPORTED=x
sh -c 'echo "child sees [${NOT_EXPORTED}]"'
FOO=bar env | grep '^FOO='
env A=1 B=2 sh -c 'echo "A=$A B=$B"'
env | grep -v '^PATH=' | sed 's,^PWD=/.*/scratch\.[^/]*$,PWD=(the scratch dir),' | sort
env -i PATH="$PATH" C=3 env | grep -v '^PATH=' | sort
env -u GREETING env | grep -c GREETING
unset GREETING
env | grep GREETING || echo "unset: grep status $?"
[ "$(env | grep -c '^PATH=')" -eq 1 ] && echo "PATH exported once"
