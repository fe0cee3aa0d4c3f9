//! Planning a run: buckets → listing → scoping → classifiability → sampling → shard.
//!
//! Everything here happens before any object is read. Objects a run does not scan get a
//! reason: `EXCLUDED_BY_SCOPE` and `NOT_SAMPLED` are only counted; objects in
//! scope that cannot be analysed (`UNSUPPORTED_FILE_TYPE_EXCEPTION`, `FILE_EXCEEDS_SIZE_LIMIT`
//! per format (macie.md §2.4),
//! `INVALID_OBJECT_STATE` for archived storage classes) also get a SKIPPED discovery result,
//! as Macie writes results for every object in scope.
//!
//! A shard counts only the objects it owns (listed, skipped for any reason), so the statistics
//! of N shards add up to those of one run. It still looks at every object when sampling, since
//! which objects a sample keeps depends on all of them.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashSet};
use std::sync::Arc;

use dragnet_formats::max_size_for_extension;
use dragnet_model::ids::stable_unit_interval;
use dragnet_model::jobspec::JobSpec;
use dragnet_store::{BucketInfo, ObjectMeta, ObjectStore, StoreError};

use crate::run::RunObserver;
use crate::scope::{bucket_selected, in_scope, needs_tags, BucketFacts, ObjectFacts};

/// Storage classes Macie does not analyse (archived; a GET would fail).
const ARCHIVED_CLASSES: &[&str] = &["GLACIER", "DEEP_ARCHIVE", "EXPRESS_ONEZONE"];

/// How objects are dealt to shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Balance {
    /// By a stable hash of bucket and key: every worker agrees without seeing the same
    /// listing, so it is safe over a live bucket; shards even out in object count.
    #[default]
    Hash,
    /// By size, over a fixed listing (an S3 Inventory report): largest objects first, each to
    /// the shard with the fewest bytes so far (ties to the lower index), so shards even out
    /// in bytes. Every worker must plan from the same listing, so it needs one given.
    Bytes,
}

/// One shard of N (0-based index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This worker's shard, `0..count`.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
    /// How objects are dealt.
    pub balance: Balance,
}

impl Shard {
    /// The shard `bucket/key` belongs to under [`Balance::Hash`].
    fn hashed(&self, bucket: &str, key: &str) -> u32 {
        let x = stable_unit_interval(&["shard", bucket, key]);
        ((x * f64::from(self.count)) as u32).min(self.count - 1)
    }

    /// The objects of `listing` this shard owns under [`Balance::Bytes`].
    fn by_bytes(&self, listing: &Listing) -> HashSet<(String, String)> {
        let mut all: Vec<(&str, &ObjectMeta)> = listing
            .iter()
            .flat_map(|(b, objects)| objects.iter().map(move |o| (b.as_str(), o)))
            .collect();
        all.sort_by(|(ba, a), (bb, b)| {
            b.size
                .cmp(&a.size)
                .then_with(|| (ba, &a.key).cmp(&(bb, &b.key)))
        });
        // (bytes so far, shard index): the least-loaded shard is the smallest entry.
        let mut loads: BinaryHeap<Reverse<(u64, u32)>> =
            (0..self.count).map(|i| Reverse((0, i))).collect();
        let mut mine = HashSet::new();
        for (bucket, object) in all {
            let Reverse((bytes, shard)) = loads.pop().expect("count >= 1");
            if shard == self.index {
                mine.insert((bucket.to_string(), object.key.clone()));
            }
            // Empty objects still count one byte, so they spread out too.
            loads.push(Reverse((bytes + object.size.max(1), shard)));
        }
        mine
    }
}

/// Which objects a run owns: all, a hash shard, or a byte-balanced shard's precomputed set.
enum Ownership {
    All,
    Hashed(Shard),
    Set(HashSet<(String, String)>),
}

impl Ownership {
    fn new(options: &PlanOptions) -> Ownership {
        match (options.shard, &options.listing) {
            (None, _) => Ownership::All,
            (Some(s), Some(listing)) if s.balance == Balance::Bytes => {
                Ownership::Set(s.by_bytes(listing))
            }
            (Some(s), _) => Ownership::Hashed(s),
        }
    }

