//! Managed data identifiers as data (macie.md §4, decisions.md §3).
//!
//! Adding an identifier means adding an entry here and, where the data type has one, a
//! validator in [`crate::validators`]. Every entry carries positive and negative examples that
//! the unit tests (and `dragnet identifiers check`) run. Ids, categories, keywords and
//! RECOMMENDED membership are Macie's; identifiers Macie lacks are marked as extensions.

use dragnet_model::Category;

use crate::names;
use crate::validators::{self, Validator};

/// How one pattern of an identifier decides that a match counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternKind {
    /// Every match counts (no keyword needed).
    Always,
    /// A keyword must be in the column name / field path, or precede the match within the
    /// distance in the same value.
    NeedsKeyword,
    /// Only in columns or fields whose name holds a keyword, and the regex must match the
    /// whole (trimmed) value; used for names and street lines in structured data.
    WholeValueInKeywordColumn,
}

/// One regex of a managed identifier.
#[derive(Debug, Clone, Copy)]
pub struct PatternDef {
    /// The pattern (Rust `regex` syntax, Unicode-aware).
    pub regex: &'static str,
    /// When a match of it counts.
    pub kind: PatternKind,
    /// A byte no match can do without (`@` for emails): units without it skip the pattern,
    /// which then runs outside the shared multi-pattern pass.
    pub requires: Option<u8>,
}

/// A managed data identifier.
#[derive(Debug, Clone, Copy)]
pub struct ManagedIdentifier {
    /// Macie's id, e.g. `USA_SOCIAL_SECURITY_NUMBER`.
    pub id: &'static str,
    /// Macie's category.
    pub category: Category,
    /// In Macie's RECOMMENDED set for jobs.
    pub recommended: bool,
    /// Not a Macie identifier (decisions.md §3): in ALL, never in RECOMMENDED.
    pub extension: bool,
    /// Keywords (case-insensitive).
    pub keywords: &'static [&'static str],
    /// The patterns; a value matched by any counts once.
    pub patterns: &'static [PatternDef],
    /// Check on each candidate match.
    pub validator: Option<Validator>,
    /// Which of two overlapping managed detections is kept (higher wins).
    pub priority: u8,
    /// The CloudWatch Logs data-protection name, where one exists.
    pub cloudwatch_name: Option<&'static str>,
    /// Texts that must yield a detection of this identifier.
    pub examples: &'static [&'static str],
    /// Texts that must not.
    pub negative_examples: &'static [&'static str],
}

impl ManagedIdentifier {
    /// True when every pattern needs a keyword (what `identifiers list` shows).
    pub fn keyword_required(&self) -> bool {
        self.patterns.iter().all(|p| p.kind != PatternKind::Always)
    }
}

/// Keyword distance for managed identifiers: characters between the end of the keyword and
/// the start of the match, inclusive (macie.md §2.5).
pub const MANAGED_KEYWORD_DISTANCE: usize = 30;

/// Street suffixes: USPS Publication 28 appendix C1 (primary names and common abbreviations)
/// plus the common UK, Irish and Australian ones (Parade, Quay, Wynd, Close, ...), as a
/// case-insensitive group.
macro_rules! street_suffix {
    () => {
        "(?i:alley|aly|annex|anx|arcade|arc|avenue|ave|av|bayou|byu|beach|bch|bend|bnd|bluffs?|blfs?|bottom|btm|boulevard|blvd|branch|br|bridge|brg|brooks?|brks?|burgs?|bgs?|bypass|byp|camp|cp|canyon|cyn|cape|cpe|causeway|cswy|centers?|ctrs?|ctr|circles?|cirs?|cliffs?|clfs?|club|clb|commons?|cmns?|corners?|cors?|course|crse|courts?|cts?|coves?|cvs?|creek|crk|crescent|cres|crest|crst|crossing|xing|crossroads?|xrds?|curve|curv|dale|dl|dam|dm|divide|dv|drives?|drs?|estates?|ests?|expressway|expy|extensions?|exts?|falls?|fls?|ferry|fry|fields?|flds?|flats?|flts?|fords?|frds?|forest|frst|forges?|frgs?|forks?|frks?|fort|ft|freeway|fwy|gardens?|gdns?|gateway|gtwy|glens?|glns?|greens?|grns?|groves?|grvs?|harbors?|hbrs?|haven|hvn|heights|hts|highway|hwy|hills?|hls?|hollow|holw|inlet|inlt|islands?|iss?|isle|junctions?|jcts?|keys?|kys?|knolls?|knls?|lakes?|lks?|land|landing|lndg|lane|ln|lights?|lgts?|loaf|lf|locks?|lcks?|lodge|ldg|loop|mall|manors?|mnrs?|meadows?|mdws?|mews|mills?|mls?|mission|msn|motorway|mtwy|mount|mt|mountains?|mtns?|neck|nck|orchard|orch|oval|overpass|opas|parks?|parkways?|pkwys?|pkwy|pass|passage|psge|path|pike|pines?|pnes?|place|pl|plains?|plns?|plaza|plz|points?|pts?|ports?|prts?|prairie|pr|radial|radl|ramp|ranch|rnch|rapids?|rpds?|rest|rst|ridges?|rdgs?|river|riv|roads?|rds?|route|rte|row|rue|run|shoals?|shls?|shores?|shrs?|skyway|skwy|springs?|spgs?|spurs?|squares?|sqs?|station|sta|stravenue|stra|stream|strm|streets?|sts?|summit|smt|terrace|ter|throughway|trwy|trace|trce|track|trak|trafficway|trfy|trail|trl|trailer|trlr|tunnel|tunl|turnpike|tpke|underpass|upas|unions?|uns?|valleys?|vlys?|viaduct|via|views?|vws?|villages?|vlgs?|ville|vl|vista|vis|walks?|wall|ways?|wy|wells?|wls?|parade|byway|bay|esplanade|quay|wynd|gate|pathway|vale|approach|promenade|highlands|close|rise|grange|chase|crescent|circus|embankment|broadway)"
    };
}

