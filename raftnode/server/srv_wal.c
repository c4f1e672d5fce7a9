/* srv_wal.c — segment files, record reader with torn-tail recovery, batched
 * writer with one fdatasync per batch. */
#include "raftnode/server/srv_wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

struct srv_wal_seg {
	uint64_t seq;
	raft_index max_index; /* highest entry index written into it */
};

struct srv_wal {
	char dir[4096];
	bool fsync;
	size_t segment_bytes;
	struct srv_wal_seg *segs; /* oldest first; the last one is open */
	size_t n_segs, cap_segs;
	int fd;                   /* the open (last) segment */
	uint64_t size;            /* bytes in it */
	struct srv_buf pending;   /* records not yet written */
	unsigned pending_records;
	raft_index last_index;    /* including buffered records */
	raft_index durable_index; /* last index written and synced */
	raft_index pending_max;   /* highest entry index in pending */
	raft_term term;
	raft_id vote;
	uint64_t stat_syncs, stat_records;

	/* Background sync (opts.async): one worker thread writes and syncs one
	 * batch while the loop keeps accumulating the next. Everything from
	 * job_state to job_what is shared and guarded by mu; the loop thread
	 * touches job_buf only while the job is idle or done. */
	bool async;
	pthread_t worker;
	bool worker_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int job_state; /* JOB_IDLE, JOB_RUNNING, JOB_DONE */
	bool quit;
	struct srv_buf job_buf;
	unsigned job_records;
	raft_index job_last_index, job_max_index;
	uint64_t job_offset;
	int job_errno;
	const char *job_what;
	int pipe_r, pipe_w; /* worker -> loop: "a job finished" */
};

enum { JOB_IDLE = 0, JOB_RUNNING = 1, JOB_DONE = 2 };

/* job_state is read without the mutex by srv_wal_busy (the loop thread is
 * the only one that moves it to IDLE or RUNNING; the worker only moves
 * RUNNING to DONE), so every access is atomic. */
static int job_get(const struct srv_wal *w) { return __atomic_load_n(&w->job_state, __ATOMIC_ACQUIRE); }
static void job_set(struct srv_wal *w, int st) { __atomic_store_n(&w->job_state, st, __ATOMIC_RELEASE); }

/* ---- replay ----------------------------------------------------------- */

void srv_wal_replay_free(struct srv_wal_replay *rp)
{
	for (size_t i = 0; i < rp->n; i++)
		free(rp->entries[i].buf.base);
	free(rp->entries);
	memset(rp, 0, sizeof *rp);
}

static void drop_from(struct srv_wal_replay *rp, size_t keep)
{
	for (size_t i = keep; i < rp->n; i++)
		free(rp->entries[i].buf.base);
	rp->n = keep;
}

