/*
 * store_dir_impl.h -- internal to the dir store: its handle and the operations of
 * store_dir_ckpt.c (window checkpoints and locks) that the ops table of store_dir.c points at.
 * The files themselves are atomic_file.h's. Nothing outside store_dir*.c includes it.
 */
#ifndef DRIFTD_CONN_STORE_DIR_IMPL_H
#define DRIFTD_CONN_STORE_DIR_IMPL_H

#include "connectors/atomic_file.h"

#include <stdint.h>

#define CONN_DIR_MAX_FILE ((size_t)64 << 20) /* largest file a read accepts (but a checkpoint) */

struct dir_store {
	struct conn_store base;	  /* first: the ops table */
	struct conn_afile_dir fs; /* PATH's fd; errors go to base */
};

int conn_dir_ckpt_commit(struct conn_store *cs, const char *scope, const struct conn_ckpt *c);
int conn_dir_ckpt_offsets(struct conn_store *cs, const char *scope, conn_ckpt_offset_fn fn,
			  void *arg);
int conn_dir_ckpt_offset_get(struct conn_store *cs, const char *scope, const char *stream,
			     struct conn_ckpt_offset *out);
int conn_dir_ckpt_windows(struct conn_store *cs, const char *scope, conn_ckpt_key_fn fn, void *arg);
int conn_dir_ckpt_partials(struct conn_store *cs, const char *scope, const char *key, size_t klen,
			   conn_ckpt_blob_fn fn, void *arg);
int conn_dir_ckpt_states(struct conn_store *cs, const char *scope, conn_ckpt_blob_fn fn, void *arg);
int conn_dir_ckpt_state_get(struct conn_store *cs, const char *scope, const char *key, size_t klen,
			    struct conn_blob *out);
int conn_dir_lock(struct conn_store *cs, const char *scope, const char *name, const char *owner,
		  int64_t ttl_ms);
int conn_dir_unlock(struct conn_store *cs, const char *scope, const char *name, const char *owner);

#endif
