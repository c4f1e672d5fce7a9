/* srv_snap.c — atomic snapshot files. */
#include "raftnode/server/srv_snap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "raftnode/server/srv_util.h"
#include "raftnode/server/srv_wire.h"

#define SNAP_MAGIC "RNSNAP01"

void srv_snap_free(struct srv_snap *s)
{
	free(s->meta.config.servers);
	free(s->data);
	memset(s, 0, sizeof *s);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int is_snap_name(const char *name, uint64_t *index)
{
	unsigned long long v;
	int used = 0;
	if (strlen(name) != 26 || sscanf(name, "snap-%16llx.snap%n", &v, &used) != 1 || used != 26)
		return 0;
	*index = v;
	return 1;
}

int srv_snap_save(const char *dir, const struct raft_snapshot_meta *meta, const void *data, size_t len, bool fsync,
                  char *err, size_t errlen)
{
	struct srv_buf b = {0};
	uint8_t t[8];
	int rc = -1;
	if (srv_buf_append(&b, SNAP_MAGIC, 8) != 0)
		goto oom;
	srv_put_u64(t, meta->last_index);
	if (srv_buf_append(&b, t, 8) != 0)
		goto oom;
	srv_put_u64(t, meta->last_term);
	if (srv_buf_append(&b, t, 8) != 0)
		goto oom;
	srv_put_u64(t, meta->config_index);
	if (srv_buf_append(&b, t, 8) != 0 || srv_buf_append(&b, t, 4) != 0)
		goto oom;
	size_t at = b.len - 4;
	if (srv_wire_config_encode(&meta->config, &b, err, errlen) != 0)
		goto out;
	srv_put_u32(b.p + at, (uint32_t)(b.len - at - 4));
	srv_put_u64(t, len);
	if (srv_buf_append(&b, t, 8) != 0 || srv_buf_append(&b, data, len) != 0)
		goto oom;
	srv_put_u32(t, srv_crc32c(0, b.p, b.len));
	if (srv_buf_append(&b, t, 4) != 0)
		goto oom;

	char tmp[4200], path[4200];
	snprintf(tmp, sizeof tmp, "%s/snap.tmp", dir);
	snprintf(path, sizeof path, "%s/snap-%016" PRIx64 ".snap", dir, meta->last_index);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		srv_errf(err, errlen, "create %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (write_all(fd, b.p, b.len) != 0 || (fsync && fdatasync(fd) != 0)) {
		srv_errf(err, errlen, "write %s: %s", tmp, strerror(errno));
		close(fd);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		srv_errf(err, errlen, "rename %s to %s: %s", tmp, path, strerror(errno));
		goto out;
	}
	if (fsync && srv_fsync_dir(dir, err, errlen) != 0)
		goto out;
	/* The new one is durable: older snapshots are obsolete. */
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *de;
		uint64_t idx;
		while ((de = readdir(d)) != NULL)
			if (is_snap_name(de->d_name, &idx) && idx != meta->last_index) {
				char old[4200];
				snprintf(old, sizeof old, "%s/%s", dir, de->d_name);
				unlink(old);
			}
		closedir(d);
	}
	rc = 0;
	goto out;
oom:
	srv_errf(err, errlen, "snapshot: out of memory");
out:
	srv_buf_free(&b);
	return rc;
}

int srv_snap_parse(const uint8_t *buf, size_t len, struct srv_snap *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (len < 8 + 24 + 4 + 8 + 4 || memcmp(buf, SNAP_MAGIC, 8) != 0)
		return srv_errf(err, errlen, "not a snapshot file (bad magic or %zu bytes too short)", len);
	if (srv_crc32c(0, buf, len - 4) != srv_get_u32(buf + len - 4))
		return srv_errf(err, errlen, "checksum mismatch");
	size_t off = 8;
	out->meta.last_index = srv_get_u64(buf + off);
	out->meta.last_term = srv_get_u64(buf + off + 8);
	out->meta.config_index = srv_get_u64(buf + off + 16);
	uint32_t cl = srv_get_u32(buf + off + 24);
	off += 28;
	size_t body_end = len - 4;
	if (cl > body_end - off || body_end - off - cl < 8)
		return srv_errf(err, errlen, "field config_length %u exceeds the file", cl);
	if (srv_wire_config_decode(buf + off, cl, &out->meta.config, err, errlen) != 0)
		return srv_err_ctx(err, errlen, "field config");
	off += cl;
	uint64_t dl = srv_get_u64(buf + off);
	off += 8;
	if (dl != body_end - off) {
		srv_snap_free(out);
		return srv_errf(err, errlen, "field data_length %" PRIu64 " does not match the %zu bytes present", dl,
		                body_end - off);
	}
	out->data = malloc(dl ? dl : 1);
	if (!out->data) {
		srv_snap_free(out);
		return srv_errf(err, errlen, "out of memory");
	}
	memcpy(out->data, buf + off, dl);
	out->len = dl;
	if (out->meta.last_index == 0 || out->meta.last_term == 0) {
		srv_snap_free(out);
		return srv_errf(err, errlen, "field last_index/last_term is zero");
	}
	return 0;
}

int srv_snap_load(const char *dir, struct srv_snap *out, bool *found, char *err, size_t errlen)
{
	*found = false;
	memset(out, 0, sizeof *out);
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return srv_errf(err, errlen, "open directory %s: %s", dir, strerror(errno));
	}
	uint64_t best = 0, idx;
	bool any = false;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, "snap.tmp") == 0) {
			char tmp[4200];
			snprintf(tmp, sizeof tmp, "%s/snap.tmp", dir);
			unlink(tmp); /* an interrupted save: never renamed, never used */
		} else if (is_snap_name(de->d_name, &idx) && (!any || idx > best)) {
			best = idx;
			any = true;
		}
	}
	closedir(d);
	if (!any)
		return 0;
	char path[4200];
	snprintf(path, sizeof path, "%s/snap-%016" PRIx64 ".snap", dir, best);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		return srv_errf(err, errlen, "open %s: %s", path, strerror(errno));
	}
	size_t n = (size_t)st.st_size, got = 0;
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf) {
		close(fd);
		return srv_errf(err, errlen, "%s: out of memory", path);
	}
	while (got < n) {
		ssize_t k = read(fd, buf + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			free(buf);
			close(fd);
			return srv_errf(err, errlen, "read %s: %s", path, k < 0 ? strerror(errno) : "short read");
		}
		got += (size_t)k;
	}
	close(fd);
	int rc = srv_snap_parse(buf, n, out, err, errlen);
	free(buf);
	if (rc != 0)
		return srv_err_ctx(err, errlen, "corrupt snapshot %s", path);
	if (out->meta.last_index != best) {
		srv_snap_free(out);
		return srv_errf(err, errlen, "corrupt snapshot %s: field last_index %" PRIu64 " does not match its name", path,
		                out->meta.last_index);
	}
	*found = true;
	return 0;
}