/* Apply one record; -1 with err on a rule violation (corruption). */
static int replay_record(struct srv_wal_replay *rp, uint8_t type, const uint8_t *p, uint32_t len, char *err,
                         size_t errlen)
{
	switch (type) {
	case SRV_WAL_ENTRY: {
		if (len < 17)
			return srv_errf(err, errlen, "entry record of %u bytes is shorter than 17", len);
		raft_index idx = srv_get_u64(p);
		raft_term term = srv_get_u64(p + 8);
		uint8_t et = p[16];
		if (idx == 0 || term == 0)
			return srv_errf(err, errlen, "entry record: index %" PRIu64 " term %" PRIu64 " (zero)", idx, term);
		if (et < RAFT_ENTRY_COMMAND || et > RAFT_ENTRY_CONFIG)
			return srv_errf(err, errlen, "entry %" PRIu64 ": unknown entry type %u", idx, et);
		if (rp->n == 0) {
			if (rp->have_last && idx != rp->last + 1)
				return srv_errf(err, errlen, "entry %" PRIu64 " follows index %" PRIu64 " (gap or overlap)", idx,
				                rp->last);
			rp->first = idx;
		} else if (idx != rp->first + rp->n) {
			return srv_errf(err, errlen, "entry %" PRIu64 " follows index %" PRIu64 " (gap or overlap)", idx,
			                rp->first + rp->n - 1);
		}
		if (rp->n == rp->cap) {
			size_t nc = rp->cap ? rp->cap * 2 : 256;
			struct raft_entry *ne = realloc(rp->entries, nc * sizeof *ne);
			if (!ne)
				return srv_errf(err, errlen, "out of memory");
			rp->entries = ne;
			rp->cap = nc;
		}
		struct raft_entry *e = &rp->entries[rp->n];
		e->term = term;
		e->type = et;
		e->buf.len = len - 17;
		e->buf.base = malloc(e->buf.len ? e->buf.len : 1);
		if (!e->buf.base)
			return srv_errf(err, errlen, "out of memory");
		memcpy(e->buf.base, p + 17, e->buf.len);
		rp->n++;
		rp->last = idx;
		rp->have_last = true;
		if (idx > rp->seg_max)
			rp->seg_max = idx;
		return 0;
	}
	case SRV_WAL_TRUNCATE: {
		if (len != 8)
			return srv_errf(err, errlen, "truncate record of %u bytes (want 8)", len);
		raft_index idx = srv_get_u64(p);
		if (idx == 0)
			return srv_errf(err, errlen, "truncate record: index 0");
		if (rp->have_last && idx > rp->last + 1)
			return srv_errf(err, errlen, "truncate at %" PRIu64 " beyond last index %" PRIu64, idx, rp->last);
		if (rp->n && idx >= rp->first)
			drop_from(rp, idx - rp->first);
		else
			drop_from(rp, 0);
		rp->last = idx - 1;
		rp->have_last = true;
		return 0;
	}
	case SRV_WAL_RESET: {
		if (len != 16)
			return srv_errf(err, errlen, "reset record of %u bytes (want 16)", len);
		drop_from(rp, 0);
		rp->last = rp->base_index = srv_get_u64(p);
		rp->base_term = srv_get_u64(p + 8);
		rp->have_last = true;
		if (rp->last > rp->seg_max)
			rp->seg_max = rp->last; /* keeps its segment until a snapshot passes it */
		return 0;
	}
	case SRV_WAL_VOTE: {
		if (len != 16)
			return srv_errf(err, errlen, "vote record of %u bytes (want 16)", len);
		raft_term t = srv_get_u64(p);
		if (t < rp->term)
			return srv_errf(err, errlen, "vote record: term %" PRIu64 " after term %" PRIu64 " (went backwards)", t,
			                rp->term);
		rp->term = t;
		rp->vote = srv_get_u64(p + 8);
		return 0;
	}
	default:
		return srv_errf(err, errlen, "unknown record type %u", type);
	}
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

int srv_wal_scan(const uint8_t *buf, size_t len, bool is_last, struct srv_wal_replay *rp, size_t *valid_len,
                 char *err, size_t errlen)
{
	*valid_len = 0;
	rp->seg_max = 0;
	if (len < SRV_WAL_MAGIC_LEN) {
		/* A segment is created with its magic in one write: a short file
		 * is a crash during creation, if it is the last one. */
		if (is_last && (all_zero(buf, len) || memcmp(buf, SRV_WAL_MAGIC, len) == 0))
			return 1;
		return srv_errf(err, errlen, "offset 0: file of %zu bytes is too short for the magic", len);
	}
	if (memcmp(buf, SRV_WAL_MAGIC, SRV_WAL_MAGIC_LEN) != 0) {
		if (is_last && all_zero(buf, len))
			return 1;
		return srv_errf(err, errlen, "offset 0: bad magic (not a raftnode WAL segment)");
	}
	size_t off = SRV_WAL_MAGIC_LEN;
	while (off < len) {
		size_t rem = len - off;
		*valid_len = off;
		if (rem < SRV_WAL_HDR) {
			if (is_last)
				return 1; /* partial header at the end: torn */
			return srv_errf(err, errlen, "offset %zu: partial record header (%zu bytes) in a closed segment", off,
			                rem);
		}
		const uint8_t *h = buf + off;
		uint32_t plen = srv_get_u32(h);
		uint8_t type = h[4];
		bool hdr_ok = srv_crc32c(0, h, 8) == srv_get_u32(h + 8) && h[5] == 0 && h[6] == 0 && h[7] == 0;
		if (!hdr_ok) {
			/* A torn header can only be followed by what the crash left:
			 * zeros. Anything else after it is damage, not a tear. */
			if (is_last && all_zero(h, rem))
				return 1;
			return srv_errf(err, errlen, "offset %zu: record header checksum mismatch", off);
		}
		if (plen > SRV_WAL_MAX_RECORD)
			return srv_errf(err, errlen, "offset %zu: record length %u exceeds the %u byte cap", off, plen,
			                SRV_WAL_MAX_RECORD);
		if (rem - SRV_WAL_HDR < plen) {
			if (is_last)
				return 1; /* payload cut short: torn */
			return srv_errf(err, errlen, "offset %zu: record of %u bytes runs past the end of a closed segment",
			                off, plen);
		}
		const uint8_t *p = h + SRV_WAL_HDR;
		if (srv_crc32c(0, p, plen) != srv_get_u32(h + 12)) {
			size_t after = off + SRV_WAL_HDR + plen;
			if (is_last && all_zero(buf + after, len - after))
				return 1; /* last record, bad payload: its write was torn */
			return srv_errf(err, errlen, "offset %zu: record payload checksum mismatch (type %u, %u bytes)", off,
			                type, plen);
		}
		if (replay_record(rp, type, p, plen, err, errlen) != 0)
			return srv_err_ctx(err, errlen, "offset %zu", off);
		off += SRV_WAL_HDR + (size_t)plen;
	}
	*valid_len = len;
	return 0;
}

/* ---- encoding --------------------------------------------------------- */

static int put_record(struct srv_wal *w, uint8_t type, const uint8_t *head, size_t head_len, const void *data,
                      size_t data_len)
{
	size_t plen = head_len + data_len;
	if (plen > SRV_WAL_MAX_RECORD)
		return -1;
	if (srv_buf_reserve(&w->pending, SRV_WAL_HDR + plen) != 0)
		return -1;
	uint8_t *h = w->pending.p + w->pending.len;
	srv_put_u32(h, (uint32_t)plen);
	h[4] = type;
	h[5] = h[6] = h[7] = 0;
	srv_put_u32(h + 8, srv_crc32c(0, h, 8));
	uint8_t *p = h + SRV_WAL_HDR;
	memcpy(p, head, head_len);
	if (data_len)
		memcpy(p + head_len, data, data_len);
	srv_put_u32(h + 12, srv_crc32c(0, p, plen));
	w->pending.len += SRV_WAL_HDR + plen;
	w->pending_records++;
	return 0;
}

static int put_vote(struct srv_wal *w)
{
	uint8_t v[16];
	srv_put_u64(v, w->term);
	srv_put_u64(v + 8, w->vote);
	return put_record(w, SRV_WAL_VOTE, v, 16, NULL, 0);
}

/* ---- files ------------------------------------------------------------ */

static int wait_job(struct srv_wal *w, char *err, size_t errlen);
static int start_worker(struct srv_wal *w, char *err, size_t errlen);

static void seg_path(const struct srv_wal *w, uint64_t seq, char *out, size_t n)
{
	snprintf(out, n, "%s/wal-%016" PRIx64 ".log", w->dir, seq);
}

static int write_all(int fd, const uint8_t *p, size_t n, off_t off)
{
	while (n) {
		ssize_t k = pwrite(fd, p, n, off);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
		off += k;
	}
	return 0;
}

static int push_seg(struct srv_wal *w, uint64_t seq, raft_index max_index)
{
	if (w->n_segs == w->cap_segs) {
		size_t nc = w->cap_segs ? w->cap_segs * 2 : 16;
		struct srv_wal_seg *ns = realloc(w->segs, nc * sizeof *ns);
		if (!ns)
			return -1;
		w->segs = ns;
		w->cap_segs = nc;
	}
	w->segs[w->n_segs++] = (struct srv_wal_seg){seq, max_index};
	return 0;
}

/* Create segment seq holding the magic and the current vote, durably, and
 * make it the open one. */
static int new_segment(struct srv_wal *w, uint64_t seq, char *err, size_t errlen)
{
	char path[4200];
	seg_path(w, seq, path, sizeof path);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return srv_errf(err, errlen, "create %s: %s", path, strerror(errno));
	struct srv_buf saved = w->pending;
	unsigned saved_n = w->pending_records;
	memset(&w->pending, 0, sizeof w->pending);
	int rc = srv_buf_append(&w->pending, SRV_WAL_MAGIC, SRV_WAL_MAGIC_LEN) == 0 && put_vote(w) == 0 ? 0 : -1;
	if (rc == 0 && write_all(fd, w->pending.p, w->pending.len, 0) != 0)
		rc = srv_errf(err, errlen, "write %s: %s", path, strerror(errno));
	else if (rc != 0)
		srv_errf(err, errlen, "new segment: out of memory");
	if (rc == 0 && w->fsync && fdatasync(fd) != 0)
		rc = srv_errf(err, errlen, "fdatasync %s: %s", path, strerror(errno));
	uint64_t size = w->pending.len;
	srv_buf_free(&w->pending);
	w->pending = saved;
	w->pending_records = saved_n;
	if (rc == 0 && w->fsync && srv_fsync_dir(w->dir, err, errlen) != 0)
		rc = -1;
	if (rc == 0 && push_seg(w, seq, 0) != 0)
		rc = srv_errf(err, errlen, "new segment: out of memory");
	if (rc != 0) {
		close(fd);
		return rc;
	}
	if (w->fd >= 0)
		close(w->fd);
	w->fd = fd;
	w->size = size;
	return 0;
}

static int read_file(const char *path, uint8_t **out, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return srv_errf(err, errlen, "open %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return srv_errf(err, errlen, "stat %s: %s", path, strerror(errno));
	}
	size_t n = (size_t)st.st_size;
	uint8_t *b = malloc(n ? n : 1);
	if (!b) {
		close(fd);
		return srv_errf(err, errlen, "read %s: out of memory", path);
	}
	size_t got = 0;
	while (got < n) {
		ssize_t k = read(fd, b + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			int e = k < 0 ? errno : EIO;
			free(b);
			close(fd);
			return srv_errf(err, errlen, "read %s: %s", path, k < 0 ? strerror(e) : "file shrank");
		}
		got += (size_t)k;
	}
	close(fd);
	*out = b;
	*len = n;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorted sequence numbers of the segment files in dir. */
static int list_segments(const char *dir, uint64_t **out, size_t *n, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d)
		return srv_errf(err, errlen, "open directory %s: %s", dir, strerror(errno));
	uint64_t *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		unsigned long long seq;
		int used = 0;
		if (sscanf(de->d_name, "wal-%16llx.log%n", &seq, &used) != 1 || used != (int)strlen(de->d_name) ||
		    strlen(de->d_name) != 24)
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			uint64_t *nv = realloc(v, cap * sizeof *nv);
			if (!nv) {
				free(v);
				closedir(d);
				return srv_errf(err, errlen, "out of memory");
			}
			v = nv;
		}
		v[cnt++] = seq;
	}
	closedir(d);
	if (cnt > 1)
		qsort(v, cnt, sizeof *v, cmp_u64);
	*out = v;
	*n = cnt;
	return 0;
}

