/*
 * comp.c - starting components as crestd's children, and their logs.
 *
 * A component's stdout and stderr are one pipe whose read end crestd
 * polls; every line goes into STORE/LABEL/log with a UTC timestamp, and
 * the log rotates to log.1 past log_max_bytes.  crestd keeps the write end
 * too, so that a restored component is given the same pipe and its output
 * simply continues in the same log.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crestd.h"

extern char **environ;

int comp_log_open(struct crestd *d, struct comp *c)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s/log", d->cfg.store, c->label);
	if (c->log_fd >= 0)
		close(c->log_fd);
	c->log_fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (c->log_fd < 0)
		return -errno;
	struct stat st;
	c->log_size = fstat(c->log_fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	if (c->log_r < 0) {
		int p2[2];
		if (pipe2(p2, O_CLOEXEC | O_NONBLOCK) < 0)
			return -errno;
		/* the write end blocks normally for the component */
		fcntl(p2[1], F_SETFL, 0);
		c->log_r = p2[0];
		c->log_w = p2[1];
	}
	return 0;
}

void comp_log_line(struct crestd *d, struct comp *c, const char *line, size_t len)
{
	if (c->log_fd < 0)
		return;
	if (c->log_size > d->cfg.log_max) {
		char p[4096], p1[4096];
		snprintf(p, sizeof(p), "%s/%s/log", d->cfg.store, c->label);
		snprintf(p1, sizeof(p1), "%s/%s/log.1", d->cfg.store, c->label);
		rename(p, p1);
		comp_log_open(d, c);
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char head[48];
	int hn = snprintf(head, sizeof(head), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ ", tm.tm_year + 1900, tm.tm_mon + 1,
			  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	struct iovec iov[3] = {{head, (size_t)hn}, {(void *)line, len}, {(void *)"\n", 1}};
	ssize_t w = writev(c->log_fd, iov, 3);
	if (w > 0)
		c->log_size += (uint64_t)w;
}

void comp_log_drain(struct crestd *d, struct comp *c)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read(c->log_r, buf, sizeof(buf));
		if (n <= 0)
			return;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' || c->partial_len == sizeof(c->partial)) {
				comp_log_line(d, c, c->partial, c->partial_len);
				c->partial_len = 0;
				if (buf[i] == '\n')
					continue;
			}
			c->partial[c->partial_len++] = buf[i];
		}
	}
}

int comp_start(struct crestd *d, struct comp *c, char *err, size_t errlen)
{
	int r = store_prepare(d, c, err, errlen);
	if (r < 0)
		return r;
	if ((r = comp_log_open(d, c)) < 0) {
		snprintf(err, errlen, "cannot open the log of %s: %s", c->label, strerror(-r));
		return r;
	}
	int ep[2];
	if (pipe2(ep, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -errno;
	}
	pid_t pid = fork();
	if (pid < 0) {
		close(ep[0]);
		close(ep[1]);
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		/* the component: its own session, stdio to the log pipe, the
		 * configured directory and environment; exec errors go back
		 * through ep. */
		setsid();
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		dup2(d->devnull, 0);
		dup2(c->log_w, 1);
		dup2(c->log_w, 2);
		int e = 0;
		if (c->cwd && chdir(c->cwd) < 0)
			e = errno;
		for (size_t i = 0; !e && c->envp && c->envp[i]; i++)
			putenv(c->envp[i]);
		/* nothing but 0-2 goes to the component, not even what crestd
		 * itself inherited (ep[1] is close-on-exec) */
		if (!e) {
			if (ep[1] > 3)
				syscall(SYS_close_range, 3, ep[1] - 1, 0);
			syscall(SYS_close_range, ep[1] + 1, ~0u, 0);
		}
		if (!e)
			execvp(c->argv[0], c->argv);
		e = e ? e : errno;
		if (write(ep[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(ep[1]);
	int e = 0;
	ssize_t n = read(ep[0], &e, sizeof(e));
	close(ep[0]);
	if (n == (ssize_t)sizeof(e)) {
		int st;
		waitpid(pid, &st, 0);
		snprintf(err, errlen, "cannot start %s (%s): %s", c->label, c->argv[0], strerror(e));
		c->state = COMP_FAILED;
		return -e;
	}
	c->pid = pid;
	c->state = COMP_RUNNING;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	c->started_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return 0;
}
