/* Applying the versioned schema of the connection's engine. The version is written in the same
 * transaction as the script, so a crash leaves either both or neither. */
#include "store/store_int.h"

#include "lib/error.h"
#include "lib/log.h"

static const char *const *migrations_of(struct sq_conn *c, int *count)
{
	if (c->be->dialect == SQ_POSTGRES) {
		*count = sq_postgres_migration_count;
		return sq_postgres_migrations;
	}
	*count = sq_sqlite_migration_count;
	return sq_sqlite_migrations;
}

/* Applies migration TARGET (1-based) unless another process got there first: the version is
 * read again under the write lock. */
static int migrate_one(struct sq_conn *c, const char *script, int target)
{
	int version = 0;
	int rc;

	rc = sq_begin(c);
	if (rc == 0)
		rc = c->be->version_get(c, &version);
	if (rc == 0 && version < target) {
		rc = c->be->exec(c, script, "migrate");
		if (rc == 0)
			rc = c->be->version_set(c, target);
		if (rc == 0)
			log_info("store op=migrate version=%d", target);
	}
	rc = rc ? rc : sq_commit(c);
	if (rc)
		sq_rollback(c);
	return rc;
}

int sq_schema_catch_up(struct sq_conn *c)
{
	struct store *st = c->st;
	int rc = 0;

	if (!atomic_load(&st->schema_pending))
		return 0;
	pthread_mutex_lock(&st->schema_lock);
	if (atomic_load(&st->schema_pending)) {
		rc = sq_migrate(c, &st->schema_version);
		if (rc == 0) {
			atomic_store(&st->schema_pending, 0);
			log_info("store op=open detail=\"database reached\" schema=%d",
				 st->schema_version);
		}
	}
	pthread_mutex_unlock(&st->schema_lock);
	return rc;
}

int sq_migrate(struct sq_conn *c, int *version)
{
	int count;
	const char *const *scripts = migrations_of(c, &count);
	int rc;

	rc = c->be->version_get(c, version);
	if (rc)
		return rc;
	if (*version > count) {
		log_error("store op=migrate detail=\"database schema %d is newer than this "
			  "program's %d\"",
			  *version, count);
		return SE_EDB;
	}
	for (int v = *version + 1; v <= count && rc == 0; v++)
		rc = migrate_one(c, scripts[v - 1], v);
	return rc ? rc : c->be->version_get(c, version);
}
