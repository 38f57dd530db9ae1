/* A program outside the tree, built against an installed libwipeer. */
#include <stdio.h>
#include <string.h>
#include <wipeer.h>

int main(void)
{
    if (strcmp(wp_version(), WP_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s != library %s\n", WP_VERSION_STRING, wp_version());
        return 1;
    }
    wp_pubkey pk;
    memset(&pk, 0, sizeof pk);
    wp_fingerprint fp;
    if (wp_fingerprint_of(&pk, &fp) != WP_OK)
        return 1;
    char s[WP_FINGERPRINT_SHORT_STR];
    wp_fingerprint_format_short(&fp, s);
    printf("consumer ok: wipeer %s, %s\n", wp_version(), s);
    return 0;
}
