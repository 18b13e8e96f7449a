/*
 * relay_uring.c - the io_uring backend of a media relay thread (`media:
 * io: uring`, issue 6).  Same job as the epoll loop of relay.c, and the
 * same per-packet checks (media__relay_packet), with the kernel crossings
 * cut down for thousands of quiet sockets:
 *
 *  - every relay socket has one multishot recvmsg armed, drawing its
 *    buffers from a ring of provided buffers of this thread; a packet
 *    costs no syscall to receive;
 *  - an accepted packet goes out as a send SQE (IORING_OP_SEND with a
 *    destination address) straight from the buffer it arrived in; the
 *    buffer returns to the ring when the send completes;
 *  - one io_uring_enter per loop turn submits the sends and waits for the
 *    next completions (the commands' eventfd is a multishot poll); when
 *    busy, a turn waits for a batch (U_WAIT_NR or U_WAIT_NS).
 *
 * Descriptors: a socket handed to this thread is moved into the ring's
 * fixed file table ("direct descriptor") and its process descriptor is
 * closed, so the relay's sockets do not count against RLIMIT_NOFILE of
 * the process (each ring's table may hold up to RLIMIT_NOFILE entries on
 * its own).  The signalling thread still creates and binds each socket
 * (the port allocator and its bind checks stay as they are); the process
 * table only holds a stream's sockets between its bind and its ADD.
 * With the table full, a socket stays an ordinary descriptor.
 *
 * s->fd[l][k] of a stream this thread holds is then U_FIXED | slot.
 * Closing (DEL) cancels the stream's receives and answers DONE only
 * after their last completion, so no completion names a freed stream.
 */
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "media/media_int.h"

enum {
	U_SQ = 4096,     /* SQ entries: sends queued per turn */
	U_CQ = 4 * U_SQ, /* CQ entries */
	U_NBUF = 4096,   /* provided buffers (power of two) */
	U_BGID = 7,      /* their group */
	U_NAME = sizeof(struct sockaddr_in6),
	U_BUFSZ = sizeof(struct io_uring_recvmsg_out) + U_NAME + MEDIA_PKT_MAX,
	U_SLOTS_MAX = 1 << 20, /* the kernel's cap on a fixed table */
	U_FIXED = 0x40000000,  /* s->fd value: slot of the fixed table */
	U_BATCH = 256,         /* completions per peek */
	/* Busy: wake after U_WAIT_NS, or once U_WAIT_NR completions are
	 * in (a packet makes two: its receive and its send), so that a
	 * wake-up serves a batch: media gets at most 1 ms later per hop
	 * (jitter buffers hold tens of ms).  Measured against 32
	 * completions: 1.27-1.39x less CPU per packet at 75k pkt/s per
	 * relay (bench/README-media.md).  Idle: one event or 200 ms. */
	U_WAIT_NR = 256,
	U_WAIT_NS = 1000000,
	U_IDLE_NS = 200000000,
	/* DTLS flights sent through the ring (a leg's RTP socket may be a
	 * direct descriptor sendto() cannot use): one flight is <= 8
	 * datagrams; with every slot busy a datagram is lost and OpenSSL
	 * retransmits it. */
	U_DTLS_N = 32,
	U_DTLS_MTU = 1200, /* DTLS_MTU */
};

/* What a completion is: the low bits of user_data (media_sock is
 * pointer-aligned, so a socket's address has them clear). */
enum { UD_RECV = 0, UD_SEND = 1, UD_CMD = 2, UD_CANCEL = 3, UD_MASK = 3 };

/* A send's destination: the kernel reads it when the SQE is
 * submitted; one per buffer, as the buffer is busy until then. */
struct u_send {
	struct sockaddr_in6 to; /* or a sockaddr_in */
};

