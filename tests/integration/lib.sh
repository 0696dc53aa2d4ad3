# tests/integration/lib.sh -- what every tests/integration/*.test shares: TAP output, a temporary
# directory, the processes a test starts (killed however it ends), and throw-away servers.
# A script sets its shell options, then sources it:
#
#   set -eu
#   . "$(dirname "$0")/lib.sh"
#
# POSIX sh (dash); safe under `set -eu`. Names it keeps for itself start with _lib_.
#
# Paths -- top_srcdir and top_builddir come from automake (AM_TESTS_ENVIRONMENT in
# tests/local.mk); by hand, run a script from the build directory (sh ../tests/integration/x.test)
# and they default to the tree the script is in and ".":
#   top_srcdir, top_builddir  the source and the build tree
#   D, C                      the driftd and driftctl of the build (absolute paths)
#   PY                        python3: $PYTHON3, else /usr/bin/python3
#   tmp                       a new temporary directory, removed at exit (kept, and its path
#                             printed, when TEST_KEEP_TMP is set)
#
# TAP (one numbered result per check, in order):
#   ok DESC, notok DESC       a passed or failed check
#   skip DESC WHY             a check that could not run: "ok N - DESC # SKIP WHY"
#   fail DESC                 notok DESC, then the script's on_fail (define it to show logs;
#                             it does nothing by default), then exit 1: the rest cannot run
#   diag TEXT...              TEXT as "# " comment lines (stdin when no TEXT)
#   diag_tail FILE [N [PFX]]  the last N (20) lines of FILE, if it exists, as "# PFX..." lines
#   tap_cat FILE              pass on the TAP results another program wrote to FILE, numbered
#                             from $tap_n + 1 ($tap_n: the results so far), and count them
#   plan N                    the plan, up front
#   done_testing              the plan 1..$tap_n at the end (unless plan said it); exit 1 when
#                             a check failed, else 0
#   skip_all WHY              "1..0 # SKIP WHY", exit 0
#   require CMD...            skip_all "CMD not installed" for the first CMD not on the PATH
#
# Processes -- every one started by spawn (or the server helpers) is killed (SIGKILL) and
# reaped at EXIT, INT or TERM, the newest first:
#   spawn VAR CMD [ARG...]    run CMD in the background, VAR = its pid; redirect the call
#                             (spawn agent "$D" ... 2>"$tmp/driftd.log"). CMD is one program,
#                             not a pipeline, so that the kill reaches it.
#   proc_wait PID             wait for PID to end; returns its exit status
#   proc_stop PID [SIG]       send SIG (TERM), wait; returns the exit status
#   wait_until SECS COND      eval the shell command string COND every 0.1 s until it is true;
#                             returns 1 when SECS (an integer) pass first. Quote COND with '...'
#                             so that its variables are read at every try.
#   free_port                 prints a free TCP port on 127.0.0.1
#
# Servers:
#   redis_start [--tcp] [OPTION...]
#                             a redis-server of the test's own in $tmp/redis (its log:
#                             $tmp/redis/redis.log), on the Unix socket $REDIS_SOCK; with --tcp
#                             also on 127.0.0.1:$REDIS_PORT (a free port). No persistence unless
#                             OPTIONs (redis-server's, later ones win) ask, e.g. --appendonly yes
#                             --appendfsync always. Returns 1 unless it answers PING within 5 s
#                             (the socket appears, without redis-cli); REDIS_PID. Called
#                             again after redis_stop, it restarts on the same directory, socket
#                             and port.
#                             It requires the password $TEST_PASSWORD (requirepass); a
#                             store spec for it: $REDIS_SPEC (redis+unix://:PASSWORD@SOCKET),
#                             and with --tcp $REDIS_URL (redis://:PASSWORD@127.0.0.1:PORT).
#   redis_stop [SIG]          stop it with SIG (TERM), wait; always returns 0
#   redis_cli ARG...          redis-cli on $REDIS_SOCK (authenticated)
#
# Secrets -- no program under test may show a password: once a script has started a
# redis-server, done_testing adds one check that no file under $tmp (every log, output and
# event the script captured) holds $TEST_PASSWORD.
#   mock_kafka_start [OPTION...]
#                             `driftd mock-kafka OPTION...` (librdkafka's mock cluster; its
#                             output: $tmp/mock.out); sets KAFKA_BROKERS from the bootstrap
#                             line it prints; returns 1 when none came within 5 s;
#                             MOCK_KAFKA_PID. Its fault-injection FIFO is $tmp/mock.ctl
#   mock_kafka_ctl CMD...     one `driftd mock-kafka --control` command (broker down|up ID|all,
#                             broker rtt ID|all MS, errors API N ERROR; agent/mockkafka.h):
#                             returns 1 unless it answered ok within 5 s
#   mock_kafka_stop           stop it (SIGTERM), wait; always returns 0

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-.}
D=$(cd "$top_builddir" && pwd)/driftd
C=$(cd "$top_builddir" && pwd)/driftctl
PY=${PYTHON3:-/usr/bin/python3}

