#!/usr/bin/env bash
# The conformance checks CI runs with the very command users type:
#   make conformance must pass against echo servers we did not write
#   (socat's, xinetd's built-in one) and against ours as shipped, and must
#   fail against each of the article's broken servers.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
pids=() # a forking server's children (socat fork) are killed with it
trap 'for p in "${pids[@]}"; do pkill -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT

# start NAME READY CMD... runs a server with its stderr on a pipe, waits
# (10 s at most) for a line containing READY, sets $line to that line and
# keeps the rest of the output in $tmp/NAME.log.
start() {
	local name=$1 ready=$2 fd
	shift 2
	mkfifo "$tmp/$name.pipe"
	"$@" 2>"$tmp/$name.pipe" &
	pids+=($!)
	exec {fd}<"$tmp/$name.pipe"
	line=
	while read -r -t 10 -u "$fd" line; do
		[[ $line == *"$ready"* ]] && break
	done
	if [[ $line != *"$ready"* ]]; then
		echo "conformance: $name did not say '$ready' within 10s" >&2
		exit 1
	fi
	cat <&"$fd" >"$tmp/$name.log" &
	exec {fd}<&-
}

# free_port prints a loopback port that no TCP or UDP socket uses now.
free_port() {
	local port
	for _ in $(seq 50); do
		port=$((20000 + RANDOM % 30000))
		if ! ss -Htuan | awk '{print $5}' | grep -q ":$port\$"; then
			echo "$port"
			return
		fi
	done
	echo "conformance: no free port" >&2
	exit 1
}

pass() {
	echo "== must pass: $1"
	shift
	make --no-print-directory conformance "$@" >"$tmp/run.log" 2>&1 || { cat "$tmp/run.log"; echo "conformance: expected a pass" >&2; exit 1; }
	grep -E '^[0-9]+ scenarios' "$tmp/run.log"
	last=$(tail -n 1 "$tmp/run.log")
	echo "$last"
}

fail() {
	echo "== must fail: $1"
	shift
	if make --no-print-directory conformance "$@" >"$tmp/run.log" 2>&1; then
		cat "$tmp/run.log"
		echo "conformance: passed a server it must fail" >&2
		exit 1
	fi
	grep -E '^[0-9]+ scenarios' "$tmp/run.log"
	grep -E '^[0-9]+ passed, [0-9]+ failed' "$tmp/run.log"
	sed -n '/Failed steps/,/^[0-9]* scenarios/p' "$tmp/run.log" | grep -E '^\s+(Scenario|Error:)' | head -8 || true
}

# must_say TEXT checks that the last run's failure says TEXT.
must_say() {
	grep -qF "$1" "$tmp/run.log" || { cat "$tmp/run.log"; echo "conformance: the failure does not say '$1'" >&2; exit 1; }
}

make --no-print-directory build >/dev/null
go build -o bin/ ./steps/articlebugs/articleecho

