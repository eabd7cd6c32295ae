# Installation and the pkg-config files that let a driver build out of tree:
#   cc $(pkg-config --cflags wdmsim) -shared -fPIC mydrv.c -o mydrv.so $(pkg-config --libs wdmsim)

set(WDMSIM_PC_FLAGS "${WDMSIM_DRIVER_FLAGS_STR}")

# Installed: paths under the prefix.
set(PC_INCLUDES "-I\${includedir}/wdmsim/ddk -I\${includedir}/wdmsim/crt -I\${includedir}/wdmsim/host -isystem ${WDMSIM_CC_INCLUDE}")
set(PC_LIBS "-L\${libdir} -lwdmsim_crt")
# Relocatable: the prefix is found from where the .pc file itself sits, so
# `cmake --install --prefix DIR` gives a correct file without reconfiguring.
file(RELATIVE_PATH PC_UP "/root/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/root")
set(PC_PREFIX "\${pcfiledir}/${PC_UP}")
set(PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
set(PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/wdmsim.pc.in ${PROJECT_BINARY_DIR}/pc/wdmsim.pc @ONLY)

# Uninstalled: the build tree itself (pkg-config finds *-uninstalled.pc first
# when PKG_CONFIG_PATH names the build directory).
set(PC_INCLUDES "-I${PROJECT_SOURCE_DIR}/include/ddk -I${PROJECT_SOURCE_DIR}/include/crt -I${PROJECT_SOURCE_DIR}/include -isystem ${WDMSIM_CC_INCLUDE}")
set(PC_LIBS "-L${PROJECT_BINARY_DIR}/src/crt -lwdmsim_crt")
set(PC_PREFIX "${PROJECT_BINARY_DIR}")
set(PC_INCLUDEDIR "${PROJECT_SOURCE_DIR}/include")
set(PC_LIBDIR "${PROJECT_BINARY_DIR}/src/crt")
configure_file(${PROJECT_SOURCE_DIR}/cmake/wdmsim.pc.in ${PROJECT_BINARY_DIR}/wdmsim-uninstalled.pc @ONLY)

install(TARGETS wdmsim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET wdmsim_crt)
  install(TARGETS wdmsim_crt ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ddk DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/wdmsim)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/crt DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/wdmsim)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/wdmsim DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/wdmsim/host)
install(FILES ${PROJECT_BINARY_DIR}/pc/wdmsim.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/machines DESTINATION ${CMAKE_INSTALL_DATADIR}/wdmsim)
