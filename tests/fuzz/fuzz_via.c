/*
 * fuzz_via.c - sip_via_parse on hostile bytes.  Invariants: every slice
 * lies inside the input, flags agree with their slices, a port implies
 * has_port, the host is typed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "sip/sip.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str in = str_make((const char *)data, size);
	struct sip_via v;
	struct sip_perr e = {0};
	int rc = sip_via_parse(&v, in, &e);

	if (rc) {
		CHECK(rc == -EINVAL && e.code != SIP_PE_NONE);
		CHECK(e.off <= size && e.reason);
		return 0;
	}
	inside(v.raw, in);
	inside(v.proto_name, in);
	inside(v.proto_ver, in);
	inside(v.transport, in);
	inside(v.host, in);
	inside(v.params, in);
	inside(v.branch, in);
	inside(v.received, in);
	inside(v.maddr, in);
	inside(v.ttl, in);
	inside(v.rport, in);
	CHECK(v.proto_name.len && v.proto_ver.len && v.transport.len);
	CHECK(v.host.len && v.host_type != SIP_HOST_NONE);
	CHECK(v.has_port || v.port == 0);
	CHECK(v.has_branch == (v.branch.len > 0));
	CHECK(v.has_received == (v.received.len > 0));
	CHECK(v.has_rport || v.rport.len == 0);
	return 0;
}
