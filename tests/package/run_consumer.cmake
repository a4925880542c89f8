# Builds and runs tests/package/consumer against libmezo in one of three ways:
#   MODE=install   : `cmake --install` the build tree, then find_package(mezo)
#   MODE=buildtree : find_package(mezo) with mezo_DIR pointing at the build tree
#   MODE=subproject: add_subdirectory(<libmezo source>)
# Invoked by ctest as: cmake -DMODE=... -DSOURCE_DIR=... -DBUILD_DIR=... -DWORK_DIR=... -P run_consumer.cmake
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    string(REPLACE ";" " " command "${ARGV}")
    message(FATAL_ERROR "failed (${result}): ${command}")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(package_dir "${SOURCE_DIR}/tests/package")
set(generator -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release)

if(MODE STREQUAL "install")
  run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix")
  run(${CMAKE_COMMAND} -S "${package_dir}/consumer" -B "${WORK_DIR}/build" ${generator}
      "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix")
elseif(MODE STREQUAL "buildtree")
  run(${CMAKE_COMMAND} -S "${package_dir}/consumer" -B "${WORK_DIR}/build" ${generator}
      "-Dmezo_DIR=${BUILD_DIR}")
elseif(MODE STREQUAL "subproject")
  run(${CMAKE_COMMAND} -S "${package_dir}/subproject" -B "${WORK_DIR}/build" ${generator}
      "-DMEZO_SOURCE_DIR=${SOURCE_DIR}")
else()
  message(FATAL_ERROR "unknown MODE '${MODE}'")
endif()
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run("${WORK_DIR}/build/consumer")
