//! Fuzz target `path_decode`: runs `assetc_fuzz::server_checks::check_path_decode` (see that function for the properties).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| assetc_fuzz::server_checks::check_path_decode(data));
