/*
 * fuzz_txt.c - TXT rdata parsing and building (src/dns/txt.c).
 * Input: TXT rdata. Oracle: every attribute found by iteration is found by
 * txt_find (first occurrence wins), and rebuilding the attributes with the
 * builder gives data in which each first occurrence reads back the same.
 */
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"
#include "dns/txt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    txt_iter it;
    txt_item item, found;
    txt_wipeer_info info;
    static uint8_t mem[70000];
    wp_wbuf w;
    txt_wipeer_parse(data, size, &info);
    if (info.is_connectable && info.version < TXT_WIPEER_MIN_VERSION)
        abort();
    wp_status rc = txt_check(data, size, NULL);
    wbuf_init(&w, mem, sizeof mem);
    txt_iter_init(&it, data, size);
    while (txt_iter_next(&it, &item, NULL) == WP_OK) {
        if (item.key_len == 0 || item.key_len > 255 || (item.has_value != (item.value != NULL)))
            abort();
        char key[256];
        memcpy(key, item.key, item.key_len);
        key[item.key_len] = '\0';
        bool printable = strlen(key) == item.key_len;
        for (size_t i = 0; i < item.key_len; i++)
            printable &= item.key[i] >= 0x20 && item.key[i] <= 0x7E;
        if (!printable)
            continue;
        if (txt_find(data, size, key, &found, NULL) != WP_OK)
            abort();
        /* Rebuild: the first occurrence of each key goes in, later ones are refused. */
        wp_status add = txt_add(&w, key, found.value, found.value_len, NULL);
        if (add != WP_OK && add != WP_EEXIST)
            abort();
    }
    if (rc != WP_OK)
        return 0;
    if (txt_check(w.data, w.len, NULL) != WP_OK)
        abort();
    txt_iter_init(&it, w.data, w.len);
    while (txt_iter_next(&it, &item, NULL) == WP_OK) {
        char key[256];
        memcpy(key, item.key, item.key_len);
        key[item.key_len] = '\0';
        if (txt_find(data, size, key, &found, NULL) != WP_OK || found.has_value != item.has_value ||
            found.value_len != item.value_len ||
            (item.value_len && memcmp(found.value, item.value, item.value_len) != 0))
            abort();
    }
    return 0;
}