int srv_wal_open(struct srv_wal **out, const struct srv_wal_opts *o, raft_index snap_index, raft_term snap_term,
                 struct srv_wal_replay *st, char *err, size_t errlen)
{
	memset(st, 0, sizeof *st);
	struct srv_wal *w = calloc(1, sizeof *w);
	if (!w)
		return srv_errf(err, errlen, "out of memory");
	w->fd = -1;
	w->pipe_r = w->pipe_w = -1;
	w->fsync = o->fsync;
	w->segment_bytes = o->segment_bytes ? o->segment_bytes : (8u << 20);
	if (strlen(o->dir) >= sizeof w->dir) {
		free(w);
		return srv_errf(err, errlen, "wal directory path too long");
	}
	strcpy(w->dir, o->dir);
	if (mkdir(w->dir, 0755) != 0 && errno != EEXIST) {
		srv_errf(err, errlen, "mkdir %s: %s", w->dir, strerror(errno));
		free(w);
		return -1;
	}
	uint64_t *seqs = NULL;
	size_t n_seqs = 0;
	if (list_segments(w->dir, &seqs, &n_seqs, err, errlen) != 0) {
		free(w);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < n_seqs && rc == 0; i++) {
		char path[4200];
		seg_path(w, seqs[i], path, sizeof path);
		if (i > 0 && seqs[i] != seqs[i - 1] + 1) {
			rc = srv_errf(err, errlen, "%s: segment %016" PRIx64 " is missing before it", path, seqs[i - 1] + 1);
			break;
		}
		uint8_t *buf = NULL;
		size_t len = 0, valid = 0;
		if (read_file(path, &buf, &len, err, errlen) != 0) {
			rc = -1;
			break;
		}
		bool last = i + 1 == n_seqs;
		int s = srv_wal_scan(buf, len, last, st, &valid, err, errlen);
		free(buf);
		if (s < 0) {
			rc = srv_err_ctx(err, errlen, "corrupt WAL %s", path);
			break;
		}
		if (s == 1) {
			/* Torn tail of the last segment: cut it away durably. */
			int fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd < 0 || ftruncate(fd, (off_t)valid) != 0 || (w->fsync && fdatasync(fd) != 0)) {
				rc = srv_errf(err, errlen, "truncate torn tail of %s at %zu: %s", path, valid, strerror(errno));
				if (fd >= 0)
					close(fd);
				break;
			}
			close(fd);
			if (o->notice) {
				char msg[4400];
				snprintf(msg, sizeof msg, "wal: %s: torn record at offset %zu (of %zu bytes) cut away", path,
				         valid, len);
				o->notice(o->notice_ud, msg);
			}
			len = valid;
		}
		if (push_seg(w, seqs[i], st->seg_max) != 0) {
			rc = srv_errf(err, errlen, "out of memory");
			break;
		}
		if (last && valid >= SRV_WAL_MAGIC_LEN) {
			w->fd = open(path, O_RDWR | O_CLOEXEC);
			if (w->fd < 0)
				rc = srv_errf(err, errlen, "open %s: %s", path, strerror(errno));
			w->size = len;
		} else if (last) {
			/* Even the magic was torn: recreate this segment. */
			w->n_segs--;
			if (unlink(path) != 0)
				rc = srv_errf(err, errlen, "unlink torn segment %s: %s", path, strerror(errno));
		}
	}
	/* The next segment follows the last one, or replaces it when even its
	 * magic was torn (then it was unlinked above and w->fd is still -1). */
	uint64_t next_seq = 0;
	if (n_seqs)
		next_seq = w->fd < 0 ? seqs[n_seqs - 1] : seqs[n_seqs - 1] + 1;
	free(seqs);
	if (rc != 0)
		goto fail;

	/* Does the durable log continue the snapshot? Its entry at snap_index
	 * must have snap_term, or its last RESET must be to exactly that. A
	 * snapshot taken or installed past what was synced, then a crash, can
	 * leave a log that ends before it or runs on another branch. */
	bool cont = true;
	raft_index s_last = st->n ? st->first + st->n - 1 : 0;
	if (snap_index) {
		if (st->n && snap_index >= st->first && snap_index <= s_last)
			cont = st->entries[snap_index - st->first].term == snap_term;
		else if ((st->n && st->first == snap_index + 1) || (!st->n && st->have_last && st->last == snap_index))
			cont = st->base_index == snap_index && st->base_term == snap_term;
		else
			cont = false;
	}
	if (!cont && st->n && s_last > snap_index && st->first <= snap_index + 1) {
		if (o->notice) {
			char msg[512];
			snprintf(msg, sizeof msg,
			         "wal: log entries %" PRIu64 "..%" PRIu64 " do not continue the snapshot at %" PRIu64
			         " (term %" PRIu64 "): dropped, the log restarts after the snapshot",
			         st->first, s_last, snap_index, snap_term);
			o->notice(o->notice_ud, msg);
		}
		drop_from(st, 0);
		st->first = snap_index + 1;
	}
	/* Keep only what follows the snapshot; the rest must be contiguous. */
	if (st->n && st->first <= snap_index) {
		size_t drop = snap_index - st->first + 1;
		if (drop > st->n)
			drop = st->n;
		for (size_t i = 0; i < drop; i++)
			free(st->entries[i].buf.base);
		memmove(st->entries, st->entries + drop, (st->n - drop) * sizeof *st->entries);
		st->n -= drop;
		st->first += drop;
	}
	if (st->n && st->first != snap_index + 1) {
		rc = srv_errf(err, errlen, "corrupt WAL in %s: entries start at %" PRIu64 " but the snapshot ends at %" PRIu64
		              " (missing entries)", w->dir, st->first, snap_index);
		goto fail;
	}
	if (!st->n)
		st->first = snap_index + 1;
	w->term = st->term;
	w->vote = st->vote;
	w->last_index = st->n ? st->first + st->n - 1 : snap_index;
	w->durable_index = w->last_index;
	if (w->fd < 0 && new_segment(w, next_seq, err, errlen) != 0) {
		rc = -1;
		goto fail;
	}
	/* The log does not continue the snapshot: record that it now does
	 * (RESET to the snapshot), so the next replay sees neither a gap nor
	 * another branch before the entries appended from here on. Written
	 * with the first sync, ahead of them. */
	if (!cont && srv_wal_reset(w, snap_index, snap_term, err, errlen) != 0) {
		rc = -1;
		goto fail;
	}
	if (o->async) {
		w->async = true;
		if (start_worker(w, err, errlen) != 0) {
			rc = -1;
			goto fail;
		}
	}
	*out = w;
	return 0;
