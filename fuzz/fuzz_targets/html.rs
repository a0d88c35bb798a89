//! Fuzz target `html`: runs `assetc_fuzz::pipeline_checks::check_html` (see that function for the properties).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| assetc_fuzz::pipeline_checks::check_html(data));
