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
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/mezo-config-version.cmake"
  COMPATIBILITY SameMajorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/mezo-config.cmake"
  "${PROJECT_BINARY_DIR}/mezo-config-version.cmake"
  DESTINATION ${MEZO_CMAKE_DIR})

# The build tree is a package too: point mezo_DIR at the build directory.
export(EXPORT mezo-targets NAMESPACE mezo:: FILE "${PROJECT_BINARY_DIR}/mezo-targets.cmake")