fail:
	srv_wal_replay_free(st);
	srv_wal_close(w);
	return rc ? rc : -1;
}

void srv_wal_close(struct srv_wal *w)
{
	if (!w)
		return;
	if (w->worker_started) {
		char err[256];
		wait_job(w, err, sizeof err); /* a failure here has nobody left to tell */
		pthread_mutex_lock(&w->mu);
		w->quit = true;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->worker, NULL);
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
	}
	if (w->pipe_r >= 0)
		close(w->pipe_r);
	if (w->pipe_w >= 0)
		close(w->pipe_w);
	srv_buf_free(&w->job_buf);
	if (w->fd >= 0)
		close(w->fd);
	srv_buf_free(&w->pending);
	free(w->segs);
	free(w);
}

int srv_wal_append(struct srv_wal *w, raft_index first, const struct raft_entry *e, unsigned n, char *err,
                   size_t errlen)
{
	if (first == 0 || first > w->last_index + 1)
		return srv_errf(err, errlen, "wal append at %" PRIu64 " leaves a gap after %" PRIu64, first, w->last_index);
	size_t mark = w->pending.len;
	unsigned mark_n = w->pending_records;
	if (first <= w->last_index) {
		uint8_t t[8];
		srv_put_u64(t, first);
		if (put_record(w, SRV_WAL_TRUNCATE, t, 8, NULL, 0) != 0)
			goto oom;
	}
	for (unsigned i = 0; i < n; i++) {
		uint8_t head[17];
		srv_put_u64(head, first + i);
		srv_put_u64(head + 8, e[i].term);
		head[16] = e[i].type;
		if (put_record(w, SRV_WAL_ENTRY, head, 17, e[i].buf.base, e[i].buf.len) != 0)
			goto oom;
	}
	if (n) {
		w->last_index = first + n - 1;
		if (w->last_index > w->pending_max)
			w->pending_max = w->last_index;
	} else {
		w->last_index = first - 1;
	}
	return 0;
oom:
	w->pending.len = mark;
	w->pending_records = mark_n;
	return srv_errf(err, errlen, "wal append: out of memory or record too large");
}

