#!/usr/bin/env bash
# One command from a fresh Debian 12 machine: install packages, build, and run a real check
# on the bundled demo backup (demo/ios_backup, made by build/bridle-fixtures).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
echo
echo "== Demo: bridle ios check-backup demo/ios_backup -i demo/demo.stix2 -o build/demo-results"
set +e
build/bridle ios check-backup demo/ios_backup -i demo/demo.stix2 -o build/demo-results
rc=$?
set -e
echo
echo "Demo finished with exit code $rc (1 = the planted demo infection was found, as expected)."
[ "$rc" -eq 1 ]
