/*
 * server.c - crestd's request loop and its jobs (docs/protocol.md).
 *
 * One poll() loop serves the socket, the clients, the components' log
 * pipes and signals.  A request that takes time (checkpoint, restore)
 * marks its component busy and runs on a thread of its own, which answers
 * the client itself; the loop goes on serving `list`, `status` and the
 * logs meanwhile.  The loop never waits on a busy component: the job owns
 * it (a dump ptraces it, and a tracer's wait would race the loop's).
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
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

#define MSG_MAX (64 * 1024)
#define MAX_CLIENTS 64

struct client {
	int fd;
	uid_t uid;
	bool waiting;            /* a job will answer it */
	int follow;              /* index+1 of a component whose log it follows */
	off_t follow_pos;
};

static struct client clients[MAX_CLIENTS];

static uint64_t now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int send_json(int fd, json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	ssize_t n = send(fd, s, strlen(s), MSG_NOSIGNAL);
	json_object_put(o);
	return n < 0 ? -errno : 0;
}

/* An error reply: a stable code (see docs/protocol.md) and a message. */
static int send_err(int fd, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int send_err(int fd, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object *o = json_object_new_object(), *e = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(o, "error", e);
	return send_json(fd, o);
}

static json_object *ok_reply(void)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	return o;
}

static const char *state_name(enum comp_state s)
{
	static const char *const n[] = {"stopped", "running", "exited", "checkpointed", "failed"};
	return n[s];
}

static json_object *comp_json(struct comp *c)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "label", json_object_new_string(c->label));
	json_object_object_add(o, "state", json_object_new_string(state_name(c->state)));
	json_object_object_add(o, "pid", json_object_new_int(c->pid));
	json_object_object_add(o, "busy", json_object_new_boolean(c->busy));
	json_object_object_add(o, "restarts", json_object_new_int((int)c->restarts));
	json_object_object_add(o, "started_ns", json_object_new_int64((int64_t)c->started_ns));
	if (c->state == COMP_EXITED) {
		int st = c->exit_status;
		json_object_object_add(o, "exit", WIFSIGNALED(st) ? json_object_new_string(strsignal(WTERMSIG(st)))
								   : json_object_new_int(WEXITSTATUS(st)));
	}
	return o;
}

static struct comp *find(struct crestd *d, const char *label)
{
	for (size_t i = 0; i < d->cfg.n; i++)
		if (!strcmp(d->cfg.comps[i].label, label))
			return &d->cfg.comps[i];
	return NULL;
}

/* ---- jobs -------------------------------------------------------------- */

struct job {
	struct crestd *d;
	struct comp *c;
	struct client *cl;       /* NULL: nobody waits for the answer */
	bool restore;
	bool leave_running;
	unsigned id;
};

static void job_done(struct job *j)
{
	pthread_mutex_lock(&j->d->lock);
	j->c->busy = false;
	if (j->cl)
		j->cl->waiting = false;
	j->d->jobs--;
	pthread_mutex_unlock(&j->d->lock);
	uint64_t one = 1;
	if (write(j->d->wake_fd, &one, sizeof(one)) < 0)
		return;
}

static void answer(struct job *j, json_object *o)
{
	if (j->cl)
		send_json(j->cl->fd, o);
	else
		json_object_put(o);
}

/* A job nobody waits for failed: say so in crestd's output and in the
 * component's log. */
static void bg_failure(struct crestd *d, struct comp *c, const char *what)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "crestd: %s", what);
	fprintf(stderr, "%s\n", line);
	pthread_mutex_lock(&d->lock);
	comp_log_line(d, c, line, n > 0 && (size_t)n < sizeof(line) ? (size_t)n : strlen(line));
	pthread_mutex_unlock(&d->lock);
}

static void write_meta(const char *dir, struct comp *c, pid_t pid, const struct crest_dump_stats *st)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/meta.json", dir);
	json_object *o = json_object_new_object();
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_object_add(o, "label", json_object_new_string(c->label));
	json_object_object_add(o, "time", json_object_new_int64(ts.tv_sec));
	json_object_object_add(o, "pid", json_object_new_int(pid));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)st->bytes_written));
	json_object_object_add(o, "pages", json_object_new_int64((int64_t)st->bytes_pages));
	json_object_object_add(o, "frozen_ms", json_object_new_double((double)st->frozen_ns / 1e6));
	json_object_object_add(o, "total_ms", json_object_new_double((double)st->total_ns / 1e6));
	json_object_to_file_ext(p, o, JSON_C_TO_STRING_PRETTY);
	json_object_put(o);
}

