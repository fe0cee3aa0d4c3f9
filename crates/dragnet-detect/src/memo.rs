//! A per-thread memo of the detections in recently scanned short units.
//!
//! Column-shaped data repeats itself: in a Synthea `observations.csv` every row names its
//! patient again, and codes, descriptions, units and many values come from small sets. A
//! unit's detections depend only on its bytes and on the plan of its column or path, so a
//! value seen before under the same plan needs no second scan: its detections are copied
//! from the memo. Counts and locations stay exact, because every unit still reports its own
//! detections. (One validator also reads the clock: MEDICAL_DEVICE_UDI's production date must
//! not be in the future, so a UDI remembered across midnight keeps the first day's verdict.)
//!
//! The memo is direct-mapped, like a CPU cache: a fixed table of slots allocated once per
//! thread, each holding one unit (at most [`MAX_TEXT`] bytes) and its detections (at most
//! [`MAX_HITS`]). A lookup hashes the unit, compares the one slot it maps to byte for byte,
//! and a miss overwrites that slot. Nothing is allocated per unit; values that never repeat
//! (row ids) only cost a hash and a copy, and a hostile input can cause misses, never wrong
//! results, since a hit needs equal bytes and an equal plan.

use crate::engine::Hit;

/// Longest unit the memo keeps (a UUID is 36 bytes, an ISO timestamp 20). Longer units are
/// rarely repeated, and scanning them dwarfs the lookup anyway.
pub(crate) const MAX_TEXT: usize = 46;
/// Most detections a memoised unit may have; units with more are scanned every time.
pub(crate) const MAX_HITS: usize = 3;
/// Slots per thread (a power of two): 4,096 slots of one 64-byte cache line each, 256 KiB,
/// so that a lookup touches one line and the table stays in a core's L2 cache (measured
/// here: 2,048 slots of 88 bytes, straddling lines, cost 6% more CPU on Synthea data, and
/// 8,192 of them, 704 KiB, made a lookup's cache misses cost as much as the scans they saved).
const SLOTS: usize = 4096;

/// One remembered unit, laid out to fill exactly one cache line.
#[derive(Clone)]
#[repr(C, align(64))]
struct Slot {
    /// Plan id + 1 (0: empty slot).
    plan: u32,
    len: u8,
    hit_count: u8,
    /// `(identifier, start, end)` of each detection.
    hits: [(u16, u8, u8); MAX_HITS],
    text: [u8; MAX_TEXT],
}

const _: () = assert!(std::mem::size_of::<Slot>() == 64);

const EMPTY: Slot = Slot {
    plan: 0,
    len: 0,
    hit_count: 0,
    hits: [(0, 0, 0); MAX_HITS],
    text: [0; MAX_TEXT],
};

/// A plan id as a slot holds it; plans past the 32-bit range (never in practice) are not
/// remembered.
fn slot_plan(plan: u64) -> Option<u32> {
    u32::try_from(plan.checked_add(1)?).ok()
}

/// What a lookup found.
pub(crate) enum Recall {
    /// The memo held the unit: its detections were appended.
    Hit,
    /// The memo does not hold the unit; [`UnitMemo::remember`] with this slot keeps the
    /// scan's result without hashing the unit again.
    Miss(MemoSlot),
    /// The unit is too long to be remembered.
    TooLong,
}

/// The slot a missed unit maps to.
pub(crate) struct MemoSlot(usize);

/// The memo of one thread.
#[derive(Default)]
pub(crate) struct UnitMemo {
    slots: Vec<Slot>,
}

impl UnitMemo {
    /// Appends the remembered detections of `text` under plan `plan` to `out`; on a miss
    /// nothing is appended.
    pub fn recall(&self, plan: u64, text: &[u8], out: &mut Vec<Hit>) -> Recall {
        let Some(key) = slot_plan(plan).filter(|_| text.len() <= MAX_TEXT) else {
            return Recall::TooLong;
        };
        let index = slot_index(plan, text);
        let Some(slot) = self.slots.get(index) else {
            return Recall::Miss(MemoSlot(index));
        };
        if slot.plan != key
            || usize::from(slot.len) != text.len()
            || slot.text[..text.len()] != *text
        {
            return Recall::Miss(MemoSlot(index));
        }
        out.extend(slot.hits[..usize::from(slot.hit_count)].iter().map(
            |&(identifier, start, end)| Hit {
                identifier: identifier as usize,
                start: usize::from(start),
                end: usize::from(end),
            },
        ));
        Recall::Hit
    }

