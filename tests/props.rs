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

    /// A prefix read from any text never panics, and what it gives compiles.
    #[test]
    fn log_line_prefixes_read_from_any_text_compile(s in "[0-9a-z \\[\\]@=:,.()<>%-]{0,60}|\\PC{0,80}") {
        let line = format!("2024-03-05 14:23:10.123 UTC {s}");
        if let Some(t) = breachline::ingest::pg_infer::template(&line) {
            prop_assert!(breachline::ingest::pg_prefix::Prefix::compile(&t).is_ok(), "{t}");
        }
        let _ = breachline::ingest::pg_infer::template(&s);
    }

    #[test]
    fn parsers_never_panic_on_mutated_records(idx in 0usize..64, cut in 0usize..400, junk in "[\\x00-\\x7f]{0,12}") {
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
        let dir = crate::util::tmp().unwrap();
        let p = dir.path().join("a.log");
        std::fs::write(&p, lines.join("\n") + "\n").unwrap();
        let opts = breachline::ingest::pipeline::IngestOpts { format: Some("apigw-json".into()), ..Default::default() };
        let ing = breachline::ingest::pipeline::ingest(&[p.display().to_string()], &opts, &indicatif::ProgressBar::hidden()).unwrap();
        let f = &ing.files[0];
        prop_assert_eq!(f.records, f.events + f.duplicates + f.rejected + f.skipped);
        prop_assert_eq!(f.records, lines.len() as u64);
        prop_assert_eq!(ing.rejections.len() as u64, f.rejected);
    }

    /// A file that starts like a compression, an archive or UTF-16 and goes on with any
    /// bytes, or a real compressed file cut anywhere: never a panic, every file accounted.
    #[test]
    fn packed_garbage_never_panics(kind in 0usize..9, tail in proptest::collection::vec(any::<u8>(), 0..1500), cut in 0usize..4000) {
        use std::io::Write;
        let magic: &[u8] = match kind {
            0 => b"\x1f\x8b\x08\x00",
            1 => b"BZh91AY&SY",
            2 => b"\xFD7zXZ\x00\x00\x04",
            3 => b"\x28\xB5\x2F\xFD",
            4 => b"\x04\x22\x4D\x18",
            5 => b"PK\x03\x04",
            6 => b"\xFF\xFE",
            _ => b"",
        };
        let mut bytes = magic.to_vec();
        bytes.extend_from_slice(&tail);
        if kind == 7 {
            // A tar header block with its magic, then the bytes.
            let mut block = vec![0u8; 512];
            block[..7].copy_from_slice(b"api.log");
            block[257..263].copy_from_slice(b"ustar\x00");
            block.extend_from_slice(&tail);
            bytes = block;
        } else if kind == 8 {
            let log = std::fs::read("sample-logs/gateway/apigw-json/api-access.log").unwrap();
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&log[..20_000]).unwrap();
            bytes = e.finish().unwrap();
            bytes.truncate(cut.min(bytes.len()));
        }
        let dir = crate::util::tmp().unwrap();
        let p = dir.path().join("evidence.bin");
        std::fs::write(&p, &bytes).unwrap();
        let opts = breachline::ingest::pipeline::IngestOpts::default();
        let ing = breachline::ingest::pipeline::ingest(&[p.display().to_string()], &opts, &indicatif::ProgressBar::hidden()).unwrap();
        prop_assert!(!ing.files.is_empty());
        for f in &ing.files {
            prop_assert_eq!(f.records, f.events + f.duplicates + f.rejected + f.skipped);
        }
    }

    /// The streaming ingest (a case file written block by block, files in order, a
    /// set of earlier files' records) and the in-memory one (files in parallel, one
    /// sort of every record) agree on every count, every rejection and every event,
    /// with records repeated inside and across files.
    #[test]
    fn streaming_and_in_memory_ingest_agree(files in proptest::collection::vec(
        proptest::collection::vec(0usize..9, 0..25), 1..5)) {
        let pool = |i: usize| match i {
            0..=5 => format!(r#"{{"requestId":"r{i}","ip":"10.0.0.{i}","requestTime":"05/Mar/2024:14:22:0{i} +0000","httpMethod":"GET","resourcePath":"/x","status":"200"}}"#),
            6 => "not json".to_string(),
            7 => String::new(),
            _ => r#"{"requestId":"late","ip":"10.0.0.9","requestTime":"05/Mar/2024:14:21:00 +0000","httpMethod":"POST","resourcePath":"/y","status":"500"}"#.to_string(),
        };
        let dir = crate::util::tmp().unwrap();
        let paths: Vec<String> = files.iter().enumerate().map(|(n, lines)| {
            let p = dir.path().join(format!("{n}.log"));
            let text: Vec<String> = lines.iter().map(|&i| pool(i)).collect();
            std::fs::write(&p, text.join("\n")).unwrap();
            p.display().to_string()
        }).collect();
        use breachline::ingest::pipeline::{ingest, stream, IngestOpts};
        let opts = IngestOpts { format: Some("apigw-json".into()), ..Default::default() };
        let pb = indicatif::ProgressBar::hidden();
        let whole = ingest(&paths, &opts, &pb).unwrap();
        let mut events = Vec::new();
        let streamed = stream(&paths, &opts, &pb, &mut |b| { events.extend(b); Ok(()) }).unwrap();
        breachline::ingest::sort_events(&mut events);
        prop_assert_eq!(&streamed.files, &whole.files);
        prop_assert_eq!(&streamed.rejections, &whole.rejections);
        prop_assert_eq!(&events, &whole.events);
        let dups: u64 = whole.files.iter().map(|f| f.duplicates).sum();
        let later: usize = files.iter().enumerate().skip(1).map(|(n, l)| {
            l.iter().filter(|&&i| i != 6 && i != 7 && files[..n].iter().any(|e| e.contains(&i))).count()
        }).sum();
        prop_assert_eq!(dups, later as u64);
    }
}

#[test]
fn every_example_is_an_event_of_its_format() {
    let mut whole = 0;
    for p in registry() {
        // Examples cut short for the table (`…`) and records that need a header or
        // a multi-line frame are not whole records.
        if p.has_header()
            || p.framing() != breachline::ingest::Framing::Lines
            || p.example().contains('…')
        {
            continue;
        }
        match p.parse(p.example(), &FileCtx::default()) {
            Parsed::Event(e) => assert_eq!(e.format.as_str(), p.name()),
            Parsed::Many(v) => assert!(v.iter().all(|x| matches!(x, Parsed::Event(_)))),
            other => panic!("{}: {other:?}", p.name()),
        }
        whole += 1;
    }
    assert!(whole > 0, "no whole example");
}
