//! Managed data identifiers as data (macie.md §4, decisions.md §3).
//!
//! Adding an identifier means adding an entry here and, where the data type has one, a
//! validator in [`crate::validators`]. Every entry carries positive and negative examples that
//! the unit tests (and `dragnet identifiers check`) run. Ids, categories, keywords and
//! RECOMMENDED membership are Macie's; identifiers Macie lacks are marked as extensions.

use dragnet_model::Category;

use crate::names;
use crate::national;
use crate::secrets;
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

/// A Macie identifier whose pattern needs one of its keywords (in the column name or field
/// path, or before the match within [`MANAGED_KEYWORD_DISTANCE`]): most national ids, tax and
/// health numbers, and the card data other than the number itself.
macro_rules! keyword_identifier {
    (
        $id:literal, $category:ident, recommended: $rec:literal, [$($kw:literal),+ $(,)?],
        $regex:literal, $validator:expr, priority: $priority:literal, $cloudwatch:expr,
        [$($ex:literal),+ $(,)?], [$($neg:literal),+ $(,)?] $(,)?
    ) => {
        ManagedIdentifier {
            id: $id,
            category: Category::$category,
            recommended: $rec,
            extension: false,
            keywords: &[$($kw),+],
            patterns: &[PatternDef {
                regex: $regex,
                kind: PatternKind::NeedsKeyword,
                requires: None,
            }],
            validator: $validator,
            priority: $priority,
            cloudwatch_name: $cloudwatch,
            examples: &[$($ex),+],
            negative_examples: &[$($neg),+],
        }
    };
}

/// A credential Macie lacks (decisions.md §3): a token with a vendor's literal prefix, found
/// without a keyword; the literal keeps it cheap in the shared multi-pattern pass.
macro_rules! token_identifier {
    (
        $id:literal, $regex:literal, $validator:expr,
        [$($ex:literal),+ $(,)?], [$($neg:literal),+ $(,)?] $(,)?
    ) => {
        ManagedIdentifier {
            id: $id,
            category: Category::Credentials,
            recommended: false,
            extension: true,
            keywords: &[],
            patterns: &[PatternDef {
                regex: $regex,
                kind: PatternKind::Always,
                requires: None,
            }],
            validator: $validator,
            priority: 94,
            cloudwatch_name: None,
            examples: &[$($ex),+],
            negative_examples: &[$($neg),+],
        }
    };
}

