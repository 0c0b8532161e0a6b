#!/usr/bin/env bash
# The demo behind `make demo`: starts a fixed-buffer and a line echo server
# on free loopback ports, sends them a few messages with tcpclient, shows
# what each side saw, and stops the servers the way an operator would.
set -euo pipefail

bin=${BIN:-bin}
tmp=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# start NAME ARGS... starts a server whose stderr goes through a pipe, reads
# its first line ("listening on HOST:PORT") with a deadline, then keeps the
# rest in $tmp/NAME.log. Sets $addr and $pid.
start() {
	local name=$1 line fd
	shift
	mkfifo "$tmp/$name.pipe"
	"$bin/tcpserver" -listen 127.0.0.1:0 -v "$@" 2>"$tmp/$name.pipe" &
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

# stop PID sends SIGTERM and checks the server exits 0, within 10 seconds.
stop() {
	kill -TERM "$1"
	if ! timeout 10 tail --pid="$1" -f /dev/null; then
		echo "demo: server $1 did not stop within 10s of SIGTERM" >&2
		exit 1
	fi
	wait "$1" || { echo "demo: server $1 exited $? after SIGTERM" >&2; exit 1; }
}

show() { sed 's/^/    /' "$@"; }

start fixed -framing fixed -size 4
fixed=$addr fixed_pid=$pid
start line -framing line
line=$addr line_pid=$pid

echo "== fixed-buffer server (4-byte buffer) on $fixed"
echo "\$ tcpclient -addr $fixed -framing fixed abc abcdefghij 你好，世界"
"$bin/tcpclient" -addr "$fixed" -framing fixed abc abcdefghij 你好，世界 | show
echo
echo "== line server on $line"
echo "\$ printf 'hello\\nworld\\n' | tcpclient -addr $line"
printf 'hello\nworld\n' | "$bin/tcpclient" -addr "$line" | show
echo "\$ tcpclient -addr $line 你好，世界"
"$bin/tcpclient" -addr "$line" 你好，世界 | show

stop "$fixed_pid"
stop "$line_pid"
wait # for the log copies, which end with their servers

echo
echo "== what the fixed-buffer server logged (-v: every message)"
show "$tmp/fixed.log"
echo
echo "== what the line server logged"
show "$tmp/line.log"
echo
echo "demo: both servers answered every message and stopped cleanly on SIGTERM"
