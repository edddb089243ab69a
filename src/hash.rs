//! A fast hasher for keys that are not text from the input: 128-bit fingerprints of case ids
//! and small integer codes. Such keys cannot be chosen to collide, so the keyed SipHash of
//! `std` would only cost time.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Multiply-rotate mixing of each word (in the manner of FxHash), then SplitMix64's finishing
/// xor-shifts and multiplies: a product's low bits depend only on the low bits of its inputs, so without the
/// finish, keys that differ only in their high bits (codes packed side by side) would share the
/// bucket the low bits pick.
#[derive(Debug, Default, Clone, Copy)]
pub struct Mixed(u64);

impl Hasher for Mixed {
    fn finish(&self) -> u64 {
        let mixed = (self.0 ^ (self.0 >> 30)).wrapping_mul(0xbf_58_47_6d_1c_e4_e5_b9);
        let mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94_d0_49_bb_13_31_11_eb);
        mixed ^ (mixed >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.write_u64(u64::from(*byte));
        }
    }

    fn write_u32(&mut self, value: u32) {
        self.write_u64(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }
}

/// A hash map with [`Mixed`].
pub type MixedMap<K, V> = HashMap<K, V, BuildHasherDefault<Mixed>>;

/// A hash set with [`Mixed`].
pub type MixedSet<K> = HashSet<K, BuildHasherDefault<Mixed>>;

/// A set of 128-bit fingerprints, which are uniformly random already: their low bits are the
/// home slot, with linear probing and no hashing. [`FingerprintSet::insert_all`] takes a batch
/// and reads every home slot of it before inserting any, so the cache misses of a batch (the
/// table is hundreds of MB at 10M cases) are waited for together instead of one after another.
/// 16 bytes per slot, at most 7/8 full.
#[derive(Debug, Default)]
pub struct FingerprintSet {
    /// Power-of-two many slots; 0 marks an empty one.
    slots: Vec<u128>,
    len: usize,
    /// Whether the fingerprint 0, which marks empty slots, is in the set.
    zero: bool,
}

impl FingerprintSet {
    /// Slots this set has.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Number of fingerprints held.
    pub fn len(&self) -> usize {
        self.len + usize::from(self.zero)
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Makes room for `more` fingerprints beyond those held, without growing on the way.
    pub fn reserve(&mut self, more: usize) {
        let needed = (self.len + more).saturating_mul(8) / 7 + 1;
        if needed > self.slots.len() {
            self.resize(needed.next_power_of_two().max(16));
        }
    }

    fn resize(&mut self, slots: usize) {
        let old = std::mem::replace(&mut self.slots, vec![0; slots]);
        self.len = 0;
        for key in old.into_iter().filter(|key| *key != 0) {
            self.place(key);
        }
    }

    fn home(&self, key: u128) -> usize {
        (key as usize) & (self.slots.len() - 1)
    }

    /// Puts `key` (not 0) in its slot; `false` when it was there already.
    fn place(&mut self, key: u128) -> bool {
        let mask = self.slots.len() - 1;
        let mut at = self.home(key);
        loop {
            match self.slots[at] {
                0 => {
                    self.slots[at] = key;
                    self.len += 1;
                    return true;
                }
                held if held == key => return false,
                _ => at = (at + 1) & mask,
            }
        }
    }

    /// Adds the fingerprints in order; per fingerprint, `false` when it was in the set already
    /// (held before, or earlier in `keys`).
    pub fn insert_all(&mut self, keys: &[u128]) -> Vec<bool> {
        self.reserve(keys.len());
        let mut fresh = Vec::with_capacity(keys.len());
        for batch in keys.chunks(32) {
            // Independent loads: the processor has all of them in flight at once.
            let touched = batch
                .iter()
                .fold(0u128, |sum, key| sum ^ self.slots[self.home(*key)]);
            std::hint::black_box(touched);
            for key in batch {
                fresh.push(if *key == 0 {
                    !std::mem::replace(&mut self.zero, true)
                } else {
                    self.place(*key)
                });
            }
        }
        fresh
    }
}

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, Hash};

    use super::*;

    fn hash(value: impl Hash) -> u64 {
        BuildHasherDefault::<Mixed>::default().hash_one(value)
    }

    /// Distinct buckets of 1,024 keys among 1,024 (about 647 for a random hash).
    fn buckets(keys: impl Iterator<Item = impl Hash>) -> usize {
        keys.map(|k| hash(k) & 1023).collect::<HashSet<u64>>().len()
    }

    #[test]
    fn keys_spread_over_buckets_and_control_bytes() {
        // The low bits pick the bucket: small keys, and keys that differ only in their high
        // bits (codes packed side by side), must both spread. The top 7 bits are the control
        // byte: they must vary too (a plain xor of the key leaves them 0).
        assert!(buckets(0..1024u64) > 550, "{}", buckets(0..1024u64));
        let high = || (0..1024u64).map(|k| k << 48);
        assert!(buckets(high()) > 550, "{}", buckets(high()));
        let pairs = || (0..1024u64).map(|k| (k << 40, 7u64));
        assert!(buckets(pairs()) > 550, "{}", buckets(pairs()));
        let tops: HashSet<u64> = (0..128u64).map(|k| hash(k) >> 57).collect();
        assert!(tops.len() > 32, "{}", tops.len());
        assert_ne!(hash((1u64, 2u64)), hash((2u64, 1u64)));
        assert_ne!(hash(vec![1u32, 2]), hash(vec![1u32, 2, 0]));
    }

    #[test]
    fn fingerprint_set_is_a_set() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut set = FingerprintSet::default();
        let mut expected: HashSet<u128> = HashSet::new();
        // Random keys, repeats within and across batches, 0, and keys sharing a home slot.
        let pool: Vec<u128> = (0..3_000)
            .map(|i| match i % 10 {
                0 => 0,
                1 => (u128::from(rng.random::<u64>()) << 64) | 5,
                _ => rng.random(),
            })
            .collect();
        for round in 0..40 {
            let size = [0, 1, 31, 32, 33, 500][round % 6];
            let keys: Vec<u128> = (0..size)
                .map(|_| pool[rng.random_range(0..pool.len())])
                .collect();
            let got = set.insert_all(&keys);
            let want: Vec<bool> = keys.iter().map(|k| expected.insert(*k)).collect();
            assert_eq!(got, want, "round {round}");
            assert_eq!(set.len(), expected.len());
        }
        assert!(set.len() > 1_000 && set.capacity() * 7 >= set.len() * 8);
        let capacity = set.capacity();
        set.reserve(10 * capacity);
        assert!(set.capacity() >= 11 * capacity);
        assert_eq!(set.insert_all(&[0, pool[1]]), [false, false]);
    }
}
