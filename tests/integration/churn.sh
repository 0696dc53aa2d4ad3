# tests/integration/churn.sh -- what the churn tests (tests/integration/churn-*.test, issue 11)
# share: three driftd agents in one consumer group on one 6-partition topic of `driftd
# mock-kafka`, one redis-server, the records counted from the producer side, and one checker of
# the decisions and events. A script sources it after lib.sh:
#
#   set -eu
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/churn.sh"
#
# POSIX sh (dash); safe under `set -eu`. Names it keeps for itself start with _churn_.
#
# The data: CHURN_WINDOWS (6) windows of 60 s of event time, CHURN_PER_WINDOW (2400) records
# each, of fraud v2.4.0 drifted (--drift 1.0: the rollback rule trips on the second window,
# later windows are blocked:latched). The producer is kafka-python's KafkaProducer, choosing
# every record's partition by its index (weights 1:2:3:4:5:6 over partitions 0..5, interleaved,
# so that the partitions' counts differ and a wrong "missing" list shows); it writes what it
# produced per (window, partition) to $tmp/counts.json, then one record per partition far
# later (event time passes the last window, so every window can close).
#
#   churn_elapsed             prints the seconds since churn.sh was sourced (for diagnostics)
#   churn_setup               mock-kafka (inference-logs:6, model-rollbacks:1): $B; redis: $s;
#                             fraud v2.3.1 (baseline, good) and v2.4.0 registered under the
#                             store prefix ch:; $tmp/live.jsonl generated; on_fail set (the
#                             last lines of every agent's log)
#   churn_agent VAR NAME      starts an agent of group "churn", its log $tmp/logs/NAME.log, VAR =
#                             its pid (a restarted agent gets a new NAME: every log is read)
#   churn_assigned NAME       true when NAME's log says it was assigned a partition
#   churn_wait_assigned SECS NAME...
#                             waits for every NAME to have been assigned; fail when one was not
#   churn_produce SECS        starts the producer in the background, the records paced over
#                             SECS of wall time (0: as fast as it goes); $CHURN_PRODUCER
#   churn_sent                prints the records handed to the producer so far
#   churn_wait_sent PERCENT   waits (60 s at most) until that share (a percentage) of the
#                             records was handed to the producer: the churn happens mid-run
#   churn_produced            waits for the producer to end; fail unless every record was
#                             acknowledged; a diag line
#   churn_decided             prints the window lines of every log so far
#   churn_wait_decided SECS   waits until every window was decided (by window lines) and every
#                             rollback decided was delivered ("events: io.driftd.rollback");
#                             a diag line when not (the checks then say what is missing)
#   churn_stop VAR NAME [VAR NAME]...
#                             SIGTERM to each agent, then waits for each; a check each that it
#                             exited 0
#   churn_check               the checks of every scenario (TAP, through tap_cat): every window
#                             decided exactly once across all the logs; its n = the records
#                             produced for it, or with "coverage=K/6 missing=P,..." on its line,
#                             n between the records of the covered partitions and the total and
#                             the missing partitions real; exactly one rollback event on the
#                             topic (read with kafka-python) per "-> io.driftd.rollback" window,
#                             its samples and data.coverage (when there) agreeing with the line.
#                             Diagnostics (diag): produced vs counted per window, events
#                             expected vs seen.

CHURN_WINDOWS=6
CHURN_PER_WINDOW=2400
CHURN_START_MS=1795729980000
CHURN_PRODUCER=
_churn_t0=$(date +%s.%N)
mkdir -p "$tmp/logs"

churn_elapsed() { # the seconds since churn.sh was sourced, as 12.3
	"$PY" -c 'import sys, time; print("%.1f" % (time.time() - float(sys.argv[1])))' "$_churn_t0"
}

