//! Fuzz target `negotiate`: runs `assetc_fuzz::server_checks::check_negotiate` (see that function for the properties).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| assetc_fuzz::server_checks::check_negotiate(data));
