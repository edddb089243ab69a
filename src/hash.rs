//! A fast hasher for keys that are not text from the input: 128-bit fingerprints of case ids
//! and small integer codes. Such keys cannot be chosen to collide, so the keyed SipHash of
//! `std` would only cost time.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Multiply-rotate mixing of each word (in the manner of FxHash): distinct small keys land in
/// distinct buckets (low bits), and every input bit reaches the high bits the hash table's
/// control bytes use.
#[derive(Debug, Default, Clone, Copy)]
pub struct Mixed(u64);

impl Hasher for Mixed {
    fn finish(&self) -> u64 {
        self.0
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

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, Hash};

    use super::*;

    fn hash(value: impl Hash) -> u64 {
        BuildHasherDefault::<Mixed>::default().hash_one(value)
    }

    #[test]
    fn small_keys_spread_to_the_high_bits() {
        // The low bits pick the bucket: consecutive codes take distinct ones. The top 7 bits
        // are the control byte: they must vary too (a plain xor of the key leaves them 0).
        let lows: HashSet<u64> = (0..128u64).map(|k| hash(k) & 127).collect();
        assert_eq!(lows.len(), 128);
        let tops: HashSet<u64> = (0..128u64).map(|k| hash(k) >> 57).collect();
        assert!(tops.len() > 32, "{}", tops.len());
        assert_ne!(hash((1u64, 2u64)), hash((2u64, 1u64)));
        assert_ne!(hash(vec![1u32, 2]), hash(vec![1u32, 2, 0]));
    }
}
