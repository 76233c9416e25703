# A test that fails with MESSAGE: stands in for the fuzz tests when they cannot be built.
message(FATAL_ERROR "${MESSAGE}")
