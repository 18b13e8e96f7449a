/*
 * main.c - command line and start-up.  Only wiring: option parsing,
 * configuration loading and handing over to the daemon.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/conf.h"
#include "core/log.h"
#include "daemon.h"

#ifndef SIPGUARD_VERSION
#define SIPGUARD_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sipguard [-c FILE]            run with configuration FILE\n"
		"       sipguard --check-config FILE  validate FILE, exit 0 or 1\n"
		"       sipguard --dump-config FILE   print the effective configuration\n"
		"       sipguard --config-reference   print the option reference\n"
		"       sipguard -V | -h\n");
}

static int load(struct sg_conf **confp, const char *path)
{
	char err[CONF_ERR_LEN];

	if (conf_load(confp, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_CHECK = 256, OPT_DUMP, OPT_REF };
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", required_argument, NULL, OPT_CHECK},
		{"dump-config", required_argument, NULL, OPT_DUMP},
		{"config-reference", no_argument, NULL, OPT_REF},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = "/etc/sipguard/sipguard.yaml";
	struct sg_conf *conf = NULL;
	struct daemon *d = NULL;
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:n:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'n':
		case OPT_CHECK:
			if (load(&conf, optarg) != 0)
				return 1;
			conf_free(conf);
			printf("%s: configuration OK\n", optarg);
			return 0;
		case OPT_DUMP:
			if (load(&conf, optarg) != 0)
				return 1;
			conf_dump(conf, stdout);
			conf_free(conf);
			return 0;
		case OPT_REF:
			conf_print_reference(stdout);
			return 0;
		case 'V':
			printf("sipguard %s\n", SIPGUARD_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (load(&conf, path) != 0)
		return 1;
	log_set_level((enum log_level)conf->log.level);
	if (daemon_new(&d, conf, path) != 0)
		return 1;
	{
		/* Sockets are bound and keys read: drop what is left. */
		char err[CONF_ERR_LEN];

		if (priv_drop(&conf->ops, err, sizeof(err)) != 0 ||
		    priv_seccomp(&conf->ops, err, sizeof(err)) != 0) {
			log_err("cannot start: %s", err);
			daemon_free(d);
			return 1;
		}
	}
	/* Every listener, the control socket and the relay are up: the one
	 * line a supervisor or a test waits for before it sends traffic. */
	log_info("ready: serving");
	rc = daemon_run(d);
	daemon_free(d);
	return rc == 0 ? 0 : 1;
}
