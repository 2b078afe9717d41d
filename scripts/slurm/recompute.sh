#!/usr/bin/env bash
# Sharded recompute as a Slurm array job, from plan to finished dataset:
#
#   scripts/slurm/recompute.sh REPO REF OUT/ N [recompute options...] [-- sbatch options...]
#
# 1. plan: `skycal recompute REPO --at REF --plan N --out OUT/ [options] --json` resolves REF once
#    to a run id and records the plan (and its options: --skip-invalid, --where, stages, ...) in
#    OUT/'s staging area, where every shard takes them from;
# 2. submit: recompute-array.sbatch as an array of N tasks (0..N-1), every task at that run id;
# 3. wait: until no task is pending, running or completing (a requeued task counts as pending);
# 4. check: every task COMPLETED, and OUT/ holds the finished dataset's manifest.
# Prints the run id, the job id and the logs folder; exits non-zero naming the tasks that failed.
#
# Environment: SKYCAL (the skycal command, default `skycal`), SKYCAL_SLURM_LOGS (per-task logs,
# default ./slurm-logs), SKYCAL_SLURM_POLL_S (seconds between squeue polls, default 5),
# SKYCAL_SLURM_TIMEOUT_S (give up waiting after this long, default 0: never), and Slurm's own
# (SLURM_CONF, SBATCH_PARTITION, ...). Arguments after `--` go to sbatch (--partition, --time, ...).
set -euo pipefail

[ $# -ge 4 ] || { echo "usage: $0 REPO REF OUT/ N [recompute options...] [-- sbatch options...]" >&2; exit 2; }
REPO=$1 REF=$2 OUT=$3 N=$4
shift 4
plan_options=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do plan_options+=("$1"); shift; done
[ $# -eq 0 ] || shift # the --
case "$N" in '' | *[!0-9]* | 0) echo "$0: N must be a shard count >= 1, got '$N'" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
read -r -a skycal <<<"${SKYCAL:-skycal}"
LOGS=${SKYCAL_SLURM_LOGS:-slurm-logs}
POLL=${SKYCAL_SLURM_POLL_S:-5}
LIMIT=${SKYCAL_SLURM_TIMEOUT_S:-0}
mkdir -p "$LOGS"

plan=$("${skycal[@]}" recompute "$REPO" --at "$REF" --plan "$N" --out "$OUT" "${plan_options[@]}" --json)
RUNID=$(printf '%s' "$plan" | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => process.stdout.write(JSON.parse(s).at))')
[ -n "$RUNID" ] || { echo "$0: the plan named no run id: $plan" >&2; exit 1; }
echo "plan: $N shards of $REPO at $RUNID ($REF) into $OUT"

JOB=$(sbatch --parsable --array="0-$((N - 1))" --output="$LOGS/%x-%A_%a.out" --error="$LOGS/%x-%A_%a.err" "$@" \
  "$here/recompute-array.sbatch" "$REPO" "$RUNID" "$OUT")
JOB=${JOB%%;*} # --parsable prints JOBID[;CLUSTER]
echo "submitted job $JOB (logs: $LOGS/skycal-recompute-${JOB}_I.out, .err)"

start=$SECONDS
while [ -n "$(squeue -h -j "$JOB" -o %i 2>/dev/null)" ]; do
  if [ "$LIMIT" -gt 0 ] && [ $((SECONDS - start)) -ge "$LIMIT" ]; then
    echo "$0: job $JOB not done after $LIMIT s (left running; scancel $JOB to stop it)" >&2
    exit 1
  fi
  sleep "$POLL"
done

# One line per task: its index and final state (scontrol keeps finished jobs MinJobAge seconds).
states=$(scontrol -o show job "$JOB" | sed -E 's/.*ArrayTaskId=([0-9]+) .*JobState=([A-Z_]+) .*/\1 \2/')
failed=$(printf '%s\n' "$states" | awk '$2 != "COMPLETED" { printf "%s%s(%s)", sep, $1, $2; sep = ", " }')
done_count=$(printf '%s\n' "$states" | awk '$2 == "COMPLETED"' | wc -l)
if [ -n "$failed" ] || [ "$done_count" -ne "$N" ]; then
  echo "$0: job $JOB: $done_count of $N tasks completed; not: ${failed:-?} (see $LOGS; rerun one with scontrol requeue ${JOB}_I)" >&2
  exit 1
fi
[ -f "$OUT/_skycal_dataset.json" ] || { echo "$0: all $N tasks completed but $OUT has no _skycal_dataset.json" >&2; exit 1; }
echo "done: $OUT ($N shards, job $JOB, $((SECONDS - start)) s)"
