/* cmd_id.c - `wipeer id`: placeholder until the identity module lands (issue 2). */
#include <stdio.h>
#include "cli.h"

int cmd_id(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "wipeer: id: %s\n", wp_strerror(WP_EUNSUPPORTED));
    return CLI_FAIL;
}
