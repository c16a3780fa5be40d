# Counting with ls and wc in a directory the script builds.
mkdir -p tree/a tree/b/c
touch tree/a/1 tree/a/2 tree/b/3 tree/b/c/4 tree/.hidden
echo $(ls tree | wc -l)
echo $(ls -a tree | wc -l)
echo $(ls -R tree | grep -c .)
ls tree/a tree/b
echo "files: $(find tree -type f | wc -l)"
[ "$(ls / | wc -l)" -eq "$(ls -1 / | wc -l)" ] && echo "ls / stable"
