#!/usr/bin/env bash
# A real single-node Slurm on loopback for the workflow's Slurm tests (issue 16).
#   tests/cluster/slurm.sh up     install (if missing), configure, start, wait until `idle gpu:1`
#   tests/cluster/slurm.sh down   stop the daemons by their pid files, drop the configuration
#   tests/cluster/slurm.sh status print the node state (exit 1 when the cluster is not up)
# The node declares one GPU as a generic resource (File=/dev/null), so that GPU-profile jobs are
# scheduled and their request can be checked; it proves the wiring, not CUDA (../shared/SLURM.md).
# Needs root and Debian (apt-get); no systemd, no accounting database.
set -euo pipefail

STATE=${CFTRAIN_SLURM_STATE:-/var/tmp/cftrain-slurm}
CONF=/etc/slurm
PACKAGES=(munge slurmctld slurmd slurm-client)
UP_TIMEOUT=${CFTRAIN_SLURM_UP_TIMEOUT:-60}

log() { echo "slurm.sh: $*" >&2; }

# True when the pid in file $1 belongs to a live process (a zombie left by a killed daemon,
# which this sandbox's init does not reap, counts as stopped).
alive() {
    local pid
    [[ -s $1 ]] || return 1
    pid=$(<"$1")
    [[ -r /proc/$pid/stat ]] || return 1
    [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]
}

install_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    ((${#missing[@]} == 0)) && return 0
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Another apt-get (a parallel CI step) may hold the dpkg lock: wait for it, not fail.
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

write_config() {
    local mem_mb
    # Declared memory: the machine's minus 1 GiB, so the node never reports less than configured.
    # CPUs from getconf: nproc would follow OMP_NUM_THREADS, which the tests set to 1.
    mem_mb=$(awk '/^MemTotal:/ {print int($2 / 1024) - 1024}' /proc/meminfo)
    install -d "$CONF"
    cat >"$CONF/slurm.conf" <<EOF
# Written by tests/cluster/slurm.sh: one node on loopback, no accounting (../shared/SLURM.md).
ClusterName=cftrain
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# Finished jobs stay visible to squeue for an hour: the workflow profiles read job status
# with squeue, and the tests list a whole run's COMPLETED jobs with squeue --states=all.
MinJobAge=3600
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
GresTypes=gpu
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(getconf _NPROCESSORS_ONLN) RealMemory=$mem_mb Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    # A character device as File= makes Slurm set CUDA_VISIBLE_DEVICES inside GPU jobs.
    cat >"$CONF/gres.conf" <<EOF
AutoDetect=off
Name=gpu File=/dev/null
EOF
}

start_munge() {
    [[ -f /etc/munge/munge.key ]] || mungekey --create
    install -d -o munge -g munge -m 0755 /run/munge
    if ! alive /run/munge/munged.pid; then
        runuser -u munge -- /usr/sbin/munged
    fi
    munge -n | unmunge >/dev/null
}

# Waits until the node is `idle gpu:1`; fails at once when slurmctld or slurmd dies, since
# sinfo alone takes ~9 s to fail against a dead controller and the loop would spin for minutes.
wait_idle() {
    local start=$SECONDS deadline=$((SECONDS + UP_TIMEOUT)) state=""
    while ((SECONDS < deadline)); do
        for d in slurmctld slurmd; do
            # A daemon writes its pid file a moment after it forks: missing is fine for 10 s.
            [[ -s $STATE/$d.pid ]] || ((SECONDS < start + 10)) || {
                log "$d wrote no pid file"
                return 1
            }
            if [[ -s $STATE/$d.pid ]] && ! alive "$STATE/$d.pid"; then
                log "$d is not running; last lines of $STATE/$d.log:"
                tail -n 20 "$STATE/$d.log" >&2 || true
                return 1
            fi
        done
        state=$(timeout 5 sinfo -h -N -o '%T %G' 2>/dev/null || true)
        [[ $state == "idle gpu:1" ]] && return 0
        sleep 0.5
    done
    log "node not 'idle gpu:1' after ${UP_TIMEOUT}s (last: '${state}'); slurmctld log tail:"
    tail -n 20 "$STATE/slurmctld.log" >&2 || true
    return 1
}

up() {
    install_packages
    down >/dev/null 2>&1 || true
    # Fresh state on every start: job ids begin at 1 and no earlier job lingers.
    rm -rf "$STATE"
    install -d "$STATE/ctld" "$STATE/d"
    write_config
    start_munge
    slurmctld
    slurmd -N localhost
    wait_idle
    log "up: $(sinfo -h -N -o '%N %T %G %c CPUs %m MB')"
}

stop_pidfile() {
    local file=$1 pid i
    alive "$file" || return 0
    pid=$(<"$file")
    kill "$pid" 2>/dev/null || true
    for i in $(seq 50); do
        alive "$file" || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}

down() {
    stop_pidfile "$STATE/slurmd.pid"
    stop_pidfile "$STATE/slurmctld.pid"
    stop_pidfile /run/munge/munged.pid
    # Without a configuration the Slurm clients fail at once instead of retrying a dead
    # controller; this keeps every later snakemake call (its Slurm plugin runs
    # `scontrol show config` on load) from waiting ~10 s. `up` writes it afresh.
    rm -f "$CONF/slurm.conf" "$CONF/gres.conf"
    log "down"
}

status() {
    alive "$STATE/slurmctld.pid" && alive "$STATE/slurmd.pid" || {
        echo "down"
        return 1
    }
    sinfo -h -N -o '%T %G'
}

case ${1:-} in
up | down | status) "$1" ;;
*)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac
