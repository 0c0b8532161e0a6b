#!/usr/bin/env bash
# The demo behind `make demo`: starts the three TCP echo servers (stream,
# the default; line; fixed-buffer) and a UDP echo server on free loopback
# ports, sends them a few messages with tcpclient and udpclient, shows what
# each side saw, and stops the servers the way an operator would.
set -euo pipefail

bin=${BIN:-bin}
tmp=$(mktemp -d)
pids=()
cleanup() {
	# Only the script itself: on a busy machine bash 5.2 was seen to run
	# this EXIT trap in the subshell of a `... | show` pipeline too, which
	# stopped every server and removed the logs half-way through.
	[[ $BASHPID == "$$" ]] || return 0
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# start NAME SERVER ARGS... starts a server whose stderr goes through a pipe, reads
# its first line ("listening on HOST:PORT") with a deadline, then keeps the
# rest in $tmp/NAME.log. Sets $addr and $pid.
start() {
	local name=$1 server=$2 line fd
	shift 2
	mkfifo "$tmp/$name.pipe"
	"$bin/$server" -listen 127.0.0.1:0 -v "$@" 2>"$tmp/$name.pipe" &
	pid=$!
	pids+=("$pid")
	exec {fd}<"$tmp/$name.pipe"
	if ! read -r -t 10 -u "$fd" line || [[ $line != "listening on "* ]]; then
		echo "demo: $name server did not say it was listening: ${line:-nothing within 10s}" >&2
		exit 1
	fi
	addr=${line#listening on }
	cat <&"$fd" >"$tmp/$name.log" &
	exec {fd}<&-
}

# stop PID sends SIGTERM and checks the server exits 0 within 10 seconds.
# It waits for the exit itself; a watchdog kills the server if the 10
# seconds pass first, and is itself stopped, with its sleep, once the wait
# is over: plain waits, which bash keeps track of whatever the timing.
stop() {
	local pid=$1 status=0 watchdog
	kill -TERM "$pid"
	(
		trap 'kill "$nap" 2>/dev/null; exit 0' TERM
		sleep 10 &
		nap=$!
		wait "$nap"
		kill -KILL "$pid" 2>/dev/null
	) >/dev/null 2>&1 &
	watchdog=$!
	wait "$pid" || status=$?
	kill "$watchdog" 2>/dev/null || true
	wait "$watchdog" 2>/dev/null || true
	if [[ $status -eq 137 ]]; then
		echo "demo: server $pid did not stop within 10s of SIGTERM" >&2
		exit 1
	fi
	if [[ $status -ne 0 ]]; then
		echo "demo: server $pid exited $status after SIGTERM" >&2
		exit 1
	fi
}

show() { sed 's/^/    /' "$@"; }

start stream tcpserver
stream=$addr stream_pid=$pid
start fixed tcpserver -framing fixed -size 4
fixed=$addr fixed_pid=$pid
start line tcpserver -framing line
line=$addr line_pid=$pid
start udp udpserver
udp=$addr udp_pid=$pid

echo "== stream server, tcpserver's default, on $stream: each read echoed at once,"
echo "   no line end or half-close needed (choose it to test networks, balancers, clients)"
echo "\$ tcpclient -addr $stream -framing stream ping 你好，世界"
"$bin/tcpclient" -addr "$stream" -framing stream ping 你好，世界 | show
echo
echo "== fixed-buffer server (4-byte buffer) on $fixed: to watch TCP deliver bytes in pieces"
echo "\$ tcpclient -addr $fixed -framing fixed abc abcdefghij 你好，世界"
"$bin/tcpclient" -addr "$fixed" -framing fixed abc abcdefghij 你好，世界 | show
echo
echo "== line server on $line: to see where a line protocol's messages begin and end"
echo "\$ printf 'hello\\nworld\\n' | tcpclient -addr $line"
printf 'hello\nworld\n' | "$bin/tcpclient" -addr "$line" | show
echo "\$ tcpclient -addr $line 你好，世界"
"$bin/tcpclient" -addr "$line" 你好，世界 | show

echo
echo "== UDP server on $udp"
echo "\$ udpclient -addr $udp hi '' 你好，世界"
"$bin/udpclient" -addr "$udp" hi '' 你好，世界 | show

stop "$stream_pid"
stop "$fixed_pid"
stop "$line_pid"
stop "$udp_pid"
wait # for the log copies, which end with their servers

echo
echo "== what the stream server logged (-v: every message; here a message is one read)"
show "$tmp/stream.log"
echo
echo "== what the fixed-buffer server logged (a message is at most 4 bytes)"
show "$tmp/fixed.log"
echo
echo "== what the line server logged (a message is a line)"
show "$tmp/line.log"
echo
echo "== what the UDP server logged (an empty datagram is answered with an empty one)"
show "$tmp/udp.log"
echo
echo "demo: all four servers answered every message and stopped cleanly on SIGTERM"
