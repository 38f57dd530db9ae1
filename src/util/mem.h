/*
 * mem.h - every allocation of libwipeer goes through here, so that an
 * application can install its own allocator (wp_set_allocator) and tests
 * can fail the Nth allocation (mem_fail_after).
 */
#ifndef WP_UTIL_MEM_H
#define WP_UTIL_MEM_H

#include <stddef.h>

void *wp_malloc(size_t n);
void *wp_calloc(size_t count, size_t size); /* overflow-checked */
void *wp_realloc(void *p, size_t n);
void wp_free(void *p);
char *wp_strdup(const char *s);

/* Overwrite a secret so the compiler cannot elide it. */
void wp_wipe(void *p, size_t n);
/* wp_wipe then wp_free; p may be NULL. */
void wp_free_secret(void *p, size_t n);

/* Once any wp_ object exists the allocator is frozen (wp_set_allocator fails). */
void mem_freeze_allocator(void);

/* Tests: fail every allocation after n more succeed; -1 disables. Not thread-safe. */
void mem_fail_after(long n);

#endif
