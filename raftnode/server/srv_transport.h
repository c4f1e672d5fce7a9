/* srv_transport.h — TCP between Raft peers: one outbound connection per
 * peer (we dial, we only write on it), inbound connections only read.
 *
 * Happy path: srv_transport_set_peer() starts dialing; once connected we
 * send a HELLO frame then message frames (srv_wire.h). Failure modes: a
 * refused/broken connection is closed and redialed with exponential backoff
 * (50 ms doubling to 1 s); messages to a peer that is not connected, or
 * whose send queue is over its cap, are dropped (Raft retransmits). A
 * malformed inbound frame closes that connection with a log line.
 *
 * TLS: every bufferevent of this module is created in transport_bev() (both
 * dialed and accepted), so wrapping peers in bufferevent_openssl is a change
 * in that one place.
 *
 * Single-threaded on the caller's event_base; no global state.
 */
#ifndef SRV_TRANSPORT_H
#define SRV_TRANSPORT_H

#include <event2/event.h>
#include <stddef.h>

#include "raftnode/raft.h"

struct srv_transport;

/* Called for every decoded message addressed to us. m borrows from the
 * receive buffer: valid only during the call (raft_step copies). */
typedef void (*srv_transport_recv_fn)(void *ud, const struct raft_msg *m);

/* Listen on listen_addr ("IP:PORT", numeric). advertise is our peer
 * address as others should dial it; it travels in HELLO so that a peer
 * which does not know us yet (a joining node) can answer. A HELLO from an
 * unknown peer adds it with the address it gave. */
int srv_transport_new(struct srv_transport **out, struct event_base *base, raft_id self, const char *listen_addr,
                      const char *advertise, srv_transport_recv_fn recv, void *ud, char *err, size_t errlen);
void srv_transport_free(struct srv_transport *t);
/* Add or update a peer's address ("IP:PORT"); a changed address redials. */
int srv_transport_set_peer(struct srv_transport *t, raft_id id, const char *addr, char *err, size_t errlen);
/* Forget a peer (removed from the configuration). */
void srv_transport_remove_peer(struct srv_transport *t, raft_id id);
/* Encode and queue m for m->to; drops it if that peer is unknown or down. */
void srv_transport_send(struct srv_transport *t, const struct raft_msg *m);
/* Push queued frames to the sockets now instead of on the next loop
 * iteration: called before a WAL fsync so followers receive AppendEntries
 * while the leader syncs, not after (pipelining disk with network). Plain
 * TCP only; with TLS this would go through the TLS bufferevent instead. */
void srv_transport_flush(struct srv_transport *t);
/* Counters for logs: frames sent, dropped, received. */
void srv_transport_stats(const struct srv_transport *t, unsigned long long *sent, unsigned long long *dropped,
                         unsigned long long *received);

#endif
