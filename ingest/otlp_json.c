/* OTLP/JSON → protobuf-c messages, driven by the generated descriptors, so
 * one mapping (otlp_decode.c) serves both encodings. The OTLP/JSON rules
 * (OTLP specification, "JSON Protobuf Encoding") on top of proto3's JSON
 * mapping: trace_id/span_id/parent_span_id are hex, not base64; field names
 * are lowerCamelCase but the proto names must be accepted too; enums are
 * integers (names accepted as well); unknown fields are ignored.
 * Our .proto files declare strings as bytes (see common.proto), so a bytes
 * field is plain text unless it is an id (hex) or AnyValue.bytes_value
 * (base64). */
#include <math.h>
#include <string.h>

#include "base/limits.h"
#include "ingest/ingest_int.h"

struct conv {
  struct arena *a;
  struct error *err;
  uint64_t bytes;                   /* allocated for messages and arrays so far */
};

/* Small JSON ("{}") can stand for large messages: bound the tree like the
 * protobuf path does. */
static int charge(struct conv *cv, uint64_t bytes)
{
  cv->bytes += bytes;
  if (cv->bytes <= OTLP_DECODE_BYTES_MAX)
    return 0;
  return error_set(cv->err, ERR_TOO_MANY_BYTES, "OTLP/JSON: the request would decode to more than %u MiB",
                   (unsigned)(OTLP_DECODE_BYTES_MAX >> 20));
}

enum bytes_form { BYTES_TEXT, BYTES_HEX, BYTES_BASE64 };

static enum bytes_form bytes_form_of(const ProtobufCFieldDescriptor *f)
{
  if (!strcmp(f->name, "trace_id") || !strcmp(f->name, "span_id") || !strcmp(f->name, "parent_span_id"))
    return BYTES_HEX;
  if (!strcmp(f->name, "bytes_value"))
    return BYTES_BASE64;
  return BYTES_TEXT;
}

static int type_error(struct conv *cv, const ProtobufCMessageDescriptor *desc, const ProtobufCFieldDescriptor *f,
                      const char *want)
{
  return error_set(cv->err, ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED, "OTLP/JSON: %s.%s: %s expected",
                   desc->short_name, f->name, want);
}

/* lowerCamelCase → proto name ("startTimeUnixNano" → "start_time_unix_nano");
 * proto names pass through. False when too long to be one of ours. */
static bool proto_name(struct slice key, char *out, size_t cap)
{
  size_t o = 0;
  for (size_t i = 0; i < key.len; i++) {
    char c = key.ptr[i];
    if (c == 0)
      return false;
    if (c >= 'A' && c <= 'Z') {
      if (o + 2 >= cap)
        return false;
      out[o++] = '_';
      out[o++] = (char)(c - 'A' + 'a');
    } else {
      if (o + 1 >= cap)
        return false;
      out[o++] = c;
    }
  }
  out[o] = 0;
  return true;
}

static int to_message(struct conv *cv, const ProtobufCMessageDescriptor *desc, const struct json_value *obj,
                      ProtobufCMessage **out);

