/* HTTP content codings: streaming decoders for request bodies (gzip,
 * deflate, zstd) with a cap on decompressed bytes (a zip bomb becomes an
 * error, answered 413), and streaming encoders for responses chosen from
 * Accept-Encoding. zlib and libzstd do the work. */
#ifndef SPANHOUSE_BASE_COMPRESS_H
#define SPANHOUSE_BASE_COMPRESS_H

#include "base/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct error;

enum compress_codec { COMPRESS_NONE, COMPRESS_GZIP, COMPRESS_DEFLATE, COMPRESS_ZSTD };

/* "gzip"/"x-gzip", "deflate", "zstd", "identity" or empty (NONE), case-insensitive.
 * Returns 0, or ERR_UNSUPPORTED_MEDIA_TYPE for anything else. */
int  compress_codec_parse(struct slice name, enum compress_codec *out, struct error *err);
const char *compress_codec_name(enum compress_codec codec);      /* "gzip", ...; NULL for NONE */
/* Best codec the client accepts (q > 0) among zstd, gzip, deflate; NONE if none. */
enum compress_codec compress_codec_from_accept(struct slice accept_encoding);

/* ---- decoding */
struct decompressor;
/* out_max_bytes caps the total decompressed output (0 = no cap). */
int  decompressor_create(struct decompressor **out, enum compress_codec codec, uint64_t out_max_bytes,
                         struct error *err);
void decompressor_destroy(struct decompressor *d);
/* Consumes from in and produces into out. Concatenated streams (gzip members,
 * zstd frames) decode as one. Returns 0, ERR_CANNOT_DECOMPRESS (corrupt
 * data) or ERR_QUERY_IS_TOO_LARGE (output cap exceeded), with err filled. */
int  decompressor_run(struct decompressor *d, const void *in, size_t in_len, size_t *in_used,
                      void *out, size_t out_cap, size_t *out_len, struct error *err);
/* At end of input: true if the data ended on a stream boundary (not truncated). */
bool decompressor_at_boundary(const struct decompressor *d);
uint64_t decompressor_total_out(const struct decompressor *d);

/* ---- encoding */
struct compressor;
/* level 0 = the codec's default (gzip/deflate 3 like ClickHouse's
 * http_zlib_compression_level, zstd 3). */
int  compressor_create(struct compressor **out, enum compress_codec codec, int level, struct error *err);
void compressor_destroy(struct compressor *c);
/* Appends compressed bytes of in to out. flush forces out everything so far
 * (a streaming response piece); finish ends the stream. Returns 0 or
 * ERR_LOGICAL_ERROR. */
int  compressor_run(struct compressor *c, const void *in, size_t in_len, bool flush, bool finish,
                    struct buf *out, struct error *err);

#endif
