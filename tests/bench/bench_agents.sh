#!/bin/sh
# bench_agents.sh -- `make bench`: several driftd agents in one consumer group on one topic of
# `driftd mock-kafka` (a separate process over TCP), one redis-server; one JSON object per line.
#
# "agents" (three runs of each, interleaved): 240,000 generated 22-feature records (~430 bytes) are produced first (kcat) to a
# 24-partition topic (24 partitions keep each under the ~5 MB the 2.0.2 mock cluster retains);
# then 1, 2 and 3 agents in a fresh group each consume them. Measured from the first record
# counted to the last (the agents' driftd_records_total, summed, polled every 50 ms): records/s
# for the group, and records per CPU second of the agents (utime + stime from /proc: per core).
# This machine has as many cores as nproc says: beyond that, agents share them. The mock
# broker's CPU time over the same interval is reported too: where it is close to the seconds,
# the single-threaded mock broker, not driftd, bounds the group's rate.
#
# "close_to_ack": 3 agents on a 6-partition topic, 40 versions of one model drifting; their
# first two windows are produced and counted, then one record per partition past the second
# window's end plus grace closes it at once everywhere: 40 rollbacks. Measured per event: from
# the closing records' send to the event read back by kafka-python (an independent client),
# and from the decision to the broker's acknowledgement (the deciding agent's log lines).
# Defaults everywhere (checkpoint_interval 5 s), except the session timeout.
set -eu
. "$(dirname "$0")/../integration/lib.sh"
require kcat redis-server curl
mock_kafka_start --topic logs:24 --topic logs2:6 --topic logs3:6 --topic rb:1 ||
	{ echo "bench_agents: mock-kafka did not start" >&2; exit 1; }
B=$KAFKA_BROKERS
redis_start || { echo "bench_agents: redis-server did not start" >&2; exit 1; }
s=$REDIS_SPEC
N=240000
reg() {
	"$C" --store "$s" register fraud "$1" --training-data-hash h --feature-params '{}' \
		--hyperparams '{}' >/dev/null
}
reg v2.3.1
"$D" generate --version v2.3.1 --records 20000 --seed 5 >"$tmp/base.jsonl"
"$C" --store "$s" baseline build fraud v2.3.1 --from "$tmp/base.jsonl" >/dev/null
"$C" --store "$s" good fraud v2.3.1 >/dev/null
reg v2.4.0
"$D" generate --version v2.4.0 --records $N --rate 1000 --start-ms 1795729980000 --seed 9 \
	>"$tmp/live.jsonl"
kcat -b "$B" -t logs -P -l -X sticky.partitioning.linger.ms=0 "$tmp/live.jsonl"

ports=
start_agents() { # $1: count, $2: group, $3: topic, then more options
	k=$1 g=$2 topic=$3
	shift 3
	pids= ports=
	for i in $(seq 1 "$k"); do
		p=$(free_port)
		spawn pid "$D" --source "kafka:$topic" --brokers "$B" --group "$g" --events kafka:rb \
			--store "$s" --metrics-listen "127.0.0.1:$p" --log-level info \
			--kafka.session.timeout.ms=6000 --kafka.heartbeat.interval.ms=500 "$@" \
			2>"$tmp/$g-$i.log"
		pids="$pids $pid" ports="$ports $p"
	done
}
records() { # the records the agents counted, summed
	for p in $ports; do
		curl -s "http://127.0.0.1:$p/metrics" 2>/dev/null |
			awk '$1 == "driftd_records_total" { print $2 }'
	done | awk '{ s += $1 } END { printf "%d\n", s }'
}
cpu_ticks() { # utime + stime of the agents, in clock ticks
	for p in $pids; do
		awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || :
	done | awk '{ s += $1 } END { printf "%d\n", s }'
}
now() { date +%s.%N; }
hz=$(getconf CLK_TCK)

for run in 1 2 3; do
for k in 1 2 3; do
	start_agents "$k" "bench-$k-$run" logs
	# the agents' CPU time every 50 ms until every record is counted and they are idle: the
	# consuming time is from the first to the last sample in which they worked (group joins and
	# idle polls cost little CPU)
	: >"$tmp/cpu-$k"
	deadline=$(($(date +%s) + 120)) done_at=
	while [ "$(date +%s)" -lt "$deadline" ]; do
		echo "$(now) $(cpu_ticks) $(awk '{ print $14 + $15 }' "/proc/$MOCK_KAFKA_PID/stat")" \
			>>"$tmp/cpu-$k"
		if [ -z "$done_at" ] && [ "$(records)" -ge "$N" ]; then
			done_at=$(date +%s)
		fi
		[ -n "$done_at" ] && [ "$(date +%s)" -ge $((done_at + 2)) ] && break
		sleep 0.05
	done
	[ -n "$done_at" ] || { echo "bench_agents: $k agents counted $(records) of $N" >&2; exit 1; }
	"$PY" - "$k" "$N" "$hz" "$(nproc)" "$tmp/cpu-$k" "$run" <<'PYEOF'