int srv_wal_reset(struct srv_wal *w, raft_index index, raft_term term, char *err, size_t errlen)
{
	uint8_t t[16];
	srv_put_u64(t, index);
	srv_put_u64(t + 8, term);
	if (put_record(w, SRV_WAL_RESET, t, 16, NULL, 0) != 0)
		return srv_errf(err, errlen, "wal reset: out of memory");
	w->last_index = index;
	if (index > w->pending_max)
		w->pending_max = index; /* its segment stays until a snapshot passes it */
	return 0;
}

void srv_wal_discard_pending(struct srv_wal *w)
{
	w->pending.len = 0;
	w->pending_records = 0;
	w->pending_max = 0;
	/* The log now ends where the handed-over (written or in-flight) part
	 * ends; the caller's RESET follows. */
	w->last_index = w->async && job_get(w) != JOB_IDLE ? w->job_last_index : w->durable_index;
}

int srv_wal_set_vote(struct srv_wal *w, raft_term term, raft_id vote, char *err, size_t errlen)
{
	raft_term ot = w->term;
	raft_id ov = w->vote;
	w->term = term;
	w->vote = vote;
	if (put_vote(w) != 0) {
		w->term = ot;
		w->vote = ov;
		return srv_errf(err, errlen, "wal vote: out of memory");
	}
	raft_index durable;
	return srv_wal_sync(w, &durable, err, errlen);
}

