# events layer sources: JSON helpers, call records
EVENTS_SRCS := \
	src/events/json.c \
	src/events/cdr.c