struct media_uring {
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	uint8_t *bufs;       /* U_NBUF * U_BUFSZ */
	struct u_send *snd;  /* per buffer id */
	struct msghdr rmh;   /* receive layout: name length only */
	uint32_t *free_slot; /* stack of free fixed-table slots */
	uint32_t nfree, nslots;
	unsigned nret; /* buffers given back, not yet published */
	bool disabled; /* created R_DISABLED: the thread enables */
	bool run;
	struct media_stream *closing; /* receives being cancelled */
	/* DTLS datagrams in flight: send id U_NBUF + i, bit i of dbusy. */
	uint8_t dbuf[U_DTLS_N][U_DTLS_MTU];
	struct u_send dto[U_DTLS_N];
	uint32_t dbusy;
	/* Why packets may not make it (logged when the relay stops): a
	 * receive ended for want of a buffer, or failed; a send failed. */
	uint64_t n_nobufs, n_recv_err, n_send_err, n_send_again;
};

int media__uring_fail;

/* ------------------------------------------------------------ setup */

static int setup_ring(struct media_uring *u)
{
	struct io_uring_params p;
	int err;

	/* One issuer (this relay thread), completions run when it asks
	 * for them (DEFER_TASKRUN); the thread enables the ring so that
	 * it is the issuer.  Older kernels: plain flags. */
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL |
		  IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
		  IORING_SETUP_R_DISABLED;
	p.cq_entries = U_CQ;
	err = io_uring_queue_init_params(U_SQ, &u->ring, &p);
	if (err == -EINVAL) {
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
		p.cq_entries = U_CQ;
		err = io_uring_queue_init_params(U_SQ, &u->ring, &p);
	} else if (!err) {
		u->disabled = true;
	}
	if (err)
		return err;
	if (!(p.features & IORING_FEAT_EXT_ARG))
		return -EOPNOTSUPP; /* one enter for submit and timed wait */
	return 0;
}

static int setup_bufs(struct media_uring *u)
{
	struct io_uring_buf_reg reg;
	void *mem = NULL;
	unsigned i;
	int err;

	if (posix_memalign(&mem, 4096, U_NBUF * sizeof(struct io_uring_buf)))
		return -ENOMEM;
	u->br = mem;
	u->bufs = mem_alloc((size_t)U_NBUF * U_BUFSZ);
	u->snd = mem_zalloc(U_NBUF * sizeof(*u->snd));
	if (!u->bufs || !u->snd)
		return -ENOMEM;
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uintptr_t)u->br;
	reg.ring_entries = U_NBUF;
	reg.bgid = U_BGID;
	err = io_uring_register_buf_ring(&u->ring, &reg, 0);
	if (err)
		return err;
	io_uring_buf_ring_init(u->br);
	for (i = 0; i < U_NBUF; i++) {
		io_uring_buf_ring_add(u->br, u->bufs + (size_t)i * U_BUFSZ,
				      U_BUFSZ, (unsigned short)i,
				      io_uring_buf_ring_mask(U_NBUF), (int)i);
	}
	io_uring_buf_ring_advance(u->br, U_NBUF);
	u->rmh.msg_namelen = U_NAME;
	return 0;
}

/* The fixed file table: as large as the descriptor limit allows (the
 * kernel checks each ring's table against RLIMIT_NOFILE separately). */
static int setup_slots(struct media_uring *u)
{
	struct rlimit rl;
	uint32_t n, i;
	int err;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -errno;
	n = rl.rlim_cur > U_SLOTS_MAX ? U_SLOTS_MAX : (uint32_t)rl.rlim_cur;
	err = io_uring_register_files_sparse(&u->ring, n);
	if (err)
		return err;
	u->free_slot = mem_alloc(n * sizeof(*u->free_slot));
	if (!u->free_slot)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		u->free_slot[i] = n - 1 - i;
	u->nslots = u->nfree = n;
	return 0;
}

static void u_free(struct media_uring *u)
{
	if (u->ring.ring_fd >= 0)
		io_uring_queue_exit(&u->ring); /* closes the fixed files */
	free(u->br);
	mem_free(u->bufs);
	mem_free(u->snd);
	mem_free(u->free_slot);
	mem_free(u);
}

