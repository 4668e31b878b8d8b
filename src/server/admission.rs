//! Admission of media sockets: a cap on calls served at once and a cap on sockets per
//! client address that have not yet sent a valid `start` (unauthenticated). Both are
//! counted by RAII slots, so a socket that ends in any way frees what it held.
//! Lock-free on the call path but for one short map update per socket.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Why a socket was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `max_calls` sockets are open.
    AtCapacity,
    /// This client address holds `max_pending_per_client` sockets without a valid start.
    TooManyPending,
}

impl Refusal {
    pub fn kind(self) -> &'static str {
        match self {
            Refusal::AtCapacity => "at_capacity",
            Refusal::TooManyPending => "too_many_pending",
        }
    }
}

/// The admission counters, shared by every socket of the server.
#[derive(Clone)]
pub struct Admission {
    max_calls: usize,
    max_pending: usize,
    active: Arc<AtomicUsize>,
    pending: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// Held for the life of one admitted socket.
pub struct CallSlot {
    active: Arc<AtomicUsize>,
}

impl Drop for CallSlot {
    fn drop(&mut self) {
        self.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Held until the socket's stream is authenticated (or the socket ends).
pub struct PendingSlot {
    ip: IpAddr,
    pending: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for PendingSlot {
    fn drop(&mut self) {
        if let Ok(mut map) = self.pending.lock() {
            if let Some(n) = map.get_mut(&self.ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(&self.ip);
                }
            }
        }
    }
}

impl Admission {
    pub fn new(max_calls: usize, max_pending_per_client: usize) -> Self {
        Self {
            max_calls,
            max_pending: max_pending_per_client,
            active: Arc::default(),
            pending: Arc::default(),
        }
    }

    /// Sockets admitted and not yet ended.
    pub fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    /// Admit one pending (unauthenticated) socket from `ip`, if under both caps.
    pub fn pending(&self, ip: IpAddr) -> Result<PendingSlot, Refusal> {
        let mut map = self.pending.lock().map_err(|_| Refusal::TooManyPending)?;
        let n = map.entry(ip).or_insert(0);
        if *n >= self.max_pending {
            return Err(Refusal::TooManyPending);
        }
        *n += 1;
        Ok(PendingSlot {
            ip,
            pending: self.pending.clone(),
        })
    }

    /// Take one call slot, if fewer than `max_calls` are held.
    pub fn call(&self) -> Result<CallSlot, Refusal> {
        let taken = self
            .active
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.max_calls).then_some(n + 1)
            });
        match taken {
            Ok(_) => Ok(CallSlot {
                active: self.active.clone(),
            }),
            Err(_) => Err(Refusal::AtCapacity),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_and_freed_on_drop() {
        let a = Admission::new(2, 1);
        let ip: IpAddr = "203.0.113.1".parse().unwrap();
        let other: IpAddr = "203.0.113.2".parse().unwrap();
        let p1 = a.pending(ip).unwrap();
        assert_eq!(a.pending(ip).err(), Some(Refusal::TooManyPending));
        let _p2 = a.pending(other).unwrap();
        drop(p1);
        let _p3 = a.pending(ip).unwrap();
        let c1 = a.call().unwrap();
        let _c2 = a.call().unwrap();
        assert_eq!(a.call().err(), Some(Refusal::AtCapacity));
        drop(c1);
        assert_eq!(a.active(), 1);
        assert!(a.call().is_ok());
    }
}
