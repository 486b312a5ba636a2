/*
 * test_atomic_file.c - atomic_file.c: a file is replaced whole, with its
 * mode; a name that is not a regular file (FIFO, directory, symbolic link
 * to a file or to /dev/null) is refused and left as it is, with no
 * temporary file left behind; the mode of a file in the state or the
 * spool is closed to others.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "ttmp.h"

static char *tmp;

static int setup(void **state)
{
	(void)state;
	tmp = ttmp_make("test_atomic");
	return tmp ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return ttmp_remove(&tmp);
}

static gint name_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* entries - the names in DIR, sorted, joined with ' ' */
static char *entries(const char *dir)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *n;
	GString *s = g_string_new(NULL);
	guint i;

	assert_non_null(d);
	while ((n = g_dir_read_name(d)) != NULL)
		g_ptr_array_add(a, g_strdup(n));
	g_dir_close(d);
	g_ptr_array_sort(a, name_cmp);
	for (i = 0; i < a->len; i++)
		g_string_append_printf(s, "%s%s", i ? " " : "",
				       (char *)a->pdata[i]);
	g_ptr_array_free(a, TRUE);
	return g_string_free(s, FALSE);
}

static void test_replaces_regular(void **state)
{
	char *path = g_build_filename(tmp, "f.txt", NULL);
	char err[512], *text = NULL, *names;
	struct stat sb;
	mode_t mask = umask(0);

	(void)state;
	assert_int_equal(atomic_file_write(path, "one", 3, 0640, err,
					   sizeof(err)), 0);
	assert_int_equal(atomic_file_write(path, "two", 3, 0600, err,
					   sizeof(err)), 0);
	umask(mask);
	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	assert_string_equal(text, "two");
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	names = entries(tmp);
	assert_string_equal(names, "f.txt");
	g_free(names);
	g_free(text);
	g_free(path);
}

static void test_refuses_what_is_not_ours(void **state)
{
	static const char *const kinds[] = {
		"a FIFO", "a directory", "a symbolic link", "a symbolic link",
	};
	char *fifo = g_build_filename(tmp, "fifo", NULL);
	char *dir = g_build_filename(tmp, "dir", NULL);
	char *lnull = g_build_filename(tmp, "null", NULL);
	char *other = g_build_filename(tmp, "other.txt", NULL);
	char *lfile = g_build_filename(tmp, "lfile", NULL);
	const char *paths[4];
	char err[512], want[256], *text = NULL, *names;
	struct stat sb;
	size_t i;

	(void)state;
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(symlink("/dev/null", lnull), 0);
	assert_true(g_file_set_contents(other, "keep", -1, NULL));
	assert_int_equal(symlink(other, lfile), 0);
	paths[0] = fifo;
	paths[1] = dir;
	paths[2] = lnull;
	paths[3] = lfile;
	for (i = 0; i < 4; i++) {
		assert_int_equal(atomic_file_write(paths[i], "x", 1, 0644, err,
						   sizeof(err)), -EEXIST);
		snprintf(want, sizeof(want), "'%s' is %s, not a regular file",
			 paths[i], kinds[i]);
		if (!strstr(err, want))
			print_message("%s\n", err);
		assert_non_null(strstr(err, want));
	}
	assert_int_equal(lstat(fifo, &sb), 0);
	assert_true(S_ISFIFO(sb.st_mode));
	assert_int_equal(lstat(lnull, &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	assert_true(g_file_get_contents(other, &text, NULL, NULL));
	assert_string_equal(text, "keep");
	/* no temporary file left */
	names = entries(tmp);
	assert_string_equal(names, "dir fifo lfile null other.txt");
	g_free(names);
	g_free(text);
	g_free(fifo);
	g_free(dir);
	g_free(lnull);
	g_free(other);
	g_free(lfile);
}

/* test_rename_new - a rename that never replaces: -EEXIST, both left */
static void test_rename_new(void **state)
{
	char *a = g_build_filename(tmp, "a", NULL);
	char *b = g_build_filename(tmp, "b", NULL);
	char *c = g_build_filename(tmp, "c", NULL);
	char *text = NULL, *names;

	(void)state;
	assert_true(g_file_set_contents(a, "first", -1, NULL));
	assert_true(g_file_set_contents(b, "second", -1, NULL));
	assert_int_equal(atomic_file_rename_new(b, a), -EEXIST);
	assert_true(g_file_get_contents(a, &text, NULL, NULL));
	assert_string_equal(text, "first");
	g_free(text);
	assert_int_equal(atomic_file_rename_new(b, c), 0);
	assert_true(g_file_get_contents(c, &text, NULL, NULL));
	assert_string_equal(text, "second");
	assert_int_equal(atomic_file_rename_new(b, c), -ENOENT);
	names = entries(tmp);
	assert_string_equal(names, "a c");
	g_free(names);
	g_free(text);
	g_free(c);
	g_free(b);
	g_free(a);
}

static void test_mode_in(void **state)
{
	char *state_dir = g_build_filename(tmp, "state", NULL);
	char *sub = g_build_filename(state_dir, "graphs", NULL);
	char *in = g_build_filename(sub, "a.png", NULL);
	char *beside = g_build_filename(tmp, "state-other", "a.png", NULL);
	char *out = g_build_filename(tmp, "a.png", NULL);
	char *dotted = g_strconcat(tmp, "/state/../a.png", NULL);
	char *bdir = g_path_get_dirname(beside);

	assert_int_equal(g_mkdir_with_parents(sub, 0750), 0);
	assert_int_equal(g_mkdir_with_parents(bdir, 0750), 0);
	g_free(bdir);
	(void)state;
	assert_int_equal(atomic_file_mode_in(in, 0644, state_dir, NULL), 0640);
	assert_int_equal(atomic_file_mode_in(in, 0644, NULL, state_dir), 0640);
	assert_int_equal(atomic_file_mode_in(out, 0644, state_dir, NULL), 0644);
	assert_int_equal(atomic_file_mode_in(beside, 0644, state_dir, NULL),
			 0644);
	assert_int_equal(atomic_file_mode_in(dotted, 0644, state_dir, NULL),
			 0644);
	assert_int_equal(atomic_file_mode_in(in, 0644, NULL, NULL), 0644);
	g_free(state_dir);
	g_free(sub);
	g_free(in);
	g_free(beside);
	g_free(out);
	g_free(dotted);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_replaces_regular, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refuses_what_is_not_ours,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_new, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_in, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
