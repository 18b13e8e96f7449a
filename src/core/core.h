/*
 * core.h - the public header of the core layer: everything other layers
 * may use from src/core/ (STYLE.md 1).  Private headers (loop_int.h) are
 * not included.
 */
#ifndef SIPGUARD_CORE_CORE_H
#define SIPGUARD_CORE_CORE_H

#include "core/str.h"
#include "core/buf.h"
#include "core/mem.h"
#include "core/edit.h"
#include "core/arena.h"
#include "core/siphash.h"
#include "core/htab.h"
#include "core/tmr.h"
#include "core/loop.h"
#include "core/log.h"
#include "core/addr.h"
#include "core/conf.h"

#endif
