//! Checks that a regex match is a real value of its type: checksums, number-allocation rules,
//! and context rules a regex without look-around cannot express.
//!
//! Every validator sees the whole unit (`text`) and the match range, so it can look at the
//! characters around the match.

use std::ops::Range;

/// A validator: `true` keeps the match.
pub type Validator = fn(text: &[u8], m: Range<usize>) -> bool;

/// The decimal digits of `bytes`, as values 0–9, separators dropped.
pub(crate) fn digits(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .filter(|b| b.is_ascii_digit())
        .map(|b| b - b'0')
        .collect()
}

/// The Luhn (mod 10) checksum over decimal digits.
pub fn luhn(digits: &[u8]) -> bool {
    if digits.is_empty() {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Published test card numbers that Macie never reports (issuers' documentation).
const TEST_CARD_NUMBERS: &[&str] = &[
    "4111111111111111",
    "4012888888881881",
    "4222222222222",
    "4242424242424242",
    "4000056655665556",
    "4005519200000004",
    "4009348888881881",
    "4012000033330026",
    "4012000077777777",
    "4217651111111119",
    "4500600000000061",
    "4917610000000000",
    "5555555555554444",
    "5105105105105100",
    "5200828282828210",
    "5454545454545454",
    "2223003122003222",
    "2223000048400011",
    "378282246310005",
    "371449635398431",
    "378734493671000",
    "6011111111111117",
    "6011000990139424",
    "6011000400000000",
    "3530111333300000",
    "3566002020360505",
    "30569309025904",
    "38520000023237",
    "36227206271667",
    "6200000000000005",
    "6250941006528599",
    "5019717010103742",
];

/// Issuer prefixes and lengths (Amex, Dankort, Diners, Discover, Electron, JCB, Mastercard,
/// UnionPay, Visa).
fn issuer_accepts(d: &[u8]) -> bool {
    let n = d.len();
    let prefix = |len: usize| {
        d[..len]
            .iter()
            .fold(0u32, |acc, &x| acc * 10 + u32::from(x))
    };
    let (p1, p2, p3, p4, p6) = (prefix(1), prefix(2), prefix(3), prefix(4), prefix(6));
    // Visa (incl. Electron).
    (p1 == 4 && matches!(n, 13 | 16 | 19))
        // Mastercard.
        || ((51..=55).contains(&p2) || (222_100..=272_099).contains(&p6)) && n == 16
        // American Express.
        || matches!(p2, 34 | 37) && n == 15
        // Diners Club.
        || ((300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39 || p3 == 309) && (14..=19).contains(&n)
        // Discover.
        || (p4 == 6011 || p2 == 65 || (644..=649).contains(&p3) || (622_126..=622_925).contains(&p6)) && (16..=19).contains(&n)
        // JCB.
        || (3528..=3589).contains(&p4) && (16..=19).contains(&n)
        // UnionPay.
        || p2 == 62 && (16..=19).contains(&n)
        // Dankort.
        || p4 == 5019 && n == 16
}

/// Credit card numbers: 13–19 digits, one consistent separator style in the groupings cards
/// are printed in, issuer prefix, Luhn, not a published test number, not a piece of a longer
/// dashed or dotted token (the first groups of a UUID such as
/// `38656336-5435-3974-8811-220f9d5dc94e` can pass Luhn), and not a piece of a longer run of
/// digit groups (the groups of an IBAN such as `BG80 1234 5678 ...` can pass too).
pub fn credit_card(text: &[u8], m: Range<usize>) -> bool {
    if joined_to_more(text, m.clone())
        || continues_digit_groups(text, m.clone())
        || inside_iban_run(text, m.start)
    {
        return false;
    }
    let s = &text[m.clone()];
    if !card_grouping(s) {
        return false;
    }
    let d = digits(s);
    if !(13..=19).contains(&d.len()) || !issuer_accepts(&d) || !luhn(&d) {
        return false;
    }
    let plain: String = d.iter().map(|x| char::from(b'0' + x)).collect();
    !TEST_CARD_NUMBERS.contains(&plain.as_str()) && bounded_by_non_digit(text, m)
}

/// The groups a card number is printed in: none, fours (the last one to four digits long),
/// or four-six-four/five (Diners Club, American Express); one separator throughout.
fn card_grouping(s: &[u8]) -> bool {
    let has_space = s.contains(&b' ');
    let has_dash = s.contains(&b'-');
    let separator = match (has_space, has_dash) {
        (false, false) => return true,
        (true, true) => return false,
        (true, false) => b' ',
        (false, true) => b'-',
    };
    let groups: Vec<usize> = s.split(|&b| b == separator).map(<[u8]>::len).collect();
    match groups.split_last() {
        Some((last, rest)) if rest.len() >= 3 && rest.iter().all(|&g| g == 4) => {
            (1..=4).contains(last)
        }
        _ => matches!(groups.as_slice(), [4, 6, 4] | [4, 6, 5]),
    }
}

/// The match follows the head of an IBAN written in groups of four (`VG71 LYBZ 4742 ...`):
/// walking back over uppercase groups of four, a group of two letters and two digits starts
/// the run. The digits after it are the IBAN's, not a card's or a domestic account's.
pub fn inside_iban_run(text: &[u8], start: usize) -> bool {
    let mut end = start;
    for _ in 0..8 {
        if end < 5 || !matches!(text[end - 1], b' ' | b'-') {
            return false;
        }
        let group = &text[end - 5..end - 1];
        let at_word_start = end == 5 || !text[end - 6].is_ascii_alphanumeric();
        if group[..2].iter().all(u8::is_ascii_uppercase)
            && group[2..].iter().all(u8::is_ascii_digit)
            && at_word_start
        {
            return true;
        }
        if !group
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return false;
        }
        end -= 5;
    }
    false
}

/// The match continues a run of digit groups on either side (`... 0606 3065 44` inside an
/// IBAN whose groups go on before it, or a card's groups followed by more): a space or `-`
/// with a digit beyond it. Such a piece is part of a longer number, not a value of its own.
pub fn continues_digit_groups(text: &[u8], m: Range<usize>) -> bool {
    let separator = |b: Option<&u8>| matches!(b, Some(b' ' | b'-'));
    let digit = |b: Option<&u8>| b.is_some_and(u8::is_ascii_digit);
    let before = m.start.checked_sub(1).and_then(|i| text.get(i));
    let before2 = m.start.checked_sub(2).and_then(|i| text.get(i));
    (separator(before) && digit(before2))
        || (separator(text.get(m.end)) && digit(text.get(m.end + 1)))
}

/// The match continues past either end as `-`, `.` or `_` and a letter or digit: it is part
/// of a longer token (a UUID, a version, a dotted id), not a value of its own.
pub fn joined_to_more(text: &[u8], m: Range<usize>) -> bool {
    let joiner = |b: Option<&u8>| matches!(b, Some(b'-' | b'.' | b'_'));
    let word = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    let before = m.start.checked_sub(1).and_then(|i| text.get(i));
    let before2 = m.start.checked_sub(2).and_then(|i| text.get(i));
    (joiner(text.get(m.end)) && word(text.get(m.end + 1))) || (joiner(before) && word(before2))
}

/// The match is not glued to more digits (or digit groups) on either side.
pub fn bounded_by_non_digit(text: &[u8], m: Range<usize>) -> bool {
    let before = m.start.checked_sub(1).map(|i| text[i]);
    let after = text.get(m.end).copied();
    !before.is_some_and(|b| b.is_ascii_digit()) && !after.is_some_and(|b| b.is_ascii_digit())
}

/// US SSNs per the Social Security Administration (decisions.md §10): area not 000, 666 or
/// 900–999; group not 00; serial not 0000; the widely published advertising numbers ignored.
pub fn us_ssn(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    if d.len() != 9 || !bounded_by_non_digit(text, m) {
        return false;
    }
    let area = u32::from(d[0]) * 100 + u32::from(d[1]) * 10 + u32::from(d[2]);
    let group = d[3] * 10 + d[4];
    let serial = d[5..].iter().fold(0u32, |a, &x| a * 10 + u32::from(x));
    const ADVERTISED: &[&str] = &["078051120", "219099999", "457555462", "123456789"];
    let plain: String = d.iter().map(|x| char::from(b'0' + x)).collect();
    area != 0
        && area != 666
        && area < 900
        && group != 0
        && serial != 0
        && !ADVERTISED.contains(&plain.as_str())
}

/// North American numbers: area code and exchange start with 2–9; not all one digit.
pub fn nanp_phone(text: &[u8], m: Range<usize>) -> bool {
    let mut d = digits(&text[m.clone()]);
    if d.len() == 11 && d[0] == 1 {
        d.remove(0);
    }
    if d.len() != 10 || !bounded_by_non_digit(text, m) {
        return false;
    }
    d[0] >= 2 && d[3] >= 2 && !d.iter().all(|&x| x == d[0]) && !(d[1] == 1 && d[2] == 1)
}

/// Dotted-quad IPv4 addresses: octets ≤ 255 and not part of a longer dotted number such as a
/// DICOM UID (`1.2.840.10008.5.1.4.1.1.1.1`) or a version string.
pub fn ipv4(text: &[u8], m: Range<usize>) -> bool {
    let s = &text[m.clone()];
    let octets_ok = s.split(|b| *b == b'.').all(|o| {
        !o.is_empty()
            && o.len() <= 3
            && o.iter().all(u8::is_ascii_digit)
            && (o.len() == 1 || o[0] != b'0')
            && o.iter().fold(0u32, |a, &b| a * 10 + u32::from(b - b'0')) <= 255
    });
    let before_dotted =
        m.start >= 2 && text[m.start - 1] == b'.' && text[m.start - 2].is_ascii_digit();
    let after_dotted =
        text.get(m.end) == Some(&b'.') && text.get(m.end + 1).is_some_and(u8::is_ascii_digit);
    octets_ok && !before_dotted && !after_dotted && bounded_by_non_digit(text, m)
}

/// Email addresses: local part ≤ 64 characters without leading, trailing or doubled dots.
pub fn email(text: &[u8], m: Range<usize>) -> bool {
    let s = &text[m];
    let Some(at) = s.iter().position(|b| *b == b'@') else {
        return false;
    };
    let local = &s[..at];
    !local.is_empty()
        && local.len() <= 64
        && local[0] != b'.'
        && local[local.len() - 1] != b'.'
        && !local.windows(2).any(|w| w == b"..")
}

/// Calendar dates with a plausible birth year (1900–2100) in Y-M-D, M/D/Y, D.M.Y or
/// month-name forms.
pub fn birth_date(text: &[u8], m: Range<usize>) -> bool {
    let s = String::from_utf8_lossy(&text[m]).to_ascii_lowercase();
    let nums: Vec<u32> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.parse().ok())
        .collect();
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let named_month = MONTHS
        .iter()
        .position(|mo| s.contains(mo))
        .map(|i| i as u32 + 1);
    let valid = |y: u32, mo: u32, d: u32| {
        (1900..=2100).contains(&y)
            && (1..=12).contains(&mo)
            && d >= 1
            && d <= dragnet_model::timestamp::days_in_month(i64::from(y), mo)
    };
    let year = |y: u32| {
        if y < 100 {
            if y > 30 {
                1900 + y
            } else {
                2000 + y
            }
        } else {
            y
        }
    };
    match (named_month, nums.as_slice()) {
        (Some(mo), [a, b]) => {
            let (d, y) = if *a > 31 { (*b, *a) } else { (*a, *b) };
            valid(year(y), mo, d)
        }
        (None, [a, b, c]) if *a > 31 => valid(*a, *b, *c),
        (None, [a, b, c]) => valid(year(*c), *a, *b) || valid(year(*c), *b, *a),
        _ => false,
    }
}

/// AWS secret access keys: 40 base64 characters, not part of a longer token, with a mix of
/// character classes; AWS's documentation example keys are ignored.
pub fn aws_secret_key(text: &[u8], m: Range<usize>) -> bool {
    let s = &text[m.clone()];
    let in_set = |b: u8| b.is_ascii_alphanumeric() || b == b'/' || b == b'+';
    let before = m.start.checked_sub(1).map(|i| text[i]);
    let after = text.get(m.end).copied();
    const EXAMPLES: &[&[u8]] = &[
        b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        b"je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    ];
    !before.is_some_and(in_set)
        && !after.is_some_and(|b| in_set(b) || b == b'=')
        && s.iter().any(u8::is_ascii_digit)
        && s.iter().any(u8::is_ascii_uppercase)
        && s.iter().any(u8::is_ascii_lowercase)
        && !EXAMPLES.contains(&s)
}

/// AWS access key ids: AWS's documentation example is ignored.
pub fn aws_access_key_id(text: &[u8], m: Range<usize>) -> bool {
    &text[m] != b"AKIAIOSFODNN7EXAMPLE"
}

/// US passport numbers: not a run of one repeated digit.
pub fn us_passport(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m]);
    d.len() >= 8 && !d.iter().all(|&x| x == d[0])
}

/// Driver's licence numbers: at least five digits, not one repeated digit.
pub fn drivers_license(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m]);
    d.len() >= 5 && !d.iter().all(|&x| x == d[0])
}

