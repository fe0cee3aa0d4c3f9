//! `managedDataIdentifierSelector` semantics (macie.md §1.1).

use dragnet_model::jobspec::ManagedDataIdentifierSelector;

use crate::catalog::{ManagedIdentifier, MANAGED};

/// Managed ids a job named that dragnet does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("managedDataIdentifierIds: unknown managed data identifier id(s): {}; `dragnet identifiers list` shows the known ids", .0.join(", "))]
pub struct UnknownManagedIds(pub Vec<String>);

/// The managed identifiers a selector and id list select: `ALL` every one, `RECOMMENDED` the
/// recommended set, `NONE` none, `INCLUDE` only the listed ids, `EXCLUDE` all but them.
pub fn select_managed(
    selector: ManagedDataIdentifierSelector,
    ids: &[String],
) -> Result<Vec<&'static ManagedIdentifier>, UnknownManagedIds> {
    use ManagedDataIdentifierSelector as S;
    let unknown: Vec<String> = ids
        .iter()
        .filter(|id| !MANAGED.iter().any(|m| m.id == id.as_str()))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(UnknownManagedIds(unknown));
    }
    let listed = |m: &ManagedIdentifier| ids.iter().any(|id| id == m.id);
    Ok(MANAGED
        .iter()
        .filter(|m| match selector {
            S::All => true,
            S::Recommended => m.recommended,
            S::None => false,
            S::Include => listed(m),
            S::Exclude => !listed(m),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ManagedDataIdentifierSelector as S;

    fn ids(sel: S, list: &[&str]) -> Vec<&'static str> {
        let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        select_managed(sel, &list)
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect()
    }

    #[test]
    fn selectors() {
        assert_eq!(ids(S::All, &[]).len(), MANAGED.len());
        assert!(ids(S::None, &[]).is_empty());
        let rec = ids(S::Recommended, &[]);
        assert!(rec.contains(&"USA_SOCIAL_SECURITY_NUMBER") && rec.contains(&"CREDIT_CARD_NUMBER"));
        assert!(
            !rec.contains(&"NAME")
                && !rec.contains(&"EMAIL_ADDRESS")
                && !rec.contains(&"PHONE_NUMBER")
        );
        assert_eq!(ids(S::Include, &["NAME"]), vec!["NAME"]);
        let ex = ids(S::Exclude, &["NAME"]);
        assert_eq!(ex.len(), MANAGED.len() - 1);
        assert!(!ex.contains(&"NAME"));
        let err = select_managed(S::Include, &["PASSPORT_NUMBER_US".to_string()]).unwrap_err();
        assert!(err.to_string().contains("PASSPORT_NUMBER_US"));
    }
}
