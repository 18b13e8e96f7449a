/*
 * gate_flood.c - the UDP flooder of `make bench-gate` (bench/README-gate.md).
 *
 * Sends a valid-looking SIP INVITE (RFC 3261 section 7 framing, every
 * mandatory header of section 8.1.1) again and again from one source
 * address to one destination, with sendmmsg(2) in batches, until a
 * packet count or a time limit is reached, whichever comes first.  Each
 * datagram carries its own branch and Call-ID (a hex counter rewritten in
 * place), so a receiver that gets past the gate sees new transactions,
 * not retransmissions.  Optionally paced to a rate.
 *
 * With --gso N (the default, 32; 0 turns it off) each message handed to
 * sendmmsg carries N datagrams at once through UDP generic segmentation
 * offload (UDP_SEGMENT, Linux 4.18): the kernel builds one large packet
 * and cuts it into N datagrams on delivery, so one core sends several
 * times more datagrams per second than with one message per datagram.
 * The receiver sees ordinary datagrams, each with its own counter.  If
 * the kernel refuses UDP_SEGMENT the flooder falls back to plain
 * sendmmsg and says so ("gso":0 in its JSON line).
 *
 *   gate_flood --src 127.0.0.66 --dst 127.0.0.1 --port 5060
 *              [--seconds 10] [--count 50000000] [--rate PPS]
 *              [--batch 64] [--gso 32] [--ua TEXT]
 *
 * Prints one JSON line on stdout: sent, errors, seconds, pps.  Stops
 * early, and still prints, on SIGTERM or SIGINT.  Loopback only is the
 * caller's business: the bench passes 127.0.0.x addresses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
	FLOOD_BATCH_MAX = 256,     /* datagrams per sendmmsg call */
	FLOOD_DGRAM_MAX = 1400,    /* the INVITE fits one MTU */
	FLOOD_SECONDS_MAX = 600,   /* hard bound on the run time */
	FLOOD_COUNTER_DIGITS = 12, /* hex digits of the per-packet id */
	FLOOD_SNDBUF = 4 << 20,    /* socket send buffer asked for */
	FLOOD_GSO_MAX = 64,        /* the kernel's UDP_MAX_SEGMENTS */
};

/* The template datagram: two places where the counter goes. */
struct pkt {
	char buf[FLOOD_DGRAM_MAX];
	size_t len;
	size_t off_branch, off_callid;
};

/* batch copies of the template, back to back (GSO sends them as one). */
static char wire[FLOOD_BATCH_MAX * FLOOD_DGRAM_MAX];

struct opts {
	const char *src, *dst, *ua;
	unsigned port;
	double seconds;
	uint64_t count;
	uint64_t rate; /* 0: as fast as possible */
	unsigned batch;
	unsigned gso; /* datagrams per message; 0 or 1: no GSO */
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put_counter(char *p, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = FLOOD_COUNTER_DIGITS - 1; i >= 0; i--) {
		p[i] = hex[v & 15];
		v >>= 4;
	}
}

