# One warnings target, shared by every module and test.
add_library(confab_warnings INTERFACE)
target_compile_options(confab_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wno-missing-field-initializers
  # GCC 12 false positive on Asio coroutine frames (operator new/delete pairs of awaitable_frame).
  -Wno-mismatched-new-delete)
# clang checks the lock annotations (core/thread_annotations.hpp); the clang preset makes them errors.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  target_compile_options(confab_warnings INTERFACE -Wthread-safety)
endif()

# Asio and Beast are compiled once (src/core/asio_beast.cpp), not in every translation unit.
add_library(confab_boost INTERFACE)
target_compile_definitions(confab_boost INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED)
target_link_libraries(confab_boost INTERFACE Boost::headers Boost::json Threads::Threads)

if(CONFAB_TSAN)
  # Asio uses atomic_thread_fence, which TSan does not model (GCC warns once per use).
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -Wno-tsan)
  add_link_options(-fsanitize=thread)
endif()
if(CONFAB_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# confab_module(name SOURCES ... DEPS ...): one static library per module.
function(confab_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  add_library(confab_${name} STATIC ${M_SOURCES})
  target_include_directories(confab_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(confab_${name} PUBLIC ${M_DEPS} PRIVATE confab_warnings)
endfunction()

# confab_test(name LABEL label SOURCES ... DEPS ...): one gtest binary, labelled for ctest -L.
function(confab_test name)
  cmake_parse_arguments(T "" "LABEL" "SOURCES;DEPS;FIXTURES" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main confab_warnings)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABEL}" TIMEOUT 600)
  if(T_FIXTURES)
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED "${T_FIXTURES}")
  endif()
endfunction()
