//! Fuzz target `url_ref`: runs `assetc_fuzz::core_checks::check_url_ref` (see that function for the properties).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| assetc_fuzz::core_checks::check_url_ref(data));
