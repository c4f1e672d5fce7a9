/* fuzz_wire.c — fuzz target for the peer frame decoder: splits the input
 * into frames like the transport does, decodes each, and checks that every
 * accepted message re-encodes to exactly the same bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raftnode/server/srv_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	size_t off = 0;
	while (off < size) {
		size_t flen = 0;
		int k = srv_wire_peek(data + off, size - off, &flen, err, sizeof err);
		if (k <= 0) {
			/* Not a whole frame: still decode what is there as one body. */
			struct srv_wire_frame f;
			if (srv_wire_decode(data + off, size - off, &f, err, sizeof err) == 0)
				srv_wire_frame_free(&f);
			return 0;
		}
		struct srv_wire_frame f;
		if (srv_wire_decode(data + off + 4, flen - 4, &f, err, sizeof err) == 0) {
			struct srv_buf b = {0};
			int rc = f.type == SRV_WIRE_HELLO
			             ? srv_wire_encode_hello(f.hello.from, f.hello.to, f.hello.addr, &b, err, sizeof err)
			             : srv_wire_encode(&f.msg, &b, err, sizeof err);
			if (rc != 0 || b.len != flen || memcmp(b.p, data + off, flen) != 0) {
				fprintf(stderr, "fuzz_wire: accepted frame (type %u, %zu bytes) does not re-encode identically: %s\n",
				        f.type, flen, rc ? err : "bytes differ");
				abort();
			}
			srv_buf_free(&b);
			srv_wire_frame_free(&f);
		}
		off += flen;
	}
	return 0;
}
