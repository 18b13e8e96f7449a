/*
 * cdr.c - call records: one JSON line per call, written when its dialog
 * ends (the proxy calls cdr_write() from the dialog table's on_end for
 * records with d->record set).  Every string in a record comes from the
 * network and goes through json_str().  Lines are written with one
 * write(2) on an O_APPEND descriptor, so concurrent writers (threads,
 * log rotation by rename) never interleave or split a line.
 */
#include "events/events.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "sip/dialog.h"

enum {
	CDR_LINE_MAX = 16384, /* strings are capped by SIP_DLG_MAX_STRINGS */
};

/* Zone names for records (borrowed from the configuration). */
struct cdr_zones {
	const char *const *name;
	unsigned n;
};

struct cdr_writer {
	int fd;
	bool own_fd;
	struct cdr_zones zones;
	struct buf line;
	uint64_t written, failed;
};

static int put_party(struct buf *b, const struct sip_dlg *d,
		     enum sip_dlg_side s, const struct cdr_zones *z)
{
	const struct sip_dlg_party *p = &d->side[s];
	char addr[SG_ADDR_STRLEN];
	int err;

	err = buf_append_cstr(b, "{\"uri\":");
	if (!err)
		err = json_str(b, sip_dlg_side_str(d, s, 0));
	if (!err)
		err = buf_append_cstr(b, ",\"tag\":");
	if (!err)
		err = json_str(b, sip_dlg_side_str(d, s, 1));
	if (err)
		return err;
	if (!p->has_peer)
		return buf_append_cstr(
			b, ",\"addr\":null,\"zone\":null,\"transport\":null}");
	sg_addr_fmt(&p->peer.addr, addr, sizeof(addr));
	if (z && z->name && p->peer.zone < z->n) {
		/* Zone names come from the configuration, which only allows
		 * printable names: still, encode them as JSON strings. */
		err = buf_printf(b, ",\"addr\":\"%s\",\"zone\":", addr);
		if (!err)
			err = json_str(b, str_cstr(z->name[p->peer.zone]));
		if (!err)
			err = buf_printf(b, ",\"transport\":\"%s\"}",
					 sip_tp_name(p->peer.tp));
		return err;
	}
	return buf_printf(
		b, ",\"addr\":\"%s\",\"zone\":%u,\"transport\":\"%s\"}", addr,
		(unsigned)p->peer.zone, sip_tp_name(p->peer.tp));
}

static int put_time(struct buf *b, const char *name, bool known, uint64_t wall)
{
	char tbuf[JSON_TIME_SIZE];

	if (!known)
		return buf_printf(b, ",\"%s\":null", name);
	return buf_printf(b, ",\"%s\":\"%s\"", name,
			  json_time(tbuf, sizeof(tbuf), wall));
}

static int put_status(struct buf *b, const char *name, unsigned st)
{
	if (!st)
		return buf_printf(b, ",\"%s\":null", name);
	return buf_printf(b, ",\"%s\":%u", name, st);
}

static int put_times(struct buf *b, const struct sip_dlg *d)
{
	bool ended = d->state == SIP_DLG_TERMINATED;
	enum sip_dlg_state reached = ended ? d->reached : d->state;
	bool answered = reached >= SIP_DLG_CONFIRMED;
	/* Wall times follow the monotonic clock from the start: durations
	 * stay right across wall clock steps. */
	uint64_t answer = d->start_wall + (d->answer_mono - d->start_mono);
	uint64_t end = d->start_wall + (d->end_mono - d->start_mono);
	int err;

	err = put_time(b, "start", true, d->start_wall);
	if (!err)
		err = put_time(b, "answer", answered, answer);
	if (!err)
		err = put_time(b, "end", ended, end);
	if (err)
		return err;
	if (!ended)
		err = buf_append_cstr(b, ",\"duration_ms\":null");
	else
		err = buf_printf(b, ",\"duration_ms\":%llu",
				 answered ? (unsigned long long)(end - answer)
					  : 0ULL);
	if (!err && answered)
		err = buf_printf(b, ",\"setup_ms\":%llu",
				 (unsigned long long)(answer - d->start_wall));
	else if (!err)
		err = buf_append_cstr(b, ",\"setup_ms\":null");
	if (!err)
		err = buf_printf(b, ",\"state\":\"%s\"",
				 sip_dlg_state_name(reached));
	return err;
}

