/*
 * daemon_dash_assets.c - the dashboard's files (share/dashboard/),
 * compiled into the binary with the assembler's .incbin, so the daemon
 * serves them without reading anything at run time (it may be chrooted,
 * seccomp-filtered, and share/ may not be installed).  The Makefile
 * rebuilds this object when a file changes.
 */
#define DASH_ASSET(sym, file)                           \
	__asm__(".section .rodata\n"                    \
		".global " #sym "\n"                    \
		".type " #sym ", @object\n"             \
		".balign 16\n" #sym ":\n"               \
		".incbin \"" file "\"\n" #sym "_end:\n" \
		".byte 0\n"                             \
		".global " #sym "_len\n"                \
		".type " #sym "_len, @object\n"         \
		".balign 4\n" #sym "_len:\n"            \
		".int " #sym "_end - " #sym "\n"        \
		".previous\n")

DASH_ASSET(daemon_dash_html, "share/dashboard/index.html");
DASH_ASSET(daemon_dash_js, "share/dashboard/dashboard.js");
DASH_ASSET(daemon_dash_css, "share/dashboard/dashboard.css");