/* Build the INVITE once; remember where the two counters go. */
static int build_pkt(struct pkt *k, const struct opts *o)
{
	static const char body[] = "v=0\r\n"
				   "o=- 1 1 IN IP4 %s\r\n"
				   "s=-\r\n"
				   "c=IN IP4 %s\r\n"
				   "t=0 0\r\n"
				   "m=audio 40000 RTP/AVP 0\r\n"
				   "a=rtpmap:0 PCMU/8000\r\n";
	char sdp[512], zeros[FLOOD_COUNTER_DIGITS + 1];
	const char *b, *c;
	int n, m;

	memset(zeros, '0', FLOOD_COUNTER_DIGITS);
	zeros[FLOOD_COUNTER_DIGITS] = 0;
	m = snprintf(sdp, sizeof(sdp), body, o->src, o->src);
	if (m < 0 || (size_t)m >= sizeof(sdp))
		return -1;
	n = snprintf(k->buf, sizeof(k->buf),
		     "INVITE sip:100@%s:%u SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK%s;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: \"flood\" <sip:flood@%s>;tag=f1\r\n"
		     "To: <sip:100@%s>\r\n"
		     "Call-ID: %s@%s\r\n"
		     "CSeq: 1 INVITE\r\n"
		     "Contact: <sip:flood@%s:5060>\r\n"
		     "User-Agent: %s\r\n"
		     "Content-Type: application/sdp\r\n"
		     "Content-Length: %d\r\n"
		     "\r\n%s",
		     o->dst, o->port, o->src, zeros, o->src, o->dst, zeros,
		     o->src, o->src, o->ua, m, sdp);
	if (n < 0 || (size_t)n >= sizeof(k->buf))
		return -1;
	k->len = (size_t)n;
	b = strstr(k->buf, "branch=z9hG4bK");
	c = strstr(k->buf, "Call-ID: ");
	if (!b || !c)
		return -1;
	k->off_branch = (size_t)(b - k->buf) + strlen("branch=z9hG4bK");
	k->off_callid = (size_t)(c - k->buf) + strlen("Call-ID: ");
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: gate_flood --src IP --dst IP --port N [--seconds S] "
		"[--count N] [--rate PPS] [--batch N] [--ua TEXT]\n");
	exit(2);
}

static void parse_opts(struct opts *o, int argc, char **argv)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->seconds = 10;
	o->count = 50000000;
	o->batch = 64;
	o->gso = 32;
	o->ua = "flood/1.0";
	for (i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (!strcmp(k, "--src"))
			o->src = v;
		else if (!strcmp(k, "--dst"))
			o->dst = v;
		else if (!strcmp(k, "--ua"))
			o->ua = v;
		else if (!strcmp(k, "--port"))
			o->port = (unsigned)strtoul(v, NULL, 10);
		else if (!strcmp(k, "--seconds"))
			o->seconds = strtod(v, NULL);
		else if (!strcmp(k, "--count"))
			o->count = strtoull(v, NULL, 10);
		else if (!strcmp(k, "--rate"))
			o->rate = strtoull(v, NULL, 10);
		else if (!strcmp(k, "--batch"))
			o->batch = (unsigned)strtoul(v, NULL, 10);
		else if (!strcmp(k, "--gso"))
			o->gso = (unsigned)strtoul(v, NULL, 10);
		else
			usage();
	}
	if (i != argc || !o->src || !o->dst || !o->port || o->port > 65535 ||
	    !(o->seconds > 0) || o->seconds > FLOOD_SECONDS_MAX || !o->batch ||
	    o->batch > FLOOD_BATCH_MAX || !o->count || o->gso > FLOOD_GSO_MAX)
		usage();
}

