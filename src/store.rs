//! The object store a command works on, from `[store]`.

use std::sync::Arc;

use anyhow::{Context, Result};
use dragnet_store::s3::S3Store;
use dragnet_store::{DirStore, ObjectStore};

use crate::config::Config;

/// `dir`: a folder per bucket under `root`; `s3`: Amazon S3 (or `endpoint_url`) with the
/// standard credential chain and the config's region.
pub fn open(config: &Config) -> Result<Arc<dyn ObjectStore>> {
    match config.store.kind.as_str() {
        "s3" => {
            let options = config.store.s3_options(&config.region);
            Ok(Arc::new(
                S3Store::connect(&options).context("connecting to S3")?,
            ))
        }
        _ => Ok(Arc::new(DirStore::new(&config.store.root))),
    }
}
