/* Private to src/edge: the types its files share. One concept per file:
 *   loop.c        epoll loop per worker thread, cross-thread completions, safe frees
 *   listener.c    SO_REUSEPORT sockets
 *   entry.c       a served name's parsed certificates, keys and settings (refcounted)
 *   cert_cache.c  the bounded LRU of entries (and negative entries) by name
 *   lookup.c      threads that read the store and decode certificates off the loops
 *   sni.c         the ClientHello callback: certificate choice and per-name TLS settings
 *   conn.c        a client connection: accept, TLS, timeouts, close
 *   http_req.c    request head parsing (nodejs http-parser) and limits
 *   proxy.c       relaying a request to the origin and the response back
 *   tunnel.c      the byte tunnel after a 101 (WebSocket and other upgrades)
 *   http_plain.c  the HTTP listener: ACME http-01, ownership tokens, redirects
 *   acme_alpn.c   ACME tls-alpn-01 on the HTTPS listener
 *   change_feed.c the store's events → cache invalidation */
#ifndef SAASEDGE_EDGE_EDGE_INT_H
#define SAASEDGE_EDGE_EDGE_INT_H

#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "edge/edge.h"
#include "lib/origin.h"

/* ---- entries (entry.c) -------------------------------------------------------------------- */

enum { ENTRY_EC = 0, ENTRY_RSA = 1 };

/* Which certificate a lookup decodes: the one a client is served (sni.c picks ECDSA when the
 * client's signature algorithms allow it), or none (a Host lookup needs only the origin). */
enum entry_need { ENTRY_NEED_NONE, ENTRY_NEED_ECDSA_CLIENT, ENTRY_NEED_RSA_CLIENT };

/* What the edge knows about one name: immutable once built, shared by reference between the
 * cache and the connections that use it, so an evicted entry lives until its last user ends. */
struct edge_entry {
	atomic_int refs;
	char name[256];     /* the name looked up (the SNI or Host): the cache key */
	int negative;       /* 1: no such hostname */
	int64_t expires_us; /* negative entries only */
	size_t bytes;       /* charged to the cache */
	char hostname[256]; /* the stored hostname (may be "*.parent" for key "a.parent") */
	char hostname_id[37];
	char pack_id[37];
	char pack_status[32];
	int64_t change_seq; /* the stored hostname's when read */
	char ownership_token[37];
	char zone_id[33];
	char origin[300];     /* custom origin, else the zone's fallback; "" none */
	int origin_is_fallback;
	/* origin parsed when the entry is built, not for each request (normalising an IP
	 * literal alone cost 2 k instructions a request); origin_ok 0 when it does not parse */
	struct origin origin_parsed;
	int origin_ok;
	char origin_sni[256]; /* custom_origin_sni, "" none */
	/* [ENTRY_EC], [ENTRY_RSA]: the stored certificate of that type ("" none), and its decoded
	 * form, NULL until a client needs it. Decoding costs more than the rest of a miss
	 * (OpenSSL 3.0 spends ~1.1 M instructions on one d2i_X509), so a miss decodes only the
	 * type its client is served; the other is decoded the first time a client asks for it. */
	char cert_id[2][37];
	char cert_serial[2][80];
	X509 *leaf[2];
	STACK_OF(X509) * chain[2];
	EVP_PKEY *key[2];
	int min_version; /* TLS1_2_VERSION unless settings say otherwise */
	int no_tls13;
	int no_http2;  /* ssl.settings.http2 "off": h2 is not offered to this name's clients */
	int early_hints; /* ssl.settings.early_hints "on": 103 to HTTP/2 clients (early_hints.h) */
	char *ciphers; /* OpenSSL cipher list (TLS 1.2), NULL = default */
	/* cache links, guarded by the cache lock */
	struct edge_entry *hnext, *prev, *next;
};

/* Builds the entry KEY from a store record (borrowed), decoding the certificate NEED asks for
 * and unsealing its key with BOX; a slot that PREV (an older entry of KEY, may be NULL) has
 * decoded for the same stored certificate is shared rather than decoded again. Any thread.
 * *out has one reference for the caller. */
int edge_entry_build(const char *key, const struct store_edge_entry *rec,
		     const struct secretbox *box, enum entry_need need,
		     const struct edge_entry *prev, struct edge_entry **out);
/* The slot a client is served from E: ECDSA when E has it and the client takes it (or E has
 * no RSA certificate), else RSA. */
int edge_entry_pick(const struct edge_entry *e, int client_takes_ecdsa);
/* 1 when E can serve a client of NEED without decoding anything (always for negative
 * entries and for ENTRY_NEED_NONE). */
