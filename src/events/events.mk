# events layer sources: JSON helpers, call records
EVENTS_SRCS := \
	src/events/json.c \
	src/events/cdr.c
# event log and rule registry (issue 4)
EVENTS_SRCS += \
	src/events/evlog.c \
	src/events/rules.c
EVENTS_SRCS += src/events/hep.c
EVENTS_SRCS += src/events/evstats.c
