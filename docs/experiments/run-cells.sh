#!/usr/bin/env bash
# Runs every cell of a cells file for each seed, as workbench runs in one database, N at a time.
#   docs/experiments/run-cells.sh CELLS DB [SEEDS] [WORKERS]     e.g. ... mcl-ablation.cells results/mcl-ablation.db "0 1 2" 2
# A cells file has one cell per line, "name | preset | --set key=value ...", '#' comments. Every seed of a
# cell is a run with the cell's name, so `continua-cli summary --db DB` reports it as one group (mean ± std).
# Cells already finished for a seed in DB are skipped, so an interrupted study resumes where it stopped.
set -euo pipefail
cells=$1 db=$2 seeds=${3:-"0 1 2"} workers=${4:-1}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cli=${CONTINUA_CLI:-$root/build/app/continua-cli}
mkdir -p "$(dirname "$db")"

trim() { local s="$1"; s="${s#"${s%%[![:space:]]*}"}"; echo "${s%"${s##*[![:space:]]}"}"; }

done_already() {  # name seed
  [ -f "$db" ] || return 1
  local n
  n=$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE name = '$1' AND status = 'finished' AND json_extract(config, '\$.seed') = $2" 2>/dev/null || echo 0)
  [ "${n:-0}" -gt 0 ]
}

jobs=()
while IFS='|' read -r name preset sets; do
  name=$(trim "$name"); preset=$(trim "$preset")
  [ -z "$name" ] || [ "${name:0:1}" = "#" ] && continue
  for seed in $seeds; do
    done_already "$name" "$seed" && continue
    jobs+=("$(printf '%q ' "$cli" run --db "$db" --preset "$preset" --set "name=$name" --set "seed=$seed" --set checkpoint.every=100000) $sets")
  done
done < "$cells"

echo "run-cells: ${#jobs[@]} runs to do, $workers at a time, into $db"
printf '%s\n' "${jobs[@]}" | xargs -d '\n' -P "$workers" -I{} bash -c '{} > /dev/null 2>&1 || echo "run-cells: failed: {}" >&2'
"$cli" summary --db "$db"
