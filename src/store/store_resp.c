/*
 * store_resp.c - Redis commands written in Redis' protocol (RESP2, "the
 * unified request protocol": an array of bulk strings) by us, into a
 * caller's buffer, for hiredis' redisAsyncFormattedCommand().
 *
 * Why not hiredis' own redisAsyncCommand(): its printf-like formatting
 * parses the format string, grows a string per argument by reallocation
 * and frees them all, for every command; on the Redis store's hot path
 * (a binding, a dialog snapshot, a call's counters: several commands a
 * call) that cost more than the rest of the command's handling together
 * (bench/README-store.md).  Here an argument is one length prefix and
 * one copy, and the command is built in place.
 *
 *   *<argc>\r\n  then per argument  $<len>\r\n<bytes>\r\n
 *
 * Arguments are binary safe (bulk strings), so no byte needs escaping.
 * A command longer than the buffer is not written past it: the length
 * keeps counting, and store__resp_end() reports the overflow.
 */
#include "store/store_int.h"

#include <errno.h>
#include <string.h>

/* Two digits at a time (half the divisions of a digit loop): every
 * length, count and counter parameter of the hot path goes through
 * here, some ten a command. */
static const char digits2[] = "00010203040506070809"
			      "10111213141516171819"
			      "20212223242526272829"
			      "30313233343536373839"
			      "40414243444546474849"
			      "50515253545556575859"
			      "60616263646566676869"
			      "70717273747576777879"
			      "80818283848586878889"
			      "90919293949596979899";

size_t store__fmt_u64(char *buf, uint64_t v)
{
	char t[STORE__NUM_MAX];
	size_t n = sizeof(t), len;
	unsigned d;

	/* Most are argument lengths: one or two digits. */
	if (v < 10) {
		buf[0] = (char)('0' + v);
		return 1;
	}
	if (v < 100) {
		buf[0] = digits2[2 * v];
		buf[1] = digits2[2 * v + 1];
		return 2;
	}

	while (v >= 100) {
		d = (unsigned)(v % 100) * 2;
		v /= 100;
		t[--n] = digits2[d + 1];
		t[--n] = digits2[d];
	}
	if (v >= 10) {
		d = (unsigned)v * 2;
		t[--n] = digits2[d + 1];
		t[--n] = digits2[d];
	} else {
		t[--n] = (char)('0' + v);
	}
	len = sizeof(t) - n;
	memcpy(buf, t + n, len);
	return len;
}

size_t store__fmt_i64(char *buf, int64_t v)
{
	if (v >= 0)
		return store__fmt_u64(buf, (uint64_t)v);
	buf[0] = '-';
	return 1 + store__fmt_u64(buf + 1, 0 - (uint64_t)v);
}

void store__resp_init(struct store__resp *w, char *buf, size_t room)
{
	w->p = buf;
	w->len = 0;
	w->room = room;
}

static void put(struct store__resp *w, const char *s, size_t n)
{
	if (n && w->len <= w->room && n <= w->room - w->len)
		memcpy(w->p + w->len, s, n);
	w->len += n; /* past room: reported by store__resp_end() */
}

/* A tag ('*' or '$') and a count, as "*3\r\n". */
static void put_count(struct store__resp *w, char tag, uint64_t v)
{
	char b[STORE__NUM_MAX + 3];
	size_t n;

	b[0] = tag;
	n = 1 + store__fmt_u64(b + 1, v);
	b[n++] = '\r';
	b[n++] = '\n';
	put(w, b, n);
}

void store__resp_array(struct store__resp *w, size_t argc)
{
	put_count(w, '*', argc);
}

void store__resp_arg(struct store__resp *w, const char *s, size_t n)
{
	char *p;

	/* In place when it fits (always, but for an overflow to report):
	 * one bounds check for the header, the bytes and the CRLFs. */
	if (w->len <= w->room && n <= w->room - w->len &&
	    w->room - w->len - n >= STORE__NUM_MAX + 5) {
		p = w->p + w->len;
		*p++ = '$';
		p += store__fmt_u64(p, n);
		*p++ = '\r';
		*p++ = '\n';
		if (n)
			memcpy(p, s, n);
		p += n;
		*p++ = '\r';
		*p++ = '\n';
		w->len = (size_t)(p - w->p);
		return;
	}
	put_count(w, '$', n);
	put(w, s, n);
	put(w, "\r\n", 2);
}

void store__resp_arg2(struct store__resp *w, const char *a, size_t an,
		      const char *b, size_t bn)
{
	put_count(w, '$', an + bn);
	put(w, a, an);
	put(w, b, bn);
	put(w, "\r\n", 2);
}

void store__resp_str(struct store__resp *w, struct str s)
{
	store__resp_arg(w, s.p, s.len);
}

void store__resp_cstr(struct store__resp *w, const char *s)
{
	store__resp_arg(w, s, strlen(s));
}

void store__resp_int(struct store__resp *w, int64_t v)
{
	char b[STORE__NUM_MAX];

	store__resp_arg(w, b, store__fmt_i64(b, v));
}

int store__resp_end(const struct store__resp *w)
{
	return w->len > w->room ? -ENOSPC : 0;
}
