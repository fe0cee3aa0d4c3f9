//! Errors for loading wire documents: every message names the JSON path that is wrong and
//! what would be accepted.

/// A document (job spec, identifier file, allow list, rules file) that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// The text is not JSON at all.
    #[error("not valid JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the JSON parser expected.
        message: String,
    },
    /// The JSON is well formed but a field is missing, unknown, of the wrong type, or holds a
    /// value that is not allowed.
    #[error("{path}: {message}")]
    Invalid {
        /// The JSON path of the offending value, e.g. `s3JobDefinition.scoping.includes.and[0]`.
        path: String,
        /// What is wrong and what is allowed.
        message: String,
    },
}

impl SpecError {
    /// An `Invalid` error at `path`.
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        SpecError::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Deserializes `T` from JSON text, reporting the JSON path of type and field errors.
pub fn from_json_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, SpecError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize(de) {
        Ok(v) => {
            // Reject trailing garbage after the document.
            let mut rest =
                serde_json::Deserializer::from_str(text).into_iter::<serde::de::IgnoredAny>();
            rest.next();
            match rest.next() {
                Some(Ok(_)) | Some(Err(_)) => Err(SpecError::Syntax {
                    line: 0,
                    column: 0,
                    message: "unexpected content after the JSON document".into(),
                }),
                None => Ok(v),
            }
        }
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                return Err(SpecError::Syntax {
                    line: inner.line(),
                    column: inner.column(),
                    message: strip_position(&inner.to_string()),
                });
            }
            let path = if path == "." {
                "(document)".to_string()
            } else {
                path
            };
            Err(SpecError::invalid(path, strip_position(&inner.to_string())))
        }
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Builds JSON paths while walking a document for semantic validation.
#[derive(Debug, Clone)]
pub struct JsonPath(String);

impl JsonPath {
    /// The document root.
    pub fn root() -> Self {
        JsonPath(String::new())
    }
    /// The member `name` of this object.
    pub fn field(&self, name: &str) -> Self {
        if self.0.is_empty() {
            JsonPath(name.to_string())
        } else {
            JsonPath(format!("{}.{name}", self.0))
        }
    }
    /// Element `i` of this array.
    pub fn index(&self, i: usize) -> Self {
        JsonPath(format!("{}[{i}]", self.0))
    }
    /// An `Invalid` error at this path.
    pub fn error(&self, message: impl Into<String>) -> SpecError {
        let path = if self.0.is_empty() {
            "(document)"
        } else {
            &self.0
        };
        SpecError::invalid(path, message)
    }
}

impl std::fmt::Display for JsonPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