start socat "listening on AF=2 " socat -d -d TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr EXEC:cat
socat_addr=${line##*AF=2 }
pass "socat TCP-LISTEN,fork EXEC:cat at $socat_addr" TCP="$socat_addr"
# Without a UDP address, the UDP scenarios are skipped, and counted so.
if ! [[ $last =~ ^[1-9][0-9]*\ passed,\ 0\ failed,\ 5\ skipped\ \(no\ UDP\ address\)$ ]]; then
	echo "conformance: a TCP-only run ended with '$last'" >&2
	exit 1
fi

# xinetd says "Started working" even when one of its services could not
# bind its port (a port taken between free_port and the bind): it is
# started again on another port until its TCP port accepts, three times
# at most.
for try in 1 2 3; do
	port=$(free_port)
	# The same configuration the scenarios use (internal/xinetd).
	sed "s/PORT/$port/" internal/xinetd/echo.conf >"$tmp/xinetd.conf"
	rm -f "$tmp/xinetd.pipe"
	start xinetd "Started working" /usr/sbin/xinetd -dontfork -filelog /dev/stderr -pidfile "$tmp/xinetd.pid" -f "$tmp/xinetd.conf"
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		break
	fi
	echo "conformance: xinetd's TCP echo did not take port $port; trying another" >&2
	kill "${pids[-1]}" 2>/dev/null || true
	[[ $try == 3 ]] && { cat "$tmp/xinetd.log" >&2; exit 1; }
done
xinetd_addr=127.0.0.1:$port
pass "xinetd's built-in echo, datagrams up to its 2048-byte limit" TCP="$xinetd_addr" UDP="$xinetd_addr" MAX_DATAGRAM=2048
fail "xinetd's built-in echo with the largest datagram (it cuts to 2048 bytes)" TCP="$xinetd_addr" UDP="$xinetd_addr"

# Servers listening on all addresses, addressed as 127.0.0.2: the echo
# must come back from 127.0.0.2. socat's and xinetd's answer from
# 127.0.0.1, the address their route to the client prefers, so a client
# never hears them; ours answers from the address each datagram came to.
port=$(free_port) # socat says "0.0.0.0:0" when given port 0
start socat-udp-any "receiving on AF=2 " socat -d -d "UDP-RECVFROM:$port,fork" EXEC:cat
# socat's forked children sometimes answer nothing at all within a run
# (two runs of five here), so only xinetd's failure is checked for its words.
fail "socat UDP-RECVFROM,fork EXEC:cat on 0.0.0.0, addressed as 127.0.0.2" UDP="127.0.0.2:$port"
port=$(free_port)
sed "s/PORT/$port/; s/bind        = 127.0.0.1/bind        = 0.0.0.0/" internal/xinetd/echo.conf >"$tmp/xinetd-any.conf"
start xinetd-any "Started working" /usr/sbin/xinetd -dontfork -filelog /dev/stderr -pidfile "$tmp/xinetd-any.pid" -f "$tmp/xinetd-any.conf"
fail "xinetd's built-in UDP echo on 0.0.0.0, addressed as 127.0.0.2" UDP="127.0.0.2:$port" MAX_DATAGRAM=2048
must_say "from 127.0.0.1:$port, which a client connected to 127.0.0.2:$port never sees"
for any in 0.0.0.0 '[::]'; do
	start "udpserver-any-$any" "listening on " bin/udpserver -listen "$any:0"
	pass "our own udpserver on $any, addressed as 127.0.0.2" UDP="127.0.0.2:${line##*:}"
done

start tcpserver "listening on " bin/tcpserver -listen 127.0.0.1:0
tcp_addr=${line#listening on }
start udpserver "listening on " bin/udpserver -listen 127.0.0.1:0
udp_addr=${line#listening on }
pass "our own tcpserver and udpserver, with their defaults" TCP="$tcp_addr" UDP="$udp_addr"
start tcpserver-fixed "listening on " bin/tcpserver -listen 127.0.0.1:0 -framing fixed
pass "our own tcpserver -framing fixed" TCP="${line#listening on }"

# The line framing holds bytes until a line end: no RFC 862 echo, and the
# run must say which scenarios caught it and why.
start tcpserver-line "listening on " bin/tcpserver -listen 127.0.0.1:0 -framing line
fail "our own tcpserver -framing line (it waits for a line end)" TCP="${line#listening on }"
for want in "TCP: data comes back as it is received, not at a line end" "it waits for a line end"; do
	must_say "$want"
done

for bug in stale-buffer drop-newline pad-datagram; do
	start "$bug" "listening on " bin/articleecho -bug "$bug"
	addr=${line#listening on }
	if [[ $bug == pad-datagram ]]; then
		fail "the article's $bug server" UDP="$addr"
	else
		fail "the article's $bug server" TCP="$addr"
	fi
done
echo "conformance: every check came out as it must"
