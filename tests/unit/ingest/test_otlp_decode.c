/* OTLP export requests → otel blocks: requests are built as protobuf-c
 * messages (then packed) and written as OTLP/JSON text, decoded, and every
 * column checked. With SPANHOUSE_WRITE_CORPUS=1 it also writes the requests
 * as fuzz seeds into tests/fuzz/corpus/otlp_proto/ and otlp_json/. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/ingest_int.h"
#include "tests/unit/test.h"

static struct arena arena;            /* messages, blocks, rendered cells */
static bool write_corpus;

/* ---- building messages ---- */

static ProtobufCBinaryData B(const char *s) { return (ProtobufCBinaryData){ strlen(s), (uint8_t *)s }; }

static ProtobufCBinaryData ID(const char *hex)
{
  uint8_t *d;
  size_t n;
  REQUIRE(text_hex_decode(&arena, hex, strlen(hex), &d, &n));
  return (ProtobufCBinaryData){ n, d };
}

static void *new_msg(const ProtobufCMessageDescriptor *desc)
{
  void *m = arena_alloc(&arena, desc->sizeof_message);
  protobuf_c_message_init(desc, m);
  return m;
}

static void *dup_mem(const void *p, size_t n)
{
  void *d = arena_alloc(&arena, n);
  memcpy(d, p, n);
  return d;
}

