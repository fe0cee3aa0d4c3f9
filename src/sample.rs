//! Synthea-format sample data (`dragnet sample-data`): the 16 CSV files of Synthea's CSV
//! export with its April 2020 headers and realistic synthetic values, deterministic for a
//! seed. Scale 1 has the row counts of the real 1k-patient sample (about 80 MB).
//!
//! Like Synthea, every value is made up: SSNs are in the never-assigned 999 area, driver's
//! licences are `S999xxxxx`, passports `X…X`, and names carry numeric suffixes.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// SplitMix64: small, fast, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            (b >> 48) & 0x3fff | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
    fn date(&mut self, from_year: u64, to_year: u64) -> String {
        let y = from_year + self.below(to_year - from_year + 1);
        let m = 1 + self.below(12);
        let d = 1 + self.below(28);
        format!("{y:04}-{m:02}-{d:02}")
    }
    fn datetime(&mut self, from_year: u64, to_year: u64) -> String {
        let date = self.date(from_year, to_year);
        format!(
            "{date}T{:02}:{:02}:{:02}Z",
            self.below(24),
            self.below(60),
            self.below(60)
        )
    }
    fn money(&mut self, max: u64) -> String {
        format!("{}.{:02}", self.below(max), self.below(100))
    }
}

const FIRST_M: &[&str] = &[
    "José Eduardo",
    "Milo",
    "Tomas",
    "Jayson",
    "Mariano",
    "Arthur",
    "Brandon",
    "Carlos",
    "Daniel",
    "Edward",
    "Frank",
    "George",
    "Henry",
    "Isaac",
    "Jack",
    "Kevin",
    "Lucas",
    "Michael",
    "Nathan",
    "Oscar",
    "Paul",
    "Robert",
    "Samuel",
    "Thomas",
    "Victor",
    "William",
];
const FIRST_F: &[&str] = &[
    "Maria", "Ana", "Alice", "Barbara", "Carmen", "Diana", "Emily", "Grace", "Hannah", "Isabel",
    "Julia", "Karen", "Laura", "Linda", "Monica", "Nancy", "Olivia", "Patricia", "Rosa", "Sarah",
    "Teresa", "Valerie", "Wendy",
];
const LAST: &[&str] = &[
    "Gómez",
    "Feil",
    "Sauer",
    "Balistreri",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Schroeder",
    "Kuhn",
    "Ondricka",
    "Bergstrom",
    "Reichert",
];
const STREETS: &[&str] = &[
    "Balistreri",
    "Farrell",
    "Hospital",
    "Main",
    "Oak",
    "Maple",
    "Cedar",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Pine",
    "Walnut",
    "Spring",
    "Ridge",
    "Franey",
    "Kessler",
    "Wuckert",
    "Hermiston",
];
const SUFFIXES: &[&str] = &[
    "Way",
    "Path",
    "Road",
    "Street",
    "Avenue",
    "Lane",
    "Drive",
    "Court",
    "Place",
    "Boulevard",
    "Terrace",
    "Trail",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("Chicopee", "Hampden County", "01013"),
    ("Somerville", "Middlesex County", "02143"),
    ("Boston", "Suffolk County", "02108"),
    ("Worcester", "Worcester County", "01608"),
    ("Springfield", "Hampden County", "01103"),
    ("Lowell", "Middlesex County", "01852"),
    ("Cambridge", "Middlesex County", "02139"),
    ("Leominster", "Worcester County", "01453"),
    ("Quincy", "Norfolk County", "02169"),
    ("Pittsfield", "Berkshire County", "01201"),
];
const BIRTHPLACES: &[&str] = &[
    "Marigot  Saint Andrew Parish  DM",
    "Danvers  Massachusetts  US",
    "Boston  Massachusetts  US",
    "Worcester  Massachusetts  US",
    "Springfield  Massachusetts  US",
    "Santo Domingo  National District  DO",
];
const CONDITIONS: &[(&str, &str)] = &[
    ("40055000", "Chronic sinusitis (disorder)"),
    ("444814009", "Viral sinusitis (disorder)"),
    ("10509002", "Acute bronchitis (disorder)"),
    ("195662009", "Acute viral pharyngitis (disorder)"),
    ("38341003", "Hypertension"),
    ("15777000", "Prediabetes"),
    ("162864005", "Body mass index 30+ - obesity (finding)"),
    ("72892002", "Normal pregnancy"),
];
const ALLERGIES: &[(&str, &str)] = &[
    ("300916003", "Latex allergy"),
    ("419474003", "Allergy to mould"),
    ("232350006", "House dust mite allergy"),
    ("91930004", "Allergy to eggs"),
    ("417532002", "Allergy to fish"),
    ("714035009", "Allergy to soya"),
];
const CAREPLANS: &[(&str, &str)] = &[
    ("53950000", "Respiratory therapy"),
    ("384758001", "Self-care interventions (procedure)"),
    ("698360004", "Diabetes self management plan"),
    ("91251008", "Physical therapy procedure"),
    (
        "736376001",
        "Infectious disease care plan (record artifact)",
    ),
];
const IMMUNIZATIONS: &[(&str, &str)] = &[
    ("140", "Influenza  seasonal  injectable  preservative free"),
    ("113", "Td (adult) preservative free"),
    ("133", "Pneumococcal conjugate PCV 13"),
    ("43", "Hep B  adult"),
    ("62", "HPV  quadrivalent"),
];
const OBSERVATIONS: &[(&str, &str, &str)] = &[
    ("8302-2", "Body Height", "cm"),
    ("29463-7", "Body Weight", "kg"),
    ("39156-5", "Body Mass Index", "kg/m2"),
    ("8462-4", "Diastolic Blood Pressure", "mm[Hg]"),
    ("8480-6", "Systolic Blood Pressure", "mm[Hg]"),
    ("8867-4", "Heart rate", "/min"),
    ("9279-1", "Respiratory rate", "/min"),
    ("2339-0", "Glucose", "mg/dL"),
];
const PROCEDURES: &[(&str, &str)] = &[
    ("430193006", "Medication Reconciliation (procedure)"),
    ("162673000", "General examination of patient (procedure)"),
    ("117015009", "Throat culture (procedure)"),
    ("76601001", "Intramuscular injection"),
    (
        "710824005",
        "Assessment of health and social care needs (procedure)",
    ),
];
const MEDICATIONS: &[(&str, &str)] = &[
    ("834061", "Penicillin V Potassium 250 MG Oral Tablet"),
    ("313782", "Acetaminophen 325 MG Oral Tablet"),
    ("197361", "Amlodipine 5 MG Oral Tablet"),
    (
        "860975",
        "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet",
    ),
    ("310798", "Hydrochlorothiazide 25 MG Oral Tablet"),
];
const ENCOUNTER_TYPES: &[(&str, &str, &str)] = &[
    ("ambulatory", "185345009", "Encounter for symptom"),
    (
        "wellness",
        "162673000",
        "General examination of patient (procedure)",
    ),
    ("outpatient", "185347001", "Encounter for problem"),
    (
        "emergency",
        "50849002",
        "Emergency room admission (procedure)",
    ),
    (
        "inpatient",
        "183452005",
        "Emergency hospital admission (procedure)",
    ),
];
const DEVICES: &[(&str, &str)] = &[
    (
        "72506001",
        "Implantable defibrillator  device (physical object)",
    ),
    ("706180003", "Respiratory humidifier (physical object)"),
    ("36965003", "Hemodialysis machine  device (physical object)"),
];
const SPECIALITIES: &[&str] = &[
    "GENERAL PRACTICE",
    "INTERNAL MEDICINE",
    "FAMILY PRACTICE",
    "PEDIATRICS",
    "CARDIOLOGY",
];
const ORG_WORDS: &[&str] = &[
    "HEALTHALLIANCE HOSPITALS  INC",
    "BERKSHIRE MEDICAL CENTER INC",
    "MASSACHUSETTS GENERAL HOSPITAL",
    "BAYSTATE MEDICAL CENTER",
    "COMMUNITY HEALTH CENTER OF CAPE COD",
    "PCP",
    "URGENT CARE CENTER",
];
const PAYERS: &[&str] = &[
    "Medicare",
    "Medicaid",
    "Dual Eligible",
    "Humana",
    "Blue Cross Blue Shield",
    "UnitedHealthcare",
    "Aetna",
    "Cigna Health",
    "Anthem",
    "NO_INSURANCE",
];