on_fail() {
	for _churn_f in "$tmp"/logs/*.log; do
		[ -f "$_churn_f" ] && { diag "$_churn_f:"; diag_tail "$_churn_f" 12; }
	done
	diag_tail "$tmp/produce.err" 5 "producer: "
}

churn_setup() {
	require redis-server redis-cli
	"$PY" -c 'import kafka' 2>/dev/null || skip_all "kafka-python (python3-kafka) not installed"
	mock_kafka_start --topic inference-logs:6 --topic model-rollbacks:1 ||
		fail "mock-kafka printed no bootstrap line"
	B=$KAFKA_BROKERS
	redis_start || fail "redis-server did not start"
	s="$REDIS_SPEC"
	DRIFTD_STORE_PREFIX=ch:
	export DRIFTD_STORE_PREFIX
	"$C" --store "$s" register fraud v2.3.1 --training-data-hash h1 --feature-params '{}' \
		--hyperparams '{}' >/dev/null
	"$C" --store "$s" register fraud v2.4.0 --training-data-hash h2 --feature-params '{}' \
		--hyperparams '{}' >/dev/null
	"$D" generate --version v2.3.1 --records 20000 --seed 5 >"$tmp/base.jsonl"
	"$C" --store "$s" baseline build fraud v2.3.1 --from "$tmp/base.jsonl" >/dev/null
	"$C" --store "$s" good fraud v2.3.1 >/dev/null
	"$D" generate --version v2.4.0 --records $((CHURN_WINDOWS * CHURN_PER_WINDOW)) \
		--rate $((CHURN_PER_WINDOW / 60)) --start-ms "$CHURN_START_MS" --drift 1.0 \
		--seed 9 >"$tmp/live.jsonl"
}

churn_agent() { # $1: the variable for its pid, $2: its name (the log $tmp/logs/$2.log)
	spawn "$1" "$D" --source kafka:inference-logs --metrics-listen 127.0.0.1:0 --brokers "$B" \
		--group churn --events kafka:model-rollbacks --store "$s" --store-prefix ch: \
		--checkpoint-interval 0.2 --grace 5 \
		--kafka.session.timeout.ms=6000 --kafka.heartbeat.interval.ms=500 \
		--log-level info 2>"$tmp/logs/$2.log"
}

churn_assigned() {
	grep -q "source: assigned inference-logs/" "$tmp/logs/$1.log"
}

churn_wait_assigned() { # $1: seconds, then names
	_churn_secs=$1
	shift
	for _churn_a in "$@"; do
		wait_until "$_churn_secs" 'churn_assigned "$_churn_a"' ||
			fail "$_churn_a was assigned no partition within $_churn_secs s"
	done
}

churn_produce() { # $1: the seconds of wall time to pace the records over
	cat >"$tmp/produce.py" <<'PYEOF'
import json, os, sys, time
from kafka import KafkaProducer
brokers, live, secs, out, progress, window_ms = sys.argv[1:7]
secs = float(secs)
window_ms = int(window_ms)
lines = [l.rstrip("\n").encode() for l in open(live) if l.strip()]
# partition of record i: a smooth weighted round-robin of weights 1..6 over partitions 0..5
weights = [1, 2, 3, 4, 5, 6]
cur = [0] * 6
seq = []
for _ in range(sum(weights)):
    cur = [c + w for c, w in zip(cur, weights)]
    p = max(range(6), key=lambda k: cur[k])
    cur[p] -= sum(weights)
    seq.append(p)
prod = KafkaProducer(bootstrap_servers=brokers, acks="all", linger_ms=5, retries=5,
                     max_in_flight_requests_per_connection=1)
counts, failed = {}, []
def errback(e):
    failed.append(repr(e))
def send(i):
    p = seq[i % len(seq)]
    start = json.loads(lines[i])["ts"] // window_ms * window_ms
    counts.setdefault(start, [0] * 6)[p] += 1
    prod.send("inference-logs", value=lines[i], partition=p).add_errback(errback)
    return start
t0 = time.monotonic()
i, last = 0, 0
while i < len(lines):
    # every 0.1 s: the records due by now, acknowledged, then the count of them in progress
    due = len(lines) if secs <= 0 else int((time.monotonic() - t0) / secs * len(lines)) + 1
    while i < min(due, len(lines)):
        last = max(last, send(i))
        i += 1
    prod.flush()
    with open(progress + ".new", "w") as f:
        f.write("%d\n" % i)
    os.replace(progress + ".new", progress)
    if i < len(lines):
        time.sleep(0.1)
prod.flush()
# one record per partition two windows after the last: event time passes every window
far = last + 2 * window_ms
for p in range(6):
    v = json.dumps({"model": "fraud", "version": "v2.4.0", "ts": far, "features": {}})
    prod.send("inference-logs", value=v.encode(), partition=p).add_errback(errback)
prod.flush()
prod.close()
if failed:
    sys.exit("%d records not acknowledged: %s" % (len(failed), failed[:3]))
with open(out, "w") as f:
    json.dump({"windows": {str(k): v for k, v in sorted(counts.items())},
               "records": len(lines), "far_ms": far}, f)
with open(progress, "w") as f:
    f.write("%d\n" % len(lines))
PYEOF
	echo 0 >"$tmp/sent"
	_churn_pace=$1
	spawn CHURN_PRODUCER "$PY" "$tmp/produce.py" "$B" "$tmp/live.jsonl" "$1" \
		"$tmp/counts.json" "$tmp/sent" 60000 2>"$tmp/produce.err"
}

churn_sent() {
	cat "$tmp/sent" 2>/dev/null || echo 0
}

churn_wait_sent() { # $1: a percentage of the records
	_churn_want=$((CHURN_WINDOWS * CHURN_PER_WINDOW * $1 / 100))
	wait_until 60 '[ "$(churn_sent)" -ge "$_churn_want" ]' ||
		fail "the producer handed over $(churn_sent) records in 60 s, waited for $_churn_want"
}

churn_produced() {
	proc_wait "$CHURN_PRODUCER" || fail "the producer failed: $(tail -n 3 "$tmp/produce.err")"
	[ -f "$tmp/counts.json" ] || fail "the producer wrote no counts"
	diag "$(churn_sent) records produced (paced over $_churn_pace s), acknowledged at $(churn_elapsed) s"
}

churn_decided() {
	cat "$tmp"/logs/*.log | grep "fraud v2\.4\.0 window " || :
}

_churn_all_decided() {
	[ "$(churn_decided | sed 's/.* window \([^ ]*\) .*/\1/' | sort -u | wc -l)" -ge "$CHURN_WINDOWS" ] &&
		[ "$(cat "$tmp"/logs/*.log | grep -c "events: io\.driftd\.rollback ")" -ge \
			"$(churn_decided | grep -c -- "-> io\.driftd\.rollback$")" ]
}

