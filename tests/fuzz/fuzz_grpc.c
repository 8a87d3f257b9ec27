/* libFuzzer target for the gRPC server's HTTP/2 + gRPC framing: the client
 * side of one connection is fed (in two pieces) to a detached server
 * connection (grpc_server_int.h: nghttp2 server session with the real
 * callbacks, no socket); handlers run inline. Inputs starting with 'P' (the
 * client preface; the seeds in corpus/grpc are captured client streams) are
 * fed as they are; any other input is a little program of frame ops, built
 * with a real HPACK encoder, so mutations reach the gRPC layer (headers,
 * prefixes, encodings, timeouts, resets) instead of dying in HPACK. Then the periodic
 * checks run as if an hour passed (deadlines, idle GOAWAY). Asserts that the
 * output is whole HTTP/2 frames after the server SETTINGS, that every call
 * was counted once and that nothing stays in flight or allocated; ASan
 * finds the rest. */
#include "base/alloc.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/compress.h"
#include "base/error.h"
#include "base/grpc_server.h"
#include "base/grpc_server_int.h"
#include "base/log.h"

#include <nghttp2/nghttp2.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

static struct grpc_server *srv;
static struct mem_budget budget = { .max_bytes = 100 * 1024 };   /* two big messages exhaust it */

/* First byte of the message picks the answer: 'f' fails with the second
 * byte as status, 'b' replies big (compressible), else echo. */
static void h_echo(void *ctx, struct grpc_call *call, const void *msg, size_t len)
{
  const uint8_t *m = msg;
  struct slice t = grpc_call_metadata(call, "x-scope-orgid");
  if (t.ptr)
    REQUIRE(t.ptr[t.len] == '\0');
  (void)grpc_call_cancelled(call);
  if (len >= 2 && m[0] == 'f') {
    REQUIRE(grpc_call_fail(call, m[1] == 0xff ? 99 : 1 + m[1] % 16, "failed: %.*s", (int)len, (const char *)msg) == 0);
  } else if (len >= 1 && m[0] == 'b') {
    size_t n = 4096;
    char *out = arena_alloc(grpc_call_arena(call), n);
    memset(out, 'b', n);
    REQUIRE(grpc_call_reply(call, out, n) == 0);
  } else {
    REQUIRE(grpc_call_reply(call, msg, len) == 0);
  }
  REQUIRE(grpc_call_reply(call, msg, len) == ERR_LOGICAL_ERROR);
}

static int admit(void *ctx, const struct grpc_call *call, const char **message)
{
  struct slice a = grpc_call_metadata(call, "x-admit");
  if (a.ptr && a.len == 2 && memcmp(a.ptr, "no", 2) == 0) {
    *message = "refused";
    return GRPC_STATUS_RESOURCE_EXHAUSTED;
  }
  return 0;
}

static void setup(void)
{
  log_set_level(LOG_ERROR);
  struct grpc_server_config cfg = {
    .name = "fuzz", .max_recv_message_bytes = 64 * 1024, .max_concurrent_streams = 16,
    .compress_min_bytes = 64, .admit = admit, .idle_timeout_ms = 1000, .budget = &budget,
  };
  struct error err;
  REQUIRE(grpc_server_create(&srv, &cfg, &err) == 0);
  REQUIRE(grpc_server_register(srv, "/test.Svc/Echo", h_echo, NULL, &err) == 0);
  REQUIRE(grpc_server_register(srv, "/opentelemetry.proto.collector.trace.v1.TraceService/Export", h_echo, NULL,
                               &err) == 0);
}

/* The output must be a sequence of whole frames starting with SETTINGS. */
static void check_frames(const struct buf *out)
{
  if (out->len == 0)
    return;
  const uint8_t *p = (const uint8_t *)out->data;
  REQUIRE(out->len >= 9 && p[3] == 0x4 /* SETTINGS */);
  size_t pos = 0;
  while (pos < out->len) {
    REQUIRE(out->len - pos >= 9);
    size_t len = (size_t)p[pos] << 16 | (size_t)p[pos + 1] << 8 | p[pos + 2];
    REQUIRE(len <= 16384);
    pos += 9 + len;
  }
  REQUIRE(pos == out->len);
}

/* ---- structured mode: ops -> HTTP/2 frames */

struct reader {
  const uint8_t *p;
  size_t n;
};

static uint8_t rd_byte(struct reader *r)
{
  if (!r->n)
    return 0;
  r->n--;
  return *r->p++;
}

static struct slice rd_bytes(struct reader *r, size_t want)
{
  if (want > r->n)
    want = r->n;
  struct slice s = { (const char *)r->p, want };
  r->p += want;
  r->n -= want;
  return s;
}

