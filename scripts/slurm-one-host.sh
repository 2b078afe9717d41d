#!/usr/bin/env bash
# A one-host Slurm cluster (munged + slurmctld + slurmd on localhost) for the tests and for
# trying the array job: scripts/slurm-one-host.sh start|stop|status|env.
#
# Everything it makes lives in one folder it owns, ${SKYCAL_SLURM_DIR:-/tmp/skycal-slurm}:
# etc/slurm.conf, its own munge key and socket (the system's /etc/munge and /etc/slurm are not
# touched, so it runs beside a real munged), the controller's state, slurmd's spool and the logs.
# Clients find the cluster through SLURM_CONF: `eval "$(scripts/slurm-one-host.sh env)"`.
#
# Made for a root shell in a container without systemd or cgroup control, so:
# - daemons are started by hand, in the background, with pid files in the folder (no units);
# - proctrack/linuxproc tracks a job's processes by parent pid through /proc (proctrack/cgroup
#   needs a writable cgroup hierarchy, which a container does not give), task/none binds nothing
#   (task/affinity and task/cgroup need cpusets), jobacct_gather/none and accounting_storage/none:
#   no slurmdbd or database to run, and sacct is not needed (squeue/scontrol show the states);
# - jobs run as the user who submits them; root's jobs are allowed (DisableRootJobs=NO, the
#   default), so CI's root shell submits directly. As another user, run `start` as root and
#   submit as that user: the munge socket folder is world-searchable, the key is root's only.
# - select/cons_tres with CR_CPU: one CPU per task by default, so an array runs as many tasks at
#   once as the node has CPUs (the real count, from `slurmd -C`).
# Ports: SKYCAL_SLURM_PORT (slurmctld, default 6817) and the next one (slurmd).
set -euo pipefail

DIR=${SKYCAL_SLURM_DIR:-/tmp/skycal-slurm}
CTLD_PORT=${SKYCAL_SLURM_PORT:-6817}
SLURMD_PORT=$((CTLD_PORT + 1))
CONF=$DIR/etc/slurm.conf
MUNGE_SOCKET=$DIR/run/munge.socket
NODE=$(hostname -s)
export SLURM_CONF=$CONF

log() { printf 'slurm-one-host: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# Debian's slurm-wlm is slurmctld + slurmd + slurm-client; without recommends it skips the
# optional plugin packages (HDF5, InfluxDB, ...), which nothing here loads.
install_packages() {
  local missing=()
  for tool in munged slurmctld slurmd sinfo sbatch scontrol; do
    command -v "$tool" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}: install Debian's slurm-wlm and munge (as root: apt-get install slurm-wlm munge)"
  log "installing slurm-wlm and munge (missing: ${missing[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

pid_alive() { # pid file -> 0 when its process runs (a zombie does not: PID 1 of a container may not reap)
  local pid state
  pid=$(cat "$1" 2>/dev/null) || return 1
  state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

running() { # the three daemons run and the controller answers
  pid_alive "$DIR/run/munged.pid" && pid_alive "$DIR/run/slurmctld.pid" && pid_alive "$DIR/run/slurmd.pid" \
    && timeout 10 scontrol ping >/dev/null 2>&1
}

node_state() { timeout 10 sinfo -h -n "$NODE" -o %T 2>/dev/null | head -n1; }

write_config() {
  # The hardware line of `slurmd -C` (CPUs, boards, sockets, cores, threads, memory) as slurmd
  # itself will see it: a node configured with more than it finds is drained as invalid.
  local hw
  hw=$(slurmd -C | head -n1 | tr ' ' '\n' | grep -E '^(CPUs|Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore|RealMemory)=' | tr '\n' ' ')
  [ -n "$hw" ] || die "slurmd -C printed no hardware line"
  cat >"$CONF.tmp" <<EOF
# Written by scripts/slurm-one-host.sh: a one-host cluster in $DIR (see the script for why).
ClusterName=skycal
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# Schedule at once rather than batching for throughput: a 4-task array of short tasks ends in
# about 2 s instead of 6 (the backfill pass, which starts array tasks, runs every second), and a
# job whose begin time passes while nothing else changes starts within a second, not a minute
# (backfill skips a quiet cluster; the main pass, every sched_interval, does not).
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,bf_interval=1,sched_interval=1
# A restarted node comes back by itself; jobs may be requeued (scontrol requeue). Slurm holds a
# requeued job back ~2 minutes (Reason=BeginTime); "scontrol update jobid=J_I StartTime=now+2" lets
# it go sooner (not now+0: slurmd refuses a launch in the second it revoked the killed one's credential).
ReturnToService=2
MailProg=/bin/true
JobRequeue=1
# SIGTERM to SIGKILL on cancel or requeue: short, the jobs here are small.
KillWait=5
# Finished jobs stay visible to squeue/scontrol for 5 minutes (and may be requeued meanwhile).
MinJobAge=300
InactiveLimit=0
SlurmctldTimeout=60
SlurmdTimeout=120
NodeName=$NODE NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=skycal Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
  mv "$CONF.tmp" "$CONF"
}

start_munged() {
  pid_alive "$DIR/run/munged.pid" && return 0
  if [ ! -s "$DIR/munge/munge.key" ]; then
    dd if=/dev/urandom of="$DIR/munge/munge.key.tmp" bs=1024 count=1 status=none
    chmod 0400 "$DIR/munge/munge.key.tmp"
    mv "$DIR/munge/munge.key.tmp" "$DIR/munge/munge.key"
  fi
  # munged checks its folders: the key's is private, the socket's must be searchable by all.
  munged --key-file="$DIR/munge/munge.key" --socket="$MUNGE_SOCKET" --pid-file="$DIR/run/munged.pid" \
    --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed" \
    || die "munged did not start: $(tail -n 3 "$DIR/log/munged.log" 2>/dev/null)"
}

wait_for() { # seconds, description, command...
  local limit=$1 what=$2; shift 2
  local t=0
  until "$@"; do
    t=$((t + 1))
    [ $t -le $((limit * 4)) ] || return 1
    sleep 0.25
  done
}

node_idle() { case "$(node_state)" in idle | mixed | allocated) return 0 ;; *) return 1 ;; esac; }

