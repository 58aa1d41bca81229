#!/usr/bin/env bash
# Installs the Debian packages bridle needs (idempotent: does nothing when all are present).
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build ccache pkg-config git
  libsqlite3-dev sqlite3 libplist-dev libssl-dev nlohmann-json3-dev
  libarchive-dev libzip-dev zlib1g-dev libcli11-dev libfmt-dev libpsl-dev
  libcurl4-openssl-dev libyaml-cpp-dev libpq-dev libpqxx-dev libsimdjson-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev lld python3 time postgresql
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
