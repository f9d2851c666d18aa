# paaskit_add_doc_examples(<docs-dir>)
#
# Every fenced block in <docs-dir>/*.md that opens with "```cpp" and whose first line is
# "// example: <name>" is written to the build tree and compiled as its own program
# doc_example_<name>; when tests are on, each is also run as a test. The documentation therefore
# shows exactly the code that compiles and runs. An example whose first line goes on with
# "(against paaskit-kube-sim)" runs with KUBECONFIG naming a fresh simulated cluster, as a user's
# program would find its cluster.
#
# The text is walked with string(FIND)/string(SUBSTRING), never turned into a CMake list: code is
# full of semicolons, which CMake would take as list separators.
function(paaskit_add_doc_examples docs_dir)
    file(GLOB docs CONFIGURE_DEPENDS "${docs_dir}/*.md")
    set(opening "```cpp\n// example: ")
    string(LENGTH "${opening}" opening_length)
    foreach(doc IN LISTS docs)
        file(READ "${doc}" text)
        set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${doc}") # edits re-extract
        while(TRUE)
            string(FIND "${text}" "${opening}" start)
            if(start EQUAL -1)
                break()
            endif()
            math(EXPR code_start "${start} + 7") # past "```cpp\n"
            string(SUBSTRING "${text}" ${code_start} -1 text)
            string(FIND "${text}" "\n```" end)
            if(end EQUAL -1)
                message(FATAL_ERROR "unterminated example block in ${doc}")
            endif()
            math(EXPR code_length "${end} + 1")
            string(SUBSTRING "${text}" 0 ${code_length} code)
            math(EXPR rest_start "${end} + 4")
            string(SUBSTRING "${text}" ${rest_start} -1 text)

            string(REGEX MATCH "^// example: ([a-z0-9_]+)" _ "${code}")
            set(name "${CMAKE_MATCH_1}")
            if(name STREQUAL "")
                message(FATAL_ERROR "an example block in ${doc} has no name: its first line must be // example: <name>")
            endif()
            set(target doc_example_${name})
            if(TARGET ${target})
                message(FATAL_ERROR "doc example name ${name} is used twice (in ${doc})")
            endif()
            set(source "${PROJECT_BINARY_DIR}/doc-examples/${name}.cpp")
            file(CONFIGURE OUTPUT "${source}" CONTENT "${code}" @ONLY)
            add_executable(${target} "${source}")
            target_link_libraries(${target} PRIVATE paaskit::paaskit)
            paaskit_own_target(${target})
            string(REGEX MATCH "^// example: [a-z0-9_]+ \\(against paaskit-kube-sim\\)" against_sim "${code}")
            if(PAASKIT_BUILD_TESTS AND against_sim)
                if(TARGET paaskit-kube-sim)
                    add_test(NAME doc_example.${name}
                        COMMAND "${PROJECT_SOURCE_DIR}/tests/support/with-kube-sim.sh" "$<TARGET_FILE:paaskit-kube-sim>" "$<TARGET_FILE:${target}>")
                endif()
            elseif(PAASKIT_BUILD_TESTS)
                add_test(NAME doc_example.${name} COMMAND ${target})
            endif()
        endwhile()
    endforeach()
endfunction()
