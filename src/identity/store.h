/*
 * store.h - private files in the state directory: safe open, whole-file
 * read and atomic publish. Used by the identity (and usable by the trust
 * store, which rewrites its file with replace = true).
 *
 * Everything is relative to a directory file descriptor from store_dir_open,
 * so a directory swapped for a symlink after the checks is never followed.
 * dir_path is only used in error messages.
 */
#ifndef WP_IDENTITY_STORE_H
#define WP_IDENTITY_STORE_H

#include "internal.h"

/* Largest private file store_read accepts by default (a PEM key is < 1 KiB). */
#define STORE_FILE_MAX (64u * 1024u)

/*
 * Open the directory path. With create, a missing directory (and missing
 * parents) is made with mode 0700. The directory must be a real directory
 * (not a symlink), owned by the effective user, without group/other mode
 * bits: otherwise WP_EPERM with the path, mode and fix. WP_ENOTFOUND if it
 * is missing and !create. *out_fd: close with store_dir_close.
 */
WP_NODISCARD wp_status store_dir_open(const char *path, bool create, int *out_fd, wp_err *err);
void store_dir_close(int fd);

/*
 * Read the whole private file name in dirfd. WP_ENOTFOUND if it does not
 * exist; WP_EPERM if it is a symlink, not a regular file, not owned by the
 * effective user or has group/other mode bits; WP_ECORRUPT if it is larger
 * than max bytes; WP_EIO if reading fails. *out is NUL-terminated and
 * allocated; free with wp_free_secret(*out, *out_len + 1).
 */
WP_NODISCARD wp_status store_read(int dirfd, const char *dir_path, const char *name, size_t max,
                                  char **out, size_t *out_len, wp_err *err);

/*
 * Publish len bytes as name in dirfd, mode 0600, atomically: write a
 * temporary file in the same directory (O_EXCL|O_NOFOLLOW), fsync it, then
 * hard-link it to name (replace = false; WP_EEXIST if name already exists)
 * or rename it over name (replace = true), then fsync the directory.
 * The temporary file is removed on every path. WP_EIO if writing or syncing
 * fails; when only the directory fsync fails, name has been published.
 */
WP_NODISCARD wp_status store_write(int dirfd, const char *dir_path, const char *name,
                                   const void *data, size_t len, bool replace, wp_err *err);

#endif