/* NEW(Type, opentelemetry__proto__..._name): a message initialised by its descriptor. */
#define NEW(type, prefix) ((type *)new_msg(&prefix##__descriptor))
#define ARRAY(type, ...) ((type *)dup_mem((type[]){ __VA_ARGS__ }, sizeof((type[]){ __VA_ARGS__ })))
#define COUNT(type, ...) (sizeof((type[]){ __VA_ARGS__ }) / sizeof(type))
#define SET_REPEATED(msg, field, type, ...) \
  ((msg)->n_##field = COUNT(type, __VA_ARGS__), (msg)->field = ARRAY(type, __VA_ARGS__))

static pb_any_value *v_str(const char *s)
{
  pb_any_value *v = NEW(pb_any_value, opentelemetry__proto__common__v1__any_value);
  v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
  v->string_value = B(s);
  return v;
}

static pb_any_value *v_int(int64_t i)
{
  pb_any_value *v = NEW(pb_any_value, opentelemetry__proto__common__v1__any_value);
  v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
  v->int_value = i;
  return v;
}

static pb_any_value *v_double(double d)
{
  pb_any_value *v = NEW(pb_any_value, opentelemetry__proto__common__v1__any_value);
  v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
  v->double_value = d;
  return v;
}

static pb_any_value *v_bool(bool b)
{
  pb_any_value *v = NEW(pb_any_value, opentelemetry__proto__common__v1__any_value);
  v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
  v->bool_value = b;
  return v;
}

static pb_any_value *v_bytes(const char *hex)
{
  pb_any_value *v = NEW(pb_any_value, opentelemetry__proto__common__v1__any_value);
  v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE;
  v->bytes_value = ID(hex);
  return v;
}

static pb_any_value *v_empty(void) { return NEW(pb_any_value, opentelemetry__proto__common__v1__any_value); }

static pb_any_value *v_array(size_t n, pb_any_value **items)
{
  pb_any_value *v = NEW(pb_any_value, opentelemetry__proto__common__v1__any_value);
  v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
  v->array_value = NEW(Opentelemetry__Proto__Common__V1__ArrayValue, opentelemetry__proto__common__v1__array_value);
  v->array_value->n_values = n;
  v->array_value->values = items;
  return v;
}

static pb_key_value *kv(const char *key, pb_any_value *value)
{
  pb_key_value *k = NEW(pb_key_value, opentelemetry__proto__common__v1__key_value);
  k->key = B(key);
  k->value = value;
  return k;
}

static pb_any_value *v_kvlist(size_t n, pb_key_value **items)
{
  pb_any_value *v = NEW(pb_any_value, opentelemetry__proto__common__v1__any_value);
  v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE;
  v->kvlist_value = NEW(Opentelemetry__Proto__Common__V1__KeyValueList, opentelemetry__proto__common__v1__key_value_list);
  v->kvlist_value->n_values = n;
  v->kvlist_value->values = items;
  return v;
}

static pb_resource *resource(size_t n, pb_key_value **attrs)
{
  pb_resource *r = NEW(pb_resource, opentelemetry__proto__resource__v1__resource);
  r->n_attributes = n;
  r->attributes = attrs;
  return r;
}

static pb_scope *scope(const char *name, const char *version)
{
  pb_scope *s = NEW(pb_scope, opentelemetry__proto__common__v1__instrumentation_scope);
  s->name = B(name);
  s->version = B(version);
  return s;
}

static struct slice pack(const ProtobufCMessage *m)
{
  size_t n = protobuf_c_message_get_packed_size(m);
  uint8_t *p = arena_alloc(&arena, n + 1);
  REQUIRE(protobuf_c_message_pack(m, p) == n);
  return slice_make((const char *)p, n);
}

static void save_seed(const char *dir, const char *name, struct slice data)
{
  if (!write_corpus)
    return;
  char path[256];
  snprintf(path, sizeof path, "tests/fuzz/corpus/%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  REQUIRE(f);
  fwrite(data.ptr, 1, data.len, f);
  fclose(f);
}

/* ---- reading blocks ---- */

static void render(const struct column *c, uint32_t row, struct buf *out)
{
  switch (c->type->id) {
  case TYPE_STRING:
  case TYPE_LOW_CARDINALITY:
    buf_append_slice(out, column_get_bytes(c, row));
    return;
  case TYPE_FLOAT64:
    buf_printf(out, "%.17g", column_get_f64(c, row));
    return;
  case TYPE_INT32:
  case TYPE_INT64:
  case TYPE_DATETIME64:
    buf_printf(out, "%lld", (long long)column_get_i64(c, row));
    return;
  case TYPE_MAP: {
    uint64_t s, e;
    column_array_range(c, row, &s, &e);
    buf_append_char(out, '{');
    for (uint64_t i = s; i < e; i++) {
      if (i > s)
        buf_append_char(out, ',');
      render(c->children[0], (uint32_t)i, out);
      buf_append_char(out, '=');
      render(c->children[1], (uint32_t)i, out);
    }
    buf_append_char(out, '}');
    return;
  }
  case TYPE_ARRAY: {
    uint64_t s, e;
    column_array_range(c, row, &s, &e);
    buf_append_char(out, '[');
    for (uint64_t i = s; i < e; i++) {
      if (i > s)
        buf_append_char(out, '|');
      render(c->children[0], (uint32_t)i, out);
    }
    buf_append_char(out, ']');
    return;
  }
  default:
    buf_printf(out, "%llu", (unsigned long long)column_get_u64(c, row));
    return;
  }
}

static const char *cell(const struct block *b, uint32_t col, uint32_t row)
{
  REQUIRE(col < b->column_count && row < b->rows);
  struct buf out;
  buf_init(&out);
  render(b->columns[col], row, &out);
  char *s = arena_strndup(&arena, out.data ? out.data : "", out.len);
  buf_free(&out);
  return s;
}

#define CELL(b, col, row, want) CHECK_EQ_STR(cell((b), (col), (row)), (want))

/* Every column has the block's rows, and arrays/maps are consistent. */
static void check_shape(const struct block *b)
{
  for (uint32_t i = 0; i < b->column_count; i++) {
    const struct column *c = b->columns[i];
    CHECK_EQ_INT(c->rows, b->rows);
    if ((c->type->id == TYPE_ARRAY || c->type->id == TYPE_MAP) && c->rows) {
      CHECK_EQ_INT(c->offsets[c->rows - 1], c->children[0]->rows);
      if (c->type->id == TYPE_MAP)
        CHECK_EQ_INT(c->children[0]->rows, c->children[1]->rows);
    }
  }
}

/* Both blocks hold the same values, cell by cell. */
static void check_same(const struct block *a, const struct block *b)
{
  REQUIRE(a->column_count == b->column_count);
  CHECK_EQ_INT(a->rows, b->rows);
  for (uint32_t r = 0; r < a->rows && r < b->rows; r++)
    for (uint32_t c = 0; c < a->column_count; c++) {
      const char *x = cell(a, c, r), *y = cell(b, c, r);
      if (strcmp(x, y)) {
        fprintf(stderr, "row %u %s: %s vs %s\n", r, a->names[c], x, y);
        test_failures++;
      }
    }
}

static int decode(enum otlp_signal sig, enum otlp_encoding enc, struct slice body, struct otlp_batch *batch,
                  struct error *err)
{
  struct arena scratch;
  arena_init(&scratch, 0);
  int rc = otlp_decode(&arena, &scratch, sig, enc, SLICE_LIT("acme"), body.ptr, body.len, batch, err);
  arena_destroy(&scratch);                    /* blocks must not point into it */
  if (rc == 0)
    for (int t = 0; t < OTEL_TABLE_COUNT; t++)
      if (batch->blocks[t])
        check_shape(batch->blocks[t]);
  return rc;
}

/* ---- traces ---- */

#define T1 "5b8efff798038103d269b633813fc60c"
#define S1 "eee19b7ec3c1b174"
#define S2 "eee19b7ec3c1b173"
#define T2 "0102030405060708090a0b0c0d0e0f10"

static struct slice trace_request(void)
{
  pb_span *a = NEW(pb_span, opentelemetry__proto__trace__v1__span);
  a->trace_id = ID(T1);
  a->span_id = ID(S1);
  a->parent_span_id = ID(S2);
  a->trace_state = B("rojo=00f067aa0ba902b7");
  a->name = B("GET /cart");
  a->kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER;
  a->start_time_unix_nano = 1700000000123456789ull;
  a->end_time_unix_nano = 1700000000623456789ull;
  pb_any_value *arr_items[] = { v_int(1), v_str("a"), v_bool(true), v_double(2.5), v_empty() };
  pb_key_value *map_items[] = { kv("b", v_int(1)), kv("a", v_str("x<y")), kv("a", v_str("dup")),
                                kv("n", v_kvlist(0, NULL)) };
  SET_REPEATED(a, attributes, pb_key_value *, kv("http.method", v_str("GET")), kv("ok", v_bool(true)),
               kv("no", v_bool(false)), kv("count", v_int(-7)), kv("ratio", v_double(1.5)),
               kv("big", v_double(1e21)), kv("small", v_double(1e-7)), kv("third", v_double(1.0 / 3)),
               kv("nan", v_double(NAN)), kv("blob", v_bytes("000102ff")),
               kv("list", v_array(5, ARRAY(pb_any_value *, arr_items[0], arr_items[1], arr_items[2], arr_items[3], arr_items[4]))),
               kv("map", v_kvlist(4, ARRAY(pb_key_value *, map_items[0], map_items[1], map_items[2], map_items[3]))),
               kv("unset", NULL), kv("empty", v_empty()));
  a->status = NEW(Opentelemetry__Proto__Trace__V1__Status, opentelemetry__proto__trace__v1__status);
  a->status->code = OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
  a->status->message = B("boom");
  pb_span_event *e1 = NEW(pb_span_event, opentelemetry__proto__trace__v1__span__event);
  e1->time_unix_nano = 1700000000200000000ull;
  e1->name = B("exception");
  SET_REPEATED(e1, attributes, pb_key_value *, kv("exception.type", v_str("IOError")), kv("n", v_int(3)));
  pb_span_event *e2 = NEW(pb_span_event, opentelemetry__proto__trace__v1__span__event);
  e2->time_unix_nano = 1700000000300000000ull;
  e2->name = B("retry");
  SET_REPEATED(a, events, pb_span_event *, e1, e2);
  pb_span_link *l1 = NEW(pb_span_link, opentelemetry__proto__trace__v1__span__link);
  l1->trace_id = ID(T2);
  l1->span_id = ID("0000000000000001");
  l1->trace_state = B("k=v");
  SET_REPEATED(l1, attributes, pb_key_value *, kv("link.kind", v_str("follows")));
  SET_REPEATED(a, links, pb_span_link *, l1);

  pb_span *b = NEW(pb_span, opentelemetry__proto__trace__v1__span);  /* root, ends before it starts */
  b->trace_id = ID(T1);
  b->span_id = ID(S2);
  b->parent_span_id = ID("0000000000000000");
  b->name = B("checkout");
  b->kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT;
  b->start_time_unix_nano = 1700000005000000000ull;
  b->end_time_unix_nano = 1700000004000000000ull;

  pb_span *bad_len = NEW(pb_span, opentelemetry__proto__trace__v1__span);
  bad_len->trace_id = ID("0102030405");
  bad_len->span_id = ID(S1);
  pb_span *bad_zero = NEW(pb_span, opentelemetry__proto__trace__v1__span);
  bad_zero->trace_id = ID(T2);
  bad_zero->span_id = ID("0000000000000000");

  pb_scope_spans *ss1 = NEW(pb_scope_spans, opentelemetry__proto__trace__v1__scope_spans);
  ss1->scope = scope("io.test", "1.2.3");
  SET_REPEATED(ss1, spans, pb_span *, a, bad_len, b);
  pb_scope_spans *ss2 = NEW(pb_scope_spans, opentelemetry__proto__trace__v1__scope_spans);  /* no scope */
  SET_REPEATED(ss2, spans, pb_span *, bad_zero);
  pb_resource_spans *rs1 = NEW(pb_resource_spans, opentelemetry__proto__trace__v1__resource_spans);
  rs1->resource = resource(3, ARRAY(pb_key_value *, kv("service.name", v_str("cart")), kv("host.name", v_str("h1")),
                                    kv("pid", v_int(42))));
  SET_REPEATED(rs1, scope_spans, pb_scope_spans *, ss1, ss2);

  pb_span *c = NEW(pb_span, opentelemetry__proto__trace__v1__span);
  c->trace_id = ID(T2);
  c->span_id = ID(S1);
  c->name = B("other");
  c->kind = 9;                                /* not a known kind */
  c->start_time_unix_nano = 1700000001000000000ull;
  c->end_time_unix_nano = 1700000001000000100ull;
  pb_scope_spans *ss3 = NEW(pb_scope_spans, opentelemetry__proto__trace__v1__scope_spans);
  ss3->scope = scope("other.lib", "");
  SET_REPEATED(ss3, spans, pb_span *, c);
  pb_resource_spans *rs2 = NEW(pb_resource_spans, opentelemetry__proto__trace__v1__resource_spans);  /* no resource */
  SET_REPEATED(rs2, scope_spans, pb_scope_spans *, ss3);

  pb_trace_request *req = NEW(pb_trace_request, opentelemetry__proto__collector__trace__v1__export_trace_service_request);
  SET_REPEATED(req, resource_spans, pb_resource_spans *, rs1, rs2);
  return pack(&req->base);
}

static void check_trace_blocks(const struct otlp_batch *batch, bool from_json)
{
  CHECK_EQ_INT(batch->accepted, 3);
  CHECK_EQ_INT(batch->rejected, 2);
  CHECK_EQ_STR(batch->rejection, "span 1: trace_id is 5 bytes, want 16; 1 more invalid spans rejected");
  CHECK(batch->blocks[OTEL_LOGS] == NULL && batch->blocks[OTEL_METRICS_GAUGE] == NULL);
  const struct block *b = batch->blocks[OTEL_TRACES];
  REQUIRE(b && b->rows == 3);
  CELL(b, TR_TENANT_ID, 0, "acme");
  CELL(b, TR_TENANT_ID, 2, "acme");
  CELL(b, TR_TIMESTAMP, 0, "1700000000123456789");
  CELL(b, TR_TRACE_ID, 0, T1);
  CELL(b, TR_SPAN_ID, 0, S1);
  CELL(b, TR_PARENT_SPAN_ID, 0, S2);
  CELL(b, TR_TRACE_STATE, 0, "rojo=00f067aa0ba902b7");
  CELL(b, TR_SPAN_NAME, 0, "GET /cart");
  CELL(b, TR_SPAN_KIND, 0, "Server");
  CELL(b, TR_SERVICE_NAME, 0, "cart");
  CELL(b, TR_RESOURCE_ATTRIBUTES, 0, "{service.name=cart,host.name=h1,pid=42}");
  CELL(b, TR_SCOPE_NAME, 0, "io.test");
  CELL(b, TR_SCOPE_VERSION, 0, "1.2.3");
  CELL(b, TR_SPAN_ATTRIBUTES, 0,
       "{http.method=GET,ok=true,no=false,count=-7,ratio=1.5,big=1e+21,small=1e-7,third=0.3333333333333333,"
       "nan=json: unsupported value: NaN,blob=AAEC/w==,list=[1,\"a\",true,2.5,null],"
       "map={\"a\":\"dup\",\"b\":1,\"n\":{}},unset=,empty=}");
  CELL(b, TR_DURATION, 0, "500000000");
  CELL(b, TR_STATUS_CODE, 0, "Error");
  CELL(b, TR_STATUS_MESSAGE, 0, "boom");
  CELL(b, TR_EVENTS_TIMESTAMP, 0, "[1700000000200000000|1700000000300000000]");
  CELL(b, TR_EVENTS_NAME, 0, "[exception|retry]");
  CELL(b, TR_EVENTS_ATTRIBUTES, 0, "[{exception.type=IOError,n=3}|{}]");
  CELL(b, TR_LINKS_TRACE_ID, 0, "[" T2 "]");
  CELL(b, TR_LINKS_SPAN_ID, 0, "[0000000000000001]");
  CELL(b, TR_LINKS_TRACE_STATE, 0, "[k=v]");
  CELL(b, TR_LINKS_ATTRIBUTES, 0, "[{link.kind=follows}]");

  CELL(b, TR_SPAN_ID, 1, S2);
  CELL(b, TR_PARENT_SPAN_ID, 1, "");          /* all zero = root */
  CELL(b, TR_TRACE_STATE, 1, "");
  CELL(b, TR_SPAN_KIND, 1, "Client");
  CELL(b, TR_SERVICE_NAME, 1, "cart");
  CELL(b, TR_RESOURCE_ATTRIBUTES, 1, "{service.name=cart,host.name=h1,pid=42}");
  CELL(b, TR_SPAN_ATTRIBUTES, 1, "{}");
  CELL(b, TR_DURATION, 1, "0");               /* end before start: clamped */
  CELL(b, TR_STATUS_CODE, 1, "Unset");
  CELL(b, TR_STATUS_MESSAGE, 1, "");
  CELL(b, TR_EVENTS_NAME, 1, "[]");
  CELL(b, TR_LINKS_ATTRIBUTES, 1, "[]");

  CELL(b, TR_TRACE_ID, 2, T2);
  CELL(b, TR_SPAN_KIND, 2, "");
  CELL(b, TR_SERVICE_NAME, 2, "");
  CELL(b, TR_RESOURCE_ATTRIBUTES, 2, "{}");
  CELL(b, TR_SCOPE_NAME, 2, "other.lib");
  CELL(b, TR_SCOPE_VERSION, 2, "");
  CELL(b, TR_DURATION, 2, "100");

  /* the trace-id lookup rows come from otel_traces_trace_id_ts_mv, not the decoder */
  CHECK(batch->blocks[OTEL_TRACES_TRACE_ID_TS] == NULL);
  (void)from_json;
}

/* The same request as trace_request(), in OTLP/JSON, exercising its rules:
 * camelCase and proto names, hex ids (either case), 64-bit integers as
 * strings or numbers, enums as numbers or names, unknown fields. */
static const char trace_json[] =
    "{\"resourceSpans\":[{\"resource\":{\"attributes\":["
    "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"cart\"}},"
    "{\"key\":\"host.name\",\"value\":{\"string_value\":\"h1\"}},"
    "{\"key\":\"pid\",\"value\":{\"intValue\":\"42\"}}],\"droppedAttributesCount\":0,\"futureField\":{\"x\":[1]}},"
    "\"scopeSpans\":[{\"scope\":{\"name\":\"io.test\",\"version\":\"1.2.3\"},\"spans\":["
    "{\"traceId\":\"5B8EFFF798038103D269B633813FC60C\",\"spanId\":\"" S1 "\",\"parentSpanId\":\"" S2 "\","
    "\"traceState\":\"rojo=00f067aa0ba902b7\",\"name\":\"GET /cart\",\"kind\":2,"
    "\"startTimeUnixNano\":\"1700000000123456789\",\"end_time_unix_nano\":1700000000623456789,"
    "\"attributes\":[{\"key\":\"http.method\",\"value\":{\"stringValue\":\"GET\"}},"
    "{\"key\":\"ok\",\"value\":{\"boolValue\":true}},{\"key\":\"no\",\"value\":{\"boolValue\":false}},"
    "{\"key\":\"count\",\"value\":{\"intValue\":-7}},{\"key\":\"ratio\",\"value\":{\"doubleValue\":1.5}},"
    "{\"key\":\"big\",\"value\":{\"doubleValue\":1e21}},{\"key\":\"small\",\"value\":{\"doubleValue\":\"1e-7\"}},"
    "{\"key\":\"third\",\"value\":{\"doubleValue\":0.3333333333333333}},"
    "{\"key\":\"nan\",\"value\":{\"doubleValue\":\"NaN\"}},{\"key\":\"blob\",\"value\":{\"bytesValue\":\"AAEC/w==\"}},"
    "{\"key\":\"list\",\"value\":{\"arrayValue\":{\"values\":[{\"intValue\":\"1\"},{\"stringValue\":\"a\"},"
    "{\"boolValue\":true},{\"doubleValue\":2.5},{}]}}},"
    "{\"key\":\"map\",\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"b\",\"value\":{\"intValue\":1}},"
    "{\"key\":\"a\",\"value\":{\"stringValue\":\"x<y\"}},{\"key\":\"a\",\"value\":{\"stringValue\":\"dup\"}},"
    "{\"key\":\"n\",\"value\":{\"kvlistValue\":{}}}]}}},"
    "{\"key\":\"unset\"},{\"key\":\"empty\",\"value\":{}}],"
    "\"status\":{\"code\":\"STATUS_CODE_ERROR\",\"message\":\"boom\"},"
    "\"events\":[{\"timeUnixNano\":\"1700000000200000000\",\"name\":\"exception\",\"attributes\":["
    "{\"key\":\"exception.type\",\"value\":{\"stringValue\":\"IOError\"}},{\"key\":\"n\",\"value\":{\"intValue\":\"3\"}}]},"
    "{\"timeUnixNano\":1700000000300000000,\"name\":\"retry\",\"attributes\":null}],"
    "\"links\":[{\"traceId\":\"" T2 "\",\"spanId\":\"0000000000000001\",\"traceState\":\"k=v\","
    "\"attributes\":[{\"key\":\"link.kind\",\"value\":{\"stringValue\":\"follows\"}}]}]},"
    "{\"traceId\":\"0102030405\",\"spanId\":\"" S1 "\"},"
    "{\"trace_id\":\"" T1 "\",\"span_id\":\"" S2 "\",\"parent_span_id\":\"0000000000000000\",\"name\":\"checkout\","
    "\"kind\":\"SPAN_KIND_CLIENT\",\"startTimeUnixNano\":\"1700000005000000000\",\"endTimeUnixNano\":\"1700000004000000000\"}"
    "]},{\"spans\":[{\"traceId\":\"" T2 "\",\"spanId\":\"0000000000000000\"}]}]},"
    "{\"scopeSpans\":[{\"scope\":{\"name\":\"other.lib\"},\"spans\":[{\"traceId\":\"" T2 "\",\"spanId\":\"" S1 "\","
    "\"name\":\"other\",\"kind\":9,\"startTimeUnixNano\":\"1700000001000000000\",\"endTimeUnixNano\":\"1700000001000000100\","
    "\"flags\":257}]}],\"schemaUrl\":\"\"}]}";

static void test_traces(void)
{
  struct otlp_batch pb, js;
  struct error err;
  struct slice body = trace_request();
  save_seed("otlp_proto", "traces.bin", body);
  save_seed("otlp_json", "traces.json", SLICE_LIT(trace_json));
  REQUIRE(decode(OTLP_TRACES, OTLP_PROTOBUF, body, &pb, &err) == 0);
  check_trace_blocks(&pb, false);
  if (decode(OTLP_TRACES, OTLP_JSON, SLICE_LIT(trace_json), &js, &err) != 0) {
    fprintf(stderr, "JSON: %s\n", err.message);
    REQUIRE(0);
  }
  check_trace_blocks(&js, true);
  check_same(pb.blocks[OTEL_TRACES], js.blocks[OTEL_TRACES]);

  /* an empty request is fine and yields empty blocks */
  REQUIRE(decode(OTLP_TRACES, OTLP_PROTOBUF, slice_make("", 0), &pb, &err) == 0);
  CHECK(pb.blocks[OTEL_TRACES] && pb.blocks[OTEL_TRACES]->rows == 0);
  CHECK_EQ_INT(pb.accepted, 0);
  CHECK_EQ_STR(pb.rejection, "");
  REQUIRE(decode(OTLP_TRACES, OTLP_JSON, SLICE_LIT("{}"), &js, &err) == 0);
  CHECK(js.blocks[OTEL_TRACES] && js.blocks[OTEL_TRACES]->rows == 0);
}

/* Ids that are not hex reject their span, not the request. */
static void test_json_ids(void)
{
  struct otlp_batch b;
  struct error err;
  const char *j = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":["
                  "{\"traceId\":\"zz8efff798038103d269b633813fc60c\",\"spanId\":\"" S1 "\"},"
                  "{\"traceId\":\"" T1 "\",\"spanId\":\"" S1 "\",\"parentSpanId\":\"abc\"},"
                  "{\"traceId\":\"" T1 "\",\"spanId\":\"" S1 "\",\"links\":[{\"traceId\":\"" T1 "\",\"spanId\":\"12\"}]},"
                  "{\"traceId\":\"\",\"spanId\":\"" S1 "\"},"
                  "{\"traceId\":\"" T1 "\",\"spanId\":\"" S1 "\",\"startTimeUnixNano\":\"9300000000000000000\"},"
                  "{\"traceId\":\"" T1 "\",\"spanId\":\"" S1 "\"}]}]}]}";
  REQUIRE(decode(OTLP_TRACES, OTLP_JSON, slice_of(j), &b, &err) == 0);
  CHECK_EQ_INT(b.accepted, 1);
  CHECK_EQ_INT(b.rejected, 5);
  CHECK_EQ_STR(b.rejection, "span 0: trace_id is not a hex string; 4 more invalid spans rejected");
  save_seed("otlp_json", "traces_invalid_ids.json", slice_of(j));
}

static void expect_request_error(enum otlp_signal sig, enum otlp_encoding enc, struct slice body, int code,
                                 const char *text)
{
  struct otlp_batch b;
  struct error err;
  error_clear(&err);
  int rc = decode(sig, enc, body, &b, &err);
  CHECK_EQ_INT(rc, code);
  if (text && !strstr(err.message, text)) {
    fprintf(stderr, "error \"%s\" lacks \"%s\"\n", err.message, text);
    test_failures++;
  }
}

/* b = tag, varint length, b: one more level of length-delimited nesting. */
static void wrap(struct buf *b, uint8_t tag)
{
  uint8_t hdr[11];
  size_t n = 0;
  hdr[n++] = tag;
  uint64_t x = b->len;
  do {
    hdr[n++] = (uint8_t)((x & 0x7f) | (x >= 0x80 ? 0x80 : 0));
    x >>= 7;
  } while (x);
  struct buf w;
  buf_init(&w);
  buf_append(&w, hdr, n);
  buf_append(&w, b->data, b->len);
  buf_free(b);
  *b = w;
}

static void test_request_errors(void)
{
  struct slice good = trace_request();
  expect_request_error(OTLP_TRACES, OTLP_PROTOBUF, slice_make(good.ptr, good.len - 3),
                       ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED, "ExportTraceServiceRequest");
  expect_request_error(OTLP_TRACES, OTLP_PROTOBUF, SLICE_LIT("\x0b\x01"), ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED,
                       NULL);                 /* group wire type */
  expect_request_error(OTLP_TRACES, OTLP_PROTOBUF, SLICE_LIT("\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01"),
                       ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED, NULL);  /* 11-byte varint */
  expect_request_error(OTLP_TRACES, OTLP_PROTOBUF, SLICE_LIT("\x0a\x05\x0a\x01"),
                       ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED, NULL);  /* length past the end */
  /* resource_spans as a varint: the wire walk passes it, protobuf-c refuses */
  expect_request_error(OTLP_TRACES, OTLP_PROTOBUF, SLICE_LIT("\x08\x01"), ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED,
                       NULL);

  /* LogsRequest → ResourceLogs → ScopeLogs → LogRecord → body: AnyValue{array{AnyValue{...}}} 120 deep */
  struct buf b;
  buf_init(&b);
  for (int i = 0; i < 120; i++) {
    wrap(&b, 0x0a);                           /* ArrayValue.values */
    wrap(&b, 0x2a);                           /* AnyValue.array_value */
  }
  static const uint8_t tags[] = { 0x2a, 0x12, 0x12, 0x0a };  /* body, log_records, scope_logs, resource_logs */
  for (size_t i = 0; i < sizeof tags; i++)
    wrap(&b, tags[i]);
  expect_request_error(OTLP_LOGS, OTLP_PROTOBUF, buf_slice(&b), ERR_TOO_DEEP_AST, "nested deeper");
  buf_free(&b);

  expect_request_error(OTLP_TRACES, OTLP_JSON, SLICE_LIT("{\"resourceSpans\":[}"),
                       ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED, "JSON");
  expect_request_error(OTLP_TRACES, OTLP_JSON, SLICE_LIT("[]"), ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED, "object");
  expect_request_error(OTLP_TRACES, OTLP_JSON, SLICE_LIT("{\"resourceSpans\":{}}"),
                       ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED, "resource_spans: array");
  expect_request_error(OTLP_TRACES, OTLP_JSON,
                       SLICE_LIT("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":5}]}]}]}"),
                       ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED, "Span.name: string expected");
  expect_request_error(OTLP_TRACES, OTLP_JSON,
                       SLICE_LIT("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"kind\":\"SERVER\"}]}]}]}"),
                       ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED, "Span.kind");
  expect_request_error(OTLP_TRACES, OTLP_JSON,
                       SLICE_LIT("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":-1}]}]}]}"),
                       ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED, "start_time_unix_nano");
  expect_request_error(OTLP_LOGS, OTLP_JSON,
                       SLICE_LIT("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"bytesValue\":\"@@\"}}]}]}]}"),
                       ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED, "bytes_value: base64");
}

