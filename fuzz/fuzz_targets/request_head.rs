//! The request-head parser and the environ builder, as the server runs them: see
//! `gateway::simple_server::fuzz::request_head` for the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gateway::simple_server::fuzz::request_head(data);
});
