#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "sim/run/invariant_checks_default.hpp"

// The test build checks the kernel's invariants after the liquidation stage of every step of every
// run (sim/run/invariants.hpp), whatever the CMake options.
static const bool kInvariantsChecked = (sl::g_check_invariants_default = true);
