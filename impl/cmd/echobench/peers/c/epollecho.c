/*
 * epollecho: the floor a Go echo server can approach, as make bench runs
 * it beside ours: one thread, one epoll set, level-triggered, every
 * socket non-blocking; each read echoed at once, whatever the write does
 * not take kept and written when the socket is writable again (the
 * socket then read no more until it is). No framing, no limits, no
 * events: the least work an echo can be.
 *
 *   epollecho [-listen HOST:PORT]
 *
 * It says "listening on HOST:PORT" on stderr once it accepts, and stops
 * on SIGINT or SIGTERM.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF (64 * 1024)
#define EVENTS 256

struct conn {
	int fd;
	size_t off, len; /* bytes of buf not yet written back */
	char buf[BUF];
};

static volatile sig_atomic_t stopping;

static void stop(int sig) { (void)sig; stopping = 1; }

static int parse(const char *hostport, struct sockaddr_in *sa) {
	char host[64];
	const char *colon = strrchr(hostport, ':');
	if (!colon || (size_t)(colon - hostport) >= sizeof host)
		return -1;
	memcpy(host, hostport, colon - hostport);
	host[colon - hostport] = 0;
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons(atoi(colon + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static void drop(int ep, struct conn *c) {
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* flush writes what c holds; -1: the connection is over. */
static int flush(struct conn *c) {
	while (c->len > 0) {
		ssize_t n = write(c->fd, c->buf + c->off, c->len);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->off += n;
		c->len -= n;
	}
	return 0;
}

static void serve(int ep, struct conn *c, unsigned events) {
	if (c->len > 0) { /* waiting to write: only writable matters */
		if (flush(c) < 0) {
			drop(ep, c);
			return;
		}
		if (c->len == 0) {
			struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
			epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		}
		return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	ssize_t n = read(c->fd, c->buf, BUF);
	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		drop(ep, c);
		return;
	}
	if (n < 0)
		return;
	c->off = 0;
	c->len = n;
	if (flush(c) < 0) {
		drop(ep, c);
		return;
	}
	if (c->len > 0) {
		struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
}

int main(int argc, char **argv) {
	const char *listen_at = "127.0.0.1:0";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-listen") == 0 && i + 1 < argc)
			listen_at = argv[++i];
		else {
			fprintf(stderr, "usage: epollecho [-listen HOST:PORT]\n");
			return 2;
		}
	}
	struct sockaddr_in sa;
	if (parse(listen_at, &sa) < 0) {
		fprintf(stderr, "epollecho: -listen %s: not an IPv4 HOST:PORT\n", listen_at);
		return 2;
	}
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4096) < 0) {
		perror("epollecho: listen");
		return 1;
	}
	socklen_t salen = sizeof sa;
	getsockname(lfd, (struct sockaddr *)&sa, &salen);
	char host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);
	struct sigaction act = {.sa_handler = stop};
	sigaction(SIGINT, &act, NULL);
	sigaction(SIGTERM, &act, NULL);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	fprintf(stderr, "listening on %s:%d\n", host, ntohs(sa.sin_port));
	struct epoll_event events[EVENTS];
	while (!stopping) {
		int n = epoll_wait(ep, events, EVENTS, -1);
		for (int i = 0; i < n; i++) {
			if (events[i].data.ptr == NULL) {
				int fd;
				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					struct conn *c = malloc(sizeof *c);
					c->fd = fd;
					c->off = c->len = 0;
					struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
				}
				continue;
			}
			serve(ep, events[i].data.ptr, events[i].events);
		}
	}
	return 0;
}
