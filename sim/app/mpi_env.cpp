#include "sim/app/mpi_env.hpp"

#include <cstdlib>
#include <initializer_list>

#ifdef STRESSLAB_HAVE_MPI
// C API only: the deprecated C++ bindings would need libmpi_cxx.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace sl::cli {

namespace {
MpiEnv g_env;

bool launched_by_mpirun() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (std::getenv(v) != nullptr) return true;
  return false;
}
}  // namespace

const MpiEnv& mpi_init(int* argc, char*** argv) {
#ifdef STRESSLAB_HAVE_MPI
  if (!g_env.active && launched_by_mpirun()) {
    MPI_Init(argc, argv);
    g_env.active = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_env.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_env.size);
  }
#else
  (void)argc;
  (void)argv;
#endif
  return g_env;
}

const MpiEnv& mpi_env() { return g_env; }

void mpi_barrier() {
#ifdef STRESSLAB_HAVE_MPI
  if (g_env.active) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

void mpi_finalize() {
#ifdef STRESSLAB_HAVE_MPI
  if (g_env.active) {
    MPI_Finalize();
    g_env.active = false;
  }
#endif
}

void mpi_abort(int exit_code) {
#ifdef STRESSLAB_HAVE_MPI
  if (g_env.active && g_env.size > 1) MPI_Abort(MPI_COMM_WORLD, exit_code);
#endif
  std::exit(exit_code);
}

bool mpi_launched_without_support() { return !mpi_compiled_in() && launched_by_mpirun(); }

bool mpi_compiled_in() {
#ifdef STRESSLAB_HAVE_MPI
  return true;
#else
  return false;
#endif
}

}  // namespace sl::cli
