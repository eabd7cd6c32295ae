# The Windows x64 build environment for drivers and apps (ARCHITECTURE.md 10).
#
# A driver is a MODULE (dlopen'ed .so) compiled with the Windows calling
# convention for every function (-mabi=ms), 16-bit wchar_t, and only wdmsim's
# headers plus the compiler's freestanding ones: glibc is never reachable.
# The same flags are written into wdmsim.pc so an out-of-tree build gets them.

execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
  OUTPUT_VARIABLE WDMSIM_CC_INCLUDE OUTPUT_STRIP_TRAILING_WHITESPACE)

set(WDMSIM_PAGE_SHIFT_DEFAULT 12)

# Flags shared by the in-tree build and the .pc files; include dirs are added
# per consumer because they differ between build tree and install tree.
set(WDMSIM_DRIVER_FLAGS
  -mabi=ms -fshort-wchar -fPIC -nostdinc -fno-stack-protector
  -fno-exceptions -fvisibility=hidden -fno-strict-aliasing -Wno-multichar -Wno-unknown-pragmas
  -DWDMSIM_PAGE_SHIFT=${WDMSIM_PAGE_SHIFT_DEFAULT})
string(REPLACE ";" " " WDMSIM_DRIVER_FLAGS_STR "${WDMSIM_DRIVER_FLAGS}")

# wdmsim_add_driver(<target> [APP] [PAGE_SHIFT n] SOURCES...)
# Builds <target>.so with the driver flags; links the static ms_abi CRT so the
# memcpy/memset calls the compiler emits by itself bind inside the module.
function(wdmsim_add_driver target)
  cmake_parse_arguments(D "APP" "PAGE_SHIFT;OUTPUT_DIR" "" ${ARGN})
  add_library(${target} MODULE ${D_UNPARSED_ARGUMENTS})
  set_target_properties(${target} PROPERTIES PREFIX "" C_EXTENSIONS ON)
  if(D_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${D_OUTPUT_DIR})
  endif()
  set(flags ${WDMSIM_DRIVER_FLAGS} -Wall -Wextra -Werror)
  if(D_PAGE_SHIFT)
    list(REMOVE_ITEM flags -DWDMSIM_PAGE_SHIFT=${WDMSIM_PAGE_SHIFT_DEFAULT})
    list(APPEND flags -DWDMSIM_PAGE_SHIFT=${D_PAGE_SHIFT})
  endif()
  target_compile_options(${target} PRIVATE ${flags})
  # An app (APP) sees the user-mode CRT headers first (printf, malloc ...,
  # include/crt_app) and links its archive before the kernel CRT's.
  if(D_APP)
    target_include_directories(${target} SYSTEM PRIVATE ${PROJECT_SOURCE_DIR}/include/crt_app)
    if(TARGET wdmsim_crt_app)
      target_link_libraries(${target} PRIVATE wdmsim_crt_app)
    endif()
  endif()
  target_include_directories(${target} SYSTEM PRIVATE
    ${PROJECT_SOURCE_DIR}/include/ddk ${PROJECT_SOURCE_DIR}/include/crt
    ${PROJECT_SOURCE_DIR}/include)
  target_compile_options(${target} PRIVATE -isystem ${WDMSIM_CC_INCLUDE})
  if(TARGET wdmsim_crt)
    target_link_libraries(${target} PRIVATE wdmsim_crt)
  endif()
  # Kernel imports stay undefined here and bind to the wdmsim process at load.
  target_link_options(${target} PRIVATE -nostdlib)
endfunction()
