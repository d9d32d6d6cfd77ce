/* Unit tests of src/metrics: counting, the text exposition (label order and escaping, histogram
 * buckets cumulative with +Inf, _sum in seconds), labels out of range counted nowhere, the CA
 * label from the configuration, and nothing counted before metrics_enable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/config.h"
#include "metrics/metrics.h"

/* The text of every family, as scraped. */
static char *render(void)
{
	size_t len = 0;
	char *text = metrics_render(NULL, &len);

	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

static void expect_line(const char *text, const char *line)
{
	char *want = malloc(strlen(line) + 3);

	snprintf(want, strlen(line) + 3, "\n%s\n", line);
	if (!strstr(text, want))
		fail_msg("missing line: %s", line);
	free(want);
}

static void test_nothing_counted_before_enable(void **state)
{
	(void)state;
	metrics_enable();
	atomic_store(&metrics_enabled, 0); /* as in a process without metrics.listen */
	metrics_count(M_EDGE_CONNECTIONS_TOTAL, 0, 0);
	metrics_observe_us(M_EDGE_ORIGIN_SECONDS, 0, 100);
	atomic_store(&metrics_enabled, 1); /* the cells as they are, not cleared */
	char *text = render();
	expect_line(text, "saasedge_edge_connections_total 0");
	expect_line(text, "saasedge_edge_origin_seconds_count 0");
	free(text);
}

static void test_counters_and_labels(void **state)
{
	(void)state;
	metrics_enable();
	metrics_count(M_EDGE_HANDSHAKES, MH_OK, MC_RSA);
	metrics_count(M_EDGE_HANDSHAKES, MH_OK, MC_RSA);
	metrics_count(M_EDGE_HANDSHAKES, MH_UNKNOWN_NAME, MC_NONE);
	metrics_set(M_EDGE_CONNECTIONS, 0, 0, 5);
	metrics_set(M_EDGE_CONNECTIONS, 0, 0, 3); /* a gauge is its last value */
	metrics_set(M_ISSUER_KEY_POOL, 0, 0, 7);
	/* out of range: counted nowhere exported */
	metrics_count(M_EDGE_HANDSHAKES, MH_RESULT_COUNT, 0);
	metrics_count(M_EDGE_HANDSHAKES, 0, MC_KIND_COUNT);
	char *text = render();
	expect_line(text, "# TYPE saasedge_edge_handshakes_total counter");
	expect_line(text, "saasedge_edge_handshakes_total{result=\"ok\",certificate=\"rsa\"} 2");
	expect_line(text, "saasedge_edge_handshakes_total{result=\"ok\",certificate=\"ecdsa\"} 0");
	expect_line(
	    text, "saasedge_edge_handshakes_total{result=\"unknown_name\",certificate=\"none\"} 1");
	expect_line(text,
		    "saasedge_edge_handshakes_total{result=\"failed\",certificate=\"default\"} 0");
	expect_line(text, "# TYPE saasedge_edge_connections gauge");
	expect_line(text, "saasedge_edge_connections 3");
	expect_line(text, "saasedge_issuer_key_pool_keys 7");
	free(text);
}

static void test_histogram(void **state)
{
	(void)state;
	metrics_enable();
	metrics_observe_us(M_API_SECONDS, MA_HOSTNAME, 50);       /* 0.00005 s: first bucket */
	metrics_observe_us(M_API_SECONDS, MA_HOSTNAME, 1000);     /* on the 0.001 bound: in it */
	metrics_observe_us(M_API_SECONDS, MA_HOSTNAME, 3000000);  /* 3 s: the 5 s bucket */
	metrics_observe_us(M_API_SECONDS, MA_HOSTNAME, 60000000); /* past every bound: +Inf */
	char *text = render();
	expect_line(text, "# TYPE saasedge_api_request_seconds histogram");
	expect_line(
	    text, "saasedge_api_request_seconds_bucket{route=\"custom_hostname\",le=\"0.0001\"} 1");
	expect_line(
	    text, "saasedge_api_request_seconds_bucket{route=\"custom_hostname\",le=\"0.001\"} 2");
	expect_line(text,
		    "saasedge_api_request_seconds_bucket{route=\"custom_hostname\",le=\"2.5\"} 2");
	expect_line(text,
		    "saasedge_api_request_seconds_bucket{route=\"custom_hostname\",le=\"5\"} 3");
	expect_line(text,
		    "saasedge_api_request_seconds_bucket{route=\"custom_hostname\",le=\"10\"} 3");
	expect_line(text,
		    "saasedge_api_request_seconds_bucket{route=\"custom_hostname\",le=\"+Inf\"} 4");
	expect_line(text, "saasedge_api_request_seconds_count{route=\"custom_hostname\"} 4");
	expect_line(text, "saasedge_api_request_seconds_sum{route=\"custom_hostname\"} 63.001050");
	expect_line(text, "saasedge_api_request_seconds_count{route=\"zones\"} 0");
	/* a histogram without labels */
	metrics_observe_us(M_EDGE_ORIGIN_SECONDS, 0, 2000);
	free(text);
	text = render();
	expect_line(text, "saasedge_edge_origin_seconds_bucket{le=\"0.0025\"} 1");
	expect_line(text, "saasedge_edge_origin_seconds_count 1");
	free(text);
}

static void test_ca_label_from_config(void **state)
{
	struct config cfg;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.n_cas = 2;
	strcpy(cfg.cas[0].name, "letsencrypt");
	strcpy(cfg.cas[1].name, "odd\"name\\");
	metrics_set_cas(&cfg);
	metrics_enable();
	assert_int_equal(metrics_ca_index("letsencrypt"), 0);
	assert_int_equal(metrics_ca_index("internal"), 2);
	assert_int_equal(metrics_ca_index("nobody"), 3); /* "other" */
	metrics_count(M_ISSUER_ORDERS, metrics_ca_index("letsencrypt"), MO_ISSUED);
	metrics_count(M_ISSUER_ORDERS, metrics_ca_index("odd\"name\\"), MO_FAILED);
	metrics_count(M_ISSUER_ORDERS, metrics_ca_index("nobody"), MO_FAILED);
	char *text = render();
	expect_line(text, "saasedge_issuer_orders_total{ca=\"letsencrypt\",outcome=\"issued\"} 1");
	expect_line(text,
		    "saasedge_issuer_orders_total{ca=\"odd\\\"name\\\\\",outcome=\"failed\"} 1");
	expect_line(text, "saasedge_issuer_orders_total{ca=\"internal\",outcome=\"issued\"} 0");
	expect_line(text, "saasedge_issuer_orders_total{ca=\"other\",outcome=\"failed\"} 1");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nothing_counted_before_enable),
	    cmocka_unit_test(test_counters_and_labels),
	    cmocka_unit_test(test_histogram),
	    cmocka_unit_test(test_ca_label_from_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
