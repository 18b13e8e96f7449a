/*
 * store_tls_dir.c - the TLS tunnel's private socket directory: made with
 * the creating process's pid in its name, and the ones a killed daemon
 * left behind removed at the next start.
 *
 * store__tls_free() removes the directory on a clean exit; a daemon that
 * is SIGKILLed (or crashes) cannot, and its /tmp/sipguard-redis-tls.*
 * stays.  A directory is stale, and removed, only when every check
 * agrees:
 *  - it is a real directory (lstat: no symlink followed) owned by one of
 *    the uids we create them as (ours, or ops.user's after the chown),
 *    so another user's files are never touched;
 *  - the pid in its name ("sipguard-redis-tls.<pid>.XXXXXX") is not a
 *    live process (kill(pid, 0) says ESRCH);
 *  - its socket, if there is one, has no listener (connect() is refused):
 *    a live daemon in another pid namespace sharing /tmp, whose pid we
 *    cannot see, still answers there.
 * A directory without a pid in its name (made before this file) is
 * removed only on the last proof: a socket that is refused.  Only the
 * socket file is unlinked, then the directory: one holding anything
 * else is left (rmdir fails).  Everything is done relative to directory
 * fds opened with O_NOFOLLOW, so a name swapped for a link meanwhile
 * leads nowhere.  Runs once at start, before the seccomp
 * filter is installed.
 */
#include "store/store_tls_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"

#define TLS_DIR_PREFIX "sipguard-redis-tls."
#define TLS_SOCK_NAME  "redis.sock"

int store__tls_mkdir(char *dir, size_t sz, const char *parent)
{
	if ((size_t)snprintf(dir, sz, "%s/" TLS_DIR_PREFIX "%ld.XXXXXX", parent,
			     (long)getpid()) >= sz) {
		dir[0] = '\0';
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(dir)) {
		dir[0] = '\0';
		return -errno;
	}
	return 0;
}

/* The pid in name ("<pid>.XXXXXX" after the prefix); 0 when it has none
 * (the old "XXXXXX" form, or anything else). */
static long name_pid(const char *name)
{
	const char *p = name + sizeof(TLS_DIR_PREFIX) - 1;
	char *end;
	long pid;

	if (*p < '1' || *p > '9')
		return 0;
	errno = 0;
	pid = strtol(p, &end, 10);
	if (errno || *end != '.' || strlen(end + 1) != 6 || pid <= 0)
		return 0;
	return pid;
}

/* 1: the socket at path refuses connections (no listener: its owner is
 * gone); 0: it has none (ENOENT); -1: it may be alive (it answered, or
 * anything else: not ours to judge). */
static int sock_dead(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, rc;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path) >=
	    sizeof(sa.sun_path))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	rc = rc == 0                 ? -1
	     : errno == ECONNREFUSED ? 1
	     : errno == ENOENT       ? 0
				     : -1;
	close(fd);
	return rc;
}

/* Is dfd (parent/name, opened without following a link) a tunnel
 * directory of a process that is gone? */
static bool stale(int dfd, const char *parent, const char *name, uid_t uid_a,
		  uid_t uid_b)
{
	char sock[320];
	struct stat st;
	long pid = name_pid(name);
	int sd;

	if (fstat(dfd, &st) || !S_ISDIR(st.st_mode) ||
	    (st.st_uid != uid_a && st.st_uid != uid_b))
		return false;
	if (pid && (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 ||
		    errno != ESRCH))
		return false;
	if ((size_t)snprintf(sock, sizeof(sock), "%s/%s/" TLS_SOCK_NAME, parent,
			     name) >= sizeof(sock))
		return false;
	sd = sock_dead(sock);
	/* Without a pid to go by, only a refusing socket proves death. */
	return pid ? sd >= 0 : sd == 1;
}

/* Remove parent/name if it is stale: 1 removed, 0 not. */
static int sweep_one(int pfd, const char *parent, const char *name, uid_t uid_a,
		     uid_t uid_b)
{
	int dfd = openat(pfd, name,
			 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int rc = 0;

	if (dfd < 0)
		return 0;
	if (stale(dfd, parent, name, uid_a, uid_b)) {
		(void)unlinkat(dfd, TLS_SOCK_NAME, 0);
		if (unlinkat(pfd, name, AT_REMOVEDIR) == 0)
			rc = 1;
		else
			log_warn("store: cannot remove %s/%s, left by a "
				 "stopped sipguard: %s",
				 parent, name, strerror(errno));
	}
	close(dfd);
	return rc;
}

int store__tls_sweep(const char *parent, uid_t uid_a, uid_t uid_b)
{
	struct dirent *de;
	DIR *d = opendir(parent);
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (!strncmp(de->d_name, TLS_DIR_PREFIX,
			     sizeof(TLS_DIR_PREFIX) - 1))
			n += sweep_one(dirfd(d), parent, de->d_name, uid_a,
				       uid_b);
	closedir(d);
	if (n)
		log_info("store: removed %d TLS tunnel director%s left in %s "
			 "by a sipguard that was killed",
			 n, n == 1 ? "y" : "ies", parent);
	return n;
}
