/*
 * vecscript.h - the scripted connection behind the protocol vectors
 * (docs/PROTOCOL.md Appendix A), shared by the generator and the test.
 *
 * vec_run() plays one connection with fixed identity keys and fixed
 * randomness. Without golden values it records everything (inputs, key
 * schedule values, signatures, every frame). With golden values it replays
 * the recorded signatures through the sign hook (after verifying them) and
 * requires every derived value and every frame either engine writes to be
 * identical to the golden one, feeding each engine the golden frames.
 */
#ifndef WP_TESTS_CORE_VECSCRIPT_H
#define WP_TESTS_CORE_VECSCRIPT_H

#include <stddef.h>
#include <stdint.h>

#define VEC_MAX 96
#define VEC_NAME 40

struct vec {
    size_t n;
    char name[VEC_MAX][VEC_NAME];
    uint8_t *val[VEC_MAX];
    size_t len[VEC_MAX];
};

void vec_init(struct vec *v);
void vec_clear(struct vec *v);
void vec_put(struct vec *v, const char *name, const uint8_t *p, size_t n);
const uint8_t *vec_get(const struct vec *v, const char *name, size_t *out_len);

/*
 * Play the script for one suite. golden NULL: generate into out. Else
 * verify against golden (out receives what was produced). Returns 0, or -1
 * with a reason in why.
 */
int vec_run(uint16_t suite, const struct vec *golden, struct vec *out, char *why, size_t why_len);

/* Parse "name = hex" lines between "[suite XXXX]" headers. Returns 0 or -1. */
int vec_load(const char *path, uint16_t suite, struct vec *out);

#endif
