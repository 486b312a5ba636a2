/*
 * atomic_file.h - replace a file whole: readers see the old content or the
 * new one, never half of it, and the new one survives a power loss.
 *
 * The data goes to a temporary file in the same directory (".NAME.XXXXXX",
 * created with O_EXCL, so collectors that read "*.prom" or "*.html" skip
 * it), which is synced, renamed over NAME, and the directory synced.  On
 * any failure the temporary file is removed and NAME is untouched.  Only a
 * regular file (or no file) named NAME is ever replaced: a device, FIFO,
 * socket, directory or symbolic link there is refused (-EEXIST).
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

/* atomic_file_rename_new - rename FROM to TO unless TO exists, in one step
   (renameat2 RENAME_NOREPLACE, or link(2) then unlink(2) where the file
   system has no such rename); 0, -EEXIST when TO exists, or -errno.
   Nothing is synced. */
int atomic_file_rename_new(const char *from, const char *to);

/* atomic_file_check_target - 0 when PATH is absent or a regular file;
   -EEXIST with ERR ("'PATH' is a character device, not a regular file")
   when it is anything else, symbolic links included; -errno when it
   cannot be looked at */
int atomic_file_check_target(const char *path, char *err, size_t errlen);

/* atomic_file_kind - "a symbolic link", "a character device"… for the
   file type bits of M */
const char *atomic_file_kind(mode_t m);

/* atomic_file_mode_in - MODE for a file written at PATH: without the bits
   for others when PATH's directory is DIR1 or DIR2 or lies inside one of
   them (the state and the spool keep to bounced's user and group) */
mode_t atomic_file_mode_in(const char *path, mode_t mode, const char *dir1,
			   const char *dir2);

/* atomic_file_sync_dir - fsync the directory DIR, so that a rename or a
   new name in it survives a power loss; 0 or -errno */
int atomic_file_sync_dir(const char *dir);

#endif
