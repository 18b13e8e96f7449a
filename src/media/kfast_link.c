/*
 * kfast_link.c - where the kernel fast path (kfast.c) is attached: the
 * table of TCX ingress links, one per interface, filled at start and
 * kept up to date while the daemon runs from rtnetlink notifications
 * (RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR; rtnetlink(7)).
 *
 * Eligible, at start and later alike: up, Ethernet-framed (the program
 * parses a 14-byte Ethernet header: a VPN's tap, a VLAN, a veth, a
 * bridge; not a tun or WireGuard device, which carry bare IP) or
 * loopback, and holding an IP address.  A link is a descriptor of this
 * process: whatever ends the daemon, SIGKILL included, the kernel
 * detaches the program (no classic tc filter is ever used).
 *
 * Events only say "look again": the interfaces are listed (getifaddrs,
 * one netlink dump) at most once per KF_SCAN_MS, so a flood of events
 * costs one bounded read per loop turn and a few listings a second, and
 * lost events are caught up by a listing, which also notices devices
 * gone: a full socket drops every notification from the overflow until
 * its queue is empty again and says so once (ENOBUFS), so the listing
 * runs once the queue is drained.  RTM_DELLINK closes the
 * device's link at once (the kernel has detached it already; the
 * descriptor would only hold a dead link, and the ifindex may return).
 *
 * Privileges: on the kernels we run on (6.6+), BPF_LINK_CREATE for TCX
 * checks no capability: holding the program's descriptor (loaded with
 * CAP_BPF and CAP_NET_ADMIN at start) is enough, so a daemon running as
 * nobody under the seccomp filter (which allows bpf, socket, bind and
 * recvfrom already) still attaches to a new device.  Where a kernel
 * refuses (EPERM/EACCES), that is logged once and no new device is
 * tried again; their media goes through the relay threads, as before.
 * No capability is kept for this.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "core/log.h"
#include "media/kfast_int.h"

/* uapi 6.6 (Debian 12's headers predate TCX). */
enum { KF_TCX_INGRESS = 46 };

int kfast_attach_fail;

/* A candidate of one listing (name: inside the getifaddrs list). */
struct kf_cand {
	unsigned idx;
	unsigned type; /* KF_IF_* */
	const char *name;
	bool addr; /* holds an IP address */
};

static struct kf_link *find(struct kfast *k, unsigned idx)
{
	unsigned i;

	for (i = 0; i < k->nlk; i++)
		if (k->lk[i].ifindex == idx)
			return &k->lk[i];
	return NULL;
}

/* An address's interface: its name, or its label "name:tag" (IPv4). */
static bool addr_on(const char *dev, const char *label)
{
	size_t n = strlen(dev);

	return !strncmp(dev, label, n) && (label[n] == '\0' || label[n] == ':');
}

/* The devices now: the table's entries still there are marked seen;
 * those up and Ethernet or loopback are candidates (at most max). */
static unsigned list_ifs(struct kfast *k, struct ifaddrs *all,
			 struct kf_cand *c, unsigned max)
{
	struct ifaddrs *a;
	unsigned n = 0, i;

	for (a = all; a; a = a->ifa_next) {
		const struct sockaddr_ll *ll;
		struct kf_link *e;

		if (!a->ifa_addr || a->ifa_addr->sa_family != AF_PACKET)
			continue;
		ll = (const struct sockaddr_ll *)(const void *)a->ifa_addr;
		e = find(k, (unsigned)ll->sll_ifindex);
		if (e)
			e->seen = true;
		if (!(a->ifa_flags & IFF_UP) || n == max ||
		    (ll->sll_hatype != ARPHRD_ETHER &&
		     ll->sll_hatype != ARPHRD_LOOPBACK))
			continue;
		c[n].idx = (unsigned)ll->sll_ifindex;
		c[n].type = ll->sll_hatype == ARPHRD_LOOPBACK ? KF_IF_LOOP
							      : KF_IF_ETHER;
		c[n].name = a->ifa_name;
		c[n].addr = false;
		n++;
	}
	for (a = all; a; a = a->ifa_next) {
		if (!a->ifa_addr || (a->ifa_addr->sa_family != AF_INET &&
				     a->ifa_addr->sa_family != AF_INET6))
			continue;
		for (i = 0; i < n; i++)
			if (addr_on(c[i].name, a->ifa_name))
				c[i].addr = true;
	}
	return n;
}

