//! What the store should hold, from the votes it acknowledged.
//!
//! One vote per voter per item: the vote with the highest tally version is
//! the one that committed last, so it is the voter's standing choice. The
//! floor only counts, so there every acknowledged vote is an increment.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::systems::Choice;

#[derive(Default)]
pub struct Ledger {
    standing: Mutex<HashMap<(u32, u16), (u64, Choice)>>,
    increments: Mutex<HashMap<(u16, bool), i64>>,
}

impl Ledger {
    pub fn acknowledged(&self, voter: usize, item: usize, version: u64, choice: Choice) {
        let mut standing = self.standing.lock().expect("ledger lock");
        let entry = standing
            .entry((voter as u32, item as u16))
            .or_insert((version, choice));
        if version >= entry.0 {
            *entry = (version, choice);
        }
        drop(standing);
        *self
            .increments
            .lock()
            .expect("ledger lock")
            .entry((item as u16, choice == Choice::Strong))
            .or_default() += 1;
    }

    /// The last choice the store acknowledged for this voter and item.
    pub fn standing(&self, voter: usize, item: usize) -> Option<Choice> {
        self.standing
            .lock()
            .expect("ledger lock")
            .get(&(voter as u32, item as u16))
            .map(|e| e.1)
    }

    /// (strong, wrong) per item the store should report.
    pub fn expected(&self, items: usize, increments: bool) -> Vec<(i64, i64)> {
        let mut out = vec![(0, 0); items];
        if increments {
            for (&(item, strong), &n) in self.increments.lock().expect("ledger lock").iter() {
                let e = &mut out[item as usize];
                if strong {
                    e.0 += n;
                } else {
                    e.1 += n;
                }
            }
        } else {
            for (&(_, item), &(_, choice)) in self.standing.lock().expect("ledger lock").iter() {
                let e = &mut out[item as usize];
                match choice {
                    Choice::Strong => e.0 += 1,
                    Choice::Wrong => e.1 += 1,
                }
            }
        }
        out
    }
}
