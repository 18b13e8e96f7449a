# Installation (issue 8, operations): `make install` puts sipguard in the
# standard places; DESTDIR-aware for packaging:
#   make install DESTDIR=/tmp/root
# /usr/sbin/sipguard, /usr/sbin/sipguardctl; /etc/sipguard/sipguard.yaml
# (kept when it exists) and scanners.txt; man pages sipguard(8),
# sipguardctl(8), sipguard.yaml(5) - the last generated from
# docs/config.md, itself generated from the option table; the systemd
# unit; the example configurations in the doc directory.
PREFIX     ?= /usr
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/sipguard
SYSCONFDIR ?= /etc
UNITDIR    ?= /lib/systemd/system
VERSION    ?= $(shell sed -n 's/^\#define SIPGUARD_VERSION "\(.*\)"/\1/p' src/main.c)
INSTALL    ?= install

MAN5 := $(BUILD)/man/sipguard.yaml.5

.PHONY: install man
man: $(MAN5)

$(MAN5): docs/config.md scripts/md2man.py
	@mkdir -p $(dir $@)
	python3 scripts/md2man.py docs/config.md $(VERSION) > $@

install: $(BIN) $(CTLBIN) $(MAN5)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)/sipguard \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(UNITDIR)
	$(INSTALL) -m 0755 $(BIN) $(CTLBIN) $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 0644 docs/man/sipguard.8 docs/man/sipguardctl.8 \
		$(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 etc/systemd/sipguard.service $(DESTDIR)$(UNITDIR)/
	$(INSTALL) -m 0644 etc/examples/*.yaml $(DESTDIR)$(DOCDIR)/examples/
	$(INSTALL) -m 0644 docs/config.md $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 0644 etc/scanners.txt $(DESTDIR)$(SYSCONFDIR)/sipguard/
	test -e $(DESTDIR)$(SYSCONFDIR)/sipguard/sipguard.yaml || \
		$(INSTALL) -m 0640 etc/sipguard.yaml \
			$(DESTDIR)$(SYSCONFDIR)/sipguard/sipguard.yaml
