/* The versioned schema of the SQLite engine: sq_sqlite_migrations[i] brings the database from
 * version i to i + 1 (migrate.c applies them). Append new scripts, with the same number in
 * migrations_postgres.c; never edit one that has shipped. */
#include "store/store_int.h"

/* Times are INTEGER microseconds since the epoch. Text columns that the records hold in fixed
 * arrays are NOT NULL DEFAULT '' so that "absent" has one spelling; JSON columns are NULL when
 * absent. */
/* clang-format off */
static const char migration_1[] =
	"CREATE TABLE zones ("
	" id TEXT PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" cname_target TEXT NOT NULL DEFAULT '',"
	" quota INTEGER NOT NULL,"
	" hostname_count INTEGER NOT NULL DEFAULT 0 CHECK (hostname_count >= 0),"
	" created_at INTEGER NOT NULL);"

	"CREATE TABLE api_tokens ("
	" id TEXT PRIMARY KEY,"
	" zone_id TEXT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,"
	" token_sha256 TEXT NOT NULL UNIQUE,"
	" email TEXT NOT NULL DEFAULT '',"
	" created_at INTEGER NOT NULL);"
	"CREATE INDEX api_tokens_zone ON api_tokens(zone_id);"

	/* rid gives creation order (a rowid alias, so every index carries it for free). */
	"CREATE TABLE hostnames ("
	" rid INTEGER PRIMARY KEY,"
	" id TEXT NOT NULL UNIQUE,"
	" zone_id TEXT NOT NULL REFERENCES zones(id),"
	" hostname TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" ownership_token TEXT NOT NULL DEFAULT '',"
	" custom_metadata TEXT,"
	" custom_origin_server TEXT NOT NULL DEFAULT '',"
	" custom_origin_sni TEXT NOT NULL DEFAULT '',"
	" verification_errors TEXT,"
	" ssl_enabled INTEGER NOT NULL DEFAULT 0,"
	" ssl_pack_id TEXT,"
	" ssl_method TEXT NOT NULL DEFAULT '',"
	" ssl_type TEXT NOT NULL DEFAULT '',"
	" ssl_bundle_method TEXT NOT NULL DEFAULT '',"
	" ssl_ca TEXT NOT NULL DEFAULT '',"
	" ssl_wildcard INTEGER NOT NULL DEFAULT 0,"
	" ssl_settings TEXT NOT NULL DEFAULT '{}',"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL,"
	" change_seq INTEGER NOT NULL DEFAULT 0,"
	/* Unique across zones: the edge finds a hostname by its SNI name alone. */
	" UNIQUE (hostname));"
	"CREATE INDEX hostnames_zone_name ON hostnames(zone_id, hostname);"
	/* (zone_id) alone is ordered by (zone_id, rid): the default list order without a sort. */
	"CREATE INDEX hostnames_zone ON hostnames(zone_id);"
	"CREATE INDEX hostnames_zone_status ON hostnames(zone_id, status);"
	"CREATE INDEX hostnames_zone_method ON hostnames(zone_id, ssl_method);"
	"CREATE INDEX hostnames_zone_origin ON hostnames(zone_id, custom_origin_server);"

	"CREATE TABLE cert_packs ("
	" id TEXT PRIMARY KEY,"
	" hostname_id TEXT NOT NULL REFERENCES hostnames(id) ON DELETE CASCADE,"
	" status TEXT NOT NULL,"
	" certificate_authority TEXT NOT NULL DEFAULT '',"
	" validation_records TEXT,"
	" validation_errors TEXT,"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL);"
	/* Foreign-key children need an index or every parent delete scans them. */
	"CREATE INDEX cert_packs_hostname ON cert_packs(hostname_id);"

	"CREATE TABLE certificates ("
	" id TEXT PRIMARY KEY,"
	" pack_id TEXT NOT NULL REFERENCES cert_packs(id) ON DELETE CASCADE,"
	" key_type TEXT NOT NULL,"
	" leaf BLOB NOT NULL,"
	" chain BLOB,"
	" serial TEXT NOT NULL,"
	" not_before INTEGER NOT NULL,"
	" not_after INTEGER NOT NULL,"
	" private_key_id TEXT,"
	" created_at INTEGER NOT NULL);"
	"CREATE INDEX certificates_pack ON certificates(pack_id);"

	"CREATE TABLE private_keys ("
	" id TEXT PRIMARY KEY,"
	" owner_id TEXT NOT NULL,"
	" key_type TEXT NOT NULL,"
	" sealed BLOB NOT NULL,"
	" created_at INTEGER NOT NULL);"
	"CREATE INDEX private_keys_owner ON private_keys(owner_id);"

	/* AUTOINCREMENT: a job id is never reused, so a stale worker cannot touch a new job. */
	"CREATE TABLE jobs ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" kind TEXT NOT NULL,"
	" subject_id TEXT NOT NULL,"
	" run_at INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" lease_owner TEXT,"
	" lease_token TEXT,"
	" lease_until INTEGER,"
	" last_error TEXT,"
	" created_at INTEGER NOT NULL);"
	/* Due jobs in (run_at, id) order without a sort; lease_until in the index skips leased
	 * jobs without reading the table. */
	"CREATE INDEX jobs_due ON jobs(run_at, id, lease_until);"
	"CREATE INDEX jobs_subject ON jobs(subject_id, kind);"

	"CREATE TABLE fallback_origins ("
	" zone_id TEXT PRIMARY KEY REFERENCES zones(id) ON DELETE CASCADE,"
	" origin TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" errors TEXT,"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL);"

	/* Append-only and outliving its subjects, hence no foreign keys. AUTOINCREMENT: a seq
	 * is never reused even after the newest rows are gone, so "seq > last" misses none. */
	"CREATE TABLE events ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" zone_id TEXT NOT NULL,"
	" subject_id TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" hostname TEXT NOT NULL DEFAULT '',"
	" old_status TEXT NOT NULL DEFAULT '',"
	" new_status TEXT NOT NULL DEFAULT '',"
	" created_at INTEGER NOT NULL);";
