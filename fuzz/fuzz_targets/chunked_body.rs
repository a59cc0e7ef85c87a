//! The chunked decoder with trailers, as `wsgi.input` and the parked-body check run it: see
//! `gateway::simple_server::fuzz::chunked_body` for the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    gateway::simple_server::fuzz::chunked_body(data);
});
