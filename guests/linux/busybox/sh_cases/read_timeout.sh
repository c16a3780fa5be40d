# read -t (poll with a timeout: data in time, end of file, a timeout while
# the writer still sleeps) and touch (utimensat: new files, -d, -r, -c).
read -t 1 x; echo "eof rc=$? [$x]"
(sleep 1; echo in-time) | { read -t 5 x; echo "rc=$? [$x]"; }
(sleep 2; echo late) | { read -t 1 x; echo "timeout rc=$? [$x]"; }
touch a b
ls
touch -d '2001-02-03 04:05:06' a
date -r a '+%Y-%m-%d %H:%M:%S'
touch -r a b
date -r b '+%Y-%m-%d %H:%M:%S'
touch -c missing
ls
echo done
