#include "api/errors.h"

struct api_error_row {
	unsigned http_status;
	int code;
	const char *format;
};

static const struct api_error_row rows[] = {
#define API_ERROR_ROW(name, http, code, msg) [API_ERR_##name] = {http, code, msg},
	API_ERRORS(API_ERROR_ROW)
#undef API_ERROR_ROW
};

unsigned api_error_http_status(enum api_error err)
{
	return rows[err].http_status;
}

int api_error_code(enum api_error err)
{
	return rows[err].code;
}

const char *api_error_format(enum api_error err)
{
	return rows[err].format;
}
