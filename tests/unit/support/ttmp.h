/*
 * ttmp.h - a fresh temporary directory for a unit test, removed with
 * everything under it at the end.  Shared by every unit test that writes
 * files; the directory is made under $TMPDIR (or /tmp) by GLib.
 */
#ifndef BOUNCED_TTMP_H
#define BOUNCED_TTMP_H

/* ttmp_make - a new directory PREFIX-XXXXXX under the temporary directory;
   g_free it (ttmp_remove does); NULL with a message on stderr */
char *ttmp_make(const char *prefix);
/* ttmp_rm_tree - remove PATH and what is under it, links not followed;
   a PATH already gone is no error; 0 or -1 with a message on stderr */
int ttmp_rm_tree(const char *path);
/* ttmp_remove - remove *DIR with everything under it, g_free it and set
   it to NULL (NULL is nothing to do); 0 or -1 with a message on stderr */
int ttmp_remove(char **dir);

#endif