/// Rows of each file at scale 1: the counts of Synthea's April 2020 1k-patient CSV sample.
const ROWS: &[(&str, u64)] = &[
    ("allergies.csv", 597),
    ("careplans.csv", 3483),
    ("conditions.csv", 8376),
    ("devices.csv", 78),
    ("encounters.csv", 53346),
    ("imaging_studies.csv", 855),
    ("immunizations.csv", 15478),
    ("medications.csv", 42989),
    ("observations.csv", 299697),
    ("organizations.csv", 1119),
    ("patients.csv", 1171),
    ("payer_transitions.csv", 3801),
    ("payers.csv", 10),
    ("procedures.csv", 34981),
    ("providers.csv", 5855),
    ("supplies.csv", 0),
];

/// The header of each file, exactly as Synthea's April 2020 export writes it.
pub const HEADERS: &[(&str, &str)] = &[
    ("allergies.csv", "START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION"),
    ("careplans.csv", "Id,START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,REASONCODE,REASONDESCRIPTION"),
    ("conditions.csv", "START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION"),
    ("devices.csv", "START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,UDI"),
    ("encounters.csv", "Id,START,STOP,PATIENT,ORGANIZATION,PROVIDER,PAYER,ENCOUNTERCLASS,CODE,DESCRIPTION,BASE_ENCOUNTER_COST,TOTAL_CLAIM_COST,PAYER_COVERAGE,REASONCODE,REASONDESCRIPTION"),
    ("imaging_studies.csv", "Id,DATE,PATIENT,ENCOUNTER,BODYSITE_CODE,BODYSITE_DESCRIPTION,MODALITY_CODE,MODALITY_DESCRIPTION,SOP_CODE,SOP_DESCRIPTION"),
    ("immunizations.csv", "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST"),
    ("medications.csv", "START,STOP,PATIENT,PAYER,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,PAYER_COVERAGE,DISPENSES,TOTALCOST,REASONCODE,REASONDESCRIPTION"),
    ("observations.csv", "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,VALUE,UNITS,TYPE"),
    ("organizations.csv", "Id,NAME,ADDRESS,CITY,STATE,ZIP,LAT,LON,PHONE,REVENUE,UTILIZATION"),
    ("patients.csv", "Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,LAST,SUFFIX,MAIDEN,MARITAL,RACE,ETHNICITY,GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,ZIP,LAT,LON,HEALTHCARE_EXPENSES,HEALTHCARE_COVERAGE"),
    ("payer_transitions.csv", "PATIENT,START_YEAR,END_YEAR,PAYER,OWNERSHIP"),
    ("payers.csv", "Id,NAME,ADDRESS,CITY,STATE_HEADQUARTERED,ZIP,PHONE,AMOUNT_COVERED,AMOUNT_UNCOVERED,REVENUE,COVERED_ENCOUNTERS,UNCOVERED_ENCOUNTERS,COVERED_MEDICATIONS,UNCOVERED_MEDICATIONS,COVERED_PROCEDURES,UNCOVERED_PROCEDURES,COVERED_IMMUNIZATIONS,UNCOVERED_IMMUNIZATIONS,UNIQUE_CUSTOMERS,QOLS_AVG,MEMBER_MONTHS"),
    ("procedures.csv", "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,REASONCODE,REASONDESCRIPTION"),
    ("providers.csv", "Id,ORGANIZATION,NAME,GENDER,SPECIALITY,ADDRESS,CITY,STATE,ZIP,LAT,LON,UTILIZATION"),
    ("supplies.csv", "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,QUANTITY"),
];

