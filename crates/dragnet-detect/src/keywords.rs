//! Keyword rules: in free text a keyword must precede the match within a distance; in
//! structured data a keyword in the column name or field path qualifies every value under it.

/// Lowercases, drops every character that is not a letter or digit, and takes the accents
/// off Latin letters, so `BIRTHDATE`, `birth_date` and `Birth Date` all fold to `birthdate`
/// (decisions.md §10) and a column `numero_de_compte` holds the keyword "numéro de compte":
/// schemas are mostly written in ASCII even where the language has accents.
pub fn fold(s: &str) -> String {
    strip_accents(
        &s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<String>(),
    )
}

/// `s` (lowercase) with the accents and other diacritics of Latin letters removed (`é` → `e`,
/// `ř` → `r`, `ł` → `l`, `ß` → `ss`); other scripts are kept as they are.
pub fn strip_accents(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let base = match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'ā' | 'ă' | 'ą' => "a",
            'ç' | 'ć' | 'č' | 'ċ' => "c",
            'ď' | 'đ' => "d",
            'é' | 'è' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
            'ġ' | 'ģ' | 'ğ' => "g",
            'ħ' => "h",
            'í' | 'ì' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
            'ķ' => "k",
            'ł' | 'ļ' | 'ľ' | 'ĺ' => "l",
            'ñ' | 'ń' | 'ň' | 'ņ' => "n",
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' | 'ō' | 'ő' => "o",
            'ŕ' | 'ř' => "r",
            'ś' | 'š' | 'ş' | 'ș' => "s",
            'ť' | 'ţ' | 'ț' => "t",
            'ú' | 'ù' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
            'ý' | 'ÿ' => "y",
            'ź' | 'ż' | 'ž' => "z",
            'ß' => "ss",
            'æ' => "ae",
            'œ' => "oe",
            _ => {
                out.push(c);
                continue;
            }
        };
        out.push_str(base);
    }
    out
}

/// The words of a column or field name: split at non-alphanumerics and lower→upper case
/// changes (`patientSSN` → `patient`, `ssn`), lowercased.
pub fn name_tokens(name: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                tokens.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            tokens.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens.iter().map(|t| strip_accents(t)).collect()
}

/// Whether a column or field name holds `keyword`.
///
/// Keywords of four or more folded characters match anywhere in the folded name (Macie's
/// behaviour: `BIRTHDATE` holds `birth date`). Shorter ones (`dob`, `ssn`, `pan`, `mc`) must be
/// a whole word of the name, or the whole name, so `COMPANY` does not hold `pan`. This is
/// dragnet's choice where Macie is silent; it avoids qualifying unrelated columns.
pub fn name_holds_keyword(folded_name: &str, tokens: &[String], folded_keyword: &str) -> bool {
    if folded_keyword.is_empty() {
        return false;
    }
    if folded_keyword.chars().count() >= 4 {
        folded_name.contains(folded_keyword)
    } else {
        folded_name == folded_keyword || tokens.iter().any(|t| t == folded_keyword)
    }
}

/// Number of characters in UTF-8 `bytes` (invalid bytes count one each).
pub fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| (**b & 0xC0) != 0x80).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_and_tokens() {
        assert_eq!(fold("Birth Date"), "birthdate");
        assert_eq!(fold("birth_date"), "birthdate");
        assert_eq!(fold("Numéro de compte"), fold("numero_de_compte"));
        assert_eq!(fold("Körkortsnummer"), "korkortsnummer");
        assert_eq!(fold("řidičský průkaz"), "ridicskyprukaz");
        assert_eq!(fold("άδεια"), "άδεια");
        assert_eq!(name_tokens("patientSSN"), vec!["patient", "ssn"]);
        assert_eq!(
            name_tokens("HEALTHCARE_EXPENSES"),
            vec!["healthcare", "expenses"]
        );
    }

    #[test]
    fn column_names_hold_keywords() {
        let holds =
            |name: &str, kw: &str| name_holds_keyword(&fold(name), &name_tokens(name), &fold(kw));
        assert!(holds("BIRTHDATE", "birth date"));
        assert!(holds("PATIENT", "PATIENT"));
        assert!(holds("patient_id", "patient"));
        assert!(holds("DOB", "dob"));
        assert!(holds("customer_ssn", "ssn"));
        assert!(!holds("COMPANY", "pan"));
        assert!(!holds("DRIVERS", "drivers permit"));
        assert!(!holds("DEATHDATE", "birth date"));
    }
}