    /// Remembers the detections `hits` of `text` under plan `plan` in `slot` (from the
    /// [`UnitMemo::recall`] that missed it), replacing whatever the slot held; units with too
    /// many detections are not remembered.
    pub fn remember(&mut self, slot: MemoSlot, plan: u64, text: &[u8], hits: &[Hit]) {
        let Some(key) = slot_plan(plan) else {
            return;
        };
        if hits.len() > MAX_HITS || hits.iter().any(|h| u16::try_from(h.identifier).is_err()) {
            return;
        }
        if self.slots.is_empty() {
            self.slots = vec![EMPTY; SLOTS];
        }
        let slot = &mut self.slots[slot.0];
        slot.plan = key;
        slot.len = text.len() as u8;
        slot.text[..text.len()].copy_from_slice(text);
        slot.hit_count = hits.len() as u8;
        for (dst, hit) in slot.hits.iter_mut().zip(hits) {
            // Checked above: identifiers fit 16 bits; offsets are at most MAX_TEXT.
            *dst = (hit.identifier as u16, hit.start as u8, hit.end as u8);
        }
    }
}

/// The slot of a unit: a multiply-rotate hash of its 8-byte words, finished with
/// SplitMix64's mixer so that near-identical values (row ids) spread over the table.
fn slot_index(plan: u64, text: &[u8]) -> usize {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = plan.wrapping_mul(K) ^ text.len() as u64;
    let mut words = text.chunks_exact(8);
    for word in &mut words {
        let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
        h = (h.rotate_left(23) ^ w).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    tail[..words.remainder().len()].copy_from_slice(words.remainder());
    h = (h.rotate_left(23) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    h ^= h >> 30;
    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^= h >> 31;
    (h as usize) & (SLOTS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Looks `text` up and, on a miss, remembers `hits` for it, as the engine does.
    fn remember(memo: &mut UnitMemo, plan: u64, text: &[u8], hits: &[Hit]) {
        if let Recall::Miss(slot) = memo.recall(plan, text, &mut Vec::new()) {
            memo.remember(slot, plan, text, hits);
        }
    }

    fn recalled(memo: &UnitMemo, plan: u64, text: &[u8], out: &mut Vec<Hit>) -> bool {
        matches!(memo.recall(plan, text, out), Recall::Hit)
    }

    fn hit(identifier: usize, start: usize, end: usize) -> Hit {
        Hit {
            identifier,
            start,
            end,
        }
    }

    #[test]
    fn remembers_units_under_their_plan_only() {
        let mut memo = UnitMemo::default();
        let mut out = Vec::new();
        assert!(!recalled(&memo, 1, b"123-45-6789", &mut out));
        remember(&mut memo, 1, b"123-45-6789", &[hit(4, 0, 11)]);
        assert!(recalled(&memo, 1, b"123-45-6789", &mut out));
        assert_eq!(out, vec![hit(4, 0, 11)]);
        out.clear();
        // Another plan (a column whose name qualifies other identifiers) is another result.
        assert!(!recalled(&memo, 2, b"123-45-6789", &mut out));
        // Equal length, other bytes.
        assert!(!recalled(&memo, 1, b"123-45-6780", &mut out));
        assert!(out.is_empty());
        remember(&mut memo, 2, b"", &[]);
        assert!(recalled(&memo, 2, b"", &mut out));
        assert!(out.is_empty());
    }

    #[test]
    fn long_units_and_units_with_many_hits_are_not_remembered() {
        let mut memo = UnitMemo::default();
        let mut out = Vec::new();
        let long = [b'a'; MAX_TEXT + 1];
        assert!(matches!(memo.recall(0, &long, &mut out), Recall::TooLong));
        let many: Vec<Hit> = (0..=MAX_HITS).map(|i| hit(i, i, i + 1)).collect();
        remember(&mut memo, 0, b"abcdefgh", &many);
        assert!(!recalled(&memo, 0, b"abcdefgh", &mut out));
        // Identifiers past 16 bits and plans past 32 bits do not fit a slot.
        remember(&mut memo, 0, b"wide", &[hit(70_000, 0, 4)]);
        assert!(!recalled(&memo, 0, b"wide", &mut out));
        assert!(matches!(
            memo.recall(u64::from(u32::MAX), b"x", &mut out),
            Recall::TooLong
        ));
        let full = [b'b'; MAX_TEXT];
        remember(&mut memo, 0, &full, &[hit(1, 0, MAX_TEXT)]);
        assert!(recalled(&memo, 0, &full, &mut out));
        assert_eq!(out, vec![hit(1, 0, MAX_TEXT)]);
    }

    #[test]
    fn a_newer_unit_replaces_the_one_in_its_slot() {
        let mut memo = UnitMemo::default();
        let mut out = Vec::new();
        // Find two units that share a slot.
        let first = b"0000000000".to_vec();
        let index = slot_index(0, &first);
        let second = (1u64..)
            .map(|n| format!("{n:010}").into_bytes())
            .find(|t| slot_index(0, t) == index)
            .unwrap();
        remember(&mut memo, 0, &first, &[]);
        remember(&mut memo, 0, &second, &[hit(0, 0, 3)]);
        assert!(!recalled(&memo, 0, &first, &mut out));
        assert!(recalled(&memo, 0, &second, &mut out));
        assert_eq!(out, vec![hit(0, 0, 3)]);
    }
}
