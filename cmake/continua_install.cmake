# Install rules and packages. Two components, so the headless half installs without Qt:
#   cli  continua-cli, its man page                     -> continua-cli_<v>_amd64.deb, continua-cli-<v>-Linux.tar.gz
#   gui  the workbench, desktop entry, AppStream, MIME,  -> continua_<v>_amd64.deb
#        icons, its man page
# `cpack` in a configured, built tree writes all three (packaging/package.sh, tests/packaging).
# Nothing installed refers to the source or build tree: presets and the icon are compiled into the programs.
include(GNUInstallDirs)

set(_res ${CMAKE_SOURCE_DIR}/resources)
set(_gen ${CMAKE_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${_gen})

# Man pages from each program's own --help (help2man), so they never drift from it; gzip -n keeps the
# archives reproducible (no timestamp inside).
find_program(CONTINUA_HELP2MAN help2man)
find_program(CONTINUA_GZIP gzip)
function(continua_man_page target summary)
  if(NOT CONTINUA_HELP2MAN OR NOT CONTINUA_GZIP)
    message(STATUS "help2man or gzip not found: packages will have no man page for ${target}")
    return()
  endif()
  set(page ${_gen}/${target}.1)
  add_custom_command(OUTPUT ${page}.gz
    COMMAND ${CONTINUA_HELP2MAN} --no-info --no-discard-stderr --section=1 --name=${summary}
            --include=${_res}/man/${target}.h2m --output=${page} $<TARGET_FILE:${target}>
    COMMAND ${CONTINUA_GZIP} -n -9 -f ${page}
    DEPENDS ${target} ${_res}/man/${target}.h2m
    COMMENT "Man page of ${target}")
  add_custom_target(${target}_man ALL DEPENDS ${page}.gz)
  install(FILES ${page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT ${ARGN})
endfunction()

# Debian wants its changelog and copyright in every package's doc directory.
add_custom_command(OUTPUT ${_gen}/changelog.Debian.gz
  COMMAND ${CMAKE_COMMAND} -E copy ${_res}/debian/changelog ${_gen}/changelog.Debian
  COMMAND ${CONTINUA_GZIP} -n -9 -f ${_gen}/changelog.Debian
  DEPENDS ${_res}/debian/changelog)
add_custom_target(continua_changelog ALL DEPENDS ${_gen}/changelog.Debian.gz)
function(continua_package_docs package component)
  install(FILES ${_res}/debian/copyright ${_gen}/changelog.Debian.gz
          DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${package} COMPONENT ${component})
endfunction()

install(TARGETS continua-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cli)
continua_man_page(continua-cli "meta-learn sequence models as continual and in-context learners, headless" cli)
continua_package_docs(continua-cli cli)

if(CONTINUA_BUILD_GUI)
  install(TARGETS continua RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT gui)
  continua_man_page(continua "the Continua workbench" gui)
  continua_package_docs(continua gui)
  install(FILES ${_res}/org.continua.Continua.desktop DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/applications COMPONENT gui)
  install(FILES ${_res}/org.continua.Continua.metainfo.xml DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/metainfo COMPONENT gui)
  install(FILES ${_res}/continua-mime.xml DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/mime/packages
          RENAME org.continua.Continua.xml COMPONENT gui)
  install(DIRECTORY ${_res}/icons/hicolor DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/icons COMPONENT gui)
  install(FILES ${_res}/icons/continua.svg DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/icons/hicolor/scalable/apps COMPONENT gui)
endif()

# CPack: Debian packages per component (dependencies computed by dpkg-shlibdeps from the linked libraries)
# and a tarball of the headless component (restricted to it in continua_cpack_options.cmake).
set(CPACK_PACKAGE_NAME continua)
set(CPACK_PACKAGE_VENDOR "The Continua developers")
set(CPACK_PACKAGE_CONTACT "Continua developers <continua@lists.continua.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB TGZ)
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_SOURCE_DIR}/cmake/continua_cpack_options.cmake)
set(CPACK_COMPONENTS_ALL cli)
if(CONTINUA_BUILD_GUI)
  list(APPEND CPACK_COMPONENTS_ALL gui)
endif()

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/continua/continua")
set(CPACK_DEBIAN_CLI_PACKAGE_NAME continua-cli)
set(CPACK_DEBIAN_GUI_PACKAGE_NAME continua)
# Debian's LibTorch 1.13 runs its matmuls on the reference BLAS unless OpenBLAS is installed (20-40x slower).
set(CPACK_DEBIAN_CLI_PACKAGE_DEPENDS "libopenblas0-openmp | libopenblas0")
set(CPACK_DEBIAN_GUI_PACKAGE_DEPENDS "libopenblas0-openmp | libopenblas0")
set(CPACK_DEBIAN_GUI_PACKAGE_RECOMMENDS "continua-cli, fonts-dejavu-core")
# `report` draws its figures' text with DejaVu Sans; without it, a coarse built-in font.
set(CPACK_DEBIAN_CLI_PACKAGE_RECOMMENDS "fonts-dejavu-core")
# One string each (a CMake list would join the lines with ';'): the first line is the package's summary.
string(CONCAT CPACK_COMPONENT_CLI_DESCRIPTION
    "meta-learn sequence models as continual and in-context learners, headless\n"
    "The Continua engine (LibTorch, selective-scan kernels for every x86-64 CPU)\n"
    "and its command line: run, resume, compare, export and benchmark experiments\n"
    "stored in a SQLite run database. No Qt dependency.")
string(CONCAT CPACK_COMPONENT_GUI_DESCRIPTION
    "workbench for meta-learning sequence models as continual and in-context learners\n"
    "The Continua desktop workbench: configure and launch experiments, watch them\n"
    "train, see which earlier tokens a query relies on, measure length\n"
    "generalisation and compare saved runs side by side (Qt 6, QCustomPlot).")
include(CPack)
