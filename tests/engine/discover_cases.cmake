# Run after an engine test executable is built (tests/CMakeLists.txt): asks it
# for its cases (`EXECUTABLE --list`, one label/name a line) and writes OUTPUT,
# the CTest file that registers each case as its own test, labelled by the part
# before the slash, with SKIP_RETURN_CODE 77 and TIMEOUT. CASES_WITH_PROPERTIES
# (comma-separated) are the cases CMakeLists.txt sets properties on: each must
# be among them, so that renaming a case cannot drop its fixture unnoticed.
#
# cmake -D EXECUTABLE=... -D OUTPUT=... -D TIMEOUT=... [-D CASES_WITH_PROPERTIES=...] -P discover_cases.cmake

cmake_minimum_required(VERSION 3.22)

foreach(var EXECUTABLE OUTPUT TIMEOUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "discover_cases.cmake needs -D ${var}=...")
  endif()
endforeach()

# A sanitizer build's leak report at exit would fail the listing; leaks are
# not checked in the tests either (scripts/sanitize.sh).
if(NOT DEFINED ENV{ASAN_OPTIONS})
  set(ENV{ASAN_OPTIONS} "detect_leaks=0")
endif()

execute_process(COMMAND "${EXECUTABLE}" --list
  OUTPUT_VARIABLE listing ERROR_VARIABLE errors RESULT_VARIABLE status TIMEOUT 300)
if(NOT status EQUAL 0)
  file(REMOVE "${OUTPUT}")
  message(FATAL_ERROR "${EXECUTABLE} --list failed (${status}):\n${errors}${listing}")
endif()

string(REPLACE "\n" ";" lines "${listing}")
set(content "# The cases of ${EXECUTABLE}, written by discover_cases.cmake after it was built.\n")
set(names "")
foreach(name IN LISTS lines)
  if(name STREQUAL "")
    continue()
  endif()
  if(NOT name MATCHES "^([A-Za-z0-9_.-]+)/[A-Za-z0-9_.+-]+$")
    message(FATAL_ERROR "${EXECUTABLE} --list gave '${name}', not label/name")
  endif()
  set(label "${CMAKE_MATCH_1}")
  list(APPEND names "${name}")
  string(APPEND content
    "add_test([==[${name}]==] [==[${EXECUTABLE}]==] [==[${name}]==])\n"
    "set_tests_properties([==[${name}]==] PROPERTIES LABELS [==[${label}]==] SKIP_RETURN_CODE 77 TIMEOUT ${TIMEOUT})\n")
endforeach()
if(NOT names)
  message(FATAL_ERROR "${EXECUTABLE} --list named no cases")
endif()

string(REPLACE "," ";" expected "${CASES_WITH_PROPERTIES}")
foreach(name IN LISTS expected)
  if(NOT name IN_LIST names)
    file(REMOVE "${OUTPUT}")
    message(FATAL_ERROR "tests/engine/CMakeLists.txt sets properties on ${name}, which ${EXECUTABLE} --list does not name")
  endif()
endforeach()

file(WRITE "${OUTPUT}" "${content}")