int edge_entry_ready(const struct edge_entry *e, enum entry_need need);
/* Frees the decoded intermediate chains entries share (entry.c); call once the edge is done. */
void edge_entry_chains_clear(void);
/* A negative entry for KEY, expiring at EXPIRES_US. */
int edge_entry_negative(const char *key, int64_t expires_us, struct edge_entry **out);
/* 1 when E has at least one certificate to serve (decoded or not). */
int edge_entry_servable(const struct edge_entry *e);
void edge_entry_ref(struct edge_entry *e);
/* Drops one reference; the last frees the entry. NULL-safe. */
void edge_entry_unref(struct edge_entry *e);

/* ---- TLS policy (tls_policy.c) ------------------------------------------------------------ */

/* The TLS 1.2 cipher list every handshake starts from (OpenSSL syntax): ECDHE with AES-GCM or
 * ChaCha20-Poly1305 only. */
extern const char edge_tls12_cipher_list[];
/* 1 when NAME (an OpenSSL suite name) is in that list: a hostname's ssl.settings.ciphers keeps
 * only such names, so it can narrow the list but never re-enable CBC or RSA key exchange. */
int edge_tls12_cipher_allowed(const char *name);

/* ---- the cache (cert_cache.c) -------------------------------------------------------------- */

struct cert_cache;

int cert_cache_create(size_t max_bytes, struct cert_cache **out);
void cert_cache_destroy(struct cert_cache *c);
/* The live entry for NAME with a reference for the caller (edge_entry_unref), or NULL on a miss
 * (expired negative entries are misses). Any thread. */
struct edge_entry *cert_cache_get(struct cert_cache *c, const char *name);
/* The invalidation generation: read it before reading the store for an entry. */
uint64_t cert_cache_generation(struct cert_cache *c);
/* Inserts E (the cache takes its own reference), replacing an entry of the same key and
 * evicting the least recently used ones beyond the byte budget; 1 when inserted, 0 when an
 * invalidation came after GENERATION (E may be stale: it is not kept). */
int cert_cache_put(struct cert_cache *c, struct edge_entry *e, uint64_t generation);
/* Drops the entries whose key or hostname is NAME; for "*.parent" also every key directly under
 * parent (they may have resolved to the wildcard or to nothing). */
void cert_cache_invalidate(struct cert_cache *c, const char *name);
/* Drops the entries of ZONE_ID whose origin is the zone's fallback origin (it changed): a walk
 * of the whole cache, for a change an operator makes rarely. */
void cert_cache_invalidate_fallback(struct cert_cache *c, const char *zone_id);
/* Something in the store changed: loads that read it before are not kept (the generation moves
 * on), while the entries stay and are served until replaced. */
void cert_cache_changed(struct cert_cache *c);
/* What the cache holds: bytes counted against its limit, and entries (read together). */
void cert_cache_size(struct cert_cache *c, size_t *bytes, size_t *entries);

/* ---- loops (loop.c) ----------------------------------------------------------------------- */

struct edge_loop;
struct edge_conn;

/* What an fd registered with a loop dispatches to. */
struct edge_io {
	int fd;
	void (*on_event)(struct edge_io *io, uint32_t events);
};

/* A job for the lookup threads; completed jobs come back to their loop. */
enum lookup_kind {
	LOOKUP_SNI,
	LOOKUP_HOST,
	LOOKUP_CHALLENGE,
	LOOKUP_RESOLVE,
	LOOKUP_ALPN,     /* tls-alpn-01 certificate for the SNI */
};

struct lookup_job {
	enum lookup_kind kind;
	char name[256];               /* SNI / Host / challenge token (LOOKUP_CHALLENGE: the
				       * challenge's hostname once found) / origin host / pack id */
	unsigned port;                /* LOOKUP_RESOLVE */
	struct edge_loop *loop;       /* where the result goes (NULL: nowhere, e.g. ACTIVATE) */
	struct edge_conn *conn;       /* kept alive until the job is back (conn->jobs) */
	int rc;                       /* 0 or SE_E* */
	int64_t submitted_us;         /* when it left the loop (miss-latency log line) */
	enum entry_need need;         /* LOOKUP_SNI: the certificate the client is served */
	struct edge_entry *entry;     /* LOOKUP_SNI: what was found, a reference for the conn */
	char response[512];           /* LOOKUP_CHALLENGE */
	struct sockaddr_storage addr; /* LOOKUP_RESOLVE */
	socklen_t addr_len;
	X509 *alpn_cert; /* LOOKUP_ALPN: owned by the job until the connection takes it */
	EVP_PKEY *alpn_key;
	struct lookup_job *next;
};