/* ---- logs ---- */

static struct slice logs_request(void)
{
  pb_log_record *a = NEW(pb_log_record, opentelemetry__proto__logs__v1__log_record);
  a->time_unix_nano = 1700000000000000001ull;
  a->observed_time_unix_nano = 1700000009000000000ull;
  a->severity_number = OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_WARN2;
  a->severity_text = B("WARN");
  a->body = v_str("disk \"almost\" full\n");
  SET_REPEATED(a, attributes, pb_key_value *, kv("path", v_str("/var")), kv("pct", v_double(97.5)));
  a->flags = 0x101;
  a->trace_id = ID(T1);
  a->span_id = ID(S1);
  a->event_name = B("disk.full");

  pb_log_record *b = NEW(pb_log_record, opentelemetry__proto__logs__v1__log_record);  /* no time: observed */
  b->observed_time_unix_nano = 1700000002000000000ull;
  pb_key_value *body_items[] = { kv("z", v_int(1)), kv("a", v_array(0, NULL)), kv("q", v_str("\xe2\x80\xa8<&>")) };
  b->body = v_kvlist(3, ARRAY(pb_key_value *, body_items[0], body_items[1], body_items[2]));
  b->trace_id = ID("00000000000000000000000000000000");  /* all zero is '' for logs */