/// An ABA routing transit number: nine digits, a Federal Reserve routing symbol prefix (00–12,
/// 21–32 thrift, 61–72 electronic, 80 traveller's cheques) and the 3-7-1 checksum.
pub fn aba_routing_number(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    if d.len() != 9 || !bounded_by_non_digit(text, m) || d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let prefix = d[0] * 10 + d[1];
    let known = matches!(prefix, 0..=12 | 21..=32 | 61..=72 | 80);
    let sum: u32 = d
        .iter()
        .zip([3, 7, 1, 3, 7, 1, 3, 7, 1])
        .map(|(&x, w)| u32::from(x) * w)
        .sum();
    known && sum.is_multiple_of(10)
}

/// A MAC address: six hexadecimal pairs with one separator throughout, not part of a longer
/// chain of pairs, and not the all-zero or broadcast address.
pub fn mac_address(text: &[u8], m: Range<usize>) -> bool {
    let v = &text[m.clone()];
    if v.len() != 17 {
        return false;
    }
    let separator = v[2];
    let consistent = v.iter().skip(2).step_by(3).all(|&b| b == separator);
    let chained = |sep: Option<&u8>, next: Option<&u8>| {
        sep == Some(&separator) && next.is_some_and(u8::is_ascii_hexdigit)
    };
    let before = m.start.checked_sub(1).and_then(|i| text.get(i));
    let before2 = m.start.checked_sub(2).and_then(|i| text.get(i));
    let hex: Vec<u8> = v
        .iter()
        .filter(|b| b.is_ascii_hexdigit())
        .map(u8::to_ascii_lowercase)
        .collect();
    consistent
        && !chained(before, before2)
        && !chained(text.get(m.end), text.get(m.end + 1))
        && !hex.iter().all(|&b| b == b'0')
        && !hex.iter().all(|&b| b == b'f')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(f: Validator, s: &str) -> bool {
        f(s.as_bytes(), 0..s.len())
    }

    #[test]
    fn luhn_known_values() {
        assert!(luhn(&digits(b"79927398713")));
        assert!(!luhn(&digits(b"79927398710")));
        assert!(!luhn(&[]));
    }

    #[test]
    fn routing_numbers_and_mac_addresses() {
        assert!(whole(aba_routing_number, "011000015"));
        assert!(!whole(aba_routing_number, "011000016"), "checksum");
        assert!(!whole(aba_routing_number, "991000015"), "no such prefix");
        assert!(whole(mac_address, "00:1A:2B:3C:4D:5E"));
        assert!(!whole(mac_address, "00:1A-2B:3C:4D:5E"), "mixed separators");
        assert!(!whole(mac_address, "ff:ff:ff:ff:ff:ff"));
        assert!(
            !mac_address(b"12:34:56:78:90:ab:cd", 0..17),
            "a longer chain"
        );
    }

    #[test]
    fn cards() {
        assert!(inside_iban_run(b"VG71 LYBZ 4742", 10));
        assert!(!inside_iban_run(b"visa 4742", 5));
        assert!(
            !whole(credit_card, "4556 7375 86899855"),
            "not a card grouping"
        );
        assert!(
            !credit_card(b"EG31 6881 4556 7375 8689 9855", 10..29),
            "the rest of an IBAN"
        );
        assert!(whole(credit_card, "4556737586899855"));
        assert!(whole(credit_card, "4556 7375 8689 9855"));
        assert!(
            !whole(credit_card, "4556-7375 8689 9855"),
            "mixed separators"
        );
        assert!(!whole(credit_card, "4556737586899856"), "bad Luhn");
        assert!(
            !whole(credit_card, "4111111111111111"),
            "published test number"
        );
        assert!(!whole(credit_card, "9556737586899850"), "no issuer");
    }

    #[test]
    fn ssns() {
        assert!(whole(us_ssn, "123-45-6788"));
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "999-76-6866",
            "123-00-4567",
            "123-45-0000",
            "078-05-1120",
        ] {
            assert!(!whole(us_ssn, bad), "{bad}");
        }
    }

    #[test]
    fn ip_context() {
        assert!(whole(ipv4, "192.168.1.20"));
        assert!(!whole(ipv4, "256.1.1.1"));
        let uid = b"1.2.840.10008.5.1.4.1.1.1.1";
        assert!(!ipv4(uid, 15..22), "inside a DICOM UID");
    }

    #[test]
    fn dates() {
        assert!(whole(birth_date, "1989-05-25"));
        assert!(whole(birth_date, "05/25/1989"));
        assert!(whole(birth_date, "May 25, 1989"));
        assert!(!whole(birth_date, "1989-02-30"));
        assert!(!whole(birth_date, "1789-05-25"));
    }

    #[test]
    fn phones() {
        assert!(whole(nanp_phone, "978-466-2000"));
        assert!(whole(nanp_phone, "1-877-267-2323"));
        assert!(!whole(nanp_phone, "078-466-2000"));
        assert!(!whole(nanp_phone, "222-222-2222"));
    }
}

