//! The streaming way through the ingestion pipeline: files in order, each block's kept
//! events handed to a sink as they are parsed (runs of small files read together), so
//! that a case file is written without holding the evidence in memory.

use super::input::Input;
use super::merge::Tally;
use super::pipeline::{read_file, read_whole, setup, FileOut, IngestOpts, Ingested, Out, Rec};
use crate::error::Error;
use crate::model::Event;
use indicatif::ProgressBar;
use rayon::prelude::*;

/// Ingests evidence paths block by block: each block's kept events go to `sink` (in
/// file, then record order) and are not kept here, so memory holds a block or two of
/// events, never the evidence. Files are read in order, records of a block in parallel;
/// a record is a duplicate when an earlier file holds the same record (the rule of
/// [`super::pipeline::ingest`], checked against a set of the earlier files' record
/// hashes). The returned `Ingested` has the inventory and rejections and no events.
pub fn stream(
    paths: &[String],
    opts: &IngestOpts,
    pb: &ProgressBar,
    sink: &mut (dyn FnMut(Vec<Box<Event>>) -> Result<(), Error> + Send),
) -> Result<Ingested, Error> {
    let run = setup(paths, opts, pb)?;
    let mut seen = rustc_hash::FxHashSet::<u64>::default();
    let mut files = Vec::with_capacity(run.inputs.len());
    let mut rejections = Vec::new();
    let n = run.inputs.len();
    let mut idx = 0;
    while idx < n {
        // A run of small files (a CloudWatch export holds thousands) is read on every
        // core at once, then handed on in order; one at a time, each would wait for the
        // last one's hand-offs.
        let batch = small_run(&run.inputs[idx..]);
        let read: Vec<Result<FileOut, Error>> = if batch > 1 {
            (idx..idx + batch)
                .into_par_iter()
                .map(|i| read_whole(&run, i as u32, &run.inputs[i]))
                .collect()
        } else {
            Vec::new()
        };
        let mut read = read.into_iter();
        for i in idx..idx + batch.max(1) {
            let inp = &run.inputs[i];
            let later = i + 1 < n;
            let mut tally = Tally::new(inp.display(), opts.strict);
            let mut mine = Vec::new();
            let each = &mut |block: Vec<Out>| {
                let mut kept = Vec::with_capacity(block.len());
                for it in block.into_iter().flatten() {
                    let d = matches!(it.parsed, Rec::Event(_)) && {
                        if later {
                            mine.push(it.hash);
                        }
                        seen.contains(&it.hash)
                    };
                    kept.extend(tally.take(it, d, &mut rejections)?);
                }
                sink(kept)
            };
            let mut info = match read.next() {
                Some(out) => {
                    let out = out?;
                    for block in out.blocks {
                        each(block)?;
                    }
                    out.info
                }
                None => read_file(&run, i as u32, inp, each)?,
            };
            seen.extend(mine);
            tally.close(&mut info)?;
            files.push(info);
        }
        idx += batch.max(1);
    }
    Ok(Ingested {
        events: Vec::new(),
        files,
        rejections,
    })
}

/// Files up to this size (as stored) are read together by [`stream`]...
const SMALL_FILE: u64 = 1 << 20;
/// ... this many bytes of them at most, so that memory holds a few blocks' worth.
const SMALL_BATCH: u64 = 8 << 20;

/// How many of the inputs, from the first, make one batch of small files (0 or 1: read
/// the first alone). Standard input has no size and is read alone.
fn small_run(inputs: &[Input]) -> usize {
    let mut total = 0;
    let mut k = 0;
    for inp in inputs {
        let size = match inp {
            Input::File(_) | Input::Member(_) => inp.size(),
            _ => break,
        };
        if size > SMALL_FILE || total + size > SMALL_BATCH || k == 512 {
            break;
        }
        total += size;
        k += 1;
    }
    k
}
