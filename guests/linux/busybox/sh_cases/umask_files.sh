# umask and the modes of created files and directories.
umask
umask 027
umask
touch f
mkdir d
ls -ld f d | cut -c1-10
umask 0
echo x > g
ls -l g | cut -c1-10
umask -S
