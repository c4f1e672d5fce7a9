/* test_nem_lazyfs_meta.c — unit tests of rapat-lazyfs's namespace journal on
 * a temporary directory: a crash undoes creations, links, renames (also over
 * existing files), unlinks and rmdirs exactly; a commit keeps them; errors
 * match what the syscalls would say. */
#include "nemesis/disk/nem_lazyfs_meta.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

static char dir[64];
static int bfd;

static void put(const char *name, const char *content)
{
	int fd = openat(bfd, name, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

static void expect(const char *name, const char *content)
{
	char buf[64] = "";
	int fd = openat(bfd, name, O_RDONLY);
	if (fd < 0)
		fail_msg("%s: %s", name, strerror(errno));
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = 0;
	assert_string_equal(buf, content);
}

static bool exists(const char *name)
{
	struct stat st;
	return fstatat(bfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int entries(const char *name)
{
	int fd = openat(bfd, name, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	DIR *d = fdopendir(fd);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

static int setup(void **state)
{
	snprintf(dir, sizeof dir, "/tmp/test_nem_lf_meta.XXXXXX");
	assert_non_null(mkdtemp(dir));
	bfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(bfd >= 0);
	put("keep", "K");
	put("victim", "V");
	put("target", "T");
	put("a", "A");
	put("b", "B");
	assert_int_equal(mkdirat(bfd, "d1", 0755), 0);
	assert_int_equal(mkdirat(bfd, "full", 0755), 0);
	put("full/inside", "I");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	close(bfd);
	return system(cmd) == 0 ? 0 : -1;
}

static void do_ops(struct nem_lf_meta *m)
{
	int fd = -1;
	assert_int_equal(nem_lf_meta_create(m, 'f', "new", NULL, O_WRONLY, 0644, 0, &fd), 0);
	assert_int_equal(write(fd, "N", 1), 1);
	close(fd);
	assert_int_equal(nem_lf_meta_create(m, 'd', "d2", NULL, 0, 0755, 0, NULL), 0);
	assert_int_equal(nem_lf_meta_create(m, 'f', "d2/deep", NULL, O_WRONLY, 0644, 0, &fd), 0);
	close(fd);
	assert_int_equal(nem_lf_meta_rename(m, "keep", "keep2", 0), 0);
	assert_int_equal(nem_lf_meta_remove(m, "victim", false), 0);
	assert_int_equal(nem_lf_meta_remove(m, "d1", true), 0);
	assert_int_equal(nem_lf_meta_rename(m, "new", "target", 0), 0); /* replaces T */
	assert_int_equal(nem_lf_meta_create(m, 'h', "hl", "keep2", 0, 0, 0, NULL), 0);
	assert_int_equal(nem_lf_meta_create(m, 'l', "sl", "somewhere", 0, 0, 0, NULL), 0);
	assert_int_equal(nem_lf_meta_rename(m, "a", "b", RENAME_EXCHANGE), 0);
	/* Applied at once. */
	expect("keep2", "K");
	expect("hl", "K");
	expect("target", "N");
	expect("a", "B");
	assert_false(exists("victim"));
	assert_false(exists("d1"));
	assert_false(exists("keep"));
}

static void test_undo_restores_everything(void **state)
{
	struct nem_lf_meta *m;
	assert_int_equal(nem_lf_meta_new(bfd, NULL, &m), 0);
	assert_true(exists(NEM_LF_TRASH));
	do_ops(m);
	assert_int_equal(nem_lf_meta_pending(m), 10);
	unsigned undone, failed;
	nem_lf_meta_undo(m, &undone, &failed);
	assert_int_equal(undone, 10);
	assert_int_equal(failed, 0);
	expect("keep", "K");
	expect("victim", "V");
	expect("target", "T");
	expect("a", "A");
	expect("b", "B");
	assert_true(exists("d1"));
	expect("full/inside", "I");
	assert_false(exists("new") || exists("d2") || exists("keep2") || exists("hl") || exists("sl"));
	assert_int_equal(entries(NEM_LF_TRASH), 0);
	assert_int_equal(nem_lf_meta_pending(m), 0);
	nem_lf_meta_free(m);
}

static void test_commit_keeps(void **state)
{
	struct nem_lf_meta *m;
	assert_int_equal(nem_lf_meta_new(bfd, NULL, &m), 0);
	do_ops(m);
	nem_lf_meta_commit(m);
	assert_int_equal(entries(NEM_LF_TRASH), 0); /* replaced and removed entries are gone for good */
	unsigned undone, failed;
	nem_lf_meta_undo(m, &undone, &failed);
	assert_int_equal(undone, 0);
	expect("keep2", "K");
	expect("target", "N");
	assert_false(exists("victim"));
	/* Ops after the commit are undone, ops before it are not. */
	assert_int_equal(nem_lf_meta_rename(m, "keep2", "keep3", 0), 0);
	nem_lf_meta_undo(m, &undone, &failed);
	assert_int_equal(undone, 1);
	expect("keep2", "K");
	nem_lf_meta_free(m);
	/* A restart finds and empties a leftover trash. */
	assert_int_equal(mkdirat(bfd, NEM_LF_TRASH "/junk", 0700), 0);
	assert_int_equal(nem_lf_meta_new(bfd, NULL, &m), 0);
	assert_int_equal(entries(NEM_LF_TRASH), 0);
	nem_lf_meta_free(m);
}

static void test_errors(void **state)
{
	struct nem_lf_meta *m;
	assert_int_equal(nem_lf_meta_new(bfd, NULL, &m), 0);
	assert_int_equal(nem_lf_meta_remove(m, "nonexistent", false), -ENOENT);
	assert_int_equal(nem_lf_meta_remove(m, "d1", false), -EISDIR);
	assert_int_equal(nem_lf_meta_remove(m, "keep", true), -ENOTDIR);
	assert_int_equal(nem_lf_meta_remove(m, "full", true), -ENOTEMPTY);
	assert_int_equal(nem_lf_meta_rename(m, "d1", "keep", 0), -ENOTDIR);
	assert_int_equal(nem_lf_meta_rename(m, "keep", "d1", 0), -EISDIR);
	assert_int_equal(nem_lf_meta_rename(m, "keep", "victim", RENAME_NOREPLACE), -EEXIST);
	assert_int_equal(nem_lf_meta_rename(m, "d1", "full", 0), -ENOTEMPTY);
	assert_int_equal(nem_lf_meta_rename(m, "nonexistent", "x", 0), -ENOENT);
	int fd;
	assert_int_equal(nem_lf_meta_create(m, 'f', "keep", NULL, O_WRONLY | O_EXCL, 0644, 0, &fd), -EEXIST);
	assert_int_equal(nem_lf_meta_create(m, 'd', NEM_LF_TRASH "/x", NULL, 0, 0755, 0, NULL), -EACCES);
	assert_int_equal(nem_lf_meta_remove(m, NEM_LF_TRASH, true), -ENOENT);
	assert_true(nem_lf_meta_hidden("/" NEM_LF_TRASH "/1"));
	assert_false(nem_lf_meta_hidden(NEM_LF_TRASH "x"));
	/* Nothing was journaled by the refusals; the tree is untouched. */
	assert_int_equal(nem_lf_meta_pending(m), 0);
	expect("keep", "K");
	expect("victim", "V");
	nem_lf_meta_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_undo_restores_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_keeps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
