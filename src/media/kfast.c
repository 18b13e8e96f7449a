/*
 * kfast.c - load the media relay's kernel fast path (kfast.bpf.c,
 * embedded by kfast_obj.c) with libbpf, attach it as a TCX ingress link
 * (BPF_LINK_CREATE, kernel 6.6) on the interfaces media may arrive on,
 * and give the relay threads the forwarding map.
 *
 * Only TCX links: a link lives as long as its descriptor, so a daemon
 * killed with SIGKILL leaves no program behind.  A classic tc filter
 * (clsact qdisc) would stay attached and keep forwarding a dead call's
 * media; where TCX is missing the fast path is simply not used.
 *
 * Interfaces (kfast_link.c): every one that is up, Ethernet-framed or
 * loopback, and holds an address, at start and when one becomes so
 * later (rtnetlink events); with media.kernel_interfaces, only those
 * whose name matches it.  The relay addresses are the zones' listener
 * addresses, which the media layer does not know at start, and a host
 * may receive a datagram for one address on another interface; the
 * program costs a header parse and one hash lookup per UDP datagram
 * that is not ours: the list keeps it off interfaces media never
 * crosses (container bridges and veths, management NICs).
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/log.h"
#include "core/mem.h"
#include "media/kfast_int.h"

size_t kfast_obj_size(void);
const unsigned char *kfast_obj_data(void);

int kfast_fail;

/* libbpf's own messages (verifier logs...) at debug level only. */
static int lbpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	if (lvl == LIBBPF_DEBUG || !log_enabled(LOG_LVL_DEBUG))
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	log_debug("libbpf: %s", line);
	return 0;
}

static int fail(int err, char *why, size_t whysz, const char *what)
{
	const char *hint = "";

	if (err == -EPERM || err == -EACCES)
		hint = " (needs CAP_BPF and CAP_NET_ADMIN at start)";
	else if (err == -EINVAL && !strcmp(what, "TCX attach"))
		hint = " (kernel without TCX links, before 6.6)";
	snprintf(why, whysz, "%s: %s%s", what, strerror(-err), hint);
	return err;
}

static int load(struct kfast *k, uint32_t max_entries, char *why, size_t whysz)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "sipguard_kfast");
	struct bpf_map *map;
	int err;

	libbpf_set_print(lbpf_print);
	k->obj = bpf_object__open_mem(kfast_obj_data(), kfast_obj_size(), &oo);
	if (!k->obj)
		return fail(-errno, why, whysz, "BPF object");
	map = bpf_object__find_map_by_name(k->obj, "kf_map");
	if (!map)
		return fail(-ENOENT, why, whysz, "BPF map");
	err = bpf_map__set_max_entries(map, max_entries ? max_entries : 1);
	if (err)
		return fail(err, why, whysz, "BPF map size");
	err = bpf_object__load(k->obj);
	if (err)
		return fail(err, why, whysz, "BPF load");
	k->map_fd = bpf_map__fd(map);
	return 0;
}

static int attach(struct kfast *k, char *why, size_t whysz)
{
	struct bpf_program *prog;
	int err;

	prog = bpf_object__find_program_by_name(k->obj, "kf_ingress");
	k->ifs_fd = bpf_object__find_map_fd_by_name(k->obj, "kf_ifs");
	if (!prog || k->ifs_fd < 0)
		return fail(-ENOENT, why, whysz, "BPF program");
	k->prog_fd = bpf_program__fd(prog);
	/* Subscribed before the listing: a device that appears in between
	 * is announced, not missed. */
	err = kfast__watch_open(k);
	if (err)
		log_warn("media kernel path: interfaces added later will not "
			 "be covered: rtnetlink: %s",
			 strerror(-err));
	err = kfast__scan(k, false);
	/* With a list, the interfaces it names may come later: loaded and
	 * watching is a start (the caller decides whether it is enough). */
	if (!k->nlinks && (!k->npat || k->nl_fd < 0 || err))
		return fail(err ? err : -ENODEV, why, whysz, "TCX attach");
	return 0;
}

/* media.kernel_interfaces into k; the configuration checked them, this
 * only refuses what would not fit. */
static int set_pats(struct kfast *k, const char *const *ifs, size_t nifs,
		    char *why, size_t whysz)
{
	size_t i;

	if (nifs > KF_PATS_MAX)
		return fail(-EINVAL, why, whysz, "interface list");
	for (i = 0; i < nifs; i++) {
		if (!ifs[i] || !ifs[i][0] ||
		    strlen(ifs[i]) >= sizeof(k->pat[i]))
			return fail(-EINVAL, why, whysz, "interface name");
		memcpy(k->pat[i], ifs[i], strlen(ifs[i]) + 1);
	}
	k->npat = (unsigned)nifs;
	return 0;
}

