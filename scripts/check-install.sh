#!/bin/sh
# Packaging check (run by CI): build a release tree, install it into a
# temporary prefix, then build and run a consumer through find_package(wipeer)
# and through pkg-config; check that only wp_* symbols are exported, the
# SONAME, and that the version in wipeer.h matches project(VERSION).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake -S "$top" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DWIPEER_BUILD_TESTS=OFF \
  -DWIPEER_BUILD_BENCH=OFF -DWIPEER_WERROR=ON -DCMAKE_INSTALL_PREFIX="$work/prefix" >/dev/null
cmake --build "$work/build" -j "$(nproc)" >/dev/null
cmake --install "$work/build" >/dev/null
libdir=$(ls -d "$work"/prefix/lib*/ | head -1)

# 1. CMake package
cmake -S "$top/tests/install" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null
LD_LIBRARY_PATH="$libdir" "$work/consumer/consumer"

# 2. pkg-config
PKG_CONFIG_PATH="$libdir/pkgconfig" cc -o "$work/consumer-pc" "$top/tests/install/consumer.c" \
  $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs wipeer)
LD_LIBRARY_PATH="$libdir" "$work/consumer-pc"

# 3. exported symbols: wp_* only
so=$(ls "$libdir"/libwipeer.so.* | head -1)
bad=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^wp_' | grep -v '^WIPEER_' || true)
if [ -n "$bad" ]; then echo "check-install: non-wp_ symbols exported:"; echo "$bad"; exit 1; fi
objdump -p "$so" | grep -q 'SONAME *libwipeer.so.0' || { echo "check-install: bad SONAME"; exit 1; }

# 4. the installed CLI and man page
"$work/prefix/bin/wipeer" --version >/dev/null
test -f "$work/prefix/share/man/man1/wipeer.1"

# 5. version consistency: project(VERSION) == WP_VERSION_STRING
pv=$(sed -n 's/^project(wipeer VERSION \([0-9.]*\).*/\1/p' "$top/CMakeLists.txt")
hv=$(sed -n 's/^#define WP_VERSION_STRING "\(.*\)"/\1/p' "$top/include/wipeer.h")
[ "$pv" = "$hv" ] || { echo "check-install: CMake version $pv != wipeer.h $hv"; exit 1; }
echo "check-install: ok ($(nm -D --defined-only "$so" | grep -c ' wp_') exported wp_ symbols)"
