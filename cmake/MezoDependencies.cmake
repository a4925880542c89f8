# Host dependencies. All come from Debian packages that cmake/install-deps.sh
# installs; nothing is downloaded at configure or build time.
find_package(fmt 9 REQUIRED CONFIG)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(Threads REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(nlohmann_json 3.10 REQUIRED CONFIG)
find_package(ICU REQUIRED COMPONENTS uc)
if(MEZO_BUILD_TESTS)
  find_package(GTest 1.12 REQUIRED CONFIG)
endif()
if(MEZO_BUILD_BENCHMARKS)
  find_package(benchmark 1.7 REQUIRED CONFIG)
endif()
