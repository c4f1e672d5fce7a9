/* main.c — bin/raftnode: parse flags, recover from the data directory, run
 * the server until SIGTERM/SIGINT or a fatal error. */
#include <signal.h>
#include <stdio.h>

#include "raftnode/server/srv_flags.h"
#include "raftnode/server/srv_log.h"
#include "raftnode/server/srv_node.h"

int main(int argc, char **argv)
{
	static struct srv_flags flags; /* large (peer table): not on the stack */
	char err[1024];
	if (srv_flags_parse(&flags, argc, argv, err, sizeof err) != 0) {
		fprintf(stderr, "raftnode: %s\n(raftnode --help lists every flag)\n", err);
		return 2;
	}
	if (flags.help) {
		srv_flags_usage(stdout);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	srv_log_setup(flags.log_level, flags.name);
	static struct srv_node node;
	if (srv_node_init(&node, &flags, err, sizeof err) != 0) {
		SRV_ERROR("cannot start: %s", err);
		srv_node_destroy(&node);
		return 1;
	}
	if (raft_mutant_name())
		SRV_WARN("this binary is a deliberately broken mutant: %s (for testing the tester)", raft_mutant_name());
	SRV_INFO("listening: peers on %s, clients on http://%s, data in %s (fsync %s)", flags.listen_peer,
	         flags.listen_client, flags.data_dir, flags.fsync ? "always" : "never");
	int rc = srv_node_run(&node);
	srv_node_destroy(&node);
	return rc;
}
