/*
 * mmsgecho: the floor a Go UDP echo server can approach, as make bench
 * runs it beside ours: one thread, one socket, datagrams read in batches
 * of up to 64 with recvmmsg and answered, each to its sender, with one
 * sendmmsg. No guard, no events.
 *
 *   mmsgecho [-listen HOST:PORT]
 *
 * It says "listening on HOST:PORT" on stderr once it receives, and stops
 * on SIGINT or SIGTERM.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define SIZE 65536

static volatile sig_atomic_t stopping;

static void stop(int sig) { (void)sig; stopping = 1; }

int main(int argc, char **argv) {
	const char *listen_at = "127.0.0.1:0";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-listen") == 0 && i + 1 < argc)
			listen_at = argv[++i];
		else {
			fprintf(stderr, "usage: mmsgecho [-listen HOST:PORT]\n");
			return 2;
		}
	}
	char host[64];
	const char *colon = strrchr(listen_at, ':');
	struct sockaddr_in sa = {.sin_family = AF_INET};
	if (!colon || (size_t)(colon - listen_at) >= sizeof host) {
		fprintf(stderr, "mmsgecho: -listen %s: not an IPv4 HOST:PORT\n", listen_at);
		return 2;
	}
	memcpy(host, listen_at, colon - listen_at);
	host[colon - listen_at] = 0;
	sa.sin_port = htons(atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "mmsgecho: -listen %s: not an IPv4 HOST:PORT\n", listen_at);
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("mmsgecho: listen");
		return 1;
	}
	socklen_t salen = sizeof sa;
	getsockname(fd, (struct sockaddr *)&sa, &salen);
	inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);
	/* No SA_RESTART: a signal ends the blocking recvmmsg with EINTR. */
	struct sigaction act = {.sa_handler = stop};
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);
	static char bufs[BATCH][SIZE];
	static struct sockaddr_in from[BATCH];
	static struct iovec iov[BATCH];
	static struct mmsghdr msgs[BATCH];
	fprintf(stderr, "listening on %s:%d\n", host, ntohs(sa.sin_port));
	while (!stopping) {
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = SIZE};
			msgs[i].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_namelen = sizeof from[i], .msg_iov = &iov[i], .msg_iovlen = 1};
		}
		int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("mmsgecho: recvmmsg");
			return 1;
		}
		for (int i = 0; i < n; i++)
			iov[i].iov_len = msgs[i].msg_len;
		for (int sent = 0; sent < n;) {
			int m = sendmmsg(fd, msgs + sent, n - sent, 0);
			if (m < 0) {
				sent++; /* a datagram the kernel refuses is lost, as UDP may */
				continue;
			}
			sent += m;
		}
	}
	return 0;
}
