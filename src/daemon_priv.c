/*
 * daemon_priv.c - least privilege (STYLE.md 8), Linux only: after the
 * daemon has bound its sockets and read its keys, become the configured
 * unprivileged user (ops.user / ops.group) keeping only the capabilities
 * named in ops.capabilities, then install a seccomp filter (libseccomp,
 * ops.seccomp) that allows only the system calls the running daemon
 * makes.
 *
 * Order: bounding set first (needs CAP_SETPCAP, so while still root),
 * then setgroups, setresgid, setresuid (each checked), then the kept
 * capabilities in the permitted and effective sets (PR_SET_KEEPCAPS kept
 * them across setresuid), ambient set cleared, and a check that root
 * cannot be regained.  The filter comes last: it also forbids the calls
 * used above.
 *
 * The filter's default action kills the process (SCMP_ACT_KILL_PROCESS):
 * a call outside the list is a bug or an exploit, and either is better
 * stopped than answered.  Builds with AddressSanitizer add the calls its
 * leak checker makes at exit (it stops the world with clone and ptrace),
 * and keep the process dumpable so that it can.
 */
#include "daemon.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/log.h"

#if defined(__SANITIZE_ADDRESS__)
#define PRIV_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PRIV_ASAN 1
#endif
#endif

static int fail(char *err, size_t errsz, const char *what, int e)
{
	snprintf(err, errsz, "%s: %s", what, strerror(e));
	return -e;
}

static int lookup(const struct sg_conf_ops *o, uid_t *uidp, gid_t *gidp,
		  char *err, size_t errsz)
{
	struct passwd *pw;
	struct group *gr;

	errno = 0;
	pw = getpwnam(o->user);
	if (!pw) {
		snprintf(err, errsz, "ops.user: no user '%s'", o->user);
		return -ENOENT;
	}
	*uidp = pw->pw_uid;
	*gidp = pw->pw_gid;
	if (o->group[0]) {
		gr = getgrnam(o->group);
		if (!gr) {
			snprintf(err, errsz, "ops.group: no group '%s'",
				 o->group);
			return -ENOENT;
		}
		*gidp = gr->gr_gid;
	}
	if (*uidp == 0) {
		snprintf(err, errsz, "ops.user: '%s' is root", o->user);
		return -EINVAL;
	}
	return 0;
}

static uint64_t keep_mask(const struct sg_conf_ops *o)
{
	uint64_t m = 0;
	size_t i;

	for (i = 0; i < o->n_capabilities; i++) {
		int c = conf_cap_from_name(o->capabilities[i]);

		if (c >= 0)
			m |= 1ull << c;
	}
	return m;
}

static int caps_set(uint64_t keep)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].permitted = d[0].effective = (uint32_t)keep;
	d[1].permitted = d[1].effective = (uint32_t)(keep >> 32);
	return syscall(SYS_capset, &h, d) == 0 ? 0 : -errno;
}

static int drop_bounding(uint64_t keep)
{
	int c;

	for (c = 0; c <= CAP_LAST_CAP; c++)
		if (!(keep & (1ull << c)) &&
		    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL)
			return -errno;
	return 0;
}

/* The ids priv_drop() will switch to; -1 when it will not (no ops.user,
 * or started as that user), or the lookup fails (priv_drop says why). */
void priv_target(const struct sg_conf_ops *o, int *uidp, int *gidp)
{
	char err[128];
	uid_t uid;
	gid_t gid;

	*uidp = *gidp = -1;
	if (!o->user[0] || lookup(o, &uid, &gid, err, sizeof(err)) != 0 ||
	    (geteuid() == uid && getegid() == gid))
		return;
	*uidp = (int)uid;
	*gidp = (int)gid;
}

