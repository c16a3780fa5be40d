# case patterns and functions (arguments, return status, recursion, local).
kind() {
    case "$1" in
    [0-9]*) echo "$1: number" ;;
    *.txt | *.md) echo "$1: text" ;;
    ?) echo "$1: one char" ;;
    "") echo "empty" ;;
    *) echo "$1: other" ;;
    esac
}
for a in 42 notes.txt x "" hello; do kind "$a"; done
fact() {
    if [ "$1" -le 1 ]; then echo 1; return; fi
    echo $(($1 * $(fact $(($1 - 1)))))
}
echo "10! = $(fact 10)"
check() { return "$1"; }
check 3; echo "return $?"
count() { echo "$# args: $*"; shift; echo "after shift: $1"; }
count a "b c" d
scope() { local v=local; echo "$v"; }
v=global; scope; echo "$v"
