//! What a scan of JSON-like records carries from value to value: each field's scan plan, and
//! the keys found to hold sensitive data themselves.

use std::collections::HashMap;
use std::sync::Arc;

use dragnet_detect::{Engine, Qualification};
use dragnet_formats::JsonPath;

/// Field shapes whose plan one scan remembers; past this (records with ever new keys, as
/// hostile input may have) the memory is cleared and refilled as fields come back.
const MAX_REMEMBERED_SHAPES: usize = 4096;

/// Keys one scan remembers as sensitive (Macie reports no `jsonPath` through them).
const MAX_SENSITIVE_KEYS: usize = 1024;

/// The scan plan of each field, decided once per field shape (`$.items[*].email`) from the
/// element names along its path: they are the value's keyword context.
#[derive(Default)]
pub(crate) struct PathQualifications {
    by_shape: HashMap<String, Arc<Qualification>>,
}

impl PathQualifications {
    /// The qualification of values at `path`.
    pub fn get(&mut self, engine: &Engine, path: &JsonPath) -> Arc<Qualification> {
        if let Some(q) = self.by_shape.get(path.shape()) {
            return q.clone();
        }
        if self.by_shape.len() >= MAX_REMEMBERED_SHAPES {
            self.by_shape.clear();
        }
        let q = Arc::new(engine.qualify(&path.names().collect::<Vec<_>>()));
        self.by_shape.insert(path.shape().to_string(), q.clone());
        q
    }
}

/// Keys found to hold sensitive data, in the order they were found.
///
/// Macie leaves out the `jsonPath` of an occurrence when an element name along it is itself
/// sensitive; dragnet does so for every key found sensitive earlier in the object (the first
/// [`MAX_SENSITIVE_KEYS`] of them), so the answer depends on the order values are met in.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct SensitiveKeys {
    keys: Vec<String>,
}

impl SensitiveKeys {
    /// Remembers `key` as sensitive.
    pub fn add(&mut self, key: &str) {
        if self.keys.len() < MAX_SENSITIVE_KEYS && !self.keys.iter().any(|k| k == key) {
            self.keys.push(key.to_string());
        }
    }

    /// The `jsonPath` to report for an occurrence at `path`: none through a sensitive key.
    pub fn json_path(&self, path: &JsonPath) -> Option<String> {
        let hidden = path.names().any(|n| self.keys.iter().any(|k| k == n));
        (!hidden).then(|| path.to_json_path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sensitive_key_hides_the_paths_through_it() {
        let mut path = JsonPath::default();
        path.push_key("users");
        path.push_index(2);
        path.push_key("email");
        let mut keys = SensitiveKeys::default();
        assert_eq!(keys.json_path(&path).as_deref(), Some("$.users[2].email"));
        keys.add("jane.doe@example.com");
        assert_eq!(keys.json_path(&path).as_deref(), Some("$.users[2].email"));
        keys.add("users");
        assert_eq!(keys.json_path(&path), None);
    }

    #[test]
    fn remembered_keys_are_capped() {
        let mut keys = SensitiveKeys::default();
        for i in 0..MAX_SENSITIVE_KEYS + 10 {
            keys.add(&format!("k{i}"));
        }
        keys.add("k0");
        assert_eq!(keys.keys.len(), MAX_SENSITIVE_KEYS);
        let mut late = JsonPath::default();
        late.push_key(&format!("k{}", MAX_SENSITIVE_KEYS + 1));
        assert!(keys.json_path(&late).is_some());
    }
}
