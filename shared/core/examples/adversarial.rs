//! Writes the adversarial worst-case documents (`tripline_core::policy::adversarial`) to a directory, one
//! `<place>-<shape>.json` each, plus `<place>-<shape>.event.json` (the sample event of `events/` carrying
//! the document) where the place has one. For measuring the CLI by hand:
//! `cargo run -p tripline-core --example adversarial -- OUTDIR [SEED]`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use tripline_core::policy::adversarial;

fn main() {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "adversarial".into()));
    let seed: u64 = args.next().map_or(1, |s| s.parse().expect("seed: a number"));
    std::fs::create_dir_all(&out).unwrap();
    let events = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../events");
    for case in adversarial::worst_cases(seed) {
        let text = serde_json::to_string(&case.doc).unwrap();
        std::fs::write(out.join(format!("{}.json", case.name)), &text).unwrap();
        if let Some(t) = adversarial::event_template(case.place) {
            let mut ev: serde_json::Value =
                serde_json::from_slice(&std::fs::read(events.join(t)).unwrap()).unwrap();
            assert!(adversarial::embed(case.place, &mut ev, &case.doc), "{t}");
            std::fs::write(out.join(format!("{}.event.json", case.name)), ev.to_string()).unwrap();
        }
        println!(
            "{} {} chars (limit {})",
            case.name,
            text.len(),
            case.place.limit()
        );
    }
}
