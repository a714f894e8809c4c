#!/usr/bin/env bash
# Makes a study's database small enough to commit: a copy with only finished runs, association maps of each
# run's last probe step (the KL over training stays in the train/selectivity_kl metric), no checkpoint records
# (their files stay on the machine that trained), compacted and xz-compressed.
#   docs/experiments/publish-db.sh results-dir/mcl-ablation.db results/mcl-ablation.db.xz
# Open the result with: xz -dk results/mcl-ablation.db.xz && build/app/continua --db results/mcl-ablation.db
set -euo pipefail
src=$1 dst=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sqlite3 "$src" "VACUUM INTO '$tmp/copy.db'"
sqlite3 "$tmp/copy.db" <<'SQL'
PRAGMA foreign_keys = ON;
DELETE FROM runs WHERE status <> 'finished';
DELETE FROM maps WHERE step < (SELECT max(m.step) FROM maps m WHERE m.run_id = maps.run_id);
DELETE FROM checkpoints;
VACUUM;
PRAGMA journal_mode = WAL;  -- as the store creates its databases: readers never block the writer
PRAGMA integrity_check;
SQL
mkdir -p "$(dirname "$dst")"
xz -T0 -6 -c "$tmp/copy.db" > "$dst"
echo "publish-db: $(sqlite3 "$tmp/copy.db" 'SELECT count(*) FROM runs') runs, $(du -h "$dst" | cut -f1) -> $dst"
