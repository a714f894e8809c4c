#!/usr/bin/env bash
# Renders continua.svg into the hicolor PNG sizes a desktop looks for. The PNGs are committed, so building
# and packaging need no SVG renderer; rerun this (librsvg2-bin) after changing the SVG.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
for size in 16 22 24 32 48 64 128 256 512; do
  mkdir -p "hicolor/${size}x${size}/apps"
  rsvg-convert -w "$size" -h "$size" continua.svg -o "hicolor/${size}x${size}/apps/continua.png"
done