static int put_record(struct buf *b, const struct sip_dlg *d,
		      const struct cdr_zones *z)
{
	int err;

	err = buf_append_cstr(b, "{\"call_id\":");
	if (!err)
		err = json_str(b, sip_dlg_str(d, SIP_DLG_S_CALL_ID));
	if (!err)
		err = buf_printf(b, ",\"kind\":\"%s\",\"caller\":",
				 sip_dlg_kind_name(d->kind));
	if (!err)
		err = put_party(b, d, SIP_DLG_CALLER, z);
	if (!err)
		err = buf_append_cstr(b, ",\"callee\":");
	if (!err)
		err = put_party(b, d, SIP_DLG_CALLEE, z);
	if (!err)
		err = put_times(b, d);
	if (err)
		return err;
	if (d->state != SIP_DLG_TERMINATED)
		err = buf_append_cstr(b, ",\"end_reason\":null");
	else if (d->reason == SIP_DLG_END_REJECTED && d->final_status)
		err = buf_printf(b, ",\"end_reason\":\"rejected:%u\"",
				 (unsigned)d->final_status);
	else
		err = buf_printf(b, ",\"end_reason\":\"%s\"",
				 sip_dlg_reason_name(d->reason));
	if (!err)
		err = put_status(b, "final_status", d->final_status);
	if (!err)
		err = put_status(b, "last_status", d->last_status);
	if (!err)
		err = buf_append_cstr(b, "}\n");
	return err;
}

static int format_z(struct buf *out, const struct sip_dlg *d,
		    const struct cdr_zones *z)
{
	size_t len0;
	int err;

	if (!out || !d)
		return -EINVAL;
	len0 = out->len;
	err = put_record(out, d, z);
	if (err)
		out->len = len0;
	return err;
}

int cdr_format(struct buf *out, const struct sip_dlg *d)
{
	return format_z(out, d, NULL);
}

void cdr_set_zone_names(struct cdr_writer *w, const char *const *names,
			unsigned n)
{
	if (!w)
		return;
	w->zones.name = names;
	w->zones.n = names ? n : 0;
}

int cdr_open(struct cdr_writer **wp, const char *path)
{
	struct cdr_writer *w;

	if (!wp || !path || !*path)
		return -EINVAL;
	w = mem_zalloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	if (strcmp(path, "-") == 0) {
		w->fd = STDERR_FILENO;
	} else {
		w->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			     0640);
		if (w->fd < 0) {
			int err = -errno;

			mem_free(w);
			return err;
		}
		w->own_fd = true;
	}
	buf_init(&w->line, CDR_LINE_MAX);
	*wp = w;
	return 0;
}

int cdr_write(struct cdr_writer *w, const struct sip_dlg *d)
{
	return cdr_write_extra(w, d, STR_NULL);
}

int cdr_write_extra(struct cdr_writer *w, const struct sip_dlg *d,
		    struct str extra)
{
	ssize_t n;
	int err;

	if (!w || !d)
		return -EINVAL;
	buf_reset(&w->line);
	err = format_z(&w->line, d, &w->zones);
	if (!err && extra.len && w->line.len >= 2) {
		/* Before the closing "}\n": more members of the object. */
		w->line.len -= 2;
		err = buf_append_str(&w->line, extra);
		if (!err)
			err = buf_append_cstr(&w->line, "}\n");
	}
	if (!err) {
		do
			n = write(w->fd, w->line.p, w->line.len);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			err = -errno;
		else if ((size_t)n != w->line.len)
			err = -EIO;
	}
	if (err)
		w->failed++;
	else
		w->written++;
	return err;
}

uint64_t cdr_written(const struct cdr_writer *w)
{
	return w ? w->written : 0;
}

uint64_t cdr_failed(const struct cdr_writer *w)
{
	return w ? w->failed : 0;
}

void cdr_close(struct cdr_writer *w)
{
	if (!w)
		return;
	if (w->own_fd)
		close(w->fd);
	buf_free(&w->line);
	mem_free(w);
}