  pb_log_record *bad = NEW(pb_log_record, opentelemetry__proto__logs__v1__log_record);
  bad->trace_id = ID("010203");

  pb_log_record *c = NEW(pb_log_record, opentelemetry__proto__logs__v1__log_record);  /* no times at all */
  c->body = v_bytes("ff");
  c->severity_number = 30;                    /* unknown number: kept as is */

  pb_scope_logs *sl = NEW(pb_scope_logs, opentelemetry__proto__logs__v1__scope_logs);
  sl->scope = scope("logger", "2.0");
  SET_REPEATED(sl->scope, attributes, pb_key_value *, kv("scope.attr", v_bool(true)));
  sl->schema_url = B("https://opentelemetry.io/schemas/1.21.0");
  SET_REPEATED(sl, log_records, pb_log_record *, a, b, bad);
  pb_scope_logs *sl2 = NEW(pb_scope_logs, opentelemetry__proto__logs__v1__scope_logs);
  SET_REPEATED(sl2, log_records, pb_log_record *, c);
  pb_resource_logs *rl = NEW(pb_resource_logs, opentelemetry__proto__logs__v1__resource_logs);
  rl->resource = resource(1, ARRAY(pb_key_value *, kv("service.name", v_int(7))));
  rl->schema_url = B("https://opentelemetry.io/schemas/1.20.0");
  SET_REPEATED(rl, scope_logs, pb_scope_logs *, sl, sl2);
  pb_logs_request *req = NEW(pb_logs_request, opentelemetry__proto__collector__logs__v1__export_logs_service_request);
  SET_REPEATED(req, resource_logs, pb_resource_logs *, rl);
  return pack(&req->base);
}

static const char logs_json[] =
    "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"intValue\":7}}]},"
    "\"schemaUrl\":\"https://opentelemetry.io/schemas/1.20.0\",\"scopeLogs\":["
    "{\"scope\":{\"name\":\"logger\",\"version\":\"2.0\",\"attributes\":[{\"key\":\"scope.attr\",\"value\":{\"boolValue\":true}}]},"
    "\"schemaUrl\":\"https://opentelemetry.io/schemas/1.21.0\",\"logRecords\":["
    "{\"timeUnixNano\":\"1700000000000000001\",\"observedTimeUnixNano\":\"1700000009000000000\",\"severityNumber\":14,"
    "\"severityText\":\"WARN\",\"body\":{\"stringValue\":\"disk \\\"almost\\\" full\\n\"},"
    "\"attributes\":[{\"key\":\"path\",\"value\":{\"stringValue\":\"/var\"}},{\"key\":\"pct\",\"value\":{\"doubleValue\":97.5}}],"
    "\"flags\":257,\"traceId\":\"" T1 "\",\"spanId\":\"" S1 "\",\"eventName\":\"disk.full\"},"
    "{\"observedTimeUnixNano\":1700000002000000000,\"body\":{\"kvlistValue\":{\"values\":["
    "{\"key\":\"z\",\"value\":{\"intValue\":\"1\"}},{\"key\":\"a\",\"value\":{\"arrayValue\":{}}},"
    "{\"key\":\"q\",\"value\":{\"stringValue\":\"\\u2028<&>\"}}]}},\"traceId\":\"00000000000000000000000000000000\"},"
    "{\"traceId\":\"010203\"}]},"
    "{\"logRecords\":[{\"body\":{\"bytesValue\":\"/w==\"},\"severityNumber\":\"30\"}]}]}]}";

static void check_logs(const struct otlp_batch *batch)
{
  CHECK_EQ_INT(batch->accepted, 3);
  CHECK_EQ_INT(batch->rejected, 1);
  CHECK_EQ_STR(batch->rejection, "log record 2: trace_id is 3 bytes, want 16");
  const struct block *b = batch->blocks[OTEL_LOGS];
  REQUIRE(b && b->rows == 3);
  CELL(b, LG_TENANT_ID, 0, "acme");
  CELL(b, LG_TIMESTAMP, 0, "1700000000000000001");
  CELL(b, LG_TRACE_ID, 0, T1);
  CELL(b, LG_SPAN_ID, 0, S1);
  CELL(b, LG_TRACE_FLAGS, 0, "1");
  CELL(b, LG_SEVERITY_TEXT, 0, "WARN");
  CELL(b, LG_SEVERITY_NUMBER, 0, "14");
  CELL(b, LG_SERVICE_NAME, 0, "7");
  CELL(b, LG_BODY, 0, "disk \"almost\" full\n");
  CELL(b, LG_RESOURCE_SCHEMA_URL, 0, "https://opentelemetry.io/schemas/1.20.0");
  CELL(b, LG_RESOURCE_ATTRIBUTES, 0, "{service.name=7}");
  CELL(b, LG_SCOPE_SCHEMA_URL, 0, "https://opentelemetry.io/schemas/1.21.0");
  CELL(b, LG_SCOPE_NAME, 0, "logger");
  CELL(b, LG_SCOPE_VERSION, 0, "2.0");
  CELL(b, LG_SCOPE_ATTRIBUTES, 0, "{scope.attr=true}");
  CELL(b, LG_LOG_ATTRIBUTES, 0, "{path=/var,pct=97.5}");
  CELL(b, LG_EVENT_NAME, 0, "disk.full");

  CELL(b, LG_TIMESTAMP, 1, "1700000002000000000");   /* observed time when time_unix_nano is 0 */
  CELL(b, LG_TRACE_ID, 1, "");
  CELL(b, LG_SPAN_ID, 1, "");
  CELL(b, LG_TRACE_FLAGS, 1, "0");
  CELL(b, LG_SEVERITY_NUMBER, 1, "0");
  CELL(b, LG_BODY, 1, "{\"a\":[],\"q\":\"\\u2028\\u003c\\u0026\\u003e\",\"z\":1}");
  CELL(b, LG_SCOPE_NAME, 1, "logger");
  CELL(b, LG_SCOPE_ATTRIBUTES, 1, "{scope.attr=true}");
  CELL(b, LG_LOG_ATTRIBUTES, 1, "{}");
  CELL(b, LG_EVENT_NAME, 1, "");

  CELL(b, LG_TIMESTAMP, 2, "0");
  CELL(b, LG_BODY, 2, "/w==");
  CELL(b, LG_SEVERITY_NUMBER, 2, "30");
  CELL(b, LG_SERVICE_NAME, 2, "7");
  CELL(b, LG_RESOURCE_SCHEMA_URL, 2, "https://opentelemetry.io/schemas/1.20.0");
  CELL(b, LG_SCOPE_SCHEMA_URL, 2, "");
  CELL(b, LG_SCOPE_NAME, 2, "");
  CELL(b, LG_SCOPE_ATTRIBUTES, 2, "{}");
}

static void test_logs(void)
{
  struct otlp_batch pb, js;
  struct error err;
  struct slice body = logs_request();
  save_seed("otlp_proto", "logs.bin", body);
  save_seed("otlp_json", "logs.json", SLICE_LIT(logs_json));
  REQUIRE(decode(OTLP_LOGS, OTLP_PROTOBUF, body, &pb, &err) == 0);
  check_logs(&pb);
  if (decode(OTLP_LOGS, OTLP_JSON, SLICE_LIT(logs_json), &js, &err)) {
    fprintf(stderr, "JSON: %s\n", err.message);
    REQUIRE(0);
  }
  check_logs(&js);
  check_same(pb.blocks[OTEL_LOGS], js.blocks[OTEL_LOGS]);
}

/* ---- metrics ---- */

static pb_exemplar *exemplar(double d, bool as_int, uint64_t t)
{
  pb_exemplar *e = NEW(pb_exemplar, opentelemetry__proto__metrics__v1__exemplar);
  e->time_unix_nano = t;
  if (as_int) {
    e->value_case = OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_INT;
    e->as_int = (int64_t)d;
  } else {
    e->value_case = OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_DOUBLE;
    e->as_double = d;
  }
  e->trace_id = ID(T1);
  e->span_id = ID(S1);
  SET_REPEATED(e, filtered_attributes, pb_key_value *, kv("user", v_str("u1")));
  return e;
}

static pb_metric *metric(const char *name, const char *desc, const char *unit)
{
  pb_metric *m = NEW(pb_metric, opentelemetry__proto__metrics__v1__metric);
  m->name = B(name);
  m->description = B(desc);
  m->unit = B(unit);
  return m;
}

static struct slice metrics_request(void)
{
  /* gauge: a double point with an exemplar, an int point */
  pb_number_point *g1 = NEW(pb_number_point, opentelemetry__proto__metrics__v1__number_data_point);
  SET_REPEATED(g1, attributes, pb_key_value *, kv("cpu", v_str("0")));
  g1->start_time_unix_nano = 1700000000000000000ull;
  g1->time_unix_nano = 1700000060000000000ull;
  g1->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
  g1->as_double = 0.25;
  g1->flags = 1;
  SET_REPEATED(g1, exemplars, pb_exemplar *, exemplar(0.5, false, 1700000030000000000ull));
  pb_number_point *g2 = NEW(pb_number_point, opentelemetry__proto__metrics__v1__number_data_point);
  g2->time_unix_nano = 1700000060000000000ull;
  g2->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
  g2->as_int = -3;
  pb_metric *gauge = metric("cpu.usage", "CPU", "1");
  gauge->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
  gauge->gauge = NEW(Opentelemetry__Proto__Metrics__V1__Gauge, opentelemetry__proto__metrics__v1__gauge);
  SET_REPEATED(gauge->gauge, data_points, pb_number_point *, g1, g2);

