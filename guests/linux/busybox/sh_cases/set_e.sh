# set -e: a failing simple command ends the script with its status;
# conditions and || do not.
# status: 1
set -e
if false; then echo no; fi
false || echo "or handled"
! true
echo "still running"
x=$(true)
false
echo "not reached"