int media__uring_init(struct media_relay *r)
{
	struct media_uring *u;
	int err;

	if (media__uring_fail)
		return media__uring_fail;
	u = mem_zalloc(sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->ring.ring_fd = -1;
	err = setup_ring(u);
	if (!err)
		err = setup_bufs(u);
	if (!err)
		err = setup_slots(u);
	if (err) {
		u_free(u);
		return err;
	}
	r->u = u;
	log_info("media relay %u: io_uring, %u direct descriptors", r->idx,
		 u->nslots);
	return 0;
}

void media__uring_fini(struct media_relay *r)
{
	struct media_uring *u = r->u;

	if (u && (u->n_nobufs || u->n_recv_err || u->n_send_err))
		log_info("media relay %u: receives out of buffers %llu, "
			 "failed %llu; sends failed %llu (EAGAIN %llu)",
			 r->idx, (unsigned long long)u->n_nobufs,
			 (unsigned long long)u->n_recv_err,
			 (unsigned long long)u->n_send_err,
			 (unsigned long long)u->n_send_again);
	if (u)
		u_free(u);
	r->u = NULL;
}

uint64_t media__uring_slots(const struct media_relay *r)
{
	return r->u ? r->u->nslots : 0;
}

/* ------------------------------------------------------------- SQEs */

static struct io_uring_sqe *sqe_get(struct media_uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe) {
		/* SQ full in the middle of a turn: push what is queued. */
		(void)io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

static void fd_sqe(struct io_uring_sqe *sqe, int fd)
{
	if (fd & U_FIXED) {
		sqe->fd = fd & ~U_FIXED;
		sqe->flags |= IOSQE_FIXED_FILE;
	}
}

static void arm(struct media_uring *u, struct media_sock *sk)
{
	struct media_stream *s = sk->s;
	int fd = s->fd[sk->leg][sk->comp];
	struct io_uring_sqe *sqe;

	if (fd < 0 || s->u_closing || !(sqe = sqe_get(u)))
		return;
	io_uring_prep_recvmsg_multishot(sqe, fd, &u->rmh, 0);
	fd_sqe(sqe, fd);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = U_BGID;
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)sk | UD_RECV);
	s->u_armed |= (uint8_t)(1u << (sk->leg * 2 + sk->comp));
}

static void buf_put(struct media_uring *u, unsigned bid)
{
	io_uring_buf_ring_add(u->br, u->bufs + (size_t)bid * U_BUFSZ, U_BUFSZ,
			      (unsigned short)bid,
			      io_uring_buf_ring_mask(U_NBUF), (int)u->nret);
	u->nret++;
}

static void send_pkt(struct media_uring *u, unsigned bid, int fd, void *p,
		     size_t n, const struct media_ep *dst)
{
	struct u_send *x = &u->snd[bid];
	struct io_uring_sqe *sqe = sqe_get(u);

	if (!sqe) {
		buf_put(u, bid); /* cannot happen after a submit; drop */
		return;
	}
	/* IORING_OP_SEND with a destination (kernel 6.0): no msghdr and
	 * iovec to copy in per packet, unlike sendmsg. */
	io_uring_prep_send(sqe, fd, p, n, MSG_DONTWAIT);
	io_uring_prep_send_set_addr(sqe, (const struct sockaddr *)&x->to,
				    (uint16_t)media__relay_dst(&x->to, dst));
	fd_sqe(sqe, fd);
	io_uring_sqe_set_data64(sqe, (uint64_t)bid << 2 | UD_SEND);
}

/*
 * A DTLS datagram of dtls_leg.c on a direct descriptor (a leg that
 * became DTLS in an UPDATE, after its socket moved into the fixed
 * table): copied into a slot of ours and sent as an SQE, submitted with
 * the turn.  0, or -EAGAIN (every slot busy: lost, retransmitted) or
 * -EMSGSIZE.
 */