/// The match's letters and digits, upper-cased, separators (spaces, hyphens) dropped.
fn alphanumerics(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(u8::to_ascii_uppercase)
        .collect()
}

/// Full IBAN length of the countries the catalog names.
fn iban_length(country: &[u8]) -> Option<usize> {
    // The lengths of SWIFT's IBAN registry (ISO 13616) for the countries Macie lists.
    Some(match country {
        b"DK" | b"FI" | b"FO" | b"GL" | b"NL" => 18,
        b"MK" | b"SI" => 19,
        b"BA" | b"EE" | b"LT" | b"XK" => 20,
        b"CH" | b"HR" | b"LI" => 21,
        b"BG" | b"CR" | b"DE" | b"GB" | b"GE" | b"IE" | b"ME" | b"RS" => 22,
        b"AE" | b"TL" => 23,
        b"AD" | b"CZ" | b"ES" | b"SE" | b"SK" | b"TN" | b"VG" => 24,
        b"PT" => 25,
        b"IS" | b"TR" => 26,
        b"FR" | b"GR" | b"IT" | b"MC" | b"MR" | b"SM" => 27,
        b"AL" | b"CY" | b"DO" | b"HU" | b"PL" | b"SN" => 28,
        b"BR" | b"EG" | b"UA" => 29,
        b"JO" | b"MU" => 30,
        b"MT" => 31,
        _ => return None,
    })
}