# ---- TAP ----
tap_n=0
_lib_failed=0
_lib_planned=

ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $*"
}

notok() {
	tap_n=$((tap_n + 1))
	_lib_failed=1
	echo "not ok $tap_n - $*"
}

skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

# the script's diagnostics after a fatal failure; scripts redefine it
on_fail() { :; }

fail() {
	notok "$*"
	on_fail || :
	exit 1
}

diag() {
	if [ $# -gt 0 ]; then
		printf '%s\n' "$*" | sed 's/^/# /'
	else
		sed 's/^/# /'
	fi
}

diag_tail() {
	if [ -f "$1" ]; then
		tail -n "${2:-20}" "$1" | sed "s|^|# ${3:-}|"
	fi
}

tap_cat() {
	cat "$1"
	_lib_k=$(grep -c '^\(not \)\{0,1\}ok ' "$1" || :)
	tap_n=$((tap_n + _lib_k))
	if grep -q '^not ok ' "$1"; then
		_lib_failed=1
	fi
}

plan() {
	_lib_planned=$1
	echo "1..$1"
}

done_testing() {
	if [ -n "$_lib_secret_used" ]; then
		_lib_leaks=$(grep -rlF -- "$TEST_PASSWORD" "$tmp" 2>/dev/null | sed "s|^$tmp/||" || :)
		if [ -z "$_lib_leaks" ]; then
			ok "no output of the programs under test shows the store password"
		else
			notok "the store password is shown in:" $_lib_leaks
		fi
	fi
	if [ -z "$_lib_planned" ]; then
		echo "1..$tap_n"
	fi
	exit "$_lib_failed"
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

require() {
	for _lib_cmd in "$@"; do
		command -v "$_lib_cmd" >/dev/null || skip_all "$_lib_cmd not installed"
	done
}

# ---- the temporary directory and the processes, cleaned up at exit ----
_lib_pids=

tmp=$(mktemp -d "${TMPDIR:-/tmp}/driftd-test.XXXXXX") || {
	echo "Bail out! mktemp -d failed"
	exit 1
}

_lib_cleanup() {
	for _lib_pid in $_lib_pids; do
		kill -KILL "$_lib_pid" 2>/dev/null || :
		wait "$_lib_pid" 2>/dev/null || :
	done
	_lib_pids=
	if [ -n "${TEST_KEEP_TMP:-}" ]; then
		echo "# kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
_lib_traps() {
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
trap _lib_cleanup EXIT
_lib_traps

# The child is forked with the default INT and TERM dispositions: a signal sent to it before it
# runs CMD must not meet the shell's traps (dash would drop it, and the child run on).
spawn() {
	_lib_var=$1
	shift
	trap - INT TERM
	"$@" &
	_lib_pid=$!
	_lib_traps
	_lib_pids="$_lib_pid $_lib_pids"
	eval "$_lib_var=\$_lib_pid"
}

# drops $1 from the processes to kill at exit
_lib_forget() {
	_lib_rest=
	for _lib_pid in $_lib_pids; do
		if [ "$_lib_pid" != "$1" ]; then
			_lib_rest="$_lib_rest $_lib_pid"
		fi
	done
	_lib_pids=$_lib_rest
}

proc_wait() {
	_lib_rc=0
	wait "$1" 2>/dev/null || _lib_rc=$?
	_lib_forget "$1"
	return "$_lib_rc"
}

proc_stop() {
	kill "-${2:-TERM}" "$1" 2>/dev/null || :
	proc_wait "$1"
}

wait_until() {
	_lib_tries=$(($1 * 10))
	shift
	while :; do
		if eval "$*"; then
			return 0
		fi
		if [ "$_lib_tries" -le 0 ]; then
			return 1
		fi
		_lib_tries=$((_lib_tries - 1))
		sleep 0.1
	done
}

free_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---- redis-server ----
REDIS_PID=
REDIS_SOCK=$tmp/redis/redis.sock
REDIS_PORT=
REDIS_URL=
# the password of every redis-server a test starts; redis-cli reads it from REDISCLI_AUTH
TEST_PASSWORD=drIftd-t3st-pw-9c41
REDIS_SPEC="redis+unix://:$TEST_PASSWORD@$REDIS_SOCK"
REDISCLI_AUTH=$TEST_PASSWORD
export REDISCLI_AUTH
_lib_secret_used=

_lib_redis_up() {
	if command -v redis-cli >/dev/null; then
		redis_cli ping 2>/dev/null | grep -q PONG
	else
		[ -S "$REDIS_SOCK" ]
	fi
}

redis_start() {
	_lib_port=0
	if [ "${1:-}" = --tcp ]; then
		shift
		REDIS_PORT=${REDIS_PORT:-$(free_port)}
		_lib_port=$REDIS_PORT
	fi
	[ "$_lib_port" -eq 0 ] || REDIS_URL="redis://:$TEST_PASSWORD@127.0.0.1:$_lib_port"
	_lib_secret_used=1
	mkdir -p "$tmp/redis"
	spawn REDIS_PID redis-server --port "$_lib_port" --bind 127.0.0.1 \
		--unixsocket "$REDIS_SOCK" --save "" --appendonly no --dir "$tmp/redis" \
		--requirepass "$TEST_PASSWORD" "$@" >>"$tmp/redis/redis.log" 2>&1
	wait_until 5 _lib_redis_up
}

redis_stop() {
	if [ -n "$REDIS_PID" ]; then
		proc_stop "$REDIS_PID" "${1:-TERM}" || :
	fi
	REDIS_PID=
}

redis_cli() {
	redis-cli -s "$REDIS_SOCK" "$@"
}

# ---- driftd mock-kafka ----
MOCK_KAFKA_PID=
KAFKA_BROKERS=

mock_kafka_start() {
	spawn MOCK_KAFKA_PID "$D" mock-kafka --control "$tmp/mock.ctl" "$@" >"$tmp/mock.out" 2>&1
	wait_until 5 'grep -q "^bootstrap=" "$tmp/mock.out"' || :
	KAFKA_BROKERS=$(sed -n 's/^bootstrap=//p' "$tmp/mock.out")
	[ -n "$KAFKA_BROKERS" ]
}

mock_kafka_ctl() {
	_lib_n=$(grep -c "^control: " "$tmp/mock.out" || :)
	printf '%s\n' "$*" >"$tmp/mock.ctl"
	wait_until 5 '[ "$(grep -c "^control: " "$tmp/mock.out" || :)" -gt "$_lib_n" ]' || return 1
	grep "^control: " "$tmp/mock.out" | tail -n 1 | grep -q ": ok$"
}

mock_kafka_stop() {
	if [ -n "$MOCK_KAFKA_PID" ]; then
		proc_stop "$MOCK_KAFKA_PID" TERM || :
	fi
	MOCK_KAFKA_PID=
}
