//! Fuzz target `logical_path`: runs `assetc_fuzz::core_checks::check_logical_path` (see that function for the properties).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| assetc_fuzz::core_checks::check_logical_path(data));