/// An IBAN (ISO 13616): the country's length and the mod-97 check (the rearranged number,
/// letters as 10..35, leaves 1).
pub fn iban(text: &[u8], m: Range<usize>) -> bool {
    let value = alphanumerics(&text[m]);
    if value.len() < 5 || iban_length(&value[..2]) != Some(value.len()) {
        return false;
    }
    let mut remainder = 0u32;
    for &c in value[4..].iter().chain(&value[..4]) {
        let n = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return false,
        };
        remainder = if n >= 10 {
            (remainder * 100 + n) % 97
        } else {
            (remainder * 10 + n) % 97
        };
    }
    remainder == 1
}

/// A Canadian Social Insurance Number: nine digits, Luhn, not starting with 0 or 8 (never
/// assigned; 0 is the documentation's example range).
pub fn canada_sin(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    d.len() == 9 && !matches!(d[0], 0 | 8) && luhn(&d) && bounded_by_non_digit(text, m)
}

/// A UK NHS number: ten digits whose mod-11 check digit is right (a remainder giving 10 is
/// never issued).
pub fn uk_nhs(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    if d.len() != 10 || d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let sum: u32 = d[..9]
        .iter()
        .enumerate()
        .map(|(i, &x)| u32::from(x) * (10 - i as u32))
        .sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return false,
        c => c,
    };
    check == u32::from(d[9]) && bounded_by_non_digit(text, m)
}

