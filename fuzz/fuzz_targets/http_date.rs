//! Fuzz target `http_date`: runs `assetc_fuzz::server_checks::check_http_date` (see that function for the properties).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| assetc_fuzz::server_checks::check_http_date(data));
