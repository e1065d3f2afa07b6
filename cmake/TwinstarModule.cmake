# twinstar_module(NAME SOURCES ... DEPS ...): one library per src/<module> folder,
# exported as twinstar::<name>. Headers are included as "<module>/<file>.hpp".
function(twinstar_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(twinstar_${name} STATIC ${ARG_SOURCES})
  add_library(twinstar::${name} ALIAS twinstar_${name})
  target_include_directories(twinstar_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(twinstar_${name} PUBLIC ${ARG_DEPS})
endfunction()

# twinstar_test(NAME SOURCES ... DEPS ... LABELS ...): a GoogleTest executable whose tests
# CTest discovers; LABELS (unit, concurrency, crash, slow) select sanitizer jobs.
# With TWINSTAR_TEST_LABELS set (the sanitizer presets run only unit and concurrency tests), a
# test executable with none of those labels is left out of the default build and of CTest.
set(TWINSTAR_TEST_LABELS "" CACHE STRING "Build and register only tests with one of these labels (empty: all)")
function(twinstar_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  set(wanted ON)
  if(TWINSTAR_TEST_LABELS)
    set(wanted OFF)
    foreach(label ${ARG_LABELS})
      if(label IN_LIST TWINSTAR_TEST_LABELS)
        set(wanted ON)
      endif()
    endforeach()
  endif()
  if(wanted)
    add_executable(${name} ${ARG_SOURCES})
  else()
    add_executable(${name} EXCLUDE_FROM_ALL ${ARG_SOURCES})
  endif()
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    TWINSTAR_SHARED_DATA_DIR="${PROJECT_SOURCE_DIR}/../shared/data"
    TWINSTAR_BINARY_DIR="${PROJECT_BINARY_DIR}"
    TWINSTAR_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  if(NOT wanted)
    return()
  endif()
  gtest_discover_tests(${name}
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
    DISCOVERY_TIMEOUT 60)
endfunction()