bool srv_wal_pending(const struct srv_wal *w)
{
	return w->pending.len > 0;
}

int srv_wal_sync(struct srv_wal *w, raft_index *durable, char *err, size_t errlen)
{
	/* Records must reach the file in order: finish the batch in flight. */
	if (wait_job(w, err, errlen) != 0)
		return -1;
	if (w->pending.len) {
		if (write_all(w->fd, w->pending.p, w->pending.len, (off_t)w->size) != 0)
			return srv_errf(err, errlen, "wal write (segment %016" PRIx64 "): %s", w->segs[w->n_segs - 1].seq,
			                strerror(errno));
		if (w->fsync && fdatasync(w->fd) != 0)
			return srv_errf(err, errlen, "wal fdatasync (segment %016" PRIx64 "): %s", w->segs[w->n_segs - 1].seq,
			                strerror(errno));
		w->size += w->pending.len;
		w->stat_syncs++;
		w->stat_records += w->pending_records;
		struct srv_wal_seg *cur = &w->segs[w->n_segs - 1];
		if (w->pending_max > cur->max_index)
			cur->max_index = w->pending_max;
		w->pending_max = 0;
		w->pending.len = 0;
		w->pending_records = 0;
		/* Do not keep a huge buffer around after a snapshot-sized batch. */
		if (w->pending.cap > (4u << 20))
			srv_buf_free(&w->pending);
		if (w->size >= w->segment_bytes &&
		    new_segment(w, w->segs[w->n_segs - 1].seq + 1, err, errlen) != 0)
			return srv_err_ctx(err, errlen, "wal rotate");
	}
	w->durable_index = w->last_index;
	*durable = w->last_index;
	return 0;
}

