//! Fuzz target `etag`: runs `assetc_fuzz::server_checks::check_etag` (see that function for the properties).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| assetc_fuzz::server_checks::check_etag(data));
