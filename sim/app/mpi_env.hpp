// Thin MPI layer for `run` and `sweep`: without MPI support compiled in, or when the process was
// not started by mpirun, everything is a no-op (rank 0 of 1). MPI is initialised only when the
// launcher's environment says so (OMPI_COMM_WORLD_SIZE / PMIX_RANK / PMI_SIZE), so a plain
// `stresslab run` never pays for MPI start-up.
#pragma once

namespace sl::cli {

struct MpiEnv {
  int rank = 0;
  int size = 1;
  bool active = false;  // MPI_Init was called (and MPI_Finalize will be)
};

// Initialises MPI when launched by mpirun; safe to call once. Returns the process's rank/size.
const MpiEnv& mpi_init(int* argc, char*** argv);
const MpiEnv& mpi_env();
void mpi_barrier();
void mpi_finalize();
// Ends every rank (after an error on this rank that the others cannot know about).
[[noreturn]] void mpi_abort(int exit_code);
// True when the binary was built with MPI support.
bool mpi_compiled_in();
// True when mpirun started this process but MPI support is not compiled in: every rank would then
// run the whole sweep into the same files, so the CLI refuses (exit 2).
bool mpi_launched_without_support();

}  // namespace sl::cli