/* One value of field f (an element, for repeated fields) stored at dst. */
static int to_scalar(struct conv *cv, const ProtobufCMessageDescriptor *desc, const ProtobufCFieldDescriptor *f,
                     const struct json_value *v, void *dst)
{
  bool is_num = v->type == JSON_NUMBER, is_str = v->type == JSON_STRING;
  struct slice t = v->u.text;
  switch (f->type) {
  case PROTOBUF_C_TYPE_INT32:
  case PROTOBUF_C_TYPE_SINT32:
  case PROTOBUF_C_TYPE_SFIXED32: {
    int64_t x;
    if (!(is_num || is_str) || !json_number_i64(t, &x) || x < INT32_MIN || x > INT32_MAX)
      return type_error(cv, desc, f, "32-bit integer");
    *(int32_t *)dst = (int32_t)x;
    return 0;
  }
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_SINT64:
  case PROTOBUF_C_TYPE_SFIXED64: {
    int64_t x;
    if (!(is_num || is_str) || !json_number_i64(t, &x))
      return type_error(cv, desc, f, "64-bit integer");
    *(int64_t *)dst = x;
    return 0;
  }
  case PROTOBUF_C_TYPE_UINT32:
  case PROTOBUF_C_TYPE_FIXED32: {
    uint64_t x;
    if (!(is_num || is_str) || !json_number_u64(t, &x) || x > UINT32_MAX)
      return type_error(cv, desc, f, "unsigned 32-bit integer");
    *(uint32_t *)dst = (uint32_t)x;
    return 0;
  }
  case PROTOBUF_C_TYPE_UINT64:
  case PROTOBUF_C_TYPE_FIXED64: {
    uint64_t x;
    if (!(is_num || is_str) || !json_number_u64(t, &x))
      return type_error(cv, desc, f, "unsigned 64-bit integer");
    *(uint64_t *)dst = x;
    return 0;
  }
  case PROTOBUF_C_TYPE_FLOAT:
  case PROTOBUF_C_TYPE_DOUBLE: {
    double x;
    if (is_str && slice_eq_cstr(t, "NaN"))
      x = NAN;
    else if (is_str && slice_eq_cstr(t, "Infinity"))
      x = INFINITY;
    else if (is_str && slice_eq_cstr(t, "-Infinity"))
      x = -INFINITY;
    else if (!(is_num || is_str) || !json_number_f64(t, &x))
      return type_error(cv, desc, f, "number");
    if (f->type == PROTOBUF_C_TYPE_FLOAT)
      *(float *)dst = (float)x;
    else
      *(double *)dst = x;
    return 0;
  }
  case PROTOBUF_C_TYPE_BOOL:
    if (v->type != JSON_TRUE && v->type != JSON_FALSE)
      return type_error(cv, desc, f, "true or false");
    *(protobuf_c_boolean *)dst = v->type == JSON_TRUE;
    return 0;
  case PROTOBUF_C_TYPE_ENUM: {
    int64_t x;
    if (is_num) {
      if (!json_number_i64(t, &x) || x < INT32_MIN || x > INT32_MAX)
        return type_error(cv, desc, f, "enum number");
    } else if (is_str) {
      char name[64];
      const ProtobufCEnumValue *ev = NULL;
      if (t.len < sizeof name && !memchr(t.ptr, 0, t.len)) {
        memcpy(name, t.ptr, t.len);
        name[t.len] = 0;
        ev = protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, name);
      }
      if (!ev && !json_number_i64(t, &x))
        return type_error(cv, desc, f, "enum number or name");
      if (ev)
        x = ev->value;
      else if (x < INT32_MIN || x > INT32_MAX)
        return type_error(cv, desc, f, "enum number");
    } else {
      return type_error(cv, desc, f, "enum number or name");
    }
    *(int *)dst = (int)x;
    return 0;
  }
  case PROTOBUF_C_TYPE_STRING:
    if (!is_str)
      return type_error(cv, desc, f, "string");
    *(char **)dst = arena_strndup(cv->a, t.ptr, t.len);
    return 0;
  case PROTOBUF_C_TYPE_BYTES: {
    if (!is_str)
      return type_error(cv, desc, f, "string");
    ProtobufCBinaryData *bd = dst;
    uint8_t *data;
    size_t len;
    switch (bytes_form_of(f)) {
    case BYTES_HEX:
      if (text_hex_decode(cv->a, t.ptr, t.len, &data, &len)) {
        bd->data = data;
        bd->len = len;
      } else {
        bd->data = (uint8_t *)OTLP_ID_NOT_HEX;  /* rejects the item, not the request */
        bd->len = OTLP_ID_NOT_HEX_LEN;
      }
      return charge(cv, t.len);
    case BYTES_BASE64:
      if (!text_base64_decode(cv->a, t.ptr, t.len, &data, &len))
        return type_error(cv, desc, f, "base64 string");
      bd->data = data;
      bd->len = len;
      return charge(cv, t.len);
    case BYTES_TEXT:
      bd->data = (uint8_t *)t.ptr;
      bd->len = t.len;
      return 0;
    }
    return 0;
  }
  case PROTOBUF_C_TYPE_MESSAGE:
    if (v->type != JSON_OBJECT)
      return type_error(cv, desc, f, "object");
    return to_message(cv, f->descriptor, v, (ProtobufCMessage **)dst);
  }
  return type_error(cv, desc, f, "supported type");
}

static size_t element_size(const ProtobufCFieldDescriptor *f)
{
  switch (f->type) {
  case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
  case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_FLOAT:
    return 4;
  case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
  case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
    return 8;
  case PROTOBUF_C_TYPE_BOOL:
    return sizeof(protobuf_c_boolean);
  case PROTOBUF_C_TYPE_ENUM:
    return sizeof(int);
  case PROTOBUF_C_TYPE_STRING:
    return sizeof(char *);
  case PROTOBUF_C_TYPE_BYTES:
    return sizeof(ProtobufCBinaryData);
  case PROTOBUF_C_TYPE_MESSAGE:
    return sizeof(ProtobufCMessage *);
  }
  return 8;
}

static int to_message(struct conv *cv, const ProtobufCMessageDescriptor *desc, const struct json_value *obj,
                      ProtobufCMessage **out)
{
  int rc = charge(cv, desc->sizeof_message);
  if (rc)
    return rc;
  ProtobufCMessage *msg = arena_alloc(cv->a, desc->sizeof_message);
  protobuf_c_message_init(desc, msg);
  char *base = (char *)msg;
  for (uint32_t i = 0; i < obj->count; i++) {
    const struct json_member *m = &obj->u.members[i];
    char name[64];
    if (!proto_name(m->key, name, sizeof name))
      continue;
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, name);
    if (!f || m->value.type == JSON_NULL)
      continue;                                 /* unknown field, or the default */
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      if (m->value.type != JSON_ARRAY)
        return type_error(cv, desc, f, "array");
      size_t n = m->value.count, es = element_size(f);
      if ((rc = charge(cv, (uint64_t)n * es)))
        return rc;
      char *arr = n ? arena_calloc(cv->a, n, es) : NULL;
      for (size_t k = 0; k < n; k++)
        if ((rc = to_scalar(cv, desc, f, &m->value.u.items[k], arr + k * es)))
          return rc;
      *(size_t *)(base + f->quantifier_offset) = n;
      *(void **)(base + f->offset) = arr;
      continue;
    }
    if ((rc = to_scalar(cv, desc, f, &m->value, base + f->offset)))
      return rc;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
      *(uint32_t *)(base + f->quantifier_offset) = f->id;
    else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset)
      *(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
  }
  *out = msg;
  return 0;
}

int otlp_json_to_message(struct arena *a, const ProtobufCMessageDescriptor *desc, const struct json_value *root,
                         ProtobufCMessage **out, struct error *err)
{
  if (root->type != JSON_OBJECT)
    return error_set(err, ERR_CANNOT_PARSE_INPUT_ASSERTION_FAILED, "OTLP/JSON: the request must be an object");
  struct conv cv = { .a = a, .err = err };
  return to_message(&cv, desc, root, out);
}
