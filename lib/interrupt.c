/* SPDX-License-Identifier: MIT */
#include "interrupt.h"

#include <signal.h>
#include <string.h>

/* The one piece of global mutable state: a signal handler can set nothing else. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

void hpci_interrupt_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

bool hpci_interrupted(void)
{
	return interrupted != 0;
}

void hpci_interrupt_raise(void)
{
	interrupted = 1;
}
