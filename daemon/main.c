/*
 * main.c - crestd: set up, start the components, serve, shut down.
 *
 *   crestd -c CONFIG [-s SOCKET] [-d STORE] [-v]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crestd.h"
#include "server.h"

static int verbose;

static void log_stderr(enum crest_log_level lvl, const char *msg, void *ud)
{
	(void)ud;
	(void)lvl;
	fprintf(stderr, "crestd: %s\n", msg);
}

static int mkdirs(const char *path, mode_t mode)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static char *default_path(const char *root_path, const char *env, const char *fallback_rel, const char *leaf)
{
	char *s = NULL;
	if (getuid() == 0)
		return strdup(root_path);
	const char *base = getenv(env);
	if (base && *base) {
		if (asprintf(&s, "%s/crest%s", base, leaf) < 0)
			return NULL;
	} else {
		const char *home = getenv("HOME");
		if (asprintf(&s, "%s/%s/crest%s", home ? home : "/tmp", fallback_rel, leaf) < 0)
			return NULL;
	}
	return s;
}

/* Listen on the control socket: 0660 root:crest as root, else 0600. */
static int open_socket(const char *path)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdirs(dir, 0755);
	}
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "crestd: socket path %s is too long\n", path);
		return -1;
	}
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	/* a socket left by a crestd that died: replace it, unless one answers */
	int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&a, sizeof(a)) == 0) {
		fprintf(stderr, "crestd: another crestd is already serving %s\n", path);
		close(probe);
		close(fd);
		return -1;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	mode_t old = umask(0177);
	int r = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (r < 0 || listen(fd, 64) < 0) {
		fprintf(stderr, "crestd: cannot listen on %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (getuid() == 0) {
		struct group *g = getgrnam("crest");
		if (g && chown(path, 0, g->gr_gid) == 0)
			chmod(path, 0660);
		else
			fprintf(stderr, "crestd: no group 'crest' (groupadd --system crest): %s is root-only (0600)\n", path);
	}
	return fd;
}

static void marker_path(struct crestd *d, const struct comp *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/.restore-on-start", d->cfg.store, c->label);
}

static void start_all(struct crestd *d)
{
	for (size_t i = 0; i < d->cfg.n; i++) {
		struct comp *c = &d->cfg.comps[i];
		char err[512], m[4200];
		store_prepare(d, c, err, sizeof(err));
		comp_log_open(d, c);
		marker_path(d, c, m, sizeof(m));
		pthread_mutex_lock(&d->lock);
		if (access(m, F_OK) == 0) {
			unlink(m);
			if (crestd_restore(d, c, NULL, 0) == 0) {
				pthread_mutex_unlock(&d->lock);
				continue;
			}
		}
		if (comp_start(d, c, err, sizeof(err)) < 0) {
			fprintf(stderr, "crestd: %s\n", err);
			comp_log_line(d, c, err, strlen(err));
		}
		pthread_mutex_unlock(&d->lock);
	}
}

static void wait_jobs(struct crestd *d)
{
	for (int i = 0; i < 6000; i++) {
		pthread_mutex_lock(&d->lock);
		unsigned j = d->jobs;
		pthread_mutex_unlock(&d->lock);
		if (!j)
			return;
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
}

/* SIGTERM: checkpoint the components (on_shutdown = checkpoint) so the next
 * crestd restores them, or stop them: TERM, then KILL after 3 s. */
static void shutdown_all(struct crestd *d)
{
	d->stopping = true;
	wait_jobs(d);
	for (size_t i = 0; i < d->cfg.n; i++) {
		struct comp *c = &d->cfg.comps[i];
		if (c->state != COMP_RUNNING || c->pid <= 0)
			continue;
		if (d->cfg.shutdown_checkpoint) {
			crestd_checkpoint_now(d, c);
			if (c->state == COMP_CHECKPOINTED) {
				char m[4200];
				marker_path(d, c, m, sizeof(m));
				int fd = open(m, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
				if (fd >= 0)
					close(fd);
				continue;
			}
		}
		c->state = COMP_STOPPED;
		kill(c->pid, SIGTERM);
	}
	for (int t = 0; t < 300; t++) {
		bool any = false;
		for (size_t i = 0; i < d->cfg.n; i++) {
			struct comp *c = &d->cfg.comps[i];
			if (c->pid > 0 && waitpid(c->pid, NULL, WNOHANG) == 0)
				any = true;
			else if (c->pid > 0)
				c->pid = 0;
		}
		if (!any)
			break;
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	for (size_t i = 0; i < d->cfg.n; i++)
		if (d->cfg.comps[i].pid > 0) {
			kill(d->cfg.comps[i].pid, SIGKILL);
			waitpid(d->cfg.comps[i].pid, NULL, 0);
		}
	for (size_t i = 0; i < d->cfg.n; i++)
		comp_log_drain(d, &d->cfg.comps[i]);
}

int main(int argc, char **argv)
{
	const char *config = NULL, *sock = NULL, *store = NULL;
	int c;
	while ((c = getopt(argc, argv, "c:s:d:vh")) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 's': sock = optarg; break;
		case 'd': store = optarg; break;
		case 'v': verbose++; break;
		default:
			fprintf(stderr, "usage: crestd -c CONFIG [-s SOCKET] [-d STORE] [-v]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (!config) {
		fprintf(stderr, "crestd: no configuration: crestd -c CONFIG (see docs/config.md)\n");
		return 2;
	}
	struct crestd d = {.listen_fd = -1};
	char err[1024];
	if (crestd_config_load(config, &d.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "crestd: %s\n", err);
		return 1;
	}
	if (store) {
		free(d.cfg.store);
		d.cfg.store = strdup(store);
	} else if (!d.cfg.store) {
		d.cfg.store = default_path("/var/lib/crest", "XDG_STATE_HOME", ".local/state", "");
	}
	if (sock) {
		free(d.cfg.socket_path);
		d.cfg.socket_path = strdup(sock);
	} else if (!d.cfg.socket_path) {
		d.cfg.socket_path = default_path("/run/crest/crestd.sock", "XDG_RUNTIME_DIR", ".cache", "/crestd.sock");
	}
	if (mkdirs(d.cfg.store, 0700) < 0) {
		fprintf(stderr, "crestd: cannot create the store %s: %s\n", d.cfg.store, strerror(errno));
		return 1;
	}
	chmod(d.cfg.store, 0700);
	struct crest_ctx_opts co = {.sz = sizeof(co), .log_fn = log_stderr,
				    .log_level = verbose ? CREST_LOG_DEBUG : CREST_LOG_WARN};
	crest_error *cerr = NULL;
	if (crest_ctx_new(&co, &d.ctx, &cerr) < 0) {
		fprintf(stderr, "crestd: %s\n", crest_error_message(cerr));
		return 1;
	}
	pthread_mutex_init(&d.lock, NULL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d.sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	d.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (d.sig_fd < 0 || d.wake_fd < 0 || d.devnull < 0)
		return 1;
	d.listen_fd = open_socket(d.cfg.socket_path);
	if (d.listen_fd < 0)
		return 1;
	fprintf(stderr, "crestd: serving %s, store %s, %zu components\n", d.cfg.socket_path, d.cfg.store, d.cfg.n);
	start_all(&d);
	int r = crestd_loop(&d);
	fprintf(stderr, "crestd: shutting down%s\n", d.cfg.shutdown_checkpoint ? " (checkpointing components)" : "");
	shutdown_all(&d);
	unlink(d.cfg.socket_path);
	crestd_config_free(&d.cfg);
	crest_ctx_free(d.ctx);
	return r < 0 ? 1 : 0;
}
