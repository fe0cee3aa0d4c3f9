//! Validators of national identity, tax, health and payment numbers: each format's own check
//! digit or allocation rule, so a keyword next to any number of the right length is not enough.
//! They share the [`crate::validators::Validator`] signature (the unit and the match range).

use std::ops::Range;

use crate::validators::{self, bounded_by_non_digit, digits, luhn};

fn number(d: &[u8]) -> u64 {
    d.iter().fold(0, |n, &x| n * 10 + u64::from(x))
}

/// The match without the separators (space, `-`, `.`, `/`) formats allow, uppercased.
fn compact(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .filter(|b| !matches!(b, b' ' | b'-' | b'.' | b'/'))
        .map(u8::to_ascii_uppercase)
        .collect()
}

/// A UK National Insurance number: prefix letters HMRC allocates (not D, F, I, Q, U, V; second
/// not O; not BG, GB, KN, NK, NT, TN, ZZ), six digits, suffix A–D. The QQ prefix is HMRC's
/// example range and never issued.
pub fn uk_nino(text: &[u8], m: Range<usize>) -> bool {
    let c = compact(&text[m]);
    if c.len() != 9 {
        return false;
    }
    let bad_first = b"DFIQUV";
    let bad_second = b"DFIOQUV";
    let prefix = &c[..2];
    !bad_first.contains(&c[0])
        && !bad_second.contains(&c[1])
        && ![b"BG", b"GB", b"KN", b"NK", b"NT", b"TN", b"ZZ"]
            .iter()
            .any(|p| p.as_slice() == prefix)
        && matches!(c[8], b'A'..=b'D')
}

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// The check letter of a Spanish DNI/NIE number.
fn spanish_letter(n: u64) -> u8 {
    DNI_LETTERS[(n % 23) as usize]
}

/// A Spanish DNI: eight digits and the mod-23 check letter (all zeros never issued).
pub fn spain_dni(text: &[u8], m: Range<usize>) -> bool {
    let c = compact(&text[m]);
    c.len() == 9
        && c[..8].iter().all(u8::is_ascii_digit)
        && c[..8].iter().any(|&d| d != b'0')
        && spanish_letter(number(&digits(&c[..8]))) == c[8]
}

/// A Spanish NIE: X, Y or Z (standing for 0, 1, 2), seven digits and the DNI check letter.
pub fn spain_nie(text: &[u8], m: Range<usize>) -> bool {
    let c = compact(&text[m]);
    if c.len() != 9 || !c[1..8].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let lead = match c[0] {
        b'X' => 0,
        b'Y' => 1,
        b'Z' => 2,
        _ => return false,
    };
    spanish_letter(lead * 10_000_000 + number(&digits(&c[1..8]))) == c[8]
}

/// A Spanish NIF of a person: a DNI, an NIE, or a K/L/M number (seven digits and the check
/// letter of those digits).
pub fn spain_nif(text: &[u8], m: Range<usize>) -> bool {
    let c = compact(&text[m.clone()]);
    match c.first() {
        Some(b'K' | b'L' | b'M') => {
            c.len() == 9
                && c[1..8].iter().all(u8::is_ascii_digit)
                && spanish_letter(number(&digits(&c[1..8]))) == c[8]
        }
        Some(b'X' | b'Y' | b'Z') => spain_nie(text, m),
        _ => spain_dni(text, m),
    }
}

/// A Spanish social security number: province (01–53, 66), eight digits, and two control
/// digits, the first ten as one number mod 97 (a number under 10^7 is prefixed by the
/// province alone, as the Seguridad Social computes it).
pub fn spain_social_security(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    if d.len() != 12 {
        return false;
    }
    let province = number(&d[..2]);
    if !matches!(province, 1..=53 | 66) {
        return false;
    }
    let body = number(&d[2..10]);
    let base = if body < 10_000_000 {
        province * 10_000_000 + body
    } else {
        number(&d[..10])
    };
    base % 97 == number(&d[10..]) && bounded_by_non_digit(text, m)
}

