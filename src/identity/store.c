/*
 * store.c - private files in the state directory (see store.h).
 *
 * Why this shape: a key file must never be half-written, silently replaced,
 * read through a symlink planted by someone else, or readable by other
 * users. So every access goes through a checked directory fd (openat & co),
 * new files appear only by link/rename of a complete, fsync'ed temporary
 * file, and ownership and mode are checked with fstat on the opened fd (no
 * check-then-open race).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "identity/store.h"

/* Enough for ".identity.pem.tmp-" + 16 hex digits; names are short constants. */
#define TMP_NAME_MAX 128
#define TMP_TRIES 4

/* Record a failed read/write/sync: WP_EIO with the errno text. */
static wp_status io_fail(wp_err *err, int sys_errno, const char *path, const char *what)
{
    (void)err_sys(err, sys_errno, "%s: %s failed", path, what);
    if (err)
        err->code = WP_EIO;
    return WP_EIO;
}

static void join_path(char *out, size_t out_len, const char *dir, const char *name)
{
    int n = snprintf(out, out_len, "%s/%s", dir, name);
    if (n < 0 && out_len > 0)
        out[0] = '\0';
}

/*
 * The object behind st must be a directory (is_dir) or regular file owned
 * by us, with no group/other permission bits. fix_mode is "700" or "600".
 */
static wp_status check_private(const struct stat *st, const char *path, bool is_dir, wp_err *err)
{
    const char *fix_mode = is_dir ? "700" : "600";
    unsigned mode = (unsigned)(st->st_mode & 07777);

    if (is_dir && !S_ISDIR(st->st_mode))
        return err_set(err, WP_EPERM, "%s: not a directory", path);
    if (!is_dir && !S_ISREG(st->st_mode))
        return err_set(err, WP_EPERM, "%s: not a regular file; refusing to use it", path);
    if (st->st_uid != geteuid())
        return err_set(err, WP_EPERM,
                       "%s: owned by uid %lu, not by the current user (uid %lu); "
                       "fix: chown %lu %s && chmod %s %s",
                       path, (unsigned long)st->st_uid, (unsigned long)geteuid(),
                       (unsigned long)geteuid(), path, fix_mode, path);
    if ((mode & 077u) != 0)
        return err_set(err, WP_EPERM,
                       "%s: mode %04o gives group/other access, expected 0%s; fix: chmod %s %s",
                       path, mode, fix_mode, fix_mode, path);
    return WP_OK;
}

/* Explain why open(O_NOFOLLOW) of path (relative to dirfd) failed with e. */
static wp_status open_fail(wp_err *err, int dirfd, const char *name, const char *path, int e)
{
    struct stat st;

    if (e == ENOENT)
        return err_set(err, WP_ENOTFOUND, "%s: does not exist", path);
    /* ELOOP is what O_NOFOLLOW gives for a symlink; ENOTDIR may be one too. */
    if ((e == ELOOP || e == ENOTDIR) && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(st.st_mode))
        return err_set(err, WP_EPERM,
                       "%s: is a symbolic link; refusing to follow it (replace it with the real "
                       "file or directory, mode 0600/0700)",
                       path);
    if (e == ENOTDIR)
        return err_set(err, WP_EPERM, "%s: not a directory", path);
    return err_sys(err, e, "%s: open failed", path);
}

/* mkdir -p path with mode 0700. *out_made is set if the last component was created. */
static wp_status make_dirs(const char *path, bool *out_made, wp_err *err)
{
    char p[WP_HOME_MAX];
    size_t len = strlen(path);

    *out_made = false;
    if (len >= sizeof p)
        return err_set(err, WP_ETOOBIG, "directory path too long (%zu bytes)", len);
    memcpy(p, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if ((p[i] != '/' && p[i] != '\0') || p[i - 1] == '/')
            continue;
        char save = p[i];
        p[i] = '\0';
        if (mkdir(p, 0700) == 0) {
            *out_made = (save == '\0');
        } else {
            int e = errno;
            struct stat st;
            /* An existing component is fine (mkdir may say EACCES/EROFS first). */
            if (e != EEXIST && !(stat(p, &st) == 0 && S_ISDIR(st.st_mode)))
                return err_sys(err, e, "%s: cannot create directory", p);
        }
        p[i] = save;
    }
    return WP_OK;
}

