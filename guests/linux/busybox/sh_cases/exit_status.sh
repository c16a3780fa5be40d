# $? after builtins, applets, pipelines, negation; the script's own exit.
# status: 3
true; echo "true $?"
false; echo "false $?"
! true; echo "not true $?"
! false; echo "not false $?"
sh -c 'exit 3'; echo "sh exit 3: $?"
false | true; echo "false|true $?"
true | false; echo "true|false $?"
nonexistent_cmd 2>/dev/null; echo "not found $?"
test 1 -eq 2; echo "test $?"
false && echo never || echo "or branch $?"
if false; then :; else echo "else $?"; fi
exit 3
