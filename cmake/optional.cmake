# Optional backends, included by the top-level CMakeLists.txt after
# wipeer_obj exists and WP_EXTRA_LIBS is reset, before the library targets
# link ${WP_EXTRA_LIBS}. Each backend lives in src/<area>/opt_*.c (excluded
# from the default glob) and is added here when its dependency is found.

# Avahi: register and browse through a running avahi-daemon (src/runtime/avahi.h).
option(WIPEER_AVAHI "Build the Avahi discovery backend if avahi-client is found" ON)
set(WP_HAVE_AVAHI OFF)
set(WP_PC_REQUIRES_EXTRA "")
set(WP_CONFIG_DEPS_EXTRA "")
if(WIPEER_AVAHI)
  pkg_check_modules(AVAHI IMPORTED_TARGET avahi-client)
  if(AVAHI_FOUND)
    set(WP_HAVE_AVAHI ON)
    target_sources(wipeer_obj PRIVATE
      ${PROJECT_SOURCE_DIR}/src/runtime/opt_avahi.c
      ${PROJECT_SOURCE_DIR}/src/runtime/opt_avahi_browse.c)
    target_compile_definitions(wipeer_obj PRIVATE WP_HAVE_AVAHI)
    # Headers only; the library targets link it through WP_EXTRA_LIBS.
    target_include_directories(wipeer_obj SYSTEM PRIVATE ${AVAHI_INCLUDE_DIRS})
    list(APPEND WP_EXTRA_LIBS PkgConfig::AVAHI)
    string(APPEND WP_PC_REQUIRES_EXTRA ", avahi-client")
    string(APPEND WP_CONFIG_DEPS_EXTRA
      "find_dependency(PkgConfig)\npkg_check_modules(AVAHI REQUIRED IMPORTED_TARGET avahi-client)\n")
    message(STATUS "wipeer: Avahi backend enabled (avahi-client ${AVAHI_VERSION})")
  else()
    message(STATUS "wipeer: Avahi backend disabled (avahi-client not found: apt-get install libavahi-client-dev)")
  endif()
endif()