static void *job_checkpoint(void *arg)
{
	struct job *j = arg;
	struct crestd *d = j->d;
	struct comp *c = j->c;
	char dir[4096], tmp[4096], err[512];
	pid_t pid = c->pid;
	unsigned id = 1;
	if (store_prepare(d, c, err, sizeof(err)) < 0) {
		if (j->cl)
			send_err(j->cl->fd, "internal", "checkpoint of %s: %s", c->label, err);
		else
			bg_failure(d, c, err);
		goto out;
	}
	if (store_latest(d, c, &id) == 0)
		id++;
	store_path(d, c, id, dir, sizeof(dir));
	snprintf(tmp, sizeof(tmp), "%s/%s/.tmp-%u", d->cfg.store, c->label, id);
	struct crest_dump_opts o = {.sz = sizeof(o), .pid = pid, .dir = tmp,
				    .flags = CREST_DUMP_EXTERNAL_STDIO | (j->leave_running ? CREST_DUMP_LEAVE_RUNNING : 0)};
	struct crest_dump_stats st = {.sz = sizeof(st)};
	crest_error *e = NULL;
	if (crest_dump(d->ctx, &o, &st, &e) < 0) {
		if (j->cl)
			send_err(j->cl->fd, "checkpoint_failed", "checkpoint of %s (pid %d) failed: %s", c->label, pid,
				 crest_error_message(e));
		else
			bg_failure(d, c, crest_error_message(e));
		crest_error_free(e);
		char cmd[4200];
		snprintf(cmd, sizeof(cmd), "%s/crest.core", tmp);
		unlink(cmd);
		rmdir(tmp);
		goto out;
	}
	write_meta(tmp, c, pid, &st);
	/* visible only now, complete */
	if (rename(tmp, dir) < 0) {
		if (j->cl)
			send_err(j->cl->fd, "internal", "naming checkpoint %u of %s: %s", id, c->label, strerror(errno));
		goto out;
	}
	store_retain(d, c);
	if (!j->leave_running) {
		/* crest killed it and, as its tracer, collected it */
		pthread_mutex_lock(&d->lock);
		int status;
		waitpid(pid, &status, WNOHANG);
		c->state = COMP_CHECKPOINTED;
		c->pid = 0;
		pthread_mutex_unlock(&d->lock);
	}
	json_object *r = ok_reply();
	json_object_object_add(r, "id", json_object_new_int((int)id));
	json_object_object_add(r, "pid", json_object_new_int(pid));
	json_object_object_add(r, "frozen_ms", json_object_new_double((double)st.frozen_ns / 1e6));
	json_object_object_add(r, "total_ms", json_object_new_double((double)st.total_ns / 1e6));
	json_object_object_add(r, "bytes", json_object_new_int64((int64_t)st.bytes_written));
	answer(j, r);
out:
	job_done(j);
	free(j);
	return NULL;
}

static void *job_restore(void *arg)
{
	struct job *j = arg;
	struct crestd *d = j->d;
	struct comp *c = j->c;
	char dir[4096];
	store_path(d, c, j->id, dir, sizeof(dir));
	if (comp_log_open(d, c) < 0) {
		if (j->cl)
			send_err(j->cl->fd, "internal", "cannot open the log of %s", c->label);
		goto out;
	}
	struct crest_restore_opts o = {.sz = sizeof(o), .dir = dir, .stdio = {d->devnull, c->log_w, c->log_w}};
	struct crest_restore_stats st = {.sz = sizeof(st)};
	crest_error *e = NULL;
	if (crest_restore(d->ctx, &o, &st, &e) < 0) {
		if (j->cl)
			send_err(j->cl->fd, "restore_failed", "restore of %s from checkpoint %u failed: %s", c->label,
				 j->id, crest_error_message(e));
		else
			bg_failure(d, c, crest_error_message(e));
		crest_error_free(e);
		pthread_mutex_lock(&d->lock);
		c->state = COMP_FAILED;
		pthread_mutex_unlock(&d->lock);
		goto out;
	}
	pthread_mutex_lock(&d->lock);
	c->pid = st.child;
	c->state = COMP_RUNNING;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	c->started_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	pthread_mutex_unlock(&d->lock);
	json_object *r = ok_reply();
	json_object_object_add(r, "id", json_object_new_int((int)j->id));
	json_object_object_add(r, "pid", json_object_new_int(st.pid));
	json_object_object_add(r, "total_ms", json_object_new_double((double)st.total_ns / 1e6));
	answer(j, r);
out:
	job_done(j);
	free(j);
	return NULL;
}

