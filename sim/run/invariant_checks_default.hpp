// The default of RunOptions::check_invariants (sim/run/invariants.hpp): true in a build configured
// with -DSTRESSLAB_CHECK_INVARIANTS=ON (implied by -DSTRESSLAB_SANITIZE=ON); the doctest executables
// set it to true at start-up (tests/doctest_main.cpp). No includes, so any test main can set it.
#pragma once

namespace sl {

#ifdef STRESSLAB_CHECK_INVARIANTS
inline bool g_check_invariants_default = true;
#else
inline bool g_check_invariants_default = false;
#endif

}  // namespace sl