/* Forget entry i: close its link (the device is gone, so the kernel
 * detached the program already) and its kf_ifs entry. */
static void drop(struct kfast *k, unsigned i)
{
	struct kf_link *e = &k->lk[i];
	__u32 key = e->ifindex;

	if (e->fd >= 0) {
		close(e->fd);
		k->nlinks--;
		log_info("media kernel path: interface %u gone, its link "
			 "closed (%u left)",
			 key, k->nlinks);
	}
	(void)bpf_map_delete_elem(k->ifs_fd, &key);
	k->lk[i] = k->lk[--k->nlk];
	k->full_said = false;
}

static bool perm_err(int err)
{
	return err == -EPERM || err == -EACCES;
}

/* Attach at ingress of c (kf_ifs first: the program reads it for every
 * packet it relays).  0 or -errno; a device refusing is remembered (its
 * media stays with the relay until it goes), a refused privilege is not
 * (k->denied says it for every device). */
static int attach_one(struct kfast *k, const struct kf_cand *c, bool late)
{
	__u32 key = c->idx, val = c->type;
	int fd;

	if (k->nlk == KF_IFS_MAX) {
		if (!k->full_said)
			log_warn("media kernel path: %u interfaces already, "
				 "not on %s",
				 k->nlk, c->name);
		k->full_said = true;
		return -ENOSPC;
	}
	if (bpf_map_update_elem(k->ifs_fd, &key, &val, BPF_ANY) != 0)
		fd = -errno;
	else if (late && kfast_attach_fail)
		fd = kfast_attach_fail;
	else
		fd = bpf_link_create(k->prog_fd, (int)c->idx,
				     (enum bpf_attach_type)KF_TCX_INGRESS,
				     NULL);
	if (fd < 0)
		(void)bpf_map_delete_elem(k->ifs_fd, &key);
	if (fd < 0 && late && perm_err(fd)) {
		k->denied = true;
		log_warn("media kernel path: interface %s came up after "
			 "start, but attaching to it is refused (%s): the "
			 "daemon no longer has the privilege; media arriving "
			 "on interfaces added from now on is relayed in "
			 "userspace",
			 c->name, strerror(-fd));
		return fd;
	}
	if (fd < 0)
		/* One device refusing (a driver without TCX) leaves its
		 * media to the relay. */
		log_warn("media kernel path: not on interface %s: %s", c->name,
			 strerror(-fd));
	else if (late)
		log_info("media kernel path: attached on interface %s "
			 "(index %u), added after start",
			 c->name, c->idx);
	k->lk[k->nlk].ifindex = c->idx;
	k->lk[k->nlk].fd = fd < 0 ? -1 : fd;
	k->nlk++;
	if (fd >= 0)
		k->nlinks++;
	return fd < 0 ? fd : 0;
}

int kfast__scan(struct kfast *k, bool late)
{
	struct kf_cand c[KF_IFS_MAX];
	struct ifaddrs *all;
	unsigned n, i;
	int err = 0, e;

	k->scans++;
	if (getifaddrs(&all) != 0)
		return -errno;
	for (i = 0; i < k->nlk; i++)
		k->lk[i].seen = false;
	n = list_ifs(k, all, c, KF_IFS_MAX);
	/* Downward: drop() moves the last entry, already looked at, in. */
	for (i = k->nlk; i-- > 0;)
		if (!k->lk[i].seen)
			drop(k, i);
	for (i = 0; i < n && !k->denied; i++) {
		if (!c[i].addr || find(k, c[i].idx))
			continue;
		e = attach_one(k, &c[i], late);
		if (e)
			err = e;
	}
	freeifaddrs(all);
	return err;
}

int kfast__watch_open(struct kfast *k)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups =
			RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
	};
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	k->nl_fd = fd;
	return 0;
}

void kfast__links_close(struct kfast *k)
{
	unsigned i;

	for (i = 0; i < k->nlk; i++)
		if (k->lk[i].fd >= 0)
			close(k->lk[i].fd);
	k->nlk = k->nlinks = 0;
	if (k->nl_fd >= 0)
		close(k->nl_fd);
	k->nl_fd = -1;
}

