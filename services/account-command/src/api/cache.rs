//! A bounded map that forgets its oldest entries first.
//!
//! Hand-rolled instead of an LRU crate: the result cache needs insertion-order
//! eviction only (a command result is written once and read a few times
//! shortly after), which is a `HashMap` plus a queue of keys.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// At most `capacity` entries; inserting into a full cache evicts the entry
/// inserted first. A capacity of 0 keeps nothing.
#[derive(Debug)]
pub struct BoundedCache<K, V> {
    capacity: usize,
    entries: HashMap<K, V>,
    /// Keys in insertion order; always exactly the keys of `entries`.
    order: VecDeque<K>,
}

impl<K: Eq + Hash + Clone, V> BoundedCache<K, V> {
    pub fn new(capacity: usize) -> Self {
        // Grown on demand: a large configured capacity costs nothing until used.
        Self {
            capacity,
            entries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Inserts `value`, evicting the oldest entries if the cache is full. A key
    /// already present gets the new value but keeps its age.
    pub fn insert(&mut self, key: K, value: V) {
        if self.capacity == 0 {
            return;
        }
        if let Some(slot) = self.entries.get_mut(&key) {
            *slot = value;
            return;
        }
        while self.entries.len() >= self.capacity {
            match self.order.pop_front() {
                Some(oldest) => {
                    self.entries.remove(&oldest);
                }
                None => break,
            }
        }
        self.order.push_back(key.clone());
        self.entries.insert(key, value);
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Full: `a` (the oldest) then `b`.
    fn a_then_b() -> BoundedCache<&'static str, i32> {
        let mut cache = BoundedCache::new(2);
        cache.insert("a", 1);
        cache.insert("b", 2);
        cache
    }

    #[test]
    fn evicts_the_oldest_entry_when_full() {
        let mut cache = a_then_b();
        cache.insert("c", 3);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(&"a"), None);
        assert_eq!(cache.get(&"b"), Some(&2));
        assert_eq!(cache.get(&"c"), Some(&3));
    }

    #[test]
    fn replacing_a_value_keeps_its_age() {
        let mut cache = a_then_b();
        cache.insert("a", 10);
        assert_eq!(cache.get(&"a"), Some(&10));
        assert_eq!(cache.len(), 2);
        cache.insert("c", 3);
        assert_eq!(cache.get(&"a"), None, "a is still the oldest");
        assert_eq!(cache.get(&"b"), Some(&2));
    }

    #[test]
    fn zero_capacity_keeps_nothing() {
        let mut cache = BoundedCache::new(0);
        cache.insert("a", 1);
        assert_eq!(cache.len(), 0);
        assert_eq!(cache.get(&"a"), None);
    }
}
