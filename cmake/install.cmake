# cmake --install: library, public headers, netpoll.pc and a CMake package
# config so that both `pkg-config --cflags --libs netpoll` and
# `find_package(netpoll)` + `target_link_libraries(app netpoll::netpoll)` work.
include(CMakePackageConfigHelpers)

install(TARGETS netpoll EXPORT netpollTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/include/netpoll
  ${PROJECT_SOURCE_DIR}/backend_epoll/include/netpoll
  ${PROJECT_SOURCE_DIR}/backend_sim/include/netpoll
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(EXPORT netpollTargets NAMESPACE netpoll::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/netpoll)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/netpollConfig.cmake.in
  ${PROJECT_BINARY_DIR}/netpollConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/netpoll)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/netpollConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/netpollConfig.cmake
  ${PROJECT_BINARY_DIR}/netpollConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/netpoll)

# Relocatable: the prefix is found from where the .pc file lies.
file(RELATIVE_PATH NP_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
set(NP_PC_PREFIX "\${pcfiledir}/${NP_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/netpoll.pc.in ${PROJECT_BINARY_DIR}/netpoll.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/netpoll.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