  pb_number_point *s1 = NEW(pb_number_point, opentelemetry__proto__metrics__v1__number_data_point);
  s1->time_unix_nano = 1700000060000000000ull;
  s1->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
  s1->as_int = 12;
  SET_REPEATED(s1, exemplars, pb_exemplar *, exemplar(4, true, 1700000031000000000ull), exemplar(5, true, 1700000032000000000ull));
  pb_number_point *s_bad = NEW(pb_number_point, opentelemetry__proto__metrics__v1__number_data_point);
  s_bad->time_unix_nano = UINT64_MAX;
  pb_metric *sum = metric("http.requests", "", "{request}");
  sum->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
  sum->sum = NEW(Opentelemetry__Proto__Metrics__V1__Sum, opentelemetry__proto__metrics__v1__sum);
  sum->sum->aggregation_temporality = OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
  sum->sum->is_monotonic = 1;
  SET_REPEATED(sum->sum, data_points, pb_number_point *, s_bad, s1);

  pb_histogram_point *h1 = NEW(pb_histogram_point, opentelemetry__proto__metrics__v1__histogram_data_point);
  h1->time_unix_nano = 1700000060000000000ull;
  h1->count = 6;
  h1->has_sum_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__HAS_SUM_SUM;
  h1->sum = 12.5;
  h1->has_min_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__HAS_MIN_MIN;
  h1->min = 0.5;
  h1->has_max_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT__HAS_MAX_MAX;
  h1->max = 7;
  SET_REPEATED(h1, bucket_counts, uint64_t, 1, 2, 3);
  SET_REPEATED(h1, explicit_bounds, double, 1.0, 5.0);
  SET_REPEATED(h1, exemplars, pb_exemplar *, exemplar(7, false, 1700000033000000000ull));
  pb_histogram_point *h2 = NEW(pb_histogram_point, opentelemetry__proto__metrics__v1__histogram_data_point);
  h2->time_unix_nano = 1700000060000000000ull;
  h2->flags = 1;
  pb_histogram_point *h_bad = NEW(pb_histogram_point, opentelemetry__proto__metrics__v1__histogram_data_point);
  SET_REPEATED(h_bad, bucket_counts, uint64_t, 1, 2);
  SET_REPEATED(h_bad, explicit_bounds, double, 1.0, 5.0);
  pb_metric *hist = metric("latency", "Latency", "ms");
  hist->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
  hist->histogram = NEW(Opentelemetry__Proto__Metrics__V1__Histogram, opentelemetry__proto__metrics__v1__histogram);
  hist->histogram->aggregation_temporality = OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA;
  SET_REPEATED(hist->histogram, data_points, pb_histogram_point *, h1, h_bad, h2);

  pb_exp_histogram_point *e1 = NEW(pb_exp_histogram_point, opentelemetry__proto__metrics__v1__exponential_histogram_data_point);
  e1->time_unix_nano = 1700000060000000000ull;
  e1->count = 9;
  e1->has_sum_case = OPENTELEMETRY__PROTO__METRICS__V1__EXPONENTIAL_HISTOGRAM_DATA_POINT__HAS_SUM_SUM;
  e1->sum = 3.5;
  e1->scale = -2;
  e1->zero_count = 1;
  e1->positive = NEW(pb_exp_buckets, opentelemetry__proto__metrics__v1__exponential_histogram_data_point__buckets);
  e1->positive->offset = -1;
  SET_REPEATED(e1->positive, bucket_counts, uint64_t, 4, 0, 2);
  e1->negative = NEW(pb_exp_buckets, opentelemetry__proto__metrics__v1__exponential_histogram_data_point__buckets);
  e1->negative->offset = 3;
  SET_REPEATED(e1->negative, bucket_counts, uint64_t, 2);
  e1->has_min_case = OPENTELEMETRY__PROTO__METRICS__V1__EXPONENTIAL_HISTOGRAM_DATA_POINT__HAS_MIN_MIN;
  e1->min = -4;
  e1->has_max_case = OPENTELEMETRY__PROTO__METRICS__V1__EXPONENTIAL_HISTOGRAM_DATA_POINT__HAS_MAX_MAX;
  e1->max = 9;
  e1->zero_threshold = 0.001;
  SET_REPEATED(e1, exemplars, pb_exemplar *, exemplar(2, false, 1700000034000000000ull));
  pb_metric *exph = metric("size", "", "By");
  exph->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM;
  exph->exponential_histogram = NEW(Opentelemetry__Proto__Metrics__V1__ExponentialHistogram, opentelemetry__proto__metrics__v1__exponential_histogram);
  exph->exponential_histogram->aggregation_temporality = 2;
  SET_REPEATED(exph->exponential_histogram, data_points, pb_exp_histogram_point *, e1);

  pb_summary_point *q1 = NEW(pb_summary_point, opentelemetry__proto__metrics__v1__summary_data_point);
  q1->time_unix_nano = 1700000060000000000ull;
  q1->count = 100;
  q1->sum = 250;
  Opentelemetry__Proto__Metrics__V1__SummaryDataPoint__ValueAtQuantile *qa =
      NEW(Opentelemetry__Proto__Metrics__V1__SummaryDataPoint__ValueAtQuantile, opentelemetry__proto__metrics__v1__summary_data_point__value_at_quantile);
  qa->quantile = 0.5;
  qa->value = 2;
  Opentelemetry__Proto__Metrics__V1__SummaryDataPoint__ValueAtQuantile *qb =
      NEW(Opentelemetry__Proto__Metrics__V1__SummaryDataPoint__ValueAtQuantile, opentelemetry__proto__metrics__v1__summary_data_point__value_at_quantile);
  qb->quantile = 0.99;
  qb->value = 9.5;
  SET_REPEATED(q1, quantile_values, Opentelemetry__Proto__Metrics__V1__SummaryDataPoint__ValueAtQuantile *, qa, qb);
  pb_metric *summ = metric("rpc.duration", "", "s");
  summ->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY;
  summ->summary = NEW(Opentelemetry__Proto__Metrics__V1__Summary, opentelemetry__proto__metrics__v1__summary);
  SET_REPEATED(summ->summary, data_points, pb_summary_point *, q1);

  pb_metric *empty = metric("nodata", "", "");  /* no data: nothing kept or rejected */

  pb_scope_metrics *sm = NEW(pb_scope_metrics, opentelemetry__proto__metrics__v1__scope_metrics);
  sm->scope = scope("meter", "0.9");
  sm->scope->dropped_attributes_count = 2;
  SET_REPEATED(sm->scope, attributes, pb_key_value *, kv("lib", v_str("x")));
  sm->schema_url = B("scope-url");
  SET_REPEATED(sm, metrics, pb_metric *, gauge, sum, hist, exph, summ, empty);
  pb_resource_metrics *rm = NEW(pb_resource_metrics, opentelemetry__proto__metrics__v1__resource_metrics);
  rm->resource = resource(1, ARRAY(pb_key_value *, kv("service.name", v_str("api"))));
  rm->schema_url = B("res-url");
  SET_REPEATED(rm, scope_metrics, pb_scope_metrics *, sm);
  pb_metrics_request *req = NEW(pb_metrics_request, opentelemetry__proto__collector__metrics__v1__export_metrics_service_request);
  SET_REPEATED(req, resource_metrics, pb_resource_metrics *, rm);
  return pack(&req->base);
}

static void check_metric_head(const struct block *b, uint32_t row, const char *name, const char *unit,
                              const char *attrs, const char *start, const char *time)
{
  CELL(b, MT_TENANT_ID, row, "acme");
  CELL(b, MT_RESOURCE_ATTRIBUTES, row, "{service.name=api}");
  CELL(b, MT_RESOURCE_SCHEMA_URL, row, "res-url");
  CELL(b, MT_SCOPE_NAME, row, "meter");
  CELL(b, MT_SCOPE_VERSION, row, "0.9");
  CELL(b, MT_SCOPE_ATTRIBUTES, row, "{lib=x}");
  CELL(b, MT_SCOPE_DROPPED_ATTR_COUNT, row, "2");
  CELL(b, MT_SCOPE_SCHEMA_URL, row, "scope-url");
  CELL(b, MT_SERVICE_NAME, row, "api");
  CELL(b, MT_METRIC_NAME, row, name);
  CELL(b, MT_METRIC_UNIT, row, unit);
  CELL(b, MT_ATTRIBUTES, row, attrs);
  CELL(b, MT_START_TIME_UNIX, row, start);
  CELL(b, MT_TIME_UNIX, row, time);
}

static void check_exemplars(const struct block *b, uint32_t at, uint32_t row, const char *times, const char *values)
{
  CELL(b, at + EX_TIME_UNIX, row, times);
  CELL(b, at + EX_VALUE, row, values);
  if (strcmp(times, "[]")) {
    CELL(b, at + EX_FILTERED_ATTRIBUTES, row, strchr(times, '|') ? "[{user=u1}|{user=u1}]" : "[{user=u1}]");
    CELL(b, at + EX_TRACE_ID, row, strchr(times, '|') ? "[" T1 "|" T1 "]" : "[" T1 "]");
    CELL(b, at + EX_SPAN_ID, row, strchr(times, '|') ? "[" S1 "|" S1 "]" : "[" S1 "]");
  } else {
    CELL(b, at + EX_TRACE_ID, row, "[]");
  }
}

