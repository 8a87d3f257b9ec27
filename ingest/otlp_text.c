/* Text forms of OTLP values as the ClickHouse exporter stores them: pdata's
 * AnyValue.AsString() (Go strconv and encoding/json rules), hex ids and
 * base64 bytes; plus the decoders OTLP/JSON needs for ids and bytes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/limits.h"
#include "ingest/ingest_int.h"

static const char hex_digits[] = "0123456789abcdef";
static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t text_utf8_len(const uint8_t *p, size_t n)
{
  if (!n)
    return 0;
  uint8_t c = p[0];
  if (c < 0x80)
    return 1;
  if (c < 0xC2)
    return 0;                                   /* continuation byte or overlong 2-byte form */
  if (c < 0xE0)
    return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
  if (c < 0xF0) {
    if (n < 3 || (p[2] & 0xC0) != 0x80)
      return 0;
    uint8_t lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;  /* overlong; surrogates */
    return p[1] >= lo && p[1] <= hi ? 3 : 0;
  }
  if (c < 0xF5) {
    if (n < 4 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
      return 0;
    uint8_t lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;  /* overlong; past U+10FFFF */
    return p[1] >= lo && p[1] <= hi ? 4 : 0;
  }
  return 0;
}

void text_hex(struct buf *out, const uint8_t *p, size_t n)
{
  buf_reserve(out, n * 2);
  char *d = out->data + out->len;
  for (size_t i = 0; i < n; i++) {
    d[2 * i] = hex_digits[p[i] >> 4];
    d[2 * i + 1] = hex_digits[p[i] & 15];
  }
  out->len += n * 2;
}

void text_base64(struct buf *out, const uint8_t *p, size_t n)
{
  buf_reserve(out, (n + 2) / 3 * 4);
  char *d = out->data + out->len;
  size_t i = 0, o = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    d[o++] = b64_chars[v >> 18];
    d[o++] = b64_chars[(v >> 12) & 63];
    d[o++] = b64_chars[(v >> 6) & 63];
    d[o++] = b64_chars[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)p[i] << 16;
    d[o++] = b64_chars[v >> 18];
    d[o++] = b64_chars[(v >> 12) & 63];
    d[o++] = '=';
    d[o++] = '=';
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
    d[o++] = b64_chars[v >> 18];
    d[o++] = b64_chars[(v >> 12) & 63];
    d[o++] = b64_chars[(v >> 6) & 63];
    d[o++] = '=';
  }
  out->len += o;
}

static int b64_value(char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+' || c == '-')                     /* standard and URL-safe alphabets */
    return 62;
  if (c == '/' || c == '_')
    return 63;
  return -1;
}

bool text_base64_decode(struct arena *a, const char *s, size_t n, uint8_t **out, size_t *out_len)
{
  if (n % 4 == 0 && n >= 2 && s[n - 1] == '=')
    n -= s[n - 2] == '=' ? 2 : 1;
  if (n % 4 == 1)
    return false;
  uint8_t *d = arena_alloc(a, n / 4 * 3 + 3);
  size_t o = 0;
  uint32_t acc = 0;
  for (size_t i = 0; i < n; i++) {
    int v = b64_value(s[i]);
    if (v < 0)
      return false;
    acc = acc << 6 | (uint32_t)v;
    if (i % 4 == 3) {
      d[o++] = (uint8_t)(acc >> 16);
      d[o++] = (uint8_t)(acc >> 8);
      d[o++] = (uint8_t)acc;
      acc = 0;
    }
  }
  if (n % 4 == 2) {
    d[o++] = (uint8_t)(acc >> 4);
  } else if (n % 4 == 3) {
    d[o++] = (uint8_t)(acc >> 10);
    d[o++] = (uint8_t)(acc >> 2);
  }
  *out = d;
  *out_len = o;
  return true;
}

static int hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool text_hex_decode(struct arena *a, const char *s, size_t n, uint8_t **out, size_t *out_len)
{
  if (n % 2)
    return false;
  uint8_t *d = arena_alloc(a, n / 2 + 1);
  for (size_t i = 0; i < n; i += 2) {
    int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
    if (hi < 0 || lo < 0)
      return false;
    d[i / 2] = (uint8_t)(hi << 4 | lo);
  }
  *out = d;
  *out_len = n / 2;
  return true;
}