int kfast_open(struct kfast **kp, uint32_t max_entries, const char *const *ifs,
	       size_t nifs, char *why, size_t whysz)
{
	struct kfast *k;
	int err;

	*kp = NULL;
	if (kfast_fail)
		return fail(kfast_fail, why, whysz, "forced (test)");
	k = mem_zalloc(sizeof(*k));
	if (!k)
		return fail(-ENOMEM, why, whysz, "kfast");
	k->map_fd = k->nl_fd = -1;
	err = set_pats(k, ifs, nifs, why, whysz);
	if (!err)
		err = load(k, max_entries, why, whysz);
	if (!err)
		err = attach(k, why, whysz);
	if (err) {
		kfast_close(k);
		return err;
	}
	log_info("media kernel path: attached on %u interface(s)%s, %u "
		 "directions",
		 k->nlinks, k->npat ? " matching media.kernel_interfaces" : "",
		 (unsigned)max_entries);
	*kp = k;
	return 0;
}

void kfast_close(struct kfast *k)
{
	if (!k)
		return;
	/* Links first: no packet is forwarded after this. */
	kfast__links_close(k);
	bpf_object__close(k->obj);
	mem_free(k);
}

unsigned kfast_nlinks(const struct kfast *k)
{
	return k ? k->nlinks : 0;
}

int kfast_put(const struct kfast *k, const struct kf_key *key,
	      const struct kf_val *v)
{
	int e = bpf_map_update_elem(k->map_fd, key, v, BPF_F_LOCK);

	return e < 0 ? e : 0;
}

int kfast_get(const struct kfast *k, const struct kf_key *key, struct kf_val *v)
{
	int e = bpf_map_lookup_elem_flags(k->map_fd, key, v, BPF_F_LOCK);

	return e < 0 ? e : 0;
}

int kfast_del(const struct kfast *k, const struct kf_key *key)
{
	int e = bpf_map_delete_elem(k->map_fd, key);

	return e < 0 ? e : 0;
}

uint32_t kfast_prog_id(const struct kfast *k)
{
	struct bpf_prog_info info;
	struct bpf_program *prog;
	__u32 len = sizeof(info);

	prog = bpf_object__find_program_by_name(k->obj, "kf_ingress");
	memset(&info, 0, sizeof(info));
	if (!prog ||
	    bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) != 0)
		return 0;
	return info.id;
}

/* One route attribute (an address) appended to a request. */
static void rta_add(struct nlmsghdr *nh, unsigned type, const void *p, size_t n)
{
	struct rtattr *a =
		(struct rtattr *)(void *)((char *)nh +
					  NLMSG_ALIGN(nh->nlmsg_len));

	a->rta_type = (unsigned short)type;
	a->rta_len = (unsigned short)RTA_LENGTH(n);
	memcpy(RTA_DATA(a), p, n);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* The answer to our RTM_GETROUTE: local, or unicast out of a device. */
static int route_answer(char *buf, ssize_t n, uint32_t *oifp)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)(void *)buf;
	struct rtmsg *rt;
	struct rtattr *a;
	int len;

	if (n < (ssize_t)sizeof(*nh) || !NLMSG_OK(nh, (unsigned)n))
		return -EIO;
	if (nh->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *e = NLMSG_DATA(nh);

		return e->error ? e->error : -EIO;
	}
	if (nh->nlmsg_type != RTM_NEWROUTE)
		return -EIO;
	rt = NLMSG_DATA(nh);
	if (rt->rtm_type == RTN_LOCAL) {
		*oifp = 0;
		return 0;
	}
	if (rt->rtm_type != RTN_UNICAST)
		return -ENETUNREACH;
	len = (int)RTM_PAYLOAD(nh);
	for (a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == RTA_OIF &&
		    RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
			memcpy(oifp, RTA_DATA(a), sizeof(*oifp));
			return *oifp ? 0 : -ENODEV;
		}
	return -ENODEV;
}

int kfast_route(int af, const uint8_t *src, const uint8_t *dst, uint32_t *oifp)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
		char attrs[2 * RTA_SPACE(16)];
	} req;
	char buf[4096];
	size_t alen = af == AF_INET ? 4 : 16;
	ssize_t n;
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	req.rt.rtm_family = (unsigned char)af;
	req.rt.rtm_dst_len = (unsigned char)(alen * 8);
	req.rt.rtm_src_len = (unsigned char)(alen * 8);
	rta_add(&req.nh, RTA_DST, dst, alen);
	rta_add(&req.nh, RTA_SRC, src, alen);
	/* The kernel answers while send() runs: the reply is queued. */
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	err = n < 0 ? -errno : route_answer(buf, n, oifp);
	close(fd);
	return err;
}
