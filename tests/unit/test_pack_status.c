/* The pack status table (src/lifecycle/pack_status.c): names both ways, every legal move and,
 * as importantly, the moves that must be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lifecycle/pack_status.h"

static void test_names_round_trip(void **state)
{
	enum pack_status s;

	for (int i = 0; i < PACK_STATUS_COUNT; i++) {
		const char *name = pack_status_name((enum pack_status)i);

		assert_true(name[0] != '\0');
		assert_int_equal(pack_status_parse(name, &s), 0);
		assert_int_equal(s, i);
	}
	assert_int_equal(pack_status_parse("Active", &s), -1);
	assert_int_equal(pack_status_parse("", &s), -1);
	assert_int_equal(pack_status_parse(NULL, &s), -1);
	assert_string_equal(pack_status_name(PACK_STATUS_COUNT), "");
}

static enum pack_status next(enum pack_status from, enum pack_event ev)
{
	enum pack_status to = PACK_STATUS_COUNT;

	assert_int_equal(pack_status_next(from, ev, &to), 0);
	return to;
}

static int refused(enum pack_status from, enum pack_event ev)
{
	enum pack_status to = PACK_DELETED;

	return pack_status_next(from, ev, &to) == -1 && to == PACK_DELETED;
}

/* The path a managed certificate takes, and a renewal of a live one. */
static void test_issuance_path(void **state)
{
	enum pack_status s = next(PACK_ACTIVE, PACK_EV_RESTART);

	assert_int_equal(s, PACK_INITIALIZING);
	s = next(s, PACK_EV_RECORDS_SHOWN);
	assert_int_equal(s, PACK_PENDING_VALIDATION);
	assert_int_equal(next(s, PACK_EV_RECORDS_SHOWN), PACK_PENDING_VALIDATION);
	s = next(s, PACK_EV_VALIDATED);
	assert_int_equal(s, PACK_PENDING_ISSUANCE);
	/* the second order's authorization had to be redone */
	assert_int_equal(next(s, PACK_EV_RECORDS_SHOWN), PACK_PENDING_VALIDATION);
	s = next(s, PACK_EV_ISSUED);
	assert_int_equal(s, PACK_PENDING_DEPLOYMENT);
	s = next(s, PACK_EV_DEPLOYED);
	assert_int_equal(s, PACK_ACTIVE);
	assert_int_equal(next(s, PACK_EV_ISSUED), PACK_PENDING_DEPLOYMENT);
	assert_int_equal(next(PACK_EXPIRED, PACK_EV_ISSUED), PACK_PENDING_DEPLOYMENT);
	assert_int_equal(next(s, PACK_EV_NONE), PACK_ACTIVE);
}

static void test_uploads_and_expiry(void **state)
{
	for (int i = 0; i < PACK_STATUS_COUNT; i++) {
		assert_int_equal(next((enum pack_status)i, PACK_EV_UPLOADED),
				 PACK_PENDING_DEPLOYMENT);
		assert_int_equal(next((enum pack_status)i, PACK_EV_RESTART), PACK_INITIALIZING);
	}
	assert_int_equal(next(PACK_ACTIVE, PACK_EV_EXPIRING), PACK_PENDING_EXPIRATION);
	assert_int_equal(next(PACK_PENDING_DEPLOYMENT, PACK_EV_EXPIRING), PACK_PENDING_EXPIRATION);
	assert_int_equal(next(PACK_PENDING_EXPIRATION, PACK_EV_EXPIRED), PACK_EXPIRED);
	assert_int_equal(next(PACK_ACTIVE, PACK_EV_EXPIRED), PACK_EXPIRED);
}

static void test_timeouts(void **state)
{
	assert_int_equal(next(PACK_PENDING_VALIDATION, PACK_EV_VALIDATION_TIMED_OUT),
			 PACK_VALIDATION_TIMED_OUT);
	assert_int_equal(next(PACK_PENDING_ISSUANCE, PACK_EV_ISSUANCE_TIMED_OUT),
			 PACK_ISSUANCE_TIMED_OUT);
	/* a timed-out pack is retried by a restart only */
	assert_true(refused(PACK_VALIDATION_TIMED_OUT, PACK_EV_RECORDS_SHOWN));
	assert_true(refused(PACK_ISSUANCE_TIMED_OUT, PACK_EV_ISSUED));
}

/* What each role must not be able to do. */
static void test_illegal_moves_refused(void **state)
{
	/* the edge activates only what was waiting for it */
	assert_true(refused(PACK_INITIALIZING, PACK_EV_DEPLOYED));
	assert_true(refused(PACK_PENDING_VALIDATION, PACK_EV_DEPLOYED));
	assert_true(refused(PACK_EXPIRED, PACK_EV_DEPLOYED));
	assert_true(refused(PACK_ACTIVE, PACK_EV_DEPLOYED));
	/* a worker that missed a restart cannot declare the old order issued */
	assert_true(refused(PACK_INITIALIZING, PACK_EV_ISSUED));
	/* an issued or uploaded certificate is not sent back to validation */
	assert_true(refused(PACK_ACTIVE, PACK_EV_RECORDS_SHOWN));
	assert_true(refused(PACK_PENDING_DEPLOYMENT, PACK_EV_VALIDATED));
	assert_true(refused(PACK_ACTIVE, PACK_EV_VALIDATION_TIMED_OUT));
	/* an expired certificate does not become pending_expiration again */
	assert_true(refused(PACK_EXPIRED, PACK_EV_EXPIRING));
	assert_true(refused(PACK_INITIALIZING, PACK_EV_EXPIRED));
	/* out of range */
	assert_true(refused(PACK_STATUS_COUNT, PACK_EV_RESTART));
	assert_true(refused(PACK_ACTIVE, PACK_EVENT_COUNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_round_trip),      cmocka_unit_test(test_issuance_path),
	    cmocka_unit_test(test_uploads_and_expiry),    cmocka_unit_test(test_timeouts),
	    cmocka_unit_test(test_illegal_moves_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
