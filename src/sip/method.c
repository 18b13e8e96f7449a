/*
 * method.c - SIP request methods: recognition of the methods a proxy
 * treats specially, their canonical names, and the token test of
 * RFC 3261 section 25.1 that every method (and many header values) must
 * pass.  Methods are case-sensitive (RFC 3261 7.1): "invite" is an
 * extension method, not INVITE.
 */
#include "sip/sip_int.h"

#include <string.h>

static const char *const method_names[SIP_METHOD__COUNT] = {
	[SIP_METHOD_UNKNOWN] = "",
	[SIP_METHOD_INVITE] = "INVITE",
	[SIP_METHOD_ACK] = "ACK",
	[SIP_METHOD_BYE] = "BYE",
	[SIP_METHOD_CANCEL] = "CANCEL",
	[SIP_METHOD_REGISTER] = "REGISTER",
	[SIP_METHOD_OPTIONS] = "OPTIONS",
	[SIP_METHOD_PRACK] = "PRACK",
	[SIP_METHOD_SUBSCRIBE] = "SUBSCRIBE",
	[SIP_METHOD_NOTIFY] = "NOTIFY",
	[SIP_METHOD_PUBLISH] = "PUBLISH",
	[SIP_METHOD_INFO] = "INFO",
	[SIP_METHOD_REFER] = "REFER",
	[SIP_METHOD_MESSAGE] = "MESSAGE",
	[SIP_METHOD_UPDATE] = "UPDATE",
};

static bool is(struct str s, enum sip_method m, size_t n)
{
	return s.len == n && memcmp(s.p, method_names[m], n) == 0;
}

/*
 * Map a method slice to its enum, case-sensitively.  Any other slice,
 * empty ones included, gives SIP_METHOD_UNKNOWN: the caller keeps the
 * slice itself for extension methods.  Dispatches on the first byte so a
 * lookup costs at most two short compares.
 */
enum sip_method sip_method_from_str(struct str s)
{
	if (s.len < 3 || s.len > 9)
		return SIP_METHOD_UNKNOWN;
	switch (s.p[0]) {
	case 'A':
		return is(s, SIP_METHOD_ACK, 3) ? SIP_METHOD_ACK
						: SIP_METHOD_UNKNOWN;
	case 'B':
		return is(s, SIP_METHOD_BYE, 3) ? SIP_METHOD_BYE
						: SIP_METHOD_UNKNOWN;
	case 'C':
		return is(s, SIP_METHOD_CANCEL, 6) ? SIP_METHOD_CANCEL
						   : SIP_METHOD_UNKNOWN;
	case 'I':
		if (is(s, SIP_METHOD_INVITE, 6))
			return SIP_METHOD_INVITE;
		return is(s, SIP_METHOD_INFO, 4) ? SIP_METHOD_INFO
						 : SIP_METHOD_UNKNOWN;
	case 'M':
		return is(s, SIP_METHOD_MESSAGE, 7) ? SIP_METHOD_MESSAGE
						    : SIP_METHOD_UNKNOWN;
	case 'N':
		return is(s, SIP_METHOD_NOTIFY, 6) ? SIP_METHOD_NOTIFY
						   : SIP_METHOD_UNKNOWN;
	case 'O':
		return is(s, SIP_METHOD_OPTIONS, 7) ? SIP_METHOD_OPTIONS
						    : SIP_METHOD_UNKNOWN;
	case 'P':
		if (is(s, SIP_METHOD_PRACK, 5))
			return SIP_METHOD_PRACK;
		return is(s, SIP_METHOD_PUBLISH, 7) ? SIP_METHOD_PUBLISH
						    : SIP_METHOD_UNKNOWN;
	case 'R':
		if (is(s, SIP_METHOD_REGISTER, 8))
			return SIP_METHOD_REGISTER;
		return is(s, SIP_METHOD_REFER, 5) ? SIP_METHOD_REFER
						  : SIP_METHOD_UNKNOWN;
	case 'S':
		return is(s, SIP_METHOD_SUBSCRIBE, 9) ? SIP_METHOD_SUBSCRIBE
						      : SIP_METHOD_UNKNOWN;
	case 'U':
		return is(s, SIP_METHOD_UPDATE, 6) ? SIP_METHOD_UPDATE
						   : SIP_METHOD_UNKNOWN;
	default:
		return SIP_METHOD_UNKNOWN;
	}
}

/* Canonical name of a known method; "" for SIP_METHOD_UNKNOWN or any
 * out-of-range value.  The string is static. */
const char *sip_method_name(enum sip_method m)
{
	if ((unsigned)m >= SIP_METHOD__COUNT)
		return "";
	return method_names[m];
}

/* True when s is a non-empty RFC 3261 token (25.1). */
bool sip_is_token(struct str s)
{
	size_t i;

	if (s.len == 0)
		return false;
	for (i = 0; i < s.len; i++)
		if (!sip__is((unsigned char)s.p[i], SIP__C_TOKEN))
			return false;
	return true;
}
