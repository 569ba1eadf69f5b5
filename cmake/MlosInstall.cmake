# libmlos.so bundles every module's static library, and `make install` ships it with the public
# headers, a CMake package (find_package(mlos) -> mlos::mlos) and a pkg-config file (mlos.pc).

# Modules in dependency order; those not (yet) defined are skipped.
set(_mlos_modules mlos_api mlos_runtime_plugins mlos_runtime mlos_server mlos_graph mlos_kernels
                  mlos_gemm mlos_core)
set(_mlos_bundled "")
foreach(_m ${_mlos_modules})
  if(TARGET ${_m})
    get_target_property(_type ${_m} TYPE)
    if(_type STREQUAL "STATIC_LIBRARY")
      list(APPEND _mlos_bundled ${_m})
    endif()
  endif()
endforeach()

add_library(mlos SHARED ${PROJECT_SOURCE_DIR}/src/api/version.cc)
add_library(mlos::mlos ALIAS mlos)
# Whole archives, so every public symbol of every module is in libmlos.so.
set(_mlos_archives "")
foreach(_m ${_mlos_bundled})
  list(APPEND _mlos_archives $<TARGET_FILE:${_m}>)
  add_dependencies(mlos ${_m})
endforeach()
target_link_libraries(mlos PRIVATE -Wl,--whole-archive ${_mlos_archives} -Wl,--no-whole-archive)
foreach(_m ${_mlos_bundled})
  # Third-party libraries the bundled modules need at link time.
  get_target_property(_deps ${_m} INTERFACE_LINK_LIBRARIES)
  if(_deps)
    foreach(_d ${_deps})
      if(NOT _d IN_LIST _mlos_modules)
        target_link_libraries(mlos PRIVATE ${_d})
      endif()
    endforeach()
  endif()
endforeach()
target_include_directories(mlos PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                                       $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(mlos PUBLIC cxx_std_20)
target_link_libraries(mlos PUBLIC Threads::Threads)
set_target_properties(mlos PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
                                      LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)

install(TARGETS mlos EXPORT mlosTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/kernel_api.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/mlos DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

include(CMakePackageConfigHelpers)
install(EXPORT mlosTargets NAMESPACE mlos:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mlos)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/mlosConfig.cmake.in
  ${CMAKE_BINARY_DIR}/mlosConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mlos)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/mlosConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/mlosConfig.cmake ${CMAKE_BINARY_DIR}/mlosConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mlos)

# The .pc file finds its prefix relative to itself, so the installed tree can be moved (and
# `make install PREFIX=...` works whatever prefix the build was configured with).
file(RELATIVE_PATH MLOS_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" MLOS_PC_TO_PREFIX "${MLOS_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/mlos.pc.in ${CMAKE_BINARY_DIR}/mlos.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/mlos.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
