/*
 * events.h - public interface of the events layer: JSON encoding of
 * attacker-controlled strings, and call records (one JSON line per call,
 * written when a dialog ends).
 *
 * The call record reads a struct sip_dlg (sip/dialog.h), so this layer
 * sits above sip as well as core.
 */
#ifndef SIPGUARD_EVENTS_H
#define SIPGUARD_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/str.h"

struct buf;
struct sip_dlg;

/* ------------------------------------------------------------------ JSON */

/*
 * Append s as a JSON string, quotes included.  Escapes '"', '\\', every
 * C0 control character and DEL; valid UTF-8 is copied as is; each byte
 * of an invalid, overlong, surrogate or out-of-range sequence becomes
 * \ufffd.  So any byte string gives valid JSON and valid UTF-8.
 * Returns 0 or a buf error (-ENOMEM, -ENOSPC; out unchanged then).
 */
int json_str(struct buf *out, struct str s);

/* Wall clock ms since the epoch as "2024-05-01T12:34:56.789Z" into buf
 * (at least JSON_TIME_SIZE bytes).  Returns buf. */
enum { JSON_TIME_SIZE = 32 };
const char *json_time(char *buf, size_t sz, uint64_t wall_ms);

/* ---------------------------------------------------------- call records */

/*
 * One call record, one line:
 * {"call_id":..,"kind":"INVITE","caller":{"uri","tag","addr","zone",
 *  "transport"},"callee":{..},"start":..,"answer":..|null,"end":..|null,
 *  "duration_ms":N|null,"setup_ms":N|null,"state":"confirmed",
 *  "end_reason":"rejected:486","final_status":N|null,"last_status":N|null}
 * Times are ISO 8601 UTC with ms.  "state" is the furthest state the
 * dialog reached; duration_ms counts from answer to end (0 when never
 * answered), setup_ms from start to answer.  Unknown values are null.
 * Appends the line with its '\n'.  Returns 0 or a buf error (out
 * unchanged then), -EINVAL on NULL.
 */
int cdr_format(struct buf *out, const struct sip_dlg *d);

/* Owner: the caller of cdr_open(); release with cdr_close(). */
struct cdr_writer;

/*
 * Open path for appending, line-buffered ("-": standard error).  The file
 * is created with mode 0640.  Returns 0, -EINVAL, -ENOMEM or -errno.
 */
int cdr_open(struct cdr_writer **wp, const char *path);
/*
 * Name zones in records written from now on: "zone":"<names[i]>" instead
 * of the zone index.  names (n entries) is borrowed and must outlive the
 * writer; NULL goes back to indexes.
 */
void cdr_set_zone_names(struct cdr_writer *w, const char *const *names,
			unsigned n);
/* Write d's record as one line (a single write).  0 or -errno. */
int cdr_write(struct cdr_writer *w, const struct sip_dlg *d);
/* Lines written and lines lost (format or write errors). */
uint64_t cdr_written(const struct cdr_writer *w);
uint64_t cdr_failed(const struct cdr_writer *w);
void cdr_close(struct cdr_writer *w);

#endif
