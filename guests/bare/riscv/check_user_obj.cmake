# check_user_obj.cmake - user.o runs at an alias address (USER_TEXT_VA), so
# it must neither call nor read anything outside itself (no undefined
# symbols) nor own writable data (.data/.bss are not mapped for U-mode).
# Usage: cmake -DNM=nm -DOBJ=user.o -DSTAMP=file -P check_user_obj.cmake
execute_process(COMMAND ${NM} ${OBJ} OUTPUT_VARIABLE syms
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} ${OBJ} failed")
endif()
string(REGEX MATCHALL "[^\n]+" lines "${syms}")
foreach(line ${lines})
  if(line MATCHES "^[0-9a-fA-F]* +([UuBbDdGgSsCc]) (.*)$")
    message(FATAL_ERROR
      "user.o must be self-contained: '${CMAKE_MATCH_2}' has type "
      "${CMAKE_MATCH_1} (undefined, or writable data)")
  endif()
endforeach()
file(WRITE ${STAMP} "ok\n")