struct World {
    patients: Vec<String>,
    organizations: Vec<String>,
    providers: Vec<String>,
    payers: Vec<String>,
}

fn rows(name: &str, scale: f64) -> u64 {
    let base = ROWS.iter().find(|(n, _)| *n == name).map_or(0, |(_, r)| *r);
    match name {
        "payers.csv" => base,
        "supplies.csv" => 0,
        _ if base == 0 => 0,
        _ => ((base as f64 * scale).round() as u64).max(1),
    }
}

fn address(
    rng: &mut Rng,
    upper: bool,
) -> (String, &'static (&'static str, &'static str, &'static str)) {
    let mut street = format!(
        "{} {} {}",
        1 + rng.below(999),
        rng.pick(STREETS),
        rng.pick(SUFFIXES)
    );
    if rng.below(3) == 0 {
        street.push_str(&format!(" Unit {}", 1 + rng.below(99)));
    }
    if upper {
        street = street.to_uppercase();
    }
    (street, rng.pick(CITIES))
}

fn person(rng: &mut Rng, female: bool) -> (String, String) {
    let first = if female {
        rng.pick(FIRST_F)
    } else {
        rng.pick(FIRST_M)
    };
    (
        format!("{first}{}", rng.below(1000)),
        format!("{}{}", rng.pick(LAST), rng.below(1000)),
    )
}

