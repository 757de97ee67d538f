# Writes the generated sim/version.hpp (from sim/version.hpp.in) with the commit checked out now.
# Run at configure time and again at every build (target sl_version), so a build directory
# configured at an older commit still records, in every results file, the commit its sources come
# from. configure_file rewrites OUT only when its content changes: nothing recompiles otherwise.
#   cmake -DSOURCE_DIR=<repo> -DOUT=<build>/generated/sim/version.hpp -DPROJECT_VERSION=<x.y.z> -P write_version.cmake
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE STRESSLAB_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT STRESSLAB_GIT_COMMIT)
  set(STRESSLAB_GIT_COMMIT "unknown")
endif()
configure_file(${SOURCE_DIR}/sim/version.hpp.in ${OUT} @ONLY)
