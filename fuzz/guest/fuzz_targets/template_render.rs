//! Arbitrary template + environment → the guest's template environment
//! (`maestro-guest render` without the files).
//!
//! The input is `VARIABLES\0TEMPLATE`, the variables as `KEY=VALUE` lines;
//! without a NUL byte, all of it is the template, rendered in the
//! environment of the seed example's `kafka-2` (so the shipped templates
//! are seeds as they are).
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use maestro_guest::contract::GuestEnv;
use maestro_guest::template;

/// Instructions a render may run: templates are trusted and loops are
/// theirs to bound, so a render that runs long is no finding.
const FUEL: u64 = 200_000;

const KAFKA_2: &str = include_str!("../seeds/contract_reader/kafka-2.env");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (vars, source) = match text.split_once('\0') {
        Some((vars, source)) => (vars, source),
        None => (KAFKA_2, text),
    };
    let guest = GuestEnv::from_vars(
        vars.lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let mut env = template::environment(Arc::new(guest));
    env.set_fuel(Some(FUEL));
    let _ = env
        .template_from_named_str("fuzz.j2", source)
        .and_then(|t| t.render(()));
});