struct h2_session;
struct hint_cache;

/* What a proxied exchange reads an origin's response into, and writes its request from. */
#define RELAY_BUF     (64 * 1024)
#define BUF_STASH_MAX 32 /* buffers of one size a loop keeps (buf_stash.c) */

struct buf_stash {
	size_t cap; /* the size kept */
	char *bufs[BUF_STASH_MAX];
	int n;
};

/* A listening socket a loop accepts on: one the loop bound itself (SO_REUSEPORT), or one taken
 * over from the edge process this one replaces (handover.c). */
struct edge_listener {
	struct edge_io io;
	struct edge_loop *loop;
	int tls; /* the HTTPS listener; else plain HTTP */
};

struct edge_loop {
	struct edge *edge;
	int epfd;
	int wake_fd; /* eventfd: completions ready, or stop */
	struct edge_io wake_io;
	pthread_t thread;
	int started;
	atomic_int stop;
	pthread_mutex_t lock; /* guards done */
	struct lookup_job *done;
	struct edge_conn *conns; /* every live connection of this loop */
	struct edge_conn *dead;  /* closed, freed at the end of the iteration */
	struct edge_listener *listeners; /* its HTTPS and HTTP sockets, and any more taken over */
	int n_listeners;
	int64_t last_sweep_us;
	struct origin_link *idle; /* keep-alive origin connections (origin_pool.c) */
	struct origin_link *idle_dead; /* closed or forgotten, freed at the end of the iteration */
	int n_idle;
	struct hint_cache *hints; /* links for 103 Early Hints (early_hints.h) */
	struct buf_stash stash[2]; /* freed buffers of the two sizes exchanges use (buf_stash.c) */
	/* HTTP/2 sessions with frames to send that no event of theirs will send (h2_conn.c) */
	struct h2_session *h2_pending;
	/* Graceful stop: edge_loop_drain sets the deadline (any thread); the loop then stops
	 * accepting, lets requests in flight finish and exits once no connection is left, or at
	 * the deadline. */
	_Atomic int64_t drain_deadline_us;
	int draining; /* the loop has seen it (loop thread) */
};

/* Sends what the loop's HTTP/2 sessions were given outside their own events (h2_conn.c). */
void edge_h2_flush(struct edge_loop *l);

int edge_loop_init(struct edge_loop *l, struct edge *e);
/* Gives the loop the listening sockets FDS (N of them; TLS[i] for an HTTPS one), which it owns
 * from now on, whatever the result. */
int edge_loop_listen(struct edge_loop *l, const int *fds, const int *tls, int n);
int edge_loop_start(struct edge_loop *l);
/* Stops and joins the thread (no more events; completions still queue). */
void edge_loop_halt(struct edge_loop *l);
/* Asks the loop to stop gracefully by DEADLINE_US (time_now_us clock); returns at once. */
void edge_loop_drain(struct edge_loop *l, int64_t deadline_us);
/* Waits until a draining loop's thread has ended. */
void edge_loop_join(struct edge_loop *l);
/* Halts if needed, then frees every connection, pending completion and fd. */
void edge_loop_dispose(struct edge_loop *l);
int edge_loop_add(struct edge_loop *l, struct edge_io *io, uint32_t events);
int edge_loop_mod(struct edge_loop *l, struct edge_io *io, uint32_t events);
void edge_loop_del(struct edge_loop *l, struct edge_io *io);
/* Hands a finished job back to its loop (any thread). */
void edge_loop_complete(struct edge_loop *l, struct lookup_job *job);

/* ---- keep-alive connections to origins (origin_pool.c), loop thread only ----------------- */

/* A connection to an origin that the pool knows: idle in the pool, or lent to a relay. */
struct origin_link;

/* How an origin socket is watched, by a relay and by the pool alike (edge-triggered). */
#define ORIGIN_SOCKET_EVENTS (EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP)

/* The pool key of an origin connection into OUT. */
void origin_pool_key(const char *host, unsigned port, int tls, const char *sni, char *out,
		     size_t len);
/* Takes an idle connection for KEY that is still open: 1 with *fd and *ssl (NULL for plain)
 * now owned by the caller and *link set, 0 when there is none. The socket stays registered
 * with L through *link, which hands its events to OWNER (the caller's edge_io for it) from
 * now on: lending costs no epoll_ctl. The caller gives it back with origin_pool_put or, when
 * it closes the socket, origin_pool_forget. The loop has dropped the connections its events
 * said were closed; PEEK also asks the socket itself (one recv), for a close that came after
 * this iteration's epoll_wait: a caller that can resend its request skips that syscall. */