/// A US street line: house number (optionally with a letter), up to five name words, a
/// suffix and an optional directional, or a numbered route, or Broadway; then an optional
/// unit (Apt, Suite, Unit, #, Floor, ...).
macro_rules! street_line {
    () => {
        concat!(
            r"\b\d{1,6}[A-Za-z]?(?:[ ]+[A-Za-z0-9.'\-]+){0,5}?[ ]+(?:",
            street_suffix!(),
            r"\.?(?:[ ]+(?i:n|s|e|w|ne|nw|se|sw|north|south|east|west)\b\.?)?|(?i:route|rte|highway|hwy|state route|us)[ ]+\d{1,4}\b|(?i:broadway)\b)",
            r"(?:,?[ ]+(?i:apt|apartment|unit|suite|ste|fl|floor|bldg|building|rm|room|#)\.?[ ]?#?[ ]?[A-Za-z0-9\-]+)?"
        )
    };
}

macro_rules! address_regex {
    ($tail:literal) => {
        concat!(street_line!(), $tail)
    };
}

/// A full name that is a word of its own: not glued to a preceding hyphen, slash, dot or
/// apostrophe (so the "Ray Image" of "X-Ray Image" is not a name).
fn full_name(text: &[u8], m: std::ops::Range<usize>) -> bool {
    let glued =
        m.start > 0 && matches!(text[m.start - 1], b'-' | b'/' | b'.' | b'\'' | b'_' | b'@');
    !glued && names::is_full_name(&String::from_utf8_lossy(&text[m]))
}

/// An IBAN-form bank account number of one country: no keyword needed, country length and
/// mod-97 checked (macie.md §4.2). The domestic (BBAN) forms, which need keywords, are not
/// detected yet.
macro_rules! iban_identifier {
    ($id:literal, $country:literal, $bban:literal, $cloudwatch:literal, [$($ex:literal),+], [$($neg:literal),+]) => {
        ManagedIdentifier {
            id: $id,
            category: Category::FinancialInformation,
            recommended: false,
            extension: false,
            keywords: &["iban", "bank account", "account number", "international bank account number"],
            patterns: &[PatternDef {
                regex: concat!(r"\b", $country, r"\d{2}(?:[ -]?[0-9A-Z]){", $bban, r"}\b"),
                kind: PatternKind::Always,
                requires: None,
            }],
            validator: Some(validators::iban),
            priority: 85,
            cloudwatch_name: Some($cloudwatch),
            examples: &[$($ex),+],
            negative_examples: &[$($neg),+],
        }
    };
}

/// A private key's PEM-style armour line (no keyword needed; the key's body follows on the
/// next lines, which a line-by-line reader sees as other units, so the header is what is
/// reported). The patterns are literals, which cost next to nothing in the shared
/// multi-pattern pass, so they are not gated on a byte (`-` is in every date and UUID).
macro_rules! key_block_identifier {
    ($id:literal, $regex:literal, $cloudwatch:expr, [$($ex:literal),+], [$($neg:literal),+]) => {
        ManagedIdentifier {
            id: $id,
            category: Category::Credentials,
            recommended: true,
            extension: false,
            keywords: &[],
            patterns: &[PatternDef {
                regex: $regex,
                kind: PatternKind::Always,
                requires: None,
            }],
            validator: None,
            priority: 96,
            cloudwatch_name: $cloudwatch,
            examples: &[$($ex),+],
            negative_examples: &[$($neg),+],
        }
    };
}

