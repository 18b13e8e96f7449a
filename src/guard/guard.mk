# guard layer sources (each helper appends its own lines)
GUARD_SRCS := \
	src/guard/src.c
