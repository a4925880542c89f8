# Install rules and package files: find_package(mezo CONFIG) works against the
# install tree and against the build tree, both giving mezo::mezo.
include(CMakePackageConfigHelpers)

set(MEZO_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/mezo")

set(mezo_installed_targets mezo)
if(MEZO_WITH_MPI)
  list(APPEND mezo_installed_targets mezo_mpi)  # mezo::mpi
endif()
install(TARGETS ${mezo_installed_targets} EXPORT mezo-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/mezo" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT mezo-targets NAMESPACE mezo:: DESTINATION ${MEZO_CMAKE_DIR})

configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/mezo-config.cmake.in"
  "${PROJECT_BINARY_DIR}/mezo-config.cmake"
  INSTALL_DESTINATION ${MEZO_CMAKE_DIR})
# While 0.x a minor version may break the ABI (src/CMakeLists.txt's SOVERSION,
# mezo/config.hpp's inline namespace): find_package(mezo 0.2) accepts 0.2.x
# only. From 1.0 on, any version of the same major.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(mezo_compatibility SameMinorVersion)
else()
  set(mezo_compatibility SameMajorVersion)
endif()
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/mezo-config-version.cmake"
  COMPATIBILITY ${mezo_compatibility})
install(FILES
  "${PROJECT_BINARY_DIR}/mezo-config.cmake"
  "${PROJECT_BINARY_DIR}/mezo-config-version.cmake"
  DESTINATION ${MEZO_CMAKE_DIR})

# pkg-config: `pkg-config --cflags --libs mezo` (add --static for a static
# libmezo). A static libmezo's users link its private dependencies too.
file(RELATIVE_PATH mezo_pc_prefix_from_pcdir
  "${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/$" "" mezo_pc_prefix_from_pcdir "${mezo_pc_prefix_from_pcdir}")
set(mezo_pc_requires_private "fmt icu-uc")
set(mezo_pc_libs_private "${OpenMP_CXX_FLAGS} -pthread")
if(MEZO_WITH_OPENBLAS)
  get_filename_component(mezo_openblas_dir "${MEZO_OPENBLAS_LIBRARY}" DIRECTORY)
  string(APPEND mezo_pc_libs_private " -L${mezo_openblas_dir} -lopenblas")
endif()
if(MEZO_WITH_ONEDNN)
  get_filename_component(mezo_dnnl_dir "${MEZO_DNNL_LIBRARY}" DIRECTORY)
  string(APPEND mezo_pc_libs_private " -L${mezo_dnnl_dir} -ldnnl")
endif()
if(MEZO_WITH_CUDA)
  string(APPEND mezo_pc_libs_private " -L${CUDAToolkit_LIBRARY_DIR} -lcudart -lcublas")
endif()
set(mezo_pc_cflags "")
if(BUILD_SHARED_LIBS)
  set(mezo_pc_cflags " -DMEZO_SHARED")  # as the CMake target's INTERFACE_COMPILE_DEFINITIONS
endif()
configure_file("${CMAKE_CURRENT_LIST_DIR}/mezo.pc.in" "${PROJECT_BINARY_DIR}/mezo.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/mezo.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

# The build tree is a package too: point mezo_DIR at the build directory.
export(EXPORT mezo-targets NAMESPACE mezo:: FILE "${PROJECT_BINARY_DIR}/mezo-targets.cmake")
