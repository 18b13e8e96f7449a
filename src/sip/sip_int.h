/*
 * sip_int.h - private helpers shared by the files of the SIP layer:
 * character classes of RFC 3261 section 25.1 and small scanning helpers.
 * Not for use outside src/sip/.
 */
#ifndef SIPGUARD_SIP_INT_H
#define SIPGUARD_SIP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "sip/sip.h"

enum {
	SIP__C_TOKEN = 1 << 0,	   /* token: alphanum / "-.!%*_+`'~" */
	SIP__C_ALPHA = 1 << 1,
	SIP__C_DIGIT = 1 << 2,
	SIP__C_HEX = 1 << 3,
	SIP__C_UNRESERVED = 1 << 4, /* alphanum / mark */
	SIP__C_USER = 1 << 5,	   /* user-unreserved: & = + $ , ; ? / */
	SIP__C_PASSWORD = 1 << 6,  /* & = + $ , */
	SIP__C_PARAM = 1 << 7,	   /* param-unreserved: [ ] / : & + $ */
};

/* Classes of each byte; 0 for controls and non-ASCII (sipchars.c). */
extern const uint8_t sip__cclass[256];

static inline bool sip__is(unsigned char c, unsigned cls)
{
	return (sip__cclass[c] & cls) != 0;
}

/* Set *errp (if errp) and return -EINVAL. */
int sip__fail(struct sip_perr *errp, enum sip_perr_code code,
	      const char *base, const char *at, const char *reason);

#endif