/* clang-format on */

/* The issuer's durable state (issue 3): DCV challenge responses that the edge and the dns role
 * answer, one ACME account per configured CA, and each pack's issuance progress as a JSON
 * document that only the issuer reads (its shape is the issuer's business, not the schema's). */
/* clang-format off */
static const char migration_issuer[] =
	"CREATE TABLE challenges ("
	" kind TEXT NOT NULL,"
	" token TEXT NOT NULL,"
	" hostname TEXT NOT NULL,"
	" pack_id TEXT NOT NULL REFERENCES cert_packs(id) ON DELETE CASCADE,"
	" response TEXT NOT NULL,"
	" expires_at INTEGER NOT NULL,"
	" PRIMARY KEY (kind, token));"
	"CREATE INDEX challenges_pack ON challenges(pack_id);"

	"CREATE TABLE acme_accounts ("
	" ca TEXT PRIMARY KEY,"
	" key_id TEXT NOT NULL,"
	" kid TEXT NOT NULL DEFAULT '',"
	" created_at INTEGER NOT NULL);"

	"CREATE TABLE issuance_state ("
	" pack_id TEXT PRIMARY KEY REFERENCES cert_packs(id) ON DELETE CASCADE,"
	" state TEXT NOT NULL,"
	" updated_at INTEGER NOT NULL);";
/* clang-format on */

/* Custom CSRs and uploaded certificates (issue 5). A CSR's key lives in private_keys with the
 * CSR as owner, so deleting a hostname never takes it; a custom pack says so (custom = 1), when
 * it was uploaded and through which CSR, for the API and the expiry watch. */
/* clang-format off */
static const char migration_custom_certs[] =
	"CREATE TABLE custom_csrs ("
	" rid INTEGER PRIMARY KEY,"
	" id TEXT NOT NULL UNIQUE,"
	" zone_id TEXT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,"
	" key_id TEXT NOT NULL,"
	" key_type TEXT NOT NULL,"
	" common_name TEXT NOT NULL,"
	" country TEXT NOT NULL,"
	" state TEXT NOT NULL,"
	" locality TEXT NOT NULL,"
	" organization TEXT NOT NULL,"
	" organizational_unit TEXT NOT NULL DEFAULT '',"
	" sans TEXT NOT NULL,"
	" csr TEXT NOT NULL,"
	" name TEXT,"
	" description TEXT,"
	" created_at INTEGER NOT NULL);"
	"CREATE INDEX custom_csrs_zone ON custom_csrs(zone_id);"
	"ALTER TABLE cert_packs ADD COLUMN custom INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE cert_packs ADD COLUMN uploaded_on INTEGER;"
	"ALTER TABLE cert_packs ADD COLUMN custom_csr_id TEXT;"
	"CREATE INDEX certificates_key ON certificates(private_key_id);";
/* clang-format on */