int origin_pool_take(struct edge_loop *l, const char *key, int peek, struct edge_io *owner,
		     int *fd, SSL **ssl, struct origin_link **link);
/* Gives FD and SSL (may be NULL) to the pool, which watches FD for a close by the origin and
 * closes them then, or when full or expired. LINK is what origin_pool_take lent it through, or
 * NULL for a connection the caller opened (registered with L through the caller's own
 * edge_io). QUIET: the caller knows the socket holds no unread byte (a read found it empty and
 * no event came since); otherwise the pool has the loop look again (one epoll_ctl). */
void origin_pool_put(struct edge_loop *l, struct origin_link *link, const char *key, int fd,
		     SSL *ssl, int quiet);
/* The caller of origin_pool_take closes the socket itself (or has it closed by conn_free):
 * LINK is freed at the end of the iteration and passes no more events on. NULL is ignored. */
void origin_pool_forget(struct edge_loop *l, struct origin_link *link);
/* Closes the expired idle connections, or all of them with ALL. */
void origin_pool_sweep(struct edge_loop *l, int64_t now_us, int all);
/* Frees the entries taken or closed during this iteration (end of the iteration only). */
void origin_pool_reap(struct edge_loop *l);

/* ---- the lookup threads (lookup.c) --------------------------------------------------------- */

struct lookup_pool;

int lookup_pool_start(struct edge *e, int threads, struct lookup_pool **out);
void lookup_pool_stop(struct lookup_pool *p);
/* Queues JOB (ownership passes to the pool, and back to JOB->loop when done). */
void lookup_submit(struct lookup_pool *p, struct lookup_job *job);
/* Frees JOB and what it still holds (an entry, an ALPN certificate). */
void lookup_job_free(struct lookup_job *job);
/* The change feed saw change SEQ to hostname NAME: its cached entry, if any, is read again from
 * the store and replaced (when LOAD_MISSING, an uncached NAME is loaded too: a pack that became
 * pending_deployment); an uncached one is forgotten by the local copy. 0 once the cache holds
 * what the store holds; on a store error the old entry stays and is served, so a database
 * outage never empties the cache. */
int edge_entry_refresh(struct edge *e, const char *name, int64_t seq, int load_missing);

/* ---- origin name resolution (resolver.c): c-ares, cached by TTL; never on an event loop ---- */

struct resolver;

/* SERVERS: "HOST:PORT[,…]" (dns.resolver) or "" for the system's configuration. */
int resolver_create(const char *servers, struct resolver **out);
void resolver_destroy(struct resolver *r);
/* NAME's first address with PORT into *OUT; SE_ENOTFOUND when it does not resolve. Blocks the
 * calling (lookup) thread for at most a few seconds. */
int resolver_resolve(struct resolver *r, const char *name, unsigned port,
		     struct sockaddr_storage *out, socklen_t *len);
/* The same, asking the resolver even when a cached answer has not expired (which it then
 * replaces): for a check that must see the DNS as it is now. */
int resolver_resolve_fresh(struct resolver *r, const char *name, unsigned port,
			   struct sockaddr_storage *out, socklen_t *len);
/* Frees the calling thread's c-ares channel. */
void resolver_thread_cleanup(struct resolver *r);

/* ---- session tickets (tickets.c) ------------------------------------------------------------ */

struct edge_tickets;

/* Loads (or creates) the shared ticket keys, installs the ticket callback on CTX and sets the
 * number of tickets per handshake (edge.session_tickets; 0 turns tickets off). */
int tickets_init(struct edge *e, SSL_CTX *ctx);
/* Re-reads the keys from the store, adding a new one when the newest is due for rotation. */
void tickets_refresh(struct edge *e);
void tickets_dispose(struct edge *e);

/* ---- the local copy's writer (copy_writer.c) ---------------------------------------------- */

struct copy_writer;
struct edge_copy;

/* Starts the thread that writes COPY (which must outlive it). */
int copy_writer_start(struct edge_copy *copy, struct copy_writer **out);
/* Writes what was handed over, then stops the thread. */
void copy_writer_stop(struct copy_writer *w);
/* Hands over what the store said of NAME, to be written soon, in order: REC (its contents are
 * taken: REC is left empty), or nothing (remove). Waits only when the queue is full. */
void copy_writer_put(struct copy_writer *w, const char *name, struct store_edge_entry *rec);
void copy_writer_remove(struct copy_writer *w, const char *name);
/* Returns once everything handed over before the call is written. */
void copy_writer_flush(struct copy_writer *w);

