//! Judging one object: counting detections per identifier, keeping a capped list of their
//! locations, and turning them into Macie's result shape with a severity and finding type.

use std::sync::Arc;

use dragnet_model::finding::{
    Cell, CustomDataIdentifiers, CustomDetection, DefaultDetection, Occurrences, Range, Record,
    SensitiveDataItem,
};
use dragnet_model::{Category, FindingType, SeverityLevel};

use crate::engine::{custom_severity, managed_severity, Engine, IdentifierKind};

/// Locations a finding reports per detection (Macie's quota).
pub const FINDING_LOCATION_CAP: usize = 15;
/// Locations a discovery result reports per detection type.
pub const RESULT_LOCATION_CAP: usize = 1000;

/// Where a detection is, in the terms of the object's format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A CSV/TSV cell: row counts the header as 1; column is 1-based.
    Cell {
        /// 1-based row, header included.
        row: u64,
        /// 1-based column.
        column: u64,
        /// The column's header.
        column_name: Arc<str>,
    },
    /// A text line: 1-based line and 1-based start column.
    Line {
        /// 1-based line.
        line: u64,
        /// 1-based character offset on the line.
        start_column: u64,
    },
    /// A record of a record-based format.
    Record {
        /// 0-based record index.
        index: u64,
        /// JSONPath of the field (none when a path element is itself sensitive).
        json_path: Option<String>,
    },
}

/// A detection's place, and the archive member it is in, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Path of the archive member (`None` for the object itself).
    pub member: Option<Arc<str>>,
    /// Where in that file.
    pub place: Place,
}

impl From<Place> for Location {
    fn from(place: Place) -> Self {
        Location {
            member: None,
            place,
        }
    }
}

/// Counts and locations of one object's detections, per identifier of the engine.
#[derive(Debug, Clone)]
pub struct ObjectDetections {
    counts: Vec<u64>,
    locations: Vec<Vec<Location>>,
}

/// The judged result of one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// Managed detections by category.
    pub sensitive_data: Vec<SensitiveDataItem>,
    /// Custom detections.
    pub custom_data_identifiers: CustomDataIdentifiers,
    /// More locations exist than are listed.
    pub additional_occurrences: bool,
    /// The highest severity among reported detections.
    pub severity: Option<SeverityLevel>,
    /// The finding type, when anything is reported.
    pub finding_type: Option<FindingType>,
}

impl ObjectDetections {
    /// An empty tally for an engine with `identifiers` identifiers.
    pub fn new(identifiers: usize) -> Self {
        ObjectDetections {
            counts: vec![0; identifiers],
            locations: vec![Vec::new(); identifiers],
        }
    }

    /// Counts one detection of `identifier`; its location is kept while under the result cap.
    pub fn record(&mut self, identifier: usize, location: impl FnOnce() -> Location) {
        self.counts[identifier] += 1;
        if self.locations[identifier].len() < RESULT_LOCATION_CAP {
            self.locations[identifier].push(location());
        }
    }

    /// Total detections of every identifier.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Judges the tally, listing at most `location_cap` locations per detection
    /// ([`FINDING_LOCATION_CAP`] for findings, [`RESULT_LOCATION_CAP`] for results).
    pub fn judge(&self, engine: &Engine, location_cap: usize) -> Judgement {
        let mut severity: Option<SeverityLevel> = None;
        let mut additional = false;
        let mut by_category: Vec<(Category, Vec<DefaultDetection>)> = Vec::new();
        let mut custom = Vec::new();
        for (i, &count) in self.counts.iter().enumerate() {
            if count == 0 {
                continue;
            }
            let info = engine.info(i);
            let level = match &info.kind {
                IdentifierKind::Managed { category, .. } => managed_severity(*category, count),
                IdentifierKind::Custom { severity_levels } => {
                    custom_severity(severity_levels.as_deref(), count)
                }
            };
            // Below a custom identifier's lowest threshold nothing is reported.
            let Some(level) = level else { continue };
            severity = severity.max(Some(level));
            let kept = &self.locations[i][..self.locations[i].len().min(location_cap)];
            let occurrences = occurrences(kept, location_cap > FINDING_LOCATION_CAP);
            if occurrences_len(&occurrences) < count {
                additional = true;
            }
            match &info.kind {
                IdentifierKind::Managed { category, .. } => {
                    let detection = DefaultDetection {
                        count,
                        occurrences,
                        detection_type: info.id.clone(),
                    };
                    match by_category.iter_mut().find(|(c, _)| c == category) {
                        Some((_, list)) => list.push(detection),
                        None => by_category.push((*category, vec![detection])),
                    }
                }
                IdentifierKind::Custom { .. } => custom.push(CustomDetection {
                    arn: info.id.clone(),
                    count,
                    name: info.name.clone(),
                    occurrences,
                }),
            }
        }
        by_category.sort_by_key(|(c, _)| *c);
        let mut categories: Vec<Category> = by_category.iter().map(|(c, _)| *c).collect();
        if !custom.is_empty() {
            categories.push(Category::CustomIdentifier);
        }
        let sensitive_data = by_category
            .into_iter()
            .map(|(category, mut detections)| {
                detections.sort_by(|a, b| a.detection_type.cmp(&b.detection_type));
                SensitiveDataItem {
                    category,
                    total_count: detections.iter().map(|d| d.count).sum(),
                    detections,
                }
            })
            .collect();
        custom.sort_by(|a, b| a.name.cmp(&b.name).then(a.arn.cmp(&b.arn)));
        Judgement {
            sensitive_data,
            custom_data_identifiers: CustomDataIdentifiers {
                total_count: custom.iter().map(|d| d.count).sum(),
                detections: custom,
            },
            additional_occurrences: additional,
            severity,
            finding_type: FindingType::for_categories(&categories),
        }
    }
}

/// Occurrences for `locations`. Findings leave out locations inside archive members, as
/// Macie's do; discovery results keep them with their member's `fileName`.
fn occurrences_len(o: &Occurrences) -> u64 {
    [
        o.cells.as_ref().map(Vec::len),
        o.line_ranges.as_ref().map(Vec::len),
        o.records.as_ref().map(Vec::len),
    ]
    .iter()
    .flatten()
    .sum::<usize>() as u64
}

fn occurrences(locations: &[Location], with_members: bool) -> Occurrences {
    let mut o = Occurrences::default();
    for loc in locations {
        if loc.member.is_some() && !with_members {
            continue;
        }
        let file_name = loc.member.as_ref().map(|m| m.to_string());
        match &loc.place {
            Place::Cell {
                row,
                column,
                column_name,
            } => o.cells.get_or_insert_with(Vec::new).push(Cell {
                cell_reference: None,
                column: *column,
                column_name: column_name.to_string(),
                row: *row,
                file_name,
            }),
            Place::Line { line, start_column } => {
                o.line_ranges.get_or_insert_with(Vec::new).push(Range {
                    end: *line,
                    start: *line,
                    start_column: *start_column,
                    file_name,
                })
            }
            Place::Record { index, json_path } => {
                o.records.get_or_insert_with(Vec::new).push(Record {
                    json_path: json_path.clone(),
                    record_index: *index,
                    file_name,
                })
            }
        }
    }
    o
}