/* TLS session-ticket keys shared by every edge (each edge decrypts every edge's tickets); the
 * key material is sealed like private keys, with "ticket:<name>" as AAD. */
/* clang-format off */
static const char migration_ticket_keys[] =
	"CREATE TABLE ticket_keys ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL UNIQUE,"
	" sealed BLOB NOT NULL,"
	" created_at INTEGER NOT NULL);";
/* clang-format on */

/* A job may carry a document for its worker: a deleted pack's issuer state goes to the issuer
 * in a "pack_cleanup" job, so it can release what the CA still holds for the pack. */
static const char migration_job_payload[] = "ALTER TABLE jobs ADD COLUMN payload TEXT;";

/* Email DCV (internal CA): one approval per pack, found by the SHA-256 of the mailed token (the
 * token itself is a credential and never stored); names is what the approval page shows. */
/* clang-format off */
static const char migration_email_dcv[] =
	"CREATE TABLE dcv_approvals ("
	" pack_id TEXT PRIMARY KEY REFERENCES cert_packs(id) ON DELETE CASCADE,"
	" token_sha256 TEXT NOT NULL UNIQUE,"
	" names TEXT NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL,"
	" approved_at INTEGER);";
/* clang-format on */

/* The TXT values the dns role publishes for delegated dns-01 (ssl.method "cname"), by the
 * label under dns.zone that the hostname's _acme-challenge CNAMEs to. The primary key (label,
 * value) answers a query with one index range; a row belongs to its pack and goes with it. */
/* clang-format off */
static const char migration_dns_records[] =
	"CREATE TABLE dns_records ("
	" label TEXT NOT NULL,"
	" value TEXT NOT NULL,"
	" pack_id TEXT NOT NULL REFERENCES cert_packs(id) ON DELETE CASCADE,"
	" expires_at INTEGER NOT NULL,"
	" PRIMARY KEY (label, value)) WITHOUT ROWID;"
	"CREATE INDEX dns_records_pack ON dns_records(pack_id);";
/* clang-format on */

/* Listing at scale (a zone of 1M hostnames). The current pack's status is kept on the hostname
 * row, indexed with the zone, so that ?ssl_status= and order=ssl_status read one index range
 * instead of joining every pack; triggers keep it in step whichever role writes a pack, so no
 * writer can forget it. A trigram index of the names serves ?hostname.contain= (SQLite's FTS5;
 * three characters or more). What the API shows of a certificate is stored when it is written
 * (NULL for rows written before: read from the DER then), so a page decodes no certificate. */
