/*
 * kfast.h - the media relay's kernel fast path (issue 6): the loader of
 * the embedded BPF program (kfast.bpf.c), its TCX ingress links, and
 * the forwarding map the relay threads fill (kfast_relay.c).
 *
 * A link is owned by its descriptor: when the process ends, however it
 * ends, the kernel detaches the program, so no forwarding outlives the
 * daemon.  Several daemons on one host each attach their own program;
 * a packet none of them knows goes on to the stack.
 */
#ifndef SIPGUARD_KFAST_H
#define SIPGUARD_KFAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/kfast_abi.h"

struct kfast;

enum {
	KF_WATCH_BATCH = 64, /* rtnetlink messages read per kfast_watch */
	KF_SCAN_MS = 200,    /* interfaces listed at most this often */
	KF_PATS_MAX = 32,    /* names or patterns in media.kernel_interfaces */
};

/*
 * Load the program with a map of max_entries directions and attach it
 * at ingress of every interface that is up, Ethernet-framed (or
 * loopback) and holds an IP address, and, when nifs > 0, whose name
 * matches one of ifs[0..nifs-1] (media.kernel_interfaces: names or
 * fnmatch(3) patterns, loopback included only if it matches); then
 * watch for interfaces that become so later (kfast_watch).  The
 * patterns are copied.  Each pattern that matches no interface at all
 * now is logged once (info: it may appear later).
 *
 * Returns 0, or -errno with why (one line for the operator) filled: no
 * CAP_BPF/CAP_NET_ADMIN, no BPF, no TCX (kernel < 6.6), no eligible
 * interface (without a list), more than KF_PATS_MAX patterns or one of
 * IFNAMSIZ bytes or more (-EINVAL).  With a list, none matching now is
 * not an error as long as the interfaces are watched: 0 with no link
 * (kfast_nlinks), the caller decides (media.kernel: on refuses).
 */
int kfast_open(struct kfast **kp, uint32_t max_entries, const char *const *ifs,
	       size_t nifs, char *why, size_t whysz);
/* Detach (close the links) and unload.  NULL: nothing. */
void kfast_close(struct kfast *k);
/* Interfaces the program is attached to. */
unsigned kfast_nlinks(const struct kfast *k);

/* The map, from any thread (one syscall each; the value under its
 * lock).  0 or -errno (-ENOENT: no such direction; -E2BIG: map full). */
int kfast_put(const struct kfast *k, const struct kf_key *key,
	      const struct kf_val *v);
int kfast_get(const struct kfast *k, const struct kf_key *key,
	      struct kf_val *v);
int kfast_del(const struct kfast *k, const struct kf_key *key);

/*
 * Where the kernel sends a packet from our address src to dst (both of
 * family af), as for the relay socket's own sendto: *oifp the egress
 * device, or 0 when dst is an address of this host.  One RTM_GETROUTE;
 * no privilege needed.  0, or -errno (no route, not unicast).
 */
int kfast_route(int af, const uint8_t *src, const uint8_t *dst, uint32_t *oifp);

/*
 * Interfaces that appear after start (a VPN's tap, a VLAN, a veth): a
 * non-blocking rtnetlink socket subscribed to link and address events,
 * or -1 when there is none.  The thread that opened k watches it for
 * reading and calls kfast_watch() when it is readable, and also now and
 * then (once a second) so that a listing held back by KF_SCAN_MS runs.
 */
int kfast_watch_fd(const struct kfast *k);
/*
 * Read at most KF_WATCH_BATCH pending events (the rest wait for the
 * next call: a flood of link events costs each loop turn one batch).
 * A device gone, or renamed to a name the list does not match: its link
 * is closed and forgotten at once.  A device
 * that may have become eligible (up, Ethernet or loopback, an address),
 * or lost events: the interfaces are listed again, at most once per
 * KF_SCAN_MS of now_ms (monotonic ms), and the program is attached to
 * the new eligible ones as at start.  Once attaching was refused for
 * lack of privilege (the daemon dropped it), that is logged once and no
 * new device is tried again: their media stays with the relay threads.
 * Returns the number of messages read, or -errno from the socket.
 */
int kfast_watch(struct kfast *k, uint64_t now_ms);
/* Tests: attached at ingress of ifindex; listings made since open. */
bool kfast_linked(const struct kfast *k, unsigned ifindex);
unsigned kfast_scans(const struct kfast *k);

/* The loaded program's id (tests: gone once closed). */
uint32_t kfast_prog_id(const struct kfast *k);

/* Tests: a non-zero value makes kfast_open fail with it. */
extern int kfast_fail;
/* Tests: a non-zero value makes attaching after start fail with it. */
extern int kfast_attach_fail;

#endif