void text_json_string(struct buf *out, const char *s, size_t n)
{
  if (n == 0) {                                 /* s may be NULL */
    buf_append(out, "\"\"", 2);
    return;
  }
  const uint8_t *p = (const uint8_t *)s;
  buf_reserve(out, n + 2);
  buf_append_char(out, '"');
  size_t run = 0, i = 0;
  while (i < n) {
    uint8_t c = p[i];
    const char *esc = NULL;
    char u[8];
    size_t step = 1;
    if (c < 0x80) {
      if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
        i++;
        continue;
      }
      switch (c) {
      case '"': esc = "\\\""; break;
      case '\\': esc = "\\\\"; break;
      case '\b': esc = "\\b"; break;
      case '\f': esc = "\\f"; break;
      case '\n': esc = "\\n"; break;
      case '\r': esc = "\\r"; break;
      case '\t': esc = "\\t"; break;
      default:
        u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0', u[4] = hex_digits[c >> 4], u[5] = hex_digits[c & 15];
        u[6] = 0;
        esc = u;
      }
    } else {
      step = text_utf8_len(p + i, n - i);
      if (step == 0) {
        esc = "\\ufffd";
        step = 1;
      } else if (step == 3 && c == 0xE2 && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9)) {
        esc = p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
      } else {
        i += step;
        continue;
      }
    }
    buf_append(out, s + run, i - run);
    buf_append_cstr(out, esc);
    i += step;
    run = i;
  }
  buf_append(out, s + run, n - run);
  buf_append_char(out, '"');
}

void text_i64(struct buf *out, int64_t v)
{
  char tmp[24];
  size_t n = 0;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  do {
    tmp[sizeof tmp - 1 - n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0)
    tmp[sizeof tmp - 1 - n++] = '-';
  buf_append(out, tmp + sizeof tmp - n, n);
}

/* The shortest decimal digits that read back as v (v > 0, finite), and the
 * exponent of the first digit: v = d0.d1d2... × 10^exp. */
static size_t shortest_digits(double v, char digits[24], int *exp)
{
  char tmp[40];
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
    if (strtod(tmp, NULL) == v)
      break;
  }
  size_t n = 0;
  const char *p = tmp;
  digits[n++] = *p++;
  if (*p == '.')
    for (p++; *p != 'e'; p++)
      digits[n++] = *p;
  *exp = atoi(p + 1);
  while (n > 1 && digits[n - 1] == '0')
    n--;
  return n;
}

