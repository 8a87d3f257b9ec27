/* base/: the foundations every other module stands on, with no dependency on
 * anything else in the tree. Unlike other modules base has one header per
 * facility (they are independent and small); this umbrella lists them.
 *
 *   alloc.h    heap over mimalloc, accounting, budgets
 *   arena.h    bump allocation by lifetime, cleanups
 *   buf.h      slices and growable buffers
 *   error.h    error codes (errors.def) and messages
 *   log.h      levelled logging
 *   clock.h    monotonic / realtime clocks
 *   limits.h   every hard limit
 *   datatype.h ClickHouse data types (parse, print, properties)
 *   column.h   in-memory columns and blocks
 *   threadpool.h, evloop.h, net.h, http1.h, compress.h, http_server.h,
 *   grpc_server.h, metrics.h: networking, the HTTP/1.1 and gRPC (HTTP/2)
 *   servers and /metrics (see README.md)
 */
#ifndef SPANHOUSE_BASE_BASE_H
#define SPANHOUSE_BASE_BASE_H

#include "base/alloc.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/limits.h"
#include "base/log.h"

#endif
