# Version and git commit in a generated header, refreshed at every build (see write_version.cmake), so a run
# records the commit that built the program, not the one present when CMake was first configured.
set(CONTINUA_VERSION_HEADER ${CMAKE_BINARY_DIR}/generated/continua_version.h)
add_custom_target(continua_version
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -DOUTPUT=${CONTINUA_VERSION_HEADER}
          -DVERSION=${PROJECT_VERSION} -P ${CMAKE_SOURCE_DIR}/cmake/write_version.cmake
  BYPRODUCTS ${CONTINUA_VERSION_HEADER}
  COMMENT "Recording the git commit")
