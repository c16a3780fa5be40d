# A script file run with sh and arguments, sourced with ., and $#/$@ of
# this script itself.
# args: alpha "beta gamma" delta
echo "this script: $# args, first $1"
for a in "$@"; do echo "arg <$a>"; done
cat > child.sh <<'EOT'
echo "child: $# args"
for a in "$@"; do echo "child arg <$a>"; done
exit $#
EOT
sh child.sh one "two three"
echo "child status $?"
echo 'greet() { echo "hello $1"; }; LIBVAR=set' > lib.sh
. ./lib.sh
greet sourced
echo "LIBVAR=$LIBVAR"
sh -c 'echo "sh -c: $1 $2"' zero first second