/* Hand a job to a thread of its own; the component is already busy. */
static int run_job(struct crestd *d, struct job *j)
{
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	d->jobs++;
	int r = pthread_create(&t, &a, j->restore ? job_restore : job_checkpoint, j);
	pthread_attr_destroy(&a);
	if (r) {
		d->jobs--;
		j->c->busy = false;
		if (j->cl)
			j->cl->waiting = false;
		free(j);
		return -r;
	}
	return 0;
}

/* Mark the component busy (and the client waiting) and run a copy of
 * `tmpl` on a thread; the lock is held. */
static int start_job(const struct job *tmpl)
{
	struct job *j = malloc(sizeof(*j));
	if (!j)
		return tmpl->cl ? send_err(tmpl->cl->fd, "internal", "out of memory") : -ENOMEM;
	*j = *tmpl;
	j->c->busy = true;
	if (j->cl)
		j->cl->waiting = true;
	return run_job(j->d, j);
}

/* Is `pid` crestd itself or one of its ancestors? */
static bool is_self_or_above(pid_t pid)
{
	for (pid_t p = getpid(); p > 1;) {
		if (p == pid)
			return true;
		char path[64], *s = NULL;
		snprintf(path, sizeof(path), "/proc/%d/stat", p);
		FILE *f = fopen(path, "re");
		if (!f)
			break;
		size_t cap = 0;
		ssize_t n = getline(&s, &cap, f);
		fclose(f);
		char *rp = n > 0 ? strrchr(s, ')') : NULL;
		int ppid = 0;
		if (!rp || sscanf(rp + 2, "%*c %d", &ppid) != 1) {
			free(s);
			break;
		}
		free(s);
		p = ppid;
	}
	return pid == 1;
}

int crestd_checkpoint(struct crestd *d, struct comp *c, struct client *cl, bool leave_running)
{
	if (c->busy)
		return cl ? send_err(cl->fd, "busy", "%s is busy with another checkpoint or restore; try again", c->label) : -EBUSY;
	if (c->state != COMP_RUNNING || c->pid <= 0)
		return cl ? send_err(cl->fd, "not_running", "%s is not running (%s)", c->label, state_name(c->state)) : -ESRCH;
	if (is_self_or_above(c->pid))
		return cl ? send_err(cl->fd, "refused", "%s is crestd itself or above it; crestd cannot checkpoint that", c->label) : -EPERM;
	return start_job(&(struct job){.d = d, .c = c, .cl = cl, .leave_running = leave_running});
}

int crestd_restore(struct crestd *d, struct comp *c, struct client *cl, long want_id)
{
	if (c->busy)
		return cl ? send_err(cl->fd, "busy", "%s is busy with another checkpoint or restore; try again", c->label) : -EBUSY;
	if (c->state == COMP_RUNNING || c->pid > 0)
		return cl ? send_err(cl->fd, "running", "%s is %s (pid %d); stop it before restoring it", c->label,
				     c->state == COMP_RUNNING ? "running" : "still stopping", c->pid)
			  : -EBUSY;
	unsigned id;
	if (want_id > 0) {
		char p[4096];
		struct stat st;
		id = (unsigned)want_id;
		store_path(d, c, id, p, sizeof(p));
		if (stat(p, &st) < 0)
			return cl ? send_err(cl->fd, "no_checkpoint", "%s has no checkpoint %u", c->label, id) : -ENOENT;
	} else if (store_latest(d, c, &id) < 0) {
		return cl ? send_err(cl->fd, "no_checkpoint", "%s has no checkpoint yet", c->label) : -ENOENT;
	}
	return start_job(&(struct job){.d = d, .c = c, .cl = cl, .restore = true, .id = id});
}

/* ---- requests ------------------------------------------------------------ */

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
											      : NULL;
}

