/* Private to catalog/ and its tests: hooks that let a test stop the process
 * at an exact point inside a transaction. Nothing else may include this. */
#ifndef SPANHOUSE_CATALOG_CATALOG_INT_H
#define SPANHOUSE_CATALOG_CATALOG_INT_H

struct catalog;

/* Runs fn(arg) inside every write transaction after its changes and just
 * before COMMIT, with the catalog's lock held (crash tests SIGKILL the
 * process there). fn NULL removes the hook. Not for production use. */
void catalog_set_commit_hook(struct catalog *c, void (*fn)(void *arg), void *arg);

/* The schema version this build migrates catalogs to. */
int catalog_schema_version(void);

#endif
