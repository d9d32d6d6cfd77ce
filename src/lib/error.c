#include "lib/error.h"

#define SE_ERR_MSG(name, msg) [SE_E##name - SE_EFIRST_] = msg,
#define SE_ERR_NAME(name, msg) [SE_E##name - SE_EFIRST_] = "SE_E" #name,
static const char *const messages[] = {SE_ERRORS(SE_ERR_MSG)};
static const char *const names[] = {SE_ERRORS(SE_ERR_NAME)};

static int in_range(int err)
{
	return err > SE_EFIRST_ && err < SE_ELAST_;
}

const char *se_strerror(int err)
{
	if (err == SE_OK)
		return "success";
	return in_range(err) ? messages[err - SE_EFIRST_] : "unknown error";
}

const char *se_errname(int err)
{
	if (err == SE_OK)
		return "SE_OK";
	return in_range(err) ? names[err - SE_EFIRST_] : "SE_EUNKNOWN";
}