static void send_log(struct crestd *d, struct client *cl, struct comp *c, bool follow)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s/log", d->cfg.store, c->label);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : 0;
	off_t from = size > MSG_MAX / 2 ? size - MSG_MAX / 2 : 0;
	char *buf = calloc(1, MSG_MAX / 2 + 1);
	ssize_t n = fd >= 0 && buf ? pread(fd, buf, (size_t)(size - from), from) : 0;
	json_object *r = ok_reply();
	json_object_object_add(r, "log", json_object_new_string_len(buf ? buf : "", n > 0 ? (int)n : 0));
	free(buf);
	if (fd >= 0)
		close(fd);
	send_json(cl->fd, r);
	if (follow) {
		cl->follow = (int)(c - d->cfg.comps) + 1;
		cl->follow_pos = size;
	}
}

/* Send what followers have not seen of their component's log. */
static void feed_followers(struct crestd *d)
{
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *cl = &clients[i];
		if (cl->fd < 0 || !cl->follow)
			continue;
		struct comp *c = &d->cfg.comps[cl->follow - 1];
		char p[4096], buf[MSG_MAX / 2];
		snprintf(p, sizeof(p), "%s/%s/log", d->cfg.store, c->label);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		off_t size = lseek(fd, 0, SEEK_END);
		if (size < cl->follow_pos)
			cl->follow_pos = 0; /* rotated */
		ssize_t n = size > cl->follow_pos ? pread(fd, buf, sizeof(buf), cl->follow_pos) : 0;
		close(fd);
		if (n <= 0)
			continue;
		cl->follow_pos += n;
		json_object *o = json_object_new_object();
		json_object_object_add(o, "log", json_object_new_string_len(buf, (int)n));
		send_json(cl->fd, o);
	}
}

