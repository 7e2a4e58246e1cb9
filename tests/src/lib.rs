//! Harness for end-to-end tests against real Docker engines (see `tests/testbed/`).
