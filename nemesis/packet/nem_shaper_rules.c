/* nem_shaper_rules.c — installs and removes the shaper's NFQUEUE rules in
 * the current network namespace through libiptc (iptables-legacy tables),
 * because this kernel has no nft "queue" expression and netem is absent. */
#include "nemesis/packet/nem_shaper.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libiptc/libiptc.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libiptc takes chain names as fixed 32-byte labels. */
static const xt_chainlabel SHAPER_CHAIN = "OUTPUT";


static size_t entry_size(void)
{
	return XT_ALIGN(sizeof(struct ipt_entry)) +
	       XT_ALIGN(sizeof(struct xt_entry_target) + sizeof(struct xt_NFQ_info_v3));
}

/* "-d peer/32 -j NFQUEUE --queue-num q --queue-bypass" */
static struct ipt_entry *make_entry(struct in_addr peer, unsigned queue)
{
	size_t sz = entry_size();
	struct ipt_entry *e = calloc(1, sz);
	if (!e)
		return NULL;
	e->ip.dst = peer;
	e->ip.dmsk.s_addr = 0xffffffffu;
	e->target_offset = (uint16_t)XT_ALIGN(sizeof(struct ipt_entry));
	e->next_offset = (uint16_t)sz;
	struct xt_entry_target *t = (struct xt_entry_target *)((char *)e + e->target_offset);
	t->u.user.target_size = (uint16_t)XT_ALIGN(sizeof(struct xt_entry_target) + sizeof(struct xt_NFQ_info_v3));
	snprintf(t->u.user.name, sizeof t->u.user.name, "NFQUEUE");
	t->u.user.revision = 3;
	struct xt_NFQ_info_v3 *info = (struct xt_NFQ_info_v3 *)t->data;
	info->queuenum = (uint16_t)queue;
	info->queues_total = 1;
	/* Bypass: with no listener (a dead shaper) packets pass unshaped
	 * instead of vanishing. */
	info->flags = NFQ_FLAG_BYPASS;
	return e;
}

static int tc_fail(char *err, size_t errlen, const char *what)
{
	int e = errno;
	snprintf(err, errlen, "iptables (legacy) filter/%s: %s: %s", SHAPER_CHAIN, what, iptc_strerror(e));
	return -1;
}

int nem_shaper_rules_add(unsigned queue, const char *const *peers, unsigned n_peers,
                         char *err, size_t errlen)
{
	if (queue > 65535 || n_peers == 0) {
		snprintf(err, errlen, "shaper rules: need a queue number <= 65535 and at least one peer");
		return -1;
	}
	struct xtc_handle *h = iptc_init("filter");
	if (!h)
		return tc_fail(err, errlen, "init");
	int rc = 0;
	for (unsigned i = 0; i < n_peers && rc == 0; i++) {
		struct in_addr a;
		if (inet_pton(AF_INET, peers[i], &a) != 1) {
			snprintf(err, errlen, "shaper rules: not an IPv4 address: %s", peers[i]);
			rc = -1;
			break;
		}
		struct ipt_entry *e = make_entry(a, queue);
		if (!e) {
			snprintf(err, errlen, "shaper rules: out of memory");
			rc = -1;
			break;
		}
		if (!iptc_append_entry(SHAPER_CHAIN, e, h)) {
			char what[64];
			snprintf(what, sizeof what, "append rule for %s", peers[i]);
			rc = tc_fail(err, errlen, what);
		}
		free(e);
	}
	if (rc == 0 && !iptc_commit(h))
		rc = tc_fail(err, errlen, "commit");
	iptc_free(h);
	return rc;
}

int nem_shaper_rules_remove(unsigned queue, unsigned *removed, char *err, size_t errlen)
{
	if (removed)
		*removed = 0;
	struct xtc_handle *h = iptc_init("filter");
	if (!h)
		return tc_fail(err, errlen, "init");
	unsigned nums[4096], n = 0, num = 0;
	for (const struct ipt_entry *e = iptc_first_rule(SHAPER_CHAIN, h); e && n < 4096;
	     e = iptc_next_rule(e, h), num++) {
		const char *target = iptc_get_target(e, h);
		if (!target || strcmp(target, "NFQUEUE") != 0)
			continue;
		const struct xt_entry_target *t = (const void *)((const char *)e + e->target_offset);
		/* revisions 1-3 all start with queuenum */
		const struct xt_NFQ_info_v3 *info = (const void *)t->data;
		if (info->queuenum == queue)
			nums[n++] = num;
	}
	int rc = 0;
	/* Highest first, so the remaining numbers stay valid. */
	for (unsigned i = n; i-- > 0;) {
		if (!iptc_delete_num_entry(SHAPER_CHAIN, nums[i], h)) {
			rc = tc_fail(err, errlen, "delete rule");
			break;
		}
	}
	if (rc == 0 && n > 0 && !iptc_commit(h))
		rc = tc_fail(err, errlen, "commit");
	iptc_free(h);
	if (rc == 0 && removed)
		*removed = n;
	return rc;
}
