//! Fuzz target `js`: runs `assetc_fuzz::pipeline_checks::check_js` (see that function for the properties).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| assetc_fuzz::pipeline_checks::check_js(data));
