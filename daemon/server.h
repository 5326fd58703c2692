/*
 * server.h - the request loop and the jobs it hands out.
 */
#ifndef CRESTD_SERVER_H
#define CRESTD_SERVER_H

#include "crestd.h"

struct client;

/* Serve until SIGTERM/SIGINT; returns 0 then, or -errno. */
int crestd_loop(struct crestd *d);

/* Start a checkpoint / restore job for `c` (lock held); the job answers
 * `cl` (or nobody if NULL).  Returns 0 or -errno (after answering). */
int crestd_checkpoint(struct crestd *d, struct comp *c, struct client *cl, bool leave_running);
int crestd_restore(struct crestd *d, struct comp *c, struct client *cl, long want_id);

/* Checkpoint `c` (killing it) on the calling thread: for shutdown. */
void crestd_checkpoint_now(struct crestd *d, struct comp *c);

#endif
