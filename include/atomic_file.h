/*
 * atomic_file.h - replace a file whole: readers see the old content or the
 * new one, never half of it, and the new one survives a power loss.
 *
 * The data goes to a temporary file in the same directory (".NAME.XXXXXX",
 * created with O_EXCL, so collectors that read "*.prom" or "*.html" skip
 * it), which is synced, renamed over NAME, and the directory synced.  On
 * any failure the temporary file is removed and NAME is untouched.
 */
#ifndef BOUNCED_ATOMIC_FILE_H
#define BOUNCED_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * atomic_file_write - PATH := LEN bytes of DATA, with permissions MODE
 * (before the umask).  0 or -errno with ERR naming the file and the step
 * that failed.
 */
int atomic_file_write(const char *path, const void *data, size_t len,
		      mode_t mode, char *err, size_t errlen);

/* atomic_file_sync_dir - fsync the directory DIR, so that a rename or a
   new name in it survives a power loss; 0 or -errno */
int atomic_file_sync_dir(const char *dir);

#endif