static void test_metrics(void)
{
  struct otlp_batch m;
  struct error err;
  struct slice body = metrics_request();
  save_seed("otlp_proto", "metrics.bin", body);
  REQUIRE(decode(OTLP_METRICS, OTLP_PROTOBUF, body, &m, &err) == 0);
  CHECK_EQ_INT(m.accepted, 7);
  CHECK_EQ_INT(m.rejected, 2);
  CHECK_EQ_STR(m.rejection, "data point 2: time_unix_nano 18446744073709551615 is past year 2262; "
                            "1 more invalid data points rejected");
  CHECK(m.blocks[OTEL_TRACES] == NULL && m.blocks[OTEL_LOGS] == NULL);

  const struct block *g = m.blocks[OTEL_METRICS_GAUGE];
  REQUIRE(g && g->rows == 2);
  check_metric_head(g, 0, "cpu.usage", "1", "{cpu=0}", "1700000000000000000", "1700000060000000000");
  CELL(g, MT_METRIC_DESCRIPTION, 0, "CPU");
  CELL(g, GA_VALUE, 0, "0.25");
  CELL(g, GA_FLAGS, 0, "1");
  check_exemplars(g, GA_EXEMPLARS, 0, "[1700000030000000000]", "[0.5]");
  check_metric_head(g, 1, "cpu.usage", "1", "{}", "0", "1700000060000000000");
  CELL(g, GA_VALUE, 1, "-3");
  CELL(g, GA_FLAGS, 1, "0");
  check_exemplars(g, GA_EXEMPLARS, 1, "[]", "[]");

  const struct block *s = m.blocks[OTEL_METRICS_SUM];
  REQUIRE(s && s->rows == 1);
  check_metric_head(s, 0, "http.requests", "{request}", "{}", "0", "1700000060000000000");
  CELL(s, SU_VALUE, 0, "12");
  check_exemplars(s, SU_EXEMPLARS, 0, "[1700000031000000000|1700000032000000000]", "[4|5]");
  CELL(s, SU_AGGREGATION_TEMPORALITY, 0, "2");
  CELL(s, SU_IS_MONOTONIC, 0, "1");

  const struct block *h = m.blocks[OTEL_METRICS_HISTOGRAM];
  REQUIRE(h && h->rows == 2);
  check_metric_head(h, 0, "latency", "ms", "{}", "0", "1700000060000000000");
  CELL(h, HI_COUNT, 0, "6");
  CELL(h, HI_SUM, 0, "12.5");
  CELL(h, HI_BUCKET_COUNTS, 0, "[1|2|3]");
  CELL(h, HI_EXPLICIT_BOUNDS, 0, "[1|5]");
  check_exemplars(h, HI_EXEMPLARS, 0, "[1700000033000000000]", "[7]");
  CELL(h, HI_FLAGS, 0, "0");
  CELL(h, HI_MIN, 0, "0.5");
  CELL(h, HI_MAX, 0, "7");
  CELL(h, HI_AGGREGATION_TEMPORALITY, 0, "1");
  CELL(h, HI_SUM, 1, "0");                    /* unset sum/min/max */
  CELL(h, HI_MIN, 1, "0");
  CELL(h, HI_BUCKET_COUNTS, 1, "[]");
  CELL(h, HI_FLAGS, 1, "1");

  const struct block *e = m.blocks[OTEL_METRICS_EXP_HISTOGRAM];
  REQUIRE(e && e->rows == 1);
  check_metric_head(e, 0, "size", "By", "{}", "0", "1700000060000000000");
  CELL(e, EH_COUNT, 0, "9");
  CELL(e, EH_SUM, 0, "3.5");
  CELL(e, EH_SCALE, 0, "-2");
  CELL(e, EH_ZERO_COUNT, 0, "1");
  CELL(e, EH_POSITIVE_OFFSET, 0, "-1");
  CELL(e, EH_POSITIVE_BUCKET_COUNTS, 0, "[4|0|2]");
  CELL(e, EH_NEGATIVE_OFFSET, 0, "3");
  CELL(e, EH_NEGATIVE_BUCKET_COUNTS, 0, "[2]");
  check_exemplars(e, EH_EXEMPLARS, 0, "[1700000034000000000]", "[2]");
  CELL(e, EH_MIN, 0, "-4");
  CELL(e, EH_MAX, 0, "9");
  CELL(e, EH_AGGREGATION_TEMPORALITY, 0, "2");

  const struct block *q = m.blocks[OTEL_METRICS_SUMMARY];
  REQUIRE(q && q->rows == 1);
  check_metric_head(q, 0, "rpc.duration", "s", "{}", "0", "1700000060000000000");
  CELL(q, SM_COUNT, 0, "100");
  CELL(q, SM_SUM, 0, "250");
  CELL(q, SM_QUANTILES_QUANTILE, 0, "[0.5|0.98999999999999999]");
  CELL(q, SM_QUANTILES_VALUE, 0, "[2|9.5]");
  CELL(q, SM_FLAGS, 0, "0");

  /* The same request through OTLP/JSON. */
  const char *j =
      "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"api\"}}]},"
      "\"schemaUrl\":\"res-url\",\"scopeMetrics\":[{\"scope\":{\"name\":\"meter\",\"version\":\"0.9\",\"droppedAttributesCount\":2,"
      "\"attributes\":[{\"key\":\"lib\",\"value\":{\"stringValue\":\"x\"}}]},\"schemaUrl\":\"scope-url\",\"metrics\":["
      "{\"name\":\"cpu.usage\",\"description\":\"CPU\",\"unit\":\"1\",\"gauge\":{\"dataPoints\":["
      "{\"attributes\":[{\"key\":\"cpu\",\"value\":{\"stringValue\":\"0\"}}],\"startTimeUnixNano\":\"1700000000000000000\","
      "\"timeUnixNano\":\"1700000060000000000\",\"asDouble\":0.25,\"flags\":1,\"exemplars\":[{\"timeUnixNano\":\"1700000030000000000\","
      "\"asDouble\":0.5,\"traceId\":\"" T1 "\",\"spanId\":\"" S1 "\",\"filteredAttributes\":[{\"key\":\"user\",\"value\":{\"stringValue\":\"u1\"}}]}]},"
      "{\"timeUnixNano\":\"1700000060000000000\",\"asInt\":\"-3\"}]}},"
      "{\"name\":\"http.requests\",\"unit\":\"{request}\",\"sum\":{\"aggregationTemporality\":\"AGGREGATION_TEMPORALITY_CUMULATIVE\","
      "\"isMonotonic\":true,\"dataPoints\":[{\"timeUnixNano\":\"18446744073709551615\"},{\"timeUnixNano\":\"1700000060000000000\",\"asInt\":12,"
      "\"exemplars\":[{\"timeUnixNano\":\"1700000031000000000\",\"asInt\":\"4\",\"traceId\":\"" T1 "\",\"spanId\":\"" S1 "\","
      "\"filteredAttributes\":[{\"key\":\"user\",\"value\":{\"stringValue\":\"u1\"}}]},"
      "{\"timeUnixNano\":\"1700000032000000000\",\"asInt\":5,\"traceId\":\"" T1 "\",\"spanId\":\"" S1 "\","
      "\"filteredAttributes\":[{\"key\":\"user\",\"value\":{\"stringValue\":\"u1\"}}]}]}]}},"
      "{\"name\":\"latency\",\"description\":\"Latency\",\"unit\":\"ms\",\"histogram\":{\"aggregationTemporality\":1,\"dataPoints\":["
      "{\"timeUnixNano\":\"1700000060000000000\",\"count\":\"6\",\"sum\":12.5,\"min\":0.5,\"max\":7,\"bucketCounts\":[\"1\",2,\"3\"],"
      "\"explicitBounds\":[1,5],\"exemplars\":[{\"timeUnixNano\":\"1700000033000000000\",\"asDouble\":7,\"traceId\":\"" T1 "\","
      "\"spanId\":\"" S1 "\",\"filteredAttributes\":[{\"key\":\"user\",\"value\":{\"stringValue\":\"u1\"}}]}]},"
      "{\"bucketCounts\":[1,2],\"explicitBounds\":[1,5]},{\"timeUnixNano\":\"1700000060000000000\",\"flags\":1}]}},"
      "{\"name\":\"size\",\"unit\":\"By\",\"exponentialHistogram\":{\"aggregationTemporality\":2,\"dataPoints\":["
      "{\"timeUnixNano\":\"1700000060000000000\",\"count\":9,\"sum\":3.5,\"scale\":-2,\"zeroCount\":\"1\","
      "\"positive\":{\"offset\":-1,\"bucketCounts\":[\"4\",\"0\",\"2\"]},\"negative\":{\"offset\":3,\"bucketCounts\":[2]},"
      "\"min\":-4,\"max\":9,\"zeroThreshold\":0.001,\"exemplars\":[{\"timeUnixNano\":\"1700000034000000000\",\"asDouble\":2,"
      "\"traceId\":\"" T1 "\",\"spanId\":\"" S1 "\",\"filteredAttributes\":[{\"key\":\"user\",\"value\":{\"stringValue\":\"u1\"}}]}]}]}},"
      "{\"name\":\"rpc.duration\",\"unit\":\"s\",\"summary\":{\"dataPoints\":[{\"timeUnixNano\":\"1700000060000000000\","
      "\"count\":\"100\",\"sum\":250,\"quantileValues\":[{\"quantile\":0.5,\"value\":2},{\"quantile\":0.99,\"value\":9.5}]}]}},"
      "{\"name\":\"nodata\"}]}]}]}";
  struct otlp_batch mj;
  save_seed("otlp_json", "metrics.json", slice_of(j));
  if (decode(OTLP_METRICS, OTLP_JSON, slice_of(j), &mj, &err)) {
    fprintf(stderr, "JSON: %s\n", err.message);
    REQUIRE(0);
  }
  CHECK_EQ_INT(mj.accepted, 7);
  CHECK_EQ_INT(mj.rejected, 2);
  CHECK_EQ_STR(mj.rejection, m.rejection);
  for (int t = OTEL_METRICS_GAUGE; t <= OTEL_METRICS_SUMMARY; t++)
    check_same(m.blocks[t], mj.blocks[t]);
}

/* ---- value text ---- */

static void any_text(struct buf *out, pb_any_value *v)
{
  struct any_rec rec;
  REQUIRE(any_parse(pack(&v->base), 1, true, &rec) == ANY_OK);
  text_any_value(out, &rec);
}

static const char *double_text(double d)
{
  struct buf b;
  buf_init(&b);
  any_text(&b, v_double(d));
  char *s = arena_strndup(&arena, b.data ? b.data : "", b.len);
  buf_free(&b);
  return s;
}

