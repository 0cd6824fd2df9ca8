# SPDX-License-Identifier: BSD-3-Clause
# cmake -DNM=nm -DOBJECT=probemon_probes.o -P check_semaphores.cmake: fails
# unless the semaphores of wait__start, wait__done and wait__batch sit at
# consecutive 2-byte offsets, which the inline WaitCounterHandle::start()
# reads with one load (src/probemon/WaitCounter.h).
execute_process(COMMAND ${NM} ${OBJECT} OUTPUT_VARIABLE _symbols RESULT_VARIABLE _status)
if(NOT _status EQUAL 0)
  message(FATAL_ERROR "${NM} ${OBJECT} failed")
endif()
foreach(_probe wait__start wait__done wait__batch)
  string(REGEX MATCH "([0-9a-f]+) [A-Za-z] probemon_${_probe}_semaphore" _line "${_symbols}")
  if(NOT _line)
    message(FATAL_ERROR "${OBJECT} has no semaphore for ${_probe}")
  endif()
  math(EXPR _offset_${_probe} "0x${CMAKE_MATCH_1}")
endforeach()
math(EXPR _done "${_offset_wait__start} + 2")
math(EXPR _batch "${_offset_wait__start} + 4")
if(NOT _offset_wait__done EQUAL _done OR NOT _offset_wait__batch EQUAL _batch)
  message(FATAL_ERROR "the wait semaphores in ${OBJECT} are not adjacent (wait__start at "
                      "${_offset_wait__start}, wait__done at ${_offset_wait__done}, wait__batch at "
                      "${_offset_wait__batch}): declare them in this order in probemon.d")
endif()
