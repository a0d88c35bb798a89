//! Fuzz target `rewrite`: runs `assetc_fuzz::pipeline_checks::check_rewrite` (see that function for the properties).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| assetc_fuzz::pipeline_checks::check_rewrite(data));