/// A German tax identification number (Steuer-IdNr): eleven digits, not starting with 0; in
/// the first ten exactly one digit repeats (twice, or three times but not three in a row);
/// check digit by ISO 7064 MOD 11,10.
pub fn germany_tax_id(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    if d.len() != 11 || d[0] == 0 {
        return false;
    }
    let mut counts = [0u8; 10];
    for &x in &d[..10] {
        counts[usize::from(x)] += 1;
    }
    let repeated: Vec<u8> = counts.iter().copied().filter(|&c| c > 1).collect();
    if repeated.len() != 1 || repeated[0] > 3 {
        return false;
    }
    if repeated[0] == 3 && d[..10].windows(3).any(|w| w[0] == w[1] && w[1] == w[2]) {
        return false;
    }
    let mut product = 10u32;
    for &x in &d[..10] {
        let mut sum = (u32::from(x) + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    let check = match 11 - product {
        10 => 0,
        c => c,
    };
    check == u32::from(d[10]) && bounded_by_non_digit(text, m)
}

/// A French social security number (NIR, "numéro INSEE"): sex, year, month, department
/// (2A/2B for Corsica), commune, order number, and the key 97 − (number mod 97).
pub fn france_insee(text: &[u8], m: Range<usize>) -> bool {
    let c = compact(&text[m]);
    if c.len() != 15 {
        return false;
    }
    let mut body = c[..13].to_vec();
    // Corsica: 2A counts as 19 and 2B as 18 in the key's computation.
    let offset = match (body[5], body[6]) {
        (b'2', b'A') => Some(1_000_000),
        (b'2', b'B') => Some(2_000_000),
        _ => None,
    };
    if offset.is_some() {
        body[6] = b'0';
    }
    if !body.iter().all(u8::is_ascii_digit) || !c[13..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut n = number(&digits(&body));
    if let Some(o) = offset {
        n -= o;
    }
    97 - n % 97 == number(&digits(&c[13..]))
}

/// A Brazilian CPF: eleven digits with two mod-11 check digits; all-equal digits are invalid.
pub fn brazil_cpf(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    if d.len() != 11 || d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let check = |len: usize| -> u8 {
        let sum: u32 = d[..len]
            .iter()
            .enumerate()
            .map(|(i, &x)| u32::from(x) * (len as u32 + 1 - i as u32))
            .sum();
        ((sum * 10 % 11) % 10) as u8
    };
    check(9) == d[9] && check(10) == d[10] && bounded_by_non_digit(text, m)
}

/// A Brazilian CNPJ: fourteen digits with two weighted mod-11 check digits.
pub fn brazil_cnpj(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    if d.len() != 14 || d.iter().all(|&x| x == d[0]) {
        return false;
    }
    const WEIGHTS: [u32; 13] = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
    let check = |len: usize| -> u8 {
        let weights = &WEIGHTS[13 - len..];
        let sum: u32 = d[..len]
            .iter()
            .zip(weights)
            .map(|(&x, w)| u32::from(x) * w)
            .sum();
        match sum % 11 {
            0 | 1 => 0,
            r => (11 - r) as u8,
        }
    };
    check(12) == d[12] && check(13) == d[13] && bounded_by_non_digit(text, m)
}

/// Verhoeff's dihedral-group checksum (Aadhaar).
fn verhoeff(d: &[u8]) -> bool {
    const MUL: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const PERM: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    let mut c = 0u8;
    for (i, &x) in d.iter().rev().enumerate() {
        c = MUL[usize::from(c)][usize::from(PERM[i % 8][usize::from(x)])];
    }
    c == 0
}

/// An Indian Aadhaar number: twelve digits, not starting with 0 or 1, Verhoeff checksum.
pub fn aadhaar(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    d.len() == 12 && d[0] >= 2 && verhoeff(&d) && bounded_by_non_digit(text, m)
}

/// An Australian tax file number: eight or nine digits whose weighted sum is a multiple of 11.
pub fn australia_tfn(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    let weights: &[u32] = match d.len() {
        9 => &[1, 4, 3, 7, 5, 8, 6, 9, 10],
        8 => &[10, 7, 8, 4, 6, 3, 5, 1],
        _ => return false,
    };
    let sum: u32 = d.iter().zip(weights).map(|(&x, w)| u32::from(x) * w).sum();
    sum > 0 && sum.is_multiple_of(11) && bounded_by_non_digit(text, m)
}

/// A US DEA registration number: two letters and seven digits, the last the check digit of
/// (d1 + d3 + d5) + 2 × (d2 + d4 + d6).
pub fn dea_number(text: &[u8], m: Range<usize>) -> bool {
    let v = &text[m];
    if v.len() != 9 {
        return false;
    }
    let d = digits(&v[2..]);
    if d.len() != 7 {
        return false;
    }
    let sum = u32::from(d[0] + d[2] + d[4]) + 2 * u32::from(d[1] + d[3] + d[5]);
    sum % 10 == u32::from(d[6])
}

/// A US National Provider Identifier: ten digits, Luhn over the number prefixed by 80840.
pub fn npi(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    if d.len() != 10 {
        return false;
    }
    let mut full = vec![8, 0, 8, 4, 0];
    full.extend_from_slice(&d);
    luhn(&full) && bounded_by_non_digit(text, m)
}

/// A Mexican CURP: its eighteenth character is the check digit of the first seventeen.
pub fn mexico_curp(text: &[u8], m: Range<usize>) -> bool {
    let c = &text[m];
    if c.len() != 18 {
        return false;
    }
    // The alphabet of the check, with Ñ (not in the regex) left in place.
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMN\0OPQRSTUVWXYZ";
    let mut sum = 0u32;
    for (i, ch) in c[..17].iter().enumerate() {
        match ALPHABET.iter().position(|a| a == ch) {
            Some(v) => sum += v as u32 * (18 - i as u32),
            None => return false,
        }
    }
    u32::from(c[17].wrapping_sub(b'0')) == (10 - sum % 10) % 10
}

/// A Chilean RUT/RUN: the body and its mod-11 check character (0–9 or K).
pub fn chile_rut(text: &[u8], m: Range<usize>) -> bool {
    let c = compact(&text[m.clone()]);
    let (body, check) = c.split_at(c.len().saturating_sub(1));
    if body.len() < 7 || !body.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut sum = 0u32;
    let mut factor = 2;
    for &x in body.iter().rev() {
        sum += u32::from(x - b'0') * factor;
        factor = if factor == 7 { 2 } else { factor + 1 };
    }
    let expected = match 11 - sum % 11 {
        11 => b'0',
        10 => b'K',
        r => b'0' + r as u8,
    };
    check == [expected] && bounded_by_non_digit(text, m)
}

/// An Argentine SUBE card number: sixteen digits starting 6061, Luhn.
pub fn sube(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    d.len() == 16 && d.starts_with(&[6, 0, 6, 1]) && luhn(&d) && bounded_by_non_digit(text, m)
}

/// Magnetic stripe track data (ISO/IEC 7813 tracks 1 and 2): the account number it carries
/// passes Luhn.
pub fn magnetic_stripe(text: &[u8], m: Range<usize>) -> bool {
    let track = &text[m];
    let start = track
        .iter()
        .position(u8::is_ascii_digit)
        .unwrap_or(track.len());
    let pan: Vec<u8> = track[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .map(|b| b - b'0')
        .collect();
    (13..=19).contains(&pan.len()) && luhn(&pan)
}

/// A decimal-degree coordinate pair: latitude within ±90, longitude within ±180.
pub fn lat_long(text: &[u8], m: Range<usize>) -> bool {
    let pair = String::from_utf8_lossy(&text[m]);
    let mut parts = pair.split(',').map(|p| p.trim().parse::<f64>());
    match (parts.next(), parts.next()) {
        (Some(Ok(lat)), Some(Ok(lon))) => lat.abs() <= 90.0 && lon.abs() <= 180.0,
        _ => false,
    }
}

/// A bank account number: nine to seventeen digits that are not all the same digit.
pub fn bank_account(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    (9..=17).contains(&d.len()) && d.iter().any(|&x| x != d[0]) && bounded_by_non_digit(text, m)
}

/// The ICAO 9303 check digit (weights 7, 3, 1; letters A=10 … Z=35) of `chars`.
fn icao_check_digit(chars: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (i, &c) in chars.iter().enumerate() {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return None,
        };
        sum += v * [7, 3, 1][i % 3];
    }
    Some((sum % 10) as u8)
}

/// A German identity card or passport number: nine characters from the alphabet the
/// Bundesdruckerei uses (no vowels but none of the look-alikes), at least one digit, and,
/// when a tenth character is given, its ICAO 9303 check digit.
pub fn germany_document_number(text: &[u8], m: Range<usize>) -> bool {
    let c = compact(&text[m]);
    let body = &c[..c.len().min(9)];
    if body.len() != 9 || !body.iter().any(u8::is_ascii_digit) {
        return false;
    }
    match c.len() {
        9 => true,
        10 => c[9].is_ascii_digit() && icao_check_digit(body) == Some(c[9] - b'0'),
        _ => false,
    }
}

/// An Italian codice fiscale: sixteen characters whose last is the check letter of the
/// first fifteen (odd positions by the Agenzia delle Entrate's table, even by value).
pub fn italy_codice_fiscale(text: &[u8], m: Range<usize>) -> bool {
    let c = compact(&text[m]);
    if c.len() != 16 {
        return false;
    }
    italian_check_letter(&c[..15]) == Some(c[15])
}

/// The check letter the Agenzia delle Entrate's tables give `chars` (uppercase letters and
/// digits): odd positions by the table, even ones by value, the sum mod 26 as a letter. The
/// codice fiscale and a bank account's CIN both use it.
fn italian_check_letter(chars: &[u8]) -> Option<u8> {
    const ODD: [u32; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    let mut sum = 0u32;
    for (i, &ch) in chars.iter().enumerate() {
        let (index, digit) = match ch {
            b'0'..=b'9' => (usize::from(ch - b'0'), u32::from(ch - b'0')),
            b'A'..=b'Z' => (usize::from(ch - b'A'), u32::from(ch - b'A')),
            _ => return None,
        };
        sum += if i % 2 == 0 { ODD[index] } else { digit };
    }
    Some(b'A' + (sum % 26) as u8)
}

/// A French tax number (numéro fiscal / SPI): thirteen digits starting 0–3, the last three
/// the first ten mod 511.
pub fn france_tax_number(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    d.len() == 13
        && d[0] <= 3
        && number(&d[..10]) % 511 == number(&d[10..])
        && bounded_by_non_digit(text, m)
}

/// A Spanish CIF (tax id of an organisation): a letter for the kind of entity, seven digits,
/// and a control digit or letter from the Luhn-like sum of the digits.
pub fn spain_cif(text: &[u8], m: Range<usize>) -> bool {
    let c = compact(&text[m]);
    if c.len() != 9 || !b"ABCDEFGHJNPQRSUVW".contains(&c[0]) {
        return false;
    }
    let d = &c[1..8];
    if !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let v = |i: usize| u32::from(d[i] - b'0');
    let even: u32 = v(1) + v(3) + v(5);
    let odd: u32 = [0, 2, 4, 6]
        .iter()
        .map(|&i| (v(i) * 2) / 10 + (v(i) * 2) % 10)
        .sum();
    let control = (10 - (even + odd) % 10) % 10;
    c[8] == b'0' + control as u8 || c[8] == b"JABCDEFGHI"[control as usize]
}

/// A passport or document number: at least one digit, and not one digit repeated (the
/// placeholder `111111111`).
pub fn document_number(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    !d.is_empty() && d.iter().any(|&x| x != d[0]) && bounded_by_non_digit(text, m)
}

/// A number standing on its own (a card security code): not part of a longer structured
/// number such as `666-95-3046` or `12.50`, whose pieces a short pattern would otherwise
/// match ("social security number 666-95-3046" holds the security-code keyword).
pub fn standalone_number(text: &[u8], m: Range<usize>) -> bool {
    let joined = |sep: Option<&u8>, beyond: Option<&u8>| {
        matches!(sep, Some(b'-' | b'.' | b'/' | b',' | b':'))
            && beyond.is_some_and(u8::is_ascii_digit)
    };
    let before = m.start.checked_sub(1).and_then(|i| text.get(i));
    let before2 = m.start.checked_sub(2).and_then(|i| text.get(i));
    bounded_by_non_digit(text, m.clone())
        && !joined(before, before2)
        && !joined(text.get(m.end), text.get(m.end + 1))
}

/// At least one digit: a document number of letters alone is a word.
pub fn has_digit(text: &[u8], m: Range<usize>) -> bool {
    text[m].iter().any(u8::is_ascii_digit)
}

/// A UK Unique Taxpayer Reference: ten digits, the first the check of the other nine
/// (weights 6, 7, 8, 9, 10, 5, 4, 3, 2; HMRC's table "21987654321" by remainder).
pub fn uk_utr(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    if d.len() != 10 {
        return false;
    }
    const WEIGHTS: [u32; 9] = [6, 7, 8, 9, 10, 5, 4, 3, 2];
    let sum: u32 = d[1..]
        .iter()
        .zip(WEIGHTS)
        .map(|(&x, w)| u32::from(x) * w)
        .sum();
    b"21987654321"[(sum % 11) as usize] - b'0' == d[0] && bounded_by_non_digit(text, m)
}

/// A Canadian provincial health number in the Ontario form: ten digits, Luhn.
pub fn canada_health_number(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    d.len() == 10 && d.iter().any(|&x| x != d[0]) && luhn(&d) && bounded_by_non_digit(text, m)
}

/// A US Medicare health insurance claim number: an SSN-shaped nine digits by the SSA's
/// allocation rules, then the beneficiary code.
pub fn hicn(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    if d.len() < 9 {
        return false;
    }
    let area = number(&d[..3]);
    let group = number(&d[3..5]);
    let serial = number(&d[5..9]);
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

/// A Mexican RFC: its six digits are a valid date (YYMMDD).
pub fn mexico_rfc(text: &[u8], m: Range<usize>) -> bool {
    let v = &text[m];
    let Some(start) = v.iter().position(u8::is_ascii_digit) else {
        return false;
    };
    let d = digits(&v[start..(start + 6).min(v.len())]);
    if d.len() != 6 {
        return false;
    }
    let month = number(&d[2..4]);
    let day = number(&d[4..6]);
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

/// A phone number whose digits (country code included when written) number `range`, not
/// glued to other digits, and not one digit repeated.
fn phone_digits(text: &[u8], m: Range<usize>, range: std::ops::RangeInclusive<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    range.contains(&d.len())
        && d.iter().skip(3).any(|&x| x != d[d.len() - 1])
        && bounded_by_non_digit(text, m)
}

/// A UK phone number: +44 and 9–10 digits (with the trunk `(0)` some write), or 0 and 10.
pub fn uk_phone(text: &[u8], m: Range<usize>) -> bool {
    phone_digits(text, m, 11..=13)
}

/// A French phone number: +33 and 9 digits, or 0 and 9.
pub fn france_phone(text: &[u8], m: Range<usize>) -> bool {
    phone_digits(text, m, 10..=11)
}

/// A German phone number: +49 or 0, an area code and a subscriber number (7–13 digits after).
pub fn germany_phone(text: &[u8], m: Range<usize>) -> bool {
    phone_digits(text, m, 8..=15)
}

/// An Italian phone number: +39 and 6–11 digits (landlines keep their leading 0).
pub fn italy_phone(text: &[u8], m: Range<usize>) -> bool {
    phone_digits(text, m, 8..=13)
}

/// A Spanish phone number: +34 and 9 digits, or the 9 digits alone.
pub fn spain_phone(text: &[u8], m: Range<usize>) -> bool {
    phone_digits(text, m, 9..=11)
}

/// A Brazilian phone number: +55, a two-digit area code and 8–9 digits.
pub fn brazil_phone(text: &[u8], m: Range<usize>) -> bool {
    phone_digits(text, m, 10..=13)
}

/// The type prefix of an Argentine CUIT/CUIL whose mod-11 check digit is right (weights
/// 5, 4, 3, 2, 7, 6, 5, 4, 3, 2; a remainder that would need check digit 10 is never issued,
/// AFIP reassigns the prefix instead).
fn argentina_cuit_type(text: &[u8], m: Range<usize>) -> Option<u64> {
    let d = digits(&text[m.clone()]);
    if d.len() != 11 || !bounded_by_non_digit(text, m) || d[2..10].iter().all(|&x| x == 0) {
        return None;
    }
    const WEIGHTS: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = d.iter().zip(WEIGHTS).map(|(&x, w)| u32::from(x) * w).sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return None,
        c => c,
    };
    (u32::from(d[10]) == check).then(|| number(&d[..2]))
}

/// An Argentine CUIT/CUIL of a person: prefix 20, 23, 24 or 27 and the mod-11 check.
pub fn argentina_cuit_person(text: &[u8], m: Range<usize>) -> bool {
    matches!(argentina_cuit_type(text, m), Some(20 | 23 | 24 | 27))
}

/// An Argentine CUIT of an organisation: prefix 30, 33 or 34 and the mod-11 check.
pub fn argentina_cuit_organization(text: &[u8], m: Range<usize>) -> bool {
    matches!(argentina_cuit_type(text, m), Some(30 | 33 | 34))
}

/// The base of a Colombian NIT (without its verification digit) when the DIAN's mod-11
/// verification digit is right: weights 3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67,
/// 71 from the right; a remainder r gives 11 - r, or r itself when it is 0 or 1.
fn colombia_nit_base(text: &[u8], m: Range<usize>) -> Option<Vec<u8>> {
    let d = digits(&text[m.clone()]);
    // Not the tail of a longer dotted number (`345.678-9` of `812.345.678-9`).
    let tail = m.start >= 2 && text[m.start - 1] == b'.' && text[m.start - 2].is_ascii_digit();
    if !(7..=16).contains(&d.len()) || tail || !bounded_by_non_digit(text, m) {
        return None;
    }
    let (base, check) = d.split_at(d.len() - 1);
    if base.iter().all(|&x| x == base[0]) {
        return None;
    }
    const WEIGHTS: [u32; 15] = [3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71];
    let sum: u32 = base
        .iter()
        .rev()
        .zip(WEIGHTS)
        .map(|(&x, w)| u32::from(x) * w)
        .sum();
    let expected = match sum % 11 {
        r @ (0 | 1) => r,
        r => 11 - r,
    };
    (u32::from(check[0]) == expected).then(|| base.to_vec())
}

/// A Colombian NIT of an organisation: a nine-digit base starting with 8 or 9 (the range the
/// DIAN assigns to legal persons) and the verification digit.
pub fn colombia_nit_organization(text: &[u8], m: Range<usize>) -> bool {
    colombia_nit_base(text, m).is_some_and(|b| b.len() == 9 && matches!(b[0], 8 | 9))
}

/// A Colombian NIT of a person: the citizen's cédula number as base (any other base) and the
/// verification digit.
pub fn colombia_nit_person(text: &[u8], m: Range<usize>) -> bool {
    colombia_nit_base(text, m).is_some_and(|b| !(b.len() == 9 && matches!(b[0], 8 | 9)))
}

/// A GS1 UDI in human-readable form, `(01)` first: a GTIN-14 with its mod-10 check digit
/// and an indicator digit 0–8 (9 marks a variable-measure item, which carries no UDI), and,
/// when the production date `(11)` is present, a real date between the FDA's UDI rule
/// (2013-09-24) and today (GS1's sliding window decides the century).
///
/// The date rule is dragnet's: Macie's published run over Synthea's `devices.csv` (78
/// GS1-shaped UDIs with random GTINs under a `UDI` column, 8 of them with a valid check
/// digit) reports no UDI, and all 8 fail it (production dates of 1963 to 2011, or in
/// the future, or indicator 9), while any UDI printed on a device label passes.
fn gs1_udi(v: &[u8]) -> bool {
    let Some(gtin) = v.get(4..18) else {
        return false;
    };
    let d: Vec<u8> = gtin.iter().map(|b| b.wrapping_sub(b'0')).collect();
    if d.iter().any(|&x| x > 9) || d.iter().all(|&x| x == 0) || d[0] == 9 {
        return false;
    }
    let sum: u32 = d[..13]
        .iter()
        .enumerate()
        .map(|(i, &x)| u32::from(x) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    if u32::from(d[13]) != (10 - sum % 10) % 10 {
        return false;
    }
    let production = v
        .windows(4)
        .position(|w| w == b"(11)")
        .and_then(|at| v.get(at + 4..at + 10));
    match production {
        None => true,
        Some(yymmdd) if yymmdd.iter().all(u8::is_ascii_digit) => {
            let (today_year, today) = today();
            let yy = number(&digits(&yymmdd[..2])) as i64;
            let month = number(&digits(&yymmdd[2..4]));
            let day = number(&digits(&yymmdd[4..6]));
            // GS1 General Specifications 7.12: within 50 years of the current year.
            let century = today_year - today_year % 100;
            let mut year = century + yy;
            if year - today_year > 50 {
                year -= 100;
            } else if today_year - year > 49 {
                year += 100;
            }
            let date = (year * 100 + month as i64) * 100 + day as i64;
            (1..=12).contains(&month) && day <= 31 && (20_130_924..=today).contains(&date)
        }
        Some(_) => false,
    }
}

/// This year and today as YYYYMMDD, from the system clock (UTC), read once.
fn today() -> (i64, i64) {
    static TODAY: std::sync::OnceLock<(i64, i64)> = std::sync::OnceLock::new();
    *TODAY.get_or_init(|| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        // Days to civil date (H. Hinnant's algorithm).
        let z = secs.div_euclid(86_400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        (year, (year * 100 + month) * 100 + day)
    })
}

/// The HIBCC check character table (mod 43).
const HIBCC: &[u8; 43] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%";

/// A medical device UDI in one of the FDA-accredited formats: GS1 (`(01)` and a GTIN-14 whose
/// last digit is the GS1 mod-10 check), HIBCC (`+`, labeler code, product, unit of measure and
/// the mod-43 check character), or ICCBBA ISBT 128 (`=`, facility, year, serial: no check).
pub fn medical_device_udi(text: &[u8], m: Range<usize>) -> bool {
    let glued = m
        .start
        .checked_sub(1)
        .is_some_and(|i| text[i].is_ascii_alphanumeric());
    let v = &text[m];
    match v.first() {
        _ if glued => false,
        Some(b'(') => gs1_udi(v),
        Some(b'+') => {
            let Some((&check, body)) = v.split_last() else {
                return false;
            };
            let mut sum = 0usize;
            for c in body {
                match HIBCC.iter().position(|h| h == c) {
                    Some(value) => sum += value,
                    None => return false,
                }
            }
            HIBCC[sum % 43] == check
        }
        Some(b'=') => v[1..].iter().any(|&b| b != b'0' && b.is_ascii_digit()),
        _ => false,
    }
}

/// A Finnish personal identity code (henkilötunnus): a valid DDMMYY date, the century sign
/// (`+`, `-`, `A`–`F`, `U`–`Y`), a three-digit individual number and the mod-31 check character.
pub fn finland_identity_code(text: &[u8], m: Range<usize>) -> bool {
    let v: Vec<u8> = text[m].iter().map(u8::to_ascii_uppercase).collect();
    if v.len() != 11 || !v[..6].iter().chain(&v[7..10]).all(u8::is_ascii_digit) {
        return false;
    }
    if !matches!(v[6], b'+' | b'-' | b'A'..=b'F' | b'U'..=b'Y') {
        return false;
    }
    let day = number(&digits(&v[..2]));
    let month = number(&digits(&v[2..4]));
    if !(1..=31).contains(&day) || !(1..=12).contains(&month) || &v[7..10] == b"000" {
        return false;
    }
    let n = number(&digits(&v[..6])) * 1000 + number(&digits(&v[7..10]));
    b"0123456789ABCDEFHJKLMNPRSTUVWXY"[(n % 31) as usize] == v[10]
}

/// A Swedish personal identity number (personnummer), the number on a Swedish licence: a
/// valid YYMMDD date (day + 60 for coordination numbers), four digits, the last a Luhn check
/// over the ten.
pub fn sweden_personal_number(text: &[u8], m: Range<usize>) -> bool {
    let d = digits(&text[m.clone()]);
    let d = match d.len() {
        10 => d,
        12 => d[2..].to_vec(),
        _ => return false,
    };
    let month = number(&d[2..4]);
    let day = number(&d[4..6]);
    let day = if day > 60 { day - 60 } else { day };
    (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && luhn(&d)
        && bounded_by_non_digit(text, m)
}

/// A bank account in IBAN form (the country's length and mod 97), or else in the country's
/// domestic (BBAN) form as `bban` checks it; the catalog only lets the BBAN patterns match
/// near a keyword.
fn iban_or_bban(text: &[u8], m: Range<usize>, bban: fn(&[u8]) -> bool) -> bool {
    if validators::iban(text, m.clone()) {
        return true;
    }
    let c = compact(&text[m.clone()]);
    let glued = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    !validators::continues_digit_groups(text, m.clone())
        && !validators::inside_iban_run(text, m.start)
        && !glued(m.start.checked_sub(1).and_then(|i| text.get(i)))
        && !glued(text.get(m.end))
        && !c.iter().all(|&b| b == c[0])
        && bban(&c)
}

/// A French bank account: IBAN, or RIB (bank, branch, eleven-character account, and the
/// two-digit key 97 - (89 bank + 15 branch + 3 account) mod 97, letters of the account counted
/// as the Banque de France's digits).
pub fn france_bank_account(text: &[u8], m: Range<usize>) -> bool {
    iban_or_bban(text, m, |c| {
        if c.len() != 23 || !c[..10].iter().chain(&c[21..]).all(u8::is_ascii_digit) {
            return false;
        }
        let mut account = 0u64;
        for &ch in &c[10..21] {
            let digit = match ch {
                b'0'..=b'9' => ch - b'0',
                // A,J=1 B,K,S=2 C,L,T=3 D,M,U=4 E,N,V=5 F,O,W=6 G,P,X=7 H,Q,Y=8 I,R,Z=9
                b'A'..=b'I' => ch - b'A' + 1,
                b'J'..=b'R' => ch - b'J' + 1,
                b'S'..=b'Z' => ch - b'S' + 2,
                _ => return false,
            };
            account = (account * 10 + u64::from(digit)) % 97;
        }
        let bank = number(&digits(&c[..5]));
        let branch = number(&digits(&c[5..10]));
        let key = number(&digits(&c[21..]));
        97 - (89 * bank + 15 * branch + 3 * account) % 97 == key
    })
}

/// A Spanish bank account: IBAN, or CCC (bank, branch, two control digits, ten-digit account;
/// each control digit 11 - the weighted sum mod 11 with weights 1, 2, 4, 8, 5, 10, 9, 7, 3, 6,
/// 11 written 0 and 10 written 1).
pub fn spain_bank_account(text: &[u8], m: Range<usize>) -> bool {
    fn control(ten: &[u8]) -> u8 {
        const WEIGHTS: [u32; 10] = [1, 2, 4, 8, 5, 10, 9, 7, 3, 6];
        let sum: u32 = ten
            .iter()
            .zip(WEIGHTS)
            .map(|(&d, w)| u32::from(d) * w)
            .sum();
        match 11 - sum % 11 {
            11 => 0,
            10 => 1,
            d => d as u8,
        }
    }
    iban_or_bban(text, m, |c| {
        if c.len() != 20 || !c.iter().all(u8::is_ascii_digit) {
            return false;
        }
        let d = digits(c);
        let mut entity = vec![0, 0];
        entity.extend_from_slice(&d[..8]);
        control(&entity) == d[8] && control(&d[10..]) == d[9]
    })
}

/// An Italian bank account: IBAN, or BBAN (CIN check letter, five-digit ABI, five-digit CAB,
/// twelve-character account; the CIN is the codice fiscale's check letter of the rest).
pub fn italy_bank_account(text: &[u8], m: Range<usize>) -> bool {
    iban_or_bban(text, m, |c| {
        c.len() == 23
            && c[1..11].iter().all(u8::is_ascii_digit)
            && italian_check_letter(&c[1..]) == Some(c[0])
    })
}

/// A German bank account: IBAN, or BBAN (eight-digit bank code and ten-digit account; the
/// account's check method varies by bank, so only the shape is checked).
pub fn germany_bank_account(text: &[u8], m: Range<usize>) -> bool {
    iban_or_bban(text, m, |c| {
        c.len() == 18 && c.iter().all(u8::is_ascii_digit)
    })
}

/// A UK bank account: IBAN, BBAN (four-letter bank code, six-digit sort code, eight-digit
/// account), or the domestic sort code and account (`60-16-13 31926819`).
pub fn uk_bank_account(text: &[u8], m: Range<usize>) -> bool {
    iban_or_bban(text, m, |c| {
        let bban = c.len() == 18
            && c[..4].iter().all(u8::is_ascii_uppercase)
            && c[4..].iter().all(u8::is_ascii_digit);
        let domestic = c.len() == 14 && c.iter().all(u8::is_ascii_digit);
        bban || domestic
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::validators::Validator;

    fn ok(v: Validator, s: &str) -> bool {
        v(s.as_bytes(), 0..s.len())
    }

    #[test]
    fn published_examples_pass_and_altered_ones_fail() {
        let cases: &[(Validator, &str, &str)] = &[
            (uk_nino, "AB 12 34 56 C", "QQ 12 34 56 C"),
            (spain_dni, "12345678Z", "12345678A"),
            (spain_nie, "X1234567L", "X1234567A"),
            (spain_nif, "K1234567L", "K1234567A"),
            (spain_social_security, "281234567840", "281234567841"),
            (germany_tax_id, "65929970489", "65929970488"),
            (
                france_insee,
                "2 55 08 14 168 025 38",
                "2 55 08 14 168 025 39",
            ),
            (brazil_cpf, "111.444.777-35", "111.444.777-36"),
            (brazil_cnpj, "11.222.333/0001-81", "11.222.333/0001-82"),
            (aadhaar, "2341 2341 2346", "2341 2341 2347"),
            (australia_tfn, "123 456 782", "123 456 783"),
            (dea_number, "AB1234563", "AB1234564"),
            (npi, "1234567893", "1234567894"),
            (mexico_curp, "GODE561231HDFRRN00", "GODE561231HDFRRN01"),
            (chile_rut, "12.345.678-5", "12.345.678-6"),
            (sube, "6061261234567890", "6061261234567891"),
            (
                magnetic_stripe,
                ";4532015112830366=25121011000012345678?",
                ";4532015112830367=2512101?",
            ),
            (lat_long, "47.6062, -122.3321", "147.6062, -122.3321"),
            (bank_account, "123456789012", "111111111111"),
            (uk_utr, "2234567890", "3234567890"),
            (canada_health_number, "1234567897", "1234567898"),
            (hicn, "536221234A", "000221234A"),
            (mexico_rfc, "GODE561231GR8", "GODE561331GR8"),
            (germany_document_number, "T220001293", "T220001294"),
            (germany_document_number, "L01X00T47", "LAXXXXTAB"),
            (italy_codice_fiscale, "RSSMRA85T10A562S", "RSSMRA85T10A562T"),
            (france_tax_number, "3023217600053", "3023217600054"),
            (spain_cif, "A13585625", "A13585626"),
            (spain_cif, "Q2826000H", "Q2826000J"),
            (
                france_bank_account,
                "20041 01005 0500013M026 06",
                "20041 01005 0500013M026 07",
            ),
            (
                france_bank_account,
                "FR1420041010050500013M02606",
                "FR1520041010050500013M02606",
            ),
            (
                spain_bank_account,
                "2100 0418 45 0200051332",
                "2100 0418 46 0200051332",
            ),
            (
                italy_bank_account,
                "X0542811101000000123456",
                "Y0542811101000000123456",
            ),
            (
                germany_bank_account,
                "370400440532013000",
                "111111111111111111",
            ),
            (uk_bank_account, "NWBK60161331926819", "NWBK6016133192681"),
            (uk_bank_account, "60-16-13 31926819", "60-16-13 3192681"),
            (argentina_cuit_person, "20-12345678-6", "20-12345678-5"),
            (
                argentina_cuit_organization,
                "30-71234567-1",
                "30-71234567-2",
            ),
            (
                argentina_cuit_organization,
                "30-71234567-1",
                "20-12345678-6",
            ),
            (colombia_nit_organization, "900.123.456-8", "900.123.456-7"),
            (colombia_nit_person, "79.123.456-0", "79.123.456-4"),
            (colombia_nit_person, "79.123.456-0", "900.123.456-8"),
            (
                medical_device_udi,
                "(01)00844588003288",
                "(01)00844588003287",
            ),
            (medical_device_udi, "+A123BJC5D6E71G", "+A123BJC5D6E71H"),
            (medical_device_udi, "+H629CVC1001014", "+H629CVC1001015"),
            (medical_device_udi, "=W123426123456", "=0000000000000"),
            (finland_identity_code, "131052-308T", "131052-308U"),
            (sweden_personal_number, "811218-9876", "811218-9875"),
        ];
        for (v, good, bad) in cases {
            assert!(ok(*v, good), "{good} should pass");
            assert!(!ok(*v, bad), "{bad} should fail");
        }
    }

    #[test]
    fn today_is_a_real_date() {
        let (year, date) = today();
        assert!(year >= 2025, "{year}");
        assert_eq!(date / 10_000, year);
        assert!((1..=12).contains(&(date / 100 % 100)));
    }

    #[test]
    fn a_security_code_stands_alone() {
        assert!(standalone_number(b"CVV 123", 4..7));
        assert!(standalone_number(b"cvc2=907.", 5..8));
        assert!(!standalone_number(b"666-95-3046", 0..3));
        assert!(!standalone_number(b"666-95-3046", 7..11));
        assert!(!standalone_number(b"total 12.50", 9..11));
    }

    #[test]
    fn corsican_insee_numbers_use_their_department_offsets() {
        // 2A counts as 19: key = 97 - (1 84 03 19 ... mod 97) computed with 19 in place.
        let n: u64 = 1_840_319_123_456;
        let key = 97 - n % 97;
        let corsican = format!("1840{}2A123456{key:02}", 3);
        assert!(ok(france_insee, &corsican), "{corsican}");
    }
}
