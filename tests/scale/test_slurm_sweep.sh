#!/usr/bin/env bash
# A real single-node Slurm on localhost, started by this test (Debian's slurmctld and slurmd, AuthType=auth/none),
# runs a 4-configuration sweep written and submitted by `continua-cli sweep slurm --submit --wait`; the task
# databases are imported into one workspace and `continua-cli list` must show the four finished runs; then
# `srun --ntasks=2 continua-cli run --distributed` trains one run data-parallel from Slurm's rendezvous.
# Skipped (exit 77), not failed, where Slurm is not installed or its daemons cannot start here (not root, ...).
#   tests/scale/test_slurm_sweep.sh CONTINUA_CLI
set -uo pipefail
cli=${1:?usage: $0 path/to/continua-cli}
skip() { echo "SKIP: $*"; exit 77; }
for tool in slurmctld slurmd sbatch sinfo; do command -v "$tool" >/dev/null || skip "$tool is not installed (apt install slurmctld slurmd slurm-client)"; done
[ "$(id -u)" -eq 0 ] || skip "slurmd must run as root to start jobs as their user"

work=$(mktemp -d)
cleanup() {
  [ -f "$work/slurmd.pid" ] && kill "$(cat "$work/slurmd.pid")" 2>/dev/null
  [ -f "$work/slurmctld.pid" ] && kill "$(cat "$work/slurmctld.pid")" 2>/dev/null
  sleep 1
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
node=$(hostname -s)
mkdir -p "$work/state" "$work/spool"
cat > "$work/slurm.conf" <<CONF
ClusterName=continua-test
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/none
CredType=cred/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf
slurmctld -c -f "$SLURM_CONF" >/dev/null 2>&1 || skip "slurmctld did not start: $(tail -3 "$work/slurmctld.log" 2>/dev/null)"
slurmd -f "$SLURM_CONF" -N "$node" >/dev/null 2>&1 || skip "slurmd did not start: $(tail -3 "$work/slurmd.log" 2>/dev/null)"
for _ in $(seq 60); do
  sinfo -h -N -o '%T' 2>/dev/null | grep -Eq '^(idle|mixed)' && break
  sleep 0.5
done
sinfo -h -N -o '%T' 2>/dev/null | grep -Eq '^(idle|mixed)' || skip "the node did not come up: $(tail -3 "$work/slurmd.log" "$work/slurmctld.log" 2>/dev/null)"

cat > "$work/sweep.json" <<'JSON'
{"name": "slurm-test", "preset": "quickstart",
 "set": {"optim.steps": 20, "eval.every": 10, "eval.length_tasks": [10], "eval.length_shots": [5],
         "eval.forgetting": false, "eval.episodes": 16, "eval.final_episodes": 16},
 "grid": {"model.family": ["mamba", "transformer"], "selectivity.lambda": [0, 1]},
 "seeds": [0]}
JSON
fail() { echo "FAIL: $*"; tail -20 "$work"/slurmctld.log "$work"/slurmd.log "$work"/sweep/slurm-*.out 2>/dev/null; exit 1; }
timeout 600 "$cli" sweep slurm "$work/sweep.json" --dir "$work/sweep" --submit --wait --import-into "$work/workspace.db" ||
  fail "sweep slurm did not finish"
listing=$("$cli" list --db "$work/workspace.db") || fail "list failed"
echo "$listing"
[ "$(echo "$listing" | grep -c 'slurm-test .* finished')" -eq 4 ] || fail "expected 4 finished runs of the sweep in the workspace"
# Importing the task databases again adds nothing.
"$cli" import "$work"/sweep/task-*.db --db "$work/workspace.db" | grep -q "0 imported" || fail "a second import added runs"
[ "$("$cli" list --db "$work/workspace.db" | grep -c 'slurm-test')" -eq 4 ] || fail "runs were imported twice"
# Data-parallel under srun: two tasks find each other through Slurm's variables alone (no MASTER_* set).
command -v srun >/dev/null || fail "srun is missing"
timeout 300 srun --ntasks=2 --cpus-per-task=1 env -u MASTER_ADDR -u MASTER_PORT -u RANK -u WORLD_SIZE MASTER_PORT=$(free_port) \
  "$cli" run --preset quickstart --set optim.steps=20 --set eval.every=10 --set 'eval.length_tasks=[10]' \
  --set 'eval.length_shots=[5]' --set eval.forgetting=false --set eval.episodes=16 --set eval.final_episodes=16 \
  --set name=srun-ddp --distributed --db "$work/ddp.db" > "$work/srun.out" 2>&1 || { cat "$work/srun.out"; fail "srun --distributed failed"; }
grep -q "from the slurm" "$work/srun.out" || { cat "$work/srun.out"; fail "the ranks did not take their rendezvous from Slurm"; }
ranks=$(sqlite3 "$work/ddp.db" "SELECT json_extract(environment, '$.ranks') || ' ' || status FROM runs WHERE name = 'srun-ddp'" 2>/dev/null ||
        "$cli" show 1 --json --db "$work/ddp.db" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["environment"]["ranks"], r["status"])')
[ "$ranks" = "2 finished" ] || fail "expected one finished run trained by 2 ranks, got '$ranks'"
echo "PASS: a 4-configuration sweep ran as a Slurm job array and was imported; srun --ntasks=2 trained one run data-parallel"
