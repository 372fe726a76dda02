//! The rayon pools the core's parallel work (vector search, batch search, the graph algorithms) runs
//! in, so that it never waits on threads of another process.
//!
//! Rayon's pools do not survive `fork()`: their threads stay in the parent, and a child that hands
//! work to an inherited pool waits forever. So the pools are keyed by the fork generation
//! (`fork::generation`): the process that loaded the library uses rayon's global pool (and capped
//! pools made here, cached per size); a forked child makes its own pools, cached per size, the first
//! time it goes parallel. Pools inherited from a parent are never dropped (that would join threads
//! that do not exist here): they are leaked.
//!
//! This module must not run SQL or know which calls are parallel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::cancel::Context;
use crate::error::{Error, Result};
use crate::fork;

/// The capped pools of one fork generation, by thread count.
struct Pools {
    generation: u64,
    by_size: HashMap<usize, Arc<rayon::ThreadPool>>,
}

static POOLS: Mutex<Option<Pools>> = Mutex::new(None);

/// The threads the parallel work of this process may use when not capped: rayon's global pool size
/// in the process that loaded the library, the machine's parallelism in a forked child.
pub(crate) fn current_num_threads() -> usize {
    fork::watch();
    if fork::generation() == 0 {
        rayon::current_num_threads().max(1)
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// Runs `op` (which may use rayon's parallel iterators) in a pool whose threads belong to this
/// process, with at most `threads` threads (`None`: [`current_num_threads`]). In the process that
/// loaded the library an uncapped call, or a cap at least the global pool's size, runs in rayon's
/// global pool; otherwise in a pool made for that size (cached). The caller's cancellation sources
/// follow `op` onto the pool's thread.
pub(crate) fn install<R: Send>(threads: Option<usize>, op: impl FnOnce() -> R + Send) -> Result<R> {
    let all = current_num_threads();
    let size = threads.map_or(all, |n| n.clamp(1, all));
    let generation = fork::generation();
    if generation == 0 && size >= rayon::current_num_threads() {
        return Ok(op());
    }
    let pool = {
        let mut slot = POOLS.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_ref().is_none_or(|p| p.generation != generation) {
            let fresh = Pools {
                generation,
                by_size: HashMap::new(),
            };
            if let Some(inherited) = slot.replace(fresh) {
                std::mem::forget(inherited);
            }
        }
        let pools = &mut slot.as_mut().expect("set above").by_size;
        match pools.get(&size) {
            Some(p) => Arc::clone(p),
            None => {
                let p = rayon::ThreadPoolBuilder::new()
                    .num_threads(size)
                    .thread_name(move |i| format!("resonance-{size}-{i}"))
                    .build()
                    .map_err(|e| Error::Internal(format!("cannot start {size} threads: {e}")))?;
                let p = Arc::new(p);
                pools.insert(size, Arc::clone(&p));
                p
            }
        }
    };
    let cancel = Context::current();
    Ok(pool.install(|| cancel.scope(op)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_pools_are_cached_and_sized() {
        let global = rayon::current_num_threads();
        assert_eq!(install(Some(1), rayon::current_num_threads).unwrap(), 1);
        let name = install(Some(1), || {
            std::thread::current().name().map(str::to_string)
        })
        .unwrap();
        if global > 1 {
            assert_eq!(name.as_deref(), Some("resonance-1-0"));
            let pools = POOLS.lock().unwrap();
            assert!(pools.as_ref().is_some_and(|p| p.by_size.contains_key(&1)));
        }
        assert_eq!(install(None, rayon::current_num_threads).unwrap(), global);
        assert_eq!(
            install(Some(global + 5), rayon::current_num_threads).unwrap(),
            global
        );
    }
}
