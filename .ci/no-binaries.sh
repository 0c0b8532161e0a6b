#!/usr/bin/env bash
# Fails if git tracks an executable: an ELF, Mach-O or PE file, told by its
# first bytes, whatever its name or mode. Build outputs belong in bin/ and
# dist/, which git ignores.
set -euo pipefail
cd "$(dirname "$0")/.."
found=0
while IFS= read -r -d '' f; do
	[ -f "$f" ] || continue
	magic=$(head -c 4 -- "$f" | od -An -tx1 | tr -d ' \n')
	case "$magic" in
	7f454c46) kind=ELF ;;
	feedface | feedfacf | cefaedfe | cffaedfe | cafebabe) kind=Mach-O ;;
	4d5a*) kind=PE ;;
	*) continue ;;
	esac
	echo "tracked executable ($kind): $f — remove it with git rm --cached, and build into bin/" >&2
	found=1
done < <(git ls-files -z)
exit $found