int media__uring_send(struct media_relay *r, int fd, const void *p, size_t n,
		      const struct media_ep *dst)
{
	struct media_uring *u = r->u;
	struct io_uring_sqe *sqe;
	unsigned i;

	if (n > U_DTLS_MTU)
		return -EMSGSIZE;
	if (!(fd & U_FIXED)) {
		/* Still a process descriptor (stream_add: the client's
		 * first flight leaves before install() closes it): an SQE
		 * submitted later would name a closed descriptor. */
		struct sg_addr a;

		media__ep_to_addr(&a, dst);
		return sendto(fd, p, n, MSG_DONTWAIT, &a.u.sa, a.len) < 0
			       ? -errno
			       : 0;
	}
	if (u->dbusy == UINT32_MAX)
		return -EAGAIN;
	i = (unsigned)__builtin_ctz(~u->dbusy);
	if (!(sqe = sqe_get(u)))
		return -EAGAIN;
	memcpy(u->dbuf[i], p, n);
	io_uring_prep_send(sqe, fd, u->dbuf[i], n, MSG_DONTWAIT);
	io_uring_prep_send_set_addr(
		sqe, (const struct sockaddr *)&u->dto[i].to,
		(uint16_t)media__relay_dst(&u->dto[i].to, dst));
	fd_sqe(sqe, fd);
	io_uring_sqe_set_data64(sqe, (uint64_t)(U_NBUF + i) << 2 | UD_SEND);
	u->dbusy |= 1u << i;
	return 0;
}

/* ---------------------------------------------------------- streams */

/* Move a socket into the fixed table; with the table full (or the
 * update refused) it stays an ordinary descriptor. */
static void install(struct media_uring *u, int *fdp)
{
	uint32_t slot;
	int fd = *fdp;

	if (fd < 0 || (fd & U_FIXED) || !u->nfree)
		return;
	slot = u->free_slot[u->nfree - 1];
	if (io_uring_register_files_update(&u->ring, slot, &fd, 1) != 1)
		return;
	u->nfree--;
	close(fd);
	*fdp = (int)(U_FIXED | slot);
}

static void uninstall(struct media_uring *u, int *fdp)
{
	int fd = *fdp, none = -1;

	if (fd < 0)
		return;
	if (fd & U_FIXED) {
		/* Replacing the entry closes the socket. */
		(void)io_uring_register_files_update(
			&u->ring, (unsigned)(fd & ~U_FIXED), &none, 1);
		u->free_slot[u->nfree++] = (uint32_t)(fd & ~U_FIXED);
	} else {
		close(fd);
	}
	*fdp = -1;
}

static void stream_add(struct media_relay *r, struct media_stream *s,
		       const struct media_params *prm)
{
	struct media_uring *u = r->u;
	unsigned l, k;

	memset(s->rt, 0, sizeof(s->rt));
	memset(&s->prm, 0, sizeof(s->prm));
	media__relay_apply(s, prm);
	s->relay = r;
	s->u_armed = 0;
	s->u_closing = false;
	for (l = 0; l < 2; l++)
		for (k = 0; k < 2; k++) {
			s->sock[l][k].s = s;
			s->sock[l][k].leg = (uint8_t)l;
			s->sock[l][k].comp = (uint8_t)k;
			/* A DTLS leg's flights go through the ring too
			 * (media__uring_send). */
			install(u, &s->fd[l][k]);
			arm(u, &s->sock[l][k]);
		}
	media__relay_link(r, s);
}

/* The last receive of s ended: close its sockets, DONE this turn. */
static void stream_done(struct media_relay *r, struct media_stream *s)
{
	struct media_uring *u = r->u;
	unsigned l, k;

	if (s->rprev)
		s->rprev->rnext = s->rnext;
	else if (u->closing == s)
		u->closing = s->rnext;
	if (s->rnext)
		s->rnext->rprev = s->rprev;
	s->rnext = s->rprev = NULL;
	for (l = 0; l < 2; l++)
		for (k = 0; k < 2; k++)
			uninstall(u, &s->fd[l][k]);
	/* Not on r->streams any more: media__relay_dead only queues. */
	media__relay_dead(r, s);
}

