# Here-documents: expanded, quoted (literal), tab-stripped, into loops and
# functions.
name=world
cat <<EOT
hello $name
sum $((2 + 3))
sub $(echo nested)
EOT
cat <<'EOT'
literal $name $(not run)
EOT
cat <<-EOT
	tabs stripped
		both
	EOT
while read a b; do echo "$b-$a"; done <<EOT
1 one
2 two
EOT
upper() { tr a-z A-Z; }
upper <<EOT
through a function
EOT
wc -l <<EOT
a
b
c
EOT