    fn owns(&self, bucket: &str, key: &str) -> bool {
        match self {
            Ownership::All => true,
            Ownership::Hashed(s) => s.hashed(bucket, key) == s.index,
            Ownership::Set(set) => set.contains(&(bucket.to_string(), key.to_string())),
        }
    }
}

/// A bucket the run looks at.
#[derive(Debug, Clone)]
pub struct BucketPlan {
    /// Bucket facts from the store.
    pub info: BucketInfo,
    /// Owning account (for ARNs and findings).
    pub account_id: String,
}

/// What the run does with one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Read and classify it.
    Scan,
    /// Record a SKIPPED result with this reason, without reading it.
    Skip(&'static str),
}

/// One object of the plan.
#[derive(Debug, Clone)]
pub struct PlannedObject {
    /// Its bucket.
    pub bucket: Arc<BucketPlan>,
    /// Listing metadata.
    pub meta: ObjectMeta,
    /// Tags, if the planner fetched them.
    pub tags: Option<BTreeMap<String, String>>,
    /// Scan or skip.
    pub action: Action,
}

/// The plan of a run.
#[derive(Debug, Default)]
pub struct Plan {
    /// Objects to scan or to record as skipped, in bucket then key order.
    pub objects: Vec<PlannedObject>,
    /// Objects listed in all buckets.
    pub listed: u64,
    /// Objects not scanned, by reason (including those in `objects` with `Action::Skip`).
    pub skipped: BTreeMap<String, u64>,
    /// Buckets that could not be read, with the error.
    pub bucket_errors: Vec<(String, String)>,
}

/// Inputs of planning that are not in the job spec.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Account for buckets found through `bucketCriteria` (local mode).
    pub default_account: String,
    /// Seed for `samplingPercentage`.
    pub sampling_seed: u64,
    /// This worker's shard, if sharded.
    pub shard: Option<Shard>,
    /// The objects to consider, per bucket, instead of listing the buckets: the items of a
    /// Step Functions Distributed Map batch, or an S3 Inventory report. The spec's buckets
    /// that are not in it are left out of the run (another batch has them).
    pub listing: Option<Listing>,
}

/// Objects per bucket, as a listing would give them.
pub type Listing = BTreeMap<String, Vec<ObjectMeta>>;

