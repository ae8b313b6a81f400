/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "http-server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Ends the server thread even when no teardown stops it; long enough for
 * the slowest test between two of its requests. */
#define ACCEPT_TIMEOUT_S 20

static void set_timeouts(int fd, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

void http_send_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;             /* the client went away: fine */
		p += n;
		len -= n;
	}
}

void http_send_text(int fd, const char *text)
{
	http_send_all(fd, text, strlen(text));
}

void http_send_response(int fd, const char *status, const char *body)
{
	g_autofree char *head = g_strdup_printf("HTTP/1.1 %s\r\nContent-Length: %zu\r\n"
						"Connection: close\r\n\r\n", status, strlen(body));

	http_send_text(fd, head);
	http_send_text(fd, body);
}

/* Reads up to the end of the request head; false on EOF, timeout or overflow. */
static bool read_request(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len + 1 < size) {
		ssize_t n = recv(fd, buf + len, size - 1 - len, 0);

		if (n <= 0)
			return false;
		len += n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			return true;
	}
	return false;
}

static void serve_one(struct http_server *s, int fd)
{
	char buf[8192], target[1024];

	/* Anything but a GET gets no answer: the client sees the connection close. */
	if (!read_request(fd, buf, sizeof(buf)) ||
	    sscanf(buf, "GET %1023s HTTP/1.1", target) != 1)
		return;
	/* Counted before the answer, so a client that has one sees the count. */
	g_atomic_int_inc(&s->requests);
	s->handler(fd, target, buf, s->opaque);
}

static void *serve(void *opaque)
{
	struct http_server *s = opaque;

	for (int i = 0; i < HTTP_SERVER_MAX_CONNS; i++) {
		char drain[4096];
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			break;      /* shut down, timed out, or broken: stop serving */
		set_timeouts(fd, HTTP_SERVER_SOCKET_TIMEOUT_S);
		serve_one(s, fd);
		/* Let the client see the end of the data, then wait (bounded)
		 * for it to close, so it never gets a reset instead. */
		shutdown(fd, SHUT_WR);
		while (recv(fd, drain, sizeof(drain), 0) > 0)
			;
		close(fd);
	}
	return NULL;
}

void http_server_start(struct http_server *s, http_server_handler handler, void *opaque)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);

	memset(s, 0, sizeof(*s));
	s->handler = handler;
	s->opaque = opaque;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->listen_fd >= 0);
	assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(s->listen_fd, 16), 0);
	set_timeouts(s->listen_fd, ACCEPT_TIMEOUT_S);
	assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *)&addr, &len), 0);
	s->port = ntohs(addr.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

void http_server_stop(struct http_server *s)
{
	shutdown(s->listen_fd, SHUT_RDWR);      /* wakes accept() */
	pthread_join(s->thread, NULL);
	close(s->listen_fd);
}

int http_server_requests(struct http_server *s)
{
	return g_atomic_int_get(&s->requests);
}