static int open_socket(const struct opts *o, struct sockaddr_in *to)
{
	struct sockaddr_in from;
	int fd, sz = FLOOD_SNDBUF;

	memset(&from, 0, sizeof(from));
	memset(to, 0, sizeof(*to));
	from.sin_family = to->sin_family = AF_INET;
	to->sin_port = htons((uint16_t)o->port);
	if (inet_pton(AF_INET, o->src, &from.sin_addr) != 1 ||
	    inet_pton(AF_INET, o->dst, &to->sin_addr) != 1) {
		fprintf(stderr, "gate_flood: bad IPv4 address\n");
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (bind(fd, (struct sockaddr *)&from, sizeof(from)) != 0 ||
	    connect(fd, (struct sockaddr *)to, sizeof(*to)) != 0) {
		perror("gate_flood: bind/connect");
		close(fd);
		return -1;
	}
	return fd;
}

/* Pace to o->rate: sleep until sent packets are due. */
static void pace(const struct opts *o, double t0, uint64_t sent)
{
	double due, dt;
	struct timespec ts;

	if (!o->rate)
		return;
	due = t0 + (double)sent / (double)o->rate;
	dt = due - now_s();
	if (dt <= 0)
		return;
	ts.tv_sec = (time_t)dt;
	ts.tv_nsec = (long)((dt - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

/* Turn GSO on for datagrams of len bytes; 0 when the kernel says no. */
static unsigned gso_on(int fd, unsigned gso, size_t len)
{
	int seg = (int)len;

	if (gso < 2 || gso * len > 65000)
		return 0;
	if (setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg)) != 0)
		return 0;
	return gso;
}

/* The messages for want datagrams: each takes up to gso of them. */
static unsigned fill_msgs(struct mmsghdr *mh, struct iovec *iov, unsigned want,
			  unsigned gso, size_t len)
{
	unsigned per = gso ? gso : 1, nmsg = 0, done;

	for (done = 0; done < want; done += per, nmsg++) {
		unsigned k = want - done < per ? want - done : per;

		iov[nmsg].iov_base = wire + (size_t)done * len;
		iov[nmsg].iov_len = (size_t)k * len;
		memset(&mh[nmsg], 0, sizeof(mh[nmsg]));
		mh[nmsg].msg_hdr.msg_iov = &iov[nmsg];
		mh[nmsg].msg_hdr.msg_iovlen = 1;
	}
	return nmsg;
}

/* Datagrams in the first n messages. */
static uint64_t dgrams_of(const struct iovec *iov, int n, size_t len)
{
	uint64_t d = 0;
	int i;

	for (i = 0; i < n; i++)
		d += iov[i].iov_len / len;
	return d;
}

int main(int argc, char **argv)
{
	static struct mmsghdr mh[FLOOD_BATCH_MAX];
	static struct iovec iov[FLOOD_BATCH_MAX];
	struct pkt pk;
	struct sockaddr_in to;
	struct opts o;
	uint64_t sent = 0, errors = 0, id = 0;
	double t0, t1;
	unsigned i, want, nmsg, gso;
	size_t len;
	int fd, n;

	parse_opts(&o, argc, argv);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (build_pkt(&pk, &o) != 0) {
		fprintf(stderr, "gate_flood: packet does not fit\n");
		return 1;
	}
	len = pk.len;
	for (i = 0; i < o.batch; i++)
		memcpy(wire + (size_t)i * len, pk.buf, len);
	fd = open_socket(&o, &to);
	if (fd < 0)
		return 1;
	gso = gso_on(fd, o.gso, len);
	t0 = now_s();
	t1 = t0;
	while (!stop_flag && sent < o.count) {
		want = o.batch;
		if (o.count - sent < want)
			want = (unsigned)(o.count - sent);
		for (i = 0; i < want; i++, id++) {
			char *p = wire + (size_t)i * len;

			put_counter(p + pk.off_branch, id);
			put_counter(p + pk.off_callid, id);
		}
		nmsg = fill_msgs(mh, iov, want, gso, len);
		n = sendmmsg(fd, mh, nmsg, 0);
		if (n < 0) {
			if (errno != EINTR)
				errors++;
			if (errno == ENOBUFS || errno == EAGAIN)
				sched_yield();
			else if (errno != EINTR && errors > 1000)
				break;
		} else {
			sent += dgrams_of(iov, n, len);
		}
		/* The clock once per batch: cheap enough at 64. */
		t1 = now_s();
		if (t1 - t0 >= o.seconds)
			break;
		pace(&o, t0, sent);
	}
	t1 = now_s();
	close(fd);
	printf("{\"sent\":%llu,\"errors\":%llu,\"seconds\":%.6f,"
	       "\"pps\":%.0f,\"bytes\":%zu,\"gso\":%u}\n",
	       (unsigned long long)sent, (unsigned long long)errors, t1 - t0,
	       t1 > t0 ? (double)sent / (t1 - t0) : 0.0, len, gso);
	return 0;
}
