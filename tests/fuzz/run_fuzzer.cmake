# Runs one libFuzzer binary for a bounded time on a scratch copy of its seed corpus and fails
# when it reports a crash, sanitizer error, timeout or out-of-memory. The source tree is never
# written: new inputs go to WORK/corpus, crash reproducers to WORK/artifacts.
# Usage: cmake -DFUZZER=BIN -DSEEDS=DIR[;DIR...] [-DDICT=FILE] -DWORK=DIR -DSECONDS=N -P this
foreach(var FUZZER SEEDS WORK SECONDS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzzer.cmake: -D${var}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
foreach(dir ${SEEDS})
  file(GLOB seeds ${dir}/*)
  list(FILTER seeds EXCLUDE REGEX "/\\.stamp$")
  if(seeds)
    file(COPY ${seeds} DESTINATION ${WORK}/corpus)
  endif()
endforeach()

set(options -max_total_time=${SECONDS} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
    -artifact_prefix=${WORK}/artifacts/)
if(DICT)
  list(APPEND options -dict=${DICT})
endif()
execute_process(COMMAND ${FUZZER} ${options} ${WORK}/corpus RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  file(GLOB found ${WORK}/artifacts/*)
  message(FATAL_ERROR "${FUZZER} found a problem (exit ${result}); reproducer: ${found}\n"
                      "Rerun it with: ${FUZZER} <reproducer>")
endif()