/* ---- background sync ------------------------------------------------------ */

static void *worker_main(void *arg)
{
	struct srv_wal *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (job_get(w) != JOB_RUNNING && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (job_get(w) != JOB_RUNNING)
			break; /* quit, nothing to do */
		int fd = w->fd;
		const uint8_t *p = w->job_buf.p;
		size_t len = w->job_buf.len;
		off_t off = (off_t)w->job_offset;
		bool sync = w->fsync;
		pthread_mutex_unlock(&w->mu);
		int e = 0;
		const char *what = NULL;
		if (write_all(fd, p, len, off) != 0) {
			e = errno;
			what = "write";
		} else if (sync && fdatasync(fd) != 0) {
			e = errno;
			what = "fdatasync";
		}
		pthread_mutex_lock(&w->mu);
		w->job_errno = e;
		w->job_what = what;
		job_set(w, JOB_DONE);
		pthread_cond_broadcast(&w->cv);
		char one = 1;
		if (write(w->pipe_w, &one, 1) < 0 && errno != EAGAIN) {
			/* The loop also finds the result when it waits; nothing lost. */
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static int start_worker(struct srv_wal *w, char *err, size_t errlen)
{
	int fds[2];
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
		return srv_errf(err, errlen, "wal: pipe: %s", strerror(errno));
	w->pipe_r = fds[0];
	w->pipe_w = fds[1];
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	int rc = pthread_create(&w->worker, NULL, worker_main, w);
	if (rc != 0) {
		close(w->pipe_r);
		close(w->pipe_w);
		w->pipe_r = w->pipe_w = -1;
		return srv_errf(err, errlen, "wal: start sync thread: %s", strerror(rc));
	}
	w->worker_started = true;
	return 0;
}

/* A finished job: account for it (loop thread, job done). */
static int job_complete(struct srv_wal *w, char *err, size_t errlen)
{
	pthread_mutex_lock(&w->mu);
	int e = w->job_errno;
	const char *what = w->job_what;
	job_set(w, JOB_IDLE);
	pthread_mutex_unlock(&w->mu);
	if (what)
		return srv_errf(err, errlen, "wal %s (segment %016" PRIx64 "): %s", what, w->segs[w->n_segs - 1].seq,
		                strerror(e));
	w->size += w->job_buf.len;
	w->stat_syncs++;
	w->stat_records += w->job_records;
	struct srv_wal_seg *cur = &w->segs[w->n_segs - 1];
	if (w->job_max_index > cur->max_index)
		cur->max_index = w->job_max_index;
	w->durable_index = w->job_last_index;
	w->job_buf.len = 0;
	if (w->job_buf.cap > (4u << 20))
		srv_buf_free(&w->job_buf);
	if (w->size >= w->segment_bytes && new_segment(w, w->segs[w->n_segs - 1].seq + 1, err, errlen) != 0)
		return srv_err_ctx(err, errlen, "wal rotate");
	return 0;
}

static int wait_job(struct srv_wal *w, char *err, size_t errlen)
{
	if (!w->worker_started)
		return 0;
	pthread_mutex_lock(&w->mu);
	while (job_get(w) == JOB_RUNNING)
		pthread_cond_wait(&w->cv, &w->mu);
	int st = job_get(w);
	pthread_mutex_unlock(&w->mu);
	return st == JOB_DONE ? job_complete(w, err, errlen) : 0;
}

int srv_wal_sync_start(struct srv_wal *w, char *err, size_t errlen)
{
	if (!w->async)
		return srv_errf(err, errlen, "wal: background sync not enabled");
	if (!w->pending.len || job_get(w) != JOB_IDLE)
		return 0;
	/* Hand the pending buffer to the worker; take its (empty) one back. */
	struct srv_buf t = w->job_buf;
	pthread_mutex_lock(&w->mu);
	w->job_buf = w->pending;
	w->job_records = w->pending_records;
	w->job_last_index = w->last_index;
	w->job_max_index = w->pending_max;
	w->job_offset = w->size;
	job_set(w, JOB_RUNNING);
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	w->pending = t;
	w->pending.len = 0;
	w->pending_records = 0;
	w->pending_max = 0;
	return 0;
}

int srv_wal_poll_done(struct srv_wal *w, char *err, size_t errlen)
{
	char buf[64];
	while (w->pipe_r >= 0 && read(w->pipe_r, buf, sizeof buf) > 0)
		;
	if (!w->worker_started)
		return 0;
	pthread_mutex_lock(&w->mu);
	int st = job_get(w);
	pthread_mutex_unlock(&w->mu);
	if (st != JOB_DONE)
		return 0;
	return job_complete(w, err, errlen) == 0 ? 1 : -1;
}

bool srv_wal_busy(const struct srv_wal *w)
{
	return job_get(w) != JOB_IDLE;
}

int srv_wal_notify_fd(const struct srv_wal *w)
{
	return w->pipe_r;
}

int srv_wal_compact(struct srv_wal *w, raft_index upto, char *err, size_t errlen)
{
	size_t k = 0;
	while (k + 1 < w->n_segs && w->segs[k].max_index <= upto) {
		char path[4200];
		seg_path(w, w->segs[k].seq, path, sizeof path);
		if (unlink(path) != 0 && errno != ENOENT)
			return srv_errf(err, errlen, "unlink %s: %s", path, strerror(errno));
		k++;
	}
	if (!k)
		return 0;
	memmove(w->segs, w->segs + k, (w->n_segs - k) * sizeof *w->segs);
	w->n_segs -= k;
	return w->fsync ? srv_fsync_dir(w->dir, err, errlen) : 0;
}

raft_index srv_wal_last_index(const struct srv_wal *w) { return w->last_index; }
raft_index srv_wal_durable_index(const struct srv_wal *w) { return w->durable_index; }
unsigned srv_wal_segments(const struct srv_wal *w) { return (unsigned)w->n_segs; }
void srv_wal_stats(const struct srv_wal *w, uint64_t *syncs, uint64_t *records)
{
	*syncs = w->stat_syncs;
	*records = w->stat_records;
}
