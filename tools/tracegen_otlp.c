/* tracegen_otlp: see tracegen_otlp.h. Protobuf is written by hand (no
 * protobuf-c) so spangen stays standalone: each span is encoded once into
 * its scope group, and a request wraps the groups with length prefixes
 * computed from the finished groups. Field numbers are the OTLP proto's. */
#include "tools/tracegen_otlp.h"

#include <stdlib.h>

/* ---- OTLP/JSON -------------------------------------------------------------- */

static void json_str(struct bytes *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  char *d = bytes_room(b, 6 * n + 2);
  size_t j = 0;
  d[j++] = '"';
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      d[j++] = '\\';
      d[j++] = (char)c;
    } else if (c == '\n') {
      d[j++] = '\\';
      d[j++] = 'n';
    } else if (c == '\t') {
      d[j++] = '\\';
      d[j++] = 't';
    } else if (c < 0x20) {
      memcpy(d + j, "\\u00", 4);
      d[j + 4] = hex[c >> 4];
      d[j + 5] = hex[c & 15];
      j += 6;
    } else {
      d[j++] = (char)c;
    }
  }
  d[j++] = '"';
  b->len += j;
}

static void json_attrs(struct bytes *b, const struct attr *a, int n) {
  char tmp[32];
  bytes_putc(b, '[');
  for (int i = 0; i < n; i++) {
    if (i) bytes_putc(b, ',');
    bytes_puts(b, "{\"key\":");
    json_str(b, a[i].k, strlen(a[i].k));
    bytes_puts(b, ",\"value\":{");
    uint32_t len = 0;
    switch (a[i].type) {
    case A_STR:
      bytes_puts(b, "\"stringValue\":");
      json_str(b, a[i].s, a[i].slen);
      break;
    case A_INT:                     /* int64 is a decimal string in OTLP/JSON */
      bytes_puts(b, "\"intValue\":\"");
      bytes_put_i64(b, a[i].i);
      bytes_putc(b, '"');
      break;
    case A_BOOL:
      bytes_puts(b, a[i].i ? "\"boolValue\":true" : "\"boolValue\":false");
      break;
    default:
      bytes_puts(b, "\"doubleValue\":");
      const char *txt = tracegen_attr_text(&a[i], tmp, &len);
      bytes_put(b, txt, len);
      break;
    }
    bytes_puts(b, "}}");
  }
  bytes_putc(b, ']');
}

static void json_span(struct bytes *b, const struct span *sp) {
  bytes_puts(b, "{\"traceId\":\"");
  bytes_put_hex(b, sp->trace_id, 16);
  bytes_puts(b, "\",\"spanId\":\"");
  bytes_put_hex(b, sp->span_id, 8);
  bytes_putc(b, '"');
  if (sp->parent_id) {
    bytes_puts(b, ",\"parentSpanId\":\"");
    bytes_put_hex(b, sp->parent_id, 8);
    bytes_putc(b, '"');
  }
  if (*sp->trace_state) {
    bytes_puts(b, ",\"traceState\":");
    json_str(b, sp->trace_state, strlen(sp->trace_state));
  }
  bytes_puts(b, ",\"name\":");
  json_str(b, sp->name, sp->name_len);
  bytes_puts(b, ",\"kind\":");
  bytes_put_u64(b, (uint64_t)sp->kind);
  bytes_puts(b, ",\"startTimeUnixNano\":\"");
  bytes_put_u64(b, sp->start_ns);
  bytes_puts(b, "\",\"endTimeUnixNano\":\"");
  bytes_put_u64(b, sp->end_ns);
  bytes_puts(b, "\",\"attributes\":");
  json_attrs(b, sp->a, sp->na);
  if (sp->nev) {
    bytes_puts(b, ",\"events\":[");
    for (int i = 0; i < sp->nev; i++) {
      if (i) bytes_putc(b, ',');
      bytes_puts(b, "{\"timeUnixNano\":\"");
      bytes_put_u64(b, sp->ev[i].ts_ns);
      bytes_puts(b, "\",\"name\":");
      json_str(b, sp->ev[i].name, strlen(sp->ev[i].name));
      bytes_puts(b, ",\"attributes\":");
      json_attrs(b, sp->ev[i].a, sp->ev[i].na);
      bytes_putc(b, '}');
    }
    bytes_putc(b, ']');
  }
  if (sp->nlk) {
    bytes_puts(b, ",\"links\":[");
    for (int i = 0; i < sp->nlk; i++) {
      if (i) bytes_putc(b, ',');
      bytes_puts(b, "{\"traceId\":\"");
      bytes_put_hex(b, sp->lk[i].trace_id, 16);
      bytes_puts(b, "\",\"spanId\":\"");
      bytes_put_hex(b, sp->lk[i].span_id, 8);
      bytes_putc(b, '"');
      if (*sp->lk[i].trace_state) {
        bytes_puts(b, ",\"traceState\":");
        json_str(b, sp->lk[i].trace_state, strlen(sp->lk[i].trace_state));
      }
      bytes_puts(b, ",\"attributes\":");
      json_attrs(b, sp->lk[i].a, sp->lk[i].na);
      bytes_putc(b, '}');
    }
    bytes_putc(b, ']');
  }
  bytes_puts(b, ",\"status\":{");
  if (sp->status) {
    bytes_puts(b, "\"code\":");
    bytes_put_u64(b, (uint64_t)sp->status);
    if (*sp->status_msg) {
      bytes_puts(b, ",\"message\":");
      json_str(b, sp->status_msg, strlen(sp->status_msg));
    }
  }
  bytes_puts(b, "}}");
}

