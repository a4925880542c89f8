# MPI for distributed MeZO (the mezo::mpi target, src/mpi). Debian's Open MPI
# (openmpi-bin, libopenmpi-dev; cmake/install-deps.sh) is the transport: a
# maintained one with mpirun, instead of a home-made one. libmezo itself
# (mezo::mezo) never depends on MPI.
set(MEZO_ENABLE_MPI "AUTO" CACHE STRING "Build mezo::mpi (distributed MeZO): AUTO (if MPI is found), ON or OFF")
set_property(CACHE MEZO_ENABLE_MPI PROPERTY STRINGS AUTO ON OFF)
set(MEZO_WITH_MPI OFF)
if(MEZO_ENABLE_MPI STREQUAL "ON")
  find_package(MPI REQUIRED COMPONENTS CXX)
  set(MEZO_WITH_MPI ON)
elseif(MEZO_ENABLE_MPI STREQUAL "AUTO")
  find_package(MPI QUIET COMPONENTS CXX)
  if(MPI_CXX_FOUND)
    set(MEZO_WITH_MPI ON)
  endif()
elseif(NOT MEZO_ENABLE_MPI STREQUAL "OFF")
  message(FATAL_ERROR "MEZO_ENABLE_MPI must be AUTO, ON or OFF, got '${MEZO_ENABLE_MPI}'")
endif()
message(STATUS "libmezo MPI (mezo::mpi, distributed MeZO): ${MEZO_WITH_MPI} ${MPIEXEC_EXECUTABLE}")
