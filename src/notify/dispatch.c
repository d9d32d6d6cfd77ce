/* Events to deliveries. The change feed already records every status move in the transaction
 * that makes it; the dispatcher reads what follows its cursor, picks the events a webhook
 * tells, finds the account's enabled policies of the custom hostname alert type whose filters
 * match, and writes one delivery per destination together with the cursor's move
 * (store_webhook_dispatch). A crash before that commit re-reads the same events; after it,
 * the deliveries are in the outbox. */
#include "notify/notify_int.h"

#include <stdlib.h>
#include <string.h>

#include "api/hostname_json.h"
#include "lib/error.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "notify/webhook_events.h"
#include "notify/webhook_payload.h"

#define EVENTS_PER_BATCH 256

/* The account of one zone, its policies and destinations: read once per batch and zone. */
struct account_view {
	char zone_id[33];
	char account_id[33];
	struct store_alert_policy *policies;
	size_t n_policies;
	struct store_webhook_destination *destinations;
	size_t n_destinations;
};

static void view_clear(struct account_view *v)
{
	store_alert_policy_list_free(v->policies, v->n_policies);
	store_webhook_destination_list_free(v->destinations, v->n_destinations);
	memset(v, 0, sizeof(*v));
}

static int view_load(struct store *st, const char *zone_id, struct account_view *v)
{
	struct store_zone zone;
	int rc;

	if (strcmp(v->zone_id, zone_id) == 0)
		return 0;
	view_clear(v);
	rc = store_zone_get(st, zone_id, &zone);
	if (rc == SE_ENOTFOUND)
		return 0; /* a zone deleted since: nobody to tell */
	if (rc == 0)
		rc = store_alert_policy_list(st, zone.account_id, &v->policies, &v->n_policies);
	if (rc == 0)
		rc = store_webhook_destination_list(st, zone.account_id, &v->destinations,
						    &v->n_destinations);
	if (rc) {
		view_clear(v);
		return rc;
	}
	snprintf(v->zone_id, sizeof(v->zone_id), "%s", zone_id);
	snprintf(v->account_id, sizeof(v->account_id), "%s", zone.account_id);
	return 0;
}

/* 1 when the string array FILTERS[KEY] is absent or empty, or holds VALUE. */
static int filter_allows(json_t *filters, const char *key, const char *value)
{
	json_t *list = json_object_get(filters, key), *item;
	size_t i;

	if (!json_is_array(list) || json_array_size(list) == 0)
		return 1;
	json_array_foreach(list, i, item)
	{
		if (json_is_string(item) && strcmp(json_string_value(item), value) == 0)
			return 1;
	}
	return 0;
}

/* 1 when policy P wants EVENT_TYPE about a hostname of ZONE_ID. */
static int policy_matches(const struct store_alert_policy *p, const char *zone_id,
			  const char *event_type)
{
	json_t *filters;
	int ok;

	if (!p->enabled || strcmp(p->alert_type, WEBHOOK_ALERT_TYPE) != 0)
		return 0;
	filters = json_loads(p->filters_json ? p->filters_json : "{}", 0, NULL);
	ok = filter_allows(filters, "zones", zone_id) &&
	     filter_allows(filters, "event_type", event_type);
	json_decref(filters);
	return ok;
}

static const struct store_webhook_destination *find_destination(const struct account_view *v,
								const char *id)
{
	for (size_t i = 0; i < v->n_destinations; i++)
		if (strcmp(v->destinations[i].id, id) == 0)
			return &v->destinations[i];
	return NULL;
}

struct batch {
	struct store_webhook_delivery *items;
	size_t n, cap;
};

static void batch_free(struct batch *b)
{
	store_webhook_delivery_list_free(b->items, b->n);
	memset(b, 0, sizeof(*b));
}

/* 1 when B already sends EVENT_ID to DESTINATION_ID (two policies naming one destination). */
static int batch_has(const struct batch *b, const char *event_id, const char *destination_id)
{
	for (size_t i = b->n; i-- > 0;) {
		if (strcmp(b->items[i].event_id, event_id) != 0)
			return 0;
		if (strcmp(b->items[i].destination_id, destination_id) == 0)
			return 1;
	}
	return 0;
}

static int batch_add(struct batch *b, const struct store_webhook_delivery *d)
{
	if (b->n == b->cap) {
		size_t want = b->cap ? b->cap * 2 : 16;
		void *grown = realloc(b->items, want * sizeof(*b->items));

		if (!grown)
			return SE_ENOMEM;
		b->items = grown;
		b->cap = want;
	}
	b->items[b->n] = *d;
	b->items[b->n].payload = strdup(d->payload);
	if (!b->items[b->n].payload)
		return SE_ENOMEM;
	b->n++;
	return 0;
}

/* The body of EV's message, with EVENT_ID, into *PAYLOAD (malloc'd). Its data is the hostname
 * as the API shows it, with the event's status; for a hostname gone since (or deleted by EV
 * itself), what the event still knows. */
