/* HTTP content codings: streaming decoders for request bodies (gzip,
 * deflate, zstd) with a cap on decompressed bytes (a zip bomb becomes an
 * error, answered 413), and streaming encoders for responses chosen from
 * Accept-Encoding. zlib and libzstd do the work. Also ClickHouse's own
 * checksummed block framing (CityHash128 v1.0.2 + LZ4/ZSTD/none), which
 * ClickHouse clients use over HTTP with compress=1 / decompress=1. */
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


/* ---- ClickHouse native block framing (HTTP compress=1 / decompress=1)
 * One frame: 16-byte CityHash128 v1.0.2 of everything after it (stored low
 * 64 bits first, both little-endian), method byte, u32 LE compressed size
 * (9-byte header + payload), u32 LE uncompressed size, payload. */
enum chframe_method { CHFRAME_NONE = 0x02, CHFRAME_LZ4 = 0x82, CHFRAME_ZSTD = 0x90 };
enum {
  CHFRAME_CHECKSUM_BYTES = 16,
  CHFRAME_HEADER_BYTES = 9,                      /* method + two sizes */
  CHFRAME_BYTES_MAX = 256 * 1024 * 1024,         /* per frame, either size; larger is code 39 */
};

/* CityHash128 as in CityHash 1.0.2 (ClickHouse's checksum; later CityHash
 * versions differ). out[0] = low 64 bits, out[1] = high. */
void cityhash128_v102(const void *data, size_t len, uint64_t out[2]);

/* Appends one frame holding in[0..len) (len <= CHFRAME_BYTES_MAX) to out.
 * level: zstd level (0 = 1, ClickHouse's network_zstd_compression_level);
 * ignored otherwise. Returns 0 or ERR_LOGICAL_ERROR. */
int  chframe_encode(enum chframe_method method, int level, const void *in, size_t len, struct buf *out,
                    struct error *err);

struct chframe_decoder;
/* verify = false skips checksums (http_native_compression_disable_checksumming_on_decompress).
 * frame_bytes_max (<= CHFRAME_BYTES_MAX, 0 = that) bounds memory per frame. */
int  chframe_decoder_create(struct chframe_decoder **out, bool verify, uint32_t frame_bytes_max,
                            struct error *err);
void chframe_decoder_destroy(struct chframe_decoder *d);
/* Consumes from in and produces into out, like decompressor_run; holds at
 * most one frame. Errors (ClickHouse's codes): CHECKSUM_DOESNT_MATCH (40),
 * UNKNOWN_COMPRESSION_METHOD (89), TOO_LARGE_SIZE_COMPRESSED (39),
 * CANNOT_DECOMPRESS (271); the message names the frame's stream offset.
 * After an error the decoder refuses further input. */
int  chframe_decoder_run(struct chframe_decoder *d, const void *in, size_t in_len, size_t *in_used,
                         void *out, size_t out_cap, size_t *out_len, struct error *err);
/* At end of input: 0 if the input ended between frames and all output was
 * taken, else CANNOT_READ_ALL_DATA (33, a truncated frame). */
int  chframe_decoder_finish(const struct chframe_decoder *d, struct error *err);
/* Parses "lz4", "lz4hc", "zstd", "none" (case-insensitive); false if unknown. */
bool chframe_method_parse(const char *name, enum chframe_method *out);

#endif
