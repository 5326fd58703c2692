/*
 * crestd.h - the supervisor: what its modules share.
 *
 * crestd starts components by label as its own children, owns their
 * stdout/stderr (a per-label log), keeps its registry of them (never
 * /proc), and serves checkpoint/restore requests on a Unix socket.  Dumps
 * and restores run on worker threads; the request loop only hands them
 * out and never waits for them.
 */
#ifndef CRESTD_H
#define CRESTD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "crest.h"

#define CRESTD_LABEL_MAX 64

enum restart_policy {
	RESTART_NO = 0,
	RESTART_ON_FAILURE,
	RESTART_ALWAYS,
	RESTART_CHECKPOINT,      /* restart from the latest checkpoint */
};

enum comp_state {
	COMP_STOPPED = 0,
	COMP_RUNNING,
	COMP_EXITED,             /* ended on its own; see exit_status */
	COMP_CHECKPOINTED,       /* killed by a checkpoint (not --leave-running) */
	COMP_FAILED,             /* could not be started or restored */
};

struct comp {
	char label[CRESTD_LABEL_MAX];
	char **argv;             /* NULL-terminated */
	char **envp;             /* NULL-terminated, may be empty */
	char *cwd;
	enum restart_policy restart;
	unsigned interval;       /* periodic checkpoint, seconds (0: none) */
	unsigned keep;           /* checkpoints to keep (0: all) */
	int cfg_line;            /* where the section starts, for messages */

	/* runtime, guarded by the daemon's lock */
	enum comp_state state;
	pid_t pid;
	int exit_status;         /* wait status of the last exit */
	unsigned restarts;
	uint64_t started_ns;     /* CLOCK_REALTIME */
	uint64_t next_ckpt_ns;   /* CLOCK_MONOTONIC, periodic checkpoints */
	uint64_t kill_at_ns;     /* CLOCK_MONOTONIC: SIGKILL a stop that TERM did not end */
	bool busy;               /* a checkpoint or restore job owns it */
	int log_r;               /* read end of its stdout/stderr pipe */
	int log_w;               /* write end, kept for restored processes */
	int log_fd;              /* the log file */
	uint64_t log_size;
	char partial[512];       /* unterminated line from the pipe */
	size_t partial_len;
};

struct config {
	struct comp *comps;
	size_t n;
	char *store;             /* checkpoint store and logs */
	char *socket_path;
	uint64_t log_max;        /* bytes before the log rotates */
	bool shutdown_checkpoint;
};

/* config.c */
int crestd_config_load(const char *path, struct config *cfg, char *errbuf, size_t errlen);
void crestd_config_free(struct config *cfg);
bool crestd_label_ok(const char *label);

/* ---- the daemon ------------------------------------------------------ */

struct crestd {
	struct config cfg;
	crest_ctx *ctx;
	pthread_mutex_t lock;    /* components' runtime fields */
	int listen_fd;
	int wake_fd;             /* eventfd: a job finished */
	int sig_fd;              /* signalfd: SIGCHLD, SIGTERM, SIGINT */
	int devnull;
	bool stopping;
	unsigned jobs;           /* running jobs (under lock) */
};

/* store.c: checkpoints live in STORE/LABEL/ID, complete when named. */
int store_prepare(struct crestd *d, const struct comp *c, char *err, size_t errlen);
int store_list(struct crestd *d, const struct comp *c, unsigned **ids, size_t *n);
int store_latest(struct crestd *d, const struct comp *c, unsigned *id);
void store_path(struct crestd *d, const struct comp *c, unsigned id, char *buf, size_t len);
void store_retain(struct crestd *d, const struct comp *c);
int store_delete(struct crestd *d, const struct comp *c, unsigned id);

/* comp.c: running components and their logs. */
int comp_start(struct crestd *d, struct comp *c, char *err, size_t errlen);
void comp_log_drain(struct crestd *d, struct comp *c);
void comp_log_line(struct crestd *d, struct comp *c, const char *line, size_t len);
int comp_log_open(struct crestd *d, struct comp *c);

#endif
