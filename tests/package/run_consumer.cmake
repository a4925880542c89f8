# Builds and runs tests/package/consumer against libmezo in one of three ways:
#   MODE=install   : `cmake --install` the build tree, then find_package(mezo);
#                    then checks the install tree itself: no path of the
#                    machine that built it, the package version rules, and a
#                    consumer compiled with `pkg-config --cflags --libs mezo`
#   MODE=buildtree : find_package(mezo) with mezo_DIR pointing at the build tree
#   MODE=subproject: add_subdirectory(<libmezo source>)
# Invoked by ctest (tests/CMakeLists.txt) as: cmake -DMODE=... -DSOURCE_DIR=...
#   -DBUILD_DIR=... -DWORK_DIR=... -DGENERATOR=... -DCXX_COMPILER=...
#   -DSHARED=ON|OFF -DCUDA=ON|OFF -DVERSION=major.minor.patch [-DLAUNCHER=ccache]
#   -P run_consumer.cmake
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    string(REPLACE ";" " " command "${ARGV}")
    message(FATAL_ERROR "failed (${result}): ${command}")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(package_dir "${SOURCE_DIR}/tests/package")
string(REGEX MATCH "^([0-9]+)\\.([0-9]+)" _ "${VERSION}")
set(major ${CMAKE_MATCH_1})
set(minor ${CMAKE_MATCH_2})
set(generator -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release
    "-DMEZO_REQUESTED_VERSION=${major}.${minor}")
if(LAUNCHER)
  list(APPEND generator "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
endif()

if(MODE STREQUAL "install")
  set(prefix "${WORK_DIR}/prefix")
  run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
  run(${CMAKE_COMMAND} -S "${package_dir}/consumer" -B "${WORK_DIR}/build" ${generator}
      "-DCMAKE_PREFIX_PATH=${prefix}")
elseif(MODE STREQUAL "buildtree")
  run(${CMAKE_COMMAND} -S "${package_dir}/consumer" -B "${WORK_DIR}/build" ${generator}
      "-Dmezo_DIR=${BUILD_DIR}")
elseif(MODE STREQUAL "subproject")
  # The same kind of library (static or shared, with or without CUDA) as the
  # build under test.
  run(${CMAKE_COMMAND} -S "${package_dir}/subproject" -B "${WORK_DIR}/build" ${generator}
      "-DMEZO_SOURCE_DIR=${SOURCE_DIR}" "-DBUILD_SHARED_LIBS=${SHARED}" "-DMEZO_ENABLE_CUDA=${CUDA}")
else()
  message(FATAL_ERROR "unknown MODE '${MODE}'")
endif()
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run("${WORK_DIR}/build/consumer")
if(NOT MODE STREQUAL "install")
  return()
endif()

# 1. Nothing installed names the source or build directory (an absolute path
#    of this machine: an RPATH, an include directory, a generated file).
#    file(STRINGS) reads the printable runs of binary files too.
file(GLOB_RECURSE installed LIST_DIRECTORIES false "${prefix}/*")
foreach(dir "${SOURCE_DIR}" "${BUILD_DIR}")
  foreach(file ${installed})
    file(STRINGS "${file}" strings)
    string(FIND "${strings}" "${dir}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "installed file ${file} contains the path ${dir}")
    endif()
  endforeach()
endforeach()
list(LENGTH installed count)
message(STATUS "${count} installed files checked: no source or build path in them")

# 2. The package version file: while 0.x a minor version may break the ABI,
#    so a request for another minor version is refused (SameMinorVersion);
#    a newer minor version than this one is refused either way.
if(major EQUAL 0 AND minor GREATER 0)
  math(EXPR older "${minor} - 1")
  set(refused "0.${older}")
else()
  math(EXPR newer "${minor} + 1")
  set(refused "${major}.${newer}")
endif()
run(${CMAKE_COMMAND} -S "${package_dir}/version_probe" -B "${WORK_DIR}/version_probe"
    "-DCMAKE_PREFIX_PATH=${prefix}" "-DREQUEST=${refused}" "-DEXPECTED=${VERSION}")

# 3. A consumer built by hand from pkg-config's flags (--static for a static
#    libmezo, whose private dependencies its users link too).
find_program(pkg_config pkg-config)
if(NOT pkg_config)
  message(FATAL_ERROR "pkg-config not found (cmake/install-deps.sh installs it)")
endif()
set(ENV{PKG_CONFIG_PATH} "")
file(GLOB pc_file "${prefix}/lib*/pkgconfig/mezo.pc" "${prefix}/lib*/*/pkgconfig/mezo.pc")
if(NOT pc_file)
  message(FATAL_ERROR "no mezo.pc under ${prefix}")
endif()
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
set(static_flag)
if(NOT SHARED)
  set(static_flag --static)
endif()
foreach(query "--modversion" "--cflags;--libs;${static_flag}" "--variable=libdir")
  execute_process(COMMAND ${pkg_config} ${query} mezo OUTPUT_VARIABLE out
                  RESULT_VARIABLE result OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "pkg-config ${query} mezo failed (${result}) with PKG_CONFIG_PATH=${pc_dir}")
  endif()
  list(APPEND answers "${out}")
endforeach()
list(GET answers 0 pc_version)
list(GET answers 1 pc_flags)
list(GET answers 2 pc_libdir)
if(NOT pc_version STREQUAL VERSION)
  message(FATAL_ERROR "pkg-config says mezo ${pc_version}, the build is ${VERSION}")
endif()
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
run(${CXX_COMPILER} -std=c++20 "${package_dir}/consumer/main.cpp" ${pc_flags}
    "-Wl,-rpath,${pc_libdir}" -o "${WORK_DIR}/pkg_config_consumer")
run("${WORK_DIR}/pkg_config_consumer")
