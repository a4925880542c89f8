// MPI interop for mezo/distributed.hpp: a Communicator over the application's
// own communicator. The one libmezo header that includes <mpi.h>.
#pragma once

#include <mpi.h>

#include "mezo/distributed.hpp"

MEZO_BEGIN_NAMESPACE

// A Communicator over a duplicate of `comm` (so libmezo's messages never
// match the application's). MPI must be initialised.
inline Communicator communicator_from_mpi(MPI_Comm comm, CommunicatorOptions options = {}) {
  return Communicator::from_mpi_handle(MPI_Comm_c2f(comm), options);
}

MEZO_END_NAMESPACE