static void handle(struct crestd *d, struct client *cl, const char *msg, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *req = json_tokener_parse_ex(tok, msg, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (!req || jerr != json_tokener_success || !json_object_is_type(req, json_type_object)) {
		send_err(cl->fd, "bad_request", "the request is not a JSON object: %s",
			 jerr != json_tokener_success ? json_tokener_error_desc(jerr) : "wrong type");
		json_object_put(req);
		return;
	}
	const char *cmd = jstr(req, "cmd"), *label = jstr(req, "label");
	if (!cmd) {
		send_err(cl->fd, "bad_request", "the request has no \"cmd\"");
		goto done;
	}
	if (!strcmp(cmd, "list")) {
		json_object *r = ok_reply(), *a = json_object_new_array();
		pthread_mutex_lock(&d->lock);
		for (size_t i = 0; i < d->cfg.n; i++)
			json_object_array_add(a, comp_json(&d->cfg.comps[i]));
		pthread_mutex_unlock(&d->lock);
		json_object_object_add(r, "components", a);
		send_json(cl->fd, r);
		goto done;
	}
	if (!label) {
		send_err(cl->fd, "bad_request", "\"%s\" needs a \"label\"", cmd);
		goto done;
	}
	if (!crestd_label_ok(label)) {
		send_err(cl->fd, "bad_label", "'%s' is not a valid label (letters, digits, '-', '_', '.'; no '/' or '..')", label);
		goto done;
	}
	struct comp *c = find(d, label);
	if (!c) {
		send_err(cl->fd, "unknown_label", "no component '%s'; `crest ps` lists them", label);
		goto done;
	}
	/* components run as crestd's user: only that user and root may act */
	if (cl->uid != 0 && cl->uid != getuid()) {
		send_err(cl->fd, "permission_denied", "component '%s' runs as uid %d; uid %d may not act on it", label,
			 (int)getuid(), (int)cl->uid);
		goto done;
	}
	json_object *v;
	pthread_mutex_lock(&d->lock);
	if (!strcmp(cmd, "status")) {
		json_object *r = ok_reply();
		json_object_object_add(r, "component", comp_json(c));
		send_json(cl->fd, r);
	} else if (!strcmp(cmd, "start")) {
		char err[512];
		if (c->state == COMP_RUNNING || c->busy || c->pid > 0)
			send_err(cl->fd, "running", "%s is %s (pid %d)", label,
				 c->state == COMP_RUNNING ? "already running" : "still stopping", c->pid);
		else if (comp_start(d, c, err, sizeof(err)) < 0)
			send_err(cl->fd, "start_failed", "%s", err);
		else {
			json_object *r = ok_reply();
			json_object_object_add(r, "pid", json_object_new_int(c->pid));
			send_json(cl->fd, r);
		}
	} else if (!strcmp(cmd, "stop")) {
		if (c->busy)
			send_err(cl->fd, "busy", "%s is busy with a checkpoint or restore; try again", label);
		else if (c->state != COMP_RUNNING)
			send_err(cl->fd, "not_running", "%s is not running", label);
		else {
			c->state = COMP_STOPPED; /* its exit is expected: no restart */
			c->kill_at_ns = now_mono() + 5000000000ull; /* then SIGKILL */
			kill(c->pid, SIGTERM);
			send_json(cl->fd, ok_reply());
		}
	} else if (!strcmp(cmd, "checkpoint")) {
		bool lr = json_object_object_get_ex(req, "leave_running", &v) && json_object_get_boolean(v);
		crestd_checkpoint(d, c, cl, lr);
	} else if (!strcmp(cmd, "restore")) {
		long id = json_object_object_get_ex(req, "id", &v) ? json_object_get_int(v) : 0;
		crestd_restore(d, c, cl, id);
	} else if (!strcmp(cmd, "checkpoints") || !strcmp(cmd, "delete")) {
		if (!strcmp(cmd, "delete")) {
			long id = json_object_object_get_ex(req, "id", &v) ? json_object_get_int(v) : 0;
			if (id <= 0)
				send_err(cl->fd, "bad_request", "\"delete\" needs a positive \"id\"");
			else if (c->busy)
				send_err(cl->fd, "busy", "%s is busy; try again", label);
			else if (store_delete(d, c, (unsigned)id) < 0)
				send_err(cl->fd, "no_checkpoint", "%s has no checkpoint %ld", label, id);
			else
				send_json(cl->fd, ok_reply());
		} else {
			unsigned *ids = NULL;
			size_t n = 0;
			store_list(d, c, &ids, &n);
			json_object *r = ok_reply(), *a = json_object_new_array();
			for (size_t i = 0; i < n; i++) {
				char p[4200];
				store_path(d, c, ids[i], p, sizeof(p));
				strncat(p, "/meta.json", sizeof(p) - strlen(p) - 1);
				json_object *m = json_object_from_file(p);
				if (!m)
					m = json_object_new_object();
				json_object_object_add(m, "id", json_object_new_int((int)ids[i]));
				json_object_array_add(a, m);
			}
			free(ids);
			json_object_object_add(r, "checkpoints", a);
			send_json(cl->fd, r);
		}
	} else if (!strcmp(cmd, "logs")) {
		bool follow = json_object_object_get_ex(req, "follow", &v) && json_object_get_boolean(v);
		send_log(d, cl, c, follow);
	} else {
		send_err(cl->fd, "unknown_command", "unknown command \"%s\"", cmd);
	}
	pthread_mutex_unlock(&d->lock);
done:
	json_object_put(req);
}

/* ---- the loop ------------------------------------------------------------- */

/* Collect components that ended, and apply their restart policy. */
static void reap(struct crestd *d)
{
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->cfg.n; i++) {
		struct comp *c = &d->cfg.comps[i];
		if (c->busy || c->pid <= 0)
			continue;
		int st;
		pid_t r = waitpid(c->pid, &st, WNOHANG);
		if (r != c->pid)
			continue;
		bool expected = c->state == COMP_STOPPED;
		c->pid = 0;
		c->exit_status = st;
		if (expected)
			continue;
		c->state = COMP_EXITED;
		char line[160];
		int len = snprintf(line, sizeof(line), "crestd: %s exited (%s %d)", c->label,
				   WIFSIGNALED(st) ? "signal" : "status", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		comp_log_line(d, c, line, (size_t)len);
		bool failed = !WIFEXITED(st) || WEXITSTATUS(st);
		if (d->stopping || c->restart == RESTART_NO || (c->restart == RESTART_ON_FAILURE && !failed))
			continue;
		if (c->restarts >= 10)
			continue; /* crash loop: leave it for a person */
		c->restarts++;
		char err[512];
		if (c->restart == RESTART_CHECKPOINT && crestd_restore(d, c, NULL, 0) == 0)
			continue;
		if (comp_start(d, c, err, sizeof(err)) < 0)
			comp_log_line(d, c, err, strlen(err));
	}
	pthread_mutex_unlock(&d->lock);
}

/* Periodic checkpoints (left running), and stops that TERM did not end. */
static int periodic(struct crestd *d)
{
	uint64_t now = now_mono(), next = UINT64_MAX;
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->cfg.n; i++) {
		struct comp *c = &d->cfg.comps[i];
		if (c->state == COMP_STOPPED && c->pid > 0 && c->kill_at_ns && c->kill_at_ns <= now) {
			kill(c->pid, SIGKILL);
			c->kill_at_ns = 0;
		}
		if (!c->interval || c->state != COMP_RUNNING)
			continue;
		if (!c->next_ckpt_ns)
			c->next_ckpt_ns = now + (uint64_t)c->interval * 1000000000ull;
		if (c->next_ckpt_ns <= now && !c->busy) {
			crestd_checkpoint(d, c, NULL, true);
			c->next_ckpt_ns = now + (uint64_t)c->interval * 1000000000ull;
		}
		if (c->next_ckpt_ns < next)
			next = c->next_ckpt_ns;
	}
	pthread_mutex_unlock(&d->lock);
	if (next == UINT64_MAX)
		return 1000;
	return next <= now ? 0 : (int)((next - now) / 1000000 + 1);
}