/// A country's phone number (macie.md §4.4): with the country code no keyword is needed;
/// in national form one of the country's phone words must be near.
macro_rules! phone_identifier {
    (
        $id:literal, [$($kw:literal),+ $(,)?], $international:literal, $national:literal,
        $validator:expr, $cloudwatch:expr,
        [$($ex:literal),+ $(,)?], [$($neg:literal),+ $(,)?] $(,)?
    ) => {
        ManagedIdentifier {
            id: $id,
            category: Category::PersonalInformation,
            recommended: false,
            extension: false,
            keywords: &[$($kw),+],
            patterns: &[
                PatternDef {
                    regex: $international,
                    kind: PatternKind::Always,
                    requires: Some(b'+'),
                },
                PatternDef {
                    regex: $national,
                    kind: PatternKind::NeedsKeyword,
                    requires: None,
                },
            ],
            validator: Some($validator),
            priority: 64,
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

    keyword_identifier!(
        "UK_NATIONAL_INSURANCE_NUMBER", PersonalInformation, recommended: true,
        ["insurance no", "insurance number", "national insurance number", "national insurance", "nin", "ni number", "ni no", "ni #", "nino"],
        r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
        Some(national::uk_nino), priority: 80, Some("NationalInsuranceNumber-GB"),
        ["National Insurance number: AB 12 34 56 C", "nino JG103759A", "NI number CE123456D"],
        ["National Insurance number: QQ 12 34 56 C", "nino BG103759A", "ref AB 12 34 56 C"],
    ),
    // Differs from Macie on purpose: the code must stand alone, since Macie's "security
    // number" keyword also sits inside "social security number", next to 666-95-3046.
    keyword_identifier!(
        "CREDIT_CARD_SECURITY_CODE", FinancialInformation, recommended: false,
        ["card id", "card identification code", "card identification number", "card security code", "card validation code", "card validation number", "card verification data", "card verification value", "cvc", "cvc2", "cvv", "cvv2", "elo verification code", "security code", "security number", "verification code"],
        r"\b\d{3,4}\b",
        Some(national::standalone_number), priority: 50, Some("CreditCardSecurityCode"),
        ["CVV: 123", "card security code 4321", "cvc2=907"],
        ["CVV: 12", "social security number 666-95-3046", "room 123"],
    ),
    keyword_identifier!(
        "CREDIT_CARD_EXPIRATION", FinancialInformation, recommended: false,
        ["exp d", "exp m", "exp y", "expiration", "expiry", "exp date", "expiration date", "expiry date", "expires", "valid thru", "valid through"],
        r"\b(?:0?[1-9]|1[0-2]) ?[/\-] ?(?:20)?\d{2}\b",
        None, priority: 50, Some("CreditCardExpiration"),
        ["Expiration: 09/27", "expiry date 12-2029", "card expires 1/28"],
        ["Expiration: 13/27", "expiry 2027", "issued 09/27"],
    ),
    keyword_identifier!(
        "BANK_ACCOUNT_NUMBER", FinancialInformation, recommended: false,
        ["bank account", "bank acct", "checking account", "checking acct", "deposit account", "deposit acct", "savings account", "savings acct", "chequing account", "chequing acct"],
        r"\b\d{9,17}\b",
        Some(national::bank_account), priority: 55, Some("BankAccountNumber-US"),
        ["Bank account: 123456789012", "savings acct 00012345678", "checking account #482019374621"],
        ["Bank account: 111111111111", "bank account 12345678", "order 123456789012"],
    ),
    keyword_identifier!(
        "CREDIT_CARD_MAGNETIC_STRIPE", FinancialInformation, recommended: true,
        ["card data", "iso7813", "mag", "magstripe", "stripe", "swipe", "track 1", "track 2", "track1", "track2"],
        r"%B\d{13,19}\^[A-Za-z /.'\-]{2,26}\^\d{4}\d{0,40}\?|;\d{13,19}=\d{4}\d{0,40}\?",
        Some(national::magnetic_stripe), priority: 92, None,
        ["swipe: ;4532015112830366=25121011000012345678?", "track1 %B4532015112830366^LEE/ANN^2512101000000?", "magstripe ;5425233430109903=2701?"],
        ["swipe: ;4532015112830367=25121011000012345678?", "track2 4532015112830366=2512?", "note ;4532015112830366=2512101?"],
    ),
    keyword_identifier!(
        "SPAIN_DNI_NUMBER", PersonalInformation, recommended: true,
        ["dni", "dni#", "documento nacional de identidad", "número de dni", "numero de dni", "identidad"],
        r"\b\d{8}-?[A-Za-z]\b",
        Some(national::spain_dni), priority: 79, None,
        ["DNI: 12345678Z", "documento nacional de identidad 87654321-X", "dni 45678912S"],
        ["DNI: 12345678A", "DNI: 00000000T", "ref 12345678Z"],
    ),
    keyword_identifier!(
        "SPAIN_NIE_NUMBER", PersonalInformation, recommended: true,
        ["nie", "nie#", "número de identidad de extranjero", "numero de identidad de extranjero", "número de identificación de extranjero", "extranjero"],
        r"\b[XYZxyz]-?\d{7}-?[A-Za-z]\b",
        Some(national::spain_nie), priority: 79, None,
        ["NIE: X1234567L", "nie Y-7654321-G", "extranjero Z0000123J"],
        ["NIE: X1234567A", "NIE: W1234567L", "ref X1234567L"],
    ),
    keyword_identifier!(
        "SPAIN_NIF_NUMBER", PersonalInformation, recommended: true,
        ["nif", "nif#", "número de identificación fiscal", "numero de identificacion fiscal"],
        r"\b(?:\d{8}|[KLMXYZklmxyz]\d{7})-?[A-Za-z]\b",
        Some(national::spain_nif), priority: 78, None,
        ["NIF: 12345678Z", "nif K1234567L", "NIF X1234567L"],
        ["NIF: 12345678A", "nif K1234567A", "cif 12345678Z"],
    ),
    keyword_identifier!(
        "SPAIN_SOCIAL_SECURITY_NUMBER", PersonalInformation, recommended: true,
        ["número de la seguridad social", "numero de la seguridad social", "seguridad social", "número de afiliación", "numero de afiliacion", "nss", "naf"],
        r"\b\d{2}[ /\-]?\d{8}[ /\-]?\d{2}\b",
        Some(national::spain_social_security), priority: 79, None,
        ["Seguridad Social: 28 12345678 40", "nss 281234567840", "NAF 28/12345678/40"],
        ["Seguridad Social: 28 12345678 41", "nss 991234567840", "ref 281234567840"],
    ),
    keyword_identifier!(
        "GERMANY_TAX_IDENTIFICATION_NUMBER", PersonalInformation, recommended: true,
        ["steuer-id", "steuer id", "steueridentifikationsnummer", "steuerliche identifikationsnummer", "identifikationsnummer", "idnr", "steuernummer", "tin"],
        r"\b[1-9]\d ?\d{3} ?\d{3} ?\d{3}\b",
        Some(national::germany_tax_id), priority: 79, None,
        ["Steuer-ID: 65929970489", "steueridentifikationsnummer 86 095 742 719", "IdNr 26501789375"],
        ["Steuer-ID: 65929970488", "Steuer-ID: 12345678901", "kunde 65929970489"],
    ),
    keyword_identifier!(
        "FRANCE_HEALTH_INSURANCE_NUMBER", PersonalInformation, recommended: false,
        ["insee", "numéro de sécurité sociale", "numero de securite sociale", "sécurité sociale", "securite sociale", "carte vitale", "nir", "numéro d'inscription au répertoire"],
        r"\b[12] ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d{2}|2[ABab]) ?\d{3} ?\d{3} ?\d{2}\b",
        Some(national::france_insee), priority: 79, None,
        ["numéro de sécurité sociale: 2 55 08 14 168 025 38", "INSEE 184037512345690", "carte vitale 2 93 06 99 014 001 08"],
        ["numéro de sécurité sociale: 2 55 08 14 168 025 39", "INSEE 184037512345691", "ref 2 55 08 14 168 025 38"],
    ),
    keyword_identifier!(
        "BRAZIL_CPF_NUMBER", PersonalInformation, recommended: true,
        ["cpf", "cpf#", "cadastro de pessoas físicas", "cadastro de pessoa física", "cadastro de pessoas fisicas", "cadastro de pessoa fisica"],
        r"\b\d{3}\.?\d{3}\.?\d{3}-?\d{2}\b",
        Some(national::brazil_cpf), priority: 79, None,
        ["CPF: 111.444.777-35", "cpf 52998224725", "Cadastro de Pessoas Físicas 123.456.789-09"],
        ["CPF: 111.444.777-36", "CPF: 111.111.111-11", "pedido 111.444.777-35"],
    ),
    keyword_identifier!(
        "BRAZIL_CNPJ_NUMBER", PersonalInformation, recommended: false,
        ["cnpj", "cnpj#", "cadastro nacional da pessoa jurídica", "cadastro nacional da pessoa juridica", "cadastro nacional de pessoa jurídica"],
        r"\b\d{2}\.?\d{3}\.?\d{3}/?\d{4}-?\d{2}\b",
        Some(national::brazil_cnpj), priority: 79, None,
        ["CNPJ: 11.222.333/0001-81", "cnpj 45048437000133", "CNPJ 06.047.821/0001-60"],
        ["CNPJ: 11.222.333/0001-82", "CNPJ: 11.111.111/1111-11", "pedido 11.222.333/0001-81"],
    ),
    keyword_identifier!(
        "INDIA_AADHAAR_NUMBER", PersonalInformation, recommended: false,
        ["aadhaar", "aadhar", "aadhaar number", "uidai", "uid", "आधार"],
        r"\b[2-9]\d{3}[ \-]?\d{4}[ \-]?\d{4}\b",
        Some(national::aadhaar), priority: 79, None,
        ["Aadhaar: 2341 2341 2346", "aadhaar no 498750123453", "UID 7654-3210-9878"],
        ["Aadhaar: 2341 2341 2347", "Aadhaar: 1341 2341 2346", "order 2341 2341 2346"],
    ),
    keyword_identifier!(
        "AUSTRALIA_TAX_FILE_NUMBER", PersonalInformation, recommended: true,
        ["tax file number", "tax file no", "tfn", "tfn#"],
        r"\b\d{3} ?\d{3} ?\d{2,3}\b",
        Some(national::australia_tfn), priority: 78, None,
        ["TFN: 123 456 782", "tax file number 459599230", "tfn 865 414 088"],
        ["TFN: 123 456 783", "TFN: 000 000 000", "invoice 123 456 782"],
    ),
    keyword_identifier!(
        "US_DRUG_ENFORCEMENT_AGENCY_NUMBER", PersonalInformation, recommended: false,
        ["dea number", "dea registration", "dea registration number", "dea#", "dea no", "dea"],
        r"\b[ABCDEFGHJKLMPRSTUXabcdefghjklmprstux][A-Za-z9]\d{7}\b",
        Some(national::dea_number), priority: 79, None,
        ["DEA number: AB1234563", "dea# BJ6125341", "DEA registration FS1234563"],
        ["DEA number: AB1234564", "DEA: IB1234563", "ref AB1234563"],
    ),
    keyword_identifier!(
        "USA_NATIONAL_PROVIDER_IDENTIFIER", PersonalInformation, recommended: false,
        ["hipaa", "n.p.i", "national provider", "national provider identifier", "npi", "npi#"],
        r"\b[12]\d{9}\b",
        Some(national::npi), priority: 70, None,
        ["NPI: 1234567893", "national provider identifier 1245678903", "npi# 1987654328"],
        ["NPI: 1234567894", "NPI: 3234567893", "account 1234567893"],
    ),
    keyword_identifier!(
        "USA_MEDICARE_BENEFICIARY_IDENTIFIER", PersonalInformation, recommended: false,
        ["mbi", "medicare beneficiary", "medicare beneficiary identifier", "medicare number"],
        r"\b[1-9][AC-HJKMNP-RT-Yac-hjkmnp-rt-y][AC-HJKMNP-RT-Yac-hjkmnp-rt-y0-9]\d-?[AC-HJKMNP-RT-Yac-hjkmnp-rt-y][AC-HJKMNP-RT-Yac-hjkmnp-rt-y0-9]\d-?[AC-HJKMNP-RT-Yac-hjkmnp-rt-y]{2}\d{2}\b",
        None, priority: 79, None,
        ["MBI: 1EG4-TE5-MK73", "medicare beneficiary 1EG4TE5MK73", "Medicare number 9AA0-AA0-AA00"],
        ["MBI: 1SG4-TE5-MK73", "MBI: 0EG4-TE5-MK73", "code 1EG4-TE5-MK73"],
    ),
    keyword_identifier!(
        "MEXICO_CURP_NUMBER", PersonalInformation, recommended: false,
        ["curp", "curp#", "clave única de registro de población", "clave unica de registro de poblacion"],
        r"\b[A-Z][AEIOUX][A-Z]{2}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])[HMX](?:AS|BC|BS|CC|CL|CM|CS|CH|DF|DG|GT|GR|HG|JC|MC|MN|MS|NT|NL|OC|PL|QT|QR|SP|SL|SR|TC|TS|TL|VZ|YN|ZS|NE)[B-DF-HJ-NP-TV-Z]{3}[A-Z\d]\d\b",
        Some(national::mexico_curp), priority: 79, None,
        ["CURP: GODE561231HDFRRN00", "curp BADD110313HCMLNS06", "CURP MAPE850101MJCRRL05"],
        ["CURP: GODE561231HDFRRN01", "CURP: GODE561331HDFRRN00", "ref GODE561231HDFRRN00"],
    ),
    keyword_identifier!(
        "CHILE_RUT_NUMBER", PersonalInformation, recommended: false,
        ["rut", "rut#", "rol único tributario", "rol unico tributario", "rol único nacional", "rol unico nacional"],
        r"\b\d{1,2}\.?\d{3}\.?\d{3}-?[\dkK]\b",
        Some(national::chile_rut), priority: 78, None,
        ["RUT: 12.345.678-5", "rut 7.654.321-6", "Rol Único Tributario 20111222-2"],
        ["RUT: 12.345.678-6", "RUT: 12.345.678-K", "folio 12.345.678-5"],
    ),
    keyword_identifier!(
        "ARGENTINA_TARJETA_SUBE", PersonalInformation, recommended: false,
        ["sube", "tarjeta sube", "número de tarjeta sube", "numero de tarjeta sube"],
        r"\b6061[ \-]?\d{4}[ \-]?\d{4}[ \-]?\d{4}\b",
        Some(national::sube), priority: 85, None,
        ["SUBE: 6061 2612 3456 7890", "tarjeta sube 6061129876543216", "sube 6061-0055-5555-5558"],
        ["SUBE: 6061 2612 3456 7891", "SUBE: 6062 2612 3456 7890", "ref 6061 2612 3456 7890"],
    ),
    keyword_identifier!(
        "LATITUDE_LONGITUDE", PersonalInformation, recommended: false,
        ["coordinate", "coordinates", "lat long", "latitude longitude", "lat/long", "latlng", "gps", "position", "location"],
        r"[-+]?\b\d{1,2}\.\d{4,}\s?,\s?[-+]?\d{1,3}\.\d{4,}\b",
        Some(national::lat_long), priority: 60, None,
        ["coordinates: 47.6062, -122.3321", "gps -33.86882,151.20929", "position 51.50735, -0.12776"],
        ["coordinates: 147.6062, -122.3321", "coordinates 47.6, -122.3", "temps 47.6062, -122.3321"],
    ),

    keyword_identifier!(
        "UK_PASSPORT_NUMBER", PersonalInformation, recommended: true,
        ["uk passport", "british passport", "hm passport", "gb passport", "gbr passport", "united kingdom passport"],
        r"\b(?:\d{9}|[A-Z]{2}\d{7})\b",
        Some(national::document_number), priority: 72, Some("PassportNumber-GB"),
        ["UK passport: 925076473", "British passport number 107185703", "HM Passport AB1234567"],
        ["UK passport: 111111111", "UK passport 12345678", "passport ref 925076473x"],
    ),
    keyword_identifier!(
        "CANADA_PASSPORT_NUMBER", PersonalInformation, recommended: true,
        ["canadian passport", "canada passport", "passport canada", "passeport canadien", "numéro de passeport canadien"],
        r"\b[A-Z]{2}\d{6}\b",
        None, priority: 72, None,
        ["Canadian passport: AB123456", "passport canada GA302922", "passeport canadien HK654321"],
        ["Canadian passport: A1234567", "canadian passport AB12345", "flight AB123456"],
    ),
    keyword_identifier!(
        "FRANCE_PASSPORT_NUMBER", PersonalInformation, recommended: true,
        ["passeport", "numéro de passeport", "numero de passeport", "passeport français", "french passport", "passport"],
        r"\b\d{2}[A-Z]{2}\d{5}\b",
        None, priority: 72, Some("PassportNumber-FR"),
        ["passeport: 12AB34567", "numéro de passeport 05CK20941", "French passport 18FV56713"],
        ["passeport: 12A34567", "passeport 123AB4567", "dossier 12AB34567"],
    ),
    keyword_identifier!(
        "GERMANY_PASSPORT_NUMBER", PersonalInformation, recommended: true,
        ["reisepass", "reisepassnummer", "passnummer", "pass-nr", "german passport", "deutscher reisepass"],
        r"\b[CFGHJK][CFGHJKLMNPRTVWXYZ0-9]{8}\d?\b",
        Some(national::germany_document_number), priority: 72, Some("PassportNumber-DE"),
        ["Reisepass: C01X00T47", "Reisepassnummer C4J0R7L2N", "German passport CFGHJ12349"],
        ["Reisepass: CFGHJKLMN", "Reisepass: A01X00T47", "kunde C01X00T47"],
    ),
    keyword_identifier!(
        "ITALY_PASSPORT_NUMBER", PersonalInformation, recommended: true,
        ["passaporto", "numero passaporto", "numero di passaporto", "passaporto italiano", "italian passport", "passport"],
        r"\b[A-Z]{2}\d{7}\b",
        None, priority: 71, Some("PassportNumber-IT"),
        ["passaporto: YA1234567", "numero di passaporto AA0000001", "Italian passport YB7654321"],
        ["passaporto: Y1234567", "passaporto YA123456", "ordine YA1234567"],
    ),
    keyword_identifier!(
        "SPAIN_PASSPORT_NUMBER", PersonalInformation, recommended: true,
        ["pasaporte", "número de pasaporte", "numero de pasaporte", "pasaporte español", "spanish passport"],
        r"\b[A-Z]{2,3}\d{6}\b",
        None, priority: 71, Some("PassportNumber-ES"),
        ["pasaporte: PAA123456", "número de pasaporte XDB654321", "Spanish passport AB123456"],
        ["pasaporte: P1234567", "pasaporte PAA12345", "pedido PAA123456"],
    ),
    keyword_identifier!(
        "CANADA_DRIVERS_LICENSE", PersonalInformation, recommended: true,
        ["permis de conduire", "numéro de permis", "numero de permis", "ontario driver's licence", "ontario drivers licence", "canadian driver's licence", "canadian drivers licence", "quebec driver's licence", "alberta driver's licence", "bc driver's licence"],
        r"\b[A-Z]\d{4}[ \-]?\d{5}[ \-]?\d{5}\b|\b[A-Z]\d{12}\b",
        None, priority: 66, None,
        ["Ontario driver's licence: A1234-56789-01234", "permis de conduire L123456789012", "canadian drivers licence B1234 56789 01234"],
        ["Ontario driver's licence: A1234-5678-01234", "permis de conduire 123456789012", "ticket A1234-56789-01234"],
    ),
    keyword_identifier!(
        "UK_DRIVERS_LICENSE", PersonalInformation, recommended: true,
        ["driving licence", "driving license", "driver's licence", "drivers licence", "driver licence", "dvla", "licence number", "dl#", "dl:"],
        r"\b[A-Z9]{5}\d[0156]\d(?:0[1-9]|[12]\d|3[01])\d[A-Z9]{2}\d[A-Z]{2}\b",
        None, priority: 66, Some("DriversLicense-GB"),
        ["driving licence: MORGA753116SM9IJ", "DVLA JONES710238HA3DX", "dl# SMITH862304AB9CD"],
        ["driving licence: MORGA753116SM9I", "driving licence MORGA723116SM9IJ", "ref MORGA753116SM9IJ"],
    ),
    keyword_identifier!(
        "UK_ELECTORAL_ROLL_NUMBER", PersonalInformation, recommended: true,
        ["electoral roll", "electoral roll number", "electoral register", "elector number", "polling number"],
        r"\b[A-Z]{2,3}\d{1,4}\b",
        Some(national::has_digit), priority: 50, None,
        ["electoral roll number: AB123", "electoral register ABC1234", "elector number XY7"],
        ["electoral roll number: A123", "electoral roll ABCD1234", "room AB123"],
    ),
    keyword_identifier!(
        "FRANCE_NATIONAL_IDENTIFICATION_NUMBER", PersonalInformation, recommended: true,
        ["carte nationale d'identité", "carte nationale d'identite", "cni", "cni#", "numéro de carte d'identité", "carte d'identité", "carte d'identite", "french id card"],
        r"\b\d{12}\b|\b[A-Z0-9]{9}\b",
        Some(national::has_digit), priority: 70, None,
        ["CNI: 880692310285", "carte nationale d'identité X4RTBPFW4", "numéro de carte d'identité 123456789012"],
        ["CNI: 88069231028", "CNI: ABCDEFGHI", "colis 880692310285"],
    ),
    keyword_identifier!(
        "GERMANY_NATIONAL_IDENTIFICATION_NUMBER", PersonalInformation, recommended: true,
        ["personalausweis", "personalausweisnummer", "ausweisnummer", "ausweis", "identity card", "id card", "personal id"],
        r"\b[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}\d?\b",
        Some(national::germany_document_number), priority: 70, None,
        ["Personalausweis: T220001293", "Ausweisnummer L01X00T47", "personalausweisnummer LZ6311T47"],
        ["Personalausweis: T220001294", "Ausweis: LXXXXXXXX", "kunde T220001293"],
    ),
    keyword_identifier!(
        "ITALY_NATIONAL_IDENTIFICATION_NUMBER", PersonalInformation, recommended: true,
        ["codice fiscale", "codice fiscale italiano", "c.f.", "cod. fisc.", "tessera sanitaria", "italian fiscal code"],
        r"\b[A-Za-z]{6}\d{2}[A-EHLMPR-Ta-ehlmpr-t]\d{2}[A-Za-z]\d{3}[A-Za-z]\b",
        Some(national::italy_codice_fiscale), priority: 79, None,
        ["codice fiscale: RSSMRA85T10A562S", "Codice Fiscale BNCGPP70A01H501C", "tessera sanitaria VRDLCU92E45F205M"],
        ["codice fiscale: RSSMRA85T10A562T", "codice fiscale RSSMRA85Z10A562S", "ordine RSSMRA85T10A562S"],
    ),
    keyword_identifier!(
        "FRANCE_TAX_IDENTIFICATION_NUMBER", PersonalInformation, recommended: true,
        ["numéro fiscal", "numero fiscal", "numéro fiscal de référence", "identifiant fiscal", "spi", "numéro spi", "french tax id"],
        r"\b[0-3]\d ?\d{2} ?\d{3} ?\d{3} ?\d{3}\b",
        Some(national::france_tax_number), priority: 79, None,
        ["numéro fiscal: 30 23 217 600 053", "numéro SPI 1234567890066", "identifiant fiscal 0123456789211"],
        ["numéro fiscal: 30 23 217 600 054", "numéro fiscal 4023217600053", "commande 3023217600053"],
    ),
    keyword_identifier!(
        "SPAIN_TAX_IDENTIFICATION_NUMBER", PersonalInformation, recommended: true,
        ["cif", "cif#", "código de identificación fiscal", "codigo de identificacion fiscal", "número de identificación fiscal de la empresa"],
        r"\b[ABCDEFGHJNPQRSUVWabcdefghjnpqrsuvw]-?\d{7}-?[0-9A-Ja-j]\b",
        Some(national::spain_cif), priority: 78, None,
        ["CIF: A13585625", "cif B-1234567-4", "código de identificación fiscal Q2826000H"],
        ["CIF: A13585626", "CIF: I13585625", "pedido A13585625"],
    ),

    keyword_identifier!(
        "GCP_API_KEY", Credentials, recommended: false,
        ["g_places_key", "gcp api key", "gcp key", "google cloud key", "google-api-key", "google-cloud-apikeys", "googlekey", "x-goog-api-key", "google api key", "api key"],
        r"\bAIza[0-9A-Za-z_\-]{35}(?:[^0-9A-Za-z_\-]|$)",
        Some(secrets::gcp_api_key), priority: 94, None,
        ["X-goog-api-key: AIzaSyB7mJ9Xc2pQw5rT8uV1yZ3aD6fG0hK4lNo", "GOOGLEKEY=AIzaSyC-1qW2e3R4t5Y6u7I8o9P0a_S1d2F3g4H", "google api key AIzaSyD8kL2mN4pQ6rS8tU0vW2xY4zA6bC8dE0f"],
        ["X-goog-api-key: AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe", "AIzaSyB7mJ9Xc2pQw5rT8uV1yZ3aD6fG0hK4lNo", "google api key AIzaShort"],
    ),
    token_identifier!(
        "GITLAB_TOKEN",
        r"\bgl(?:pat|dt|rt|ptt|cbt|oas)-[0-9A-Za-z_\-]{20,}\b",
        None,
        ["GITLAB_TOKEN=glpat-Xk2mN9pQ4rT7vW1yZ3bC", "private-token: glpat-aB3dE5fG7hJ9kL1mN3pQ", "deploy token gldt-9xY8wV7uT6sR5qP4oN3m"],
        ["glpat-short", "glxyz-Xk2mN9pQ4rT7vW1yZ3bC", "gitlab_token"],
    ),
    token_identifier!(
        "AZURE_STORAGE_ACCOUNT_KEY",
        r"AccountKey=[A-Za-z0-9+/]{86}==",
        None,
        ["DefaultEndpointsProtocol=https;AccountName=prod;AccountKey=pU3KGCUwux1tEyze1iN7LtkeP3IfyxlxF0SU1kk8nVw0YL4xIB5p/tqg7ui5mX9cfCmZ/a/lkyU81lSvTfrXFA==;EndpointSuffix=core.windows.net", "AccountKey=J6Cus/7pIy+K8iEfnuSRxbEL7LVWO/web5NCfsvI/ilV5c2ORtyO1LfCdk0qWk12dwb4XYaQAkrWvaNAG+nIyw==", "\"AccountKey=zMk19s0fYSJq4VM4rho0AE0zug0kasBMgbG68j47+e71958rSTSvh/VSC2m5Sw2YLoW7VbZyqHJjes10Zvy2Dg==\""],
        ["AccountKey=short==", "AccountName=prod;AccountKey=;", "AccountKey=pU3KGCUwux1tEyze1iN7LtkeP3IfyxlxF0SU1kk8nVw0YL4xIB5p/tqg7ui5mX9cfCmZ/a/lkyU81lSvTfrXFA"],
    ),
    token_identifier!(
        "SENDGRID_API_KEY",
        r"\bSG\.[0-9A-Za-z_\-]{22}\.[0-9A-Za-z_\-]{43}\b",
        None,
        ["SENDGRID_API_KEY=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", "Authorization: Bearer SG.aB3dE5fG7hJ9kL1mN3pQ5r.sT7vW9xY1zA3bC5dE7fG9hJ1kL3mN5pQ7rS9tU1vW3x", "key SG.0123456789abcdefghijkl.0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"],
        ["SG.short.key", "SG.ngeVfQFYQlKU0ufo8x5d1A", "sendgrid_api_key"],
    ),
    token_identifier!(
        "NPM_TOKEN",
        r"\bnpm_[0-9A-Za-z]{36}\b",
        None,
        ["//registry.npmjs.org/:_authToken=npm_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5", "NPM_TOKEN=npm_0123456789abcdefghijklmnopqrstuvwxyz", "token npm_ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210"],
        ["npm_short", "npm_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA", "npm_install"],
    ),
    token_identifier!(
        "PYPI_TOKEN",
        r"\bpypi-AgEIcHlwaS5vcmc[0-9A-Za-z_\-]{50,}",
        None,
        ["password = pypi-AgEIcHlwaS5vcmcCJDk2ZjZkNDY0LTc3ZTgtNDk1Yi1iZWY5LWRmZTM3NGI1OGE1ZgACKlszLCJhYmNkZWYiXQ", "TWINE_PASSWORD=pypi-AgEIcHlwaS5vcmcCJGFiY2RlZjEyLTM0NTYtNzg5MC1hYmNkLWVmMDEyMzQ1Njc4OQACJXsicGVybWlzc2lvbnMiOiAidXNlciJ9", "token: pypi-AgEIcHlwaS5vcmcCJDAwMDAwMDAwLTExMTEtMjIyMi0zMzMzLTQ0NDQ0NDQ0NDQ0NAACKlszLCJ4eXoiXQ"],
        ["pypi-AgEIcHlwaS5vcmcshort", "pypi-token", "pypi-AgEIcHlwaS5vcm"],
    ),
    ManagedIdentifier {
        id: "DATABASE_CONNECTION_STRING",
        category: Category::Credentials,
        recommended: false,
        extension: true,
        keywords: &[],
        patterns: &[PatternDef {
            regex: r"\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|sqlserver|oracle)://[^\s:/@]+:[^\s@/]+@[^\s/'\x22]+",
            kind: PatternKind::Always,
            requires: Some(b'@'),
        }],
        validator: Some(secrets::connection_string),
        priority: 95,
        cloudwatch_name: None,
        examples: &[
            "DATABASE_URL=postgres://app:Xk92!pLq@db.internal:5432/prod",
            "mongodb+srv://reporting:9fJ2kL0pQ@cluster0.ab1cd.mongodb.net/test",
            "\"redis://default:t7Yq2wErT9@cache.example.net:6379\"",
        ],
        negative_examples: &[
            "postgres://app:${DB_PASSWORD}@db.internal/prod",
            "mysql://root:password@localhost/test",
            "postgres://db.internal:5432/prod",
        ],
    },
    keyword_identifier!(
        "PASSWORD_ASSIGNMENT", Credentials, recommended: false,
        ["password", "passwd", "pwd", "secret", "client_secret", "api_key", "apikey", "access_token", "auth_token", "db_password", "secret_key", "private_key"],
        r"[A-Za-z0-9!#$%&*+\-./?@^_|~]{8,128}",
        Some(secrets::password_assignment), priority: 40, None,
        ["db_password = \"Tr0ub4dor&3\"", "client_secret: 9f8e7d6c5b4a3210fedcba98", "PASSWORD=Sup3r-S3cret!"],
        ["password: changeme", "password = os.environ[\"DB_PASSWORD\"]", "the password policy requires 12 characters"],
    ),

    keyword_identifier!(
        "UK_TAX_IDENTIFICATION_NUMBER", PersonalInformation, recommended: false,
        ["utr", "unique taxpayer reference", "tax reference", "self assessment", "utr number"],
        r"\b\d{5} ?\d{5}\b",
        Some(national::uk_utr), priority: 78, None,
        ["UTR: 22345 67890", "unique taxpayer reference 1123456789", "Self Assessment 9987654321"],
        ["UTR: 32345 67890", "UTR: 12345", "invoice 2234567890"],
    ),
    keyword_identifier!(
        "INDIA_PERMANENT_ACCOUNT_NUMBER", PersonalInformation, recommended: false,
        ["pan", "permanent account number", "pan card", "pan number", "pan no"],
        r"\b[A-Z]{3}[ABCFGHJLPT][A-Z]\d{4}[A-Z]\b",
        None, priority: 78, None,
        ["PAN: ABCPE1234F", "permanent account number AAAPL1234C", "PAN card BNZPM2501F"],
        ["PAN: ABCDE1234F", "PAN: ABCP1234F", "order ABCPE1234F"],
    ),
    keyword_identifier!(
        "MEXICO_INDIVIDUAL_RFC_NUMBER", PersonalInformation, recommended: false,
        ["rfc", "registro federal de contribuyentes", "rfc#"],
        r"\b[A-ZÑ&]{4}\d{6}[A-Z0-9]{3}\b",
        Some(national::mexico_rfc), priority: 78, None,
        ["RFC: GODE561231GR8", "registro federal de contribuyentes VECJ880326XXX", "rfc MAPE850101AB1"],
        ["RFC: GODE561331GR8", "RFC: GOD561231GR8", "ref GODE561231GR8"],
    ),
    keyword_identifier!(
        "MEXICO_ORGANIZATION_RFC_NUMBER", PersonalInformation, recommended: false,
        ["rfc", "registro federal de contribuyentes", "rfc#"],
        r"\b[A-ZÑ&]{3}\d{6}[A-Z0-9]{3}\b",
        Some(national::mexico_rfc), priority: 78, None,
        ["RFC: ABC680524P76", "registro federal de contribuyentes XAX010101000", "rfc GHI991231AB1"],
        ["RFC: ABC681324P76", "RFC: AB680524P76", "ref ABC680524P76"],
    ),
    keyword_identifier!(
        "BRAZIL_RG_NUMBER", PersonalInformation, recommended: false,
        ["rg", "rg#", "registro geral", "carteira de identidade", "número do rg", "numero do rg"],
        r"\b\d{1,2}\.?\d{3}\.?\d{3}-?[\dXx]\b",
        None, priority: 60, None,
        ["RG: 12.345.678-9", "registro geral 23.456.789-X", "carteira de identidade 4.567.890-1"],
        ["RG: 12.345.67-9", "RG: 123", "pedido 12.345.678-9"],
    ),
    keyword_identifier!(
        "ARGENTINA_DNI_NUMBER", PersonalInformation, recommended: false,
        ["dni", "documento nacional de identidad", "dni argentino", "número de documento"],
        r"\b\d{2}\.?\d{3}\.?\d{3}\b",
        Some(national::document_number), priority: 60, None,
        ["DNI: 32.456.789", "documento nacional de identidad 40123456", "DNI argentino 27.890.123"],
        ["DNI: 11.111.111", "DNI: 3.245.678", "pedido 32.456.789"],
    ),
    keyword_identifier!(
        "BRAZIL_CEP_CODE", PersonalInformation, recommended: false,
        ["cep", "código de endereçamento postal", "codigo de enderecamento postal", "cep#"],
        r"\b\d{5}-?\d{3}\b",
        Some(national::document_number), priority: 40, None,
        ["CEP: 01310-100", "cep 20040020", "Código de Endereçamento Postal 70040-010"],
        ["CEP: 0131-100", "CEP: 00000-000", "pedido 01310-100"],
    ),
    keyword_identifier!(
        "USA_HEALTH_INSURANCE_CLAIM_NUMBER", PersonalInformation, recommended: false,
        ["health insurance claim number", "hic no", "hic#", "hicn", "hic number", "medicare claim number"],
        r"\b\d{3}-?\d{2}-?\d{4}[ -]?[A-Z][A-Z0-9]?\b",
        Some(national::hicn), priority: 82, None,
        ["HICN: 536-22-1234A", "health insurance claim number 536221234B1", "hic# 123-45-6789 C2"],
        ["HICN: 000-22-1234A", "HICN: 536-22-1234", "ref 536-22-1234A"],
    ),
    keyword_identifier!(
        "USA_HEALTHCARE_PROCEDURE_CODE", PersonalInformation, recommended: false,
        ["hcpcs", "healthcare common procedure coding system", "procedure code", "hcpcs code"],
        r"\b[A-V]\d{4}\b",
        None, priority: 40, None,
        ["HCPCS: J1100", "procedure code E0601", "HCPCS code A4253"],
        ["HCPCS: W1100", "HCPCS: J110", "part J1100"],
    ),
    keyword_identifier!(
        "USA_NATIONAL_DRUG_CODE", PersonalInformation, recommended: false,
        ["national drug code", "ndc", "ndc#", "ndc code"],
        r"\b(?:\d{4}-\d{4}-\d{2}|\d{5}-\d{3}-\d{2}|\d{5}-\d{4}-\d)\b",
        None, priority: 60, None,
        ["NDC: 0002-7510-01", "national drug code 50090-3136-0", "ndc# 00093-150-01"],
        ["NDC: 0002-751-1", "NDC: 00027510", "lot 0002-7510-01"],
    ),
    keyword_identifier!(
        "CANADA_HEALTH_NUMBER", PersonalInformation, recommended: false,
        ["ohip", "health card", "health card number", "health number", "carte santé", "carte sante", "phn", "personal health number"],
        r"\b\d{4}[ -]?\d{3}[ -]?\d{3}(?:[ -]?[A-Z]{2})?\b",
        Some(national::canada_health_number), priority: 70, None,
        ["OHIP: 1234-567-897-AB", "health card number 9876543217", "PHN 4567 891 231"],
        ["OHIP: 1234-567-898", "OHIP: 1111-111-111", "ticket 1234-567-897"],
    ),
    keyword_identifier!(
        "EUROPEAN_HEALTH_INSURANCE_CARD_NUMBER", PersonalInformation, recommended: false,
        ["ehic", "european health insurance card", "ehic number", "carte européenne d'assurance maladie", "europäische krankenversicherungskarte"],
        r"\b\d{20}\b",
        Some(national::document_number), priority: 60, None,
        ["EHIC: 80276001234567890123", "european health insurance card 80250000987654321098", "EHIC number 80380012345678901234"],
        ["EHIC: 8027600123456789012", "EHIC: 00000000000000000000", "ref 80276001234567890123"],
    ),

    phone_identifier!(
        "UK_PHONE_NUMBER",
        ["phone", "telephone", "tel", "mobile", "mob", "landline", "phone number"],
        r"\+44[ \-]?\(?0?\)?[ \-]?\d{2,4}[ \-]?\d{3,4}[ \-]?\d{3,4}\b",
        r"\b0\d{2,4}[ \-]?\d{3,4}[ \-]?\d{3,4}\b",
        national::uk_phone, Some("PhoneNumber-GB"),
        ["call +44 20 7946 0958", "mobile: 07700 900123", "+44 (0)161 496 0000"],
        ["call +44 20 7946", "ref 07700 900123", "mobile: 07700 9001"],
    ),
    phone_identifier!(
        "FRANCE_PHONE_NUMBER",
        ["téléphone", "tél", "portable", "numéro de téléphone", "numéro de portable"],
        r"\+33[ \-.]?[1-9](?:[ \-.]?\d{2}){4}\b",
        r"\b0[1-9](?:[ \-.]?\d{2}){4}\b",
        national::france_phone, Some("PhoneNumber-FR"),
        ["appelez le +33 1 23 45 67 89", "téléphone : 06 12 34 56 78", "tél. 01.23.45.67.89"],
        ["+33 1 23 45 67", "commande 06 12 34 56 78", "téléphone : 00 00 00 00 00"],
    ),
    phone_identifier!(
        "GERMANY_PHONE_NUMBER",
        ["telefon", "telefonnummer", "handy", "handynummer", "mobil", "mobilnummer", "rufnummer"],
        r"\+49[ \-]?\(?0?\)?[ \-]?[1-9]\d{1,4}[ \-/]?\d{3,9}\b",
        r"\b0[1-9]\d{1,4}[ \-/]?\d{4,9}\b",
        national::germany_phone, Some("PhoneNumber-DE"),
        ["Rufen Sie +49 30 12345678 an", "Telefon: 030 12345678", "Handy 0151/23456789"],
        ["+49 30 1", "Kundennummer 030 12345678", "Telefon: 0000 0000000"],
    ),
    phone_identifier!(
        "ITALY_PHONE_NUMBER",
        ["telefono", "cellulare", "numero di telefono", "recapito telefonico"],
        r"\+39[ \-]?(?:0\d{1,3}|3\d{2})[ \-]?\d{3,4}[ \-]?\d{3,4}\b",
        r"\b(?:0\d{1,3}|3\d{2})[ \-]?\d{3,4}[ \-]?\d{3,4}\b",
        national::italy_phone, Some("PhoneNumber-IT"),
        ["chiamare +39 06 1234 5678", "cellulare: 347 123 4567", "telefono 02 8765 4321"],
        ["+39 06 12", "ordine 347 123 4567", "cellulare: 333 333 3333"],
    ),
    phone_identifier!(
        "SPAIN_PHONE_NUMBER",
        ["teléfono", "móvil", "movil", "número de teléfono", "numero de telefono"],
        r"\+34[ \-]?[6-9]\d{2}[ \-]?\d{3}[ \-]?\d{3}\b",
        r"\b[6-9]\d{2}[ \-]?\d{3}[ \-]?\d{3}\b",
        national::spain_phone, Some("PhoneNumber-ES"),
        ["llame al +34 612 345 678", "teléfono: 912 345 678", "móvil 699-123-456"],
        ["+34 612 345", "pedido 612 345 678", "teléfono: 666 666 666"],
    ),
    phone_identifier!(
        "BRAZIL_PHONE_NUMBER",
        ["telefone", "celular", "fone", "whatsapp", "número de telefone"],
        r"\+55[ \-]?\(?\d{2}\)?[ \-]?9?\d{4}[ \-]?\d{4}\b",
        r"\(?\b\d{2}\)?[ \-]?9\d{4}[ \-]?\d{4}\b",
        national::brazil_phone, Some("PhoneNumber-BR"),
        ["ligue +55 11 91234-5678", "celular: (21) 98765-4321", "whatsapp 11 91234 5678"],
        ["+55 11 9123", "pedido (21) 98765-4321", "celular: (11) 99999-9999"],
    ),
    ManagedIdentifier {
        id: "HTTP_COOKIE",
        category: Category::PersonalInformation,
        recommended: false,
        extension: false,
        keywords: &[],
        patterns: &[PatternDef {
            regex: r"\b(?:[Ss]et-)?[Cc]ookie:[ \t]*[A-Za-z0-9_.\-]+=[^\s;]+",
            kind: PatternKind::Always,
            requires: None,
        }],
        validator: None,
        priority: 88,
        cloudwatch_name: None,
        examples: &[
            "Cookie: sessionid=38afes7a8; csrftoken=u32t4o3tb3gg43",
            "Set-Cookie: id=a3fWa; Expires=Thu, 21 Oct 2026 07:28:00 GMT; Secure; HttpOnly",
            "GET / HTTP/1.1\nHost: example.com\ncookie: sid=ZmFrZQ",
        ],
        negative_examples: &[
            "Cookie policy: we use cookies",
            "the cookie jar is empty",
            "Cookie:",
        ],
    },
    ManagedIdentifier {
        id: "CREDIT_CARD_NUMBER_(NO_KEYWORD)",
        category: Category::FinancialInformation,
        recommended: false,
        extension: false,
        keywords: &[],
        patterns: &[PatternDef {
            regex: r"\b\d(?:[ \-]?\d){12,18}\b",
            kind: PatternKind::Always,
            requires: None,
        }],
        validator: Some(validators::credit_card),
        // Below CREDIT_CARD_NUMBER: with a keyword near, that one reports the number.
        priority: 89,
        cloudwatch_name: None,
        examples: &[
            "order paid with 4556737586899855",
            "4556 7375 8689 9855",
            "ref 3498 765432 10127 ok",
        ],
        negative_examples: &[
            "4111111111111111",
            "4556737586899856",
            "38656336-5435-3974-8811-220f9d5dc94e",
        ],
    },
];

/// Looks up a managed identifier by Macie id.
pub fn managed(id: &str) -> Option<&'static ManagedIdentifier> {
    MANAGED.iter().find(|m| m.id == id)
}