/* clang-format off */
static const char migration_list_at_scale[] =
	"ALTER TABLE hostnames ADD COLUMN ssl_status TEXT NOT NULL DEFAULT '';"
	"UPDATE hostnames SET ssl_status = COALESCE((SELECT status FROM cert_packs "
	" WHERE id = hostnames.ssl_pack_id), '');"
	"CREATE INDEX hostnames_zone_ssl_status ON hostnames(zone_id, ssl_status);"
	/* The triggers find a pack's hostname by it. */
	"CREATE INDEX hostnames_pack ON hostnames(ssl_pack_id);"
	"CREATE TRIGGER pack_status_kept AFTER UPDATE OF status ON cert_packs BEGIN"
	" UPDATE hostnames SET ssl_status = NEW.status WHERE ssl_pack_id = NEW.id; END;"
	"CREATE TRIGGER pack_inserted_kept AFTER INSERT ON cert_packs BEGIN"
	" UPDATE hostnames SET ssl_status = NEW.status WHERE ssl_pack_id = NEW.id; END;"
	"CREATE TRIGGER hostname_pack_kept AFTER UPDATE OF ssl_pack_id ON hostnames BEGIN"
	" UPDATE hostnames SET ssl_status = COALESCE((SELECT status FROM cert_packs"
	" WHERE id = NEW.ssl_pack_id), '') WHERE rid = NEW.rid; END;"
	"CREATE TRIGGER hostname_inserted_kept AFTER INSERT ON hostnames BEGIN"
	" UPDATE hostnames SET ssl_status = COALESCE((SELECT status FROM cert_packs"
	" WHERE id = NEW.ssl_pack_id), '') WHERE rid = NEW.rid; END;"
	/* How many hostnames of a zone are in each ssl.status: the total of a status filter
	 * without counting 700,000 index entries. */
	"CREATE TABLE zone_ssl_counts ("
	" zone_id TEXT NOT NULL,"
	" ssl_status TEXT NOT NULL,"
	" n INTEGER NOT NULL,"
	" PRIMARY KEY (zone_id, ssl_status)) WITHOUT ROWID;"
	"INSERT INTO zone_ssl_counts SELECT zone_id, ssl_status, COUNT(*) FROM hostnames"
	" GROUP BY zone_id, ssl_status;"
	"CREATE TRIGGER ssl_count_insert AFTER INSERT ON hostnames BEGIN"
	" INSERT INTO zone_ssl_counts VALUES (NEW.zone_id, NEW.ssl_status, 1)"
	" ON CONFLICT (zone_id, ssl_status) DO UPDATE SET n = n + 1; END;"
	"CREATE TRIGGER ssl_count_delete AFTER DELETE ON hostnames BEGIN"
	" UPDATE zone_ssl_counts SET n = n - 1"
	" WHERE zone_id = OLD.zone_id AND ssl_status = OLD.ssl_status; END;"
	"CREATE TRIGGER ssl_count_update AFTER UPDATE OF ssl_status ON hostnames"
	" WHEN NEW.ssl_status <> OLD.ssl_status BEGIN"
	" UPDATE zone_ssl_counts SET n = n - 1"
	" WHERE zone_id = OLD.zone_id AND ssl_status = OLD.ssl_status;"
	" INSERT INTO zone_ssl_counts VALUES (NEW.zone_id, NEW.ssl_status, 1)"
	" ON CONFLICT (zone_id, ssl_status) DO UPDATE SET n = n + 1; END;"

	"CREATE VIRTUAL TABLE hostnames_trigram USING fts5(hostname, content='hostnames',"
	" content_rowid='rid', tokenize='trigram');"
	"INSERT INTO hostnames_trigram(hostnames_trigram) VALUES('rebuild');"
	"CREATE TRIGGER hostname_trigram_insert AFTER INSERT ON hostnames BEGIN"
	" INSERT INTO hostnames_trigram(rowid, hostname) VALUES (NEW.rid, NEW.hostname); END;"
	"CREATE TRIGGER hostname_trigram_delete AFTER DELETE ON hostnames BEGIN"
	" INSERT INTO hostnames_trigram(hostnames_trigram, rowid, hostname)"
	" VALUES ('delete', OLD.rid, OLD.hostname); END;"
	"CREATE TRIGGER hostname_trigram_update AFTER UPDATE OF hostname ON hostnames BEGIN"
	" INSERT INTO hostnames_trigram(hostnames_trigram, rowid, hostname)"
	" VALUES ('delete', OLD.rid, OLD.hostname);"
	" INSERT INTO hostnames_trigram(rowid, hostname) VALUES (NEW.rid, NEW.hostname); END;"

	"ALTER TABLE certificates ADD COLUMN issuer TEXT;"
	"ALTER TABLE certificates ADD COLUMN serial_decimal TEXT;"
	"ALTER TABLE certificates ADD COLUMN signature TEXT;"
	"ALTER TABLE certificates ADD COLUMN fingerprint_sha256 TEXT;"
	"ALTER TABLE certificates ADD COLUMN hosts TEXT;";
/* clang-format on */

/* Names by parent (everything after the first dot): "*.x" and the names directly under x meet
 * here, so that creating a wildcard finds another zone's names under it with one index range
 * (store_hostnames.c, docs/decisions/0020). The expression must stay the one the query uses. */
static const char migration_hostname_parent[] =
	"CREATE INDEX hostnames_parent ON hostnames(substr(hostname, instr(hostname, '.') + 1));";

/* A zone's list version: bumped by every change that can move a hostname's position in a list
 * shape (a create, a delete, a new ssl.status or method), so that the anchors of deep pages
 * (store_list_shape_anchors.c) know when they are stale. */
/* clang-format off */
static const char migration_list_shapes[] =
	"ALTER TABLE zones ADD COLUMN list_version INTEGER NOT NULL DEFAULT 0;"
	"CREATE TRIGGER list_version_insert AFTER INSERT ON hostnames BEGIN"
	" UPDATE zones SET list_version = list_version + 1 WHERE id = NEW.zone_id; END;"
	"CREATE TRIGGER list_version_delete AFTER DELETE ON hostnames BEGIN"
	" UPDATE zones SET list_version = list_version + 1 WHERE id = OLD.zone_id; END;"
	"CREATE TRIGGER list_version_update AFTER UPDATE OF ssl_status, ssl_method, hostname,"
	" zone_id ON hostnames WHEN NEW.ssl_status IS NOT OLD.ssl_status"
	" OR NEW.ssl_method IS NOT OLD.ssl_method OR NEW.hostname IS NOT OLD.hostname"
	" OR NEW.zone_id IS NOT OLD.zone_id BEGIN"
	" UPDATE zones SET list_version = list_version + 1"
	" WHERE id IN (NEW.zone_id, OLD.zone_id); END;";