static void stream_del(struct media_relay *r, struct media_stream *s)
{
	struct media_uring *u = r->u;
	unsigned l, k;

	media__kf_drop(r, s); /* before the sockets close */
	/* Off the relay's list, onto ours until the receives end. */
	if (s->rprev)
		s->rprev->rnext = s->rnext;
	else if (r->streams == s)
		r->streams = s->rnext;
	if (s->rnext)
		s->rnext->rprev = s->rprev;
	s->u_closing = true;
	s->rprev = NULL;
	s->rnext = u->closing;
	if (s->rnext)
		s->rnext->rprev = s;
	u->closing = s;
	for (l = 0; l < 2; l++)
		for (k = 0; k < 2; k++) {
			struct io_uring_sqe *sqe;

			if (!(s->u_armed & (1u << (l * 2 + k))) ||
			    !(sqe = sqe_get(u)))
				continue;
			io_uring_prep_cancel64(
				sqe, (uint64_t)(uintptr_t)&s->sock[l][k], 0);
			io_uring_sqe_set_data64(sqe, UD_CANCEL);
		}
	if (!s->u_armed)
		stream_done(r, s);
}

static void drain_cmds(struct media_relay *r)
{
	struct media_uring *u = r->u;
	struct media_cmd c;
	uint64_t v;

	if (read(r->evin, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	/* Sends queued this turn name slots: out before a slot changes. */
	(void)io_uring_submit(&u->ring);
	while (media__ring_pop(&r->in, &c)) {
		switch (c.type) {
		case MEDIA_CMD_ADD:
			stream_add(r, c.s, &c.prm);
			break;
		case MEDIA_CMD_UPDATE:
			media__kf_drop(r, c.s);
			media__relay_apply(c.s, &c.prm);
			break;
		case MEDIA_CMD_DEL:
			stream_del(r, c.s);
			break;
		case MEDIA_CMD_STOP:
			u->run = false;
			return;
		}
	}
}

/* ------------------------------------------------------ the thread */

static void arm_cmd(struct media_relay *r)
{
	struct io_uring_sqe *sqe = sqe_get(r->u);

	if (sqe) {
		io_uring_prep_poll_multishot(sqe, r->evin, POLLIN);
		io_uring_sqe_set_data64(sqe, UD_CMD);
	}
}

static void on_recv(struct media_relay *r, struct media_sock *sk,
		    const struct io_uring_cqe *cqe)
{
	struct media_uring *u = r->u;
	struct media_stream *s = sk->s;
	struct io_uring_recvmsg_out *o;
	struct media_ep src, dst;
	unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
	bool has_buf = cqe->flags & IORING_CQE_F_BUFFER, fwd;
	uint8_t *buf = u->bufs + (size_t)bid * U_BUFSZ, *p;
	size_t n;
	int ofd = -1;

	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		/* Ended: cancelled (DEL), out of buffers, or an error. */
		s->u_armed &= (uint8_t) ~(1u << (sk->leg * 2 + sk->comp));
		if (cqe->res == -ENOBUFS)
			u->n_nobufs++;
		else if (cqe->res < 0 && cqe->res != -ECANCELED)
			u->n_recv_err++;
		if (s->u_closing) {
			if (!s->u_armed)
				stream_done(r, s);
		} else {
			arm(u, sk);
		}
	}
	if (!has_buf)
		return;
	if (cqe->res <= 0 || s->u_closing ||
	    !(o = io_uring_recvmsg_validate(buf, cqe->res, &u->rmh)) ||
	    (o->flags & MSG_TRUNC)) {
		buf_put(u, bid);
		return;
	}
	p = io_uring_recvmsg_payload(o, &u->rmh);
	n = io_uring_recvmsg_payload_length(o, cqe->res, &u->rmh);
	media__relay_src(&src, io_uring_recvmsg_name(o),
			 o->namelen < U_NAME ? o->namelen : U_NAME);
	media__relay_packet(r, sk, &src, p, &n, &ofd, &dst, &fwd);
	if (!fwd || ofd < 0) {
		buf_put(u, bid);
		return;
	}
	send_pkt(u, bid, ofd, p, n, &dst);
}

static void on_cqe(struct media_relay *r, const struct io_uring_cqe *cqe)
{
	struct media_uring *u = r->u;
	uint64_t ud = io_uring_cqe_get_data64(cqe);

	switch (ud & UD_MASK) {
	case UD_RECV:
		on_recv(r, (struct media_sock *)(uintptr_t)ud, cqe);
		break;
	case UD_SEND:
		/* Sent or not (a full buffer, an unreachable peer: media
		 * is loss tolerant), the buffer is free again. */
		if (cqe->res < 0) {
			u->n_send_err++;
			u->n_send_again += cqe->res == -EAGAIN;
		}
		if ((ud >> 2) >= U_NBUF)
			u->dbusy &= ~(1u << ((ud >> 2) - U_NBUF));
		else
			buf_put(u, (unsigned)(ud >> 2));
		break;
	case UD_CMD:
		if (!(cqe->flags & IORING_CQE_F_MORE))
			arm_cmd(r);
		drain_cmds(r);
		break;
	default:
		break; /* a cancel's own answer */
	}
}

/* The thread ends (STOP): the ring and its fixed files go with
 * media__uring_fini; the streams are the signalling thread's again,
 * with no descriptor left to close but the ordinary ones. */
static void release(struct media_relay *r)
{
	struct media_uring *u = r->u;
	struct media_stream *s;
	unsigned l, k;

	for (s = r->streams; s; s = s->rnext)
		for (l = 0; l < 2; l++)
			for (k = 0; k < 2; k++)
				if (s->fd[l][k] >= 0 && (s->fd[l][k] & U_FIXED))
					s->fd[l][k] = -1;
	while ((s = u->closing)) {
		u->closing = s->rnext;
		for (l = 0; l < 2; l++)
			for (k = 0; k < 2; k++)
				if (s->fd[l][k] >= 0 && (s->fd[l][k] & U_FIXED))
					s->fd[l][k] = -1;
		s->rprev = NULL;
		s->rnext = r->dead;
		r->dead = s;
	}
}

void *media__uring_main(void *arg)
{
	struct media_relay *r = arg;
	struct media_uring *u = r->u;
	struct io_uring_cqe *cq[U_BATCH];
	bool busy = false;

	/* Enabling makes this thread the ring's one issuer (liburing 2.3
	 * declares io_uring_enable_rings but does not export it). */
	if (u->disabled)
		(void)syscall(__NR_io_uring_register, u->ring.ring_fd,
			      IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	u->run = true;
	arm_cmd(r);
	while (u->run) {
		uint32_t t0 = atomic_load_explicit(&r->out.tail,
						   memory_order_relaxed);
		struct __kernel_timespec ts = {
			.tv_nsec = busy ? U_WAIT_NS
					: (long long)media__dtls_wait(
						  r, U_IDLE_NS / 1000000) *
						   1000000};
		struct io_uring_cqe *first;
		unsigned n, i;

		/* One enter: this turn's sends out, the next events in. */
		(void)io_uring_submit_and_wait_timeout(
			&u->ring, &first, busy ? U_WAIT_NR : 1, &ts, NULL);
		r->now = media__mono_ms();
		busy = false;
		while (u->run &&
		       (n = io_uring_peek_batch_cqe(&u->ring, cq, U_BATCH))) {
			busy = true;
			for (i = 0; i < n; i++)
				on_cqe(r, cq[i]);
			io_uring_cq_advance(&u->ring, n);
			if (u->nret) {
				io_uring_buf_ring_advance(u->br, (int)u->nret);
				u->nret = 0;
			}
		}
		media__dtls_run(r); /* DTLS retransmissions, timeouts */
		media__kf_tick(r);  /* kernel fast path counters */
		media__relay_turn_end(r, t0);
	}
	release(r);
	return NULL;
}