churn_wait_decided() { # $1: seconds
	if wait_until "$1" _churn_all_decided; then
		diag "every window decided and its event delivered at $(churn_elapsed) s"
	else
		diag "after $1 s more: $(churn_decided | wc -l) window lines, $(cat "$tmp"/logs/*.log |
			grep -c "events: io\.driftd\.rollback ") events delivered"
	fi
}

churn_stop() { # pairs: the variable holding the pid, the agent's name
	_churn_args="$*"
	while [ $# -ge 2 ]; do
		eval "kill -TERM \$$1 2>/dev/null" || :
		shift 2
	done
	set -- $_churn_args
	while [ $# -ge 2 ]; do
		eval "_churn_pid=\$$1"
		proc_wait "$_churn_pid" && _churn_rc=0 || _churn_rc=$?
		if [ "$_churn_rc" -eq 0 ]; then
			ok "$2 stopped with SIGTERM exits 0"
		else
			notok "$2 stopped with SIGTERM exits 0 (exit $_churn_rc: $(tail -n 2 "$tmp/logs/$2.log"))"
		fi
		shift 2
	done
}

churn_check() {
	"$PY" - "$tmp" "$B" "$tap_n" >"$tmp/check.tap" 2>"$tmp/check.err" <<'PYEOF' || :
import datetime, glob, json, os, re, sys
tmp, brokers, n0 = sys.argv[1], sys.argv[2], int(sys.argv[3])
out, checks = [], [n0]
def check(cond, desc):
    checks[0] += 1
    out.append("%sok %d - %s" % ("" if cond else "not ", checks[0], desc))
def diag(text):
    out.append("# " + text)

def ms(stamp):
    t = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)

def stamp(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%H:%M")

produced = json.load(open(tmp + "/counts.json"))
want = {int(k): v for k, v in produced["windows"].items()}
real = {"inference-logs/%d" % p for p in range(6)}
line_re = re.compile(r"fraud v2\.4\.0 window (\S+) n=(\d+)"
                     r"(?: coverage=(\d+)/(\d+)(?: missing=(\S*))?)?")
decided = {}  # window start -> [(agent, n, coverage or None, rollback)]
for path in sorted(glob.glob(tmp + "/logs/*.log")):
    agent = os.path.basename(path)[:-4]
    for line in open(path, errors="replace"):
        m = line_re.search(line)
        if not m:
            continue
        cov = None
        if m.group(3) is not None:
            missing = [x for x in (m.group(5) or "").split(",") if x]
            cov = (int(m.group(3)), int(m.group(4)), missing)
        decided.setdefault(ms(m.group(1)), []).append(
            (agent, int(m.group(2)), cov, line.rstrip("\n").endswith("-> io.driftd.rollback")))

# what each agent says it read (a SIGKILLed one says nothing): late records are lost to windows
tally = []
for path in sorted(glob.glob(tmp + "/logs/*.log")):
    for line in open(path, errors="replace"):
        m = re.search(r"run: records=(\d+) accepted=\d+ rejected=\d+ late=(\d+) "
                      r"windows=(\d+)", line)
        if m:
            tally.append("%s %s read, %s late, %s decided" % (
                os.path.basename(path)[:-4], m.group(1), m.group(2), m.group(3)))
diag("%d records produced (+6 far later); the agents at their stop: %s" % (
    produced["records"], "; ".join(tally) or "none stopped"))

# every window decided exactly once
once = True
for start in sorted(want):
    got = decided.get(start, [])
    if len(got) != 1:
        once = False
        diag("window %s decided %d times: %s" % (stamp(start), len(got), got))
extra = sorted(set(decided) - set(want))
if extra:
    once = False
    diag("windows decided that no record was produced for: %s" % [stamp(k) for k in extra])
check(once, "every one of the %d windows decided exactly once across the agents" % len(want))

# n: the records produced for the window, or within the covered partitions' when incomplete
exact, complete = True, 0
diag("window start, records produced [on partitions 0..5] -- decided by NAME: n (coverage)")
for start in sorted(want):
    parts = want[start]
    total = sum(parts)
    rows = []
    exact = exact and start in decided
    for agent, n, cov, _ in decided.get(start, []):
        if cov is None:
            good = n == total
            complete += good
            rows.append("%s: n=%d%s" % (agent, n, "" if good else " (WRONG: %+d)" % (n - total)))
        else:
            k, of, missing = cov
            names_ok = (of == 6 and k < of and len(missing) == of - k
                        and len(set(missing)) == len(missing) and set(missing) <= real)
            covered = sum(c for p, c in enumerate(parts)
                          if "inference-logs/%d" % p not in missing) if names_ok else None
            good = names_ok and covered <= n <= total
            rows.append("%s: n=%d coverage=%d/%d missing=%s, the covered partitions' records %s%s"
                        % (agent, n, k, of, ",".join(missing), covered, "" if good else " (WRONG)"))
        exact = exact and good
    diag("%s %4d %s -- %s" % (stamp(start), total, parts, "; ".join(rows) or "NOT DECIDED"))
check(exact, "every window's n is its records produced (%d of %d windows complete), or between "
      "its covered partitions' and the total with the missing partitions real" %
      (complete, len(want)))

# the rollback events, read back with kafka-python
from kafka import KafkaConsumer, TopicPartition
import time
c = KafkaConsumer(bootstrap_servers=brokers, enable_auto_commit=False)
tp = TopicPartition("model-rollbacks", 0)
c.assign([tp])
c.seek_to_beginning(tp)
end = c.end_offsets([tp])[tp]
events, deadline = [], time.monotonic() + 10
while c.position(tp) < end and time.monotonic() < deadline:
    for batch in c.poll(timeout_ms=500).values():
        events += [json.loads(m.value) for m in batch]
c.close()
if len(events) < end:
    diag("kafka-python read %d of the %d events on model-rollbacks" % (len(events), end))
rollbacks = [e for e in events if e.get("type") == "io.driftd.rollback"]
expect = {}
for start, got in decided.items():
    for agent, n, cov, rb in got:
        if rb:
            expect.setdefault(start, []).append((n, cov))
seen = {}
for e in rollbacks:
    w = e["data"]["window"]
    seen.setdefault(ms(w["start"]), []).append(e)
diag("rollback decisions (window lines \"-> io.driftd.rollback\"): %d, in windows %s" % (
    sum(len(v) for v in expect.values()), [stamp(k) for k in sorted(expect)]))
diag("events on model-rollbacks: %d (%d rollbacks), in windows %s, ids %s" % (
    len(events), len(rollbacks), [stamp(k) for k in sorted(seen)],
    [e.get("id") for e in rollbacks]))
one = sorted(expect) == sorted(seen) and all(len(expect[k]) == 1 and len(seen[k]) == 1
                                            for k in expect)
agree = True
for start in set(expect) & set(seen):
    for e in seen[start]:
        n, cov = expect[start][0]
        d = e["data"]
        if d["window"].get("samples") != n:
            agree = False
            diag("window %s: event samples %s, the log line n=%d" % (
                stamp(start), d["window"].get("samples"), n))
        ec = d.get("coverage")
        if ec is not None:
            complete_line = cov is None or cov[0] == cov[1]
            if complete_line:
                fine = ec.get("covered") == ec.get("partitions") and not ec.get("missing") \
                    and float(ec.get("fraction", 1)) == 1.0
            else:
                fine = (ec.get("covered") == cov[0] and ec.get("partitions") == cov[1] and
                        sorted(ec.get("missing") or []) == sorted(cov[2]) and
                        abs(float(ec.get("fraction")) - cov[0] / cov[1]) < 1e-6)
            if not fine:
                agree = False
                diag("window %s: event data.coverage %s, the log line %s" % (stamp(start), ec, cov))
        elif cov is not None and cov[0] != cov[1]:
            agree = False
            diag("window %s: the log line says coverage %d/%d, the event has no data.coverage" % (
                stamp(start), cov[0], cov[1]))
check(one and len(expect) >= 1, "exactly one rollback event per rollback decision (%d decided, "
      "%d on the topic)" % (sum(len(v) for v in expect.values()), len(rollbacks)))
check(agree, "every rollback event's samples and coverage agree with its window's line")
print("\n".join(out))
PYEOF
	if ! grep -q '^\(not \)\{0,1\}ok ' "$tmp/check.tap"; then
		diag_tail "$tmp/check.err" 10 "checker: "
		fail "the checker failed"
	fi
	tap_cat "$tmp/check.tap"
}
