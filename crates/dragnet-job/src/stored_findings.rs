//! What `dragnet serve`'s API reads from and writes to the job store besides jobs: the
//! findings of every run, and API tokens (only their SHA-256 hashes are stored).

use dragnet_model::Timestamp;
use rusqlite::{params, OptionalExtension};

use crate::state::{JobStore, StateError};

/// A stored finding with the run and object it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFinding {
    /// The run that produced it.
    pub run_id: String,
    /// The job of that run.
    pub job_id: String,
    /// Bucket of the object.
    pub bucket: String,
    /// Key of the object.
    pub key: String,
    /// The finding JSON.
    pub finding: serde_json::Value,
}

/// An API token as stored: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Public id (shown in listings and audit records).
    pub token_id: String,
    /// Who or what it is for.
    pub name: String,
    /// `viewer`, `investigator`, `operator` or `admin`.
    pub role: String,
    /// Hex SHA-256 of the secret.
    pub hash: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
    /// Whether reveals may read objects in the isolation bucket.
    pub reads_isolation: bool,
}

fn corrupt(what: &'static str) -> impl Fn(serde_json::Error) -> StateError {
    move |e| StateError::Corrupt {
        what,
        message: e.to_string(),
    }
}

type TokenRow = (String, String, String, String, i64, Option<i64>, bool);

fn token_record(r: TokenRow) -> TokenRecord {
    TokenRecord {
        token_id: r.0,
        name: r.1,
        role: r.2,
        hash: r.3,
        created_at: Timestamp::from_millis(r.4),
        revoked_at: r.5.map(Timestamp::from_millis),
        reads_isolation: r.6,
    }
}

const TOKEN_COLUMNS: &str =
    "token_id, name, role, hash, created_at, revoked_at, reads_isolation FROM tokens";

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

impl JobStore {
    /// Every stored finding, oldest run first.
    pub fn findings(&self) -> Result<Vec<StoredFinding>, StateError> {
        self.query_findings("", &[])
    }

    /// The stored finding with id `finding_id`.
    pub fn finding(&self, finding_id: &str) -> Result<Option<StoredFinding>, StateError> {
        Ok(self
            .query_findings(
                " AND json_extract(results.finding, '$.id') = ?1",
                &[&finding_id],
            )?
            .into_iter()
            .next())
    }

    fn query_findings(
        &self,
        condition: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<StoredFinding>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT results.run_id, runs.job_id, results.bucket, results.key, results.finding \
             FROM results JOIN runs ON runs.run_id = results.run_id \
             WHERE results.finding IS NOT NULL{condition} \
             ORDER BY runs.started_at, results.bucket, results.key"
        ))?;
        let rows = stmt.query_map(args, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (run_id, job_id, bucket, key, finding) = row?;
            out.push(StoredFinding {
                run_id,
                job_id,
                bucket,
                key,
                finding: serde_json::from_str(&finding).map_err(corrupt("finding"))?,
            });
        }
        Ok(out)
    }

    /// Stores a new token.
    pub fn create_token(&self, token: &TokenRecord) -> Result<(), StateError> {
        self.conn().execute(
            "INSERT INTO tokens (token_id, name, role, hash, created_at, revoked_at, reads_isolation) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                token.token_id,
                token.name,
                token.role,
                token.hash,
                token.created_at.millis(),
                token.revoked_at.map(Timestamp::millis),
                token.reads_isolation
            ],
        )?;
        Ok(())
    }

    /// The token whose secret hashes to `hash`, revoked or not.
    pub fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StateError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {TOKEN_COLUMNS} WHERE hash = ?1"),
                params![hash],
                token_row,
            )
            .optional()?
            .map(token_record))
    }

    /// Every token, oldest first.
    pub fn tokens(&self) -> Result<Vec<TokenRecord>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {TOKEN_COLUMNS} ORDER BY created_at, token_id"
        ))?;
        let rows = stmt.query_map([], token_row)?;
        Ok(rows
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .map(token_record)
            .collect())
    }

    /// Revokes token `token_id` (kept for the audit trail); false when there is no such token.
    pub fn revoke_token(&self, token_id: &str, now: Timestamp) -> Result<bool, StateError> {
        let changed = self.conn().execute(
            "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE token_id = ?1",
            params![token_id, now.millis()],
        )?;
        Ok(changed > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(id: &str, hash: &str) -> TokenRecord {
        TokenRecord {
            token_id: id.into(),
            name: format!("{id} name"),
            role: "viewer".into(),
            hash: hash.into(),
            created_at: Timestamp::from_millis(1_000),
            revoked_at: None,
            reads_isolation: false,
        }
    }

    #[test]
    fn tokens_are_found_by_hash_and_revoked_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let store = JobStore::open(&dir.path().join("state.db")).unwrap();
        store.create_token(&token("t1", "aa")).unwrap();
        store.create_token(&token("t2", "bb")).unwrap();
        assert!(
            store.create_token(&token("t3", "aa")).is_err(),
            "hashes are unique"
        );
        assert_eq!(store.token_by_hash("bb").unwrap().unwrap().token_id, "t2");
        assert_eq!(store.token_by_hash("cc").unwrap(), None);
        assert!(store
            .revoke_token("t1", Timestamp::from_millis(5_000))
            .unwrap());
        assert!(store
            .revoke_token("t1", Timestamp::from_millis(9_000))
            .unwrap());
        assert!(!store
            .revoke_token("nope", Timestamp::from_millis(5_000))
            .unwrap());
        let t1 = store.token_by_hash("aa").unwrap().unwrap();
        assert_eq!(
            t1.revoked_at,
            Some(Timestamp::from_millis(5_000)),
            "first revocation kept"
        );
        assert_eq!(store.tokens().unwrap().len(), 2);
    }
}
