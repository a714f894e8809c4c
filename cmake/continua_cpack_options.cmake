# Read by cpack for each generator (CPACK_PROJECT_CONFIG_FILE). The tarball is the headless build only,
# laid out as bin/ and share/ under one top folder, to unpack anywhere.
if(CPACK_GENERATOR STREQUAL "TGZ")
  set(CPACK_COMPONENTS_ALL cli)
  set(CPACK_ARCHIVE_COMPONENT_INSTALL ON)
  set(CPACK_PACKAGE_FILE_NAME "continua-cli-${CPACK_PACKAGE_VERSION}-Linux-x86_64")  # the top folder
  set(CPACK_ARCHIVE_CLI_FILE_NAME "${CPACK_PACKAGE_FILE_NAME}")
  set(CPACK_PACKAGING_INSTALL_PREFIX "")
  set(CPACK_COMPONENT_INCLUDE_TOPLEVEL_DIRECTORY ON)
endif()
# Each component's description begins with its own summary line. CPackDeb puts the project's summary in
# front of it unless that summary is CPack's default, so for the .deb packages it is the default.
if(CPACK_GENERATOR STREQUAL "DEB")
  set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CPACK_DEFAULT_PACKAGE_DESCRIPTION_SUMMARY}")
endif()
