//! Fuzz target `json`: runs `assetc_fuzz::pipeline_checks::check_json` (see that function for the properties).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| assetc_fuzz::pipeline_checks::check_json(data));
