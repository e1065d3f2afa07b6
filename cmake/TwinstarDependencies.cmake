# Every third-party dependency, found once. Installed by scripts/install-deps.sh.
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(simdjson REQUIRED)
find_package(CLI11 QUIET)
if(NOT TARGET CLI11::CLI11)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 INTERFACE ${CLI11_INCLUDE_DIR})
endif()

# DuckDB: the official libduckdb.so from the npm registry (scripts/fetch-duckdb.sh).
set(TWINSTAR_DUCKDB_DIR ${PROJECT_SOURCE_DIR}/.deps/duckdb CACHE PATH "Folder with include/duckdb.h and lib/libduckdb.so")
if(NOT EXISTS ${TWINSTAR_DUCKDB_DIR}/lib/libduckdb.so)
  message(FATAL_ERROR "DuckDB not found in ${TWINSTAR_DUCKDB_DIR}: run scripts/install-deps.sh (or `make deps`)")
endif()
add_library(twinstar_duckdb SHARED IMPORTED GLOBAL)
set_target_properties(twinstar_duckdb PROPERTIES
  IMPORTED_LOCATION ${TWINSTAR_DUCKDB_DIR}/lib/libduckdb.so
  IMPORTED_NO_SONAME ON
  INTERFACE_INCLUDE_DIRECTORIES ${TWINSTAR_DUCKDB_DIR}/include)
add_library(twinstar::duckdb ALIAS twinstar_duckdb)
# Binaries find libduckdb.so through their rpath, in the build tree and when installed.
set(CMAKE_BUILD_RPATH ${TWINSTAR_DUCKDB_DIR}/lib)
set(CMAKE_INSTALL_RPATH ${TWINSTAR_DUCKDB_DIR}/lib)

if(TWINSTAR_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(TWINSTAR_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
