use breachline::ingest::{registry, FileCtx, Parsed};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn parsers_never_panic_on_arbitrary_text(s in "\\PC{0,300}") {
        let ctx = FileCtx { header: Some(vec!["event_timestamp".into(), "message_id".into(), "event".into()]), ..Default::default() };
        for p in registry() {
            let _ = p.parse(&s, &ctx);
        }
    }

    #[test]
    fn parsers_never_panic_on_mutated_records(idx in 0usize..18, cut in 0usize..400, junk in "[\\x00-\\x7f]{0,12}") {
        let p = registry()[idx % registry().len()];
        let ex = p.example();
        let mut at = cut.min(ex.len());
        while !ex.is_char_boundary(at) { at -= 1; }
        let s = format!("{}{}{}", &ex[..at], junk, &ex[at..]);
        let _ = p.parse(&s, &FileCtx::default());
    }

    #[test]
    fn accounting_always_adds_up(lines in proptest::collection::vec(prop_oneof![
        Just(r#"{"requestId":"a","ip":"1.2.3.4","requestTime":"05/Mar/2024:14:22:01 +0000","httpMethod":"GET","resourcePath":"/x","status":"200"}"#.to_string()),
        Just(String::new()),
        "[ -~]{0,80}",
    ], 1..60)) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        std::fs::write(&p, lines.join("\n") + "\n").unwrap();
        let opts = breachline::ingest::pipeline::IngestOpts { format: Some("apigw-json".into()), ..Default::default() };
        let ing = breachline::ingest::pipeline::ingest(&[p.display().to_string()], &opts, &indicatif::ProgressBar::hidden()).unwrap();
        let f = &ing.files[0];
        prop_assert_eq!(f.records, f.events + f.duplicates + f.rejected + f.skipped);
        prop_assert_eq!(f.records, lines.len() as u64);
        prop_assert_eq!(ing.rejections.len() as u64, f.rejected);
    }
}

#[test]
fn every_example_parses_or_is_rejected_cleanly() {
    for p in registry() {
        match p.parse(p.example(), &FileCtx::default()) {
            Parsed::Event(_) | Parsed::Reject(_) | Parsed::Skip(_) => {}
        }
    }
}