static void accept_client(struct crestd *d)
{
	int fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	struct ucred cr;
	socklen_t l = sizeof(cr);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0) {
		close(fd);
		return;
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].fd < 0) {
			clients[i] = (struct client){.fd = fd, .uid = cr.uid};
			return;
		}
	send_err(fd, "busy", "too many clients; try again");
	close(fd);
}

static void serve_client(struct crestd *d, struct client *cl)
{
	char *buf = malloc(MSG_MAX + 1);
	if (!buf)
		return;
	ssize_t n = recv(cl->fd, buf, MSG_MAX + 1, MSG_TRUNC);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			close(cl->fd);
			cl->fd = -1;
		}
	} else if (n > MSG_MAX) {
		send_err(cl->fd, "too_large", "the request is %zd bytes; the limit is %d", n, MSG_MAX);
	} else {
		handle(d, cl, buf, (size_t)n);
	}
	free(buf);
}

int crestd_loop(struct crestd *d)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		clients[i].fd = -1;
	for (;;) {
		struct pollfd pf[4 + MAX_CLIENTS + 64];
		int map[4 + MAX_CLIENTS + 64];
		int n = 0;
		pf[n] = (struct pollfd){.fd = d->listen_fd, .events = POLLIN};
		map[n++] = -1;
		pf[n] = (struct pollfd){.fd = d->sig_fd, .events = POLLIN};
		map[n++] = -2;
		pf[n] = (struct pollfd){.fd = d->wake_fd, .events = POLLIN};
		map[n++] = -3;
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (clients[i].fd >= 0 && !clients[i].waiting) {
				pf[n] = (struct pollfd){.fd = clients[i].fd, .events = POLLIN};
				map[n++] = i;
			}
		for (size_t i = 0; i < d->cfg.n && i < 64; i++)
			if (d->cfg.comps[i].log_r >= 0) {
				pf[n] = (struct pollfd){.fd = d->cfg.comps[i].log_r, .events = POLLIN};
				map[n++] = 1000 + (int)i;
			}
		int timeout = periodic(d);
		int r = poll(pf, (nfds_t)n, timeout > 200 ? 200 : timeout);
		if (r < 0 && errno != EINTR)
			return -errno;
		bool logs = false;
		for (int k = 0; r > 0 && k < n; k++) {
			if (!pf[k].revents)
				continue;
			if (map[k] == -1) {
				accept_client(d);
			} else if (map[k] == -2) {
				struct signalfd_siginfo si;
				while (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
						return 0;
				}
				reap(d);
			} else if (map[k] == -3) {
				uint64_t v;
				if (read(d->wake_fd, &v, sizeof(v)) < 0)
					continue;
				reap(d); /* a job may have left an exit behind */
			} else if (map[k] >= 1000) {
				comp_log_drain(d, &d->cfg.comps[map[k] - 1000]);
				logs = true;
			} else {
				struct client *cl = &clients[map[k]];
				if (cl->follow && (pf[k].revents & (POLLHUP | POLLERR))) {
					close(cl->fd);
					cl->fd = -1;
				} else {
					serve_client(d, cl);
				}
			}
		}
		if (logs)
			feed_followers(d);
	}
}

void crestd_checkpoint_now(struct crestd *d, struct comp *c)
{
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		return;
	*j = (struct job){.d = d, .c = c};
	pthread_mutex_lock(&d->lock);
	c->busy = true;
	d->jobs++;
	pthread_mutex_unlock(&d->lock);
	job_checkpoint(j);
}