/* clang-format on */

/* Deployment tracked per edge (issue 12): each edge node registers, and says up to which event
 * of the change feed it has applied; a pack is active once every live edge has applied its
 * move to pending_deployment. The status index finds those packs without a scan. */
/* clang-format off */
static const char migration_edges[] =
	"CREATE TABLE edges ("
	" id TEXT PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" started_at INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" acked_seq INTEGER NOT NULL);"
	"CREATE INDEX cert_packs_status ON cert_packs(status);";
/* clang-format on */

/* CA order budgets (issue 12): the orders each CA was sent, for every node to count. */
/* clang-format off */
static const char migration_ca_orders[] =
	"CREATE TABLE ca_orders ("
	" id INTEGER PRIMARY KEY,"
	" ca TEXT NOT NULL,"
	" at INTEGER NOT NULL);"
	"CREATE INDEX ca_orders_ca_at ON ca_orders(ca, at);";
/* clang-format on */

/* 13 is PostgreSQL's NOTIFY on new events; SQLite's edges share the process or poll the file. */
static const char migration_events_notify[] = "SELECT 1";

/* 14: the internal CA's files, so that every issuer node of a fleet issues from one CA. */
/* clang-format off */
static const char migration_internal_ca[] =
	"CREATE TABLE internal_ca_files ("
	" name TEXT PRIMARY KEY,"
	" data BLOB NOT NULL);";
/* clang-format on */

/* 15: accounts above zones (docs/decisions/0031). Zones made before belong to one account,
 * "default", and get a hard cap equal to their quota; a token reaches one zone or one account; a CSR belongs to a zone or an account.
 * SQLite cannot drop NOT NULL in place: those two tables are rebuilt, rows and rids kept. */
/* clang-format off */
static const char migration_accounts[] =
	"CREATE TABLE accounts ("
	" id TEXT PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" created_at INTEGER NOT NULL);"
	"INSERT INTO accounts(id, name, created_at)"
	" SELECT lower(hex(randomblob(16))), 'default',"
	" CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"
	" WHERE EXISTS (SELECT 1 FROM zones);"
	"ALTER TABLE zones ADD COLUMN account_id TEXT REFERENCES accounts(id);"
	"UPDATE zones SET account_id = (SELECT id FROM accounts);"
	"CREATE INDEX zones_account ON zones(account_id);"
	/* The quota became Cloudflare's soft allocation; creates stop at the hard cap. */
	"ALTER TABLE zones ADD COLUMN hard_cap INTEGER;"
	"UPDATE zones SET hard_cap = quota;"

	"CREATE TABLE api_tokens_15 ("
	" id TEXT PRIMARY KEY,"
	" zone_id TEXT REFERENCES zones(id) ON DELETE CASCADE,"
	" account_id TEXT REFERENCES accounts(id) ON DELETE CASCADE,"
	" token_sha256 TEXT NOT NULL UNIQUE,"
	" email TEXT NOT NULL DEFAULT '',"
	" created_at INTEGER NOT NULL,"
	" CHECK ((zone_id IS NULL) <> (account_id IS NULL)));"
	"INSERT INTO api_tokens_15(id, zone_id, token_sha256, email, created_at)"
	" SELECT id, zone_id, token_sha256, email, created_at FROM api_tokens;"
	"DROP TABLE api_tokens;"
	"ALTER TABLE api_tokens_15 RENAME TO api_tokens;"
	"CREATE INDEX api_tokens_zone ON api_tokens(zone_id);"

	"CREATE TABLE custom_csrs_15 ("
	" rid INTEGER PRIMARY KEY,"
	" id TEXT NOT NULL UNIQUE,"
	" zone_id TEXT REFERENCES zones(id) ON DELETE CASCADE,"
	" account_id TEXT REFERENCES accounts(id) ON DELETE CASCADE,"
	" key_id TEXT NOT NULL,"
	" key_type TEXT NOT NULL,"
	" common_name TEXT NOT NULL,"
	" country TEXT NOT NULL,"
	" state TEXT NOT NULL,"
	" locality TEXT NOT NULL,"
	" organization TEXT NOT NULL,"
	" organizational_unit TEXT NOT NULL DEFAULT '',"
	" sans TEXT NOT NULL,"
	" csr TEXT NOT NULL,"
	" name TEXT,"
	" description TEXT,"
	" created_at INTEGER NOT NULL,"
	" CHECK ((zone_id IS NULL) <> (account_id IS NULL)));"
	"INSERT INTO custom_csrs_15(rid, id, zone_id, key_id, key_type, common_name, country,"
	" state, locality, organization, organizational_unit, sans, csr, name, description,"
	" created_at) SELECT rid, id, zone_id, key_id, key_type, common_name, country, state,"
	" locality, organization, organizational_unit, sans, csr, name, description, created_at"
	" FROM custom_csrs;"
	"DROP TABLE custom_csrs;"
	"ALTER TABLE custom_csrs_15 RENAME TO custom_csrs;"
	"CREATE INDEX custom_csrs_zone ON custom_csrs(zone_id);"
	"CREATE INDEX custom_csrs_account ON custom_csrs(account_id);";
