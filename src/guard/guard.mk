# guard layer sources (each helper appends its own lines)
GUARD_SRCS := \
	src/guard/src.c
GUARD_SRCS += src/guard/gate.c src/guard/gate_ban.c src/guard/cidr.c
GUARD_SRCS += src/guard/inspect.c src/guard/inspect_rules.c src/guard/scanner.c src/guard/window.c
GUARD_SRCS += src/guard/auth.c src/guard/authfail.c src/guard/creds.c src/guard/passthru.c
GUARD_SRCS += src/guard/guard.c
GUARD_SRCS += src/guard/dialplan.c src/guard/fraud.c src/guard/fraud_learn.c
GUARD_SRCS += src/guard/keytab.c src/guard/im.c src/guard/im_text.c src/guard/presence.c src/guard/pidf.c
GUARD_SRCS += src/guard/dlgpolicy.c
GUARD_SRCS += src/guard/bansync.c
GUARD_SRCS += src/guard/fraud_tab.c src/guard/fraud_reload.c src/guard/fraud_share.c
GUARD_SRCS += src/guard/fraud_hold.c
GUARD_SRCS += src/guard/guard_checks.c src/guard/guard_reload.c
GUARD_SRCS += src/guard/rate_share.c src/guard/guard_share.c