cmd_start() {
  install_packages
  PATH=$PATH:/usr/sbin
  if running && node_idle; then
    log "already running ($CONF, node $NODE $(node_state))"
    return 0
  fi
  # Half up (a daemon died, or a config from another host name): start over from stopped.
  cmd_stop quiet
  mkdir -p "$DIR/etc" "$DIR/munge" "$DIR/run" "$DIR/state" "$DIR/spool" "$DIR/log"
  chmod 0755 "$DIR" "$DIR/run"
  chmod 0700 "$DIR/munge"
  write_config
  start_munged
  # -c: a throw-away cluster starts with an empty queue (no jobs restored from a crashed run).
  slurmctld -c || die "slurmctld did not start: $(tail -n 5 "$DIR/log/slurmctld.log" 2>/dev/null)"
  wait_for 30 controller timeout 5 scontrol ping >/dev/null 2>&1 \
    || die "slurmctld does not answer after 30 s: $(tail -n 5 "$DIR/log/slurmctld.log" 2>/dev/null)"
  slurmd -N "$NODE" || die "slurmd did not start: $(tail -n 5 "$DIR/log/slurmd.log" 2>/dev/null)"
  if ! wait_for 30 node node_idle; then
    # A node left down or drained by an earlier run's state: bring it back once.
    scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true
    wait_for 15 node node_idle || die "node $NODE is '$(node_state)', not idle, after 45 s: $(tail -n 5 "$DIR/log/slurmd.log" 2>/dev/null)"
  fi
  log "started: node $NODE $(node_state) ($(sinfo -h -n "$NODE" -o %c) CPUs); export SLURM_CONF=$CONF"
}

stop_daemon() { # name, pid file
  local pidfile=$2 pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 0
  if pid_alive "$pidfile"; then
    kill -TERM "$pid" 2>/dev/null || true
    wait_for 15 "$1 to exit" eval "! pid_alive $pidfile" || { log "$1 ($pid) ignored SIGTERM for 15 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$pidfile"
}

# slurmstepd processes of this cluster's jobs (when slurmd or slurmctld died first, nothing
# cancels them): each holds this cluster's slurmd.log open, which tells ours from another's.
our_stepds() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null)" = slurmstepd ] || continue
    ls -l "$p/fd" 2>/dev/null | grep -qF -- "$DIR/log/slurmd.log" && echo "${p#/proc/}"
  done
  return 0
}

descendants() { # pids... -> those pids and all their descendants (by parent pid, as linuxproc does)
  local all=" $* " added=1 p ppid
  while [ $added -eq 1 ]; do
    added=0
    for p in /proc/[0-9]*; do
      ppid=$(sed 's/^.*) //' "$p/stat" 2>/dev/null | cut -d' ' -f2) || continue
      case "$all" in *" $ppid "*) case "$all" in *" ${p#/proc/} "*) ;; *) all="$all${p#/proc/} "; added=1 ;; esac ;; esac
    done
  done
  echo $all
}

cmd_stop() {
  PATH=$PATH:/usr/sbin
  if pid_alive "$DIR/run/slurmctld.pid"; then
    # Jobs first: slurmstepd outlives slurmd by design, so cancel everything and give it KillWait.
    local ids
    ids=$(timeout 10 squeue -h -o %A 2>/dev/null || true)
    [ -z "$ids" ] || timeout 10 scancel --quiet $ids >/dev/null 2>&1 || true
    wait_for 15 "jobs to end" eval '[ -z "$(timeout 5 squeue -h -t running,completing -o %A 2>/dev/null)" ]' || true
  fi
  stop_daemon slurmd "$DIR/run/slurmd.pid"
  stop_daemon slurmctld "$DIR/run/slurmctld.pid"
  local stray
  stray=$(our_stepds)
  if [ -n "$stray" ]; then
    stray=$(descendants $stray)
    log "killing what jobs left behind (slurmstepd and their processes): $stray"
    kill -KILL $stray 2>/dev/null || true
  fi
  stop_daemon munged "$DIR/run/munged.pid"
  [ "${1:-}" = quiet ] || log "stopped (the next start begins with an empty queue)"
}

cmd_status() {
  PATH=$PATH:/usr/sbin
  local d up=0
  for d in munged slurmctld slurmd; do
    if pid_alive "$DIR/run/$d.pid"; then echo "$d: running (pid $(cat "$DIR/run/$d.pid" 2>/dev/null))"; else echo "$d: stopped"; up=1; fi
  done
  if [ $up -eq 0 ] && running; then
    echo "node $NODE: $(node_state)"
    echo "SLURM_CONF=$CONF"
    return 0
  fi
  return 3 # LSB: not running
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *) echo "usage: $0 start|stop|status|env   (state in \${SKYCAL_SLURM_DIR:-/tmp/skycal-slurm})" >&2; exit 2 ;;
esac