/* clang-format on */

/* 16: webhooks (docs/decisions/0037): Cloudflare's notification destinations and policies, the
 * outbox of deliveries, and how far the dispatcher has read the events. */
/* clang-format off */
static const char migration_webhooks[] =
	"CREATE TABLE webhook_destinations ("
	" id TEXT PRIMARY KEY,"
	" account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	" name TEXT NOT NULL,"
	" url TEXT NOT NULL,"
	" secret BLOB,"
	" created_at INTEGER NOT NULL,"
	" last_success INTEGER,"
	" last_failure INTEGER);"
	"CREATE INDEX webhook_destinations_account ON webhook_destinations(account_id);"

	"CREATE TABLE alert_policies ("
	" id TEXT PRIMARY KEY,"
	" account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	" name TEXT NOT NULL,"
	" description TEXT NOT NULL,"
	" enabled INTEGER NOT NULL,"
	" alert_type TEXT NOT NULL,"
	" mechanisms TEXT NOT NULL,"
	" filters TEXT NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" modified_at INTEGER NOT NULL);"
	"CREATE INDEX alert_policies_account ON alert_policies(account_id);"

	"CREATE TABLE webhook_deliveries ("
	" id INTEGER PRIMARY KEY,"
	" event_id TEXT NOT NULL,"
	" destination_id TEXT NOT NULL REFERENCES webhook_destinations(id) ON DELETE CASCADE,"
	" account_id TEXT NOT NULL,"
	" policy_id TEXT NOT NULL,"
	" policy_name TEXT NOT NULL,"
	" ordering_key TEXT NOT NULL,"
	" event_type TEXT NOT NULL,"
	" payload TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt_at INTEGER NOT NULL,"
	" lease_until INTEGER NOT NULL DEFAULT 0,"
	" last_status_code INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT NOT NULL DEFAULT '',"
	" created_at INTEGER NOT NULL,"
	" finished_at INTEGER);"
	"CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at, id)"
	" WHERE status = 'pending';"
	"CREATE INDEX webhook_deliveries_line ON webhook_deliveries(destination_id, ordering_key, id)"
	" WHERE status = 'pending';"
	"CREATE INDEX webhook_deliveries_account ON webhook_deliveries(account_id, id);"

	"CREATE TABLE webhook_cursor ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" seq INTEGER NOT NULL);"
	"INSERT INTO webhook_cursor(id, seq) SELECT 1, COALESCE(MAX(seq), 0) FROM events;";
/* clang-format on */

/* 17: certificates by expiry, for the metrics' count of those ending within 7 and 30 days. */
static const char migration_expiry_index[] =
	"CREATE INDEX certificates_not_after ON certificates(not_after);";

const char *const sq_sqlite_migrations[] = {
    migration_1,
    migration_issuer,
    migration_custom_certs,
    migration_ticket_keys,
    migration_job_payload,
    migration_email_dcv,
    migration_dns_records,
    migration_list_at_scale,
    migration_hostname_parent,
    migration_list_shapes,
    migration_edges,
    migration_ca_orders,
    migration_events_notify,
    migration_internal_ca,
    migration_accounts,
    migration_webhooks,
    migration_expiry_index,
};

const int sq_sqlite_migration_count =
    (int)(sizeof(sq_sqlite_migrations) / sizeof(sq_sqlite_migrations[0]));