/* Powers of ten that are exact doubles. */
static const double pow10_exact[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

/* text_double without printf for 1e-6 <= a whose digits fit below 2^52:
 * the fewest decimals k for which an integer r < 2^52 reads back as a from
 * r / 10^k (an exact quotient rounded once, as strtod rounds). As r < 2^52,
 * ulp(a) * 10^k < 1, so only one integer is that close to a * 10^k: the
 * correctly rounded one, whose digits shortest_digits would pick too.
 * false when k runs out; the caller then takes the printf path. */
static bool plain_decimal(struct buf *out, double a)
{
  const double limit = 4503599627370496.0;      /* 2^52 */
  for (int k = 0; k < (int)(sizeof pow10_exact / sizeof *pow10_exact); k++) {
    double m = a * pow10_exact[k];
    if (m >= limit)
      return false;
    double r = floor(m + 0.5);
    if (r / pow10_exact[k] != a) {
      r += m > r ? 1 : -1;                       /* a * 10^k was rounded: the other neighbour */
      if (r < 0 || r >= limit || r / pow10_exact[k] != a)
        continue;
    }
    uint64_t u = (uint64_t)r;
    char tmp[48];
    size_t n = 0;
    for (int i = 0; i < k; i++) {                /* fraction digits, last first */
      tmp[sizeof tmp - 1 - n++] = (char)('0' + u % 10);
      u /= 10;
    }
    if (k)
      tmp[sizeof tmp - 1 - n++] = '.';
    do {
      tmp[sizeof tmp - 1 - n++] = (char)('0' + u % 10);
      u /= 10;
    } while (u);
    buf_append(out, tmp + sizeof tmp - n, n);
    return true;
  }
  return false;
}

bool text_double(struct buf *out, double v)
{
  if (!isfinite(v))
    return false;
  if (signbit(v))
    buf_append_char(out, '-');
  double a = fabs(v);
  if (a == 0) {
    buf_append_char(out, '0');
    return true;
  }
  if (a >= 1e-6 && plain_decimal(out, a))
    return true;
  char d[24];
  int e;
  size_t n = shortest_digits(a, d, &e);
  if (a < 1e-6 || a >= 1e21) {
    /* strconv 'e' with the exponent's leading zero dropped as encoding/json does: 1e-7, 1.5e+21 */
    buf_append_char(out, d[0]);
    if (n > 1) {
      buf_append_char(out, '.');
      buf_append(out, d + 1, n - 1);
    }
    buf_printf(out, "e%c%d", e < 0 ? '-' : '+', e < 0 ? -e : e);  /* positive ones are >= 21 */
    return true;
  }
  if (e < 0) {
    buf_append(out, "0.", 2);
    for (int i = 0; i < -e - 1; i++)
      buf_append_char(out, '0');
    buf_append(out, d, n);
  } else if ((size_t)e >= n - 1) {
    buf_append(out, d, n);
    for (size_t i = 0; i < (size_t)e - (n - 1); i++)
      buf_append_char(out, '0');
  } else {
    buf_append(out, d, (size_t)e + 1);
    buf_append_char(out, '.');
    buf_append(out, d + e + 1, n - (size_t)e - 1);
  }
  return true;
}

/* ---- AnyValue from the wire ---- */

int any_parse(struct slice msg, uint32_t depth, bool deep, struct any_rec *out)
{
  if (depth > OTLP_MESSAGE_DEPTH_MAX)
    return ANY_TOO_DEEP;
  struct pbr r = pbr_of(msg);
  uint32_t f, wt;
  int t, rc;
  uint64_t v = 0;
  out->kind = ANY_NONE;
  while ((t = rd_tag(&r, &f, &wt)) > 0) {
    bool ok = true;
    switch (f) {
    case ANY_STRING:
    case ANY_BYTES:
      ok = wt == WT_LEN && rd_len(&r, &out->u.s);
      out->kind = (enum any_kind)f;
      break;
    case ANY_BOOL:
    case ANY_INT:
      ok = wt == WT_VARINT && rd_varint(&r, &v);
      out->kind = (enum any_kind)f;
      if (f == ANY_BOOL)
        out->u.b = v != 0;
      else
        out->u.i = (int64_t)v;
      break;
    case ANY_DOUBLE:
      ok = wt == WT_I64 && rd_fixed64(&r, &v);
      out->kind = ANY_DOUBLE;
      memcpy(&out->u.f, &v, 8);
      break;
    case ANY_ARRAY:
    case ANY_KVLIST: {
      struct slice s = { "", 0 };
      ok = wt == WT_LEN && rd_len(&r, &s);
      out->kind = (enum any_kind)f;
      out->u.s = s;
      if (ok && deep) {                        /* check every element now */
        struct pbr e = pbr_of(s);
        uint32_t ef, ewt;
        int et;
        while ((et = rd_tag(&e, &ef, &ewt)) > 0) {
          struct slice es;
          if (ef != 1) {
            if (!rd_skip(&e, ewt))
              return ANY_MALFORMED;
            continue;
          }
          if (ewt != WT_LEN || !rd_len(&e, &es))
            return ANY_MALFORMED;
          struct any_rec sub;
          struct kv_rec kv;
          rc = f == ANY_ARRAY ? any_parse(es, depth + 2, true, &sub) : kv_parse(es, depth + 2, true, &kv);
          if (rc)
            return rc;
        }
        if (et < 0)
          return ANY_MALFORMED;
      }
      break;
    }
    default:
      ok = rd_skip(&r, wt);
      break;
    }
    if (!ok)
      return ANY_MALFORMED;
  }
  return t < 0 ? ANY_MALFORMED : ANY_OK;
}

int kv_parse(struct slice msg, uint32_t depth, bool deep, struct kv_rec *out)
{
  if (depth > OTLP_MESSAGE_DEPTH_MAX)
    return ANY_TOO_DEEP;
  struct pbr r = pbr_of(msg);
  uint32_t f, wt;
  int t, rc;
  out->key = slice_make("", 0);
  out->value.kind = ANY_NONE;
  while ((t = rd_tag(&r, &f, &wt)) > 0) {
    struct slice s;
    if (f == 1 || f == 2) {
      if (wt != WT_LEN || !rd_len(&r, &s))
        return ANY_MALFORMED;
      if (f == 1)
        out->key = s;
      else if ((rc = any_parse(s, depth + 1, deep, &out->value)))
        return rc;
    } else if (!rd_skip(&r, wt)) {
      return ANY_MALFORMED;
    }
  }
  return t < 0 ? ANY_MALFORMED : ANY_OK;
}

/* ---- AnyValue.AsString() ---- */

struct kv_order {
  struct kv_rec kv;
  size_t index;
};

static int kv_order_cmp(const void *pa, const void *pb)
{
  const struct kv_order *a = pa, *b = pb;
  size_t n = a->kv.key.len < b->kv.key.len ? a->kv.key.len : b->kv.key.len;
  int c = n ? memcmp(a->kv.key.ptr, b->kv.key.ptr, n) : 0;
  if (c)
    return c;
  if (a->kv.key.len != b->kv.key.len)
    return a->kv.key.len < b->kv.key.len ? -1 : 1;
  return a->index < b->index ? -1 : a->index > b->index;
}

static bool json_any(struct buf *out, const struct any_rec *v);

/* encoding/json of pdata Map.AsRaw(): a Go map, so keys sorted and unique. */
static bool json_kvlist(struct buf *out, struct slice list)
{
  size_t n = 0, cap = 16;
  struct kv_order small[16];
  struct kv_order *order = small;
  struct pbr r = pbr_of(list);
  uint32_t f, wt;
  while (rd_tag(&r, &f, &wt) > 0) {
    struct slice s;
    if (f != 1) {
      rd_skip(&r, wt);
      continue;
    }
    rd_len(&r, &s);
    if (n == cap) {
      cap *= 2;
      if (order == small) {
        order = mem_alloc(cap * sizeof *order);
        memcpy(order, small, sizeof small);
      } else {
        order = mem_realloc(order, cap * sizeof *order);
      }
    }
    kv_parse(s, 0, false, &order[n].kv);
    order[n].index = n;
    n++;
  }
  if (n > 1)
    qsort(order, n, sizeof *order, kv_order_cmp);
  bool ok = true, first = true;
  buf_append_char(out, '{');
  for (size_t i = 0; i < n && ok; i++) {
    struct slice k = order[i].kv.key;
    if (i + 1 < n && order[i + 1].kv.key.len == k.len && (k.len == 0 || !memcmp(order[i + 1].kv.key.ptr, k.ptr, k.len)))
      continue;                                 /* a later duplicate wins */
    if (!first)
      buf_append_char(out, ',');
    first = false;
    text_json_string(out, k.ptr, k.len);
    buf_append_char(out, ':');
    ok = json_any(out, &order[i].kv.value);
  }
  buf_append_char(out, '}');
  if (order != small)
    mem_free(order);
  return ok;
}

static bool json_any(struct buf *out, const struct any_rec *v)
{
  switch (v->kind) {
  case ANY_STRING:
    text_json_string(out, v->u.s.ptr, v->u.s.len);
    return true;
  case ANY_BOOL:
    buf_append_cstr(out, v->u.b ? "true" : "false");
    return true;
  case ANY_INT:
    text_i64(out, v->u.i);
    return true;
  case ANY_DOUBLE:
    return text_double(out, v->u.f);
  case ANY_BYTES:
    buf_append_char(out, '"');
    text_base64(out, (const uint8_t *)v->u.s.ptr, v->u.s.len);
    buf_append_char(out, '"');
    return true;
  case ANY_ARRAY: {
    bool ok = true, first = true;
    struct pbr r = pbr_of(v->u.s);
    uint32_t f, wt;
    buf_append_char(out, '[');
    while (ok && rd_tag(&r, &f, &wt) > 0) {
      struct slice s;
      if (f != 1) {
        rd_skip(&r, wt);
        continue;
      }
      rd_len(&r, &s);
      struct any_rec e;
      any_parse(s, 0, false, &e);
      if (!first)
        buf_append_char(out, ',');
      first = false;
      ok = json_any(out, &e);
    }
    buf_append_char(out, ']');
    return ok;
  }
  case ANY_KVLIST:
    return json_kvlist(out, v->u.s);
  default:
    buf_append_cstr(out, "null");
    return true;
  }
}

void text_any_value(struct buf *out, const struct any_rec *v)
{
  switch (v->kind) {
  case ANY_STRING:
    buf_append(out, v->u.s.ptr, v->u.s.len);
    return;
  case ANY_BOOL:
    buf_append_cstr(out, v->u.b ? "true" : "false");
    return;
  case ANY_INT:
    text_i64(out, v->u.i);
    return;
  case ANY_DOUBLE:
    if (!text_double(out, v->u.f))
      buf_append_cstr(out, isnan(v->u.f) ? "json: unsupported value: NaN"
                           : v->u.f > 0  ? "json: unsupported value: +Inf"
                                         : "json: unsupported value: -Inf");
    return;
  case ANY_BYTES:
    text_base64(out, (const uint8_t *)v->u.s.ptr, v->u.s.len);
    return;
  case ANY_ARRAY:
  case ANY_KVLIST: {
    size_t mark = out->len;
    if (!json_any(out, v))
      out->len = mark;                          /* json.Marshal failed: pdata stores "" */
    return;
  }
  default:
    return;
  }
}