/// A US ITIN: nine digits starting with 9, group 50–65, 70–88, 90–92 or 94–99 (IRS).
pub fn us_itin(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    if d.len() != 9 || d[0] != 9 {
        return false;
    }
    let group = d[3] * 10 + d[4];
    matches!(group, 50..=65 | 70..=88 | 90..=92 | 94..=99) && bounded_by_non_digit(text, m)
}

/// A vehicle identification number with a correct check digit (position 9, ISO 3779 as North
/// America requires it). VINs of makers that leave the check digit unused (some European
/// ones) are not reported: without it 17 letters and digits are too common to call a VIN.
pub fn vin(text: &[u8], m: Range<usize>) -> bool {
    let v = &text[m];
    if v.len() != 17 {
        return false;
    }
    const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'H' => u32::from(c - b'A') + 1,
            b'J'..=b'N' => u32::from(c - b'J') + 1,
            b'P' => 7,
            b'R' => 9,
            b'S'..=b'Z' => u32::from(c - b'S') + 2,
            _ => return None,
        })
    };
    let mut sum = 0;
    for (i, &c) in v.iter().enumerate() {
        match value(c) {
            Some(x) => sum += x * WEIGHTS[i],
            None => return false,
        }
    }
    // All digits is a number, not a VIN.
    if v.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let check = match sum % 11 {
        10 => b'X',
        r => b'0' + r as u8,
    };
    v[8] == check
}