/* ---- protobuf ---------------------------------------------------------------- */

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

static inline size_t vlen(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

static inline void pb_varint(struct bytes *b, uint64_t v) {
  char *d = bytes_room(b, 10);
  size_t n = 0;
  while (v >= 0x80) {
    d[n++] = (char)(v | 0x80);
    v >>= 7;
  }
  d[n++] = (char)v;
  b->len += n;
}

static inline void pb_tag(struct bytes *b, uint32_t field, uint32_t wt) { pb_varint(b, (uint64_t)field << 3 | wt); }

static void pb_len(struct bytes *b, uint32_t field, const void *p, size_t n) {
  pb_tag(b, field, WT_LEN);
  pb_varint(b, n);
  bytes_put(b, p, n);
}

static void pb_fixed64(struct bytes *b, uint32_t field, uint64_t v) {
  pb_tag(b, field, WT_I64);
  char *d = bytes_room(b, 8);
  for (int i = 0; i < 8; i++) d[i] = (char)(v >> (8 * i));
  b->len += 8;
}

static size_t anyvalue_size(const struct attr *a) {
  switch (a->type) {
  case A_STR: return 1 + vlen(a->slen) + a->slen;
  case A_INT: return 1 + vlen((uint64_t)a->i);
  case A_BOOL: return 2;
  default: return 9;
  }
}

/* KeyValue{key = 1, value = 2 AnyValue{string 1 | bool 2 | int 3 | double 4}} as field `field`. */
static void pb_attr(struct bytes *b, uint32_t field, const struct attr *a) {
  size_t klen = strlen(a->k), av = anyvalue_size(a);
  size_t kv = 1 + vlen(klen) + klen + 1 + vlen(av) + av;
  pb_tag(b, field, WT_LEN);
  pb_varint(b, kv);
  pb_len(b, 1, a->k, klen);
  pb_tag(b, 2, WT_LEN);
  pb_varint(b, av);
  switch (a->type) {
  case A_STR: pb_len(b, 1, a->s, a->slen); break;
  case A_BOOL:
    pb_tag(b, 2, WT_VARINT);
    pb_varint(b, (uint64_t)a->i);
    break;
  case A_INT:
    pb_tag(b, 3, WT_VARINT);
    pb_varint(b, (uint64_t)a->i);
    break;
  default: {
    double v = (double)a->i / 100.0;
    uint64_t bits;
    memcpy(&bits, &v, 8);
    pb_fixed64(b, 4, bits);
    break;
  }
  }
}

/* Span fields by number: 1 trace_id, 2 span_id, 3 trace_state, 4 parent_span_id,
 * 5 name, 6 kind, 7 start, 8 end, 9 attributes, 11 events, 13 links, 15 status;
 * s and sub are scratch. */
static void pb_span(struct bytes *out, const struct span *sp, struct bytes *s, struct bytes *sub) {
  s->len = 0;
  pb_len(s, 1, sp->trace_id, 16);
  pb_len(s, 2, sp->span_id, 8);
  if (*sp->trace_state) pb_len(s, 3, sp->trace_state, strlen(sp->trace_state));
  if (sp->parent_id) pb_len(s, 4, sp->parent_id, 8);
  pb_len(s, 5, sp->name, sp->name_len);
  pb_tag(s, 6, WT_VARINT);
  pb_varint(s, (uint64_t)sp->kind);
  pb_fixed64(s, 7, sp->start_ns);
  pb_fixed64(s, 8, sp->end_ns);
  for (int i = 0; i < sp->na; i++) pb_attr(s, 9, &sp->a[i]);
  for (int i = 0; i < sp->nev; i++) {
    sub->len = 0;
    pb_fixed64(sub, 1, sp->ev[i].ts_ns);
    pb_len(sub, 2, sp->ev[i].name, strlen(sp->ev[i].name));
    for (int k = 0; k < sp->ev[i].na; k++) pb_attr(sub, 3, &sp->ev[i].a[k]);
    pb_len(s, 11, sub->p, sub->len);
  }
  for (int i = 0; i < sp->nlk; i++) {
    sub->len = 0;
    pb_len(sub, 1, sp->lk[i].trace_id, 16);
    pb_len(sub, 2, sp->lk[i].span_id, 8);
    if (*sp->lk[i].trace_state) pb_len(sub, 3, sp->lk[i].trace_state, strlen(sp->lk[i].trace_state));
    for (int k = 0; k < sp->lk[i].na; k++) pb_attr(sub, 4, &sp->lk[i].a[k]);
    pb_len(s, 13, sub->p, sub->len);
  }
  sub->len = 0;
  if (*sp->status_msg) pb_len(sub, 2, sp->status_msg, strlen(sp->status_msg));
  if (sp->status) {
    pb_tag(sub, 3, WT_VARINT);
    pb_varint(sub, (uint64_t)sp->status);
  }
  pb_len(s, 15, sub->p, sub->len);
  pb_len(out, 2, s->p, s->len);      /* ScopeSpans.spans = 2 */
}

/* ---- requests: one per tenant, grouped by resource and scope ---------------- */

struct scope_group {
  struct bytes b;                   /* spans, already encoded (JSON: comma-separated) */
  uint32_t count;
  uint8_t itype;
};

struct res_group {
  uint16_t svc, inst;
  int16_t sg[ITYPE_COUNT];
};

struct tenant_batch {
  struct res_group res[SVC_COUNT * INSTANCES_MAX];
  int nres;
  struct scope_group sg[SVC_COUNT * INSTANCES_MAX * ITYPE_COUNT];
  int nsg;
  int16_t slot[SVC_COUNT][INSTANCES_MAX];
  uint32_t spans;
};

/* A resource's attributes in this batcher's encoding, built on first use. */
struct resource_encoded {
  struct bytes b;                   /* JSON {"attributes":[...]} or Resource fields */
  bool ready;
};

struct tracegen_otlp {
  enum tracegen_otlp_encoding encoding;
  uint32_t batch_spans;
  struct tenant_batch tb[TENANT_COUNT];
  struct resource_encoded res[TENANT_COUNT][SVC_COUNT][INSTANCES_MAX];
  struct bytes span, sub, scope, rs;  /* scratch for one span / request */
};

struct tracegen_otlp *tracegen_otlp_create(enum tracegen_otlp_encoding encoding, uint32_t batch_spans) {
  struct tracegen_otlp *b = calloc(1, sizeof *b);
  if (!b) abort();
  b->encoding = encoding;
  b->batch_spans = batch_spans;
  for (int t = 0; t < TENANT_COUNT; t++) memset(b->tb[t].slot, 0xff, sizeof b->tb[t].slot);
  return b;
}

void tracegen_otlp_destroy(struct tracegen_otlp *b) {
  if (!b) return;
  for (int t = 0; t < TENANT_COUNT; t++)
    for (int i = 0; i < SVC_COUNT * INSTANCES_MAX * ITYPE_COUNT; i++) bytes_free(&b->tb[t].sg[i].b);
  for (int t = 0; t < TENANT_COUNT; t++)
    for (int s = 0; s < SVC_COUNT; s++)
      for (int i = 0; i < INSTANCES_MAX; i++) bytes_free(&b->res[t][s][i].b);
  bytes_free(&b->span);
  bytes_free(&b->sub);
  bytes_free(&b->scope);
  bytes_free(&b->rs);
  free(b);
}

static const struct bytes *resource_encoded(struct tracegen_otlp *b, struct tracegen *g, int tenant, int svc,
                                            int inst) {
  struct resource_encoded *re = &b->res[tenant][svc][inst];
  if (re->ready) return &re->b;
  const struct tracegen_resource *res = tracegen_resource(g, tenant, svc, inst);
  if (b->encoding == TRACEGEN_OTLP_JSON) {
    bytes_puts(&re->b, "{\"attributes\":");
    json_attrs(&re->b, res->a, res->na);
    bytes_putc(&re->b, '}');
  } else {
    for (int i = 0; i < res->na; i++) pb_attr(&re->b, 1, &res->a[i]);
  }
  re->ready = true;
  return &re->b;
}

static void tb_reset(struct tenant_batch *t) {
  for (int i = 0; i < t->nres; i++) t->slot[t->res[i].svc][t->res[i].inst] = -1;
  for (int i = 0; i < t->nsg; i++) {
    t->sg[i].b.len = 0;
    t->sg[i].count = 0;
  }
  t->nres = t->nsg = 0;
  t->spans = 0;
}

static void request_json(struct tracegen_otlp *b, struct tracegen *g, int tenant, struct bytes *req) {
  const struct tenant_batch *t = &b->tb[tenant];
  bytes_puts(req, "{\"resourceSpans\":[");
  for (int r = 0; r < t->nres; r++) {
    const struct res_group *rg = &t->res[r];
    const struct bytes *res = resource_encoded(b, g, tenant, rg->svc, rg->inst);
    const struct lang_def *L = &tracegen_langs[tracegen_services[rg->svc].lang];
    if (r) bytes_putc(req, ',');
    bytes_puts(req, "{\"resource\":");
    bytes_put(req, res->p, res->len);
    bytes_puts(req, ",\"scopeSpans\":[");
    bool first = true;
    for (int it = 0; it < ITYPE_COUNT; it++) {
      if (rg->sg[it] < 0) continue;
      const struct scope_group *sg = &t->sg[rg->sg[it]];
      if (!first) bytes_putc(req, ',');
      first = false;
      bytes_puts(req, "{\"scope\":{\"name\":");
      json_str(req, L->scope[it], strlen(L->scope[it]));
      bytes_puts(req, ",\"version\":");
      json_str(req, L->scope_version[it], strlen(L->scope_version[it]));
      bytes_puts(req, "},\"spans\":[");
      bytes_put(req, sg->b.p, sg->b.len);
      bytes_puts(req, "]}");
    }
    bytes_puts(req, "]}");
  }
  bytes_puts(req, "]}\n");
}

/* ExportTraceServiceRequest{1: ResourceSpans{1: Resource, 2: ScopeSpans{1: scope, 2: spans}}} */
static void request_protobuf(struct tracegen_otlp *b, struct tracegen *g, int tenant, struct bytes *req) {
  const struct tenant_batch *t = &b->tb[tenant];
  struct bytes *rs = &b->rs, *scope = &b->scope;
  for (int r = 0; r < t->nres; r++) {
    const struct res_group *rg = &t->res[r];
    const struct bytes *res = resource_encoded(b, g, tenant, rg->svc, rg->inst);
    const struct lang_def *L = &tracegen_langs[tracegen_services[rg->svc].lang];
    rs->len = 0;
    pb_len(rs, 1, res->p, res->len);
    for (int it = 0; it < ITYPE_COUNT; it++) {
      if (rg->sg[it] < 0) continue;
      const struct scope_group *sg = &t->sg[rg->sg[it]];
      scope->len = 0;
      pb_len(scope, 1, L->scope[it], strlen(L->scope[it]));
      if (*L->scope_version[it]) pb_len(scope, 2, L->scope_version[it], strlen(L->scope_version[it]));
      size_t ss = 1 + vlen(scope->len) + scope->len + sg->b.len;
      pb_tag(rs, 2, WT_LEN);
      pb_varint(rs, ss);
      pb_len(rs, 1, scope->p, scope->len);
      bytes_put(rs, sg->b.p, sg->b.len);
    }
    pb_len(req, 1, rs->p, rs->len);
  }
}

uint32_t tracegen_otlp_take(struct tracegen_otlp *b, struct tracegen *g, int tenant, struct bytes *req) {
  struct tenant_batch *t = &b->tb[tenant];
  uint32_t spans = t->spans;
  if (!spans) return 0;
  req->len = 0;
  if (b->encoding == TRACEGEN_OTLP_JSON) request_json(b, g, tenant, req);
  else request_protobuf(b, g, tenant, req);
  tb_reset(t);
  return spans;
}

bool tracegen_otlp_add(struct tracegen_otlp *b, const struct span *sp) {
  struct tenant_batch *t = &b->tb[sp->tenant];
  int16_t r = t->slot[sp->svc][sp->inst];
  if (r < 0) {
    r = (int16_t)t->nres++;
    t->slot[sp->svc][sp->inst] = r;
    t->res[r].svc = (uint16_t)sp->svc;
    t->res[r].inst = (uint16_t)sp->inst;
    for (int i = 0; i < ITYPE_COUNT; i++) t->res[r].sg[i] = -1;
  }
  struct res_group *rg = &t->res[r];
  if (rg->sg[sp->scope_itype] < 0) {
    rg->sg[sp->scope_itype] = (int16_t)t->nsg;
    t->sg[t->nsg].itype = (uint8_t)sp->scope_itype;
    t->nsg++;
  }
  struct scope_group *sg = &t->sg[rg->sg[sp->scope_itype]];
  if (b->encoding == TRACEGEN_OTLP_JSON) {
    if (sg->count) bytes_putc(&sg->b, ',');
    json_span(&sg->b, sp);
  } else {
    pb_span(&sg->b, sp, &b->span, &b->sub);
  }
  sg->count++;
  return ++t->spans >= b->batch_spans;
}