/// Lists the job's buckets and decides, for every object, whether the run scans it.
pub fn plan(
    spec: &JobSpec,
    store: &dyn ObjectStore,
    options: &PlanOptions,
    observer: &dyn RunObserver,
) -> Plan {
    let mut plan = Plan::default();
    let buckets = resolve_buckets(spec, store, options, &mut plan);
    let ownership = Ownership::new(options);
    let owns = |bucket: &str, key: &str| ownership.owns(bucket, key);
    // Without sampling, objects of other shards need no look at all.
    let whole_population = spec.sampling_percentage.unwrap_or(100) >= 100;
    let scoping = spec.s3_job_definition.scoping.as_ref();
    let fetch_tags = needs_tags(scoping);
    let mut eligible = Vec::new();
    let mut unclassifiable = Vec::new();
    for bucket in buckets {
        let mut listed = Vec::new();
        match &options.listing {
            Some(given) => listed = given.get(&bucket.info.name).cloned().unwrap_or_default(),
            None => {
                if let Err(e) = store.list(&bucket.info.name, "", &mut |m| listed.push(m)) {
                    record_bucket_error(&mut plan, &bucket.info.name, &e);
                    continue;
                }
            }
        }
        for meta in listed {
            let mine = owns(&bucket.info.name, &meta.key);
            if !mine && whole_population {
                continue;
            }
            let tally = |plan: &mut Plan, reason: &str| {
                if mine {
                    count(&mut plan.skipped, reason);
                }
            };
            if mine {
                plan.listed += 1;
            }
            let tags = if fetch_tags {
                match store.attributes(&bucket.info.name, &meta.key) {
                    Ok(a) => Some(a.tags),
                    Err(e) => {
                        tracing::warn!(bucket = %bucket.info.name, key = ?meta.key, error = %e, "could not read object tags; the object is left out");
                        tally(&mut plan, e.macie_reason());
                        continue;
                    }
                }
            } else {
                None
            };
            let empty = BTreeMap::new();
            let facts = ObjectFacts {
                key: &meta.key,
                extension: dragnet_formats::extension(&meta.key),
                size: meta.size,
                last_modified: meta.last_modified,
                tags: tags.as_ref().unwrap_or(&empty),
            };
            if !in_scope(scoping, &facts) {
                tally(&mut plan, "EXCLUDED_BY_SCOPE");
                continue;
            }
            if let Some(reason) = observer.skip(&bucket.info.name, &meta) {
                tally(&mut plan, reason);
                continue;
            }
            let skip = match max_size_for_extension(facts.extension) {
                _ if ARCHIVED_CLASSES.contains(&meta.storage_class.as_str()) => {
                    Some("INVALID_OBJECT_STATE")
                }
                None => Some("UNSUPPORTED_FILE_TYPE_EXCEPTION"),
                Some(max) if meta.size > max => Some("FILE_EXCEEDS_SIZE_LIMIT"),
                Some(_) => None,
            };
            let object = PlannedObject {
                bucket: bucket.clone(),
                meta,
                tags,
                action: skip.map_or(Action::Scan, Action::Skip),
            };
            if skip.is_some() {
                unclassifiable.push(object);
            } else {
                eligible.push(object);
            }
        }
    }
    let sampled = sample(
        eligible,
        spec.sampling_percentage.unwrap_or(100),
        options.sampling_seed,
        &owns,
        &mut plan,
    );
    let mut objects: Vec<PlannedObject> = sampled.into_iter().chain(unclassifiable).collect();
    objects.sort_by(|a, b| {
        (&a.bucket.info.name, &a.meta.key).cmp(&(&b.bucket.info.name, &b.meta.key))
    });
    for object in objects {
        if !owns(&object.bucket.info.name, &object.meta.key) {
            continue;
        }
        if let Action::Skip(reason) = object.action {
            count(&mut plan.skipped, reason);
        }
        plan.objects.push(object);
    }
    plan
}

/// Keeps `ceil(n × percentage / 100)` of the eligible objects, chosen by a seeded stable hash
/// of bucket and key: random-looking, reproducible for a given seed, and the same whichever
/// shard or machine plans it. Macie picks objects (not bytes) at random; it does not say how
/// it rounds, so dragnet rounds up so that a small bucket is never sampled to nothing.
fn sample(
    mut eligible: Vec<PlannedObject>,
    percentage: i64,
    seed: u64,
    owns: &dyn Fn(&str, &str) -> bool,
    plan: &mut Plan,
) -> Vec<PlannedObject> {
    let percentage = percentage.clamp(0, 100) as usize;
    if percentage >= 100 {
        return eligible;
    }
    let keep = (eligible.len() * percentage).div_ceil(100);
    let seed = seed.to_string();
    eligible.sort_by(|a, b| {
        let ka = stable_unit_interval(&["sample", &seed, &a.bucket.info.name, &a.meta.key]);
        let kb = stable_unit_interval(&["sample", &seed, &b.bucket.info.name, &b.meta.key]);
        ka.total_cmp(&kb)
    });
    let dropped = eligible[keep..]
        .iter()
        .filter(|o| owns(&o.bucket.info.name, &o.meta.key))
        .count();
    if dropped > 0 {
        *plan.skipped.entry("NOT_SAMPLED".into()).or_default() += dropped as u64;
    }
    eligible.truncate(keep);
    eligible
}

fn count(map: &mut BTreeMap<String, u64>, reason: &str) {
    *map.entry(reason.to_string()).or_default() += 1;
}

fn record_bucket_error(plan: &mut Plan, bucket: &str, e: &StoreError) {
    tracing::error!(bucket, error = %e, "bucket could not be listed");
    plan.bucket_errors.push((bucket.to_string(), e.to_string()));
}

