#include "internal.h"

#include <stdatomic.h>
#include <stdlib.h>

static void *(*g_malloc)(size_t) = malloc;
static void *(*g_realloc)(void *, size_t) = realloc;
static void (*g_free)(void *) = free;
static atomic_bool g_frozen;
static long g_fail_after = -1;

/* see wipeer.h */
wp_status wp_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t),
                           void (*free_fn)(void *))
{
    if (atomic_load(&g_frozen))
        return WP_ESTATE;
    bool all = malloc_fn && realloc_fn && free_fn;
    bool none = !malloc_fn && !realloc_fn && !free_fn;
    if (!all && !none)
        return WP_EINVAL;
    g_malloc = all ? malloc_fn : malloc;
    g_realloc = all ? realloc_fn : realloc;
    g_free = all ? free_fn : free;
    return WP_OK;
}

void mem_freeze_allocator(void)
{
    atomic_store(&g_frozen, true);
}

void mem_fail_after(long n)
{
    g_fail_after = n;
}

static bool should_fail(void)
{
    if (g_fail_after < 0)
        return false;
    if (g_fail_after == 0)
        return true;
    g_fail_after--;
    return false;
}

void *wp_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return g_malloc(n ? n : 1);
}

void *wp_calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    size_t n = count * size;
    void *p = wp_malloc(n);
    if (p)
        memset(p, 0, n ? n : 1);
    return p;
}

void *wp_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return g_realloc(p, n ? n : 1);
}

void wp_free(void *p)
{
    if (p)
        g_free(p);
}

char *wp_strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = wp_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void wp_wipe(void *p, size_t n)
{
    if (!p || n == 0)
        return;
    /* A volatile function pointer keeps the compiler from removing the store. */
    static void *(*const volatile vmemset)(void *, int, size_t) = memset;
    vmemset(p, 0, n);
}

void wp_free_secret(void *p, size_t n)
{
    if (!p)
        return;
    wp_wipe(p, n);
    wp_free(p);
}