import sys
k, n, hz, cores, f, run = sys.argv[1:]
hz = float(hz)
s = [tuple(map(float, l.split())) for l in open(f)]
# a sample "works" when the agents used at least a fifth of a core since the previous one
work = [i for i in range(1, len(s)) if (s[i][1] - s[i - 1][1]) / hz > 0.2 * (s[i][0] - s[i - 1][0])]
i0, i1 = work[0] - 1, work[-1]
secs = s[i1][0] - s[i0][0]
cpu = (s[i1][1] - s[i0][1]) / hz
broker = (s[i1][2] - s[i0][2]) / hz
print('{"bench":"agents","run":%s,"agents":%s,"cores":%s,"records":%s,"seconds":%.2f,'
      '"records_per_s":%.0f,"cpu_seconds":%.2f,"records_per_cpu_s":%.0f,'
      '"broker_cpu_seconds":%.2f}'
      % (run, k, cores, n, secs, int(n) / secs, cpu, int(n) / cpu, broker))
PYEOF
	for p in $pids; do proc_stop "$p" || :; done
done
done

# ---- close -> acked with 3 agents ----
V=40
close_run() { # $1: checkpoint interval (s), $2: the topic, $3: the versions' prefix
: >"$tmp/drift.jsonl"
for v in $(seq 1 $V); do
	reg "$3.$v"
	"$D" generate --version "$3.$v" --records 480 --rate 4 --start-ms 1795729980000 \
		--drift 1.0 --seed "$v" >>"$tmp/drift.jsonl"
done
# in time order, as model servers write them (else later versions' first windows come late)
"$PY" -c '
import json, sys
lines = open(sys.argv[1]).readlines()
lines.sort(key=lambda l: json.loads(l)["ts"])
open(sys.argv[1], "w").writelines(lines)
' "$tmp/drift.jsonl"
kcat -b "$B" -t "$2" -P -l -X sticky.partitioning.linger.ms=0 "$tmp/drift.jsonl"
start_agents 3 "close-$1" "$2" --checkpoint-interval "$1" --cooldown 0
wait_until 60 '[ "$(records)" -ge $((V * 480)) ]' ||
	{ echo "bench_agents: close: $(records) of $((V * 480)) counted" >&2; exit 1; }
sleep $(($1 + 1)) # one checkpoint of every agent after its last record
rc=0
"$PY" - "$B" "$V" "$tmp" "$1" "$2" "$3" <<'PYEOF' || rc=$?
import json, re, sys, time, glob, datetime
from kafka import KafkaConsumer, KafkaProducer
b, v, tmp, ci, topic, pre = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
cons = KafkaConsumer("rb", bootstrap_servers=b, auto_offset_reset="latest",
                     consumer_timeout_ms=500, group_id=None)
cons.poll(timeout_ms=1000)
cons.seek_to_end()
for tp in cons.assignment():
    cons.position(tp)
prod = KafkaProducer(bootstrap_servers=b)
close = {"model": "fraud", "version": pre + ".1", "ts": 1795729980000 + 180000 + 10000,
         "features": {}}
t0 = time.time()
for p in range(6):
    prod.send(topic, json.dumps(close).encode(), partition=p)
prod.flush()
seen = {}
while len(seen) < v and time.time() - t0 < 90:
    for m in cons:
        ev = json.loads(m.value)
        if ev["type"] == "io.driftd.rollback" and ev["id"] not in seen:
            seen[ev["id"]] = time.time() - t0
lat = sorted(seen.values())
# decision -> ack: the deciding agent's "window: ... -> io.driftd.rollback" and "events:" lines
def ms(line):
    t = datetime.datetime.strptime(line[:24], "%Y-%m-%dT%H:%M:%S.%fZ")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000
dec, ack = {}, {}
for f in glob.glob(tmp + "/close-%s-*.log" % ci):
    for line in open(f):
        m = re.search(r"window: fraud (\S+) window .* -> io\.driftd\.rollback", line)
        if m:
            dec[m.group(1)] = ms(line)
        m = re.search(r"events: io\.driftd\.rollback fraud/(\S+?)/", line)
        if m:
            ack[m.group(1)] = ms(line)
d2a = sorted(ack[k] - dec[k] for k in dec if k in ack)
def q(x, p):
    return x[min(len(x) - 1, int(len(x) * p))] if x else float("nan")
print(json.dumps({"bench": "close_to_ack", "agents": 3, "checkpoint_interval_s": float(ci),
                  "events": len(lat), "expected": v,
                  "close_to_seen_ms_median": round(q(lat, 0.5) * 1000, 1),
                  "close_to_seen_ms_p99": round(q(lat, 0.99) * 1000, 1),
                  "decided_to_acked_ms_median": round(q(d2a, 0.5), 1),
                  "decided_to_acked_ms_p99": round(q(d2a, 0.99), 1)}))
sys.exit(0 if len(lat) == v else 1)
PYEOF
for p in $pids; do proc_stop "$p" || :; done
return $rc
}
close_run 5 logs2 v3
close_run 1 logs3 v4
