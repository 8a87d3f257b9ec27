/* Private to grpc_server.c and its fuzz target: a connection without a
 * socket or loop thread ("detached"), so the HTTP/2 + gRPC framing logic can
 * be driven with bytes alone. The server must be created (and methods
 * registered) but not started: handlers then run inline, on the caller's
 * thread, right after the input that completed their request. */
#ifndef SPANHOUSE_BASE_GRPC_SERVER_INT_H
#define SPANHOUSE_BASE_GRPC_SERVER_INT_H

#include "base/buf.h"
#include "base/grpc_server.h"

#include <stddef.h>
#include <stdint.h>

struct grpc_conn;

struct grpc_conn *grpc_conn_create_detached(struct grpc_server *srv);
/* Feeds client bytes, runs handlers of completed requests, appends what the
 * server would send to out. Returns 0, or -1 once the session is over (fatal
 * protocol error, GOAWAY exchanged): further input is ignored. */
int  grpc_conn_feed(struct grpc_conn *c, const void *data, size_t len, struct buf *out);
/* Runs the periodic checks (deadlines, idle timeout) as if the time were now_ns. */
void grpc_conn_tick(struct grpc_conn *c, int64_t now_ns);
/* Starts a graceful stop of this connection (GOAWAY), as grpc_server_stop does. */
void grpc_conn_goaway(struct grpc_conn *c);
void grpc_conn_destroy(struct grpc_conn *c);

#endif
