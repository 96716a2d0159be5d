//! Turns at writing to a SQLite database, taken in the order they were asked for.
//!
//! SQLite has one writer at a time. A writer that finds the write lock taken sleeps in SQLite's
//! busy handler (1, 2, 5, 10 … up to 100 ms between tries), while a writer that is already
//! awake, such as the batch of replies from other servers stored just before, takes the lock
//! again the moment it is free. So under a flood of replies the delivery worker's writes (an
//! instance claimed, deliveries done) waited for a gap in the flood, and relays to the forum's
//! followers slowed to a third of their quiet rate. Every write transaction in this process
//! ([`super::Conn::transaction`]) first waits for its turn here, first come first served, so each
//! writer waits for the transactions asked for before it and no longer. Only SQLite takes turns
//! (PostgreSQL locks rows, not the database), and only within this process: SQLite is the
//! database of one server process, and another program writing to the file still meets the busy
//! handler. A statement run outside a transaction (autocommit) takes no turn.

use std::sync::{Condvar, Mutex, PoisonError};

/// The queue of one database's writers.
#[derive(Debug, Default)]
pub struct WriteTurns {
    /// The next ticket to hand out, and the ticket whose turn it is.
    tickets: Mutex<(u64, u64)>,
    turn_over: Condvar,
}

/// A turn at writing, held until dropped.
#[must_use]
pub(super) struct Turn<'a>(&'a WriteTurns);

impl WriteTurns {
    /// Waits until every turn asked for before this one is over.
    pub(super) fn take(&self) -> Turn<'_> {
        let mut tickets = self.tickets.lock().unwrap_or_else(PoisonError::into_inner);
        let mine = tickets.0;
        tickets.0 += 1;
        while tickets.1 != mine {
            tickets = self
                .turn_over
                .wait(tickets)
                .unwrap_or_else(PoisonError::into_inner);
        }
        Turn(self)
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut tickets = self
            .0
            .tickets
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        tickets.1 += 1;
        self.0.turn_over.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn turns_are_taken_in_the_order_they_were_asked_for() {
        let turns = Arc::new(WriteTurns::default());
        let order = Arc::new(Mutex::new(Vec::new()));
        let first = turns.take();
        let mut waiting = Vec::new();
        for n in 0..4u64 {
            let (mine, order) = (turns.clone(), order.clone());
            waiting.push(std::thread::spawn(move || {
                let _turn = mine.take();
                order.lock().unwrap().push(n);
            }));
            // Each asks only once the one before is waiting for its turn.
            while turns.tickets.lock().unwrap().0 < n + 2 {
                std::thread::yield_now();
            }
        }
        assert!(
            order.lock().unwrap().is_empty(),
            "nobody writes during a turn"
        );
        drop(first);
        for thread in waiting {
            thread.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3]);
    }
}
