/*
 * kfast_link.c - where the kernel fast path (kfast.c) is attached: the
 * table of TCX ingress links, one per interface, filled at start and
 * kept up to date while the daemon runs from rtnetlink notifications
 * (RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR; rtnetlink(7)).
 *
 * Eligible, at start and later alike: up, Ethernet-framed (the program
 * parses a 14-byte Ethernet header: a VPN's tap, a VLAN, a veth, a
 * bridge; not a tun or WireGuard device, which carry bare IP) or
 * loopback, and holding an IP address; with media.kernel_interfaces,
 * also named as one of its entries (fnmatch(3) patterns; loopback only
 * if an entry matches "lo").  A device renamed out of the list is
 * detached, one renamed into it attached (RTM_NEWLINK carries the new
 * IFLA_IFNAME; the listing checks the names again anyway).  A link is
 * a descriptor of this process: whatever ends the daemon, SIGKILL
 * included, the kernel detaches the program (no classic tc filter is
 * ever used).
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
#include <fnmatch.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
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

/* May the program go on the device called name (media.kernel_interfaces)?
 * A pattern bit of which ones matched (*hitp, may be NULL). */
static bool listed(const struct kfast *k, const char *name, uint32_t *hitp)
{
	bool any = !k->npat;
	unsigned i;

	for (i = 0; i < k->npat; i++)
		if (fnmatch(k->pat[i], name, 0) == 0) {
			any = true;
			if (!hitp)
				break;
			*hitp |= 1u << i;
		}
	return any;
}

/* An address's interface: its name, or its label "name:tag" (IPv4). */
static bool addr_on(const char *dev, const char *label)
{
	size_t n = strlen(dev);

	return !strncmp(dev, label, n) && (label[n] == '\0' || label[n] == ':');
}

static bool framed(unsigned type)
{
	return type == ARPHRD_ETHER || type == ARPHRD_LOOPBACK;
}

/* At start: a listed device the program cannot parse (tun, WireGuard:
 * no Ethernet header) will never be covered; the operator who named it
 * is told why, once. */
static void say_unframed(const struct kfast *k, const char *name,
			 const uint32_t *hitp)
{
	if (k->npat && hitp)
		log_warn("media kernel path: interface %s "
			 "(media.kernel_interfaces) carries no Ethernet "
			 "header: its media is relayed in userspace",
			 name);
}

/* The devices now: the table's entries still there are marked seen
 * (and listed while their name matches); those up, Ethernet or
 * loopback and listed are candidates (at most max).  *hitp: which
 * patterns matched some device. */
static unsigned list_ifs(struct kfast *k, struct ifaddrs *all,
			 struct kf_cand *c, unsigned max, uint32_t *hitp)
{
	struct ifaddrs *a;
	unsigned n = 0, i;