/// Decodes base64 (standard or URL-safe alphabet, padding optional); `None` when not base64.
fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in input.iter().filter(|&&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// A JSON Web Token (RFC 7519, JWS compact form): the header decodes to a JSON object with
/// an `alg` member (`none` for unsigned tokens).
pub fn jwt(text: &[u8], m: Range<usize>) -> bool {
    let token = &text[m];
    let Some(header) = token.split(|&b| b == b'.').next().and_then(base64_decode) else {
        return false;
    };
    let header = String::from_utf8_lossy(&header);
    let trimmed = header.trim();
    trimmed.starts_with('{') && trimmed.ends_with('}') && trimmed.contains("\"alg\"")
}

/// An HTTP Basic credentials header (RFC 7617): the token decodes to `user-id:password`.
pub fn basic_auth(text: &[u8], m: Range<usize>) -> bool {
    let header = &text[m];
    let Some(token) = header.rsplit(|b| *b == b' ').next() else {
        return false;
    };
    base64_decode(token).is_some_and(|creds| {
        creds.contains(&b':') && std::str::from_utf8(&creds).is_ok_and(|s| !s.starts_with(':'))
    })
}

/// Stripe keys from Stripe's own documentation, which Macie ignores.
const STRIPE_DOC_KEYS: &[&str] = &[
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "pk_test_TYooMQauvdEDq54NiTphI7jx",
];

/// A Stripe key that is not one of Stripe's documented example keys.
pub fn stripe_key(text: &[u8], m: Range<usize>) -> bool {
    let key = &text[m];
    !STRIPE_DOC_KEYS.iter().any(|k| k.as_bytes() == key)
}

#[cfg(test)]
mod checksum_tests {
    use super::*;

    fn whole(v: &str) -> (Vec<u8>, Range<usize>) {
        (v.as_bytes().to_vec(), 0..v.len())
    }

    #[test]
    fn ibans_follow_mod_97_and_country_length() {
        for ok in [
            "DE50526018159083016613",
            "DE50 5260 1815 9083 0166 13",
            "GB48NWBK27601895559797",
            "ES9054323194875749118625",
            "IT66X4821993518190937865797",
            "FR07186091390982BHB7EK3E719",
        ] {
            let (t, r) = whole(ok);
            assert!(iban(&t, r), "{ok}");
        }
        for bad in [
            "DE51526018159083016613",
            "DE5052601815908301661",
            "XX50526018159083016613",
            "GB48NWBK2760189555979",
        ] {
            let (t, r) = whole(bad);
            assert!(!iban(&t, r), "{bad}");
        }
    }

    #[test]
    fn national_numbers_check_digits() {
        let check = |f: Validator, v: &str| {
            let (t, r) = whole(v);
            f(&t, r)
        };
        assert!(check(canada_sin, "565 632 122"));
        assert!(!check(canada_sin, "565 632 123"));
        assert!(!check(canada_sin, "046 454 286"), "0 is never assigned");
        assert!(check(uk_nhs, "114 710 4972"));
        assert!(!check(uk_nhs, "114 710 4973"));
        assert!(!check(uk_nhs, "1111111111"));
        assert!(check(us_itin, "912-78-1234"));
        assert!(!check(us_itin, "912-93-1234"));
        assert!(!check(us_itin, "812-78-1234"));
        assert!(check(vin, "1M8GDM9AXKP042788"));
        assert!(!check(vin, "1M8GDM9A1KP042788"));
        assert!(!check(vin, "12345678901234567"));
    }

    #[test]
    fn tokens_decode_to_what_they_claim() {
        let check = |f: Validator, v: &str| {
            let (t, r) = whole(v);
            f(&t, r)
        };
        assert!(check(
            jwt,
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.4Hb0mmbrWlVStTIWWj6CvqSWcZ3Rra8eL0TgmOqHX0c"
        ));
        assert!(!check(jwt, "eyJub3QiOiJhIGp3dCJ9.eyJzdWIiOiIxMjM0In0.sig"));
        assert!(check(
            basic_auth,
            "Authorization: Basic dXNlcjpwYXNzd29yZA=="
        ));
        assert!(!check(basic_auth, "Authorization: Basic bm9jb2xvbg=="));
        assert_eq!(base64_decode(b"aGk").unwrap(), b"hi");
        assert!(base64_decode(b"a*b").is_none());
    }
}
