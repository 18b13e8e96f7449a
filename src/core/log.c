/*
 * log.c - line logger with levels, UTC timestamps, per-site rate limits
 * and escaping of untrusted bytes.
 *
 * Each line is formatted on the stack and written with a single fwrite(),
 * so lines from several loop threads do not interleave (stdio locks the
 * stream per call).
 */
#include "core/log.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

static atomic_int cur_level = LOG_LVL_INFO;
static FILE *out_file; /* NULL: stderr */
static log_sink_fn *out_sink;
static void *out_sink_arg;
static log_clock_fn *clock_fn;

static const char *const level_names[] = {
	[LOG_LVL_ERR] = "ERR",
	[LOG_LVL_WARN] = "WARN",
	[LOG_LVL_INFO] = "INFO",
	[LOG_LVL_DEBUG] = "DEBUG",
};

static uint64_t real_clock(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_ms(clockid_t clk)
{
	return clock_fn ? clock_fn(clk) : real_clock(clk);
}

void log_set_level(enum log_level lvl)
{
	if (lvl > LOG_LVL_DEBUG)
		lvl = LOG_LVL_DEBUG;
	atomic_store_explicit(&cur_level, (int)lvl, memory_order_relaxed);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load_explicit(&cur_level,
						    memory_order_relaxed);
}

bool log_enabled(enum log_level lvl)
{
	return (int)lvl <=
	       atomic_load_explicit(&cur_level, memory_order_relaxed);
}

const char *log_level_name(enum log_level lvl)
{
	return lvl <= LOG_LVL_DEBUG ? level_names[lvl] : "?";
}

int log_level_parse(enum log_level *lvlp, struct str s)
{
	static const struct {
		const char *name;
		enum log_level lvl;
	} names[] = {
		{"err", LOG_LVL_ERR},   {"error", LOG_LVL_ERR},
		{"warn", LOG_LVL_WARN}, {"warning", LOG_LVL_WARN},
		{"info", LOG_LVL_INFO}, {"debug", LOG_LVL_DEBUG},
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (str_caseeq_cstr(s, names[i].name)) {
			*lvlp = names[i].lvl;
			return 0;
		}
	}
	return -EINVAL;
}

void log_set_file(FILE *f)
{
	out_file = f;
	out_sink = NULL;
	out_sink_arg = NULL;
}

void log_set_sink(log_sink_fn *fn, void *arg)
{
	out_sink = fn;
	out_sink_arg = fn ? arg : NULL;
}

void log_set_clock(log_clock_fn *fn)
{
	clock_fn = fn;
}

/* "YYYY-MM-DDThh:mm:ss.mmmZ LEVEL " into buf; returns its length. */
static size_t put_prefix(char *buf, size_t sz, enum log_level lvl)
{
	uint64_t ms = now_ms(CLOCK_REALTIME);
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	int n;

	if (!gmtime_r(&secs, &tm))
		memset(&tm, 0, sizeof(tm));
	n = snprintf(buf, sz, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ %s ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000),
		     log_level_name(lvl));
	if (n < 0)
		return 0;
	return (size_t)n < sz ? (size_t)n : sz - 1;
}

void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	/* One spare byte for the newline written to files. */
	char line[LOG_LINE_MAX + 1];
	size_t len, i;
	int n;

	if (!log_enabled(lvl))
		return;
	len = put_prefix(line, LOG_LINE_MAX, lvl);
	n = vsnprintf(line + len, LOG_LINE_MAX - len, fmt, ap);
	if (n < 0)
		n = 0;
	for (i = len; i < len + (size_t)n && i < LOG_LINE_MAX - 1; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < 0x20 || c == 0x7f)
			line[i] = '?';
	}
	if ((size_t)n >= LOG_LINE_MAX - len) {
		len = LOG_LINE_MAX - 1;
		memcpy(line + len - 3, "...", 3);
	} else {
		len += (size_t)n;
	}
	line[len] = '\0';
	if (out_sink) {
		out_sink(lvl, line, len, out_sink_arg);
		return;
	}
	line[len] = '\n';
	fwrite(line, 1, len + 1, out_file ? out_file : stderr);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

void log_rl_msg(struct log_rl *rl, const char *file, int line,
		enum log_level lvl, const char *fmt, ...)
{
	uint64_t now;
	va_list ap;

	if (!log_enabled(lvl))
		return;
	now = now_ms(CLOCK_MONOTONIC);
	if (rl->count == 0 || now - rl->start_ms >= LOG_RL_WINDOW_MS) {
		if (rl->suppressed)
			log_msg(lvl, "%s:%d: %lu similar messages suppressed",
				file, line, rl->suppressed);
		rl->start_ms = now;
		rl->count = 0;
		rl->suppressed = 0;
	}
	if (rl->count >= LOG_RL_BURST) {
		rl->suppressed++;
		return;
	}
	rl->count++;
	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

/* Escaped form of byte c into out (room for 4); returns its length. */
static size_t escape(unsigned char c, char *out)
{
	static const char hex[] = "0123456789abcdef";

	if (c == '\\') {
		out[0] = out[1] = '\\';
		return 2;
	}
	if (c >= 0x20 && c < 0x7f) {
		out[0] = (char)c;
		return 1;
	}
	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[c >> 4];
	out[3] = hex[c & 15];
	return 4;
}

const char *log_safe(char *dst, size_t dstsz, struct str s)
{
	size_t i, o = 0, k, total = 0, room;
	char tmp[4];

	if (!dst || dstsz == 0)
		return "";
	for (i = 0; i < s.len; i++)
		total += escape((unsigned char)s.p[i], tmp);
	/* Room for the text; when it cannot all fit, keep 3 for "...". */
	room = dstsz - 1;
	if (total > room)
		room = room >= 3 ? room - 3 : 0;
	for (i = 0; i < s.len; i++) {
		k = escape((unsigned char)s.p[i], tmp);
		if (o + k > room)
			break;
		memcpy(dst + o, tmp, k);
		o += k;
	}
	if (i < s.len) {
		k = dstsz - 1 - o < 3 ? dstsz - 1 - o : 3;
		memcpy(dst + o, "...", k);
		o += k;
	}
	dst[o] = '\0';
	return dst;
}