/// The managed identifiers dragnet ships.
pub static MANAGED: &[ManagedIdentifier] = &[
    ManagedIdentifier {
        id: "AWS_CREDENTIALS",
        category: Category::Credentials,
        recommended: true,
        extension: false,
        keywords: &[
            "aws_secret_access_key",
            "credentials",
            "secret access key",
            "secret key",
            "set-awscredential",
        ],
        patterns: &[PatternDef {
            regex: r"[A-Za-z0-9/+]{40}",
            kind: PatternKind::NeedsKeyword,
            requires: None,
        }],
        validator: Some(validators::aws_secret_key),
        priority: 100,
        cloudwatch_name: Some("AwsSecretKey"),
        examples: &[
            "aws_secret_access_key = Xq3v9ZkL2mN8pR4sT6uW1yA5bC7dE0fG/hJ+kM2n",
            "secret key: 8Jd0Fk3LmQ9pW2xZ7vB4nC1sT6yH5gR/eU+aI0oP",
            "credentials\nAbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/Ab",
        ],
        negative_examples: &[
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "Xq3v9ZkL2mN8pR4sT6uW1yA5bC7dE0fG/hJ+kM2n with no keyword",
            "secret key: Xq3v9ZkL2mN8pR4sT6uW1yA5bC7dE0fG/hJ+kM2nEXTRA",
        ],
    },
    ManagedIdentifier {
        id: "AWS_ACCESS_KEY_ID",
        category: Category::Credentials,
        recommended: false,
        extension: true,
        keywords: &["access key", "aws_access_key_id", "accesskeyid"],
        patterns: &[PatternDef {
            regex: r"\b(?:AKIA|ASIA|AIDA|AROA|AIPA|ANPA|ANVA|AGPA|ABIA|ACCA)[A-Z2-7]{16}\b",
            kind: PatternKind::Always,
            requires: None,
        }],
        validator: Some(validators::aws_access_key_id),
        priority: 95,
        // CloudWatch Logs documents no access-key-id identifier (its credentials are
        // AwsSecretKey and the private keys), so a log group policy cannot name one.
        cloudwatch_name: None,
        examples: &[
            "aws_access_key_id = AKIA2OGYBAH6TT2HRQ7V",
            "\"accessKeyId\": \"ASIAZ3MHAL4G7PBC2QXM\"",
            "key AIDAJQABLZS4A3QDU576 in the log",
        ],
        negative_examples: &[
            "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
            "AKIA2OGYBAH6TT2HRQ7",
            "XAKIA2OGYBAH6TT2HRQ7V",
        ],
    },
    ManagedIdentifier {
        id: "CREDIT_CARD_NUMBER",
        category: Category::FinancialInformation,
        recommended: true,
        extension: false,
        keywords: &[
            "account number",
            "american express",
            "amex",
            "bank card",
            "c card",
            "card",
            "cc #",
            "ccn",
            "check card",
            "cred card",
            "credit",
            "credit card",
            "credit cards",
            "credit no",
            "credit num",
            "dankort",
            "debit",
            "debit card",
            "debit no",
            "debit num",
            "diners club",
            "discover",
            "electron",
            "japanese card bureau",
            "jcb",
            "mastercard",
            "mc",
            "pan",
            "payment account number",
            "payment card number",
            "pcn",
            "pmnt #",
            "pmnt card",
            "pmnt no",
            "pmnt number",
            "union pay",
            "visa",
        ],
        patterns: &[PatternDef {
            regex: r"\b\d(?:[ \-]?\d){12,18}\b",
            kind: PatternKind::NeedsKeyword,
            requires: None,
        }],
        validator: Some(validators::credit_card),
        priority: 90,
        cloudwatch_name: Some("CreditCardNumber"),
        examples: &[
            "visa 4556737586899855",
            "Credit card: 4556 7375 8689 9855",
            "amex 3498 765432 10127",
        ],
        negative_examples: &[
            "visa 4111111111111111",
            "card 4556737586899856",
            "order 4556737586899855 shipped",
        ],
    },
    ManagedIdentifier {
        id: "DATE_OF_BIRTH",
        category: Category::PersonalInformation,
        recommended: false,
        extension: false,
        keywords: &[
            "bday",
            "b-day",
            "birth date",
            "birthday",
            "date of birth",
            "dob",
        ],
        patterns: &[PatternDef {
            regex: r"\b(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2},? \d{4}|\d{1,2} (?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{4})\b",
            kind: PatternKind::NeedsKeyword,
            requires: None,
        }],
        validator: Some(validators::birth_date),
        priority: 30,
        cloudwatch_name: None,
        examples: &[
            "DOB: 1989-05-25",
            "date of birth 05/25/1989",
            "Birthday: May 25, 1989",
        ],
        negative_examples: &["shipped 1989-05-25", "dob: 1989-02-30", "dob: 1789-05-25"],
    },
    ManagedIdentifier {
        id: "DRIVERS_LICENSE",
        category: Category::PersonalInformation,
        recommended: true,
        extension: false,
        keywords: &[
            "dl#",
            "dl:",
            "dlno#",
            "driver licence",
            "driver license",
            "driver licenses",
            "driver licences",
            "drivers licence",
            "drivers license",
            "driver's licence",
            "driver's license",
            "driving licence",
            "driving license",
            "drivers permit",
            "driver's permit",
            "driver permit",
        ],
        patterns: &[PatternDef {
            regex: r"\b(?:[A-Z]{1,2}\d{5,13}|\d{7,13}|[A-Z]\d{3}-\d{3}-\d{2}-\d{3}-\d|[A-Z]-?\d{3}-?\d{4}-?\d{4}(?:-?\d{2})?)\b",
            kind: PatternKind::NeedsKeyword,
            requires: None,
        }],
        validator: Some(validators::drivers_license),
        priority: 60,
        cloudwatch_name: Some("DriversLicense-US"),
        examples: &[
            "driver's license: S12345678",
            "DL# 123456789",
            "Driving license D123-4567-8901",
        ],
        negative_examples: &[
            "license plate S12345678",
            "driver's license: S11111111",
            "DL# 1234",
        ],
    },
    ManagedIdentifier {
        id: "EMAIL_ADDRESS",
        category: Category::PersonalInformation,
        recommended: false,
        extension: true,
        keywords: &["email", "e-mail", "mail"],
        patterns: &[PatternDef {
            // Internationalized addresses (RFC 6531) have letters of any script.
            regex: r"\b[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)*\.\p{L}{2,24}\b",
            kind: PatternKind::Always,
            requires: Some(b'@'),
        }],
        validator: Some(validators::email),
        priority: 85,
        cloudwatch_name: Some("EmailAddress"),
        examples: &[
            "contact jane.doe@example.com today",
            "x+tag@mail.example.org",
            "To: bob_smith@corp.co.uk",
        ],
        negative_examples: &[
            "jane.doe@localhost",
            "not an email: a@b",
            "user@example.c0m",
        ],
    },
    ManagedIdentifier {
        id: "IP_ADDRESS",
        category: Category::PersonalInformation,
        recommended: false,
        extension: true,
        keywords: &["ip", "ip address", "source ip", "client ip"],
        patterns: &[PatternDef {
            regex: r"\b(?:\d{1,3}\.){3}\d{1,3}\b",
            kind: PatternKind::Always,
            requires: None,
        }],
        validator: Some(validators::ipv4),
        priority: 55,
        cloudwatch_name: Some("IpAddress"),
        examples: &[
            "from 192.168.10.20 at noon",
            "sourceIPAddress 203.0.113.7",
            "10.0.0.1",
        ],
        negative_examples: &["version 1.2.840.10008.5.1.4.1", "256.10.10.10", "1.2.3"],
    },
    ManagedIdentifier {
        id: "NAME",
        category: Category::PersonalInformation,
        recommended: false,
        extension: false,
        keywords: &["name", "full name"],
        patterns: &[
            PatternDef {
                regex: r"\b(?:(?:Mr|Mrs|Ms|Dr|Miss|Prof)\.? )?\p{Lu}\p{Ll}+(?: \p{Lu}\.?)? \p{Lu}\p{Ll}+(?:-\p{Lu}\p{Ll}+)?\b",
                kind: PatternKind::Always,
                requires: None,
            },
            PatternDef {
                regex: r"^\p{L}[\p{L}'’.\-]*\d*(?:[ ]+\p{L}[\p{L}'’.\-]*\d*){1,3}$",
                kind: PatternKind::WholeValueInKeywordColumn,
                requires: None,
            },
        ],
        validator: Some(full_name),
        priority: 10,
        cloudwatch_name: Some("Name"),
        examples: &[
            "Patient John Smith was seen",
            "signed by Dr. Maria Lopez",
            "Contact: Emily Carter",
        ],
        negative_examples: &["Dual Eligible", "Saint Andrew Parish", "John"],
    },
    ManagedIdentifier {
        id: "ADDRESS",
        category: Category::PersonalInformation,
        recommended: false,
        extension: false,
        keywords: &["address", "street"],
        patterns: &[
            PatternDef {
                regex: address_regex!(
                    r",?[ ]+(?:[A-Za-z.'\-]+[ ]+){0,3}[A-Za-z.'\-]+,?[ ]+(?:[A-Z]{2}|(?i:alabama|alaska|arizona|arkansas|california|colorado|connecticut|delaware|florida|georgia|hawaii|idaho|illinois|indiana|iowa|kansas|kentucky|louisiana|maine|maryland|massachusetts|michigan|minnesota|mississippi|missouri|montana|nebraska|nevada|new hampshire|new jersey|new mexico|new york|north carolina|north dakota|ohio|oklahoma|oregon|pennsylvania|rhode island|south carolina|south dakota|tennessee|texas|utah|vermont|virginia|washington|west virginia|wisconsin|wyoming))[ ]+\d{5}(?:-\d{4})?\b"
                ),
                kind: PatternKind::Always,
                requires: None,
            },
            PatternDef {
                regex: concat!("^", street_line!(), "$"),
                kind: PatternKind::WholeValueInKeywordColumn,
                requires: None,
            },
        ],
        validator: None,
        priority: 40,
        cloudwatch_name: Some("Address"),
        examples: &[
            "ship to 427 Balistreri Way Unit 19, Chicopee, MA 01013",
            "1600 Pennsylvania Avenue, Washington, DC 20500",
            "at 60 Hospital Road Leominster Massachusetts 01453.",
        ],
        negative_examples: &[
            "427 Balistreri Way",
            "Room 12, Chicopee, MA 01013",
            "call 60 times a day",
        ],
    },
    ManagedIdentifier {
        id: "PHONE_NUMBER",
        category: Category::PersonalInformation,
        recommended: false,
        extension: false,
        keywords: &[
            "cell",
            "contact",
            "fax",
            "mobile",
            "phone",
            "phone number",
            "tel",
            "telephone",
        ],
        patterns: &[
            PatternDef {
                regex: r"(?:\+1[\-. ]?|\b1[\-. ])\(?[2-9]\d{2}\)?[\-. ]?[2-9]\d{2}[\-. ]?\d{4}\b",
                kind: PatternKind::Always,
                requires: None,
            },
            PatternDef {
                regex: r"(?:\+?1[\-. ]?)?(?:\(\b|\b)[2-9]\d{2}\)?[\-. ]?[2-9]\d{2}[\-. ]?\d{4}\b",
                kind: PatternKind::NeedsKeyword,
                requires: None,
            },
        ],
        validator: Some(validators::nanp_phone),
        priority: 50,
        cloudwatch_name: Some("PhoneNumber-US"),
        examples: &[
            "call +1 978-466-2000",
            "phone: (978) 466-2000",
            "Tel 9784662000",
        ],
        negative_examples: &[
            "order 978-466-2000 shipped",
            "phone: 078-466-2000",
            "+1 222-222-2222",
        ],
    },
    ManagedIdentifier {
        id: "USA_PASSPORT_NUMBER",
        category: Category::PersonalInformation,
        recommended: true,
        extension: false,
        keywords: &[
            "passport",
            "passport number",
            "passport no",
            "passport#",
            "travel document",
        ],
        patterns: &[PatternDef {
            regex: r"\b(?:[A-Z]\d{8}|\d{9})\b",
            kind: PatternKind::NeedsKeyword,
            requires: None,
        }],
        validator: Some(validators::us_passport),
        priority: 70,
        cloudwatch_name: Some("PassportNumber-US"),
        examples: &[
            "passport: 123456789",
            "Passport number C03005988",
            "travel document 912803456",
        ],
        negative_examples: &[
            "passport: X19277260X",
            "passport: 111111111",
            "invoice 123456789",
        ],
    },
    ManagedIdentifier {
        id: "USA_SOCIAL_SECURITY_NUMBER",
        category: Category::PersonalInformation,
        recommended: true,
        extension: false,
        keywords: &[
            "social security",
            "ss#",
            "ssn",
            "ssns",
            "social security number",
        ],
        patterns: &[PatternDef {
            regex: r"\b(?:\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4}|\d{9})\b",
            kind: PatternKind::NeedsKeyword,
            requires: None,
        }],
        validator: Some(validators::us_ssn),
        priority: 80,
        cloudwatch_name: Some("Ssn-US"),
        examples: &[
            "SSN: 123-45-6788",
            "social security number 536 22 1234",
            "ss# 536221234",
        ],
        negative_examples: &["SSN: 999-76-6866", "SSN: 666-12-3456", "part 123-45-6788"],
    },

    iban_identifier!(
        "GERMANY_BANK_ACCOUNT_NUMBER",
        "DE",
        18,
        "BankAccountNumber-DE",
        [
            "IBAN DE56787789328792174218",
            "Konto: DE71 0967 9290 8100 3390 75",
            "payee,DE50526018159083016613,EUR"
        ],
        [
            "IBAN DE57787789328792174218",
            "IBAN DE5678778932879217421",
            "ref DE56787789328792174218X9"
        ]
    ),
    iban_identifier!(
        "FRANCE_BANK_ACCOUNT_NUMBER",
        "FR",
        23,
        "BankAccountNumber-FR",
        [
            "IBAN FR127938347017U3FTXR9VBEG61",
            "RIB: FR64 4610 0330 7623 ENUY FWYA 312",
            "FR07186091390982BHB7EK3E719"
        ],
        [
            "IBAN FR137938347017U3FTXR9VBEG61",
            "IBAN FR127938347017U3FTXR9VBEG6",
            "fr127938347017u3ftxr9vbeg61"
        ]
    ),
    iban_identifier!(
        "ITALY_BANK_ACCOUNT_NUMBER",
        "IT",
        23,
        "BankAccountNumber-IT",
        [
            "IBAN IT29H1007728378NJ31H23PAUWB",
            "conto IT75 G269 9102 374A YV1E EFPS A00",
            "IT66X4821993518190937865797"
        ],
        [
            "IBAN IT29H1007728378NJ31H23PAUWC",
            "IBAN IT29H1007728378NJ31H23PAUW",
            "ID IT29H1007728378NJ31H23PAUWB1"
        ]
    ),
    iban_identifier!(
        "SPAIN_BANK_ACCOUNT_NUMBER",
        "ES",
        20,
        "BankAccountNumber-ES",
        [
            "IBAN ES4397297926224393328367",
            "cuenta ES18 9160 1108 4364 6974 8212",
            "ES9054323194875749118625"
        ],
        [
            "IBAN ES4497297926224393328367",
            "IBAN ES439729792622439332836",
            "order ES43972979262243933283671"
        ]
    ),
    iban_identifier!(
        "UK_BANK_ACCOUNT_NUMBER",
        "GB",
        18,
        "BankAccountNumber-GB",
        [
            "IBAN GB98HSUX99143301467300",
            "account GB20 FKMT 9215 2758 9290 07",
            "GB48NWBK27601895559797"
        ],
        [
            "IBAN GB99HSUX99143301467300",
            "IBAN GB98HSUX9914330146730",
            "gb98hsux99143301467300"
        ]
    ),
    ManagedIdentifier {
        id: "CANADA_SOCIAL_INSURANCE_NUMBER",
        category: Category::PersonalInformation,
        recommended: true,
        extension: false,
        keywords: &[
            "canadian id",
            "numéro d'assurance sociale",
            "sin",
            "social insurance number",
        ],
        patterns: &[PatternDef {
            regex: r"\b\d{3}[ -]?\d{3}[ -]?\d{3}\b",
            kind: PatternKind::NeedsKeyword,
            requires: None,
        }],
        validator: Some(validators::canada_sin),
        priority: 78,
        cloudwatch_name: None,
        examples: &[
            "SIN: 565 632 122",
            "social insurance number 333-079-242",
            "sin 502685993",
        ],
        negative_examples: &["SIN: 565 632 123", "SIN: 046 454 286", "order 565 632 122"],
    },
    ManagedIdentifier {
        id: "UK_NHS_NUMBER",
        category: Category::PersonalInformation,
        recommended: false,
        extension: false,
        keywords: &["national health service", "nhs", "nhs number", "nhs no"],
        patterns: &[PatternDef {
            regex: r"\b\d{3}[ -]?\d{3}[ -]?\d{4}\b",
            kind: PatternKind::NeedsKeyword,
            requires: None,
        }],
        validator: Some(validators::uk_nhs),
        priority: 78,
        cloudwatch_name: Some("NhsNumber-GB"),
        examples: &[
            "NHS number: 114 710 4972",
            "nhs 465-075-2914",
            "National Health Service 1276842686",
        ],
        negative_examples: &["NHS number: 114 710 4973", "NHS: 1111111111", "ref 114 710 4972"],
    },
    ManagedIdentifier {
        id: "USA_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER",
        category: Category::PersonalInformation,
        recommended: true,
        extension: false,
        keywords: &[
            "i.t.i.n.",
            "individual taxpayer identification number",
            "itin",
        ],
        patterns: &[PatternDef {
            regex: r"\b9\d{2}[ -]?\d{2}[ -]?\d{4}\b",
            kind: PatternKind::NeedsKeyword,
            requires: None,
        }],
        validator: Some(validators::us_itin),
        priority: 80,
        cloudwatch_name: None,
        examples: &[
            "ITIN: 912-78-1234",
            "itin 900 70 0000",
            "Individual Taxpayer Identification Number 999-88-7777",
        ],
        negative_examples: &["ITIN: 912-93-1234", "ITIN: 812-78-1234", "case 912-78-1234"],
    },
    ManagedIdentifier {
        id: "VEHICLE_IDENTIFICATION_NUMBER",
        category: Category::PersonalInformation,
        recommended: false,
        extension: false,
        keywords: &[
            "vin",
            "vin number",
            "vehicle identification number",
            "vehicle id",
            "chassis number",
        ],
        patterns: &[PatternDef {
            regex: r"\b[A-HJ-NPR-Z0-9]{17}\b",
            kind: PatternKind::NeedsKeyword,
            requires: None,
        }],
        validator: Some(validators::vin),
        priority: 60,
        cloudwatch_name: None,
        examples: &[
            "VIN: 1M8GDM9AXKP042788",
            "vehicle identification number 222G72DN2P5LHYDGA",
            "vin KG0BEP1K2Z07HH867",
        ],
        negative_examples: &[
            "VIN: 1M8GDM9A1KP042788",
            "VIN: 12345678901234567",
            "part 1M8GDM9AXKP042788",
        ],
    },
    key_block_identifier!(
        "OPENSSH_PRIVATE_KEY",
        r"-----BEGIN OPENSSH PRIVATE KEY-----",
        Some("OpenSshPrivateKey"),
        [
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "\"key\": \"-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAA\"",
            "id_ed25519,-----BEGIN OPENSSH PRIVATE KEY-----"
        ],
        [
            "-----BEGIN PUBLIC KEY-----",
            "-----END OPENSSH PRIVATE KEY-----",
            "BEGIN OPENSSH PRIVATE KEY"
        ]
    ),
    key_block_identifier!(
        "PGP_PRIVATE_KEY",
        r"-----BEGIN PGP PRIVATE KEY BLOCK-----",
        Some("PgpPrivateKey"),
        [
            "-----BEGIN PGP PRIVATE KEY BLOCK-----",
            "key=-----BEGIN PGP PRIVATE KEY BLOCK-----",
            "  -----BEGIN PGP PRIVATE KEY BLOCK-----  "
        ],
        [
            "-----BEGIN PGP PUBLIC KEY BLOCK-----",
            "-----BEGIN PGP MESSAGE-----",
            "-----BEGIN PGP SIGNATURE-----"
        ]
    ),
    key_block_identifier!(
        "PKCS",
        r"-----BEGIN (?:RSA |DSA |EC |ENCRYPTED )?PRIVATE KEY-----",
        Some("PkcsPrivateKey"),
        [
            "-----BEGIN PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----",
            "tls.key: -----BEGIN EC PRIVATE KEY-----"
        ],
        [
            "-----BEGIN CERTIFICATE-----",
            "-----BEGIN PUBLIC KEY-----",
            "-----BEGIN OPENSSH PRIVATE KEY-----"
        ]
    ),
    ManagedIdentifier {
        id: "PUTTY_PRIVATE_KEY",
        category: Category::Credentials,
        recommended: true,
        extension: false,
        keywords: &[],
        patterns: &[PatternDef {
            regex: r"\bPuTTY-User-Key-File-[23]: [a-z0-9-]+",
            kind: PatternKind::Always,
            requires: None,
        }],
        validator: None,
        priority: 96,
        cloudwatch_name: Some("PuttyPrivateKey"),
        examples: &[
            "PuTTY-User-Key-File-3: ssh-ed25519",
            "PuTTY-User-Key-File-2: ssh-rsa",
            "header PuTTY-User-Key-File-2: ecdsa-sha2-nistp256",
        ],
        negative_examples: &[
            "PuTTY-User-Key-File: ssh-rsa",
            "putty user key file",
            "PuTTY-Public-Key-File-2: ssh-rsa",
        ],
    },
    ManagedIdentifier {
        id: "JSON_WEB_TOKEN",
        category: Category::Credentials,
        recommended: false,
        extension: false,
        keywords: &[],
        patterns: &[PatternDef {
            regex: r"\beyJ[A-Za-z0-9_-]{2,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*",
            kind: PatternKind::Always,
            requires: None,
        }],
        validator: Some(validators::jwt),
        priority: 94,
        cloudwatch_name: None,
        examples: &[
            "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJKbyJ9.Ql0mGerkZtunMh5fkKlwk-7FplvNdb86fI0uNQdAtYY",
            "token=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyIn0.",
            "\"id_token\": \"eyJhbGciOiJSUzI1NiIsImtpZCI6ImExIn0.eyJpc3MiOiJ4In0.Ql0mGerkZtunMh5fkKlwk-7FplvNdb86fI0uNQdAtYY\"",
        ],
        negative_examples: &[
            "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiI0MiIsIm5hbWUiOiJKbyJ9.Ql0mGerkZtunMh5fkKlwk-7FplvNdb86fI0uNQdAtYY",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
            "xeyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyIn0.",
        ],
    },
    ManagedIdentifier {
        id: "HTTP_BASIC_AUTH_HEADER",
        category: Category::Credentials,
        recommended: true,
        extension: false,
        keywords: &[],
        patterns: &[PatternDef {
            regex: r"(?i:\b(?:proxy-)?authorization)[ \t]*:[ \t]*(?i:basic)[ \t]+[A-Za-z0-9+/]{4,}={0,2}",
            kind: PatternKind::Always,
            requires: None,
        }],
        validator: Some(validators::basic_auth),
        priority: 94,
        cloudwatch_name: None,
        examples: &[
            "Authorization: Basic dXNlcjpwYXNzd29yZA==",
            "proxy-authorization: basic YWxhZGRpbjpvcGVuc2VzYW1l",
            "curl -H 'Authorization: Basic YWRtaW46czNjcjN0' https://example.com",
        ],
        negative_examples: &[
            "Authorization: Bearer dXNlcjpwYXNzd29yZA==",
            "Authorization: Basic bm9jb2xvbg==",
            "Basic dXNlcjpwYXNzd29yZA==",
        ],
    },
    ManagedIdentifier {
        id: "STRIPE_CREDENTIALS",
        category: Category::Credentials,
        recommended: false,
        extension: false,
        keywords: &[],
        patterns: &[PatternDef {
            regex: r"\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{24,99}\b",
            kind: PatternKind::Always,
            requires: None,
        }],
        validator: Some(validators::stripe_key),
        priority: 94,
        cloudwatch_name: None,
        examples: &[
            "STRIPE_KEY=sk_live_NqVwYS81VP7Hb1DX8pPd5khx",
            "rk_live_E3pyIgKpaUnArl63XykWZeiNNCiia3",
            "publishable: pk_test_anXn9k3ksu9mI4ROnl89Sm99",
        ],
        negative_examples: &[
            "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
            "pk_test_TYooMQauvdEDq54NiTphI7jx",
            "sk_live_short",
        ],
    },
    ManagedIdentifier {
        id: "GITHUB_TOKEN",
        category: Category::Credentials,
        recommended: false,
        extension: true,
        keywords: &[],
        patterns: &[PatternDef {
            regex: r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82})\b",
            kind: PatternKind::Always,
            requires: None,
        }],
        validator: None,
        priority: 94,
        cloudwatch_name: None,
        examples: &[
            "GITHUB_TOKEN=ghp_5ytbxAk7jqevt0MLaMRTvetw0tESulEETldq",
            "oauth gho_8b8Vw2zbJYAxyL1aCcTlN99mhWp708DwGw5H",
            "\"token\": \"ghs_qXDgLVXZx3scB8fnvGNx6jvr7SIftRutlZfO\"",
        ],
        negative_examples: &[
            "ghp_jUStEkUdfMI7zcpVMw0qDPAjd6OcZFv1niU",
            "ghx_5ytbxAk7jqevt0MLaMRTvetw0tESulEETldq",
            "github_token",
        ],
    },
    ManagedIdentifier {
        id: "SLACK_TOKEN",
        category: Category::Credentials,
        recommended: false,
        extension: true,
        keywords: &[],
        patterns: &[PatternDef {
            regex: r"\bxox[abposr]-[0-9]{8,13}-[0-9A-Za-z-]{8,}\b",
            kind: PatternKind::Always,
            requires: None,
        }],
        validator: None,
        priority: 94,
        cloudwatch_name: None,
        examples: &[
            "SLACK_BOT_TOKEN=xoxb-92612652064-2792877574476-5jhy0I9lO7F3vlfFrGYJ3Gxe",
            "xoxp-5904584744-529078454748-PRZwwrPwV81Aw71l33SCx9vHjHkm1x72",
            "token: xoxa-2123456789-a1b2c3d4e5f6",
        ],
        negative_examples: &[
            "xoxz-92612652064-2792877574476-5jhy0I9lO7F3vlfFrGYJ3Gxe",
            "xoxb-",
            "xoxb-abc-def",
        ],
    },
];

/// Looks up a managed identifier by Macie id.
pub fn managed(id: &str) -> Option<&'static ManagedIdentifier> {
    MANAGED.iter().find(|m| m.id == id)
}
