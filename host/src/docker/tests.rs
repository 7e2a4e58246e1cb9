//! Tests against the real daemon (filled in below).