static void test_value_text(void)
{
  /* Go strconv.FormatFloat(f, 'f' or 'e', -1, 64) as encoding/json picks it */
  CHECK_EQ_STR(double_text(0), "0");
  CHECK_EQ_STR(double_text(-0.0), "-0");
  CHECK_EQ_STR(double_text(1), "1");
  CHECK_EQ_STR(double_text(-2.5), "-2.5");
  CHECK_EQ_STR(double_text(0.1), "0.1");
  CHECK_EQ_STR(double_text(100), "100");
  CHECK_EQ_STR(double_text(123456789012), "123456789012");
  CHECK_EQ_STR(double_text(1e20), "100000000000000000000");
  CHECK_EQ_STR(double_text(1e21), "1e+21");
  CHECK_EQ_STR(double_text(1.5e300), "1.5e+300");
  CHECK_EQ_STR(double_text(0.000001), "0.000001");
  CHECK_EQ_STR(double_text(1e-7), "1e-7");
  CHECK_EQ_STR(double_text(1.25e-10), "1.25e-10");
  CHECK_EQ_STR(double_text(5e-324), "5e-324");
  CHECK_EQ_STR(double_text(1.7976931348623157e308), "1.7976931348623157e+308");
  CHECK_EQ_STR(double_text(0.30000000000000004), "0.30000000000000004");
  CHECK_EQ_STR(double_text(INFINITY), "json: unsupported value: +Inf");
  CHECK_EQ_STR(double_text(-INFINITY), "json: unsupported value: -Inf");

  struct buf b;
  buf_init(&b);
  static const char raw[] = "a\"b\\c\b\f\n\r\t\x01\x1f\x7f<>&\xe2\x80\xa9\xff\xc3\xa9";
  text_json_string(&b, raw, sizeof raw - 1);
  CHECK_EQ_MEM(b.data, b.len, "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\\u003c\\u003e\\u0026\\u2029\\ufffd\xc3\xa9\"");
  buf_reset(&b);
  /* a non-finite double inside a kvlist makes json.Marshal fail: pdata stores "" */
  pb_key_value *items[] = { kv("x", v_double(INFINITY)) };
  any_text(&b, v_kvlist(1, items));
  CHECK_EQ_INT(b.len, 0);
  buf_reset(&b);
  pb_any_value *nested[] = { v_array(0, NULL), v_kvlist(0, NULL), v_bytes("00"), v_int(INT64_MIN) };
  any_text(&b, v_array(4, nested));
  CHECK_EQ_MEM(b.data, b.len, "[[],{},\"AA==\",-9223372036854775808]");
  buf_reset(&b);
  text_base64(&b, (const uint8_t *)"ab", 2);
  CHECK_EQ_MEM(b.data, b.len, "YWI=");
  buf_free(&b);

  uint8_t *d;
  size_t n;
  CHECK(text_base64_decode(&arena, "YWI", 3, &d, &n) && n == 2 && !memcmp(d, "ab", 2));
  CHECK(text_base64_decode(&arena, "-_8=", 4, &d, &n) && n == 2 && d[0] == 0xfb && d[1] == 0xff);
  CHECK(!text_base64_decode(&arena, "Y", 1, &d, &n));
  CHECK(!text_base64_decode(&arena, "Y!==", 4, &d, &n));
  CHECK(!text_hex_decode(&arena, "abc", 3, &d, &n));
  CHECK(!text_hex_decode(&arena, "0g", 2, &d, &n));
}

/* The significant digits of a decimal text, leading and trailing zeros dropped. */
static size_t sig_digits(const char *s, char *out)
{
  size_t n = 0;
  for (; *s && *s != 'e'; s++)
    if (*s >= '0' && *s <= '9' && (n || *s != '0'))
      out[n++] = *s;
  while (n && out[n - 1] == '0')
    n--;
  out[n] = 0;
  return n;
}

/* text_double takes a fast path for values with few decimals; both paths must
 * give the shortest digits that read back, correctly rounded, in the notation
 * encoding/json picks. The reference digits come from printf at rising precision. */
static void test_double_text_shortest(void)
{
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 60000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    double v;
    switch (i % 6) {
    case 0: memcpy(&v, &x, 8); break;                                       /* any bits */
    case 1: v = (double)(int64_t)(x % 100000000) / pow(10, (double)(x >> 59)); break;  /* few decimals */
    case 2: v = ldexp((double)(x >> 11), (int)(x % 80) - 70); break;
    case 3: v = (double)(x >> (x % 64)); break;                             /* integers, to 2^64 */
    case 4: v = nextafter((double)(x % 1000000) / 1000, (x & 1) ? 1e300 : -1e300); break;
    default: v = 4503599627370496.0 + (double)(x % 64) / 4 - 8; break;     /* around 2^52 */
    }
    if (!isfinite(v) || v == 0)
      continue;
    struct buf b;
    buf_init(&b);
    REQUIRE(text_double(&b, v));
    buf_append_char(&b, 0);
    char ref[40], want[24], got[40];
    int prec = 1;
    for (; prec < 17; prec++) {
      snprintf(ref, sizeof ref, "%.*e", prec - 1, v);
      if (strtod(ref, NULL) == v)
        break;
    }
    snprintf(ref, sizeof ref, "%.*e", prec - 1, v);
    sig_digits(ref, want);
    sig_digits(b.data, got);
    double a = fabs(v);
    bool sci = a < 1e-6 || a >= 1e21;
    if (strtod(b.data, NULL) != v || strcmp(got, want) || (strchr(b.data, 'e') != NULL) != sci) {
      fprintf(stderr, "text_double(%.17g) = %s, want digits %s\n", v, b.data, want);
      test_failures++;
    }
    buf_free(&b);
  }
}

/* ---- responses ---- */

static void test_responses(void)
{
  struct otlp_batch b = { .accepted = 3, .rejected = 0, .rejection = "" };
  struct buf out;
  buf_init(&out);
  otlp_response_encode(OTLP_TRACES, OTLP_JSON, &b, &out);
  CHECK_EQ_MEM(out.data, out.len, "{}");
  buf_reset(&out);
  otlp_response_encode(OTLP_TRACES, OTLP_PROTOBUF, &b, &out);
  CHECK_EQ_INT(out.len, 0);                   /* an empty ExportTraceServiceResponse */
  b.rejected = 2;
  b.rejection = "span 1: \"bad\"";
  buf_reset(&out);
  otlp_response_encode(OTLP_LOGS, OTLP_JSON, &b, &out);
  CHECK_EQ_MEM(out.data, out.len,
               "{\"partialSuccess\":{\"rejectedLogRecords\":\"2\",\"errorMessage\":\"span 1: \\\"bad\\\"\"}}");
  buf_reset(&out);
  otlp_response_encode(OTLP_METRICS, OTLP_PROTOBUF, &b, &out);
  Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse *r =
      opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__unpack(NULL, out.len,
                                                                                            (const uint8_t *)out.data);
  REQUIRE(r && r->partial_success);
  CHECK_EQ_INT(r->partial_success->rejected_data_points, 2);
  CHECK_EQ_STR(r->partial_success->error_message, "span 1: \"bad\"");
  opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__free_unpacked(r, NULL);
  buf_reset(&out);
  otlp_response_encode(OTLP_TRACES, OTLP_PROTOBUF, &b, &out);
  Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *t =
      opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(NULL, out.len,
                                                                                        (const uint8_t *)out.data);
  REQUIRE(t && t->partial_success);
  CHECK_EQ_INT(t->partial_success->rejected_spans, 2);
  opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(t, NULL);
  buf_free(&out);
}

/* ---- hand-written wire forms: field order, unknown fields, packed and
 * unpacked repeated scalars, repeated singular fields ---- */

static void w_varint(struct buf *b, uint64_t v)
{
  do {
    buf_append_char(b, (char)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0)));
    v >>= 7;
  } while (v);
}

static void w_tag(struct buf *b, uint32_t field, uint32_t wt) { w_varint(b, (uint64_t)field << 3 | wt); }

static void w_uint(struct buf *b, uint32_t field, uint64_t v)
{
  w_tag(b, field, WT_VARINT);
  w_varint(b, v);
}

static void w_fixed64(struct buf *b, uint32_t field, uint64_t v)
{
  w_tag(b, field, WT_I64);
  buf_append(b, &v, 8);
}

static void w_double(struct buf *b, uint32_t field, double v)
{
  uint64_t bits;
  memcpy(&bits, &v, 8);
  w_fixed64(b, field, bits);
}

static void w_fixed32(struct buf *b, uint32_t field, uint32_t v)
{
  w_tag(b, field, WT_I32);
  buf_append(b, &v, 4);
}

static void w_bytes(struct buf *b, uint32_t field, const void *p, size_t n)
{
  w_tag(b, field, WT_LEN);
  w_varint(b, n);
  buf_append(b, p, n);
}

static void w_str(struct buf *b, uint32_t field, const char *s) { w_bytes(b, field, s, strlen(s)); }

/* Moves `sub` into b as field `field` (length-delimited) and empties it. */
static void w_msg(struct buf *b, uint32_t field, struct buf *sub)
{
  w_bytes(b, field, sub->data, sub->len);
  buf_reset(sub);
}

static void w_unknowns(struct buf *b)
{
  w_uint(b, 900, 7);
  w_fixed64(b, 901, 1);
  w_str(b, 902, "?");
  w_fixed32(b, 903, 2);
}

static void w_kv_str(struct buf *b, uint32_t field, const char *k, const char *v)
{
  struct buf kv, av;
  buf_init(&kv);
  buf_init(&av);
  w_unknowns(&av);
  w_uint(&av, 3, 5);                          /* int_value 5, then string_value: the last oneof member wins */
  w_str(&av, 1, v);
  w_msg(&kv, 2, &av);                         /* value before key */
  w_str(&kv, 1, k);
  w_msg(b, field, &kv);
  buf_free(&kv);
  buf_free(&av);
}

