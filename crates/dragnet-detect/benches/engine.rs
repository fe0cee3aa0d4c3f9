//! Engine throughput on Synthea-shaped units: CSV cells (with and without column keywords),
//! JSON values and log lines, for the RECOMMENDED set, ALL, and ALL plus 100 custom
//! identifiers. `cargo bench -p dragnet-detect` (results under target/criterion).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dragnet_detect::{select_managed, AllowMatcher, Engine, Hit, Qualification};
use dragnet_model::identifiers::parse_custom_identifiers;
use dragnet_model::jobspec::ManagedDataIdentifierSelector;

const WALKTHROUGH: &str = r#"[
  {"id":"p","name":"Patient ID","regex":"[a-z,0-9]{8}-[a-z,0-9]{4}-[a-z,0-9]{4}-[a-z,0-9]{4}-[a-z,0-9]{12}","keywords":["PATIENT"]},
  {"id":"d","name":"US Driver License","regex":"[S]{1}\\d{8}","keywords":["DRIVERS"]},
  {"id":"x","name":"US Passport","regex":"[X]{1}\\d{8}[X]{1}","keywords":["PASSPORT"]}]"#;

fn engine(selector: ManagedDataIdentifierSelector, extra_custom: usize) -> Engine {
    let managed = select_managed(selector, &[]).unwrap();
    let mut custom = parse_custom_identifiers(WALKTHROUGH).unwrap();
    let extra: Vec<String> = (0..extra_custom)
        .map(|i| format!(r#"{{"id":"c{i}","name":"Custom {i}","regex":"EMP{i:03}-\\d{{6}}","keywords":["employee{i}"]}}"#))
        .collect();
    if !extra.is_empty() {
        custom.extend(parse_custom_identifiers(&format!("[{}]", extra.join(","))).unwrap());
    }
    Engine::new(&managed, &custom, AllowMatcher::default()).unwrap()
}

/// Rows shaped like Synthea's observations.csv and patients.csv.
fn rows() -> Vec<(Vec<&'static str>, Vec<String>)> {
    let observations = vec![
        "DATE",
        "PATIENT",
        "ENCOUNTER",
        "CODE",
        "DESCRIPTION",
        "VALUE",
        "UNITS",
        "TYPE",
    ];
    let patients = vec![
        "Id",
        "BIRTHDATE",
        "SSN",
        "DRIVERS",
        "PASSPORT",
        "FIRST",
        "LAST",
        "ADDRESS",
        "CITY",
        "ZIP",
    ];
    let mut out = Vec::new();
    for i in 0..2000u32 {
        let uuid = format!(
            "{:08x}-4b2c-4d3e-8f90-{:012x}",
            i * 7919,
            u64::from(i) * 104_729
        );
        out.push((
            observations.clone(),
            vec![
                format!("2014-07-{:02}T15:35:36Z", i % 28 + 1),
                uuid.clone(),
                uuid.replace('4', "5"),
                "8302-2".into(),
                "Body Height".into(),
                format!("{}.{}", 150 + i % 40, i % 10),
                "cm".into(),
                "numeric".into(),
            ],
        ));
        if i % 20 == 0 {
            out.push((
                patients.clone(),
                vec![
                    uuid,
                    "1989-05-25".into(),
                    format!("999-76-{:04}", i),
                    format!("S9998{:04}", i),
                    format!("X1927{:04}X", i),
                    "Tomas436".into(),
                    "Sauer652".into(),
                    format!("{} Balistreri Way Unit 19", i),
                    "Chicopee".into(),
                    "01013".into(),
                ],
            ));
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let rows = rows();
    let bytes: u64 = rows
        .iter()
        .flat_map(|(_, cells)| cells.iter())
        .map(|c| c.len() as u64)
        .sum();
    let lines: Vec<String> = rows
        .iter()
        .map(|(h, cells)| {
            h.iter()
                .zip(cells)
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let line_bytes: u64 = lines.iter().map(|l| l.len() as u64).sum();
    for (name, selector, extra) in [
        ("recommended", ManagedDataIdentifierSelector::Recommended, 0),
        ("all", ManagedDataIdentifierSelector::All, 0),
        ("all+100custom", ManagedDataIdentifierSelector::All, 100),
    ] {
        let engine = engine(selector, extra);
        let mut group = c.benchmark_group(name);
        group.sample_size(10);
        group.throughput(Throughput::Bytes(bytes));
        group.bench_function("csv_cells", |b| {
            // Column plans are made once per header, as the CSV reader does.
            let plans: Vec<Vec<Qualification>> = rows
                .iter()
                .map(|(h, _)| h.iter().map(|n| engine.qualify(&[n])).collect())
                .collect();
            let mut hits: Vec<Hit> = Vec::new();
            b.iter(|| {
                hits.clear();
                for ((_, cells), plan) in rows.iter().zip(&plans) {
                    for (cell, q) in cells.iter().zip(plan) {
                        engine.scan(cell.as_bytes(), q, 0, &mut hits);
                    }
                }
                hits.len()
            })
        });
        group.throughput(Throughput::Bytes(line_bytes));
        group.bench_function("text_lines", |b| {
            let free = Qualification::default();
            let mut hits: Vec<Hit> = Vec::new();
            b.iter(|| {
                hits.clear();
                for line in &lines {
                    engine.scan(line.as_bytes(), &free, 0, &mut hits);
                }
                hits.len()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