fn latlon(rng: &mut Rng) -> (String, String) {
    (
        format!("42.{}", rng.digits(12)),
        format!("-71.{}", rng.digits(12)),
    )
}

/// Writes the 16 files into `out`; returns each file name and its size.
pub fn generate(out: &Path, scale: f64, seed: u64) -> io::Result<Vec<(String, u64)>> {
    fs::create_dir_all(out)?;
    let mut rng = Rng(seed);
    let world = World {
        patients: (0..rows("patients.csv", scale))
            .map(|_| rng.uuid())
            .collect(),
        organizations: (0..rows("organizations.csv", scale))
            .map(|_| rng.uuid())
            .collect(),
        providers: (0..rows("providers.csv", scale))
            .map(|_| rng.uuid())
            .collect(),
        payers: (0..rows("payers.csv", scale)).map(|_| rng.uuid()).collect(),
    };
    let mut written = Vec::new();
    for (name, header) in HEADERS {
        let path = out.join(name);
        let mut w = BufWriter::new(File::create(&path)?);
        writeln!(w, "{header}")?;
        // Each file has its own stream so files do not depend on each other's row counts.
        let mut rng = Rng(seed ^ crc(name));
        for i in 0..rows(name, scale) {
            write_row(&mut w, name, i as usize, &mut rng, &world)?;
        }
        w.flush()?;
        written.push((name.to_string(), fs::metadata(&path)?.len()));
    }
    Ok(written)
}

