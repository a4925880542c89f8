# Host dependencies. All come from Debian packages that cmake/install-deps.sh
# installs; nothing is downloaded at configure or build time.
find_package(fmt 9 REQUIRED CONFIG)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(Threads REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(nlohmann_json 3.10 REQUIRED CONFIG)
find_package(ICU REQUIRED COMPONENTS uc)

# OpenBLAS behind Eigen's matrix products: about 2x Eigen's own sgemm on the
# transformer's shapes on our CPUs (docs/benchmarks.md). The OpenMP build, so
# its threads are the same team the rest of the forward uses.
set(MEZO_USE_OPENBLAS "AUTO" CACHE STRING "Route Eigen's matrix products to OpenBLAS: AUTO, ON or OFF")
set(MEZO_WITH_OPENBLAS OFF)
if(NOT MEZO_USE_OPENBLAS STREQUAL "OFF")
  find_library(MEZO_OPENBLAS_LIBRARY NAMES openblas
    PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/openblas-openmp NO_DEFAULT_PATH)
  find_library(MEZO_OPENBLAS_LIBRARY NAMES openblas)
  if(MEZO_OPENBLAS_LIBRARY)
    set(MEZO_WITH_OPENBLAS ON)
  elseif(MEZO_USE_OPENBLAS STREQUAL "ON")
    message(FATAL_ERROR "MEZO_USE_OPENBLAS=ON but libopenblas was not found")
  endif()
endif()
message(STATUS "libmezo OpenBLAS for matrix products: ${MEZO_WITH_OPENBLAS} ${MEZO_OPENBLAS_LIBRARY}")

# oneDNN for the bf16 products of ComputePrecision::bf16 (model/ops/bf16_linear.cpp):
# JIT kernels chosen from the CPU at run time (AVX512_BF16, AMX). Without it
# libmezo still builds, and refuses bf16 with a clear error.
set(MEZO_USE_ONEDNN "AUTO" CACHE STRING "bf16 compute through oneDNN: AUTO, ON or OFF")
set(MEZO_WITH_ONEDNN OFF)
if(NOT MEZO_USE_ONEDNN STREQUAL "OFF")
  find_library(MEZO_DNNL_LIBRARY NAMES dnnl)
  find_path(MEZO_DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp)
  if(MEZO_DNNL_LIBRARY AND MEZO_DNNL_INCLUDE_DIR)
    set(MEZO_WITH_ONEDNN ON)
  elseif(MEZO_USE_ONEDNN STREQUAL "ON")
    message(FATAL_ERROR "MEZO_USE_ONEDNN=ON but oneDNN (libdnnl) was not found")
  endif()
endif()
message(STATUS "libmezo oneDNN for bf16 compute: ${MEZO_WITH_ONEDNN} ${MEZO_DNNL_LIBRARY}")
if(MEZO_BUILD_TESTS)
  find_package(GTest 1.12 REQUIRED CONFIG)
endif()
if(MEZO_BUILD_BENCHMARKS)
  find_package(benchmark 1.7 REQUIRED CONFIG)
endif()
