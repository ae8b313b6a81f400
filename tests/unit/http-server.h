/* SPDX-License-Identifier: MIT */
#ifndef HPCI_TEST_HTTP_SERVER_H
#define HPCI_TEST_HTTP_SERVER_H

/*
 * A tiny HTTP/1.1 server on 127.0.0.1 for unit tests, in a thread of the test
 * process.  It answers one GET per connection and serves at most
 * HTTP_SERVER_MAX_CONNS connections; every socket it owns has a timeout, so
 * it can never hang a test.  What it answers is up to the test's handler.
 */

#include <glib.h>
#include <pthread.h>
#include <stddef.h>

#define HTTP_SERVER_MAX_CONNS 32
#define HTTP_SERVER_SOCKET_TIMEOUT_S 5

/*
 * Answers one request on fd, from the server thread.  target is the request
 * line's path and query; request is the whole head (request line and
 * headers, ending in an empty line).  Returning closes the connection.
 */
typedef void (*http_server_handler)(int fd, const char *target, const char *request,
				    void *opaque);

struct http_server {
	int port;               /* set by http_server_start() */
	/* private */
	int listen_fd;
	int requests;           /* atomic */
	pthread_t thread;
	http_server_handler handler;
	void *opaque;
};

/* Listens on an ephemeral port of 127.0.0.1 and serves there with handler;
 * fails the test on error. */
void http_server_start(struct http_server *s, http_server_handler handler, void *opaque);
/* Stops serving and waits for the server thread. */
void http_server_stop(struct http_server *s);
/* The requests handed to the handler so far. */
int http_server_requests(struct http_server *s);

/* Writes to the client; a client that went away is not an error. */
void http_send_all(int fd, const void *data, size_t len);
void http_send_text(int fd, const char *text);
/* A complete response: status ("404 Not Found"), Content-Length and body. */
void http_send_response(int fd, const char *status, const char *body);

#endif