/* One notification.  Only what can change the table counts: a device
 * of ours deleted, or an up Ethernet/loopback device or an address on a
 * device not in the table yet.  Short or odd messages are ignored. */
/* NLMSG_DATA/NLMSG_NEXT without their casts, which drop const (clang
 * warns where gcc, in a system header's macro, does not). */
static const void *nl_data(const struct nlmsghdr *nh)
{
	return (const char *)nh + NLMSG_HDRLEN;
}

static const struct nlmsghdr *nl_next(const struct nlmsghdr *nh, unsigned *len)
{
	*len -= NLMSG_ALIGN(nh->nlmsg_len);
	return (const struct nlmsghdr *)(const void *)((const char *)nh +
						       NLMSG_ALIGN(
							       nh->nlmsg_len));
}

static void event(struct kfast *k, const struct nlmsghdr *nh)
{
	const struct ifinfomsg *ifi = nl_data(nh);
	const struct ifaddrmsg *ifa = nl_data(nh);
	struct kf_link *e;

	switch (nh->nlmsg_type) {
	case RTM_DELLINK:
		if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
			return;
		e = find(k, (unsigned)ifi->ifi_index);
		if (e)
			drop(k, (unsigned)(e - k->lk));
		return;
	case RTM_NEWLINK:
		if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) ||
		    !(ifi->ifi_flags & IFF_UP) ||
		    (ifi->ifi_type != ARPHRD_ETHER &&
		     ifi->ifi_type != ARPHRD_LOOPBACK) ||
		    find(k, (unsigned)ifi->ifi_index))
			return;
		break;
	case RTM_NEWADDR:
		if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)) ||
		    find(k, ifa->ifa_index))
			return;
		break;
	case NLMSG_OVERRUN:
		break;
	default:
		return;
	}
	if (!k->denied)
		k->dirty = true;
}

/* One datagram: from the kernel only (port id 0), every message in it. */
static void datagram(struct kfast *k, ssize_t n, const struct sockaddr_nl *sa)
{
	const struct nlmsghdr *nh = (const struct nlmsghdr *)(void *)k->nlbuf;
	unsigned len = (unsigned)n;

	if (sa->nl_pid != 0)
		return;
	for (; NLMSG_OK(nh, len); nh = nl_next(nh, &len))
		event(k, nh);
}

int kfast_watch(struct kfast *k, uint64_t now_ms)
{
	struct sockaddr_nl sa;
	socklen_t sl;
	ssize_t n;
	int got = 0, err = 0;

	if (!k || k->nl_fd < 0)
		return 0;
	while (got < KF_WATCH_BATCH) {
		sl = sizeof(sa);
		n = recvfrom(k->nl_fd, k->nlbuf, sizeof(k->nlbuf), MSG_DONTWAIT,
			     (struct sockaddr *)&sa, &sl);
		if (n < 0 && errno == ENOBUFS) {
			/* The queue overflowed: from then until it is empty
			 * again every notification is dropped, and said no
			 * more.  List everything once it is drained. */
			k->resync = true;
			got++;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (k->resync)
				k->dirty = true;
			k->resync = false;
			break;
		}
		if (n < 0) {
			if (errno != EINTR)
				err = -errno;
			break;
		}
		got++;
		datagram(k, n, &sa);
	}
	if (k->dirty && (!k->scan_ms || now_ms - k->scan_ms >= KF_SCAN_MS)) {
		k->dirty = false;
		k->scan_ms = now_ms ? now_ms : 1;
		(void)kfast__scan(k, true);
	}
	if (err && !k->err_said)
		log_warn("media kernel path: interface events: %s",
			 strerror(-err));
	k->err_said = err != 0;
	return err ? err : got;
}

int kfast_watch_fd(const struct kfast *k)
{
	return k ? k->nl_fd : -1;
}

bool kfast_linked(const struct kfast *k, unsigned ifindex)
{
	unsigned i;

	for (i = 0; k && i < k->nlk; i++)
		if (k->lk[i].ifindex == ifindex)
			return k->lk[i].fd >= 0;
	return false;
}

unsigned kfast_scans(const struct kfast *k)
{
	return k ? k->scans : 0;
}
