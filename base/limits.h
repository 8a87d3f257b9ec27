/* Every hard limit of the process, in one place (`*_max`). Limits that a
 * user may tune are defaults for settings; the rest are fixed. */
#ifndef SPANHOUSE_BASE_LIMITS_H
#define SPANHOUSE_BASE_LIMITS_H

enum {
  /* HTTP/1.1 */
  HTTP_REQUEST_LINE_BYTES_MAX   = 1024 * 1024,      /* ClickHouse http_max_uri_size */
  HTTP_HEADER_BYTES_MAX         = 1024 * 1024,      /* all header lines together */
  HTTP_HEADER_COUNT_MAX         = 100,
  HTTP_CONNECTIONS_MAX          = 4096,
  /* SQL */
  SQL_QUERY_BYTES_MAX           = 256 * 1024,       /* ClickHouse max_query_size default */
  SQL_AST_DEPTH_MAX             = 1000,             /* ClickHouse max_ast_depth default */
  SQL_AST_ELEMENTS_MAX          = 50000,            /* ClickHouse max_ast_elements default */
  /* execution */
  BLOCK_ROWS_MAX                = 8192,             /* ClickHouse max_block_size is 65409; we use granule size */
  /* OTLP ingest */
  OTLP_MESSAGE_DEPTH_MAX        = 100,              /* nested protobuf messages; a kvlist level costs 3 */
  OTLP_JSON_DEPTH_MAX           = 160,              /* nested JSON arrays/objects; a kvlist level costs 4 */
  OTLP_DECODE_BYTES_MAX         = 256 * 1024 * 1024, /* what one request may decode into: message tree, blocks */
  /* gRPC over HTTP/2 (base/grpc_server.c) */
  GRPC_MESSAGE_BYTES_MAX        = 4 * 1024 * 1024,  /* default max receive message, as in gRPC */
  GRPC_METADATA_BYTES_MAX       = 64 * 1024,        /* one call's headers, counted as HTTP/2 does (+32 per field) */
  GRPC_CONCURRENT_STREAMS_MAX   = 100,              /* default SETTINGS_MAX_CONCURRENT_STREAMS */
  GRPC_CONNECTIONS_MAX          = 4096,
  GRPC_STATUS_MESSAGE_BYTES_MAX = 4096,             /* grpc-message before percent-encoding */
};

/* Too large for an int enum on every ABI. */
#define HTTP_BODY_BYTES_MAX ((unsigned long long)10 * 1024 * 1024 * 1024)  /* 10 GiB streamed */

#endif