fn resolve_buckets(
    spec: &JobSpec,
    store: &dyn ObjectStore,
    options: &PlanOptions,
    plan: &mut Plan,
) -> Vec<Arc<BucketPlan>> {
    let mut out = Vec::new();
    if let Some(defs) = &spec.s3_job_definition.bucket_definitions {
        for def in defs {
            for name in &def.buckets {
                if options
                    .listing
                    .as_ref()
                    .is_some_and(|given| !given.contains_key(name))
                {
                    continue;
                }
                match store.bucket(name) {
                    Ok(info) => out.push(Arc::new(BucketPlan {
                        info,
                        account_id: def.account_id.clone(),
                    })),
                    Err(e) => record_bucket_error(plan, name, &e),
                }
            }
        }
    } else if let Some(criteria) = &spec.s3_job_definition.bucket_criteria {
        match store.list_buckets() {
            Ok(all) => {
                let given = |name: &str| {
                    options
                        .listing
                        .as_ref()
                        .is_none_or(|listing| listing.contains_key(name))
                };
                for info in all.into_iter().filter(|b| given(&b.name)) {
                    let facts = BucketFacts {
                        name: &info.name,
                        account_id: &options.default_account,
                        effective_permission: "NOT_PUBLIC",
                        shared_access: "NOT_SHARED",
                        tags: &info.tags,
                    };
                    if bucket_selected(criteria, &facts) {
                        out.push(Arc::new(BucketPlan {
                            info,
                            account_id: options.default_account.clone(),
                        }));
                    }
                }
            }
            Err(e) => record_bucket_error(plan, "(bucket listing)", &e),
        }
    }
    out
}

#[cfg(test)]
mod balance_tests {
    use super::*;
    use dragnet_model::Timestamp;

    fn listing(sizes: &[u64]) -> Listing {
        let objects = sizes
            .iter()
            .enumerate()
            .map(|(i, size)| ObjectMeta {
                key: format!("k{i:03}"),
                size: *size,
                last_modified: Timestamp::from_millis(0),
                etag: None,
                storage_class: "STANDARD".into(),
                version_id: None,
            })
            .collect();
        Listing::from([("b".to_string(), objects)])
    }

    fn shards(count: u32, listing: &Listing) -> Vec<HashSet<(String, String)>> {
        (0..count)
            .map(|index| {
                Shard {
                    index,
                    count,
                    balance: Balance::Bytes,
                }
                .by_bytes(listing)
            })
            .collect()
    }

    #[test]
    fn byte_balanced_shards_partition_the_listing_and_even_out_bytes() {
        // Sizes spread over five orders of magnitude, as in a data lake.
        let sizes: Vec<u64> = (0..200u64).map(|i| (i * 7919 % 100_000) + 1).collect();
        let given = listing(&sizes);
        let size_of = |key: &str| sizes[key[1..].parse::<usize>().unwrap()];
        for count in [1, 3, 16] {
            let parts = shards(count, &given);
            let total: usize = parts.iter().map(HashSet::len).sum();
            assert_eq!(
                total,
                sizes.len(),
                "complete and, with the union below, disjoint"
            );
            let union: HashSet<_> = parts.iter().flatten().collect();
            assert_eq!(union.len(), sizes.len());
            let bytes: Vec<u64> = parts
                .iter()
                .map(|p| p.iter().map(|(_, k)| size_of(k)).sum())
                .collect();
            let (min, max) = (bytes.iter().min().unwrap(), bytes.iter().max().unwrap());
            let largest = *sizes.iter().max().unwrap();
            assert!(max - min <= largest, "{count} shards: {bytes:?}");
        }
    }

    #[test]
    fn one_huge_object_gets_a_shard_of_its_own() {
        let given = listing(&[1_000_000, 10, 10, 10, 10]);
        let parts = shards(2, &given);
        assert_eq!(parts[0].len(), 1, "{parts:?}");
        assert_eq!(parts[1].len(), 4);
    }
}
