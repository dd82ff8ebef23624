#!/bin/sh
# Prints the Debian version of this commit, from git tags: a commit tagged
# v1.2.0 is 1.2.0; the 5th commit after it is 1.2.0+5.g1a2b3c4d, which dpkg
# sorts above 1.2.0 and below 1.2.0+6.g…; with no tag at all the base is
# 0.0.0 and the count is every commit, so versions still only go up.
set -eu
cd "$(dirname "$0")/../.."
if desc=$(git describe --tags --long --match 'v[0-9]*' --abbrev=8 2>/dev/null); then
	base=${desc%-*-g*}
	rest=${desc#"$base"-}
	n=${rest%%-*}
	hash=${rest#*-g}
	base=${base#v}
else
	base=0.0.0
	n=$(git rev-list --count HEAD)
	hash=$(git rev-parse --short=8 HEAD)
fi
if [ "$n" = 0 ]; then
	echo "$base"
else
	echo "$base+$n.g$hash"
fi
