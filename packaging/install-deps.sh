#!/usr/bin/env bash
# Installs every build and run dependency of Continua from Debian 12's archive, and nothing from anywhere else.
# Idempotent: packages already installed are skipped, and a machine with all of them makes no apt call at all.
# Needs root or sudo. Usage: packaging/install-deps.sh [--headless]   (--headless: no Qt, no Xvfb)
set -euo pipefail

engine_pkgs=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev            # LibTorch 1.13 (CPU)
  libgloo-dev             # Gloo's headers, which LibTorch's c10d process group needs (run --distributed)
  libopenblas0-openmp     # without it LibTorch's matmuls use the reference BLAS, ~25-40x slower
  libsqlite3-dev sqlite3
  nlohmann-json3-dev libcli11-dev libstb-dev
  fonts-dejavu-core       # the text of `continua-cli report`'s figures (a coarse built-in font without it)
  clang libclang-rt-14-dev  # the experiment-parser fuzz test (libFuzzer, ASan, UBSan)
)
gui_pkgs=(
  qt6-base-dev qt6-svg-dev libqcustomplot-dev libgl-dev
  xvfb xauth              # the GUI tests and the quick start's headless detection run under Xvfb
)

# For packages only (man pages from --help), the package test's checkers and the Slurm test. Wanted, not
# required: where they cannot be installed, the build still works and those tests report themselves skipped.
package_pkgs=(help2man lintian desktop-file-utils appstream
  slurmctld slurmd slurm-client)  # the Slurm sweep test starts its own single-node cluster (skipped without)

pkgs=("${engine_pkgs[@]}")
[ "${1:-}" = "--headless" ] || pkgs+=("${gui_pkgs[@]}")

not_installed() { for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"; done; }
mapfile -t missing < <(not_installed "${pkgs[@]}")
mapfile -t missing_wanted < <(not_installed "${package_pkgs[@]}")
if [ ${#missing[@]} -eq 0 ] && [ ${#missing_wanted[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]} ${missing_wanted[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "install-deps: installing ${missing[*]} ${missing_wanted[*]}"
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -eq 0 ]; then
  { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing_wanted[@]}" >/dev/null; } ||
    echo "install-deps: could not install ${missing_wanted[*]}: no man pages, and the package and Slurm tests will be skipped" >&2
  exit 0
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing_wanted[@]}" >/dev/null 2>&1 ||
  echo "install-deps: could not install ${missing_wanted[*]}: no man pages, and the package and Slurm tests will be skipped" >&2
echo "install-deps: done"