fn crc(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn write_row(
    w: &mut impl Write,
    name: &str,
    i: usize,
    rng: &mut Rng,
    world: &World,
) -> io::Result<()> {
    let patient = world.patients[rng.below(world.patients.len() as u64) as usize].clone();
    let encounter = rng.uuid();
    match name {
        "allergies.csv" => {
            let (code, desc) = rng.pick(ALLERGIES);
            writeln!(w, "{},,{patient},{encounter},{code},{desc}", rng.date(1950, 2020))
        }
        "careplans.csv" => {
            let (code, desc) = rng.pick(CAREPLANS);
            let (rc, rd) = rng.pick(CONDITIONS);
            writeln!(w, "{},{},{},{patient},{encounter},{code},{desc},{rc},{rd}", rng.uuid(), rng.date(2000, 2019), rng.date(2019, 2020))
        }
        "conditions.csv" => {
            let (code, desc) = rng.pick(CONDITIONS);
            writeln!(w, "{},,{patient},{encounter},{code},{desc}", rng.date(1950, 2020))
        }
        "devices.csv" => {
            let (code, desc) = rng.pick(DEVICES);
            let udi = format!("(01){}(11){}(17){}(10){}(21){}", rng.digits(14), rng.digits(6), rng.digits(6), rng.digits(10), rng.digits(10));
            writeln!(w, "{},,{patient},{encounter},{code},{desc},{udi}", rng.datetime(2000, 2020))
        }
        "encounters.csv" => {
            let (class, code, desc) = rng.pick(ENCOUNTER_TYPES);
            let org = rng.pick(&world.organizations).clone();
            let provider = rng.pick(&world.providers).clone();
            let payer = rng.pick(&world.payers).clone();
            let (rc, rd) = rng.pick(CONDITIONS);
            let start = rng.datetime(1990, 2020);
            writeln!(w, "{encounter},{start},{start},{patient},{org},{provider},{payer},{class},{code},{desc},{},{},{},{rc},{rd}", rng.money(200), rng.money(2000), rng.money(1000))
        }
        "imaging_studies.csv" => writeln!(
            w,
            "{},{},{patient},{encounter},40983000,Arm,DX,Digital Radiography,1.2.840.10008.5.1.4.1.1.1.1,Digital X-Ray Image Storage",
            rng.uuid(),
            rng.datetime(2000, 2020)
        ),
        "immunizations.csv" => {
            let (code, desc) = rng.pick(IMMUNIZATIONS);
            writeln!(w, "{},{patient},{encounter},{code},{desc},140.52", rng.datetime(2000, 2020))
        }
        "medications.csv" => {
            let (code, desc) = rng.pick(MEDICATIONS);
            let payer = rng.pick(&world.payers).clone();
            let (rc, rd) = rng.pick(CONDITIONS);
            writeln!(w, "{},{},{patient},{payer},{encounter},{code},{desc},{},{},{},{},{rc},{rd}", rng.datetime(2000, 2019), rng.datetime(2019, 2020), rng.money(300), rng.money(300), 1 + rng.below(60), rng.money(9000))
        }
        "observations.csv" => {
            let (code, desc, unit) = rng.pick(OBSERVATIONS);
            writeln!(w, "{},{patient},{encounter},{code},{desc},{}.{},{unit},numeric", rng.datetime(2000, 2020), 40 + rng.below(160), rng.below(10))
        }
        "organizations.csv" => {
            let (street, (city, _, zip)) = address(rng, true);
            let (lat, lon) = latlon(rng);
            let name = rng.pick(ORG_WORDS);
            let name = if *name == "PCP" { format!("PCP{}", rng.below(99999)) } else { name.to_string() };
            let phone = format!("{}{}{}", 2 + rng.below(8), rng.digits(2), rng.digits(7));
            let phone = if phone.as_bytes()[3] < b'2' { format!("{}5{}", &phone[..3], &phone[4..]) } else { phone };
            writeln!(w, "{},{name},{street},{},MA,{zip},{lat},{lon},{phone},{},{}", world.organizations[i], city.to_uppercase(), rng.money(500000), rng.below(5000))
        }
        "patients.csv" => {
            let female = rng.below(2) == 0;
            let (first, last) = person(rng, female);
            let (street, (city, county, zip)) = address(rng, false);
            let (lat, lon) = latlon(rng);
            let birth = rng.date(1920, 2019);
            let adult = birth.as_str() < "2003";
            let ssn = format!("999-{}-{}", rng.digits(2), rng.digits(4));
            let drivers = if adult { format!("S999{}", rng.digits(5)) } else { String::new() };
            let passport = if adult && rng.below(4) != 0 { format!("X{}X", rng.digits(8)) } else { String::new() };
            let prefix = match (adult, female) { (false, _) => "", (true, true) => "Mrs.", (true, false) => "Mr." };
            let maiden = if female && adult { format!("{}{}", rng.pick(LAST), rng.below(1000)) } else { String::new() };
            writeln!(
                w,
                "{},{birth},,{ssn},{drivers},{passport},{prefix},{first},{last},,{maiden},{},white,nonhispanic,{},{},{street},{city},Massachusetts,{county},{zip},{lat},{lon},{},{}",
                world.patients[i],
                if adult { "M" } else { "" },
                if female { "F" } else { "M" },
                rng.pick(BIRTHPLACES),
                rng.money(1_000_000),
                rng.money(10_000)
            )
        }
        "payer_transitions.csv" => {
            let start = 1950 + rng.below(60);
            writeln!(w, "{patient},{start},{},{},{}", start + rng.below(10), rng.pick(&world.payers), rng.pick(&["Guardian", "Self", "Spouse"]))
        }
        "payers.csv" => {
            let (street, (city, _, zip)) = address(rng, false);
            let phone = format!("1-8{}-{}{}-{}", rng.digits(2), 2 + rng.below(8), rng.digits(2), rng.digits(4));
            writeln!(
                w,
                "{},{},{street},{city},MA,{zip},{phone},{},{},{},{},0,{},0,{},0,{},0,{},0.{},{}",
                world.payers[i],
                PAYERS[i % PAYERS.len()],
                rng.money(200_000),
                rng.money(200_000),
                rng.money(2_000_000),
                rng.below(1000),
                rng.below(1000),
                rng.below(1000),
                rng.below(1000),
                rng.below(100),
                rng.digits(16),
                rng.below(10_000)
            )
        }
        "procedures.csv" => {
            let (code, desc) = rng.pick(PROCEDURES);
            let (rc, rd) = rng.pick(CONDITIONS);
            writeln!(w, "{},{patient},{encounter},{code},{desc},{},{rc},{rd}", rng.datetime(2000, 2020), rng.money(3000))
        }
        "providers.csv" => {
            let female = rng.below(2) == 0;
            let (first, last) = person(rng, female);
            let (street, (city, _, zip)) = address(rng, true);
            let (lat, lon) = latlon(rng);
            writeln!(
                w,
                "{},{},{first} {last},{},{},{street},{},MA,{zip},{lat},{lon},{}",
                world.providers[i],
                rng.pick(&world.organizations),
                if female { "F" } else { "M" },
                rng.pick(SPECIALITIES),
                city.to_uppercase(),
                rng.below(5000)
            )
        }
        _ => Ok(()),
    }
}

/// Writes format variants of the generated patients under `out/landing/`, read back from
/// `out/patients.csv` so every format tells the same story: `patients.jsonl` (JSON Lines with
/// nested name, address and contact), `app.log` (application log lines),
/// `sfn-executions.jsonl` (Step Functions Express execution events whose `input` is a JSON
/// string) and `exports/patients-2020.tar.gz` (an archive of two CSV files).
pub fn generate_variants(out: &Path, seed: u64) -> io::Result<Vec<(String, u64)>> {
    let landing = out.join("landing");
    fs::create_dir_all(landing.join("exports"))?;
    let patients = fs::read_to_string(out.join("patients.csv"))?;
    let mut rows = patients.lines();
    let header: Vec<&str> = rows.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or(0);
    let (id, birth, ssn, drivers, passport, first, last, address, city, zip) = (
        col("Id"),
        col("BIRTHDATE"),
        col("SSN"),
        col("DRIVERS"),
        col("PASSPORT"),
        col("FIRST"),
        col("LAST"),
        col("ADDRESS"),
        col("CITY"),
        col("ZIP"),
    );
    let mut rng = Rng(seed ^ 0x5eed);
    let mut jsonl = BufWriter::new(File::create(landing.join("patients.jsonl"))?);
    let mut log = BufWriter::new(File::create(landing.join("app.log"))?);
    let mut sfn = BufWriter::new(File::create(landing.join("sfn-executions.jsonl"))?);
    for (i, line) in rows.enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        let plain = |s: &str| {
            s.trim_end_matches(|c: char| c.is_ascii_digit())
                .to_lowercase()
                .replace(' ', ".")
        };
        let email = format!("{}.{}@example.com", plain(f[first]), plain(f[last]));
        let phone = format!("617-555-{:04}", 100 + rng.below(9000));
        let ip = format!("203.0.113.{}", 1 + rng.below(254));
        let name = format!("{} {}", f[first], f[last]);
        let record = serde_json::json!({
            "id": f[id],
            "name": {"first": f[first], "last": f[last]},
            "birthDate": f[birth],
            "ssn": f[ssn],
            "driversLicense": f[drivers],
            "passport": f[passport],
            "address": {"line": f[address], "city": f[city], "state": "MA", "postalCode": f[zip]},
            "contact": {"email": email, "phone": phone},
        });
        writeln!(jsonl, "{record}")?;
        writeln!(
            log,
            "2020-04-{:02}T{:02}:{:02}:00Z INFO portal login ok user={email} from {ip} session={}",
            1 + i % 28,
            rng.below(24),
            rng.below(60),
            rng.uuid()
        )?;
        writeln!(
            log,
            "2020-04-{:02}T{:02}:{:02}:01Z DEBUG rendered dashboard widgets=12 elapsed_ms={}",
            1 + i % 28,
            rng.below(24),
            rng.below(60),
            rng.below(900)
        )?;
        let input = serde_json::json!({"name": name, "address": format!("{}, {}, MA {}", f[address], f[city], f[zip]), "email": email, "order-id": format!("ORD-{}", rng.digits(8))});
        let event = serde_json::json!({
            "id": format!("{}", i + 1),
            "type": "ExecutionStarted",
            "details": {"input": input.to_string(), "inputDetails": {"truncated": false}, "roleArn": "arn:aws:iam::111222333444:role/checkout"},
            "previous_event_id": "0",
            "event_timestamp": format!("1585{:09}", rng.below(1_000_000_000)),
            "execution_arn": format!("arn:aws:states:us-east-1:111222333444:express:checkout:{}", rng.uuid()),
        });
        writeln!(sfn, "{event}")?;
    }
    jsonl.flush()?;
    log.flush()?;
    sfn.flush()?;
    let archive = landing.join("exports/patients-2020.tar.gz");
    let gz = flate2::write::GzEncoder::new(File::create(&archive)?, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for name in ["patients.csv", "allergies.csv"] {
        // Fixed header fields (no mtime, owner or mode from this machine): same seed, same bytes.
        let data = fs::read(out.join(name))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_585_699_200);
        header.set_cksum();
        tar.append_data(&mut header, format!("export/{name}"), &data[..])?;
    }
    tar.into_inner()?.finish()?;
    let mut written = Vec::new();
    for name in [
        "patients.jsonl",
        "app.log",
        "sfn-executions.jsonl",
        "exports/patients-2020.tar.gz",
    ] {
        written.push((
            format!("landing/{name}"),
            fs::metadata(landing.join(name))?.len(),
        ));
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_shaped_like_synthea() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let wa = generate(a.path(), 0.01, 7).unwrap();
        let wb = generate(b.path(), 0.01, 7).unwrap();
        assert_eq!(wa, wb);
        assert_eq!(wa.len(), 16);
        for (name, header) in HEADERS {
            let text = fs::read_to_string(a.path().join(name)).unwrap();
            assert_eq!(text.lines().next().unwrap(), *header);
            assert_eq!(
                fs::read(a.path().join(name)).unwrap(),
                fs::read(b.path().join(name)).unwrap()
            );
            let columns = header.split(',').count();
            for line in text.lines() {
                assert_eq!(line.split(',').count(), columns, "{name}: {line}");
            }
        }
        let variants = generate_variants(a.path(), 7).unwrap();
        assert_eq!(variants.len(), 4);
        assert_eq!(variants, generate_variants(b.path(), 7).unwrap());
        assert_eq!(
            fs::read(a.path().join("landing/exports/patients-2020.tar.gz")).unwrap(),
            fs::read(b.path().join("landing/exports/patients-2020.tar.gz")).unwrap()
        );
        let jsonl = fs::read_to_string(a.path().join("landing/patients.jsonl")).unwrap();
        let first: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
        assert!(first["contact"]["email"]
            .as_str()
            .unwrap()
            .ends_with("@example.com"));
        let sfn = fs::read_to_string(a.path().join("landing/sfn-executions.jsonl")).unwrap();
        let event: serde_json::Value = serde_json::from_str(sfn.lines().next().unwrap()).unwrap();
        let input: serde_json::Value =
            serde_json::from_str(event["details"]["input"].as_str().unwrap()).unwrap();
        assert!(input["order-id"].as_str().unwrap().starts_with("ORD-"));
        let patients = fs::read_to_string(a.path().join("patients.csv")).unwrap();
        let row = patients.lines().nth(1).unwrap();
        assert!(row.split(',').nth(3).unwrap().starts_with("999-"));
        assert_eq!(
            fs::read_to_string(a.path().join("supplies.csv"))
                .unwrap()
                .lines()
                .count(),
            1
        );
    }

    #[test]
    fn headers_match_the_real_sample_when_present() {
        let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/sample-data/synthea");
        if !shared.is_dir() {
            return;
        }
        for (name, header) in HEADERS {
            let path = shared.join(name);
            if let Ok(text) = fs::read_to_string(&path) {
                assert_eq!(text.lines().next().unwrap(), *header, "{name}");
            }
        }
    }
}