static int open_dir_nofollow(const char *path)
{
    int fd;
    do {
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

wp_status store_dir_open(const char *path, bool create, int *out_fd, wp_err *err)
{
    wp_status rc;
    int fd = -1;
    bool made = false;
    struct stat st;

    *out_fd = -1;
    fd = open_dir_nofollow(path);
    if (fd < 0 && errno == ENOENT && create) {
        rc = make_dirs(path, &made, err);
        if (rc != WP_OK)
            goto out;
        fd = open_dir_nofollow(path);
    }
    if (fd < 0) {
        rc = open_fail(err, AT_FDCWD, path, path, errno);
        goto out;
    }
    /* mkdir's mode was reduced by the umask: set exactly 0700 on what we made. */
    if (made && fchmod(fd, 0700) != 0) {
        rc = err_sys(err, errno, "%s: chmod 700 failed", path);
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        rc = err_sys(err, errno, "%s: stat failed", path);
        goto out;
    }
    rc = check_private(&st, path, true, err);
    if (rc != WP_OK)
        goto out;
    *out_fd = fd;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

void store_dir_close(int fd)
{
    if (fd >= 0)
        close(fd);
}

wp_status store_read(int dirfd, const char *dir_path, const char *name, size_t max, char **out,
                     size_t *out_len, wp_err *err)
{
    wp_status rc;
    char path[WP_HOME_MAX + TMP_NAME_MAX];
    int fd = -1;
    char *buf = NULL;
    size_t cap = 0, got = 0;
    struct stat st;

    *out = NULL;
    *out_len = 0;
    join_path(path, sizeof path, dir_path, name);
    /* O_NONBLOCK: a FIFO planted in our place must not hang us (regular files ignore it). */
    do {
        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        rc = open_fail(err, dirfd, name, path, errno);
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        rc = err_sys(err, errno, "%s: stat failed", path);
        goto out;
    }
    rc = check_private(&st, path, false, err);
    if (rc != WP_OK)
        goto out;
    if (st.st_size < 0 || (uintmax_t)st.st_size > max) {
        rc = err_set(err, WP_ECORRUPT, "%s: %jd bytes, larger than the %zu allowed", path,
                     (intmax_t)st.st_size, max);
        goto out;
    }
    cap = (size_t)st.st_size;
    buf = wp_malloc(cap + 1);
    if (!buf) {
        rc = err_set(err, WP_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    while (got < cap) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = io_fail(err, errno, path, "read");
            goto out;
        }
        if (r == 0)
            break; /* shorter than fstat said: the parser will see what is there */
        got += (size_t)r;
    }
    if (got == cap) {
        /* Files are published whole and never modified in place; growth means tampering. */
        char extra;
        ssize_t r;
        do {
            r = read(fd, &extra, 1);
        } while (r < 0 && errno == EINTR);
        if (r > 0) {
            rc = err_set(err, WP_ECORRUPT, "%s: changed while being read", path);
            goto out;
        }
    }
    buf[got] = '\0';
    *out = buf;
    *out_len = got;
    buf = NULL;
    rc = WP_OK;
out:
    wp_free_secret(buf, cap + 1);
    if (fd >= 0)
        close(fd);
    return rc;
}

static wp_status write_all(int fd, const uint8_t *p, size_t len, const char *path, wp_err *err)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = write(fd, p + done, len - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return io_fail(err, errno, path, "write");
        if (r == 0)
            return io_fail(err, ENOSPC, path, "write");
        done += (size_t)r;
    }
    return WP_OK;
}

/* Create a fresh temporary file for name; *out_fd open for writing, mode 0600. */
static wp_status create_tmp(int dirfd, const char *dir_path, const char *name,
                            char tmp[TMP_NAME_MAX], int *out_fd, wp_err *err)
{
    static const char hex[] = "0123456789abcdef";
    wp_status rc = WP_OK;

    *out_fd = -1;
    for (int tries = 0; tries < TMP_TRIES; tries++) {
        uint8_t rnd[8];
        char suffix[2 * sizeof rnd + 1];

        rc = crypto_random(rnd, sizeof rnd, err);
        if (rc != WP_OK)
            return rc;
        for (size_t i = 0; i < sizeof rnd; i++) {
            suffix[2 * i] = hex[rnd[i] >> 4];
            suffix[2 * i + 1] = hex[rnd[i] & 0xf];
        }
        suffix[2 * sizeof rnd] = '\0';
        int n = snprintf(tmp, TMP_NAME_MAX, ".%s.tmp-%s", name, suffix);
        if (n < 0 || n >= TMP_NAME_MAX)
            return err_set(err, WP_EINVAL, "file name too long: %s", name);
        int fd;
        do {
            fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        } while (fd < 0 && errno == EINTR);
        if (fd >= 0) {
            *out_fd = fd;
            return WP_OK;
        }
        if (errno != EEXIST)
            return err_sys(err, errno, "%s/%s: cannot create temporary file", dir_path, tmp);
    }
    return err_set(err, WP_EEXIST, "%s: no free temporary file name for %s", dir_path, name);
}

/*
 * Make tmp visible as name. Without replace, link(2) fails with EEXIST
 * when name exists, which is how a concurrent creator is detected. Some
 * filesystems have no hard links; there we check and rename, accepting a
 * small window in which a concurrent creator could be overwritten.
 */
static wp_status publish(int dirfd, const char *tmp, const char *name, bool replace,
                         const char *path, wp_err *err)
{
    struct stat st;

    if (replace) {
        if (renameat(dirfd, tmp, dirfd, name) != 0)
            return err_sys(err, errno, "%s: rename failed", path);
        return WP_OK;
    }
    if (linkat(dirfd, tmp, dirfd, name, 0) == 0)
        return WP_OK;
    int e = errno;
    if (e == EEXIST)
        return err_set(err, WP_EEXIST, "%s: already exists", path);
    if (e != EPERM && e != ENOTSUP && e != EOPNOTSUPP && e != EMLINK && e != ENOSYS)
        return err_sys(err, e, "%s: link failed", path);
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return err_set(err, WP_EEXIST, "%s: already exists", path);
    if (renameat(dirfd, tmp, dirfd, name) != 0)
        return err_sys(err, errno, "%s: rename failed", path);
    return WP_OK;
}

wp_status store_write(int dirfd, const char *dir_path, const char *name, const void *data,
                      size_t len, bool replace, wp_err *err)
{
    wp_status rc;
    char tmp[TMP_NAME_MAX];
    char path[WP_HOME_MAX + TMP_NAME_MAX];
    int fd = -1;
    bool has_tmp = false;

    tmp[0] = '\0';
    join_path(path, sizeof path, dir_path, name);
    rc = create_tmp(dirfd, dir_path, name, tmp, &fd, err);
    if (rc != WP_OK)
        goto out;
    has_tmp = true;
    /* The umask may have removed owner bits from 0600; make it exact. */
    if (fchmod(fd, 0600) != 0) {
        rc = err_sys(err, errno, "%s: chmod 600 of temporary file failed", path);
        goto out;
    }
    rc = write_all(fd, data, len, path, err);
    if (rc != WP_OK)
        goto out;
    if (fsync(fd) != 0) {
        rc = io_fail(err, errno, path, "fsync of the new file");
        goto out;
    }
    int fd_copy = fd;
    fd = -1;
    if (close(fd_copy) != 0) {
        rc = io_fail(err, errno, path, "close of the new file");
        goto out;
    }
    rc = publish(dirfd, tmp, name, replace, path, err);
    if (rc != WP_OK)
        goto out;
    if (!replace) {
        /* link left tmp behind; rename consumed it. */
        if (unlinkat(dirfd, tmp, 0) != 0) {
            rc = err_sys(err, errno, "%s/%s: cannot remove temporary file", dir_path, tmp);
            goto out;
        }
    }
    has_tmp = false;
    /* Make the new name (and the removal of tmp) durable. */
    if (fsync(dirfd) != 0) {
        rc = io_fail(err, errno, dir_path, "fsync of the directory (the file was written)");
        goto out;
    }
    rc = WP_OK;
out:
    if (fd >= 0)
        close(fd);
    if (has_tmp)
        (void)unlinkat(dirfd, tmp, 0);
    return rc;
}