static int make_payload(struct notify *n, const struct account_view *v,
			const struct store_event *ev, const char *event_type, const char *event_id,
			char **payload)
{
	struct store_hostname h;
	json_t *host = NULL, *data = NULL;
	int rc = strcmp(ev->kind, "hostname.deleted") == 0
		     ? SE_ENOTFOUND
		     : store_hostname_get(n->store, ev->zone_id, ev->subject_id, &h);

	*payload = NULL;
	if (rc == SE_ENOTFOUND) {
		data =
		    json_pack("{s:s, s:s, s:{s:s}}", "id", ev->subject_id, "hostname", ev->hostname,
			      "ssl", "status", ev->new_status[0] ? ev->new_status : "deleted");
	} else if (rc == 0) {
		host = hostname_to_json(&h, n->cfg);
		store_hostname_dispose(&h);
		data = host ? webhook_hostname_data(host, ev->new_status[0] ? ev->new_status : NULL)
			    : NULL;
		json_decref(host);
	} else {
		return rc; /* the store is away: the batch is read again */
	}
	*payload = data ? webhook_payload(event_id, event_type, ev->created_at_us, v->account_id,
					  ev->zone_id, data)
			: NULL;
	return *payload ? 0 : SE_ENOMEM;
}

/* Adds to B a delivery of EV to every destination of V's policies that want it. */
static int dispatch_event(struct notify *n, const struct account_view *v,
			  const struct store_event *ev, const char *event_type, struct batch *b)
{
	struct store_webhook_delivery d;
	int64_t now = time_now_us();
	char *payload = NULL;
	int rc = 0;

	memset(&d, 0, sizeof(d));
	for (size_t i = 0; i < v->n_policies && rc == 0; i++) {
		const struct store_alert_policy *p = &v->policies[i];
		json_t *mech, *hooks, *hook;
		size_t k;

		if (!policy_matches(p, ev->zone_id, event_type))
			continue;
		mech = json_loads(p->mechanisms_json ? p->mechanisms_json : "{}", 0, NULL);
		hooks = json_object_get(mech, "webhooks");
		json_array_foreach(hooks, k, hook)
		{
			const char *id = json_string_value(json_object_get(hook, "id"));
			const struct store_webhook_destination *dest =
			    id ? find_destination(v, id) : NULL;

			/* A destination deleted since the policy named it is skipped. */
			if (!dest || (payload && batch_has(b, d.event_id, dest->id)))
				continue;
			if (!payload) {
				rc = ids_uuid(d.event_id);
				if (rc == 0)
					rc = make_payload(n, v, ev, event_type, d.event_id,
							  &payload);
				if (rc)
					break;
			}
			snprintf(d.destination_id, sizeof(d.destination_id), "%s", dest->id);
			snprintf(d.account_id, sizeof(d.account_id), "%s", v->account_id);
			snprintf(d.policy_id, sizeof(d.policy_id), "%s", p->id);
			snprintf(d.policy_name, sizeof(d.policy_name), "%s", p->name);
			snprintf(d.ordering_key, sizeof(d.ordering_key), "%s", ev->subject_id);
			snprintf(d.event_type, sizeof(d.event_type), "%s", event_type);
			d.payload = payload;
			d.next_attempt_us = now;
			d.created_at_us = now;
			rc = batch_add(b, &d);
			if (rc)
				break;
		}
		json_decref(mech);
	}
	free(payload);
	return rc;
}

int notify_dispatch_once(struct notify *n, size_t *read, size_t *made)
{
	struct store_event *events = calloc(EVENTS_PER_BATCH, sizeof(*events));
	struct account_view view;
	struct batch b = {0};
	int64_t cursor = 0;
	size_t count = 0;
	int rc;

	*read = *made = 0;
	memset(&view, 0, sizeof(view));
	if (!events)
		return SE_ENOMEM;
	rc = store_webhook_cursor_get(n->store, &cursor);
	if (rc == 0)
		rc = store_events_since(n->store, cursor, events, EVENTS_PER_BATCH, &count);
	for (size_t i = 0; i < count && rc == 0; i++) {
		const char *type = webhook_event_type(&events[i]);

		if (!type)
			continue;
		rc = view_load(n->store, events[i].zone_id, &view);
		if (rc == 0 && view.account_id[0])
			rc = dispatch_event(n, &view, &events[i], type, &b);
	}
	if (rc == 0 && count > 0) {
		rc = store_webhook_dispatch(n->store, cursor, events[count - 1].seq, b.items, b.n);
		if (rc == 0) {
			*read = count;
			*made = b.n;
		} else if (rc == SE_EBUSY)
			rc = 0; /* another node dispatched these events first */
	}
	view_clear(&view);
	batch_free(&b);
	free(events);
	return rc;
}
