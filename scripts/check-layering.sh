#!/bin/sh
# Dependencies point one way (docs/DESIGN.md): sockets, threads and clocks
# live only in src/runtime/, OpenSSL only in src/crypto/, and the CLI uses
# only the public header.
set -eu
fail=0
check() { # pattern, allowed-dir-regex, description
  hits=$(grep -rnE "$1" src cli --include='*.c' --include='*.h' | grep -vE "^$2" || true)
  if [ -n "$hits" ]; then
    echo "layering: $3 outside allowed place:"; echo "$hits"; fail=1
  fi
}
check '#include <sys/socket.h>|#include <pthread.h>|clock_gettime|#include <sys/epoll.h>' 'src/runtime/|cli/' 'sockets/threads/clocks'
check '#include <openssl/' 'src/crypto/' 'OpenSSL'
hits=$(grep -rnE '#include "(internal|core/|crypto/|util/|codec/|dns/|runtime/)' cli || true)
if [ -n "$hits" ]; then echo "layering: cli/ includes internal headers:"; echo "$hits"; fail=1; fi
[ $fail = 0 ] && echo "layering: ok"
exit $fail