	for (a = all; a; a = a->ifa_next) {
		const struct sockaddr_ll *ll;
		struct kf_link *e;
		bool in;

		if (a->ifa_addr && a->ifa_addr->sa_family != AF_PACKET)
			continue;
		in = listed(k, a->ifa_name, hitp);
		/* getifaddrs gives a device without a hardware address
		 * (tun, WireGuard) no address at all: never ours. */
		if (!a->ifa_addr) {
			if (in)
				say_unframed(k, a->ifa_name, hitp);
			continue;
		}
		ll = (const struct sockaddr_ll *)(const void *)a->ifa_addr;
		e = find(k, (unsigned)ll->sll_ifindex);
		if (e) {
			e->seen = true;
			e->listed = in;
			snprintf(e->name, sizeof(e->name), "%s", a->ifa_name);
		}
		if (in && !framed(ll->sll_hatype))
			say_unframed(k, a->ifa_name, hitp);
		if (!(a->ifa_flags & IFF_UP) || n == max || !in ||
		    !framed(ll->sll_hatype))
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

/* Forget entry i: close its link and its kf_ifs entry.  The device is
 * gone (the kernel detached the program already), or was renamed to a
 * name the list does not match (unlisted: closing detaches). */
static void drop(struct kfast *k, unsigned i, bool unlisted)
{
	struct kf_link *e = &k->lk[i];
	__u32 key = e->ifindex;

	if (e->fd >= 0) {
		close(e->fd);
		k->nlinks--;
		if (unlisted)
			log_info("media kernel path: interface %u renamed "
				 "%s, not in media.kernel_interfaces: "
				 "detached (%u left)",
				 key, e->name, k->nlinks);
		else
			log_info("media kernel path: interface %u gone, its "
				 "link closed (%u left)",
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
			 "(index %u), after start",
			 c->name, c->idx);
	k->lk[k->nlk].ifindex = c->idx;
	snprintf(k->lk[k->nlk].name, sizeof(k->lk[k->nlk].name), "%s", c->name);
	k->lk[k->nlk].fd = fd < 0 ? -1 : fd;
	k->nlk++;
	if (fd >= 0)
		k->nlinks++;
	return fd < 0 ? fd : 0;
}

/* At start: each entry of the list that matches no device at all is
 * said once (it may appear later; a typo shows here). */
static void say_unmatched(const struct kfast *k, uint32_t hit)
{
	unsigned i;

	for (i = 0; i < k->npat; i++)
		if (!(hit & (1u << i)))
			log_info("media kernel path: no interface matches "
				 "\"%s\" (media.kernel_interfaces) now; "
				 "attached when one appears",
				 k->pat[i]);
}

int kfast__scan(struct kfast *k, bool late)
{
	struct kf_cand c[KF_IFS_MAX];
	struct ifaddrs *all;
	uint32_t hit = 0;
	unsigned n, i;
	int err = 0, e;

	k->scans++;
	if (getifaddrs(&all) != 0)
		return -errno;
	for (i = 0; i < k->nlk; i++)
		k->lk[i].seen = false;
	n = list_ifs(k, all, c, KF_IFS_MAX, late ? NULL : &hit);
	if (!late)
		say_unmatched(k, hit);
	/* Downward: drop() moves the last entry, already looked at, in.
	 * A rename the events missed is caught here. */
	for (i = k->nlk; i-- > 0;)
		if (!k->lk[i].seen)
			drop(k, i, false);
		else if (!k->lk[i].listed)
			drop(k, i, true);
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

/* The IFLA_IFNAME of an RTM_NEWLINK (at most IFNAMSIZ - 1 bytes, NUL
 * ended by the kernel, checked anyway) into name; false: none. */
static bool link_name(const struct nlmsghdr *nh, char *name, size_t sz)
{
	const char *p =
		(const char *)nh + NLMSG_LENGTH(sizeof(struct ifinfomsg));
	size_t left = nh->nlmsg_len - NLMSG_LENGTH(sizeof(struct ifinfomsg));
	const struct rtattr *a;
	size_t n;

	/* RTA_OK/RTA_NEXT/RTA_DATA cast const away: walked by hand. */
	while (left >= sizeof(*a)) {
		a = (const struct rtattr *)(const void *)p;
		if (a->rta_len < sizeof(*a) || a->rta_len > left)
			return false;
		if (a->rta_type == IFLA_IFNAME) {
			n = strnlen(p + RTA_LENGTH(0),
				    a->rta_len - RTA_LENGTH(0));
			if (n == 0 || n >= sz)
				return false;
			memcpy(name, p + RTA_LENGTH(0), n);
			name[n] = '\0';
			return true;
		}
		if (RTA_ALIGN(a->rta_len) >= left)
			return false;
		left -= RTA_ALIGN(a->rta_len);
		p += RTA_ALIGN(a->rta_len);
	}
	return false;
}

/* RTM_NEWLINK: a device of ours renamed out of the list is detached at
 * once; one not ours is worth a listing only if it is up, framed and,
 * by its name, listed (a container runtime's churn of veths the list
 * leaves out costs nothing).  No name: list anyway. */
static bool new_link(struct kfast *k, const struct nlmsghdr *nh)
{
	const struct ifinfomsg *ifi = nl_data(nh);
	char name[IFNAMSIZ];
	bool named = link_name(nh, name, sizeof(name));
	struct kf_link *e = find(k, (unsigned)ifi->ifi_index);

	if (e) {
		if (named && !listed(k, name, NULL)) {
			memcpy(e->name, name, sizeof(name));
			drop(k, (unsigned)(e - k->lk), true);
		}
		return false;
	}
	return (ifi->ifi_flags & IFF_UP) && framed(ifi->ifi_type) &&
	       (!named || listed(k, name, NULL));
}

/* One notification.  Only what can change the table counts: a device
 * of ours deleted or renamed, or an up Ethernet/loopback device or an
 * address on a device not in the table yet.  Short or odd messages are
 * ignored. */
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
			drop(k, (unsigned)(e - k->lk), false);
		return;
	case RTM_NEWLINK:
		if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) ||
		    !new_link(k, nh))
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