int priv_drop(const struct sg_conf_ops *o, char *err, size_t errsz)
{
	uid_t uid, ru, eu, su;
	gid_t gid;
	uint64_t keep = keep_mask(o);
	int rc;

	if (!o->user[0])
		return 0;
	if ((rc = lookup(o, &uid, &gid, err, errsz)) != 0)
		return rc;
	if (geteuid() == uid && getegid() == gid)
		return 0; /* started as that user already */
	if (geteuid() != 0) {
		snprintf(err, errsz, "ops.user: switching to '%s' needs root",
			 o->user);
		return -EPERM;
	}
	if ((rc = drop_bounding(keep)) != 0)
		return fail(err, errsz, "dropping the capability bounding set",
			    -rc);
	if (keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
		return fail(err, errsz, "PR_SET_KEEPCAPS", errno);
	if (setgroups(1, &gid) != 0)
		return fail(err, errsz, "setgroups", errno);
	if (setresgid(gid, gid, gid) != 0)
		return fail(err, errsz, "setresgid", errno);
	if (setresuid(uid, uid, uid) != 0)
		return fail(err, errsz, "setresuid", errno);
	if ((rc = caps_set(keep)) != 0)
		return fail(err, errsz, "capset", -rc);
	(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	/* There is no way back. */
	if (setresuid(0, 0, 0) == 0 || getresuid(&ru, &eu, &su) != 0 ||
	    ru != uid || eu != uid || su != uid) {
		snprintf(err, errsz, "privileges could be regained");
		return -EPERM;
	}
#ifdef PRIV_ASAN
	/* The leak checker attaches to its own threads with ptrace. */
	(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	log_info("running as %s (uid %u, gid %u), capabilities kept: %zu",
		 o->user, (unsigned)uid, (unsigned)gid, o->n_capabilities);
	return 0;
}

/* ------------------------------------------------------------ seccomp */

/*
 * What the running daemon calls: the event loop, sockets (UDP, TCP
 * accept and connect, HTTP, control socket), files (reload reads the
 * configuration and credentials; logs are reopened), memory, time,
 * randomness, signals and exit.
 */
static const char *const allowed[] = {
	/* loop, signals, timers */
	"epoll_wait",
	"epoll_pwait",
	"epoll_pwait2",
	"epoll_ctl",
	"rt_sigreturn",
	"rt_sigprocmask",
	"rt_sigaction",
	"restart_syscall",
	"clock_gettime",
	"clock_nanosleep",
	"gettimeofday",
	"nanosleep",
	/* I/O on descriptors we have, and new connections */
	"read",
	"readv",
	"pread64",
	"write",
	"writev",
	"pwrite64",
	"recvfrom",
	"recvmsg",
	"recvmmsg",
	"sendto",
	"sendmsg",
	"sendmmsg",
	"accept",
	"accept4",
	"connect",
	"bind",
	"socket",
	"shutdown",
	"getsockname",
	"getpeername",
	"getsockopt",
	"setsockopt",
	"listen",
	"close",
	"fcntl",
	"ioctl",
	"poll",
	"ppoll",
	"select",
	"pselect6",
	/* files: reload, credentials, event log reopen, ctl socket */
	"openat",
	"open",
	"fstat",
	"newfstatat",
	"statx",
	"stat",
	"lstat",
	"lseek",
	"unlink",
	"unlinkat",
	"access",
	"faccessat",
	"faccessat2",
	"readlink",
	"getdents",
	"getdents64",
	"fchmod",
	"chmod",
	"fsync",
	"fdatasync",
	/* memory */
	"brk",
	"mmap",
	"munmap",
	"mremap",
	"madvise",
	"mprotect",
	/* randomness, identity, threads (libmicrohttpd, OpenSSL) */
	"getrandom",
	"getpid",
	"gettid",
	"getuid",
	"geteuid",
	"getgid",
	"getegid",
	"futex",
	"sched_yield",
	"sched_getaffinity",
	"set_robust_list",
	"rseq",
	"uname",
	"sysinfo",
	"prlimit64",
	"eventfd2",
	"pipe2",
	/* media.kernel: the relay threads read and write the fast path's
	 * map through its descriptor (loading a program needs CAP_BPF,
	 * gone by then) */
	"bpf",
	"dup",
	"dup3",
	/* ending, aborting */
	"exit",
	"exit_group",
	"tgkill",
	"kill",
	"getppid",
	NULL,
};

#ifdef PRIV_ASAN
static const char *const allowed_asan[] = {
	"clone",
	"clone3",
	"ptrace",
	"wait4",
	"waitid",
	"prctl",
	"sigaltstack",
	"getpgid",
	"setpgid",
	"capget",
	"process_vm_readv",
	"sched_getparam",
	"sched_setaffinity",
	"getrlimit",
	"setrlimit",
	"getcwd",
	"readlinkat",
	"set_tid_address",
	"arch_prctl",
	NULL,
};
#endif

static int add_list(scmp_filter_ctx ctx, const char *const *names)
{
	int nr, rc;

	for (; *names; names++) {
		nr = seccomp_syscall_resolve_name(*names);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int priv_seccomp(const struct sg_conf_ops *o, char *err, size_t errsz)
{
	scmp_filter_ctx ctx;
	int rc;

	if (!o->seccomp)
		return 0;
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return fail(err, errsz, "seccomp_init", ENOMEM);
	rc = add_list(ctx, allowed);
#ifdef PRIV_ASAN
	if (rc == 0)
		rc = add_list(ctx, allowed_asan);
#endif
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0)
		return fail(err, errsz, "seccomp filter", -rc);
	log_info("seccomp filter installed (%s)",
#ifdef PRIV_ASAN
		 "AddressSanitizer build: its calls allowed too"
#else
		 "kill on any other call"
#endif
	);
	return 0;
}