/* ---- the change feed (change_feed.c) ------------------------------------------------------- */

struct change_feed;

int change_feed_start(struct edge *e, struct change_feed **out);
void change_feed_stop(struct change_feed *f);

/* ---- the fallback origin's activation (fallback_check.c) ---------------------------------- */

struct fallback_check;

/* Starts the thread that checks pending fallback origins now and every 30 s. */
int fallback_check_start(struct edge *e, struct fallback_check **out);
/* A fallback origin changed: check soon. NULL-safe. */
void fallback_check_wake(struct fallback_check *fc);
void fallback_check_stop(struct fallback_check *fc);

/* ---- the role ------------------------------------------------------------------------------ */

struct edge {
	const struct config *cfg;
	struct store *st;
	const struct secretbox *box;
	SSL_CTX *https_ctx;
	SSL_CTX *origin_ctx; /* client side, for https origins */
	X509 *default_leaf;
	EVP_PKEY *default_key;
	STACK_OF(X509) * default_chain;
	struct cert_cache *cache;
	struct resolver *resolver;
	struct edge_tickets *tickets;
	struct lookup_pool *lookups;
	struct change_feed *feed;
	struct fallback_check *fallback;
	struct edge_copy *copy; /* the local copy, with a shared store; NULL with SQLite */
	struct copy_writer *copy_writer; /* writes COPY for the lookups; NULL with it */
	struct edge_loop *loops;
	int n_loops;
	int https_port, http_port;
	atomic_long n_conns;
	struct handover *handover; /* gives the listeners to the next process (handover.c) */
};

/* ---- listeners (listener.c) ---------------------------------------------------------------- */

/* A non-blocking SO_REUSEPORT listening socket on ADDR ("HOST:PORT", "[v6]:PORT", or ":PORT"
 * for every IPv4 and IPv6 address). *port receives the bound port. SE_ECONFIG for a bad
 * address, SE_EADDRINUSE. */
int edge_listen(const char *addr, int *fd, int *port);
/* 1 when the listening socket FD is on ADDR as edge_listen would have bound it; never for a port
 * 0, which asks for a new port. */
int edge_listen_matches(const char *addr, int fd);

/* ---- a restart that loses no connection (handover.c) --------------------------------------- */

#define HANDOVER_MAX 512 /* listening sockets taken over, of each kind */

/* The listening sockets taken over from the edge process this one replaces, by kind (index
 * 1: HTTPS, 0: HTTP); -1 for one given to a loop. */
struct handover_taken {
	int fds[2][HANDOVER_MAX];
	int n[2];
};

/* Asks the edge process serving from the same data directory for its listening sockets, and
 * keeps in OUT those on the addresses CFG listens on (closing the others). None when no such
 * process answers: it is not an error. */
void handover_take(const struct config *cfg, struct handover_taken *out);
/* Closes the sockets of T that no loop took. */
void handover_taken_close(struct handover_taken *t);
/* Hands E's listening sockets to any later edge process that asks (DATA_DIR/edge.sock), until
 * handover_stop, which must come before the loops close them. Logs its own failure. */
int handover_start(struct edge *e, struct handover **out);
void handover_stop(struct handover *h);

/* ---- TLS (sni.c) --------------------------------------------------------------------------- */

/* The HTTPS listener's SSL_CTX with the ClientHello callback installed. */
int edge_tls_ctx_create(struct edge *e, SSL_CTX **out);

/* ---- connections (conn.c, http_req.c, proxy.c, http_plain.c) ------------------------------- */

/* Accepts one connection waiting on LFD: 1 when one was taken (served or refused), 0 none. */
int edge_conn_accept(struct edge_loop *l, int lfd, int tls);
/* The loop is draining: kept-alive connections between two requests close, the others finish
 * what they are doing first (HTTP/1.1 closes after the response, HTTP/2 sends GOAWAY and ends
 * after its open streams). */
void edge_conn_drain_all(struct edge_loop *l);
/* A lookup job of the connection came back. */
void edge_conn_job_done(struct edge_loop *l, struct lookup_job *job);
/* Closes timed-out connections. */
void edge_conn_sweep(struct edge_loop *l, int64_t now_us);
/* The client connections open on L. */
int edge_conn_count(const struct edge_loop *l);
/* Frees every connection of L (loop stopped). */
void edge_conn_free_all(struct edge_loop *l);
/* Frees the connections closed during this iteration. */
void edge_conn_reap(struct edge_loop *l);

#endif
