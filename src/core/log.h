/*
 * log.h - leveled, line-oriented logging to stderr (or a FILE* / sink).
 *
 * One call writes one line: "2024-05-01T12:34:56.789Z WARN text".  The
 * time is UTC (ISO 8601).  C0 control characters and DEL in the formatted
 * text are replaced with '?', so a line can never be split or colour a
 * terminal; still pass every attacker-supplied value through log_safe(),
 * which keeps it readable and unambiguous.
 *
 * Anything an attacker can trigger must use LOG_RL() (STYLE.md 6): at
 * most LOG_RL_BURST lines per call site per LOG_RL_WINDOW_MS and thread,
 * then one "N similar messages suppressed" line once the window has
 * passed and the site logs again.
 *
 * Setters (level, output, clock) are meant for start-up and tests;
 * log_set_level() may also be called from a running daemon (reload).
 */
#ifndef SIPGUARD_CORE_LOG_H
#define SIPGUARD_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "core/str.h"

enum log_level {
	LOG_LVL_ERR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

enum {
	LOG_LINE_MAX = 1024, /* longer lines end in "..." */
	LOG_RL_BURST = 10,   /* lines per site per window */
	LOG_RL_WINDOW_MS = 1000,
};

/* Receives each finished line, without a newline, NUL-terminated. */
typedef void log_sink_fn(enum log_level lvl, const char *line, size_t len,
			 void *arg);
/* Milliseconds on clock clk (CLOCK_REALTIME or CLOCK_MONOTONIC). */
typedef uint64_t log_clock_fn(clockid_t clk);

/* Lines above lvl are dropped.  Default: LOG_LVL_INFO. */
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
bool log_enabled(enum log_level lvl);
/* "ERR", "WARN", "INFO", "DEBUG". */
const char *log_level_name(enum log_level lvl);
/* Parse err|error|warn|warning|info|debug (any case).  0 or -EINVAL. */
int log_level_parse(enum log_level *lvlp, struct str s);

/* Write lines to f (NULL: stderr); also removes any sink. */
void log_set_file(FILE *f);
/* Hand lines to fn instead of a file (NULL: back to the file). */
void log_set_sink(log_sink_fn *fn, void *arg);
/* Replace the clock, for tests (NULL: the real clocks). */
void log_set_clock(log_clock_fn *fn);

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* Per-call-site (and per-thread) state of LOG_RL(); zero is the start. */
struct log_rl {
	uint64_t start_ms;        /* window start, monotonic */
	unsigned count;           /* lines written in the window */
	unsigned long suppressed; /* lines dropped in the window */
};

void log_rl_msg(struct log_rl *rl, const char *file, int line,
		enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Rate-limited log_msg(): LOG_RL(LOG_LVL_WARN, "bad via from %s", ip). */
#define LOG_RL(lvl, ...)                                             \
	do {                                                         \
		static _Thread_local struct log_rl log_rl_site_;     \
		log_rl_msg(&log_rl_site_, __FILE__, __LINE__, (lvl), \
			   __VA_ARGS__);                             \
	} while (0)

/* dst size that holds any n-byte slice escaped in full. */
#define LOG_SAFE_SIZE(n) (4 * (n) + 1)

/*
 * Escape s into dst for printing: printable ASCII stays, '\' becomes
 * "\\", every other byte "\xHH".  Always NUL-terminates; when dst is
 * too small the output is cut at a whole escape and ends in "...".
 * Returns dst ("" when dstsz is 0), ready for "%s".
 */
const char *log_safe(char *dst, size_t dstsz, struct str s);

#endif
