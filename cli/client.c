/*
 * client.c - the crest commands that talk to crestd (docs/protocol.md):
 *   crest ps | status LABEL | start LABEL | stop LABEL
 *   crest checkpoint LABEL [--leave-running] | restore LABEL [ID]
 *   crest checkpoints LABEL | delete LABEL ID | logs LABEL [--follow]
 * The socket: $CREST_SOCKET, else /run/crest/crestd.sock as root, else
 * $XDG_RUNTIME_DIR/crest/crestd.sock.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"

#define MSG_MAX (64 * 1024)

static int connect_crestd(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	const char *env = getenv("CREST_SOCKET"), *xdg = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");
	/* the same defaults as crestd (daemon/main.c) */
	if (env && *env)
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", env);
	else if (getuid() == 0)
		snprintf(a.sun_path, sizeof(a.sun_path), "/run/crest/crestd.sock");
	else if (xdg && *xdg)
		snprintf(a.sun_path, sizeof(a.sun_path), "%s/crest/crestd.sock", xdg);
	else
		snprintf(a.sun_path, sizeof(a.sun_path), "%s/.cache/crest/crestd.sock", home ? home : "/tmp");
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "crest: cannot reach crestd at %s: %s; is crestd running (or set CREST_SOCKET)?\n",
			a.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Send one request (one message). */
static int send_req(int fd, json_object *req)
{
	const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	if (send(fd, s, strlen(s), MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "crest: sending to crestd: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static json_object *receive(int fd)
{
	char *buf = malloc(MSG_MAX + 1);
	if (!buf)
		return NULL;
	ssize_t n = recv(fd, buf, MSG_MAX, 0);
	json_object *o = n > 0 ? json_tokener_parse((buf[n] = '\0', buf)) : NULL;
	free(buf);
	return o;
}

static const char *str(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

static double num(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_double(v) : 0;
}

/* Print an error reply and return the exit status for it. */
static int report(json_object *r)
{
	json_object *e, *ok;
	if (!r) {
		fprintf(stderr, "crest: crestd closed the connection without answering\n");
		return 1;
	}
	if (json_object_object_get_ex(r, "ok", &ok) && json_object_get_boolean(ok))
		return 0;
	if (json_object_object_get_ex(r, "error", &e))
		fprintf(stderr, "crest: %s (%s)\n", str(e, "message"), str(e, "code"));
	return 1;
}

static void print_ps(json_object *r)
{
	json_object *a;
	if (!json_object_object_get_ex(r, "components", &a))
		return;
	printf("%-20s %-13s %8s %8s\n", "LABEL", "STATE", "PID", "RESTARTS");
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *c = json_object_array_get_idx(a, i), *v;
		printf("%-20s %-13s %8s %8s%s\n", str(c, "label"), str(c, "state"), str(c, "pid"), str(c, "restarts"),
		       json_object_object_get_ex(c, "busy", &v) && json_object_get_boolean(v) ? "  (busy)" : "");
	}
}

int cli_client(struct cli_global *g, int argc, char **argv)
{
	(void)g;
	const char *cmd = argv[0];
	json_object *req = json_object_new_object();
	bool follow = false;
	json_object_object_add(req, "cmd", json_object_new_string(strcmp(cmd, "ps") ? cmd : "list"));
	int pos = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--leave-running"))
			json_object_object_add(req, "leave_running", json_object_new_boolean(1));
		else if (!strcmp(argv[i], "--follow") || !strcmp(argv[i], "-f")) {
			follow = true;
			json_object_object_add(req, "follow", json_object_new_boolean(1));
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "crest: %s: unknown option %s\n", cmd, argv[i]);
			json_object_put(req);
			return 2;
		} else if (pos == 0) {
			json_object_object_add(req, "label", json_object_new_string(argv[i]));
			pos++;
		} else if (pos == 1) {
			json_object_object_add(req, "id", json_object_new_int(atoi(argv[i])));
			pos++;
		} else {
			fprintf(stderr, "crest: %s: too many arguments\n", cmd);
			json_object_put(req);
			return 2;
		}
	}
	if (strcmp(cmd, "ps") && pos == 0) {
		fprintf(stderr, "crest: usage: crest %s LABEL%s\n", cmd, !strcmp(cmd, "delete") ? " ID" : "");
		json_object_put(req);
		return 2;
	}
	int fd = connect_crestd();
	if (fd < 0) {
		json_object_put(req);
		return 1;
	}
	int sent = send_req(fd, req);
	json_object_put(req);
	json_object *r = sent < 0 ? NULL : receive(fd);
	int rc = report(r);
	if (!rc) {
		if (!strcmp(cmd, "ps"))
			print_ps(r);
		else if (!strcmp(cmd, "logs"))
			fputs(str(r, "log"), stdout);
		else if (!strcmp(cmd, "checkpoint"))
			printf("checkpoint %s of %s (pid %s): frozen %.1f ms, %s bytes\n", str(r, "id"), argv[1], str(r, "pid"),
			       num(r, "frozen_ms"), str(r, "bytes"));
		else if (!strcmp(cmd, "restore"))
			printf("restored %s from checkpoint %s: pid %s, %.1f ms\n", argv[1], str(r, "id"), str(r, "pid"),
			       num(r, "total_ms"));
		else
			printf("%s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY));
	}
	json_object_put(r);
	while (!rc && follow) {
		fflush(stdout);
		json_object *m = receive(fd);
		if (!m)
			break;
		fputs(str(m, "log"), stdout);
		json_object_put(m);
	}
	close(fd);
	return rc;
}