static void test_wire_forms(void)
{
  struct buf req, rs, ss, sp, tmp;
  buf_init(&req);
  buf_init(&rs);
  buf_init(&ss);
  buf_init(&sp);
  buf_init(&tmp);
  struct otlp_batch b;
  struct error err;

  /* traces: scope_spans before resource, spans before scope, a name twice */
  w_unknowns(&sp);
  w_str(&sp, 5, "first");
  w_fixed64(&sp, 8, 1700000000000000900ull);
  w_fixed64(&sp, 7, 1700000000000000000ull);
  w_kv_str(&sp, 9, "a", "b");
  w_uint(&sp, 6, 3);
  w_bytes(&sp, 2, ID(S1).data, 8);
  w_bytes(&sp, 1, ID(T1).data, 16);
  w_str(&sp, 5, "second");
  w_fixed32(&sp, 16, 0x301);
  w_str(&tmp, 2, "boom");
  w_uint(&tmp, 3, 2);
  w_msg(&sp, 15, &tmp);
  w_msg(&ss, 2, &sp);
  w_str(&tmp, 1, "scope.lib");
  w_msg(&ss, 1, &tmp);
  w_unknowns(&ss);
  w_msg(&rs, 2, &ss);
  w_kv_str(&tmp, 1, "service.name", "svc");
  w_unknowns(&tmp);
  w_msg(&rs, 1, &tmp);
  w_unknowns(&req);
  w_msg(&req, 1, &rs);
  REQUIRE(decode(OTLP_TRACES, OTLP_PROTOBUF, buf_slice(&req), &b, &err) == 0);
  const struct block *t = b.blocks[OTEL_TRACES];
  REQUIRE(t->rows == 1);
  CELL(t, TR_SPAN_NAME, 0, "second");
  CELL(t, TR_SPAN_KIND, 0, "Client");
  CELL(t, TR_SERVICE_NAME, 0, "svc");
  CELL(t, TR_RESOURCE_ATTRIBUTES, 0, "{service.name=svc}");
  CELL(t, TR_SCOPE_NAME, 0, "scope.lib");
  CELL(t, TR_SPAN_ATTRIBUTES, 0, "{a=b}");
  CELL(t, TR_DURATION, 0, "900");
  CELL(t, TR_STATUS_CODE, 0, "Error");
  CELL(t, TR_STATUS_MESSAGE, 0, "boom");
  save_seed("otlp_proto", "traces_wire_forms.bin", buf_slice(&req));

  /* a known field with the wrong wire type fails the request */
  buf_reset(&req);
  w_uint(&sp, 5, 1);                          /* Span.name as a varint */
  w_msg(&ss, 2, &sp);
  w_msg(&rs, 2, &ss);
  w_msg(&req, 1, &rs);
  CHECK_EQ_INT(decode(OTLP_TRACES, OTLP_PROTOBUF, buf_slice(&req), &b, &err), ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED);
  CHECK(strstr(err.message, "malformed Span") != NULL);

  /* metrics: unpacked and packed repeated scalars mixed, temporality after the points */
  struct buf pt, data, metric, sm, rm;
  buf_init(&pt);
  buf_init(&data);
  buf_init(&metric);
  buf_init(&sm);
  buf_init(&rm);
  buf_reset(&req);
  w_fixed64(&pt, 3, 1700000060000000000ull);
  w_fixed64(&pt, 6, 1);                       /* bucket_counts one by one ... */
  w_fixed64(&pt, 6, 2);
  uint64_t packed[] = { 3 };
  w_bytes(&pt, 6, packed, sizeof packed);     /* ... then packed */
  double bounds[] = { 1.0 };
  w_bytes(&pt, 7, bounds, sizeof bounds);
  w_double(&pt, 7, 5.0);
  w_fixed64(&pt, 4, 6);
  w_double(&pt, 5, 12.5);
  w_unknowns(&pt);
  w_msg(&data, 1, &pt);
  w_uint(&data, 2, 1);
  w_msg(&metric, 9, &data);
  w_str(&metric, 1, "latency");
  w_msg(&sm, 2, &metric);

  w_fixed64(&pt, 3, 1700000060000000000ull);
  struct buf bk;
  buf_init(&bk);
  w_uint(&bk, 2, 4);                          /* bucket_counts as separate varints */
  w_uint(&bk, 2, 0);
  uint8_t vpacked[] = { 2, 0x80, 0x01 };      /* packed varints 2, 128 */
  w_bytes(&bk, 2, vpacked, sizeof vpacked);
  w_uint(&bk, 1, 3);                          /* offset -2 in zigzag */
  w_msg(&pt, 8, &bk);
  w_uint(&pt, 6, 1);                          /* scale -1 in zigzag */
  w_msg(&data, 1, &pt);
  w_msg(&metric, 10, &data);
  w_str(&metric, 1, "size");
  w_msg(&sm, 2, &metric);

  w_fixed64(&pt, 3, 1700000060000000000ull);
  w_fixed64(&pt, 6, (uint64_t)-5);            /* as_int -5 */
  w_msg(&data, 1, &pt);
  w_uint(&data, 3, 1);                        /* is_monotonic after the points */
  w_uint(&data, 2, 2);
  w_msg(&metric, 7, &data);
  w_str(&metric, 1, "count");
  w_msg(&sm, 2, &metric);

  w_msg(&rm, 2, &sm);
  w_msg(&req, 1, &rm);
  REQUIRE(decode(OTLP_METRICS, OTLP_PROTOBUF, buf_slice(&req), &b, &err) == 0);
  CHECK_EQ_INT(b.accepted, 3);
  const struct block *h = b.blocks[OTEL_METRICS_HISTOGRAM];
  REQUIRE(h->rows == 1);
  CELL(h, HI_BUCKET_COUNTS, 0, "[1|2|3]");
  CELL(h, HI_EXPLICIT_BOUNDS, 0, "[1|5]");
  CELL(h, HI_COUNT, 0, "6");
  CELL(h, HI_SUM, 0, "12.5");
  CELL(h, HI_AGGREGATION_TEMPORALITY, 0, "1");
  const struct block *e = b.blocks[OTEL_METRICS_EXP_HISTOGRAM];
  REQUIRE(e->rows == 1);
  CELL(e, EH_POSITIVE_BUCKET_COUNTS, 0, "[4|0|2|128]");
  CELL(e, EH_POSITIVE_OFFSET, 0, "-2");
  CELL(e, EH_SCALE, 0, "-1");
  CELL(e, EH_NEGATIVE_BUCKET_COUNTS, 0, "[]");
  const struct block *su = b.blocks[OTEL_METRICS_SUM];
  REQUIRE(su->rows == 1);
  CELL(su, SU_VALUE, 0, "-5");
  CELL(su, SU_IS_MONOTONIC, 0, "1");
  CELL(su, SU_AGGREGATION_TEMPORALITY, 0, "2");
  save_seed("otlp_proto", "metrics_wire_forms.bin", buf_slice(&req));

  /* a packed fixed64 run whose length is not a multiple of 8 */
  buf_reset(&req);
  w_bytes(&pt, 6, "1234567", 7);
  w_msg(&data, 1, &pt);
  w_msg(&metric, 9, &data);
  w_msg(&sm, 2, &metric);
  w_msg(&rm, 2, &sm);
  w_msg(&req, 1, &rm);
  CHECK_EQ_INT(decode(OTLP_METRICS, OTLP_PROTOBUF, buf_slice(&req), &b, &err), ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED);
  CHECK(strstr(err.message, "HistogramDataPoint") != NULL);

  struct buf *bufs[] = { &req, &rs, &ss, &sp, &tmp, &pt, &data, &metric, &sm, &rm, &bk };
  for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
    buf_free(bufs[i]);
}

/* Many spans: capacity growth, LowCardinality reuse and the trace-id table. */
static void test_many_spans(void)
{
  enum { N = 20000 };
  pb_span **spans = arena_alloc(&arena, N * sizeof *spans);
  for (int i = 0; i < N; i++) {
    pb_span *s = NEW(pb_span, opentelemetry__proto__trace__v1__span);
    uint8_t *tid = arena_calloc(&arena, 1, 16), *sid = arena_calloc(&arena, 1, 8);
    tid[0] = 1;
    tid[15] = (uint8_t)(i % 100);             /* 100 traces, differing only in the last byte */
    memcpy(sid, &i, sizeof i);
    sid[7] = 1;
    s->trace_id = (ProtobufCBinaryData){ 16, tid };
    s->span_id = (ProtobufCBinaryData){ 8, sid };
    s->name = B(i % 2 ? "odd" : "even");
    s->start_time_unix_nano = 1700000000000000000ull + (uint64_t)i * 1000000000ull;
    s->end_time_unix_nano = s->start_time_unix_nano + 5;
    SET_REPEATED(s, attributes, pb_key_value *, kv("i", v_int(i)), kv("k", v_str("v")));
    spans[i] = s;
  }
  pb_scope_spans *ss = NEW(pb_scope_spans, opentelemetry__proto__trace__v1__scope_spans);
  ss->n_spans = N;
  ss->spans = spans;
  pb_resource_spans *rs = NEW(pb_resource_spans, opentelemetry__proto__trace__v1__resource_spans);
  rs->resource = resource(2, ARRAY(pb_key_value *, kv("service.name", v_str("bulk")), kv("r", v_str("x"))));
  SET_REPEATED(rs, scope_spans, pb_scope_spans *, ss);
  pb_trace_request *req = NEW(pb_trace_request, opentelemetry__proto__collector__trace__v1__export_trace_service_request);
  SET_REPEATED(req, resource_spans, pb_resource_spans *, rs);
  struct slice body = pack(&req->base);
  struct otlp_batch b;
  struct error err;
  REQUIRE(decode(OTLP_TRACES, OTLP_PROTOBUF, body, &b, &err) == 0);
  const struct block *t = b.blocks[OTEL_TRACES];
  CHECK_EQ_INT(t->rows, N);
  CELL(t, TR_SPAN_ATTRIBUTES, N - 1, "{i=19999,k=v}");
  CELL(t, TR_RESOURCE_ATTRIBUTES, N - 1, "{service.name=bulk,r=x}");
  CELL(t, TR_SERVICE_NAME, N - 1, "bulk");
  CHECK_EQ_INT(t->columns[TR_SPAN_NAME]->children[0]->rows, 3);       /* '', even, odd */
  CHECK_EQ_INT(t->columns[TR_SERVICE_NAME]->children[0]->rows, 2);
  CHECK_EQ_INT(t->columns[TR_TENANT_ID]->children[0]->rows, 2);
  CELL(t, TR_TRACE_ID, 7, "01000000000000000000000000000007");
}

int main(void)
{
  arena_init(&arena, 0);
  write_corpus = getenv("SPANHOUSE_WRITE_CORPUS") != NULL;
  test_value_text();
  test_double_text_shortest();
  test_traces();
  test_json_ids();
  test_request_errors();
  test_logs();
  test_metrics();
  test_responses();
  test_wire_forms();
  test_many_spans();
  arena_destroy(&arena);
  TEST_DONE();
}
