//! Behavioural tests of the engine as a job uses it.

use dragnet_model::identifiers::{parse_custom_identifiers, SeverityThreshold};
use dragnet_model::{Category, CustomDataIdentifier, FindingType, SeverityLevel};

use crate::engine::{custom_severity, managed_severity};
use crate::*;

fn managed_engine() -> Engine {
    let all: Vec<&ManagedIdentifier> = MANAGED.iter().collect();
    Engine::new(&all, &[], AllowMatcher::default()).unwrap()
}

fn custom(json: &str) -> Vec<CustomDataIdentifier> {
    parse_custom_identifiers(json).unwrap()
}

fn ids_found(engine: &Engine, text: &str, q: &Qualification) -> Vec<String> {
    let mut hits = Vec::new();
    engine.scan(text.as_bytes(), q, 0, &mut hits);
    hits.iter()
        .map(|h| engine.info(h.identifier).id.clone())
        .collect()
}

#[test]
fn every_managed_identifier_passes_its_examples() {
    let failures: Vec<_> = check_catalog()
        .into_iter()
        .flat_map(|c| c.failures)
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn column_name_keyword_qualifies_every_cell() {
    let engine = managed_engine();
    let ssn_col = engine.qualify(&["SSN"]);
    assert_eq!(
        ids_found(&engine, "536-22-1234", &ssn_col),
        vec!["USA_SOCIAL_SECURITY_NUMBER"]
    );
    assert!(ids_found(&engine, "536-22-1234", &Qualification::default()).is_empty());
    let dob = engine.qualify(&["BIRTHDATE"]);
    assert_eq!(
        ids_found(&engine, "1989-05-25", &dob),
        vec!["DATE_OF_BIRTH"]
    );
    let phone = engine.qualify(&["PHONE"]);
    assert_eq!(
        ids_found(&engine, "9784662000", &phone),
        vec!["PHONE_NUMBER"]
    );
    assert!(ids_found(&engine, "9784662000", &engine.qualify(&["REVENUE"])).is_empty());
}

#[test]
fn a_repeated_unit_reports_what_its_first_scan_did() {
    let engine = managed_engine();
    let ssn_col = engine.qualify(&["SSN"]);
    let units: Vec<String> = MANAGED
        .iter()
        .flat_map(|m| m.examples.iter().chain(m.negative_examples.iter()))
        .map(|e| e.to_string())
        .chain(["536-22-1234".to_string(), "a".repeat(48), "a".repeat(49)])
        .collect();
    let scan_all = |q: &Qualification| {
        let mut out = Vec::new();
        for unit in &units {
            // Hits are appended after what `out` already holds.
            engine.scan(unit.as_bytes(), q, 0, &mut out);
        }
        out
    };
    for q in [&Qualification::default(), &ssn_col] {
        let first = scan_all(q);
        assert!(!first.is_empty());
        assert_eq!(scan_all(q), first);
    }
    // The same value under another column's plan is judged under that plan.
    assert_eq!(ids_found(&engine, "536-22-1234", &ssn_col).len(), 1);
    assert!(ids_found(&engine, "536-22-1234", &Qualification::default()).is_empty());
    assert_eq!(ids_found(&engine, "536-22-1234", &ssn_col).len(), 1);
}

#[test]
fn names_and_addresses_in_columns() {
    let engine = managed_engine();
    let name_col = engine.qualify(&["NAME"]);
    assert_eq!(
        ids_found(&engine, "Tomas436 Sauer652", &name_col),
        vec!["NAME"]
    );
    assert!(ids_found(&engine, "HEALTHALLIANCE HOSPITALS  INC", &name_col).is_empty());
    assert!(ids_found(
        &engine,
        "Tomas436 Sauer652",
        &engine.qualify(&["DESCRIPTION"])
    )
    .is_empty());
    let addr = engine.qualify(&["ADDRESS"]);
    for a in [
        "60 HOSPITAL ROAD",
        "427 Balistreri Way Unit 19",
        "7500 Security Blvd",
    ] {
        assert_eq!(ids_found(&engine, a, &addr), vec!["ADDRESS"], "{a}");
    }
    assert!(ids_found(
        &engine,
        "Marigot  Saint Andrew Parish  DM",
        &engine.qualify(&["BIRTHPLACE"])
    )
    .is_empty());
}

#[test]
fn overlaps_keep_the_stronger_identifier() {
    let engine = managed_engine();
    // An email is not also a name; a card number is not also a phone number.
    assert_eq!(
        ids_found(
            &engine,
            "mail john.smith@example.com",
            &Qualification::default()
        ),
        vec!["EMAIL_ADDRESS"]
    );
    let found = ids_found(
        &engine,
        "card phone 4556737586899855",
        &Qualification::default(),
    );
    assert_eq!(found, vec!["CREDIT_CARD_NUMBER"]);
}

#[test]
fn custom_keyword_must_precede_within_distance_to_match_end() {
    let ids = custom(
        r#"[{"id":"emp","name":"Employee","regex":"EMP-\\d{4}","keywords":["employee"],"maximumMatchDistance":20}]"#,
    );
    let engine = Engine::new(&[], &ids, AllowMatcher::default()).unwrap();
    let none = Qualification::default();
    let count = |t: &str| ids_found(&engine, t, &none).len();
    // "employee " ends at 8; match "EMP-1234" ends 8 + 8 = 16 ≤ 20.
    assert_eq!(count("employee EMP-1234"), 1);
    assert_eq!(
        count("EMPLOYEE id EMP-1234"),
        1,
        "keywords are case-insensitive"
    );
    // Keyword after the match does not count.
    assert_eq!(count("EMP-1234 employee"), 0);
    // 13 characters between keyword end and match start, plus 8 of match = 21 > 20.
    assert_eq!(count(&format!("employee{}EMP-1234", ".".repeat(13))), 0);
    // Exactly at the limit: 12 + 8 = 20.
    assert_eq!(count(&format!("employee{}EMP-1234", ".".repeat(12))), 1);
    // Column header qualifies regardless of distance.
    assert_eq!(
        ids_found(&engine, "EMP-1234", &engine.qualify(&["Employee ID"])).len(),
        1
    );
}

#[test]
fn ignore_words_are_case_sensitive_substrings_of_the_match() {
    let ids = custom(r#"[{"id":"e","name":"E","regex":"[A-Z]+-\\d{3}","ignoreWords":["TEST"]}]"#);
    let engine = Engine::new(&[], &ids, AllowMatcher::default()).unwrap();
    let none = Qualification::default();
    assert_eq!(ids_found(&engine, "PROD-123", &none).len(), 1);
    assert_eq!(ids_found(&engine, "MYTEST-123", &none).len(), 0);
    assert_eq!(
        ids_found(&engine, "MYtest-123", &none).len(),
        0,
        "regex needs uppercase"
    );
    let ids =
        custom(r#"[{"id":"e","name":"E","regex":"(?i)[a-z]+-\\d{3}","ignoreWords":["TEST"]}]"#);
    let engine = Engine::new(&[], &ids, AllowMatcher::default()).unwrap();
    assert_eq!(
        ids_found(&engine, "mytest-123", &none).len(),
        1,
        "ignore words are case-sensitive"
    );
}

#[test]
fn invalid_custom_regex_names_the_identifier() {
    let ids = custom(r#"[{"id":"bad","name":"Bad one","regex":"(\\d{3})"}]"#);
    let err = Engine::new(&[], &ids, AllowMatcher::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("custom data identifier \"bad\" (Bad one): regex"),
        "{err}"
    );
    assert!(err.contains("capturing groups"), "{err}");
}

#[test]
fn allow_lists_drop_matches() {
    let allow = AllowMatcher::new(&[
        AllowSource::Regex {
            id: "a".into(),
            pattern: r"[a-z.]+@example\.com".into(),
        },
        AllowSource::Words {
            id: "w".into(),
            words: vec!["Jane Doe".into()],
        },
    ])
    .unwrap();
    let all: Vec<&ManagedIdentifier> = MANAGED.iter().collect();
    let engine = Engine::new(&all, &[], allow).unwrap();
    let none = Qualification::default();
    assert!(ids_found(&engine, "write to jane.doe@example.com", &none).is_empty());
    assert_eq!(
        ids_found(&engine, "write to jane.doe@example.org", &none),
        vec!["EMAIL_ADDRESS"]
    );
    assert_eq!(
        ids_found(&engine, "signed Jane Doe", &none),
        Vec::<String>::new()
    );
    assert_eq!(ids_found(&engine, "signed Jane Smith", &none), vec!["NAME"]);
    let bad = AllowMatcher::new(&[AllowSource::Regex {
        id: "x".into(),
        pattern: "(a)".into(),
    }])
    .unwrap_err();
    assert!(bad.to_string().starts_with("allow list \"x\""));
}

#[test]
fn overlapping_windows_do_not_double_count() {
    let engine = managed_engine();
    let text = b"ssn 536-22-1234 and more";
    let mut hits = Vec::new();
    engine.scan(text, &Qualification::default(), 15, &mut hits);
    assert!(
        hits.is_empty(),
        "a match ending at the overlap boundary was reported by the previous window"
    );
    engine.scan(text, &Qualification::default(), 14, &mut hits);
    assert_eq!(hits.len(), 1);
}

#[test]
fn severity_rules() {
    use SeverityLevel::*;
    assert_eq!(
        managed_severity(Category::PersonalInformation, 1),
        Some(Low)
    );
    assert_eq!(
        managed_severity(Category::PersonalInformation, 2),
        Some(Medium)
    );
    assert_eq!(
        managed_severity(Category::PersonalInformation, 99),
        Some(Medium)
    );
    assert_eq!(
        managed_severity(Category::PersonalInformation, 100),
        Some(High)
    );
    assert_eq!(managed_severity(Category::Credentials, 1), Some(High));
    assert_eq!(custom_severity(None, 1), Some(Medium));
    assert_eq!(custom_severity(None, 5000), Some(Medium));
    let levels = [
        SeverityThreshold {
            occurrences_threshold: 2,
            severity: Low,
        },
        SeverityThreshold {
            occurrences_threshold: 50,
            severity: Medium,
        },
        SeverityThreshold {
            occurrences_threshold: 100,
            severity: High,
        },
    ];
    assert_eq!(custom_severity(Some(&levels), 1), None);
    assert_eq!(custom_severity(Some(&levels), 2), Some(Low));
    assert_eq!(custom_severity(Some(&levels), 50), Some(Medium));
    assert_eq!(custom_severity(Some(&levels), 100), Some(High));
}

#[test]
fn judge_caps_locations_and_picks_type() {
    let ids = custom(
        r#"[{"id":"p","name":"Patient ID","regex":"P\\d+"},{"id":"q","name":"Rare","regex":"Q\\d+","severityLevels":[{"occurrencesThreshold":5,"severity":"HIGH"}]}]"#,
    );
    let all: Vec<&ManagedIdentifier> = MANAGED.iter().filter(|m| m.id == "NAME").collect();
    let engine = Engine::new(&all, &ids, AllowMatcher::default()).unwrap();
    let mut tally = ObjectDetections::new(engine.len());
    for row in 0..20u64 {
        tally.record(1, || {
            Place::Cell {
                row: row + 2,
                column: 1,
                column_name: "PATIENT".into(),
            }
            .into()
        });
    }
    tally.record(2, || {
        Place::Line {
            line: 1,
            start_column: 1,
        }
        .into()
    });
    let j = tally.judge(&engine, FINDING_LOCATION_CAP);
    assert_eq!(j.finding_type, Some(FindingType::CustomIdentifier));
    assert_eq!(j.severity, Some(SeverityLevel::Medium));
    assert!(j.additional_occurrences);
    let d = &j.custom_data_identifiers.detections;
    assert_eq!(d.len(), 1, "Rare is below its threshold and not reported");
    assert_eq!(d[0].count, 20);
    assert_eq!(d[0].occurrences.cells.as_ref().unwrap().len(), 15);
    let full = tally.judge(&engine, RESULT_LOCATION_CAP);
    assert!(!full.additional_occurrences);
    assert_eq!(
        full.custom_data_identifiers.detections[0]
            .occurrences
            .cells
            .as_ref()
            .unwrap()
            .len(),
        20
    );
    tally.record(0, || {
        Place::Line {
            line: 3,
            start_column: 4,
        }
        .into()
    });
    let j = tally.judge(&engine, FINDING_LOCATION_CAP);
    assert_eq!(j.finding_type, Some(FindingType::Multiple));
    assert_eq!(j.sensitive_data[0].detections[0].detection_type, "NAME");
    // Locations inside archive members are kept in results and left out of findings.
    let mut archive = ObjectDetections::new(engine.len());
    for i in 0..3 {
        archive.record(1, || Location {
            member: Some("inner/a.csv".into()),
            place: Place::Cell {
                row: i + 2,
                column: 1,
                column_name: "PATIENT".into(),
            },
        });
    }
    let finding = archive.judge(&engine, FINDING_LOCATION_CAP);
    assert!(finding.additional_occurrences);
    assert_eq!(
        finding.custom_data_identifiers.detections[0].occurrences,
        dragnet_model::finding::Occurrences::default()
    );
    let result = archive.judge(&engine, RESULT_LOCATION_CAP);
    let cells = result.custom_data_identifiers.detections[0]
        .occurrences
        .cells
        .clone()
        .unwrap();
    assert_eq!(cells[0].file_name.as_deref(), Some("inner/a.csv"));
}

#[test]
fn a_keyword_shared_by_identifiers_gates_each_of_them() {
    // `passport` is a keyword of the US, French and Italian passport numbers; one
    // occurrence must let each of them look for its own format.
    let engine = managed_engine();
    let text = "passport 12AB34567; passport C03005988; passport YA1234567";
    let found = ids_found(&engine, text, &Qualification::default());
    for id in [
        "FRANCE_PASSPORT_NUMBER",
        "USA_PASSPORT_NUMBER",
        "ITALY_PASSPORT_NUMBER",
    ] {
        assert!(found.iter().any(|f| f == id), "{id} in {found:?}");
    }
    // Custom identifiers sharing a keyword with a managed one are gated by it too.
    let ids = custom(r#"[{"id":"p","name":"p","regex":"P-\\d{4}","keywords":["passport"]}]"#);
    let managed: Vec<&ManagedIdentifier> = MANAGED.iter().collect();
    let engine = Engine::new(&managed, &ids, AllowMatcher::default()).unwrap();
    let found = ids_found(
        &engine,
        "passport P-1234 C03005988",
        &Qualification::default(),
    );
    assert!(found.contains(&"p".to_string()), "{found:?}");
    assert!(
        found.contains(&"USA_PASSPORT_NUMBER".to_string()),
        "{found:?}"
    );
}

#[test]
fn keywords_match_accented_capitals() {
    let engine = managed_engine();
    let found = ids_found(
        &engine,
        "NÚMERO DE PASAPORTE PAA123456",
        &Qualification::default(),
    );
    assert!(
        found.contains(&"SPAIN_PASSPORT_NUMBER".to_string()),
        "{found:?}"
    );
}

#[test]
fn long_non_latin_keywords_match_in_sentence_title_and_upper_case() {
    let engine = managed_engine();
    for text in [
        "Άδεια οδήγησης: 987654321098",
        "ΆΔΕΙΑ ΟΔΉΓΗΣΗΣ 987654321098",
        "Шофьорска Книжка 300123456",
        "ŘIDIČSKÝ PRŮKAZ EA 123456",
    ] {
        let found = ids_found(&engine, text, &Qualification::default());
        assert!(
            found.iter().any(|id| id.ends_with("_DRIVERS_LICENSE")),
            "{text}: {found:?}"
        );
    }
}

#[test]
fn a_spaced_iban_is_not_also_a_card_number() {
    // The digit groups of this Brazilian IBAN pass the Luhn check with a card prefix.
    let engine = managed_engine();
    let found = ids_found(
        &engine,
        "account BR65 XRJB 4475 3133 7797 2489 0095 2",
        &Qualification::default(),
    );
    assert_eq!(found, vec!["BRAZIL_BANK_ACCOUNT_NUMBER".to_string()]);
}

#[test]
fn every_builtin_regex_compiles() {
    // The engine compiles built-in regexes on first use; none may fail there.
    for m in MANAGED {
        for p in m.patterns {
            let source = crate::dialect::ascii_builtin_pattern(p.regex);
            if let Err(e) = regex::bytes::RegexBuilder::new(&source).build() {
                panic!("{}: {e}", m.id);
            }
        }
    }
}