static void frame_head(struct buf *out, size_t len, uint8_t type, uint8_t flags, uint32_t sid)
{
  uint8_t h[9] = { (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len, type, flags,
                   (uint8_t)(sid >> 24 & 0x7f), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid };
  buf_append(out, h, 9);
}

static nghttp2_nv nv(const char *name, const char *value, size_t value_len)
{
  return (nghttp2_nv){ (uint8_t *)(uintptr_t)name, (uint8_t *)(uintptr_t)value, strlen(name), value_len,
                       NGHTTP2_NV_FLAG_NONE };
}

static void op_headers(struct reader *r, nghttp2_hd_deflater *hd, struct buf *out)
{
  static const char *const paths[] = {
    "/test.Svc/Echo", "/opentelemetry.proto.collector.trace.v1.TraceService/Export", "/test.Svc/Nope", "/",
  };
  static const char *const names[] = {
    "content-type", "grpc-encoding", "grpc-timeout", "grpc-accept-encoding", "x-scope-orgid", "x-admit", "te",
    "content-length", "user-agent", "x-big",
  };
  static const char *const values[] = {
    "application/grpc", "application/grpc+proto", "gzip", "identity", "zstd", "deflate", "snappy", "100m",
    "1n", "99999999H", "trailers", "no", "application/json", "x-gzip",
  };
  uint8_t sel = rd_byte(r);
  uint32_t sid = 1 + 2 * (uint32_t)(rd_byte(r) % 8);
  uint8_t flags = NGHTTP2_FLAG_END_HEADERS | ((sel & 1) ? NGHTTP2_FLAG_END_STREAM : 0);
  nghttp2_nv nva[16];
  size_t n = 0;
  static char big[16 * 1024];
  if (!(sel & 2)) {
    nva[n++] = nv(":method", (sel & 4) ? "GET" : "POST", (sel & 4) ? 3 : 4);
    nva[n++] = nv(":scheme", "http", 4);
    const char *path = paths[(sel >> 3) % 4];
    nva[n++] = nv(":path", path, strlen(path));
    nva[n++] = nv(":authority", "fuzz", 4);
    if (!(sel & 0x40))
      nva[n++] = nv("content-type", "application/grpc", 16);
  }
  int extra = rd_byte(r) % 8;
  for (int i = 0; i < extra && n < 16; i++) {
    uint8_t k = rd_byte(r), v = rd_byte(r);
    const char *name = names[k % 10];
    if (k % 10 == 9) {                          /* a big value, for the metadata limit */
      memset(big, 'v', sizeof big);
      nva[n++] = nv(name, big, sizeof big);
    } else if (v & 0x80) {                      /* fuzz bytes as the value */
      struct slice b = rd_bytes(r, v & 0x1f);
      nva[n++] = nv(name, b.ptr ? b.ptr : "", b.len);
    } else {
      const char *val = values[v % 14];
      nva[n++] = nv(name, val, strlen(val));
    }
  }
  size_t bound = nghttp2_hd_deflate_bound(hd, nva, n);
  uint8_t *block = mem_alloc(bound);
  ssize_t len = nghttp2_hd_deflate_hd(hd, block, bound, nva, n);
  if (len >= 0) {
    /* Split into HEADERS + CONTINUATION when asked. */
    size_t first = (sel & 0x80) && len > 1 ? (size_t)len / 2 : (size_t)len;
    frame_head(out, first, NGHTTP2_HEADERS, first == (size_t)len ? flags : (flags & ~NGHTTP2_FLAG_END_HEADERS), sid);
    buf_append(out, block, first);
    if (first < (size_t)len) {
      frame_head(out, (size_t)len - first, NGHTTP2_CONTINUATION, NGHTTP2_FLAG_END_HEADERS, sid);
      buf_append(out, block + first, (size_t)len - first);
    }
  }
  mem_free(block);
}

static void op_data(struct reader *r, struct buf *out)
{
  uint8_t sel = rd_byte(r);
  uint32_t sid = 1 + 2 * (uint32_t)(rd_byte(r) % 8);
  size_t want = rd_byte(r);
  if (sel & 0x10)
    want *= 256;                                /* up to 64 KiB: over the fuzz limit */
  struct buf payload;
  buf_init(&payload);
  struct slice b = rd_bytes(r, want);
  if (b.len < want) {
    buf_reserve(&payload, want);
    memset(payload.data, 'p', want);
    payload.len = want;
    if (b.len)
      memcpy(payload.data, b.ptr, b.len);
  } else {
    buf_append(&payload, b.ptr, b.len);
  }
  struct buf msg;
  buf_init(&msg);
  if (sel & 2) {                                /* gzip it, validly */
    struct compressor *z;
    struct error err;
    if (compressor_create(&z, COMPRESS_GZIP, 1, &err) == 0) {
      compressor_run(z, payload.data, payload.len, false, true, &msg, &err);
      compressor_destroy(z);
    }
  } else {
    buf_append(&msg, payload.data, payload.len);
  }
  struct buf body;
  buf_init(&body);
  buf_reserve(&body, 16);                       /* never NULL, even when empty */
  if (sel & 4) {                                /* a gRPC prefix, length right or fuzzed */
    uint32_t len = (sel & 8) ? (uint32_t)rd_byte(r) << 8 : (uint32_t)msg.len;
    uint8_t pre[5] = { (uint8_t)((sel & 2) ? 1 : (sel & 0x20) ? 2 : 0), (uint8_t)(len >> 24), (uint8_t)(len >> 16),
                       (uint8_t)(len >> 8), (uint8_t)len };
    buf_append(&body, pre, 5);
  }
  buf_append(&body, msg.data, msg.len);
  /* DATA frames of at most 16 KiB; the split point is fuzzed too. */
  size_t pos = 0, piece = (sel & 0x40) ? 1 + rd_byte(r) : 16384;
  do {
    size_t k = body.len - pos < piece ? body.len - pos : piece;
    bool last = pos + k == body.len;
    frame_head(out, k, NGHTTP2_DATA, last && (sel & 1) ? NGHTTP2_FLAG_END_STREAM : 0, sid);
    buf_append(out, body.data + pos, k);
    pos += k;
  } while (pos < body.len);
  buf_free(&payload);
  buf_free(&msg);
  buf_free(&body);
}

static void build_program(const uint8_t *data, size_t size, struct buf *out)
{
  struct reader r = { data, size };
  static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  buf_append(out, preface, sizeof preface - 1);
  frame_head(out, 0, NGHTTP2_SETTINGS, 0, 0);
  nghttp2_hd_deflater *hd;
  if (nghttp2_hd_deflate_new(&hd, 4096) != 0)
    abort();
  int ops = 0;
  while (r.n && ops++ < 64) {
    uint8_t op = rd_byte(&r);
    switch (op % 8) {
    case 0: case 1: case 2:
      op_headers(&r, hd, out);
      break;
    case 3: case 4:
      op_data(&r, out);
      break;
    case 5: {                                   /* RST_STREAM */
      uint32_t sid = 1 + 2 * (uint32_t)(rd_byte(&r) % 8);
      uint8_t code[4] = { 0, 0, 0, rd_byte(&r) % 14 };
      frame_head(out, 4, NGHTTP2_RST_STREAM, 0, sid);
      buf_append(out, code, 4);
      break;
    }
    case 6: {                                   /* PING, SETTINGS ack, WINDOW_UPDATE */
      uint8_t k = rd_byte(&r) % 3;
      if (k == 0) {
        frame_head(out, 8, NGHTTP2_PING, 0, 0);
        buf_append(out, "12345678", 8);
      } else if (k == 1) {
        frame_head(out, 0, NGHTTP2_SETTINGS, NGHTTP2_FLAG_ACK, 0);
      } else {
        uint8_t inc[4] = { 0, rd_byte(&r), rd_byte(&r), 1 };
        frame_head(out, 4, NGHTTP2_WINDOW_UPDATE, 0, 1 + 2 * (uint32_t)(rd_byte(&r) % 8));
        buf_append(out, inc, 4);
      }
      break;
    }
    default: {                                  /* raw bytes */
      struct slice b = rd_bytes(&r, rd_byte(&r) % 32);
      buf_append(out, b.ptr, b.len);
      break;
    }
    }
  }
  nghttp2_hd_deflate_del(hd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (!srv)
    setup();
  struct grpc_server_stats before, after;
  grpc_server_get_stats(srv, &before);
  uint64_t live_before = mem_live_bytes();
  struct buf prog;
  buf_init(&prog);
  if (size && data[0] != 'P') {
    build_program(data, size, &prog);
    data = (const uint8_t *)prog.data;
    size = prog.len;
  }

  struct grpc_conn *c = grpc_conn_create_detached(srv);
  struct buf out;
  buf_init(&out);
  size_t cut = size ? (size_t)data[size - 1] * size / 256 : 0;
  if (grpc_conn_feed(c, data, cut, &out) == 0)
    grpc_conn_feed(c, data + cut, size - cut, &out);
  if (size && (data[0] & 1))
    grpc_conn_goaway(c);
  grpc_conn_tick(c, clock_monotonic_ns() + 3600LL * 1000000000);
  grpc_conn_feed(c, NULL, 0, &out);
  check_frames(&out);
  grpc_conn_destroy(c);
  buf_free(&out);
  buf_free(&prog);

  grpc_server_get_stats(srv, &after);
  REQUIRE(after.connections == before.connections);
  REQUIRE(after.in_flight == 0);
  REQUIRE(atomic_load(&budget.used_bytes) == 0);
  REQUIRE(mem_live_bytes() == live_before);    /* the connection took everything with it */
  uint64_t sum = 0;
  for (int i = 0; i < GRPC_STATUS_COUNT; i++)
    sum += after.by_status[i] - before.by_status[i];
  REQUIRE(sum == after.calls - before.calls);
  return 0;
}
