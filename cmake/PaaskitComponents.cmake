# paaskit_add_component(<name> LINKS <targets>...)
#
# Declares the header-only component <name>: an INTERFACE target paaskit_<name>, exported and
# aliased as paaskit::<name>, whose usage requirements are C++20, the include directory, and exactly
# the libraries given in LINKS.
set(PAASKIT_COMPONENT_TARGETS "")

function(paaskit_add_component name)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "LINKS")
    set(target paaskit_${name})
    add_library(${target} INTERFACE)
    add_library(paaskit::${name} ALIAS ${target})
    set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
    target_compile_features(${target} INTERFACE cxx_std_20)
    target_include_directories(${target} INTERFACE
        "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>"
        "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
    if(arg_LINKS)
        target_link_libraries(${target} INTERFACE ${arg_LINKS})
    endif()
    set(PAASKIT_COMPONENT_TARGETS ${PAASKIT_COMPONENT_TARGETS} ${target} PARENT_SCOPE)
endfunction()
